"""Numba kernels of the single-arm value code (private: inputs are trusted).

C-contiguous float64 / int64 arrays, outputs preallocated by the caller (the point-set and
price-sweep kernels, whose sizes are found as they run, return theirs). The plain-numpy twins
live in :mod:`rmab.values._reference` and are compared in the tests.
"""

from __future__ import annotations

import numpy as np
from rmab._kernels import copy_items, copy_rows, njit


@njit(inline="always")
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


@njit(inline="always")
def _q_values(trans, r, v, beta, q):
    """``q[s, a] = r[s, a] + β Σ_t trans[a, s, t] v[t]``."""
    n_actions, s_count, _ = trans.shape
    for a in range(n_actions):
        for s in range(s_count):
            acc = 0.0
            for t in range(s_count):
                acc += trans[a, s, t] * v[t]
            q[s, a] = r[s, a] + beta * acc


@njit(inline="always")
def _greedy_row(q_row, tie):
    """Index of the first action within ``tie`` of the best (the cheaper one on ties)."""
    best = q_row[0]
    for a in range(1, q_row.shape[0]):
        if q_row[a] > best:
            best = q_row[a]
    thresh = best - tie
    for a in range(q_row.shape[0]):
        if q_row[a] >= thresh:
            return a
    return 0


@njit
def _improve(trans, r, beta, tie, max_steps, pol, rhs, mat, v, q):
    """Policy iteration from ``pol``: evaluate it exactly (``v = V_π``, ``q`` its Q), then
    switch each state where another action gains more than ``tie`` to the first action within
    ``tie`` of its best (the cheaper on ties); until no state switches. Returns the
    evaluations made, ``max_steps + 1`` if that many did not settle the policy.

    With ``tie = tol (1 - β)``, ``V* - V_π <= tol`` once settled and ``max_a q`` lies in
    ``[V_π, V*]``. ``tie`` needs no float guard of its own: the kernels get ``tol`` above the
    float64 floor ``F`` (``exact.py``), so ``tie >= (S + 2) ε M``, the rounding of ``q``; a
    relative guard of 1e-12 |V| on top had kept actions worth 375 tol less at β = 0.9999."""
    s_count, n_actions = q.shape
    for step in range(1, max_steps + 1):
        for s in range(s_count):
            rhs[s] = r[s, pol[s]]
        _solve_policy(trans, pol, rhs, beta, mat, v)
        _q_values(trans, r, v, beta, q)
        changed = False
        for s in range(s_count):
            best = q[s, pol[s]]
            for a in range(n_actions):
                best = max(best, q[s, a])
            if best > q[s, pol[s]] + tie:           # each switch gains more than tie: no cycle
                pol[s] = _greedy_row(q[s], tie)
                changed = True
        if not changed:
            return step
    return max_steps + 1


@njit
def _write_pair(trans, costs_n, beta, q, pol, rhs, mat, q_out, v_out, pol_out, res_out):
    """Outputs of one (arm, price) pair: ``q``, values ``max_a q``, the policy and its
    discounted resource use."""
    s_count, n_actions = q.shape
    for s in range(s_count):
        best = q[s, 0]
        for b in range(1, n_actions):
            if q[s, b] > best:
                best = q[s, b]
        v_out[s] = best
        pol_out[s] = pol[s]
        rhs[s] = costs_n[pol[s]]
        for b in range(n_actions):
            q_out[s, b] = q[s, b]
    _solve_policy(trans, pol, rhs, beta, mat, res_out)


