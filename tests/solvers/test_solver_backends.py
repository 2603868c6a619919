"""One suite of reference MILPs with known optima, run on every available backend."""

import itertools
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from solvers import (BACKENDS, MILP, SolverInputError, TerminationStatus, UnknownBackendError,
                     available_backends, get_backend, solve)

pytestmark = pytest.mark.mip
BACKEND_NAMES = available_backends()
T = TerminationStatus


def chvatal():
    """Chvátal's LP example as an integer program: optimum 13 at (2, 0, 1)."""
    return MILP.from_arrays([5, 4, 3], [[2, 3, 1], [4, 1, 2], [3, 4, 2]], None, [5, 11, 8],
                            0, np.inf, [True] * 3), 13.0


def knapsack01():
    """0/1 knapsack: values (60, 100, 120), weights (10, 20, 30), capacity 50 -> 220."""
    return MILP.from_arrays([60, 100, 120], [[10, 20, 30]], None, [50], 0, 1, [True] * 3), 220.0


def assignment():
    """3x3 assignment, min cost; optimum 5 (scipy.optimize.linear_sum_assignment example)."""
    cost = np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]], float)
    rows = np.zeros((6, 9))
    for i in range(3):
        rows[i, 3 * i:3 * i + 3] = 1          # each worker once
        rows[3 + i, i::3] = 1                 # each job once
    return MILP.from_arrays(cost.ravel(), rows, np.ones(6), np.ones(6), 0, 1, [True] * 9,
                            sense="min"), 5.0


def equality_rows():
    """min x + 2y + 3z, x + y + z = 4, y - z = 1, integer >= 0 -> (3, 1, 0), 5."""
    return MILP.from_arrays([1, 2, 3], [[1, 1, 1], [0, 1, -1]], [4, 1], [4, 1], 0, np.inf,
                            [True] * 3, sense="min"), 5.0


def free_variables():
    """min x + y, x >= -3.5 (x integer, free), y - x >= 0.25 (y free) -> x=-3, y=-2.75."""
    return MILP.from_arrays([1, 1], [[1, 0], [-1, 1]], [-3.5, 0.25], [np.inf, np.inf], -np.inf,
                            np.inf, [True, False], sense="min"), -5.75


def pure_lp():
    """max 3x + 2y, x + y <= 4, x + 3y <= 6, x <= 3 -> (3, 1), 11 (+ offset 0.5)."""
    return MILP.from_arrays([3, 2], [[1, 1], [1, 3]], None, [4, 6], 0, [3, np.inf],
                            offset=0.5), 11.5


def no_rows():
    """Column bounds only: max 2x - y, x in [0, 2.5] integer, y in [-1, 4] -> 4 + 1 = 5."""
    return MILP.from_arrays([2, -1], None, None, None, [0, -1], [2.5, 4], [True, False]), 5.0


def fractional_integer_bounds():
    """min x + y, x integer in [-1.5, 0] with x <= -1, y integer in [-2.5, 3.7] -> -1 - 2.
    scipy returned x = -1.5 rounded to -2, "optimal" at -4 (a solvers review)."""
    return MILP.from_arrays([1, 1], [[1, 0]], None, [-1], [-1.5, -2.5], [0, 3.7], [True, True],
                            sense="min"), -3.0


REFERENCE = [chvatal, knapsack01, assignment, equality_rows, free_variables, pure_lp, no_rows,
             fractional_integer_bounds]


def market_split(m=4, n=30, seed=3):
    """Cornuéjols–Dawande market split with slacks: LP bound 0, hard to close; x = 0 feasible."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n)).astype(float)
    d = np.floor(a.sum(1) / 2)
    A = np.hstack([a, np.eye(m), -np.eye(m)])
    c = np.r_[np.zeros(n), np.ones(2 * m)]
    integ = np.r_[np.ones(n, bool), np.zeros(2 * m, bool)]
    up = np.r_[np.ones(n), np.full(2 * m, np.inf)]
    start = np.r_[np.zeros(n), d, np.zeros(m)]
    return MILP.from_arrays(c, A, d, d, 0, up, integ, sense="min"), start


def brute_force(milp: MILP) -> float:
    """Optimum of a small bounded pure-integer MILP by enumeration."""
    ranges = [range(int(lo), int(up) + 1) for lo, up in zip(milp.col_lower,
                                                           np.minimum(milp.col_upper, 10))]
    vals = [milp.objective_value(x) for x in itertools.product(*ranges)
            if milp.is_feasible(np.array(x, float))]
    return max(vals) if milp.sense == "max" else min(vals)


@pytest.mark.parametrize("make", [chvatal, knapsack01, assignment, equality_rows])
def test_reference_optima_match_enumeration(make):
    milp, optimum = make()
    assert brute_force(milp) == pytest.approx(optimum)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("make", REFERENCE)
def test_reference_milps(backend, make):
    milp, optimum = make()
    res = solve(milp, backend=backend)
    assert res.status is T.OPTIMAL and res.backend == backend
    assert res.objective == pytest.approx(optimum, abs=1e-6)
    assert milp.is_feasible(res.x)
    assert milp.objective_value(res.x) == pytest.approx(res.objective)
    assert res.gap <= 1e-5 and res.has_solution
    sign = 1 if milp.sense == "max" else -1
    assert sign * (res.bound - res.objective) >= -1e-6


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_infeasible(backend):
    milp = MILP.from_arrays([1, 1], [[1, 1], [1, 1]], [3, -np.inf], [np.inf, 2], 0, np.inf,
                            [True, False])
    res = solve(milp, backend=backend)
    assert res.status is T.INFEASIBLE and res.x is None and not res.has_solution
    assert np.isnan(res.objective)
    assert np.isnan(res.bound)                      # HiGHS's own answer is 0 (a review)


@pytest.mark.parametrize("presolve", [True, False])
@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_an_infeasible_model_scipy_presolve_fails_on_is_infeasible(backend, presolve):
    # 1.3 a + 4.7 b - 2.6 c = 8.4 has no integer point: scipy 1.17's HiGHS with presolve ended
    # in "Solve error" (ERROR), without it and in the highs backend "infeasible" (a review)
    milp = MILP.from_arrays([-3.06, -3.32, 4.6, -4.31], [[1.3, 4.7, -2.6, 0.0]], [8.4], [8.4],
                            [0, 0, -2, 0], [1, 2, 1, 1], [True] * 4)
    res = solve(milp, backend=backend, presolve=presolve)
    assert res.status is T.INFEASIBLE and res.x is None


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_unbounded(backend):
    milp = MILP.from_arrays([1, 1], [[1, -1]], None, [1], 0, np.inf, [True, False])
    res = solve(milp, backend=backend)
    assert res.status is T.UNBOUNDED and res.x is None


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_time_limit_returns_start_or_better(backend):
    milp, start = market_split()
    res = solve(milp, backend=backend, time_limit=0.2, warm_start=start)
    assert res.status is T.TIME_LIMIT
    assert res.has_solution and milp.is_feasible(res.x)
    assert res.objective <= milp.objective_value(start) + 1e-9
    assert res.bound <= res.objective + 1e-9 and res.gap > 0


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_infeasible_warm_start_is_only_a_hint(backend):
    milp, optimum = knapsack01()
    res = solve(milp, backend=backend, warm_start=[1, 1, 1])   # breaks the capacity
    assert res.status is T.OPTIMAL and res.objective == pytest.approx(optimum)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("cost, offset, over", [(1e6, 0.0, 1e-6), (1e9, -1e9, 9e-10)])
def test_a_start_just_over_a_row_does_not_displace_the_optimum(backend, cost, offset, over):
    """A start just over its row (within FEAS_TOL) with a large cost replaced the optimum:
    "optimal" 1000001.0 above the bound 1000000.0 at an infeasible point, and (a tolerance of
    1e-9 on the start alone did not help) 0.9 above the bound 0 (two solvers reviews)."""
    milp = MILP.from_arrays([cost, 0.0], [[1.0, 1.0]], None, [1.0], 0, 10, [False, True],
                            offset=offset)
    res = get_backend(backend).build(milp).solve(warm_start=[1 + over, 0.0])
    assert res.status is T.OPTIMAL and res.objective == pytest.approx(cost + offset, abs=1e-6)
    assert res.objective <= res.bound + 1e-6 and milp.violation(res.x) <= 1e-9


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("cost, over", [(1e7, 5e-7), (1e12, 1e-9)])
def test_a_start_just_over_a_row_is_not_the_backends_incumbent(backend, cost, over):
    """HiGHS took a start 5e-7 over a row with a cost of 1e7 as its incumbent: a time-limited
    solve returned it worth 5.0 above its own bound 0 (and an untimed one did not end; a
    review), and one 1e-9 over at a cost of 1e12 1000 past it. Such starts are only a
    fallback now, weighed against the bound."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 100, size=(6, 60)).astype(float)
    xs = rng.integers(0, 2, 60).astype(float)
    A = np.zeros((7, 61))
    A[:6, :60], A[6, 60] = a, 1.0                  # a x = a xs (subset sums); y <= 0
    milp = MILP.from_arrays(np.r_[np.zeros(60), cost], A, np.r_[a @ xs, -np.inf],
                            np.r_[a @ xs, 0.0], 0, np.r_[np.ones(60), np.inf],
                            np.r_[np.ones(60, bool), False], sense="max")
    res = get_backend(backend).build(milp).solve(time_limit=0.3, warm_start=np.r_[xs, over])
    if res.has_solution and np.isfinite(res.bound):    # scipy proves no bound in 0.3 s
        assert res.objective <= res.bound + 1e-6 and milp.violation(res.x) <= 1e-6


