"""Common random numbers: seed sequences per episode and the uniforms an episode consumes.

Every random draw of an episode comes from its own :class:`numpy.random.SeedSequence`, so all
planners evaluated on episode ``k`` see exactly the same noise (a paired comparison), whatever
the planner list and the number of worker processes. The tree of seeds, for a root ``seed``::

    SeedSequence(seed).spawn(2)[0]                       planners' fit seed
    SeedSequence(seed).spawn(2)[1].spawn(K)[k]           episode k
        .spawn(2)[0]                                     noise of episode k
            .spawn(3) -> initial states (N,), transitions (T, N), signals (T, N)
        .spawn(2)[1]                                     planners' reset seed in episode k

Children are built from the parent's ``spawn_key`` (:func:`child`) rather than with
``SeedSequence.spawn``, which counts the children it has already handed out and would give new
ones on a second call.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from rmab._validation import _short, seed_hint
from rmab.errors import InvalidParameterError

__all__ = ["root_sequence", "child", "int_seed", "EpisodeSeeds", "fit_seed", "episode_seeds",
           "EpisodeNoise", "episode_noise", "NoiseStream"]


def root_sequence(owner: str, seed) -> np.random.SeedSequence:
    """``seed`` (int >= 0, SeedSequence, Generator or None) as a SeedSequence.

    A Generator is consumed: two 63-bit integers are drawn from it (one 126-bit entropy
    value).
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)) << 64 | int(seed.integers(2**63)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise InvalidParameterError(f"{owner}: must be a non-negative integer, numpy SeedSequence or "
                                f"Generator; got {_short(seed)}" + seed_hint(seed))


def child(seq: np.random.SeedSequence, *path: int) -> np.random.SeedSequence:
    """The descendant ``seq.spawn(.)[path[0]].spawn(.)[path[1]]...``, built without spawning."""
    return np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + tuple(path),
                                  pool_size=seq.pool_size)


def int_seed(seq: np.random.SeedSequence) -> int:
    """A 64-bit integer seed from ``seq`` (what planners' ``fit``/``reset`` receive)."""
    return int(seq.generate_state(1, np.uint64)[0])


@dataclass(frozen=True, eq=False)
class EpisodeSeeds:
    """Seeds of episode ``index``: the noise sequence and the planners' reset seed."""

    index: int
    noise: np.random.SeedSequence
    planner_seed: int


def fit_seed(root: np.random.SeedSequence) -> int:
    """The seed every planner is fitted with."""
    return int_seed(child(root, 0))


def episode_seeds(root: np.random.SeedSequence, episodes: int) -> list[EpisodeSeeds]:
    """Seeds of episodes ``0 .. episodes - 1`` (see the module docstring)."""
    out = []
    for k in range(episodes):
        ep = child(root, 1, k)
        out.append(EpisodeSeeds(k, child(ep, 0), int_seed(child(ep, 1))))
    return out


class NoiseStream:
    """The uniforms of one episode, drawn period by period (memory O(n_arms)).

    ``initial`` (n_arms,) draws the starting states; each :meth:`advance` refills ``u_state``
    and ``u_signal`` (n_arms,) in place. Three independent generators feed the three streams, so
    period ``t``'s numbers equal row ``t`` of :func:`episode_noise`'s arrays.
    """

    def __init__(self, seq: np.random.SeedSequence, n_arms: int):
        init, state, signal = (np.random.default_rng(child(seq, i)) for i in range(3))
        self.initial = init.random(n_arms)
        self._state, self._signal = state, signal
        self.u_state = np.empty(n_arms)
        self.u_signal = np.empty(n_arms)

    def advance(self) -> None:
        self._state.random(out=self.u_state)
        self._signal.random(out=self.u_signal)


@dataclass(frozen=True, eq=False)
class EpisodeNoise:
    """All uniforms of an episode: ``initial`` (N,), ``u_state`` and ``u_signal`` (T, N)."""

    initial: np.ndarray
    u_state: np.ndarray
    u_signal: np.ndarray


def episode_noise(seq: np.random.SeedSequence, n_arms: int, n_periods: int) -> EpisodeNoise:
    """The uniforms :class:`NoiseStream` hands out over ``n_periods``, as whole arrays."""
    init, state, signal = (np.random.default_rng(child(seq, i)) for i in range(3))
    return EpisodeNoise(init.random(n_arms), state.random((n_periods, n_arms)),
                        signal.random((n_periods, n_arms)))
