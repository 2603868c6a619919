"""Feasibility checks against brute force, the MILP feasible set against enumeration, and the
errors that name the violated constraint."""

import itertools
import warnings

import numpy as np
import pytest

from rmab.domains import (CapacityDomain, PathDomain, SchedulingDomain,
                          make_capacity, make_interventions, make_path, make_scheduling)
from rmab.domains.capacity import pack
from rmab.errors import InfeasibleActionError, InvalidParameterError, RmabWarning

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*can never be:rmab.errors.RmabWarning")   # degenerate instances on purpose

UP = [[0.1, 0.8]]
REW = [[0.1, 0.15, 0.2, 1.0]]


def _arms(n):
    return {"up_prob": UP * n, "rewards": REW * n}


# -- independent brute-force references ------------------------------------------------------

def brute_pack(costs, caps):
    """Every assignment tried; a worker may exceed its capacity by the domain's 1e-9."""
    return any(all(sum(c for c, w in zip(costs, ws) if w == i) <= caps[i] + 1e-9
                   for i in range(len(caps)))
               for ws in itertools.product(range(len(caps)), repeat=len(costs)))


def brute_schedule(d, action):
    pulled = np.flatnonzero(action)
    if len(pulled) > d.budget:
        return False
    cells = [(i, t) for i in range(d.n_workers) for t in range(d.n_slots)
             if d.worker_avail[i, t]]
    options = [[pair for pair in itertools.combinations(cells, 2)
                if all(d.arm_avail[j, t] for _, t in pair)] for j in pulled]
    return any(len({c for pair in choice for c in pair}) == 2 * len(pulled)
               for choice in itertools.product(*options))


def brute_route(d, action):
    """Breadth-first search over (node, pulled nodes seen) for closed walks of <= L moves."""
    pulled = frozenset(np.flatnonzero(action).tolist())
    if len(pulled) > d.budget:
        return False
    nbrs = {v: {v} for v in range(d.n_arms)}
    for u, v in d.edges.tolist():
        nbrs[u].add(v)
        nbrs[v].add(u)
    frontier = {(d.source, frozenset({d.source}) & pulled)}
    for _ in range(d.route_length):
        frontier = {(w, seen | ({w} & pulled)) for v, seen in frontier for w in nbrs[v]}
    return (d.source, pulled) in frontier or (not pulled)


def _all_actions(n):
    return [np.array(a) for a in itertools.product((0, 1), repeat=n)]


def tiny_domains():
    rng = np.random.default_rng(11)
    out = [make_capacity(6, 2, seed=1), make_capacity(6, 3, seed=2),
           make_scheduling(6, 2, seed=3), make_scheduling(6, 3, n_slots=3, seed=4),
           make_path(6, 2, seed=5), make_path(6, 3, seed=6),
           make_interventions(6, 6, 2, seed=7), make_interventions(7, 5, 3, seed=8)]
    # hand-made: scheduling where one worker covers an arm twice; path with a pendant far node
    with pytest.warns(RmabWarning, match=r"1 of 4 arms shares fewer than two .* \[3\]$"):
        out.append(SchedulingDomain.from_arrays(**_arms(4), arm_avail=[[1, 1, 0], [1, 0, 1],
                                                                        [0, 1, 1], [1, 0, 0]],
                                                worker_avail=[[1, 1, 0], [0, 1, 1]], budget=3))
    with pytest.warns(RmabWarning, match=r"2 of 6 nodes are farther .* pulled: \[3, 4\]"):
        out.append(PathDomain.from_arrays(**_arms(6), edges=[[0, 1], [1, 2], [2, 3], [3, 4],
                                                              [0, 5], [5, 2]], budget=3,
                                          route_length=5))
    out.append(CapacityDomain.from_arrays(**_arms(5), costs=rng.integers(1, 5, 5),
                                          capacities=[4, 3, 0]))
    return out


def test_pack_equals_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(300):
        costs = rng.integers(1, 6, rng.integers(0, 6))
        caps = rng.integers(0, 8, rng.integers(1, 4))
        w = pack(costs, caps)
        assert (w is not None) == brute_pack(costs, caps)
        if w is not None:
            assert all(costs[w == i].sum() <= caps[i] for i in range(len(caps)))


