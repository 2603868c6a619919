"""Warnings caught in one place and shown in another (a worker process, a step loop)."""

from __future__ import annotations

import contextlib
import pickle
import re
import sys
import warnings


def module_of(filename: str) -> str | None:
    """The dotted name of the loaded module in ``filename`` (what ``module=`` filters match)."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name
    return None


def caught_record(w: warnings.WarningMessage) -> tuple:
    """A caught warning as (text, category, filename, lineno, module): plain data a worker can
    send (the module is looked up where the warning was raised)."""
    return str(w.message), w.category, w.filename, w.lineno, module_of(w.filename)


def show_again(text: str, category: type, filename: str, lineno: int, module: str | None,
               shown: set) -> None:
    """Warn a :func:`caught_record` again under the caller's filters (module filters included):
    each (text, category, line) once per ``shown`` (the caller's, e.g. one per run) unless the
    filters say "always"; "error" raises it, "ignore" drops it."""
    key = (text, category, filename, lineno)
    if _action(text, category, module, lineno) != "always":
        if key in shown:
            return
        shown.add(key)
    warnings.warn_explicit(text, category, filename, lineno, module=module, registry={})


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


def filter_specs() -> list[tuple]:
    """The current warning filters as picklable data (action, message, category, module,
    lineno), for :func:`recording` in another process; a filter whose category cannot be
    pickled (a class local to a function) is left out."""
    specs = []
    for action, message, category, module, lineno in warnings.filters:
        spec = (action, _pattern(message), category, _pattern(module), lineno)
        try:
            pickle.dumps(spec)
        except Exception:       # pickling a class raises PicklingError, AttributeError...
            continue
        specs.append(spec)
    return specs


def _pattern(match) -> str:
    """A filter's message or module as a regular expression ("" for any): a compiled one's
    pattern, or a plain string (Python's own default filters) to be matched exactly."""
    if match is None:
        return ""
    return match.pattern if hasattr(match, "pattern") else re.escape(match) + r"\Z"


@contextlib.contextmanager
def recording(specs: list[tuple]):
    """Record warnings (yields the list of ``WarningMessage``) for :func:`show_again`
    elsewhere, except that those the filters ``specs`` (:func:`filter_specs`) make errors are
    raised here, where they happen (with their planner, episode and period), and those they
    ignore are dropped."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for action, message, category, module, lineno in reversed(specs):
            warnings.filterwarnings(action if action in ("error", "ignore") else "always",
                                    message, category, module, lineno)
        yield caught
