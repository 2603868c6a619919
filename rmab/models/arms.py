"""Arm models: per-arm arrays stacked over arms.

Axis order (see ``docs/conventions.md``)::

    transitions[n, a, s, s']   Pr(s' | s, a) for arm n            (N, A, S, S)
    observations[n, a, s', o]  Pr(o | s', a), signal from the next state  (N, A, S, O)
    rewards[n, s, a]           reward earned in state s under action a     (N, S, A)
    costs[n, a]                resource use of action a; costs[n, 0] == 0  (N, A)

All arms of one stack share the numbers of states, actions and signals; every parameter may
differ per arm. Arrays are float64, C-contiguous and read-only after construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rmab._validation import as_float_array, check_costs, check_shape, check_stochastic
from rmab.errors import InvalidModelError

__all__ = ["MDPArms", "POMDPArms", "Arms", "concat_arms"]

_COST_TOL = 1e-12


def _freeze(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _check_costs(owner: str, costs, n_arms: int, n_actions: int) -> np.ndarray:
    if costs is None:
        costs = np.broadcast_to(np.arange(n_actions, dtype=np.float64), (n_arms, n_actions))
    costs = as_float_array(owner, "costs", costs)
    if costs.ndim == 1:
        check_shape(owner, "costs", costs, (n_actions,), ("n_actions",))
        costs = np.ascontiguousarray(np.broadcast_to(costs, (n_arms, n_actions)))
    check_shape(owner, "costs", costs, (n_arms, n_actions), ("n_arms", "n_actions"))
    check_costs(owner, costs)
    dec = np.argwhere(np.diff(costs, axis=1) < -_COST_TOL)
    if len(dec):
        n, a = (int(i) for i in dec[0])
        raise InvalidModelError(f"{owner}.costs: must be non-decreasing in the action; got "
                                f"{costs[n, a]} then {costs[n, a + 1]} for actions {a}, {a + 1} "
                                f"(arm {n})")
    return costs


def _check_rewards(owner: str, rewards, n_arms: int, n_states: int, n_actions: int) -> np.ndarray:
    rewards = as_float_array(owner, "rewards", rewards)
    if rewards.ndim == 1:  # (S,): per state, the same for every arm and action
        check_shape(owner, "rewards", rewards, (n_states,), ("n_states",))
        rewards = np.ascontiguousarray(np.broadcast_to(rewards[None, :, None],
                                                       (n_arms, n_states, n_actions)))
    elif rewards.ndim == 2:  # (N, S): the reward does not depend on the action
        check_shape(owner, "rewards", rewards, (n_arms, n_states), ("n_arms", "n_states"))
        rewards = np.ascontiguousarray(np.repeat(rewards[:, :, None], n_actions, axis=2))
    check_shape(owner, "rewards", rewards, (n_arms, n_states, n_actions),
                ("n_arms", "n_states", "n_actions"))
    return rewards


def _check_transitions(owner: str, transitions) -> np.ndarray:
    transitions = as_float_array(owner, "transitions", transitions)
    if transitions.ndim == 3 and transitions.shape[1] == transitions.shape[2]:
        raise InvalidModelError(f"{owner}.transitions: must have 4 dimensions (n_arms, n_actions, "
                                f"n_states, n_states); got shape {transitions.shape} (one arm's "
                                f"(n_actions, n_states, n_states)? transitions[None] is a stack "
                                f"of that one arm)")
    if transitions.ndim != 4:
        raise InvalidModelError(f"{owner}.transitions: must have 4 dimensions; got shape "
                                f"{transitions.shape}")
    n_arms, n_actions, n_states, _ = transitions.shape
    if n_arms < 1 or n_actions < 1 or n_states < 1:
        raise InvalidModelError(f"{owner}.transitions: must have at least one arm, action and "
                                f"state; got shape {transitions.shape}")
    last = transitions.shape[3]
    if last != n_states and last == n_actions:       # (n_arms, n_states, n_actions, n_states)
        raise InvalidModelError(f"{owner}.transitions: must have shape (n_arms, n_actions, "
                                f"n_states, n_states); got {transitions.shape}: the action and "
                                f"state axes swapped? np.swapaxes(transitions, 1, 2)")
    check_shape(owner, "transitions", transitions, (n_arms, n_actions, n_states, n_states),
                ("n_arms", "n_actions", "n_states", "n_states"))
    check_stochastic(owner, "transitions", transitions, row_desc="arm {0}, action {1}, state {2}")
    return transitions


@dataclass(frozen=True, eq=False)
class MDPArms:
    """Fully observed arms: the state is seen each period.

    Parameters
    ----------
    transitions : array (n_arms, n_actions, n_states, n_states)
    rewards : array (n_arms, n_states, n_actions), (n_arms, n_states) or (n_states,)
    costs : array (n_arms, n_actions) or (n_actions,), optional
        Default ``0, 1, ..., n_actions - 1`` for every arm.
    """

    transitions: np.ndarray
    rewards: np.ndarray
    costs: np.ndarray | None = None

    fully_observed = True

    def __post_init__(self):
        owner = type(self).__name__
        p = _check_transitions(owner, self.transitions)
        n_arms, n_actions, n_states, _ = p.shape
        r = _check_rewards(owner, self.rewards, n_arms, n_states, n_actions)
        c = _check_costs(owner, self.costs, n_arms, n_actions)
        for name, arr in (("transitions", p), ("rewards", r), ("costs", c)):
            object.__setattr__(self, name, _freeze(arr))

    @property
    def n_arms(self) -> int:
        return self.transitions.shape[0]

    @property
    def n_actions(self) -> int:
        return self.transitions.shape[1]

    @property
    def n_states(self) -> int:
        return self.transitions.shape[2]

    @property
    def n_obs(self) -> int:
        """Number of signals: the state itself, so ``n_states``."""
        return self.n_states

    @cached_property
    def observations(self) -> np.ndarray:
        """Identity emission ``(n_arms, n_actions, n_states, n_states)``: the signal is the
        state."""
        eye = np.eye(self.n_states)
        obs = np.ascontiguousarray(np.broadcast_to(eye, (self.n_arms, self.n_actions) + eye.shape))
        return _freeze(obs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_arms={self.n_arms}, n_states={self.n_states}, "
                f"n_actions={self.n_actions})")

    def select(self, index) -> "MDPArms":
        """The arms at ``index`` (integer array, slice or boolean mask) as a new stack."""
        idx = _as_index(index, self.n_arms)
        return MDPArms(self.transitions[idx], self.rewards[idx], self.costs[idx])

    def __len__(self) -> int:
        return self.n_arms


def _signature_hint(shape: tuple, transitions: tuple) -> str:
    """The hint for observations of ``shape`` refused: POMDPArms' arguments in order, told
    the observations were left out where ``shape`` is a reward array's."""
    n_arms, n_actions, n_states, _ = transitions
    rewards = {(n_arms, n_states, n_actions), (n_arms, n_states), (n_states,)}
    return ((", the shape of rewards (the observations left out? " if shape in rewards else
             " (") + "POMDPArms(transitions (n_arms, n_actions, n_states, n_states), "
            "observations (n_arms, n_actions, n_states, n_obs), rewards (n_arms, n_states, "
            "n_actions), costs (n_arms, n_actions), optional); arms seen fully: "
            "MDPArms(transitions, rewards, costs))")


