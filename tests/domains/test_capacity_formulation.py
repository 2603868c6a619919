"""The capacity MILP (pattern formulation, and its assignment fallback) has exactly the
feasible pull vectors of the bin-packing check, on tiny instances enumerated exhaustively."""

import itertools
import warnings

import numpy as np
import pytest

from rmab.domains import CapacityDomain, make_capacity
from rmab.domains import capacity as cap_mod
from rmab.errors import RmabWarning


def _arms(n, rng):
    return {"up_prob": np.column_stack([rng.uniform(0, .2, n), rng.uniform(.7, .9, n)]),
            "rewards": np.tile(np.linspace(0, 1, 4), (n, 1))}


def instances():
    rng = np.random.default_rng(5)
    out = [make_capacity(7, 3, seed=s) for s in range(4)] + [make_capacity(6, 2, seed=9)]
    for costs, caps in [([2, 2, 2, 3, 3, 4, 5], [5, 5, 5]),          # equal capacities
                        ([1, 1, 2, 2, 3, 3, 4], [4, 4, 6, 6]),
                        ([2.5, 1.5, 1.5, 3, 0.5, 2, 1], [3, 3, 2.5]),  # non-integer costs
                        ([3, 4, 5, 6, 7, 2, 2], [2, 0, 3]),              # too-costly arms
                        ([1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2]),
                        ([2000.0, 1.0], [1999.999999, 1.0]),          # just too large
                        ([1e-6, 1e-6, 2e-6], [9.995e-7, 2e-6])]:       # within the tolerance
        with warnings.catch_warnings():                  # too-costly arms on purpose
            warnings.simplefilter("ignore", RmabWarning)
            out.append(CapacityDomain.from_arrays(**_arms(len(costs), rng), costs=costs,
                                                  capacities=caps))
    return out


def _feasible_set(block, n):
    from solvers import TerminationStatus, get_backend

    model = get_backend("highs").build(block.milp)
    out = []
    for a in itertools.product((0, 1), repeat=n):
        a = np.array(a, dtype=float)
        model.set_col_bounds(block.action, a, a)
        res = model.solve()
        out.append(res.status is TerminationStatus.OPTIMAL)
        if out[-1]:
            assert block.milp.is_feasible(res.x)
    return out


@pytest.mark.mip
@pytest.mark.parametrize("d,fallback", [(d, False) for d in instances()] +
                         [(d, True) for d in instances()[4:8]],
                         ids=lambda v: f"J{v.n_arms}-{v.capacities.tolist()}"
                         if isinstance(v, CapacityDomain) else ("assignment" if v else "patterns"))
def test_milp_feasible_set_equals_packing(d, fallback, monkeypatch):
    if fallback:
        monkeypatch.setattr(cap_mod, "_MAX_PATTERNS", 0)
    block = d._build_block()
    assert ("assign" in block.index) == fallback
    brute = [d.is_feasible(np.array(a)) for a in itertools.product((0, 1), repeat=d.n_arms)]
    assert _feasible_set(block, d.n_arms) == brute


def test_patterns_are_maximal_and_complete():
    """Every maximal count vector that fits is listed once, and nothing else (brute force
    over count vectors)."""
    costs, caps = np.array([2.0, 3, 3, 5, 2]), np.array([7.0, 4, 7])
    cls, P = cap_mod._capacity_patterns(costs, caps, 1e-9)
    values, classes = np.unique(costs), np.unique(caps)
    for k, c in enumerate(classes):
        fits = [p for p in itertools.product(range(4), repeat=values.size)
                if any(p) and np.dot(p, values) <= c]
        maximal = {p for p in fits if (values > c - np.dot(p, values)).all()}
        assert {tuple(r) for r in P[cls == k]} == maximal
        assert (cls == k).sum() == len(maximal)


@pytest.mark.mip
def test_block_is_small_at_j100():
    """The J = 100, B = 20 block has no per-pair binaries: under 50 pattern columns."""
    d = make_capacity(100, 20, seed=0)
    block = d.constraint_block()
    assert "patterns" in block.index
    assert block.milp.n_cols < 100 + 50


def test_many_patterns_choose_the_assignment():
    """Costs on a 0.1-hour grid with roomy workers list 3 738 patterns against 100 (worker, arm)
    pairs: the compact assignment is chosen (HiGHS: 0.16 s against 1.9 s per myopic solve,
    docs/domains.md); the paper's integer costs keep the patterns."""
    rng = np.random.default_rng(1)
    base = make_capacity(20, 5, seed=0)
    d = CapacityDomain.from_arrays(up_prob=base.arms.up_prob, rewards=base.arms.rewards,
                                   costs=np.round(rng.uniform(2, 6, 20), 1),
                                   capacities=np.round(rng.uniform(2, 7, 5) * 2, 1))
    block = d.constraint_block()
    assert "assign" in block.index
    assert "patterns" in base.constraint_block().index
    from solvers.nn import knapsacks_from_milp         # a row on the pulls for the NN bounds
    assert len(knapsacks_from_milp(block.milp, d.n_arms)) >= 1



