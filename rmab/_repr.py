"""A short ``repr`` for result dataclasses (private): arrays by shape and dtype, so that a
result printed in a notebook is one line, not thousands of numbers."""

from __future__ import annotations

import dataclasses

import numpy as np

_SHOWN = 8          # arrays and sequences up to so many values are shown in full


class CompactRepr:
    """Mixin for ``@dataclass(repr=False)`` classes: ``Name(field=value, ...)`` with arrays
    of more than ``_SHOWN`` values as ``array(shape=..., dtype=...)`` and long sequences as
    their type and length."""

    def __repr__(self) -> str:
        parts = (f"{f.name}={_short(getattr(self, f.name))}" for f in dataclasses.fields(self)
                 if f.repr)
        return f"{type(self).__name__}({', '.join(parts)})"


def _short(value) -> str:
    if isinstance(value, np.ndarray) and value.size > _SHOWN:
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, (list, tuple)) and len(value) > _SHOWN:
        return f"<{type(value).__name__} of {len(value)}>"
    return repr(value)
