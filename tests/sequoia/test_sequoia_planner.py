"""SEQUOIA planner (numpy + MILP): MIP argmax vs brute force, time limits, errors."""

import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

from rmab.domains import make_capacity, make_interventions, make_path, make_scheduling
from rmab.domains.evaluate import evaluate_domain
from rmab.errors import (InvalidModelError, InvalidParameterError, NotFittedError,
                         SolverLimitWarning)
from rmab.planners.sequoia import BruteForceArgmax, MIPArgmax, SequoiaPlanner
from rmab.planners.sequoia.features import context_features, input_size
from solvers import MIPResult, TerminationStatus
from solvers.nn import ReLUNetwork

pytestmark = pytest.mark.mip

DOMAINS = {
    "capacity": lambda s: make_capacity(6, 2, seed=s),
    "interventions": lambda s: make_interventions(6, n_interventions=6, budget=2, seed=s),
    "scheduling": lambda s: make_scheduling(6, 2, seed=s),
    "path": lambda s: make_path(6, 2, seed=s),
}


def random_network(domain, hidden, seed) -> ReLUNetwork:
    rng = np.random.default_rng(seed)
    sizes = [input_size(domain.action_size, domain.n_arms), *hidden, 1]
    return ReLUNetwork(tuple(rng.normal(size=(o, i)) for i, o in zip(sizes, sizes[1:])),
                       tuple(rng.normal(size=o) for o in sizes[1:]))


@pytest.mark.parametrize("kind", sorted(DOMAINS))
@pytest.mark.parametrize("hidden, tighten", [((8,), None), ((8, 6), None), ((8, 6), "lp")])
def test_mip_argmax_equals_brute_force(kind, hidden, tighten):
    d = DOMAINS[kind](0)
    net = random_network(d, hidden, seed=len(kind) + len(hidden))
    mip = MIPArgmax(d, 20, net, mip_gap=1e-9, tighten=tighten)
    brute = BruteForceArgmax(d, 20, net)
    rng = np.random.default_rng(1)
    for _ in range(4):            # several states on one persistent model (in-place updates)
        s, ttg = rng.integers(0, 4, d.n_arms), int(rng.integers(1, 21))
        got, want = mip.solve(s, ttg), brute.solve(s, ttg)
        assert got.status == "optimal"
        assert d.is_feasible(got.action)
        assert got.value == pytest.approx(want.value, abs=1e-7)


@pytest.mark.parametrize("kind", sorted(DOMAINS))
@pytest.mark.parametrize("verdict", [TerminationStatus.INFEASIBLE, TerminationStatus.ERROR])
def test_an_infeasible_verdict_on_the_network_is_solved_again_from_an_ascent_step(
        monkeypatch, kind, verdict):
    """HiGHS 1.16 without presolve called encoded networks that have solutions INFEASIBLE (5
    of 45 000 fuzzed answers, session 50; docs/sequoia.md): the oracle returned the best of
    its sampled actions, status "infeasible". Now it solves once more from one ascent step's
    block columns, feasible, as a start, and finds the argmax."""
    d = DOMAINS[kind](0)
    net = random_network(d, (8, 6), seed=3)
    mip = MIPArgmax(d, 20, net, mip_gap=1e-9, carry_start=False)
    brute = BruteForceArgmax(d, 20, net)
    real, starts = mip.model.solve, []

    def wrong_once(**options):                 # HiGHS's verdict, on the first solve
        starts.append(options.get("warm_start"))
        if len(starts) == 1:
            return MIPResult(verdict, None, float("nan"), float("nan"), float("inf"), 0.0,
                             "highs")
        assert mip.model.milp.is_feasible(starts[-1])
        return real(**options)

    monkeypatch.setattr(mip.model, "solve", wrong_once)
    s = np.array([0, 1, 2, 3, 0, 1])
    got, want = mip.solve(s, 7), brute.solve(s, 7)
    assert len(starts) == 2 and mip.n_resolve == 1 and mip.n_linear == 0
    assert got.status == "optimal" and d.is_feasible(got.action)
    assert got.value == pytest.approx(want.value, abs=1e-7)


