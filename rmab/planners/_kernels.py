"""Numba kernels of the baseline planners (private: inputs are trusted)."""

from __future__ import annotations

from rmab._kernels import njit


@njit
def random_feasible_kernel(order, costs, budget, slack, u, actions):
    """Arms in ``order`` each take an action drawn uniformly among those still affordable
    (within ``slack`` of what is left)."""
    remaining = budget
    n_actions = costs.shape[1]
    for i in range(order.shape[0]):
        n = order[i]
        count = 0
        for a in range(n_actions):
            if costs[n, a] <= remaining + slack:
                count += 1
        k = int(u[i] * count)
        for a in range(n_actions):
            if costs[n, a] <= remaining + slack:
                if k == 0:
                    actions[n] = a
                    remaining -= costs[n, a]
                    break
                k -= 1
