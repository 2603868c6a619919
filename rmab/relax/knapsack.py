"""Multiple-choice knapsack across arms: choose one action per arm to maximise total value
under the per-period budget (``../shared/specs/PORMAB.md`` §5).

    maximise   sum_n values[n, a_n]   subject to   sum_n costs[n, a_n] <= budget

Methods: ``"dp"`` exact dynamic programming, O(N A B), for costs that are integers or decimals
of at most three places (scaled by 10, 100 or 1000 to integers); ``"greedy"`` the
LP-relaxation upgrade rule along each arm's upper convex hull of (cost, value), within
``max_n max_a values[n, a] - values[n, 0]`` of the optimum (reported optimal when it reaches
the LP bound); ``"mip"`` the exact binary program (one indicator per arm and action, one choice
row per arm, one budget row) solved by HiGHS (:mod:`solvers`), started from the greedy answer,
for any real costs; ``"auto"`` uses the DP when it applies and its table ``N * (B' + 1)``
(``B'`` the scaled budget) is at most ``dp_limit``, else the MIP when it has at most
``mip_limit`` indicators, else the greedy.

Count limits (``action_caps``, ``min_active``, ``max_active``; see
:class:`~rmab.models.Instance`): the DP counts active arms too (``K`` the most active arms, if
``min_active`` or ``max_active`` binds) and the arms on each capped action (``C`` the
product of ``cap + 1``), a table ``N * (B' + 1) * (K + 1) * C``; where that is too large
``"auto"`` scores every joint action when there are at most ``ENUMERATION_LIMIT`` of them,
else takes the MIP, with a row per capped action and one for the active arms. The greedy
skips steps past a limit and fills ``min_active`` by gain (:func:`fill_active`), a heuristic
never reported optimal.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from rmab._repr import CompactRepr, ReadOnlyArrays
from rmab._validation import (as_float_array, budget_slack, check_costs, check_count_limits,
                              check_number)
from rmab.errors import InfeasibleActionError, InvalidParameterError, SolverLimitWarning
from rmab.relax import _kernels

__all__ = ["Knapsack", "KnapsackResult", "solve_knapsack", "fill_active",
           "feasible_joint_actions", "DP_LIMIT", "MIP_LIMIT", "JOINT_LIMIT"]

DP_LIMIT = 50_000_000
JOINT_LIMIT = 2**20       # joint actions feasible_joint_actions lists (0.5 GB, 1 s at 20 arms)
ENUMERATION_LIMIT = 8192   # joint actions scored at once under count limits: 1-3 ms at
#                            4 096-6 561, where the MIP took 6-90 ms
MIP_LIMIT = 500        # indicators: HiGHS takes 0.015-0.03 s at 100-200, 0.17 s at 600
_CUTS = 3       # solves of the MIP, cut each time its answer overspends the budget by rounding:
#                 as many as the row tightenings they replace; on 200 knapsacks of 8-10 arms with
#                 costs 1e-8 off a grid of tenths, 1 / 3 / 5 solves left 14 / 8 / 6 answers below
#                 the optimum (18 / 4 / 2 under count limits); at 100 arms each cut removes
#                 little, and 20 solves took 0.5-1.9 s where one took 0.01 s (a review)
_CUTS_ALONE = 20   # under count limits with no greedy start: when they run out there is
#                   no answer to return, and 3 raised where a fourth solve found the optimum
_SCALES = (1, 10, 100, 1000)
_METHODS = ("auto", "dp", "greedy", "mip")


@dataclass(frozen=True, eq=False, repr=False)
class KnapsackResult(CompactRepr, ReadOnlyArrays):
    """Chosen actions (n_arms,), their total value and cost, the method used and whether the
    answer is proven optimal."""

    actions: np.ndarray
    value: float
    cost: float
    method: str
    optimal: bool


def _cost_scale(costs: np.ndarray) -> int | None:
    """The least of 1, 10, 100, 1000 that makes every cost an integer (within 1e-9), or None."""
    for scale in _SCALES:
        scaled = costs * scale
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9):
            return scale
    return None


class Knapsack:
    """A multiple-choice knapsack whose costs, budget and limits are fixed, solved for any
    values: what a planner solving every period keeps from ``fit``. The checks, the cost grid,
    the method and the DP's table are worked out once (they were half of a myopic plan at 100
    arms). Parameters as :func:`solve_knapsack`; ``costs`` is copied. ``method`` is then the
    method its answers take: ``"dp"``, ``"greedy"``, ``"mip"`` or, under count limits on few
    arms, ``"enumeration"`` (a DP answer whose real costs add up past the budget by the grid's
    rounding is taken by the MIP instead).

        knapsack = Knapsack(instance.arms.costs, instance.budget, **instance.limits)
        result = knapsack.solve(values)          # values (n_arms, n_actions)
    """

    _owner, _solve_owner = "Knapsack", "Knapsack.solve"      # the names errors give
    _up = 1                     # frames from solve up to its caller's line, for warnings

    def __init__(self, costs, budget, *, method: str = "auto", dp_limit: int = DP_LIMIT,
                 mip_limit: int = MIP_LIMIT, time_limit: float | None = None,
                 action_caps=None, min_active: int = 0, max_active: int | None = None):
        owner = self._owner
        costs = as_float_array(owner, "costs", costs, ndim=2, error=InvalidParameterError)
        if costs.shape[1] < 1:
            raise InvalidParameterError(f"{owner}.costs: must have at least one action (the "
                                        f"passive one); got shape {costs.shape}")
        check_costs(owner, costs, error=InvalidParameterError)
        dp_limit = check_number(owner, "dp_limit", dp_limit, low=0, integer=True)
        mip_limit = check_number(owner, "mip_limit", mip_limit, low=0, integer=True)
        budget = check_number(owner, "budget", budget, low=0.0)
        if not isinstance(method, str) or method not in _METHODS:
            raise InvalidParameterError(f"{owner}.method: must be one of {_METHODS}; got "
                                        f"{method!r}")
        if time_limit is not None:
            time_limit = check_number(owner, "time_limit", time_limit, low=0.0, low_open=True)
        n_arms, n_actions = costs.shape
        caps, min_active, max_active = check_count_limits(owner, n_arms, n_actions, action_caps,
                                                          min_active, max_active)
        self.costs = np.array(costs)
        self.costs.setflags(write=False)
        self.budget, self.method, self.time_limit = budget, method, time_limit
        caps = np.full(n_actions, np.inf) if caps is None else caps
        top = np.inf if max_active is None else float(max_active)
        self._has_limits = min_active > 0 or bool((np.minimum(caps[1:], top) < n_arms).any())
        self._count_table = self._table = None
        if self._has_limits:
            if n_actions == 2:              # one active action: its cap is a max_active
                top, caps = min(top, caps[1]), np.full(2, np.inf)
            if min(top, caps[1:].sum()) < min_active:
                raise InfeasibleActionError(f"{owner}: no joint action gives {min_active} arms "
                                            f"an active action within the caps")
            self._caps, self._min_active, self._top = caps, min_active, top
            if method in ("auto", "dp"):
                self._count_table = self._count_dp_table(dp_limit, strict=method == "dp")
            if method == "auto":
                self.method = ("dp" if self._count_table is not None else
                               "enumeration" if n_actions ** n_arms <= ENUMERATION_LIMIT else
                               "mip")
            return
        scale = _cost_scale(self.costs)
        if method == "dp" and scale is None:
            raise InvalidParameterError(f"{owner}.costs: must be integers or decimals of at "
                                        f"most three places for method 'dp'")
        if method == "dp":                  # a budget of 1e9 asked for an 18 GB table
            self._table = _dp_table(self.costs, budget, scale)
            cells = n_arms * (self._table[1] + 1)
            if cells > dp_limit:
                raise InvalidParameterError(f"{owner}.method: 'dp' needs a table of "
                                            f"{cells:.3g} cells, more than dp_limit={dp_limit};"
                                            f" use 'mip' or raise dp_limit")
        if method == "auto":                # the DP table stops at the dearest joint action
            self.method = "greedy"
            if scale is not None:
                dearest = float(np.round(self.costs * scale).max(axis=1).sum()) if n_arms \
                    else 0.0
                if n_arms * (int(min(budget * scale, dearest)) + 1) <= dp_limit:
                    self.method = "dp"
                    self._table = _dp_table(self.costs, budget, scale)
            if self.method == "greedy" and n_arms * (n_actions - 1) <= mip_limit:
                self.method = "mip"

    def __repr__(self) -> str:
        return (f"Knapsack(costs=array(shape={self.costs.shape}), budget={self.budget!r}, "
                f"method={self.method!r})")

    def solve(self, values) -> KnapsackResult:
        """Best joint action for ``values`` (n_arms, n_actions): the value of each action for
        each arm (only differences within a row matter).

        Raises
        ------
        InfeasibleActionError
            No joint action meets the budget and ``min_active``, or none was found before
            ``time_limit``.
        """
        owner = self._solve_owner
        values = as_float_array(owner, "values", values, ndim=2, error=InvalidParameterError)
        if values.shape != self.costs.shape:
            raise InvalidParameterError(f"{owner}.values: must have the shape of the costs "
                                        f"{self.costs.shape}; got {values.shape}")
        costs, budget, method = self.costs, self.budget, self.method
        if self._has_limits:
            caps, min_active, top = self._caps, self._min_active, self._top
            if self._count_table is not None:
                res = self._count_dp(values)
                if res is not None:
                    return res
            if method == "enumeration":
                return _enumerate(values, costs, budget, caps, min_active, top, owner)
            return _limited(values, costs, budget, method, self.time_limit, caps, min_active,
                            top, owner, 3 + self._up)
        n_arms = values.shape[0]
        gains = np.ascontiguousarray(values - values[:, :1])
        actions = np.zeros(n_arms, dtype=np.int64)
        if method == "dp":
            optimal = _dp(gains, costs, budget, self._table, actions)
            if not optimal:             # costs within 1e-9 of the grid added up past the budget
                method = "mip"
        if method in ("greedy", "mip"):
            optimal = _greedy(gains, costs, budget, actions)
        if method == "mip" and not optimal:
            optimal = _mip(gains, costs, budget, actions, self.time_limit, owner, 2 + self._up)
        idx = np.arange(n_arms)
        return KnapsackResult(actions, float(values[idx, actions].sum()),
                              float(costs[idx, actions].sum()), method, optimal)

    def _count_dp_table(self, dp_limit, strict):
        """The count DP's integer costs, capacity, counts and strides when the costs are
        decimals of at most three places and the table fits ``dp_limit`` cells; None otherwise
        (``strict``: raise instead). Active arms are counted only under ``min_active`` or a
        ``top`` that binds, and only caps below the most arms that can act get a count."""
        costs, caps, min_active = self.costs, self._caps, self._min_active
        n_arms, n_actions = costs.shape
        scale = _cost_scale(costs)
        why = ("costs that are not decimals of at most three places" if scale is None else
               "more than 127 actions" if n_actions > 127 else None)
        if why is None:
            icosts, capacity = _dp_table(costs, self.budget, scale)
            # no more arms can act than the budget pays for, besides those with a free action
            most = min(n_arms, capacity + int((icosts[:, 1:] == 0).any(axis=1).sum()))
            high = int(min(self._top, most))
            counted = min_active > 0 or high < most
            if high < min_active:
                high = min_active           # infeasible: the kernel says so
            capped = np.flatnonzero(caps < high)
            radix = [int(caps[a]) + 1 for a in capped]    # Python ints: the product can be huge
            cells = n_arms * (capacity + 1) * (high + 1 if counted else 1) * math.prod(radix)
            if cells <= dp_limit:
                stride = np.zeros(n_actions, dtype=np.int64)
                icaps = np.zeros(n_actions, dtype=np.int64)
                icaps[capped] = caps[capped]
                stride[capped] = np.cumprod([1] + radix[:-1])
                return icosts, capacity, high if counted else -1, stride, icaps, capped.size
            why = (f"a table of {float(min(cells, 10**300)):.3g} cells, more than "
                   f"dp_limit={dp_limit}")
        if strict:
            raise InvalidParameterError(f"{self._owner}.method: 'dp' does not take count "
                                        f"limits with {why}; use 'mip'"
                                        + (" or raise dp_limit" if "dp_limit" in why else ""))
        return None

    def _count_dp(self, values):
        """The exact DP over (budget, active arms, capped actions' counts); None when the
        costs, within 1e-9 of the grid, added up past the budget (the MIP decides)."""
        icosts, capacity, high, stride, icaps, n_capped = self._count_table
        costs, budget = self.costs, self.budget
        gains = np.ascontiguousarray(values - values[:, :1])
        actions = np.zeros(costs.shape[0], dtype=np.int64)
        best = _kernels.mckp_count_dp_kernel(gains, icosts, capacity, self._min_active, high,
                                             stride, icaps, actions)
        idx = np.arange(costs.shape[0])
        if best == -np.inf:
            raise InfeasibleActionError(f"{self._solve_owner}: no joint action gives "
                                        f"{self._min_active} arms an active action within the "
                                        f"budget {budget:g}" + (" and caps" if n_capped else ""))
        if costs[idx, actions].sum() > budget + 0.5 * budget_slack(budget):
            return None
        return KnapsackResult(actions, float(values[idx, actions].sum()),
                              float(costs[idx, actions].sum()), "dp", True)


class _SolveKnapsack(Knapsack):
    """:func:`solve_knapsack`'s knapsack: its errors name the function the caller used."""

    _owner = _solve_owner = "solve_knapsack"
    _up = 2


class _FillActive(Knapsack):
    """:func:`fill_active`'s knapsack: its errors and warnings name that function."""

    _owner = _solve_owner = "fill_active"
    _up = 2


def solve_knapsack(values, costs, budget, *, method: str = "auto", dp_limit: int = DP_LIMIT,
                   mip_limit: int = MIP_LIMIT, time_limit: float | None = None,
                   action_caps=None, min_active: int = 0, max_active: int | None = None
                   ) -> KnapsackResult:
    """Best joint action under the budget (once; :class:`Knapsack` keeps the costs' work for
    many values).

    Parameters
    ----------
    values : array (n_arms, n_actions)
        Value of each action for each arm (only differences within a row matter).
    costs : array (n_arms, n_actions)
        Non-negative costs with ``costs[:, 0] == 0`` (the passive action is always affordable).
    budget : float >= 0
    method : {"auto", "dp", "greedy", "mip"}
    dp_limit, mip_limit : int
        Largest DP table (cells) and MIP (indicators, without count limits) that ``"auto"``
        solves exactly; ``"dp"`` refuses a larger table.
    time_limit : float, optional
        Seconds allowed to the MIP. On the limit the best action found (at worst the greedy
        answer it starts from) is returned with ``optimal=False`` and a
        :class:`~rmab.errors.SolverLimitWarning`.
    action_caps, min_active, max_active :
        Count limits as in :class:`~rmab.models.Instance` (``instance.limits``).

    Raises
    ------
    InfeasibleActionError
        No joint action meets the budget and ``min_active``, or none was found before
        ``time_limit``.
    """
    return _SolveKnapsack(costs, budget, method=method, dp_limit=dp_limit, mip_limit=mip_limit,
                          time_limit=time_limit, action_caps=action_caps, min_active=min_active,
                          max_active=max_active).solve(values)


def _dp_table(costs, budget, scale):
    """The DP's integer costs (scaled) and capacity: a budget above the dearest joint action
    changes nothing, so the table stops there; every joint action within the budget's slack
    fits (a rounded cost may sit 1e-9, scaled, above the real one: room for n_arms of that),
    and the callers refuse an answer whose real cost does not fit. A cost past the capacity
    is stored as capacity + 1 (it never fits; a cost of 1e300 overflowed int64)."""
    scaled = np.round(costs * scale)
    dearest = float(scaled.max(axis=1).sum())
    room = (budget + 0.5 * budget_slack(budget)) * scale + 1e-9 * costs.shape[0]
    capacity = int(dearest) if room >= dearest else int(np.floor(room))
    # past 2**62 the table is refused by dp_limit anyway; the cast must not overflow first
    clip = float(min(capacity + 1, 2**62))
    return np.ascontiguousarray(np.minimum(scaled, clip).astype(np.int64)), capacity


def _dp(gains, costs, budget, table, actions) -> bool:
    """Exact DP on the costs scaled to integers (``table``: :func:`_dp_table`); writes
    ``actions`` and returns False (all passive) if the real costs of its answer exceed the
    budget."""
    icosts, capacity = table
    _kernels.mckp_dp_kernel(gains, icosts, capacity, actions)
    if costs[np.arange(actions.size), actions].sum() > budget + 0.5 * budget_slack(budget):
        actions[:] = 0
        return False
    return True


def _greedy(gains, costs, budget, actions) -> bool:
    """Greedy upgrades along the hulls; writes ``actions`` and returns whether they reach the
    LP relaxation's bound (then they are optimal)."""
    steps = _walk_hulls(gains, costs, budget, np.full(gains.shape[1], np.inf), np.inf, actions)
    order, arm_of, lv_from, lv_to, d_cost = steps
    k = order.size
    if k == 0:
        return True
    slack = 0.5 * budget_slack(budget)
    # The LP optimum takes whole steps in slope order while they fit (so does the greedy),
    # then a fraction of the next: the greedy is optimal iff the steps it took after that
    # prefix gain at least the fraction. Compared per arm, so that a large gain elsewhere
    # (a free action worth 1e7) does not swallow the difference in rounding.
    spent = np.cumsum(d_cost[order])
    whole = int(np.searchsorted(spent, budget + slack, side="right"))
    if whole == k:
        return True
    nxt = order[whole]
    room = max(budget + slack - (spent[whole - 1] if whole else 0.0), 0.0)
    fraction = (gains[arm_of[nxt], lv_to[nxt]] - gains[arm_of[nxt], lv_from[nxt]]) * room \
        / d_cost[nxt]
    prefix = order[:whole]
    last = np.full(actions.size, -1)                # each arm's last step in the prefix
    np.maximum.at(last, arm_of[prefix], np.arange(whole))
    level = np.zeros_like(actions)
    level[last >= 0] = lv_to[prefix[last[last >= 0]]]
    idx = np.arange(actions.size)
    extra = (gains[idx, actions] - gains[idx, level]).sum()
    return bool(extra >= fraction * (1.0 - 1e-9))


def feasible_joint_actions(costs, budget, *, action_caps=None, min_active: int = 0,
                           max_active: int | None = None) -> np.ndarray:
    """Every joint action within the budget (and its half slack, as the planners keep) and
    the count limits, (K, n_arms) in lexicographic order, read-only and cached (a planner asks
    again with new values only). Enumerates ``n_actions ** n_arms`` actions: small stacks
    only. Limits as ``instance.limits``."""
    owner = "feasible_joint_actions"
    costs = as_float_array(owner, "costs", costs, ndim=2, error=InvalidParameterError)
    check_costs(owner, costs, error=InvalidParameterError)
    budget = check_number(owner, "budget", budget, low=0.0)
    n_arms, n_actions = costs.shape
    if n_actions ** n_arms > JOINT_LIMIT:           # memory: (K, n_arms) and more
        raise InvalidParameterError(f"{owner}.costs: enumerates n_actions ** n_arms joint "
                                    f"actions, at most {JOINT_LIMIT}; got {n_actions} ** "
                                    f"{n_arms} = {float(n_actions) ** n_arms:.3g}")
    caps, min_active, max_active = check_count_limits(owner, costs.shape[0], n_actions,
                                                      action_caps, min_active, max_active)
    caps = np.full(n_actions, np.inf) if caps is None else caps
    top = np.inf if max_active is None else float(max_active)
    return _feasible_joint(costs.tobytes(), costs.shape[0], n_actions, float(budget),
                           tuple(caps.tolist()), int(min_active), top)


@functools.lru_cache(maxsize=16)
def _feasible_joint(cost_bytes: bytes, n_arms: int, n_actions: int, budget: float,
                    caps: tuple, min_active: int, top: float) -> np.ndarray:
    costs = np.frombuffer(cost_bytes).reshape(n_arms, n_actions)
    joint = np.indices((n_actions,) * n_arms).reshape(n_arms, -1).T
    counts = (joint[:, :, None] == np.arange(n_actions)).sum(axis=1)
    active = n_arms - counts[:, 0]
    ok = ((costs[np.arange(n_arms), joint].sum(axis=1) <= budget + 0.5 * budget_slack(budget))
          & (counts <= np.array(caps)).all(axis=1) & (active >= min_active) & (active <= top))
    feasible = np.ascontiguousarray(joint[ok])
    feasible.setflags(write=False)
    return feasible


def _enumerate(values, costs, budget, caps, min_active, top, owner):
    """The exact answer under count limits by scoring every feasible joint action (few arms: a
    per-arm rollout's base planner asks hundreds of times a step, where a MIP took 6 ms)."""
    n_arms, n_actions = values.shape
    joint = feasible_joint_actions(costs, budget, action_caps=caps, min_active=min_active,
                                   max_active=None if top == np.inf else int(top))
    if not joint.size:
        raise InfeasibleActionError(f"{owner}: no joint action gives {min_active} arms an "
                                    f"active action within the budget {budget:g}"
                                    + _and_caps(caps))
    idx = np.arange(n_arms)
    actions = joint[int(np.argmax(values[idx, joint].sum(axis=1)))].copy()
    return KnapsackResult(actions, float(values[idx, actions].sum()),
                          float(costs[idx, actions].sum()), "enumeration", True)


def _limited(values, costs, budget, method, time_limit, caps, min_active, top, owner,
             stacklevel):
    """The knapsack under count limits: the greedy walk within them, completed to
    ``min_active`` by gain, then (unless ``method == "greedy"`` and the walk succeeded) the MIP
    with one row per capped action and one for the active arms (its warnings at
    ``stacklevel`` from :func:`_limited_mip`)."""
    n_arms, n_actions = values.shape
    gains = np.ascontiguousarray(values - values[:, :1])
    actions = np.zeros(n_arms, dtype=np.int64)
    _walk_hulls(gains, costs, budget, caps, top, actions)
    feasible = _fill_greedy(gains, costs, budget, actions, caps, min_active)
    optimal = False
    if method != "greedy" or not feasible:
        method = "mip"
        optimal, feasible = _limited_mip(gains, costs, budget, caps, min_active, top, actions,
                                         feasible, time_limit, owner, stacklevel)
    if not feasible:
        raise InfeasibleActionError(f"{owner}: no joint action gives {min_active} arms an "
                                    f"active action within the budget {budget:g}"
                                    + _and_caps(caps))
    idx = np.arange(n_arms)
    return KnapsackResult(actions, float(values[idx, actions].sum()),
                          float(costs[idx, actions].sum()), method, optimal)


def _and_caps(caps) -> str:
    return " and caps" if np.isfinite(caps[1:]).any() else ""


def _walk_hulls(gains, costs, budget, caps, top, actions):
    """The greedy walk: upgrade arms along their (cost, gain) hulls by decreasing slope while
    the budget lasts, skipping steps past ``caps`` (n_actions,) or ``top`` active arms. Writes
    ``actions``; returns the steps (order by slope, arm, from, to, extra cost)."""
    size = gains.shape[0] * max(gains.shape[1] - 1, 1)
    arm_of, lv_from, lv_to = (np.empty(size, dtype=np.int64) for _ in range(3))
    d_cost, slope = np.empty(size), np.empty(size)
    k = _kernels.hull_increments_kernel(gains, np.ascontiguousarray(costs), arm_of, lv_from,
                                        lv_to, d_cost, slope)
    arm_of, lv_from, lv_to, d_cost, slope = (x[:k] for x in (arm_of, lv_from, lv_to, d_cost,
                                                               slope))
    # an arm's hull steps have non-increasing slopes, but float division can break a tie the
    # wrong way (3 / 0.2 < 6 / 0.4): the sort then put a later step first, the walk skipped
    # it, and the LP-bound check read a suboptimal answer as optimal. Clip each step's slope
    # to its predecessor's on the arm, so that ties keep hull order (the sort is stable)
    while (up := np.flatnonzero((arm_of[1:] == arm_of[:-1]) & (slope[1:] > slope[:-1]))).size:
        slope[up + 1] = slope[up]
    # by decreasing slope; zero-cost steps (slope inf), which compete only for capped actions
    # and active slots, by decreasing gain to the end of their arm's free steps (_free_gain);
    # other ties keep the kernel's order (by arm, then along the arm's hull: level numbers
    # need not follow the hull when costs are not sorted by action)
    order = np.lexsort((-_free_gain(gains, arm_of, lv_from, lv_to, slope), -slope)).astype(
        np.int64)
    _kernels.mckp_greedy_kernel(order, arm_of, lv_from, lv_to, d_cost,
                                float(budget), 0.5 * budget_slack(budget), caps, top, actions)
    return order, arm_of, lv_from, lv_to, d_cost


def _free_gain(gains, arm_of, lv_from, lv_to, slope):
    """Each zero-cost hull step's sort gain (0 for the others): the gain from its level to the
    end of its arm's zero-cost steps, so that an arm competes for caps and active slots with
    all it reaches for free (ranked by its first step alone, an arm whose free steps gain 0.1
    then 4.9 lost its slot to one gaining 3), and its steps, each of positive gain, stay in
    hull order (the walk takes a step only from the level the arm is at)."""
    free = slope == np.inf
    key = np.where(free, gains[arm_of, lv_to] - gains[arm_of, lv_from], 0.0)
    follows = np.flatnonzero(free[1:] & free[:-1] & (arm_of[1:] == arm_of[:-1])) + 1
    for k in follows[::-1]:             # zero-cost chains of two or more steps: rare
        key[k - 1] += key[k]
    return key


def fill_active(scores, costs, budget, actions, *, action_caps=None, min_active: int = 0,
                max_active: int | None = None) -> None:
    """Bring a heuristic's joint action ``actions`` (within the budget and caps) up to
    ``min_active`` active arms, in place: passive arms take the (arm, action) pairs of highest
    ``scores`` (n_arms, n_actions; ``-inf`` = only if needed) that still fit. Should that
    greedy miss, the exact MIP maximises the scores with a bonus for keeping ``actions``
    (:func:`solve_knapsack`). Limits as ``instance.limits``.

    Raises
    ------
    InvalidParameterError
        Costs, scores (NaN refused) or actions (a writable int64 array, filled in place) of
        the wrong kind or shape.
    InfeasibleActionError
        ``actions`` over the budget, or no fill reaches ``min_active``.
    """
    owner = "fill_active"                                       # a user planner's call
    costs = as_float_array(owner, "costs", costs, ndim=2, error=InvalidParameterError)
    check_costs(owner, costs, error=InvalidParameterError)
    n_arms, n_actions = costs.shape
    scores = as_float_array(owner, "scores", scores, ndim=2, error=InvalidParameterError,
                            allow_inf=True)
    if scores.shape != costs.shape:
        raise InvalidParameterError(f"{owner}.scores: must have the shape of the costs "
                                    f"(n_arms={n_arms}, n_actions={n_actions}); got "
                                    f"{scores.shape}")
    budget = check_number(owner, "budget", budget, low=0.0)
    if (not isinstance(actions, np.ndarray) or actions.dtype != np.int64
            or actions.shape != (n_arms,) or not actions.flags.writeable):
        raise InvalidParameterError(f"{owner}.actions: must be a writable int64 array of shape "
                                    f"(n_arms={n_arms},), filled in place; got "
                                    f"{_describe(actions)}")
    if n_arms and not 0 <= actions.min() <= actions.max() < n_actions:
        raise InvalidParameterError(f"{owner}.actions: must be in 0..{n_actions - 1}; got "
                                    f"{int(actions.min())}..{int(actions.max())}")
    spent = float(costs[np.arange(n_arms), actions].sum())
    if spent > budget + 0.5 * budget_slack(budget):
        raise InfeasibleActionError(f"{owner}.actions: must be within the budget {budget:g} "
                                    f"before the fill; they cost {spent:g}")
    caps, min_active, max_active = check_count_limits(
        owner, n_arms, n_actions, action_caps, min_active, max_active)
    _fill_active(scores, costs, budget, actions, action_caps=caps, min_active=min_active,
                 max_active=max_active)


def _fill_active(scores, costs, budget, actions, *, action_caps=None, min_active: int = 0,
                 max_active: int | None = None) -> None:
    """:func:`fill_active` without its checks: the planners' own call each period, with their
    instance's costs and limits (the checks doubled a call, 21 -> 41 µs, a review)."""
    caps = np.full(costs.shape[1], np.inf) if action_caps is None else action_caps
    start = actions.copy()                          # the heuristic's, before the greedy fill
    if min_active == 0 or _fill_greedy(scores, costs, budget, actions, caps, min_active):
        return
    active = scores[:, 1:]                          # action 0 is the reference, not scored
    finite = np.isfinite(active)
    low, high = (active[finite].min(), active[finite].max()) if finite.any() else (0.0, 0.0)
    span = high - low + 1.0
    # +inf ranks above every number; -inf below, in the order of the arm's best finite score
    # (an index planner scores one action: its arms keep their ranking)
    best = np.where(finite, active, -np.inf).max(axis=1, keepdims=True)
    best = np.where(np.isfinite(best), best, low)
    values = np.zeros(scores.shape)
    values[:, 1:] = np.where(finite, active,
                             np.where(active == np.inf, high + span, best - 2 * span))
    bonus = 2.0 * (values.max() - values.min()) + 1.0
    values[np.arange(start.size), start] += np.where(start > 0, bonus, 0.0)
    actions[:] = _FillActive(costs, budget, method="mip", action_caps=action_caps,
                             min_active=min_active, max_active=max_active).solve(values).actions


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return (f"{'a read-only ' if not value.flags.writeable else ''}{value.dtype} array of "
                f"shape {value.shape}")
    return type(value).__name__


def _fill_greedy(scores, costs, budget, actions, caps, min_active: int) -> bool:
    """:func:`fill_active`'s greedy: returns whether ``min_active`` was reached."""
    n_arms, n_actions = costs.shape
    counts = np.bincount(actions, minlength=n_actions)
    need = min_active - (n_arms - int(counts[0]))
    if need <= 0:
        return True
    left = budget + 0.5 * budget_slack(budget) - costs[np.arange(n_arms), actions].sum()
    arm = np.repeat(np.flatnonzero(actions == 0), n_actions - 1)
    act = np.tile(np.arange(1, n_actions), arm.size // max(n_actions - 1, 1))
    for k in np.argsort(-scores[arm, act], kind="stable"):
        n, a = arm[k], act[k]
        if actions[n] != 0 or counts[a] + 1 > caps[a] or costs[n, a] > left:
            continue
        actions[n] = a
        counts[a] += 1
        left -= costs[n, a]
        need -= 1
        if need == 0:
            return True
    return False


def _limited_mip(gains, costs, budget, caps, min_active, top, actions, feasible,
                 time_limit, owner, stacklevel) -> tuple[bool, bool]:
    """Binary program over x[n, a] (a >= 1, passive the slack of each choice row) with the
    budget row, a row per capped action and the active-arm row, started from ``actions`` when
    ``feasible``. Writes ``actions``; returns (proven optimal, feasible)."""
    from scipy import sparse
    from solvers import MILP, TerminationStatus

    n_arms, n_actions = gains.shape
    m = n_actions - 1
    # HiGHS's tolerances are absolute (1e-7): gains scaled by _gain_scale, costs and budget by
    # the dearest cost that fits (costs of 1e-7 let HiGHS overspend several times)
    # at most the dearest joint action: a budget of 1e21 is 'anything' (HiGHS reads 1e20 as
    # infinite and the row was refused: a review)
    limit = min(budget + 0.5 * budget_slack(budget), float(costs.max(axis=1).sum()))
    fits = (costs <= limit)[:, 1:]      # dearer than the budget: never taken, no scale
    nonzero = np.abs(gains[:, 1:][fits & (gains[:, 1:] != 0.0)])
    scale = _gain_scale(nonzero)
    # by the dearest cost that fits: one never affordable (1e7 against a budget of 10) made
    # HiGHS's row tolerance worth a whole cost of 1 (7 came back for 10.9, a review)
    unit = float(costs[:, 1:][fits].max(initial=0.0)) or 1.0
    capped = np.flatnonzero(np.isfinite(caps[1:]))
    rows = sparse.vstack([
        sparse.kron(sparse.eye(n_arms, format="csr"), np.ones((1, m)), format="csr"),
        sparse.csr_matrix(np.where(fits, costs[:, 1:], 0.0).ravel()[None, :] / unit),
        sparse.hstack([sparse.eye(m, format="csr")[capped]] * n_arms, format="csr"),
        sparse.csr_matrix(np.ones((1, n_arms * m)))], format="csr")
    lower = np.concatenate([np.full(n_arms + 1 + capped.size, -np.inf), [min_active]])
    upper = np.concatenate([np.ones(n_arms), [limit / unit], caps[1:][capped],
                            [min(top, n_arms)]])
    idx = np.arange(n_arms)
    start = None
    if feasible:
        start = np.zeros((n_arms, n_actions))
        start[idx, actions] = 1.0
        start = start[:, 1:].ravel()
    n = n_arms * m
    res, chosen, fits_exactly, _ = _solve_exact(
        MILP(np.where(fits, gains[:, 1:], 0.0).ravel() / scale, rows, lower, upper, np.zeros(n),
             fits.ravel().astype(float), np.ones(n, dtype=bool), "max"),
        costs, limit, np.zeros(n_arms, dtype=np.int64), time_limit, start,
        _CUTS if feasible else _CUTS_ALONE)
    if res.status is TerminationStatus.INFEASIBLE and not feasible:     # cuts are valid
        return False, False
    stopped = not fits_exactly or res.status is not TerminationStatus.OPTIMAL
    if not (fits_exactly and res.x is not None) and not feasible:    # nothing to return
        if res.x is not None:
            raise InfeasibleActionError(f"{owner}: HiGHS found no joint action within the "
                                        f"budget's rounding; scale the costs")
        timed_out = res.status is TerminationStatus.TIME_LIMIT
        raise InfeasibleActionError(f"{owner}: HiGHS stopped early (status "
                                    f"{res.status.value}) before it found a joint action that "
                                    f"gives {min_active} arms an active action within the "
                                    f"budget {budget:g}{_and_caps(caps)}, and the greedy walk "
                                    f"found none; none is known"
                                    + (" (raise time_limit)" if timed_out else ""))
    if stopped:
        why = (f"HiGHS stopped early (status {res.status.value})" if fits_exactly else
               f"its answers overspent the budget by rounding ({_CUTS} solves, or the time "
               f"limit, cut them off in turn)")
        warnings.warn(f"{owner}: {why}; returning the best action found within the budget "
                      f"(not proven optimal)", SolverLimitWarning, stacklevel=stacklevel)
    if res.x is None or not fits_exactly:
        return False, feasible          # the greedy start stands (feasible)
    if not feasible or gains[idx, chosen].sum() >= gains[idx, actions].sum():
        actions[:] = chosen
    return not stopped, True


def _mip(gains, costs, budget, actions, time_limit, owner, stacklevel) -> bool:
    """Binary program over x[n, a] (a >= 1; the passive action is the slack of each choice
    row): max sum gains x s.t. sum_a x[n, a] <= 1, sum costs x <= budget, started from
    ``actions`` (feasible). Writes ``actions`` and returns whether HiGHS proved optimality.
    Through :mod:`solvers`' highspy backend: scipy's bundled HiGHS printed debug lines to
    stdout, where ``rmab solve -o -`` writes its CSV."""
    n_arms, n_actions = gains.shape
    if n_actions == 1 or n_arms == 0:
        return True
    from scipy import sparse
    from solvers import MILP, TerminationStatus

    # HiGHS's tolerances are absolute (1e-6 on the objective, 1e-7 on duals): each arm starts
    # from its best free action (a free gain of 1e7 hid shortfalls of 0.6) and the gains worth
    # buying are scaled by _gain_scale
    idx = np.arange(n_arms)
    base = np.argmax(np.where(costs == 0.0, gains, -np.inf), axis=1)     # passive costs 0
    rel = gains - gains[idx, base][:, None]
    limit = budget + 0.5 * budget_slack(budget)           # within the budget, as everywhere
    fits = costs <= limit               # an action dearer than the budget is never taken:
    worth = rel[(costs > 0.0) & fits]   # its gain does not set the scale (a review), nor does
    worth = worth[worth > 0.0]          # a worse-than-free action's
    if not worth.size:                  # nothing worth buying: the free actions are optimal
        actions[:] = base
        return True
    scale = _gain_scale(worth)
    # costs of 1e-7 let HiGHS overspend: scale them too, by the dearest that fits (one never
    # affordable, 1e7 against a budget of 10, made the row's tolerance worth a cost of 1)
    unit = costs[fits].max()
    g, c = (np.where(fits, x, 0.0)[:, 1:].ravel() for x in (rel / scale, costs / unit))
    rows = sparse.vstack([
        sparse.kron(sparse.eye(n_arms, format="csr"), np.ones((1, n_actions - 1)), format="csr"),
        sparse.csr_matrix(c[None, :])], format="csr")
    start = np.zeros((n_arms, n_actions))
    start[idx, actions] = actions != base           # an arm at its free action: no indicator
    res, chosen, fits_exactly, over = _solve_exact(
        MILP(g, rows, np.full(n_arms + 1, -np.inf), np.append(np.ones(n_arms), limit / unit),
             np.zeros(g.size), fits[:, 1:].ravel().astype(float), np.ones(g.size, dtype=bool),
             "max"),
        costs, limit, base, time_limit, start[:, 1:].ravel())
    stopped = res.status is not TerminationStatus.OPTIMAL
    if stopped:
        warnings.warn(f"{owner}: HiGHS stopped early (status {res.status.value}); returning "
                      f"the best action found", SolverLimitWarning, stacklevel=stacklevel)
    if chosen is None and not over:
        return False                    # the greedy start stands
    # the cuts ran out (not proven, silently: an answer a few 1e-8 past the budget is no
    # solver failure), or the time did (warned above): each answer with the chosen actions of
    # least gain per cost dropped until the exact sum fits, refilled, and the best (neither
    # the first nor the last was always, a review)
    for a in over if chosen is None else ():
        while costs[idx, a].sum() > limit:
            taken = np.flatnonzero(costs[idx, a] > 0.0)
            worst = taken[np.argmin(rel[taken, a[taken]] / costs[taken, a[taken]])]
            a[worst] = base[worst]
    # gains far below the largest fall under HiGHS's tolerance: 7e-6 beside 24 was left out
    # of room to spare, "optimal" (a review). Take, largest first, any one-arm change that
    # still fits and gains
    for a in over if chosen is None else [chosen]:
        while True:                  # the exact sum each time: no drift past the limit
            now = costs[idx, a]
            more = costs - now[:, None]                          # (n, A) cost of a change
            up = np.where(fits & (now.sum() + more <= limit), rel - rel[idx, a][:, None], 0.0)
            n, k = np.unravel_index(int(np.argmax(up)), up.shape)
            if not up[n, k] > 0.0:
                break
            a[n] = k
    chosen = max(over, key=lambda a: rel[idx, a].sum()) if chosen is None else chosen
    if gains[idx, chosen].sum() >= gains[idx, actions].sum():
        actions[:] = chosen
    return fits_exactly and not stopped


def _gain_scale(sizes) -> float:
    """The divisor of the MIP's gains, from the sizes (> 0) of those that can count: the least
    comes to 1, unless that takes the largest past 1e6. HiGHS prunes within absolute
    tolerances (1e-6 on the objective): scaled to a largest of 1, a gain of 1e4 put differences
    of 5e-3 elsewhere under them (20 to 26 of 2 937 random knapsacks "optimal" below the optimum,
    session 52), and gains of 1e-5 came back 4 % short; to a median of 1, 1 to 4 of 2 937,
    and one of 3 000 under count limits; to this scale, none."""
    if not sizes.size:
        return 1.0
    return max(float(sizes.min()), float(sizes.max()) / 1e6)


def _solve_exact(milp, costs, limit, base, time_limit, start, cuts=None):
    """Solve the knapsack's binary program ``milp`` (columns x[n, a] for a >= 1, arm by arm)
    from ``start`` and read its answer (an arm with no column taken is at ``base[n]``).
    HiGHS accepts a budget row violated by ~1e-7, more than the budget's slack: while the
    answer's exact cost is past ``limit``, cut it off and solve again, at most ``cuts``
    (default ``_CUTS``) times. The cut, sum x <= k - 1 over the k dear columns taken and
    every column at least as dear as the dearest of them, is valid (any k of those columns
    cost at least as much, past the limit), so an answer proven optimal under the cuts is
    optimal; tightening the row instead cut off answers within the limit. Returns the last
    result (status ``TIME_LIMIT`` if the time ran out between cuts), the answer within the
    exact budget (None if none: no answer, or the cuts ran out), whether no answer went past
    it, and the answers that did, in order."""
    from dataclasses import replace

    from solvers import TerminationStatus, solve

    n_arms, n_actions = costs.shape
    idx = np.arange(n_arms)
    dear = costs[:, 1:] > 0.0
    over = []
    for _ in range(_CUTS if cuts is None else cuts):
        res = solve(milp, time_limit=time_limit, mip_gap=0.0, warm_start=start)
        if res.x is None:
            return res, None, not over, over
        x = res.x.reshape(n_arms, n_actions - 1) > 0.5
        chosen = np.where(x.any(axis=1), x.argmax(axis=1) + 1, base)
        if costs[idx, chosen].sum() <= limit:
            return res, chosen, True, over
        over.append(chosen)
        if time_limit is not None:              # the cuts share the time allowed
            time_limit -= res.seconds
            if time_limit <= 0.0:               # said as a time limit (a review)
                return (replace(res, status=TerminationStatus.TIME_LIMIT), None, False,
                        over)
        taken = x & dear
        cut = taken | (dear & (costs[:, 1:] >= costs[:, 1:][taken].max()))
        milp = milp.add_rows(cut.ravel()[None, :], -np.inf, taken.sum() - 1.0)
    return res, None, False, over