def test_an_exact_start_is_kept_when_the_bound_is_a_tolerance_below_it():
    """A start meeting every row exactly was refused when the backend's bound was 1e-8 (its
    own tolerance) below its value: a time-limited solve with a feasible start had no
    solution (a review). It is returned, and its value is the bound."""
    from solvers.backends.base import RawSolve

    def finish(model, bound, start):             # as solve() ends a time-limited solve
        start = np.array(start)
        return model._finish(RawSolve(T.TIME_LIMIT, None, bound), start, model._exact(start),
                             0.1)

    milp = MILP.from_arrays([1e6, 0.0], [[1.0, 1.0]], None, [1.0], 0, 10, [False, True],
                            sense="max")
    model = get_backend("highs").build(milp)
    res = finish(model, 1e6 - 0.01, [1.0, 0.0])
    assert res.has_solution and res.objective == 1e6 and res.bound == 1e6
    res = finish(model, 1e6, [1 + 5e-7, 0.0])
    assert not res.has_solution                 # only within FEAS_TOL: not past the bound
    # whatever the offset: with one of -1e6 (value 0) a bound 0.01 below it lost it (a review)
    shifted = get_backend("highs").build(MILP.from_arrays(
        [1e6, 0.0], [[1.0, 1.0]], None, [1.0], 0, 10, [False, True], sense="max", offset=-1e6))
    res = finish(shifted, -0.01, [1.0, 0.0])
    assert res.has_solution and res.objective == 0.0 and res.bound == 0.0


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("sense", ["max", "min"])
def test_an_exact_start_is_not_kept_past_a_proven_bound(backend, sense):
    """Violations chained through big-M rows (v <= 0 by 1e-9 over, w <= 1e4 v, y <= 1e4 w)
    made an exact start worth 1e5 past the proven optimum 0, returned as optimal with the
    bound raised to it (a review); scipy's LP optimum, reported without a bound, did not
    bound it. With an integer column, HiGHS without presolve took the start as its own
    optimum, 1e5 past it, until a mixed model's start had its continuous columns completed
    by an LP."""
    cost = 1e6 if sense == "max" else -1e6
    for integer in (False, True):
        milp = MILP.from_arrays([0.0, 0.0, cost, 1.0], [[-1e4, 1.0, 0.0, 0.0],
                                                        [0.0, -1e4, 1.0, 0.0]], None, [0.0, 0.0],
                                0, [0.0, np.inf, np.inf, 0.0], [False] * 3 + [integer],
                                sense=sense)
        for presolve in (True, False):
            model = get_backend(backend).build(milp)
            res = model.solve(warm_start=[1e-9, 1e-5, 0.1, 0.0], presolve=presolve)
            assert res.status is T.OPTIMAL and res.objective == 0.0 and res.bound == 0.0


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("v", [5e-12, 8e-10])
def test_a_violation_hidden_by_rounding_is_not_amplified(backend, v):
    """``v <= sum(x) - 1e5`` over 100 columns at 1e3 hides v = 5e-12 in rounding (every row
    evaluates feasible) and lets 8e-10 pass as exact; through ``w <= 1e4 v``, ``y <= 1e4 w``
    the start was worth 500 or 80000, the optimum 0, and HiGHS without presolve returned it
    as optimal (a review): a mixed model's start is completed by an LP, whatever it looks."""
    J = 100
    A = np.zeros((3, J + 4))
    A[0, :J], A[0, J] = -1.0, 1.0
    A[1, J:J + 2] = [-1e4, 1.0]
    A[2, J + 1:J + 3] = [-1e4, 1.0]
    milp = MILP.from_arrays(np.r_[np.zeros(J + 2), 1e6, 1.0], A, None, [-1e5, 0.0, 0.0],
                            [0.0] * J + [-np.inf] * 3 + [0.0], [1e3] * J + [np.inf] * 3 + [0.0],
                            [False] * (J + 3) + [True], sense="max")
    start = np.r_[np.full(J, 1e3), v, 1e4 * v, 1e8 * v, 0.0]
    for presolve in (True, False):
        res = get_backend(backend).build(milp).solve(warm_start=start, presolve=presolve)
        assert res.status is T.OPTIMAL and res.objective == pytest.approx(0.0, abs=1e-6)
        assert res.bound == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_model_with_an_exact_start_is_never_called_infeasible(backend):
    """HiGHS 1.16's presolve called this integer model infeasible (the highs and pyomo
    backends) though [0, -2, 1, 2] meets it exactly (a random search)."""
    milp = MILP.from_arrays(np.zeros(4), [[76500.0, 0.516, 0.0, -7.0], [-1e-7, 0.0, -930000.0,
                                                                     0.0]],
                            [-15.032, -930000.0], [-15.032, -930000.0], [-2, -3, 0, -1],
                            [0, -2, 3, 2], [True] * 4)
    assert milp.violation([0, -2, 1, 2]) == 0.0
    res = get_backend(backend).build(milp).solve(warm_start=[0, -2, 1, 2])
    assert res.status is not T.INFEASIBLE and res.has_solution
    assert milp.violation(res.x) <= 1e-6


