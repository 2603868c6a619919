"""Saved comparisons: every episode kept (save / load_comparison), per-episode CSVs, paired
tables, and the command line's --save / --show / --paired / --episodes-out."""

import csv
import json
import zipfile

import numpy as np
import pytest
from scipy import stats

from rmab import cli, load_comparison
from rmab.domains import make_domain
from rmab.domains.evaluate import DomainComparisonResult, compare_domain, evaluate_domain
from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.models import health_intervention, save_instance
from rmab.sim import ComparisonResult, compare

INST = health_intervention(10, budget_fraction=0.3, horizon=6, seed=2)


@pytest.fixture(scope="module")
def result():
    return compare(INST, ["myopic", "no-action", "random"], episodes=8, seed=5)


@pytest.fixture(scope="module")
def domain_result():
    return compare_domain("capacity", n_arms=5, budget=2, seeds=(0, 3), episodes=4, horizon=3,
                          planners=("myopic", "no-action"), bound=True)


def test_a_saved_comparison_comes_back_the_same(result, tmp_path):
    result.save(tmp_path / "c.npz")
    back = load_comparison(tmp_path / "c.npz")
    assert isinstance(back, ComparisonResult)
    for name in ("returns", "totals", "decision_seconds"):
        assert np.array_equal(getattr(back, name), getattr(result, name))
        assert not getattr(back, name).flags.writeable
    assert back.table() == result.table()
    assert back.paired_table("random") == result.paired_table("random")
    for field in ("random_mean", "random_added", "episodes", "horizon", "discount",
                  "confidence", "names", "seed"):
        assert getattr(back, field) == getattr(result, field)
    assert back.seed == 5


@pytest.mark.parametrize("seed", [np.random.default_rng(3), None, np.random.SeedSequence(9)])
def test_a_saved_comparison_keeps_the_seed_that_replays_it(seed, tmp_path):
    """A saved run could not be re-created (a review): its seed, a Generator's or None's
    drawn entropy included, plays the same episodes again."""
    r = compare(INST, ["random", "myopic"], episodes=3, seed=seed)
    r.save(tmp_path / "c.npz")
    back = load_comparison(tmp_path / "c.npz")
    assert back.seed == r.seed is not None
    again = compare(INST, ["random", "myopic"], episodes=3, seed=back.seed)
    np.testing.assert_array_equal(again.returns, r.returns)
    spawned = np.random.SeedSequence(9).spawn(1)[0]           # no integer replays it
    assert compare(INST, ["myopic"], episodes=1, seed=spawned).seed is None


def test_a_comparison_with_random_added_keeps_its_unit(tmp_path):
    r = compare(INST, ["myopic"], episodes=3, seed=1)
    r.save(tmp_path / "c.npz")
    back = load_comparison(tmp_path / "c.npz")
    assert back.random_added and back.names == ("myopic",)
    assert back.score("myopic").normalised == r.score("myopic").normalised



class _Unnamed:
    """A user's planner with an empty name (it never acts)."""

    name = ""

    def fit(self, instance, *, seed=None):
        self.n = instance.n_arms
        return self

    def reset(self, *, seed=None):
        pass

    def plan(self, belief, *, t=0):
        return np.zeros(self.n, dtype=np.int64)


def test_a_planner_with_an_empty_name_is_saved_and_read_back(tmp_path):
    """Its row was blank: the comparison was saved, and load_comparison refused the file
    (planners must be non-empty names); it is its class's name, as for an unnamed one (a
    simulation review)."""
    r = compare(INST, [_Unnamed(), "myopic"], episodes=2, horizon=2)
    assert r.names == ("_Unnamed", "myopic")
    r.save(tmp_path / "c.npz")
    assert load_comparison(tmp_path / "c.npz").names == r.names

def test_a_saved_domain_comparison_comes_back_the_same(domain_result, tmp_path):
    domain_result.save(tmp_path / "d.npz")
    back = load_comparison(tmp_path / "d.npz")
    assert isinstance(back, DomainComparisonResult)
    for name in ("rewards", "seconds_per_step", "starts", "bound"):
        assert np.array_equal(getattr(back, name), getattr(domain_result, name))
    assert np.array_equal(back.normalised, domain_result.normalised, equal_nan=True)
    assert back.seeds == domain_result.seeds and back.planners == domain_result.planners
    assert back.table() == domain_result.table()
    assert back.to_csv() == domain_result.to_csv()
    assert back.to_csv(per_episode=True) == domain_result.to_csv(per_episode=True)


