"""Numba kernels of the domains (private: inputs are trusted)."""

from __future__ import annotations

import numpy as np

from rmab._kernels import copy_items, njit, stable_order

MEMO_TARGETS = 56       # memo keys (visited mask << 6 | node) fit an int64 up to here
_MEMO_SLOTS = 256       # a memo's first size (a power of 2): most checks store a few states
_FIBONACCI = np.uint64(11400714819323198485)    # 2^64 / golden ratio: spreads the keys


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
    for j in stable_order(step):
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
def _rest_bound(d, near, visited, cur):
    """A lower bound on the length of a walk from ``cur`` through every unvisited target
    (``cur`` aside) and back to the source: each is entered once from another target, at
    least ``near[r]`` (its nearest other target) away, and the last is left for the source.
    (Without it, 21 leaves of a star that do not fit were searched for minutes: each
    target's own round trip fits.) O(k) per call."""
    total, back = 0.0, np.inf
    for r in range(1, d.shape[0]):
        if not visited[r] and r != cur:
            total += near[r]
            back = min(back, d[r, 0])
    return total + back if np.isfinite(back) else d[cur, 0]


@njit
def closed_walk_kernel(d, L, max_states, order, work):
    """Depth-first search for a visiting order of the targets ``1..k`` of the metric ``d``
    ((k+1, k+1), index 0 the source) whose closed walk is at most ``L``, nearest target first.
    A memo of the shortest length reaching each (visited set, node) state (up to
    ``MEMO_TARGETS`` targets) cuts repeated states, and :func:`_rest_bound` walks that cannot
    close within ``L``. Returns 1 (the order in ``order[:k]``), 0
    (none exists) or -1 (more than ``max_states`` states stored: undecided); ``work[0]`` grows
    by the states stored."""
    k = d.shape[0] - 1
    memo_on = k <= MEMO_TARGETS
    keys = np.full(_MEMO_SLOTS, -1, np.int64)   # an open-addressing table (numba's typed
    lengths = np.empty(_MEMO_SLOTS)             # Dict compiled for seconds): -1 is empty
    stored = 0
    cand = np.empty((k, k), np.int64)
    n_cand = np.zeros(k, np.int64)
    tried = np.zeros(k, np.int64)
    node = np.zeros(k, np.int64)            # node[t]: where the walk is after t targets
    mask = np.zeros(k, np.int64)
    length = np.zeros(k)
    visited = np.zeros(k + 1, np.bool_)
    near = np.full(k + 1, np.inf)           # near[r]: the nearest other target
    for r in range(1, k + 1):
        for u in range(1, k + 1):
            if u != r and d[u, r] < near[r]:
                near[r] = d[u, r]
    # np.int64: a literal 0 compiled _candidates a second time (numba types it Literal[int])
    n_cand[0] = _candidates(d, L, visited, np.int64(0), 0.0, cand[0])
    depth, found = 0, 0
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
                found = 1
                break
            continue
        if new + _rest_bound(d, near, visited, i) > L:
            continue
        m = mask[depth] | (1 << (i - 1)) if memo_on else 0
        if memo_on:
            key = (m << 6) | i
            at = _slot(keys, key)
            if keys[at] == key:
                if lengths[at] <= new:
                    continue
            else:
                keys[at] = key
                stored += 1
                if stored > max_states:
                    found = -1
                    break
                if 2 * stored > keys.shape[0]:
                    keys, lengths = _grown(keys, lengths)
                    at = _slot(keys, key)
            lengths[at] = new
        depth += 1
        node[depth], mask[depth], length[depth], tried[depth] = i, m, new, 0
        visited[i] = True
        n_cand[depth] = _candidates(d, L, visited, i, new, cand[depth])
    work[0] += stored + 1
    return found


@njit
def _slot(keys, key):
    """The slot of ``key`` in the open-addressing table ``keys`` (a power of 2 long, -1
    empty), or the empty slot where it goes: Fibonacci hashing, linear probing. The slot is
    the product's top bits, which every bit of the key moves (bits 32 up ignored the key's
    bits past 32 + log2 of the size: the sets of targets 41 to 56 shared a slot per node, and
    a search among them ran 4x slower than numba's Dict)."""
    last = keys.shape[0] - 1
    top = (np.uint64(key) * _FIBONACCI) >> np.uint64(32)
    at = np.int64((top * np.uint64(keys.shape[0])) >> np.uint64(32))  # top >> (32 - log2)
    while keys[at] != key and keys[at] != -1:
        at = (at + 1) & last
    return at