def test_an_infeasible_verdict_against_an_exact_start_is_solved_again_without_presolve():
    from solvers.backends.base import PersistentModel, RawSolve

    class PresolveSaysInfeasible(PersistentModel):
        backend = "stub"
        always = False

        def _solve(self, time_limit, mip_gap, threads, warm_start, presolve):
            self.calls.append(presolve)
            if presolve or self.always:
                return RawSolve(T.INFEASIBLE, None)
            return RawSolve(T.OPTIMAL, warm_start, float(self._c @ warm_start))

    milp = MILP.from_arrays([1.0, 1.0], [[1.0, 1.0]], None, [1.0], 0, 1, [True, True],
                            sense="max")
    model = PresolveSaysInfeasible(milp)
    model.calls = []
    res = model.solve(warm_start=[1, 0])
    assert model.calls == [True, False] and res.status is T.OPTIMAL and res.objective == 1.0
    model.calls, model.always = [], True                 # still infeasible: ERROR, the start
    res = model.solve(warm_start=[1, 0], presolve=False)
    assert model.calls == [False] and res.status is T.ERROR and res.x.tolist() == [1.0, 0.0]
    model.calls = []                                     # an infeasible start: the verdict
    assert model.solve(warm_start=[1, 1]).status is T.INFEASIBLE and model.calls == [True]


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_an_exact_start_past_a_presolved_optimum_is_checked_without_presolve(backend):
    """HiGHS 1.16's presolve took the wrong end of the ranged row and called -264.064 optimal
    on every backend (a random search); the exact optimum -264.83348 at (3, 5.41452) given as
    a start had been dropped as past that bound."""
    milp = MILP.from_arrays([-87.0, -0.708], [[-1.4e6, -7.3e6], [77000.0, 0.0]],
                            [-43726000.0, 152513.1], [-35796000.0, np.inf], 0, [3, np.inf],
                            [True, False], sense="min")
    start = [3.0, 39526000.0 / 7.3e6]
    assert milp.violation(start) == 0.0
    res = get_backend(backend).build(milp).solve(warm_start=start)
    assert res.status is T.OPTIMAL and milp.violation(res.x) <= 1e-9
    assert res.objective == pytest.approx(-87 * 3 - 0.708 * start[1], rel=1e-9)
    assert res.bound <= res.objective + 1e-9


def _order_limit_model():
    """HiGHS 1.16 without presolve: "optimal" 0.52130 at a = 0 (root node, bound equal), the
    optimum 0.91558 at a = 1 (a fuzz review's encoded network in Pyomo's column and row order,
    shrunk; docs/solvers.md, "Known HiGHS limits"). At a = 1 the chain of equality rows puts
    column 10 8.8e-8 under its upper bound."""
    rows = [[(0, -0.17375149040981014), (1, 1.0)], [(0, -0.3909961099953783), (2, 1.0)],
            [(0, 0.2735454769024625), (3, 1.0)], [(0, -0.4692991806628876), (4, 1.0)],
            [(2, -1.0), (5, 1.0)], [(3, -1.0), (6, 1.0)], [(4, -1.0), (7, 1.0)],
            [(1, 0.07743327019998797), (5, -0.07277954133108343), (6, 0.1111718132306358),
             (7, -0.09025130901658422), (8, 1.0)],
            [(1, -0.26460311919021984), (5, 0.2649685306613991), (6, 0.10190243213154467),
             (7, 0.18913619054145617), (9, 1.0)],
            [(8, -1.0), (10, 1.0)], [(9, -1.0), (11, 1.0)], [(2, -1.0), (5, 1.0)],
            [(3, -1.0), (6, 1.0)], [(4, -1.0), (7, 1.0)], [(8, -1.0), (10, 1.0)]]
    A = np.zeros((len(rows), 12))
    for i, row in enumerate(rows):
        for j, v in row:
            A[i, j] = v
    eq = [5.509991688332616, 0.5132730682269839, 6.4147906865863895, 5.703665298190961]
    inf = np.inf
    milp = MILP.from_arrays(
        np.r_[0.33934736715700126, np.zeros(9), 0.30989938935515177, -0.23397677298512198], A,
        eq + [0.0] * 3 + [8.0, 8.0, 0.0, 0.0] + [-inf] * 4,
        eq + [inf] * 3 + [8.0, 8.0, inf, inf] + [0.0] * 4,
        [0.0, 0.0, -inf, -inf, -inf, 0.0, 0.0, 0.0, -inf, -inf, 0.0, 0.0],
        [2.0, inf, inf, inf, inf, 0.9042695692184722, 6.4147906865863895, 6.172964948153029,
         inf, inf, 7.50008632176666, 7.647803593023554], [True] + [False] * 11, sense="max")
    point = np.array([1.0, 5.683743178742426, 0.9042691782223622, 6.141245209683927,
                      6.1729644788538485, 0.9042691782223622, 6.141245209683927,
                      6.1729644788538485, 7.500086233998877, 7.470994489234279,
                      7.500086233998877, 7.470994489234279])
    return milp, point


def test_the_documented_order_dependent_highs_limit_and_its_workarounds():
    """The model of docs/solvers.md's order-dependent limit: the optimum's point meets it (its
    exact rational version with violation 0, session 49; this rounding to 1e-15) and is worth
    0.91558; HiGHS with presolve, and HiGHS without presolve given that point as a start,
    find it (without either, HiGHS 1.16 answered 0.52130)."""
    milp, point = _order_limit_model()
    assert milp.violation(point) <= 1e-14
    best = float(milp.c @ point)
    assert best == pytest.approx(0.9155803, abs=1e-6)
    model = get_backend("highs").build(milp)
    for res in (model.solve(presolve=True),
                model.solve(presolve=False, warm_start=point, complete_start=False)):
        assert res.status is T.OPTIMAL and res.objective >= best - 1e-6


def test_pyomo_passes_presolve_to_highs():
    """``presolve`` reaches Pyomo's HiGHS (a HiGHS option set on each solve), so ``pyomo:highs``
    solves encoded networks as the highs backend does: its wrong answer without presolve on a
    fuzz review's network came from HiGHS, given the same model in Pyomo's column and row
    order (docs/solvers.md)."""
    pytest.importorskip("pyomo")
    if "pyomo" not in BACKEND_NAMES or get_backend("pyomo").build(chvatal()[0]).solver_name \
            != "highs":
        pytest.skip("no Pyomo HiGHS")
    model = get_backend("pyomo").build(chvatal()[0])
    for presolve, want in ((False, "off"), (True, "on"), (False, "off")):
        model.solve(presolve=presolve)
        got = model._solver._solver_model.getOptionValue("presolve")   # Pyomo's Highs
        assert (got[-1] if isinstance(got, tuple) else got) == want


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("presolve", [True, False])
def test_a_column_in_no_row_with_an_improving_cost_is_unbounded(backend, presolve):
    """HiGHS 1.16 without presolve called ``max 80 b + 4000 z + y`` with y >= 0 in no row
    optimal at y = 62 (every backend), and Pyomo's persistent HiGHS gave ERROR after new costs
    on an unbounded LP whose free column had no row entry (the exact-reference search)."""
    milp = MILP.from_arrays([80.0, 4000.0, 1.0], [[0.09, 20.0, 0.0]], [1.0], [700.0], 0,
                            [1, np.inf, np.inf], [True, False, False], sense="max")
    assert get_backend(backend).build(milp).solve(presolve=presolve).status is T.UNBOUNDED
    lp = MILP.from_arrays([-2.0, 0.0], [[0.0, -0.071]], [-np.inf], [1.0011], [-np.inf, -54.0],
                          [np.inf, 700.0], [False, False], sense="min")
    model = get_backend(backend).build(lp)
    assert model.solve(presolve=presolve).status is T.UNBOUNDED
    model.set_objective([-3.0, -1.0])
    res = model.solve(presolve=presolve)
    assert res.status is T.UNBOUNDED and not res.has_solution
    model.set_objective([0.0, -1.0])                      # the free column costs nothing now
    res = model.solve(presolve=presolve)
    assert res.status is T.OPTIMAL and res.objective == pytest.approx(-700.0)


