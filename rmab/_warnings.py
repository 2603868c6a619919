"""Warnings caught in one place and shown in another (a worker process, a step loop)."""

from __future__ import annotations

import os
import pickle
import sys
import sysconfig
import warnings

# the toolkit's own files, and the interpreter's and installed packages' (runpy, concurrent,
# a console script such as .venv/bin/rmab, in "scripts": without it the command line's
# warnings pointed at its `sys.exit(main())`): a warning raised in the first is shown at the
# innermost frame outside both
_OWN = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), name, "")
             for name in ("rmab", "solvers"))


def _library() -> tuple[str, ...]:
    schemes = [None]
    if hasattr(sysconfig, "get_preferred_scheme"):       # pip install --user's too
        schemes.append(sysconfig.get_preferred_scheme("user"))
    paths = set()
    for scheme in schemes:
        try:
            found = sysconfig.get_paths(scheme) if scheme else sysconfig.get_paths()
        except KeyError:                                 # no such scheme here
            continue
        paths.update(os.path.join(path, "") for key, path in found.items()
                     if key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts"))
    return tuple(sorted(paths))


_LIBRARY = _library()


def module_of(filename: str) -> str | None:
    """The dotted name of the loaded module in ``filename`` (what ``module=`` filters match)."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name
    return None


def caught_record(w: warnings.WarningMessage) -> tuple:
    """A caught warning as (message, category, filename, lineno, module): the warning object
    itself (shown again as it is: a category whose constructor takes more than the text cannot
    be rebuilt from it) and where it was raised (the module looked up there)."""
    return w.message, w.category, w.filename, w.lineno, module_of(w.filename)


def sendable(record: tuple) -> tuple:
    """``record`` as a worker process can send it: unchanged if it pickles and unpickles, else
    its text under :class:`~rmab.errors.RmabWarning`, named by its category (a class defined
    inside a function cannot be pickled)."""
    try:                         # the way back too: a warning whose class takes more than
        pickle.loads(pickle.dumps(record))      # its text pickles but does not unpickle
        return record
    except Exception:            # PicklingError, AttributeError, TypeError ...
        from rmab.errors import RmabWarning

        message, category, filename, lineno, module = record
        return (f"{category.__name__}: {message}", RmabWarning, filename, lineno, module)


def show_again(message, category: type, filename: str, lineno: int, module: str | None,
               shown: set) -> None:
    """Warn a :func:`caught_record` (or a text) again under the caller's filters (module
    filters included), each repeat dropped as Python would in one process -- per line under
    "default", per text under "once", per module under "module", none under "always" -- once
    per ``shown`` (the caller's, e.g. one per run); "error" raises it, "ignore" drops it.
    One raised in the toolkit's own code is shown at the caller's line (:func:`caller_line`),
    as a warning with the right ``stacklevel`` would be; its module still meets the filters."""
    if filename.startswith(_OWN):
        filename, lineno = caller_line() or (filename, lineno)
    if module is None:  # python -c, a notebook cell: as warn_explicit's default (None drops it)
        module = filename[:-3] if filename.endswith(".py") else filename
    text = str(message)
    action = _action(text, category, module, lineno)
    if action != "always":
        key = {"once": (text, category), "module": (text, category, module)}.get(
            action, (text, category, filename, lineno))
        if key in shown:
            return
        shown.add(key)
    warnings.warn_explicit(message, category, filename, lineno, module=module, registry={})


def _outside(frame) -> bool:
    """Whether ``frame`` is outside the toolkit and the installed libraries; a dataclass's
    generated ``__init__`` (file ``<string>``) is its module's."""
    return not (frame.f_code.co_filename.startswith(_OWN + _LIBRARY + ("<frozen ",))
                or frame.f_globals.get("__name__", "").partition(".")[0] in ("rmab", "solvers"))


def caller_line() -> tuple[str, int] | None:
    """File and line of the innermost frame outside the toolkit and the installed libraries:
    the user's call (a script's, a test's, ``python -c``'s ``<string>``), or None (the
    command line: no such frame)."""
    frame = sys._getframe(1)
    while frame is not None:
        if _outside(frame):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def user_stacklevel() -> int:
    """The ``stacklevel`` at which the caller's ``warnings.warn`` shows at the user's line
    (:func:`caller_line`'s frame), however deep in the toolkit the call; 1 if none."""
    frame, level = sys._getframe(1), 1
    while frame is not None:
        if _outside(frame):
            return level
        frame, level = frame.f_back, level + 1
    return 1


def _action(text: str, category: type, module: str | None, lineno: int) -> str:
    """The action of the first of the current filters to match, as the warnings module finds
    it (a plain-string module, as in Python's default filters, matches exactly)."""
    for action, message, cat, mod, ln in warnings.filters:
        if ((message is None or message.match(text)) and issubclass(category, cat)
                and (mod is None or (mod == module if isinstance(mod, str)
                                     else module is not None and mod.match(module)))
                and (ln == 0 or ln == lineno)):
            return action
    return warnings.defaultaction
