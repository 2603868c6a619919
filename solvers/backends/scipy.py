"""``scipy.optimize.milp`` as a fallback backend.

scipy has no persistent model and no warm start: every solve rebuilds from the current arrays
(updates only change the private copy). The shared rule of :class:`PersistentModel` still
returns a feasible ``warm_start`` when the time limit leaves nothing better. ``threads`` is
not passed (scipy has no such option), and ``mip_gap`` applies to the objective without the
MILP's offset (scipy takes none), so with an offset its proven gap may differ from the others'.
Integer columns' bounds are rounded inward first. scipy 1.17's HiGHS writes a debug line
("HighsMipSolverData::transformNewIntegerFeasibleSolution ...") to the process's stdout on some
models (1 in 150 small random ones), whatever ``disp``; a program printing data on stdout should
use the ``highs`` backend (sending file descriptor 1 elsewhere for the call is not safe beside
other threads).
"""

from __future__ import annotations

import time

import numpy as np

from solvers.backends.base import Backend, PersistentModel, RawSolve, check_highs_limits
from solvers.errors import SolverInputError
from solvers.milp import FEAS_TOL, MILP
from solvers.result import TerminationStatus

__all__ = ["ScipyBackend", "ScipyModel"]

# scipy.optimize.milp statuses: 0 optimal, 1 iteration/time limit, 2 infeasible, 3 unbounded,
# 4 other. A limit is reported as status 1 whether or not it was the time limit.
_STATUS = {0: TerminationStatus.OPTIMAL, 2: TerminationStatus.INFEASIBLE,
           3: TerminationStatus.INFEASIBLE_OR_UNBOUNDED, 4: TerminationStatus.ERROR}


def _undecided(res) -> bool:
    """Whether scipy's status 4 ("other") is HiGHS's "infeasible or unbounded"."""
    return "infeasible or unbounded" in res.message.lower().replace(
        "unbounded or infeasible", "infeasible or unbounded")


class ScipyModel(PersistentModel):
    """Current arrays, handed to ``scipy.optimize.milp`` on every solve."""

    backend = "scipy"
    highs_limits = True

    def _solve(self, time_limit, mip_gap, threads, warm_start, presolve) -> RawSolve:
        from scipy.optimize import Bounds, LinearConstraint, milp

        sign = -1.0 if self._sense == "max" else 1.0          # scipy minimises
        options = {"disp": False, "mip_rel_gap": mip_gap, "presolve": presolve}
        if time_limit is not None:
            options["time_limit"] = time_limit
        constraints = [LinearConstraint(self._A, self._row_lower, self._row_upper)] \
            if self.n_rows else []
        # integer columns' bounds rounded inward, as the highs backend's HiGHS does: scipy's
        # returned x = -1.5 for an integer column in [-1.5, 0], rounded to -2, "optimal"
        integer = self._integrality
        lower = np.where(integer, np.ceil(self._col_lower - FEAS_TOL), self._col_lower)
        upper = np.where(integer, np.floor(self._col_upper + FEAS_TOL), self._col_upper)
        if np.any(lower > upper):
            return RawSolve(TerminationStatus.INFEASIBLE, None)
        start = time.perf_counter()
        res = milp(sign * self._c, integrality=integer.astype(np.uint8),
                   bounds=Bounds(lower, upper), constraints=constraints, options=options)
        if res.status == 4 and presolve and not _undecided(res):
            # scipy 1.17's HiGHS ended 5 of 4 000 small random models with presolve in "Solve
            # error", all infeasible, as the highs backend and scipy without presolve said (a
            # review): once more without presolve, within the time left
            options["presolve"] = False
            if time_limit is not None:
                options["time_limit"] = max(time_limit - (time.perf_counter() - start), 1e-3)
            res = milp(sign * self._c, integrality=integer.astype(np.uint8),
                       bounds=Bounds(lower, upper), constraints=constraints, options=options)
        if res.status == 1:
            status = TerminationStatus.TIME_LIMIT if time_limit is not None else \
                TerminationStatus.ITERATION_LIMIT
        elif res.status == 4 and _undecided(res):
            status = TerminationStatus.INFEASIBLE_OR_UNBOUNDED
        else:
            status = _STATUS.get(res.status, TerminationStatus.ERROR)
        x = None if res.x is None else np.asarray(res.x, dtype=np.float64)
        bound = getattr(res, "mip_dual_bound", None)
        bound = float("nan") if bound is None or not np.isfinite(bound) else \
            sign * float(bound) + self._offset
        return RawSolve(status, x, bound)


class ScipyBackend(Backend):
    """``scipy``: ``scipy.optimize.milp`` (HiGHS inside scipy), rebuilt on every solve."""

    name = "scipy"

    def available(self) -> bool:
        try:
            from scipy.optimize import milp  # noqa: F401
        except ImportError:
            return False
        return True

    def missing(self) -> str:
        return "needs scipy >= 1.9 (scipy.optimize.milp)"

    def build(self, milp: MILP) -> ScipyModel:
        if not isinstance(milp, MILP):
            raise SolverInputError(f"ScipyModel.milp: must be a MILP; got {type(milp).__name__}")
        check_highs_limits("ScipyModel.milp", milp.c, milp.A, np.concatenate(
            [milp.col_lower, milp.col_upper, milp.row_lower, milp.row_upper]))
        return ScipyModel(milp)
