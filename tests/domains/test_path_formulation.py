"""The path MILP (route-set formulation, and its time-expanded walk fallback) has exactly the
feasible pull vectors of the Held-Karp check, on small instances enumerated exhaustively."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.domains import PathDomain, make_path
from rmab.domains import path as path_mod
from rmab.domains.base import Domain
from rmab.errors import RmabWarning


pytestmark = pytest.mark.filterwarnings(     # routes too short for some nodes, on purpose
    "ignore:.*can never be pulled:rmab.errors.RmabWarning")


def _arms(n, rng):
    return {"up_prob": np.column_stack([rng.uniform(0, .2, n), rng.uniform(.7, .9, n)]),
            "rewards": np.tile(np.linspace(0, 1, 4), (n, 1))}


def instances():
    rng = np.random.default_rng(3)
    out = [make_path(6, 2, seed=0), make_path(8, 3, seed=1), make_path(6, 3, seed=2)]
    graphs = [
        ([(i, i + 1) for i in range(7)], 3, 2, 5),                     # path graph, middle source
        ([(0, i) for i in range(1, 7)], 3, 0, 5),                      # star from its centre
        ([(0, i) for i in range(1, 7)], 2, 3, 4),                      # star from a leaf
        ([(i, (i + 1) % 8) for i in range(8)], 3, 0, 7),               # cycle, odd L < 2B
        ([(i, (i + 1) % 7) for i in range(7)] + [(0, 3)], 4, 1, 5),    # cycle with a chord
        ([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5)], 2, 0, 3),           # two components
        ([(0, 1), (1, 2), (2, 3), (1, 4), (4, 5)], 6, 0, 9),           # budget = n_arms
        ([(0, 1), (1, 2), (2, 3), (1, 4), (4, 5)], 3, 2, 40),          # L past 2 (n - 1)
    ]
    for edges, budget, source, L in graphs:
        n = int(np.max(edges)) + 1
        with warnings.catch_warnings():                  # two components on purpose
            warnings.simplefilter("ignore", RmabWarning)
            out.append(PathDomain.from_arrays(**_arms(n, rng), edges=edges, budget=budget,
                                              source=source, route_length=L))
    return out


def _all_actions(n):
    return [np.array(a, dtype=np.int64) for a in itertools.product((0, 1), repeat=n)]


def _feasible_set(block, n):
    from solvers import TerminationStatus, get_backend

    model = get_backend("highs").build(block.milp)
    out = []
    for a in _all_actions(n):
        model.set_col_bounds(block.action, a.astype(float), a.astype(float))
        res = model.solve()
        out.append(res.status is TerminationStatus.OPTIMAL)
        if out[-1]:
            assert block.milp.is_feasible(res.x)
    return out


def _label(v):
    if isinstance(v, PathDomain):
        return f"J{v.n_arms}-B{v.budget}-L{v.route_length}-e{len(v.edges)}"
    return "walk" if v else "route-sets"


@pytest.mark.mip
@pytest.mark.parametrize("d,fallback", [(d, False) for d in instances()] +
                         [(d, True) for d in instances()[2:7] + instances()[-1:]], ids=_label)
def test_milp_feasible_set_equals_held_karp(d, fallback, monkeypatch):
    if fallback:
        monkeypatch.setattr(path_mod, "_MAX_ROUTE_SETS", 0)
    block = d._build_block()
    assert ("route_sets" in block.index) != fallback
    assert ("position" in block.index) == fallback
    brute = [d.is_feasible(a) for a in _all_actions(d.n_arms)]
    assert _feasible_set(block, d.n_arms) == brute


@pytest.mark.parametrize("d", instances(), ids=_label)
def test_feasible_actions_are_exactly_the_feasible_pull_vectors(d):
    brute = np.array([a for a in _all_actions(d.n_arms) if d.is_feasible(a)])
    got = d.feasible_actions()
    np.testing.assert_array_equal(got, brute)            # the same lexicographic order
    assert d.feasible_actions(limit=len(brute)) is not None
    assert d.feasible_actions(limit=len(brute) - 1) is None


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), shape=st.sampled_from([(9, 3), (10, 4), (12, 3)]))
def test_route_set_listing_matches_the_filtered_vectors(seed, shape):
    d = make_path(*shape, seed=seed)
    assert "route_sets" in d.constraint_block().index
    np.testing.assert_array_equal(d.feasible_actions(), Domain._list_actions(d))


def test_budget_zero_allows_only_the_null_action():
    d = PathDomain.from_arrays(up_prob=[[0.1, 0.9]] * 3, rewards=[[0.0, 1.0]] * 3,
                               edges=[[0, 1], [1, 2]], budget=0, route_length=4)
    np.testing.assert_array_equal(d.feasible_actions(), np.zeros((1, 3), dtype=np.int64))
    assert _feasible_set(d._build_block(), 3) == [d.is_feasible(a) for a in _all_actions(3)]
    x = d.block_solution(np.zeros(3))      # no route set at all: a raw ValueError before
    assert d.constraint_block().milp.is_feasible(x) and not x.any()


@pytest.mark.parametrize("limit", [-1, 2.5, "10"])
def test_feasible_actions_limit_must_be_a_count(limit):
    from rmab.domains import make_capacity
    from rmab.errors import InvalidParameterError

    for d in (make_path(6, 2, seed=0), make_capacity(4, 2, seed=1)):
        with pytest.raises(InvalidParameterError, match=rf"{type(d).__name__}.feasible_actions"
                                                        r".limit: must be"):
            d.feasible_actions(limit)


def test_feasible_actions_are_listed_once_and_read_only(monkeypatch):
    d = make_path(8, 3, seed=1)
    first = d.feasible_actions()
    monkeypatch.setattr(PathDomain, "_list_actions", lambda self: pytest.fail("listed again"))
    assert d.feasible_actions() is first
    assert d.feasible_actions(limit=len(first) - 1) is None       # the limit reads the cache
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 1


def test_feasible_actions_beyond_route_sets_are_not_listed(monkeypatch):
    assert make_path(20, 5, seed=1).feasible_actions().shape == (1048, 20)
    monkeypatch.setattr(path_mod, "_MAX_ROUTE_SETS", 0)       # the walk block: no list
    assert make_path(20, 5, seed=1).feasible_actions() is None


def _brute_sets(d):
    """(maximal feasible sets, number of non-empty feasible sets), by brute force."""
    feasible = {frozenset(np.flatnonzero(a).tolist()) for a in _all_actions(d.n_arms)
                if d.is_feasible(a)}
    maximal = {s for s in feasible
               if not any(s | {v} in feasible for v in range(d.n_arms) if v not in s)}
    return maximal, len(feasible) - 1


@pytest.mark.parametrize("d", instances(), ids=_label)
def test_route_sets_are_the_maximal_feasible_sets(d, monkeypatch):
    sets = path_mod._route_sets(d.distances, d.source, d.route_length, d.budget)
    maximal, count = _brute_sets(d)
    got = [frozenset(np.flatnonzero(r).tolist()) for r in sets]
    assert len(got) == len(set(got))
    assert set(got) == maximal
    monkeypatch.setattr(path_mod, "_MAX_ROUTE_SETS", count)       # exactly at the limit
    assert path_mod._route_sets(d.distances, d.source, d.route_length, d.budget) is not None
    monkeypatch.setattr(path_mod, "_MAX_ROUTE_SETS", count - 1)   # one over: abort
    assert path_mod._route_sets(d.distances, d.source, d.route_length, d.budget) is None


def test_route_sets_of_a_larger_graph_match_brute_force():
    """J = 12 with up to 4 pulls: more levels and several prefix groups per level."""
    d = make_path(12, 4, seed=7)
    sets = path_mod._route_sets(d.distances, d.source, d.route_length, d.budget)
    maximal, _ = _brute_sets(d)
    assert {frozenset(np.flatnonzero(r).tolist()) for r in sets} == maximal


def test_route_set_chunks_do_not_change_the_sets(monkeypatch):
    d = make_path(12, 4, seed=7)
    whole = path_mod._route_sets(d.distances, d.source, d.route_length, d.budget)
    monkeypatch.setattr(path_mod, "_CHUNK", 3)
    small = path_mod._route_sets(d.distances, d.source, d.route_length, d.budget)
    assert {r.tobytes() for r in small} == {r.tobytes() for r in whole}


@pytest.mark.mip
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), fallback=st.booleans(),
       shape=st.sampled_from([(6, 2), (7, 3), (8, 3), (8, 4)]))
def test_linear_objective_optimum_equals_brute_force(seed, fallback, shape):
    from solvers import get_backend

    rng = np.random.default_rng(seed)
    d = make_path(*shape, seed=seed)
    if rng.random() < 0.5:        # an odd or shorter route
        d = PathDomain.from_arrays(**d.to_arrays() | {"route_length": int(rng.integers(1, 8))})
    saved = path_mod._MAX_ROUTE_SETS
    path_mod._MAX_ROUTE_SETS = 0 if fallback else saved
    try:
        block = d._build_block()
    finally:
        path_mod._MAX_ROUTE_SETS = saved
    c = np.zeros(block.n_vars)
    c[:d.n_arms] = rng.uniform(-0.5, 1.0, d.n_arms)
    res = get_backend("highs").solve(block.with_objective(c))
    brute = max(c[:d.n_arms] @ a for a in _all_actions(d.n_arms) if d.is_feasible(a))
    assert res.objective == pytest.approx(brute, abs=1e-7)
    assert d.is_feasible(block.action_from_solution(res.x))


def test_j20_uses_route_sets_and_big_instances_fall_back():
    d = make_path(20, 5, seed=0)
    block = d.constraint_block()
    sets = block.index["route_sets"]
    assert sets.shape[1] == 20 and sets.sum(axis=1).max() <= 5
    assert block.milp.n_cols == 20 + sets.shape[0]
    big = make_path(100, 20, seed=0)
    assert path_mod._route_sets(big.distances, big.source, big.route_length,
                                big.budget) is None


@pytest.mark.parametrize("d", instances(), ids=_label)
def test_held_karp_decides_as_the_search_does(d, monkeypatch):
    """Sets just too long to close made the search visit nearly every (set, node) state (15 s
    at J = 100); past a state budget the Held-Karp DP decides. Forced here on every set: the
    same verdicts, and each order's closed walk fits the route length."""
    verdicts = [d.is_feasible(a) for a in _all_actions(d.n_arms)]
    monkeypatch.setattr(path_mod, "_SEARCH_STATES", 0)
    for a, expected in zip(_all_actions(d.n_arms), verdicts):
        assert d.is_feasible(a) == expected
        if expected and a.any():
            walk = d.route(a)
            assert walk[0] == walk[-1] == d.source and len(walk) - 1 <= d.route_length
            assert set(np.flatnonzero(a)) <= set(walk)
            assert all(d.distances[u, v] == 1 for u, v in zip(walk, walk[1:]) if u != v)


