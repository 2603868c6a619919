"""``rmab train`` end to end on a tiny domain (torch + MIP), and the outputs it writes."""

import argparse
import re

import numpy as np
import pytest

pytest.importorskip("torch")

from rmab.commands import train as train_cmd  # noqa: E402
from rmab.domains import load_domain  # noqa: E402
from rmab.errors import RmabWarning  # noqa: E402
from rmab.planners.sequoia import SequoiaPlanner  # noqa: E402
from rmab.planners.sequoia.train import load_qnetwork  # noqa: E402
from solvers.nn import ReLUNetwork  # noqa: E402

# tests train on a few short episodes, fewer transitions than a batch: train_sequoia says so
# (the first test below asserts that warning), expected here, not news
pytestmark = [pytest.mark.torch, pytest.mark.mip, pytest.mark.filterwarnings(
    "ignore:train_sequoia.*fewer than a batch:rmab.errors.RmabWarning")]


def parse(argv):
    parser = argparse.ArgumentParser()
    train_cmd.add_arguments(parser)
    return parser.parse_args(argv)


def test_rmab_train_writes_checkpoint_network_and_domain(tmp_path, capsys):
    args = parse(["--domain", "capacity", "--arms", "5", "--budget", "2", "--episodes", "2",
                  "--horizon", "4", "--hidden", "8,8", "--seed", "3", "--out", str(tmp_path),
                  "--no-progress", "--argmax", "mip", "--warm-start-samples", "300",
                  "--warm-start-epochs", "5"])
    with pytest.warns(RmabWarning, match=r"8 transitions \(2 episodes of 4 steps\), fewer "
                                         r"than a batch \(32\): no gradient step"):
        assert train_cmd.run(args) == 0
    out = capsys.readouterr().out
    assert "MIP solves" in out and "cache hits" in out and "gradient steps 0;" in out
    assert "kept the network after" in out and "validation reward" in out
    # it had said "DQN did not improve on it" (a new user's walkthrough)
    assert re.search(r"per step, the same as the warm start's \(DQN made no gradient step\)",
                     out), out
    net = ReLUNetwork.load(tmp_path / "sequoia.npz")
    q = load_qnetwork(tmp_path / "sequoia.pt")
    from solvers.errors import SolverInputError          # numpy's 'magic string' before
    with pytest.raises(SolverInputError, match=r"a PyTorch checkpoint \(rmab train writes the "
                                               r"network as numpy weights beside it: "
                                               r"sequoia\.npz\)"):
        ReLUNetwork.load(tmp_path / "sequoia.pt")
    x = np.random.default_rng(0).random((3, net.n_inputs))
    import torch

    with torch.no_grad():
        ref = q(torch.from_numpy(x).float()).numpy()
    np.testing.assert_allclose(net.forward(x)[:, 0], ref, rtol=1e-5, atol=1e-5)
    domain = load_domain(tmp_path / "domain.npz")
    planner = SequoiaPlanner(tmp_path / "sequoia.npz", horizon=4).fit(domain)
    assert domain.is_feasible(planner.plan(np.zeros(5, dtype=np.int64), t=0))
    _check_training_record(tmp_path / "sequoia.npz", domain)
    from rmab.planners.sequoia.train import load_checkpoint
    config = load_checkpoint(tmp_path / "sequoia.pt")["meta"]["config"]
    assert (config["warm_start_samples"], config["warm_start_epochs"]) == (300, 5)