def test_the_solve_again_runs_without_a_start_when_the_ascent_step_finds_nothing(monkeypatch):
    """The ascent step's linear model can fail too (a HiGHS verdict, a time limit); the solve
    again was then skipped and the oracle kept its best sampled action. It runs without a
    start and finds the argmax (brute force)."""
    d = DOMAINS["capacity"](0)
    net = random_network(d, (8, 6), seed=3)
    mip = MIPArgmax(d, 20, net, mip_gap=1e-9, carry_start=False)
    real, starts = mip.model.solve, []

    def wrong_once(**options):
        starts.append(options.get("warm_start"))
        if len(starts) == 1:
            return MIPResult(TerminationStatus.INFEASIBLE, None, float("nan"), float("nan"),
                             float("inf"), 0.0, "highs")
        return real(**options)

    monkeypatch.setattr(mip.model, "solve", wrong_once)
    monkeypatch.setattr(mip._linear, "solve", lambda **_: MIPResult(
        TerminationStatus.ERROR, None, float("nan"), float("nan"), float("inf"), 0.0, "highs"))
    s = np.array([0, 1, 2, 3, 0, 1])
    got, want = mip.solve(s, 7), BruteForceArgmax(d, 20, net).solve(s, 7)
    assert len(starts) == 2 and starts[1] is None and mip.n_resolve == 1
    assert got.status == "optimal" and d.is_feasible(got.action)
    assert got.value == pytest.approx(want.value, abs=1e-7)


def test_the_solve_again_keeps_to_the_time_limit(monkeypatch):
    """The solve after an INFEASIBLE (or error) verdict had the whole time limit again, its
    ascent step a fifth more (an error after 0.45 s of 0.5, twice: the solve took 0.9 s, a
    review). They have what the first solve left of it; none left, neither runs."""
    d = DOMAINS["capacity"](0)
    net = random_network(d, (8, 6), seed=3)
    mip = MIPArgmax(d, 20, net, time_limit=1.0)
    real, limits = mip.model.solve, []

    def late_error(**options):                 # an error late in the solve, then HiGHS
        limits.append(options["time_limit"])
        if len(limits) == 1:
            time.sleep(0.5)
            return MIPResult(TerminationStatus.ERROR, None, float("nan"), float("nan"),
                             float("inf"), 0.0, "highs")
        return real(**options)

    monkeypatch.setattr(mip.model, "solve", late_error)
    s = np.array([0, 1, 2, 3, 0, 1])
    got = mip.solve(s, 7)
    assert len(limits) == 2 and mip.n_resolve == 1 and limits[1] < 0.5
    assert got.status == "optimal" and d.is_feasible(got.action)
    mip, limits[:] = MIPArgmax(d, 20, net, time_limit=0.1), []  # the verdict after the limit
    monkeypatch.setattr(mip.model, "solve", late_error)
    got = mip.solve(s, 7)
    assert len(limits) == 1 and mip.n_resolve == 0
    assert got.status == "error" and d.is_feasible(got.action)


def test_mip_argmax_maximises_the_network_at_its_float32_inputs():
    """The MIP sees the context the network sees (rounded to float32): a neuron whose weight
    on state 1/3 is 3e6 is active at float64's 1/3 but not at float32's, which decides the
    action."""
    d = make_capacity(4, 2, seed=0)
    A = d.action_size
    w0 = np.zeros((3, A + d.n_arms + 1))
    w0[0, 0], w0[0, A], w0[1, 1], w0[2, 0], w0[2, 1] = 1.0, 3e6, 1.0, 1.0, 1.0
    net = ReLUNetwork((w0, np.array([[1.0, 0.51, -10.0]])),
                      (np.array([-1e6 - 0.5, 0.0, -1.0]), np.zeros(1)))
    s = np.array([1, 0, 0, 0])
    got = MIPArgmax(d, 20, net, mip_gap=0.0).solve(s, 20)
    want = BruteForceArgmax(d, 20, net).solve(s, 20)
    assert got.action[:2].tolist() == want.action[:2].tolist() == [1, 0]  # arms 2, 3 tie
    assert got.value == pytest.approx(want.value, abs=1e-9)