def test_pack_lets_every_worker_go_over_by_the_tolerance():
    """The early exit allowed 1e-9 over the total, the search 1e-9 per worker: two workers
    each 0.75e-9 over were refused by pack but drawn by the sampler and chosen by the MILP
    (a domains review)."""
    costs, caps = np.array([1 + 0.75e-9] * 2), np.array([1.0, 1.0])
    assert brute_pack(costs, caps)
    assert pack(costs, caps) is not None
    assert pack(np.array([1 + 2e-9] * 2), caps) is None


def test_pack_with_decimal_costs_and_tight_capacities_equals_brute_force():
    """Costs such as visit hours (one decimal) and capacities the items nearly fill: the
    search's memo once missed on float round-off (31 s for 20 items in 5 workers)."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        costs = np.round(rng.uniform(1, 4, rng.integers(1, 8)), 1)
        caps = np.round(rng.dirichlet(np.ones(3)) * costs.sum() * rng.uniform(0.95, 1.1), 1)
        w = pack(costs, caps)
        assert (w is not None) == brute_pack(costs, caps), (costs, caps)
        if w is not None:
            assert all(costs[w == i].sum() <= caps[i] + 1e-9 for i in range(len(caps)))
    rng = np.random.default_rng(0)
    rng.uniform(size=40)
    costs = np.round(rng.uniform(1, 4, 20), 1)                 # 46.9 hours in 47
    assert abs(costs.sum() - 46.9) < 1e-9
    w = pack(costs, [12.0, 10.0, 9.0, 8.0, 8.0])
    assert w is not None
    assert all(costs[w == i].sum() <= cap + 1e-9 for i, cap in enumerate([12, 10, 9, 8, 8]))


@pytest.mark.parametrize("d", [d for d in tiny_domains() if d.kind in ("scheduling", "path")],
                         ids=lambda d: d.kind)
def test_matching_and_route_checks_equal_brute_force(d):
    brute = brute_schedule if d.kind == "scheduling" else brute_route
    for a in _all_actions(d.n_arms):
        assert d.is_feasible(a) == brute(d, a), a


def test_witnesses_are_valid():
    d = make_capacity(12, 4, seed=0)
    a = d.sample_action(0)
    w = d.assignment(a)
    assert ((w >= 0) == (a == 1)).all()
    assert all(d.costs[w == i].sum() <= d.capacities[i] for i in range(4))
    s = make_scheduling(12, 4, seed=0)
    a = s.sample_action(1)
    triples = s.assignment(a)
    assert len(triples) == 2 * a.sum()
    assert len({(i, t) for _, i, t in triples}) == len(triples)
    assert all(s.arm_avail[j, t] and s.worker_avail[i, t] for j, i, t in triples)
    p = make_path(20, 5, seed=0)
    a = p.sample_action(2)
    walk = p.route(a)
    edges = {tuple(e) for e in p.edges.tolist()} | {tuple(e[::-1]) for e in p.edges.tolist()}
    assert walk[0] == walk[-1] == p.source and len(walk) - 1 <= p.route_length
    assert all((u, v) in edges for u, v in zip(walk, walk[1:]))
    assert set(np.flatnonzero(a)) <= set(walk)


@pytest.mark.parametrize("kind", ["interventions", "capacity", "scheduling", "path"])
def test_random_actions_feasible_and_varied(kind):
    from rmab.domains import make_domain

    d = make_domain(kind, 20, 5, seed=3)
    rng = np.random.default_rng(0)
    acts = [d.sample_action(rng) for _ in range(60)]
    assert all(d.is_feasible(a) for a in acts)
    assert len({a.tobytes() for a in acts}) > 20
    assert d.is_feasible(d.null_action())


@pytest.mark.parametrize("kind", ["interventions", "capacity", "scheduling", "path"])
def test_sample_action_seed_errors_name_the_field(kind):
    """A bad seed was 'CapacityDomain.sample_action: must be ...', without the field (every
    other seeded function names it, 'make_capacity.seed': a review)."""
    from rmab.domains import make_domain

    d = make_domain(kind, 8, 2, seed=0)
    name = type(d).__name__
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(InvalidParameterError, match=rf"^{name}\.sample_action\.seed: must"):
            d.sample_action(bad)
    np.testing.assert_array_equal(d.sample_action(7), d.sample_action(7))


@pytest.mark.parametrize("kind", ["interventions", "capacity", "scheduling", "path"])
def test_arm_levels_and_pulls_check_the_action_as_check_action_does(kind):
    """arm_levels(a[:-1]) returned a short array (a raw numpy matmul error on interventions)
    and pulls("x") a raw TypeError, where check_action and step name the field (a fuzz
    review). Feasibility stays unchecked: the levels of any 0/1 vector are defined."""
    from rmab.domains import make_domain

    d = make_domain(kind, 8, 2, seed=0)
    a = d.sample_action(np.random.default_rng(0))
    name, n = type(d).__name__, d.action_size
    for method in ("arm_levels", "pulls"):
        call = getattr(d, method)
        for bad in (a[:-1], np.r_[a, 0], a[None, :], "x", None):
            with pytest.raises(InvalidParameterError, match=rf"^{name}\.{method}\.action: must "
                                                            rf"have shape \(action_size={n},\)"):
                call(bad)
        with pytest.raises(InvalidParameterError, match=rf"^{name}\.{method}\.action: must be "
                                                        r"an array of 0/1 numbers; got dtype"):
            call(np.zeros(n) + 0j)
        with pytest.raises(InfeasibleActionError, match=rf"^{name}\.{method}\.action: must be "
                                                        r"binary \(0/1\); got 2 at index 0"):
            call(np.r_[2, a[1:]])
    levels = d.arm_levels(a.astype(bool))                    # a bool action is fine
    assert levels.dtype == np.int64 and levels.shape == (d.n_arms,)
    np.testing.assert_array_equal(d.pulls(list(a)), (levels > 0).astype(np.int64))
    ones = np.ones(n, dtype=np.int64)              # infeasible in every domain but defined
    assert not d.is_feasible(ones) and d.arm_levels(ones).shape == (d.n_arms,)


def test_infeasible_actions_name_the_constraint():
    d = make_interventions(20, 10, 5, seed=0)
    with pytest.raises(InfeasibleActionError, match=r"exactly budget=5 interventions; got 3"):
        d.check_action([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(InfeasibleActionError, match=r"must be binary \(0/1\); got 2 at index 1"):
        d.check_action([1, 2, 1, 0, 0, 0, 0, 0, 1, 0])
    with pytest.raises(InvalidParameterError, match=r"must have shape \(action_size=10,\)"):
        d.check_action(np.ones(20))
    # None gave a bare AttributeError, complex numbers passed with a warning (a review)
    for bad in (np.array([1] * 4 + [None] + [0] * 5, dtype=object), np.zeros(10) + 0j,
                ["1"] * 10):
        with pytest.raises(InvalidParameterError, match=r"action: must be an array of 0/1 "
                                                        r"numbers; got dtype"):
            d.is_feasible(bad)
    d.check_action(np.array([1] * 5 + [0] * 5, dtype=object))          # Python ints: fine
    d.check_action(np.array([np.True_] * 5 + [np.False_] * 5, dtype=object))   # numpy bools
    c = CapacityDomain.from_arrays(**_arms(3), costs=[3, 3, 3], capacities=[4, 4])
    c.check_action([1, 1, 0])
    with pytest.raises(InfeasibleActionError, match=r"worker capacities violated: pulled arms "
                                                    r"\[0, 1, 2\]"):
        c.check_action([1, 1, 1])
    s = SchedulingDomain.from_arrays(**_arms(3), arm_avail=[[1, 0], [1, 0], [0, 1]],
                                     worker_avail=[[1, 1]], budget=1)
    with pytest.raises(InfeasibleActionError, match=r"at most budget=1 arms; got 2"):
        s.check_action([1, 0, 1])
    s2 = SchedulingDomain.from_arrays(**_arms(3), arm_avail=[[1, 0], [1, 0], [0, 1]],
                                      worker_avail=[[1, 1], [1, 0]])
    with pytest.raises(InfeasibleActionError, match=r"worker availability violated: pulled "
                                                    r"arms \[0, 1\]"):
        s2.check_action([1, 1, 0])
    p = PathDomain.from_arrays(**_arms(5), edges=[[0, 1], [1, 2], [2, 3], [3, 4]], budget=2)
    with pytest.raises(InfeasibleActionError, match=r"node 3 is farther than route_length/2"):
        p.check_action([0, 0, 0, 1, 0])
    with pytest.raises(InfeasibleActionError, match=r"at most budget=2 nodes; got 3"):
        p.check_action([1, 1, 1, 0, 0])
    q = PathDomain.from_arrays(**_arms(5), edges=[[0, 1], [1, 2], [0, 3], [3, 4]], budget=2)
    with pytest.raises(InfeasibleActionError, match=r"no closed walk .* nodes \[2, 4\]"):
        q.check_action([0, 0, 1, 0, 1])
    with pytest.raises(InfeasibleActionError, match="budget=2"):
        p.route([1, 1, 1, 0, 0])


@pytest.mark.mip
@pytest.mark.parametrize("d", tiny_domains(), ids=lambda d: f"{d.kind}-{d.n_arms}")
def test_milp_feasible_set_equals_enumeration(d):
    """Fix the action variables to every binary vector: the MILP is feasible exactly when the
    simulator's check accepts the action (the do-nothing action of multiple interventions is
    the documented exception)."""
    from solvers import TerminationStatus, get_backend

    block = d.constraint_block()
    assert (block.action == np.arange(d.action_size)).all()
    assert block.milp.integrality[:d.action_size].all()
    model = get_backend("highs").build(block.milp)
    for a in _all_actions(d.action_size):
        model.set_col_bounds(block.action, a.astype(float), a.astype(float))
        res = model.solve()
        milp_ok = res.status is TerminationStatus.OPTIMAL
        check_ok = d.is_feasible(a) and not (d.kind == "interventions" and a.sum() == 0)
        assert milp_ok == check_ok, (a, res.status)
        if milp_ok:
            assert block.milp.is_feasible(res.x)


@pytest.mark.parametrize("walk", [False, True])
def test_block_solution_extends_every_feasible_action(walk, monkeypatch):
    """Every feasible action of the tiny domains (and of a path domain of J = 40 on its
    time-expanded walk): the block columns ``block_solution`` gives are a feasible point of the
    block's MILP whose action is the action (J = 40 is always a walk); ``None`` only where the
    domain says so."""
    from rmab.domains import path as path_mod

    if walk:
        monkeypatch.setattr(path_mod, "_MAX_ROUTE_SETS", 0)
    domains = [d for d in tiny_domains() if d.kind in ("path", "interventions")]
    for d in domains + [make_path(40, 8, seed=2)]:
        block = d.constraint_block()
        if d.kind == "path":
            assert ("move" in block.index) == (walk or d.n_arms == 40)
        actions = ([a for a in _all_actions(d.action_size) if d.is_feasible(a)]
                   if d.n_arms <= 8 else [d.sample_action(s) for s in range(30)])
        for a in actions:
            x = d.block_solution(a)
            if d.kind == "interventions" and a.sum() == 0:     # outside the block
                assert x is None
                continue
            assert block.milp.is_feasible(x), (d.kind, a)
            assert (block.action_from_solution(x) == a).all()
        with pytest.raises(InfeasibleActionError):
            d.block_solution(np.ones(d.action_size, dtype=np.int64))
    assert all(d.block_solution(d.sample_action(0)) is None for d in tiny_domains()
               if d.kind in ("capacity", "scheduling"))


@pytest.mark.mip
@pytest.mark.parametrize("d", tiny_domains(), ids=lambda d: f"{d.kind}-{d.n_arms}")
def test_level_objective_equals_expected_reward(d):
    """The myopic MILP objective is exact: its optimum equals the brute-force best one-step
    expected reward, and its value at the solution equals the simulator's expected reward."""
    from solvers import solve

    block = d.constraint_block()
    rng = np.random.default_rng(d.n_arms)
    for _ in range(3):
        states = rng.integers(0, 4, d.n_arms)
        c, offset = block.level_objective(d.arms.level_gains(states))
        res = solve(block.with_objective(c, offset))
        action = block.action_from_solution(res.x)
        best = max(d.expected_reward(states, a) for a in _all_actions(d.action_size)
                   if d.is_feasible(a) and not (d.kind == "interventions" and a.sum() == 0))
        assert res.objective == pytest.approx(best, abs=1e-7)
        assert d.expected_reward(states, action) == pytest.approx(res.objective, abs=1e-7)


