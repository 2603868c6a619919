"""Mixins for result dataclasses (private): a short ``repr`` (arrays by shape and dtype, so
that a result printed in a notebook is one line, not thousands of numbers) and read-only
arrays."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

_SHOWN = 8          # arrays and sequences up to so many values are shown in full


class CompactRepr:
    """Mixin for ``@dataclass(repr=False)`` classes: ``Name(field=value, ...)`` with arrays
    (and tensors) of more than ``_SHOWN`` values as ``array(shape=..., dtype=...)`` and long
    sequences as their type and length, also inside tuples, lists and dicts."""

    def __repr__(self) -> str:
        parts = (f"{f.name}={_short(getattr(self, f.name))}" for f in dataclasses.fields(self)
                 if f.repr)
        return f"{type(self).__name__}({', '.join(parts)})"


def read_only(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself, made read-only (the beliefs, states and actions a simulation hands out)."""
    arr.setflags(write=False)
    return arr


class ReadOnlyArrays:
    """Mixin for frozen dataclasses: each numpy array field is stored as a read-only view
    (the caller's array stays writable), so a result a planner reads at every step cannot be
    changed under it, as the models and ``ExactResult`` cannot."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.flags.writeable:
                view = value.view()
                view.setflags(write=False)
                object.__setattr__(self, f.name, view)


def _short(value) -> str:
    shape = getattr(value, "shape", None)            # numpy arrays, torch tensors
    if isinstance(shape, tuple) and math.prod(shape) > _SHOWN:
        name = "array" if isinstance(value, np.ndarray) else type(value).__name__
        return f"{name}(shape={tuple(shape)}, dtype={getattr(value, 'dtype', None)})"
    if isinstance(value, (list, tuple)):
        if len(value) > _SHOWN:
            return f"<{type(value).__name__} of {len(value)}>"
        inner = ", ".join(map(_short, value)) + ("," if len(value) == 1 and
                                                  isinstance(value, tuple) else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v)}" for k, v in value.items()) + "}"
    return repr(value)


def planner_label(planner) -> str:
    """A planner's name in result tables: its ``name``, or its class's name where it kept the
    helper base classes' placeholder ``"base"`` (two unnamed planners of a user's were 'base'
    and 'base #2' in a comparison: a practitioner's review) or is empty (a blank row, which
    a saved comparison could not be read back with)."""
    name = str(getattr(planner, "name", "base"))
    return type(planner).__name__ if name in ("base", "") else name
