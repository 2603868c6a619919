"""The Planner protocol, a helper base class, and the registry of planners.

A planner is fitted once to an :class:`~rmab.models.Instance` (precomputation: indices, λ*, a
trained network), reset at the start of each episode, and asked for a joint action at each
period::

    planner = make_planner("myopic").fit(instance, seed=0)
    planner.reset(seed=1)
    actions = planner.plan(belief, t=0)      # int64 (n_arms,), 0 = passive

``plan`` never mutates ``belief``; the simulator owns belief updates (:mod:`rmab.belief`).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import re
import time
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from rmab._repr import CompactRepr
from rmab._validation import as_generator, check_number
from rmab.belief.update import check_actions, check_beliefs
from rmab.errors import (InfeasibleActionError, InvalidParameterError, MissingDependencyError,
                         NotFittedError, PlanningError, UnknownPlannerError)
from rmab.models.instance import Instance

__all__ = ["Planner", "BasePlanner", "PlanStats", "PlannerSpec", "register_planner",
           "make_planner", "available_planners", "planner_names", "get_spec", "EXTRA_MODULES"]


@runtime_checkable
class Planner(Protocol):
    """What every planner provides."""

    name: str

    def fit(self, instance: Instance, *, seed=None) -> "Planner": ...

    def reset(self, *, seed=None) -> None: ...

    def plan(self, belief: np.ndarray, *, t: int | None = None) -> np.ndarray: ...


@dataclass(repr=False)
class PlanStats(CompactRepr):
    """Diagnostics of the last ``plan`` call: wall time, the planner's per-arm score where it
    has one (``scores``, (n_arms,), e.g. the chosen action's knapsack gain, or the index; each
    planner's in ``docs/csv.md``), and planner-specific entries in ``info`` (e.g.
    ``knapsack``, MIP ``status`` and ``gap``)."""

    seconds: float = 0.0
    scores: np.ndarray | None = None
    info: dict = field(default_factory=dict)


class BasePlanner:
    """Helper implementing the protocol: subclasses override ``_fit``, ``_reset``, ``_plan``.

    ``plan`` checks the planner is fitted, validates the belief once (shape, simplex) and hands
    a read-only copy to ``_plan``, then checks the actions it returns (``_decide``, which the
    rollout and the episode loops call directly on the beliefs they made); ``last_stats`` keeps
    the diagnostics of the last call.
    The random generator ``self.rng`` is set from the seed at ``fit`` and at ``reset``.
    """

    name: ClassVar[str] = "base"
    # a subclass whose __init__ forgot super().__init__() still says NotFittedError before fit
    # (an AttributeError on '_instance' did)
    _instance: Instance | None = None

    def __init__(self):
        self._instance: Instance | None = None
        self.rng = np.random.default_rng(0)
        self.last_stats = PlanStats()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    @property
    def instance(self) -> Instance:
        if self._instance is None:
            raise NotFittedError(f"{type(self).__name__}: call fit(instance) before plan/reset")
        return self._instance

    @property
    def fitted(self) -> bool:
        return self._instance is not None

    def fit(self, instance: Instance, *, seed=None) -> "BasePlanner":
        """Precompute from ``instance`` (indices, λ*, ...), seed ``self.rng`` and start an
        episode; returns the planner, so ``make_planner(name).fit(inst, seed=0)`` chains."""
        if not isinstance(instance, Instance):
            raise InvalidParameterError(f"{type(self).__name__}.fit.instance: must be an "
                                        f"Instance; got {type(instance).__name__}")
        self.rng = as_generator(seed, f"{type(self).__name__}.fit.seed")
        self._instance = instance
        try:
            self._fit(instance)
            self._reset()
        except BaseException:       # not fitted: plan must not run on this or an old fit
            self._instance = None
            raise
        return self

    def reset(self, *, seed=None) -> None:
        """Start a new episode; with ``seed``, reseed ``self.rng`` (the same seed gives the same
        actions)."""
        self.instance  # noqa: B018 - raises NotFittedError
        if seed is not None:
            self.rng = as_generator(seed, f"{type(self).__name__}.reset.seed")
        self._reset()

    def plan(self, belief, *, t: int | None = None) -> np.ndarray:
        """The joint action for period ``t`` (0, 1, ... from the episode's start; needed when
        the instance has a horizon of two periods or more, where the plan depends on the
        periods left; else 0 by default).

        ``belief``: (n_arms, n_states), each row a distribution over the arm's states (one-hot
        rows for fully observed arms); never modified. Returns int64 (n_arms,), each arm's
        action (0 = passive), within the instance's budget. ``last_stats`` then holds the call's
        diagnostics."""
        b, t = self._checked(f"{type(self).__name__}.plan", belief, t)
        return self._decide(b, t)

    def _decide(self, belief: np.ndarray, t: int) -> np.ndarray:
        """:meth:`plan` for a belief and period valid by construction, not checked again:
        ``belief`` a read-only float64 (n_arms, n_states) array on the simplex that nothing
        writes to afterwards (``plan``'s checked copy; a belief the rollout simulator or the
        Environment made with the Bayes filter), ``t`` an int period of the instance. The
        package's loops call it where :func:`uses_decide` allows.

        What ``_plan`` returns is still checked, as ``plan`` promises (int64, in range, within
        the budget and count limits; the same errors, naming ``plan``): the rollout's base may
        be a user's planner, whose infeasible action would silently value a policy the
        instance forbids, and the Environment does not check these actions again. The check
        is not free: at 50 arms about 10 µs a call (``check_actions`` 4, ``_violation`` 6, half
        of it ``Instance.count_limited``) against 13-16 µs for the belief's check and copy; a
        rollout with the round-robin base takes 0.73 of its time through ``plan``, and would
        take 0.54 without this check (docs/history.md#benchmarks-single-arm-values)."""
        start = time.perf_counter()
        self.last_stats = PlanStats()
        actions = self._plan(belief, t)
        self.last_stats.seconds = time.perf_counter() - start
        # what plan's docstring promises, for a user's _plan too (compare and Environment.step
        # check it; a weekly list straight from plan was not)
        owner = f"{type(self).__name__}.plan"
        inst = self.instance
        actions = check_actions(f"{owner} (the _plan's result)", actions, inst.n_arms,
                                inst.n_actions)
        why = inst._violation(actions)
        if why is not None:
            raise InfeasibleActionError(f"{owner}: the action planned breaks the instance's "
                                        f"limits: {why}")
        return actions

    def _checked(self, owner: str, belief, t) -> tuple[np.ndarray, int]:
        """``belief`` as a read-only checked copy (n_arms, n_states) and ``t`` as a period of
        the instance, None meaning 0 where there is no horizon (for ``plan`` and the planners'
        public queries)."""
        inst = self.instance
        b = check_beliefs(owner, belief, inst.n_arms, inst.n_states, "belief")
        if b is belief or np.shares_memory(b, belief):
            b = b.copy()
        b.setflags(write=False)
        last = None if inst.horizon is None else inst.horizon - 1   # no period past the end
        if t is None:
            if last:   # period 0 by default planned the last week as the first
                raise InvalidParameterError(
                    f"{owner}.t: needed on a finite horizon (the instance's horizon is "
                    f"{inst.horizon}; the plan depends on the periods left): pass t=0 in the "
                    f"first period, ..., t={last} in the last")
            t = 0
        t = int(check_number(owner, "t", t, low=0, integer=True))
        if last is not None and t > last:
            raise InvalidParameterError(f"{owner}.t: must be <= {last}; got {t} (the instance's "
                                        f"horizon is {inst.horizon}: periods 0 to {last})")
        return b, t

    # -- to override ---------------------------------------------------------------------
    def _fit(self, instance: Instance) -> None:
        """Precompute from the instance (default: nothing)."""

    def _reset(self) -> None:
        """Start an episode (default: nothing)."""

    def _plan(self, belief: np.ndarray, t: int) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}._plan: a BasePlanner subclass must "
                                  f"define _plan(self, belief, t) returning the joint action "
                                  f"(docs/planners.md)")