def test_an_optimum_an_exact_start_passes_is_solved_again_without_presolve():
    from solvers.backends.base import PersistentModel, RawSolve

    class PresolveStopsShort(PersistentModel):
        backend = "stub"
        again = T.OPTIMAL

        def _solve(self, time_limit, mip_gap, threads, warm_start, presolve):
            self.calls.append((presolve, warm_start is not None))
            if presolve:                                 # the point [0, 1], "proven" optimal
                return RawSolve(T.OPTIMAL, np.array([0.0, 1.0]), 1.0)
            if self.again is T.OPTIMAL:
                return RawSolve(T.OPTIMAL, np.array([1.0, 1.0]), 3.0)
            return RawSolve(self.again, None, 5.0)

    milp = MILP.from_arrays([2.0, 1.0], [[1.0, 1.0]], None, [2.0], 0, 1, [True, True],
                            sense="max")
    model = PresolveStopsShort(milp)
    model.calls = []                                     # the start [1, 0] is worth 2 > 1
    res = model.solve(warm_start=[1, 0])
    assert model.calls == [(True, True), (False, False)]  # again: no presolve, no start
    assert res.status is T.OPTIMAL and res.x.tolist() == [1.0, 1.0] and res.objective == 3.0
    model.calls, model.again = [], T.TIME_LIMIT          # not optimal: the first answer
    res = model.solve(warm_start=[1, 0])
    assert len(model.calls) == 2 and res.x.tolist() == [0.0, 1.0] and res.bound == 1.0
    for start, presolve in (([0, 1], True), ([1, 0], False)):   # no dispute, or no presolve
        model.calls = []
        model.solve(warm_start=start, presolve=presolve)
        assert model.calls == [(presolve, True)]


@pytest.mark.parametrize("bounded", [True, False])
def test_infeasible_or_unbounded_against_an_exact_start(bounded):
    """With every column bounded the model cannot be unbounded: the verdict is solved again
    without presolve, then ERROR with the start (it had been UNBOUNDED, with no point);
    otherwise the feasible start makes it UNBOUNDED (a review)."""
    from solvers.backends.base import PersistentModel, RawSolve

    class Undecided(PersistentModel):
        backend = "stub"

        def _solve(self, time_limit, mip_gap, threads, warm_start, presolve):
            self.calls.append(presolve)
            return RawSolve(T.INFEASIBLE_OR_UNBOUNDED, None)

    model = Undecided(MILP.from_arrays([1.0, 1.0], [[1.0, -1.0]], None, [1.0], 0,
                                       [1, 1 if bounded else np.inf], [True, True],
                                       sense="max"))
    model.calls = []
    res = model.solve(warm_start=[1, 0])
    if bounded:
        assert model.calls == [True, False] and res.status is T.ERROR
        assert res.x.tolist() == [1.0, 0.0]
    else:
        assert model.calls == [True] and res.status is T.UNBOUNDED and not res.has_solution


def test_an_exact_start_stays_exact_when_its_completion_is_not(monkeypatch):
    """scipy's HiGHS meets its rows to 1e-7, not EXACT_TOL: an exact start whose LP completion
    misses it had been withheld from the backend (8 of 400 badly scaled models; a review). It
    keeps its exactness unless it is worth more than the completion (inflated)."""
    import types

    import scipy.optimize

    from solvers.backends.base import PersistentModel, RawSolve

    class OutOfTime(PersistentModel):
        backend = "stub"

        def _solve(self, time_limit, mip_gap, threads, warm_start, presolve):
            self.given = warm_start
            return RawSolve(T.TIME_LIMIT, None)

    # max y + z:  y + z <= 1,  k integer in [0, 1];  the LP "completion" is 1e-8 over the row
    model = OutOfTime(MILP.from_arrays([1.0, 1.0, 0.0], [[1.0, 1.0, 0.0]], None, [1.0], 0, 1,
                                       [False, False, True], sense="max"))
    completions = iter([[0.5, 0.5 + 1e-8], [-1e-8, 0.0]])   # each 1e-8 off: not exact
    monkeypatch.setattr(scipy.optimize, "milp", lambda *a, **k: types.SimpleNamespace(
        status=0, x=np.array(next(completions))))
    res = model.solve(warm_start=[0.25, 0.75, 1.0])          # worth 1 <= 1 + 1e-8: kept
    assert model.given.tolist() == res.x.tolist() == [0.25, 0.75, 1.0]
    model.solve(warm_start=[0.25, 0.75, 1.0])                # worth 1 > -1e-8: "inflated"
    assert model.given is None


def test_a_mixed_start_has_its_continuous_columns_completed():
    """A mixed model's start, feasible or not, has its continuous columns replaced by an LP's
    best with its integers fixed (within half the time limit, which the solve then has less
    of); integers that admit no completion leave it a hint; ``complete_start=False`` keeps it
    as given."""
    from solvers.backends.base import PersistentModel, RawSolve

    class OutOfTime(PersistentModel):
        backend = "stub"

        def _solve(self, time_limit, mip_gap, threads, warm_start, presolve):
            self.given = (time_limit, warm_start)
            return RawSolve(T.TIME_LIMIT, None)

    # max 2 y + z:  y + z - 0.1 k <= 1,  k <= 2,  y <= 0.5,  k integer in [0, 3]
    model = OutOfTime(MILP.from_arrays([2.0, 1.0, 0.0], [[1.0, 1.0, -0.1], [0.0, 0.0, 1.0]],
                                       None, [1.0, 2.0], 0, [0.5, np.inf, 3],
                                       [False, False, True], sense="max"))
    for start in ([0.2, 0.3, 0.0], [0.2, 0.8 + 1e-8, 0.0], [0.2, 5.0, 0.0]):
        res = model.solve(warm_start=start, time_limit=5.0)
        assert res.x == pytest.approx([0.5, 0.5, 0.0], abs=1e-12) and res.objective == 1.5
        limit, given = model.given
        assert given.tolist() == res.x.tolist() and limit < 5.0
    res = model.solve(warm_start=[0.2, 0.3, 0.0], complete_start=False)
    assert res.x.tolist() == model.given[1].tolist() == [0.2, 0.3, 0.0]
    for start in ([0.0, 0.0, 3.0], [0.0, 0.0, 4.0]):   # k = 3 admits no completion; 4 > 3
        res = model.solve(warm_start=start)
        assert not res.has_solution and model.given[1] is None
    with pytest.raises(SolverInputError, match="complete_start: must be a bool"):
        model.solve(warm_start=[0.2, 0.3, 0.0], complete_start="no")


def test_a_persistent_lp_gets_its_time_limit_at_every_solve():
    """HiGHS times an LP on the model's run clock, which adds up over its solves: a persistent
    LP returned "time limit" at once once its solves had taken the limit in all (a review)."""
    model = get_backend("highs").build(MILP.from_arrays([1.0, 2.0], [[1.0, 1.0]], None, [1.0],
                                                        0, 1, [False, False], sense="max"))
    statuses = {model.solve(time_limit=0.05).status for _ in range(1500)}  # ~0.1 s in all
    assert statuses == {T.OPTIMAL}