def _check_training_record(path, domain):
    """The network file records what it was trained for; using it elsewhere is caught."""
    import warnings

    from rmab.domains import make_domain
    from rmab.errors import InvalidModelError, RmabWarning
    from rmab.planners.sequoia.iterative import IterativeDQNPlanner
    from rmab.planners.sequoia.features import load_network, training_record
    from solvers.nn import ReLUNetwork

    record = training_record("test", load_network("test", path))
    assert record["kind"] == "capacity" and record["horizon"] == 4
    # the record travels with the network, not with its file: loaded, then passed as an
    # object or saved again, the network still refuses another kind of domain (both were
    # accepted: a coRMAB walkthrough)
    copy = ReLUNetwork.load(path).save(path.parent / "copy.npz")
    for network in (ReLUNetwork.load(path), copy):
        with pytest.raises(InvalidModelError, match="was trained on a capacity domain; this "
                                                    "one is scheduling"):
            SequoiaPlanner(network, horizon=4).fit(make_domain("scheduling", 5, 2, seed=0,
                                                               ))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # the right domain and horizon: silent
        SequoiaPlanner(path, horizon=4).fit(domain)
    with pytest.warns(RmabWarning, match=r"trained for horizon 4; planning with horizon 6 .*"
                                         r"\(plan with horizon=4; in 'rmab compare': "
                                         r"--horizon 4\)"):
        SequoiaPlanner(path, horizon=6).fit(domain)
    with pytest.warns(RmabWarning, match="trained on another capacity instance"):
        IterativeDQNPlanner(path, horizon=4).fit(make_domain("capacity", 5, 2, seed=99))
    with warnings.catch_warnings(record=True) as caught:     # once: MIPArgmax repeated it,
        warnings.simplefilter("always")                       # pointing into argmax.py
        SequoiaPlanner(path, horizon=4).fit(make_domain("capacity", 5, 2, seed=99))
    assert [str(w.message).split(":")[0] for w in caught] == ["SequoiaPlanner"]
    scheduling = make_domain("scheduling", 5, 2, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # errors first: no warning before them
        with pytest.raises(InvalidModelError, match="was trained on a capacity domain; this "
                                                    "one is scheduling"):
            SequoiaPlanner(path, horizon=6).fit(scheduling)
        with pytest.raises(InvalidModelError, match=r"= 17 inputs for this capacity domain of 8 "
                                                    r"arms; got 11 \(trained for another number "
                                                    r"of arms\?\)"):
            SequoiaPlanner(path, horizon=6).fit(make_domain("capacity", 8, 2, seed=0))


def test_rmab_train_rejects_bad_hidden():
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--hidden", "0,4", "--out", "x"])


def test_rmab_train_refuses_a_network_too_large_for_memory(tmp_path, capsys):
    """hidden 100000,100000 (40 GB per copy) crashed with torch's raw allocation traceback."""
    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--hidden", "100000,100000", "--out", str(tmp_path / "r"), "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert re.search(r"rmab: error: train\.hidden: a network of 10,00\d,\d00,001 weights needs "
                     r"about 186 GiB to train .*; got hidden \[100000, 100000\]", err), err
    assert not (tmp_path / "r").exists()


def test_empty_output_paths_are_refused(tmp_path, capsys, monkeypatch):
    """--out "" trained into the current folder ('rmab train') or wrote no CSV without a word
    ('rmab compare'): a coRMAB walkthrough."""
    from rmab.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--out", "", "--no-progress"]) == 1
    assert "train.out: must be a folder path; got ''" in capsys.readouterr().err
    for flag in ("--out", "--episodes-out", "--plot", "--save"):
        assert main(["compare", "--domain", "capacity", "--arms", "4", "--budget", "1",
                     "--episodes", "1", "--horizon", "1", "--planners", "random", flag,
                     ""]) == 1
        err = capsys.readouterr().err
        assert f"compare.{flag[2:].replace('-', '_')}: must be a path ending in" in err, err
    assert list(tmp_path.iterdir()) == []


def test_rmab_train_rejects_a_negative_stability_weight(tmp_path, capsys):
    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--stability", "-1", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert "train.stability: must be >= 0" in capsys.readouterr().err


def test_rmab_train_defaults_are_the_config_defaults():
    from rmab.planners.sequoia.train import SequoiaConfig

    args, cfg = parse(["--domain", "capacity", "--out", "x"]), SequoiaConfig()
    for name in ("episodes", "horizon", "hidden", "target_update", "workers",
                 "stability", "warm_start", "offset", "validate_every",
                 "discount", "control_variate", "restarts", "p_high",
                 "gain_table", "selection_episodes", "argmax", "warm_start_samples",
                 "warm_start_epochs"):
        assert getattr(args, name) == getattr(cfg, name), name
    assert args.selection_margin is None          # run() takes the config's (test below)
    assert args.validation_episodes is None and args.training_jobs is None   # likewise
    from rmab.commands.train import _given
    assert _given(args, "validation_episodes") == cfg.validation_episodes
    assert _given(args, "training_jobs") == cfg.training_jobs
    assert args.time_limit is None and args.target_time_limit is None     # likewise


def test_rmab_train_refuses_a_time_limit_an_enumerating_argmax_ignores(tmp_path, capsys):
    """With the argmax enumerating (auto on multiple interventions at J = 20, or brute),
    --time-limit was ignored without a word (a CLI review); 0 ('none') is allowed."""
    from rmab.cli import main

    code = main(["train", "--domain", "interventions", "--time-limit", "1", "--out",
                 str(tmp_path / "run"), "--no-progress"])
    assert code == 1
    assert ("train.time_limit: not used: with --argmax auto the 253 feasible actions (<= 5000) "
            "are enumerated" in capsys.readouterr().err)
    code = main(["train", "--domain", "capacity", "--arms", "4", "--budget", "2", "--argmax",
                 "brute", "--target-time-limit", "0.2", "--out", str(tmp_path / "run")])
    assert code == 1
    assert ("train.target_time_limit: not used: --argmax brute enumerates"
            in capsys.readouterr().err)
    assert not (tmp_path / "run").exists()
    code = main(["train", "--domain", "capacity", "--arms", "4", "--budget", "2", "--argmax",
                 "brute", "--time-limit", "0", "--episodes", "0", "--out", str(tmp_path / "run"),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err


def test_rmab_train_refuses_options_it_would_ignore(tmp_path, capsys):
    """--selection-margin without the Whittle table and re-scoring, and '3,,4' as widths,
    were taken silently (a review)."""
    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--selection-margin", "3", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert ("train.selection_margin: weighs the Whittle start against the re-scored networks, "
            "so it needs --gain-table whittle or both and --selection-episodes > 0; got "
            "--gain-table none, --selection-episodes 0") in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    # the Whittle table without re-scoring: nothing to weigh either (--episodes 0: were it
    # taken, a short run)
    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2", "--gain-table",
                 "whittle", "--selection-margin", "3", "--episodes", "0", "--out", str(tmp_path),
                 "--no-progress"])
    assert code == 1
    assert ("so it needs --gain-table whittle or both and --selection-episodes > 0; got "
            "--gain-table whittle, --selection-episodes 0") in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--hidden", "3,,4", "--out", "x"])
    assert parse(["--domain", "capacity", "--hidden", "3, 4", "--out", "x"]).hidden == (3, 4)