@pytest.mark.parametrize("kind", sorted(DOMAINS))
def test_mip_argmax_of_a_stable_network_is_a_linear_solve_and_exact(kind):
    """A network whose neurons are all stable (large biases) is affine in the action at every
    state: the oracle skips the network rows (n_linear counts it) and still equals brute
    force."""
    d = DOMAINS[kind](0)
    net = random_network(d, (8, 6), seed=3)
    scaled = tuple(0.05 * w for w in net.weights[:-1]) + net.weights[-1:]
    biases = tuple(np.where(np.arange(b.size) % 3 == 0, -5.0, 5.0) for b in net.biases[:-1])
    net = ReLUNetwork(scaled, biases + net.biases[-1:])
    mip = MIPArgmax(d, 20, net, mip_gap=1e-9)
    brute = BruteForceArgmax(d, 20, net)
    rng = np.random.default_rng(2)
    for _ in range(4):
        s, ttg = rng.integers(0, 4, d.n_arms), int(rng.integers(1, 21))
        got, want = mip.solve(s, ttg), brute.solve(s, ttg)
        assert got.status == "optimal" and d.is_feasible(got.action)
        assert got.value == pytest.approx(want.value, abs=1e-7)
    assert mip.n_linear == 4
    assert type(mip._linear) is type(d.linear_model(mip._backend))   # path: the route search


def test_planner_plans_brute_force_argmax_from_npz(tmp_path):
    d = make_capacity(6, 2, seed=3)
    net = random_network(d, (10, 6), seed=3)
    path = net.save(tmp_path / "q.npz")
    planner = SequoiaPlanner(path, horizon=5).fit(d, seed=0)
    brute = BruteForceArgmax(d, 5, net)
    s = np.array([0, 1, 2, 3, 1, 0])
    for t in range(5):
        action = planner.plan(s, t=t)
        assert planner.last_stats.info["status"] == "optimal"
        assert brute.values(s, 5 - t).max() == pytest.approx(
            float(brute.values(s, 5 - t)[np.all(brute.actions == action, axis=1)][0]))


def test_planner_runs_in_the_evaluation_protocol():
    d = make_capacity(6, 2, seed=0)
    res = evaluate_domain(d, ["random", SequoiaPlanner(random_network(d, (6,), 0), horizon=4)],
                          episodes=2, horizon=4, seed=0)
    assert res.planners == ("random", "sequoia")
    assert np.isfinite(res.normalised).all()


def _fake_solve(x):
    def solve(**options):
        return MIPResult(TerminationStatus.TIME_LIMIT, x, float("nan"), float("nan"),
                         float("inf"), options["time_limit"], "highs")
    return solve


@pytest.mark.parametrize("with_incumbent", [False, True])
def test_time_limit_returns_a_feasible_action_with_a_warning(monkeypatch, with_incumbent):
    d = make_interventions(6, n_interventions=6, budget=2, seed=0)   # null action infeasible
    planner = SequoiaPlanner(random_network(d, (8,), 1), time_limit=0.5).fit(d)
    model = planner._argmax.model
    x = None
    if with_incumbent:
        x = model.solve().x
    monkeypatch.setattr(model, "solve", _fake_solve(x))
    with pytest.warns(SolverLimitWarning, match="status time_limit"):
        action = planner.plan(np.zeros(6, dtype=np.int64), t=0)
    assert d.is_feasible(action)
    assert planner.last_stats.info["status"] == "time_limit"
    if with_incumbent:
        np.testing.assert_array_equal(action, np.rint(x[: d.action_size]))