@pytest.mark.parametrize("presolve", [True, False])
def test_a_start_is_judged_and_given_as_it_is_returned(presolve):
    """The backend was given the start unrounded: 5e-8 on an integer column with a cost of
    1e12 made HiGHS (without presolve) call [0, 0] optimal at 0, the optimum 7000; and a row
    of small coefficients let a start worth 1e-3 past the optimum through as exact: 1e-9 over
    ``1e-6 y <= 0`` is y = 1e-3 (a review)."""
    milp = MILP.from_arrays([1e12, 1000.0], np.eye(2), None, [0.0, 7.0], 0, 10, [True, True],
                            sense="max")
    res = get_backend("highs").build(milp).solve(warm_start=[5e-8, 0.0], presolve=presolve)
    assert res.status is T.OPTIMAL and res.objective == 7000.0
    milp = MILP.from_arrays([0.0, 1.0], [[1.0, 0.0], [0.0, 1e-6]], None, [1.0, 0.0], 0,
                            [1, np.inf], [True, False], sense="max")
    res = get_backend("highs").build(milp).solve(warm_start=[0.0, 1e-3], presolve=presolve)
    assert res.status is T.OPTIMAL and res.objective == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_persistent_updates_equal_a_fresh_build(backend):
    milp, _ = chvatal()
    model = get_backend(backend).build(milp)
    assert model.solve().objective == pytest.approx(13.0)
    model.set_objective([1, 4, 3], offset=2.0)
    model.set_row_bounds([0], [-np.inf], [7])
    model.set_coefficients([1, 2, 2], [0, 0, 1], [1.0, 2.0, 0.0])   # A[2, 1] -> explicit 0
    model.set_col_bounds([2], [0], [1])
    changed = model.milp
    assert changed.A[2, 1] == 0 and changed.A[1, 0] == 1 and changed.offset == 2.0
    got = model.solve()
    fresh = solve(changed, backend="highs")
    assert got.status is T.OPTIMAL
    assert got.objective == pytest.approx(fresh.objective)
    assert got.objective == pytest.approx(brute_force(changed))


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_repeated_index_keeps_the_last_value(backend):
    """HiGHS refuses a repeated index and dropped the whole update while the model's copy took
    it: the solver and ``model.milp`` then disagreed (10 against 7 here)."""
    milp = MILP.from_arrays([1.0, 1.0], [[1, 0], [0, 1]], None, [5, 5], 0, 10)
    model = get_backend(backend).build(milp)
    model.set_row_bounds([0, 1, 0], [-np.inf] * 3, [3.0, 4.0, 2.0])
    model.set_col_bounds([1, 1], [0, 0], [4.0, 1.0])
    assert model.milp.row_upper.tolist() == [2.0, 4.0] and model.milp.col_upper[1] == 1.0
    got = model.solve()
    assert got.objective == pytest.approx(3.0)
    assert got.objective == pytest.approx(solve(model.milp, backend=backend).objective)


@pytest.mark.parametrize("backend", BACKEND_NAMES)   # pyomo: its solver is HiGHS here
@pytest.mark.parametrize("field, milp", [
    ("A", lambda: MILP.from_arrays([1.0], [[1e16]], None, [1], 0, 1)),
    ("bounds", lambda: MILP.from_arrays([1.0], col_lower=[1e21], col_upper=[np.inf])),
    ("bounds", lambda: MILP.from_arrays([1.0], [[1.0]], [1e21], [np.inf], 0, 1)),
    ("c", lambda: MILP.from_arrays([1e21], col_upper=[1])),
])
def test_what_highs_would_misread_is_refused(backend, field, milp):
    """HiGHS refused these models (or read 1e21 as infinite) and the backend reported OPTIMAL
    with no solution (scipy: INFEASIBLE)."""
    with pytest.raises(SolverInputError, match=rf"\.{field}: HiGHS"):
        get_backend(backend).build(milp()).solve()


@pytest.mark.parametrize("backend", BACKEND_NAMES)   # pyomo: its solver is HiGHS here
def test_updates_that_highs_would_misread_are_refused_before_the_copy_changes(backend):
    """A built HiGHS model took -3e20 as -inf (UNBOUNDED while model.milp had an optimum)."""
    milp, _ = chvatal()
    model = get_backend(backend).build(milp)
    for update, field in ((lambda: model.set_col_bounds([0], [-3e20], [1]), "bounds"),
                          (lambda: model.set_row_bounds([0], [-np.inf], [1e21]), "bounds"),
                          (lambda: model.set_objective([1e21, 1, 1]), "c"),
                          (lambda: model.set_coefficients([0], [0], [1e16]), "values")):
        with pytest.raises(SolverInputError, match=rf"\.{field}: HiGHS"):
            update()
    assert model.milp.col_lower[0] == 0 and model.milp.A[0, 0] == 2     # unchanged
    assert model.solve().objective == pytest.approx(13.0)


def test_a_persistent_lp_returns_the_same_vertex_for_the_same_objective():
    """Ties: no basis is carried between HiGHS LP solves, so the answer does not depend on
    what was solved before (planners built on LPs stay reproducible)."""
    lp = MILP.from_arrays(c=[1.0, 1.0, 1.0], A=[[1.0, 1.0, 1.0]], row_upper=[1.0],
                          col_upper=[1.0, 1.0, 1.0])
    model = get_backend("highs").build(lp)
    first = model.solve().x
    for c in ([0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]):
        model.set_objective(c)
        last = model.solve().x
    np.testing.assert_array_equal(last, first)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_build_refuses_what_is_not_a_milp(backend):
    """scipy's build raised a raw AttributeError (a solvers review)."""
    with pytest.raises(SolverInputError, match=r"Model.milp: must be a MILP; got NoneType"):
        get_backend(backend).build(None)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_integer_bounds_without_an_integer_between_are_infeasible(backend):
    res = solve(MILP.from_arrays([1.0], None, None, None, [0.2], [0.8], [True]), backend=backend)
    assert res.status is T.INFEASIBLE and res.x is None