def uses_decide(planner) -> bool:
    """Whether a loop of the package may call ``planner._decide`` on beliefs it made itself
    (valid by construction: the rollout simulator's, the environment's): ``planner`` is a
    :class:`BasePlanner` whose ``plan`` is the base class's. Any other Planner, or a class or
    object with its own ``plan`` (which ``_decide`` would skip), is called through ``plan``."""
    return getattr(getattr(planner, "plan", None), "__func__", None) is BasePlanner.plan


# -- registry ------------------------------------------------------------------------------

EXTRA_MODULES = {"torch": "torch", "pyomo": "pyomo", "plot": "matplotlib"}


@dataclass(frozen=True)
class PlannerSpec:
    """A registry entry: ``target`` is ``"module:Class"``, imported only when made."""

    name: str
    target: str
    summary: str
    extras: tuple = ()

    def missing_extras(self) -> tuple:
        return tuple(e for e in self.extras
                     if importlib.util.find_spec(EXTRA_MODULES.get(e, e)) is None)

    @property
    def available(self) -> bool:
        return not self.missing_extras()

    def load(self):
        missing = self.missing_extras()
        if missing:
            raise MissingDependencyError(
                f"planner {self.name!r} needs the extra(s) {', '.join(missing)}: "
                f"pip install 'rmab[{','.join(missing)}]'")
        module, _, cls = self.target.partition(":")
        try:
            obj = getattr(importlib.import_module(module), cls)
        except MissingDependencyError:
            raise
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            raise PlanningError(f"planner {self.name!r}: its target {self.target!r} cannot be "
                                f"loaded ({type(exc).__name__}: {exc})") from exc
        if not isinstance(obj, type):
            raise PlanningError(f"planner {self.name!r}: its target {self.target!r} must be a "
                                f"planner class; got {type(obj).__name__}")
        return obj