@njit
def vi_kernel(transitions, rewards, costs, prices, beta, tol, max_iter, values, q_out, policy,
              resource, iterations):
    """Value iteration with MacQueen's stopping rule, one (arm, price) pair at a time, then the
    greedy policy (ties within ``tol (1 - β)`` to the cheaper action) improved on its exact
    values (:func:`_improve`): the greedy policy of an approximate ``v`` alone can lose
    ``~tol / (1 - β)`` (4 500 tol at ``β = 0.9999``).

    Writes ``values[p, n]``, ``q_out[p, n]``, ``policy[p, n]``, ``resource[p, n]`` and the
    sweeps used in ``iterations[p, n]`` (``max_iter + 1`` when the policy did not settle in
    ``max_iter`` evaluations). A settled policy meets ``tol`` however far the sweeps got: on a
    periodic chain at β near 1 the span shrinks only by β a sweep, and ``max_iter`` sweeps end
    short of ``tol`` where the improvement certifies the values at once.
    """
    n_arms, n_actions, s_count, _ = transitions.shape
    factor = beta / (1.0 - beta)
    tie = tol * (1.0 - beta)
    r = np.empty((s_count, n_actions))
    q = np.empty((s_count, n_actions))
    v = np.empty(s_count)
    new = np.empty(s_count)
    pol = np.empty(s_count, dtype=np.int64)
    rhs = np.empty(s_count)
    mat = np.empty((s_count, s_count))
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
            least = np.inf         # smallest span so far, and sweeps since it last shrank
            stalled = 0
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
                # MacQueen's midpoint: the span and the greedy policy are the same without
                # it, but at β near 1 the sweeps' rounding is not (periodic chains stalled
                # later without it: 0.8 % more sweeps, up to 2 015 in one case, a review)
                shift = factor * 0.5 * (lo + hi)
                for s in range(s_count):
                    v[s] = new[s] + shift
                span = factor * 0.5 * (hi - lo)
                if span <= tol:
                    break
                if span < least:
                    least = span
                    stalled = 0
                else:
                    stalled += 1
                    if stalled >= _STALL:   # at rounding's floor (periodic chains, β near 1):
                        break               # more sweeps cannot help; _improve certifies
            _q_values(trans, r, v, beta, q)
            for s in range(s_count):
                pol[s] = _greedy_row(q[s], tie)
            steps = _improve(trans, r, beta, tie, max_iter, pol, rhs, mat, v, q)
            iterations[p, n] = it if steps <= max_iter else max_iter + 1
            _write_pair(trans, costs[n], beta, q, pol, rhs, mat, q_out[p, n], values[p, n],
                        policy[p, n], resource[p, n])


_STALL = 100      # value-iteration sweeps without a smaller span: rounding's floor


@njit
def pi_kernel(transitions, rewards, costs, prices, beta, tol, max_iter, values, q_out, policy,
              resource, iterations):
    """Howard's policy iteration (:func:`_improve` with ``tie = tol (1 - β)``) from the greedy
    policy of the rewards, one (arm, price) pair at a time; outputs as :func:`vi_kernel`, with
    the evaluations in ``iterations``."""
    n_arms, n_actions, s_count, _ = transitions.shape
    tie = tol * (1.0 - beta)
    r = np.empty((s_count, n_actions))
    q = np.empty((s_count, n_actions))
    v = np.empty(s_count)
    pol = np.empty(s_count, dtype=np.int64)
    rhs = np.empty(s_count)
    mat = np.empty((s_count, s_count))
    for n in range(n_arms):
        trans = transitions[n]
        for p in range(prices.shape[0]):
            for s in range(s_count):
                for a in range(n_actions):
                    r[s, a] = rewards[n, s, a] - prices[p] * costs[n, a]
                pol[s] = _greedy_row(r[s], 0.0)
            iterations[p, n] = _improve(trans, r, beta, tie, max_iter, pol, rhs, mat, v, q)
            _write_pair(trans, costs[n], beta, q, pol, rhs, mat, q_out[p, n], values[p, n],
                        policy[p, n], resource[p, n])


# -- PBVI -----------------------------------------------------------------------------------

