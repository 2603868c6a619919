"""The per-arm gain table of SEQUOIA's Q-function: level maps, numpy/torch/MIP agreement, the
Whittle warm start, files and errors."""

from dataclasses import replace

import numpy as np
import pytest

from rmab.domains import make_domain
from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.planners.sequoia.argmax import BruteForceArgmax, MIPArgmax
from rmab.planners.sequoia.features import check_network_fits, encode_inputs, load_network
from rmab.planners.sequoia.gains import GainTableNetwork, level_map
from solvers.nn import ReLUNetwork

pytestmark = pytest.mark.mip

KINDS = {"capacity": dict(n_arms=7, budget=3), "scheduling": dict(n_arms=7, budget=3),
         "path": dict(n_arms=8, budget=3), "interventions": dict(n_arms=12, budget=2)}


def domain(kind, seed=1):
    return make_domain(kind, seed=seed, **KINDS[kind])


def random_table_network(d, rng, hidden=(6, 5), n_periods=0):
    sizes = [d.action_size + d.n_arms + 1, *hidden, 1]
    net = ReLUNetwork(tuple(rng.normal(size=(o, i)) for i, o in zip(sizes, sizes[1:])),
                      tuple(rng.normal(scale=0.5, size=o) for o in sizes[1:]))
    table = rng.normal(size=((n_periods,) if n_periods else ())
                       + (d.n_arms, d.n_states, d.arms.n_levels))
    table[..., 0] = 0.0
    return GainTableNetwork(net, table, level_map(d))


@pytest.mark.parametrize("kind", list(KINDS))
def test_level_map_gives_every_feasible_actions_levels(kind):
    d, rng = domain(kind), np.random.default_rng(0)
    m = level_map(d)
    for _ in range(30):
        a = d.sample_action(rng)
        assert np.array_equal(m @ a, d.arm_levels(a))


@pytest.mark.parametrize("kind", list(KINDS))
def test_forward_is_network_plus_table_by_hand(kind):
    d, rng = domain(kind), np.random.default_rng(1)
    g = random_table_network(d, rng)
    s = rng.integers(0, d.n_states, d.n_arms)
    acts = np.stack([d.sample_action(rng) for _ in range(5)])
    x = encode_inputs(acts, s, 4, 10, d.n_states).astype(np.float64)
    by_hand = [g.network.forward(x[i:i + 1])[0, 0]
               + sum(g.gain_table[j, s[j], d.arm_levels(a)[j]] for j in range(d.n_arms))
               for i, a in enumerate(acts)]
    np.testing.assert_allclose(g.forward(x)[:, 0], by_hand, rtol=1e-12)


@pytest.mark.parametrize("kind", list(KINDS))
def test_mip_argmax_with_a_table_equals_brute_force(kind):
    d, rng = domain(kind), np.random.default_rng(2)
    for trial in range(4):
        g = random_table_network(d, rng, hidden=(6,) if trial % 2 else (6, 5))
        mip, brute = MIPArgmax(d, 10, g), BruteForceArgmax(d, 10, g)
        for _ in range(4):
            s, ttg = rng.integers(0, d.n_states, d.n_arms), int(rng.integers(1, 11))
            got, want = mip.solve(s, ttg), brute.solve(s, ttg)
            assert got.status == "optimal"
            assert got.value == pytest.approx(want.value, rel=1e-6, abs=1e-6)
            assert d.is_feasible(got.action)


@pytest.mark.parametrize("kind", list(KINDS))
def test_per_period_table_forward_and_mip_argmax(kind):
    """A table per time-to-go (horizon 10): ``forward`` adds ``G[τ - 1]``'s gains, and the MIP
    argmax (which sets the level objective of ``G[τ - 1]`` at each state) equals enumeration."""
    d, rng = domain(kind), np.random.default_rng(7)
    g = random_table_network(d, rng, n_periods=10)
    assert g.n_periods == 10
    acts = np.stack([d.sample_action(rng) for _ in range(10)])
    s = rng.integers(0, d.n_states, d.n_arms)
    x = encode_inputs(acts, np.tile(s, (10, 1)), np.arange(1, 11), 10,
                      d.n_states).astype(np.float64)
    by_hand = [g.network.forward(x[i:i + 1])[0, 0]
               + sum(g.gain_table[i, j, s[j], d.arm_levels(a)[j]] for j in range(d.n_arms))
               for i, a in enumerate(acts)]
    np.testing.assert_allclose(g.forward(x)[:, 0], by_hand, rtol=1e-12)
    mip, brute = MIPArgmax(d, 10, g), BruteForceArgmax(d, 10, g)
    for ttg in (1, 4, 10):
        s = rng.integers(0, d.n_states, d.n_arms)
        got, want = mip.solve(s, ttg), brute.solve(s, ttg)
        assert got.status == "optimal"
        assert got.value == pytest.approx(want.value, rel=1e-6, abs=1e-6)
        assert got.value == pytest.approx(g.forward(encode_inputs(
            got.action[None], s, ttg, 10, d.n_states).astype(np.float64))[0, 0], abs=1e-6)


