"""``rmab compare`` through the dispatcher: outputs and exit codes."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from rmab.cli import main
from rmab.commands.compare import default_planners
from rmab.models import health_intervention, save_instance

DATA = Path(__file__).resolve().parents[2] / "data"


def test_health_instance_with_csv_and_plot(tmp_path, capsys):
    out, png = tmp_path / "r.csv", tmp_path / "r.png"
    code = main(["compare", "--health", "15", "--episodes", "3", "--horizon", "5",
                 "--planners", "random,myopic", "--out", str(out), "--plot", str(png),
                 "--progress"])
    assert code == 0
    stdout, stderr = capsys.readouterr()
    assert stdout.splitlines()[0].startswith("planner")
    assert "myopic" in stdout and "compare" in stderr  # table on stdout, progress on stderr
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["planner"] for r in rows] == ["random", "myopic"]
    assert float(rows[0]["normalised"]) == 1.0 and int(rows[0]["episodes"]) == 3
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_instance_file_and_default_planners(tmp_path, capsys):
    path = save_instance(health_intervention(8, seed=1), tmp_path / "i.npz")
    code = main(["compare", str(path), "--episodes", "2", "--no-progress", "--seed", "3",
                 "--horizon", "4"])
    assert code == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == ""
    names = [line.split()[0] for line in stdout.splitlines()[2:-1]]
    assert names == default_planners()
    assert {"no-action", "random", "round-robin", "myopic", "belief-threshold"} <= set(names)
    # same seed, same table (decision times aside)
    main(["compare", str(path), "--episodes", "2", "--no-progress", "--seed", "3",
          "--horizon", "4"])
    again = capsys.readouterr().out
    strip = lambda text: [line.rsplit(maxsplit=1)[0] for line in text.splitlines()[2:-1]]  # noqa
    assert strip(again) == strip(stdout)


@pytest.mark.parametrize("argv, message", [
    (["compare", "missing.npz"], "must be an existing file"),
    (["compare", "--health", "5", "--episodes", "0"], "compare.episodes: must be >= 1"),
    (["compare", "--health", "0"], "compare.health: must be >= 1; got 0"),
    (["compare", "--health", "5", "--planners", "random,,myopic"],
     "compare.planners: must be comma-separated names without empty ones; got "
     "'random,,myopic'"),
    (["compare", "--domain", "capacity", "--arms", "5", "--budget", "1", "--planners",
      "random,"], "compare.planners: must be comma-separated names without empty ones"),
    (["compare", "--domain", "capacity", "--arms", "5", "--budget", "1", "--seeds", "0,"],
     "compare.seeds: must be comma-separated integers without empty ones; got '0,'"),
    (["compare", "--domain", "capacity", "--arms", "5", "--budget", "1", "--planners",
      "random,sequoia"],
     "compare.planners: 'sequoia' plays a trained network: give --domain-file DOMAIN.npz "
     "--network sequoia.npz (written by 'rmab train')"),
])
def test_errors_exit_1(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error:") and message in err


@pytest.mark.parametrize("argv, message", [
    (["compare", "--health", "5", "--planners", "myopc"], "did you mean 'myopic'"),
    (["compare", "--domain", "path", "--arms", "5", "--budget", "1", "--planners", "samplng"],
     "did you mean 'sampling'"),
    (["solve", "batches.csv", "--planner", "myopc"], "did you mean 'myopic'"),
    (["compare", "--health", "5", "--planners", "random,sampling"],
     "got 'sampling'; 'sampling' plans the coRMAB domains ('rmab compare --domain'"),
    (["compare", "--health", "5", "--planners", "myopc,sampling"],
     "got 'myopc'; did you mean 'myopic'?\n"),          # the hint is for the name that failed
    (["compare", "--domain", "capacity", "--arms", "5", "--budget", "1", "--planners",
      "round-robin"], "got 'round-robin'; 'round-robin' plans budgeted instances"),
    (["planners", "lagrangain"], "did you mean 'lagrangian'"),
])
def test_a_mistyped_planner_is_a_usage_error_with_the_closest_names(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("rmab: error:") and message in err
    # --debug shows the traceback, not another exit code (a review: 1, as for a failure)
    assert main(["--debug", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and message in err


@pytest.mark.parametrize("argv, message", [
    (["--health", "5", "--arms", "3"], "compare.arms: only with --domain; got --arms 3"),
    (["--health", "5", "--seeds", "1"], "compare.seeds: only with --domain"),
    (["--domain", "capacity", "--n-states", "3"], "compare.n_states: only with --health"),
    (["--domain", "capacity", "--budget-fraction", "0.5"],
     "compare.budget_fraction: only with --health"),
    (["--health", "5", "--budget", "2"], "compare.budget: only with --domain"),
    (["x.npz", "--instance-seed", "3"], "compare.instance_seed: only with --health"),
])
def test_flags_of_another_source_are_refused(argv, message, capsys):
    """They were ignored silently: --health 20 --arms 3 ran 20 arms."""
    assert main(["compare", *argv]) == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag, name", [("--out", "i.csv"), ("--plot", "i.png")])
def test_outputs_may_not_replace_an_input(flag, name, tmp_path, capsys):
    # an instance under another name (save_instance writes .npz names only)
    path = save_instance(health_intervention(5, seed=1), tmp_path / "i.npz").rename(
        tmp_path / name)
    before = path.read_bytes()
    code = main(["compare", str(path), "--planners", "random", "--episodes", "1",
                 "--horizon", "2", "--no-progress", flag, str(path)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"compare.{flag[2:].replace('-', '_')}: " in err         # the flag, then the file
    assert f"{name}: must not be an input of this run" in err
    assert path.read_bytes() == before


def test_outputs_end_in_the_suffix_of_what_they_hold(tmp_path, capsys):
    """A CSV went into '-o README.md' or 'x.npz', PNG bytes into 'c.pdf', and bound --plot
    v.txt ended in matplotlib's traceback after the whole run (a CLI review): CSV outputs
    must end in .csv, plots in .png, .pdf or .svg (written in that format), before any work."""
    path = save_instance(health_intervention(5, seed=1), tmp_path / "i.npz")
    batches = str(Path(__file__).resolve().parents[2] / "data" / "batch_example.csv")
    readme = tmp_path / "README.md"
    for argv, message in (
            (["solve", batches, "-o", str(readme)], "solve.out: must be a path ending in .csv"),
            (["index", str(path), "-o", str(tmp_path / "o.npz")],
             "index.out: must be a path ending in .csv"),
            (["compare", str(path), "--out", str(tmp_path / "x.png")],
             "compare.out: must be a path ending in .csv"),
            (["compare", str(path), "--plot", str(tmp_path / "c.csv")],
             "compare.plot: must be a path ending in .png, .pdf, .svg; got"),
            (["compare", "--domain", "capacity", "--arms", "4", "--budget", "1", "--plot",
              str(tmp_path / "c")], "compare.plot: must be a path ending in .png"),
            (["bound", str(path), "--plot", str(tmp_path / "v.txt")],
             "bound.plot: must be a path ending in .png, .pdf, .svg; got"),
            (["generate", "health", "-o", str(readme)],
             "generate.out: must be a path ending in .npz")):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i.npz"]
    code = main(["compare", str(path), "--planners", "random", "--episodes", "2",
                 "--horizon", "2", "--no-progress", "--plot", str(tmp_path / "c.PDF")])
    assert code == 0 and (tmp_path / "c.PDF").read_bytes()[:5] == b"%PDF-"
    assert main(["bound", str(path), "--plot", str(tmp_path / "d.svg")]) == 0
    assert b"<svg" in (tmp_path / "d.svg").read_bytes()[:500]


def test_debug_goes_before_or_after_the_command(capsys):
    for argv in (["--debug", "compare", "missing.npz"], ["compare", "missing.npz", "--debug"]):
        with pytest.raises(Exception, match="must be an existing file"):
            main(argv)
    assert main(["compare", "missing.npz"]) == 1


@pytest.mark.parametrize("argv", [
    ["compare", "--health", "5", "--seed", "-1"],     # seeds are named by their flag
    ["bound", "x.npz", "--seed", "-1"],
    ["train", "--domain", "capacity", "--out", "x", "--domain-seed", "one"],
])
def test_a_negative_seed_is_a_usage_error_naming_its_flag(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "seed: must be a non-negative integer" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["compare"],                                      # no instance
    ["compare", "x.npz", "--health", "5"],            # both sources
    ["compare", "--health", "five"],                  # not an integer
    ["compare", "--health", "5", "--n-states", "4"],  # not a choice
])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.mip
def test_domain_comparison(tmp_path, capsys):
    out = tmp_path / "d.csv"
    code = main(["compare", "--domain", "capacity", "--arms", "6", "--budget", "2", "--seeds",
                 "0", "--episodes", "2", "--horizon", "3", "--planners", "random,myopic",
                 "--out", str(out)])
    assert code == 0
    assert "myopic" in capsys.readouterr().out
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["planner"] for r in rows] == ["random", "myopic"]
    assert float(rows[0]["normalised"]) == 1.0


def test_domain_comparison_errors(capsys):
    code = main(["compare", "--domain", "capacity", "--arms", "4", "--budget", "1",
                 "--episodes", "1", "--horizon", "2", "--planners", "random", "--seeds", "a,b"])
    assert code == 1
    assert "seeds" in capsys.readouterr().err


def test_domain_comparison_plot(tmp_path, capsys):
    png = tmp_path / "x.png"
    code = main(["compare", "--domain", "capacity", "--arms", "4", "--budget", "1",
                 "--episodes", "2", "--horizon", "2", "--seeds", "0,1", "--planners",
                 "no-action,random", "--plot", str(png)])
    assert code == 0
    assert f"wrote {png}" in capsys.readouterr().err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_network_needs_the_domain_file(capsys):
    code = main(["compare", "--domain", "capacity", "--network", "x.npz"])
    assert code == 1
    assert "compare.network: only with --domain-file" in capsys.readouterr().err


@pytest.mark.mip
def test_domain_comparison_with_the_bound(tmp_path, capsys):
    out = tmp_path / "d.csv"
    code = main(["compare", "--domain", "path", "--arms", "6", "--budget", "2", "--seeds",
                 "0,1", "--episodes", "3", "--horizon", "3", "--planners", "random,myopic",
                 "--bound", "--out", str(out)])
    assert code == 0
    assert "upper bound (LP)" in capsys.readouterr().out
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["planner"] for r in rows] == ["random", "myopic", "upper-bound"] * 2
    assert all(r["seconds_per_step"] == "" for r in rows[2::3])


def test_bound_needs_a_domain(capsys):
    code = main(["compare", "--health", "5", "--bound"])
    assert code == 1
    assert "compare.bound: only with --domain or --domain-file" in capsys.readouterr().err


@pytest.mark.parametrize("extra, match", [
    (["--seed", "7"], "compare.seed: not with --domain, whose instance seeds (--seeds) also "
                      "seed the evaluation; got --seed 7"),
    (["--n-jobs", "2"], "compare.n_jobs: not with --domain or --domain-file"),
    (["--horizon", "0"], "compare.horizon: must be >= 1; got 0"),
])
def test_domain_comparison_refuses_what_it_would_ignore(extra, match, capsys):
    code = main(["compare", "--domain", "capacity", "--arms", "4", "--budget", "1",
                 "--episodes", "1", "--planners", "random", "--seeds", "0", *extra])
    assert code == 1
    assert match in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--out", "--plot"])
def test_unwritable_outputs_are_refused_before_the_run(flag, tmp_path, capsys):
    """A directory as the output fails at once, not after the whole comparison."""
    folder = tmp_path / ("d.csv" if flag == "--out" else "d.png")
    folder.mkdir()
    code = main(["compare", "--health", "6", "--episodes", "1", "--horizon", "2",
                 "--planners", "random", "--no-progress", flag, str(folder)])
    assert code == 1
    out, err = capsys.readouterr()
    assert out == ""                                     # no table: nothing ran
    assert err == (f"rmab: error: compare.{flag[2:]}: {folder}: must be the path of a regular "
                   f"file; it is a directory\n")       # the flag named, as other errors do
    assert list(folder.iterdir()) == []                  # no temporary file left


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_rmab_warnings_are_one_line(n_jobs, tmp_path, capsys):
    """An IndexabilityWarning prints as one line ``rmab: warning: ...``, without Python's
    source line (three non-indexable arms found by the Whittle tests), once, also when every
    worker process fits the planner."""
    import warnings

    from rmab.errors import IndexabilityWarning
    from rmab.models import Instance, random_mdp_arms
    from rmab.relax.whittle import whittle_indices

    arms = random_mdp_arms(400, 3, 2, concentration=0.1, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        bad = np.flatnonzero(~whittle_indices(arms, discount=0.99).indexable)[:3]
    path = save_instance(Instance(arms.select(bad), 1.0, discount=0.99), tmp_path / "n.npz")
    code = main(["compare", str(path), "--planners", "whittle", "--episodes", "2",
                 "--horizon", "1", "--no-progress", "--n-jobs", n_jobs])
    assert code == 0
    err = capsys.readouterr().err
    assert err == ("rmab: warning: WhittlePlanner: 3 of 3 arms are not (fully) indexable; "
                   "their indices are heuristics (which: the planner's .result.indexable, "
                   "or the indexable column of 'rmab index')\n"), err


def test_planners_lists_and_describes(capsys):
    assert main(["planners"]) == 0
    out = capsys.readouterr().out
    assert "lagrangian" in out and "'rmab planners NAME'" in out
    assert main(["planners", "lagrangian"]) == 0
    out = capsys.readouterr().out
    assert "  charge_now = False" in out and "  resolve_every = None" in out


def test_planners_lists_and_describes_the_domain_planners(capsys):
    """They were invisible: 'rmab planners' listed the instance planners only."""
    assert main(["planners"]) == 0
    assert "'rmab planners --domain'" in capsys.readouterr().out
    assert main(["planners", "--domain"]) == 0
    out = capsys.readouterr().out
    assert "iterative-myopic" in out and "sequoia" in out and "(needs network)" in out
    assert main(["planners", "sampling"]) == 0           # only a domain planner: no flag needed
    assert "sampling (domain planner)" in capsys.readouterr().out
    assert main(["planners", "myopic", "--domain"]) == 0
    out = capsys.readouterr().out
    assert "myopic (domain planner)" in out and "mip_gap = 1e-06" in out
    for argv in (["planners", "samplng", "--domain"], ["planners", "samplng"]):
        assert main(argv) == 2
        assert "did you mean 'sampling'" in capsys.readouterr().err


def test_a_failed_run_leaves_no_output_folders(tmp_path, capsys):
    out = tmp_path / "typo" / "deep" / "x.csv"
    code = main(["compare", "--health", "5", "--planners", "nosuch", "--out", str(out)])
    assert code == 2 and "nosuch" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []        # the folders the check made are gone again


def test_domain_comparison_defaults_include_the_index_policies(capsys):
    code = main(["compare", "--domain", "capacity", "--arms", "4", "--budget", "1", "--seeds",
                 "0", "--episodes", "1", "--horizon", "2"])
    assert code == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines()[3:-3]}
    assert {"sampling", "iterative-myopic", "whittle", "whittle-finite", "lagrangian"} <= names


def test_time_limit_is_for_the_domain_planners_mip_solves(capsys):
    assert main(["compare", "--health", "5", "--time-limit", "2"]) == 1
    assert "compare.time_limit: only with --domain or --domain-file" in capsys.readouterr().err
    # a limit that no planner of the list would use is refused, not ignored
    base = ["compare", "--domain", "capacity", "--arms", "4", "--budget", "1", "--seeds", "0",
            "--episodes", "1", "--horizon", "2"]
    assert main(base + ["--planners", "random,iterative-myopic", "--time-limit", "2"]) == 1
    assert ("compare.time_limit: none of the planners ['random', 'iterative-myopic'] makes MIP "
            "solves" in capsys.readouterr().err)
    assert main(base + ["--planners", "random,myopic", "--time-limit", "-1"]) == 1
    assert "compare.time_limit: must be >= 0" in capsys.readouterr().err


def test_time_limit_reaches_every_planner_that_solves_a_mip():
    """J = 100 path solves take seconds to minutes each; --time-limit makes such a comparison
    finish, the myopic, index and rollout planners playing their best action at the limit."""
    from types import SimpleNamespace

    from rmab.commands.compare import _domain_planners

    args = SimpleNamespace(time_limit=2.5, network=None)
    made = _domain_planners(["random", "myopic", "whittle", "lagrangian", "rollout",
                             "iterative-myopic", "no-such"], args, 20)
    assert made[0] == "random" and made[5:] == ["iterative-myopic", "no-such"]
    assert [p.time_limit for p in made[1:4]] == [2.5, 2.5, 2.5]
    assert made[4]._myopic.time_limit == 2.5
    finite = _domain_planners(["whittle-finite"], args, 7)[0]    # the comparison's horizon
    assert (finite.horizon, finite.time_limit) == (7, 2.5)
    args.time_limit = 0                                      # 0 = none, as in 'rmab train'
    assert _domain_planners(["random", "myopic"], args, 20) == ["random", "myopic"]
    assert _domain_planners(["random"], args, 20) == ["random"]          # nothing to refuse


def test_a_planner_that_does_not_apply_is_named(tmp_path, capsys):
    """An instance where 'no-action' cannot answer (at least one arm must act): the error once
    said only the field, not which planner to leave out (when the Whittle planners refused
    undiscounted instances)."""
    path = save_instance(health_intervention(5, discount=1.0, horizon=4, seed=1)
                         .replace(min_active=1), tmp_path / "fh.npz")
    assert main(["compare", str(path), "--planners", "random,no-action", "--episodes", "1",
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "planner 'no-action' does not apply to this instance: NoActionPlanner" in err
    # the default list leaves it out, with a warning, and compares the others
    assert main(["compare", str(path), "--episodes", "2", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("rmab: warning: compare: leaving out 'no-action', which does not "
                          "apply to this instance (NoActionPlanner.fit.instance.min_active")
    names = [line.split()[0] for line in out.splitlines()[2:-1]]
    assert names == [n for n in default_planners() if n != "no-action"]
    assert {"whittle", "lagrangian"} <= set(names)   # finite-horizon POMDP: both planned


def test_a_horizon_beyond_a_finite_horizon_instance_is_refused(tmp_path, capsys):
    path = save_instance(health_intervention(5, horizon=4, seed=1), tmp_path / "fh.npz")
    assert main(["compare", str(path), "--planners", "random", "--episodes", "1", "--horizon",
                 "5", "--no-progress"]) == 1
    assert ("compare.horizon: must be at most the instance's horizon 4 (the model ends there); "
            "got 5") in capsys.readouterr().err


def test_planners_take_parameters_in_parentheses(tmp_path, capsys):
    """``--planners 'lagrangian(charge_now=true)'``: the parameters of ``rmab solve --param``
    per planner (compare had no way to pass any; a practitioner walkthrough), the row named
    as ``rmab.compare`` names a ``(name, params)`` pair; ``--paired`` takes either form."""
    from rmab.models import load_instance
    from rmab.sim import compare

    out = tmp_path / "r.csv"
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "3", "--horizon", "6",
            "--no-progress", "--out", str(out), "--planners",
            'myopic , round-robin(action=2),rollout(base=myopic, horizon=2, n_trajectories=2,'
            ' base_params={"knapsack": "greedy", "dp_limit": 10})',
            "--paired", "round-robin(action=2)"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    with open(out, newline="") as fh:
        rows = {r["planner"]: float(r["mean_return"]) for r in csv.DictReader(fh)}
    rollout = ("rollout(base='myopic', horizon=2, n_trajectories=2, base_params={'knapsack': "
               "'greedy', 'dp_limit': 10})")
    assert list(rows) == ["myopic", "round-robin(action=2)", rollout]
    assert "minus round-robin(action=2)" in stdout
    want = compare(load_instance(DATA / "health_example.npz"),
                   ["myopic", ("round-robin", {"action": 2}),
                    ("rollout", {"base": "myopic", "horizon": 2, "n_trajectories": 2,
                                 "base_params": {"knapsack": "greedy", "dp_limit": 10}})],
                   episodes=3, horizon=6, seed=0)
    assert rows == {score.name: pytest.approx(score.mean, rel=1e-12)
                    for score in want.scores}


@pytest.mark.parametrize("planners, message", [
    ("myopic(knapsack=greedy", "must have balanced brackets and quotes"),
    ("myopic(knapsack)", "myopic's parameter must be KEY=VALUE; got 'knapsack'"),
    ("myopic(x={bad})", "myopic's parameter VALUE starting with '{' must be valid JSON"),
    ("(a=1)", "each NAME or NAME(KEY=VALUE, ...); got '(a=1)'"),
    ("myopic(knapsack=dp)x", "each NAME or NAME(KEY=VALUE, ...); got 'myopic(knapsack=dp)x'"),
    # balanced as a whole, not inside the first parentheses: a TypeError traceback
    ("myopic(knapsack=dp)(dp_limit=9)", "each NAME or NAME(KEY=VALUE, ...); got "
                                        "'myopic(knapsack=dp)(dp_limit=9)'"),
    ("myopic()()", "each NAME or NAME(KEY=VALUE, ...); got 'myopic()()'"),
    ("lagrangian(charge_now=true, charge_now=false)", "must give each KEY once"),
    ("myopic(nope=1)", "nope: not a parameter of this planner; it takes knapsack, dp_limit"),
])
def test_bad_planner_parameters_are_named(planners, message, capsys):
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "2", "--no-progress",
            "--planners", planners]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: ") and message in err, err


def test_a_planner_parameter_python_reads_as_a_number_says_so(capsys):
    """NAME(KEY=VALUE) reads VALUE as JSON: n_samples=+5 and horizon=04 stay text, which the
    planner refused, and a --paired with one matched no row, without saying why (a
    practitioner walkthrough)."""
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "1", "--horizon", "2",
            "--no-progress", "--planners"]
    assert main(argv + ["round-robin(action=+1)"]) == 1
    assert capsys.readouterr().err.endswith("RoundRobinPlanner.action: must be an integer; got "
                                            "'+1' (a number? write 1)\n")
    assert main(argv + ["round-robin(action=1),random", "--paired",
                        "round-robin(action= 01)"]) == 1
    assert capsys.readouterr().err.endswith("; got 'round-robin(action= 01)' (action=01 is the "
                                            "text ' 01': a number? write 1)\n")
    assert main(["compare", "--domain", "capacity", "--arms", "4", "--budget", "2",
                 "--no-progress", "--episodes", "1", "--seeds", "0", "--planners",
                 "sampling(n_samples=.5e1)"]) == 1
    assert capsys.readouterr().err.endswith("SamplingPlanner.n_samples: must be an integer; "
                                            "got '.5e1' (a number? write 5.0)\n")


def test_paired_takes_a_row_label_as_printed(tmp_path, capsys):
    """``--paired`` takes a row's label as the table prints it (``action=1``, ``'greedy'``, a
    repeat's ``' #2'``: refused before, the last as a --planners error) besides the --planners
    form; a bad one is named as compare.paired (not compare.planners, nor a traceback)."""
    saved = tmp_path / "run.npz"
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "2", "--horizon", "2",
            "--no-progress", "--save", str(saved), "--planners",
            'round-robin(action=1),round-robin(action=1),myopic(knapsack="greedy")']
    assert main(argv + ["--paired", "round-robin(action=1) #2"]) == 0
    assert "against 'round-robin(action=1) #2'" in capsys.readouterr().out
    for paired in ("myopic(knapsack='greedy')", "myopic(knapsack=greedy)",
                   " round-robin(action=1)  #2"):
        assert main(["compare", "--show", str(saved), "--paired", paired]) == 0, paired
        assert "paired difference" in capsys.readouterr().out
    for paired, message in (("myopic(knapsack=greedy", "must have balanced brackets"),
                            ("myopic(a=1)(b=2)", "each NAME or NAME(KEY=VALUE, ...)"),
                            ("myopic(knapsack=greedy),random", "must be one planner"),
                            ("round-robin(action=2)", "must be one of the planners")):
        assert main(["compare", "--show", str(saved), "--paired", paired]) == 1, paired
        err = capsys.readouterr().err
        assert err.startswith("rmab: error: compare.paired: ") and message in err, err
        assert err.count("\n") == 1, err


def test_paired_errors_quote_it_as_typed(tmp_path, capsys):
    """A --paired with no row was quoted as read back ("myopic(dp_limit='07')", spaces and a
    repeat's spacing dropped, 1e1 as 10.0), not as typed: the text to correct is the user's."""
    saved = tmp_path / "run.npz"
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "1", "--horizon", "2",
            "--no-progress", "--planners", "myopic(dp_limit=10)"]
    assert main(argv + ["--paired", "myopic(dp_limit = 10)"]) == 1
    assert ("compare.paired: needs another planner to pair with; got --paired myopic(dp_limit "
            "= 10) with the one planner ['myopic(dp_limit=10)']") in capsys.readouterr().err
    assert main(argv[:-1] + ["myopic(dp_limit=10),random", "--save", str(saved)]) == 0
    capsys.readouterr()
    for paired in ("myopic(dp_limit=07)", "  myopic( dp_limit = 07 )  #2",
                   "myopic(dp_limit=1e1) ", "myopic(dp_limit=true)"):
        assert main(["compare", "--show", str(saved), "--paired", paired]) == 1, paired
        assert capsys.readouterr().err.endswith(f"; got {paired!r}\n")
    # a default planner that does not apply to the instance, named in another form
    path = save_instance(health_intervention(5, discount=1.0, horizon=4, seed=1)
                         .replace(min_active=1), tmp_path / "fh.npz")
    assert main(["compare", str(path), "--episodes", "1", "--no-progress", "--paired",
                 "no-action()"]) == 1
    err = capsys.readouterr().err
    assert "compare.paired: 'no-action' does not apply" in err
    assert err.endswith("; got --paired no-action()\n"), err


def test_paired_syntax_errors_quote_it_as_typed(tmp_path, capsys):
    """A --paired that does not read as NAME(KEY=VALUE, ...) was quoted without its spaces
    around and its ' #2', which the --planners syntax it is read by is not given."""
    saved = tmp_path / "run.npz"
    assert main(["compare", str(DATA / "health_example.npz"), "--episodes", "1", "--horizon",
                 "2", "--no-progress", "--planners", "myopic,random", "--save", str(saved)]) == 0
    capsys.readouterr()
    for paired, message in ((" myopic(dp_limit=07 #2", "must have balanced brackets"),
                            ("myopic(dp_limit=10), #2", "without empty ones"),
                            (" myopic(a=1)(b=2)  #2", "got 'myopic(a=1)(b=2)' in")):
        assert main(["compare", "--show", str(saved), "--paired", paired]) == 1, paired
        err = capsys.readouterr().err
        assert message in err and err.endswith(f" {paired!r}\n"), err


def test_paired_takes_the_parameters_in_any_order(tmp_path, capsys):
    """``--paired`` in the --planners form with the keys in another order than --planners
    gave them was refused ('must be one of the planners compared'), in the run and on a
    saved comparison; so was the --planners form itself (true, greedy) in another order, whose
    values the row's label read back gives as text ('True', "'greedy'")."""
    saved = tmp_path / "run.npz"
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "2", "--horizon", "2",
            "--no-progress", "--save", str(saved), "--planners",
            "lagrangian(charge_now=true, knapsack=greedy),myopic"]
    label = "lagrangian(charge_now=True, knapsack='greedy')"
    for paired in ("lagrangian(knapsack='greedy', charge_now=True)",
                   "lagrangian(knapsack=greedy, charge_now=true)"):
        assert main(argv + ["--paired", paired]) == 0, capsys.readouterr().err
        assert f"against {label!r}" in capsys.readouterr().out
        assert main(["compare", "--show", str(saved), "--paired", paired]) == 0
        assert f"against {label!r}" in capsys.readouterr().out


