"""A neutral mixed-integer linear program built from numpy/scipy arrays.

    optimise  c @ x + offset            (sense "max" or "min")
    s.t.      row_lower <= A @ x <= row_upper
              col_lower <=   x   <= col_upper,   x[j] integer where integrality[j]

Infinite row/column bounds are allowed on the open side (``row_lower = -inf`` for ``<=`` rows,
``col_upper = +inf`` for unbounded variables); equality rows have ``row_lower == row_upper``.
Every array is copied, converted (float64 / bool / CSR) and made read-only, so a ``MILP`` is a
value: the helpers (:meth:`add_rows`, :meth:`add_columns`, :meth:`vstack`, :meth:`hstack`)
return new models.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solvers.errors import SolverInputError

__all__ = ["MILP"]

# a row or bound violated by at most this much is met: HiGHS's primal feasibility tolerance
# (1e-7) with room for its scaling; the bounds of solvers.nn widen by it too
FEAS_TOL = 1e-6

_SENSES = ("max", "min")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def real_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 C-contiguous copy; bool, integer or float input only (strings,
    objects and ragged lists are refused, and complex numbers rather than losing their
    imaginary part). ``name`` ("Owner.field") heads the error."""
    try:
        raw = np.asarray(value)
        if raw.dtype.kind not in "biuf" and not (   # object arrays of Fractions etc. are fine
                raw.dtype.kind == "O" and all(isinstance(x, (numbers.Real, np.bool_))
                                              for x in raw.flat)):
            raise TypeError(f"dtype {raw.dtype}")
        return np.array(raw, dtype=np.float64, copy=True, order="C")
    except (TypeError, ValueError, OverflowError) as exc:     # Overflow: an int past float64
        raise SolverInputError(f"{name}: must be an array of real numbers; got "
                               f"{_short(value)} ({exc})") from None


def _vector(field: str, value, n: int, *, allow: str = "") -> np.ndarray:
    """float64 copy of shape (n,); ``allow`` is "" (finite), "-" (-inf ok) or "+" (+inf ok)."""
    arr = real_array(f"MILP.{field}", value)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise SolverInputError(f"MILP.{field}: must have shape ({n},); got {np.shape(value)}")
    bad = np.isnan(arr)
    if allow != "-":
        bad |= arr == -np.inf
    if allow != "+":
        bad |= arr == np.inf
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = {"": "finite", "-": "finite or -inf", "+": "finite or +inf"}[allow]
        raise SolverInputError(f"MILP.{field}: must be {what}; got {arr[i]} at index {i}")
    arr.flags.writeable = False
    return arr


def _size(field: str, value) -> int:
    try:
        return int(np.size(value))
    except (TypeError, ValueError) as exc:          # ragged lists
        raise SolverInputError(f"MILP.{field}: must be an array of numbers; got "
                               f"{_short(value)}") from exc


def _flags(field: str, value, n: int, owner: str = "MILP") -> np.ndarray:
    """Read-only bool copy of shape (n,) from bools or 0/1 (a scalar applies to all)."""
    try:
        integ = np.array(value, copy=True)
    except ValueError:                               # ragged lists
        integ = np.zeros(0, dtype=object)
    if integ.ndim == 0:
        integ = np.full(n, integ)
    if integ.shape != (n,) or not (integ.dtype == bool or (
            np.issubdtype(integ.dtype, np.number) and np.isin(integ, (0, 1)).all())):
        raise SolverInputError(f"{owner}.{field}: must be a bool array of shape ({n},); "
                               f"got {_short(value)}")
    integ = integ.astype(bool)
    integ.flags.writeable = False
    return integ


def _check_order(owner: str, low_name: str, high_name: str, low: np.ndarray,
                 high: np.ndarray) -> None:
    """Refuse ``low[i] > high[i]``, naming ``owner.low_name``."""
    bad = low > high
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SolverInputError(f"{owner}.{low_name}: must be <= {high_name}; got {low[i]} > "
                               f"{high[i]} at index {i}")


def _as_csr(A, shape: tuple | None = None) -> sp.csr_matrix:
    if sp.issparse(A) and A.dtype.kind not in "biuf":
        raise SolverInputError(f"MILP.A: must hold real numbers; got dtype {A.dtype}")
    try:
        mat = sp.csr_matrix(A, dtype=np.float64, copy=True) if sp.issparse(A) else \
            sp.csr_matrix(np.atleast_2d(real_array("MILP.A", A)))
    except SolverInputError:
        raise
    except (TypeError, ValueError) as exc:
        raise SolverInputError(f"MILP.A: must be a 2-D array or sparse matrix; got {_short(A)}") \
            from exc
    if shape is not None and mat.shape != shape:
        raise SolverInputError(f"MILP.A: must have shape {shape}; got {mat.shape}")
    return mat


