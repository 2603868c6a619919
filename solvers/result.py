"""Solve outcomes: :class:`TerminationStatus` and :class:`MIPResult`.

Limits are statuses, not exceptions: an infeasible, unbounded or time-limited solve returns a
``MIPResult`` whose ``status`` says so, with the incumbent (if any) and the best bound.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

__all__ = ["TerminationStatus", "MIPResult", "relative_gap"]


class TerminationStatus(enum.Enum):
    """Why a solve stopped (backend statuses are mapped onto these)."""

    OPTIMAL = "optimal"                      # proven optimal within the requested mip_gap
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"   # backend could not tell which
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"      # node / iteration / solution limits
    INTERRUPTED = "interrupted"
    ERROR = "error"                          # numerical trouble, backend failure


def relative_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / max(1, |objective|)``; ``inf`` when either is missing."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return abs(objective - bound) / max(1.0, abs(objective))


@dataclass(frozen=True, eq=False)
class MIPResult:
    """Outcome of one solve.

    Attributes
    ----------
    status : TerminationStatus
    x : (n,) float64 array or None
        Best solution found (integer columns rounded), ``None`` when there is none.
    objective : float
        ``c @ x + offset`` in the model's own sense; ``nan`` without a solution.
    bound : float
        Best proven bound on the optimum (upper for "max", lower for "min"); ``nan`` if unknown.
    gap : float
        :func:`relative_gap` of ``objective`` and ``bound``.
    seconds : float
        Wall time of the solve call.
    backend : str
        Name of the backend that produced it.
    """

    status: TerminationStatus
    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    seconds: float
    backend: str

    @property
    def has_solution(self) -> bool:
        return self.x is not None

    @property
    def is_optimal(self) -> bool:
        return self.status is TerminationStatus.OPTIMAL