@njit
def point_backup(trans, obs, r, c, beta, b, alphas, costs, n_vec, y, out_alpha, out_cost,
                 choice):
    """Exact Bellman backup of ``max_k alphas[k]`` (k < n_vec) at belief ``b``.

    ``r (S, A)`` priced rewards, ``c (A,)`` action costs; ``y (S,)`` and ``choice (A, O)``
    are work arrays. Writes the backed-up vector and its cost vector; returns
    ``(action, value at b)``. Ties between actions (within 1e-12 of the best, relative: an
    absolute floor stalled PBVI at rewards of 1e-12) go to the lower (cheaper) action.
    """
    n_actions, s_count, _ = trans.shape
    n_obs = obs.shape[2]
    best_val = -np.inf
    best_a = np.int64(0)     # not literal (see pbvi_kernel)
    for a in range(n_actions):
        for t in range(s_count):
            acc = 0.0
            for s in range(s_count):
                acc += b[s] * trans[a, s, t]
            y[t] = acc
        val = 0.0
        for s in range(s_count):
            val += b[s] * r[s, a]
        for o in range(n_obs):
            bk = 0
            bv = -np.inf
            for k in range(n_vec):
                acc = 0.0
                for t in range(s_count):
                    acc += y[t] * obs[a, t, o] * alphas[k, t]
                if acc > bv:
                    bv = acc
                    bk = k
            choice[a, o] = bk
            val += beta * bv
        if a == 0 or val > best_val + 1e-12 * abs(best_val):
            best_val = val
            best_a = a
    _plan_vector(trans, obs, r, c, beta, best_a, choice[best_a], alphas, costs, out_alpha,
                 out_cost)
    return best_a, best_val


@njit
def _plan_vector(trans, obs, r, c, beta, a, follow, alphas, costs, out_alpha, out_cost):
    """The value and cost vectors of the plan "take ``a``, then after signal ``o`` go on as
    vector ``follow[o]``": ``r(·, a) + β Σ_o P^a diag(ρ^{a,o}) α_{follow[o]}``, the same
    for the costs from ``c(a)``, into ``out_alpha``, ``out_cost`` (S,)."""
    s_count, n_obs = trans.shape[1], obs.shape[2]
    for s in range(s_count):
        va = r[s, a]
        vc = c[a]
        for o in range(n_obs):
            k = follow[o]
            acc_a = 0.0
            acc_c = 0.0
            for t in range(s_count):
                w = trans[a, s, t] * obs[a, t, o]
                acc_a += w * alphas[k, t]
                acc_c += w * costs[k, t]
            va += beta * acc_a
            vc += beta * acc_c
        out_alpha[s] = va
        out_cost[s] = vc


@njit
def backup_all_kernel(trans, obs, r, c, beta, beliefs, alphas, costs, out_alpha, out_cost,
                      out_action, out_value):
    """Point-based backup at every belief (no keep-old rule): row m of the outputs is the
    backup at ``beliefs[m]``."""
    s_count = trans.shape[1]
    y = np.empty(s_count)
    choice = np.empty((trans.shape[0], obs.shape[2]), dtype=np.int64)
    for m in range(beliefs.shape[0]):
        a, v = point_backup(trans, obs, r, c, beta, beliefs[m], alphas, costs, alphas.shape[0],
                            y, out_alpha[m], out_cost[m], choice)
        out_action[m] = a
        out_value[m] = v


@njit(inline="always")
def _dot(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i] * y[i]
    return acc


@njit
def _values_at(beliefs, alphas, n_vec, values, best):
    for m in range(beliefs.shape[0]):
        bv = -np.inf
        bk = 0
        for k in range(n_vec):
            v = _dot(beliefs[m], alphas[k])
            if v > bv:
                bv = v
                bk = k
        values[m] = bv
        best[m] = bk


