"""Multiple-choice knapsack across arms: choose one action per arm to maximise total value
under the per-period budget (``../shared/specs/PORMAB.md`` §5).

    maximise   sum_n values[n, a_n]   subject to   sum_n costs[n, a_n] <= budget

Methods: ``"dp"`` exact dynamic programming for integer costs (O(N A B)); ``"greedy"`` the
LP-relaxation upgrade rule along each arm's upper convex hull of (cost, value), within
``max_n max_a values[n, a] - values[n, 0]`` of the optimum; ``"mip"`` the exact binary program
(one indicator per arm and action, one choice row per arm, one budget row) solved by HiGHS
through :func:`scipy.optimize.milp`, for any real costs; ``"auto"`` uses DP when costs are
integers and ``N * (B + 1)`` is at most ``dp_limit``, else greedy.
"""

from __future__ import annotations

from dataclasses import dataclass

import warnings

import numpy as np

from rmab._validation import as_float_array, budget_slack, check_costs, check_number
from rmab.errors import InvalidParameterError, SolverLimitWarning
from rmab.relax import _kernels

__all__ = ["KnapsackResult", "solve_knapsack", "DP_LIMIT"]

DP_LIMIT = 50_000_000
_METHODS = ("auto", "dp", "greedy", "mip")


@dataclass(frozen=True, eq=False)
class KnapsackResult:
    """Chosen actions (n_arms,), their total value and cost, the method used and whether the
    answer is proven optimal."""

    actions: np.ndarray
    value: float
    cost: float
    method: str
    optimal: bool


def _integral(costs: np.ndarray) -> bool:
    return bool(np.all(np.abs(costs - np.round(costs)) <= 1e-9))


def solve_knapsack(values, costs, budget, *, method: str = "auto",
                   dp_limit: int = DP_LIMIT, time_limit: float | None = None) -> KnapsackResult:
    """Best joint action under the budget.

    Parameters
    ----------
    values : array (n_arms, n_actions)
        Value of each action for each arm (only differences within a row matter).
    costs : array (n_arms, n_actions)
        Non-negative costs with ``costs[:, 0] == 0`` (the passive action is always affordable).
    budget : float >= 0
    method : {"auto", "dp", "greedy", "mip"}
    time_limit : float, optional
        Seconds allowed to the MIP (method ``"mip"`` only). On the limit the best action found is
        returned with ``optimal=False`` and a :class:`~rmab.errors.SolverLimitWarning`.
    """
    owner = "solve_knapsack"
    values = as_float_array(owner, "values", values, ndim=2, error=InvalidParameterError)
    costs = as_float_array(owner, "costs", costs, ndim=2, error=InvalidParameterError)
    if costs.shape != values.shape:
        raise InvalidParameterError(f"{owner}.costs: must have the shape of values "
                                    f"{values.shape}; got {costs.shape}")
    if values.shape[1] < 1:
        raise InvalidParameterError(f"{owner}.values: must have at least one action (the "
                                    f"passive one); got shape {values.shape}")
    check_costs(owner, costs, error=InvalidParameterError)
    dp_limit = check_number(owner, "dp_limit", dp_limit, low=0, integer=True)
    budget = check_number(owner, "budget", budget, low=0.0)
    if not isinstance(method, str) or method not in _METHODS:
        raise InvalidParameterError(f"{owner}.method: must be one of {_METHODS}; got {method!r}")
    if time_limit is not None:
        time_limit = check_number(owner, "time_limit", time_limit, low=0.0, low_open=True)
    n_arms = values.shape[0]
    use_dp = method == "dp"
    if method == "dp" and not _integral(costs):
        raise InvalidParameterError(f"{owner}.costs: must be integers for method 'dp'")
    if method == "auto":                # the DP table stops at the dearest joint action
        top = min(budget, float(np.round(costs).max(axis=1).sum())) if n_arms else 0.0
        use_dp = _integral(costs) and n_arms * (int(top) + 1) <= dp_limit
    gains = np.ascontiguousarray(values - values[:, :1])
    actions = np.zeros(n_arms, dtype=np.int64)
    if method == "mip":
        optimal = _mip(gains, costs, budget, actions, time_limit)
        method_used = "mip"
    elif use_dp:
        icosts = np.ascontiguousarray(np.round(costs).astype(np.int64))
        # a budget above the dearest joint action changes nothing: cap the DP table there
        dearest = int(icosts.max(axis=1).sum())
        capacity = dearest if budget >= dearest else int(np.floor(budget + 0.5 *
                                                                   budget_slack(budget)))
        _kernels.mckp_dp_kernel(gains, icosts, capacity, actions)
        method_used, optimal = "dp", True
        real = costs[np.arange(n_arms), actions].sum()
        if real > budget + 0.5 * budget_slack(budget):    # costs within 1e-9 of integers
            actions[:] = 0                                 # added up past the budget
            optimal = _mip(gains, costs, budget, actions, time_limit)
            method_used = "mip"
    else:
        _greedy(gains, costs, budget, actions)
        method_used, optimal = "greedy", False
    idx = np.arange(n_arms)
    return KnapsackResult(actions, float(values[idx, actions].sum()),
                          float(costs[idx, actions].sum()), method_used, optimal)