def _rescaled(d, scale):
    """``d`` in other units: the same arms no worker can serve, warned of as in ``d``."""
    arrays = d.to_arrays()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = CapacityDomain.from_arrays(**{**arrays, "costs": arrays["costs"] * scale,
                                            "capacities": arrays["capacities"] * scale})
    assert out.unservable.tolist() == d.unservable.tolist()
    assert [str(w.message).split(":")[0] for w in caught] == ["CapacityDomain"] * bool(
        d.unservable.size)
    return out


@pytest.mark.mip
@pytest.mark.parametrize("scale", [1e-10, 1e-3, 1e8])
def test_costs_and_capacities_in_any_units(scale):
    """Hours or 1e-10: the same feasible set, random actions and MILP. The tolerance was an
    absolute 1e-9: costs of 1e-10 in workers of capacity 1e-10 packed five arms into one
    worker, and HiGHS's absolute feasibility tolerance made every row of the MILP slack."""
    for d in instances()[:5] + instances()[7:9]:
        small = _rescaled(d, scale)
        actions = [np.array(a) for a in itertools.product((0, 1), repeat=d.n_arms)]
        brute = [d.is_feasible(a) for a in actions]
        assert [small.is_feasible(a) for a in actions] == brute
        for s in range(5):
            assert np.array_equal(small.sample_action(seed=s), d.sample_action(seed=s))
        block = small._build_block()
        assert _feasible_set(block, d.n_arms) == brute
    tiny = CapacityDomain.from_arrays(**_arms(5, np.random.default_rng(0)), costs=[1e-10] * 5,
                                      capacities=[1e-10])
    assert not tiny.is_feasible(np.array([1, 1, 0, 0, 0]))
    assert cap_mod.pack(np.array([1e-10] * 5), np.array([1e-10])) is None


@pytest.mark.mip
def test_an_arm_no_worker_serves_sets_no_tolerance():
    """The tolerance's unit was the largest cost: an arm of cost 1000 beside workers of
    capacity 1 let the sampler and the MILP take a cost of 1 + 1e-7, which the check (on
    the pulled arms' unit) refused, and the evaluation stopped (a diff review). The unit is
    the largest capacity now, the same for every check."""
    from rmab.domains.evaluate import evaluate_domain

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RmabWarning)          # arm 0 can never be served
        d = CapacityDomain.from_arrays(**_arms(4, np.random.default_rng(0)),
                                       costs=[1000.0, 1 + 1e-7, 0.5, 0.5], capacities=[1.0])
    assert not d.is_feasible(np.array([0, 1, 0, 0]))
    assert all(d.sample_action(seed=s)[1] == 0 for s in range(50))
    brute = [d.is_feasible(np.array(a)) for a in itertools.product((0, 1), repeat=4)]
    assert _feasible_set(d._build_block(), 4) == brute
    res = evaluate_domain(d, ["random", "myopic"], episodes=3, horizon=3)
    assert res.rewards.shape == (1, 2, 3)
    with warnings.catch_warnings():     # a cost of 1e300 beside workers of 1 builds and solves
        warnings.simplefilter("ignore", RmabWarning)
        far = CapacityDomain.from_arrays(**_arms(3, np.random.default_rng(0)),
                                         costs=[1e300, 1.0, 1.0], capacities=[1.0, 1.0])
    assert _feasible_set(far._build_block(), 3) == [
        far.is_feasible(np.array(a)) for a in itertools.product((0, 1), repeat=3)]
    # every capacity 0: no arm is served, in every check (the unit fell back to the pulled
    # arms' costs in pack and to all the costs elsewhere: a second diff review)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RmabWarning)
        empty = CapacityDomain.from_arrays(**_arms(2, np.random.default_rng(0)),
                                           costs=[1.0, 2e9], capacities=[0.0])
    assert [empty.is_feasible(np.array(a)) for a in itertools.product((0, 1), repeat=2)] == \
        [True, False, False, False]
    assert not any(empty.sample_action(seed=s).any() for s in range(20))
    assert _feasible_set(empty._build_block(), 2) == [True, False, False, False]
    assert evaluate_domain(empty, ["random", "myopic"], episodes=2, horizon=2).episodes == 2


