"""SEQUOIA building blocks without torch: features, target cache, replay buffer, brute force."""

import numpy as np
import pytest

from rmab.domains import make_capacity

from rmab.errors import InvalidParameterError
from rmab.planners.sequoia.argmax import BruteForceArgmax, make_argmax
from rmab.planners.sequoia.cache import TargetCache
from rmab.planners.sequoia.features import context_features, encode_inputs, input_size
from rmab.planners.sequoia.replay import ReplayBuffer
from solvers.nn.network import ReLUNetwork


@pytest.fixture
def tiny_capacity():
    return make_capacity(4, 2, seed=1)


def test_features_layout_and_normalisation():
    states = np.array([0, 3, 1, 2])
    x = encode_inputs(np.array([[1, 0, 1, 0], [0, 0, 0, 1]]), states, 5, horizon=20, n_states=4)
    assert x.shape == (2, input_size(4, 4)) == (2, 9)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x[0], [1, 0, 1, 0, 0, 1, 1 / 3, 2 / 3, 0.25])
    np.testing.assert_allclose(x[1, 4:], x[0, 4:])
    # per-row states and time-to-go
    ctx = context_features(np.array([[3, 3], [0, 0]]), np.array([20, 1]), 20, 4)
    np.testing.assert_allclose(ctx, [[1, 1, 1], [0, 0, 0.05]])
    assert ctx.min() >= 0 and ctx.max() <= 1


def test_target_cache_hits_and_clear():
    cache = TargetCache()
    s = np.array([0, 1, 2])
    assert cache.get(s, 3) is None
    cache.put(s, 3, 1.5)
    assert cache.get(s.copy(), 3) == 1.5
    assert cache.get(s, 2) is None                     # time-to-go is part of the key
    assert cache.get(np.array([0, 1, 3]), 3) is None   # so is every arm's state
    assert (cache.hits, cache.misses, len(cache)) == (1, 3, 1)
    cache.clear()
    assert cache.get(s, 3) is None and len(cache) == 0
    assert (cache.hits, cache.misses) == (1, 4)


def test_replay_ring_buffer_and_seeded_sampling():
    buf = ReplayBuffer(3, n_arms=2, action_size=2)
    for i in range(5):
        buf.add([i, i], [1, 0], float(i), [i + 1, i + 1], 20 - i, [i % 2, 0])
    assert len(buf) == 3
    b1 = buf.sample(50, np.random.default_rng(0))
    b2 = buf.sample(50, np.random.default_rng(0))
    np.testing.assert_array_equal(b1.rewards, b2.rewards)
    assert set(b1.rewards) == {2.0, 3.0, 4.0}          # the two oldest were overwritten
    np.testing.assert_array_equal(b1.next_states[:, 0], b1.states[:, 0] + 1)
    np.testing.assert_array_equal(b1.time_to_go, 20 - b1.rewards.astype(int))
    np.testing.assert_array_equal(b1.levels[:, 0], b1.rewards.astype(int) % 2)


def test_brute_force_argmax_is_the_best_feasible_action(tiny_capacity):
    d = tiny_capacity
    rng = np.random.default_rng(0)
    net = ReLUNetwork((rng.normal(size=(5, 9)), rng.normal(size=(1, 5))),
                      (rng.normal(size=5), rng.normal(size=1)))
    oracle = BruteForceArgmax(d, 20, net)
    feasible = [a for a in oracle.actions]
    assert all(d.is_feasible(a) for a in feasible)
    n_feasible = sum(d.is_feasible(np.array(a)) for a in np.ndindex(*(2,) * 4))
    assert len(feasible) == n_feasible
    s = np.array([0, 1, 3, 2])
    res = oracle.solve(s, 7)
    vals = [float(net.forward(encode_inputs(a, s, 7, 20, 4)[0].astype(float))[0])
            for a in feasible]
    assert res.value == pytest.approx(max(vals))
    assert d.is_feasible(res.action)
    np.testing.assert_allclose(oracle.values(s, 7), vals, rtol=1e-12, atol=1e-12)
    other = ReLUNetwork((-net.weights[0], net.weights[1]), (net.biases[0], net.biases[1]))
    oracle.set_network(other)                   # the cached first layer follows the network
    want = other.forward(encode_inputs(oracle.actions, s, 7, 20, 4).astype(float))[:, 0]
    np.testing.assert_allclose(oracle.values(s, 7), want, rtol=1e-12, atol=1e-12)


