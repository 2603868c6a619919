"""Numba kernels of the baseline planners (private: inputs are trusted)."""

from __future__ import annotations

import numpy as np

from rmab._kernels import njit


@njit
def _allowed(cost, remaining, slack, count, cap, a, active, max_active):
    return (cost <= remaining + slack and count + 1.0 <= cap
            and (a == 0 or active + 1.0 <= max_active))


@njit
def random_feasible_kernel(order, costs, budget, slack, caps, max_active, u, actions):
    """Arms in ``order`` each take an action drawn uniformly among those still affordable
    (within ``slack`` of what is left), below their cap in ``caps`` (n_actions,) and, for an
    active action, while fewer than ``max_active`` arms are active."""
    remaining = budget
    n_actions = costs.shape[1]
    counts = np.zeros(n_actions)
    active = 0.0
    for i in range(order.shape[0]):
        n = order[i]
        count = 0
        for a in range(n_actions):
            if _allowed(costs[n, a], remaining, slack, counts[a], caps[a], a, active,
                        max_active):
                count += 1
        k = int(u[i] * count)
        for a in range(n_actions):
            if _allowed(costs[n, a], remaining, slack, counts[a], caps[a], a, active,
                        max_active):
                if k == 0:
                    actions[n] = a
                    remaining -= costs[n, a]
                    counts[a] += 1.0
                    if a != 0:
                        active += 1.0
                    break
                k -= 1