@pytest.mark.parametrize("kind", sorted(DOMAINS))
def test_encoded_networks_are_solved_without_presolve(monkeypatch, kind):
    """HiGHS 1.16's presolve cut off encoded networks' optima (docs/solvers.md): the network's
    model is solved with presolve=False, a linear objective over the block keeps it."""
    d = DOMAINS[kind](0)
    argmax = SequoiaPlanner(random_network(d, (8,), 1)).fit(d)._argmax
    seen = []
    for model in (argmax.model, argmax._linear):
        solve = model.solve
        monkeypatch.setattr(model, "solve", lambda solve=solve, model=model, **o: (
            seen.append((model is argmax.model, o.get("presolve", True))), solve(**o))[1])
    for seed in range(5):
        argmax.solve(np.random.default_rng(seed).integers(0, d.n_states, d.n_arms), 3)
    assert (True, False) in seen and (True, True) not in seen
    assert all(presolve for network, presolve in seen if not network)


@pytest.mark.parametrize("kind", sorted(DOMAINS))
def test_a_time_limited_solve_climbs_from_its_best_candidate(monkeypatch, kind):
    """After a solve stopped early, piecewise-linear ascent improves the best candidate: the
    network's linear piece at the action, maximised over the block, while the value rises
    (at J = 100 on path it took -0.59 to -0.40). The answer is worth its forward pass, no
    less than the start, no more than enumeration's maximum, and a fixed point of a step."""
    d = DOMAINS[kind](0)
    argmax = MIPArgmax(d, 5, random_network(d, (8, 6), 3), time_limit=5.0, n_fallback=0)
    brute = BruteForceArgmax(d, 5, argmax.network)
    fake, starts = _fake_solve(None), []                              # stopped, no incumbent
    monkeypatch.setattr(argmax.model, "solve", lambda **o: (starts.append(o["warm_start"]),
                                                             fake(**o))[1])
    rng = np.random.default_rng(1)
    played = None
    for _ in range(8):
        s, ttg = rng.integers(0, d.n_states, d.n_arms), int(rng.integers(1, 6))
        got = argmax.solve(s, ttg)
        # the next solve starts from the block of the action played, where the domain has it
        block_x = None if played is None else d.block_solution(played)
        first = argmax._first if block_x is None else block_x
        ctx = context_features(s, ttg, 5, d.n_states)
        np.testing.assert_array_equal(starts[-1], argmax.encoded.warm_start(first, ctx))
        assert (block_x is None) == (kind in ("capacity", "scheduling")) or played is None
        played = got.action
        value = argmax._values(got.action[None], s, ttg)[0]
        start = argmax._values(argmax.fallback[None], s, ttg)[0]
        assert d.is_feasible(got.action) and got.status == "time_limit"
        assert got.value == pytest.approx(value, abs=1e-12)
        assert start - 1e-12 <= got.value <= brute.solve(s, ttg).value + 1e-9
        again = argmax._ascend(got.action, got.value, s, ttg, ctx,
                               argmax.encoded.bounds_for(ctx), None)
        assert again[1] == got.value
    assert argmax.n_ascent > 0


def test_a_path_without_route_sets_and_without_a_time_limit_is_warned_about():
    """Beyond the route sets (here J = 40, B = 8) the network sits on the time-expanded walk
    MILP, which HiGHS does not close in seconds; with no time_limit a plan could run for
    minutes without a word."""
    from rmab.errors import RmabWarning

    big, small = make_path(40, 8, seed=0), make_path(20, 5, seed=0)
    with pytest.warns(RmabWarning, match="the path domain's 40 nodes and 8 pulls need the "
                                         "time-expanded walk MILP.*give a time_limit"):
        SequoiaPlanner(random_network(big, (4,), 0)).fit(big)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequoiaPlanner(random_network(big, (4,), 0), time_limit=1.0).fit(big)
        SequoiaPlanner(random_network(small, (4,), 0)).fit(small)


def test_a_time_limited_argmax_hands_out_a_copy_of_its_fallback(monkeypatch):
    """MIPArgmax returned its own fallback array: a caller editing it made every later
    fallback infeasible (a review)."""
    d = make_interventions(6, n_interventions=6, budget=2, seed=0)
    argmax = SequoiaPlanner(random_network(d, (8,), 1), time_limit=0.5).fit(d)._argmax
    argmax.n_fallback = 0
    monkeypatch.setattr(argmax.model, "solve", _fake_solve(None))
    first = argmax.solve(np.zeros(6, dtype=np.int64), 1).action
    first[:] = 1
    assert d.is_feasible(argmax.solve(np.zeros(6, dtype=np.int64), 1).action)


