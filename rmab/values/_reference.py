"""Plain-numpy twins of :mod:`rmab.values._kernels` (vectorised over arms and prices).

They define what the kernels compute; the tests compare the two and the benchmarks use these
as the reference speed. Layout inside: prices last, ``(N, A, S, P)``; outputs ``(P, N, S)``.
"""

from __future__ import annotations

import numpy as np

from rmab.values.exact import _expect as expect
from rmab.values.exact import _greedy as greedy
from rmab.values.exact import _priced_rewards as priced_rewards
from rmab.values.exact import _select as select


def evaluate(transitions, discount, policy, payoff) -> np.ndarray:
    """Solve ``(I - β P_π) x = payoff_π`` for every arm and price; ``payoff`` is (N, A, S, P)
    or a (N, A) cost table; returns (N, S, P)."""
    n, _, s, _ = transitions.shape
    idx = policy.transpose(0, 2, 1)                                          # (N, P, S)
    mat = np.eye(s) - discount * transitions[np.arange(n)[:, None, None], idx,
                                             np.arange(s)[None, None, :]]
    if payoff.ndim == 2:
        rhs = payoff[np.arange(n)[:, None, None], policy]
    else:
        rhs = select(payoff, policy)
    return np.linalg.solve(mat, rhs.transpose(0, 2, 1)[..., None])[..., 0].transpose(0, 2, 1)


def _improve(arms, reward, pol, discount, tie, max_steps):
    """Twin of ``_improve``: ``(q, pol, evaluations)``."""
    for step in range(1, max_steps + 1):
        v = evaluate(arms.transitions, discount, pol, reward)
        q = reward + discount * expect(arms.transitions, v)
        better = q.max(axis=1) > select(q, pol) + tie
        if not better.any():
            return q, pol, step
        pol = np.where(better, greedy(q, tie, rel=0.0), pol)
    return q, pol, max_steps + 1


def _out(arms, q, pol, discount, iterations):
    res = evaluate(arms.transitions, discount, pol, arms.costs)
    t = lambda x: np.ascontiguousarray(x.transpose(2, 0, 1))  # noqa: E731
    return (t(q.max(axis=1)), np.ascontiguousarray(q.transpose(3, 0, 2, 1)), t(pol), t(res),
            iterations)


def vi_numpy(arms, prices, discount, tol, max_iter):
    """Value iteration over all pairs at once, MacQueen stopping on the worst pair, then the
    greedy policy improved (:func:`_improve`). Returns ``(values, q, policy, resource,
    iterations)``."""
    reward = priced_rewards(arms, prices)
    v = reward.max(axis=1)
    factor = discount / (1.0 - discount)
    it = 0
    while it < max_iter:
        it += 1
        new = (reward + discount * expect(arms.transitions, v)).max(axis=1)
        d = new - v
        lo, hi = d.min(axis=1, keepdims=True), d.max(axis=1, keepdims=True)
        v = new + factor * 0.5 * (lo + hi)
        if factor * 0.5 * float((hi - lo).max()) <= tol:
            break
    tie = tol * (1.0 - discount)
    pol = greedy(reward + discount * expect(arms.transitions, v), tie, rel=0.0)
    q, pol, _ = _improve(arms, reward, pol, discount, tie, max_iter)
    return _out(arms, q, pol, discount, it)


def pi_numpy(arms, prices, discount, tol, max_iter):
    """Howard's policy iteration over all pairs at once (:func:`_improve` from the greedy
    policy of the rewards); same returns as :func:`vi_numpy`."""
    reward = priced_rewards(arms, prices)
    q, pol, it = _improve(arms, reward, greedy(reward, 0.0, rel=0.0), discount,
                          tol * (1.0 - discount), max_iter)
    return _out(arms, q, pol, discount, it)


def point_backup_numpy(trans, obs, r, c, beta, beliefs, alphas, costs):
    """Twin of ``backup_all_kernel``: backups at every belief; returns
    ``(alphas (M, S), costs (M, S), actions (M,), values (M,))``."""
    pred = np.einsum("ms,ast->mat", beliefs, trans)                      # (M, A, S')
    scores = np.einsum("mat,ato,kt->maok", pred, obs, alphas)            # (M, A, O, K)
    kstar = scores.argmax(axis=3)                                        # (M, A, O)
    vals = beliefs @ r + beta * scores.max(axis=3).sum(axis=2)           # (M, A)
    act = vals.argmax(axis=1)
    m_idx = np.arange(len(beliefs))
    k = kstar[m_idx, act]                                                # (M, O)
    w = trans[act][:, :, :, None] * obs[act][:, None, :, :]              # (M, S, S', O)
    new_a = r[:, act].T + beta * np.einsum("msto,mot->ms", w, alphas[k])
    new_c = c[act][:, None] + beta * np.einsum("msto,mot->ms", w, costs[k])
    return new_a, new_c, act, vals[m_idx, act]


