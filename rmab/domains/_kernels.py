"""Numba kernels of the domains (private: inputs are trusted)."""

from __future__ import annotations

import numpy as np
from numba import types
from numba.typed import Dict

from rmab._kernels import njit

MEMO_TARGETS = 56       # memo keys (visited mask << 6 | node) fit an int64 up to here


@njit
def _candidates(d, L, visited, cur, length, out):
    """Unvisited targets ``i`` such that, after moving ``cur -> i``, every unvisited target
    can still be visited and the walk closed within ``L``, nearest first (stable), in
    ``out``; returns their count."""
    k = d.shape[0] - 1
    todo = np.empty(k, np.int64)
    n = 0
    for i in range(1, k + 1):
        if not visited[i]:
            todo[n] = i
            n += 1
    todo = todo[:n]
    step = np.empty(n)
    for j in range(n):
        step[j] = d[cur, todo[j]]
    count = 0
    for j in np.argsort(step, kind="mergesort"):
        i = todo[j]
        new = length + d[cur, i]
        fits = True
        for r in todo:
            if new + d[i, r] + d[r, 0] > L:
                fits = False
                break
        if fits:
            out[count] = i
            count += 1
    return count


@njit
def closed_walk_kernel(d, L, max_states, order, work):
    """Depth-first search for a visiting order of the targets ``1..k`` of the metric ``d``
    ((k+1, k+1), index 0 the source) whose closed walk is at most ``L``, nearest target first.
    A memo of the shortest length reaching each (visited set, node) state (up to
    ``MEMO_TARGETS`` targets) cuts repeated states. Returns 1 (the order in ``order[:k]``), 0
    (none exists) or -1 (more than ``max_states`` states stored: undecided); ``work[0]`` grows
    by the states stored."""
    memo = Dict.empty(key_type=types.int64, value_type=types.float64)
    found = _search(d, L, max_states, order, memo)
    work[0] += len(memo) + 1
    return found


@njit
def _search(d, L, max_states, order, memo):
    k = d.shape[0] - 1
    memo_on = k <= MEMO_TARGETS
    cand = np.empty((k, k), np.int64)
    n_cand = np.zeros(k, np.int64)
    tried = np.zeros(k, np.int64)
    node = np.zeros(k, np.int64)            # node[t]: where the walk is after t targets
    mask = np.zeros(k, np.int64)
    length = np.zeros(k)
    visited = np.zeros(k + 1, np.bool_)
    n_cand[0] = _candidates(d, L, visited, 0, 0.0, cand[0])
    depth = 0
    while depth >= 0:
        if tried[depth] == n_cand[depth]:
            visited[node[depth]] = False        # the source (depth 0) is never a target
            depth -= 1
            continue
        i = cand[depth, tried[depth]]
        tried[depth] += 1
        new = length[depth] + d[node[depth], i]
        order[depth] = i
        if depth == k - 1:
            if new + d[i, 0] <= L:
                return 1
            continue
        m = mask[depth] | (1 << (i - 1)) if memo_on else 0
        if memo_on:
            key = (m << 6) | i
            if key in memo and memo[key] <= new:
                continue
            memo[key] = new
            if len(memo) > max_states:
                return -1
        depth += 1
        node[depth], mask[depth], length[depth], tried[depth] = i, m, new, 0
        visited[i] = True
        n_cand[depth] = _candidates(d, L, visited, i, new, cand[depth])
    return 0


