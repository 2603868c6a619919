"""LinearBlockModel: the LP answers linear objectives when its optimum is integral (always on
the path route-set block, whose LP is the hull of the feasible actions); a fractional LP
optimum falls back to the MILP."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.domains import make_path
from rmab.domains.base import LinearBlockModel, build_block
from solvers import get_backend

pytestmark = pytest.mark.mip


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 50), obj=st.integers(0, 2**31 - 1))
def test_lp_on_the_route_set_block_equals_brute_force(seed, obj):
    d = make_path(8, 3, seed=seed)
    block = d.constraint_block()
    assert "route_sets" in block.index
    model = LinearBlockModel(block, get_backend("highs"))
    gains = np.random.default_rng(obj).normal(size=d.n_arms)
    c = np.zeros(block.n_vars)
    c[:d.n_arms] = gains
    model.set_objective(c, 1.5)
    res = model.solve()
    action = d.check_action(block.action_from_solution(res.x))
    best = max(gains @ np.array(a) for a in itertools.product((0, 1), repeat=d.n_arms)
               if d.is_feasible(np.array(a)))
    assert gains @ action == pytest.approx(best, abs=1e-9)
    assert res.objective == pytest.approx(best + 1.5, abs=1e-9)
    assert (model.n_lp, model.n_mip) == (1, 0)       # the hull: the LP answers


def test_a_fractional_lp_action_falls_back_to_the_milp():
    # 2a + 2b + 2c <= 3: the LP takes a + b + c = 1.5
    block = build_block(3, [(np.arange(3), np.full(3, 2.0), -np.inf, 3.0)], np.ones(3, bool),
                        np.ones(3), 3)
    model = LinearBlockModel(block, get_backend("highs"))
    model.set_objective(np.array([1.0, 1.0, 1.1]))
    res = model.solve()
    assert (model.n_lp, model.n_mip) == (0, 1)
    np.testing.assert_array_equal(block.action_from_solution(res.x), [0, 0, 1])
    assert res.objective == pytest.approx(1.1)


def test_an_integral_lp_optimum_is_returned_without_the_milp():
    block = build_block(2, [(np.arange(2), np.ones(2), -np.inf, 1.0)], np.ones(2, bool),
                        np.ones(2), 2)
    model = LinearBlockModel(block, get_backend("highs"))
    model.set_objective(np.array([0.5, 0.7]))
    res = model.solve()
    assert (model.n_lp, model.n_mip) == (1, 0)
    np.testing.assert_array_equal(block.action_from_solution(res.x), [0, 1])


def test_the_offset_is_added_to_the_result_and_must_be_a_finite_number():
    """The offset no longer reaches the solver (its relative gap counted it), so the model
    checks it itself: 'x' and None were raw errors and inf or NaN came back 'optimal' (a
    diff review). Objective, bound and gap carry it, on the LP and on the MILP."""
    from rmab.errors import InvalidParameterError
    from solvers.result import relative_gap

    block = build_block(3, [(np.arange(3), np.full(3, 2.0), -np.inf, 3.0)], np.ones(3, bool),
                        np.ones(3), 3)
    model = LinearBlockModel(block, get_backend("highs"))
    for c, n_mip in ((np.array([1.0, 1.0, 1.1]), 1), (np.array([-1.0, -1.0, 0.5]), 1)):
        model.set_objective(c, 1e9)
        res = model.solve()
        assert model.n_mip == n_mip
        assert res.objective == pytest.approx(1e9 + c.max(), rel=0, abs=1e-6)
        assert res.gap == relative_gap(res.objective, res.bound)
    for offset, what in (("x", "must be a number"), (None, "must be a number"),
                         (np.inf, "must be finite"), (np.nan, "must be finite")):
        with pytest.raises(InvalidParameterError,
                           match=f"LinearBlockModel.set_objective.offset: {what}"):
            model.set_objective(np.zeros(3), offset)


def test_an_lp_vertex_within_1e_7_of_integral_answers_and_one_further_off_does_not():
    """What the 1e-7 decides: which solve answers. (1) ``a + b + c <= 2 + 5e-8`` maximising
    ``a + 1.1 b + 1.2 c``: the LP's vertex has ``a = 5e-8``, integral within 1e-7, so the LP
    answers with the MILP's action. (2) ``a + (1 + 2e-6) b <= 2`` maximising ``a + b``: the
    vertex ``b = 1 / (1 + 2e-6)`` is fractional and the MILP answers; had the LP answered,
    its rounding ``[1, 1]`` would break the row by 2e-6, past HiGHS's own tolerance.
    References: the MILP solved directly, and enumeration of the 0/1 points that satisfy the
    row exactly."""
    from solvers import solve

    cases = [(np.ones(3), 2.0 + 5e-8, np.array([1.0, 1.1, 1.2]), (1, 0)),
             (np.array([1.0, 1.0 + 2e-6]), 2.0, np.ones(2), (0, 1))]
    for coefs, rhs, c, route in cases:
        n = c.size
        block = build_block(n, [(np.arange(n), coefs, -np.inf, rhs)], np.ones(n, bool),
                            np.ones(n), n)
        model = LinearBlockModel(block, get_backend("highs"))
        model.set_objective(c)
        action = block.action_from_solution(model.solve().x)
        assert (model.n_lp, model.n_mip) == route
        best = max(c @ x for x in itertools.product((0, 1), repeat=n) if coefs @ x <= rhs)
        assert coefs @ action <= rhs and c @ action == best
        np.testing.assert_array_equal(action, block.action_from_solution(
            solve(block.with_objective(c)).x))
