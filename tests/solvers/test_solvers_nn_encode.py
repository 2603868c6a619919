"""Big-M encoding: MIP optimum == forward pass at the argmax == brute-force enumeration, before
and after in-place state updates, on every backend. Encoded networks are solved with
``presolve=False`` (HiGHS 1.15-1.16 presolve cut off optima: docs/solvers.md)."""

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from solvers import MILP, SolverInputError, TerminationStatus, available_backends, get_backend
from solvers.nn import Knapsack, ReLUNetwork, encode_network

pytestmark = pytest.mark.mip


def random_net(sizes, rng, scale=1.0):
    return ReLUNetwork(tuple(scale * rng.normal(size=(o, i))
                             for i, o in zip(sizes[:-1], sizes[1:])),
                       tuple(rng.normal(size=o) for o in sizes[1:]))


def knapsack_milp(costs, budget):
    n = len(costs)
    return MILP.from_arrays(np.zeros(n), [costs], None, [budget], 0, 1, [True] * n)


def brute_force(net, costs, budget, state, linear=None):
    """Best value and its action over all binary actions with costs @ a <= budget."""
    best, arg = -np.inf, None
    n = len(costs)
    linear = np.zeros(n) if linear is None else linear
    for a in itertools.product((0, 1), repeat=n):
        a = np.array(a, float)
        if a @ costs <= budget + 1e-9:
            v = net.forward(np.r_[a, state])[0] + linear @ a
            if v > best + 1e-12:
                best, arg = v, a
    return best, arg


def check(res, enc, net, state, best, linear=None):
    assert res.status is TerminationStatus.OPTIMAL
    a = enc.action(res.x)
    value = net.forward(np.r_[a, state])[0] + (0 if linear is None else linear @ a)
    assert res.objective == pytest.approx(value, abs=1e-5)       # MIP value == forward pass
    assert res.objective == pytest.approx(best, abs=1e-5)        # == enumeration


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), n_action=st.integers(1, 8), n_state=st.integers(0, 3),
       hidden=st.sampled_from([(6,), (8,), (5, 4), (6, 6)]), cardinality=st.booleans())
def test_encoded_optimum_equals_forward_and_enumeration(seed, n_action, n_state, hidden,
                                                        cardinality):
    rng = np.random.default_rng(seed)
    net = random_net([n_action + n_state, *hidden, 1], rng)
    costs = np.ones(n_action) if cardinality else rng.integers(1, 5, n_action).astype(float)
    budget = float(rng.integers(0, n_action + 1)) if cardinality else float(rng.integers(0, 10))
    state = rng.random(n_state)
    enc = encode_network(net, knapsack_milp(costs, budget), state)
    res = get_backend("highs").build(enc.milp).solve(presolve=False)
    best, _ = brute_force(net, costs, budget, state)
    check(res, enc, net, state, best)
    assert enc.action(res.x) @ costs <= budget


# nets on which HiGHS 1.16's presolve reported "optimal" below the optimum (a solvers review):
# (weights, biases, costs, budget, state)
_PRESOLVE_CASES = [
    (([[0.13183713422707538, 0.40962803123137775, 0.2249780951120938, -0.5448591013988318,
        -0.46580552379237045],
       [-0.6488717278575362, -0.5784845749505034, 0.7653509282831404, 0.6150793836479264,
        -0.16555612119953386]],
      [[0.009172405718141577, 1.3762027439630904]]),
     ([0.9223884622228677, -0.47029933493575543], [-1.1701947400992854]),
     [3.0, 1.0, 1.0, 1.0], 1.0, [0.9452914267204906]),
]


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("case", range(len(_PRESOLVE_CASES)))
def test_without_presolve_highs_finds_the_optimum_its_presolve_cut_off(backend, case):
    weights, biases, costs, budget, state = _PRESOLVE_CASES[case]
    net = ReLUNetwork(tuple(np.array(w) for w in weights), tuple(np.array(b) for b in biases))
    costs, state = np.array(costs), np.array(state)
    enc = encode_network(net, knapsack_milp(costs, budget), state)
    best, _ = brute_force(net, costs, budget, state)
    check(get_backend(backend).build(enc.milp).solve(presolve=False), enc, net, state, best)