@njit
def held_karp_kernel(d, L, order, work):
    """Held-Karp DP over the targets ``1..k`` of ``d`` (as :func:`closed_walk_kernel`; up to
    ~20 targets: memory ``2^k k`` float32): 1 and the shortest closed walk's visiting order in
    ``order[:k]`` if it is at most ``L``, else 0. ``f[S, v]``, the shortest walk from the
    source through ``S`` ending at ``v``, is kept only while it can return within ``L``;
    ``work[0]`` grows by ``2^k k``."""
    k = d.shape[0] - 1
    work[0] += (1 << k) * k
    f = np.full((1 << k, k), np.inf, np.float32)
    for u in range(k):
        if d[0, u + 1] + d[u + 1, 0] <= L:
            f[1 << u, u] = d[0, u + 1]
    for mask in range(1, 1 << k):               # every subset before its supersets
        for u in range(k):
            fu = f[mask, u]
            if fu == np.inf:
                continue
            for v in range(k):
                if (mask >> v) & 1:
                    continue
                new = fu + d[u + 1, v + 1]
                if new + d[v + 1, 0] <= L and new < f[mask | (1 << v), v]:
                    f[mask | (1 << v), v] = new
    mask = (1 << k) - 1
    v, best = -1, np.inf
    for u in range(k):
        if f[mask, u] + d[u + 1, 0] < best:
            v, best = u, f[mask, u] + d[u + 1, 0]
    if best > L:
        return 0
    for t in range(k - 1, -1, -1):              # back along the minima
        order[t] = v + 1
        rest = mask ^ (1 << v)
        if rest == 0:
            break
        u_best, best = -1, np.inf
        for u in range(k):
            if (rest >> u) & 1 and f[rest, u] + d[u + 1, v + 1] < best:
                u_best, best = u, f[rest, u] + d[u + 1, v + 1]
        mask, v = rest, u_best
    return 1


@njit
def closed_walk_order(dist, source, L, members, max_states, dp_targets, route, work):
    """A visiting order of the nodes ``members`` other than ``source`` whose closed walk from
    ``source`` (``dist`` the hop metric) is at most ``L``, in ``route[:k]``; returns ``k``,
    or -1 if there is none. The search decides, and, for at most ``dp_targets`` targets it
    leaves undecided after ``max_states`` states, the DP (``work``: as theirs)."""
    targets = np.empty(members.shape[0], np.int64)
    k = 0
    for m in members:
        if m != source:
            targets[k] = m
            k += 1
    if k == 0:
        return 0
    d = np.empty((k + 1, k + 1))
    d[0, 0] = 0.0
    for i in range(k):
        d[0, i + 1] = dist[source, targets[i]]
        d[i + 1, 0] = dist[targets[i], source]
        if d[0, i + 1] + d[i + 1, 0] > L:
            return -1
        for j in range(k):
            d[i + 1, j + 1] = dist[targets[i], targets[j]]
    order = np.empty(k, np.int64)
    found = closed_walk_kernel(d, L, max_states if k <= dp_targets else 1 << 62, order, work)
    if found < 0:
        found = held_karp_kernel(d, L, order, work)
    if found == 0:
        return -1
    for i in range(k):
        route[i] = targets[order[i] - 1]
    return k


@njit
def _insertion(dist, source, tour, k, u):
    """Cheapest insertion of ``u`` into the closed walk ``source, tour[:k], source``: (added
    length, position)."""
    if u == source:
        return 0.0, 0
    prev, best, at = source, np.inf, 0
    for p in range(k + 1):
        nxt = tour[p] if p < k else source
        delta = dist[prev, u] + dist[u, nxt] - dist[prev, nxt]
        if delta < best:
            best, at = delta, p
        prev = nxt
    return best, at


@njit
def _walk_length(dist, source, tour, k):
    total, prev = 0.0, source
    for p in range(k):
        total += dist[prev, tour[p]]
        prev = tour[p]
    return total + dist[prev, source]


@njit
def _branch_bound(weight, cand, n_cand, value, t, i, room):
    """Bound of branching on ``cand[t, i]``: ``value[t]`` plus the ``room`` highest weights
    from ``cand[t, i]`` on (the list is sorted by weight)."""
    bound = value[t]
    for j in range(i, min(i + room, n_cand[t])):
        bound += weight[cand[t, j]]
    return bound


@njit
def open_bound(weight, cand, n_cand, nxt, value, depth, budget):
    """The highest bound of the branches :func:`route_search_kernel` has left (``-inf`` if
    none)."""
    bound = -np.inf
    for t in range(depth[0] + 1):
        if t < budget and nxt[t] < n_cand[t]:
            bound = max(bound, _branch_bound(weight, cand, n_cand, value, t, nxt[t],
                                             budget - t))
    return bound