def _random_arrays_domains():
    from hypothesis import strategies as st

    @st.composite
    def scheduling(draw):
        n, w, t = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        bits = st.lists(st.integers(0, 1), min_size=t, max_size=t)
        return SchedulingDomain.from_arrays(
            **_arms(n), arm_avail=draw(st.lists(bits, min_size=n, max_size=n)),
            worker_avail=draw(st.lists(bits, min_size=w, max_size=w)),
            budget=draw(st.integers(0, n)))

    @st.composite
    def path(draw):
        n = draw(st.integers(2, 6))
        pairs = [(u, v) for u in range(n) for v in range(u + 1, n)]
        edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8))
        return PathDomain.from_arrays(**_arms(n), edges=np.array(edges, dtype=int).reshape(-1, 2),
                                      budget=draw(st.integers(0, n)),
                                      source=draw(st.integers(0, n - 1)),
                                      route_length=draw(st.integers(0, 6)))

    return st.one_of(scheduling(), path())


def test_random_instances_check_equals_brute_force():
    """Hypothesis: on arbitrary small availability tables and graphs (disconnected, odd
    cycles, any source and route length) the exact checks agree with brute force."""
    from hypothesis import given, settings

    @settings(max_examples=25, deadline=None)
    @given(_random_arrays_domains())
    def check(d):
        brute = brute_schedule if d.kind == "scheduling" else brute_route
        for a in _all_actions(d.n_arms):
            assert d.is_feasible(a) == brute(d, a), a

    check()


