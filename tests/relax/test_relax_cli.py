"""``rmab bound`` and ``rmab index`` (the commands are put in the CLI table for the test)."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

import rmab.cli as cli
from rmab.errors import RmabWarning
from rmab.models import health_intervention, random_instance, save_instance
from rmab.relax.lagrangian import lagrangian_bound
from rmab.models.pomdp_format import read_pomdp
from rmab.relax.whittle import belief_whittle_indices, whittle_indices


@pytest.fixture
def main():
    return cli.main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inst")
    mdp = random_instance(6, 3, 2, None, budget=2.0, seed=1)
    health = health_intervention(5, budget_fraction=0.4, seed=2)
    return {"mdp": (save_instance(mdp, root / "mdp.npz"), mdp),
            "health": (save_instance(health, root / "health.npz"), health)}


def test_bound_prints_estimate_certificate_price(main, files, capsys):
    path, inst = files["mdp"]
    assert main(["bound", str(path), "--method", "lp"]) == 0
    out = capsys.readouterr().out
    ref = lagrangian_bound(inst, method="lp")
    fields = dict(line.split(":", 1) for line in out.strip().splitlines())
    assert float(fields["estimate"].split()[0]) == pytest.approx(ref.estimate, rel=1e-6)
    assert float(fields["price λ*"].split()[0]) == pytest.approx(ref.price, rel=1e-5)
    assert float(fields["certified upper bound"]) >= float(fields["estimate"].split()[0])
    assert "time" in fields
    assert "(6 arms, budget 2)" in fields["instance"]


def test_bound_budget_in_place_of_the_instances(main, files, capsys):
    path, inst = files["mdp"]
    assert main(["bound", str(path), "--method", "lp", "--budget", "3.5"]) == 0
    out = capsys.readouterr().out
    ref = lagrangian_bound(inst.replace(budget=3.5), method="lp")
    assert ref.estimate != pytest.approx(lagrangian_bound(inst, method="lp").estimate)
    assert "(6 arms, budget 3.5)" in out
    assert f"estimate:              {ref.estimate:.6f}" in out
    assert main(["bound", str(path), "--budget", "-1"]) == 1
    assert "bound.budget: must be >= 0.0; got -1.0" in capsys.readouterr().err
    # one the instance's count limits cannot meet is named by the flag ('Instance.min_active')
    limited = save_instance(health_intervention(30, seed=0).replace(min_active=2),
                            path.parent / "limited.npz")
    assert main(["bound", str(limited), "--budget", "1"]) == 1
    assert (f"bound.budget: --budget 1 does not fit {limited}: Instance.min_active: the "
            f"cheapest 2 active arms must fit the budget 1") in capsys.readouterr().err


def test_bound_of_a_pomdp_file_needs_a_budget_and_costs(main, tmp_path, capsys):
    """A .POMDP file's one arm under --budget, at the file's discount."""
    tiger = Path(__file__).parents[2] / "data" / "tiger.pomdp"
    assert main(["bound", str(tiger), "--budget", "1"]) == 1
    assert "bound.instance: " + str(tiger) + " gives no action costs" in capsys.readouterr().err
    path = tmp_path / "tiger.pomdp"
    path.write_text(tiger.read_text().replace("discount: 0.95", "discount: 0.9")
                    + "# rmab-costs: 0 1 1\n")
    assert main(["bound", str(path)]) == 1
    assert f"bound.budget: a .POMDP file has no budget; give --budget B for {path}" \
        in capsys.readouterr().err
    one = tmp_path / "one.pomdp"               # Instance's "horizon: must be set" before
    one.write_text(path.read_text().replace("discount: 0.9", "discount: 1.0"))
    for argv in (["bound", str(one), "--budget", "1"], ["index", str(one)]):
        assert main(argv) == 1
        assert f"{argv[0]}.instance: {one} has discount 1, which needs a horizon" \
            in capsys.readouterr().err
    # a door a period at most is no limit; 0.02 binds the relaxation, not a single period
    with pytest.warns(RmabWarning, match="0.02 is below every active action's cost"):
        assert main(["bound", str(path), "--budget", "0.02", "--no-certificate"]) == 0
        ref = lagrangian_bound(read_pomdp(path).to_instance(budget=0.02), price_tol=1e-4,
                               certificate=False, seed=0)
    out = capsys.readouterr().out
    assert ref.price > 0                                         # the budget binds
    assert "(1 arm, budget 0.02)" in out and f"{ref.estimate:.6f}" in out


def test_bound_counts_one_arm_and_one_price_in_the_singular(main, tmp_path, capsys):
    inst = random_instance(1, 2, 2, None, budget=1.0, seed=0)
    assert main(["bound", str(save_instance(inst, tmp_path / "one.npz"))]) == 0
    out = capsys.readouterr().out
    assert "(1 arm, budget 1)" in out and "(bisection, 1 price," in out


def test_bound_pomdp_with_plot(main, files, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, _ = files["health"]
    png = tmp_path / "dual.png"
    assert main(["bound", str(path), "--plot", str(png), "--plot-points", "5",
                 "--value-tol", "1e-2"]) == 0
    out = capsys.readouterr().out
    assert "PBVI lower values: an estimate" in out
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bound_sawtooth_sweeps(main, files, capsys):
    path, inst = files["health"]
    certs = []
    for sweeps in ("0", "50"):
        assert main(["bound", str(path), "--value-tol", "1e-2", "--sawtooth-sweeps",
                     sweeps]) == 0
        fields = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
        certs.append(float(fields["certified upper bound"]))
    ref = lagrangian_bound(inst, value_tol=1e-2, price_tol=1e-4, sawtooth_sweeps=50)
    assert certs[1] == pytest.approx(ref.certified_upper_bound, abs=1e-6) and certs[1] < certs[0]
    assert main(["bound", str(path), "--sawtooth-sweeps", "-1"]) == 1
    assert "lagrangian_bound.sawtooth_sweeps: must be >= 0" in capsys.readouterr().err
    assert main(["bound", str(path), "--plot-points", "1"]) == 1      # was 2, silently
    assert "bound.plot_points: must be >= 2; got 1" in capsys.readouterr().err


@pytest.mark.parametrize("scale", [1.0, 1e-6])
def test_bound_plot_grid_is_in_the_problems_units(main, tmp_path, monkeypatch, capsys, scale):
    """The grid ran to max(2 λ*, 0.5): rewards in millionths (λ* = 5e-7) plotted a straight
    line over [0, 0.5] with the minimum out of sight."""
    import rmab.commands.bound as bound_cmd
    from rmab.models import POMDPArms

    inst = health_intervention(6, seed=0)
    a = inst.arms
    inst = inst.replace(arms=POMDPArms(a.transitions, a.observations, a.rewards * scale,
                                       a.costs))
    path = tmp_path / "inst.npz"
    save_instance(inst, path)
    grids = []
    monkeypatch.setattr(bound_cmd, "dual_curve", lambda inst, prices, **kw: grids.append(prices))
    monkeypatch.setattr(bound_cmd, "plot_dual", lambda *args, **kw: None)
    assert main(["bound", str(path), "--plot", str(tmp_path / "d.png"), "--no-certificate"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("price λ*"))
    price = float(line.split()[2])
    assert 0.1 * scale < price < 10 * scale
    assert grids[0][-1] == pytest.approx(2 * price, rel=1e-5)


def test_bound_plot_without_matplotlib_exits_1(main, files, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path, _ = files["mdp"]
    assert main(["bound", str(path), "--plot", str(tmp_path / "x.png")]) == 1
    assert "rmab[plot]" in capsys.readouterr().err


def test_index_csv_fully_observed(main, files, tmp_path):
    path, inst = files["mdp"]
    out = tmp_path / "idx.csv"
    assert main(["index", str(path), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == inst.n_arms * inst.n_states
    ref = whittle_indices(inst.arms, discount=inst.discount)
    got = np.array([float(r["index_1"]) for r in rows]).reshape(inst.n_arms, inst.n_states)
    np.testing.assert_array_equal(got, ref.binary)
    assert {r["indexable"] for r in rows} <= {"0", "1"}


@pytest.mark.parametrize("flag, value", [("--value-tol", "nan"), ("--seed", "3"),
                                         ("--resolution", "4"), ("--n-prices", "5")])
def test_index_refuses_pbvi_settings_for_fully_observed_arms(main, files, capsys, flag, value):
    """They were accepted and ignored, nan included (a review)."""
    path, _ = files["mdp"]
    assert main(["index", str(path), flag, value]) == 1
    err = capsys.readouterr().err
    assert f"only for POMDP arms (PBVI); the fully observed indices are exact; got {flag} " \
           f"{value}" in err


@pytest.mark.parametrize("instance, argv, message", [
    ("mdp", ["--seed", "3"], "bound.seed: only for POMDP arms (PBVI); the fully observed arms' "
                             "values are exact; got --seed 3"),
    ("mdp", ["--sawtooth-sweeps", "5"], "bound.sawtooth_sweeps: only for POMDP arms"),
    ("health", ["--sawtooth-sweeps", "5", "--no-certificate"],
     "bound.sawtooth_sweeps: caps the certificate; got --sawtooth-sweeps 5 with "
     "--no-certificate (drop one)"),
    ("health", ["--price-limits"], "bound.price_limits: the instance has no count limits to "
                                   "price"),
])
def test_bound_refuses_flags_the_instance_would_ignore(main, files, capsys, instance, argv,
                                                      message):
    """Each was accepted and the output was the plain run's (a CLI review)."""
    path, _ = files[instance]
    assert main(["bound", str(path), *argv]) == 1
    assert message in capsys.readouterr().err