@njit
def _grown(keys, lengths):
    """The table twice as large, every entry moved to its new slot."""
    new_keys = np.full(2 * keys.shape[0], -1, np.int64)
    new_lengths = np.empty(2 * keys.shape[0])
    for j in range(keys.shape[0]):
        if keys[j] != -1:
            at = _slot(new_keys, keys[j])
            new_keys[at], new_lengths[at] = keys[j], lengths[j]
    return new_keys, new_lengths


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
def route_search_kernel(dist, source, L, weight, max_states, dp_targets, gap, max_work,
                        stack, best):
    """Depth-first branch and bound for ``max Σ_{v ∈ S} weight[v]`` over the feasible pull sets
    ``S`` (``|S| <= budget``, a closed walk from ``source`` of at most ``L`` moves visits
    ``S``). Resumable: it returns 0 once its checks have done ``max_work`` units of work (one
    per candidate, plus the search states and DP cells of the exact checks; the state is in
    ``stack``), 1 when the search is finished.

    ``stack`` = ``(cand (B+1, n), n_cand (B+1,), nxt (B+1,), chosen (B,), value (B+1,),
    depth (1,), tour (B+1, B), tour_k (B+1,), tour_len (B+1,), child (2,), spent (1,))``: at
    depth ``t`` the set is ``chosen[:t]`` of value ``value[t]``, visited in the order
    ``tour[t, :tour_k[t]]`` (a walk of ``tour_len[t] <= L``), and ``cand[t, :n_cand[t]]`` are
    its single additions that keep it feasible, by weight, highest first; ``nxt[t]`` the next
    to branch on. While the branch on ``cand[t, nxt[t]]`` is being built, ``child`` holds the
    next candidate to check and the count kept (``child[0] = -1`` otherwise); ``spent`` grows by
    the work each call does (it can pass ``max_work`` by one exact check). ``best`` =
    ``(value (1,), members (B,), count (1,), cut (1,))``, ``cut`` the highest bound of a branch
    cut within the gap.

    Branching on ``cand[t, i]`` excludes ``cand[t, :i]``; the bound of that branch
    (:func:`_branch_bound`) falls with ``i`` (the family is closed under removal, so additions
    infeasible now stay infeasible), and a branch within ``gap · max(1, |best|)`` of the best
    is cut (the weights alone: a constant added to the objective changes no cut). An addition
    whose cheapest insertion into the set's walk fits ``L`` needs no search."""
    cand, n_cand, nxt, chosen, value, depth, tour, tour_k, tour_len, child, spent = stack
    best_value, best_set, best_count, cut = best
    budget = chosen.shape[0]
    order = np.empty(budget, np.int64)
    work = np.zeros(1, np.int64)
    while depth[0] >= 0:
        t = depth[0]
        if child[0] >= 0:                        # building the branch on cand[t, nxt[t]]
            members = np.empty(t + 2, np.int64)
            copy_items(members, 0, chosen, t + 1)
            k = tour_k[t + 1]
            while child[0] < n_cand[t]:
                if work[0] >= max_work:
                    spent[0] += work[0]
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
            spent[0] += work[0]
            return 0
        room = budget - t
        i = nxt[t]
        if room == 0 or i >= n_cand[t]:
            depth[0] -= 1
            continue
        bound = _branch_bound(weight, cand, n_cand, value, t, i, room)
        if bound <= best_value[0] + gap * max(1.0, abs(best_value[0])):
            cut[0] = max(cut[0], bound)
            depth[0] -= 1                            # later branches bound lower still
            continue
        v = cand[t, i]
        chosen[t] = v
        val = value[t] + weight[v]
        if val > best_value[0]:
            best_value[0] = val
            copy_items(best_set, 0, chosen, t + 1)
            best_count[0] = t + 1
        if t + 1 == budget:
            nxt[t] += 1
            continue
        work[0] += 1
        k = tour_k[t]
        delta, at = _insertion(dist, source, tour[t], k, v)
        if v == source:
            copy_items(tour[t + 1], 0, tour[t], k)
        elif tour_len[t] + delta <= L:
            copy_items(tour[t + 1], 0, tour[t], at)
            tour[t + 1, at] = v
            copy_items(tour[t + 1], at + 1, tour[t, at:k], k - at)
            k += 1
        else:
            k = closed_walk_order(dist, source, L, chosen[:t + 1], max_states, dp_targets,
                                  tour[t + 1], work)
        tour_k[t + 1] = k
        tour_len[t + 1] = _walk_length(dist, source, tour[t + 1], k)
        child[0], child[1] = i + 1, 0
    spent[0] += work[0]
    return 1


