"""MILP construction, validation and the block helpers."""

import numpy as np
import pytest
import scipy.sparse as sp

from solvers import MILP, SolverInputError, solve


def small():
    return MILP.from_arrays([1, 2], [[1, 1]], [-np.inf], [3], 0, [2, 2], [True, False])


def test_from_arrays_defaults_and_readonly():
    p = MILP.from_arrays([1.0, -1.0, 0.5])
    assert p.n_rows == 0 and p.n_cols == 3 and p.sense == "max"
    assert (p.col_lower == 0).all() and np.isinf(p.col_upper).all() and not p.integrality.any()
    q = small()
    assert sp.isspmatrix_csr(q.A) and q.A.dtype == np.float64 and q.integrality.dtype == bool
    with pytest.raises(ValueError):
        q.c[0] = 5.0
    with pytest.raises(ValueError):
        q.A.data[0] = 5.0


def test_dense_and_sparse_a_agree():
    dense = MILP.from_arrays([1, 2], [[1, 0], [2, 3]], None, [1, 5])
    sparse = MILP.from_arrays([1, 2], sp.coo_matrix([[1, 0], [2, 3]]), None, [1, 5])
    assert (dense.A != sparse.A).nnz == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(row_lower=[4]), r"row_lower: must be <= row_upper; got 4.0 > 3.0 at index 0"),
    (dict(col_lower=[0, 3]), r"col_lower: must be <= col_upper; got 3.0 > 2.0 at index 1"),
    (dict(c=[1, np.inf]), r"c: must be finite; got inf at index 1"),
    (dict(c=[1, 2, 3]), r"A: must have shape \(m, 3\); got \(1, 2\)"),
    (dict(row_upper=[3, 4]), r"row_upper: must have shape \(1,\)"),
    (dict(row_lower=[np.inf]), r"row_lower: must be finite or -inf; got inf"),
    (dict(col_upper=[np.nan, 1]), r"col_upper: must be finite or \+inf; got nan"),
    (dict(integrality=[0, 2]), r"integrality: must be a bool array of shape \(2,\)"),
    (dict(sense="maximise"), r"sense: must be 'max' or 'min'; got 'maximise'"),
    (dict(offset=np.nan), r"offset: must be a finite number"),
    (dict(offset="a"), r"offset: must be a finite number; got 'a'"),
    (dict(offset="1"), r"offset: must be a finite number; got '1'"),     # was taken as 1.0
    (dict(offset=[1, 2]), r"offset: must be a finite number; got \[1, 2\]"),
    (dict(c=["a", "b"]), r"c: must be an array of real numbers"),
    (dict(c=[[1, 2], [3]]), r"MILP.c: must be an array of real numbers"),   # was a ValueError
    (dict(row_upper=[[3]]), r"row_upper: must have shape \(1,\); got \(1, 1\)"),
    (dict(A=np.ones((1, 2))), r"A: must be a scipy.sparse matrix"),
])
def test_validation_errors(kwargs, match):
    base = dict(c=[1, 2], A=sp.csr_matrix([[1.0, 1.0]]), row_lower=[-np.inf], row_upper=[3],
                col_lower=[0, 0], col_upper=[2, 2], integrality=[True, False])
    base.update(kwargs)
    with pytest.raises(SolverInputError, match=match):
        MILP(**base)


def test_points_to_evaluate_must_be_real_vectors():
    m = MILP.from_arrays([1, 2], [[1, 1]], None, [3])
    with pytest.raises(SolverInputError, match=r"MILP.x: must be an array of real numbers"):
        m.objective_value(["a", "b"])
    with pytest.raises(SolverInputError, match=r"MILP.x: must be an array of real numbers"):
        m.violation([[1], [2, 3]])
    assert m.objective_value([1, 1]) == 3 and m.violation([2, 2]) == 1


def test_non_finite_coefficient_rejected():
    with pytest.raises(SolverInputError, match="A: must be finite"):
        MILP.from_arrays([1, 2], [[1, np.nan]], None, [1])
    assert issubclass(SolverInputError, ValueError)