# a fuzz review's draw (session 49): [5, 5, 2, 1] net, actions a in 0..2 with a0 + a1 <= 1, a
# linear term, state box (-inf, 1], tighten="lp"; built at STATE0, then moved to each state
_ORDER_NET = (
    ([[0.3909961099953783, 0.2068959515952379, -0.6308644192058095, -0.6767919046059708,
       0.15471830608406378],
      [-0.2735454769024625, -0.28461074044409607, 0.046714320079373935, 0.5479677856909305,
       0.11174344307964966],
      [0.4692991806628876, -0.5034823915685783, -0.43613647732648325, -0.16152814232973076,
       0.3204040458189153],
      [0.17375149040981014, -0.04199608359900089, -0.5904509853439297, -0.08552138434739982,
       -0.06853369830836795],
      [-0.49375851175100977, -1.2758731649583372, 0.9367817542045057, -0.35696315949024054,
       1.5874705923464913]],
     [[0.07277954133108343, -0.1111718132306358, 0.09025130901658422, -0.07743327019998797,
       -0.2232127140711395],
      [-0.2649685306613991, -0.10190243213154467, -0.18913619054145617, 0.26460311919021984,
       -0.0315712728667783]],
     [[0.30989938935515177, -0.23397677298512198]]),
    ([1.3258803286152512, 6.0, 6.0, 6.0, -6.0], [8.0, 8.0], [-0.9355918159941566]))
_ORDER_LINEAR = [0.33934736715700126, -0.9452556775990218]
_ORDER_STATE0 = [0.5729102504194378, 0.9535880632929143, 0.05644781990182279]
_ORDER_STATES = [[0.8597944947593734, 0.6752831608245816, 0.8782751889370527],
                 [0.6466735950250058, 0.4274606412401786, 0.8780484323525327],
                 [0.6991886600746834, 0.6273797061336984, 0.34314939928019716]]


@pytest.mark.parametrize("backend", ["highs", "scipy"])
def test_without_presolve_the_default_path_matches_enumeration_where_another_order_did_not(
        backend):
    """At the third state HiGHS 1.16 *without* presolve called -0.41429 optimal (root node,
    bound equal) on this model in the column and row order Pyomo hands it (the ``pyomo``
    backend; also the highs backend given that order), the optimum being -0.02001 at a = (1,
    0), exactly feasible: a HiGHS limit that depends on the order (docs/solvers.md, "Known
    HiGHS limits"). The default path, as ``MIPArgmax`` solves (highs, ``presolve=False``,
    persistent model moved by ``update_state``), and a fresh build match enumeration."""
    net = ReLUNetwork(tuple(np.array(w) for w in _ORDER_NET[0]),
                      tuple(np.array(b) for b in _ORDER_NET[1]))
    action_milp = MILP.from_arrays(np.zeros(2), [[1.0, 1.0]], None, [1.0], 0, 2, [True, True])
    linear = np.array(_ORDER_LINEAR)
    kw = dict(state_lower=np.full(3, -np.inf), state_upper=np.ones(3), linear_objective=linear,
              tighten="lp")
    enc = encode_network(net, action_milp, np.array(_ORDER_STATE0), **kw)
    model = get_backend(backend).build(enc.milp)
    for state in map(np.array, _ORDER_STATES):
        best = max(net.forward(np.r_[a, state])[0] + linear @ a
                   for a in map(np.array, [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]))
        enc.update_state(model, state)
        fresh = get_backend(backend).build(encode_network(net, action_milp, state, **kw).milp)
        for res in (model.solve(presolve=False), fresh.solve(presolve=False)):
            check(res, enc, net, state, best, linear)
    assert best == pytest.approx(-0.0200115, abs=1e-6)


