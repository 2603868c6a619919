"""An RMAB instance: arms, a per-period budget, discount or horizon, initial beliefs."""

from __future__ import annotations

import difflib
import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from rmab._validation import (BELIEF_TOL, SCALE_LIMIT, as_float_array, budget_slack, check_actions,
                              check_count_limits, check_discount, check_number, check_shape,
                              check_stochastic, discounted_periods, json_text,
                              undiscounted_hint)
from rmab._warnings import user_stacklevel
from rmab.errors import InvalidModelError, RmabWarning
from rmab.models.arms import MDPArms, POMDPArms

__all__ = ["Instance", "cheapest_activation"]


@dataclass(frozen=True, eq=False)
class Instance:
    """A restless bandit instance.

    Each period every arm ``n`` takes an action ``a_n`` (0 = passive) and the joint action must
    satisfy ``sum_n costs[n, a_n] <= budget`` and, when given, the count limits: at most
    ``action_caps[a]`` arms take action ``a`` and between ``min_active`` and ``max_active`` arms
    take an active action (``min_active = max_active = k``: the classical "exactly k arms
    active"; ``../shared/specs/PORMAB.md`` §1). The reward ``rewards[n, s, a]`` is earned on the
    state ``s`` at the *start* of the period; the arm then moves to ``s'`` and, for POMDP arms,
    emits a signal drawn from ``observations[n, a, s', :]``.

    Parameters
    ----------
    arms : MDPArms or POMDPArms
    budget : float
        Maximum total action cost per period, ``>= 0`` (one above 0 but below every
        active action's cost is warned about: no arm could act).
    discount : float
        Discount factor ``beta`` in ``(0, 1 - 1e-9]`` or ``1``, which requires a finite
        ``horizon`` (``rmab._validation.check_discount``).
    horizon : int, optional
        Number of periods of an episode. ``None`` means an infinite discounted horizon
        (simulations then truncate at :attr:`episode_length`).
    initial_belief : array (n_arms, n_states) or (n_states,), optional
        Distribution of each arm's starting state (default uniform; one row is every arm's).
        For fully observed arms the starting state is drawn from it and then seen.
    name : str
    metadata : mapping
        JSON-serialisable provenance (generator, parameters, seed), kept as a copy in the
        form :func:`~rmab.models.load_instance` gives back (tuples as lists).
    action_caps : array (n_actions,), optional
        Most arms that may take each action per period: non-negative integers, ``inf`` for no
        cap; ``action_caps[0]`` must be ``inf`` (limit the passive arms with ``min_active``).
    min_active, max_active : int, optional
        Fewest and most arms with an active action per period (default 0 and no limit). With
        ``min_active > 0`` the instance is checked to have a feasible joint action (the
        cheapest ``min_active`` activations under the caps fit the budget).
    """

    arms: MDPArms | POMDPArms
    budget: float
    discount: float = 0.95
    horizon: int | None = None
    initial_belief: np.ndarray | None = None
    name: str = "instance"
    metadata: Mapping = field(default_factory=dict)
    action_caps: np.ndarray | None = None
    min_active: int = 0
    max_active: int | None = None

    def __post_init__(self):
        if not isinstance(self.arms, (MDPArms, POMDPArms)):
            raise InvalidModelError(f"Instance.arms: must be MDPArms or POMDPArms; got "
                                    f"{type(self.arms).__name__}")
        budget = check_number("Instance", "budget", self.budget, low=0.0, error=InvalidModelError)
        discount = check_discount("Instance", self.discount, one=True, error=InvalidModelError)
        horizon = self.horizon
        if horizon is not None:
            horizon = check_number("Instance", "horizon", horizon, low=1, integer=True,
                                   error=InvalidModelError)
        if discount == 1.0 and horizon is None:
            raise InvalidModelError("Instance.horizon: must be set when discount is 1; got None"
                                    + undiscounted_hint("Instance", "pass horizon=H"))
        spend = float(self.arms.costs.max()) * self.arms.n_arms
        if not spend <= SCALE_LIMIT:                     # a joint action's total cost
            raise InvalidModelError(f"Instance.costs: must keep n_arms · max c <= "
                                    f"{SCALE_LIMIT:g} (a joint action's total cost) to stay "
                                    f"within float64; got {spend:.3g}")
        top = float(np.abs(self.arms.rewards).max())     # (priced costs: check_scale's)
        if not top * discounted_periods(discount, horizon) <= SCALE_LIMIT:
            raise InvalidModelError(      # every planner's values would overflow to inf or NaN
                f"Instance.rewards: must keep max|r| Σ_t discount^t (a bound on the values) "
                f"<= {SCALE_LIMIT:g} to stay within float64; got max|r| = {top:.3g} with "
                f"discount {discount:g}" + ("" if horizon is None else
                                            f" over {horizon} periods"))
        n, s = self.arms.n_arms, self.arms.n_states
        if self.initial_belief is None:
            belief = np.full((n, s), 1.0 / s)
        else:
            belief = as_float_array("Instance", "initial_belief", self.initial_belief)
            if belief.ndim == 1:
                check_shape("Instance", "initial_belief", belief, (s,), ("n_states",))
                belief = np.repeat(belief[None], n, axis=0)     # its own copy
            check_shape("Instance", "initial_belief", belief, (n, s), ("n_arms", "n_states"))
            check_stochastic("Instance", "initial_belief", belief, row_desc="arm {0}",
                             tol=BELIEF_TOL)     # as plan and update_beliefs take them
        belief.setflags(write=False)
        if not isinstance(self.name, str):
            raise InvalidModelError(f"Instance.name: must be a string; got {self.name!r}")
        if not isinstance(self.metadata, Mapping):
            raise InvalidModelError(f"Instance.metadata: must be a mapping; got "
                                    f"{type(self.metadata).__name__}")
        # kept as save_instance writes and load_instance reads it: a tuple came back a list
        metadata = json.loads(json_text("Instance", "metadata", dict(self.metadata)))
        object.__setattr__(self, "budget", budget)
        object.__setattr__(self, "discount", discount)
        object.__setattr__(self, "horizon", horizon)
        object.__setattr__(self, "initial_belief", belief)
        object.__setattr__(self, "metadata", metadata)
        self._check_counts()
        active = self.arms.costs[:, 1:]
        if budget > 0 and active.size and active.min() > budget + 0.5 * budget_slack(budget):
            warnings.warn(f"Instance.budget: {budget:g} is below every active action's cost "
                          f"(the cheapest costs {active.min():g}), so no arm can act",
                          RmabWarning, stacklevel=user_stacklevel())   # replace's too

    def _check_counts(self) -> None:
        caps, low, high = check_count_limits("Instance", self.arms.n_arms, self.n_actions,
                                             self.action_caps, self.min_active,
                                             self.max_active, error=InvalidModelError)
        object.__setattr__(self, "action_caps", caps)
        object.__setattr__(self, "min_active", low)
        object.__setattr__(self, "max_active", high)
        # not a field: derived, and read by every action check (3 us of _violation's 6)
        object.__setattr__(self, "_count_limited",
                           low > 0 or bool((self.caps[1:] < self.arms.n_arms).any()))
        if low > 0:
            cost = cheapest_activation(self.arms.costs, self.caps, low)
            if cost is None:
                raise InvalidModelError(
                    f"Instance.min_active: must be at most the arms the action_caps let act; "
                    f"got {low} with caps {self.caps[1:].tolist()}")
            if cost > self.budget + 0.5 * budget_slack(self.budget):   # the planners' margin
                raise InvalidModelError(
                    f"Instance.min_active: the cheapest {low} active arms must fit the budget "
                    f"{self.budget:g}; they cost {cost:.12g}")

    def __repr__(self) -> str:    # the arrays would print thousands of lines
        # the limits as set: the folded caps (max_active in each) read as a weaker rule
        limits = "".join(f", {name}={value}" for name, value in (
            ("action_caps", None if self.action_caps is None else self.action_caps.tolist()),
            ("min_active", self.min_active or None), ("max_active", self.max_active))
            if value is not None)
        return (f"Instance(name={self.name!r}, arms={self.arms!r}, budget={self.budget:g}"
                f"{limits}, discount={self.discount!r}, horizon={self.horizon})")

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

    @property
    def caps(self) -> np.ndarray:
        """Most arms per action (n_actions,): :attr:`action_caps` with ``max_active`` folded
        into the active actions' entries (``inf`` = no limit)."""
        caps = (np.full(self.n_actions, math.inf) if self.action_caps is None
                else self.action_caps.copy())
        if self.max_active is not None:
            caps[1:] = np.minimum(caps[1:], self.max_active)
        return caps

    @property
    def limits(self) -> dict:
        """The count limits as keyword arguments of
        :func:`~rmab.relax.knapsack.solve_knapsack` and the planners' fill helpers."""
        return dict(action_caps=self.action_caps, min_active=self.min_active,
                    max_active=self.max_active)

    @property
    def count_limited(self) -> bool:
        """Whether any count limit can bind (a cap or ``max_active`` below ``n_arms``, or
        ``min_active > 0``): planners then solve their joint action with the limits."""
        return self._count_limited

    def violation(self, actions: np.ndarray) -> str | None:
        """Why the joint action (int (n_arms,) in [0, n_actions)) is infeasible, or None; an
        array of another shape, not integers or out of range is an
        :class:`~rmab.errors.InvalidParameterError` (-1 was read as the last action, a
        wrong shape was a raw IndexError: a review)."""
        return self._violation(check_actions("Instance.violation", actions, self.n_arms,
                                             self.n_actions))

    def _violation(self, actions: np.ndarray) -> str | None:
        """:meth:`violation` of actions already checked (the simulator's and planners' hot
        path checks them once: a second check cost Environment.step 10 % at 1 000 arms)."""
        cost = float(self.arms.costs[np.arange(self.n_arms), actions].sum())
        if cost > self.budget + budget_slack(self.budget):
            return (f"must cost at most budget={self.budget:.12g}; got total cost "
                    f"{cost:.12g} (overspend {cost - self.budget:.3g})")
        if not self.count_limited:
            return None
        counts = np.bincount(actions, minlength=self.n_actions)
        if self.action_caps is not None:
            over = np.flatnonzero(counts > self.action_caps)
            if over.size:
                a = int(over[0])
                return (f"must give action {a} to at most action_caps[{a}]="
                        f"{self.action_caps[a]:g} arms; got {counts[a]}")
        active = int(self.n_arms - counts[0])
        if active < self.min_active:
            return f"must make at least min_active={self.min_active} arms active; got {active}"
        if self.max_active is not None and active > self.max_active:
            return f"must make at most max_active={self.max_active} arms active; got {active}"
        return None

    def replace(self, **changes) -> "Instance":
        """A copy with some fields changed (validated again). As with ``dataclasses.replace``,
        the unchanged arms are shared (their arrays are read-only; other arrays such as the
        initial belief are validated into new read-only ones); the metadata dict is copied,
        the lists and dicts inside it are not (a deep copy cost 1-3 ms at 10 000 arms'
        clusters, and the Lagrangian planner replaces at every finite-horizon re-solve)."""
        fields = dict(arms=self.arms, budget=self.budget, discount=self.discount,
                      horizon=self.horizon, initial_belief=self.initial_belief, name=self.name,
                      metadata=self.metadata, action_caps=self.action_caps,
                      min_active=self.min_active, max_active=self.max_active)
        unknown = set(changes) - set(fields)
        if unknown:
            close = {name: difflib.get_close_matches(name, fields, n=1) for name in unknown}
            hints = "".join(f" ({name!r}: did you mean {close[name][0]!r}?)"
                            for name in sorted(unknown) if close[name])
            raise InvalidModelError(f"Instance.replace: unknown fields {sorted(unknown)}{hints}; "
                                    f"the fields are {', '.join(fields)}")
        fields.update(changes)
        with warnings.catch_warnings():
            # a budget no arm can use was warned of when this instance was made: not again
            # for the same budget and costs (the Lagrangian planner's re-solve at every period
            # and its count limits' every price said it again)
            costs = getattr(fields["arms"], "costs", None)
            if np.array_equal(fields["budget"], self.budget) and np.array_equal(
                    costs, self.arms.costs):
                warnings.filterwarnings("ignore", "Instance.budget: ", RmabWarning)
            if "metadata" in changes:
                return Instance(**fields)
            fields["metadata"] = {}     # checked when this instance was made: not dumped again
            new = Instance(**fields)    # (10 000 arms' clusters took 7.7 ms a replace)
        object.__setattr__(new, "metadata", dict(self.metadata))
        return new


