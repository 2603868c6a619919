"""Monte-Carlo rollout (Bertsekas and Castañon 1999; Meshram et al. for restless bandits).

At the current beliefs, each candidate first action is followed by a base planner (a
registry name, ``"myopic"`` by default) for the remaining ``horizon - 1`` periods; ``L``
simulated trajectories per candidate estimate its discounted return

    Q(π, a) ≈ (1/L) Σ_l Σ_{t<H} β^t R(π_t^l, a_t^l),   a_0 = a, a_t = base(π_t) for t >= 1,

where ``R(π, a) = Σ_n π_n · r_n[:, a_n]`` is the expected reward under the simulated belief
(lower variance than the realised reward, same mean). Candidates share their random numbers
(common random numbers): trajectory ``l`` uses the same uniforms for the initial states, the
transitions and the signals, and the base planner is reset with the same seed, so differences
between candidates are estimated with far less noise than the values themselves.

Two modes:

* ``"joint"`` (tiny instances): every feasible joint action is a candidate; the best estimate
  wins.
* ``"per-arm"`` (many arms): for each action level ``a`` one set of trajectories starts with
  every arm taking ``a`` (a counterfactual that ignores the budget in the first period only);
  arm ``n``'s own discounted reward estimates ``Q_n(π_n, a)``. The joint action maximises
  ``Σ_n Q_n(π_n, a_n)`` under the budget (:func:`rmab.relax.knapsack.solve_knapsack`).
  This ignores how arm ``n``'s first action shifts the base planner's later choices for the
  other arms, an approximation that vanishes as the number of arms grows.

Choosing ``H`` and ``L``. Truncating at ``H`` periods misses at most
``β^H max|r| / (1 - β)`` per arm. A trajectory's return lies in a range of width
``Δ = (r_max - r_min)(1 - β^H)/(1 - β)`` (per arm; times ``N`` for joint returns), so by
Hoeffding's inequality ``L >= Δ² ln(2K/δ) / (2 ε²)`` trajectories put all ``K`` candidates'
estimates within ``ε`` of their means with probability ``1 - δ``
(:func:`hoeffding_trajectories`); common random numbers usually make far fewer enough to
*rank* the candidates.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from rmab._repr import CompactRepr, ReadOnlyArrays, read_only
from rmab._validation import as_generator, check_number
from rmab.belief import _kernels as _belief
from rmab.belief.update import check_actions, check_beliefs
from rmab.errors import ImpossibleSignalError, InfeasibleActionError, InvalidParameterError
from rmab.models.instance import Instance
from rmab.relax.knapsack import JOINT_LIMIT, feasible_joint_actions, solve_knapsack

__all__ = ["RolloutResult", "rollout", "hoeffding_trajectories", "MODES"]

MODES = ("auto", "joint", "per-arm")
UNIFORM_LIMIT = 2**30      # uniforms drawn up front per rollout (8 GB): past it, an error


@dataclass(frozen=True, eq=False, repr=False)
class RolloutResult(CompactRepr, ReadOnlyArrays):
    """Rollout estimates at one set of beliefs.

    Attributes
    ----------
    actions : (N,) int64  the chosen joint action
    mode : "joint" or "per-arm"
    q, q_stderr : (N, A) per-arm estimates and their standard errors (per-arm mode), else None
    candidates : (K, N) int64 joint candidates (joint mode), else None
    values, stderr : (K,) their estimated returns and standard errors (joint mode), else None
    arm_values : (K, N) or (A, N) each arm's mean discounted reward in each candidate's runs
    horizon, n_trajectories, truncation_bound (``Σ_{H <= k < L} β^k max|r|`` per arm, ``L`` the
    periods left after the planning period ``t`` (``T - t`` on a horizon ``T``) or infinity,
    discounted from ``t``), seconds
    """

    actions: np.ndarray
    mode: str
    q: np.ndarray | None
    q_stderr: np.ndarray | None
    candidates: np.ndarray | None
    values: np.ndarray | None
    stderr: np.ndarray | None
    arm_values: np.ndarray
    horizon: int
    n_trajectories: int
    truncation_bound: float
    seconds: float


def hoeffding_trajectories(epsilon: float, delta: float, value_range: float,
                           n_candidates: int = 1) -> int:
    """Smallest ``L`` with ``2 K exp(-2 L ε² / Δ²) <= δ``: every one of ``K`` candidates'
    mean of ``L`` returns in a range of width ``Δ`` is within ``ε`` of its expectation with
    probability at least ``1 - δ``."""
    owner = "hoeffding_trajectories"
    epsilon = check_number(owner, "epsilon", epsilon, low=0.0, low_open=True)
    delta = check_number(owner, "delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    value_range = check_number(owner, "value_range", value_range, low=0.0)
    n_candidates = check_number(owner, "n_candidates", n_candidates, low=1, integer=True)
    ratio = value_range / epsilon
    count = ratio * ratio * (math.log(2 * n_candidates) - math.log(delta)) / 2
    if not math.isfinite(count):
        raise InvalidParameterError(f"{owner}.epsilon: must give a number of trajectories "
                                    f"within float64 range; got epsilon={epsilon:g} for "
                                    f"value_range={value_range:g}")
    return max(1, math.ceil(count))


def check_joint(owner: str, instance, mode: str, max_joint: int) -> None:
    """Refuse mode ``"joint"`` when the instance has more joint actions than ``max_joint``
    (the count as a power past 12 digits: 3 ** 10 000 printed in full ran to 4 772)."""
    n_actions, n_arms = instance.n_actions, instance.n_arms
    if mode == "joint" and n_actions ** n_arms > max_joint:
        count = (f"{n_actions ** n_arms}" if n_arms * math.log10(n_actions) <= 12
                 else f"{n_actions}**{n_arms}")
        raise InvalidParameterError(f"{owner}.max_joint: must be >= n_actions ** n_arms = "
                                    f"{count} for mode 'joint'; got {max_joint}")


def _feasible_joint(instance, limit):
    """Every feasible joint action (budget and count limits), or None when ``A^N`` exceeds
    ``limit``."""
    n_arms, n_actions = instance.n_arms, instance.n_actions
    if n_actions ** n_arms > limit:
        return None
    return feasible_joint_actions(instance.arms.costs, instance.budget, **instance.limits)


def _checked_plan(instance, base):
    """``base.plan`` with its actions checked as ``Environment.step`` checks them (integers in
    range, within the budget and count limits): a Planner that is not a ``BasePlanner``, or one
    with its own ``plan``, is not checked by ``_decide``, and its action would otherwise go
    unchecked into the kernels (an action of -1 read as the last one, an overspend valued as
    if feasible)."""
    owner = f"{type(base).__name__}.plan (the rollout's base)"
    n_arms, n_actions = instance.n_arms, instance.n_actions

    def decide(belief, t):
        actions = check_actions(owner, base.plan(belief, t=t), n_arms, n_actions)
        why = instance._violation(actions)
        if why is not None:
            raise InfeasibleActionError(f"{owner}: the action planned breaks the instance's "
                                        f"limits: {why}")
        return actions

    return decide


class _Simulator:
    """Trajectories of an instance under "first action, then the base planner"."""

    def __init__(self, instance, base, horizon, n_traj, rng, t0=0):
        from rmab.planners.base import uses_decide  # as rollout's make_planner: not at import

        arms = instance.arms
        self.p = np.ascontiguousarray(arms.transitions)
        self.o = np.ascontiguousarray(arms.observations)
        self.r = arms.rewards
        self.beta = instance.discount
        self.base = base
        # the beliefs below come from the Bayes filter, valid by construction: the base
        # planner's _decide skips plan's belief check and copy, and still checks its actions
        self.decide = base._decide if uses_decide(base) else _checked_plan(instance, base)
        self.horizon = horizon
        self.t0 = t0                       # the episode's period of the rollout's first one
        n = instance.n_arms
        size = n_traj * (2 * horizon + 1) * n
        if size > UNIFORM_LIMIT:        # numpy's MemoryError, or the machine swapping, before
            raise InvalidParameterError(f"rollout: n_trajectories x horizon x arms = {n_traj} "
                                        f"x {horizon} x {n} would draw {size:.3g} random "
                                        f"numbers up front, more than {UNIFORM_LIMIT:.3g} (8 "
                                        f"GB); lower horizon or n_trajectories")
        self.u_init = rng.random((n_traj, n))
        self.u_state = rng.random((n_traj, horizon, n))
        self.u_signal = rng.random((n_traj, horizon, n))
        self.seeds = rng.integers(0, 2**63 - 1, n_traj)

    def returns(self, belief, first) -> np.ndarray:
        """Per-trajectory, per-arm discounted rewards (L, N) when every trajectory starts with
        the joint action ``first``."""
        n_traj, n = self.u_init.shape
        idx = np.arange(n)
        out = np.zeros((n_traj, n))
        states = np.empty(n, dtype=np.int64)
        nxt = np.empty(n, dtype=np.int64)
        signals = np.empty(n, dtype=np.int64)
        for l in range(n_traj):
            self.base.reset(seed=int(self.seeds[l]))
            b = read_only(belief.copy())
            _belief.sample_states_kernel(b, self.u_init[l], states)
            for t in range(self.horizon):
                # read-only, as Environment.step's actions and states: one signature of the
                # belief kernels (writable ones had compiled them a second time)
                a = read_only((first if t == 0 else self.decide(b, self.t0 + t)).view())
                out[l] += self.beta ** t * np.einsum("ns,ns->n", b, self.r[idx, :, a])
                if t == self.horizon - 1:
                    break
                _belief.sample_kernel(read_only(states.view()), a, self.p, self.o,
                                      self.u_state[l, t], self.u_signal[l, t], nxt, signals)
                # a new array each period, read-only once filled: the base planner is handed
                # what plan would hand it, a belief no later period overwrites (it may keep it)
                post = np.empty_like(b)
                bad = _belief.update_kernel(b, a, signals, self.p, self.o, post)
                if bad >= 0:  # a zero-probability signal: the belief was off the model
                    raise ImpossibleSignalError(f"rollout: arm {bad} drew a signal of "
                                                f"probability 0 under its belief")
                b = read_only(post)
                states, nxt = nxt, states
        return out


def _check(owner, horizon, n_trajectories, mode, max_joint):
    horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
    n_trajectories = check_number(owner, "n_trajectories", n_trajectories, low=1, integer=True)
    if not isinstance(mode, str) or mode not in MODES:
        raise InvalidParameterError(f"{owner}.mode: must be one of {MODES}; got {mode!r}")
    max_joint = check_number(owner, "max_joint", max_joint, low=1, high=JOINT_LIMIT,
                             integer=True)
    return horizon, n_trajectories, max_joint


def rollout(instance: Instance, belief, *, base="myopic", base_params=None, horizon: int = 10,
            n_trajectories: int = 16, mode: str = "auto", max_joint: int = 256,
            t: int = 0, seed=None) -> RolloutResult:
    """Rollout estimates and the chosen joint action at ``belief`` (n_arms, n_states).

    Parameters
    ----------
    instance : Instance
    belief : array (n_arms, n_states)
    base : str or planner
        A registry name (made with ``base_params`` and fitted here) or a planner already
        fitted to ``instance``.
    horizon : int >= 1   periods simulated, the first one included (on a finite-horizon
        instance at most the ``instance.horizon - t`` periods left)
    n_trajectories : int >= 1   ``L`` (see the module docstring for Hoeffding guidance)
    mode : {"auto", "joint", "per-arm"}
        ``"auto"``: joint enumeration when ``n_actions ** n_arms <= max_joint``.
    t : int >= 0   the episode's period at ``belief`` (the base planner is called with the
        episode's periods)
    seed : int, SeedSequence or Generator
    """
    owner = "rollout"
    if not isinstance(instance, Instance):
        raise InvalidParameterError(f"{owner}.instance: must be an Instance; got "
                                    f"{type(instance).__name__}")
    horizon, n_trajectories, max_joint = _check(owner, horizon, n_trajectories, mode, max_joint)
    last = None if instance.horizon is None else instance.horizon - 1
    t = check_number(owner, "t", t, low=0, high=last, integer=True)   # a period of the episode
    b = check_beliefs(owner, belief, instance.n_arms, instance.n_states, "belief")
    rng = as_generator(seed, f"{owner}.seed")
    if base_params is not None and not isinstance(base_params, dict):
        raise InvalidParameterError(f"{owner}.base_params: must be a dict of the base planner's "
                                    f"parameters; got {base_params!r}")
    if isinstance(base, str) and base == "rollout":     # as RolloutPlanner: H times the work
        raise InvalidParameterError(f"{owner}.base: must be the name of another registered "
                                    f"planner; got 'rollout'")
    if isinstance(base, str):
        from rmab.planners.base import make_planner
        base = make_planner(base, **(base_params or {})).fit(instance, seed=rng)
    elif not hasattr(base, "plan") or getattr(base, "instance", None) is not instance:
        raise InvalidParameterError(f"{owner}.base: must be a planner name or a planner fitted "
                                    f"to this instance; got {base!r}")
    elif base_params:               # a fitted planner keeps its own parameters
        raise InvalidParameterError(f"{owner}.base_params: must be given with a planner name "
                                    f"only (a planner object is used as fitted); got "
                                    f"{base_params!r} with {base!r}")
    return _rollout(instance, base, b, horizon, n_trajectories, mode, max_joint, rng, t)


def _tail_weight(beta: float, horizon: int, end: int | None) -> float:
    """``Σ_{t=horizon}^{end-1} β^t``, the weight of the periods a rollout of ``horizon``
    periods leaves out (``end`` None: infinite, then ``β < 1``)."""
    if end is None:
        return beta ** horizon / (1.0 - beta)
    if end <= horizon:
        return 0.0
    return float(end - horizon) if beta == 1.0 else (beta ** horizon - beta ** end) / (1.0 - beta)


def _rollout(instance, base, belief, horizon, n_traj, mode, max_joint, rng,
             t0=0) -> RolloutResult:
    start = time.perf_counter()
    arms = instance.arms
    left = None if instance.horizon is None else instance.horizon - t0     # >= 1 (checked)
    if left is not None:
        horizon = min(horizon, left)               # never simulate past the episode's end
    sim = _Simulator(instance, base, horizon, n_traj, rng, t0)
    beta = instance.discount
    trunc = _tail_weight(beta, horizon, left) * float(np.abs(arms.rewards).max())
    n, n_actions = instance.n_arms, instance.n_actions
    cand = None
    if mode in ("auto", "joint"):
        check_joint("rollout", instance, mode, max_joint)
        cand = _feasible_joint(instance, max_joint)
    if cand is not None:
        per_arm = np.stack([sim.returns(belief, c) for c in cand])      # (K, L, N)
        totals = per_arm.sum(axis=2)                                     # (K, L)
        values = totals.mean(axis=1)
        stderr = totals.std(axis=1, ddof=1) / math.sqrt(n_traj) if n_traj > 1 \
            else np.full(len(cand), np.nan)
        best = int(np.argmax(values))
        return RolloutResult(cand[best].copy(), "joint", None, None, cand, values, stderr,
                             per_arm.mean(axis=1), horizon, n_traj, trunc,
                             time.perf_counter() - start)
    per_level = np.stack([sim.returns(belief, np.full(n, a, dtype=np.int64))
                          for a in range(n_actions)])                    # (A, L, N)
    q = per_level.mean(axis=1).T                                         # (N, A)
    q_se = (per_level.std(axis=1, ddof=1).T / math.sqrt(n_traj) if n_traj > 1
            else np.full_like(q, np.nan))
    res = solve_knapsack(q, arms.costs, instance.budget, **instance.limits)
    return RolloutResult(res.actions, "per-arm", q, q_se, None, None, None, q.T.copy(),
                         horizon, n_traj, trunc, time.perf_counter() - start)