def test_paired_takes_a_dict_parameter_in_any_order(tmp_path, capsys):
    """A JSON object in the --planners form, the keys in another order: the label prints it
    as a Python dict ({'knapsack': 'greedy'}), which the --planners syntax does not read back,
    and --paired failed on it as 'must be valid JSON' (a review of the fix above)."""
    saved = tmp_path / "run.npz"
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "2", "--horizon", "2",
            "--no-progress", "--save", str(saved), "--planners",
            'rollout(base_params={"knapsack": "greedy"}, horizon=2, n_trajectories=2),random']
    label = "rollout(base_params={'knapsack': 'greedy'}, horizon=2, n_trajectories=2)"
    paired = 'rollout(n_trajectories=2, horizon=2, base_params={"knapsack": "greedy"})'
    assert main(argv + ["--paired", paired]) == 0, capsys.readouterr().err
    assert f"against {label!r}" in capsys.readouterr().out
    assert main(["compare", "--show", str(saved), "--paired", paired]) == 0
    assert f"against {label!r}" in capsys.readouterr().out
    assert main(["compare", "--show", str(saved), "--paired", "rollout(horizon=3)"]) == 1
    assert "compare.paired: must be one of the planners" in capsys.readouterr().err


def test_domain_planners_take_parameters(tmp_path, capsys):
    """``--planners 'sampling(n_samples=10)'`` with a domain: the planner made with them, its
    row so labelled and --paired on it; the numbers are evaluate_domain's with the same planner
    (a domain's planners took only --time-limit, --backend and --network; a walkthrough)."""
    from rmab.domains import make_capacity, save_domain
    from rmab.domains.baselines import make_domain_planner
    from rmab.domains.evaluate import evaluate_domain

    domain = make_capacity(8, 2, seed=0)
    path = tmp_path / "capacity.npz"
    save_domain(domain, path)
    out = tmp_path / "rows.csv"
    argv = ["compare", "--domain-file", str(path), "--episodes", "3", "--no-progress",
            "--planners", "random,sampling(n_samples=10),myopic", "--out", str(out),
            "--paired", "sampling(n_samples=10)"]
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "against 'sampling(n_samples=10)'" in printed
    rows = {r["planner"]: r for r in csv.DictReader(out.open())}
    want = evaluate_domain(domain, ["random", make_domain_planner("sampling", n_samples=10),
                                    "myopic"], episodes=3, seed=0)
    assert float(rows["sampling(n_samples=10)"]["mean_reward"]) == \
        pytest.approx(want.mean_reward[1], abs=5e-9)           # the CSV keeps 8 decimals
    for planners, message in (("myopic(x=1)", "compare.planners: myopic's parameters: "
                                              "make_domain_planner('myopic').x: not a "
                                              "parameter of this planner"),
                              ("sampling(n_samples=0)", "compare.planners: sampling's "
                                                        "parameters: "),
                              ("sampling(n_samples=10", "must have balanced brackets"),
                              ("myopic,myopic", "compare.planners: must name each domain "
                                                "planner once; got 'myopic' twice"),
                              ("whittle-finite(horizon=4)", "compare.planners: whittle-"
                                                            "finite's horizon= plans for 4 "
                                                            "periods; this comparison's horizon "
                                                            "is 20: give --horizon 4, or leave "
                                                            "out whittle-finite's horizon=")):
        argv = ["compare", "--domain", "capacity", "--arms", "4", "--budget", "2",
                "--planners", planners, "--no-progress", "--episodes", "2", "--seeds", "0"]
        assert main(argv) == 1, planners
        err = capsys.readouterr().err
        assert err.startswith("rmab: error: ") and message in err, err


