"""Semantics pinned against independent references: enumeration, closed forms, the module
docs (tests added by a hand-made mutation review; each names the mutant it kills)."""

import itertools

import numpy as np
import pytest

from solvers import MILP, TerminationStatus as T, solve
from solvers.result import relative_gap


def _grid_points(n, lo=-3, hi=3):
    return [np.array(p, dtype=float) for p in itertools.product(range(lo, hi + 1), repeat=n)]


def test_vstack_feasible_set_is_the_intersection_by_enumeration():
    # kills col_lower max -> min in MILP.vstack (the union of the lower bounds)
    a = MILP.from_arrays([1, 0], [[1, 1]], [-np.inf], [4], [-2, 0], [3, 3])
    b = MILP.from_arrays([0, 1], [[1, -1]], [-2], [np.inf], [0, -3], [2, 1],
                         [True, False])
    both = MILP.vstack([a, b])
    for x in _grid_points(2):
        assert both.is_feasible(x) == (a.is_feasible(x) and b.is_feasible(x)), x
        assert both.objective_value(x) == a.objective_value(x) + b.objective_value(x)


def test_is_feasible_default_tolerance_is_one_in_a_million():
    # the module docs: a row or bound violated by at most FEAS_TOL = 1e-6 is met (HiGHS's 1e-7
    # with room); kills a 10x looser FEAS_TOL
    milp = MILP.from_arrays([1.0], [[1.0]], [-np.inf], [1.0], 0, np.inf)
    assert milp.is_feasible([1.0 + 5e-7])
    assert not milp.is_feasible([1.0 + 3e-6])
    assert not milp.is_feasible([-3e-6])                 # the column bound likewise


@pytest.mark.parametrize("objective, bound, want", [
    (10.0, 12.0, 2.0 / 10.0), (-4.0, -2.0, 2.0 / 4.0), (0.5, 0.7, 0.2), (12.0, 10.0, 2.0 / 12)])
def test_relative_gap_closed_form(objective, bound, want):
    # |objective - bound| / max(1, |objective|): the incumbent's scale, not the bound's
    # (kills max(1, |objective|) -> max(1, |bound|))
    assert relative_gap(objective, bound) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("objective, bound", [
    (np.nan, 5.0), (5.0, np.nan), (np.inf, 1.0), (1.0, -np.inf)])
def test_relative_gap_is_infinite_when_either_side_is_missing(objective, bound):
    # the docstring: inf when either is missing (kills `and` -> `or`, which gave NaN or inf
    # only when both were missing: a NaN gap compares False against every threshold)
    assert relative_gap(objective, bound) == np.inf


@pytest.mark.parametrize("coef", [5e-10, 1e-9])
def test_highs_keeps_a_row_of_tiny_coefficients(coef):
    # max x  s.t.  coef * x <= coef / 2,  0 <= x <= 1: the optimum is x = 1/2 in closed form.
    # HiGHS drops |a| <= 1e-9 by default (small_matrix_value) and would answer x = 1; kills a
    # threshold of 1e-10 in HighsModel._keep_small (rows between 1e-10 and 1e-9 lost)
    milp = MILP.from_arrays([1.0], [[coef]], [-np.inf], [coef / 2], 0, 1)
    res = solve(milp, backend="highs")
    assert res.status is T.OPTIMAL
    assert res.x[0] == pytest.approx(0.5, abs=1e-9)
    assert res.objective == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("backend", ["highs", "scipy"])
@pytest.mark.parametrize("sense", ["max", "min"])
def test_bound_includes_the_offset(backend, sense):
    # optimum by enumerating the integer box (not the solver); a proven-optimal solve's bound
    # is that optimum, offset included (kills scipy's bound without the MILP's offset)
    c, offset = np.array([1.0, 2.0, -1.5]), 10.0
    milp = MILP.from_arrays(c, [[1, 1, 1], [1, -1, 0]], [-2, -1], [3, 1], -1, 2, True,
                            sense=sense, offset=offset)
    values = [c @ x + offset for x in _grid_points(3, -1, 2) if milp.is_feasible(x)]
    best = max(values) if sense == "max" else min(values)
    res = solve(milp, backend=backend, mip_gap=0.0)
    assert res.status is T.OPTIMAL
    assert res.objective == pytest.approx(best, abs=1e-9)
    assert res.bound == pytest.approx(best, abs=1e-6) and res.gap <= 1e-6
