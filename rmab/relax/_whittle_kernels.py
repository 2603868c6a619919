"""Numba kernels of the Whittle indices (private: inputs trusted): the price homotopy of
discounted fully observed arms, and the bisection of finite-horizon ones (at the end).

For one fully observed arm, the optimal policy is traced as the price ``λ`` on resource use
rises from ``-∞`` (every state takes the costliest action) to ``+∞`` (every state passive).
Between breakpoints a policy ``π`` stays optimal; with ``V`` and ``C`` its discounted reward and
cost vectors, the advantage of action ``a`` in state ``s`` is linear in the price,
``Δ(s, a, λ) = α(s, a) - λ μ(s, a)``, with
``α = r(s, a) + β P_a[s]·V - V[s]`` and ``μ = c(a) + β P_a[s]·C - C[s]``.
The next breakpoint is the smallest ``α/μ`` over ``μ < 0``; the state switches and
``(I - β P_π)^{-1}`` is updated by Sherman–Morrison (one row changes), so a binary arm with
``S`` states costs ``O(S^3)`` (Niño-Mora's fast pivoting; Gast, Gaujal & Khun 2023). The
trace starts at a finite price below every breakpoint (the costliest actions optimal) and
switches first any action that improves at the current price, which handles actions of equal
cost and round-off. Several switches at one price (tied breakpoints) are judged together, by
each state's level before and after them: one state could go up and back down there, which
flagged indexable arms.
"""

from __future__ import annotations

import numpy as np
from rmab._kernels import copy_items, njit

NOT_INDEXABLE = 1
STEP_LIMIT = 2


@njit
def homotopy_kernel(transitions, rewards, costs, discount, start_price, max_steps, indices,
                    flags):
    """Indices of every arm.

    transitions (N, A, S, S), rewards (N, S, A), costs (N, A) non-decreasing in the action;
    ``start_price`` low enough that the costliest actions are optimal in every state (see
    ``whittle._price_bracket``). From there, every state starts at the top action; at each step
    an action that improves on the current policy at the current price is switched in first
    (this sorts out actions of equal cost), else the price moves to the next breakpoint (a
    breakpoint within the tie tolerance of the price does not move it). When the price moves
    (and at the end), each state's level is set against its level ``entry`` when the price
    was reached. Writes ``indices[n, s, a - 1]`` = the last price at which state ``s`` drops
    from a level ``>= a`` to one ``< a`` and ``flags[n]`` (0 fully indexable, 1 some state
    ended a price a level higher, 2 the step limit was hit; unset entries stay NaN).
    """
    n_arms, n_actions, n_states, _ = transitions.shape
    policy = np.empty(n_states, dtype=np.int64)
    entry = np.empty(n_states, dtype=np.int64)
    r_pi = np.empty(n_states)
    c_pi = np.empty(n_states)
    row = np.empty(n_states)
    col = np.empty(n_states)
    w = np.empty(n_states)
    v = np.empty(n_states)
    c = np.empty(n_states)
    inv = np.empty((n_states, n_states))
    work = np.empty((n_states, n_states))
    top = n_actions - 1
    for n in range(n_arms):
        flags[n] = 0
        indices[n, :, :] = np.nan
        for s in range(n_states):
            policy[s] = top
            r_pi[s] = rewards[n, s, top]
            c_pi[s] = costs[n, top]
        _policy_inverse(transitions[n, top], discount, work, inv)
        _times(inv, r_pi, c_pi, v, c)
        # the guards in the arm's own units (its largest |reward| and cost, where a fixed 1
        # made them absolute: rewards of 1e-12 lost every index); round-off of alpha grows
        # with the values (constant rewards of 1e6: alpha ~ 1e-8)
        unit = 0.0
        for s in range(n_states):
            for a in range(n_actions):
                unit = max(unit, abs(rewards[n, s, a]))
        unit = unit if unit > 0 else 1.0
        scale_c = costs[n, top] * (1.0 / (1.0 - discount) + 1.0)
        noise_v = 1e-12 * unit * (1.0 / (1.0 - discount) + 1.0)
        price_unit = unit / costs[n, top]
        lam = start_price
        copy_items(entry, 0, policy, n_states)
        done = False
        for step in range(max_steps):
            best_gain = 0.0
            best_lam = np.inf
            best_mu = 0.0
            best_s = -1
            best_a = -1
            improving = False
            for s in range(n_states):
                for a in range(n_actions):
                    if a == policy[s]:
                        continue
                    pv = 0.0
                    pc = 0.0
                    for t in range(n_states):
                        pv += transitions[n, a, s, t] * v[t]
                        pc += transitions[n, a, s, t] * c[t]
                    mu = costs[n, a] + discount * pc - c[s]
                    alpha = rewards[n, s, a] + discount * pv - v[s]
                    gain = alpha - lam * mu
                    if gain > 1e-10 * (unit + abs(alpha) + abs(lam * mu)) + noise_v:
                        if not improving or gain > best_gain:
                            improving = True
                            best_gain = gain
                            best_s = s
                            best_a = a
                        continue
                    if improving or mu >= -1e-12 * scale_c:
                        continue
                    cand = alpha / mu
                    tol = 1e-12 * (price_unit + abs(cand)) - noise_v / mu     # mu < 0
                    if cand < best_lam - tol or (cand <= best_lam + tol and mu < best_mu):
                        best_lam = cand
                        best_mu = mu
                        best_s = s
                        best_a = a
            if best_s < 0:
                done = True
                break
            if not improving and best_lam > lam + (1e-12 * (price_unit + abs(best_lam))
                                                   - noise_v / best_mu):
                _settle(policy, entry, lam, indices[n], flags, n)
                lam = best_lam
            old = policy[best_s]
            new = best_a
            # row best_s of (I - β P_π) changes by u^T = -β (P_new[s] - P_old[s])
            for t in range(n_states):
                row[t] = -discount * (transitions[n, new, best_s, t]
                                      - transitions[n, old, best_s, t])
            for j in range(n_states):
                w[j] = 0.0
            for i in range(n_states):                          # w = row @ inv, by rows
                for j in range(n_states):
                    w[j] += row[i] * inv[i, j]
            denom = 1.0 + w[best_s]
            for i in range(n_states):
                col[i] = inv[i, best_s]
            for i in range(n_states):
                f = col[i] / denom
                for j in range(n_states):
                    inv[i, j] -= f * w[j]
            policy[best_s] = new
            r_pi[best_s] = rewards[n, best_s, new]
            c_pi[best_s] = costs[n, new]
            _times(inv, r_pi, c_pi, v, c)
        _settle(policy, entry, lam, indices[n], flags, n)
        if not done:
            flags[n] = STEP_LIMIT