_REGISTRY: dict[str, PlannerSpec] = {}


def kernel_limits(instance: Instance) -> tuple[np.ndarray, float]:
    """The count limits as the greedy kernels take them: caps (n_actions,) with ``max_active``
    folded in, and ``max_active`` as a float (``inf``: none)."""
    top = np.inf if instance.max_active is None else float(instance.max_active)
    return instance.caps, top


ONLY_PASSIVE = (" (these arms have only the passive action 0: every planner's answer is "
                "all zeros; no-action, random, myopic, rollout and lagrangian give it)")


def register_planner(name: str, target: str, summary: str, extras: tuple = ()) -> PlannerSpec:
    """Add a planner to the table (a name may be registered once: the same entry again does
    nothing, another is refused); ``target`` is ``"module:Class"``, imported when the planner
    is first made."""
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"register_planner.name: must be a non-empty str; got "
                                    f"{name!r}")
    if not isinstance(target, str) or not re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*:[A-Za-z_]\w*",
                                                        target):
        raise InvalidParameterError(f"register_planner.target: must be 'module:Class'; got "
                                    f"{target!r}")
    if not isinstance(summary, str):
        raise InvalidParameterError(f"register_planner.summary: must be a str; got "
                                    f"{type(summary).__name__}")
    given = extras
    try:
        extras = (extras,) if isinstance(extras, str) else tuple(extras)   # "plot": p, l, o, t
    except TypeError:
        extras = None
    if extras is None or not all(isinstance(e, str) for e in extras):
        raise InvalidParameterError(f"register_planner.extras: must be a tuple of extra names "
                                    f"(str), e.g. ('torch',); got {given!r}")
    spec = PlannerSpec(name, target, summary, tuple(extras))
    taken = _REGISTRY.get(name)
    if taken == spec:          # the same again: a notebook's cell or a script's module re-run
        return taken
    if taken is not None:
        raise InvalidParameterError(f"register_planner.name: must be new; {name!r} is taken "
                                    f"(by {taken.target!r})")
    _REGISTRY[name] = spec
    return spec