def _tour_lengths(d_sub):
    """Shortest closed walk through all targets of the metric, by every permutation."""
    k = d_sub.shape[0] - 1
    best = np.inf
    for perm in itertools.permutations(range(1, k + 1)):
        walk = (0,) + perm + (0,)
        best = min(best, sum(d_sub[u, v] for u, v in zip(walk, walk[1:])))
    return best


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6), slack=st.integers(-2, 1))
def test_search_kernel_and_dp_decide_as_every_permutation(seed, k, slack):
    """The compiled search (memo on, and cut short into the DP) against all visiting orders on
    the hop metric of a random sparse graph, with route lengths around the optimum."""
    from rmab.domains._kernels import closed_walk_kernel, held_karp_kernel

    d = make_path(12, 5, seed=seed)
    nodes = np.random.default_rng(seed).choice(12, k + 1, replace=False)
    sub = d.distances[np.ix_(nodes, nodes)]
    shortest = _tour_lengths(sub)
    L = float(shortest + slack)
    order = np.zeros(k, dtype=np.int64)
    work = np.zeros(1, dtype=np.int64)
    found = closed_walk_kernel(sub, L, 10 ** 6, order, work)
    assert found == (shortest <= L)
    if found:
        walk = np.r_[0, order, 0]
        assert sorted(order) == list(range(1, k + 1))
        assert sub[walk[:-1], walk[1:]].sum() <= L
    assert held_karp_kernel(sub, L, order, work) == (shortest <= L)
    if shortest <= L:                                     # the DP's order is a shortest one
        walk = np.r_[0, order, 0]
        assert sorted(order) == list(range(1, k + 1))
        assert sub[walk[:-1], walk[1:]].sum() == shortest
    if k >= 2:
        assert closed_walk_kernel(sub, L, 0, order, work) in (-1, int(shortest <= L))