@njit
def _policy_inverse(p, discount, work, out):
    """``out = (I - β p)^{-1}`` ((S, S)) by Gauss-Jordan elimination with partial pivoting
    (``work``: (S, S) scratch). Loops rather than ``np.linalg.inv``, whose LAPACK binding
    took a second of compile on an empty cache."""
    n = p.shape[0]
    for i in range(n):
        for j in range(n):
            work[i, j] = -discount * p[i, j]
            out[i, j] = 0.0
        work[i, i] += 1.0
        out[i, i] = 1.0
    for k in range(n):
        pivot = k
        for i in range(k + 1, n):
            if abs(work[i, k]) > abs(work[pivot, k]):
                pivot = i
        if pivot != k:
            for j in range(n):
                work[k, j], work[pivot, j] = work[pivot, j], work[k, j]
                out[k, j], out[pivot, j] = out[pivot, j], out[k, j]
        f = 1.0 / work[k, k]
        for j in range(k, n):                  # work's columns before k are unit ones
            work[k, j] *= f
        for j in range(n):
            out[k, j] *= f
        for i in range(n):
            if i != k:
                g = work[i, k]
                if g != 0.0:
                    for j in range(k, n):
                        work[i, j] -= g * work[k, j]
                    for j in range(n):
                        out[i, j] -= g * out[k, j]


@njit
def _times(m, x, y, out_x, out_y):
    """``out_x = m @ x`` and ``out_y = m @ y`` for a square ``m`` in one pass, summed in order
    (no BLAS call to compile)."""
    for i in range(m.shape[0]):
        acc_x = 0.0
        acc_y = 0.0
        for j in range(m.shape[1]):
            acc_x += m[i, j] * x[j]
            acc_y += m[i, j] * y[j]
        out_x[i] = acc_x
        out_y[i] = acc_y


@njit
def _settle(policy, entry, lam, indices, flags, n):
    """The switches at price ``lam``: a state now below its level ``entry`` drops there; one
    above it breaks indexability, and its earlier drops below the regained levels are undone
    (NaN: the next drop, or none, ``+inf``, decides). ``entry`` becomes ``policy``."""
    for s in range(policy.size):
        if policy[s] > entry[s]:
            flags[n] = NOT_INDEXABLE
            for a in range(entry[s] + 1, policy[s] + 1):
                indices[s, a - 1] = np.nan
        else:
            for a in range(policy[s] + 1, entry[s] + 1):
                indices[s, a - 1] = lam
        entry[s] = policy[s]