# -- incumbent heuristic for route_search_kernel -------------------------------------------
# A walk is ``source, tour[:k], source`` along the shortest paths of ``pred`` (the waypoints
# ``tour`` are distinct nodes other than the source); every node it passes is visited, and its
# value is the sum of the ``budget`` highest positive weights visited (``rank``: the positive
# reachable nodes by weight, highest first). Its pull set (those nodes) is feasible whenever
# the walk is at most ``L``: the walk visits them all.

@njit
def _walk_marks(pred, dist, source, tour, k, mark, stamp):
    """``mark[v] = stamp`` for every node of the walk; returns its length."""
    prev = source
    mark[source] = stamp
    total = 0.0
    for p in range(k + 1):
        nxt = tour[p] if p < k else source
        total += dist[prev, nxt]
        v = nxt
        while v != prev:
            mark[v] = stamp
            v = pred[prev, v]
        prev = nxt
    return total


@njit
def _walk_value(pred, dist, source, weight, rank, budget, tour, k, mark, stamp):
    """(value, length) of the walk; its nodes are marked with the new ``stamp[0]``."""
    stamp[0] += 1
    length = _walk_marks(pred, dist, source, tour, k, mark, stamp[0])
    value, count = 0.0, 0
    for v in rank:
        if count == budget:
            break
        if mark[v] == stamp[0]:
            value += weight[v]
            count += 1
    return value, length


@njit
def _walk_fill(pred, dist, source, L, weight, rank, budget, tour, k, alpha, mark, stamp, buf,
               seen):
    """Greedy insertion: while some unvisited node fits (cheapest insertion) and raises the
    value, insert the one of the highest gain / max(added length, 1/2)^alpha. Returns
    (k, value, length); the walk's nodes stay marked."""
    value, length = _walk_value(pred, dist, source, weight, rank, budget, tour, k, mark, stamp)
    while True:
        now = stamp[0]
        for v in rank:
            seen[v] = mark[v] == now
        best_score, best_u, best_at = 0.0, -1, 0
        for u in rank:
            if seen[u]:
                continue
            delta, at = _insertion(dist, source, tour, k, u)
            if length + delta > L:
                continue
            copy_items(buf, 0, tour, at)
            buf[at] = u
            copy_items(buf, at + 1, tour[at:k], k - at)
            new = _walk_value(pred, dist, source, weight, rank, budget, buf, k + 1, mark,
                              stamp)[0]
            if new - value <= 1e-15:
                continue
            score = (new - value) / max(delta, 0.5) ** alpha
            if score > best_score:
                best_score, best_u, best_at = score, u, at
        if best_u < 0:
            break
        copy_items(tour, best_at + 1, tour[best_at:k].copy(), k - best_at)
        tour[best_at] = best_u
        k += 1
        value, length = _walk_value(pred, dist, source, weight, rank, budget, tour, k, mark,
                                    stamp)
    value, length = _walk_value(pred, dist, source, weight, rank, budget, tour, k, mark, stamp)
    return k, value, length