@pytest.mark.parametrize("seed", range(4))
def test_search_memo_grows_past_its_first_size(seed):
    """12 targets on a random Manhattan metric, the route length one short of the shortest
    closed walk (Held-Karp's): the search stores thousands of (set, node) states, so its
    open-addressing memo (256 slots at first) grows several times, and still refuses; at the
    shortest length it finds a walk that fits."""
    from rmab.domains._kernels import _MEMO_SLOTS, closed_walk_kernel, held_karp_kernel

    k = 12
    points = np.random.default_rng(seed).integers(0, 20, size=(k + 1, 2))
    sub = np.abs(points[:, None, :] - points[None, :, :]).sum(axis=-1).astype(float)
    order, work = np.zeros(k, dtype=np.int64), np.zeros(1, dtype=np.int64)
    assert held_karp_kernel(sub, np.inf, order, work) == 1
    shortest = sub[np.r_[0, order], np.r_[order, 0]].sum()
    work[0] = 0
    assert closed_walk_kernel(sub, shortest - 1, 10 ** 7, order, work) == 0
    assert work[0] > 2 * _MEMO_SLOTS
    assert closed_walk_kernel(sub, shortest, 10 ** 7, order, work) == 1
    assert sorted(order) == list(range(1, k + 1))
    assert sub[np.r_[0, order], np.r_[order, 0]].sum() <= shortest


