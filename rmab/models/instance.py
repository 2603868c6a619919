"""An RMAB instance: arms, a per-period budget, discount or horizon, initial beliefs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from rmab._validation import as_float_array, check_number, check_shape, check_stochastic
from rmab.errors import InvalidModelError
from rmab.models.arms import MDPArms, POMDPArms

__all__ = ["Instance"]


@dataclass(frozen=True, eq=False)
class Instance:
    """A restless bandit instance.

    Each period every arm ``n`` takes an action ``a_n`` (0 = passive) and the joint action must
    satisfy ``sum_n costs[n, a_n] <= budget``. The reward ``rewards[n, s, a]`` is earned on the
    state ``s`` at the *start* of the period; the arm then moves to ``s'`` and, for POMDP arms,
    emits a signal drawn from ``observations[n, a, s', :]``.

    Parameters
    ----------
    arms : MDPArms or POMDPArms
    budget : float
        Maximum total action cost per period, ``>= 0``.
    discount : float
        Discount factor ``beta`` in ``(0, 1]``; ``1`` requires a finite ``horizon``.
    horizon : int, optional
        Number of periods of an episode. ``None`` means an infinite discounted horizon
        (simulations then truncate at :attr:`episode_length`).
    initial_belief : array (n_arms, n_states), optional
        Distribution of each arm's starting state (default uniform). For fully observed arms the
        starting state is drawn from it and then seen.
    name : str
    metadata : mapping
        JSON-serialisable provenance (generator, parameters, seed).
    """

    arms: MDPArms | POMDPArms
    budget: float
    discount: float = 0.95
    horizon: int | None = None
    initial_belief: np.ndarray | None = None
    name: str = "instance"
    metadata: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.arms, (MDPArms, POMDPArms)):
            raise InvalidModelError(f"Instance.arms: must be MDPArms or POMDPArms; got "
                                    f"{type(self.arms).__name__}")
        budget = check_number("Instance", "budget", self.budget, low=0.0, error=InvalidModelError)
        discount = check_number("Instance", "discount", self.discount, low=0.0, high=1.0,
                                low_open=True, error=InvalidModelError)
        horizon = self.horizon
        if horizon is not None:
            horizon = check_number("Instance", "horizon", horizon, low=1, integer=True,
                                   error=InvalidModelError)
        if discount == 1.0 and horizon is None:
            raise InvalidModelError("Instance.horizon: must be set when discount is 1; got None")
        n, s = self.arms.n_arms, self.arms.n_states
        if self.initial_belief is None:
            belief = np.full((n, s), 1.0 / s)
        else:
            belief = as_float_array("Instance", "initial_belief", self.initial_belief)
            if belief.ndim == 1:
                check_shape("Instance", "initial_belief", belief, (s,), ("n_states",))
                belief = np.ascontiguousarray(np.broadcast_to(belief, (n, s)))
            check_shape("Instance", "initial_belief", belief, (n, s), ("n_arms", "n_states"))
            check_stochastic("Instance", "initial_belief", belief, row_desc="arm {0}")
        belief.setflags(write=False)
        if not isinstance(self.name, str):
            raise InvalidModelError(f"Instance.name: must be a string; got {self.name!r}")
        if not isinstance(self.metadata, Mapping):
            raise InvalidModelError(f"Instance.metadata: must be a mapping; got "
                                    f"{type(self.metadata).__name__}")
        object.__setattr__(self, "budget", budget)
        object.__setattr__(self, "discount", discount)
        object.__setattr__(self, "horizon", horizon)
        object.__setattr__(self, "initial_belief", belief)
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __repr__(self) -> str:    # the arrays would print thousands of lines
        return (f"Instance(name={self.name!r}, arms={self.arms!r}, budget={self.budget:g}, "
                f"discount={self.discount:g}, horizon={self.horizon})")

    @property
    def n_arms(self) -> int:
        return self.arms.n_arms

    @property
    def n_states(self) -> int:
        return self.arms.n_states

    @property
    def n_actions(self) -> int:
        return self.arms.n_actions

    @property
    def n_obs(self) -> int:
        return self.arms.n_obs

    @property
    def fully_observed(self) -> bool:
        return self.arms.fully_observed

    @property
    def episode_length(self) -> int:
        """Periods simulated per episode: ``horizon``, or for an infinite horizon the smallest
        ``T`` with ``discount**T <= 1e-2`` (the truncated tail weighs at most 1 % of the total)."""
        if self.horizon is not None:
            return self.horizon
        return max(1, math.ceil(math.log(1e-2) / math.log(self.discount)))

    def replace(self, **changes) -> "Instance":
        """A copy with some fields changed (validated again)."""
        fields = dict(arms=self.arms, budget=self.budget, discount=self.discount,
                      horizon=self.horizon, initial_belief=self.initial_belief, name=self.name,
                      metadata=self.metadata)
        unknown = set(changes) - set(fields)
        if unknown:
            raise InvalidModelError(f"Instance.replace: unknown fields {sorted(unknown)}")
        fields.update(changes)
        return Instance(**fields)