@njit
def stack_q_kernel(idx, beliefs, trans, obs, rewards, charge, discount, alphas, n_vec, out):
    """One-step lookahead Q of arm ``n`` with solve ``j = idx[n]`` at ``beliefs[n]``:
    ``out[n, a] = b R_j[:, a] - charge[j, a] + β_j Σ_o max_{k < n_vec[j]} (b P_j^a ∘ ρ_j^{a,o})
    · α_{j,k}``. Shapes: trans (J, A, S, S'), obs (J, A, S', O), rewards (J, S, A), charge (J, A),
    discount (J,), alphas (J, K, S) zero-padded past ``n_vec``; out (N, A)."""
    n_actions, s_count, n_obs = trans.shape[1], trans.shape[2], obs.shape[3]
    pred = np.empty(s_count)
    joint = np.empty(s_count)
    for n in range(beliefs.shape[0]):
        j = idx[n]
        b = beliefs[n]
        for a in range(n_actions):
            for t in range(s_count):
                acc = 0.0
                for s in range(s_count):
                    acc += b[s] * trans[j, a, s, t]
                pred[t] = acc
            future = 0.0
            for o in range(n_obs):
                for t in range(s_count):
                    joint[t] = pred[t] * obs[j, a, t, o]
                best = -np.inf
                for k in range(n_vec[j]):
                    v = _dot(joint, alphas[j, k])
                    if v > best:
                        best = v
                future += best
            now = 0.0
            for s in range(s_count):
                now += b[s] * rewards[j, s, a]
            out[n, a] = now - charge[j, a] + discount[j] * future


@njit
def _find(alpha, action, alphas, actions, n_vec):
    """The first of the ``n_vec`` vectors equal to (alpha, action) (to 1e-12, relative), or
    -1."""
    s_count = alpha.shape[0]
    for k in range(n_vec):
        if actions[k] != action:
            continue
        same = True
        for s in range(s_count):
            if abs(alphas[k, s] - alpha[s]) > 1e-12 * abs(alpha[s]):
                same = False
                break
        if same:
            return k
    return -1


@njit
def _same(x, y, n):
    """Whether the first ``n`` items of the int vectors ``x`` and ``y`` are equal."""
    for i in range(n):
        if x[i] != y[i]:
            return False
    return True


@njit
def _repeats(actions, follow, last_actions, last_follow, n_vec):
    """Whether the ``n_vec`` plans (``actions``, ``follow``, none unknown) are the last
    sweep's."""
    if not _same(actions, last_actions, n_vec):
        return False
    for k in range(n_vec):
        if follow[k, 0] < 0 or not _same(follow[k], last_follow[k], follow.shape[1]):
            return False
    return True


@njit
def _append(alpha, cost, action, alphas, costs, actions, n_vec):
    """Write (alpha, cost, action) as row ``n_vec``; returns the new count."""
    for s in range(alpha.shape[0]):
        alphas[n_vec, s] = alpha[s]
        costs[n_vec, s] = cost[s]
    actions[n_vec] = action
    return n_vec + 1


@njit
def _add_unique(alpha, cost, action, alphas, costs, actions, n_vec):
    """Append (alpha, cost, action) unless an equal vector (to 1e-12, relative) is already
    there; returns the new count."""
    if _find(alpha, action, alphas, actions, n_vec) >= 0:
        return n_vec
    return _append(alpha, cost, action, alphas, costs, actions, n_vec)


# steps of one evaluation of a repeating plan structure at least (the sweeps' max_iter when
# larger): a cap of max_iter itself made the result depend on a max_iter that did not bind
# (Tiger converges in 8 sweeps by default, but not in 14 with max_iter=14)
_EVAL_STEPS = 10_000


@njit
def _evaluate_plans(trans, obs, r, c, beta, actions, follow, n_vec, alphas, costs, beliefs,
                    floor, tol, max_steps):
    """Iterate the plans' fixed structure on their values: plan ``k`` takes ``actions[k]``
    and after signal ``o`` goes on as plan ``follow[k, o]`` (an index into the same set), so
    ``α_k <- r(·, a_k) + β Σ_o P^a diag(ρ^{a,o}) α_{follow[k, o]}`` and the same for the
    costs (modified policy iteration's partial evaluation; every iterate is the value of a
    real plan: a lower bound), from ``alphas``/``costs`` (n_vec rows), until a step changes
    no entry by more than ``tol`` or after ``max_steps``. The result replaces them if no
    belief's value falls below ``floor`` (M,). Returns whether it converged and was kept."""
    s_count = trans.shape[1]
    x, cx = np.empty((n_vec, s_count)), np.empty((n_vec, s_count))
    nxt, cnxt = np.empty((n_vec, s_count)), np.empty((n_vec, s_count))
    copy_rows(x, 0, alphas, n_vec)
    copy_rows(cx, 0, costs, n_vec)
    done = False
    for _ in range(max_steps):
        change = 0.0
        for k in range(n_vec):
            _plan_vector(trans, obs, r, c, beta, actions[k], follow[k], x, cx, nxt[k], cnxt[k])
        for k in range(n_vec):
            for s in range(s_count):
                change = max(change, abs(nxt[k, s] - x[k, s]))
                x[k, s], cx[k, s] = nxt[k, s], cnxt[k, s]
        if change <= tol:
            done = True
            break
    for m in range(beliefs.shape[0]):
        v = -np.inf
        for k in range(n_vec):
            v = max(v, _dot(beliefs[m], x[k]))
        if v < floor[m]:
            return False
    copy_rows(alphas, 0, x, n_vec)
    copy_rows(costs, 0, cx, n_vec)
    return done


