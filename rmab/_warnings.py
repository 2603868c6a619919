"""Warnings caught in one place and shown in another (a worker process, a step loop)."""

from __future__ import annotations

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