def test_no_progress_bar_by_default_where_stderr_is_no_terminal(monkeypatch, capsys):
    """A cron log filled with 'compare:  10%|█' lines: the bar is drawn by default only on a
    terminal."""
    argv = ["compare", "--health", "4", "--episodes", "2", "--horizon", "2", "--planners",
            "random"]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(argv) == 0
    assert "compare: 100%" in capsys.readouterr().err


def test_compare_on_a_batch_of_a_csv_of_batches(tmp_path, capsys):
    """A practitioner's one file is the weekly CSV: it was refused with a Python route (a
    walkthrough). --batch-id ID compares on that batch's instance, its beliefs the start: the
    numbers of rmab.compare on read_batches(path)[k].instance (the reference)."""
    import csv

    import rmab

    path = str(DATA / "batch_example.csv")
    out = tmp_path / "c.csv"
    argv = ["compare", path, "--no-progress", "--episodes", "3", "--horizon", "4",
            "--planners", "random,myopic"]
    assert main([*argv, "--batch-id", "clinic-south", "--out", str(out)]) == 0
    with open(out, newline="") as fh:
        got = {r["planner"]: float(r["mean_return"]) for r in csv.DictReader(fh)}
    batch = next(b for b in rmab.read_batches(path) if b.batch_id == "clinic-south")
    want = rmab.compare(batch.instance, ["random", "myopic"], episodes=3, horizon=4, seed=0)
    assert got == pytest.approx({p.name: p.mean for p in want.scores}, rel=1e-12)
    capsys.readouterr()
    for extra, said in (([], "got none (a CSV of batches is no instance file: give --batch-id ID)"),
                        (["--batch-id", "clinic-nort"], "got 'clinic-nort' (did you mean "
                                                     "'clinic-north'?)")):
        assert main([*argv, *extra]) == 1
        err = capsys.readouterr().err
        assert err.startswith("rmab: error: compare.batch_id: must name a batch of ") \
            and said in err and "its batches are 'clinic-north', 'clinic-south'" in err, err
    for source in (["--health", "4"], [str(DATA / "health_example.npz")]):
        assert main(["compare", *source, "--batch-id", "x", "--no-progress"]) == 1
        assert "compare.batch_id: only with a CSV of batches as INSTANCE; got --batch-id x" in \
            capsys.readouterr().err