def test_per_period_table_files_and_shapes(tmp_path):
    d, rng = domain("capacity"), np.random.default_rng(8)
    g = random_table_network(d, rng, n_periods=5)
    g2 = load_network("t", g.save(tmp_path / "g.npz"))
    np.testing.assert_array_equal(g2.gain_table, g.gain_table)
    check_network_fits("SequoiaPlanner", g, d, horizon=5)
    with pytest.raises(InvalidModelError, match=r"SequoiaPlanner.network: its gain table has "
                                                r"one table per period of horizon 5; plan with "
                                                r"horizon=5"):
        check_network_fits("SequoiaPlanner", g, d, horizon=6)
    wrong = GainTableNetwork(g.network, np.zeros((5, 7, 4, 3)), g.levels_map)
    with pytest.raises(InvalidModelError, match=r"network.gain_table: must have shape "
                                                r"\(5, 7, 4, 2\) for this domain \(one table "
                                                r"per period of the horizon\); got \(5, 7, 4, 3\)"):
        check_network_fits("SequoiaPlanner", wrong, d, horizon=5)
    for oracle in (MIPArgmax, BruteForceArgmax):    # the row is chosen by time-to-go
        with pytest.raises(InvalidModelError, match=rf"{oracle.__name__}.network: its gain "
                                                    r"table has one table per period of "
                                                    r"horizon 5; this oracle's horizon is 10"):
            oracle(d, 10, g)
    with pytest.raises(InvalidModelError, match="must be 0 at level 0"):
        GainTableNetwork(g.network, g.gain_table + 1.0, g.levels_map)
    with pytest.raises(InvalidModelError, match=r"or \(horizon, n_arms, n_states, n_levels\)"):
        GainTableNetwork(g.network, g.gain_table[None], g.levels_map)
    with pytest.raises(InvalidModelError, match=r"gain_table: must be"):
        GainTableNetwork(g.network, g.gain_table[:0], g.levels_map)     # no period
    for arr in (g.gain_table, g.levels_map):   # checked once: writable, level 0 could be set
        with pytest.raises(ValueError, match="read-only"):
            arr[...] = 1
    assert g.gains(np.zeros(7, dtype=np.int64), 3).shape == (7, 2)
    np.testing.assert_array_equal(g.gains(np.zeros(7, dtype=np.int64), 3),
                                  g.gain_table[2, :, 0])


def test_save_load_round_trip_and_plain_networks(tmp_path):
    d, rng = domain("capacity"), np.random.default_rng(3)
    g = random_table_network(d, rng)
    g2 = load_network("t", g.save(tmp_path / "g.npz"))
    assert isinstance(g2, GainTableNetwork)
    np.testing.assert_array_equal(g2.gain_table, g.gain_table)
    x = encode_inputs(d.sample_action(rng)[None], rng.integers(0, 4, d.n_arms), 3, 10, 4)
    np.testing.assert_array_equal(g2.forward(x), g.forward(x))
    plain = load_network("t", g.network.save(tmp_path / "plain.npz"))
    assert isinstance(plain, ReLUNetwork)          # extra arrays are optional
    half = g.network.save(tmp_path / "half.npz", extra={"gain_table": g.gain_table})
    with pytest.raises(InvalidModelError, match="must come with its levels_map"):
        load_network("t", half)


def test_table_must_fit_the_domain():
    d, rng = domain("capacity"), np.random.default_rng(4)
    g = random_table_network(d, rng)
    with pytest.raises(InvalidModelError, match="GainTableNetwork.gain_table: must be"):
        GainTableNetwork(g.network, g.gain_table[:, :, :1][:, :, 0], g.levels_map)
    wider = np.hstack([g.levels_map, np.zeros((d.n_arms, 1), np.int64)])   # one more input
    with pytest.raises(InvalidModelError, match=r"GainTableNetwork.gain_table: must be .* a "
                                                r"network of action_size \+ n_arms \+ 1 inputs; "
                                                r"got .* and 15 inputs"):
        GainTableNetwork(g.network, g.gain_table, wider)
    with pytest.raises(InvalidModelError, match="must be finite"):
        GainTableNetwork(g.network, g.gain_table * np.nan, g.levels_map)
    with pytest.raises(InvalidModelError, match="must be 0 at level 0"):
        GainTableNetwork(g.network, g.gain_table + 1.0, g.levels_map)
    for text in ([["a"]], g.gain_table.astype(str)):              # never parsed
        with pytest.raises(InvalidModelError, match="gain_table: must be an array of numbers"):
            GainTableNetwork(g.network, text, g.levels_map)
    with pytest.raises(InvalidModelError, match="gain_table: must be an array of numbers"):
        GainTableNetwork(g.network, g.gain_table + 2j, g.levels_map)  # not cut to its real part
    with pytest.raises(InvalidModelError, match="levels_map: must hold integers"):
        GainTableNetwork(g.network, g.gain_table, g.levels_map + 0.5)
    with pytest.raises(InvalidModelError, match="network: must be a one-output ReLUNetwork"):
        GainTableNetwork("net.npz", g.gain_table, g.levels_map)
    other = make_domain("scheduling", n_arms=7, budget=3, seed=1)
    check_network_fits("SequoiaPlanner", g, other)             # same shapes and level map
    wrong = GainTableNetwork(g.network, np.zeros((7, 4, 3)), g.levels_map)
    with pytest.raises(InvalidModelError, match=r"network.gain_table: must have shape \(7, 4, 2\)"):
        check_network_fits("SequoiaPlanner", wrong, d)
    with pytest.raises(InvalidParameterError, match="must be a ReLUNetwork, a GainTableNetwork"):
        load_network("SequoiaPlanner", object())


