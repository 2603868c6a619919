"""The base arm of the coRMAB domains (Xu et al., ICLR 2025, arXiv 2503.01919, §5).

Each arm has ``n_states`` ordered states (4 in the paper). Every period it moves up one state
with probability ``up_prob[j, level]`` and down one otherwise, clipped to
``[0, n_states - 1]``. ``level`` is what the domain's action gives the arm: 0 (passive) or 1
(pulled) in the capacity, scheduling and path domains; the number of its group's interventions
chosen (0..3) in the multiple-interventions domain.

Reward timing (differs from the rest of rmab, as in the paper): the reward of a period is
``rewards[j, s'_j]`` on the *next* state; the reported per-step reward is its expectation over
``s'`` given ``(s, a)``::

    E[r | s, level] = up_prob * rewards[min(s + 1, S - 1)] + (1 - up_prob) * rewards[max(s - 1, 0)]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmab._repr import CompactRepr
from rmab._validation import as_float_array, as_generator, check_number
from rmab.belief.update import _check_uniforms, check_actions
from rmab.errors import InvalidModelError

__all__ = ["BaseArms", "paper_rewards", "pull_probabilities", "initial_states",
           "check_states"]


@dataclass(frozen=True, eq=False, repr=False)
class BaseArms(CompactRepr):
    """Up/down arms: ``up_prob`` (n_arms, n_levels) in [0, 1], ``rewards`` (n_arms, n_states).

    Arrays are float64, C-contiguous and read-only after construction.
    """

    up_prob: np.ndarray
    rewards: np.ndarray

    def __post_init__(self):
        owner = "BaseArms"
        up = as_float_array(owner, "up_prob", self.up_prob, ndim=2)
        rew = as_float_array(owner, "rewards", self.rewards, ndim=2)
        if up.shape[0] < 1 or up.shape[1] < 2:
            raise InvalidModelError(f"{owner}.up_prob: must have shape (n_arms >= 1, n_levels "
                                    f">= 2); got {up.shape}")
        if rew.shape[0] != up.shape[0]:   # both shapes: a transposed up_prob blamed rewards
            raise InvalidModelError(f"{owner}.rewards: must have one row per arm, as up_prob "
                                    f"(n_arms, n_levels); got rewards {rew.shape} and up_prob "
                                    f"{up.shape}")
        if rew.shape[1] < 2:
            raise InvalidModelError(f"{owner}.rewards: must have shape (n_arms={up.shape[0]}, "
                                    f"n_states >= 2); got {rew.shape}")
        bad = np.argwhere((up < 0.0) | (up > 1.0))
        if len(bad):
            j, k = (int(i) for i in bad[0])
            raise InvalidModelError(f"{owner}.up_prob: must lie in [0, 1]; got {up[j, k]} at "
                                    f"level {k} (arm {j})")
        for arr in (up, rew):
            arr.setflags(write=False)
        object.__setattr__(self, "up_prob", up)
        object.__setattr__(self, "rewards", rew)

    @property
    def n_arms(self) -> int:
        return self.up_prob.shape[0]

    @property
    def n_levels(self) -> int:
        return self.up_prob.shape[1]

    @property
    def n_states(self) -> int:
        return self.rewards.shape[1]

    def _up_down_rewards(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(self.n_arms)
        up = self.rewards[rows, np.minimum(states + 1, self.n_states - 1)]
        down = self.rewards[rows, np.maximum(states - 1, 0)]
        return up, down

    def level_gains(self, states: np.ndarray) -> np.ndarray:
        """Expected next-state reward of every arm at every level, (n_arms, n_levels).

        ``states`` int64 (n_arms,), trusted (validate with :func:`check_states`).
        """
        up, down = self._up_down_rewards(states)
        return down[:, None] + self.up_prob * (up - down)[:, None]

    def expected_reward(self, states: np.ndarray, levels: np.ndarray) -> float:
        """Σ_j E[r_j(s'_j) | s_j, level_j] (trusted int64 inputs)."""
        up, down = self._up_down_rewards(states)
        p = self.up_prob[np.arange(self.n_arms), levels]
        return float(np.sum(down + p * (up - down)))

    def next_states(self, states: np.ndarray, levels: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Next states: up where ``u < up_prob`` (common random numbers), else down; clipped.
        ``states``, ``levels``, ``u``: (..., n_arms), any leading batch shape (the rollout
        planner simulates many continuations at once)."""
        p = self.up_prob[np.arange(self.n_arms), levels]
        moved = np.where(u < p, states + 1, states - 1)
        return np.clip(moved, 0, self.n_states - 1).astype(np.int64)


def paper_rewards(n_arms: int, n_good: int, rng: np.random.Generator) -> np.ndarray:
    """Reward tables (n_arms, 4): the first ``n_good`` arms ``(0.2, 0.15, 0.1, T)`` with
    ``T ~ U{4, 5, 6}``, the others ``(0.1, 0.15, 0.2, T)`` with ``T ~ U{1, 2, 3}``."""
    rewards = np.tile([0.1, 0.15, 0.2, 0.0], (n_arms, 1))
    rewards[:n_good, :3] = [0.2, 0.15, 0.1]
    rewards[:n_good, 3] = rng.integers(4, 7, size=n_good)
    rewards[n_good:, 3] = rng.integers(1, 4, size=n_arms - n_good)
    return rewards


def pull_probabilities(n_arms: int, rng: np.random.Generator, *, passive=(0.0, 0.2),
                       active=(0.7, 0.9)) -> np.ndarray:
    """Up-probabilities (n_arms, 2): passive ``~ U[passive]``, active ``~ U[active]``."""
    up = np.empty((n_arms, 2))
    up[:, 0] = rng.uniform(*passive, size=n_arms)
    up[:, 1] = rng.uniform(*active, size=n_arms)
    return up


def check_states(owner: str, states, n_arms: int, n_states: int) -> np.ndarray:
    """States as int64 (n_arms,) in [0, n_states)."""
    return check_actions(owner, states, n_arms, n_states, field="states")


def initial_states(n_arms: int, *, p_high: float = 0.2, seed=None, u=None) -> np.ndarray:
    """Initial states as in the paper's protocol: arm ``j`` starts in state 1 with probability
    ``p_high`` and in state 0 otherwise (the reference draws ``Bernoulli(p)`` states; 0.5 in
    training, 0.2 in evaluation). Give ``seed`` or uniforms ``u`` (n_arms,)."""
    n_arms = check_number("initial_states", "n_arms", n_arms, low=1, integer=True)
    p_high = check_number("initial_states", "p_high", p_high, low=0.0, high=1.0)
    if u is None:
        u = as_generator(seed, "initial_states.seed").random(n_arms)
    u = _check_uniforms("initial_states", "u", u, n_arms)
    return (u < p_high).astype(np.int64)
