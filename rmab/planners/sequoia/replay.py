"""Uniform replay buffer of SEQUOIA transitions (numpy ring buffer, seeded sampling)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ReplayBuffer", "Batch"]


@dataclass(frozen=True, eq=False)
class Batch:
    """Sampled transitions: ``states, next_states`` int64 (k, n_arms); ``actions`` float64
    (k, action_size); ``rewards`` (k,); ``time_to_go`` int64 (k,) of the *current* period
    (1 = last period: no bootstrap); ``levels`` int64 (k, n_arms), the arms' action levels."""

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    time_to_go: np.ndarray
    levels: np.ndarray

    def __len__(self) -> int:
        return self.rewards.shape[0]


class ReplayBuffer:
    """Fixed-capacity ring buffer; when full the oldest transition is overwritten."""

    def __init__(self, capacity: int, n_arms: int, action_size: int):
        self.capacity = int(capacity)
        self._states = np.zeros((capacity, n_arms), dtype=np.int64)
        self._next = np.zeros((capacity, n_arms), dtype=np.int64)
        self._actions = np.zeros((capacity, action_size), dtype=np.float64)
        self._rewards = np.zeros(capacity, dtype=np.float64)
        self._ttg = np.zeros(capacity, dtype=np.int64)
        self._levels = np.zeros((capacity, n_arms), dtype=np.int64)
        self._pos = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, states, action, reward: float, next_states, time_to_go: int,
            levels) -> None:
        i = self._pos
        self._states[i] = states
        self._actions[i] = action
        self._rewards[i] = reward
        self._next[i] = next_states
        self._ttg[i] = time_to_go
        self._levels[i] = levels
        self._pos = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement."""
        idx = rng.integers(0, self._size, size=batch_size)
        return Batch(self._states[idx], self._actions[idx], self._rewards[idx],
                     self._next[idx], self._ttg[idx], self._levels[idx])