def test_an_encoded_continuous_action_presolve_called_infeasible_is_solved():
    """A continuous action a in [0, 2] (a <= 1) and an auxiliary y in [0, 1] (y <= a), with a
    linear term, under a [4, 3, 6, 1] net: HiGHS 1.16's presolve called the encoded model
    INFEASIBLE though a = y = 1 with its forward pass meets it (exactly, in rational arithmetic,
    with the neurons recomputed from the model's rows; a fuzz review, session 49). Without
    presolve, as encoded networks are solved, it is solved; with presolve, an exact start has
    the verdict solved again without presolve (docs/solvers.md)."""
    net = ReLUNetwork(
        (np.array([[0.23186699199881028, -0.9828346546562451, -0.7367737018245465,
                    -1.2566781439637402],
                   [0.07896251821248211, 0.48206785328739676, -1.103426171132444,
                    -0.4885886995324859],
                   [-0.4045833974719591, -0.5388045980572691, 0.8333083589153828,
                    -0.9397706941205956]]),
         np.array([[-0.1964573064843761, -0.17237494089957747, -0.2483436353334532],
                   [-0.3858643438368602, -0.04090455573616922, 0.3065078575260575],
                   [-0.0011099189384672656, 0.2653971649781821, 0.08467054455475177],
                   [-0.12112618720718224, 0.08067134414971236, 0.2069384613757953],
                   [0.1885868691780826, -0.25025000929292696, 0.013283371841710405],
                   [-0.1809984587567464, 0.1441837501720452, -0.3236198794343713]]),
         np.array([[1.2307034312691616, -0.27215348328006767, -0.9264282666245396,
                    -0.08320529973150664, -0.25813619785130293, 0.31003260189413656]])),
        (np.array([6.0, -1.3636572082767546, 6.0]), np.full(6, 8.0),
         np.array([1.099728230758699])))
    action_milp = MILP.from_arrays(np.zeros(2), [[1.0, 0.0], [-1.0, 1.0]], None, [1.0, 0.0], 0,
                                   [2.0, 1.0])
    linear = np.array([1.306884539844095, 1.4206370275739804])
    state = np.array([0.5252397600277513, 0.5558945458819347, 0.39796547886227507])
    enc = encode_network(net, action_milp, state, state_lower=np.full(3, -np.inf),
                         state_upper=np.ones(3), linear_objective=linear)
    start = enc.warm_start(np.array([1.0, 1.0]), state)
    best = net.forward(np.r_[1.0, state])[0] + linear.sum()
    assert enc.milp.violation(start) <= 1e-12 and best == pytest.approx(-0.4525517, abs=1e-6)
    model = get_backend("highs").build(enc.milp)
    for res in (model.solve(presolve=False),
                model.solve(presolve=True, warm_start=start, complete_start=False)):
        assert res.status is TerminationStatus.OPTIMAL
        assert res.objective == pytest.approx(best, abs=1e-5)


