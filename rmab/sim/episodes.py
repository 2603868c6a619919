"""Play one episode of a fitted planner in an :class:`~rmab.sim.environment.Environment`."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rmab._repr import CompactRepr, planner_label
from rmab.errors import InfeasibleActionError, InvalidParameterError, raise_in
from rmab.planners.base import Planner
from rmab.sim.environment import Environment
from rmab.sim.noise import int_seed, root_sequence

__all__ = ["EpisodeResult", "run_episode"]


@dataclass(frozen=True, eq=False, repr=False)
class EpisodeResult(CompactRepr):
    """Outcome of one episode.

    Attributes
    ----------
    discounted_return : float
        ``sum_t discount**t * reward_t`` (the total when ``discount == 1``).
    total_reward : float
        ``sum_t reward_t``, undiscounted.
    decision_seconds : float
        Mean wall time per period spent in ``planner.plan``.
    n_steps : int
    """

    discounted_return: float
    total_reward: float
    decision_seconds: float
    n_steps: int


def run_episode(env: Environment, planner, *, seed=None, planner_seed=None) -> EpisodeResult:
    """Reset ``env`` with ``seed`` and a fitted ``planner`` with ``planner_seed`` (default: a
    seed derived from ``seed``), then play until the horizon. ``seed=None`` draws fresh noise
    (the ``Environment``'s own seed was its first episode's): give ``seed`` to replay one.

    ``planner`` is a Planner object, fitted to ``env.instance`` (a registry name is refused:
    fit ``make_planner(name)`` first, or let :func:`~rmab.sim.compare.compare` fit names).
    Two planners run with the same ``seed`` see the same noise (common random numbers).
    """
    if not isinstance(env, Environment):
        raise InvalidParameterError(f"run_episode.env: must be an Environment; got "
                                    f"{type(env).__name__}")
    if isinstance(planner, type) or not isinstance(planner, Planner):
        raise InvalidParameterError(f"run_episode.planner: must be a Planner fitted to "
                                    f"env.instance (make_planner(name).fit(env.instance)); got "
                                    f"{planner!r}")
    seq = root_sequence("run_episode.seed", seed)
    if planner_seed is None:
        planner_seed = int_seed(seq)
    return play(env, planner, seq, planner_seed)


def play(env: Environment, planner, noise_seed, planner_seed) -> EpisodeResult:
    """:func:`run_episode` without the checks (trusted input)."""
    belief = env.reset(seed=noise_seed)
    planner.reset(seed=planner_seed)
    discount = env.instance.discount
    weight = 1.0
    ret = total = seconds = 0.0
    while not env.done:
        start = time.perf_counter()
        try:
            actions = planner.plan(belief, t=env.t)
        except Exception as exc:
            raise_in(exc, f"planner {planner_label(planner)!r} at t={env.t}")
        seconds += time.perf_counter() - start
        try:
            step = env.step(actions)
        except (InvalidParameterError, InfeasibleActionError) as exc:
            raise_in(exc, f"planner {planner_label(planner)!r} at t={env.t}")
        ret += weight * step.reward
        total += step.reward
        weight *= discount
        belief = step.belief
    return EpisodeResult(ret, total, seconds / env.horizon, env.horizon)