@njit
def route_search_kernel(dist, source, L, weight, max_states, dp_targets, gap, offset,
                        max_work, stack, best):
    """Depth-first branch and bound for ``max Σ_{v ∈ S} weight[v]`` over the feasible pull sets
    ``S`` (``|S| <= budget``, a closed walk from ``source`` of at most ``L`` moves visits
    ``S``). Resumable: it returns 0 once its checks have done ``max_work`` units of work (one
    per candidate, plus the search states and DP cells of the exact checks; the state is in
    ``stack``), 1 when the search is finished.

    ``stack`` = ``(cand (B+1, n), n_cand (B+1,), nxt (B+1,), chosen (B,), value (B+1,),
    depth (1,), tour (B+1, B), tour_k (B+1,), tour_len (B+1,), child (2,))``: at depth ``t``
    the set is ``chosen[:t]`` of value ``value[t]``, visited in the order
    ``tour[t, :tour_k[t]]`` (a walk of ``tour_len[t] <= L``), and ``cand[t, :n_cand[t]]`` are
    its single additions that keep it feasible, by weight, highest first; ``nxt[t]`` the next
    to branch on. While the branch on ``cand[t, nxt[t]]`` is being built, ``child`` holds the
    next candidate to check and the count kept (``child[0] = -1`` otherwise). ``best`` =
    ``(value (1,), members (B,), count (1,), cut (1,))``, ``cut`` the highest bound of a branch
    cut within the gap.

    Branching on ``cand[t, i]`` excludes ``cand[t, :i]``; the bound of that branch
    (:func:`_branch_bound`) falls with ``i`` (the family is closed under removal, so additions
    infeasible now stay infeasible), and a branch within ``gap · max(1, |best + offset|)`` of
    the best is cut. An addition whose cheapest insertion into the set's walk fits ``L`` needs
    no search."""
    cand, n_cand, nxt, chosen, value, depth, tour, tour_k, tour_len, child = stack
    best_value, best_set, best_count, cut = best
    budget = chosen.shape[0]
    order = np.empty(budget, np.int64)
    work = np.zeros(1, np.int64)
    while depth[0] >= 0:
        t = depth[0]
        if child[0] >= 0:                        # building the branch on cand[t, nxt[t]]
            members = np.empty(t + 2, np.int64)
            members[:t + 1] = chosen[:t + 1]
            k = tour_k[t + 1]
            while child[0] < n_cand[t]:
                if work[0] >= max_work:
                    return 0
                work[0] += 1
                u = cand[t, child[0]]
                members[t + 1] = u
                if (tour_len[t + 1] + _insertion(dist, source, tour[t + 1], k, u)[0] <= L or
                        closed_walk_order(dist, source, L, members, max_states, dp_targets,
                                          order, work) >= 0):
                    cand[t + 1, child[1]] = u
                    child[1] += 1
                child[0] += 1
            n_cand[t + 1] = child[1]
            child[0] = -1
            value[t + 1] = value[t] + weight[chosen[t]]
            nxt[t] += 1
            nxt[t + 1] = 0
            depth[0] = t + 1
            continue
        if work[0] >= max_work:
            return 0
        room = budget - t
        i = nxt[t]
        if room == 0 or i >= n_cand[t]:
            depth[0] -= 1
            continue
        bound = _branch_bound(weight, cand, n_cand, value, t, i, room)
        if bound <= best_value[0] + gap * max(1.0, abs(best_value[0] + offset)):
            cut[0] = max(cut[0], bound)
            depth[0] -= 1                            # later branches bound lower still
            continue
        v = cand[t, i]
        chosen[t] = v
        val = value[t] + weight[v]
        if val > best_value[0]:
            best_value[0] = val
            best_set[:t + 1] = chosen[:t + 1]
            best_count[0] = t + 1
        if t + 1 == budget:
            nxt[t] += 1
            continue
        work[0] += 1
        k = tour_k[t]
        delta, at = _insertion(dist, source, tour[t], k, v)
        if v == source:
            tour[t + 1, :k] = tour[t, :k]
        elif tour_len[t] + delta <= L:
            tour[t + 1, :at] = tour[t, :at]
            tour[t + 1, at] = v
            tour[t + 1, at + 1:k + 1] = tour[t, at:k]
            k += 1
        else:
            k = closed_walk_order(dist, source, L, chosen[:t + 1], max_states, dp_targets,
                                  tour[t + 1], work)
        tour_k[t + 1] = k
        tour_len[t + 1] = _walk_length(dist, source, tour[t + 1], k)
        child[0], child[1] = i + 1, 0
    return 1