def test_without_presolve_encoded_knapsack_argmaxes_equal_enumeration():
    """300 small nets under one knapsack row, half with unequal costs: with presolve, HiGHS
    1.16 was wrong on about 1 in 200 (54 of 9 000 in the review's run)."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        n, n_state = int(rng.integers(2, 7)), int(rng.integers(1, 3))
        hidden = [int(rng.integers(2, 7)) for _ in range(int(rng.integers(1, 3)))]
        net = random_net([n + n_state, *hidden, 1], rng)
        costs = np.ones(n) if rng.random() < 0.5 else rng.integers(1, 4, n).astype(float)
        budget = float(rng.integers(1, n + 1))
        state = rng.uniform(-1, 1, n_state)
        enc = encode_network(net, knapsack_milp(costs, budget), state)
        best, _ = brute_force(net, costs, budget, state)
        check(get_backend("highs").build(enc.milp).solve(presolve=False), enc, net, state, best)


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("hidden, box", [((8,), False), ((6, 5), False), ((6, 5), True)])
def test_update_state_equals_fresh_build_and_enumeration(backend, hidden, box):
    rng = np.random.default_rng(len(hidden) + 10 * box)
    n_action, n_state, budget = 7, 3, 3
    net = random_net([n_action + n_state, *hidden, 1], rng)
    costs = np.ones(n_action)
    action_milp = knapsack_milp(costs, budget)
    kw = dict(state_lower=np.zeros(n_state), state_upper=np.ones(n_state)) if box else {}
    enc = encode_network(net, action_milp, rng.random(n_state), **kw)
    model = get_backend(backend).build(enc.milp)
    model.solve(presolve=False)
    for _ in range(4 if backend == "highs" else 2):
        state = rng.random(n_state)
        enc.update_state(model, state)
        got = model.solve(presolve=False)
        fresh = get_backend(backend).build(encode_network(net, action_milp, state, **kw).milp)
        best, _ = brute_force(net, costs, budget, state)
        check(got, enc, net, state, best)
        assert fresh.solve(presolve=False).objective == pytest.approx(got.objective, abs=1e-6)


def test_plain_interval_bounds_encode_the_same_optimum():
    """The ablation switch (no knapsacks, no back-substitution): looser bounds, the same
    optimum before and after an update."""
    rng = np.random.default_rng(4)
    n_action, n_state, budget = 7, 3, 2
    net = random_net([n_action + n_state, 6, 5, 1], rng)
    costs = np.ones(n_action)
    action_milp = knapsack_milp(costs, budget)
    state = rng.random(n_state)
    plain = encode_network(net, action_milp, state, knapsacks=[], back_substitution=False)
    exact = encode_network(net, action_milp, state)
    width = [sum((enc.bounds.upper[l] - enc.bounds.lower[l]).sum() for l in range(2))
             for enc in (exact, plain)]
    assert width[0] < width[1]
    model = get_backend("highs").build(plain.milp)
    for s in (state, rng.random(n_state)):
        plain.update_state(model, s)
        check(model.solve(presolve=False), plain, net, s, brute_force(net, costs, budget, s)[0])


def test_state_box_drops_and_linearises_neurons():
    rng = np.random.default_rng(3)
    n_action, n_state = 5, 2
    net = random_net([n_action + n_state, 6, 1], rng, scale=0.1)
    b = np.array(net.biases[0])
    b[:2], b[2:4] = -5.0, 5.0                        # 2 always off, 2 always on over [0, 1]^2
    net = ReLUNetwork(net.weights, (b, net.biases[1]))
    action_milp = knapsack_milp(np.ones(n_action), 2)
    enc = encode_network(net, action_milp, [0.5, 0.5], state_lower=[0, 0], state_upper=[1, 1])
    layer = enc._layouts[0]         # the last hidden layer: active ones folded, no row
    assert {2, 3} <= set(layer.fold) and not layer.on.size and not {0, 1} & set(layer.un)
    assert enc.milp.n_rows == action_milp.n_rows + 4 * layer.un.size
    model = get_backend("highs").build(enc.milp)
    for state in ([0.0, 1.0], [1.0, 0.2]):
        enc.update_state(model, state)
        best = brute_force(net, np.ones(n_action), 2, np.array(state))[0]
        check(model.solve(presolve=False), enc, net, np.array(state), best)
    unboxed = encode_network(net, action_milp, [0.5, 0.5], state_lower=[0, 0],
                             state_upper=[np.inf, 1])
    assert len(unboxed._layouts[0].un) + len(unboxed._layouts[0].fold) >= 4


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), hidden=st.sampled_from([(6,), (5, 6), (4, 4, 5)]),
       n_state=st.integers(1, 3))
@example(seed=36899, hidden=(4, 4, 5), n_state=1)     # a layer without a neuron kept on
@example(seed=36899, hidden=(4, 4, 5), n_state=3)     # a last layer without one
def test_stably_active_last_layer_is_folded_into_the_objective(seed, hidden, n_state):
    """Biases that keep some neurons of every layer on over the state box [0, 1]^n_state:
    earlier layers keep their rows, the last layer's go into the objective (whose offset then
    follows the state in a one-layer net); the optimum after in-place updates equals the
    forward pass and enumeration, with the warm start and ``objective_terms`` consistent."""
    rng = np.random.default_rng(seed)
    n_action = 5
    net = random_net([n_action + n_state, *hidden, 1], rng, scale=0.3)
    # every input (actions, states in [0, 1], h) is >= 0, so nonnegative weights and a bias of
    # 4 keep a neuron on over the box; a bias of 4 alone did not always (about 1 draw in 80,
    # so 1 run in 4 failed)
    on = [np.r_[True, rng.random(b.size - 1) < 0.5] for b in net.biases[:-1]]
    weights = [np.where(f[:, None], np.abs(w), w) for f, w in zip(on, net.weights)]
    biases = [np.where(f, 4.0, b) for f, b in zip(on, net.biases)]
    net = ReLUNetwork((*weights, net.weights[-1]), (*biases, net.biases[-1]))
    costs = rng.integers(1, 4, n_action).astype(float)
    milp = knapsack_milp(costs, 4.0)
    box = dict(state_lower=np.zeros(n_state), state_upper=np.ones(n_state))
    enc = encode_network(net, milp, rng.random(n_state), **box)
    last = enc._layouts[-1]
    assert last.fold.size and not last.on.size
    assert all(lay.on.size for lay in enc._layouts[:-1])
    assert enc.milp.n_rows == 1 + sum(lay.on.size + 4 * lay.un.size for lay in enc._layouts)
    model = get_backend("highs").build(enc.milp)
    for state in rng.random((3, n_state)):
        enc.update_state(model, state)
        best, arg = brute_force(net, costs, 4.0, state)
        res = model.solve(presolve=False)
        check(res, enc, net, state, best)
        c, offset = enc.objective_terms(state)
        x = enc.warm_start(arg, state)
        assert model.milp.violation(x) <= 1e-9
        assert c @ x + offset == pytest.approx(best, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), hidden=st.sampled_from([(5,), (6, 4), (4, 4, 3)]))
def test_affine_in_action_when_every_neuron_is_stable(seed, hidden):
    """Stable everywhere (large biases of both signs): Q(a) = g @ a + c on every feasible
    action (checked by forward passes) and the linear maximum equals enumeration; with an
    unstable neuron there is no affine form."""
    rng = np.random.default_rng(seed)
    n_action, n_state, budget = 5, 2, 3
    net = random_net([n_action + n_state, *hidden, 1], rng, scale=0.1)
    biases = tuple(np.where(rng.random(b.size) < 0.7, 20.0, -20.0) for b in net.biases[:-1])
    net = ReLUNetwork(net.weights, biases + (net.biases[-1],))
    action_milp = knapsack_milp(np.ones(n_action), budget)
    linear = rng.normal(size=n_action)
    state = rng.random(n_state)
    enc = encode_network(net, action_milp, state, linear_objective=linear)
    g, c = enc.affine_in_action(state)
    for a in itertools.product((0, 1), repeat=n_action):
        a = np.array(a, float)
        if a.sum() <= budget:
            assert g @ a + c == pytest.approx(net.forward(np.r_[a, state])[0] + linear @ a,
                                              abs=1e-9)
    best, _ = brute_force(net, np.ones(n_action), budget, state, linear)
    m = action_milp
    lin = get_backend("highs").build(MILP(g, m.A, m.row_lower, m.row_upper, m.col_lower,
                                          m.col_upper, m.integrality, "max", c))
    assert lin.solve(presolve=False).objective == pytest.approx(best, abs=1e-7)
    unstable = ReLUNetwork(net.weights, (np.zeros(hidden[0]),) + net.biases[1:])
    w = np.array(unstable.weights[0])
    w[0, 0], w[0, 1] = 1.0, -1.0                      # neuron 0 changes sign with the action
    unstable = ReLUNetwork((w,) + unstable.weights[1:], unstable.biases)
    enc = encode_network(unstable, action_milp, np.zeros(n_state))
    assert enc.affine_in_action(np.zeros(n_state)) is None
    with pytest.raises(SolverInputError, match="EncodedNetwork.state: must be 2 finite"):
        enc.affine_in_action(np.zeros(n_state + 1))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), hidden=st.sampled_from([(5,), (6, 4), (4, 4, 3)]))
def test_piece_at_an_action_is_the_network_on_its_activation_pattern(seed, hidden):
    """The piece through ``a`` equals Q(a) + linear @ a at ``a`` and at every action with the
    same activation pattern (checked by forward passes over all feasible actions), and is
    affine where ``affine_in_action`` would give None."""
    rng = np.random.default_rng(seed)
    n_action, n_state, budget = 5, 2, 3
    net = random_net([n_action + n_state, *hidden, 1], rng)
    action_milp = knapsack_milp(np.ones(n_action), budget)
    linear = rng.normal(size=n_action)
    state = rng.random(n_state)
    enc = encode_network(net, action_milp, state, linear_objective=linear)

    def pattern(a):
        h, signs = np.r_[a, state], []
        for W, b in zip(net.weights[:-1], net.biases[:-1]):
            z = W @ h + b
            signs.append(z >= 0)
            h = np.maximum(z, 0.0)
        return np.concatenate(signs)

    actions = [np.array(a, float) for a in itertools.product((0, 1), repeat=n_action)
               if sum(a) <= budget]
    for a in actions[::3]:
        g, c = enc.piece_at(state, a)
        for b in actions:
            if (pattern(b) == pattern(a)).all():
                assert g @ b + c == pytest.approx(net.forward(np.r_[b, state])[0] + linear @ b,
                                                  abs=1e-9)
    with pytest.raises(SolverInputError, match="EncodedNetwork.piece_at.action: must be 5 "):
        enc.piece_at(state, np.zeros(n_action + 1))


def test_auxiliary_columns_linear_term_and_lp_tightening():
    rng = np.random.default_rng(5)
    n_action, n_state, budget = 6, 2, 3
    net = random_net([n_action + n_state, 6, 6, 1], rng)
    # action columns first, then an auxiliary count t = sum(a) in [0, budget]
    A = np.c_[np.ones((1, n_action)), -1.0]
    action_milp = MILP.from_arrays(np.zeros(n_action + 1), A, [0], [0], 0,
                                   np.r_[np.ones(n_action), budget], [True] * (n_action + 1))
    linear = np.r_[rng.normal(size=n_action), 0.1]
    state = rng.random(n_state)
    lin_a = linear[:n_action] + 0.1                   # t = sum(a): its cost moves onto a
    best, _ = brute_force(net, np.ones(n_action), budget, state, lin_a)
    for tighten in (None, "lp"):
        enc = encode_network(net, action_milp, state, knapsacks=[Knapsack(np.ones(n_action),
                                                                          budget)],
                             linear_objective=linear, tighten=tighten)
        res = get_backend("highs").build(enc.milp).solve(presolve=False)
        check(res, enc, net, state, best, lin_a)


def test_warm_start_is_feasible_and_worth_its_forward_value():
    rng = np.random.default_rng(11)
    n_action, n_state = 8, 3
    net = random_net([n_action + n_state, 7, 6, 1], rng)
    action_milp = knapsack_milp(np.ones(n_action), 3)
    enc = encode_network(net, action_milp, rng.random(n_state), state_lower=np.zeros(n_state),
                         state_upper=np.ones(n_state))
    model = get_backend("highs").build(enc.milp)
    for _ in range(3):
        state = rng.random(n_state)
        enc.update_state(model, state)
        a = (rng.permutation(n_action) < 3).astype(float)
        start = enc.warm_start(a, state)
        assert model.milp.violation(start) <= 1e-9
        assert model.milp.objective_value(start) == pytest.approx(net.forward(np.r_[a, state])[0])
        res = model.solve(warm_start=start, presolve=False)
        assert res.objective >= model.milp.objective_value(start) - 1e-9
    with pytest.raises(SolverInputError, match=r"action_solution: must have shape \(8,\)"):
        enc.warm_start(np.zeros(3), state)


def test_warm_start_sets_delta_where_the_state_fixes_it():
    """A big-M neuron with L >= 0 at this state has delta fixed to 1; z = 0 exactly there must
    not give delta = 0 (an infeasible start)."""
    net = ReLUNetwork((np.array([[1.0, 0.0, 1.0]]), np.array([[1.0]])),
                      (np.array([-1.0]), np.zeros(1)))
    milp = MILP.from_arrays(np.zeros(2), [[1.0, 1.0]], None, [1.0], 0, 1, [True, True])
    enc = encode_network(net, milp, [1.0], state_lower=[0.0], state_upper=[1.0])
    start = enc.warm_start([0.0, 0.0], [1.0])
    assert enc.milp.violation(start) <= 1e-12
    # and to 0 where U <= 0, also where L = U = 0 (the second neuron, z = s - 0.5, at s = 0.5)
    net = ReLUNetwork((np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), np.array([[1.0, 1.0]])),
                      (np.array([-1.0, -0.5]), np.zeros(1)))
    enc = encode_network(net, milp, [0.5], state_lower=[0.0], state_upper=[1.0])
    assert enc.milp.violation(enc.warm_start([0.0, 0.0], [0.5])) <= 1e-12


def test_big_m_values_a_solver_refuses_are_a_clear_error():
    """Pre-activations of 1e15 or more over the state box are refused at encoding; with an
    unbounded box, at the state that writes them, before the model changes."""
    w = np.array([[1.0, 0.0, 3e15], [0.0, 1.0, 1.0]])
    net = ReLUNetwork((w, np.ones((1, 2))), (np.array([-0.5, 0.1]), np.zeros(1)))
    milp = knapsack_milp(np.ones(2), 1)
    with pytest.raises(SolverInputError, match="hidden layer 1's pre-activations reach 3e"):
        encode_network(net, milp, [0.0], state_lower=[0.0], state_upper=[1.0])
    enc = encode_network(net, milp, [0.0])                      # unbounded box: no check yet
    model = get_backend("highs").build(enc.milp)
    before = model.milp
    with pytest.raises(SolverInputError, match="update_state.state: big-M values reach 3e"):
        enc.update_state(model, [1.0])
    after = model.milp                                          # nothing half-updated
    for field in ("row_lower", "row_upper", "col_lower", "col_upper"):
        np.testing.assert_array_equal(getattr(after, field), getattr(before, field))
    assert (after.A != before.A).nnz == 0
    enc.update_state(model, [1e-3])
    best = brute_force(net, np.ones(2), 1, [1e-3])[0]
    assert model.solve(presolve=False).objective == pytest.approx(best)
    # the build state is checked too: 1e16 reached HiGHS's "rescale the rows" (a review)
    with pytest.raises(SolverInputError, match=r"encode_network.state: big-M values reach "
                                               r"3e\+15 at this state"):
        encode_network(net, milp, [1.0])


def test_linear_network_state_goes_into_the_offset():
    rng = np.random.default_rng(9)
    net = ReLUNetwork((rng.normal(size=(1, 6)),), (np.array([0.3]),))
    costs = np.ones(4)
    enc = encode_network(net, knapsack_milp(costs, 2), [0.1, 0.2])
    model = get_backend("highs").build(enc.milp)
    state = np.array([0.9, -0.4])
    enc.update_state(model, state)
    check(model.solve(presolve=False), enc, net, state, brute_force(net, costs, 2, state)[0])


def test_encode_errors():
    rng = np.random.default_rng(0)
    net = random_net([5, 4, 1], rng)
    act = knapsack_milp(np.ones(3), 1)
    with pytest.raises(SolverInputError, match="network: must have 1 output"):
        encode_network(random_net([5, 4, 2], rng), act, [0, 0])
    with pytest.raises(SolverInputError, match=r"state: must have network.n_inputs - n_action"):
        encode_network(net, act, [])
    # with aux columns a short state would make one a network input: n_action catches it
    aux = act.add_columns([0.0], [0], [1])
    encode_network(net, aux, [0])                                     # taken silently
    with pytest.raises(SolverInputError, match=r"state: must have network.n_inputs - n_action "
                                               r"= 2 entries; got 1"):
        encode_network(net, aux, [0], n_action=3)
    with pytest.raises(SolverInputError, match="action columns finite bounds"):
        encode_network(net, MILP.from_arrays(np.zeros(3), col_upper=[1, 1, np.inf]), [0, 0])
    with pytest.raises(SolverInputError, match="encode_network.knapsacks: must be a list or "
                                               "tuple of Knapsack objects; got int"):
        encode_network(net, act, [0, 0], knapsacks=5)
    enc = encode_network(net, act, [0, 0])
    with pytest.raises(SolverInputError, match="warm_start.action_solution: must be an array "
                                               "of real numbers"):
        enc.warm_start([[1, 2], [3]], [0, 0])
    # a NaN action gave a start of NaN neurons (piece_at refused it); refused, named, here too
    for bad in (np.nan, np.inf):
        with pytest.raises(SolverInputError, match=f"warm_start.action_solution: must be "
                                                   f"finite; got {bad}"):
            enc.warm_start([bad, 0, 1], [0, 0])
    with pytest.raises(SolverInputError, match="tighten: must be None or 'lp'"):
        encode_network(net, act, [0, 0], tighten="milp")
    with pytest.raises(SolverInputError, match=r"linear_objective: must be 3 finite numbers"):
        encode_network(net, act, [0, 0], linear_objective=[1.0])
    with pytest.raises(SolverInputError, match="state_lower: must be <= state_upper"):
        encode_network(net, act, [0, 0], state_lower=[1, 1], state_upper=[0, 0])
    with pytest.raises(SolverInputError, match="network: must be a ReLUNetwork"):
        encode_network("net", act, [0, 0])
    # a NaN end of the box was read as 0 by the bounds, so live neurons could be dropped
    with pytest.raises(SolverInputError, match=r"state_lower: must be <= state_upper \(no NaN\)"):
        encode_network(net, act, [0, 0], state_lower=[np.nan, 0], state_upper=[1, 1])
    with pytest.raises(SolverInputError, match=r"encode_network.state: must be finite"):
        encode_network(net, act, [np.nan, 0])
    enc = encode_network(net, act, [0.5, 0.5], state_lower=[0, 0], state_upper=[1, 1])
    model = get_backend("highs").build(enc.milp)
    with pytest.raises(SolverInputError, match=r"state: must lie in the state box.*2.0 outside"):
        enc.update_state(model, [0.5, 2.0])
    with pytest.raises(SolverInputError, match=r"state: must be 2 finite numbers"):
        enc.update_state(model, [0.5])
    with pytest.raises(SolverInputError, match="model: must be a persistent model built from"):
        enc.update_state(get_backend("highs").build(act), [0.5, 0.5])
    # strings, complex numbers and a bad n_action were bare numpy errors or silently truncated
    for state, kwargs, field in [("ab", {}, "state"), ([1j, 0], {}, "state"),
                                 ([0, 0], dict(linear_objective="abc"), "linear_objective"),
                                 ([0, 0], dict(state_upper=["a", "b"]), "state_upper")]:
        with pytest.raises(SolverInputError, match=rf"encode_network\.{field}: must be an array "
                                                   r"of real numbers"):
            encode_network(net, act, state, **kwargs)
    with pytest.raises(SolverInputError, match=r"encode_network\.n_action: must be an integer"):
        encode_network(net, act, [0, 0], n_action="3")
    linear = encode_network(random_net([5, 1], rng), act, [0, 0])          # no hidden layer
    with pytest.raises(SolverInputError, match=r"EncodedNetwork\.state: must be 2 finite"):
        linear.objective_terms([0.5])


def test_rows_of_neurons_off_at_the_state_are_freed_and_the_optimum_stays():
    """A big-M neuron off at the state (U <= 0) keeps h = delta = 0; its r1/r2 rows would only
    restate L <= z <= U, which every feasible action meets, so update_state frees them
    (presolve cannot see exact bounds as redundant: [64] nets at J = 1000 solved 7x slower).
    Checked against enumeration at states where some neurons are off and others not."""
    rng = np.random.default_rng(3)
    n_action, n_state, budget = 8, 3, 3
    costs = np.ones(n_action)
    seen = 0
    for _ in range(15):
        net = random_net([n_action + n_state, 10, 6, 1], rng, scale=1.5)
        box = dict(state_lower=np.zeros(n_state), state_upper=np.full(n_state, 3.0))
        enc = encode_network(net, knapsack_milp(costs, budget), np.zeros(n_state), **box)
        model = get_backend("highs").build(enc.milp)
        state = 3.0 * rng.random(n_state)
        nb = enc.update_state(model, state)
        for lay, U in zip(enc._layouts, nb.upper):
            off = U[lay.un] <= 0
            seen += off.sum()
            m = model.milp
            for rows in (lay.r1, lay.r2):
                assert np.all(np.isinf(m.row_lower[rows[off]]) & np.isinf(m.row_upper[rows[off]]))
            assert np.all(np.isfinite(m.row_lower[lay.r1[~off]]))
            assert np.all(np.isfinite(m.row_upper[lay.r2[~off]]))
        best, _ = brute_force(net, costs, budget, state)
        check(model.solve(presolve=False), enc, net, state, best)
    assert seen > 0


def test_lp_tightened_bounds_keep_the_argmax():
    """A review's net (seed 113, three hidden layers): LP bounds widened by 1e-7 only let
    HiGHS's presolve, at its 1e-6 feasibility tolerance, cut off the argmax and return -5.65
    as optimal where enumeration gives -1.92. Widened by 1e-6 they keep it."""
    rng = np.random.default_rng(113)
    na, ns = int(rng.integers(2, 8)), int(rng.integers(1, 4))
    sizes = [na + ns, 5, 4, 3, 1]
    scale, bias = float(rng.choice([0.7, 1.5])), float(rng.choice([0, -1.0]))
    net = ReLUNetwork(tuple(scale * rng.normal(size=(o, i)) for i, o in zip(sizes, sizes[1:])),
                      tuple(rng.normal(size=o) + bias for o in sizes[1:]))
    rng.random(), rng.integers(0, na + 1), rng.random(), rng.uniform(-1, 2, ns)
    state = rng.uniform(-1, 2, ns)
    best, _ = brute_force(net, np.ones(na), 2.0, state)
    enc = encode_network(net, knapsack_milp(np.ones(na), 2.0), state, tighten="lp")
    res = get_backend("highs").build(enc.milp).solve(mip_gap=0.0, presolve=False)
    check(res, enc, net, state, best)