def test_rmab_train_warm_start_and_validation_options(tmp_path, capsys):
    args = parse(["--domain", "scheduling", "--arms", "4", "--budget", "2", "--episodes", "1",
                  "--horizon", "3", "--hidden", "4", "--warm-start", "myopic",
                  "--offset", "lagrangian", "--validate-every", "0",
                  "--control-variate", "none", "--out", str(tmp_path),
                  "--no-progress"])
    assert (args.warm_start, args.offset, args.validate_every) == ("myopic", "lagrangian", 0)
    assert args.control_variate == "none"
    # counts in the singular where they are 1 ("1 episodes of 3 steps give" before)
    with pytest.warns(RmabWarning, match=r"3 transitions \(1 episode of 3 steps\), fewer "):
        assert train_cmd.run(args) == 0
    assert "kept the network" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--warm-start", "whittle", "--out", "x"])
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--offset", "whittle", "--out", "x"])
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--control-variate", "mean", "--out", "x"])
    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--validate-every", "-2", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert "train.validate_every: must be >= 0" in capsys.readouterr().err
    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--validation-episodes", "0", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert "train.validation_episodes: must be >= 1" in capsys.readouterr().err
    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--discount", "1.5", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert "train.discount: must be <= 1" in capsys.readouterr().err
    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--restarts", "2", "--validate-every", "0", "--out", str(tmp_path),
                 "--no-progress"])
    assert code == 1
    assert "train.restarts: > 1 needs validation" in capsys.readouterr().err
    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--p-high", "1.5", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert "train.p_high: must be <= 1" in capsys.readouterr().err


