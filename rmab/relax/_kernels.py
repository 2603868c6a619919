"""Numba kernels of the multiple-choice knapsack (private: inputs are trusted)."""

from __future__ import annotations

import numpy as np
from rmab._kernels import copy_items, copy_rows, njit


def mckp_dp_kernel(gains, costs, capacity, actions):
    """Exact multiple-choice knapsack with integer costs by dynamic programming.

    ``gains[n, a]`` is the value of action ``a`` over the passive action (``gains[n, 0] = 0``),
    ``costs[n, a]`` integer costs, ``capacity`` an integer budget. Writes the optimal choice to
    ``actions`` and returns the optimal total gain. Ties keep the cheaper choice. O(N A B) time,
    O(N B) bytes (one byte per cell up to 127 actions, four beyond).

    Plain Python around the compiled :func:`_mckp_dp`: the table's dtype is chosen here, so
    only the DP for the dtype used compiles (both branches in one kernel compiled both, 0.4-0.6
    s on an empty cache).
    """
    n_arms, n_actions = gains.shape
    dtype = np.int8 if n_actions <= 127 else np.int32
    return _mckp_dp(gains, costs, capacity, actions, np.zeros((n_arms, capacity + 1), dtype))


@njit
def _mckp_dp(gains, costs, capacity, actions, choice):
    """The DP of :func:`mckp_dp_kernel`; ``choice`` is a zeroed (n_arms, capacity + 1) table."""
    n_arms, n_actions = gains.shape
    dp = np.zeros(capacity + 1)
    new = np.empty(capacity + 1)
    for n in range(n_arms):
        copy_items(new, 0, dp, capacity + 1)
        for a in range(1, n_actions):
            g = gains[n, a]
            c = costs[n, a]
            if g <= 0.0 or c > capacity:
                continue
            for b in range(capacity, c - 1, -1):
                v = dp[b - c] + g
                if v > new[b]:
                    new[b] = v
                    choice[n, b] = a
        dp, new = new, dp
    b = capacity
    for n in range(n_arms - 1, -1, -1):
        a = choice[n, b]
        actions[n] = a
        b -= costs[n, a]
    return dp[capacity]


@njit
def mckp_count_dp_kernel(gains, costs, capacity, low, high, stride, caps, actions):
    """:func:`mckp_dp_kernel` under count limits: between ``low`` and ``high`` arms active
    (action != 0), and at most ``caps[a]`` arms on each action ``a`` with ``stride[a] > 0``.

    The table is indexed by budget used (at most) and one state per count: the active arms
    (exactly; ``high = -1``: not counted, no limit) times the capped actions' counts as a
    mixed-radix code (``stride[a]`` per arm on ``a``: the product of ``caps + 1`` over the
    capped actions before ``a``). Writes the optimal choice to ``actions`` and returns its
    total gain, ``-inf`` when no choice meets the limits within ``capacity``. O(N A B K C)
    time and bytes, ``K`` the counted arms and ``C`` the codes (``n_actions <= 127``).
    """
    n_arms, n_actions = gains.shape
    neg = -np.inf
    counted = high >= 0
    n_codes = 1
    for a in range(n_actions):
        n_codes += stride[a] * caps[a]
    n_states = (high + 1 if counted else 1) * n_codes        # state = k * n_codes + code
    step = n_codes if counted else 0                         # one more active arm
    dp = np.full((capacity + 1, n_states), neg)
    dp[:, 0] = 0.0
    new = np.empty_like(dp)
    choice = np.zeros((n_arms, capacity + 1, n_states), dtype=np.int8)
    for n in range(n_arms):
        copy_rows(new, 0, dp, capacity + 1)
        for a in range(1, n_actions):
            g = gains[n, a]
            c = costs[n, a]
            st = stride[a]
            shift = step + st
            for b in range(c, capacity + 1):
                for q in range(shift, n_states):
                    if st > 0 and ((q % n_codes) // st) % (caps[a] + 1) == 0:
                        continue                # no arm on a yet in this code
                    prev = dp[b - c, q - shift]
                    if prev != neg and prev + g > new[b, q]:
                        new[b, q] = prev + g
                        choice[n, b, q] = a
        dp, new = new, dp
    best = neg
    q = -1
    for j in range((low if counted else 0) * n_codes, n_states):
        if dp[capacity, j] > best:
            best = dp[capacity, j]
            q = j
    if q < 0:
        return neg
    b = capacity
    for n in range(n_arms - 1, -1, -1):
        a = choice[n, b, q]
        actions[n] = a
        b -= costs[n, a]
        if a != 0:
            q -= step + stride[a]
    return best


@njit
def mckp_greedy_kernel(order, arm_of, level_from, level_to, step_cost, capacity, slack,
                       caps, max_active, actions):
    """Greedy LP-relaxation rule: walk hull increments by decreasing slope and take each one
    whose arm is at ``level_from`` and whose extra cost fits; an arm whose increment does not
    fit stops upgrading. An increment to an action already given to ``caps[a]`` arms is passed
    over: the arm stays where it is but walks on, so a later increment takes it past the
    capped action in one jump (of the summed extra cost). An arm that would make more than
    ``max_active`` arms active stops (``inf``: no limit). Writes ``actions`` (initially the
    passive action) and returns the budget used."""
    n_arms = actions.shape[0]
    used = 0.0
    blocked = np.zeros(n_arms, dtype=np.bool_)
    level = actions.copy()              # where each arm's walk is (past capped actions)
    pending = np.zeros(n_arms)          # the extra cost from actions[n] up to level[n]
    counts = np.zeros(caps.shape[0])
    counts[0] = n_arms
    for k in order:
        n = arm_of[k]
        a, b = level_from[k], level_to[k]
        if blocked[n] or level[n] != a:
            continue
        if actions[n] == 0 and b != 0 and n_arms - counts[0] + 1.0 > max_active:
            blocked[n] = True           # the active count only grows
            continue
        if counts[b] + 1.0 > caps[b]:
            level[n] = b
            pending[n] += step_cost[k]
            continue
        extra = pending[n] + step_cost[k]
        if used + extra <= capacity + slack:
            counts[actions[n]] -= 1.0
            counts[b] += 1.0
            actions[n] = b
            level[n] = b
            pending[n] = 0.0
            used += extra
        else:
            blocked[n] = True
    return used


@njit
def hull_increments_kernel(gains, costs, arm_of, lv_from, lv_to, d_cost, slope):
    """Upper-convex-hull steps of each arm's (cost, gain) points, starting from the passive
    action at (0, 0). Only steps with positive gain are kept; a step to an action of equal cost
    has slope +inf. Ties in slope take the cheaper action (finer steps). Fills the flat output
    arrays (length >= n_arms * (n_actions - 1)) and returns how many steps were written."""
    n_arms, n_actions = gains.shape
    k = 0
    for n in range(n_arms):
        level = 0
        c0 = 0.0
        g0 = 0.0
        while True:
            best = -1
            best_s = 0.0
            for a in range(n_actions):
                dg = gains[n, a] - g0
                if dg <= 0.0:
                    continue
                dc = costs[n, a] - c0
                if dc < 0.0:
                    continue
                s = np.inf if dc == 0.0 else dg / dc
                if best < 0 or s > best_s or (s == best_s and costs[n, a] < costs[n, best]):
                    best = a
                    best_s = s
            if best < 0:
                break
            arm_of[k] = n
            lv_from[k] = level
            lv_to[k] = best
            d_cost[k] = costs[n, best] - c0
            slope[k] = best_s
            k += 1
            level = best
            c0 = costs[n, best]
            g0 = gains[n, best]
    return k