def test_interventions_table_must_have_the_instances_level_map():
    d, rng = domain("interventions"), np.random.default_rng(5)
    g = random_table_network(d, rng)
    check_network_fits("SequoiaPlanner", g, d)
    moved = GainTableNetwork(g.network, g.gain_table, np.roll(g.levels_map, 1, axis=1))
    assert not np.array_equal(moved.levels_map, g.levels_map)
    with pytest.raises(InvalidModelError, match="levels_map: must be this domain's level map"):
        check_network_fits("SequoiaPlanner", moved, d)


@pytest.mark.parametrize("kind", ["scheduling", "interventions", "path"])
def test_one_oracle_switches_between_tabled_plain_and_affine_networks(kind):
    """The linear path (every neuron stable: a network blind to the action) and the full model,
    with and without a table, on one persistent oracle -- as ``gain_table='both'`` does."""
    d, rng = domain(kind), np.random.default_rng(6)
    tabled = random_table_network(d, rng)
    w = [np.array(x) for x in tabled.network.weights]
    w[0][:, :d.action_size] = 0.0                            # affine (constant) in the action
    blind = GainTableNetwork(ReLUNetwork(tuple(w), tabled.network.biases),
                             tabled.gain_table, tabled.levels_map)
    mip = MIPArgmax(d, 10)
    for net in (tabled, tabled.network, blind, tabled):
        mip.set_network(net)
        brute = BruteForceArgmax(d, 10, net)
        before = mip.n_linear
        for _ in range(3):
            s, ttg = rng.integers(0, d.n_states, d.n_arms), int(rng.integers(1, 11))
            assert mip.solve(s, ttg).value == pytest.approx(brute.solve(s, ttg).value,
                                                            rel=1e-6, abs=1e-6)
        if net is blind:
            assert mip.n_linear == before + 3


def test_a_damaged_training_record_is_a_typed_error():
    from rmab.errors import InvalidModelError
    from rmab.planners.sequoia.features import training_record

    net = ReLUNetwork((np.ones((4, 3)), np.ones((1, 4))), (np.zeros(4), np.zeros(1)))
    record = dict(trained_kind="capacity", trained_digest="x")
    with pytest.raises(InvalidModelError, match=r"^P\.network: its training record lacks "
                                                r"'trained_horizon'"):
        training_record("P", replace(net, meta=record))
    # a horizon that is not one integer: 3.7 was read as 3, [3, 4] raised a bare TypeError
    for horizon, shown in ((3.7, "3.7"), ([3, 4], r"\[3, 4\]")):
        with pytest.raises(InvalidModelError, match=f"trained_horizon must be an integer; "
                                                    f"got {shown}"):
            training_record("P", replace(net, meta={**record, "trained_horizon": horizon}))
    assert training_record("P", net) is None


def test_brute_force_takes_a_table_on_the_body_it_already_had():
    """The cache was keyed by the body: a table put on the same body crashed (levels None),
    and a body without its table would have kept the levels (a SEQUOIA review)."""
    d, rng = domain("interventions"), np.random.default_rng(7)
    g = random_table_network(d, rng)
    s = rng.integers(0, d.n_states, d.n_arms)
    brute = BruteForceArgmax(d, 10, g.network)
    plain = brute.solve(s, 3).value
    brute.set_network(g)
    assert brute.solve(s, 3).value == pytest.approx(BruteForceArgmax(d, 10, g).solve(s, 3).value)
    brute.set_network(g.network)
    assert brute.solve(s, 3).value == pytest.approx(plain)


def test_a_damaged_gain_table_is_a_typed_error(tmp_path):
    """A flipped byte in the table, past the part the size check reads, reached the user as a
    raw zipfile.BadZipFile traceback (a review of the file loaders)."""
    net = ReLUNetwork((np.ones((4, 3)), np.ones((1, 4))), (np.zeros(4), np.zeros(1)))
    table = np.full((100, 50, 2), 0.25)
    table[-1, -1, -1] = 0.75
    path = net.save(tmp_path / "net.npz", extra={"gain_table": table,
                                                 "levels_map": np.array([0, 1])})
    raw = bytearray(path.read_bytes())
    raw[raw.find(np.float64(0.75).tobytes()) + 3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(InvalidModelError, match=r"load\.path: .*\(Bad CRC-32 for file "
                                                r"'gain_table\.npy'\)"):
        load_network("SequoiaPlanner", path)