def cheapest_activation(costs: np.ndarray, caps: np.ndarray, k: int) -> float | None:
    """Least total cost of making exactly ``k`` arms active, at most ``caps[a]`` of them with
    action ``a`` (costs (n_arms, n_actions)), or None if the caps allow fewer than ``k``.

    The uncapped actions act as one kind (each arm's cheapest of them). Without caps the
    answer is the sum of the ``k`` smallest such costs; with caps, an assignment of arms to
    the kinds' slots (:func:`scipy.optimize.linear_sum_assignment`, exact) over the arms
    among the ``k`` cheapest of some kind (an optimum needs no other: a cheaper arm left
    passive could take its place). Assignments of more than ``_ASSIGNMENT_CELLS`` cells go
    to the min-cost-flow LP (HiGHS), exact up to its tolerance (1e-7 of the largest cost)."""
    from scipy.optimize import linear_sum_assignment

    if k == 0:
        return 0.0
    n_arms = costs.shape[0]
    active, limits = costs[:, 1:], caps[1:]
    free = ~np.isfinite(limits)
    kinds, slots = [], []                  # per kind of action: arm costs (n_arms,), slots
    if free.any():
        kinds.append(active[:, free].min(axis=1))
        slots.append(k)
    for a in np.flatnonzero(~free & (limits > 0)):
        kinds.append(active[:, a])
        slots.append(int(min(limits[a], k)))
    if k > n_arms or sum(slots) < k:
        return None
    if len(kinds) == 1:
        return float(np.partition(kinds[0], k - 1)[:k].sum())
    c = np.stack(kinds, axis=1)
    arms = np.unique(np.argsort(c, axis=0, kind="stable")[:k].ravel())
    r, s = len(arms), sum(slots)
    if (r + s - k) ** 2 > _ASSIGNMENT_CELLS:
        return _cheapest_activation_lp(costs, caps, k)
    # rows: the candidate arms, then s - k dummies for the slots left empty; columns: every
    # kind's slots, then r - k passive places, which the dummies cannot take
    matrix = np.zeros((r + s - k, s + r - k))
    matrix[:r, :s] = np.repeat(c[arms], slots, axis=1)
    matrix[r:, s:] = np.inf
    rows, cols = linear_sum_assignment(matrix)
    real = rows < r
    return float(matrix[rows[real], cols[real]].sum())