@dataclass(frozen=True, eq=False)
class MILP:
    """Mixed-integer linear program; see the module docstring for the form.

    Shapes: ``c, col_lower, col_upper, integrality`` (n,); ``A`` (m, n) CSR;
    ``row_lower, row_upper`` (m,). Build it with :meth:`from_arrays` to get defaults and a dense
    ``A`` accepted.
    """

    c: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    sense: str = "max"
    offset: float = 0.0

    def __post_init__(self):
        set_ = object.__setattr__
        if self.sense not in _SENSES:
            raise SolverInputError(f"MILP.sense: must be 'max' or 'min'; got {self.sense!r}")
        c = real_array("MILP.c", self.c)              # ragged lists refused before np.size
        c = _vector("c", c, c.size)
        n = c.size
        if not sp.issparse(self.A):
            raise SolverInputError(f"MILP.A: must be a scipy.sparse matrix (use MILP.from_arrays "
                                   f"for dense input); got {type(self.A).__name__}")
        if self.A.ndim != 2 or self.A.shape[1] != n:
            raise SolverInputError(f"MILP.A: must have shape (m, {n}); got {self.A.shape}")
        A = _as_csr(self.A)
        A.sum_duplicates()
        A.sort_indices()
        if not np.isfinite(A.data).all():
            raise SolverInputError("MILP.A: must be finite; got a non-finite coefficient")
        m = A.shape[0]
        for arr in (A.data, A.indices, A.indptr):
            arr.flags.writeable = False
        row_lower = _vector("row_lower", self.row_lower, m, allow="-")
        row_upper = _vector("row_upper", self.row_upper, m, allow="+")
        col_lower = _vector("col_lower", self.col_lower, n, allow="-")
        col_upper = _vector("col_upper", self.col_upper, n, allow="+")
        _check_order("MILP", "row_lower", "row_upper", row_lower, row_upper)
        _check_order("MILP", "col_lower", "col_upper", col_lower, col_upper)
        integ = _flags("integrality", self.integrality, n)
        try:        # text refused as everywhere in the layer (float("1") took offset="1")
            offset = np.nan if isinstance(self.offset, (str, bytes)) else float(self.offset)
        except (TypeError, ValueError):
            offset = np.nan
        if not np.isfinite(offset):
            raise SolverInputError(f"MILP.offset: must be a finite number; got "
                                   f"{_short(self.offset)}")
        for name, value in (("c", c), ("A", A), ("row_lower", row_lower),
                            ("row_upper", row_upper), ("col_lower", col_lower),
                            ("col_upper", col_upper), ("integrality", integ), ("offset", offset)):
            set_(self, name, value)

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_arrays(cls, c, A=None, row_lower=None, row_upper=None, col_lower=None,
                    col_upper=None, integrality=None, *, sense: str = "max",
                    offset: float = 0.0) -> "MILP":
        """Build from dense or sparse ``A`` with defaults: no rows, rows ``-inf <= . <= +inf``,
        columns in ``[0, +inf)``, all continuous."""
        c = _vector("c", c, _size("c", c))
        n = c.size
        A = sp.csr_matrix((0, n)) if A is None else _as_csr(A)
        m = A.shape[0]
        return cls(c=c, A=A,
                   row_lower=np.full(m, -np.inf) if row_lower is None else row_lower,
                   row_upper=np.full(m, np.inf) if row_upper is None else row_upper,
                   col_lower=np.zeros(n) if col_lower is None else col_lower,
                   col_upper=np.full(n, np.inf) if col_upper is None else col_upper,
                   integrality=np.zeros(n, bool) if integrality is None else integrality,
                   sense=sense, offset=offset)

    @property
    def n_cols(self) -> int:
        return self.c.size

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    def add_rows(self, A, lower, upper) -> "MILP":
        """New MILP with rows ``lower <= A @ x <= upper`` appended (``A`` (k, n), dense or
        sparse)."""
        block = _as_csr(A)
        if block.shape[1] != self.n_cols:
            raise SolverInputError(f"MILP.add_rows.A: must have {self.n_cols} columns; "
                                   f"got shape {block.shape}")
        k = block.shape[0]
        return MILP(self.c, sp.vstack([self.A, block], format="csr"),
                    np.concatenate([self.row_lower, _vector("row_lower", lower, k, allow="-")]),
                    np.concatenate([self.row_upper, _vector("row_upper", upper, k, allow="+")]),
                    self.col_lower, self.col_upper, self.integrality, self.sense, self.offset)

    def add_columns(self, c, lower, upper, integrality=False, A=None) -> "MILP":
        """New MILP with ``k = len(c)`` columns appended (indices ``n .. n+k-1``); ``A`` (m, k)
        holds their coefficients in the existing rows (default: none)."""
        c = _vector("c", c, _size("c", c))
        k = c.size
        block = sp.csr_matrix((self.n_rows, k)) if A is None else _as_csr(A, (self.n_rows, k))
        integ = _flags("add_columns.integrality", integrality, k)
        return MILP(np.concatenate([self.c, c]), sp.hstack([self.A, block], format="csr"),
                    self.row_lower, self.row_upper,
                    np.concatenate([self.col_lower, _vector("col_lower", lower, k, allow="-")]),
                    np.concatenate([self.col_upper, _vector("col_upper", upper, k, allow="+")]),
                    np.concatenate([self.integrality, integ]), self.sense, self.offset)

    @staticmethod
    def vstack(milps) -> "MILP":
        """Same variables, all constraints: rows concatenated, column bounds intersected,
        integrality OR-ed, objectives and offsets summed (senses must agree)."""
        first, milps = _check_blocks(milps, "vstack")
        if any(p.n_cols != first.n_cols for p in milps):
            raise SolverInputError("MILP.vstack: must have equal column counts; got "
                                   f"{[p.n_cols for p in milps]}")
        return MILP(sum(p.c for p in milps), sp.vstack([p.A for p in milps], format="csr"),
                    np.concatenate([p.row_lower for p in milps]),
                    np.concatenate([p.row_upper for p in milps]),
                    np.max([p.col_lower for p in milps], axis=0),
                    np.min([p.col_upper for p in milps], axis=0),
                    np.any([p.integrality for p in milps], axis=0),
                    first.sense, sum(p.offset for p in milps))

    @staticmethod
    def hstack(milps) -> "MILP":
        """Same rows, all variables: columns concatenated (model ``i``'s variables follow model
        ``i-1``'s), row bounds intersected, offsets summed (senses must agree)."""
        first, milps = _check_blocks(milps, "hstack")
        if any(p.n_rows != first.n_rows for p in milps):
            raise SolverInputError("MILP.hstack: must have equal row counts; got "
                                   f"{[p.n_rows for p in milps]}")
        return MILP(np.concatenate([p.c for p in milps]),
                    sp.hstack([p.A for p in milps], format="csr"),
                    np.max([p.row_lower for p in milps], axis=0),
                    np.min([p.row_upper for p in milps], axis=0),
                    np.concatenate([p.col_lower for p in milps]),
                    np.concatenate([p.col_upper for p in milps]),
                    np.concatenate([p.integrality for p in milps]),
                    first.sense, sum(p.offset for p in milps))

    # ---------------------------------------------------------------- evaluation
    def objective_value(self, x) -> float:
        """``c @ x + offset`` (no feasibility check)."""
        x = real_array("MILP.x", x)
        if x.shape != (self.n_cols,):
            raise SolverInputError(f"MILP.x: must have shape ({self.n_cols},); got {x.shape}")
        return float(self.c @ x + self.offset)

    def violation(self, x) -> float:
        """Largest violation of a row bound, column bound or integrality by ``x`` (0 = feasible;
        ``inf`` where ``x`` holds a NaN or infinite entry, which is no point of any MILP)."""
        x = real_array("MILP.x", x)
        if x.shape != (self.n_cols,):
            raise SolverInputError(f"MILP.x: must have shape ({self.n_cols},); got {x.shape}")
        return violation(self.A, self.row_lower, self.row_upper, self.col_lower, self.col_upper,
                         self.integrality, x)

    def is_feasible(self, x, tol: float = FEAS_TOL) -> bool:
        return self.violation(x) <= tol


