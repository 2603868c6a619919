"""Routing on a graph (coRMAB domain 4, Xu et al. 2025 §5).

Arms are the nodes of an undirected graph. Each period a route leaves ``source`` and returns
to it in at most ``route_length = L`` moves (default ``L = 2 · budget``; a closed walk of length
``<= L``, edges may be reused); at most ``budget`` nodes on the
route are pulled, and a node can be pulled only if the route visits it. The action vector is
the per-node pull vector (n_arms,). It is feasible iff at most ``budget`` nodes are pulled and
the shortest closed walk from ``source`` through all of them has length ``<= L`` (decided
exactly by a compiled depth-first search over visiting orders on shortest-path distances, with a
memo of (visited set, node) states; past 200 000 states a compiled Held-Karp DP over the pulled
nodes decides, for up to 20 of them; beyond 20 the search goes on, with no bound on its time).

MILP, two exact formulations (``PathDomain._build_block``):

- *route sets* (used when there are at most ``_MAX_ROUTE_SETS`` feasible pull sets, as in
  every J = 20, B = 5 :func:`make_path` instance measured: 1 000-2 400): the maximal feasible
  pull sets ``S_1..S_K`` are enumerated level by level (:func:`_route_sets`);
  ``x_k ∈ [0, 1]``, ``Σ_k x_k <= 1``, ``pull_v <= Σ_{k: v ∈ S_k} x_k``. Its LP relaxation is
  the convex hull of the feasible pull vectors (``block.index["route_sets"]``: the sets as a
  bool (K, n_arms) array).
- *time-expanded walk* (the fallback, any size): binary ``y[t, v]`` (the walk is at ``v``
  after ``t`` moves, ``t = 0..L``), created only where ``dist(source, v) <= min(t, L - t)``;
  ``Σ_v y[t, v] = 1``; moves ``m[t, u, v] ∈ [0, 1]`` along edges (both directions) and, at
  the source only, stays (a shorter walk waits there at the end), with
  ``Σ_v m[t, u, v] = y[t, u]`` and ``Σ_u m[t, u, v] = y[t+1, v]`` (integral because ``y`` is
  one-hot); ``y[0, source] = y[L, source] = 1``; ``pull_v <= Σ_t y[t, v]``;
  ``Σ_v pull_v <= budget``. ``L`` is capped at ``2 (r − 1)`` for ``r`` nodes reachable (a
  depth-first tour visits them all), which allows the same pull sets with fewer columns.

Linear objectives on the pulls (the myopic and index planners' one-step problem) are solved by
:class:`RouteSearch`, an exact branch and bound over pull sets with the same feasibility checks
(:meth:`PathDomain.linear_model`), not by the MILP: the walk MILP took 2-42 s per solve at
J = 40, B = 10, the search takes milliseconds. The block serves the network objectives of
SEQUOIA.
"""

from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from rmab._validation import as_float_array, as_generator, check_number
from rmab.domains._kernels import (_walk_length, closed_walk_order, open_bound,
                                   route_heuristic, route_search_kernel)
from rmab.domains.arm import BaseArms, paper_rewards, pull_probabilities
from rmab.domains.base import ConstraintBlock, Domain, build_block, check_budget
from rmab.domains.graphs import check_edges, read_edge_list, sparse_connected_graph
from rmab.errors import InvalidModelError, InvalidParameterError, RmabWarning

__all__ = ["PathDomain", "RouteSearch", "make_path", "path_from_csv"]


