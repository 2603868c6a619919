"""Index, Lagrangian and rollout planners for the coRMAB domains (``coRMAB.md`` §3, "ours").

Every domain relaxes to a per-period budget on a per-arm resource (:func:`relaxed_instance`):
each arm becomes an MDP whose actions are its levels, with the expected one-step reward
``R(s, ℓ) = Σ_s' P(s' | s, ℓ) r(s')`` (the domain pays on the next state;
:meth:`BaseArms.level_gains`), and the combinatorial constraints are replaced by
``Σ_j c_j(ℓ_j) <= budget``, a constraint every feasible action satisfies:

==============  ========================  ==========================================
domain          resource ``c_j(ℓ)``       relaxed budget
==============  ========================  ==========================================
capacity        ``ℓ · cost_j``            ``Σ_i C_i`` (total worker capacity)
scheduling      ``ℓ`` (pulls)             ``B`` (at most ``B`` arms pulled)
path            ``ℓ`` (pulls)             ``B`` (at most ``B`` nodes pulled)
interventions   ``ℓ`` (interventions      ``B · max_i #{j : ω_ji > 0}`` (each chosen
                received, 0..3)           intervention raises at most that many levels)
==============  ========================  ==========================================

The index and Lagrangian planners turn the relaxation into per-arm, per-level *gains* and then
act by the domain's own MILP with those gains as the linear objective (exactly the myopic
MIP's model with another objective), so their actions are feasible under the combinatorial
constraints. In the multiple-interventions domain arms have four levels and the indices are
multi-action (Glazebrook, Hodge and Kirkbride 2011); the relaxation ignores that the three
arms of a group receive the same level, which the MILP then enforces.

References: P. Whittle (1988); J. T. Hawkins (2003); D. P. Bertsekas, J. N. Tsitsiklis and
C. Wu (1997), rollout algorithms; Xu, Wilder, Khalil and Tambe (ICLR 2025).
"""

from __future__ import annotations


import numpy as np

from rmab._validation import check_discount, check_flag, check_number
from rmab.domains.arm import BaseArms
from rmab.domains.base import Domain
from rmab.domains.baselines import BaseDomainPlanner, MyopicMIPPlanner
from rmab.errors import InvalidParameterError, raise_in
from rmab.models.arms import MDPArms
from rmab.models.instance import Instance

__all__ = ["arm_mdp", "relaxed_arms", "relaxed_instance", "WhittleDomainPlanner",
           "FiniteWhittleDomainPlanner", "LagrangianDomainPlanner", "RolloutDomainPlanner"]


def arm_mdp(arms: BaseArms, costs: np.ndarray | None = None) -> MDPArms:
    """The base arms as MDPs: actions = levels, ``transitions[j, ℓ, s, s']`` the up/down
    move, ``rewards[j, s, ℓ]`` the expected next-state reward (earned at the start of the
    period, rmab's convention); ``costs`` (n_arms, n_levels), default ``ℓ``."""
    n, n_levels, n_states = arms.n_arms, arms.n_levels, arms.n_states
    s = np.arange(n_states)
    up, down = np.minimum(s + 1, n_states - 1), np.maximum(s - 1, 0)
    p = arms.up_prob[:, :, None]                                       # (n, L, 1)
    trans = np.zeros((n, n_levels, n_states, n_states))
    np.add.at(trans, (slice(None), slice(None), s, up), np.broadcast_to(p, trans.shape[:3]))
    np.add.at(trans, (slice(None), slice(None), s, down),
              np.broadcast_to(1.0 - p, trans.shape[:3]))
    rewards = np.stack([arms.level_gains(np.full(n, k, dtype=np.int64)) for k in s], axis=1)
    return MDPArms(trans, rewards, costs)


def _resource(domain: Domain, owner: str) -> tuple[np.ndarray, float]:
    """Per-arm resource per level (n_arms, n_levels) and the relaxed budget (module table)."""
    from rmab.domains.capacity import CapacityDomain
    from rmab.domains.interventions import InterventionsDomain
    from rmab.domains.path import PathDomain
    from rmab.domains.scheduling import SchedulingDomain

    levels = np.arange(domain.arms.n_levels, dtype=np.float64)[None, :]
    if isinstance(domain, CapacityDomain):
        return domain.costs[:, None] * levels, float(domain.capacities.sum())
    if isinstance(domain, (SchedulingDomain, PathDomain)):
        return np.repeat(levels, domain.n_arms, axis=0), float(domain.budget)
    if isinstance(domain, InterventionsDomain):
        reach = int((domain.omega > 0).sum(axis=0).max())
        return np.repeat(levels, domain.n_arms, axis=0), float(domain.budget * reach)
    raise InvalidParameterError(f"{owner}.domain: must be a domain that relaxes to a "
                                f"per-arm budget (interventions, capacity, scheduling, path); "
                                f"got {type(domain).__name__}")


