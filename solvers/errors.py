"""Errors raised by the solvers layer (``rmab`` wraps them; ``solvers`` never imports ``rmab``).

Limits (infeasible, unbounded, time limit) are *statuses* of a :class:`~solvers.result.MIPResult`,
never exceptions. Messages follow ``"<owner>.<field>: must be <constraint>; got <value>"``.
"""

from __future__ import annotations

__all__ = ["SolverError", "SolverInputError", "SolverDependencyError", "UnknownBackendError"]


class SolverError(Exception):
    """Base class of every error the solvers layer raises on purpose."""


class SolverInputError(SolverError, ValueError):
    """A model, array or option passed to the solvers layer is malformed."""


class SolverDependencyError(SolverError, ImportError):
    """An optional dependency (torch, pyomo, a Pyomo solver) is missing; the message says what."""


class UnknownBackendError(SolverInputError, LookupError):
    """No backend is registered (or available) under the requested name."""
