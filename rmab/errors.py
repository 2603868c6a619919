"""Errors and warnings raised by rmab.

Every error message follows one template::

    "<owner>.<field>: must be <constraint>; got <value>"

followed, where there is one, by the arm index or the CSV file, line and column.
"""

from __future__ import annotations

from typing import NoReturn

__all__ = [
    "RmabError",
    "ValidationError",
    "InvalidModelError",
    "InvalidParameterError",
    "InfeasibleActionError",
    "ImpossibleSignalError",
    "NotFittedError",
    "UnknownPlannerError",
    "MissingDependencyError",
    "PlanningError",
    "OutputError",
    "BatchInputError",
    "POMDPFormatError",
    "RmabWarning",
    "ConvergenceWarning",
    "IndexabilityWarning",
    "SolverLimitWarning",
]


class RmabError(Exception):
    """Base class of every error rmab raises on purpose."""


class ValidationError(RmabError, ValueError):
    """Input failed validation at a public boundary."""


class InvalidModelError(ValidationError):
    """An arm or instance model is malformed (shapes, probabilities, costs...)."""


class InvalidParameterError(ValidationError):
    """A function or planner parameter is out of its allowed range."""


class InfeasibleActionError(ValidationError):
    """A joint action breaks the budget or names an action an arm does not have."""


class ImpossibleSignalError(ValidationError):
    """A signal has probability zero under the model and the current belief.

    The Bayes filter would divide by zero; the caller's data disagree with the model.
    """


class NotFittedError(RmabError, AttributeError):
    """A planner was asked to plan before ``fit``."""


class UnknownPlannerError(RmabError, LookupError):
    """No planner is registered under the requested name."""


class MissingDependencyError(RmabError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class PlanningError(RmabError):
    """A planner could not produce an action (raised ``from`` the underlying error)."""


class OutputError(RmabError, OSError):
    """An output file could not be written (a directory or device at the path, no permission,
    a full disk); the message names the path. Nothing is left behind."""


class BatchInputError(ValidationError):
    """A CSV batch row is malformed. Carries ``file``, ``line`` (1-based) and ``column``."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: str | None = None, batch_id: str | None = None):
        self.file = file
        self.line = line
        self.column = column
        self.batch_id = batch_id
        where = []
        if file is not None:
            where.append(str(file))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class POMDPFormatError(InvalidModelError):
    """A ``.POMDP`` file is malformed; the message names the file and line (``file``,
    ``line``)."""

    def __init__(self, message: str, *, file=None, line: int | None = None):
        self.file = None if file is None else str(file)
        self.line = line
        where = ", ".join(x for x in (self.file, None if line is None else f"line {line}") if x)
        super().__init__((where + ": " if where else "") + message)


class RmabWarning(UserWarning):
    """Base class of rmab's warnings."""


class ConvergenceWarning(RmabWarning):
    """An iterative method stopped before reaching its tolerance."""


class IndexabilityWarning(RmabWarning):
    """An arm is not indexable (or not fully indexable); its indices are unreliable."""


class SolverLimitWarning(RmabWarning):
    """A solver hit a time or node limit; the best action found so far is returned."""


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is a Ctrl-C: a ``KeyboardInterrupt``, or the ``SystemError`` (one per
    compiled call level) a Numba kernel raises when the interrupt lands in the Python code it
    calls back, e.g. while boxing an array it returns (``_numba_unpickle``)."""
    while isinstance(exc, SystemError):
        exc = exc.__cause__
    return isinstance(exc, KeyboardInterrupt)


def raise_in(exc: Exception, where: str) -> NoReturn:
    """Raise ``exc`` as having happened ``where``: an RmabError that is its message alone as
    one of the same type whose message starts with ``where`` (from ``exc``); a Ctrl-C seen
    through a kernel (:func:`interrupted`) as a ``KeyboardInterrupt``; any other exception
    (a bug, or an error with fields such as a file and line) as itself, with ``where`` as a
    note."""
    if interrupted(exc):
        raise KeyboardInterrupt from exc
    if isinstance(exc, RmabError) and not vars(exc):
        try:
            error = type(exc)(f"{where}: {exc}")
        except TypeError:                    # an error class with another signature
            error = None
        if error is not None:
            raise error from exc
    add_note(exc, f"(in {where})")
    raise exc


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)`` (Python >= 3.11; on 3.10 the note is kept in ``__notes__``,
    which tracebacks there do not show)."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]