def test_rmab_train_gain_table_plans_from_its_files(tmp_path, capsys):
    from rmab.planners.sequoia.iterative import IterativeDQNPlanner
    from rmab.planners.sequoia.gains import GainTableNetwork

    args = parse(["--domain", "path", "--arms", "6", "--budget", "2", "--episodes", "1",
                  "--horizon", "3", "--hidden", "4", "--gain-table", "whittle",
                  "--validation-episodes", "2", "--out", str(tmp_path), "--no-progress"])
    assert train_cmd.run(args) == 0
    assert "enumeration solves" in capsys.readouterr().out      # "auto" lists the routes
    domain = load_domain(tmp_path / "domain.npz")
    for planner in (SequoiaPlanner(tmp_path / "sequoia.npz", horizon=3),
                    IterativeDQNPlanner(tmp_path / "sequoia.npz", horizon=3)):
        assert isinstance(planner.network, GainTableNetwork)
        planner.fit(domain)
        assert domain.is_feasible(planner.plan(np.ones(6, dtype=np.int64), t=1))
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--gain-table", "lagrangian", "--out", "x"])
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--whittle", "stationary", "--out", "x"])
    with pytest.raises(SystemExit):
        parse(["--domain", "capacity", "--argmax", "gurobi", "--out", "x"])


def test_rmab_train_finite_whittle_table_plans_from_its_files(tmp_path, capsys):
    """``--whittle finite``: one table per time-to-go, read back by the planner, which refuses
    another horizon (the table's periods would not match)."""
    from rmab.errors import InvalidModelError
    from rmab.planners.sequoia.gains import GainTableNetwork

    args = parse(["--domain", "capacity", "--arms", "4", "--budget", "2", "--episodes", "1",
                  "--horizon", "3", "--hidden", "4", "--gain-table", "whittle",
                  "--whittle", "finite", "--discount", "1", "--validation-episodes", "2",
                  "--out", str(tmp_path), "--no-progress"])
    assert train_cmd.run(args) == 0
    assert "plan with that horizon ('rmab compare --horizon 3')" in capsys.readouterr().out
    domain = load_domain(tmp_path / "domain.npz")
    planner = SequoiaPlanner(tmp_path / "sequoia.npz", horizon=3).fit(domain)
    assert isinstance(planner.network, GainTableNetwork)
    assert planner.network.gain_table.shape == (3, 4, domain.n_states, 2)
    for t in range(3):
        assert domain.is_feasible(planner.plan(np.ones(4, dtype=np.int64), t=t))
    with pytest.raises(InvalidModelError, match=r"its gain table has one table per period of "
                                                r"horizon 3; plan with horizon=3 \(in 'rmab "
                                                r"compare': --horizon 3\); got horizon 5"):
        SequoiaPlanner(tmp_path / "sequoia.npz", horizon=5).fit(domain)


def test_rmab_train_restarts(tmp_path, capsys):
    args = parse(["--domain", "capacity", "--arms", "4", "--budget", "2", "--episodes", "2",
                  "--horizon", "3", "--hidden", "4", "--validate-every", "1",
                  "--validation-episodes", "2", "--restarts", "2", "--out", str(tmp_path),
                  "--no-progress"])
    assert train_cmd.run(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"kept the network after \d episodes of training [12]/2", out)
    # the last episodes of each training, not of the trainings end to end (said "last 4")
    assert re.search(r"episodes 2 in each of 2 trainings; mean per-step reward of the last 2 "
                     r"episodes of each: \d\.\d{4}, \d\.\d{4}\n", out)


