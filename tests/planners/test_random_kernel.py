"""The random planner's Numba kernel against a numpy twin and its ``py_func`` (the
``NUMBA_DISABLE_JIT`` semantics), on random costs, budgets, caps and active limits."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.planners import _kernels


def random_feasible_numpy(order, costs, budget, slack, caps, max_active, u):
    """Each arm in ``order`` takes the ``int(u * k)``-th of its ``k`` allowed actions: those
    within ``slack`` of the budget left, under their cap, and (active ones) under
    ``max_active``."""
    actions = np.zeros(costs.shape[0], dtype=np.int64)
    counts = np.zeros(costs.shape[1])
    remaining, active = budget, 0.0
    for i, n in enumerate(order):
        allowed = (costs[n] <= remaining + slack) & (counts + 1 <= caps)
        allowed[1:] &= active + 1 <= max_active
        a = np.flatnonzero(allowed)[int(u[i] * allowed.sum())]
        actions[n], remaining = a, remaining - costs[n, a]
        counts[a] += 1
        active += a != 0
    return actions


@st.composite
def cases(draw):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    costs = np.round(rng.uniform(0, 3, (n, m)), draw(st.integers(0, 2)))
    costs[:, 0] = 0.0
    caps = np.where(rng.random(m) < 0.5, np.inf, rng.integers(0, n + 1, m).astype(float))
    caps[0] = np.inf
    max_active = float(draw(st.sampled_from([np.inf, 0, 1, n // 2])))
    budget = float(draw(st.floats(0, 3 * n, allow_nan=False)))
    return (rng.permutation(n).astype(np.int64), costs, budget, 1e-9, caps, max_active,
            rng.random(n))


@settings(max_examples=300, deadline=None)
@given(cases())
def test_random_feasible_kernel_equals_its_twin_and_py_func(case):
    order, costs, budget, slack, caps, max_active, u = case
    want = random_feasible_numpy(*case)
    compiled = _kernels.random_feasible_kernel          # itself under NUMBA_DISABLE_JIT=1
    for kernel in (compiled, getattr(compiled, "py_func", compiled)):
        got = np.zeros(len(order), dtype=np.int64)
        kernel(order, costs, budget, slack, caps, max_active, u, got)
        np.testing.assert_array_equal(got, want)
    spent = costs[np.arange(len(order)), want]
    assert spent.sum() <= budget + len(order) * slack              # the limits hold
    assert (np.bincount(want, minlength=costs.shape[1]) <= caps).all()
    assert (want > 0).sum() <= max_active


def test_every_allowed_action_is_drawn_alike():
    """One arm, three affordable actions: u in thirds picks each once."""
    costs = np.array([[0.0, 1.0, 2.0]])
    picks = []
    for u in (0.1, 0.5, 0.9):
        got = np.zeros(1, dtype=np.int64)
        _kernels.random_feasible_kernel(np.zeros(1, np.int64), costs, 2.0, 0.0,
                                        np.full(3, np.inf), np.inf, np.array([u]), got)
        picks.append(int(got[0]))
    assert picks == [0, 1, 2]