@njit
def _walk_shorten(pred, dist, source, weight, rank, budget, tour, k, value, length, mark,
                  stamp, buf):
    """2-opt (reverse ``tour[i:j+1]``) and or-opt (move one waypoint to its cheapest
    position) while the walk gets shorter at no loss of value (or gains value, no longer)."""
    improved = True
    while improved:
        improved = False
        for i in range(k - 1):
            for j in range(i + 1, k):
                copy_items(buf, 0, tour, k)
                copy_items(buf, i, tour[i:j + 1][::-1], j + 1 - i)
                new, short = _walk_value(pred, dist, source, weight, rank, budget, buf, k,
                                         mark, stamp)
                if ((short < length - 1e-9 and new >= value - 1e-15)
                        or (new > value + 1e-15 and short <= length)):
                    copy_items(tour, 0, buf, k)
                    value, length = new, short
                    improved = True
        for i in range(k):
            u = tour[i]
            copy_items(buf, 0, tour, i)
            copy_items(buf, i, tour[i + 1:k], k - 1 - i)
            at = _insertion(dist, source, buf, k - 1, u)[1]
            if at == i:
                continue
            copy_items(buf, at + 1, buf[at:k - 1].copy(), k - at - 1)
            buf[at] = u
            new, short = _walk_value(pred, dist, source, weight, rank, budget, buf, k, mark,
                                     stamp)
            if short < length - 1e-9 and new >= value - 1e-15:
                copy_items(tour, 0, buf, k)
                value, length = new, short
                improved = True
    return value, length


@njit
def _walk_prune(pred, dist, source, weight, rank, budget, tour, k, value, length, mark, stamp,
                buf):
    """Drop the waypoints whose removal loses no value (the room they free is refilled)."""
    i = 0
    while i < k:
        copy_items(buf, 0, tour, i)
        copy_items(buf, i, tour[i + 1:k], k - 1 - i)
        new, short = _walk_value(pred, dist, source, weight, rank, budget, buf, k - 1, mark,
                                 stamp)
        if new >= value - 1e-15 and short <= length:
            copy_items(tour, 0, buf, k - 1)
            k -= 1
            value, length = new, short
        else:
            i += 1
    return k, value, length


@njit
def _walk_pulls(pred, dist, source, weight, rank, budget, tour, k, mark, stamp, out):
    """The walk's pull set (its ``budget`` best positive nodes) in the order the walk first
    visits them (the source first if pulled), in ``out``; returns the count."""
    stamp[0] += 1
    _walk_marks(pred, dist, source, tour, k, mark, stamp[0])
    n = weight.shape[0]
    chosen = np.zeros(n, np.bool_)
    count = 0
    for v in rank:
        if count == budget:
            break
        if mark[v] == stamp[0]:
            chosen[v] = True
            count += 1
    m = 0
    if chosen[source]:
        out[m] = source
        m += 1
        chosen[source] = False
    path = np.empty(n, np.int64)
    prev = source
    for p in range(k + 1):
        nxt = tour[p] if p < k else source
        h = 0
        v = nxt
        while v != prev:
            path[h] = v
            h += 1
            v = pred[prev, v]
        for q in range(h - 1, -1, -1):
            if chosen[path[q]]:
                out[m] = path[q]
                m += 1
                chosen[path[q]] = False
        prev = nxt
    return m


@njit
def _walk_drops(pred, dist, source, L, weight, rank, budget, tour, k, value, length, alpha,
                mark, stamp, buf, seen, trial, max_drop):
    """Drop each run of 1..``max_drop`` consecutive waypoints and refill greedily; keep each
    improvement. Returns (k, value, length, improved)."""
    improved = False
    for r in range(1, max_drop + 1):
        i = 0
        while i + r <= k:
            copy_items(trial, 0, tour, i)
            copy_items(trial, i, tour[i + r:k], k - r - i)
            nk, new, short = _walk_fill(pred, dist, source, L, weight, rank, budget, trial,
                                        k - r, alpha, mark, stamp, buf, seen)
            if new > value + 1e-12:
                copy_items(tour, 0, trial, nk)
                k, value, length = nk, new, short
                improved = True
            i += 1
    return k, value, length, improved