def test_bound_warns_of_the_files_unusable_budget_only_where_it_is_used(main, tmp_path,
                                                                         capsys):
    """'rmab bound FILE --budget 3' on a file saved with a budget below every active cost
    said the file's "0.5 ... no arm can act", though the bound was at 3 (solve's batches
    already drop a model file's own budget warning); the same budget given is still warned
    of, once (Instance.replace does not repeat it)."""
    with pytest.warns(RmabWarning, match="no arm can act"):
        inst = random_instance(3, 2, 2, None, budget=0.5, seed=0)
    path = save_instance(inst, tmp_path / "low.npz")
    said = "Instance.budget: 0.5 is below every active action's cost"
    for flags, times in (([], 1), (["--budget", "0.5"], 1), (["--budget", "3"], 0)):
        assert main(["bound", str(path), "--no-certificate", *flags]) == 0
        assert capsys.readouterr().err.count(said) == times, flags


def test_bound_refuses_sawtooth_sweeps_on_a_finite_horizon(main, tmp_path, capsys):
    """The finite-horizon certificate runs its own backward sawtooth and lagrangian_bound
    ignores the sweeps there: the flag was accepted and the output was the plain run's."""
    inst = health_intervention(3, discount=1.0, horizon=4, seed=0)
    path = save_instance(inst, tmp_path / "finite.npz")
    assert main(["bound", str(path), "--sawtooth-sweeps", "5"]) == 1
    assert ("bound.sawtooth_sweeps: for a discounted horizon (a finite horizon's certificate "
            "always runs its backward sawtooth, one backup per period); got --sawtooth-sweeps "
            "5 with horizon 4") in capsys.readouterr().err