def test_highs_writes_nothing_to_stdout():
    """highspy >= 1.16 prints a banner below Python at the first instance of a process; a CLI
    writing CSV to stdout must not get it."""
    code = ("from solvers import MILP, get_backend; "
            "m = get_backend('highs').build(MILP.from_arrays(c=[1.0], col_upper=[1.0], "
            "integrality=[1])); m.solve(); get_backend('highs').build(MILP.from_arrays(c=[1.0]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == ""


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_new_nonzero_coefficient(backend):
    milp, _ = knapsack01()                       # one row; add a second empty-ish row by update
    milp = milp.add_rows(np.zeros((1, 3)), [-np.inf], [1])
    model = get_backend(backend).build(milp)
    model.set_coefficients([1, 1], [1, 2], [1.0, 1.0])   # x1 + x2 <= 1: new nonzeros
    res = model.solve()
    assert res.objective == pytest.approx(brute_force(model.milp)) == pytest.approx(180.0)


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(UnknownBackendError, match=r"must be one of \['highs'.*got 'higs'.*"
                                                  r"did you mean 'highs'"):
        solve(knapsack01()[0], backend="higs")
    # a solver's bare name: the Pyomo names it has ('pyomo:gurobi' is none); a solver's name
    # near a backend's: the solver, not 'scipy'; a name in capitals: the backend (reviews)
    for name, hint in (("gurobi", r" \(a solver through Pyomo: 'pyomo:gurobi_persistent' or "
                                  r"'pyomo:gurobi_direct'\)"),
                       ("cplex", r" \(a solver through Pyomo is named 'pyomo:SOLVER' as "
                                 r"pyomo\.contrib\.solver names it, e\.g\. "
                                 r"'pyomo:gurobi_persistent'\)"),
                       ("scip", r" \(a solver through Pyomo: 'pyomo:scip_persistent' or "
                                r"'pyomo:scip_direct'\)"),
                       ("a b", ""),
                       ("HIGHS", r" \(did you mean 'highs'\?\)"),
                       ("SciPy", r" \(did you mean 'scipy'\?\)")):
        with pytest.raises(UnknownBackendError, match=fr"got '{name}'{hint}$"):
            solve(knapsack01()[0], backend=name)
    assert isinstance(UnknownBackendError("x"), LookupError)
    with pytest.raises(UnknownBackendError, match=r"must be a backend name.*got list"):
        solve(knapsack01()[0], backend=["highs"])                  # not hashable
    assert set(BACKEND_NAMES) <= set(BACKENDS) and BACKEND_NAMES[0] == "highs"


@pytest.mark.parametrize("name", ["gurobi", "GUROBI", "cplex"])
def test_an_unknown_backends_pyomo_hint_names_solvers_pyomo_has(name):
    """The hint for a solver's bare name gave 'pyomo:gurobi', which pyomo.contrib.solver (the
    pyomo backend's interface) has no solver of: it was refused too, Gurobi installed or not."""
    pytest.importorskip("pyomo.environ")
    from pyomo.contrib.solver.common.factory import SolverFactory

    with pytest.raises(UnknownBackendError) as info:
        get_backend(name)
    named = set(re.findall(r"'pyomo:(\w+)'", str(info.value))) - {"SOLVER"}
    assert named and all(SolverFactory(s) is not None for s in named)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_solve_option_errors(backend):
    model = get_backend(backend).build(knapsack01()[0])
    with pytest.raises(SolverInputError, match="time_limit: must be > 0"):
        model.solve(time_limit=0)
    with pytest.raises(SolverInputError, match=r"mip_gap: must be in \[0, 1\)"):
        model.solve(mip_gap=2)
    with pytest.raises(SolverInputError, match="threads: must be a positive integer"):
        model.solve(threads=0)
    with pytest.raises(SolverInputError, match=r"warm_start: must have shape \(3,\)"):
        model.solve(warm_start=[1, 0])
    with pytest.raises(SolverInputError, match=r"rows: must be indices in \[0, 1\)"):
        model.set_row_bounds([3], [0], [1])
    with pytest.raises(SolverInputError, match="lower: must be <= upper"):
        model.set_col_bounds([0], [1], [0])
    with pytest.raises(SolverInputError, match="cols: must have the length of rows"):
        model.set_coefficients([0], [0, 1], [1.0])
    with pytest.raises(SolverInputError, match=r"c: must have shape \(3,\)"):
        model.set_objective([1.0])
    with pytest.raises(SolverInputError, match="must be a MILP"):
        solve("not a milp", backend=backend)
    with pytest.raises(SolverInputError, match="time_limit: must be > 0 or None; got 'x'"):
        model.solve(time_limit="x")
    with pytest.raises(SolverInputError, match="threads: must be a positive integer; got 'a'"):
        model.solve(threads="a")
    # a number as text, or a bool, was taken (float("5") is 5: a limit of 5 s, a gap of 0.5)
    with pytest.raises(SolverInputError, match="time_limit: must be > 0 or None; got '5'"):
        model.solve(time_limit="5")
    with pytest.raises(SolverInputError, match="time_limit: must be > 0 or None; got True"):
        model.solve(time_limit=True)
    with pytest.raises(SolverInputError, match=r"mip_gap: must be in \[0, 1\); got '0.5'"):
        model.solve(mip_gap="0.5")
    with pytest.raises(SolverInputError, match=r"mip_gap: must be in \[0, 1\); got b'0'"):
        model.solve(mip_gap=b"0")
    with pytest.raises(SolverInputError, match="threads: must be a positive integer; got inf"):
        model.solve(threads=float("inf"))
    with pytest.raises(SolverInputError, match="offset: must be an array of real numbers; "
                                               "got 'a'"):
        model.set_objective([1.0, 1, 1], offset="a")
    with pytest.raises(SolverInputError, match="lower: must be an array of real numbers"):
        model.set_row_bounds([0], ["1"], [3])
    with pytest.raises(SolverInputError, match="values: must be an array of real numbers; "
                                               r"got array\(\[2\.\+1\.j\]\)"):
        model.set_coefficients([0], [0], np.array([2 + 1j]))   # the imaginary part was dropped
    with pytest.raises(SolverInputError, match=r"upper: must have shape \(1,\); got \(1, 1\)"):
        model.set_row_bounds([0], [0], [[1.0]])


def test_pyomo_without_a_working_solver_is_unavailable_not_broken():
    from solvers.backends.pyomo import PyomoBackend
    from solvers.errors import SolverDependencyError

    backend = PyomoBackend(solver="no_such_solver")
    assert backend.available() is False
    with pytest.raises(SolverDependencyError, match="no available Pyomo solver among: "
                                                    "no_such_solver"):
        backend.build(knapsack01()[0])


def test_an_unavailable_backend_says_what_it_lacks(monkeypatch):
    """Without pyomo, get_backend said 'missing package or solver' before the build's message
    naming the extra could be reached (a packaging review)."""
    import importlib.util

    import solvers.backends.pyomo as pyomo_backend

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyomo" else real(name, *a))
    pyomo_backend._solver_available.cache_clear()
    try:
        for name in ("pyomo", "pyomo:highs"):
            with pytest.raises(UnknownBackendError, match=r"needs pyomo; install it with pip "
                                                          r"install 'rmab\[pyomo\]'"):
                get_backend(name)
    finally:
        pyomo_backend._solver_available.cache_clear()


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_changing_thread_count_between_solves(backend):
    milp, optimum = knapsack01()
    model = get_backend(backend).build(milp)
    for threads in (2, 1, 2):
        res = model.solve(threads=threads)
        assert res.status is T.OPTIMAL and res.objective == pytest.approx(optimum)
    assert solve(milp, backend=backend, threads=1).objective == pytest.approx(optimum)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 4), m=st.integers(0, 3),
       sense=st.sampled_from(["max", "min"]))
def test_random_small_integer_programs_match_enumeration(seed, n, m, sense):
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 4, (m, n)).astype(float)
    x0 = rng.integers(0, 4, n).astype(float)             # keeps the model feasible
    act = A @ x0
    lower = np.where(rng.random(m) < 0.5, -np.inf, act - rng.integers(0, 3, m))
    upper = np.where(rng.random(m) < 0.3, np.inf, act + rng.integers(0, 3, m))
    milp = MILP.from_arrays(rng.normal(size=n), A, lower, upper, 0, 3, [True] * n, sense=sense,
                            offset=float(rng.normal()))
    want = brute_force(milp)
    for backend in ("highs", "scipy"):
        res = solve(milp, backend=backend)
        assert res.status is T.OPTIMAL and res.objective == pytest.approx(want, abs=1e-6)


def mixed_optimum(milp: MILP) -> float:
    """Optimum of a small bounded mixed-integer MILP: an LP (scipy's linprog) for each point of
    its integer columns, enumerated (None if infeasible)."""
    from scipy.optimize import linprog

    integer, cont = milp.integrality, ~milp.integrality
    sign = -1.0 if milp.sense == "max" else 1.0
    best = None
    for point in itertools.product(*[range(int(lo), int(up) + 1) for lo, up in zip(
            milp.col_lower[integer], milp.col_upper[integer])]):
        fixed = milp.A[:, integer] @ np.array(point, float)
        A = milp.A[:, cont].toarray()
        up, lo = milp.row_upper - fixed, milp.row_lower - fixed
        keep_up, keep_lo = np.isfinite(up), np.isfinite(lo)
        res = linprog(sign * milp.c[cont], A_ub=np.vstack([A[keep_up], -A[keep_lo]]),
                      b_ub=np.r_[up[keep_up], -lo[keep_lo]],
                      bounds=list(zip(milp.col_lower[cont], milp.col_upper[cont])))
        if res.status == 0:
            value = float(milp.c[integer] @ point) + sign * res.fun + milp.offset
            best = value if best is None or sign * (best - value) > 0 else best
    return best


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), m=st.integers(1, 3), sense=st.sampled_from(["max", "min"]),
       off=st.sampled_from([0.0, 1e-12, 1e-9, 1e-7, 1e-3, 1.0]))
