"""Generic optimisation layer: a neutral MILP, MIP backends and ReLU-network encodings.

``solvers`` never imports ``rmab``. Typical use::

    from solvers import MILP, solve
    res = solve(MILP.from_arrays(c, A, row_lower, row_upper, col_lower, col_upper, integrality))
    res.status, res.x, res.objective, res.bound

For repeated solves of one model with small changes, keep a persistent model::

    model = get_backend("highs").build(milp)
    model.set_row_bounds(rows, lower, upper)
    model.solve(time_limit=1.0)
"""

from __future__ import annotations

from solvers.backends import BACKENDS, available_backends, get_backend
from solvers.backends.base import Backend, PersistentModel
from solvers.errors import (SolverDependencyError, SolverError, SolverInputError,
                            UnknownBackendError)
from solvers.milp import MILP
from solvers.result import MIPResult, TerminationStatus

__all__ = ["MILP", "MIPResult", "TerminationStatus", "solve", "available_backends",
           "get_backend", "Backend", "PersistentModel", "BACKENDS", "SolverError",
           "SolverInputError", "SolverDependencyError", "UnknownBackendError"]


def solve(milp: MILP, *, backend: str = "highs", time_limit: float | None = None,
          mip_gap: float = 1e-6, threads: int = 1, warm_start=None,
          presolve: bool = True, complete_start: bool = True) -> MIPResult:
    """Solve ``milp`` once with ``backend`` (see :func:`available_backends`); the options as
    in :meth:`PersistentModel.solve`.

    Infeasible, unbounded and time-limited solves are statuses of the returned
    :class:`MIPResult`; bad input raises :class:`SolverInputError`.
    """
    if not isinstance(milp, MILP):
        raise SolverInputError(f"solve.milp: must be a MILP; got {type(milp).__name__}")
    return get_backend(backend).build(milp).solve(time_limit=time_limit, mip_gap=mip_gap,
                                                  threads=threads, warm_start=warm_start,
                                                  presolve=presolve,
                                                  complete_start=complete_start)