@njit
def _next_random(state):
    """Linear congruential step modulo 2**32 (Numerical Recipes constants; no overflow in
    int64): returns (new state, uniform in [0, 1)). Only orders Perseus' backups."""
    x = (1664525 * state + 1013904223) % 4294967296
    return x, x / 4294967296.0


@njit
def pbvi_kernel(trans, obs, r, c, beta, beliefs, alphas, costs, actions, n_start, target,
                max_iter, randomized, seed, stats):
    """Point-based value iteration on ``beliefs`` (M, S) from the ``n_start`` vectors in
    ``alphas``/``costs``/``actions`` (capacity >= max(M, n_start) rows, overwritten).

    Every sweep keeps, for each belief, the better of its backup and its current vector, so
    values on the point set never decrease, and drops the vectors that are best at no point. A full
    sweep backs up every belief and measures the largest possible gain
    ``max_m (HV(b_m) - V(b_m))^+``; ``randomized`` runs Perseus sweeps
    (back up random beliefs until every belief has improved) and switches to a full sweep to check
    convergence once a Perseus sweep gains at most ``target``. Stops after a full sweep whose
    residual is ``<= target``. Returns the final number of vectors; ``stats = [sweeps,
    residual]``.

    Each vector of a full sweep is a plan: its action, then after each signal the old vector
    its backup chose. When a full sweep makes the plans of the one before (same actions, each
    following the same old ones), later sweeps would only iterate that fixed structure, whose
    values rise by a factor β a sweep; :func:`_evaluate_plans` iterates it at once (modified
    policy iteration; Puterman 1994, §6.5), kept if no value on the set drops. Every vector
    stays the value of a plan, so a lower bound.
    """
    m_count, s_count = beliefs.shape
    cap = alphas.shape[0]
    n_vec = n_start
    new_a = np.empty((cap, s_count))
    new_c = np.empty((cap, s_count))
    new_act = np.empty(cap, dtype=np.int64)
    tmp_a = np.empty(s_count)
    tmp_c = np.empty(s_count)
    y = np.empty(s_count)
    choice = np.empty((trans.shape[0], obs.shape[2]), dtype=np.int64)
    values = np.empty(m_count)
    best = np.empty(m_count, dtype=np.int64)
    new_values = np.empty(m_count)
    pending = np.empty(m_count, dtype=np.int64)
    n_obs = obs.shape[2]
    # each new vector's plan: its action, then after signal o the old vector follow[k, o]
    # (-1: not a backup of the old set); kept across sweeps to see the structure repeat
    new_follow = np.empty((cap, n_obs), dtype=np.int64)
    follow = np.empty((cap, n_obs), dtype=np.int64)
    last_follow = np.empty((cap, n_obs), dtype=np.int64)
    last_actions = np.empty(cap, dtype=np.int64)
    n_last = -1
    stalled = False
    state = seed % 4294967296
    sweeps = 0
    residual = np.inf
    full = not randomized
    while sweeps < max_iter:
        sweeps += 1
        _values_at(beliefs, alphas, n_vec, values, best)
        n_new = np.int64(0)     # not literal (see below)
        if full:
            residual = 0.0
            for m in range(m_count):
                a, v = point_backup(trans, obs, r, c, beta, beliefs[m], alphas, costs, n_vec, y,
                                    tmp_a, tmp_c, choice)
                residual = max(residual, v - values[m])
                if v >= values[m]:
                    k = _find(tmp_a, a, new_a, new_act, n_new)
                    if k < 0:
                        copy_items(new_follow[n_new], 0, choice[a], n_obs)
                        n_new = _append(tmp_a, tmp_c, a, new_a, new_c, new_act, n_new)
                    elif not _same(new_follow[k], choice[a], n_obs):
                        new_follow[k, 0] = -1   # two plans of one value: no structure
                else:
                    k = best[m]
                    before = n_new
                    n_new = _add_unique(alphas[k], costs[k], actions[k], new_a, new_c, new_act,
                                        n_new)
                    if n_new > before:
                        new_follow[before, 0] = -1
        else:
            for k in range(cap):                # Perseus' plans: not followed
                new_follow[k, 0] = -1
            n_pending = m_count
            for m in range(m_count):
                pending[m] = m
                new_values[m] = -np.inf
            while n_pending > 0:
                state, u = _next_random(state)
                m = pending[min(int(u * n_pending), n_pending - 1)]
                a, v = point_backup(trans, obs, r, c, beta, beliefs[m], alphas, costs, n_vec, y,
                                    tmp_a, tmp_c, choice)
                before = n_new
                if v >= values[m]:
                    n_new = _add_unique(tmp_a, tmp_c, a, new_a, new_c, new_act, n_new)
                else:
                    k = best[m]
                    n_new = _add_unique(alphas[k], costs[k], actions[k], new_a, new_c, new_act,
                                        n_new)
                if n_new > before:
                    for mm in range(m_count):
                        new_values[mm] = max(new_values[mm], _dot(beliefs[mm], new_a[before]))
                kept = 0
                for i in range(n_pending):
                    mm = pending[i]
                    if mm != m and new_values[mm] < values[mm]:
                        pending[kept] = mm
                        kept += 1
                n_pending = kept
            gain = 0.0
            for m in range(m_count):
                gain = max(gain, new_values[m] - values[m])
        # keep only the vectors that are best at some point of the set
        _values_at(beliefs, new_a, n_new, new_values, best)
        used = np.zeros(n_new, dtype=np.bool_)
        for m in range(m_count):
            used[best[m]] = True
        n_old = n_vec
        n_vec = np.int64(0)     # a literal 0 compiled the callees twice (numba's inference)
        for k in range(n_new):
            if used[k]:
                for s in range(s_count):
                    alphas[n_vec, s] = new_a[k, s]
                    costs[n_vec, s] = new_c[k, s]
                actions[n_vec] = new_act[k]
                copy_items(follow[n_vec], 0, new_follow[k], n_obs)
                n_vec += 1
        if full:
            if residual <= target:
                break
            # the plans of the last full sweep again, each following the same old ones: the
            # sweeps would now only evaluate that structure, at rate β; evaluate it at once
            # (to a tenth of target from its values: steps of at most that times (1-β)/β),
            # kept if no value on the set drops. A structure whose evaluation ran out of
            # steps or was not kept is left to the sweeps (at β near 1 every sweep evaluated
            # it again: max_iter times the steps)
            same = n_vec == n_old == n_last and _repeats(actions, follow, last_actions,
                                                          last_follow, n_vec)
            stalled = stalled and same
            if same and not stalled:
                stalled = not _evaluate_plans(trans, obs, r, c, beta, actions, follow, n_vec,
                                              alphas, costs, beliefs, new_values,
                                              0.1 * target * (1.0 - beta) / beta,
                                              max(max_iter, _EVAL_STEPS))
            copy_items(last_actions, 0, actions, n_vec)
            copy_rows(last_follow, 0, follow, n_vec)
            n_last = n_vec
            full = not randomized
        elif gain <= target:
            full = True
    stats[0] = sweeps
    stats[1] = residual
    return n_vec