def test_a_star_whose_leaves_do_not_fit_is_decided_at_once():
    """21 leaves of a star in 41 moves: every leaf's own round trip fits, and the search
    tried orders for 78 s (23 leaves: minutes, memory growing; a domains review). Each leaf
    entered once from another (2 moves) bounds the rest of the walk; 42 moves fit. Counted
    in search states (deterministic), not seconds."""
    from rmab.domains import path as path_mod
    from rmab.domains._kernels import closed_walk_order

    for k in (21, 30):
        n = k + 1
        for moves, fits in ((2 * k - 1, False), (2 * k, True)):
            d = PathDomain.from_arrays(**_arms(n), edges=[[0, i] for i in range(1, n)],
                                       budget=k, route_length=moves)
            assert d.is_feasible(np.r_[0, np.ones(k, dtype=np.int64)]) is fits
            work, route = np.zeros(1, dtype=np.int64), np.empty(k, dtype=np.int64)
            found = closed_walk_order(d.distances, d.source, float(moves), np.arange(1, n),
                                      path_mod._SEARCH_STATES, path_mod._HELD_KARP_MAX, route,
                                      work)
            assert (found == k) is fits and work[0] <= 2 * k * k


def test_actions_of_the_enumeration_size_are_listed_and_one_more_are_not():
    """``action_size <= ENUMERATION_SIZE`` (16) filters all 2**16 vectors: 16 interventions at
    budget 2 list the null action and the C(16, 2) = 120 pairs (itertools.combinations), in
    lexicographic order; 17 are not listed."""
    from rmab.domains.base import ENUMERATION_SIZE

    d = make_interventions(18, n_interventions=16, budget=2, seed=0)
    assert d.action_size == ENUMERATION_SIZE
    rows = [tuple(int(i in pair) for i in range(16))
            for pair in itertools.combinations(range(16), 2)]
    np.testing.assert_array_equal(d.feasible_actions(), sorted([(0,) * 16] + rows))
    assert make_interventions(18, n_interventions=17, budget=2, seed=0).feasible_actions() is None