def test_rmab_train_selection_episodes(tmp_path, capsys):
    args = parse(["--domain", "capacity", "--arms", "4", "--budget", "2", "--episodes", "2",
                  "--horizon", "3", "--hidden", "4", "--validate-every", "1",
                  "--validation-episodes", "2", "--gain-table", "both",
                  "--selection-episodes", "4", "--out", str(tmp_path), "--no-progress"])
    assert train_cmd.run(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"kept the network after \d episodes of training [12]/2", out)
    rescored = out.split("re-scored on 4 fresh episodes: ")[1].splitlines()[0]
    assert len(re.findall(r"\d episodes? of training [12]/2[^;]* \d\.\d{4}", rescored)) in (3, 4)
    assert "0 episodes of training 2/2 (Whittle gain table)" in rescored     # the Whittle start
    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--selection-episodes", "5", "--validate-every", "0", "--out", str(tmp_path),
                 "--no-progress"])
    assert code == 1
    assert "train.selection_episodes: > 0 needs validation" in capsys.readouterr().err


def test_rmab_train_names_the_finite_whittle_start(tmp_path, capsys):
    args = parse(["--domain", "capacity", "--arms", "4", "--budget", "2", "--episodes", "1",
                  "--horizon", "3", "--hidden", "4", "--validate-every", "1",
                  "--validation-episodes", "2", "--gain-table", "both", "--whittle", "finite",
                  "--selection-episodes", "4", "--out", str(tmp_path), "--no-progress"])
    assert train_cmd.run(args) == 0
    rescored = capsys.readouterr().out.split("re-scored on 4 fresh episodes: ")[1]
    assert "0 episodes of training 2/2 (finite-horizon Whittle gain table)" in rescored
    from rmab.cli import main

    assert main(["train", "--domain", "capacity", "--arms", "4", "--budget", "2", "--whittle",
                 "finite", "--out", str(tmp_path / "x"), "--no-progress"]) == 1
    assert "train.whittle: 'finite' chooses the gain table's start" in \
        capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_rmab_train_selection_margin(tmp_path, capsys):
    """The Whittle start stays unless the best re-scored network beats it by the margin; the
    summary gives their paired difference either way."""
    from rmab.domains import make_capacity, save_domain

    save_domain(make_capacity(4, 2, seed=1), tmp_path / "tiny.npz")
    kept = {}
    for margin in ("2", "0"):
        args = parse(["--domain-file", str(tmp_path / "tiny.npz"), "--episodes", "3",
                      "--horizon", "10", "--hidden", "8", "--validate-every", "1",
                      "--validation-episodes", "1", "--gain-table", "both",
                      "--selection-episodes", "30", "--selection-margin", margin, "--seed", "2",
                      "--out", str(tmp_path / margin), "--no-progress"])
        assert train_cmd.run(args) == 0
        out = capsys.readouterr().out
        m = re.search(r"ahead of the Whittle start by (\d\.\d{4}) ± (\d\.\d{4}) per step", out)
        assert m and 0 < float(m[1]) < 2 * float(m[2])           # ahead, but by < 2 errors
        kept[margin] = re.search(r"kept the network after (\d) episodes of training (\d)/2",
                                 out).groups()
    assert kept["2"] == ("0", "2") and kept["0"] != ("0", "2")


