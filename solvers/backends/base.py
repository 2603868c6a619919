"""What every backend provides: :class:`Backend` and its :class:`PersistentModel`.

A backend turns a :class:`~solvers.milp.MILP` into a persistent model that is updated in place
between solves (objective, row bounds, coefficients, column bounds). The base class keeps a
private copy of the current arrays (for warm-start checks and for backends that rebuild), maps
the backend's raw answer onto a :class:`~solvers.result.MIPResult`, and applies the rules every
backend shares:

- integer columns of the returned ``x`` are rounded; ``objective`` is recomputed as
  ``c @ x + offset``;
- a backend that cannot tell infeasible from unbounded gets a zero-objective feasibility solve
  to decide; an "infeasible" (or, with every column bounded, "infeasible or unbounded")
  against an exact start is solved again without presolve if presolve was on, and is
  ``ERROR`` (with the start) if it stands; a presolved optimum an exact start passes (past
  the tolerance below) is solved again without presolve and without the start, and the new
  answer is taken if optimal; a feasible point with a column in no row whose cost improves
  without end (:meth:`_free_ray`) makes the model ``UNBOUNDED``;
- a ``warm_start`` has its integer entries rounded; in a mixed model its continuous columns
  are completed by an LP with its integers fixed (:meth:`_completed`: big-M rows can make a
  violation too small to see worth any amount), and without an exact completion it is not
  given to the backend unless it is exact and worth no more than the LP's point;
- a rounded (and completed) ``warm_start`` that meets every row and bound to
  ``EXACT_TOL`` with a violation worth at most 1e-6 relative at the costs (:meth:`_exact`)
  is passed to the backend and returned (status unchanged; the bound raised to its value if
  a tolerance below) whenever the backend found nothing better and its value is within 1e-6
  relative of the backend's proven bound, so a time-limited solve with such a start has a
  solution unless the backend proves its value out of reach; one feasible only to
  ``FEAS_TOL`` is returned only if its value passes the bound by 1e-9 relative at most.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solvers.errors import SolverInputError
from solvers.milp import FEAS_TOL, MILP, real_array, violation
from solvers.result import MIPResult, TerminationStatus, relative_gap

__all__ = ["Backend", "PersistentModel", "RawSolve", "EXACT_TOL"]

# A start violating a row or bound by more than this is not given to the backend: HiGHS took
# a start 5e-7 over a row (within its own tolerance) with a cost of 1e7 as its incumbent and
# pruned with it, reporting a point worth 5 above its bound 0 (and an untimed solve did not
# end); the start is still weighed as a fallback against the bound (a review). Nor is one
# whose violation is worth more than 1e-6 relative at the costs (:meth:`_exact`)
EXACT_TOL = 1e-9



@dataclass(frozen=True, eq=False)
class RawSolve:
    """A backend's answer before the shared post-processing (objective in the model's sense)."""

    status: TerminationStatus
    x: np.ndarray | None
    bound: float = float("nan")


class Backend(abc.ABC):
    """A MIP backend: ``name``, a cheap ``available()`` and ``build(milp)``."""

    name: str = ""

    @abc.abstractmethod
    def available(self) -> bool:
        """True when the backend can solve (its packages import); cheap, no solve."""

    def missing(self) -> str:
        """What an unavailable backend lacks, with how to get it (for error messages)."""
        return "missing package or solver"

    @abc.abstractmethod
    def build(self, milp: MILP) -> "PersistentModel":
        """Hand ``milp`` to the solver and return the persistent model."""

    def solve(self, milp: MILP, **options) -> MIPResult:
        return self.build(milp).solve(**options)


def _indices(owner: str, field: str, idx, size: int) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise SolverInputError(f"{owner}.{field}: must be a 1-D array of integers; got {idx!r}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        raise SolverInputError(f"{owner}.{field}: must be indices in [0, {size}); got "
                               f"{int(arr.min())}..{int(arr.max())}")
    return arr


HIGHS_LARGE_COEFFICIENT = 1e15   # HiGHS's large_matrix_value: larger |A| entries are refused
HIGHS_INFINITY = 1e20            # HiGHS's infinite_bound and infinite_cost


def check_highs_limits(owner: str, c, A, bounds) -> None:
    """Refuse what HiGHS (also inside scipy) would refuse or misread: constraint coefficients
    of magnitude >= 1e15, and finite bounds or costs of magnitude >= 1e20 (read as infinite)."""
    _check_magnitude(owner, "A", A.data, coefficient=True)
    _check_magnitude(owner, "c", c)
    _check_magnitude(owner, "bounds", bounds)


def _check_magnitude(owner: str, field: str, values, coefficient: bool = False) -> None:
    v = np.abs(np.asarray(values)[np.isfinite(values)])
    if not v.size:
        return
    if coefficient and v.max() >= HIGHS_LARGE_COEFFICIENT:
        raise SolverInputError(f"{owner}.{field}: HiGHS takes coefficients below "
                               f"{HIGHS_LARGE_COEFFICIENT:g} in magnitude; got {v.max():g} "
                               f"(rescale the rows)")
    if v.max() >= HIGHS_INFINITY:
        raise SolverInputError(f"{owner}.{field}: HiGHS reads magnitudes from "
                               f"{HIGHS_INFINITY:g} on as infinite; got {v.max():g} (use "
                               f"inf, or rescale)")


def _number(value) -> float:
    """``float(value)``, NaN for anything that is not a number (so every comparison fails):
    a string or a bool too (``float("5")`` had made ``time_limit="5"`` a limit of 5 s)."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _last_given(idx: np.ndarray, *values: np.ndarray) -> tuple:
    """``idx`` without repeats, each keeping the last value given (as NumPy assignment does;
    HiGHS refuses a repeated index)."""
    if np.unique(idx).size == idx.size:
        return (idx, *values)
    _, first_from_end = np.unique(idx[::-1], return_index=True)
    keep = idx.size - 1 - first_from_end
    return (idx[keep], *(v[keep] for v in values))