def test_search_memo_spreads_keys_that_differ_in_high_bits():
    """The memo's keys (visited mask << 6 | node) of states among the targets 41 to 56 differ
    only in bits 46 up: in a table of 1 024 slots they go to many slots (the product's bits
    32 to 41 put all 512 in one, so each store probed past all the others)."""
    from rmab.domains._kernels import MEMO_TARGETS, _slot

    keys = np.full(1024, -1, dtype=np.int64)
    high = (np.arange(1, 513, dtype=np.int64) << 40 << 6) | 41
    assert int(high.max()) < 1 << (MEMO_TARGETS + 6)
    homes = {int(_slot(keys, key)) for key in high}
    assert len(homes) > 256


def test_more_targets_than_the_memo_keys_hold():
    """Past 56 targets an int64 bit mask of the visited set overflows: the search counts the
    visited targets and goes on without the memo (a line of 70 nodes, source at its end: 138
    moves visit all; one fewer is refused)."""
    from rmab.domains._kernels import MEMO_TARGETS

    n = 70
    assert n - 1 > MEMO_TARGETS
    kw = dict(up_prob=[[0.1, 0.8]] * n, rewards=[[0.0, 0.1, 0.2, 1.0]] * n,
              edges=[(i, i + 1) for i in range(n - 1)], budget=n)
    every = np.ones(n, dtype=np.int64)
    d = PathDomain.from_arrays(**kw, route_length=2 * (n - 1))
    walk = d.route(every)
    assert len(walk) - 1 == 2 * (n - 1) and set(walk) == set(range(n))
    assert not PathDomain.from_arrays(**kw, route_length=2 * n - 3).is_feasible(every)