@njit(inline="always")
def _draw_row(row, u):
    """Inverse-CDF draw from ``row`` with uniform ``u``, stepping back past zero entries."""
    k = 0
    acc = row[0]
    last = row.shape[0] - 1
    while u >= acc and k < last:
        k += 1
        acc += row[k]
    while row[k] == 0.0 and k > 0:
        k -= 1
    return k


@njit
def expand_round_kernel(trans, obs, points, count, limit, u, min_l1, succ, best):
    """One round of belief expansion: from each of the first ``count`` points and each action,
    simulate one successor (state, next state and signal drawn with ``u[m, a, :3]``), and append
    the successor farthest (L1) from the set if it is farther than ``min_l1`` and fewer than
    ``limit`` points are held. Points added earlier in the round count in the distances.
    ``succ``, ``best`` (S,) are work arrays. Returns the new number of points."""
    n_actions, s_count, _ = trans.shape
    total = count
    for m in range(count):
        far = -1.0
        for a in range(n_actions):
            s = _draw_row(points[m], u[m, a, 0])
            sp = _draw_row(trans[a, s], u[m, a, 1])
            o = _draw_row(obs[a, sp], u[m, a, 2])
            norm = 0.0
            for t in range(s_count):
                acc = 0.0
                for q in range(s_count):
                    acc += points[m, q] * trans[a, q, t]
                succ[t] = acc * obs[a, t, o]
                norm += succ[t]
            if not norm > 0.0:
                continue
            for t in range(s_count):
                succ[t] /= norm
            near = np.inf
            for j in range(total):
                d = 0.0
                for t in range(s_count):
                    d += abs(succ[t] - points[j, t])
                near = min(near, d)
            if near > far:
                far = near
                for t in range(s_count):
                    best[t] = succ[t]
        if far > min_l1 and total < limit:
            for t in range(s_count):
                points[total, t] = best[t]
            total += 1
    return total