_ASSIGNMENT_CELLS = 1_000_000      # about 0.3 s


def _cheapest_activation_lp(costs: np.ndarray, caps: np.ndarray, k: int) -> float | None:
    """:func:`cheapest_activation` as a min-cost flow (arms -> actions, unit arcs, action arcs
    of capacity ``caps[a]``): its LP has an integral optimum, HiGHS's value up to tolerance."""
    from scipy import sparse
    from solvers import MILP, TerminationStatus, solve

    n_arms, n_actions = costs.shape
    m = n_actions - 1
    capped = np.flatnonzero(np.isfinite(caps[1:]))
    rows = sparse.vstack([
        sparse.kron(sparse.eye(n_arms, format="csr"), np.ones((1, m)), format="csr"),
        sparse.hstack([sparse.eye(m, format="csr")[capped]] * n_arms, format="csr"),
        sparse.csr_matrix(np.ones((1, n_arms * m)))], format="csr")
    lower = np.concatenate([np.full(n_arms + capped.size, -np.inf), [k]])
    upper = np.concatenate([np.ones(n_arms), caps[1:][capped], [k]])
    n = n_arms * m
    unit = costs.max(initial=0.0) or 1.0        # HiGHS's tolerances are absolute
    res = solve(MILP(costs[:, 1:].ravel() / unit, rows, lower, upper, np.zeros(n), np.ones(n),
                     np.zeros(n, dtype=bool), "min"))
    if res.status is not TerminationStatus.OPTIMAL:
        return None
    x = np.round(res.x)                         # a vertex of a flow polytope: integral
    return float(costs[:, 1:].ravel() @ x)
