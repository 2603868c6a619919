"""HiGHS through highspy: the default backend and the hot path.

The whole model is passed as arrays in one ``Highs.passModel`` call (CSR rows, no per-variable
Python objects); updates go straight to the loaded model (``changeColsCost``,
``changeRowsBounds``, ``changeCoeff``, ``changeColsBounds``), so re-solving after a change
costs no rebuild. A warm start is passed with ``setSolution``.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np

from solvers.backends.base import Backend, PersistentModel, RawSolve, check_highs_limits
from solvers.errors import SolverError, SolverInputError
from solvers.milp import MILP
from solvers.result import TerminationStatus, relative_gap

__all__ = ["HighsBackend", "HighsModel"]

# HiGHS runs every instance on one process-wide task scheduler whose size is fixed when it is
# first used; a solve asking for another thread count fails unless the scheduler is reset.
_scheduler = {"threads": None}


def ensure_scheduler(threads: int) -> None:
    """Reset HiGHS's global scheduler if it was sized for another thread count."""
    if _scheduler["threads"] != threads:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
        _scheduler["threads"] = threads


_banner = {"lock": threading.Lock(), "written": False}


def _new_highs(highspy):
    """A ``highspy.Highs`` with ``output_flag`` off.

    highspy >= 1.16 writes HiGHS's two-line banner to the process's stdout (file descriptor 1,
    below Python) the first time an instance logs, which ``Highs()`` itself does before
    ``output_flag`` can be set; that would corrupt the output of any program printing CSV or a
    table. So the first instance of the process is built with descriptor 1 sent to the null
    device (HiGHS writes the banner once per process).
    """
    with _banner["lock"]:
        if _banner["written"]:
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
            _banner["written"] = True
    h.setOptionValue("output_flag", False)
    return h


def _status_map(highspy) -> dict:
    S, T = highspy.HighsModelStatus, TerminationStatus
    return {S.kOptimal: T.OPTIMAL, S.kModelEmpty: T.ERROR, S.kInfeasible: T.INFEASIBLE,
            S.kUnbounded: T.UNBOUNDED, S.kUnboundedOrInfeasible: T.INFEASIBLE_OR_UNBOUNDED,
            S.kTimeLimit: T.TIME_LIMIT, S.kIterationLimit: T.ITERATION_LIMIT,
            S.kSolutionLimit: T.ITERATION_LIMIT, S.kObjectiveBound: T.ITERATION_LIMIT,
            S.kObjectiveTarget: T.ITERATION_LIMIT, S.kInterrupt: T.INTERRUPTED,
            S.kHighsInterrupt: T.INTERRUPTED}