def test_a_domain_comparison_without_starts_or_seed_label_is_saved(tmp_path):
    domain = make_domain("capacity", 5, 2, seed=1)
    r = evaluate_domain(domain, ["myopic"], episodes=3, horizon=2,
                        seed=np.random.SeedSequence(4))
    r = DomainComparisonResult(r.kind, r.planners, r.seeds, r.rewards, r.normalised,
                               r.seconds_per_step, r.horizon, r.episodes)   # no starts
    r.save(tmp_path / "d.npz")
    back = load_comparison(tmp_path / "d.npz")
    assert back.seeds == (None,) and back.starts is None and back.bound is None
    assert back.table() == r.table()


def test_a_saved_domain_comparison_of_negative_rewards_loads_without_a_score(tmp_path):
    """The loader recomputes the normalised scores by the evaluation's rule: NaN where RANDOM's
    mean is not positive (module doc), not a ratio of negatives that inverts the ranking."""
    from rmab.domains import CapacityDomain

    base = make_domain("capacity", 4, 2, seed=0).to_arrays()
    d = CapacityDomain.from_arrays(**{**base, "rewards": -1.0 - base["rewards"]})
    r = evaluate_domain(d, ["random", "myopic"], episodes=2, horizon=2, seed=1)
    assert (r.rewards < 0).all()
    r.save(tmp_path / "neg.npz")
    back = load_comparison(tmp_path / "neg.npz")
    assert np.isnan(back.normalised).all() and back.normalised.shape == (1, 2)


