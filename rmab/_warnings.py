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
    """Warn a :func:`caught_record` again under the caller's filters (module filters included),
    unless ``shown`` (the caller's, e.g. one per run) already holds its (text, category, line)."""
    key = (text, category, filename, lineno)
    if key not in shown:
        shown.add(key)
        warnings.warn_explicit(text, category, filename, lineno, module=module, registry={})