class HighsModel(PersistentModel):
    """A MILP loaded into one ``highspy.Highs`` instance."""

    backend = "highs"
    highs_limits = True

    def __init__(self, milp: MILP):
        super().__init__(milp)
        import highspy

        self._highspy = highspy
        self._statuses = _status_map(highspy)
        A = milp.A
        check_highs_limits("HighsModel.milp", milp.c, A, np.concatenate(
            [milp.col_lower, milp.col_upper, milp.row_lower, milp.row_upper]))
        h = _new_highs(highspy)
        self._h = h
        self._keep_small(A.data)
        sense = highspy.ObjSense.kMaximize if milp.sense == "max" else highspy.ObjSense.kMinimize
        status = h.passModel(milp.n_cols, milp.n_rows, A.nnz,
                             highspy.MatrixFormat.kRowwise.value, sense.value, milp.offset,
                             milp.c, milp.col_lower, milp.col_upper, milp.row_lower,
                             milp.row_upper, A.indptr[:-1].astype(np.int32),
                             A.indices.astype(np.int32), A.data,
                             milp.integrality.astype(np.int32))
        if status == highspy.HighsStatus.kError:
            raise SolverInputError("HighsModel.milp: HiGHS refused the model")
        self._is_mip = bool(milp.integrality.any())
        self._threads = None

    def _set_objective(self, c, offset) -> None:
        idx = np.arange(c.size, dtype=np.int32)
        self._h.changeColsCost(c.size, idx, c)
        if offset is not None:
            self._h.changeObjectiveOffset(offset)

    def _set_row_bounds(self, rows, lower, upper) -> None:
        self._check(self._h.changeRowsBounds(rows.size, rows.astype(np.int32), lower, upper),
                    "set_row_bounds")

    def _set_col_bounds(self, cols, lower, upper) -> None:
        self._check(self._h.changeColsBounds(cols.size, cols.astype(np.int32), lower, upper),
                    "set_col_bounds")

    def _keep_small(self, values) -> None:
        """HiGHS drops |a| <= 1e-9 (``small_matrix_value``): ``1e-10 x <= 5e-10`` lost its row.
        With such entries, keep them down to 1e-12 (HiGHS's floor); only then, as the option
        changes HiGHS's search (+6-14 % nodes on SEQUOIA models without such entries)."""
        a = np.abs(values)
        if ((a > 0) & (a <= 1e-9)).any():
            self._h.setOptionValue("small_matrix_value", 1e-12)

    def _set_coefficients(self, rows, cols, values) -> None:
        self._keep_small(values)
        change = self._h.changeCoeff
        for r, c, v in zip(rows.tolist(), cols.tolist(), values.tolist()):
            self._check(change(r, c, v), "set_coefficients")

    def _check(self, status, what: str) -> None:
        """An update HiGHS refused would leave it solving another model than ``self.milp``."""
        if status == self._highspy.HighsStatus.kError:
            raise SolverError(f"HighsModel.{what}: HiGHS refused the update, so the model is "
                              f"no longer the one this object describes; build a new one")

    def _solution(self, info) -> np.ndarray | None:
        """The point HiGHS holds, or None (2 = kSolutionStatusFeasible)."""
        if info.primal_solution_status != 2 or not self.n_cols:
            return None
        return np.array(self._h.getSolution().col_value, dtype=np.float64)

    def _misread(self, x, info) -> bool:
        """The solution HiGHS returns is not worth the objective it reports: by more than
        1e-6 relative, or, in a pure integer model, than rounding (1e-9 of the terms' sizes;
        a start returned for a knapsack's optimum was 1.7 short of 1.8e6, 9e-7 relative)."""
        c, reported = self._c, info.objective_function_value
        worth = float(c @ x) + self._offset
        if not self._integrality.all():
            return relative_gap(worth, reported) > 1e-6
        size = float(np.abs(c) @ np.abs(x)) + abs(self._offset) + 1.0
        return not abs(worth - reported) <= 1e-9 * size

    def _solve(self, time_limit, mip_gap, threads, warm_start, presolve) -> RawSolve:
        h = self._h
        # an LP checks the limit against the model's run clock, which adds up over its solves
        # (a persistent LP returned "time limit" at once from its 16th 4 ms solve under a 0.05
        # s limit; a review); the MIP solver times each solve from its own start
        h.setOptionValue("time_limit", np.inf if time_limit is None else
                         time_limit + (0.0 if self._is_mip else h.getRunTime()))
        h.setOptionValue("mip_rel_gap", mip_gap)
        h.setOptionValue("presolve", "on" if presolve else "off")
        if threads != self._threads:
            h.setOptionValue("threads", threads)
            self._threads = threads
        ensure_scheduler(threads)
        if not self._is_mip:       # no basis carried over: the same LP gives the same vertex
            h.clearSolver()
        start = time.perf_counter()
        if warm_start is not None:
            h.setSolution(warm_start.size, np.arange(warm_start.size, dtype=np.int32),
                          warm_start)
        h.run()
        status = self._statuses.get(h.getModelStatus(), TerminationStatus.ERROR)
        info = h.getInfo()
        x = self._solution(info)
        if self._is_mip and x is not None and self._misread(x, info):
            # HiGHS 1.16 can map a start wrongly through presolve: it reported "optimal" with
            # the objective of an infeasible point and returned the start (1 in 1 000 small
            # knapsacks); after in-place row-bound updates it can likewise take the previous
            # solve's solution as a start and return it, "optimal", worth less than reported
            # (4 in 2 000 knapsacks after three updates; a review). Solve again afresh
            first = self._rounded(x)
            left = None if time_limit is None else time_limit - (time.perf_counter() - start)
            h.clearSolver()
            h.setOptionValue("time_limit", np.inf if left is None else max(left, 1e-3))
            h.run()
            status = self._statuses.get(h.getModelStatus(), TerminationStatus.ERROR)
            info = h.getInfo()
            x = self._solution(info)
            if x is None and status is TerminationStatus.TIME_LIMIT and self._feasible(first):
                x = first            # out of time again: the first point, if it is feasible
        if x is None and self.n_cols == 0 and status is TerminationStatus.OPTIMAL:
            x = np.zeros(0)
        bound = float(info.mip_dual_bound) if self._is_mip else \
            (float(info.objective_function_value) if status is TerminationStatus.OPTIMAL
             else float("nan"))
        if not np.isfinite(bound) or abs(bound) >= 1e30 or status in (
                TerminationStatus.INFEASIBLE, TerminationStatus.UNBOUNDED):
            bound = float("nan")                 # HiGHS reports 0 for an infeasible MIP
        return RawSolve(status, x, bound)


class HighsBackend(Backend):
    """``highs``: HiGHS via highspy (core dependency)."""

    name = "highs"

    def available(self) -> bool:
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def missing(self) -> str:
        return "needs highspy; install it with pip install highspy"

    def build(self, milp: MILP) -> HighsModel:
        return HighsModel(milp)