def test_compare_batch_id_takes_an_upper_case_csv_and_not_show(tmp_path, capsys):
    """A CSV of batches named WEEK.CSV is one too, as --batch-id's own check reads it; --show
    runs nothing, so --batch-id is refused with it. Reference: rmab.compare on the batch."""
    import csv
    import shutil

    import rmab

    shutil.copy(DATA / "health_example.npz", tmp_path)
    path = tmp_path / "WEEK.CSV"
    shutil.copy(DATA / "batch_example.csv", path)
    out = tmp_path / "c.csv"
    assert main(["compare", str(path), "--batch-id", "clinic-south", "--no-progress",
                 "--episodes", "2", "--horizon", "3", "--planners", "myopic",
                 "--out", str(out)]) == 0
    with open(out, newline="") as fh:
        got = [float(r["mean_return"]) for r in csv.DictReader(fh)]
    batch = next(b for b in rmab.read_batches(path) if b.batch_id == "clinic-south")
    want = rmab.compare(batch.instance, ["myopic"], episodes=2, horizon=3, seed=0)
    assert got == pytest.approx([want.scores[0].mean], rel=1e-12)
    capsys.readouterr()
    assert main(["compare", "--show", str(tmp_path / "saved.npz"), "--batch-id", "x"]) == 1
    assert ("compare.batch_id: not with --show, which shows a comparison already run; got "
            "--batch-id x") in capsys.readouterr().err
    rows = path.read_text().splitlines()                     # five batches: all named
    five = tmp_path / "five.csv"
    five.write_text("\n".join(rows[:2] + [r.replace("clinic-north", f"b{k}", 1)
                                          for k, r in enumerate(rows[2:6])]) + "\n")
    assert main(["compare", str(five), "--batch-id", "x", "--no-progress"]) == 1
    assert capsys.readouterr().err.rstrip().endswith(
        "its batches are 'clinic-north', 'b0', 'b1', 'b2', 'b3'")


