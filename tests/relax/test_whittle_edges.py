"""Whittle indices at the edges a review found: bisection below float spacing, tolerance and
cost bounds, tied breakpoints of the homotopy, and the ``sup`` on non-indexable arms; each
against policy enumeration or backward induction."""

import itertools
import subprocess
import sys
import warnings

import numpy as np
import pytest

from rmab.errors import IndexabilityWarning, InvalidParameterError
from rmab.models.arms import MDPArms
from rmab.models.generators import random_mdp_arms
from rmab.relax._whittle_kernels import homotopy_kernel, homotopy_numpy
from rmab.relax.whittle import _price_bracket, finite_whittle_indices, whittle_indices


def _enumerated_levels(p, r, c, beta, prices):
    """Optimal level (ties to the cheaper) per price and state (P, S), from the values of
    every deterministic policy (the optimal value is their elementwise max)."""
    n_actions, n_states, _ = p.shape
    vr, vc = [], []
    for pol in itertools.product(range(n_actions), repeat=n_states):
        pol = np.array(pol)
        m = np.eye(n_states) - beta * p[pol, np.arange(n_states)]
        vr.append(np.linalg.solve(m, r[np.arange(n_states), pol]))
        vc.append(np.linalg.solve(m, c[pol]))
    lam = np.asarray(prices, float)[:, None, None]
    v = (np.array(vr)[None] - lam * np.array(vc)[None]).max(axis=1)          # (P, S)
    q = r[None] - lam * c + beta * np.einsum("ast,gt->gsa", p, v)
    tie = 1e-11 * (np.abs(r).max() / (1 - beta) + 1)
    return np.argmax(q >= q.max(axis=2, keepdims=True) - tie, axis=2)


def _finite_levels(p, r, c, beta, prices, togo):
    """Backward induction: the optimal level (ties to the cheaper) per price and state with
    ``togo`` periods to go (P, S)."""
    lam = np.asarray(prices, float)[:, None, None]
    v = np.zeros((lam.shape[0], r.shape[0]))
    for _ in range(togo):
        q = r[None] - lam * c + beta * np.einsum("ast,gt->gsa", p, v)
        v = q.max(axis=2)
    return np.argmax(q >= q.max(axis=2, keepdims=True) - 1e-12 * (1 + np.abs(q).max()), axis=2)


def _sup(levels, top, n_actions, n_grid=4001):
    """``sup {λ : level(λ)[s] >= a}`` (S, A - 1) on ``[-top, top]``: the last grid crossing
    (a grid off round-number breakpoints), then bisection; and whether the levels never
    rise on the grid."""
    grid = np.linspace(-top, top, n_grid) + 1e-7 * np.sqrt(2)
    table = levels(grid)
    out = np.empty((table.shape[1], n_actions - 1))
    for s, a in np.ndindex(out.shape):
        above = np.flatnonzero(table[:, s] >= a + 1)
        if not len(above) or above[-1] == n_grid - 1:
            out[s, a] = -np.inf if not len(above) else np.inf
            continue
        lo, hi = grid[above[-1]], grid[above[-1] + 1]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if levels([mid])[0, s] >= a + 1 else (lo, mid)
        out[s, a] = 0.5 * (lo + hi)
    return out, bool(np.all(np.diff(table, axis=0) <= 0))


def _run(code, timeout=120):
    """Run ``code`` in a fresh interpreter (a hang inside Numba ignores signals)."""
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish in {timeout} s")
    assert done.returncode == 0, done.stderr
    return done.stdout


_TWO = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.1, 0.9]]])


