"""Iterative DQN (numpy only): feasibility, a hand-run greedy, closed forms, errors, CLI."""

import subprocess
import sys

import numpy as np
import pytest

from rmab.cli import main
from rmab.domains import (make_capacity, make_interventions, make_path, make_scheduling,
                          save_domain)
from rmab.domains.baselines import IterativeMyopicPlanner, make_domain_planner
from rmab.domains.evaluate import evaluate_domain
from rmab.errors import InvalidModelError, InvalidParameterError, NotFittedError
from rmab.planners.sequoia.features import input_size
from rmab.planners.sequoia.iterative import IterativeDQNPlanner
from solvers.nn import ReLUNetwork

DOMAINS = {
    "capacity": lambda s: make_capacity(6, 2, seed=s),
    "interventions": lambda s: make_interventions(6, n_interventions=6, budget=2, seed=s),
    "scheduling": lambda s: make_scheduling(6, 2, seed=s),
    "path": lambda s: make_path(6, 2, seed=s),
}


def random_network(domain, hidden, seed, n_outputs=1) -> ReLUNetwork:
    rng = np.random.default_rng(seed)
    sizes = [input_size(domain.action_size, domain.n_arms), *hidden, n_outputs]
    return ReLUNetwork(tuple(rng.normal(size=(o, i)) for i, o in zip(sizes, sizes[1:])),
                       tuple(rng.normal(size=o) for o in sizes[1:]))


def hand_greedy(domain, net, states, t, horizon):
    """Independent greedy: a candidate is any unset element whose addition is feasible (in
    multiple interventions, where only full actions are feasible: any while fewer than B are
    chosen), each scored by its own (unbatched) forward pass of the raw input row."""
    ctx = np.append(states / (domain.n_states - 1), (horizon - t) / horizon)
    q = lambda a: float(net.forward(np.append(a, ctx).astype(np.float32).astype(float))[0])  # noqa
    action = np.zeros(domain.action_size, dtype=np.int64)
    current = q(action)
    while True:
        best, best_value = None, -np.inf
        for i in np.flatnonzero(action == 0):
            trial = action.copy()
            trial[i] = 1
            ok = trial.sum() <= domain.budget if domain.must_fill else \
                domain.is_feasible(trial)
            if ok and q(trial) > best_value:
                best, best_value = i, q(trial)
        if best is None or (not domain.must_fill and best_value <= current + 1e-12):
            return action
        action[best] = 1
        current = best_value


@pytest.mark.parametrize("kind", sorted(DOMAINS))
def test_feasible_and_equal_to_hand_run_greedy(kind):
    d = DOMAINS[kind](1)
    rng = np.random.default_rng(len(kind))
    for k in range(3):
        net = random_network(d, (8, 6), seed=k)
        planner = IterativeDQNPlanner(net, horizon=5).fit(d, seed=0)
        assert isinstance(planner, IterativeMyopicPlanner)
        for t in (0, 4):
            states = rng.integers(0, 4, d.n_arms)
            action = planner.plan(states, t=t)
            assert action.dtype == np.int64 and d.is_feasible(action)
            np.testing.assert_array_equal(action, hand_greedy(d, net, states, t, 5))


def test_linear_network_picks_the_top_budget_interventions():
    """Q = w . a + (context terms): the greedy must take the B largest w (must fill)."""
    d = make_interventions(9, n_interventions=8, budget=3, seed=0)
    w = np.random.default_rng(5).normal(size=(1, input_size(8, 9)))
    planner = IterativeDQNPlanner(ReLUNetwork((w,), (np.zeros(1),)), horizon=3).fit(d)
    action = planner.plan(np.zeros(9, dtype=np.int64), t=1)
    np.testing.assert_array_equal(np.flatnonzero(action), np.sort(np.argsort(-w[0, :8])[:3]))


def test_linear_network_on_capacity_stops_at_negative_gains():
    """Negative weight on every arm: adding any arm lowers Q, so the empty action is kept."""
    d = make_capacity(6, 2, seed=0)
    w = np.zeros((1, input_size(6, 6)))
    w[0, :6] = -1.0
    w[0, 6:] = 3.0
    planner = IterativeDQNPlanner(ReLUNetwork((w,), (np.zeros(1),)), horizon=2).fit(d)
    np.testing.assert_array_equal(planner.plan(np.full(6, 3, dtype=np.int64), t=0), np.zeros(6))


def test_registry_file_and_evaluation(tmp_path):
    d = DOMAINS["capacity"](0)
    net = random_network(d, (8,), seed=2)
    path = net.save(tmp_path / "net.npz")
    a = make_domain_planner("iterative-dqn", network=path, horizon=3)
    b = make_domain_planner("iterative-dqn", network=net, horizon=3)
    assert a.name == "iterative-dqn" and repr(a) == "IterativeDQNPlanner(name='iterative-dqn')"
    res = evaluate_domain(d, ["random", a], episodes=2, horizon=3, seed=0)
    again = evaluate_domain(d, ["random", b], episodes=2, horizon=3, seed=0)
    np.testing.assert_array_equal(res.rewards, again.rewards)   # file == in-memory network
    assert res.planners == ("random", "iterative-dqn")


