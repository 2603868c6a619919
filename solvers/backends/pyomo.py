"""The same MILP through a Pyomo solver (pyomo is optional: ``pip install 'rmab[pyomo]'``).

Uses Pyomo's newer solver interface (``pyomo.contrib.solver``: ``highs``, ``gurobi_persistent``,
``scip_persistent``, ...), whose solvers are persistent: the Pyomo model built here is kept,
costs and row bounds are mutable ``Param``s, column bounds are set on the variables and a
changed coefficient replaces its row's expression, and the solver re-syncs only what changed.
Building through Pyomo costs far more than :mod:`solvers.backends.highs` (per-variable Python
objects); use it to reach solvers highspy does not, not for a hot loop.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import time

import numpy as np

from solvers.backends.base import Backend, PersistentModel, RawSolve, check_highs_limits
from solvers.errors import SolverDependencyError, SolverInputError
from solvers.milp import MILP
from solvers.result import TerminationStatus

__all__ = ["PyomoBackend", "PyomoModel", "PREFERRED_SOLVERS"]

# Tried in this order when no solver is named.
PREFERRED_SOLVERS = ("highs", "gurobi_persistent", "scip_persistent", "gurobi_direct",
                     "scip_direct")


@functools.lru_cache(maxsize=None)
def _solver_available(name: str) -> bool:
    if importlib.util.find_spec("pyomo") is None:
        return False
    try:
        import pyomo.environ  # noqa: F401  (registers the solver plugins)
        from pyomo.contrib.solver.common.factory import SolverFactory

        solver = SolverFactory(name)
        return solver is not None and bool(solver.available())
    except Exception:   # a broken third-party solver plugin must not break discovery
        return False


def _status_map() -> dict:
    from pyomo.contrib.solver.common.results import TerminationCondition as C

    T = TerminationStatus
    return {C.convergenceCriteriaSatisfied: T.OPTIMAL, C.maxTimeLimit: T.TIME_LIMIT,
            C.iterationLimit: T.ITERATION_LIMIT, C.objectiveLimit: T.ITERATION_LIMIT,
            C.unbounded: T.UNBOUNDED, C.provenInfeasible: T.INFEASIBLE,
            C.locallyInfeasible: T.INFEASIBLE, C.infeasibleOrUnbounded: T.INFEASIBLE_OR_UNBOUNDED,
            C.interrupted: T.INTERRUPTED}


class PyomoModel(PersistentModel):
    """A MILP as a Pyomo ``ConcreteModel`` attached to one persistent Pyomo solver."""

    backend = "pyomo"

    def __init__(self, milp: MILP, solver: str):
        super().__init__(milp)
        import pyomo.environ as pyo
        from pyomo.contrib.solver.common.factory import SolverFactory

        self._statuses = _status_map()
        self.solver_name = solver
        self.highs_limits = solver == "highs"   # the same HiGHS as the highs backend's
        if self.highs_limits:
            check_highs_limits("PyomoModel.milp", milp.c, milp.A, np.concatenate(
                [milp.col_lower, milp.col_upper, milp.row_lower, milp.row_upper]))
        self._factory = SolverFactory
        self._solver = SolverFactory(solver)
        n, m = milp.n_cols, milp.n_rows
        model = pyo.ConcreteModel()
        model.x = pyo.Var(range(n))
        for j in range(n):
            var = model.x[j]
            var.domain = pyo.Integers if milp.integrality[j] else pyo.Reals
            var.setlb(None if math.isinf(milp.col_lower[j]) else float(milp.col_lower[j]))
            var.setub(None if math.isinf(milp.col_upper[j]) else float(milp.col_upper[j]))
        model.c = pyo.Param(range(n), mutable=True, initialize=dict(enumerate(milp.c.tolist())))
        model.offset = pyo.Param(mutable=True, initialize=milp.offset)
        model.obj = pyo.Objective(
            expr=sum(model.c[j] * model.x[j] for j in range(n)) + model.offset,
            sense=pyo.maximize if milp.sense == "max" else pyo.minimize)
        model.rl = pyo.Param(range(m), mutable=True,
                             initialize=dict(enumerate(milp.row_lower.tolist())))
        model.ru = pyo.Param(range(m), mutable=True,
                             initialize=dict(enumerate(milp.row_upper.tolist())))
        self._model = model
        # without variables there are no rows to pass (the solve is decided without Pyomo)
        model.rows = pyo.Constraint(range(m) if n else [], rule=lambda _, i: self._row(i))

    def _row(self, i: int):
        model, A = self._model, self._A
        lo, hi = A.indptr[i], A.indptr[i + 1]
        expr = sum(float(v) * model.x[int(j)] for j, v in zip(A.indices[lo:hi], A.data[lo:hi]))
        if lo == hi:      # an empty row: keep a (trivial) constraint so that it can be updated
            expr = 0.0 * model.x[0]
        return (model.rl[i], expr, model.ru[i])

    def _set_objective(self, c, offset) -> None:
        for j, v in enumerate(c.tolist()):
            self._model.c[j] = v
        if offset is not None:
            self._model.offset = offset

    def _set_row_bounds(self, rows, lower, upper) -> None:
        model = self._model
        for i, lo, up in zip(rows.tolist(), lower.tolist(), upper.tolist()):
            # Pyomo fixes which sides a row has when it is built: rebuild the row when a side
            # turns finite or infinite, or the new bound would be ignored
            reshape = (math.isinf(lo) != math.isinf(model.rl[i].value)
                       or math.isinf(up) != math.isinf(model.ru[i].value))
            model.rl[i] = lo
            model.ru[i] = up
            if reshape and self.n_cols:
                model.rows[i].set_value(self._row(i))

    def _set_col_bounds(self, cols, lower, upper) -> None:
        for j, lo, up in zip(cols.tolist(), lower.tolist(), upper.tolist()):
            self._model.x[j].setlb(None if math.isinf(lo) else lo)
            self._model.x[j].setub(None if math.isinf(up) else up)

    def _set_coefficients(self, rows, cols, values) -> None:
        for i in np.unique(rows).tolist():       # the private copy already holds the new row
            self._model.rows[i].set_value(self._row(i))

    def _solve(self, time_limit, mip_gap, threads, warm_start, presolve) -> RawSolve:
        options = {"load_solutions": False, "raise_exception_on_nonoptimal_result": False,
                   "rel_gap": mip_gap, "threads": threads}
        if self.solver_name == "highs":
            options["solver_options"] = {"presolve": "on" if presolve else "off"}
        if time_limit is not None:
            options["time_limit"] = time_limit
        if warm_start is not None and "warmstart_discrete_vars" in self._solver.config:
            for j, v in enumerate(warm_start.tolist()):
                self._model.x[j].set_value(v, skip_validation=True)
            options["warmstart_discrete_vars"] = True
        if self.solver_name == "highs":       # Pyomo's HiGHS runs on highspy's scheduler
            from solvers.backends.highs import ensure_scheduler

            ensure_scheduler(threads)
        start = time.perf_counter()
        res = self._solver.solve(self._model, **options)
        status = self._statuses.get(res.termination_condition, TerminationStatus.ERROR)
        if status is TerminationStatus.ERROR:
            # once more on a new solver object, within the time left: Pyomo's persistent
            # HiGHS answered every LP solve after an unbounded one with an error (status
            # "Unknown"; an exact-reference search)
            if time_limit is not None:
                options["time_limit"] = max(time_limit - (time.perf_counter() - start), 1e-3)
            self._solver = self._factory(self.solver_name)
            res = self._solver.solve(self._model, **options)
            status = self._statuses.get(res.termination_condition, TerminationStatus.ERROR)
        x = None
        if res.incumbent_objective is not None:
            values = res.solution_loader.get_vars()
            x = np.array([values[self._model.x[j]] for j in range(self.n_cols)], dtype=float)
        elif self.n_cols == 0 and status is TerminationStatus.OPTIMAL:
            x = np.zeros(0)
        bound = float("nan") if res.objective_bound is None else float(res.objective_bound)
        return RawSolve(status, x, bound if math.isfinite(bound) else float("nan"))


class PyomoBackend(Backend):
    """``pyomo``: any solver of ``pyomo.contrib.solver`` (default: first of
    :data:`PREFERRED_SOLVERS` that is available)."""

    name = "pyomo"

    def __init__(self, solver: str | None = None):
        self.solver = solver

    def _pick(self) -> str | None:
        names = PREFERRED_SOLVERS if self.solver is None else (self.solver,)
        return next((s for s in names if _solver_available(s)), None)

    def available(self) -> bool:
        return self._pick() is not None

    def missing(self) -> str:
        if importlib.util.find_spec("pyomo") is None:
            return "needs pyomo; install it with pip install 'rmab[pyomo]'"
        if self.solver is None:
            return f"no available Pyomo solver among: {', '.join(PREFERRED_SOLVERS)}"
        # name the ones that do run, so the message says what to pass instead
        others = [f"pyomo:{s}" for s in PREFERRED_SOLVERS
                  if s != self.solver and _solver_available(s)]
        hint = (f"; available here: {', '.join(others)}" if others else
                f"; nor is any of {', '.join(PREFERRED_SOLVERS)}")
        return f"no available Pyomo solver among: {self.solver}{hint}"

    def build(self, milp: MILP) -> PyomoModel:
        solver = self._pick()
        if solver is None:
            raise SolverDependencyError(f"pyomo backend: {self.missing()}")
        if not isinstance(milp, MILP):
            raise SolverInputError(f"PyomoModel.milp: must be a MILP; got {type(milp).__name__}")
        return PyomoModel(milp, solver)
