"""The backend table: name -> backend class. One conformance suite runs over every entry.

``highs`` (highspy, default, persistent), ``pyomo`` (any ``pyomo.contrib.solver`` solver,
persistent; optional) and ``scipy`` (``scipy.optimize.milp``, rebuilt per solve).
"""

from __future__ import annotations

import difflib

from solvers.backends.base import Backend, PersistentModel
from solvers.backends.highs import HighsBackend
from solvers.backends.pyomo import PREFERRED_SOLVERS, PyomoBackend
from solvers.backends.scipy import ScipyBackend
from solvers.errors import UnknownBackendError

__all__ = ["BACKENDS", "Backend", "PersistentModel", "get_backend", "available_backends"]

BACKENDS: dict[str, type[Backend]] = {
    "highs": HighsBackend,
    "pyomo": PyomoBackend,
    "scipy": ScipyBackend,
}


def available_backends() -> list[str]:
    """Names of the backends usable here, in table order (``highs`` first)."""
    return [name for name, cls in BACKENDS.items() if cls().available()]


def get_backend(name) -> Backend:
    """The backend registered as ``name``; ``"pyomo:SOLVER"`` picks a Pyomo solver by name
    (e.g. ``"pyomo:gurobi_persistent"``), and a :class:`Backend` object is returned as it is.
    :class:`UnknownBackendError` (listing the available ones) when it is unknown or cannot run
    here."""
    if isinstance(name, Backend):
        return name
    if isinstance(name, str) and name.startswith("pyomo:"):
        from solvers.backends.pyomo import PyomoBackend

        if not name.partition(":")[2].strip():
            raise UnknownBackendError(f"solve.backend: {name!r} names no Pyomo solver: give "
                                      f"'pyomo:SOLVER' (e.g. 'pyomo:highs'), or 'pyomo' for the "
                                      f"first available")
        backend = PyomoBackend(solver=name.partition(":")[2])
        if not backend.available():
            raise UnknownBackendError(f"solve.backend: {name!r} is not available here "
                                      f"({backend.missing()})")
        return backend
    if not isinstance(name, str):
        raise UnknownBackendError(f"solve.backend: must be a backend name, one of "
                                  f"{available_backends()}; got {type(name).__name__}")
    if name not in BACKENDS:
        close = difflib.get_close_matches(name.lower(), BACKENDS, n=1)    # 'HIGHS': 'highs'
        # 'gurobi' (a walkthrough): pyomo.contrib.solver has no solver of that name, so
        # 'pyomo:gurobi' is refused too; name the ones it has ('gurobi_persistent', ...)
        solvers = [f"'pyomo:{s}'" for s in PREFERRED_SOLVERS if s.split("_")[0] == name.lower()]
        hint = (f" (did you mean {close[0]!r}?)" if close and (close[0] == name.lower() or
                                                              not solvers) else
                f" (a solver through Pyomo: {' or '.join(solvers)})" if solvers else
                " (a solver through Pyomo is named 'pyomo:SOLVER' as pyomo.contrib.solver "
                "names it, e.g. 'pyomo:gurobi_persistent')" if name.isidentifier() else "")
        raise UnknownBackendError(f"solve.backend: must be one of {available_backends()}; "
                                  f"got {name!r}{hint}")
    backend = BACKENDS[name]()
    if not backend.available():
        raise UnknownBackendError(f"solve.backend: must be an available backend "
                                  f"{available_backends()}; got {name!r}, which is not available "
                                  f"here ({backend.missing()})")
    return backend