@njit
def _walk_local(pred, dist, source, L, weight, rank, budget, tour, k, alpha, mark, stamp, buf,
                seen, trial, max_drop):
    """Fill, then local search to a local optimum: shorten, prune and refill, drop runs of
    waypoints (whole branches) and refill; then the same drops with the waypoints replaced by
    the pulled nodes in walk order (so a pulled node passed on the way can be dropped), and
    again from the start while that improves. Returns (k, value, length)."""
    k, value, length = _walk_fill(pred, dist, source, L, weight, rank, budget, tour, k, alpha,
                                  mark, stamp, buf, seen)
    outer = True
    while outer:
        improved = True
        while improved:
            value, length = _walk_shorten(pred, dist, source, weight, rank, budget, tour, k,
                                          value, length, mark, stamp, buf)
            k, value, length = _walk_prune(pred, dist, source, weight, rank, budget, tour, k,
                                           value, length, mark, stamp, buf)
            k, value, length = _walk_fill(pred, dist, source, L, weight, rank, budget, tour, k,
                                          alpha, mark, stamp, buf, seen)
            k, value, length, improved = _walk_drops(pred, dist, source, L, weight, rank,
                                                     budget, tour, k, value, length, alpha,
                                                     mark, stamp, buf, seen, trial, max_drop)
        k = _walk_pulls(pred, dist, source, weight, rank, budget, tour, k, mark, stamp, buf)
        if k > 0 and buf[0] == source:
            k -= 1
            copy_items(tour, 0, buf[1:k + 1], k)
        else:
            copy_items(tour, 0, buf, k)
        value, length = _walk_value(pred, dist, source, weight, rank, budget, tour, k, mark,
                                    stamp)
        k, value, length, outer = _walk_drops(pred, dist, source, L, weight, rank, budget, tour,
                                              k, value, length, alpha, mark, stamp, buf, seen,
                                              trial, max_drop)
    return k, value, length


@njit
def route_heuristic(dist, pred, source, L, weight, budget, alphas, n_starts, max_drop, n_kicks,
                    out):
    """A good feasible pull set for ``max Σ_{v ∈ S} weight[v]`` (as
    :func:`route_search_kernel`), by an orienteering heuristic on closed walks: for each
    ratio exponent ``alphas`` and each of the ``n_starts`` highest-weight reachable nodes, a
    walk through that node filled greedily and improved by :func:`_walk_local`; then
    ``n_kicks`` perturbations of the best walk (a random run of up to half its waypoints
    dropped, a random exponent; a fixed-seed generator), each improved the same way. Writes the
    set in ``out`` (visiting order) and returns its size; its value is at least 0 and the
    walk-order length of the set is at most ``L`` (the caller checks)."""
    n = weight.shape[0]
    pos = np.empty(n, np.int64)
    m = 0
    for v in range(n):
        if weight[v] > 0 and 2 * dist[source, v] <= L:
            pos[m] = v
            m += 1
    if m == 0 or budget == 0:
        return 0
    rank = pos[:m][stable_order(-weight[pos[:m]])]
    mark = np.zeros(n, np.int64)
    stamp = np.zeros(1, np.int64)
    tour = np.empty(n + 1, np.int64)
    best_tour = np.empty(n + 1, np.int64)
    buf = np.empty(n + 1, np.int64)
    trial = np.empty(n + 1, np.int64)
    seen = np.zeros(n, np.bool_)
    best_value, best_k = -1.0, np.int64(0)     # not literal: one _walk_pulls to compile
    for alpha in alphas:
        for s in range(min(n_starts, m)):
            k = 0
            if rank[s] != source:
                tour[0] = rank[s]
                k = 1
            k, value, _ = _walk_local(pred, dist, source, L, weight, rank, budget, tour, k,
                                      alpha, mark, stamp, buf, seen, trial, max_drop)
            if value > best_value + 1e-12:
                best_value, best_k = value, k
                copy_items(best_tour, 0, tour, k)
    state = np.uint64(0x9E3779B97F4A7C15)
    for _ in range(n_kicks):
        k = best_k
        copy_items(tour, 0, best_tour, k)
        for _ in range(3):                       # xorshift64
            state ^= state << np.uint64(13)
            state ^= state >> np.uint64(7)
            state ^= state << np.uint64(17)
        draw = np.int64(state >> np.uint64(11))
        if k > 0:
            r = 1 + draw % max(1, k // 2)
            i = (draw >> 20) % (k - r + 1)
            copy_items(tour, i, tour[i + r:k].copy(), k - r - i)
            k -= r
        alpha = alphas[(draw >> 40) % alphas.shape[0]]
        k, value, _ = _walk_local(pred, dist, source, L, weight, rank, budget, tour, k, alpha,
                                  mark, stamp, buf, seen, trial, max_drop)
        if value > best_value + 1e-12:
            best_value, best_k = value, k
            copy_items(best_tour, 0, tour, k)
    return _walk_pulls(pred, dist, source, weight, rank, budget, best_tour, best_k, mark, stamp,
                       out)
