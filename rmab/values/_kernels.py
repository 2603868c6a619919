"""Numba kernels of the single-arm value code (private: inputs are trusted).

C-contiguous float64 / int64 arrays, outputs preallocated by the caller. The plain-numpy twins
live in :mod:`rmab.values._reference` and are compared in the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _solve_policy(trans, pol, rhs, beta, mat, x):
    """Solve ``(I - β P_π) x = rhs`` by Gaussian elimination without pivoting (the matrix is
    strictly diagonally dominant by rows for β < 1, which elimination preserves)."""
    s_count = rhs.shape[0]
    for s in range(s_count):
        a = pol[s]
        for t in range(s_count):
            mat[s, t] = -beta * trans[a, s, t]
        mat[s, s] += 1.0
        x[s] = rhs[s]
    for k in range(s_count):
        inv = 1.0 / mat[k, k]
        for i in range(k + 1, s_count):
            f = mat[i, k] * inv
            if f != 0.0:
                for j in range(k + 1, s_count):
                    mat[i, j] -= f * mat[k, j]
                x[i] -= f * x[k]
    for k in range(s_count - 1, -1, -1):
        acc = x[k]
        for j in range(k + 1, s_count):
            acc -= mat[k, j] * x[j]
        x[k] = acc / mat[k, k]


@njit(cache=True, inline="always")
def _q_values(trans, r, v, beta, q):
    """``q[s, a] = r[s, a] + β Σ_t trans[a, s, t] v[t]``."""
    n_actions, s_count, _ = trans.shape
    for a in range(n_actions):
        for s in range(s_count):
            acc = 0.0
            for t in range(s_count):
                acc += trans[a, s, t] * v[t]
            q[s, a] = r[s, a] + beta * acc


@njit(cache=True, inline="always")
def _greedy_row(q_row, tie):
    """Index of the first action within ``tie`` of the best (the cheaper one on ties)."""
    best = q_row[0]
    for a in range(1, q_row.shape[0]):
        if q_row[a] > best:
            best = q_row[a]
    thresh = best - tie - 1e-12 * max(1.0, abs(best))
    for a in range(q_row.shape[0]):
        if q_row[a] >= thresh:
            return a
    return 0


@njit(cache=True)
def _finish_pair(trans, costs_n, r, v, beta, tie, q, pol, cost_rhs, mat, x, q_out, v_out,
                 pol_out, res_out):
    """Greedy policy of ``q(v)``, its values and its discounted resource use."""
    s_count = v.shape[0]
    _q_values(trans, r, v, beta, q)
    for s in range(s_count):
        a = _greedy_row(q[s], tie)
        pol[s] = a
        best = q[s, 0]
        for b in range(1, q.shape[1]):
            if q[s, b] > best:
                best = q[s, b]
        v_out[s] = best
        pol_out[s] = a
        cost_rhs[s] = costs_n[a]
        for b in range(q.shape[1]):
            q_out[s, b] = q[s, b]
    _solve_policy(trans, pol, cost_rhs, beta, mat, x)
    for s in range(s_count):
        res_out[s] = x[s]


@njit(cache=True)
def vi_kernel(transitions, rewards, costs, prices, beta, tol, max_iter, values, q_out, policy,
              resource, iterations):
    """Value iteration with MacQueen's stopping rule, one (arm, price) pair at a time.

    Writes ``values[p, n]``, ``q_out[p, n]``, ``policy[p, n]``, ``resource[p, n]`` and the
    sweeps used in ``iterations[p, n]`` (``max_iter + 1`` when the tolerance was not reached).
    """
    n_arms, n_actions, s_count, _ = transitions.shape
    factor = beta / (1.0 - beta)
    r = np.empty((s_count, n_actions))
    q = np.empty((s_count, n_actions))
    v = np.empty(s_count)
    new = np.empty(s_count)
    pol = np.empty(s_count, dtype=np.int64)
    cost_rhs = np.empty(s_count)
    mat = np.empty((s_count, s_count))
    x = np.empty(s_count)
    for n in range(n_arms):
        trans = transitions[n]
        for p in range(prices.shape[0]):
            for s in range(s_count):
                best = -np.inf
                for a in range(n_actions):
                    r[s, a] = rewards[n, s, a] - prices[p] * costs[n, a]
                    if r[s, a] > best:
                        best = r[s, a]
                v[s] = best
            it = 0
            done = False
            while it < max_iter:
                it += 1
                _q_values(trans, r, v, beta, q)
                lo = np.inf
                hi = -np.inf
                for s in range(s_count):
                    best = q[s, 0]
                    for a in range(1, n_actions):
                        if q[s, a] > best:
                            best = q[s, a]
                    new[s] = best
                    d = best - v[s]
                    lo = min(lo, d)
                    hi = max(hi, d)
                shift = factor * 0.5 * (lo + hi)
                for s in range(s_count):
                    v[s] = new[s] + shift
                if factor * 0.5 * (hi - lo) <= tol:
                    done = True
                    break
            iterations[p, n] = it if done else max_iter + 1
            _finish_pair(trans, costs[n], r, v, beta, 2.0 * tol, q, pol, cost_rhs, mat, x,
                         q_out[p, n], values[p, n], policy[p, n], resource[p, n])


@njit(cache=True)
def pi_kernel(transitions, rewards, costs, prices, beta, tol, max_iter, values, q_out, policy,
              resource, iterations):
    """Howard's policy iteration, one (arm, price) pair at a time; outputs as
    :func:`vi_kernel`. An action changes only where another is better by more than ``tol``."""
    n_arms, n_actions, s_count, _ = transitions.shape
    r = np.empty((s_count, n_actions))
    q = np.empty((s_count, n_actions))
    v = np.empty(s_count)
    rhs = np.empty(s_count)
    pol = np.empty(s_count, dtype=np.int64)
    cost_rhs = np.empty(s_count)
    mat = np.empty((s_count, s_count))
    for n in range(n_arms):
        trans = transitions[n]
        for p in range(prices.shape[0]):
            for s in range(s_count):
                for a in range(n_actions):
                    r[s, a] = rewards[n, s, a] - prices[p] * costs[n, a]
                pol[s] = _greedy_row(r[s], 0.0)
            it = 0
            done = False
            while it < max_iter:
                it += 1
                for s in range(s_count):
                    rhs[s] = r[s, pol[s]]
                _solve_policy(trans, pol, rhs, beta, mat, v)
                _q_values(trans, r, v, beta, q)
                changed = False
                for s in range(s_count):
                    cur = q[s, pol[s]]
                    best = cur
                    arg = pol[s]
                    for a in range(n_actions):
                        if q[s, a] > best:
                            best = q[s, a]
                            arg = a
                    if best > cur + tol + 1e-12 * max(1.0, abs(cur)):
                        pol[s] = arg
                        changed = True
                if not changed:
                    done = True
                    break
            iterations[p, n] = it if done else max_iter + 1
            _finish_pair(trans, costs[n], r, v, beta, 2.0 * tol, q, pol, cost_rhs, mat, rhs,
                         q_out[p, n], values[p, n], policy[p, n], resource[p, n])