def relaxed_arms(domain: Domain, owner: str = "relaxed_arms") -> tuple[MDPArms, float]:
    """The budget relaxation of ``domain`` (module table): its arms as MDPs whose costs are
    the per-level resource, and the relaxed budget."""
    if not isinstance(domain, Domain):
        raise InvalidParameterError(f"{owner}.domain: must be a Domain; got "
                                    f"{type(domain).__name__}")
    costs, budget = _resource(domain, owner)
    return arm_mdp(domain.arms, costs), budget


def relaxed_instance(domain: Domain, *, discount: float = 0.99) -> Instance:
    """The budget relaxation of ``domain`` (module table) as an rmab :class:`Instance`
    (infinite horizon, ``discount``)."""
    arms, budget = relaxed_arms(domain, "relaxed_instance")
    discount = check_discount("relaxed_instance", discount)
    return Instance(arms, budget, discount=discount, name=f"{domain.kind}-relaxation")


class _GainsMIPPlanner(MyopicMIPPlanner):
    """The myopic MIP with the one-step gains replaced by ``_gains(states)`` (n_arms,
    n_levels): the relaxation is built at fit (``self._instance``)."""

    _finite = None          # how to ask for a finite horizon, told to a discount of 1

    def __init__(self, discount: float = 0.99, backend: str = "highs",
                 time_limit: float | None = None, mip_gap: float = 1e-6):
        super().__init__(backend=backend, time_limit=time_limit, mip_gap=mip_gap)
        self.discount = check_discount(type(self).__name__, discount, finite=self._finite)

    def _fit(self, domain):
        self._instance = relaxed_instance(domain, discount=self.discount)
        super()._fit(domain)

    def _gains(self, states: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class WhittleDomainPlanner(_GainsMIPPlanner):
    """Whittle index policy with the domain's constraints.

    At fit: the (multi-action) Whittle indices ``W_j(s, ℓ)`` of every arm of the relaxation
    (:func:`rmab.relax.whittle.whittle_indices`, homotopy, ``discount``), a price per unit of
    resource. At plan: arm ``j`` at level ``ℓ`` gains ``G_j(ℓ) = Σ_{k<=ℓ} W_j(s_j, k)
    (c_j(k) - c_j(k-1))`` (binary arms: ``W_j(s_j) c_j``, the subsidy in reward units for
    the arm's resource ``c_j``; ``c_j = 1`` in the cardinality domains) and the action maximises
    ``Σ_j G_j(ℓ_j)`` over the domain's MILP. The relaxations' resource strictly increases with the
    level, so every index is finite.
    Non-indexable arms raise :class:`~rmab.errors.IndexabilityWarning` at fit.

    ``horizon=H``: the time-dependent indices of the undiscounted ``H``-period problem
    (:func:`rmab.relax.whittle.finite_whittle_indices`; period ``t`` uses those with ``H - t``
    periods to go, the last beyond ``H``), the objective of the paper's protocol at ``H = 20``,
    instead of the discounted infinite-horizon ones (``discount``, the default).
    """

    name = "whittle"
    _finite = "pass horizon=H instead, whose indices are undiscounted"

    def __init__(self, discount: float = 0.99, backend: str = "highs",
                 time_limit: float | None = None, mip_gap: float = 1e-6,
                 horizon: int | None = None):
        horizon = (None if horizon is None else
                   check_number("WhittleDomainPlanner", "horizon", horizon, low=1, integer=True))
        if horizon is not None:           # "pass horizon=H" misled: it was given, discount unused
            self._finite = (f"horizon={horizon} is given, whose indices are undiscounted "
                            f"already: leave the discount out")
        super().__init__(discount=discount, backend=backend, time_limit=time_limit,
                         mip_gap=mip_gap)
        self.horizon = horizon

    def _fit(self, domain):
        from rmab.relax.whittle import finite_whittle_indices, whittle_indices

        super()._fit(domain)
        arms = self._instance.arms
        steps = np.diff(arms.costs, axis=1)
        if self.horizon is None:
            res = whittle_indices(arms, discount=self.discount)
            tables = res.indices[None]                                  # (1, n, S, L-1)
        else:
            res = finite_whittle_indices(arms, horizon=self.horizon, discount=1.0)
            tables = res.indices                                        # (H, n, S, L-1)
        gains = np.zeros(tables.shape[:3] + (arms.n_actions,))
        gains[..., 1:] = np.cumsum(tables * steps[None, :, None, :], axis=3)
        self.indices = res.indices
        self.gain_tables = gains                                        # (H or 1, n, S, L)
        self.gain_table = gains[0]                                      # (n, S, L): period 0
        self._period = 0       # _gains before any plan (a benchmark's call) is period 0's

    def _plan(self, states, t):
        self._period = min(t, len(self.gain_tables) - 1)
        return super()._plan(states, t)

    def _gains(self, states):
        return self.gain_tables[self._period][np.arange(states.size), states]


class FiniteWhittleDomainPlanner(WhittleDomainPlanner):
    """:class:`WhittleDomainPlanner` with the finite-horizon indices of the paper's protocol,
    ``horizon = 20`` by default (registered as ``whittle-finite``;
    docs/history.md#benchmarks-combinatorial-planning, session 21: above the discounted indices
    on 19 of the quality table's 20 instances)."""

    name = "whittle-finite"

    def __init__(self, horizon: int = 20, backend: str = "highs",
                 time_limit: float | None = None, mip_gap: float = 1e-6):
        super().__init__(backend=backend, time_limit=time_limit, mip_gap=mip_gap,
                         horizon=horizon)


class LagrangianDomainPlanner(_GainsMIPPlanner):
    """Lagrangian policy with the domain's constraints (Hawkins 2003, recomputed every period).

    At plan: the price ``λ*`` minimising the dual of the relaxation from the current states
    (:func:`rmab.relax.lagrangian.lagrangian_bound`, bisection, exact per-arm values), and
    per-level gains maximised over the domain's MILP:

    * ``charge_now=False`` (default): ``R_j(s_j, ℓ) + β E V_j^{λ*}(s'_j)`` less the same at
      level 0 — the reward now plus the λ*-optimal continuation. The MILP enforces this
      period's constraints exactly, so the price only charges *future* resource use through
      the continuation values.
    * ``charge_now=True``: the textbook ``Q_j^{λ*}(s_j, ℓ) - Q_j^{λ*}(s_j, 0)``, which also
      charges ``λ* c_j(ℓ)`` now (an arm whose advantage falls below the price is left idle
      even when the constraints would allow pulling it).

    On J = 20, B = 5 (2 seeds, 10 episodes) the default scored 2.89 / 3.96 (capacity /
    scheduling, RANDOM = 1) against 2.71 / 3.60 with ``charge_now=True``.
    ``last_stats.info["price"]`` is ``λ*``; ``price_tol`` is the relative tolerance of its
    search.
    """

    name = "lagrangian"

    def __init__(self, discount: float = 0.99, price_tol: float = 1e-4,
                 charge_now: bool = False, backend: str = "highs",
                 time_limit: float | None = None, mip_gap: float = 1e-6):
        super().__init__(discount=discount, backend=backend, time_limit=time_limit,
                         mip_gap=mip_gap)
        self.charge_now = check_flag("LagrangianDomainPlanner", "charge_now", charge_now)
        self.price_tol = check_number(type(self).__name__, "price_tol", price_tol, low=0.0,
                                      low_open=True)

    def _gains(self, states):
        from rmab.relax.lagrangian import lagrangian_bound

        beliefs = np.eye(self._instance.n_states)[states]
        res = lagrangian_bound(self._instance, beliefs=beliefs, price_tol=self.price_tol,
                               certificate=False)
        self.last_stats.info["price"] = res.price
        q = res.q_values(beliefs)
        if not self.charge_now:
            q = q + res.price * self._instance.arms.costs
        return q - q[:, :1]


class RolloutDomainPlanner(BaseDomainPlanner):
    """Rollout over feasible candidate actions (Bertsekas, Tsitsiklis and Wu 1997).

    Candidates: the Whittle action, the myopic MIP action and ``n_candidates`` random feasible
    actions (duplicates dropped). Each is scored by its exact one-step expected reward plus the
    mean discounted expected reward of ``n_rollouts`` simulated continuations of ``depth``
    periods under the base policy; the uniforms are common to all candidates (common random
    numbers). The base policy (``base="whittle"``: Whittle gains; ``"myopic"``: one-step
    expected reward) picks, in every simulated state, the candidate of largest total gain —
    it maximises over the candidate pool rather than solving the MILP, so that all rollouts
    run as a few vectorised numpy operations (every candidate is feasible, so is the base
    policy). Randomness comes from ``self.rng`` only.
    """

    name = "rollout"
    _BASES = ("whittle", "myopic")

    def __init__(self, n_candidates: int = 20, n_rollouts: int = 16, depth: int = 5,
                 base: str = "whittle", discount: float = 0.99, backend: str = "highs",
                 time_limit: float | None = None, mip_gap: float = 1e-6):
        super().__init__()
        owner = "RolloutDomainPlanner"
        self.n_candidates = check_number(owner, "n_candidates", n_candidates, low=0,
                                         integer=True)
        self.n_rollouts = check_number(owner, "n_rollouts", n_rollouts, low=1, integer=True)
        self.depth = check_number(owner, "depth", depth, low=0, integer=True)
        if base not in self._BASES:
            raise InvalidParameterError(f"{owner}.base: must be one of {self._BASES}; got "
                                        f"{base!r}")
        self.base = base
        self.discount = check_discount(owner, discount)
        try:                      # the parts check the solver options: named as the rollout's
            self._whittle = WhittleDomainPlanner(discount=discount, backend=backend,
                                                 time_limit=time_limit, mip_gap=mip_gap)
            self._myopic = MyopicMIPPlanner(backend=backend, time_limit=time_limit,
                                            mip_gap=mip_gap)
        except InvalidParameterError as exc:
            raise_in(exc, owner)
        for part in (self._whittle, self._myopic):      # its warnings name the rollout
            part._part_of = f"{owner}'s {part.name} candidate"

    def _fit(self, domain):
        try:
            self._whittle.fit(domain, seed=0)    # their draws (a time limit's fallback) are
            self._myopic.fit(domain, seed=0)     # from self.rng: _reset shares it
        except InvalidParameterError as exc:     # a backend not available here
            raise_in(exc, type(self).__name__)
        # exact one-step expected reward of every arm, state and level: (n, S, L)
        self._reward = self._whittle._instance.arms.rewards
        self._base_gain = self._whittle.gain_table if self.base == "whittle" else self._reward

    def _reset(self):
        self._whittle.rng = self._myopic.rng = self.rng

    def _plan(self, states, t):
        d = self.domain
        arms = d.arms
        cands = [self._whittle.plan(states, t=t), self._myopic.plan(states, t=t)]
        cands += [d._sample_action(self.rng) for _ in range(self.n_candidates)]
        pool = np.unique(np.stack(cands), axis=0, return_index=True)[1]
        pool = np.stack(cands)[np.sort(pool)]                    # first occurrence order
        levels = np.stack([d._arm_levels(a) for a in pool])      # (P, n)
        n, n_pool = d.n_arms, len(pool)
        j = np.arange(n)
        u = self.rng.random((self.depth + 1, self.n_rollouts, n))
        # s: (P, R, n) states after each candidate's first period; value: (P,)
        value = self._reward[j, states, levels].sum(axis=1)
        lev = np.broadcast_to(levels[:, None, :], (n_pool, self.n_rollouts, n))
        s = arms.next_states(states[None, None, :], lev, u[0])    # broadcasts over (P, R)
        ret = np.zeros((n_pool, self.n_rollouts))
        weight = 1.0
        for k in range(1, self.depth + 1):
            weight *= self.discount
            # base policy: the pool action of largest total gain in every simulated state
            scores = self._base_gain[j, s[:, :, None, :], levels[None, None]].sum(axis=-1)
            lev = levels[np.argmax(scores, axis=-1)]              # (P, R, n)
            ret += weight * self._reward[j, s, lev].sum(axis=-1)
            s = arms.next_states(s, lev, u[k])
        score = value + ret.mean(axis=1)
        best = int(np.argmax(score))
        self.last_stats.info.update(n_candidates=n_pool, score=float(score[best]),
                                    chosen=best)
        return pool[best].copy()