def _greedy(gains, costs, budget, actions) -> None:
    size = gains.shape[0] * max(gains.shape[1] - 1, 1)
    arm_of, lv_from, lv_to = (np.empty(size, dtype=np.int64) for _ in range(3))
    d_cost, slope = np.empty(size), np.empty(size)
    k = _kernels.hull_increments_kernel(gains, np.ascontiguousarray(costs), arm_of, lv_from,
                                        lv_to, d_cost, slope)
    if k == 0:
        return
    arm_of, lv_from, lv_to, d_cost, slope = (x[:k] for x in (arm_of, lv_from, lv_to, d_cost,
                                                               slope))
    # by decreasing slope; ties keep the kernel's order (by arm, then along the arm's hull:
    # level numbers need not follow the hull when costs are not sorted by action)
    order = np.argsort(-slope, kind="stable").astype(np.int64)
    _kernels.mckp_greedy_kernel(order, arm_of, lv_from, lv_to, d_cost, float(budget),
                                0.5 * budget_slack(budget), actions)


def _mip(gains, costs, budget, actions, time_limit) -> bool:
    """Binary program over x[n, a] (a >= 1; the passive action is the slack of each choice
    row): max sum gains x s.t. sum_a x[n, a] <= 1, sum costs x <= budget. Writes ``actions`` and
    returns whether HiGHS proved optimality."""
    n_arms, n_actions = gains.shape
    if n_actions == 1 or n_arms == 0:
        return True
    from scipy import optimize, sparse  # imported here: scipy.optimize is slow to import

    g, c = gains[:, 1:].ravel(), costs[:, 1:].ravel()
    n_var = g.size
    rows = sparse.vstack([
        sparse.kron(sparse.eye(n_arms, format="csr"), np.ones((1, n_actions - 1)), format="csr"),
        sparse.csr_matrix(c[None, :])], format="csr")
    ub = np.append(np.ones(n_arms), budget)
    options = {} if time_limit is None else {"time_limit": time_limit}
    res = optimize.milp(-g, constraints=optimize.LinearConstraint(rows, -np.inf, ub),
                        integrality=np.ones(n_var), bounds=optimize.Bounds(0.0, 1.0),
                        options=options)
    if res.x is None:  # limit hit before any incumbent: the passive action is feasible
        warnings.warn(f"solve_knapsack: HiGHS stopped without a solution ({res.message}); "
                      "returning the passive action", SolverLimitWarning, stacklevel=3)
        return False
    x = np.round(res.x).reshape(n_arms, n_actions - 1)
    chosen = x.argmax(axis=1)
    actions[:] = np.where(x.max(axis=1) > 0.5, chosen + 1, 0)
    # HiGHS accepts rows violated by ~1e-7, more than the simulator's budget slack: drop the
    # chosen actions of least gain per cost until the exact sum fits (then not proven optimal)
    idx = np.arange(n_arms)
    repaired = False
    while costs[idx, actions].sum() > budget + 0.5 * budget_slack(budget):
        taken = np.flatnonzero(costs[idx, actions] > costs[:, 0])
        ratio = (gains[taken, actions[taken]] - gains[taken, 0]) / \
            (costs[taken, actions[taken]] - costs[taken, 0])
        actions[taken[np.argmin(ratio)]] = 0
        repaired = True
    if repaired:
        return False
    if res.status != 0:
        warnings.warn(f"solve_knapsack: HiGHS stopped early ({res.message}); returning the best "
                      "action found", SolverLimitWarning, stacklevel=3)
        return False
    return True