@dataclass(frozen=True, eq=False)
class POMDPArms:
    """Partially observable arms: the state is hidden, a signal is seen after each action.

    Parameters
    ----------
    transitions : array (n_arms, n_actions, n_states, n_states)
    observations : array (n_arms, n_actions, n_states, n_obs)
        ``observations[n, a, s', o] = Pr(o | s', a)``: the signal is emitted from the next state.
    rewards : array (n_arms, n_states, n_actions), (n_arms, n_states) or (n_states,)
    costs : array (n_arms, n_actions) or (n_actions,), optional
    """

    transitions: np.ndarray
    observations: np.ndarray
    rewards: np.ndarray
    costs: np.ndarray | None = None

    fully_observed = False

    def __post_init__(self):
        owner = type(self).__name__
        p = _check_transitions(owner, self.transitions)
        n_arms, n_actions, n_states, _ = p.shape
        o = as_float_array(owner, "observations", self.observations)
        if o.ndim != 4 or o.shape[:3] != (n_arms, n_actions, n_states) or o.shape[3] < 1:
            raise InvalidModelError(
                f"{owner}.observations: must have shape (n_arms={n_arms}, n_actions={n_actions}, "
                f"n_states={n_states}, n_obs); got {o.shape}" + _signature_hint(o.shape, p.shape))
        check_stochastic(owner, "observations", o, row_desc="arm {0}, action {1}, next state {2}")
        r = _check_rewards(owner, self.rewards, n_arms, n_states, n_actions)
        c = _check_costs(owner, self.costs, n_arms, n_actions)
        for name, arr in (("transitions", p), ("observations", o), ("rewards", r), ("costs", c)):
            object.__setattr__(self, name, _freeze(arr))

    n_arms = MDPArms.n_arms
    n_actions = MDPArms.n_actions
    n_states = MDPArms.n_states

    def __repr__(self) -> str:
        return (f"POMDPArms(n_arms={self.n_arms}, n_states={self.n_states}, "
                f"n_actions={self.n_actions}, n_obs={self.n_obs})")

    @property
    def n_obs(self) -> int:
        return self.observations.shape[3]

    def select(self, index) -> "POMDPArms":
        """The arms at ``index`` (integer array, slice or boolean mask) as a new stack."""
        idx = _as_index(index, self.n_arms)
        return POMDPArms(self.transitions[idx], self.observations[idx], self.rewards[idx],
                         self.costs[idx])

    def __len__(self) -> int:
        return self.n_arms