def homotopy_numpy(transitions, rewards, costs, discount, start_price, max_steps):
    """Plain-numpy twin of :func:`homotopy_kernel`: the same homotopy with a fresh linear solve
    at every step (O(S^4) per binary arm). Returns ``(indices, flags)``."""
    n_arms, n_actions, n_states, _ = transitions.shape
    indices = np.full((n_arms, n_states, n_actions - 1), np.nan)
    flags = np.zeros(n_arms, dtype=np.int64)
    states = np.arange(n_states)
    for n in range(n_arms):
        p, r, cost = transitions[n], rewards[n], costs[n]
        policy = np.full(n_states, n_actions - 1)
        entry = policy.copy()
        lam = start_price
        done = False
        unit = np.abs(r).max() if np.abs(r).max() > 0 else 1.0
        scale_c = cost[-1] * (1.0 / (1.0 - discount) + 1.0)
        noise_v = 1e-12 * unit * (1.0 / (1.0 - discount) + 1.0)
        price_unit = unit / cost[-1]
        for _ in range(max_steps):
            system = np.eye(n_states) - discount * p[policy, states]
            v = np.linalg.solve(system, r[states, policy])
            c = np.linalg.solve(system, cost[policy])
            alpha = r + discount * np.einsum("ast,t->sa", p, v) - v[:, None]
            mu = cost[None, :] + discount * np.einsum("ast,t->sa", p, c) - c[:, None]
            other = np.ones_like(mu, dtype=bool)
            other[states, policy] = False
            gain = alpha - lam * mu
            better = other & (gain > 1e-10 * (unit + np.abs(alpha) + np.abs(lam * mu)) + noise_v)
            if better.any():
                s, a = np.unravel_index(np.argmax(np.where(better, gain, -np.inf)), mu.shape)
            else:
                ok = other & (mu < -1e-12 * scale_c)
                if not ok.any():
                    done = True
                    break
                cand = np.where(ok, alpha / np.where(ok, mu, -1.0), np.inf)
                low = cand.min()
                tie = ok & (cand <= low + 1e-12 * (price_unit + abs(low))
                            - noise_v / np.where(ok, mu, -1.0))
                s, a = np.unravel_index(np.argmin(np.where(tie, mu, np.inf)), mu.shape)
                if low > lam + 1e-12 * (price_unit + abs(low)) - noise_v / mu[s, a]:
                    _settle(policy, entry, lam, indices[n], flags, n)
                    lam = low
            policy[s] = a
        _settle(policy, entry, lam, indices[n], flags, n)
        if not done:
            flags[n] = STEP_LIMIT
    return indices, flags


@njit
def _finite_level(transitions, rewards, costs, discount, price, togo, state, tie, value,
                  new, qa):
    """The optimal level of one arm (ties to the cheaper) at ``state`` with ``togo`` periods to
    go at ``price``: ``togo`` backups from ``V_0 = 0`` (``value``, ``new``: (S,), ``qa``: (A,)
    work arrays)."""
    n_actions, n_states = transitions.shape[0], transitions.shape[1]
    value[:] = 0.0
    level = 0
    for t in range(1, togo + 1):
        for s in range(n_states):
            best = -np.inf
            if t == togo and s != state:
                continue
            for a in range(n_actions):
                q = rewards[s, a] - price * costs[a]
                for u in range(n_states):
                    q += discount * transitions[a, s, u] * value[u]
                qa[a] = q
                if q > best:
                    best = q
            new[s] = best
            if t == togo:
                for a in range(n_actions):
                    if qa[a] >= best - tie:
                        level = a
                        break
        value, new = new, value
    return level


@njit
def finite_index_kernel(transitions, rewards, costs, discount, horizon, top, tol, low, high,
                        indices):
    """Finite-horizon indices by bisection: ``indices[n, togo - 1, s, a - 1] = sup {λ :
    a*_togo,λ(s) >= a}``, from ``[low, high]`` (same shape; within ``[-top[n], top[n]]``, the
    arm's own bracket (N,), ``±inf`` at its ends) to ``tol * top[n]`` or float resolution,
    each target with its own backward induction. The tie test is in the arm's units (a fixed
    1 in it shifted the indices of rewards of 1e-12 by a whole unit, and at 1e-20 made every
    index ``-inf``)."""
    n_arms, n_actions, n_states = transitions.shape[0], transitions.shape[1], transitions.shape[2]
    value = np.empty(n_states)
    new = np.empty(n_states)
    qa = np.empty(n_actions)
    for n in range(n_arms):
        width = tol * top[n]
        scale = np.abs(rewards[n]).max() + top[n] * costs[n].max()
        for togo in range(1, horizon + 1):
            for s in range(n_states):
                for a in range(1, n_actions):
                    lo, hi = low[n, togo - 1, s, a - 1], high[n, togo - 1, s, a - 1]
                    mid = 0.5 * (lo + hi)
                    while hi - lo > width and lo < mid < hi:   # tol=1e-17 never ended
                        if _finite_level(transitions[n], rewards[n], costs[n], discount, mid,
                                         togo, s, 1e-12 * scale, value, new, qa) >= a:
                            lo = mid
                        else:
                            hi = mid
                        mid = 0.5 * (lo + hi)
                    if mid + top[n] <= width:
                        mid = -np.inf
                    elif top[n] - mid <= width:
                        mid = np.inf
                    indices[n, togo - 1, s, a - 1] = mid