def test_add_rows_and_columns():
    p = small().add_rows([[1, -1]], [0], [np.inf])
    assert p.n_rows == 2 and p.row_lower[1] == 0
    q = p.add_columns([5.0], [0], [1], integrality=True, A=[[1], [0]])
    assert q.n_cols == 3 and q.integrality[2] and q.A[0, 2] == 1 and q.A[1, 2] == 0
    assert small().n_cols == 2            # originals untouched
    with pytest.raises(SolverInputError, match=r"add_rows.A: must have 2 columns"):
        small().add_rows([[1, 2, 3]], [0], [1])
    with pytest.raises(SolverInputError, match=r"A: must have shape \(1, 1\)"):
        small().add_columns([1.0], [0], [1], A=[[1], [2]])
    for bad in ([2], [0.5], [True, False], "x"):      # were read as True or broadcast
        with pytest.raises(SolverInputError, match=r"add_columns.integrality: must be a bool "
                                                   r"array of shape \(1,\)"):
            small().add_columns([1.0], [0], [1], integrality=bad)
    with pytest.raises(SolverInputError, match=r"MILP.c: must have shape \(4,\); got \(2, 2\)"):
        MILP.from_arrays([[1, 2], [3, 4]])
    with pytest.raises(SolverInputError, match=r"MILP.c: must be an array of (real )?numbers"):
        MILP.from_arrays([[1, 2], [3]])                                  # ragged


@pytest.mark.mip
def test_vstack_is_the_intersection_and_hstack_the_union():
    a = MILP.from_arrays([1, 1], [[1, 0]], None, [1], 0, 5, [True, True])
    b = MILP.from_arrays([0, 1], [[0, 1]], None, [2], 0, 4, [True, True], offset=1.0)
    v = MILP.vstack([a, b])
    assert v.n_rows == 2 and (v.c == [1, 2]).all() and v.offset == 1.0 and (v.col_upper == 4).all()
    assert solve(v).objective == pytest.approx(1 + 2 * 2 + 1)
    h = MILP.hstack([a, MILP.from_arrays([3], [[1]], None, [7], 0, 1, [True])])
    assert h.n_cols == 3 and h.row_upper[0] == 1 and h.A[0, 2] == 1
    with pytest.raises(SolverInputError, match="vstack: must have equal column counts"):
        MILP.vstack([a, h])
    with pytest.raises(SolverInputError, match="must have one sense"):
        MILP.vstack([a, MILP.from_arrays([1, 1], sense="min")])
    with pytest.raises(SolverInputError, match="non-empty sequence of MILP"):
        MILP.hstack([])
    for stack in (MILP.vstack, MILP.hstack):        # a raw TypeError (a solvers review)
        with pytest.raises(SolverInputError, match="non-empty sequence of MILP; got NoneType"):
            stack(None)


def test_violation_and_feasibility():
    p = small()
    assert p.violation([1, 2]) == 0 and p.is_feasible([1, 2])
    assert p.violation([1, 2.5]) == pytest.approx(0.5)       # row 3.5 > 3 and col 2.5 > 2
    assert p.violation([0.5, 0]) == pytest.approx(0.5)       # integrality
    assert p.objective_value([1, 2]) == 5
    with pytest.raises(SolverInputError, match=r"x: must have shape \(2,\)"):
        p.violation([1, 2, 3])


def test_violation_of_a_non_finite_point_is_infinite():
    """violation([nan, 1]) and violation([inf, 1]) were NaN, under every tolerance and over
    none (``violation(x) > tol`` was False), while is_feasible said False (a fuzz review)."""
    p = MILP.from_arrays([1, 2], [[1, 1]], [-np.inf], [3], -np.inf, np.inf, [True, False])
    for x in ([np.nan, 1], [np.inf, 1], [1, -np.inf], [0, np.inf]):    # free columns too
        assert p.violation(x) == np.inf and not p.is_feasible(x)
    assert p.violation([1, 2]) == 0


def test_object_arrays_of_real_numbers_are_taken_and_solve_passes_presolve():
    """real_array refused Fractions in object arrays, which had worked (a review of the fix)."""
    from fractions import Fraction

    milp = MILP.from_arrays(np.array([Fraction(1, 2), 2.0], dtype=object), [[1, 1]], None, [1],
                            0, 1, [True, True])
    assert milp.c.tolist() == [0.5, 2.0]
    assert solve(milp, presolve=False).objective == 2.0
    with pytest.raises(SolverInputError, match=r"MILP\.A: must be an array of real numbers"):
        MILP.from_arrays([1.0, 2.0], np.array([[1, 1 + 2j]]))
    with pytest.raises(SolverInputError, match=r"MILP\.c: must be an array of real numbers"):
        MILP.from_arrays([10**400, 1.0])                    # an OverflowError escaped
