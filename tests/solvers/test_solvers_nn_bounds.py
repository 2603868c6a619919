"""Bounds: exact first layer under a cardinality row (vs enumeration), valid knapsack-LP and
interval bounds (vs sampled feasible inputs), the default never looser than plain intervals,
LP tightening valid and never looser."""

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from solvers import MILP, SolverInputError
from solvers.nn import (Knapsack, ReLUNetwork, action_range, interval_bounds,
                        knapsacks_from_milp, lp_tighten, network_bounds)


def random_net(sizes, rng):
    return ReLUNetwork(tuple(rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])),
                       tuple(rng.normal(size=o) for o in sizes[1:]))


def feasible_actions(lower, upper, ks):
    n = lower.size
    for a in itertools.product((0, 1), repeat=n):
        a = np.array(a, float)
        if (a >= lower).all() and (a <= upper).all() and all(k.weights @ a <= k.capacity + 1e-9
                                                             for k in ks):
            yield a


def pre_activations(net, x):
    out, h = [], x
    for W, b in zip(net.weights, net.biases):
        z = W @ h + b
        out.append(z)
        h = np.maximum(z, 0)
    return out


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 9), k=st.integers(0, 9),
       weight=st.sampled_from([1.0, 2.0, 0.5, 0.1, 0.3]), slack=st.sampled_from([0.0, 0.3]))
@example(seed=92, n=5, k=3, weight=0.1, slack=0.0)    # three forced on: 0.3 is full
def test_cardinality_range_is_exact(seed, n, k, weight, slack):
    """Also with weights and capacities as written in decimals (``0.1`` three times fills
    ``0.3``, though 0.1 + 0.1 + 0.1 > 0.3 in float64)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(6, n))
    lower, upper = np.zeros(n), np.ones(n)
    lower[rng.random(n) < 0.15] = 1.0                    # some actions forced on
    upper[(rng.random(n) < 0.15) & (lower == 0)] = 0.0   # some forbidden
    ks = [Knapsack(np.full(n, weight), float(f"{weight * (k + slack):.10g}"))]  # k items fit
    feas = list(feasible_actions(lower, upper, ks))
    lo, hi = action_range(W, lower, upper, ks, integer=np.ones(n, bool))
    if not feas:
        return
    vals = np.array([W @ a for a in feas])
    assert hi == pytest.approx(vals.max(axis=0))
    assert lo == pytest.approx(vals.min(axis=0))


def test_integer_actions_with_fractional_bounds():
    """An integer action in [0.5, 1.5] is 1: its range is exact, not the box's ends."""
    lo, hi = action_range([[1.0], [-2.0]], [0.5], [1.5], [Knapsack([1.0], 1.0)],
                          integer=[True])
    np.testing.assert_array_equal(lo, [1.0, -2.0])
    np.testing.assert_array_equal(hi, [1.0, -2.0])
    lo, hi = action_range([[1.0]], [0.5], [1.5], integer=[False])      # continuous: the box
    assert (lo[0], hi[0]) == (0.5, 1.5)
    with pytest.raises(SolverInputError, match="integer action 0 has no integer between"):
        action_range([[1.0]], [0.3], [0.7], integer=[True])
    ones = np.ones(5, bool)                 # three actions forced on fill 0.3 in 0.1s exactly
    lo, hi = action_range([[1, 2, 3, -1, 5]], [1, 1, 1, 0, 0], ones,
                          [Knapsack(np.full(5, 0.1), 0.3)], integer=ones)
    assert (lo[0], hi[0]) == (6.0, 6.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 9))
def test_knapsack_range_is_a_valid_relaxation(seed, n):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(5, n))
    ks = [Knapsack(rng.integers(0, 5, n).astype(float), float(rng.integers(0, 10))),
          Knapsack(np.ones(n), float(rng.integers(0, n + 1)))]
    lo, hi = action_range(W, np.zeros(n), np.ones(n), ks)
    box_lo, box_hi = action_range(W, np.zeros(n), np.ones(n))
    vals = np.array([W @ a for a in feasible_actions(np.zeros(n), np.ones(n), ks)])
    assert (hi >= vals.max(axis=0) - 1e-9).all() and (lo <= vals.min(axis=0) + 1e-9).all()
    assert (hi <= box_hi + 1e-12).all() and (lo >= box_lo - 1e-12).all()


