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
def closed_walk_kernel(d, L, max_states, order):
    """Depth-first search for a visiting order of the targets ``1..k`` of the metric ``d``
    ((k+1, k+1), index 0 the source) whose closed walk is at most ``L``, nearest target first.
    A memo of the shortest length reaching each (visited set, node) state (up to
    ``MEMO_TARGETS`` targets) cuts repeated states. Returns 1 (the order in ``order[:k]``), 0
    (none exists) or -1 (more than ``max_states`` states stored: undecided)."""
    k = d.shape[0] - 1
    memo_on = k <= MEMO_TARGETS
    memo = Dict.empty(key_type=types.int64, value_type=types.float64)
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