def test_repair_action_leaves_its_input_and_the_exact_budget_alone():
    """It changed the caller's array in place, and stripped an interventions action of 1 of
    budget 3 to the null action, which that domain's planners must not play (a diff
    review)."""
    from rmab.errors import RmabWarning

    d = make_interventions(12, budget=3, seed=0)
    short = np.zeros(d.action_size, dtype=np.int64)
    short[0] = 1
    with pytest.raises(InfeasibleActionError):
        d.repair_action(short, lambda a: a.sum(axis=1), owner="test")
    cap = make_capacity(6, 2, seed=0)
    every = np.ones(cap.action_size, dtype=np.int64)
    every.flags.writeable = False                             # was a raw ValueError
    with pytest.warns(RmabWarning, match="dropped element"):
        fixed = cap.repair_action(every, lambda a: a.sum(axis=1), owner="test")
    assert cap.is_feasible(fixed) and every.all()


@pytest.mark.parametrize("weights, kept, said", [
    ([1.0, 3.0, 0.5], [0, 1, 1], "dropped element(s) [2, 0], then added [2] to make it"),
    ([1.0, 3.0, 0.0], [0, 1, 0], "dropped element(s) [2, 0] to make it"),
])
def test_repair_action_drops_the_least_loss_and_adds_back_only_gains(weights, kept, said):
    """Worked by hand: costs 2, 1, 1 into one capacity of 2, all three pulled. Dropping arm 2
    keeps the most value (1 + 3) but still costs 3; then dropping arm 0 keeps 3 (arm 1 alone).
    Arm 0 (value 4 with arm 1) does not fit back; arm 2 does, and is added only if it gains
    (0.5: yes; 0: the value does not rise, so the action stays as it was)."""
    d = CapacityDomain.from_arrays(**_arms(3), costs=[2.0, 1.0, 1.0], capacities=[2.0])
    with pytest.warns(RmabWarning, match="breaks a constraint") as caught:
        fixed = d.repair_action([1, 1, 1], lambda a: a @ np.array(weights), owner="test")
    assert fixed.tolist() == kept and d.is_feasible(fixed)
    assert said in str(caught[0].message)