@pytest.mark.parametrize("sizes", [[10, 8, 1], [10, 8, 6, 1]])
def test_network_bounds_contain_sampled_feasible_inputs(sizes):
    rng = np.random.default_rng(len(sizes))
    n_action, n_state = 6, sizes[0] - 6
    net = random_net(sizes, rng)
    ks = [Knapsack(np.ones(n_action), 2)]
    s_lo, s_hi = np.zeros(n_state), np.ones(n_state)
    box = network_bounds(net, n_action, s_lo, state_upper=s_hi, action_lower=np.zeros(n_action),
                         action_upper=np.ones(n_action), knapsacks=ks)
    actions = list(feasible_actions(np.zeros(n_action), np.ones(n_action), ks))
    for _ in range(20):
        s = rng.random(n_state)
        point = network_bounds(net, n_action, s, action_lower=np.zeros(n_action),
                               action_upper=np.ones(n_action), knapsacks=ks)
        for a in actions:
            for l, z in enumerate(pre_activations(net, np.r_[a, s])):
                assert (point.lower[l] - 1e-9 <= z).all() and (z <= point.upper[l] + 1e-9).all()
                assert (box.lower[l] - 1e-9 <= z).all() and (z <= box.upper[l] + 1e-9).all()
        for l in range(len(sizes) - 1):                    # a point is inside its box
            assert (point.upper[l] <= box.upper[l] + 1e-9).all()
        intervals = interval_bounds(net, point.lower[0], point.upper[0])
        width = [(u - lo).sum() for lo, u in zip(point.lower, point.upper)]
        assert width[1] < sum(intervals.upper[1] - intervals.lower[1])   # back-substitution


@pytest.mark.parametrize("sizes", [[9, 8, 1], [9, 8, 6, 1], [9, 6, 5, 4, 1]])
@pytest.mark.parametrize("cardinality", [True, False])
def test_exact_bounds_never_looser_than_interval_and_both_valid(sizes, cardinality):
    """The ablation switch: knapsack-exact layer 1 with layer-2 back-substitution (default),
    without the back-substitution, and plain intervals over the action box; nested in that
    order and all containing the pre-activations of every feasible action (brute force)."""
    rng = np.random.default_rng(len(sizes) + 10 * cardinality)
    n_action, n_state = 6, sizes[0] - 6
    net = random_net(sizes, rng)
    weights = np.ones(n_action) if cardinality else rng.integers(1, 4, n_action).astype(float)
    ks = [Knapsack(weights, 2.0 if cardinality else 4.0)]
    box = dict(action_lower=np.zeros(n_action), action_upper=np.ones(n_action),
               integer=np.ones(n_action, bool))
    actions = list(feasible_actions(np.zeros(n_action), np.ones(n_action), ks))
    for _ in range(5):
        s = rng.random(n_state)
        exact = network_bounds(net, n_action, s, knapsacks=ks, **box)
        first = network_bounds(net, n_action, s, knapsacks=ks, back_substitution=False, **box)
        plain = network_bounds(net, n_action, s, back_substitution=False, **box)
        intervals = interval_bounds(net, plain.lower[0], plain.upper[0])
        for ours, theirs in zip(plain.lower + plain.upper, intervals.lower + intervals.upper):
            np.testing.assert_array_equal(ours, theirs)       # plain intervals after layer 1
        for tight, loose in ((exact, first), (first, plain)):
            for l in range(len(sizes) - 1):
                assert (tight.upper[l] <= loose.upper[l] + 1e-9).all()
                assert (tight.lower[l] >= loose.lower[l] - 1e-9).all()
        for a in actions:
            for l, z in enumerate(pre_activations(net, np.r_[a, s])):
                for nb in (exact, first, plain):
                    assert (nb.lower[l] - 1e-9 <= z).all() and (z <= nb.upper[l] + 1e-9).all()
    width = [sum((nb.upper[l] - nb.lower[l]).sum() for l in range(len(sizes) - 1))
             for nb in (exact, plain)]
    assert width[0] < width[1]