def test_index_refuses_value_tol_on_a_finite_horizon(main, tmp_path, capsys):
    """Finite-horizon PBVI has no tolerance: --value-tol was accepted and changed nothing."""
    inst = health_intervention(2, discount=1.0, horizon=3, seed=0)
    path = save_instance(inst, tmp_path / "finite.npz")
    assert main(["index", str(path), "--value-tol", "1e-4"]) == 1
    assert ("index.value_tol: for a discounted horizon (finite-horizon PBVI makes H backups "
            "and has no tolerance); got --value-tol 0.0001 with horizon 3"
            ) in capsys.readouterr().err
    assert main(["index", str(path), "--resolution", "2", "--n-prices", "4"]) == 0

def test_index_csv_pomdp_grid_to_stdout(main, files, capsys):
    path, inst = files["health"]
    assert main(["index", str(path), "--resolution", "2", "--n-prices", "4"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "arm,belief_0,belief_1,index_1,index_2,indexable,violation"
    assert len(lines) == 1 + inst.n_arms * 3


def test_index_of_a_pomdp_file(main, tmp_path, capsys):
    """A .POMDP file is read as its one arm at the file's discount ('rmab index' took
    instances only); costs come from its '# rmab-costs:' line."""
    tiger = Path(__file__).parents[2] / "data" / "tiger.pomdp"
    assert main(["index", str(tiger)]) == 1
    assert ("index.instance: " + str(tiger) + " gives no action costs; add a line "
            "'# rmab-costs: ...' to the file, one cost per action (listen, open-left, "
            "open-right)") in capsys.readouterr().err
    path = tmp_path / "tiger.POMDP"
    path.write_text(tiger.read_text().replace("discount: 0.95", "discount: 0.9")
                    + "# rmab-costs: 0 1 1\n")
    out = tmp_path / "idx.csv"
    assert main(["index", str(path), "--resolution", "4", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    model = read_pomdp(path)
    assert model.discount == 0.9                          # not the functions' default 0.95
    ref = belief_whittle_indices(model.arms, discount=model.discount, resolution=4, seed=0)
    assert len(rows) == len(ref.grid) == 5
    got = np.array([[float(r["index_1"]), float(r["index_2"])] for r in rows])
    np.testing.assert_array_equal(got, ref.indices[0])
    grid = np.array([[float(r["belief_0"]), float(r["belief_1"])] for r in rows])
    np.testing.assert_array_equal(grid, ref.grid)
    assert {(r["indexable"], float(r["violation"])) for r in rows} == {
        (str(int(ref.indexable[0])), ref.violation[0])}


@pytest.mark.parametrize("argv,message", [
    (["bound", "missing.npz"], "must be an existing file"),
    (["index", "missing.npz"], "must be an existing file"),
])
def test_errors_exit_1(main, argv, message, capsys):
    assert main(argv) == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("command, option", [("index", "--out"), ("bound", "--plot")])
def test_an_unwritable_output_is_refused_before_the_work(main, files, tmp_path, capsys,
                                                         monkeypatch, command, option):
    """A directory as output was found only after the indices or the bound were computed
    (71 s for the README's index command)."""
    import rmab.commands.bound as bound_cmd
    import rmab.commands.index as index_cmd

    def no_work(*args, **kwargs):
        raise AssertionError("computed before the output was checked")

    monkeypatch.setattr(index_cmd, "_rows", no_work)
    monkeypatch.setattr(bound_cmd, "lagrangian_bound", no_work)
    folder = tmp_path / ("out.csv" if command == "index" else "out.png")
    folder.mkdir()
    assert main([command, str(files["mdp"][0]), option, str(folder)]) == 1
    assert "must be the path of a regular file; it is a directory" in capsys.readouterr().err
    before = files["mdp"][0].read_bytes()                # nor may it replace the instance
    assert main([command, str(files["mdp"][0]), option, str(files["mdp"][0])]) == 1
    assert "must be a path ending in ." in capsys.readouterr().err
    assert files["mdp"][0].read_bytes() == before


def test_usage_error_exit_2(main):
    with pytest.raises(SystemExit) as exc:
        main(["bound", "x.npz", "--method", "simplex"])
    assert exc.value.code == 2


def test_index_on_a_finite_horizon(main, tmp_path, capsys):
    """One row per arm, period and state (fully observed) or grid belief (POMDP), from the
    finite-horizon indices (discount 1 too)."""
    inst = random_instance(3, 2, 2, None, budget=1.0, horizon=4, discount=1.0, seed=0)
    path = save_instance(inst, tmp_path / "u.npz")
    out = tmp_path / "u.csv"
    assert main(["index", str(path), "-o", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "arm,period,state,index_1,indexable" and len(rows) == 1 + 3 * 4 * 2
    from rmab.relax import finite_whittle_indices
    first = rows[1].split(",")
    assert float(first[3]) == finite_whittle_indices(inst.arms, horizon=4).indices[0, 0, 0, 0]
    pomdp = random_instance(3, 2, 2, 2, budget=1.0, horizon=4, discount=1.0, seed=0)
    path = save_instance(pomdp, tmp_path / "p.npz")
    assert main(["index", str(path), "--resolution", "2", "-o", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "arm,period,belief_0,belief_1,index_1,indexable,violation"
    assert len(rows) == 1 + 3 * 4 * 3                       # arms x periods x grid beliefs


def test_index_rows_on_a_finite_horizon_run_by_arm_then_period(main, tmp_path):
    """The rows follow the header's order, arm, then period, then state: itertools.product of
    the three ranges; each index is the one of its row's fields."""
    import itertools

    from rmab.relax import finite_whittle_indices

    inst = random_instance(3, 2, 2, None, budget=1.0, horizon=4, discount=1.0, seed=0)
    path, out = save_instance(inst, tmp_path / "u.npz"), tmp_path / "u.csv"
    assert main(["index", str(path), "-o", str(out)]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = [(int(r["arm"]), int(r["period"]), int(r["state"])) for r in rows]
    assert keys == list(itertools.product(range(3), range(4), range(2)))
    ref = finite_whittle_indices(inst.arms, horizon=4).indices
    assert [float(r["index_1"]) for r in rows] == [ref[t, n, s, 0] for n, t, s in keys]