def test_auto_argmax_enumerates_short_lists_and_solves_long_ones(tiny_capacity):
    from rmab.domains import make_path
    from rmab.planners.sequoia.argmax import AUTO_ENUMERATION, MIPArgmax

    path = make_path(20, 5, seed=1)                  # 1 048 feasible pull vectors
    oracle = make_argmax(path, 20, "auto")
    assert isinstance(oracle, BruteForceArgmax)
    assert len(oracle.actions) == 1048 <= AUTO_ENUMERATION
    assert isinstance(make_argmax(tiny_capacity, 20, "auto"), BruteForceArgmax)
    big = make_capacity(20, 5, seed=1)               # action_size 20: no list
    assert isinstance(make_argmax(big, 20, "auto"), MIPArgmax)
    with pytest.raises(InvalidParameterError, match="BruteForceArgmax.domain: must list its "
                                                    "feasible actions.*CapacityDomain"):
        BruteForceArgmax(big, 20)


def test_make_argmax_rejects_unknown_method(tiny_capacity):
    with pytest.raises(InvalidParameterError, match="make_argmax.method: must be"):
        make_argmax(tiny_capacity, 20, "gurobi")


def test_brute_force_leaves_out_the_null_action_where_the_mip_does():
    # a network that prefers fewer interventions: "do nothing" would win among the listed
    # feasible actions, but the MIP chooses exactly budget, and so must the enumeration
    from rmab.domains import make_domain
    from rmab.planners.sequoia.argmax import MIPArgmax

    d = make_domain("interventions", 12, 3, seed=0)
    n_in = input_size(d.action_size, d.n_arms)
    w1 = np.zeros((1, n_in))
    w1[0, :d.action_size] = -1.0
    net = ReLUNetwork((w1, np.ones((1, 1))), (np.array([10.0]), np.zeros(1)))
    assert not d.feasible_actions().any(axis=1).all()            # the null action is listed
    brute, mip = BruteForceArgmax(d, 5, net), MIPArgmax(d, 5, net)
    s = np.zeros(d.n_arms, dtype=np.int64)
    got, want = brute.solve(s, 3), mip.solve(s, 3)
    assert got.action.sum() == d.budget and got.value == pytest.approx(want.value)


def test_a_network_without_hidden_layers_and_the_time_limit_fallback():
    from rmab.domains import make_domain
    from rmab.planners.sequoia.argmax import MIPArgmax

    d = make_domain("interventions", 12, 3, seed=0)
    rng = np.random.default_rng(4)
    n_in = input_size(d.action_size, d.n_arms)
    linear = ReLUNetwork((rng.normal(size=(1, n_in)),), (np.zeros(1),))   # no hidden layer
    s = rng.integers(0, d.n_states, d.n_arms)
    got, want = BruteForceArgmax(d, 5, linear).solve(s, 2), MIPArgmax(d, 5, linear).solve(s, 2)
    assert got.value == pytest.approx(want.value, rel=1e-9, abs=1e-9)
    # with no time to find an incumbent the MIP falls back to an action of its own set
    assert MIPArgmax(d, 5, linear).fallback.sum() == d.budget


@pytest.mark.mip
def test_mip_argmax_does_not_depend_on_the_outputs_scale_or_constant():
    """Q, 1e-7 Q, Q + 1e4 (two ways) and Q with loose bounds have one argmax. The output
    bias went to HiGHS as the objective's offset, which its relative gap counts (Q + 1e4:
    suboptimal "optimal" actions in 6 of 30 states), and a tiny objective met its absolute
    tolerances (1e-7 Q: the 15th-best action of 140), a review of the planning side."""
    from rmab.planners.sequoia.argmax import MIPArgmax

    d = make_capacity(8, 3, seed=0)
    rng = np.random.default_rng(0)
    sizes = [input_size(d.action_size, d.n_arms), 10, 8, 1]
    ws = [rng.normal(size=(o, i)) for i, o in zip(sizes, sizes[1:])]
    bs = [rng.normal(size=o) for o in sizes[1:]]
    brute = BruteForceArgmax(d, 5, ReLUNetwork(tuple(ws), tuple(bs)))
    row = np.random.default_rng(1).normal(size=(1, 10))
    nets = {"tiny": ReLUNetwork(tuple(ws[:-1]) + (ws[-1] * 1e-7,),
                                tuple(bs[:-1]) + (bs[-1] * 1e-7,)),
            "shifted": ReLUNetwork(tuple(ws), tuple(bs[:-1]) + (bs[-1] + 1e4,)),
            # the same Q again, its constant inside the MIP's objective: a neuron always 1
            # of weight -1e4 and the output bias + 1e4 (a second review: 7 of 30 states
            # suboptimal with the bias left out alone)
            "inside": ReLUNetwork((ws[0], np.vstack([ws[1], np.zeros((1, 10))]),
                                   np.hstack([ws[2], [[-1e4]]])),
                                  (bs[0], np.r_[bs[1], 1.0], bs[2] + 1e4)),
            # and with loose output bounds: two equal active neurons of weights +1e3 and
            # -1e3 (Q unchanged; shifting by the bound lost actions in 10 of 30 states, a
            # third review)
            "loose": ReLUNetwork((ws[0], np.vstack([ws[1], row, row]),
                                  np.hstack([ws[2], [[1e3, -1e3]]])),
                                 (bs[0], np.r_[bs[1], 100.0, 100.0], bs[2]))}
    oracles = {name: MIPArgmax(d, 5, net, mip_gap=0.0 if name == "tiny" else 1e-4)
               for name, net in nets.items()}
    states = [np.array([0, 3, 1, 2, 0, 1, 3, 2])] + [rng.integers(0, 4, 8) for _ in range(29)]
    for s in states:
        values = brute.values(s, 3)
        for name, oracle in oracles.items():
            got = oracle.solve(s, 3)
            value = values[np.flatnonzero((brute.actions == got.action).all(axis=1))[0]]
            assert value >= values.max() - 1e-4 * np.abs(values).max(), (name, s)