def test_compare_sequoia_on_the_trained_domain(tmp_path, capsys):
    from rmab.cli import main

    args = parse(["--domain", "capacity", "--arms", "5", "--budget", "2", "--episodes", "2",
                  "--horizon", "4", "--hidden", "8,8", "--seed", "3", "--out", str(tmp_path),
                  "--no-progress"])
    assert train_cmd.run(args) == 0
    capsys.readouterr()
    code = main(["compare", "--domain-file", str(tmp_path / "domain.npz"), "--network",
                 str(tmp_path / "sequoia.npz"), "--horizon", "4", "--episodes", "3",
                 "--planners", "random,myopic", "--out", str(tmp_path / "c.csv")])
    assert code == 0
    table = capsys.readouterr().out
    assert "sequoia" in table and "iterative-dqn" in table and "myopic" in table
    assert (tmp_path / "c.csv").read_text().count("\n") == 5  # header + 4 planners
    # naming one network planner takes that one alone (iterative-dqn was always added)
    assert main(["compare", "--domain-file", str(tmp_path / "domain.npz"), "--network",
                 str(tmp_path / "sequoia.npz"), "--horizon", "4", "--episodes", "1",
                 "--planners", "random,sequoia", "--out", str(tmp_path / "c.csv")]) == 0
    rows = (tmp_path / "c.csv").read_text().splitlines()[1:]
    assert [row.split(",")[2] for row in rows] == ["random", "sequoia"]
    capsys.readouterr()
    # without --horizon, the horizon the network was trained for (it ran at 20 with a
    # warning to pass --horizon 4: a coRMAB walkthrough)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["compare", "--domain-file", str(tmp_path / "domain.npz"), "--network",
                     str(tmp_path / "sequoia.npz"), "--episodes", "1",
                     "--planners", "random,sequoia"]) == 0
    assert "1 seed, 1 episode, H = 4 (RANDOM = 1)" in capsys.readouterr().out
    # --time-limit 0 means no limit, as in 'rmab train'; a negative one is refused
    assert main(["compare", "--domain-file", str(tmp_path / "domain.npz"), "--network",
                 str(tmp_path / "sequoia.npz"), "--horizon", "4", "--episodes", "1",
                 "--planners", "random", "--time-limit", "0"]) == 0
    assert main(["compare", "--domain-file", str(tmp_path / "domain.npz"), "--network",
                 str(tmp_path / "sequoia.npz"), "--horizon", "4", "--episodes", "1",
                 "--planners", "random", "--time-limit", "-1"]) == 1
    assert "compare.time_limit: must be >= 0.0; got -1.0" in capsys.readouterr().err
    # a network without a domain file is a usage mistake with a clear error
    assert main(["compare", "--health", "5", "--network", "x.npz"]) == 1
    assert "network" in capsys.readouterr().err


def test_rmab_train_rejects_zero_training_jobs(tmp_path, capsys):
    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--training-jobs", "0", "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert "train.training_jobs: must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "sequoia.npz").exists()


@pytest.mark.parametrize("flags, message", [
    (["--validate-every", "0", "--validation-episodes", "5"],
     "train.validation_episodes: not used with --validate-every 0"),
    (["--training-jobs", "2"], "train.training_jobs: runs at most one process per training "
                               "(--restarts x gain tables: 1 here); got --training-jobs 2"),
    (["--gain-table", "both", "--training-jobs", "3"], "(--restarts x gain tables: 2 here)"),
])
def test_rmab_train_refuses_flags_it_would_ignore(flags, message, tmp_path, capsys):
    """Both ran and wrote the same network as without them (a CLI review)."""
    from rmab.cli import main

    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2", *flags,
                 "--out", str(tmp_path / "run"), "--no-progress"])
    assert code == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_rmab_train_refuses_unwritable_outputs_before_training(tmp_path, capsys):
    from rmab.cli import main

    (tmp_path / "sequoia.npz").mkdir()
    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--out", str(tmp_path), "--no-progress"])
    assert code == 1
    assert "train.out: " + str(tmp_path / "sequoia.npz") + ": must be the path of a regular " \
        "file; it is a directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sequoia.npz"]   # nothing trained