def test_an_arm_over_by_exactly_the_tolerance_is_served():
    """The documented rule: a worker may go over by 1e-9 of the largest capacity, bound
    included. An arm of cost 1 + 1e-9 beside a capacity of 1 is not unservable, so pack and
    the feasibility check must serve it too (refusing the bound itself left an arm that
    ``unservable`` did not list but that no action could pull)."""
    cost = 1.0 + 1e-9                                  # == capacity + tolerance, in floats
    d = CapacityDomain.from_arrays(**_arms(1), costs=[cost], capacities=[1.0])
    assert d.unservable.size == 0
    assert pack(np.array([cost]), np.array([1.0])).tolist() == [0]
    assert d.is_feasible([1])
    assert pack(np.array([np.nextafter(cost, 2.0)]), np.array([1.0])) is None


def _greedy_repair(d, action, values):
    """The documented repair in plain loops, ties to the lowest index: drop the pulled element
    whose removal leaves the most until feasible, then add the element worth most that fits
    until none gains."""
    a = np.array(action)
    while not d.is_feasible(a):
        best = None
        for i in np.flatnonzero(a):
            a[i] = 0
            if best is None or values(a[None])[0] > best[0]:
                best = (values(a[None])[0], i)
            a[i] = 1
        a[best[1]] = 0
    while True:
        now, best = values(a[None])[0], None
        for i in np.flatnonzero(a == 0):
            a[i] = 1
            v = values(a[None])[0]
            if v > now and d.is_feasible(a) and (best is None or v > best[0]):
                best = (v, i)
            a[i] = 0
        if best is None:
            return a
        a[best[1]] = 1


def test_repair_action_breaks_ties_by_the_lowest_index_on_any_machine():
    """Ties decide what the repair returns (costs 0.3 x 3 then 0.1 x 4 into 0.6, every arm
    worth 1: it keeps the four cheap arms, the enumeration's optimum; listed cheap first it
    keeps two dear ones). They go to the lowest index: numpy's default argsort is not stable
    past 16 entries on AVX-512 machines, which would make the refill depend on the machine.
    References: the rule in plain loops, and enumeration (every answer feasible, and no single
    element more fits and gains)."""
    for costs, kept in (([0.3] * 3 + [0.1] * 4, 4), ([0.1] * 4 + [0.3] * 3, 2)):
        d = CapacityDomain.from_arrays(**_arms(7), costs=costs, capacities=[0.6])
        with pytest.warns(RmabWarning, match="dropped element"):
            a = d.repair_action(np.ones(7, dtype=np.int64), lambda x: x.sum(axis=1), owner="t")
        best = max(sum(x) for x in itertools.product((0, 1), repeat=7)
                   if d.is_feasible(np.array(x)))
        assert a.sum() == kept and best == 4
    n = 24
    for seed in range(10):
        rng = np.random.default_rng(seed)
        costs, w = rng.integers(1, 6, n) / 10, rng.integers(1, 3, n).astype(float)
        d = CapacityDomain.from_arrays(**_arms(n), costs=costs, capacities=[1.0])
        x = np.zeros(n, dtype=np.int64)
        x[rng.permutation(n)[:6]] = 1
        assert not d.is_feasible(x)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "t: the solver's action", RmabWarning)
            a = d.repair_action(x, lambda y: y @ w, owner="t")
        assert a.tolist() == _greedy_repair(d, x, lambda y: y @ w).tolist(), seed
        assert d.is_feasible(a)
        for i in np.flatnonzero(a == 0):
            assert not d.is_feasible(a + np.eye(n, dtype=np.int64)[i]), (seed, i)