@pytest.mark.parametrize("kind", sorted(DOMAINS))
def test_a_time_limited_solve_starts_from_a_feasible_solution(monkeypatch, kind):
    """coRMAB spec section 5: with a time limit, a feasible start goes in, feasible at every
    state: the latest solution's block (the construction solve's at first) when acting, the
    construction solve's always for targets (carry_start=False: the latest made a solve depend
    on the earlier ones, so parallel targets differed from serial ones within the gap)."""
    d = DOMAINS[kind](0)
    argmax = MIPArgmax(d, 5, random_network(d, (8, 6), 2), time_limit=30.0)
    assert argmax._start is not None
    real, starts, results = argmax.model.solve, [], []

    def spy(**options):
        starts.append(options.get("warm_start"))
        if starts[-1] is not None:      # the model already stands at the new state
            assert argmax.model.milp.is_feasible(starts[-1])
        results.append(real(**options))
        return results[-1]

    monkeypatch.setattr(argmax.model, "solve", spy)
    rng = np.random.default_rng(0)
    for t in range(3):
        argmax.solve(rng.integers(0, d.n_states, d.n_arms), 5 - t)
    assert argmax.n_linear == 0 and len(starts) == 3 and all(w is not None for w in starts)
    n = argmax.action_milp.n_cols
    for w, previous in zip(starts[1:], results):
        np.testing.assert_array_equal(w[:n], previous.x[:n])
    argmax.reset_start()
    argmax.solve(np.ones(d.n_arms, dtype=np.int64), 5)
    np.testing.assert_array_equal(starts[-1][:n], argmax._first[:n])
    argmax.carry_start = False
    argmax.reset_start()
    for t in range(2):
        argmax.solve(rng.integers(0, d.n_states, d.n_arms), 5 - t)
        np.testing.assert_array_equal(starts[-1][:n], argmax._first[:n])
    argmax.time_limit = None
    argmax.solve(np.zeros(d.n_arms, dtype=np.int64), 5)
    assert starts[-1] is None       # no limit: nothing to secure


@pytest.mark.torch
def test_a_reset_planner_and_a_target_solve_carry_nothing_over():
    """With a time limit (here never reached) and a loose gap, the answer within the gap had
    depended on the earlier solves through the start: after reset a planner chose another
    action than a new one (0.0281 against 0.0308), and parallel target solves differed from
    serial ones (a training review). Reset goes back to the first start; target oracles
    (carry_start=False) always start there."""
    torch = pytest.importorskip("torch")
    from rmab.planners.sequoia.qnet import QNetwork
    from rmab.planners.sequoia.train import to_relu_network

    d = make_capacity(10, 3, seed=4)
    net = to_relu_network(QNetwork(input_size(d.action_size, d.n_arms), (32, 32),
                                   generator=torch.Generator().manual_seed(1)))
    rng = np.random.default_rng(0)
    first = [rng.integers(0, d.n_states, d.n_arms) for _ in range(5)]
    state = [rng.integers(0, d.n_states, d.n_arms) for _ in range(5)][0]
    used = SequoiaPlanner(net, horizon=5, time_limit=30.0, mip_gap=0.2).fit(d, seed=0)
    for t, s in enumerate(first):
        used.plan(s, t=t)
    assert used._argmax._start is not used._argmax._first          # the solves moved it
    used.reset(seed=0)
    assert used._argmax._start is used._argmax._first              # reset: the first start
    new = SequoiaPlanner(net, horizon=5, time_limit=30.0, mip_gap=0.2).fit(d, seed=0)
    np.testing.assert_array_equal(used.plan(state, t=0), new.plan(state, t=0))
    oracle = MIPArgmax(d, 5, net, mip_gap=0.2, time_limit=30.0, carry_start=False)
    alone = oracle.solve(state, 3).action
    for s in first[:2]:
        oracle.solve(s, 4)
    np.testing.assert_array_equal(oracle.solve(state, 3).action, alone)