@pytest.mark.mip
def test_lp_tightening_is_valid_and_never_looser():
    rng = np.random.default_rng(7)
    n_action, n_state = 7, 3
    net = random_net([10, 8, 8, 1], rng)
    action_milp = MILP.from_arrays(np.zeros(n_action), np.ones((1, n_action)), None, [3], 0, 1,
                                   [True] * n_action)
    ks = knapsacks_from_milp(action_milp, n_action)
    s = rng.random(n_state)
    base = network_bounds(net, n_action, s, action_lower=np.zeros(n_action),
                          action_upper=np.ones(n_action), knapsacks=ks)
    tight = lp_tighten(net, base, action_milp, n_action, s)
    assert (tight.upper[1] <= base.upper[1] + 1e-9).all()
    assert (tight.lower[1] >= base.lower[1] - 1e-9).all()
    assert (tight.upper[1] - tight.lower[1]).sum() < (base.upper[1] - base.lower[1]).sum()
    for a in feasible_actions(np.zeros(n_action), np.ones(n_action), ks):
        for l, z in enumerate(pre_activations(net, np.r_[a, s])):
            assert (tight.lower[l] - 1e-7 <= z).all() and (z <= tight.upper[l] + 1e-7).all()


def test_knapsacks_from_milp():
    A = [[1, 1, 0, 0], [-2, 0, -1, 0], [1, 0, 0, 1], [1, -1, 0, 0]]
    milp = MILP.from_arrays(np.zeros(4), A, [-np.inf, -4, -np.inf, -np.inf], [2, np.inf, 1, 0],
                            0, 1, [True] * 4)
    ks = knapsacks_from_milp(milp, 3)
    # row 0 (<= 2), row 1 flipped (2a0 + a2 <= 4); row 2 touches column 3, row 3 mixed signs
    assert [k.capacity for k in ks] == [2.0, 4.0]
    assert ks[1].weights.tolist() == [2.0, 0.0, 1.0]


def test_bounds_errors():
    with pytest.raises(SolverInputError, match="Knapsack.weights: must be finite and >= 0"):
        Knapsack([1, -1], 2)
    with pytest.raises(SolverInputError, match="action_range.lower/upper: must be finite"):
        action_range(np.ones((1, 2)), [0, 0], [1, np.inf])
    with pytest.raises(SolverInputError, match="Knapsack.weights: must have 2 entries"):
        action_range(np.ones((1, 2)), [0, 0], [1, 1], [Knapsack([1, 1, 1], 1)])
    net = random_net([4, 3, 1], np.random.default_rng(0))
    with pytest.raises(SolverInputError, match="network_bounds.state: must have 2 entries"):
        network_bounds(net, 2, [0.0], action_lower=[0, 0], action_upper=[1, 1])
    for n_action in (1.0, "1", True):                 # bare TypeErrors from slicing before
        with pytest.raises(SolverInputError, match=r"n_action: must be an integer in \[0, 4\]"):
            network_bounds(net, n_action, [0.0] * 3, action_lower=[0], action_upper=[1])
    # one integrality flag broadcast over continuous actions made the bounds invalid
    for flags in ([True], True):
        with pytest.raises(SolverInputError, match=r"action_range.integer: must (be a bool "
                                                   r"array of|have) shape \(2,\)"):
            action_range(np.ones((1, 2)), [0, 0], [1, 1], integer=flags)
    with pytest.raises(SolverInputError, match="network_bounds.state: must be finite"):
        network_bounds(net, 2, [0.0, np.nan], action_lower=[0, 0], action_upper=[1, 1])
    with pytest.raises(SolverInputError, match="network_bounds.state: must be finite"):
        network_bounds(net, 2, [0.0, np.inf], action_lower=[0, 0], action_upper=[1, 1])
    # not a ReLUNetwork (a torch module, a path): AttributeError on .weights before
    with pytest.raises(SolverInputError, match=r"^network_bounds.net: must be a ReLUNetwork; "
                                               r"got str$"):
        network_bounds("net.npz", 2, [0.0] * 2, action_lower=[0, 0], action_upper=[1, 1])
    with pytest.raises(SolverInputError, match=r"^interval_bounds.net: must be a ReLUNetwork"):
        interval_bounds(net.weights, [0.0] * 3, [1.0] * 3)
    box = network_bounds(net, 2, [0.0] * 2, action_lower=[0, 0], action_upper=[1, 1])
    milp = MILP.from_arrays(np.zeros(2), np.ones((1, 2)), None, [1], 0, 1, [True] * 2)
    with pytest.raises(SolverInputError, match=r"^lp_tighten.bounds: must be a NetworkBounds; "
                                               r"got tuple$"):
        lp_tighten(net, (box.lower, box.upper), milp, 2, [0.0] * 2)
    with pytest.raises(SolverInputError, match=r"^lp_tighten.action_milp: must be a MILP"):
        lp_tighten(net, box, None, 2, [0.0] * 2)