Arms = MDPArms | POMDPArms


def _as_index(index, n_arms: int):
    if isinstance(index, slice):
        return index
    idx = np.asarray(index)
    if idx.dtype == bool:
        if idx.shape != (n_arms,):
            raise InvalidModelError(f"select.index: boolean mask must have shape ({n_arms},); "
                                    f"got {idx.shape}")
        return idx
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise InvalidModelError(f"select.index: must be integers, a slice or a boolean mask; got "
                                f"dtype {idx.dtype}")
    idx = idx.reshape(-1)
    if idx.size and (int(idx.min()) < -n_arms or int(idx.max()) >= n_arms):   # before a cast
        raise InvalidModelError(f"select.index: must lie in [-{n_arms}, {n_arms}) (negative "
                                f"from the end, as numpy's); got {idx.tolist()[:10]}")
    return idx.astype(np.int64, copy=False)


def concat_arms(stacks) -> MDPArms | POMDPArms:
    """Concatenate stacks of the same kind and sizes along the arm axis."""
    if not hasattr(stacks, "__iter__"):
        raise InvalidModelError(f"concat_arms.stacks: must be a sequence of MDPArms or "
                                f"POMDPArms; got {type(stacks).__name__}")
    stacks = list(stacks)
    if not stacks:
        raise InvalidModelError("concat_arms.stacks: must hold at least one stack; got none")
    kind = type(stacks[0])
    if any(type(s) is not kind for s in stacks):
        raise InvalidModelError("concat_arms.stacks: must all be MDPArms or all POMDPArms; got "
                                + ", ".join(type(s).__name__ for s in stacks))
    if not issubclass(kind, (MDPArms, POMDPArms)):
        raise InvalidModelError(f"concat_arms.stacks: each item must be MDPArms or POMDPArms; "
                                f"got {kind.__name__}")
    sizes = [(s.n_states, s.n_actions, s.n_obs) for s in stacks]
    other = next((k for k, size in enumerate(sizes) if size != sizes[0]), None)
    if other is not None:                       # numpy's message named no stack
        raise InvalidModelError(f"concat_arms.stacks: must share (n_states, n_actions, n_obs); "
                                f"got {sizes[0]} for stack 0 and {sizes[other]} for stack "
                                f"{other}")
    cat = lambda name: np.concatenate([getattr(s, name) for s in stacks])  # noqa: E731
    if kind is MDPArms:
        return MDPArms(cat("transitions"), cat("rewards"), cat("costs"))
    return POMDPArms(cat("transitions"), cat("observations"), cat("rewards"), cat("costs"))