def test_real_tiny_time_limit_still_gives_a_feasible_action():
    d = make_capacity(60, 10, seed=0)
    net = random_network(d, (32, 32), seed=0)
    planner = SequoiaPlanner(net, time_limit=1e-3).fit(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SolverLimitWarning)
        action = planner.plan(np.full(60, 1), t=0)
    assert d.is_feasible(action)


def test_planner_errors(tmp_path):
    d = make_capacity(6, 2, seed=0)
    with pytest.raises(InvalidParameterError, match="SequoiaPlanner.network: must be a ReLU"):
        SequoiaPlanner([1, 2])
    with pytest.raises(InvalidParameterError,
                       match="SequoiaPlanner.tighten: must be None or 'lp'; got 'mip'"):
        SequoiaPlanner(random_network(d, (4,), 0), tighten="mip")
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(InvalidModelError, match="SequoiaPlanner.network"):
        SequoiaPlanner(tmp_path / "x.npz")
    wrong = random_network(make_capacity(5, 2, seed=0), (4,), 0)
    with pytest.raises(InvalidModelError, match="must have action_size \\+ n_arms \\+ 1 = 13"):
        SequoiaPlanner(wrong).fit(d)
    planner = SequoiaPlanner(random_network(d, (4,), 0), horizon=3)
    with pytest.raises(NotFittedError):
        planner.plan(np.zeros(6, dtype=np.int64))
    planner.fit(d)
    with pytest.raises(InvalidParameterError, match="SequoiaPlanner.plan.t: must be in"):
        planner.plan(np.zeros(6, dtype=np.int64), t=3)
    with pytest.raises(InvalidParameterError, match="SequoiaPlanner.time_limit: must be >"):
        SequoiaPlanner(random_network(d, (4,), 0), time_limit=0)
    huge = random_network(d, (4,), 0)             # a state weight of 3e15: big-M values no MIP
    w = huge.weights[0].copy()                    # takes, at fit, not at the first state
    w[:, d.action_size] = 3e15                    # that writes them
    with pytest.raises(InvalidModelError, match="SequoiaPlanner.network: .*reach 3e"):
        SequoiaPlanner(ReLUNetwork((w,) + huge.weights[1:], huge.biases)).fit(d)


