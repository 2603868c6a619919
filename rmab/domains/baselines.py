"""Domain planners: the paper's baselines for the coRMAB domains (Xu et al. 2025 §6).

A domain planner mirrors :class:`rmab.planners.base.Planner` but acts on a
:class:`~rmab.domains.base.Domain` and returns the domain's action vector::

    planner = make_domain_planner("myopic").fit(domain, seed=0)
    planner.reset(seed=1)
    action = planner.plan(states, t=0)      # int64 (action_size,), feasible

They live in their own table, :data:`DOMAIN_PLANNERS` (not rmab's main planner registry: the
action type differs). The Q-network planners of :mod:`rmab.planners.sequoia` are in the table
too and need ``network=``: SEQUOIA (a :class:`BaseDomainPlanner`) and iterative DQN, which
reuses :class:`IterativeMyopicPlanner`'s construction and overrides only ``_scores`` with a
batched forward pass.
"""

from __future__ import annotations

import difflib
import importlib
import time
import warnings
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from rmab._validation import as_generator, check_number
from rmab.domains.base import Domain, objective_scale
from rmab.errors import (InvalidModelError, InvalidParameterError, NotFittedError, PlanningError,
                         SolverLimitWarning, UnknownPlannerError)
from rmab.planners.base import PlanStats, construct

__all__ = ["DomainPlanner", "BaseDomainPlanner", "NoActionDomainPlanner",
           "RandomDomainPlanner", "SamplingPlanner", "MyopicMIPPlanner",
           "IterativeMyopicPlanner", "DOMAIN_PLANNERS", "make_domain_planner",
           "domain_planner_names", "action_values"]


@runtime_checkable
class DomainPlanner(Protocol):
    """What every domain planner provides."""

    name: str

    def fit(self, domain: Domain, *, seed=None) -> "DomainPlanner": ...

    def reset(self, *, seed=None) -> None: ...

    def plan(self, states: np.ndarray, *, t: int | None = None) -> np.ndarray: ...