@njit
def finite_indexable_kernel(transitions, rewards, costs, discount, prices, horizon,
                            indexable, last):
    """``indexable[n]``: at no period and state does arm ``n``'s optimal level (ties to the
    cheaper) rise from one price of the sorted ``prices[n]`` to the next; one backward
    induction over ``horizon`` periods per arm and price, keeping only the previous price's
    levels (O(H S) memory: the table of every price's levels took 0.8 GB at H = 2 000).
    ``last[n, togo - 1, s, a - 1]``: the last price's position at which the level is at
    least ``a`` (-1 at none)."""
    n_arms, n_actions, n_states = transitions.shape[0], transitions.shape[1], transitions.shape[2]
    value = np.empty(n_states)
    new = np.empty(n_states)
    prev = np.empty((horizon, n_states), dtype=np.int64)
    for n in range(n_arms):
        indexable[n] = True
        last[n] = -1
        # the tie test in the arm's units (with a fixed 1 in it, every level tied at rewards
        # of 1e-20: all passive, all "indexable")
        scale = np.abs(rewards[n]).max() + np.abs(prices[n]).max() * costs[n].max()
        scale = scale if scale > 0 else 1.0
        for p in range(prices.shape[1]):
            value[:] = 0.0
            for t in range(horizon):
                for s in range(n_states):
                    best = -np.inf
                    for a in range(n_actions):
                        q = rewards[n, s, a] - prices[n, p] * costs[n, a]
                        for u in range(n_states):
                            q += discount * transitions[n, a, s, u] * value[u]
                        if q > best:
                            best = q
                    new[s] = best
                    for a in range(n_actions):
                        q = rewards[n, s, a] - prices[n, p] * costs[n, a]
                        for u in range(n_states):
                            q += discount * transitions[n, a, s, u] * value[u]
                        if q >= best - 1e-12 * scale:
                            if p > 0 and a > prev[t, s]:
                                indexable[n] = False
                            prev[t, s] = a
                            for b in range(a):
                                last[n, t, s, b] = p
                            break
                copy_items(value, 0, new, n_states)


@njit
def best_level_kernel(m, kappa, now, cost, discount, lam, out):
    """First (cheapest) maximiser over levels ``a`` of the one-step lookahead
    ``Q(b, a, λ) = now[b, a] - λ cost[a] + discount Σ_o max_k (m[b, a, o, k] - λ kappa[b, a,
    o, k])`` at each price ``lam[b, j]`` (G, L), ties within ``1e-12 |max Q|``; written to
    ``out`` (G, L). The numpy twin is ``whittle._LookaheadModel.best_level_numpy``, which
    builds a (G, L, A, O, K) intermediate; the same operations, the sum over signals in order
    (numpy's for fewer than 8 signals, where the two agree to the bit; past that numpy sums
    pairwise)."""
    n_beliefs, n_actions, n_obs, n_plans = m.shape
    q = np.empty(n_actions)
    for g in range(n_beliefs):
        for j in range(lam.shape[1]):
            x = lam[g, j]
            for a in range(n_actions):
                future = 0.0
                for o in range(n_obs):
                    top = -np.inf
                    for k in range(n_plans):
                        v = m[g, a, o, k] - x * kappa[g, a, o, k]
                        if v > top:
                            top = v
                    future = top if o == 0 else future + top
                q[a] = now[g, a] - x * cost[a] + discount * future
            qmax = q.max()
            floor = qmax - 1e-12 * abs(qmax)
            for a in range(n_actions):
                if q[a] >= floor:
                    out[g, j] = a
                    break


@njit
def weigh_kernel(joint, plans, out):
    """``out[g, a, o, k] = Σ_t joint[g, a, t, o] plans[k, t]`` (the lookahead's weights), summed
    in order of ``t``: numpy's einsum of the same (its loop took 15 % of a three-state fit;
    a matrix product is as fast but starts BLAS threads, which spun a second core)."""
    n_beliefs, n_actions, n_states, n_obs = joint.shape
    for g in range(n_beliefs):
        for a in range(n_actions):
            for o in range(n_obs):
                for k in range(plans.shape[0]):
                    acc = joint[g, a, 0, o] * plans[k, 0]
                    for t in range(1, n_states):
                        acc += joint[g, a, t, o] * plans[k, t]
                    out[g, a, o, k] = acc