@njit(inline="always")
def _splitmix(state):
    """SplitMix64 (Steele, Lea and Flood 2014): returns (new state, uniform in [0, 1) from
    the top 53 bits). ``state`` is a uint64; every operation wraps modulo 2**64."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return state, np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit
def expand_kernel(trans, obs, b0, limit, seed, min_l1, idle_rounds):
    """Grow a point set (count, S) from ``b0`` by rounds of :func:`expand_round_kernel`, each
    drawing its uniforms ``(count, A, 3)`` in C order from SplitMix64 started at ``seed``
    (an integer the caller draws from its Generator: a numpy Generator handed to numba is
    unboxed by Python code on every call, where a Ctrl-C became a SystemError or, rarely, a
    crash), until ``limit`` points or ``idle_rounds`` rounds in a row without a new one."""
    n_actions, s_count = trans.shape[0], trans.shape[1]
    points = np.zeros((limit, s_count))
    copy_items(points[0], 0, b0, s_count)
    count, idle = np.int64(1), 0    # not literal: one expand_round_kernel to compile
    succ, best = np.empty(s_count), np.empty(s_count)
    state = np.uint64(seed)
    while count < limit and idle < idle_rounds:
        u = np.empty((count, n_actions, 3))
        for m in range(count):
            for a in range(n_actions):
                for j in range(3):
                    state, u[m, a, j] = _splitmix(state)
        new = expand_round_kernel(trans, obs, points, count, limit, u, min_l1, succ, best)
        idle = 0 if new > count else idle + 1
        count = new
    return points[:count]


@njit
def _row_less(x, i, j):
    """Whether row ``i`` of ``x`` comes before row ``j`` lexicographically (first column
    first)."""
    for t in range(x.shape[1]):
        if x[i, t] < x[j, t]:
            return True
        if x[i, t] > x[j, t]:
            return False
    return False


@njit
def unique_rows_kernel(x):
    """The rows of ``x`` (N, S) sorted lexicographically (first column first), repeats
    dropped: ``np.unique(x, axis=0)`` for floats without NaN, by a stable bottom-up merge
    sort of the row numbers (numba compiled ``np.argsort(kind="mergesort")`` for 1.8 s)."""
    n, s_count = x.shape
    order, spare = np.arange(n), np.empty(n, dtype=np.int64)
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                if j < hi and (i >= mid or _row_less(x, order[j], order[i])):
                    spare[k] = order[j]
                    j += 1
                else:
                    spare[k] = order[i]
                    i += 1
        order, spare = spare, order
        width *= 2
    out = np.empty((n, s_count))
    k = 0
    for i in range(n):
        row = x[order[i]]
        same = k > 0
        if same:
            for t in range(s_count):
                if row[t] != out[k - 1, t]:
                    same = False
                    break
        if not same:
            copy_items(out[k], 0, row, s_count)
            k += 1
    return out[:k]


@njit
def sweep_kernel(trans, obs, priced, blind, c, prices, beta, b0, limit, extra, seeds, min_l1,
                 idle_rounds, target, max_iter):
    """PBVI of one arm at each of ``prices`` (P,) in turn, each solve on a fresh point set
    (:func:`expand_kernel` from ``b0`` and ``seeds[p, 0]``, plus the ``extra`` beliefs (E, S)
    if E > 0, sorted and unique) from the blind vectors ``blind[p]`` (A, S) at ``priced[p] =
    r - λ_p c`` (S, A) and the previous solve's vectors re-priced, Perseus' seed
    ``seeds[p, 1]``: the loop of ``solve_pbvi`` calls it stands for, given the seeds those
    calls draw.

    Returns ``(alphas (K, S), costs (K, S), actions (K,), ends (P + 1,), residuals (P,))``:
    solve ``p``'s vectors are rows ``ends[p]:ends[p + 1]``."""
    n_prices = prices.shape[0]
    n_actions, s_count = trans.shape[0], trans.shape[1]
    # a solve keeps only vectors best at one of its points, at most limit + E
    room = n_prices * (limit + extra.shape[0])
    out_a, out_c = np.empty((room, s_count)), np.empty((room, s_count))
    out_act = np.empty(room, dtype=np.int64)
    ends = np.zeros(n_prices + 1, dtype=np.int64)
    residuals = np.empty(n_prices)
    stats = np.zeros(2)
    for p in range(n_prices):
        beliefs = expand_kernel(trans, obs, b0, limit, seeds[p, 0], min_l1, idle_rounds)
        if extra.shape[0] > 0:
            beliefs = unique_rows_kernel(np.vstack((beliefs, extra)))
        lo = ends[p - 1] if p > 0 else 0
        n_warm = ends[p] - lo
        n_start = n_actions + n_warm
        cap = max(beliefs.shape[0], n_start)
        alphas, costs = np.zeros((cap, s_count)), np.zeros((cap, s_count))
        actions = np.zeros(cap, dtype=np.int64)
        for a in range(n_actions):
            for s in range(s_count):
                alphas[a, s] = blind[p, a, s]
                costs[a, s] = c[a] / (1.0 - beta)
            actions[a] = a
        for j in range(n_warm):
            for s in range(s_count):
                alphas[n_actions + j, s] = (out_a[lo + j, s]
                                            + (prices[p - 1] - prices[p]) * out_c[lo + j, s])
                costs[n_actions + j, s] = out_c[lo + j, s]
            actions[n_actions + j] = out_act[lo + j]
        # np.bool_: a literal False would compile a second pbvi_kernel (1.8 s cold)
        k = pbvi_kernel(trans, obs, priced[p], c, beta, beliefs, alphas, costs, actions,
                        n_start, target, max_iter, np.bool_(False), seeds[p, 1], stats)
        copy_rows(out_a, ends[p], alphas, k)
        copy_rows(out_c, ends[p], costs, k)
        copy_items(out_act, ends[p], actions, k)
        ends[p + 1] = ends[p] + k
        residuals[p] = stats[1]
    k = ends[n_prices]
    return out_a[:k], out_c[:k], out_act[:k], ends, residuals