def test_rmab_train_stopped_early_leaves_no_folders_and_keeps_its_input(tmp_path, capsys,
                                                                         monkeypatch):
    import rmab.planners.sequoia.train as train_mod
    from rmab.cli import main
    from rmab.domains import make_domain, save_domain
    from rmab.errors import PlanningError

    def stopped(*args, **kwargs):
        raise PlanningError("stopped")

    monkeypatch.setattr(train_mod, "train_sequoia", stopped)
    code = main(["train", "--domain", "capacity", "--arms", "5", "--budget", "2",
                 "--out", str(tmp_path / "new" / "run"), "--no-progress"])
    assert code == 1 and "stopped" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []                   # the folders made are gone
    run = tmp_path / "run"
    path = save_domain(make_domain("capacity", 5, 2, seed=0), run / "domain.npz")
    before = path.read_bytes()
    code = main(["train", "--domain-file", str(path), "--out", str(run), "--no-progress"])
    assert code == 1
    assert "domain.npz: must not be an input of this run" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_damaged_network_files_are_typed_errors(tmp_path):
    import numpy as np

    from rmab.errors import InvalidModelError
    from rmab.planners.sequoia.features import load_network
    from solvers.nn import ReLUNetwork

    rng = np.random.default_rng(0)
    good = ReLUNetwork((rng.normal(size=(3, 4)), rng.normal(size=(1, 3))),
                       (np.zeros(3), np.zeros(1))).save(tmp_path / "good.npz")
    assert oct(good.stat().st_mode & 0o777) != oct(0o600)       # normal permissions
    data = good.read_bytes()
    np.save(tmp_path / "one.npy", np.zeros(3))
    table = tmp_path / "table.npz"
    np.savez(table, **dict(np.load(good)), gain_table=np.array([None, 1], dtype=object))
    for name, content in (("empty.npz", b""), ("cut.npz", data[: len(data) // 2])):
        (tmp_path / name).write_bytes(content)
    for name in ("empty.npz", "cut.npz", "one.npy", "table.npz"):
        with pytest.raises(InvalidModelError, match="t.network|load.path"):
            load_network("t", tmp_path / name)


def test_config_rejects_sizes_that_cannot_train():
    from rmab.errors import InvalidParameterError
    from rmab.planners.sequoia.train import SequoiaConfig

    for kwargs, match in ((dict(hidden=32), "hidden"), (dict(hidden=(float("nan"),)), "hidden"),
                          (dict(hidden=("a",)), "hidden"),
                          (dict(buffer_size=8, batch_size=16), "buffer_size: must be >="),
                          (dict(warm_start_samples=1), "warm_start_samples")):
        with pytest.raises(InvalidParameterError, match=match):
            SequoiaConfig(**kwargs)


def test_load_qnetwork_wrong_checkpoint_is_a_typed_error(tmp_path):
    import torch

    from rmab.errors import InvalidModelError
    from rmab.planners.sequoia.train import load_qnetwork

    path = tmp_path / "c.pt"
    torch.save({"format": "rmab-sequoia", "version": 1, "model": {}}, path)
    with pytest.raises(InvalidModelError, match="load_qnetwork.path: must hold"):
        load_qnetwork(path)


def test_rmab_train_refuses_sizes_with_a_domain_file(tmp_path, capsys):
    from rmab.cli import main
    from rmab.domains import make_domain, save_domain

    path = save_domain(make_domain("capacity", 5, 2, seed=0), tmp_path / "d.npz")
    code = main(["train", "--domain-file", str(path), "--arms", "20", "--out",
                 str(tmp_path / "run")])
    assert code == 1
    assert "the saved domain fixes its size and arms; got --arms too" in capsys.readouterr().err
    code = main(["train", "--domain-file", str(path), "--domain-seed", "7", "--out",
                 str(tmp_path / "run")])        # was ignored (a CLI review)
    assert code == 1
    assert "arms; got --domain-seed too" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    for flag in ("--time-limit", "--target-time-limit"):   # said "must be > 0", 0 allowed
        assert main(["train", "--domain-file", str(path), flag, "-1", "--out",
                     str(tmp_path / "run")]) == 1
        name = flag[2:].replace("-", "_")
        assert (f"train.{name}: must be >= 0 seconds (0 = none); got -1.0"
                in capsys.readouterr().err)


def test_the_gain_is_over_the_kept_trainings_own_warm_start():
    """With restarts, the summary set the kept network against training 1's warm start: a
    network that only matched its own Whittle start printed +0.6839 (a SEQUOIA review)."""
    from types import SimpleNamespace

    res = SimpleNamespace(validated_at=np.array([0, 1, 2, 0, 1, 2]),
                          validated_restart=np.array([0, 0, 0, 1, 1, 1]),
                          validation_rewards=np.array([7.66, 7.66, 7.66, 8.34, 8.34, 8.34]),
                          best_episode=2, restart=1)
    assert train_cmd._kept_and_gain(res) == (5, 0.0)
    res.validation_rewards = np.array([7.5, 7.75, 7.5, 8.25, 8.0, 8.5])
    assert train_cmd._kept_and_gain(res) == (5, 0.25)
    res.best_episode, res.restart = 1, 0
    assert train_cmd._kept_and_gain(res) == (1, 0.25)


def test_load_qnetwork_checks_the_sizes_against_the_weights_before_building(tmp_path):
    """Sizes 20 000 wide declared in a 3 KB checkpoint took 1.9 GB before load_state_dict
    refused them (a review of the file loaders)."""
    import torch

    from rmab.errors import InvalidModelError
    from rmab.planners.sequoia.qnet import QNetwork
    from rmab.planners.sequoia.train import load_qnetwork, save_checkpoint

    path = tmp_path / "c.pt"
    save_checkpoint(path, QNetwork(5, (4,), generator=torch.Generator().manual_seed(0)))
    assert load_qnetwork(path).sizes == (5, 4, 1)
    payload = torch.load(path, weights_only=True)
    payload["sizes"] = [5, 10**9, 10**9, 1]
    torch.save(payload, path)
    with pytest.raises(InvalidModelError, match=r"sizes \[5, 1000000000, 1000000000, 1\] and "
                                                r"gain table None must be those of the stored "
                                                r"weights; got layers \[\(4, 5\), \(1, 4\)"):
        load_qnetwork(path)
    payload["sizes"] = [5, 4, 1]
    payload["model"]["layers.0.weight"] = 3          # no shape: a bare AttributeError
    torch.save(payload, path)
    with pytest.raises(InvalidModelError, match=r"must hold a Q-network's sizes and weights; "
                                                r".*AttributeError"):
        load_qnetwork(path)


def test_rmab_train_seeds_the_generated_domain_with_seed_unless_domain_seed(tmp_path,
                                                                           monkeypatch):
    """--domain-seed defaults to --seed (its help): the domain trained on is make_capacity's
    at that seed, or at --domain-seed where given; training keeps --seed either way (the
    training itself is stopped where it would start)."""
    import rmab.planners.sequoia.train as sequoia_train
    from rmab.domains import make_capacity

    class Stop(Exception):
        pass

    seen = []

    def record(domain, config, *, seed, **kwargs):
        seen.append((domain, seed))
        raise Stop
    monkeypatch.setattr(sequoia_train, "train_sequoia", record)
    for flags in ([], ["--domain-seed", "4"]):
        args = parse(["--domain", "capacity", "--arms", "6", "--budget", "2", "--seed", "3",
                      *flags, "--out", str(tmp_path / "run"), "--no-progress"])
        with pytest.raises(Stop):
            train_cmd.run(args)
    for (domain, seed), domain_seed in zip(seen, (3, 4)):
        assert seed == 3
        made, other = make_capacity(6, 2, seed=domain_seed).to_arrays(), domain.to_arrays()
        assert made.keys() == other.keys()
        for key in made:
            np.testing.assert_array_equal(other[key], made[key], err_msg=key)
    assert not np.array_equal(make_capacity(6, 2, seed=0).to_arrays()["costs"],
                              make_capacity(6, 2, seed=3).to_arrays()["costs"])