def test_argmax_oracles_check_their_inputs(tiny_capacity):
    """Raw AttributeError, numpy and solvers errors, or silently inf at time to go 0 (the
    input divided by 0), a review of the planning side."""
    from rmab.errors import InvalidModelError, PlanningError
    from rmab.planners.sequoia.argmax import MIPArgmax

    d = tiny_capacity
    rng = np.random.default_rng(0)
    n_in = input_size(d.action_size, d.n_arms)
    net = ReLUNetwork((rng.normal(size=(4, n_in)), rng.normal(size=(1, 4))),
                      (rng.normal(size=4), rng.normal(size=1)))
    wrong = ReLUNetwork((rng.normal(size=(4, 3)), rng.normal(size=(1, 4))),
                        (rng.normal(size=4), rng.normal(size=1)))
    s = np.zeros(d.n_arms, dtype=np.int64)
    with pytest.raises(PlanningError, match="BruteForceArgmax: no network set"):
        BruteForceArgmax(d, 5).solve(s, 1)
    for oracle in (BruteForceArgmax, MIPArgmax):
        name = oracle.__name__
        with pytest.raises(InvalidParameterError, match=rf"{name}.horizon: must be >= 1"):
            oracle(d, 0, net)
        with pytest.raises(InvalidParameterError, match=rf"{name}.network: must be a "
                                                        r"ReLUNetwork or GainTableNetwork"):
            oracle(d, 5, "x")
        with pytest.raises(InvalidModelError, match=rf"{name}.network: must have "
                                                    r"action_size \+ n_arms \+ 1"):
            oracle(d, 5, wrong)
        with pytest.raises(InvalidParameterError, match=rf"{name}.solve.time_to_go: must be "
                                                        r">= 1; got 0"):
            oracle(d, 5, net).solve(s, 0)
        # states past n_states, fractional or of the wrong length: brute force answered or
        # raised numpy's error, the MIP solvers' (a SEQUOIA review)
        for states, what in ((np.full(d.n_arms, d.n_states), "must lie in"),
                             (np.full(d.n_arms, 0.5), "integer"), (s[:-1], "shape")):
            with pytest.raises(InvalidParameterError, match=rf"{name}.solve.states: .*{what}"):
                oracle(d, 5, net).solve(states, 1)
        with pytest.raises(InvalidParameterError, match=rf"{name}.domain: must be a coRMAB "
                                                        r"Domain \(see rmab.domains\); got "
                                                        "NoneType"):
            oracle(None, 5, net)
    with pytest.raises(InvalidParameterError, match=r"make_argmax.domain: must be a coRMAB"):
        make_argmax(None, 5)
    for bad, field in ((dict(mip_gap=2.0), "mip_gap"), (dict(time_limit=-1), "time_limit"),
                       (dict(n_fallback=-1), "n_fallback"), (dict(tighten="xx"), "tighten"),
                       (dict(backend="nope"), "backend")):
        with pytest.raises(InvalidParameterError, match=rf"MIPArgmax.{field}: "):
            MIPArgmax(d, 5, net, **bad)
    huge = ReLUNetwork((net.weights[0], np.full((1, 4), 1e21)), net.biases)   # HiGHS: inf
    with pytest.raises(InvalidModelError, match=r"MIPArgmax.network: .* from 1e\+20 on"):
        MIPArgmax(d, 5, huge)                     # was a raw SolverInputError (a review)