@example(seed=9100, m=1, sense="max", off=0.0)     # A = 0 (1 row in 2 401): divided by zero
def test_random_mixed_programs_with_a_start_match_enumeration(seed, m, sense, off):
    """Two integer columns in [0, 3], two continuous in [0, 5], rows at scales up to 1e4, and a
    start whose continuous entries are a feasible point's moved by ``off``: every backend,
    with or without presolve, returns the optimum of enumeration with an LP per point (to
    1e-6 of the rows, scaled, and of the objective's size)."""
    rng = np.random.default_rng(seed)
    A = rng.integers(-3, 4, (m, 4)) * 10.0 ** rng.integers(0, 5, (m, 1))
    x0 = np.r_[rng.integers(0, 4, 2), rng.uniform(0, 5, 2)]      # keeps the model feasible
    act = A @ x0
    lower = np.where(rng.random(m) < 0.5, -np.inf, act - rng.uniform(0, 3, m))
    upper = np.where(rng.random(m) < 0.3, np.inf, act + rng.uniform(0, 3, m))
    milp = MILP.from_arrays(rng.normal(size=4) * 10.0 ** rng.integers(0, 7), A, lower, upper, 0,
                            [3, 3, 5, 5], [True, True, False, False], sense=sense)
    want = mixed_optimum(milp)
    start = x0 + np.r_[0.0, 0.0, off * rng.choice([-1.0, 1.0], 2)]
    scale = max(1.0, abs(want), float(np.abs(milp.c) @ np.r_[3, 3, 5, 5]))
    sign = 1.0 if sense == "max" else -1.0
    row_max = np.maximum(np.abs(A).max(axis=1), 1.0)     # nonzero entries are >= 1 in size
    for backend in BACKEND_NAMES:
        for presolve in (True, False):
            res = get_backend(backend).build(milp).solve(warm_start=start, presolve=presolve)
            act = A @ res.x      # rows scaled to a largest entry of 1; an all-zero row as it is
            off_rows = np.maximum(lower - act, act - upper) / row_max
            assert res.status is T.OPTIMAL and np.all(off_rows <= 1e-6)
            assert np.all((res.x >= -1e-6) & (res.x <= np.r_[3, 3, 5, 5] + 1e-6))
            assert res.objective == pytest.approx(want, abs=1e-6 * scale)
            assert sign * (res.bound - want) >= -1e-6 * scale          # a bound, not past


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_row_side_turning_finite_or_infinite_is_kept(backend):
    # x in [-10, 10] integer, maximise x subject to one row whose sides are changed in place
    model = get_backend(backend).build(MILP.from_arrays([1.0], [[1.0]], [0.0], [np.inf], [-10.0],
                                                        [10.0], [True]))
    for lower, upper, best in ((0.0, 3.0, 3.0), (-np.inf, np.inf, 10.0), (-np.inf, -2.0, -2.0),
                               (5.0, np.inf, 10.0), (-np.inf, 4.0, 4.0)):
        model.set_row_bounds([0], [lower], [upper])
        res = model.solve()
        assert res.status is TerminationStatus.OPTIMAL and res.objective == pytest.approx(best)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_model_without_variables(backend):
    ok = get_backend(backend).build(MILP.from_arrays(np.zeros(0), np.zeros((1, 0)), [-1.0],
                                                     [2.0], np.zeros(0), np.zeros(0),
                                                     np.zeros(0, bool), offset=3.5))
    res = ok.solve()
    assert (res.status, res.objective, res.bound, res.gap) == (TerminationStatus.OPTIMAL, 3.5,
                                                               3.5, 0.0)
    ok.set_row_bounds([0], [1.0], [2.0])                 # 1 <= 0 <= 2: infeasible
    assert ok.solve().status is TerminationStatus.INFEASIBLE


def test_a_pyomo_solver_is_chosen_by_name_or_a_backend_object_passed():
    pytest.importorskip("pyomo")
    from solvers.backends.pyomo import PyomoBackend

    backend = get_backend("pyomo:highs")
    assert isinstance(backend, PyomoBackend) and backend.solver == "highs"
    assert get_backend(backend) is backend                   # e.g. a configured solver
    with pytest.raises(UnknownBackendError, match=r"'pyomo:nosuch' is not available here"):
        get_backend("pyomo:nosuch")
    # what to pass instead (it named the solver asked for alone; a walkthrough)
    with pytest.raises(UnknownBackendError, match=r"\(no available Pyomo solver among: "
                                                  r"gurobi_nosuch; available here: pyomo:highs"):
        get_backend("pyomo:gurobi_nosuch")
    for empty in ("pyomo:", "pyomo: "):          # 'no available Pyomo solver among: ;' (a review)
        with pytest.raises(UnknownBackendError, match=r"names no Pyomo solver: give "
                                                      r"'pyomo:SOLVER'"):
            get_backend(empty)
    import scipy.sparse as sp

    milp = MILP(c=np.array([1.0, 1.0]), A=sp.csr_matrix([[1.0, 2.0]]), row_lower=[-np.inf],
                row_upper=[3.0], col_lower=[0, 0], col_upper=[1, 1], integrality=[1, 1],
                sense="max")
    assert get_backend("pyomo:highs").build(milp).solve().objective == pytest.approx(2.0)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_a_returned_start_is_worth_its_objective_and_an_infeasible_lp_returns_none(backend):
    """The start's objective was taken before its integer columns were rounded (0.4 reported
    for a point worth 0), and a start within 1e-6 of an LP that HiGHS proves infeasible was
    returned with the status INFEASIBLE (a solvers review)."""
    rng = np.random.default_rng(0)
    A = rng.integers(0, 100, (3, 30)).astype(float)
    x0 = (rng.random(30) < 0.5).astype(float)
    c = np.r_[1e6, np.zeros(29)]
    milp = MILP.from_arrays(c, A, A @ x0 - 1e-3, A @ x0 + 1e-3, 0, 1, True, sense="min")
    start = x0.copy()
    start[0] += 4e-7
    res = get_backend(backend).build(milp).solve(time_limit=0.2, warm_start=start)
    assert res.has_solution and res.objective == pytest.approx(c @ res.x, abs=1e-9)
    lp = MILP.from_arrays([1.0, 1.0], [[1.0, 1.0]], [1 + 5e-7], [np.inf], [0, 0], [1, 0])
    res = get_backend(backend).build(lp).solve(warm_start=[1.0, 0.0])
    if res.status is T.INFEASIBLE:
        assert not res.has_solution and res.x is None


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_row_bound_updates_then_presolved_solves_stay_optimal(backend):
    """HiGHS 1.16 took the previous solve's point as a start after in-place row-bound updates
    and returned it "optimal" with the objective of another point (11 returned, 20 reported,
    18 the optimum; a review's knapsack, plain highspy does the same)."""
    from solvers import solve

    m = MILP.from_arrays([9., 9., 8., 2.], [[1, 2, 4, 8], [8, 7, 7, 1]], -np.inf, [19, 19], 0,
                         1, True)
    model = get_backend(backend).build(m)
    model.solve()
    for row, upper in [(1, 12.0), (0, 11.0), (1, 15.0)]:
        model.set_row_bounds([row], [-np.inf], [upper])
        res = model.solve()
        fresh = solve(model.milp, backend="scipy")
        assert res.status is T.OPTIMAL and res.objective == pytest.approx(fresh.objective)
        assert res.objective == pytest.approx(model.milp.c @ res.x)
    assert res.objective == pytest.approx(18.0)