def test_a_planners_horizon_is_checked_as_the_planner_reads_it(capsys):
    """horizon=04 is the text '04' (JSON has no leading zeros; 'rmab solve --param' reads it
    so too), which the planner refuses: it advised '--horizon 04', which gave the same advice
    again. The advice given is one that runs."""
    argv = ["compare", "--domain", "capacity", "--arms", "4", "--budget", "2", "--no-progress",
            "--episodes", "1", "--seeds", "0", "--planners"]
    assert main(argv + ["whittle-finite(horizon=04)", "--horizon", "4"]) == 1
    err = capsys.readouterr().err
    assert err == ("rmab: error: compare.planners: whittle-finite's parameters: "
                   "WhittleDomainPlanner.horizon: must be an integer; got '04' (a number? "
                   "write 4)\n"), err
    assert main(argv + ["whittle-finite(horizon=4.0)"]) == 1
    assert "give --horizon 4, or" in capsys.readouterr().err
    assert main(argv + ["whittle-finite(horizon=4.0)", "--horizon", "4"]) == 0
    assert main(argv + ["whittle(horizon=null)"]) == 0, capsys.readouterr().err  # discounted


def test_backend_reaches_every_planner_that_solves_a_mip(capsys):
    """The domain planners' MIP backend from the command line (Python's backend= had no
    flag: 'myopic(backend=pyomo)' is refused with a domain; a walkthrough)."""
    from types import SimpleNamespace

    from rmab.commands.compare import _domain_planners

    args = SimpleNamespace(time_limit=None, network=None, backend="scipy")
    made = _domain_planners(["random", "myopic", "whittle", "lagrangian", "iterative-myopic"],
                            args, 20)
    assert made[0] == "random" and made[4] == "iterative-myopic"
    assert [p.backend for p in made[1:4]] == ["scipy"] * 3
    base = ["compare", "--domain", "capacity", "--arms", "4", "--budget", "1", "--seeds", "0",
            "--episodes", "1", "--horizon", "2", "--no-progress"]
    assert main(base + ["--planners", "random,myopic", "--backend", "scipy"]) == 0
    assert "myopic" in capsys.readouterr().out
    assert main(base + ["--planners", "random,myopic", "--backend", "cplex"]) == 1
    assert ("compare.backend: must be one of ['highs', " in capsys.readouterr().err)
    assert main(base + ["--planners", "random,sampling", "--backend", "scipy"]) == 1
    assert ("compare.backend: none of the planners ['random', 'sampling'] makes MIP solves"
            in capsys.readouterr().err)
    assert main(["compare", "--health", "5", "--backend", "scipy"]) == 1
    assert "compare.backend: only with --domain or --domain-file" in capsys.readouterr().err