def test_errors(tmp_path):
    d = DOMAINS["capacity"](0)
    with pytest.raises(InvalidParameterError,
                       match=r"make_domain_planner\('iterative-dqn'\)\.network: must be given"):
        make_domain_planner("iterative-dqn", horizon=5)
    with pytest.raises(InvalidParameterError,
                       match=r"make_domain_planner\('sequoia'\)\.network: must be given"):
        make_domain_planner("sequoia")
    with pytest.raises(InvalidModelError, match=r"must have action_size \+ n_arms \+ 1 = 13 "
                                                r"inputs for this capacity domain of 6 arms; "
                                                r"got 11"):
        IterativeDQNPlanner(random_network(make_capacity(5, 2, seed=0), (4,), 0)).fit(d)
    with pytest.raises(InvalidParameterError, match="IterativeDQNPlanner.network: must be a "
                                                    "ReLUNetwork, a GainTableNetwork or a path"):
        IterativeDQNPlanner(np.zeros((2, 13)))
    with pytest.raises(InvalidModelError, match="IterativeDQNPlanner.network: must have 1 output"):
        IterativeDQNPlanner(random_network(d, (4,), 0, n_outputs=2))
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(2))
    with pytest.raises(InvalidModelError, match="IterativeDQNPlanner.network"):
        IterativeDQNPlanner(bad)
    with pytest.raises(InvalidParameterError, match="IterativeDQNPlanner.horizon: must be >= 1"):
        IterativeDQNPlanner(random_network(d, (4,), 0), horizon=0)
    planner = IterativeDQNPlanner(random_network(d, (4,), 0), horizon=3)
    with pytest.raises(NotFittedError):
        planner.plan(np.zeros(6, dtype=np.int64))
    planner.fit(d)
    with pytest.raises(InvalidParameterError, match=r"IterativeDQNPlanner.plan.t: must be in "
                                                    r"\[0, 3\); got 3"):
        planner.plan(np.zeros(6, dtype=np.int64), t=3)


def test_does_not_import_torch():
    code = ("import sys, numpy as np; from rmab.domains import make_capacity; "
            "from rmab.domains.baselines import make_domain_planner; "
            "from solvers.nn import ReLUNetwork; "
            "d = make_capacity(4, 2, seed=0); r = np.random.default_rng(0); "
            "net = ReLUNetwork((r.normal(size=(3, 9)), r.normal(size=(1, 3))), "
            "(r.normal(size=3), r.normal(size=1))); "
            "make_domain_planner('iterative-dqn', network=net).fit(d).plan("
            "np.zeros(4, dtype=np.int64), t=0); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.mip
def test_compare_domain_file_with_network_adds_both_and_plots(tmp_path, capsys):
    d = DOMAINS["capacity"](0)
    save_domain(d, tmp_path / "d.npz")
    random_network(d, (6,), seed=1).save(tmp_path / "n.npz")
    png = tmp_path / "c.png"
    code = main(["compare", "--domain-file", str(tmp_path / "d.npz"), "--network",
                 str(tmp_path / "n.npz"), "--horizon", "3", "--episodes", "2", "--planners",
                 "random", "--time-limit", "5", "--plot", str(png)])
    assert code == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    names = [line.split()[0] for line in lines[3:lines.index(next(
        line for line in lines if line.startswith("reward:")))]]
    assert names == ["random", "sequoia", "iterative-dqn"]
    assert f"wrote {png}" in err and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # naming a network planner without --network is a clear error
    assert main(["compare", "--domain-file", str(tmp_path / "d.npz"), "--planners",
                 "random,iterative-dqn", "--episodes", "1", "--horizon", "2"]) == 1
    assert ("compare.planners: 'iterative-dqn' plays a trained network: give --network "
            "sequoia.npz (written by 'rmab train'), or iterative-dqn(network=FILE)") in \
        capsys.readouterr().err
    # or the network as the planner's parameter (it was refused for want of --network)
    assert main(["compare", "--domain-file", str(tmp_path / "d.npz"), "--planners",
                 f"random,iterative-dqn(network={tmp_path / 'n.npz'})", "--episodes", "2",
                 "--horizon", "3", "--no-progress"]) == 0, capsys.readouterr().err
    assert f"iterative-dqn(network='{tmp_path / 'n.npz'}')" in capsys.readouterr().out


def test_the_iterative_dqn_planner_imports_beside_sequoia():
    """``from rmab.planners.sequoia import IterativeDQNPlanner`` failed where SequoiaPlanner
    imported (a new user's walkthrough)."""
    import rmab.planners.sequoia as sequoia
    from rmab.planners.sequoia.iterative import IterativeDQNPlanner

    assert sequoia.IterativeDQNPlanner is IterativeDQNPlanner
    assert "IterativeDQNPlanner" in sequoia.__all__


def test_values_that_overflow_are_a_planning_error_not_the_null_action():
    """Weights of 1e300 overflow float64: every candidate's value was inf (with numpy's
    overflow warnings), no addition raised it, and the planner returned the all-zero action
    without an error (a fuzz review); the MIP planners refuse such networks too."""
    import warnings

    from rmab.domains import make_domain
    from rmab.errors import PlanningError

    d = make_domain("capacity", 5, 2, seed=0)
    net = ReLUNetwork([np.full((3, 11), 1e300), np.full((1, 3), 1e300)],
                      [np.zeros(3), np.zeros(1)])
    planner = make_domain_planner("iterative-dqn", network=net).fit(d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PlanningError, match=r"^IterativeDQNPlanner: the network's value of "
                                                r"an action must be finite; got inf \(its "
                                                r"weights overflow float64 at these inputs\)$"):
            planner.plan(np.zeros(5, dtype=np.int64), t=0)