def test_default_action_range_holds_for_continuous_actions():
    """Without ``integer`` the range is valid for any action in the box: three continuous
    actions of weight 1 under capacity 1.5 reach 1.5 (an all-integer default gave 1)."""
    lo, hi = action_range(np.ones((1, 3)), np.zeros(3), np.ones(3), [Knapsack(np.ones(3), 1.5)])
    assert hi[0] == pytest.approx(1.5)
    lo, hi = action_range(np.ones((1, 3)), np.zeros(3), np.ones(3), [Knapsack(np.ones(3), 1.5)],
                          integer=np.ones(3, bool))
    assert hi[0] == pytest.approx(1.0)


@pytest.mark.parametrize("cap, upper", [(1.9999995, 1.0), (2.0, 0.9999995)])
def test_bounds_admit_what_the_solver_admits(cap, upper):
    """A row or bound met within the solver's tolerance (1e-6): the bounds dropped the neuron
    that only both items switch on, the solver took both, and the MIP said 0.2 where the
    network gives 5.2 (a solvers review)."""
    from solvers import get_backend
    from solvers.nn import encode_network

    net = ReLUNetwork(([[1.0, 1.0], [1.0, 1.0]], [[10.0, 0.1]]), ([-1.5, 0.0], [0.0]))
    actions = MILP.from_arrays([0, 0], [[1, 1]], [-np.inf], [cap], 0, [upper, 1], True)
    res = get_backend("highs").build(encode_network(net, actions, []).milp).solve(presolve=False)
    assert res.objective == pytest.approx(net.forward(res.x[:2])[0])


def test_knapsack_input_errors_name_the_field():
    with pytest.raises(SolverInputError, match=r"Knapsack\.capacity: must be a number"):
        Knapsack([1.0, 2.0], "x")
    with pytest.raises(SolverInputError, match=r"Knapsack\.capacity: must be a number; got '2'"):
        Knapsack([1.0, 2.0], "2")                          # was taken as 2.0
    with pytest.raises(SolverInputError, match=r"Knapsack\.weights: must be one weight per "
                                               r"action \(1-D\); got shape \(2, 2\)"):
        Knapsack(np.ones((2, 2)), 1.0)                     # was flattened to 4 weights
    with pytest.raises(SolverInputError, match=r"Knapsack\.weights: must be an array of real"):
        Knapsack(np.array([1 + 1j, 1]), 1.0)
    with pytest.raises(SolverInputError, match=r"action_range\.W: must have shape \(rows, 2\)"):
        action_range(np.ones((2, 3)), [0, 0], [1, 1])
    with pytest.raises(SolverInputError, match=r"knapsacks_from_milp\.n_action: must be an "):
        knapsacks_from_milp(MILP.from_arrays([1.0, 1.0]), None)
    with pytest.raises(SolverInputError, match=r"knapsacks_from_milp\.milp: must be a MILP"):
        knapsacks_from_milp("x", 2)
    net = ReLUNetwork((np.ones((2, 2)), np.ones((1, 2))), (np.zeros(2), np.zeros(1)))
    with pytest.raises(SolverInputError, match=r"interval_bounds\.first_lower/first_upper: must "):
        interval_bounds(net, np.zeros(3), np.ones(3))
    with pytest.raises(SolverInputError, match=r"ReLUNetwork\.forward\.x: must be an array of r"):
        net.forward("ab")
    with pytest.raises(SolverInputError, match=r"ReLUNetwork\.forward\.x: must be an array of r"):
        net.forward(np.array([1 + 2j, 0]))                 # the imaginary part was dropped
    with pytest.raises(SolverInputError,
                       match=r"ReLUNetwork\.weights: must be a sequence of arrays"):
        ReLUNetwork(None, (np.zeros(2),))
    with pytest.raises(SolverInputError, match=r"knapsacks: must be Knapsack objects; got tuple"):
        action_range(np.eye(2), [0, 0], [1, 1], [([1.0, 1.0], 1.0)])
    with pytest.raises(SolverInputError, match=r"MILP\.x: must have shape \(2,\); got \(3,\)"):
        MILP.from_arrays([1.0, 1.0]).objective_value([1, 2, 3])