@dataclass(frozen=True, eq=False, repr=False)   # Domain's short repr
class PathDomain(Domain):
    """Closed routes from ``source`` of at most ``route_length`` moves; action = pulls."""

    arms: BaseArms
    budget: int
    edges: np.ndarray
    source: int
    route_length: int

    kind: ClassVar[str] = "path"
    # the route checks of a refill took 14-61 s at J = 100 (a review), and the MILP's rows
    # are integral, so its actions need no repair
    refill_on_repair: ClassVar[bool] = False

    @property
    def action_size(self) -> int:
        return self.n_arms

    @classmethod
    def from_arrays(cls, *, up_prob, rewards, edges, budget, source=0, route_length=None
                    ) -> "PathDomain":
        """``edges`` (n_edges, 2) node indices (undirected); ``route_length`` defaults to
        ``2 · budget``. Warns of nodes no route can visit."""
        domain = cls._checked(up_prob, rewards, edges, budget, source, route_length)
        domain._warn_unreachable(stacklevel=3)
        return domain

    @classmethod
    def _checked(cls, up_prob, rewards, edges, budget, source, route_length) -> "PathDomain":
        """:meth:`from_arrays` without its warnings (the paper's generator, which is silent)."""
        owner = cls.__name__
        arms = BaseArms(up_prob, rewards)
        if arms.n_levels != 2:
            raise InvalidModelError(f"{owner}.up_prob: must have shape (n_arms, 2) (passive, "
                                    f"pulled); got {arms.up_prob.shape}")
        e = check_edges(owner, edges, arms.n_arms)
        budget = check_budget(owner, budget)
        source, route_length = _check_route(owner, arms.n_arms, source, route_length)
        if route_length is None:
            route_length = 2 * budget
        return cls(arms, budget, e, source, route_length)

    def _warn_unreachable(self, stacklevel: int) -> None:
        """Warn (``stacklevel`` from here: the caller's line) of the nodes not connected to the
        source, a data error more often than not, and of those farther than ``route_length /
        2`` moves from it (a route goes out and back)."""
        owner, n, source = type(self).__name__, self.n_arms, self.source
        dist = self.distances[source]
        cut = np.flatnonzero(np.isinf(dist))
        if cut.size:
            # an edge list numbered from 1 leaves the default source 0 in no edge (a walkthrough)
            alone = "" if (self.edges == source).any() else (
                f"; the source {source} is in no edge" + (
                    " (nodes count from 0: is the edge list numbered from 1?)"
                    if source == 0 and self.edges.size and self.edges.min() == 1 else ""))
            warnings.warn(f"{owner}: {cut.size} of {n} nodes {'is' if cut.size == 1 else 'are'}"
                          f" not connected to the source {source} and can never be visited: "
                          f"{cut[:10].tolist()}"
                          f"{' ...' if cut.size > 10 else ''}{alone}", RmabWarning,
                          stacklevel=stacklevel)
        far = np.flatnonzero(np.isfinite(dist) & (2 * dist > self.route_length))
        if far.size:
            warnings.warn(f"{owner}: {far.size} of {n} nodes {'is' if far.size == 1 else 'are'}"
                          f" farther than route_length/2 = {self.route_length / 2:g} moves from "
                          f"the source {source} (a route "
                          f"returns to it) and can never be pulled: {far[:10].tolist()}"
                          f"{' ...' if far.size > 10 else ''}; route_length >= "
                          f"{int(2 * dist[far].max())} reaches them all", RmabWarning,
                          stacklevel=stacklevel)

    def to_arrays(self) -> dict:
        return {"up_prob": self.arms.up_prob, "rewards": self.arms.rewards, "edges": self.edges,
                "budget": self.budget, "source": self.source,
                "route_length": self.route_length}

    def to_networkx(self):
        """The graph as a :class:`networkx.Graph` (nodes ``0..n_arms-1``)."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n_arms))
        g.add_edges_from(self.edges.tolist())
        return g

    # -- graph helpers -------------------------------------------------------------------
    def _graph(self):
        """(adjacency CSR, distances (n, n) with inf, predecessors) — cached."""
        cached = self.__dict__.get("_graph_cache")
        if cached is None:
            n = self.n_arms
            e = self.edges
            adj = sp.csr_matrix((np.ones(2 * len(e)), (np.r_[e[:, 0], e[:, 1]],
                                                       np.r_[e[:, 1], e[:, 0]])), shape=(n, n))
            dist, pred = shortest_path(adj, unweighted=True, directed=False,
                                       return_predecessors=True)
            dist.setflags(write=False)                 # handed out by ``distances``
            pred.setflags(write=False)
            cached = (adj, dist, pred)
            object.__setattr__(self, "_graph_cache", cached)
        return cached

    @property
    def moves(self) -> int:
        """``route_length`` capped at ``2 (r - 1)``, ``r`` the nodes reachable from the source:
        a depth-first tour visits them all in that many moves, so a longer route allows no
        more pull sets (only more work)."""
        reachable = int(np.isfinite(self._graph()[1][self.source]).sum())
        return min(self.route_length, 2 * (reachable - 1))

    @property
    def unreachable(self) -> np.ndarray:
        """Indices of the nodes no route visits (never pulled): not connected to the source, or
        farther from it than ``route_length / 2`` moves (``from_arrays`` warns of both)."""
        return np.flatnonzero(~(2 * self.distances[self.source] <= self.route_length))

    @property
    def distances(self) -> np.ndarray:
        """Shortest-path hop counts (n_arms, n_arms), ``inf`` between components."""
        return self._graph()[1]

    def _order(self, pulled: np.ndarray) -> list | None:
        """A visiting order of ``pulled`` whose closed walk from the source fits ``L``, or
        ``None`` (:func:`~rmab.domains._kernels.closed_walk_order`)."""
        route = np.empty(len(pulled), dtype=np.int64)
        k = closed_walk_order(self.distances, self.source, float(self.route_length),
                              np.asarray(pulled, dtype=np.int64), _SEARCH_STATES,
                              _HELD_KARP_MAX, route, np.zeros(1, dtype=np.int64))
        return None if k < 0 else route[:k].tolist()

    def route(self, action) -> list:
        """A closed walk ``[source, ..., source]`` (at most ``route_length`` moves) visiting
        every pulled node of a feasible action; :class:`InfeasibleActionError` otherwise."""
        a = self.check_action(action)
        pred = self._graph()[2]
        walk = [self.source]
        for v in self._order(np.flatnonzero(a)) + [self.source]:
            hop, back = v, []
            while hop != walk[-1]:
                back.append(int(hop))
                hop = pred[walk[-1], hop]
            walk.extend(reversed(back))
        return walk

    # -- actions -------------------------------------------------------------------------
    def _arm_levels(self, action):
        return action

    def _violation(self, action):
        pulled = np.flatnonzero(action)
        if pulled.size > self.budget:
            return f"must pull at most budget={self.budget} nodes; got {pulled.size}"
        far = pulled[2 * self.distances[self.source, pulled] > self.route_length]
        if far.size:
            return (f"route length violated: node {int(far[0])} is farther than route_length/2 "
                    f"= {self.route_length / 2:g} moves from the source {self.source}")
        if self._order(pulled) is None:
            return (f"route length violated: no closed walk from source {self.source} of at "
                    f"most route_length={self.route_length} moves visits all pulled nodes "
                    f"{pulled.tolist()}")
        return None

    def _sample_action(self, rng):
        """A random closed walk of at most :attr:`moves` moves (each to a uniform neighbour
        from which the source is still reachable in time), then ``min(budget, visited)`` of
        its nodes at random."""
        adj, dist, _ = self._graph()
        cur, visited = self.source, {self.source}
        moves = self.moves
        for t in range(moves):
            left = moves - t - 1
            nbrs = adj.indices[adj.indptr[cur]:adj.indptr[cur + 1]]
            nbrs = nbrs[dist[nbrs, self.source] <= left]
            if nbrs.size == 0:
                break
            cur = int(rng.choice(nbrs))
            visited.add(cur)
        visited = np.array(sorted(visited))
        a = np.zeros(self.n_arms, dtype=np.int64)
        a[rng.choice(visited, min(self.budget, visited.size), replace=False)] = 1
        return a

    def _list_actions(self) -> np.ndarray | None:
        """The subsets of the maximal route sets when the route-set formulation applies (at
        most ``_MAX_ROUTE_SETS`` feasible sets, e.g. 1 000-2 400 at J = 20, B = 5); otherwise
        as :meth:`Domain._list_actions`."""
        sets = self.constraint_block().index.get("route_sets")
        if sets is None:
            return super()._list_actions()
        rows = [np.zeros((1, self.n_arms), dtype=bool)]
        for k in np.unique(sets.sum(axis=1)):
            nodes = np.nonzero(sets[sets.sum(axis=1) == k])[1].reshape(-1, k)   # (m, k)
            pick = np.array(list(itertools.product((False, True), repeat=int(k))))
            sub = np.zeros((len(nodes), len(pick), self.n_arms), dtype=bool)
            sub[np.arange(len(nodes))[:, None, None], np.arange(len(pick))[None, :, None],
                nodes[:, None, :]] = pick[None]
            rows.append(sub.reshape(-1, self.n_arms))
        return np.unique(np.vstack(rows), axis=0).astype(np.int64)

    # -- MILP ----------------------------------------------------------------------------
    def linear_model(self, backend, milp=None):
        """:class:`RouteSearch` up to 20 pulls (``_HELD_KARP_MAX``, where every check it makes
        is bounded), else the block's LP-first model. The walk MILP took 2-42 s per one-step
        solve at J = 40, B = 10 (the search: 1-6 ms); at J = 20, B = 5 the route sets' LP took
        4-13 ms per myopic step (the search: 0.4-0.5 ms, the same actions in 5 000 steps of
        myopic, Whittle and Lagrangian planning)."""
        if self.budget > _HELD_KARP_MAX:
            return self._linear_block_model(backend, milp)
        return RouteSearch(self, backend, milp)

    def _linear_block_model(self, backend, milp=None):
        return super().linear_model(backend, milp)

    def block_solution(self, action) -> np.ndarray | None:
        """A route set holding the pulls, or the time-expanded walk of :meth:`route` (``None``
        if that walk is longer than :attr:`moves`)."""
        block = self.constraint_block()
        if "route_sets" in block.index:
            a = self.check_action(action)
            holds = ~(a.astype(bool) & ~block.index["route_sets"]).any(axis=1)
            x = np.zeros(block.n_vars)
            x[:a.size] = a
            if holds.any():                  # else no set (budget 0): the null action, no route
                x[block.index["route"][np.argmax(holds)]] = 1.0
            return x
        a = self._as_binary(type(self).__name__, action)
        walk = self.route(a)                                   # checks the action too
        x = np.zeros(block.n_vars)
        x[:a.size] = a
        pos, arcs = block.index["position"], block.index["move_arcs"]
        walk += [self.source] * (pos.shape[0] - len(walk))           # stay at the source
        if len(walk) > pos.shape[0]:
            return None
        x[pos[np.arange(len(walk)), walk]] = 1.0
        n = self.n_arms
        keys = (arcs[:, 0] * n + arcs[:, 1]) * n + arcs[:, 2]
        order = np.argsort(keys)
        w = np.asarray(walk)
        steps = (np.arange(w.size - 1) * n + w[:-1]) * n + w[1:]
        x[block.index["move"][order[np.searchsorted(keys, steps, sorter=order)]]] = 1.0
        return x

    def _build_block(self) -> ConstraintBlock:
        """Route-set formulation (exact and tight), else the time-expanded walk.

        With ``S_1..S_K`` the maximal feasible pull sets (:func:`_route_sets`): ``x_k ∈ [0, 1]``
        (route ``k`` is driven), ``Σ_k x_k <= 1`` and ``pull_v <= Σ_{k: v ∈ S_k} x_k`` (a node
        in no set gets ``pull_v <= 0``). A binary pull vector extends iff it is a subset of some
        ``S_k`` (every ``x_k > 0`` must hold all pulled nodes), i.e. iff it is feasible (the
        family is closed under removal), so ``x`` needs no integrality; declaring it binary
        made HiGHS 2.5-5x slower at J = 20. The LP relaxation is the convex hull of the
        feasible pull vectors (linear objectives are solved as LPs, see
        :class:`~rmab.domains.base.LinearBlockModel`). Falls back to
        :meth:`_walk_block` when there are more than ``_MAX_ROUTE_SETS`` feasible sets.
        """
        sets = _route_sets(self.distances, self.source, self.route_length, self.budget)
        if sets is None:
            return self._walk_block()
        n, K = self.n_arms, sets.shape[0]
        x = n + np.arange(K)
        rows = [(x, np.ones(K), -np.inf, 1.0)]
        for v in range(n):
            on = x[sets[:, v]]
            rows.append((np.r_[v, on], np.r_[1.0, -np.ones(on.size)], -np.inf, 0.0))
        integrality = np.zeros(n + K, bool)
        integrality[:n] = True
        return build_block(n + K, rows, integrality, np.ones(n + K), n,
                           pull_vars=np.arange(n, dtype=np.int64),
                           index={"route": x, "route_sets": sets})

    def _walk_block(self) -> ConstraintBlock:
        """Time-expanded closed walk (see the module docstring); no enumeration, size
        ``O(L · n_edges)``."""
        n, src = self.n_arms, self.source
        dist = self.distances[src]
        L = self.moves           # a longer L: only more columns (29 000 at J = 40, L = 200)
        steps = np.arange(L + 1)
        ok = dist[None, :] <= np.minimum(steps, L - steps)[:, None]        # (L+1, n)
        pos = np.full((L + 1, n), -1, dtype=np.int64)
        pos[ok] = n + np.arange(ok.sum())
        e = self.edges
        arcs = np.vstack([e, e[:, ::-1], [[src, src]]])              # stays only at the source
        moves = []                                                        # (t, u, v)
        for t in range(L):
            live = ok[t, arcs[:, 0]] & ok[t + 1, arcs[:, 1]]
            moves.append(np.column_stack([np.full(live.sum(), t), arcs[live]]))
        moves = np.vstack(moves) if moves else np.zeros((0, 3), dtype=np.int64)
        m0 = n + int(ok.sum())
        mv = m0 + np.arange(len(moves))
        rows = []
        for t in range(L + 1):
            rows.append((pos[t, ok[t]], np.ones(ok[t].sum()), 1.0, 1.0))
        for t in range(L):
            at_t = moves[:, 0] == t
            for u in np.flatnonzero(ok[t]):
                sel = at_t & (moves[:, 1] == u)
                rows.append((np.r_[mv[sel], pos[t, u]], np.r_[np.ones(sel.sum()), -1.0], 0, 0))
            for v in np.flatnonzero(ok[t + 1]):
                sel = at_t & (moves[:, 2] == v)
                rows.append((np.r_[mv[sel], pos[t + 1, v]], np.r_[np.ones(sel.sum()), -1.0],
                             0, 0))
        for v in range(n):
            ys = pos[ok[:, v], v]
            rows.append((np.r_[v, ys], np.r_[1.0, -np.ones(ys.size)], -np.inf, 0.0))
        rows.append((np.arange(n), np.ones(n), -np.inf, float(self.budget)))
        n_vars = m0 + len(moves)
        integrality = np.zeros(n_vars, bool)
        integrality[:m0] = True
        return build_block(n_vars, rows, integrality, np.ones(n_vars), n,
                           pull_vars=np.arange(n, dtype=np.int64),
                           index={"position": pos, "move": mv, "move_arcs": moves})


class RouteSearch:
    """Exact maximisation of a linear objective on the pulls of a :class:`PathDomain`: a
    compiled depth-first branch and bound over pull sets
    (:func:`~rmab.domains._kernels.route_search_kernel`). Nodes of positive weight are added
    highest first; every branch keeps the single additions that stay feasible (exact closed-walk
    checks), and its bound is its value plus the best weights it can still add.

    Once the search has done ``_HEURISTIC_AFTER`` units of work unfinished (10-15 ms at
    J = 100; not past a time limit),
    :func:`~rmab.domains._kernels.route_heuristic` gives it an incumbent (kept if better and if
    its walk fits the route): walks through the best ``budget`` nodes they pass, built by
    greedy insertion (gain / added length^a, a in 0, 0.5, 1, 2, from each of the 3 best
    nodes), improved by 2-opt and or-opt, by dropping runs of 1-2 waypoints and refilling,
    and by 10 perturbations of the best walk. At J = 100, B = 20 (nine myopic objectives) it
    took 17-90 ms and found the optimum in 7 of the 8 whose optimum is known, 0.4 % short in
    the eighth; in the ninth it found a set 6 % better than the search alone held after 120 s.
    The search's best set when it ran had 0.69-0.99 of its value, and 120 s of search alone
    had 0.84 of the optimum in one case. The higher incumbent also cuts more: 6 of the 9 were
    proved within 5 s (0.2-3.2 s; alone 1.0-93 s, one unproved after 120 s), two more in 11
    and 27 s (alone 10 and 37 s). At J = 20, B = 5 the search finishes first (200 of 200
    solves measured), so nothing changes there.

    The bound ignores the route length, so where it binds and many weights are equal (a star
    of identical arms) the search can take exponential time. So it takes turns: the search
    for ``_SEARCH_SECONDS`` (1 s); then, once, the subtour LP (:func:`_subtour_bound`, 0.6-1.7 s
    at J = 100, at most ``_LP_SECONDS``; not built beyond about J = 150, where the block's
    MILP takes this turn instead); then the search and the block's MILP
    (:class:`~rmab.domains.base.LinearBlockModel` on ``milp`` if given -- the block's with
    valid rows added -- built at its first turn), each for twice as long as the turn before
    (the search resumes where it stopped; the MILP starts again). The solve ends when the
    best set is within the gap of the lowest bound known (checked after every turn) or the
    search or the MILP proves its set; the better set and the lowest bound are kept. At
    J = 100, B = 20 the LP's bound was 0.4-3.1 % above the best set found within 10 s, where
    the search's was 31-34 % above (Whittle objectives; ``benchmarks/bench_path_block.py
    --lp``).

    The same interface as :class:`~rmab.domains.base.LinearBlockModel` (what
    :meth:`PathDomain.linear_model` returns): ``set_objective(c, offset)`` with ``c`` over the
    block's variables, zero outside the pulls; ``solve`` returns a :class:`~solvers.MIPResult`
    whose ``x`` is the pull vector and ``backend`` ``"route-search"``. On ``time_limit`` it
    returns the best set found (``TIME_LIMIT``) with a bound; the clock is read between
    compiled calls of about 5-20 ms (a single check of 20 pulled nodes can take 0.4 s). The
    first solve on a machine compiles the kernels (about 15 s; cached on disk).
    """

    def __init__(self, domain: "PathDomain", backend, milp=None):
        self.domain = domain
        self._backend = backend
        self._block_milp = milp        # the MILP to fall back on (None: the block's)
        self._block = domain.constraint_block()
        self._milp = None
        self._c = np.zeros(self._block.n_vars)
        self._weight = np.zeros(domain.n_arms)
        self._offset = 0.0

    def set_objective(self, c, offset: float = 0.0) -> None:
        owner = "RouteSearch.set_objective"
        c = as_float_array(owner, "c", c, error=InvalidParameterError)
        offset = check_number(owner, "offset", offset)
        n_vars = self._block.n_vars
        if c.shape != (n_vars,):
            raise InvalidParameterError(f"RouteSearch.set_objective.c: must have shape "
                                        f"({n_vars},); got {c.shape}")
        rest = np.ones(n_vars, bool)
        rest[self._block.pull_vars] = False
        if (c[rest] != 0).any() or not np.isfinite(c).all():
            raise InvalidParameterError("RouteSearch.set_objective.c: must be finite and zero "
                                        "outside the pull variables")
        self._c = c.copy()
        self._weight = c[self._block.pull_vars]
        self._offset = offset

    def solve(self, *, time_limit: float | None = None, mip_gap: float = 1e-6,
              threads: int = 1):
        """The best pull set (the search is one thread; ``threads`` goes to the MILP)."""
        from solvers.result import MIPResult, TerminationStatus, relative_gap

        owner = "RouteSearch.solve"
        if time_limit is not None:
            time_limit = check_number(owner, "time_limit", time_limit, low=0.0, low_open=True)
        mip_gap = check_number(owner, "mip_gap", mip_gap, low=0.0, high=1.0, high_open=True)
        threads = check_number(owner, "threads", threads, low=1, integer=True)
        start = time.perf_counter()
        # the search, its bounds and the gap are on the weights alone (the offset is added
        # at the end): with the offset in the gap, rewards of 1e5 cut branches worth a node
        search = _BranchAndBound(self.domain, self._weight, mip_gap)
        x, bound, done = search.x, np.inf, False

        def proven() -> bool:       # the best set within the gap of the lowest bound known
            value = float(self._weight @ x)
            return value >= min(bound, search.bound) - mip_gap * max(1.0, abs(value))

        turn = _SEARCH_SECONDS
        while not done:
            left = np.inf if time_limit is None else time_limit - (time.perf_counter() - start)
            if left <= 0:
                break
            done = search.run(min(turn, left))
            if done or self._weight @ search.x > self._weight @ x:
                x = search.x
            done = done or proven()
            left = np.inf if time_limit is None else time_limit - (time.perf_counter() - start)
            if done or left <= 0:
                break
            if turn == _SEARCH_SECONDS:      # the LP bound takes the MILP's first turn
                lp = _subtour_bound(self.domain, self._weight, self._backend,
                                   min(_LP_SECONDS, left))
                if np.isfinite(lp):          # else (too large, or out of time) the MILP's turn
                    bound = min(bound, lp)
                    done = proven()
                    turn *= 2
                    continue
                left = np.inf if time_limit is None else time_limit - (time.perf_counter() - start)
                if left <= 0:
                    break
            if self._milp is None:
                self._milp = self.domain._linear_block_model(self._backend, self._block_milp)
            self._milp.set_objective(self._c, 0.0)
            res = self._milp.solve(time_limit=min(turn, left), mip_gap=mip_gap, threads=threads)
            if res.x is not None and res.objective > self._weight @ x:
                x = self._block.action_from_solution(res.x).astype(np.float64)
            if np.isfinite(res.bound):
                bound = min(bound, res.bound)
            done = res.is_optimal or proven()
            turn *= 2
        value = float(self._weight @ x)
        objective = value + self._offset
        bound = max(min(bound, search.bound), value) + self._offset
        status = TerminationStatus.OPTIMAL if done else TerminationStatus.TIME_LIMIT
        return MIPResult(status, x, objective, bound, relative_gap(objective, bound),
                         time.perf_counter() - start, "route-search")


class _BranchAndBound:
    """The state of :func:`~rmab.domains._kernels.route_search_kernel` on one objective:
    ``run(seconds)`` goes on for at most about that long; ``x`` the best pull vector so far,
    ``bound`` a bound on the optimum, ``done`` whether it is proven."""

    def __init__(self, d: "PathDomain", weight: np.ndarray, gap: float):
        self.d, self.weight, self.gap = d, weight, float(gap)
        n = d.n_arms
        self.budget = budget = min(d.budget, n)
        reach = 2 * d.distances[d.source] <= d.route_length          # {v} is feasible
        first = np.flatnonzero((weight > 0) & reach)
        first = first[np.argsort(-weight[first], kind="stable")]
        cand = np.zeros((budget + 1, n), dtype=np.int64)
        cand[0, :first.size] = first
        n_cand = np.zeros(budget + 1, dtype=np.int64)
        n_cand[0] = first.size
        self.stack = (cand, n_cand, np.zeros(budget + 1, dtype=np.int64),
                      np.zeros(max(budget, 1), dtype=np.int64), np.zeros(budget + 1),
                      np.zeros(1, dtype=np.int64),
                      np.zeros((budget + 1, max(budget, 1)), dtype=np.int64),
                      np.zeros(budget + 1, dtype=np.int64), np.zeros(budget + 1),
                      np.array([-1, 0], dtype=np.int64), np.zeros(1, dtype=np.int64))
        self.best = (np.zeros(1), np.zeros(max(budget, 1), dtype=np.int64),
                     np.zeros(1, dtype=np.int64), np.full(1, -np.inf))
        self.done = budget == 0
        self.work = _SEARCH_WORK
        self.seeded = self.done or first.size == 0

    def run(self, seconds: float) -> bool:
        start = time.perf_counter()
        d = self.d
        while not self.done:
            if not self.seeded and self.stack[10][0] >= _HEURISTIC_AFTER:
                self.seed()
            call = time.perf_counter()
            work = self.work if self.seeded else _SEARCH_WORK    # same point on any machine
            self.done = bool(route_search_kernel(
                d.distances, d.source, float(d.route_length), self.weight, _SEARCH_STATES,
                _HELD_KARP_MAX, self.gap, work, self.stack, self.best))
            now = time.perf_counter()
            if now - start >= seconds:         # no heuristic past the limit: 1.6 s at J = 400
                break
            if work != self.work:               # a fixed call before the heuristic
                continue
            if now - call < 0.005:             # about 5-20 ms per call between clock reads
                self.work = min(2 * self.work, 1 << 40)
            elif now - call > 0.02:
                self.work = max(self.work // 2, 1)
        return self.done

    def seed(self) -> None:
        """Make :func:`~rmab.domains._kernels.route_heuristic`'s set the incumbent if it is
        better (the search then cuts against it); its feasibility is checked here: the walk
        through it in the order returned fits the route."""
        self.seeded = True
        d = self.d
        out = np.empty(d.n_arms, dtype=np.int64)
        count = route_heuristic(d.distances, d._graph()[2], d.source, float(d.route_length),
                                self.weight, self.budget, _HEURISTIC_ALPHAS, _HEURISTIC_STARTS,
                                _HEURISTIC_DROP, _HEURISTIC_KICKS, out)
        members = out[:count]
        tour = members[members != d.source]
        value = float(self.weight[members].sum())
        if (count <= self.budget and value > self.best[0][0]
                and _walk_length(d.distances, d.source, tour, tour.size) <= d.route_length):
            self.best[0][0] = value
            self.best[1][:count] = members
            self.best[2][0] = count

    @property
    def x(self) -> np.ndarray:
        x = np.zeros(self.d.n_arms)
        x[self.best[1][:self.best[2][0]]] = 1.0
        return x

    @property
    def bound(self) -> float:
        bound = max(self.best[0][0], self.best[3][0])
        if not self.done:
            cand, n_cand, nxt, _, value, depth = self.stack[:6]
            bound = max(bound, open_bound(self.weight, cand, n_cand, nxt, value, depth,
                                          self.budget))
        return bound


def _subtour_bound(domain: "PathDomain", weight: np.ndarray, backend,
                  time_limit: float | None = None) -> float:
    """An upper bound on ``max Σ_{v ∈ S} weight[v]`` over the feasible pull sets ``S``: the LP
    of closed walks with generalised subtour cuts. Edge traversals ``x_e ∈ [0, 2]`` with
    ``Σ x_e <= route_length``, pulls ``y_v ∈ [0, 1]`` with ``Σ y_v <= budget``, and for every
    node ``v`` of positive weight within reach a flow of ``2 y_v`` from the source to ``v`` with
    ``f_uw + f_wu <= x_e`` on each edge -- by max-flow/min-cut, every cut between the source and
    ``v`` is crossed at least ``2 y_v`` times, as a closed walk through ``v`` crosses it. A
    closed walk never needs an edge more than twice. The weights are scaled to a largest of 1
    for the solver (HiGHS reads costs below ~1e-7 as 0), and the bound is raised by the LP's
    tolerance (1e-7 per pull). At J = 100, B = 20 it was at most 3.7 % above the best set found
    (myopic and Whittle objectives) and took 0.6-1.7 s; it grows with the number of candidate
    nodes times edges, so beyond ``_LP_MAX_FLOWS`` (about J = 150) it is not built. ``inf``
    then, or if the LP does not finish within ``time_limit`` (building included)."""
    from solvers.milp import MILP

    start = time.perf_counter()
    d = domain
    n, s, edges = d.n_arms, d.source, d.edges
    m = edges.shape[0]
    reach = 2 * d.distances[s] <= d.route_length
    useful = (weight > 0) & reach
    if not useful.any():
        return 0.0
    scale = float(weight[useful].max())
    cand = np.flatnonzero(useful & (np.arange(n) != s))
    K, A2 = cand.size, 2 * m
    if K * m > _LP_MAX_FLOWS:
        return np.inf
    tail = np.concatenate([edges[:, 0], edges[:, 1]])      # arc a: edge a % m, both ways
    head = np.concatenate([edges[:, 1], edges[:, 0]])
    n_cols = n + m + K * A2
    k = np.repeat(np.arange(K), A2)
    a = np.tile(np.arange(A2), K)
    f = n + m + k * A2 + a                                  # flow columns
    flow = 2 + k * n                                        # first conservation row of k
    cap = 2 + K * n + k * m + a % m                         # capacity row of (k, edge)
    ks = np.arange(K)
    rows = np.concatenate([np.zeros(m, np.int64), np.ones(n, np.int64), flow + tail[a],
                           flow + head[a], 2 + ks * n + s, 2 + ks * n + cand, cap,
                           2 + K * n + np.arange(K * m)])
    cols = np.concatenate([n + np.arange(m), np.arange(n), f, f, cand, cand, f,
                           n + np.tile(np.arange(m), K)])
    vals = np.concatenate([np.ones(m + n), np.ones(f.size), -np.ones(f.size), -2 * np.ones(K),
                           2 * np.ones(K), np.ones(f.size), -np.ones(K * m)])
    n_rows = 2 + K * n + K * m
    A = sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))
    row_lower = np.concatenate([[-np.inf, -np.inf], np.zeros(K * n), np.full(K * m, -np.inf)])
    pulls = min(d.budget, K + 1)
    row_upper = np.concatenate([[min(d.route_length, 2 * m), pulls], np.zeros(K * n + K * m)])
    col_upper = np.concatenate([useful.astype(float), np.full(m + K * A2, 2.0)])
    c = np.concatenate([np.where(useful, weight / scale, 0.0), np.zeros(m + K * A2)])
    lp = MILP(c, A, row_lower, row_upper, np.zeros(n_cols), col_upper, np.zeros(n_cols, bool),
              "max", 0.0)
    if time_limit is not None:
        time_limit -= time.perf_counter() - start
        if time_limit <= 0:
            return np.inf
    res = backend.build(lp).solve(time_limit=time_limit)
    if not (res.is_optimal and np.isfinite(res.objective)):
        return np.inf
    return (float(res.objective) + 1e-7 * pulls) * scale


_SEARCH_SECONDS = 1.0       # the search's first turn; then the LP's, each turn doubling
_LP_SECONDS = 2.0           # the most the LP bound may take (0.6-1.7 s at J = 100, B = 20)
_LP_MAX_FLOWS = 20_000      # candidates x edges beyond which it is not built: J = 100 has
                            # 13 300 (0.6-1.7 s); J = 200 took 6.2 s, J = 400 9.4 s
_SEARCH_WORK = 1_000        # work of the first compiled call (then sized to 5-20 ms a call)

# The incumbent heuristic (route_heuristic) runs once the search has done this much work without
# finishing (counted in calls of _SEARCH_WORK, so the point is the same on every machine), with
# these settings: ratio exponents, starts from the best nodes, longest run of waypoints dropped,
# perturbations of its best walk.
_HEURISTIC_AFTER = 20_000
_HEURISTIC_ALPHAS = np.array([0.0, 0.5, 1.0, 2.0])
_HEURISTIC_STARTS = 3
_HEURISTIC_DROP = 2
_HEURISTIC_KICKS = 10


# Feasible-set limit of the route-set formulation, from benchmarks/bench_path_block.py (HiGHS,
# walk block in the same run). J = 20, B = 5: 1 000-2 400 feasible sets (K = 257-998 maximal),
# random linear objectives 1.7-7x faster (median 20-119 ms), myopic step 1.6-7x; J = 40, B = 6:
# 3 742 sets (K = 790), 5x and 1.6x. J = 40, B = 7: 14 300 sets (K = 2 586), objectives still
# 2.5x faster but the myopic step 0.7x (0.78 s vs 0.52 s); J = 40, B = 8: 47 819 sets, 3.7 s
# vs 4.8 s per solve and ~1 s to build. Aborting costs <= 0.4 s (J = 40..100, B = 8..20).
_MAX_ROUTE_SETS = 5_000
_CHUNK = 1 << 16        # candidate sets examined per vectorised batch (bounds memory)


# (set, node) states the search stores before the DP decides, up to 20 pulled nodes (numba dict,
# ~15 MB; beyond 20 the memo is unbounded). 60 sets of 12-20 nodes at J = 100, B = 20 just too
# long to close: at most 0.13 s each without the DP, against 0.74 s with a limit of 2 000.
_SEARCH_STATES = 200_000
_HELD_KARP_MAX = 20         # pulled nodes the DP takes: 2^20 x 20 float32 = 84 MB


def _route_sets(dist: np.ndarray, source: int, route_length: int, budget: int
                ) -> np.ndarray | None:
    """The maximal feasible pull sets as bool (K, n) rows, or ``None`` as soon as there are
    more than ``_MAX_ROUTE_SETS`` feasible (non-empty) sets.

    Level by level (Apriori): a set of size ``k + 1`` is a candidate only if all its ``k``-subsets
    are feasible (the family is closed under removal); candidates join two sorted ``k``-sets
    sharing their first ``k - 1`` nodes. Each feasible set ``S`` keeps the Held-Karp lengths
    ``f(S, v)`` of the shortest walk from ``source`` through ``S`` ending at ``v``, so
    ``f(S, v) = min_{u ∈ S∖v} f(S∖v, u) + dist(u, v)`` reads its subsets' rows, and ``S`` is
    feasible iff ``min_v f(S, v) + dist(v, source) <= route_length`` (the source may be one of
    the nodes at distance 0). A ``k``-set is maximal iff no feasible ``(k+1)``-set contains it.
    """
    n = dist.shape[0]
    if budget == 0:                                   # only the empty set
        return np.zeros((0, n), dtype=bool)
    level = np.flatnonzero(2 * dist[source] <= route_length)[:, None]     # (M, k) sorted rows
    f = dist[source, level]                                                 # (M, k)
    count = level.shape[0]
    if count > _MAX_ROUTE_SETS:
        return None
    maximal = []
    for k in range(1, budget):
        M = level.shape[0]
        new = np.r_[True, (level[1:, :-1] != level[:-1, :-1]).any(axis=1)]
        starts = np.flatnonzero(new)
        ends = np.r_[starts[1:], M][np.cumsum(new) - 1]
        after = ends - np.arange(M) - 1                  # partners j > i with i's prefix
        done = np.r_[0, np.cumsum(after)]
        extended = np.zeros(M, bool)
        sets, lengths = [], []
        lo = 0
        while lo < M:
            hi = max(lo + 1, int(np.searchsorted(done, done[lo] + _CHUNK, side="right")) - 1)
            rows = np.arange(lo, hi)
            lo = hi
            i = np.repeat(rows, after[rows])
            if i.size == 0:
                continue
            j = i + 1 + np.arange(i.size) - np.repeat(done[rows] - done[rows[0]], after[rows])
            cand = np.column_stack([level[i], level[j, -1]])            # (C, k+1) sorted
            sub = np.empty(cand.shape, dtype=np.int64)   # sub[:, r]: level row of cand ∖ r
            sub[:, k], sub[:, k - 1] = i, j
            if k >= 2:
                drop = np.concatenate([np.delete(cand, r, axis=1) for r in range(k - 1)])
                _, inv = np.unique(np.vstack([level, drop]), axis=0, return_inverse=True)
                inv = inv.ravel()
                row_of = np.full(inv.max() + 1, -1, dtype=np.int64)
                row_of[inv[:M]] = np.arange(M)
                sub[:, :k - 1] = row_of[inv[M:]].reshape(k - 1, -1).T
                ok = (sub >= 0).all(axis=1)
                cand, sub = cand[ok], sub[ok]
            fc = np.full(cand.shape, np.inf)
            for r in range(k + 1):
                fs = f[sub[:, r]]
                for q in range(k + 1):
                    if q != r:
                        np.minimum(fc[:, r], fs[:, q - (q > r)] + dist[cand[:, q], cand[:, r]],
                                   out=fc[:, r])
            feasible = (fc + dist[cand, source]).min(axis=1) <= route_length
            count += int(feasible.sum())
            if count > _MAX_ROUTE_SETS:
                return None
            extended[sub[feasible].ravel()] = True
            sets.append(cand[feasible])
            lengths.append(fc[feasible])
        maximal.append(level[~extended])
        level = np.vstack(sets) if sets else np.zeros((0, k + 1), dtype=np.int64)
        f = np.vstack(lengths) if lengths else np.zeros((0, k + 1))
        if level.shape[0] == 0:
            break
    maximal.append(level)
    out = np.zeros((sum(m.shape[0] for m in maximal), n), dtype=bool)
    r = 0
    for m in maximal:
        out[r + np.arange(m.shape[0])[:, None], m] = True
        r += m.shape[0]
    return out


def _arms(n_arms: int, budget: int, rng) -> tuple[np.ndarray, np.ndarray]:
    rewards = paper_rewards(n_arms, budget, rng)
    return pull_probabilities(n_arms, rng), rewards


def _check_route(owner: str, n_nodes: int, source, route_length) -> tuple[int, int | None]:
    """``source`` (a node) and ``route_length`` (``>= 0``, or ``None``: the default) checked."""
    source = check_number(owner, "source", source, low=0, integer=True, error=InvalidModelError)
    if source >= n_nodes:
        raise InvalidModelError(f"{owner}.source: must be a node index in [0, {n_nodes}); "
                                f"got {source}")
    if route_length is not None:
        route_length = check_number(owner, "route_length", route_length, low=0, integer=True,
                                    error=InvalidModelError)
    return source, route_length


def make_path(n_arms: int = 20, budget: int = 5, *, n_edges: int | None = None, seed=None
              ) -> PathDomain:
    """The paper's path instance on a :func:`~rmab.domains.graphs.sparse_connected_graph`
    (source node 0, a graph centre; ``route_length = 2 · budget``). Silent about nodes farther
    than ``budget`` moves from the source, as its draws often leave some (in 15 of 50 seeds at
    J = 20, B = 5; :attr:`PathDomain.unreachable`; ``from_arrays`` warns)."""
    owner = "make_path"
    n_arms = check_number(owner, "n_arms", n_arms, low=2, integer=True)
    budget = check_number(owner, "budget", budget, low=1, high=n_arms, integer=True)
    rng = as_generator(seed, f"{owner}.seed")
    edges = sparse_connected_graph(n_arms, n_edges, seed=rng)
    up, rewards = _arms(n_arms, budget, rng)
    return PathDomain._checked(up, rewards, edges, budget, 0, None)     # silent, as documented


def path_from_csv(path: str | Path, budget: int = 5, *, source: int = 0,
                  route_length: int | None = None, n_nodes: int | None = None,
                  seed=None) -> PathDomain:
    """A path instance on the graph of an edge-list CSV, with the paper's random base arms
    (``n_nodes``: as :func:`~rmab.domains.graphs.read_edge_list`, for isolated last nodes).
    With arms of your own, use ``read_edge_list`` and :meth:`PathDomain.from_arrays`."""
    edges, n = read_edge_list(path, n_nodes)
    # the source and route length first: a default budget above a small graph's node count
    # hid a wrong source (a walkthrough); named as from_arrays names them
    source, route_length = _check_route(PathDomain.__name__, n, source, route_length)
    budget = check_number("path_from_csv", "budget", budget, low=1, high=n, integer=True)
    up, rewards = _arms(n, budget, as_generator(seed, "path_from_csv.seed"))
    domain = PathDomain._checked(up, rewards, edges, budget, source, route_length)
    domain._warn_unreachable(stacklevel=3)          # at the caller's line (a review)
    return domain
