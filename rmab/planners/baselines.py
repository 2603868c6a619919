"""Baseline planners (``../shared/specs/PORMAB.md`` §7)."""

from __future__ import annotations

import numbers

import numpy as np

from rmab._validation import budget_slack, check_number
from rmab.errors import InvalidParameterError
from rmab.planners import _kernels
from rmab.planners.base import ONLY_PASSIVE, BasePlanner, kernel_limits
from rmab.planners.index import index_top_up, index_walk
from rmab.relax.knapsack import DP_LIMIT, Knapsack, _fill_active

__all__ = ["NoActionPlanner", "RandomPlanner", "RoundRobinPlanner", "MyopicPlanner",
           "BeliefThresholdPlanner", "one_step_values"]


class NoActionPlanner(BasePlanner):
    """Every arm takes the passive action 0 (refuses instances with ``min_active > 0``)."""

    name = "no-action"

    def _fit(self, instance):
        if instance.min_active:
            raise InvalidParameterError(f"NoActionPlanner.fit.instance.min_active: must be 0 "
                                        f"for a planner that never acts; got "
                                        f"{instance.min_active}")

    def _plan(self, belief, t):
        return np.zeros(belief.shape[0], dtype=np.int64)


class RandomPlanner(BasePlanner):
    """Random feasible joint action: arms in a random order each take an action drawn uniformly
    among those whose cost still fits the remaining budget (the passive action always fits) and
    whose count limit is not reached; with ``min_active``, random passive arms are then made
    active until enough are (:func:`~rmab.relax.knapsack.fill_active`)."""

    name = "random"

    def _plan(self, belief, t):
        inst = self.instance
        n = inst.n_arms
        order = self.rng.permutation(n).astype(np.int64)
        actions = np.zeros(n, dtype=np.int64)
        caps, top = kernel_limits(inst)
        _kernels.random_feasible_kernel(order, inst.arms.costs, inst.budget,
                                        0.5 * budget_slack(inst.budget), caps, top,
                                        self.rng.random(n), actions)
        if inst.min_active:
            _fill_active(self.rng.random((n, inst.n_actions)), inst.arms.costs, inst.budget,
                         actions, **inst.limits)
        return actions


def _ranked_actions(inst, ranking: np.ndarray, eligible: int, action: int):
    """The joint action giving ``action`` to the first ``eligible`` arms of ``ranking`` (all
    arms, preferred first), in that order, while each fits in what is left of the budget (an
    arm that does not fit is passed over, not a stop) and the action's cap allows; then, with
    ``min_active``, passive arms made active in ranking order (with ``action`` if it fits, else
    another). Returns it and the arms the walk gave ``action`` (in ranking order).

    The index walk (:func:`~rmab.planners.index.index_walk`) with the ranking as index:
    ``-rank`` for ``action`` (above the threshold ``0.5 - eligible`` exactly for the first
    ``eligible`` arms), ``-rank - n_arms`` for the other actions (never walked; below every
    ``action`` for ``min_active``)."""
    n = inst.n_arms
    rank = np.empty(n)
    rank[ranking] = np.arange(n)
    index = np.repeat(-rank[:, None] - n, inst.n_actions - 1, axis=1)
    index[:, action - 1] += n
    levels = [(0, a) for a in range(1, inst.n_actions)]
    actions = index_walk(inst, index, levels, 0.5 - eligible)
    first = ranking[:eligible]
    served = first[actions[first] != 0]
    index_top_up(inst, index, levels, actions)
    return actions, served


class RoundRobinPlanner(BasePlanner):
    """Arms take ``action`` in a fixed cycle 0, 1, ..., N-1, 0, ... as many per period as the
    budget allows (an arm too costly for what is left is passed over); the cycle resumes after
    the last arm served and restarts at ``reset``."""

    name = "round-robin"

    def __init__(self, action: int = 1):
        super().__init__()
        self.action = check_number("RoundRobinPlanner", "action", action, low=1, integer=True)

    def _fit(self, instance):
        if self.action >= instance.n_actions:
            raise InvalidParameterError(f"{type(self).__name__}.action: must be < n_actions="
                                        f"{instance.n_actions}; got {self.action}"
                                        + ONLY_PASSIVE * (instance.n_actions == 1))

    def _reset(self):
        self._next = 0

    def _plan(self, belief, t):
        inst = self.instance
        n = inst.n_arms
        order = (self._next + np.arange(n)) % n
        actions, served = _ranked_actions(inst, order, n, self.action)
        if len(served):                 # the cycle resumes after the last arm served
            self._next = int((served[-1] + 1) % n)
        return actions