def violation(A, row_lower, row_upper, col_lower, col_upper, integrality, x) -> float:
    """Largest bound or integrality violation of ``x`` for the given arrays (trusted input);
    ``inf`` for a non-finite ``x`` (its NaN made every comparison, ``violation > tol`` too,
    False)."""
    if not np.isfinite(x).all():
        return float("inf")
    act = A @ x
    parts = [np.zeros(1), row_lower - act, act - row_upper, col_lower - x, x - col_upper,
             np.abs(x - np.round(x))[integrality]]
    return float(np.max(np.concatenate(parts)))


def _check_blocks(milps, what: str) -> tuple[MILP, list]:
    """The first of ``milps`` and their list, checked (an iterable of MILP, one sense)."""
    try:
        milps = list(milps)
    except TypeError:
        raise SolverInputError(f"MILP.{what}: must be a non-empty sequence of MILP; got "
                               f"{type(milps).__name__}") from None
    if not milps or not all(isinstance(p, MILP) for p in milps):
        raise SolverInputError(f"MILP.{what}: must be a non-empty sequence of MILP; got "
                               f"{_short(milps)}")
    senses = {p.sense for p in milps}
    if len(senses) > 1:
        raise SolverInputError(f"MILP.{what}: must have one sense; got {sorted(senses)}")
    return milps[0], milps