def test_bounds_refuse_input_that_would_make_them_invalid():
    """Each was accepted and gave bounds that do not hold (a solvers review): a state above
    its box's upper end (layer-1 bounds 2..1 where the net gives 3), NaN weights ((nan, nan)),
    reversed intervals, and an integrality flag of 0.5 read as True (the box then rounded)."""
    net = ReLUNetwork(([[1.0, 2.0]], [[1.0]]), ([0.0], [0.0]))
    with pytest.raises(SolverInputError, match=r"network_bounds.state: must be <= state_upper; "
                                               r"got 1.0 > 0.0 at index 0"):
        network_bounds(net, 1, [1.0], state_upper=[0.0], action_lower=[0], action_upper=[1])
    with pytest.raises(SolverInputError, match=r"action_range.W: must be finite"):
        action_range([[np.nan, 1.0]], [0, 0], [1, 1])
    with pytest.raises(SolverInputError, match=r"action_range.lower: must be <= upper; got 2.0 "
                                               r"> 1.0 at index 1"):
        action_range(np.ones((1, 2)), [0, 2], [1, 1])
    with pytest.raises(SolverInputError, match=r"interval_bounds.first_lower: must be <= "
                                               r"first_upper; got 2.0 > 1.0"):
        interval_bounds(net, [2.0], [1.0])
    with pytest.raises(SolverInputError, match=r"interval_bounds.first_lower/first_upper: must "
                                               r"be numbers .*got NaN"):
        interval_bounds(net, [np.nan], [1.0])
    for flags in ([0.5, 0], [np.nan, 0]):
        with pytest.raises(SolverInputError, match=r"action_range.integer: must be a bool "
                                                   r"array of shape \(2,\)"):
            action_range(np.ones((1, 2)), [0, 0], [1.5, 1], integer=flags)


def test_bounds_that_overflow_float64_name_the_network():
    """Weights of 1e300 gave inf - inf = NaN bounds, refused by interval_bounds under the
    name of arguments the caller never passed (first_lower/first_upper; a fuzz review), with
    numpy's overflow warnings on the way."""
    import warnings

    second = ReLUNetwork((np.full((3, 4), 1e300), np.full((1, 3), 1e300)),   # layer 2's
                         (np.zeros(3), np.zeros(1)))                       # back-substitution
    first = ReLUNetwork(([[1e308, 1e308, -1e308, -1e308]], [[1.0]]), ([0.0], [0.0]))
    for net, state, low in ((second, [0.0, 0.0], 0), (first, [1.0, 1.0], 1)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(SolverInputError, match=r"^network_bounds\.net: must give "
                                                       r"bounds within float64 over the input "
                                                       r"box; got NaN"):
                network_bounds(net, 2, state, state_upper=[1.0, 1.0], action_lower=[low, low],
                               action_upper=[1, 1])