def one_step_values(arms, belief, discount: float) -> np.ndarray:
    """``Q1[n, a] = R_n(b_n, a) + discount * R_n(b_n P_n^a, 0)`` (n_arms, n_actions): the
    reward now plus the discounted passive reward of the predicted next belief. It sees the
    effect of an action even when rewards depend on the state only."""
    now = np.einsum("ns,nsa->na", belief, arms.rewards)
    nxt = np.einsum("ns,nast,nt->na", belief, arms.transitions, arms.rewards[:, :, 0])
    return now + discount * nxt


class MyopicPlanner(BasePlanner):
    """One-step lookahead: maximise ``sum_n Q1[n, a_n]`` (see :func:`one_step_values`) under the
    budget with the multiple-choice knapsack (:class:`~rmab.relax.knapsack.Knapsack`, set up
    once in ``fit``). In the last period of a finite horizon (``t = horizon - 1``) there is no
    next period: the reward now alone.

    Parameters
    ----------
    knapsack : {"auto", "dp", "greedy", "mip"}
        How each period's knapsack is solved (:func:`~rmab.relax.knapsack.solve_knapsack`'s
        ``method``): ``"auto"`` (default) the exact DP for integer or decimal costs, else the
        exact MIP when small, else the greedy; ``last_stats.info['knapsack']`` says which ran.
    dp_limit : int
        Largest DP table (cells) that ``"auto"`` solves exactly and ``"dp"`` accepts.
    """

    name = "myopic"

    def __init__(self, knapsack: str = "auto", dp_limit: int = DP_LIMIT):
        super().__init__()
        if not isinstance(knapsack, str) or knapsack not in ("auto", "dp", "greedy", "mip"):
            raise InvalidParameterError(f"MyopicPlanner.knapsack: must be 'auto', 'dp', "
                                        f"'greedy' or 'mip'; got {knapsack!r}")
        self.knapsack = knapsack
        self.dp_limit = check_number("MyopicPlanner", "dp_limit", dp_limit, low=0, integer=True)

    def _fit(self, instance):
        self._knapsack = Knapsack(instance.arms.costs, instance.budget, method=self.knapsack,
                                  dp_limit=self.dp_limit, **instance.limits)

    def _plan(self, belief, t):
        inst = self.instance
        last = inst.horizon is not None and t >= inst.horizon - 1
        values = one_step_values(inst.arms, belief, 0.0 if last else inst.discount)
        res = self._knapsack.solve(values)
        self.last_stats.info.update(knapsack=res.method, optimal=res.optimal, value=res.value)
        idx = np.arange(inst.n_arms)
        self.last_stats.scores = values[idx, res.actions] - values[:, 0]
        return res.actions


class BeliefThresholdPlanner(BasePlanner):
    """Act on the arms least likely to earn reward: arms whose expected passive reward
    ``R_n(b_n, 0)`` is at most ``threshold`` take ``action``, lowest first, while the budget
    lasts (for the health family: the arms least likely to be engaged)."""

    name = "belief-threshold"

    def __init__(self, threshold: float = float("inf"), action: int = 1):
        super().__init__()
        # +inf: every arm qualifies (numbers only: an array has no single truth value)
        self.threshold = (float(threshold) if isinstance(threshold, numbers.Real)
                          and threshold == float("inf")
                          else check_number("BeliefThresholdPlanner", "threshold", threshold))
        self.action = check_number("BeliefThresholdPlanner", "action", action, low=1,
                                   integer=True)

    _fit = RoundRobinPlanner._fit

    def _plan(self, belief, t):
        inst = self.instance
        score = np.einsum("ns,ns->n", belief, inst.arms.rewards[:, :, 0])
        self.last_stats.scores = score
        order = np.argsort(score, kind="stable")
        eligible = int(np.searchsorted(score[order], self.threshold, side="right"))
        return _ranked_actions(inst, order, eligible, self.action)[0]