def test_the_per_episode_csv_holds_every_episode_exactly(result, tmp_path):
    result.to_csv(tmp_path / "e.csv", per_episode=True)
    with open(tmp_path / "e.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 8
    for row in rows:
        i, k = result.names.index(row["planner"]), int(row["episode"])
        assert float(row["discounted_return"]) == result.returns[i, k]
        assert float(row["total_reward"]) == result.totals[i, k]
        assert float(row["decision_seconds"]) == result.decision_seconds[i, k]


def test_the_domain_per_episode_csv_holds_every_episode_and_the_bound(domain_result):
    rows = list(csv.DictReader(domain_result.to_csv(per_episode=True).splitlines()))
    assert len(rows) == 2 * (len(domain_result.planners) + 1) * 4
    for row in rows:
        k = domain_result.seeds.index(int(row["seed"]))
        e = int(row["episode"])
        expected = (domain_result.bound[k, e] if row["planner"] == "upper-bound" else
                    domain_result.rewards[k, domain_result.planners.index(row["planner"]), e])
        assert float(row["reward"]) == expected


def test_per_episode_must_be_a_flag(result, domain_result, tmp_path):
    with pytest.raises(InvalidParameterError, match="to_csv.per_episode: must be True or"):
        result.to_csv(tmp_path / "x.csv", per_episode="yes")
    with pytest.raises(InvalidParameterError, match="to_csv.per_episode: must be True or"):
        domain_result.to_csv(per_episode=1)


def test_the_paired_table_agrees_with_scipy(result):
    text = result.paired_table("no-action")
    ref = result.returns[result.names.index("no-action")]
    for name in ("myopic", "random"):
        d = result.returns[result.names.index(name)] - ref
        ci = stats.t.interval(0.95, d.size - 1, loc=d.mean(), scale=stats.sem(d))
        line = next(x for x in text.splitlines() if x.startswith(name))
        assert f"{d.mean():+.3f}" in line and f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" in line
        verdict = "higher" if ci[0] > 0 else "lower" if ci[1] < 0 else "not resolved"
        assert line.rstrip().endswith(verdict)
    assert not any(line.startswith("no-action ") for line in text.splitlines()[2:-1])
    assert any(line.startswith("no-action ") for line in
               result.paired_table("myopic").splitlines()[2:-1])


@pytest.mark.parametrize("episodes", [1, 3])
def test_the_paired_table_says_equal_for_the_same_actions(episodes):
    r = compare(INST, ["myopic", ("myopic", {})], episodes=episodes, seed=0)
    assert r.paired_table("myopic").splitlines()[2].rstrip().endswith("equal")


def test_the_paired_table_shows_small_differences_with_their_digits():
    """Differences of 4e-4 beside returns of 30 printed as +0.000 [+0.000, +0.000] (a
    review): decimals now follow the differences too."""
    from rmab._reporting import PairedDifferenceResult, paired_table

    row = PairedDifferenceResult("a", "b", 4.2e-4, 1.1e-4, 1.9e-4, 6.5e-4, 10, 0.95)
    line = paired_table([row], "b", 3, "returns").splitlines()[2]
    assert "+0.000420" in line and "0.000110" in line and "[+0.000190, +0.000650]" in line
    assert line.rstrip().endswith("higher")


def test_a_count_is_singular_only_for_one():
    """count_noun writes "1 arm" and, as English does, "0 arms" and "2 arms": the plural for
    every count but one (its docstring's rule; 0 is no exception)."""
    from rmab._reporting import count_noun

    assert [count_noun(n, "arm") for n in (0, 1, 2)] == ["0 arms", "1 arm", "2 arms"]
    assert [count_noun(n, "batch", "batches") for n in (0, 1)] == ["0 batches", "1 batch"]


def test_the_paired_table_names_a_missing_reference(result, domain_result):
    with pytest.raises(InvalidParameterError, match=r"paired_table.reference: must be one of"):
        result.paired_table("whittle")
    with pytest.raises(InvalidParameterError, match=r"paired_table.reference: must be one of"):
        domain_result.paired_table("whittle")


def _tamper(path, out, **changes):
    """Copy the saved comparison at ``path`` to ``out`` with metadata entries or arrays
    changed (``None``: removed)."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    for key, value in changes.items():
        target = arrays if key in arrays or isinstance(value, np.ndarray) else meta
        if value is None:
            target.pop(key)
        else:
            target[key] = value
    np.savez(out, __meta__=np.array(json.dumps(meta)), **arrays)
    return out


@pytest.mark.parametrize("changes, match", [
    ({"episodes": 7}, r"returns must hold finite numbers of shape \(3, 7\)"),
    ({"episodes": "8"}, r"metadata.episodes: must be an integer"),
    ({"planners": ["myopic", "myopic", "random"]}, "planners must be a list of distinct"),
    ({"planners": ["myopic", "no-action", "other"]}, "random_added must be true exactly when "
                                                      "'random' is not among the planners"),
    ({"random_added": True}, "random_added must be true exactly when"),
    ({"returns": np.full((3, 8), np.nan)}, "returns must hold finite numbers"),
    ({"totals": None}, "missing array 'totals'"),
    ({"discount": 1.5}, r"metadata.discount: must be"),
    ({"confidence": 1}, r"metadata.confidence: must be"),
    ({"seed": -1}, r"metadata.seed: must be an integer >= 0 or null; got -1"),
    ({"seed": 2.5}, r"metadata.seed: must be an integer >= 0 or null; got 2\.5"),
    ({"random_added": "no"}, "random_added must be true"),
    ({"decision_seconds": -np.ones((3, 8))}, "decision_seconds must hold finite non-negative"),
    ({"junk": np.zeros(3)}, r"holds entries \['junk'\] that 'rmab-comparison' does not"),
    ({"version": 2}, "must be a version 1 file"),
    ({"format": "rmab-instance"}, "format must be 'rmab-comparison' or 'rmab-domain-comparison'; "
                                  "got 'rmab-instance'"),
    ({"format": ["x"]}, r"format must be .*; got \['x'\]"),
])
def test_a_damaged_saved_comparison_is_named(result, tmp_path, changes, match):
    result.save(tmp_path / "c.npz")
    bad = _tamper(tmp_path / "c.npz", tmp_path / "bad.npz", **changes)
    with pytest.raises(InvalidModelError, match=match) as info:
        load_comparison(bad)
    assert "load_comparison" in str(info.value) and "bad.npz" in str(info.value)


@pytest.mark.parametrize("changes, match", [
    ({"seeds": [0, "3"]}, "seeds must be a list of distinct integers, or"),
    ({"seeds": [True, 3]}, "seeds must be a list of distinct integers, or"),
    ({"seeds": [0, 0]}, "seeds must be a list of distinct integers, or"),
    ({"seeds": [None, 3]}, "seeds must be a list of distinct integers, or"),
    ({"seconds_per_step": -np.ones((2, 3))}, "seconds_per_step must hold finite non-negative"),
    ({"starts": -np.ones((2, 4, 5), dtype=int)}, "starts must hold finite non-negative integ"),
    ({"planners": ["myopic", "no-action", "sampling"]}, "hold the planner 'random'"),
    ({"kind": None}, "must name its domain kind"),
    ({"starts": np.zeros((2, 4, 5))}, r"starts must hold finite non-negative integers"),
    ({"bound": np.zeros((2, 3))}, r"bound must hold finite numbers of shape \(2, 4\)"),
    ({"horizon": 0}, "metadata.horizon: must be"),
])
def test_a_damaged_saved_domain_comparison_is_named(domain_result, tmp_path, changes, match):
    domain_result.save(tmp_path / "d.npz")
    with pytest.raises(InvalidModelError, match=match):
        load_comparison(_tamper(tmp_path / "d.npz", tmp_path / "bad.npz", **changes))


def test_other_files_are_named_with_their_reader(tmp_path, result):
    save_instance(INST, tmp_path / "i.npz")
    with pytest.raises(InvalidModelError, match="an instance: load it with rmab.load_instance"):
        load_comparison(tmp_path / "i.npz")
    result.to_csv(tmp_path / "t.csv")
    with pytest.raises(InvalidModelError, match="a comparison's CSV holds its table only"):
        load_comparison(tmp_path / "t.csv")
    result.save(tmp_path / "c.npz")
    from rmab.models import load_instance
    with pytest.raises(InvalidModelError, match="a saved comparison: load it with "
                                                "rmab.load_comparison"):
        load_instance(tmp_path / "c.npz")
    with pytest.raises(InvalidParameterError, match="must be an existing file"):
        load_comparison(tmp_path / "none.npz")
    assert zipfile.is_zipfile(tmp_path / "c.npz")


def test_save_refuses_a_bad_path(result, tmp_path):
    with pytest.raises(InvalidParameterError, match="ComparisonResult.save"):
        result.save("a\0b.npz")


@pytest.mark.parametrize("path", [3, b"x.csv", "a\0b.csv"])
def test_to_csv_refuses_a_bad_path(result, domain_result, path):
    """They raised a raw TypeError (save and plot named the field)."""
    for res in (result, domain_result):
        with pytest.raises(InvalidParameterError, match=rf"{type(res).__name__}\.to_csv\.path"):
            res.to_csv(path)


# ---- command line -------------------------------------------------------------------------

def test_the_command_line_saves_and_shows_a_comparison(tmp_path, capsys):
    save_instance(INST, tmp_path / "i.npz")
    c, e = str(tmp_path / "c.npz"), str(tmp_path / "e.csv")
    assert cli.main(["compare", str(tmp_path / "i.npz"), "--planners", "random,myopic",
                     "--episodes", "4", "--no-progress", "--save", c, "--episodes-out", e,
                     "--paired", "random"]) == 0
    ran = capsys.readouterr().out
    assert "minus random" in ran and "myopic" in ran.split("minus random")[1]
    with open(e, newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 8
    assert cli.main(["compare", "--show", c, "--paired", "random"]) == 0
    assert capsys.readouterr().out == ran
    assert cli.main(["compare", "--show", c, "--paired", "myopic", "--out",
                     str(tmp_path / "t.csv")]) == 0
    assert "minus myopic" in capsys.readouterr().out
    with open(tmp_path / "t.csv", newline="") as fh:
        assert [r["planner"] for r in csv.DictReader(fh)] == ["random", "myopic"]


def test_paired_with_one_planner_is_refused_before_the_run(tmp_path, capsys):
    """It printed a paired table without a row (a review)."""
    save_instance(INST, tmp_path / "i.npz")
    assert cli.main(["compare", str(tmp_path / "i.npz"), "--planners", "myopic",
                     "--episodes", "2", "--no-progress", "--paired", "myopic"]) == 1
    assert ("compare.paired: needs another planner to pair with; got --paired myopic with the "
            "one planner ['myopic']") in capsys.readouterr().err


def test_the_command_line_shows_a_saved_domain_comparison(domain_result, tmp_path, capsys):
    domain_result.save(tmp_path / "d.npz")
    assert cli.main(["compare", "--show", str(tmp_path / "d.npz"), "--paired", "no-action"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(domain_result.table())
    assert domain_result.paired_table("no-action") in out
    assert domain_result.paired_table("no-action", over="seeds") in out     # two seeds


@pytest.mark.parametrize("argv, message", [
    (["--show", "{c}", "--episodes", "3"], "compare.episodes: not with --show"),
    (["--show", "{c}", "--episodes", "0"], "compare.episodes: not with --show"),
    (["--show", "{c}", "--seed", "0"], "compare.seed: not with --show"),   # 0 == False
    (["--show", "{c}", "--bound"], "compare.bound: not with --show, which shows a comparison "
                                   "already run; got --bound\n"),
    (["--show", "{c}", "--save", "{d}"], "compare.save: not with --show"),
    (["--show", "{c}", "--paired", "whittle"], "compare.paired: must be one of the planners "
                                               "compared ['myopic', 'no-action', 'random']"),
    (["--show", "{c}", "--out", "{c}"], "compare.out: must be a path ending in .csv"),
    (["--show", "{c}", "--out", "{t}", "--episodes-out", "{t}"],
     "compare.episodes_out: must not be the file of --out"),
    (["--show", "{c}", "--save", "x.csv"], "compare.save: must be a path ending in .npz"),
    (["--health", "8", "--planners", "myopic", "--paired", "random"],
     "compare.paired: must be one of the planners compared ['myopic']"),
    (["--domain", "capacity", "--planners", "myopic", "--paired", "sequoia"],
     "compare.paired: must be one of the planners compared ['myopic', 'random']"),
])
def test_command_line_errors(result, tmp_path, capsys, argv, message):
    result.save(tmp_path / "c.npz")
    paths = {"c": str(tmp_path / "c.npz"), "d": str(tmp_path / "d.npz"),
             "t": str(tmp_path / "t.csv")}
    assert cli.main(["compare", *[a.format(**paths) for a in argv]]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "d.npz").exists() and not (tmp_path / "t.csv").exists()


def test_paired_takes_a_repeated_planners_row_name(capsys):
    assert cli.main(["compare", "--health", "6", "--planners", "myopic,myopic", "--episodes",
                     "2", "--paired", "myopic #2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "minus myopic #2" in out and out.rstrip().splitlines()[-2].endswith("equal")


def test_paired_on_a_default_planner_left_out_stops_at_once(tmp_path, capsys):
    """The run went on to the end with no-action left out, then refused --paired no-action
    and wrote nothing (a diff review)."""
    save_instance(INST.replace(min_active=1), tmp_path / "m.npz")
    assert cli.main(["compare", str(tmp_path / "m.npz"), "--episodes", "2", "--paired",
                     "no-action", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "compare.paired: 'no-action' does not apply to this instance" in err


def test_the_show_flag_is_one_source(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["compare", "--show", "c.npz", "--health", "8"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_numpy_integer_seed_saves_as_the_integer_that_replays_it(tmp_path):
    """result.seed was the SeedSequence's entropy as it was given (a review): an np.int64,
    which save() refused ("must be JSON-serialisable")."""
    r = compare(INST, ["myopic"], episodes=2, seed=np.random.SeedSequence(np.int64(7)))
    assert type(r.seed) is int and r.seed == 7
    r.save(tmp_path / "c.npz")
    assert load_comparison(tmp_path / "c.npz").seed == 7
    np.testing.assert_array_equal(compare(INST, ["myopic"], episodes=2, seed=7).returns,
                                  r.returns)


@pytest.mark.parametrize("seq", [np.random.SeedSequence(7, pool_size=8),
                                 np.random.SeedSequence(7, spawn_key=(1,)),
                                 np.random.SeedSequence([1, 2, 3]),
                                 np.random.SeedSequence(np.array([5, 6], dtype=np.uint32))])
def test_a_seed_sequence_no_integer_gives_has_no_seed(seq, tmp_path):
    """SeedSequence(7, pool_size=8) said seed 7, whose run is another one, and a list or an
    array of entropy made a seed save() refused (a review)."""
    r = compare(INST, ["myopic"], episodes=1, seed=seq)
    assert r.seed is None
    r.save(tmp_path / "c.npz")