def _values(owner: str, field: str, value, k: int, allow: str = "") -> np.ndarray:
    arr = real_array(f"{owner}.{field}", value)        # strings and complex numbers refused
    if arr.ndim == 0:
        arr = np.full(k, float(arr))
    if arr.shape != (k,):
        raise SolverInputError(f"{owner}.{field}: must have shape ({k},); got {np.shape(value)}")
    bad = np.isnan(arr) | ((arr == -np.inf) if allow != "-" else False) | \
        ((arr == np.inf) if allow != "+" else False)
    if np.any(bad):
        raise SolverInputError(f"{owner}.{field}: must be finite"
                               f"{' or ' + allow + 'inf' if allow else ''}; got "
                               f"{arr[np.flatnonzero(bad)[0]]}")
    return arr


class PersistentModel(abc.ABC):
    """A MILP loaded into a backend, updated in place between solves.

    Subclasses implement ``_solve`` and the ``_set_*`` hooks (no-ops for rebuild backends);
    the public methods validate once, update the private copy, then call the hook.
    """

    backend: str = ""
    highs_limits: bool = False     # HiGHS inside: huge values are refused before any update

    def __init__(self, milp: MILP):
        if not isinstance(milp, MILP):
            raise SolverInputError(f"{type(self).__name__}.milp: must be a MILP; got "
                                   f"{type(milp).__name__}")
        self._sense = milp.sense
        self._c = milp.c.copy()
        self._offset = milp.offset
        self._A = milp.A.copy()
        self._row_lower = milp.row_lower.copy()
        self._row_upper = milp.row_upper.copy()
        self._col_lower = milp.col_lower.copy()
        self._col_upper = milp.col_upper.copy()
        self._integrality = milp.integrality.copy()
        self._keys = None   # sorted row * n + col of stored entries, built on first use

    # ---------------------------------------------------------------- current model
    @property
    def milp(self) -> MILP:
        """The model as it stands after every update (a new immutable MILP)."""
        return MILP(self._c, self._A, self._row_lower, self._row_upper, self._col_lower,
                    self._col_upper, self._integrality, self._sense, self._offset)

    @property
    def n_cols(self) -> int:
        return self._c.size

    @property
    def n_rows(self) -> int:
        return self._A.shape[0]

    def _limits(self, owner: str, field: str, values, coefficient: bool = False) -> None:
        if self.highs_limits:
            _check_magnitude(owner, field, values, coefficient)

    # ---------------------------------------------------------------- updates
    def set_objective(self, c, offset: float | None = None) -> None:
        """Replace the objective coefficients (n,) and optionally the constant ``offset``."""
        owner = f"{type(self).__name__}.set_objective"
        c = _values(owner, "c", c, self.n_cols)
        self._limits(owner, "c", c)
        if offset is not None:
            offset = float(_values(owner, "offset", offset, 1)[0])
            self._offset = offset
        self._c = c
        self._set_objective(c, offset)

    def set_row_bounds(self, rows, lower, upper) -> None:
        """``row_lower[rows] = lower``, ``row_upper[rows] = upper``."""
        owner = f"{type(self).__name__}.set_row_bounds"
        rows = _indices(owner, "rows", rows, self.n_rows)
        lower = _values(owner, "lower", lower, rows.size, "-")
        upper = _values(owner, "upper", upper, rows.size, "+")
        _check_le(owner, lower, upper)
        self._limits(owner, "bounds", np.concatenate([lower, upper]))
        rows, lower, upper = _last_given(rows, lower, upper)
        self._row_lower[rows] = lower
        self._row_upper[rows] = upper
        self._set_row_bounds(rows, lower, upper)

    def set_col_bounds(self, cols, lower, upper) -> None:
        """``col_lower[cols] = lower``, ``col_upper[cols] = upper``."""
        owner = f"{type(self).__name__}.set_col_bounds"
        cols = _indices(owner, "cols", cols, self.n_cols)
        lower = _values(owner, "lower", lower, cols.size, "-")
        upper = _values(owner, "upper", upper, cols.size, "+")
        _check_le(owner, lower, upper)
        self._limits(owner, "bounds", np.concatenate([lower, upper]))
        cols, lower, upper = _last_given(cols, lower, upper)
        self._col_lower[cols] = lower
        self._col_upper[cols] = upper
        self._set_col_bounds(cols, lower, upper)

    def set_coefficients(self, rows, cols, values) -> None:
        """``A[rows[k], cols[k]] = values[k]`` (new nonzeros allowed; 0 keeps an explicit zero)."""
        owner = f"{type(self).__name__}.set_coefficients"
        rows = _indices(owner, "rows", rows, self.n_rows)
        cols = _indices(owner, "cols", cols, self.n_cols)
        if cols.size != rows.size:
            raise SolverInputError(f"{owner}.cols: must have the length of rows ({rows.size}); "
                                   f"got {cols.size}")
        values = _values(owner, "values", values, rows.size)
        self._limits(owner, "values", values, coefficient=True)
        self._update_copy(rows, cols, values)
        self._set_coefficients(rows, cols, values)

    def _update_copy(self, rows, cols, values) -> None:
        n = self.n_cols
        if self._keys is None:
            row_of = np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self._A.indptr))
            self._keys = row_of * n + self._A.indices
        keys = rows * n + cols
        pos = np.searchsorted(self._keys, keys)
        pos_ok = np.minimum(pos, max(self._keys.size - 1, 0))
        found = (pos < self._keys.size) & (self._keys[pos_ok] == keys) if self._keys.size else \
            np.zeros(keys.size, bool)
        self._A.data[pos[found]] = values[found]
        if not found.all():
            coo = self._A.tocoo()
            new_rows = np.concatenate([coo.row, rows[~found]])
            new_cols = np.concatenate([coo.col, cols[~found]])
            new_vals = np.concatenate([coo.data, values[~found]])
            # keep the last value given for a repeated (row, col)
            order = np.lexsort((np.arange(new_rows.size), new_cols, new_rows))
            k = new_rows[order] * n + new_cols[order]
            last = np.r_[k[1:] != k[:-1], True]
            sel = order[last]
            self._A = sp.csr_matrix((new_vals[sel], (new_rows[sel], new_cols[sel])),
                                    shape=self._A.shape)
            self._A.sort_indices()
            self._keys = None

    # ---------------------------------------------------------------- solve
    def solve(self, *, time_limit: float | None = None, mip_gap: float = 1e-6,
              threads: int = 1, warm_start=None, presolve: bool = True,
              complete_start: bool = True) -> MIPResult:
        """Solve the current model. ``time_limit`` in seconds (None = none), ``mip_gap`` the
        relative gap at which to stop, ``threads`` the solver threads, ``warm_start`` an (n,)
        start, returned if the solver finds nothing better (see the module's rules);
        ``complete_start`` False keeps a mixed model's start as given, for one whose continuous
        columns are computed from its integer ones (a network's forward pass), instead of
        completing them by an LP. ``presolve`` False turns HiGHS's presolve off (``highs``,
        ``scipy``, Pyomo's ``highs``; other Pyomo solvers keep their own setting): HiGHS
        1.15-1.16 presolve returned "optimal" below the optimum on big-M encoded networks
        (docs/solvers.md)."""
        owner = f"{type(self).__name__}.solve"
        for name, flag in (("presolve", presolve), ("complete_start", complete_start)):
            if not isinstance(flag, (bool, np.bool_)):
                raise SolverInputError(f"{owner}.{name}: must be a bool; got {flag!r}")
        if time_limit is not None and not (_number(time_limit) > 0):
            raise SolverInputError(f"{owner}.time_limit: must be > 0 or None; got {time_limit!r}")
        if not (0.0 <= _number(mip_gap) < 1.0):
            raise SolverInputError(f"{owner}.mip_gap: must be in [0, 1); got {mip_gap!r}")
        if isinstance(threads, bool) or not (1 <= _number(threads) < 2**31
                                             and int(threads) == threads):
            raise SolverInputError(f"{owner}.threads: must be a positive integer; got {threads!r}")
        start = None
        if warm_start is not None:                  # rounded, as it would be returned
            start = self._rounded(_values(owner, "warm_start", warm_start, self.n_cols))
        t0 = time.perf_counter()
        if self.n_cols == 0:   # no variables: decided here (solvers disagree or fail on it)
            feasible = bool(np.all(self._row_lower <= FEAS_TOL)
                            and np.all(self._row_upper >= -FEAS_TOL))
            raw = (RawSolve(TerminationStatus.OPTIMAL, np.zeros(0), self._offset) if feasible
                   else RawSolve(TerminationStatus.INFEASIBLE, None))
            return self._finish(raw, None, False, time.perf_counter() - t0)

        def left(floor: float = 1e-3):          # what is left of time_limit (None: no limit)
            return None if time_limit is None else max(
                float(time_limit) - (time.perf_counter() - t0), floor)

        exact = False
        if start is not None:
            start, exact = self._completed(start, left(), bool(complete_start))
        raw = self._solve(left(), float(mip_gap), int(threads), start if exact else None,
                          bool(presolve))
        bounded = bool(np.isfinite(self._col_lower).all() and np.isfinite(self._col_upper).all())
        refuted = (TerminationStatus.INFEASIBLE,) + (
            (TerminationStatus.INFEASIBLE_OR_UNBOUNDED,) if bounded else ())
        if raw.status in refuted and exact:
            # an exact start says otherwise: HiGHS 1.16's presolve called feasible integer
            # models infeasible (a random search). Again without presolve; ERROR (with the
            # start) if the verdict stands
            if presolve:
                raw = self._solve(left(), float(mip_gap), int(threads), start, False)
            if raw.status in refuted:
                raw = RawSolve(TerminationStatus.ERROR, None)
        elif exact and presolve and raw.status is TerminationStatus.OPTIMAL and not (
                self._admits(float(self._c @ start + self._offset), self._proven(raw), True)):
            # an exact start past the proven optimum: HiGHS 1.16's presolve took the wrong end
            # of a ranged row, 0.29 % off on a 2-column model (a random search). Again without
            # presolve and without the start (chained big-M rows can make an exact one worth
            # more than the optimum); its answer is taken if optimal
            again = self._solve(left(), float(mip_gap), int(threads), None, False)
            if again.status is TerminationStatus.OPTIMAL:
                raw = again
        if raw.status not in (TerminationStatus.UNBOUNDED, TerminationStatus.INFEASIBLE) and (
                self._free_ray()) and (
                (raw.x is not None and self._feasible(self._rounded(raw.x)))
                or (start is not None and self._feasible(start))):
            # a feasible point and a column in no row whose cost improves without end: HiGHS
            # 1.16 without presolve called such a model optimal (y >= 0 in no row, max y; a
            # random search), and Pyomo's persistent HiGHS an error after a new cost
            raw = RawSolve(TerminationStatus.UNBOUNDED, None)
        if raw.status is TerminationStatus.INFEASIBLE_OR_UNBOUNDED:
            if start is not None and self._feasible(start):
                raw = RawSolve(TerminationStatus.UNBOUNDED, None)   # feasible: not infeasible
            else:           # with no time left (0.0), no probe
                raw = RawSolve(self._disambiguate(left(0.0), threads, bool(presolve)), None)
        return self._finish(raw, start, exact, time.perf_counter() - t0)

    def _rounded(self, x) -> np.ndarray:
        """A float copy of ``x`` (n,) with its integer entries rounded, as it is returned."""
        x = np.asarray(x, dtype=np.float64).copy()
        x[self._integrality] = np.round(x[self._integrality])
        return x

    def _completed(self, x, time_limit, complete: bool) -> tuple[np.ndarray, bool]:
        """The rounded start ``x`` (n,) as it is judged, and whether it is exact (:meth:`_exact`).
        In a mixed model its continuous columns are the best an LP finds with its integer
        columns fixed (scipy's HiGHS, within half of ``time_limit``): violations chained
        through big-M rows make a start off by less than rounding can show worth any amount
        past the optimum (1e-9 over ``v <= 0``, ``w <= 1e4 v``, ``y <= 1e4 w``: 1e5 past the
        optimum 0, which HiGHS without presolve took as its own; also with ``v``'s row hiding
        5e-12 under terms of 1e3; reviews). Without an exact completion ``x`` stays exact
        only if it is worth no more than the LP's point. ``complete`` False takes ``x`` as
        it is."""
        integer = self._integrality
        if not complete or integer.all() or not integer.any():
            return x, self._exact(x)
        if np.any(x[integer] < self._col_lower[integer]) or np.any(
                x[integer] > self._col_upper[integer]):
            return x, False                         # no completion can be exact
        from scipy.optimize import Bounds, LinearConstraint, milp

        cont = ~integer
        fixed = self._A[:, integer] @ x[integer]
        options = {"disp": False}
        if time_limit is not None:
            options["time_limit"] = time_limit / 2
        rows = [LinearConstraint(self._A[:, cont], self._row_lower - fixed,
                                 self._row_upper - fixed)] if self.n_rows else []
        res = milp((-1.0 if self._sense == "max" else 1.0) * self._c[cont], constraints=rows,
                   bounds=Bounds(self._col_lower[cont], self._col_upper[cont]), options=options)
        if res.status != 0 or res.x is None:
            return x, False
        done = x.copy()
        done[cont] = res.x
        if self._exact(done):
            return done, True
        # an LP point off by more than EXACT_TOL (scipy's HiGHS meets 1e-7): x keeps its own
        # exactness if it is worth no more than that point, so that it is not inflated
        worth, best = float(self._c @ x), float(self._c @ done)
        return x, (-1.0 if self._sense == "max" else 1.0) * (best - worth) <= 1e-6 * max(
            1.0, abs(best)) and self._exact(x)

    def _free_ray(self) -> bool:
        """Whether a column in no row has a cost improving without end along an infinite
        bound: the model is unbounded if it is feasible."""
        sign = 1.0 if self._sense == "max" else -1.0
        rising = sign * self._c
        free = ((rising > 0) & np.isinf(self._col_upper)) | (
            (rising < 0) & np.isinf(self._col_lower))
        if not free.any():
            return False
        used = np.zeros(self.n_cols, dtype=bool)
        used[self._A.indices[self._A.data != 0]] = True     # CSR: the column of each entry
        return bool((free & ~used).any())

    def _violation(self, x) -> float:
        """Largest row or bound violation of the rounded ``x`` (n,)."""
        return violation(self._A, self._row_lower, self._row_upper, self._col_lower,
                         self._col_upper, self._integrality, x)

    def _exact(self, x) -> bool:
        """Whether the rounded start ``x`` (n,) is given to the backend and kept within 1e-6
        relative of its bound: it meets every bound and row to ``EXACT_TOL``, a row of
        coefficients below 1 scaled up to a largest of 1 (1e-9 over ``1e-6 y <= 0`` is
        ``y = 1e-3``), and that violation is worth at most 1e-6 relative at the costs
        (``violation * sum|c|`` against the value): HiGHS took one 1e-9 over a row with a
        cost of 1e12 as its incumbent, 1000 past its own bound 0, and then did not end."""
        act = self._A @ x
        scale = np.minimum(abs(self._A).max(axis=1).toarray().ravel(), 1.0)
        scale[scale == 0] = 1.0
        off = float(np.max(np.concatenate([
            np.zeros(1), (self._row_lower - act) / scale, (act - self._row_upper) / scale,
            self._col_lower - x, x - self._col_upper])))
        value = float(self._c @ x + self._offset)
        return off <= EXACT_TOL and off * float(np.abs(self._c).sum()) <= 1e-6 * max(
            1.0, abs(value))

    def _feasible(self, x) -> bool:
        """Whether the rounded ``x`` (n,) meets every row and bound."""
        return self._violation(x) <= FEAS_TOL

    def _disambiguate(self, time_limit, threads, presolve) -> TerminationStatus:
        """Zero-objective solve within what is left of ``time_limit``: a point found means
        the original was unbounded."""
        if time_limit is not None and time_limit <= 0:
            return TerminationStatus.INFEASIBLE_OR_UNBOUNDED
        c, offset = self._c, self._offset
        self._c = np.zeros_like(c)
        self._set_objective(self._c, None)
        try:
            probe = self._solve(time_limit, 1e-6, threads, None, presolve)
        finally:
            self._c = c
            self._set_objective(c, offset)
        if probe.x is not None and (probe.status is TerminationStatus.OPTIMAL or violation(
                self._A, self._row_lower, self._row_upper, self._col_lower, self._col_upper,
                self._integrality, probe.x) <= FEAS_TOL):    # a time limit's point counts too
            return TerminationStatus.UNBOUNDED
        if probe.status is TerminationStatus.INFEASIBLE:
            return TerminationStatus.INFEASIBLE
        return TerminationStatus.INFEASIBLE_OR_UNBOUNDED

    def _proven(self, raw: RawSolve) -> float:
        """The backend's bound; an optimum without one (scipy's LPs) is bounded by its value."""
        if raw.status is TerminationStatus.OPTIMAL and not np.isfinite(raw.bound) and (
                raw.x is not None):
            return float(self._c @ self._rounded(raw.x) + self._offset)
        return float(raw.bound)

    def _admits(self, value: float, bound: float, exact: bool) -> bool:
        """Whether a start worth ``value`` may stand against the backend's proven ``bound``.
        An exact one may pass it by 1e-6 relative to its value or to ``c @ x`` (an offset of
        -1e6 and a bound 0.01 below had lost one); not further: violations chained through
        big-M rows made one 1e-9 off worth 1e5 past HiGHS's proven optimum 0. Another may
        pass it by 1e-9 relative at most: one 1e-6 over a row (within ``FEAS_TOL``) with a
        cost of 1e6 was worth more than the optimum."""
        sign = 1.0 if self._sense == "max" else -1.0
        over = sign * (value - bound) if np.isfinite(bound) else -np.inf
        return over <= (1e-6 * max(1.0, abs(value), abs(value - self._offset)) if exact
                        else 1e-9 * max(1.0, abs(bound)))

    def _finish(self, raw: RawSolve, start, exact: bool, seconds: float) -> MIPResult:
        sign = 1.0 if self._sense == "max" else -1.0
        x = None
        if raw.x is not None and raw.status not in (TerminationStatus.INFEASIBLE,
                                                    TerminationStatus.UNBOUNDED):
            x = self._rounded(raw.x)
        objective = float(self._c @ x + self._offset) if x is not None else float("nan")
        bound = self._proven(raw)
        if start is not None and raw.status not in (TerminationStatus.UNBOUNDED,
                                                    TerminationStatus.INFEASIBLE):
            if self._violation(start) <= FEAS_TOL:
                start_obj = float(self._c @ start + self._offset)
                better = x is None or sign * (start_obj - objective) > 1e-9 * max(
                    1.0, abs(objective))
                if better and self._admits(start_obj, bound, exact):  # bound raised to it
                    x, objective = start, start_obj
                    if sign * (objective - bound) > 0 or (
                            raw.status is TerminationStatus.OPTIMAL and np.isnan(bound)):
                        bound = objective
        return MIPResult(status=raw.status, x=x, objective=objective, bound=bound,
                         gap=relative_gap(objective, bound), seconds=seconds,
                         backend=self.backend)

    # ---------------------------------------------------------------- backend hooks
    @abc.abstractmethod
    def _solve(self, time_limit, mip_gap, threads, warm_start, presolve) -> RawSolve:
        """Solve the current model (``time_limit`` None = none)."""

    def _set_objective(self, c, offset) -> None:
        """Push new costs (and offset unless None) to the solver; default: nothing to push."""

    def _set_row_bounds(self, rows, lower, upper) -> None:
        """Push row bounds to the solver; default: nothing to push."""

    def _set_col_bounds(self, cols, lower, upper) -> None:
        """Push column bounds to the solver; default: nothing to push."""

    def _set_coefficients(self, rows, cols, values) -> None:
        """Push coefficients to the solver; default: nothing to push."""


def _check_le(owner: str, lower: np.ndarray, upper: np.ndarray) -> None:
    bad = lower > upper
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SolverInputError(f"{owner}.lower: must be <= upper; got {lower[i]} > {upper[i]} "
                               f"at position {i}")