def test_a_misread_solve_is_solved_again_and_keeps_a_feasible_point(monkeypatch):
    """The re-solve after a misread point; out of time again, the first point is kept when it
    is feasible (a review: the incumbent was lost)."""
    from solvers.backends.highs import HighsModel

    m = MILP.from_arrays([9., 9., 8., 2.], [[1, 2, 4, 8], [8, 7, 7, 1]], -np.inf, [19, 19],
                         0, 1, True)
    monkeypatch.setattr(HighsModel, "_misread", lambda self, x, info: True)
    res = get_backend("highs").build(m).solve()
    assert res.status is T.OPTIMAL and res.objective == pytest.approx(20.0)
    import highspy

    model = get_backend("highs").build(m)
    real_status, real_solution, calls = model._h.getModelStatus, model._solution, []

    def status():                         # the second run stops at its limit with nothing
        calls.append(1)
        return real_status() if len(calls) == 1 else highspy.HighsModelStatus.kTimeLimit
    monkeypatch.setattr(model._h, "getModelStatus", status)
    monkeypatch.setattr(model, "_solution", lambda info: real_solution(info) if len(calls) == 1
                        else None)
    res = model.solve(time_limit=5.0)
    assert len(calls) == 2 and res.status is T.TIME_LIMIT
    assert res.has_solution and m.is_feasible(res.x) and res.objective == pytest.approx(20.0)


def test_a_start_returned_for_a_better_objective_is_caught_in_a_large_objective():
    """HiGHS 1.16 returned the start, worth 1e6, with the optimum's objective 1000000.914 as
    optimal: 9e-7 relative, under the 1e-6 the misread check allowed (a knapsack's MIP with
    one gain of 1e4, session 52). The optimum by enumeration."""
    c = [999982.5, 1e6, 0.914, 4.112, -0.561, -0.541]
    A = [[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1],
         [0.9306, 0.5207, 0.3903, 0.3621, 1.0, 0.9543], [1, 0, 1, 0, 1, 0],
         [0, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 1]]
    m = MILP.from_arrays(c, A, [-np.inf] * 6 + [0], [1, 1, 1, 1.0452, 1, 1, 3], 0, 1, True)
    points = [np.array(x, float) for x in itertools.product((0, 1), repeat=6)]
    best = max(m.c @ x for x in points if m.is_feasible(x))
    res = get_backend("highs").build(m).solve(mip_gap=0.0, warm_start=[0, 1, 0, 0, 0, 0])
    assert best == pytest.approx(1000000.914, abs=1e-6)
    assert res.status is T.OPTIMAL and res.objective == pytest.approx(best, abs=1e-6)


def test_telling_infeasible_from_unbounded_takes_only_the_time_left():
    """The zero-objective probe had the whole time limit again (twice the limit in all)."""
    from solvers.backends.base import PersistentModel, RawSolve

    class Undecided(PersistentModel):
        backend = "stub"
        limits = []

        def _solve(self, time_limit, mip_gap, threads, warm_start, presolve):
            self.limits.append(time_limit)
            if self._c.any():
                import time
                time.sleep(0.05)
                return RawSolve(T.INFEASIBLE_OR_UNBOUNDED, None)
            return RawSolve(T.TIME_LIMIT, np.zeros(self.n_cols))   # a point, not proven

    model = Undecided(MILP.from_arrays([1.0], None, None, None, [0], [np.inf]))
    assert model.solve(time_limit=10.0).status is T.UNBOUNDED      # the probe's point counts
    first, probe = model.limits
    assert 9.99 < first <= 10.0 and probe < first - 0.04


def test_a_feasible_start_decides_infeasible_or_unbounded():
    """A feasible start proves the model feasible, so an undecided 'infeasible or unbounded'
    is unbounded, with no probe and no point returned (the probe could time out and leave
    the start attached to an undecided status)."""
    from solvers.backends.base import PersistentModel, RawSolve

    class Undecided(PersistentModel):
        backend = "stub"
        calls = 0

        def _solve(self, time_limit, mip_gap, threads, warm_start, presolve):
            type(self).calls += 1
            return RawSolve(T.INFEASIBLE_OR_UNBOUNDED, None)

    milp = MILP.from_arrays([1.0], [[1.0]], [1.0], [np.inf], [0], [np.inf], integrality=[True])
    res = Undecided(milp).solve(time_limit=1.0, warm_start=[2.2])
    assert res.status is T.UNBOUNDED and res.x is None and Undecided.calls == 1
    res = Undecided(milp).solve(time_limit=1.0, warm_start=[0.2])      # rounds to 0: infeasible
    assert res.status is T.INFEASIBLE_OR_UNBOUNDED and res.x is None and Undecided.calls == 3


def test_coefficients_down_to_1e_12_are_kept():
    """HiGHS dropped |a| <= 1e-9: 1e-10 x <= 5e-10 lost its row and x went to its 1e12 bound
    (a solvers review). The scipy and pyomo backends still drop them (docs/solvers.md)."""
    milp = MILP.from_arrays([1.0], [[1e-10]], None, [5e-10], 0, 1e12)
    assert solve(milp, backend="highs").x == pytest.approx([5.0])
    model = get_backend("highs").build(MILP.from_arrays([1.0], [[1.0]], None, [5e-10], 0, 1e12))
    model.set_coefficients([0], [0], [1e-10])               # set later: kept too
    assert model.solve().x == pytest.approx([5.0])


def test_the_misread_check_allows_rounding_of_the_terms_in_an_integer_model_only():
    """A pure integer model's point is worth ``c @ x`` to rounding, 1e-9 of the terms' sizes
    (``|c| @ |x| + |offset| + 1``): here terms of 2e6 that cancel to a worth of 1, so 4e-3 is
    rounding and 8e-3 is not. A mixed model keeps 1e-6 relative (its continuous columns come
    back within HiGHS's tolerances): 1e-8 relative is no misread there."""
    from types import SimpleNamespace

    from solvers.backends.highs import HighsModel

    def misread(integrality, x, reported):
        model = get_backend("highs").build(MILP.from_arrays([2e6, -2e6, 1.0], None, None, None,
                                                            0, 1, integrality))
        assert isinstance(model, HighsModel)
        return model._misread(np.array(x), SimpleNamespace(objective_function_value=reported))

    size = 2e6 + 2e6 + 1 + 1                    # |c| @ |x| + |offset| + 1
    assert not misread(True, [1, 1, 1], 1.0 + 0.99e-9 * size)
    assert misread(True, [1, 1, 1], 1.0 + 2e-9 * size)
    assert misread(True, [1, 1, 1], 1.0 - 2e-9 * size)
    assert not misread(True, [0, 0, 0], 1e-12)      # a worth of 0: 1e-9 of the 1
    mixed = [True, True, False]
    assert not misread(mixed, [0, 1, 0.5], -2e6 + 0.5 + 1e-8 * 2e6)
    assert misread(mixed, [0, 1, 0.5], -2e6 + 0.5 + 2e-6 * 2e6)