def test_bisection_ends_below_float_spacing():
    """Rewards of 1e7: an absolute price tolerance of 1e-10 is below the spacing of indices
    near 1e7, and the bisection never ended; it agrees with the homotopy to its tolerance
    (relative to the price scale)."""
    out = _run("""if True:
        import numpy as np
        from rmab.models.arms import MDPArms
        from rmab.relax.whittle import whittle_indices
        p = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.1, 0.9]]])
        arms = MDPArms(p[None], np.array([[[0.0, 0.0], [1e7, 1e7]]]), [0.0, 1.0])
        for method in ("homotopy", "bisection"):
            print(*whittle_indices(arms, discount=0.9, method=method).binary[0])
        """)
    fast, slow = (np.array(line.split(), float) for line in out.splitlines())
    np.testing.assert_allclose(slow, fast, rtol=1e-9)
    ref, _ = _sup(lambda x: _enumerated_levels(_TWO, np.array([[0.0, 0.0], [1e7, 1e7]]),
                                               np.array([0.0, 1.0]), 0.9, x), 1.1e8, 2)
    np.testing.assert_allclose(fast, ref[:, 0], rtol=1e-9)


def test_finite_bisection_ends_below_float_spacing():
    """``tol=1e-17`` (accepted) looped forever inside Numba; now the bisection also stops at
    float resolution, at the backward-induction indices."""
    out = _run("""if True:
        import numpy as np
        from rmab.models.arms import MDPArms
        from rmab.relax.whittle import finite_whittle_indices
        p = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.1, 0.9]]])
        arms = MDPArms(p[None], np.array([[[0.0, 0.5], [1.0, 1.2]]]), [0.0, 1.0])
        print(*finite_whittle_indices(arms, horizon=2, tol=1e-17).indices.ravel())
        """)
    got = np.array(out.split(), float).reshape(2, 2)
    r = np.array([[0.0, 0.5], [1.0, 1.2]])
    for t in range(2):
        ref, _ = _sup(lambda x: _finite_levels(_TWO, r, np.array([0.0, 1.0]), 1.0, x, 2 - t),
                      5.0, 2)
        np.testing.assert_allclose(got[t], ref[:, 0], atol=1e-9)


def test_meaningless_tolerances_and_subnormal_costs_are_refused():
    arms = MDPArms(_TWO[None], np.array([[[0.0, 0.5], [1.0, 1.2]]]), [0.0, 1.0])
    with pytest.raises(InvalidParameterError, match=r"finite_whittle_indices.tol: must be <="):
        finite_whittle_indices(arms, horizon=2, tol=0.6)
    with pytest.raises(InvalidParameterError, match=r"whittle_indices.tol: must be <="):
        whittle_indices(arms, discount=0.9, tol=5.0, method="bisection")
    tiny = MDPArms(arms.transitions, arms.rewards, [0.0, 1e-320])      # indices ~ 1e320
    for call in (lambda: finite_whittle_indices(tiny, horizon=2),
                 lambda: whittle_indices(tiny, discount=0.9)):
        with pytest.raises(InvalidParameterError, match=r"\.arms\.costs: the smallest positive"):
            call()
    small = MDPArms(arms.transitions, arms.rewards, [0.0, 1e-300])     # representable
    np.testing.assert_allclose(whittle_indices(small, discount=0.9).binary * 1e-300,
                               whittle_indices(arms, discount=0.9).binary, rtol=1e-12)


# -- tied breakpoints of the homotopy ---------------------------------------------------------

_PIVOT = (np.array([[[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]],
                    [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5]]]),
          np.array([[2.0, 1.0], [2.0, 0.0], [2.0, 1.0]]), np.array([0.0, 1.0]), 0.9)
_TIES = (np.array([[[0.5, 0.5], [0.5, 0.5]], [[1.0, 0.0], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]]),
         np.array([[2.0, 2.0, 1.0], [0.0, 1.0, 1.0]]), np.array([0.0, 0.0, 2.0]), 0.9)