def test_planner_does_not_import_torch():
    code = ("import sys, numpy as np; from rmab.domains import make_capacity; "
            "from rmab.planners.sequoia import SequoiaPlanner; from solvers.nn import ReLUNetwork;"
            "d = make_capacity(4, 2, seed=0); r = np.random.default_rng(0); "
            "net = ReLUNetwork((r.normal(size=(3, 9)), r.normal(size=(1, 3))), "
            "(r.normal(size=3), r.normal(size=1))); "
            "SequoiaPlanner(net).fit(d).plan(np.zeros(4, dtype=np.int64), t=0); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lp_tightening_gives_the_same_actions_with_bounds_no_looser():
    d = make_capacity(8, 3, seed=1)
    net = random_network(d, (8, 6), seed=4)
    plain = SequoiaPlanner(net, horizon=5).fit(d)
    tight = SequoiaPlanner(net, horizon=5, tighten="lp").fit(d)
    rng = np.random.default_rng(2)
    tighter = 0.0
    for t in range(5):
        s = rng.integers(0, 4, d.n_arms)
        a, b = plain.plan(s, t=t), tight.plan(s, t=t)
        ctx = context_features(s, 5 - t, 5, d.n_states)
        lo, hi = plain._argmax.encoded.bounds_for(ctx), tight._argmax.encoded.bounds_for(ctx)
        for L0, U0, L1, U1 in zip(lo.lower, lo.upper, hi.lower, hi.upper):
            assert (L1 >= L0 - 1e-9).all() and (U1 <= U0 + 1e-9).all()
            tighter = max(tighter, float((U0 - U1).max()))
        np.testing.assert_array_equal(a, b)
    assert tighter > 0.1            # the LP did tighten something


def test_weights_the_solver_cannot_take_are_errors_as_the_myopic_planners_are():
    """Weights of 1e10 give objective coefficients HiGHS reads as infinite: the solvers
    layer's SolverInputError escaped plan unwrapped, where the myopic planner wraps the same
    error as PlanningError (a fuzz review); neurons active over the whole state box are in the
    objective from the start, so such a network is refused at fit. Weights of 1e300 overflow
    the encoding's bounds: refused at fit under the network's name (the error named
    interval_bounds' arguments)."""
    from rmab.domains import make_domain
    from rmab.domains.baselines import make_domain_planner
    from rmab.errors import PlanningError
    from solvers.errors import SolverInputError

    d = make_domain("capacity", 5, 2, seed=0)
    s = np.zeros(5, dtype=np.int64)
    w = np.full((3, 11), 1e10)
    with pytest.raises(InvalidModelError, match=r"^SequoiaPlanner\.network: HighsModel\.milp"
                                                r"\.c: HiGHS reads magnitudes from 1e\+20"):
        make_domain_planner("sequoia", network=ReLUNetwork(
            [w, np.full((1, 3), 1e10)], [np.zeros(3), np.zeros(1)])).fit(d)
    w[:, 5:10] = -1e11             # off at some states of the box, on at s = 0
    big = ReLUNetwork([w, np.full((1, 3), 1e10)], [np.zeros(3), np.zeros(1)])
    planner = make_domain_planner("sequoia", network=big).fit(d)
    with pytest.raises(PlanningError, match=r"^SequoiaPlanner: the network's MIP cannot be "
                                            r"solved at this state; HighsModel\.set_objective"
                                            r"\.c: HiGHS reads magnitudes from 1e\+20 on as "
                                            r"infinite") as info:
        planner.plan(s, t=0)
    assert isinstance(info.value.__cause__, PlanningError)          # MIPArgmax's, renamed
    assert isinstance(info.value.__cause__.__cause__, SolverInputError)
    with pytest.raises(PlanningError, match=r"^MIPArgmax: the network's MIP cannot be solved"):
        MIPArgmax(d, 20, big).solve(s, 20)
    arrays = d.to_arrays()
    huge = type(d).from_arrays(**{**arrays, "rewards": arrays["rewards"] * 1e300})
    with pytest.raises(PlanningError, match=r"^MyopicMIPPlanner: the objective cannot be "
                                            r"solved; HighsModel"):
        make_domain_planner("myopic").fit(huge).plan(s)
    overflow = ReLUNetwork([np.full((3, 11), 1e300), np.full((1, 3), 1e300)],
                           [np.zeros(3), np.zeros(1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # numpy's overflow warnings too
        with pytest.raises(InvalidModelError, match=r"^SequoiaPlanner\.network: network_bounds"
                                                    r"\.net: must give bounds within float64"):
            make_domain_planner("sequoia", network=overflow).fit(d)
        brute = BruteForceArgmax(d, 20, overflow)
        with pytest.raises(PlanningError, match=r"^BruteForceArgmax: the network's value of an "
                                                r"action must be finite; got inf"):
            brute.solve(s, 20)


def test_the_planners_plan_for_the_horizon_the_network_was_trained_for():
    """Without ``horizon=`` a network trained for 4 periods plans for 4 (the horizon had
    defaulted to 20 with a warning to pass 4, where ``rmab compare --network`` takes the
    training's); a network without a training record keeps 20, a given horizon is kept."""
    from rmab.planners.sequoia import IterativeDQNPlanner
    from rmab.planners.sequoia.features import with_training_record

    d = make_capacity(5, 2, seed=0)
    net = random_network(d, (4,), seed=0)
    trained = with_training_record(net, d, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cls in (SequoiaPlanner, IterativeDQNPlanner):
            planner = cls(trained).fit(d)
            assert planner.horizon == 4
            assert d.is_feasible(planner.plan(np.zeros(5, dtype=np.int64), t=3))
            assert cls(net).horizon == 20 and cls(trained, horizon=6).horizon == 6
    result = evaluate_domain(d, ["random", SequoiaPlanner(trained)], episodes=1, horizon=4,
                             progress=False)
    assert "sequoia" in result.table()
