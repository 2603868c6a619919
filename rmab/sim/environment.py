"""A vectorised simulator over all arms of an instance: hidden states, signals, rewards, budget.

Each period (``docs/conventions.md``): the planner sees the beliefs and chooses ``actions``;
the joint action must cost at most the budget; the reward ``rewards[n, s, a]`` is earned on the
state ``s`` at the start of the period; then every arm moves to ``s' ~ transitions[n, a, s]``
and emits a signal ``o ~ observations[n, a, s']``, and the simulator updates the beliefs with
the Bayes filter. Fully observed arms show their state: the belief is its one-hot row.

The hot path calls the Numba kernels of :mod:`rmab.belief._kernels` directly after validating
the actions once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rmab._repr import CompactRepr, read_only
from rmab._validation import check_number
from rmab.belief import _kernels
from rmab.belief.update import check_actions, impossible_signal
from rmab.errors import InfeasibleActionError, InvalidParameterError
from rmab.models.instance import Instance
from rmab.sim.noise import NoiseStream, root_sequence

__all__ = ["Environment", "StepResult"]


@dataclass(frozen=True, eq=False, repr=False)
class StepResult(CompactRepr):
    """One period of the simulator.

    Attributes
    ----------
    t : int
        The period just played (0-based).
    reward : float
        ``sum_n rewards[n, s_n, a_n]`` on the states at the start of the period.
    belief : array (n_arms, n_states)
        Beliefs after the update (read-only; one-hot rows for fully observed arms).
    signals : int64 array (n_arms,)
        The signals emitted from the next states (the next states for fully observed arms).
    done : bool
        Whether the episode has reached its horizon.
    """

    t: int
    reward: float
    belief: np.ndarray
    signals: np.ndarray
    done: bool


EPISODE_LIMIT = 10**7     # periods a default episode may run (discount 1 - 4.6e-7)


def default_horizon(owner: str, instance: Instance) -> int:
    """``instance.episode_length``; on an infinite horizon refused past ``EPISODE_LIMIT``
    periods (a discount of 1 - 1e-9 asks for 4.6e9, an episode that looks like a hang)."""
    length = instance.episode_length
    if instance.horizon is None and length > EPISODE_LIMIT:
        raise InvalidParameterError(f"{owner}.horizon: must be given for discount "
                                    f"{instance.discount!r}, whose episodes would run "
                                    f"{float(length):.3g} periods (to 99 % of the discounted "
                                    f"weight; at most {EPISODE_LIMIT:.0e} by default)")
    return length


def check_horizon(owner: str, horizon, instance: Instance) -> int:
    """Periods per episode: at least 1, and at most a finite-horizon instance's own ``H`` (its
    model, and every planner fitted to it, ends there)."""
    horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
    if instance.horizon is not None and horizon > instance.horizon:
        raise InvalidParameterError(f"{owner}.horizon: must be at most the instance's horizon "
                                    f"{instance.horizon} (the model ends there); got {horizon}")
    return horizon


class Environment:
    """Simulator of an :class:`~rmab.models.Instance` over episodes of ``horizon`` periods.

    Parameters
    ----------
    instance : Instance
    horizon : int, optional
        Periods per episode (default ``instance.episode_length``; on an infinite horizon at
        most ``EPISODE_LIMIT``, past which a horizon must be given).
    seed : int, SeedSequence, Generator or None
        Seed of the first episode (see :meth:`reset`).

    Every array handed out (``belief``, ``states``, a step's ``signals``) is a new read-only
    array that later steps do not overwrite.
    """

    def __init__(self, instance: Instance, *, horizon: int | None = None, seed=None):
        if not isinstance(instance, Instance):
            raise InvalidParameterError(f"Environment.instance: must be an Instance; got "
                                        f"{type(instance).__name__}")
        self.horizon = (default_horizon("Environment", instance) if horizon is None
                        else check_horizon("Environment", horizon, instance))
        self.instance = instance
        arms = instance.arms
        self._transitions = arms.transitions
        self._observations = arms.observations
        self._rewards = arms.rewards
        self._arm_index = np.arange(arms.n_arms)
        self._arm_rewards = np.empty(arms.n_arms)
        self.reset(seed=root_sequence("Environment.seed", seed))     # named as the user gave it

    @property
    def t(self) -> int:
        """Periods played in the current episode."""
        return self._t

    @property
    def done(self) -> bool:
        return self._t >= self.horizon

    @property
    def belief(self) -> np.ndarray:
        """Current beliefs (n_arms, n_states), read-only."""
        return self._belief

    @property
    def states(self) -> np.ndarray:
        """Current hidden states, int64 (n_arms,), read-only."""
        return self._states

    def reset(self, *, seed=None) -> np.ndarray:
        """Start an episode; returns the initial beliefs.

        The starting states are drawn from ``instance.initial_belief``; for partially observed
        arms the planner sees that belief, for fully observed arms the one-hot of the state.
        The same ``seed`` gives the same initial states, transitions and signals for every
        sequence of actions that leads to the same states (common random numbers; see
        :mod:`rmab.sim.noise`).
        """
        seq = root_sequence("Environment.reset.seed", seed)
        n = self.instance.n_arms
        self._noise = NoiseStream(seq, n)
        states = np.empty(n, dtype=np.int64)
        _kernels.sample_states_kernel(self.instance.initial_belief, self._noise.initial, states)
        self._states = read_only(states)
        if self.instance.fully_observed:
            self._belief = self._one_hot(states)
        else:
            self._belief = self.instance.initial_belief  # read-only already
        self._t = 0
        return self._belief

    def _one_hot(self, states: np.ndarray) -> np.ndarray:
        belief = np.zeros((self.instance.n_arms, self.instance.n_states))
        belief[self._arm_index, states] = 1.0
        return read_only(belief)

    def step(self, actions) -> StepResult:
        """Play one period with ``actions`` (int array (n_arms,), 0 = passive).

        Raises
        ------
        InvalidParameterError
            Wrong shape, non-integer or out-of-range actions, or the episode is over.
        InfeasibleActionError
            The joint action costs more than the budget (the message gives the overspend) or
            breaks the instance's count limits (``Instance.violation``).
        """
        owner = "Environment.step"
        if self.done:
            raise InvalidParameterError(f"{owner}: must be called at most horizon={self.horizon}"
                                        f" times per episode; got step {self._t + 1} (call reset)")
        inst = self.instance
        a = check_actions(owner, actions, inst.n_arms, inst.n_actions)
        why = inst._violation(a)
        if why is not None:
            raise InfeasibleActionError(f"{owner}.actions: {why}")
        return self._step(a)

    def _step(self, a: np.ndarray) -> StepResult:
        """:meth:`step` with actions already checked (int64 (n_arms,), in range, within the
        budget and count limits: ``BasePlanner._decide``'s) in an episode not yet done."""
        inst = self.instance
        a = a.view()
        a.flags.writeable = False   # one kernel signature whether or not the planner's was
        reward = _kernels.realised_reward_kernel(self._states, a, self._rewards,
                                                 self._arm_rewards)
        noise = self._noise
        noise.advance()
        n = inst.n_arms
        next_states = np.empty(n, dtype=np.int64)
        signals = np.empty(n, dtype=np.int64)
        _kernels.sample_kernel(self._states, a, self._transitions, self._observations,
                               noise.u_state, noise.u_signal, next_states, signals)
        if inst.fully_observed:
            belief = self._one_hot(next_states)
        else:
            belief = np.empty((n, inst.n_states))
            bad = _kernels.update_kernel(self._belief, a, signals, self._transitions,
                                         self._observations, belief)
            if bad >= 0:  # cannot happen when sampling from the model; kept as a guard
                raise impossible_signal("Environment.step", bad, int(a[bad]),
                                        int(signals[bad]))
            read_only(belief)
        self._states = read_only(next_states)
        self._belief = belief
        t = self._t
        self._t += 1
        return StepResult(t=t, reward=float(reward), belief=belief, signals=read_only(signals),
                          done=self.done)