def stack_q_numpy(idx, beliefs, trans, obs, rewards, charge, discount, alphas, n_vec):
    """Twin of ``stack_q_kernel``, batched over arms; returns (N, A)."""
    n, a, s, o = len(idx), *obs.shape[1:]
    pred = np.matmul(beliefs[:, None, None, :], trans[idx])[:, :, 0]         # (N, A, S')
    joint = (pred[..., None] * obs[idx]).transpose(0, 1, 3, 2).reshape(n, a * o, s)
    scores = np.matmul(joint, alphas[idx].transpose(0, 2, 1))                # (N, A O, K)
    padding = np.arange(alphas.shape[1]) >= n_vec[idx][:, None, None]                # (N, 1, K)
    scores[np.broadcast_to(padding, scores.shape)] = -np.inf
    future = scores.max(axis=2).reshape(n, a, o).sum(axis=2)
    now = np.matmul(beliefs[:, None, :], rewards[idx])[:, 0] - charge[idx]
    return now + discount[idx, None] * future


def expand_round_numpy(trans, obs, points, count, limit, u, min_l1):
    """Twin of ``expand_round_kernel`` (sequential over points, vectorised over actions)."""
    points = points.copy()
    total = count
    n_actions = trans.shape[0]
    a_idx = np.arange(n_actions)

    def draw(rows, uu):
        k = np.minimum((uu[:, None] >= np.cumsum(rows, axis=1)).sum(axis=1), rows.shape[1] - 1)
        for i in range(len(k)):
            while rows[i, k[i]] == 0.0 and k[i] > 0:
                k[i] -= 1
        return k

    for m in range(count):
        s = draw(np.repeat(points[m][None], n_actions, axis=0), u[m, :, 0])
        sp = draw(trans[a_idx, s], u[m, :, 1])
        o = draw(obs[a_idx, sp], u[m, :, 2])
        joint = (points[m] @ trans) * obs[a_idx, :, o]                   # (A, S')
        norm = joint.sum(axis=1)
        ok = norm > 0
        succ = joint / np.where(ok, norm, 1.0)[:, None]
        near = np.abs(succ[:, None, :] - points[None, :total]).sum(axis=2).min(axis=1)
        near = np.where(ok, near, -1.0)
        a = int(np.argmax(near))
        if near[a] > min_l1 and total < limit:
            points[total] = succ[a]
            total += 1
    return points, total


def pbvi_numpy(trans, obs, r, c, beta, beliefs, alphas, costs, actions, target, max_iter):
    """Twin of ``pbvi_kernel`` with full sweeps (keep-old rule, duplicates dropped), plain
    value iteration on the point set: without the kernel's evaluation of a repeating plan
    structure, so in more sweeps where both settle at one fixed point (point-based backups have
    several). Returns ``(alphas, costs, actions, sweeps, residual)``."""
    residual = np.inf
    sweeps = 0
    while sweeps < max_iter:
        sweeps += 1
        scores = beliefs @ alphas.T
        best, values = scores.argmax(axis=1), scores.max(axis=1)
        new_a, new_c, new_act, new_v = point_backup_numpy(trans, obs, r, c, beta, beliefs,
                                                          alphas, costs)
        residual = max(0.0, float((new_v - values).max()))
        keep = new_v >= values
        cand_a = np.where(keep[:, None], new_a, alphas[best])
        cand_c = np.where(keep[:, None], new_c, costs[best])
        cand_act = np.where(keep, new_act, actions[best])
        _, first = np.unique(np.round(np.column_stack([cand_a, cand_act]), 9), axis=0,
                             return_index=True)
        first = np.sort(first)
        alphas, costs, actions = cand_a[first], cand_c[first], cand_act[first]
        if residual <= target:
            break
    return alphas, costs, actions, sweeps, residual