@pytest.mark.parametrize("case", [_PIVOT, _TIES], ids=["pivot", "equal-cost"])
def test_tied_breakpoints_keep_an_indexable_arm_indexable(case):
    """Several breakpoints at one price (-1; -0.5): the trace switched a state up and back
    down there and flagged an indexable arm (pivot: W(0) = -1 for -2.18636)."""
    p, r, c, beta = case
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexabilityWarning)
        res = whittle_indices(MDPArms(p[None], r[None], c[None]), discount=beta)
    top = _price_bracket(MDPArms(p[None], r[None], c[None]), beta)[1]
    ref, monotone = _sup(lambda x: _enumerated_levels(p, r, c, beta, x), top, len(c))
    assert monotone and res.indexable[0]
    np.testing.assert_allclose(res.indices[0], ref, atol=1e-8)
    start, _ = _price_bracket(MDPArms(p[None], r[None], c[None]), beta)
    twin, flags = homotopy_numpy(p[None], r[None], c[None], beta, start, 40)
    assert flags[0] == 0
    finite = np.isfinite(res.indices[0])
    np.testing.assert_allclose(twin[0][finite], res.indices[0][finite], atol=1e-12)


def _round_arm(rng):
    """A random arm in round numbers (probabilities in {0, 1/2, 1}, integer rewards and
    costs, some levels of equal cost): ties between breakpoints are common."""
    n_states, n_actions = int(rng.integers(2, 5)), int(rng.integers(2, 4))
    beta = float(rng.choice([0.5, 0.75, 0.9]))
    p = np.zeros((n_actions, n_states, n_states))
    for a, s in np.ndindex(n_actions, n_states):
        k = rng.integers(1, 3)
        p[a, s, rng.choice(n_states, size=k, replace=False)] = 1.0 / k
    if rng.integers(2):
        p[1:] = np.where(rng.uniform(size=(n_actions - 1, n_states, 1)) < 0.5, p[:1], p[1:])
    r = rng.integers(0, 3, size=(n_states, n_actions)).astype(float)
    c = np.concatenate([[0], np.cumsum(rng.choice([0.0, 1.0, 2.0], n_actions - 1))])
    c[-1] = max(c[-1], 1.0)
    return p, r, c, beta


