"""Cache of target-network maxima ``max_{a' feasible} Q_target(s', a', ttg)``.

Keyed by ``(next state, time-to-go)``: the value depends on nothing else while the target
network is fixed, so the cache lives exactly as long as one target network and is cleared at
each hard update (the reference implementation kept it for one episode only).
"""

from __future__ import annotations

import numpy as np

__all__ = ["TargetCache"]


class TargetCache:
    """``get``/``put`` the target maximum of a ``(states, time_to_go)`` pair; counts hits."""

    def __init__(self):
        self._values: dict[tuple[bytes, int], float] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(states: np.ndarray, time_to_go: int) -> tuple[bytes, int]:
        return np.ascontiguousarray(states, dtype=np.int64).tobytes(), int(time_to_go)

    def get(self, states, time_to_go: int) -> float | None:
        value = self._values.get(self.key(states, time_to_go))
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, states, time_to_go: int, value: float) -> None:
        self._values[self.key(states, time_to_go)] = float(value)

    def clear(self) -> None:
        """Forget every value (call when the target network changes); counters are kept."""
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