def test_a_capacity_far_above_the_costs_falls_back_to_the_assignment():
    """A cost of 0.6 beside a capacity of 1e8 pushed 1.7e8 pattern entries before the
    enumeration's limit was checked (MemoryError, a second diff review). (HiGHS's feasibility
    tolerance, 1e-7 of the largest capacity, then takes 0.6 as room to spare: the MILP's
    set is checked at a ratio of 1e5 instead.)"""
    d = CapacityDomain.from_arrays(**_arms(3, np.random.default_rng(0)),
                                   costs=[1e8, 0.6, 0.6], capacities=[1e8, 1.0])
    assert "assign" in d._build_block().index
    d = CapacityDomain.from_arrays(**_arms(3, np.random.default_rng(0)),
                                   costs=[1e5, 0.6, 0.6], capacities=[1e5, 1.0])
    block = d._build_block()
    assert _feasible_set(block, 3) == [d.is_feasible(np.array(a))
                                       for a in itertools.product((0, 1), repeat=3)]


@pytest.mark.mip
@pytest.mark.parametrize("costs, capacities", [([0.5, 0.5000001], [1.0]),
                                               ([1e8, 0.6, 0.6, 0.6], [1e8, 1.0, 1.0]),
                                               ([0.2, 0.5, 0.5000001, 0.5000001], [1.0])])
def test_an_action_within_the_solvers_tolerance_is_repaired(costs, capacities):
    """HiGHS accepts a row broken by 1e-6 of the unit, the check by 1e-9: the myopic MIP
    pulled [0.5, 0.5000001] into a capacity of 1 and the evaluation refused it (8 of 8
    states). The planners now drop the least valuable arms until the action packs, then add
    back what fits (the arm of cost 0.2, once one of 0.5000001 is dropped: a diff review).
    On these instances that is the best feasible action; greedy repair is not always."""
    from rmab.domains.baselines import make_domain_planner
    from rmab.planners.sequoia.argmax import MIPArgmax
    from rmab.planners.sequoia.features import input_size
    from solvers.nn.network import ReLUNetwork

    d = CapacityDomain.from_arrays(**_arms(len(costs), np.random.default_rng(1)),
                                   costs=costs, capacities=capacities)
    assert "assign" in d._build_block().index                 # rows with real coefficients
    feasible = d.feasible_actions()
    planner = make_domain_planner("myopic").fit(d, seed=0)
    repaired = 0
    for s in itertools.product(range(d.n_states), repeat=d.n_arms):
        s = np.array(s)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            action = planner.plan(s)
        repaired += any("within the solver's feasibility tolerance" in str(w.message)
                        for w in caught)
        assert d.is_feasible(action)
        values = [d.expected_reward(s, a) for a in feasible]
        assert d.expected_reward(s, action) == pytest.approx(max(values), rel=1e-12)
    assert repaired > 0                            # the case arises, and is repaired
    # SEQUOIA's argmax: a network that pays for every pull wants them all
    n_in = input_size(d.action_size, d.n_arms)
    w = np.zeros((1, n_in))
    w[0, :d.action_size] = np.arange(1, d.action_size + 1)
    net = ReLUNetwork((w,), (np.zeros(1),))
    with pytest.warns(RmabWarning, match="dropped element"):
        got = MIPArgmax(d, 5, net).solve(np.zeros(d.n_arms, dtype=np.int64), 3)
    assert d.is_feasible(got.action)
    best = max(float(w[0, :d.action_size] @ a) for a in feasible)
    assert got.value == pytest.approx(best)


def _brute_packable(costs, caps):
    """Every assignment of the items to workers tried (no tolerance needed: integer data)."""
    return any(all(sum(c for c, w in zip(costs, ws) if w == i) <= caps[i]
                   for i in range(len(caps)))
               for ws in itertools.product(range(len(caps)), repeat=len(costs)))


@pytest.mark.mip
def test_assignment_fallback_holds_each_worker_to_its_own_capacity(monkeypatch):
    """Four arms of cost 2 and workers of capacities 3 and 5 (total 8 = total cost, so the
    valid total row does not bind): the small worker holds one arm, so at most three can be
    pulled. A worker row with another worker's capacity (the largest, 5) let the MILP pull
    all four; the instances above have capacities that leave no such gap."""
    monkeypatch.setattr(cap_mod, "_MAX_PATTERNS", 0)
    costs, caps = [2.0, 2.0, 2.0, 2.0], [3.0, 5.0]
    d = CapacityDomain.from_arrays(**_arms(4, np.random.default_rng(0)), costs=costs,
                                   capacities=caps)
    block = d._build_block()
    assert "assign" in block.index
    actions = list(itertools.product((0, 1), repeat=d.n_arms))
    brute = [_brute_packable([c for c, a in zip(costs, act) if a], caps) for act in actions]
    assert not brute[-1] and sum(brute) == 15          # all four do not fit, any three do
    assert _feasible_set(block, d.n_arms) == brute