# arms of _round_arm(default_rng(seed)) the old trace flagged though their levels never rise
@pytest.mark.parametrize("seed,draw", [(0, 24), (0, 46), (1, 135), (2, 282)])
def test_round_number_arms_with_ties_are_traced_exactly(seed, draw):
    rng = np.random.default_rng(seed)
    for _ in range(draw + 1):
        p, r, c, beta = _round_arm(rng)
    arms = MDPArms(p[None], r[None], c[None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        res = whittle_indices(arms, discount=beta)
    ref, monotone = _sup(lambda x: _enumerated_levels(p, r, c, beta, x),
                         _price_bracket(arms, beta)[1], len(c))
    assert monotone and res.indexable[0]
    np.testing.assert_allclose(res.indices[0], ref, atol=1e-8)


def test_kernel_equals_numpy_twin_on_round_number_arms():
    """The Numba trace and its numpy twin settle tied switches the same way."""
    rng = np.random.default_rng(7)
    for _ in range(60):
        p, r, c, beta = _round_arm(rng)
        n_states, n_actions = r.shape
        start, _ = _price_bracket(MDPArms(p[None], r[None], c[None]), beta)
        steps = 4 * n_states * n_actions + 16
        ind, flags = np.empty((1, n_states, n_actions - 1)), np.empty(1, dtype=np.int64)
        homotopy_kernel(p[None], r[None], c[None], beta, start, steps, ind, flags)
        twin, twin_flags = homotopy_numpy(p[None], r[None], c[None], beta, start, steps)
        np.testing.assert_array_equal(flags, twin_flags)
        np.testing.assert_allclose(ind, twin, atol=1e-9)


# -- the sup on non-indexable arms ------------------------------------------------------------

def test_bisection_method_finds_the_sup_on_a_non_indexable_arm():
    """Bisection over the whole bracket found the crossing near -0.094 of state 1, level 1,
    not the last one near 4.358 (homotopy and enumeration agree on the last)."""
    rng = np.random.default_rng(1)
    for _ in range(12):
        n_states, n_actions = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        beta = float(rng.choice([0.5, 0.9, 0.95]))
        c = np.concatenate([[0], np.cumsum(rng.uniform(0.2, 2, n_actions - 1))])
        conc = 0.3 if rng.integers(2) else 1.0
        p = rng.dirichlet(np.ones(n_states) * conc, size=(n_actions, n_states))
        r = rng.uniform(0, 1, size=(n_states, n_actions))
    arms = MDPArms(p[None], r[None], c[None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        res = whittle_indices(arms, discount=beta, method="bisection")
    ref, monotone = _sup(lambda x: _enumerated_levels(p, r, c, beta, x),
                         _price_bracket(arms, beta)[1], n_actions)
    assert not monotone and not res.indexable[0]
    assert ref[1, 0] == pytest.approx(4.35786, abs=1e-5)
    np.testing.assert_allclose(res.indices[0], ref, atol=1e-7)


@pytest.mark.parametrize("factor", [1.0, 1e-6, 1e-12])
def test_bisection_method_finds_the_sup_on_a_non_indexable_arm_of_small_rewards(factor):
    """``random_mdp_arms(4, 3, 3, concentration=0.3, seed=67)``, arm 0: state 2, level 1 is
    reached up to 0.345 (enumeration, homotopy). Its rewards in millionths gave -1.387 by
    bisection: the prices it starts from spanned the traced indices plus a fixed 0.1."""
    arm = random_mdp_arms(4, 3, 3, concentration=0.3, seed=67).select([0])
    p, r, c = arm.transitions[0], arm.rewards[0], arm.costs[0]
    ref, monotone = _sup(lambda x: _enumerated_levels(p, r, c, 0.9, x),
                         _price_bracket(arm, 0.9)[1], 3)
    assert not monotone and ref[2, 0] == pytest.approx(0.34526, abs=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        res = whittle_indices(MDPArms(p[None], r[None] * factor, c[None]), discount=0.9,
                              method="bisection")
    assert not res.indexable[0]
    np.testing.assert_allclose(res.indices[0] / factor, ref, atol=1e-7)


@pytest.mark.parametrize("factor", [1.0, 1e-6, 1e-12])
def test_finite_indices_are_the_sup_on_a_non_indexable_arm(factor):
    """State 0 with 4 periods to go: level 2 below -0.76, level 0 up to about 0.21, level 1
    up to 0.811; bisection over the whole bracket returned -0.76 for level 1, not the sup.
    The same with the rewards scaled (the indexability prices had a fixed 0.1 in them, the
    tie test a fixed 1)."""
    p = np.array([[[1.674e-01, 8.326e-01, 0.0], [8.0e-04, 2.733e-01, 7.259e-01],
                   [0.0, 9.741e-01, 2.59e-02]],
                  [[9.254e-01, 3.45e-02, 4.02e-02], [9.05e-02, 9.095e-01, 0.0],
                   [0.0, 8.504e-01, 1.496e-01]],
                  [[9.928e-01, 7.2e-03, 0.0], [2.0e-04, 9.998e-01, 0.0],
                   [9.914e-01, 1.6e-03, 7.1e-03]]])
    p /= p.sum(-1, keepdims=True)
    r = np.array([[0.4574, 0.7043, 0.2966], [0.4604, 0.4584, 0.9058],
                  [0.5708, 0.6304, 0.905]])
    c = np.array([0.0, 0.2773, 2.1824])
    arms = MDPArms(p[None], r[None], c[None])
    with pytest.warns(IndexabilityWarning):
        res = finite_whittle_indices(MDPArms(p[None], r[None] * factor, c[None]), horizon=4,
                                     discount=1.0)
    top = _price_bracket(arms, 1.0, 4)[1]
    for t in range(4):
        ref, _ = _sup(lambda x: _finite_levels(p, r, c, 1.0, x, 4 - t), top, 3)
        np.testing.assert_allclose(res.indices[t, 0] / factor, ref, atol=1e-7)
    assert res.indices[0, 0, 0, 0] / factor == pytest.approx(0.8113, abs=1e-3)


def test_finite_index_is_the_sup_past_a_tie_at_price_zero():
    """State 0 with 4 periods to go: level 2 below 0.4408 except at price 0 itself, where it
    ties with the cheaper level 1. The bisection's first midpoint is 0 (the bracket is
    symmetric), so it returned 0 for level 2. The sup is 0.4408; the arm is indexable, as
    the check prices, all off 0, say: at price 0 level 2 is optimal too."""
    p = np.array([[[0, 3 / 4, 1 / 4], [0, 3 / 4, 1 / 4], [0, 2 / 5, 3 / 5]],
                  [[2 / 3, 1 / 3, 0], [1 / 3, 1 / 3, 1 / 3], [2 / 5, 2 / 5, 1 / 5]],
                  [[1 / 2, 0, 1 / 2], [3 / 7, 2 / 7, 2 / 7], [3 / 8, 3 / 8, 1 / 4]]])
    r = np.array([[1.0, 2.0, 2.0], [0.0, 1.0, 2.0], [2.0, 2.0, 0.0]])
    c = np.array([0.0, 2.0, 4.0])
    levels = _finite_levels(p, r, c, 0.999, [-1e-6, 0.0, 1e-6, 0.44, 0.45], 4)[:, 0]
    assert levels.tolist() == [2, 1, 2, 2, 0]                  # it rises from price 0 up
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexabilityWarning)
        res = finite_whittle_indices(MDPArms(p[None], r[None], c[None]), horizon=4,
                                     discount=0.999)
    assert res.indexable[0]
    np.testing.assert_allclose(res.indices[0, 0, 0], [0.440836085, 0.440836085], atol=1e-8)


def test_bisection_on_rewards_near_float64s_end_names_its_caller():
    """The homotopy takes rewards of 1e300; bisection's policy iterations at those indices
    overflow, and the error named policy_iteration, which the caller never called."""
    from rmab.errors import InvalidModelError

    m = random_mdp_arms(2, 3, 2, seed=0)
    huge = MDPArms(m.transitions, m.rewards * 1e300, m.costs)
    assert np.isfinite(whittle_indices(huge, discount=0.95).indices).all()
    with pytest.raises(InvalidModelError, match=r"^whittle_indices \(method 'bisection'\): "
                                                r"policy_iteration\.rewards: must keep"):
        whittle_indices(huge, discount=0.95, method="bisection")


def test_discounted_bisection_is_the_sup_past_a_tie_at_price_zero():
    """State 0: level 2 from below up to 2.776, except at price 0 itself, where it ties with
    the cheaper level 1. The bisection's first midpoint is 0 (the arm's bracket is symmetric),
    so it returned 0 for 2.776 on an arm the homotopy, its reference, finds indexable."""
    p = np.array([[[0.5, 0, 0.5], [0, 1, 0], [1, 0, 0]],
                  [[0.75, 0, 0.25], [0.5, 0.25, 0.25], [0.375, 0.375, 0.25]],
                  [[1 / 6, 1 / 3, 0.5], [0, 0.4, 0.6], [0.4, 0.4, 0.2]]])
    r = np.array([[0.0, 2.0, 2.0], [2.0, 2.0, 1.0], [1.0, 1.0, 2.0]])
    c = np.array([0.0, 1.0, 2.0])
    arms = MDPArms(p[None], r[None], c[None])
    levels = _finite_levels(p, r, c, 0.9, [-1e-9, 0.0, 1e-9, 2.7], 600)[:, 0]
    assert levels.tolist() == [2, 1, 2, 2]
    ref, _ = _sup(lambda x: _finite_levels(p, r, c, 0.9, x, 600),
                  _price_bracket(arms, 0.9)[1], 3)
    homotopy = whittle_indices(arms, discount=0.9)
    bisection = whittle_indices(arms, discount=0.9, method="bisection")
    assert homotopy.indexable[0] and bisection.indexable[0]
    np.testing.assert_allclose(homotopy.indices[0], ref, atol=1e-7)
    np.testing.assert_allclose(bisection.indices[0], ref, atol=1e-7)
    assert bisection.indices[0, 0, 1] == pytest.approx(2.7764, abs=1e-4)


def _extreme_arm(sign, scale, shift, cost):
    """State 0 (binary): acting leads to the absorbing state 1 (reward ``scale + shift``)
    and resting to the absorbing state 2 (reward ``shift``) with sign 1, the other way round
    with sign -1, and the step taken pays the better reward now: index ``sign * spread * w /
    cost``, ``w = 1 / (1 - β)``, the largest an index can be (values span at most ``spread
    w``)."""
    p = np.zeros((2, 3, 3))
    p[:, 1, 1] = p[:, 2, 2] = 1.0
    p[int(sign > 0), 0, 1] = p[int(sign < 0), 0, 2] = 1.0
    r = np.array([[0.0, 1.0] if sign > 0 else [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    return p, r * scale + shift, np.array([0.0, cost])


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("method", ["homotopy", "bisection"])
def test_indices_at_the_bounds_of_the_price_bracket_stay_finite(beta, method):
    """An index can reach ``± spread w / Δc`` exactly; the bracket's extra spread keeps it
    inside (without it, the homotopy started at ``-spread w / Δc`` and read that index as
    ``-inf``, and the bisection read both ends as ``± inf``). Reference: the closed form, and
    policy enumeration on either side of it."""
    w = 1.0 / (1.0 - beta)
    for sign, scale, shift, cost in [(sign, *case) for sign in (-1, 1) for case in
                                     [(1.0, 0.0, 1.0), (3.0, -5.0, 2.0), (1e-3, 7.0, 0.5)]]:
        p, r, c = _extreme_arm(sign, scale, shift, cost)
        arm = MDPArms(p[None], r[None], c[None])         # alone: its own bracket
        res = whittle_indices(arm, discount=beta, method=method)
        index = sign * scale * w / cost
        assert res.indexable[0]
        assert res.binary[0, 0] == pytest.approx(index, rel=1e-9)
        np.testing.assert_allclose(res.binary[0, 1:], 0.0, atol=1e-9 * w)
        lo, hi = _price_bracket(arm, beta)
        assert lo < index < hi
        around = index + np.array([-1e-6, 1e-6]) * abs(index)
        assert _enumerated_levels(p, r, c, beta, around)[:, 0].tolist() == [1, 0]


@pytest.mark.parametrize("beta", [0.5, 1.0])
def test_finite_indices_at_the_bounds_of_their_price_bracket_stay_finite(beta):
    """The finite-horizon search's own bracket (``Σ_{t<H} β^t + 1`` spreads over the step)
    holds the same extreme arms' indices, ``sign * spread * Σ_{t<τ} β^t / cost`` with ``τ``
    periods to go; without the extra spread they came out ``± inf``. Reference: the closed
    form, and backward induction on either side of it."""
    horizon = 3
    cases = [(sign, scale, shift, cost) for sign in (1, -1)
             for scale, shift, cost in [(1.0, 0.0, 1.0), (3.0, -5.0, 2.0)]]
    arms = [_extreme_arm(*case) for case in cases]
    stack = MDPArms(*(np.stack(x) for x in zip(*arms)))
    res = finite_whittle_indices(stack, horizon=horizon, discount=beta)
    assert res.indexable.all()
    for t in range(horizon):
        togo = horizon - t
        weight = sum(beta ** k for k in range(togo))
        expected = np.array([sign * scale * weight / cost for sign, scale, _, cost in cases])
        np.testing.assert_allclose(res.indices[t, :, 0, 0], expected, rtol=1e-8)
        for (p, r, c), index in zip(arms, expected):
            around = index + np.array([-1e-6, 1e-6]) * abs(index)
            assert _finite_levels(p, r, c, beta, around, togo)[:, 0].tolist() == [1, 0]