def action_values(domain: Domain, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """One-step expected reward of each row of ``actions`` (k, action_size) in ``states``
    (trusted inputs), (k,)."""
    return _gain_sums(domain, domain.arms.level_gains(states), actions)


def _gain_sums(domain: Domain, gains: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """``Σ_j gains[j, level_j(a)]`` for each row ``a`` of ``actions`` (k, action_size); ``gains``
    (n_arms, n_levels). (k,)"""
    levels = np.stack([domain._arm_levels(a) for a in actions])
    return gains[np.arange(domain.n_arms)[None, :], levels].sum(axis=1)


class BaseDomainPlanner:
    """Helper implementing the protocol: subclasses override ``_fit``, ``_reset``, ``_plan``.

    ``plan`` checks the planner is fitted, validates the states once and hands a read-only copy
    to ``_plan``; ``last_stats`` keeps the diagnostics of the last call. ``self.rng`` is set from
    the seed at ``fit`` and ``reset``. A planner whose plan depends on the periods left sets
    ``horizon`` (the episode's periods); ``plan`` then needs ``t``.
    """

    name: ClassVar[str] = "base"
    horizon: int | None = None

    def __init__(self):
        self._domain: Domain | None = None
        self.rng = np.random.default_rng(0)
        self.last_stats = PlanStats()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    @property
    def domain(self) -> Domain:
        if self._domain is None:
            raise NotFittedError(f"{type(self).__name__}: call fit(domain) before plan/reset")
        return self._domain

    def fit(self, domain: Domain, *, seed=None) -> "BaseDomainPlanner":
        """Precompute from ``domain`` (models, indices), seed ``self.rng`` and start an
        episode; returns the planner."""
        if not isinstance(domain, Domain):
            raise InvalidParameterError(f"{type(self).__name__}.fit.domain: must be a Domain; "
                                        f"got {type(domain).__name__}")
        self.rng = as_generator(seed, f"{type(self).__name__}.fit.seed")
        self._domain = domain
        try:
            self._fit(domain)
            self._reset()
        except BaseException:       # not fitted: plan must not run on this or an old fit
            self._domain = None
            raise
        return self

    def reset(self, *, seed=None) -> None:
        """Start a new episode; with ``seed``, reseed ``self.rng``."""
        self.domain  # noqa: B018 - raises NotFittedError
        if seed is not None:
            self.rng = as_generator(seed, f"{type(self).__name__}.reset.seed")
        self._reset()

    def plan(self, states, *, t: int | None = None) -> np.ndarray:
        """The action vector (int64, (action_size,), feasible for the domain) in ``states``
        (int (n_arms,), each arm's state in 0..n_states-1; never modified) at period ``t``
        (needed when the planner has a ``horizon`` of two periods or more; else 0)."""
        s = self.domain.check_states(states).copy()
        s.setflags(write=False)
        owner = f"{type(self).__name__}.plan"
        if t is None:
            if self.horizon is not None and self.horizon > 1:
                raise InvalidParameterError(
                    f"{owner}.t: needed by a planner for {self.horizon} periods (its plan "
                    f"depends on the periods left): pass t=0 in the first period, ..., "
                    f"t={self.horizon - 1} in the last")
            t = 0
        t = check_number(owner, "t", t, low=0, integer=True)
        start = time.perf_counter()
        self.last_stats = PlanStats()
        action = self._plan(s, t)
        self.last_stats.seconds = time.perf_counter() - start
        return action

    def _fit(self, domain: Domain) -> None:
        """Precompute (default: nothing)."""

    def _reset(self) -> None:
        """Start an episode (default: nothing)."""

    def _plan(self, states: np.ndarray, t: int) -> np.ndarray:
        raise NotImplementedError


class NoActionDomainPlanner(BaseDomainPlanner):
    """Never act (the all-zero action)."""

    name = "no-action"

    def _plan(self, states, t):
        return self.domain.null_action()


class RandomDomainPlanner(BaseDomainPlanner):
    """A random feasible action from the domain's sampler (the normalisation reference)."""

    name = "random"

    def _plan(self, states, t):
        return self.domain._sample_action(self.rng)


class SamplingPlanner(BaseDomainPlanner):
    """Best of ``n_samples`` random feasible actions by one-step expected reward."""

    name = "sampling"

    def __init__(self, n_samples: int = 100):
        super().__init__()
        self.n_samples = check_number("SamplingPlanner", "n_samples", n_samples, low=1,
                                      integer=True)

    def _plan(self, states, t):
        d = self.domain
        actions = np.stack([d._sample_action(self.rng) for _ in range(self.n_samples)])
        values = action_values(d, states, actions)
        best = int(np.argmax(values))
        self.last_stats.info["value"] = float(values[best])
        return actions[best]


class MyopicMIPPlanner(BaseDomainPlanner):
    """Exact one-step planner: maximise ``Σ_j E[r_j(s'_j)]`` over the domain's MILP.

    The objective is linear in the per-arm pull indicators (pull domains) or in the one-hot
    level indicators of the multiple-interventions block (an exact lookup over
    ``x ∈ {0, 3, 6, 9}``). A persistent model is built at ``fit``; each ``plan`` only sets the
    objective and solves (:meth:`Domain.linear_model`: the LP first,
    :class:`~rmab.domains.base.LinearBlockModel`; in the path domain an exact branch and
    bound, :class:`~rmab.domains.path.RouteSearch`). A solve stopped early (``time_limit``)
    returns the best by the objective of its incumbent (if any), the null action (where the
    MILP admits it) and ``n_fallback`` random feasible actions (``self.rng``), with a
    :class:`~rmab.errors.SolverLimitWarning`, so an action always exists; a solve that fails
    otherwise raises :class:`~rmab.errors.PlanningError`.
    """

    name = "myopic"
    n_fallback: ClassVar[int] = 100
    # set where this planner is a part of another (RolloutDomainPlanner's candidates): what its
    # warnings name, so that a time limit the rollout hit does not read as the myopic planner's
    _part_of: str | None = None

    def __init__(self, backend: str = "highs", time_limit: float | None = None,
                 mip_gap: float = 1e-6):
        super().__init__()
        owner = type(self).__name__        # the subclass asked for: whittle, lagrangian, ...
        self.backend = backend
        self.time_limit = None if time_limit is None else check_number(
            owner, "time_limit", time_limit, low=0.0, low_open=True)
        self.mip_gap = check_number(owner, "mip_gap", mip_gap, low=0.0, high=1.0,
                                    high_open=True)

    def _fit(self, domain):
        from solvers.backends import get_backend
        from solvers.errors import SolverInputError

        self._block = domain.constraint_block()
        try:
            self._model = domain.linear_model(get_backend(self.backend))
        except LookupError as exc:
            raise InvalidParameterError(f"{type(self).__name__}.backend: {exc}") from exc
        except SolverInputError as exc:      # e.g. a coefficient of 1e15 or more in a row
            raise InvalidModelError(f"{type(self).__name__}: the domain's MILP cannot be "
                                    f"built; {exc}") from exc

    def _gains(self, states: np.ndarray) -> np.ndarray:
        """Per-arm, per-level gains (n_arms, n_levels) maximised by the MIP: here the one-step
        expected reward; the index planners of :mod:`rmab.domains.index_baselines` override
        it."""
        return self.domain.arms.level_gains(states)

    def _plan(self, states, t):
        from solvers.errors import SolverInputError
        from solvers.result import TerminationStatus

        gains = self._gains(states)
        c, offset = self._block.level_objective(gains)
        scale = objective_scale(c)
        try:
            self._model.set_objective(c / scale, offset / scale)
        except (SolverInputError, InvalidParameterError) as exc:   # gains that are not
            # finite (a user's gain table); the path domain's RouteSearch raises the latter
            raise PlanningError(f"{type(self).__name__}: the objective cannot be solved; "
                                f"{exc}") from exc
        res = self._model.solve(time_limit=self.time_limit, mip_gap=self.mip_gap)
        self.last_stats.info.update(status=res.status.value, gap=res.gap,
                                    objective=res.objective * scale, solve_seconds=res.seconds)
        owner = type(self).__name__
        limited = res.status in (TerminationStatus.TIME_LIMIT,
                                 TerminationStatus.ITERATION_LIMIT,
                                 TerminationStatus.INTERRUPTED)
        if res.x is None and not limited:
            raise PlanningError(f"{owner}: the MIP returned no solution (status "
                                f"{res.status.value})")
        d = self.domain
        cand = [] if res.x is None else [d.repair_action(
            self._block.action_from_solution(res.x), lambda a: _gain_sums(d, gains, a),
            owner=owner)]
        if res.status is not TerminationStatus.OPTIMAL:
            # stopped early: the incumbent (if any) competes with random feasible actions
            if not d.must_fill:                  # doing nothing is in the MILP's set too
                cand.append(d.null_action())
            cand += [d._sample_action(self.rng) for _ in range(self.n_fallback)]
            best = int(np.argmax(_gain_sums(d, gains, np.stack(cand))))
            others = (f"{'the null action and ' if not d.must_fill else ''}{self.n_fallback} "
                      f"random feasible actions")
            what = (f"the best of {others} (no incumbent)" if res.x is None else
                    f"the incumbent (gap {res.gap:.3g})" if best == 0 else
                    f"the best of {others}, better than the incumbent (gap {res.gap:.3g})")
            who = owner if self._part_of is None else f"{self._part_of} ({owner})"
            warnings.warn(f"{who}: solver stopped with status {res.status.value}; returning "
                          f"{what}", SolverLimitWarning, stacklevel=3)
            cand = [cand[best]]
        action = cand[0]
        self.last_stats.scores = gains[np.arange(gains.shape[0]), d._arm_levels(action)]
        return action


class IterativeMyopicPlanner(BaseDomainPlanner):
    """Greedy construction: from the empty action, repeatedly add the element (intervention or
    arm) that keeps the action feasible and most increases the score — by default the one-step
    expected reward — stopping when no addition improves it (or, in the
    multiple-interventions domain, when ``budget`` interventions are chosen).

    Subclasses change the score by overriding ``_scores(states, t, actions)`` ((k,) values of
    candidate actions (k, action_size)); iterative DQN does so with a batched network pass.
    """

    name = "iterative-myopic"

    def _scores(self, states, t, actions):
        return action_values(self.domain, states, actions)

    def _plan(self, states, t):
        d = self.domain
        action = np.zeros(d.action_size, dtype=np.int64)
        current = float(self._scores(states, t, action[None, :])[0])
        cand = None
        while True:
            cand = d._additions(action, cand)       # once infeasible, always infeasible
            if cand.size == 0:
                break
            trial = np.repeat(action[None, :], cand.size, axis=0)
            trial[np.arange(cand.size), cand] = 1
            values = self._scores(states, t, trial)
            best = int(np.argmax(values))
            # no gain beyond round-off, relative (an absolute 1e-12 stopped it at once in
            # rewards of 1e-20)
            if not d.must_fill and values[best] <= current + 1e-12 * max(
                    abs(current), float(np.abs(values).max())):
                break
            action[cand[best]] = 1
            current = float(values[best])
            cand = np.delete(cand, best)
        return action


# -- table ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DomainPlannerSpec:
    """A table entry: ``target`` is ``"module:Class"``, imported when made; ``requires`` names
    the constructor arguments without a default (e.g. ``network`` for the Q-network planners);
    ``horizon``: it plans for a number of periods, which an evaluation by name sets to its
    own (``horizon=``)."""

    name: str
    target: str
    summary: str
    requires: tuple = ()
    horizon: bool = False

    def load(self) -> type:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


DOMAIN_PLANNERS: dict[str, DomainPlannerSpec] = {spec.name: spec for spec in (
    DomainPlannerSpec("no-action", "rmab.domains.baselines:NoActionDomainPlanner",
                      "never act (the all-zero action)"),
    DomainPlannerSpec("random", "rmab.domains.baselines:RandomDomainPlanner",
                      "a random feasible action (normalisation reference, RANDOM = 1)"),
    DomainPlannerSpec("sampling", "rmab.domains.baselines:SamplingPlanner",
                      "best of K = 100 random feasible actions by one-step expected reward"),
    DomainPlannerSpec("myopic", "rmab.domains.baselines:MyopicMIPPlanner",
                      "exact MIP on the one-step expected reward"),
    DomainPlannerSpec("iterative-myopic", "rmab.domains.baselines:IterativeMyopicPlanner",
                      "greedy construction by one-step expected gain"),
    DomainPlannerSpec("whittle", "rmab.domains.index_baselines:WhittleDomainPlanner",
                      "Whittle indices of the budget relaxation, maximised by the domain's MIP"),
    DomainPlannerSpec("whittle-finite",
                      "rmab.domains.index_baselines:FiniteWhittleDomainPlanner",
                      "finite-horizon Whittle indices of the budget relaxation over the "
                      "evaluation's horizon, maximised by the domain's MIP", horizon=True),
    DomainPlannerSpec("lagrangian", "rmab.domains.index_baselines:LagrangianDomainPlanner",
                      "Lagrangian advantages of the budget relaxation, maximised by the "
                      "domain's MIP"),
    DomainPlannerSpec("rollout", "rmab.domains.index_baselines:RolloutDomainPlanner",
                      "rollout over feasible candidate actions (myopic, whittle, random)"),
    DomainPlannerSpec("sequoia", "rmab.planners.sequoia.planner:SequoiaPlanner",
                      "trained Q-network maximised by MIP over the feasible actions (SEQUOIA)",
                      requires=("network",)),
    DomainPlannerSpec("iterative-dqn", "rmab.planners.sequoia.iterative:IterativeDQNPlanner",
                      "greedy construction scored by the trained Q-network (iterative DQN)",
                      requires=("network",)),
)}


def domain_planner_names() -> list[str]:
    return list(DOMAIN_PLANNERS)


def make_domain_planner(name: str, **params) -> BaseDomainPlanner:
    """A new, unfitted domain planner from :data:`DOMAIN_PLANNERS`; ``params`` go to its
    constructor. An unknown name raises :class:`UnknownPlannerError` with the closest names."""
    spec = DOMAIN_PLANNERS.get(name) if isinstance(name, str) else None
    if spec is None:
        from rmab.planners.base import planner_names

        close = difflib.get_close_matches(str(name), list(DOMAIN_PLANNERS), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        if name in planner_names():
            hint = (f"; {name!r} plans budgeted instances ('rmab planners'), not the coRMAB "
                    f"domains ('rmab planners --domain')")
        raise UnknownPlannerError(f"domain planner: must be one of {sorted(DOMAIN_PLANNERS)}; "
                                  f"got {name!r}{hint}")
    missing = [p for p in spec.requires if p not in params]
    if missing:
        raise InvalidParameterError(f"make_domain_planner({name!r}).{missing[0]}: must be given "
                                    f"(a trained network: ReLUNetwork, GainTableNetwork or the "
                                    f"sequoia.npz written by 'rmab train'); got no "
                                    f"{missing[0]}=")
    return construct(f"make_domain_planner({name!r})", spec.load(), params)