def test_paired_does_not_match_a_label_that_does_not_read_back(tmp_path, capsys):
    """A --paired text not a Python literal (knapsack=greedy) read back as None, as did a row
    whose label is not one (threshold=-inf): the two matched, and the paired table was
    silently against the wrong planner (a review)."""
    saved = tmp_path / "run.npz"
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "2", "--horizon", "2",
            "--no-progress", "--save", str(saved), "--planners",
            "whittle(threshold=-inf),lagrangian(charge_now=true, knapsack=greedy)"]
    label = "lagrangian(charge_now=True, knapsack='greedy')"
    assert main(argv + ["--paired", "lagrangian(knapsack=greedy, charge_now=true)"]) == 0
    assert f"against {label!r}" in capsys.readouterr().out
    assert main(["compare", "--show", str(saved), "--paired", "myopic(knapsack=gredy)"]) == 1
    assert "compare.paired: must be one of the planners" in capsys.readouterr().err


def test_paired_reads_back_non_finite_values_and_quoted_commas(tmp_path, capsys):
    """A row label read back split at every comma (inside a string's single quotes too) and
    took ``-inf`` for no literal: in another key order its --paired found no row (a review;
    -inf had read back before labels were read as literals)."""
    from rmab.commands.compare import _label_spec, _paired_label

    saved = tmp_path / "run.npz"
    argv = ["compare", str(DATA / "health_example.npz"), "--episodes", "2", "--horizon", "2",
            "--no-progress", "--save", str(saved), "--planners",
            "whittle(action=1, threshold=-inf),myopic"]
    assert main(argv) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["compare", "--show", str(saved), "--paired",
                 "whittle(threshold=-inf, action=1)"]) == 0, capsys.readouterr().err
    assert "against 'whittle(action=1, threshold=-inf)'" in capsys.readouterr().out
    rows = ["random", "mine(a='x, y)', b=1)"]
    assert _paired_label("mine(b=1, a='x, y)')", rows) == rows[1]
    for label in ("mine(a=1) # note", "mine(a=1, a=2)", "mine(a=1)(b=2)", "mine(1)",
                  "mine(a=f())", "mine(a=" + "[" * 10**5 + "]" * 10**5 + ")"):
        assert _label_spec(label) is None, label


def test_a_label_with_a_long_run_of_spaces_reads_in_linear_time():
    """The repeat suffix ' #2' was split off by a lazy regex whose time was quadratic in a run
    of spaces: --paired 'x(a=1<60,000 spaces>)' took 30 s (a review)."""
    import time

    from rmab.commands.compare import _label_spec, _paired_label

    text = "x(a=1" + " " * 50_000 + ")"
    start = time.perf_counter()
    assert _label_spec(text + "  #2") == ((("x", (("a", "1"),))), " #2")
    assert _paired_label(text, ["random", "x(a=1)"]) == "x(a=1)"
    assert time.perf_counter() - start < 3.0


def test_compare_s_help_says_instance_may_be_a_csv_of_batches(capsys):
    """Its INSTANCE read '.npz written by rmab generate' only: a practitioner with the
    weekly CSV did not learn from it that compare takes that file (with --batch-id)."""
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "INSTANCE instance file (.npz written by 'rmab generate' / save_instance), or a CSV " \
           "of batches with --batch-id" in text, text
