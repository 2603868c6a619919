"""``rmab compare`` through the dispatcher: outputs and exit codes."""

import csv

import pytest

from rmab.cli import main
from rmab.commands.compare import default_planners
from rmab.models import health_intervention, save_instance


def test_health_instance_with_csv_and_plot(tmp_path, capsys):
    out, png = tmp_path / "r.csv", tmp_path / "r.png"
    code = main(["compare", "--health", "15", "--episodes", "3", "--horizon", "5",
                 "--planners", "random,myopic", "--out", str(out), "--plot", str(png)])
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
    (["compare", "--health", "5", "--planners", "myopc"], "did you mean 'myopic'"),
    (["compare", "missing.npz"], "must be an existing file"),
    (["compare", "--health", "5", "--episodes", "0"], "compare.episodes: must be >= 1"),
    (["compare", "--health", "0"], "n_arms"),
])
def test_errors_exit_1(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error:") and message in err


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
