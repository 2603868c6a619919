"""Play one episode of a fitted planner in an :class:`~rmab.sim.environment.Environment`."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rmab._repr import CompactRepr, planner_label
from rmab._validation import as_generator
from rmab.errors import InfeasibleActionError, InvalidParameterError, raise_in
from rmab.planners.base import Planner, uses_decide
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
        Mean wall time per period spent in ``planner.plan`` (for a ``BasePlanner``, in its
        ``_plan`` and the check of its actions: the environment's beliefs are not checked).
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
    fitted = getattr(planner, "instance", None)
    if fitted is not None and fitted is not env.instance:
        # its plan checks actions against its own instance: another budget was overspent
        raise InvalidParameterError(f"run_episode.planner: must be fitted to env.instance; "
                                    f"{planner_label(planner)!r} was fitted to another "
                                    f"Instance object (planner.fit(env.instance))")
    seq = root_sequence("run_episode.seed", seed)
    if planner_seed is None:
        planner_seed = int_seed(seq)
    else:                   # checked (a Generator as it is), named here, not by the planner
        as_generator(planner_seed, "run_episode.planner_seed")
    return play(env, planner, seq, planner_seed)


def play(env: Environment, planner, noise_seed, planner_seed, label=None) -> EpisodeResult:
    """:func:`run_episode` without the checks (trusted input); ``label`` names the planner in
    errors (default its own name; a comparison's row, e.g. 'myopic #2').

    An :class:`Environment`'s beliefs are valid by construction (read-only, never written
    again), so a :class:`~rmab.planners.base.BasePlanner` decides through ``_decide``, which
    skips ``plan``'s belief check and copy and checks the actions, and the environment does not
    check them again (``_step``). Any other planner, or a subclass of ``Environment`` (its
    beliefs and ``step`` may be its own), goes through ``plan`` and ``step``. Same numbers
    either way; 1.2-2x faster periods at 50 arms (docs/benchmarks.md)."""
    belief = env.reset(seed=noise_seed)
    where = "planner " + repr(planner_label(planner) if label is None else label)
    try:
        planner.reset(seed=planner_seed)
    except Exception as exc:
        raise_in(exc, f"{where} at its reset")
    if (type(env) is Environment and uses_decide(planner)
            and planner.instance is env.instance):
        decide, step_with = planner._decide, env._step       # the actions checked once
    else:
        decide, step_with = (lambda belief, t: planner.plan(belief, t=t)), env.step
    discount = env.instance.discount
    weight = 1.0
    ret = total = seconds = 0.0
    while not env.done:
        start = time.perf_counter()
        try:
            actions = decide(belief, env.t)
        except Exception as exc:
            raise_in(exc, f"{where} at t={env.t}")
        seconds += time.perf_counter() - start
        try:
            step = step_with(actions)
        except (InvalidParameterError, InfeasibleActionError) as exc:
            raise_in(exc, f"{where} at t={env.t}")
        ret += weight * step.reward
        total += step.reward
        weight *= discount
        belief = step.belief
    return EpisodeResult(ret, total, seconds / env.horizon, env.horizon)