def get_spec(name: str, field: str = "planner") -> PlannerSpec:
    """The spec registered under ``name``; :class:`UnknownPlannerError` naming ``field`` (a
    planner's own parameter, e.g. ``RolloutPlanner.base``) with the closest names."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        if isinstance(name, str) and ":" in name:       # a target, not a name
            hint += (f" ('module:Class' is a target, not a name: register it first, "
                     f"rmab.register_planner('my-name', {name!r}, summary), in Python; the "
                     f"command line knows the built-in planners only)")
        raise UnknownPlannerError(f"{field}: must be one of {sorted(_REGISTRY)}; got "
                                  f"{name!r}{hint}") from None


def make_planner(name: str, **params) -> BasePlanner:
    """A new, unfitted planner registered under ``name``; ``params`` go to its constructor."""
    return construct(f"make_planner({name!r})", get_spec(name).load(), params)


def construct(owner: str, cls: type, params: dict):
    """``cls(**params)``; a parameter the constructor does not take is an
    :class:`InvalidParameterError` naming it and the ones it does take."""
    import inspect

    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise InvalidParameterError(f"{owner}: parameter names must be str; got {bad[0]!r}")
    try:
        signature = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError) as exc:               # a builtin such as dict
        raise PlanningError(f"{owner}: {cls!r} is not a planner class ({exc})") from exc
    taken = [p.name for p in signature if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    open_ended = any(p.kind is p.VAR_KEYWORD for p in signature)
    unknown = [] if open_ended else [p for p in params if p not in taken]
    if unknown:
        raise InvalidParameterError(f"{owner}.{unknown[0]}: not a parameter of this planner; "
                                    f"it takes {', '.join(taken) or 'none'}")
    try:
        planner = cls(**params)
    except TypeError as exc:
        raise InvalidParameterError(f"{owner}: {exc}") from exc
    if not isinstance(planner, Planner):
        raise PlanningError(f"{owner}: {cls.__name__} is not a planner (it needs name, fit, "
                            f"reset and plan: docs/planners.md)")
    return planner


def planner_names() -> list[str]:
    return list(_REGISTRY)


def available_planners() -> list[PlannerSpec]:
    """Every registered planner's spec (``spec.available`` says whether its extras are there)."""
    return list(_REGISTRY.values())


# The table of built-in planners. Later planners add one line here.
register_planner("no-action", "rmab.planners.baselines:NoActionPlanner",
                 "never act (the passive action for every arm)")
register_planner("random", "rmab.planners.baselines:RandomPlanner",
                 "random feasible action: arms in random order take a random affordable action")
register_planner("round-robin", "rmab.planners.baselines:RoundRobinPlanner",
                 "act on arms in a fixed cycle, as many per period as the budget allows")
register_planner("myopic", "rmab.planners.baselines:MyopicPlanner",
                 "multiple-choice knapsack on the one-step expected gain")
register_planner("belief-threshold", "rmab.planners.baselines:BeliefThresholdPlanner",
                 "act on the arms with the lowest expected passive reward")
register_planner("rollout", "rmab.planners.rollout:RolloutPlanner",
                 "Monte-Carlo rollout of a base planner (default myopic) with common random "
                 "numbers")
register_planner("whittle", "rmab.planners.index:WhittlePlanner",
                 "top arms by Whittle index (state, or belief grid for POMDP arms) within budget")
register_planner("whittle-multi", "rmab.planners.index:WhittleMultiPlanner",
                 "greedy level upgrades by multi-action Whittle index per unit of extra cost")
register_planner("lagrangian", "rmab.planners.lagrangian:LagrangianPlanner",
                 "multiple-choice knapsack on Q-values at the Lagrangian price")
