"""solve_batches and ``rmab solve``: decisions against direct planner calls, --keep-going,
atomic output, exit codes."""

import argparse
import csv
import io
import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import rmab.io.writer as writer
from rmab.cli import main
from rmab.errors import (BatchInputError, InvalidParameterError, OutputError, PlanningError,
                         UnknownPlannerError)
from rmab.io import (OUTPUT_COLUMNS, batch_seed, read_batches, read_batches_keep_going,
                     solve_batches, write_solutions)
from rmab.models import Instance
from rmab.planners import make_planner

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "batch_example.csv"
HEALTH = EXAMPLE.parent / "health_example.npz"
H = "batch_id,arm_id,budget,state,belief,model,model_arm,costs\n"


def _read_out(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_shipped_example_round_trip(tmp_path, health):
    out = tmp_path / "out.csv"
    result = solve_batches(EXAMPLE, "myopic", out=out)
    batches = read_batches(EXAMPLE)
    assert result.ok and result.rows_written == sum(b.n_arms for b in batches) == 15
    rows = _read_out(out)
    assert list(rows[0]) == list(OUTPUT_COLUMNS)
    assert [(r["batch_id"], r["arm_id"]) for r in rows] == [
        (b.batch_id, a) for b in batches for a in b.arm_ids]
    # each batch's decision equals the myopic planner called directly on an instance built
    # here from the model file (not from the reader's output)
    north = batches[0]
    inst = Instance(health.arms.select([0, 1, 2, 3, 4, 5]), 3.0)
    arms = inst.arms
    costs = np.array(arms.costs)
    costs[3] = [0, 1, 1]
    direct = Instance(type(arms)(arms.transitions, arms.observations, arms.rewards, costs), 3.0)
    belief = np.array([[0.4, 0.6], [0.85, 0.15], [0, 1], [0.5, 0.5], [1, 0], [0.3, 0.7]])
    planner = make_planner("myopic").fit(direct, seed=0)
    expected = planner.plan(belief)
    got = [r for r in rows if r["batch_id"] == "clinic-north"]
    assert [int(r["action"]) for r in got] == expected.tolist()
    assert [r["action_name"] for r in got] == [("none", "call", "visit")[a] for a in expected]
    np.testing.assert_allclose([float(r["score"]) for r in got], planner.last_stats.scores)
    np.testing.assert_allclose([float(r["cost"]) for r in got], costs[np.arange(6), expected])
    assert north.arm_ids.tolist() == [r["arm_id"] for r in got]
    for outcome in result.outcomes:
        assert outcome.total_cost <= outcome.budget + 1e-9
    assert {r["action_name"] for r in rows if r["batch_id"] == "pilot"} == {""}


def test_scores_empty_when_planner_sets_none(tmp_path):
    out = tmp_path / "out.csv"
    solve_batches(EXAMPLE, "no-action", out=out)
    rows = _read_out(out)
    assert {r["score"] for r in rows} == {""} and {r["action"] for r in rows} == {"0"}


def test_scores_that_are_not_numbers_are_left_out(tmp_path, monkeypatch):
    """A user planner's scores of strings raised a raw ValueError after the batch's own
    error handling: every batch was lost (a planners review). Like scores of the wrong
    shape, they are left out of that batch's rows."""
    import rmab.io.batch as batch_mod
    from rmab.planners.baselines import NoActionPlanner

    class OddScores(NoActionPlanner):
        odd = ["x"]

        def _plan(self, beliefs, t):
            n = beliefs.shape[0]
            self.last_stats.scores = self.odd * n if n == 3 else np.arange(n) + 0.5
            return np.zeros(n, dtype=np.int64)

    # strings; then 10**400 (OverflowError) and complex numbers (written without their
    # imaginary part, or a ComplexWarning under -W error), found by a diff review
    for odd in (["x"], [10**400], [1 + 2j]):
        OddScores.odd = odd
        monkeypatch.setattr(batch_mod, "make_planner", lambda name, **params: OddScores())
        out = tmp_path / "out.csv"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = solve_batches(EXAMPLE, "no-action", out=out)
        assert result.ok and result.rows_written == 15
        rows = _read_out(out)
        odd_ids = [b.batch_id for b in read_batches(EXAMPLE) if b.n_arms == 3]
        assert odd_ids and {r["score"] for r in rows if r["batch_id"] in odd_ids} == {""}
        assert {r["score"] for r in rows if r["batch_id"] not in odd_ids} >= {"0.5", "1.5"}
    # real numbers in other types are kept (a second diff review: the first fix dropped them)
    from fractions import Fraction

    assert batch_mod._real_scores([Fraction(1, 4), 2**64], 2).tolist() == [0.25, 2.0**64]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert batch_mod._real_scores(np.full(2, np.longdouble("1e4000")), 2).tolist() == \
            [np.inf, np.inf]


def test_seeds_per_batch_do_not_depend_on_other_batches(tmp_path):
    batches = read_batches(EXAMPLE)
    whole = solve_batches(batches, "random", seed=7)
    alone = solve_batches(batches[2:3], "random", seed=7)
    np.testing.assert_array_equal(whole.outcomes[2].actions, alone.outcomes[0].actions)
    again = solve_batches(batches, "random", seed=7)
    for a, b in zip(whole.outcomes, again.outcomes):
        np.testing.assert_array_equal(a.actions, b.actions)
    # the order of the batches in the file does not matter either
    moved = solve_batches(batches[::-1], "random", seed=7)
    for a, b in zip(whole.outcomes, moved.outcomes[::-1]):
        assert a.batch_id == b.batch_id
        np.testing.assert_array_equal(a.actions, b.actions)
    assert batch_seed(7, "x").generate_state(2).tolist() == \
        batch_seed(np.random.SeedSequence(7), "x").generate_state(2).tolist()
    assert batch_seed(7, "x").generate_state(2).tolist() != \
        batch_seed(7, "y").generate_state(2).tolist()
    # a Generator, as every random function takes one (it was refused: a practitioner's
    # review): one root drawn from it, so equal generators give equal decisions
    with pytest.raises(InvalidParameterError, match=r"solve_batches.source: batch ids must be "
                                                    r"unique .* got 'clinic-north' twice"):
        solve_batches(batches + batches[:1], "random")       # wrote duplicate rows
    with pytest.raises(InvalidParameterError, match=r"solve_batches.planner: must be a "
                                                    r"registered planner's name"):
        solve_batches(batches, make_planner("myopic"))       # read as an unknown name
    first = solve_batches(batches, "random", seed=np.random.default_rng(3))
    second = solve_batches(batches, "random", seed=np.random.default_rng(3))
    for a, b in zip(first.outcomes, second.outcomes):
        np.testing.assert_array_equal(a.actions, b.actions)


def test_a_batch_is_planned_afresh_so_the_docs_warn_of_stateless_rotation():
    """A walk-through ran three weeks of ``rmab solve`` with ``round-robin`` and ``random``:
    each week called the same beneficiaries, the beliefs changed or not; docs/csv.md said
    nothing of it. It says so now, with the remedy (a seed per week) that this checks."""
    batch = read_batches(EXAMPLE)[0]
    week1 = type(batch)(batch.batch_id, batch.arm_ids,
                        batch.instance.replace(initial_belief=batch.belief[::-1]))
    for name in ("round-robin", "random"):
        a, b = (solve_batches([x], name, seed=0).outcomes[0].actions for x in (batch, week1))
        np.testing.assert_array_equal(a, b)
    draws = {tuple(solve_batches([batch], "random", seed=s).outcomes[0].actions)
             for s in range(6)}
    assert len(draws) > 1                      # a seed per week rotates random's choice
    text = " ".join((Path(__file__).resolve().parents[2] / "docs" / "csv.md")
                    .read_text(encoding="utf-8").split())
    assert "`round-robin` starts its cycle at the batch's first arm every week" in text
    assert "Give each week its own seed" in text


def _mixed_file(tmp_path):
    """Two good health batches, one bad row (batch 'bad'), one 2-action inline batch."""
    shutil.copy(EXAMPLE.parent / "health_example.npz", tmp_path / "health.npz")
    text = ("batch_id,arm_id,budget,state,belief,model,model_arm,transitions,rewards\n"
            "g1,a,1,0,,health.npz,0,,\n"
            "bad,a,1,,0.5;0.6,health.npz,1,,\n"
            "g2,a,2,1,,health.npz,2,,\n"
            'two,a,1,0,,,,"[[[0.9,0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]","[0,1]"\n'
            "g1,b,1,,0.5;0.5,health.npz,3,,\n")
    path = tmp_path / "mixed.csv"
    path.write_text(text)
    return path


def test_keep_going_solves_the_good_batches(tmp_path):
    path = _mixed_file(tmp_path)
    out = tmp_path / "out.csv"
    with pytest.raises(BatchInputError, match="sum to 1") as info:
        solve_batches(path, out=out)
    assert info.value.line == 3 and not out.exists()
    result = solve_batches(path, keep_going=True, out=out)
    assert [o.batch_id for o in result.outcomes] == ["g1", "g2", "two"]
    assert [(f.batch_id, f.stage, f.line) for f in result.failures] == [("bad", "read", 3)]
    assert not result.ok and result.rows_written == 4
    assert [r["batch_id"] for r in _read_out(out)] == ["g1", "g1", "g2", "two"]


def test_without_keep_going_the_first_bad_row_in_the_file_is_the_error(tmp_path, capsys):
    """Two bad rows (lines 3 and 4): without --keep-going the error is line 3's, the first in
    the file (hand-worked), and nothing is written."""
    shutil.copy(HEALTH, tmp_path / "health.npz")
    path, out = tmp_path / "b.csv", tmp_path / "out.csv"
    path.write_text("batch_id,arm_id,budget,state,belief,model,model_arm\n"
                    "g1,a,1,0,,health.npz,0\n"
                    "bad1,a,1,,0.5;0.6,health.npz,1\n"
                    "bad2,a,1,7,,health.npz,2\n")
    with pytest.raises(BatchInputError) as info:
        solve_batches(path, out=out)
    assert info.value.line == 3 and info.value.batch_id == "bad1"
    assert main(["solve", str(path), "--out", str(out)]) == 1
    assert "line 3, column 'belief'" in capsys.readouterr().err and not out.exists()


def test_keep_going_survives_a_planner_failure(tmp_path):
    path = _mixed_file(tmp_path)
    # round-robin with action 2 fits the 3-action health batches but not the 2-action one
    good, _ = read_batches_keep_going(path)
    with pytest.raises(PlanningError, match="failed on batch 'two'"):
        solve_batches(good, "round-robin", planner_params={"action": 2})
    result = solve_batches(path, "round-robin", planner_params={"action": 2}, keep_going=True)
    assert [o.batch_id for o in result.outcomes] == ["g1", "g2"]
    # in file order: the planning failure (no line of its own) at its batch's row, line 5
    assert [(f.batch_id, f.stage, f.line) for f in result.failures] == [("bad", "read", 3),
                                                                        ("two", "plan", None)]
    plan_failure = [f for f in result.failures if f.stage == "plan"][0]
    assert isinstance(plan_failure.error.__cause__, InvalidParameterError)
    lines = path.read_text().splitlines()           # 'two' (line 3) before 'bad' (line 5)
    path.write_text("\n".join([lines[0], lines[4], lines[1], lines[3], lines[2], lines[5]]))
    result = solve_batches(path, "round-robin", planner_params={"action": 2}, keep_going=True)
    assert [(f.batch_id, f.stage, f.line) for f in result.failures] == [("two", "plan", None),
                                                                        ("bad", "read", 5)]


class EveryArmActs:
    """A user's planner of the protocol alone (no BasePlanner, so no check of its own): every
    arm takes action 1, whatever the budget."""

    name = "every-arm-acts"

    def fit(self, instance, *, seed=None):
        self.instance = instance
        return self

    def reset(self, *, seed=None):
        pass

    def plan(self, belief, *, t=0):
        return np.ones(self.instance.n_arms, dtype=np.int64)


def test_an_infeasible_plan_fails_its_batch_alone(tmp_path):
    """Two arms at cost 1 each against budget 1 (batch 'over', hand-worked: total cost 2)
    fail; batch 'one' (one arm, budget 1) is solved and written (solve_batches checks the
    plan itself: a protocol planner checks nothing)."""
    import rmab
    from rmab.planners import base

    rmab.register_planner("every-arm-acts", f"{__name__}:EveryArmActs", "every arm acts")
    try:
        path, out = tmp_path / "b.csv", tmp_path / "out.csv"
        arm = '"[[[1,0],[0,1]],[[1,0],[0,1]]]","[0,1]"'
        path.write_text("batch_id,arm_id,budget,state,transitions,rewards\n"
                        f"over,a,1,0,{arm}\nover,b,1,0,{arm}\none,c,1,0,{arm}\n")
        with pytest.raises(PlanningError, match=r"failed on batch 'over'.*must cost at most "
                                                 r"budget=1; got total cost 2"):
            solve_batches(path, "every-arm-acts", out=out)
        assert not out.exists()
        result = solve_batches(path, "every-arm-acts", keep_going=True, out=out)
    finally:
        base._REGISTRY.pop("every-arm-acts", None)
    assert [(f.batch_id, f.stage) for f in result.failures] == [("over", "plan")]
    assert [(r["batch_id"], r["action"]) for r in _read_out(out)] == [("one", "1")]


class FirstPlanActs(EveryArmActs):
    """A protocol planner with state that fit does not reset: arm 0 acts in its first plan
    only."""

    name = "first-plan-acts"

    def __init__(self):
        self.plans = 0

    def plan(self, belief, *, t=0):
        self.plans += 1
        actions = np.zeros(self.instance.n_arms, dtype=np.int64)
        actions[0] = self.plans == 1
        return actions


def test_each_batch_gets_a_fresh_planner(tmp_path):
    """solve_batches makes a fresh planner per batch (its docs): a planner's state does not
    leak into the next batch, so arm 0 of each of three batches acts (hand-worked)."""
    import rmab
    from rmab.planners import base

    rmab.register_planner("first-plan-acts", f"{__name__}:FirstPlanActs", "first plan acts")
    try:
        path, out = tmp_path / "b.csv", tmp_path / "out.csv"
        arm = '"[[[1,0],[0,1]],[[1,0],[0,1]]]","[0,1]"'
        path.write_text("batch_id,arm_id,budget,state,transitions,rewards\n"
                        + "".join(f"{b},a,1,0,{arm}\n" for b in ("x", "y", "z")))
        solve_batches(path, "first-plan-acts", out=out)
    finally:
        base._REGISTRY.pop("first-plan-acts", None)
    assert [(r["batch_id"], r["action"]) for r in _read_out(out)] == [("x", "1"), ("y", "1"),
                                                                       ("z", "1")]


def test_bad_planner_or_source_fails_before_any_work(tmp_path):
    with pytest.raises(UnknownPlannerError, match="did you mean 'myopic'"):
        solve_batches(EXAMPLE, "myopc", keep_going=True)
    with pytest.raises(InvalidParameterError, match="knapsack"):
        solve_batches(EXAMPLE, "myopic", planner_params={"knapsack": "x"}, keep_going=True)
    with pytest.raises(InvalidParameterError, match="sequence of Batch objects .*; got a "
                                                    "sequence holding a int"):
        solve_batches([1, 2])
    with pytest.raises(InvalidParameterError, match="; got StringIO$"):
        solve_batches(io.StringIO("batch_id,arm_id\n"))        # a file object, not a path
    batches = read_batches(EXAMPLE)
    by_id = {b.batch_id: b for b in batches}
    assert len(solve_batches(by_id.values()).outcomes) == len(batches)   # any iterable
    with pytest.raises(InvalidParameterError, match="seed"):
        solve_batches(EXAMPLE, seed=-1)

    with pytest.raises(InvalidParameterError, match=r"solve_batches\.out: '-' would be a file "
                                                    r"named '-'; for standard output pass "
                                                    r"sys\.stdout"):
        solve_batches(EXAMPLE, out="-")                  # the command line's stdout only

    class BytesPath(os.PathLike):                 # a bare TypeError before (a review)
        def __fspath__(self):
            return os.fsencode(EXAMPLE)

    with pytest.raises(InvalidParameterError, match=r"solve_batches\.source: must be a path"):
        solve_batches(BytesPath())


def test_output_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    real = writer._rows
    calls = []

    def failing(outcome):
        calls.append(outcome.batch_id)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(outcome)

    monkeypatch.setattr(writer, "_rows", failing)
    with pytest.raises(OSError, match="disk full"):
        solve_batches(EXAMPLE, out=out)
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    fresh = tmp_path / "fresh.csv"
    calls.clear()
    with pytest.raises(OSError):
        solve_batches(EXAMPLE, out=fresh)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_write_to_open_file():
    result = solve_batches(EXAMPLE)
    buffer = io.StringIO()
    assert write_solutions(result.outcomes, buffer) == 15 and result.rows_written == 0
    assert buffer.getvalue().splitlines()[0] == ",".join(OUTPUT_COLUMNS)


def test_an_out_file_that_cannot_take_text_is_refused_before_any_work(tmp_path, monkeypatch):
    """A binary, closed or read-only file object passed every check and failed in the CSV
    writer, after every batch was solved, with a bare TypeError."""
    calls = []
    monkeypatch.setattr("rmab.io.batch._plan", lambda *a: calls.append(a))
    closed = io.StringIO()
    closed.close()
    (tmp_path / "r.csv").write_text("")
    with open(tmp_path / "b.csv", "wb") as binary, open(tmp_path / "r.csv") as read_only:
        for out, what in ((io.BytesIO(), "binary"), (binary, "binary"), (closed, "closed"),
                          (read_only, "not writable")):
            for call in (lambda: solve_batches(EXAMPLE, out=out),
                         lambda: write_solutions([], out)):
                with pytest.raises(InvalidParameterError,
                                   match=rf"\.out: must be a path or a text file open for "
                                         rf"writing; got a \w+ that is {what}$"):
                    call()
    assert calls == []


def test_text_writers_that_are_not_text_streams_are_accepted(tmp_path):
    """A codecs writer takes str though its mode says 'wb' (the first check refused it)."""
    import codecs

    result = solve_batches(EXAMPLE)
    with codecs.open(tmp_path / "out.csv", "w", "utf-8") as fh:
        assert write_solutions(result.outcomes, fh) == 15
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == ",".join(OUTPUT_COLUMNS)


# -- the command line -----------------------------------------------------------------------

def test_cli_writes_file_and_exits_0(tmp_path, capsys):
    out = tmp_path / "out.csv"
    code = main(["solve", str(EXAMPLE), "--out", str(out), "--param", "knapsack=greedy",
                 "--seed", "3"])
    assert code == 0
    assert len(_read_out(out)) == 15
    assert "solved 4 batches (15 arms)" in capsys.readouterr().err


def test_cli_summary_counts_in_the_singular(tmp_path, capsys):
    import shutil

    shutil.copy(EXAMPLE.parent / "health_example.npz", tmp_path)
    one = tmp_path / "one.csv"
    one.write_text("\n".join(EXAMPLE.read_text().splitlines()[:2]) + "\n")
    assert main(["solve", str(one), "--out", str(tmp_path / "out.csv")]) == 0
    assert "solved 1 batch (1 arm) with myopic, wrote 1 row to" in capsys.readouterr().err


def test_cli_prints_csv_to_stdout(capsys):
    assert main(["solve", str(EXAMPLE), "--planner", "belief-threshold",
                 "--param", "threshold=0.5", "--discount", "0.9"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 15 and all(r["score"] for r in rows)


def test_cli_bad_row_exits_1_and_writes_nothing(tmp_path, capsys):
    path = _mixed_file(tmp_path)
    out = tmp_path / "out.csv"
    assert main(["solve", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "line 3, column 'belief'" in err and err.startswith("rmab: error:")
    assert not out.exists()


def test_cli_check_reports_every_bad_row_and_writes_nothing(tmp_path, capsys):
    path = _mixed_file(tmp_path)
    out = tmp_path / "out.csv"
    assert main(["solve", str(path), "--check", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    assert "line 3, column 'belief'" in captured.err
    assert captured.err.splitlines()[-1].endswith("read without a problem; 1 problem (1 batch "
                                                  "left out)")
    assert main(["solve", str(EXAMPLE), "--check"]) == 0
    assert capsys.readouterr().err.strip().endswith("(15 arms) read without a problem; 0 "
                                                    "problems")
    stray = tmp_path / "stray.csv"        # a row that may belong to two batches: shown once
    stray.write_text("batch_id,arm_id,budget,state,transitions,rewards\n"
                     "x,a,1,0,\"[[[1,0],[0,1]],[[1,0],[0,1]]]\",\"[0,1]\"\n"
                     "y,b,1,0,\"[[[1,0],[0,1]],[[1,0],[0,1]]]\",\"[0,1]\"\n"
                     "z,x,y,1,0,\"[[[1,0],[0,1]],[[1,0],[0,1]]]\",\"[0,1]\"\n")
    assert main(["solve", str(stray), "--check"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "line 4: csv.row: must have 6 fields" in err[0]
    assert err[1].endswith("1 problem (2 batches left out)")
    assert main(["solve", str(EXAMPLE), "--check", "--planner", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert main(["solve", str(EXAMPLE), "--check", "--param", "nosuch=1"]) == 1
    assert "nosuch" in capsys.readouterr().err
    # the output the run would write is checked too (it passed, a review)
    assert main(["solve", str(EXAMPLE), "--check", "--out", str(tmp_path / "README.md")]) == 1
    assert "solve.out: must be a path ending in .csv" in capsys.readouterr().err
    (tmp_path / "dir.csv").mkdir()
    assert main(["solve", str(EXAMPLE), "--check", "--out", str(tmp_path / "dir.csv")]) == 1
    assert "it is a directory" in capsys.readouterr().err
    assert main(["solve", str(EXAMPLE), "--check", "--out", str(EXAMPLE)]) == 1
    assert "must not be an input of this run" in capsys.readouterr().err


def test_cli_unwritable_output_exits_1(tmp_path, capsys):
    (tmp_path / "outdir.csv").mkdir()
    assert main(["solve", str(EXAMPLE), "--out", str(tmp_path / "outdir.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rmab: error: ") and "it is a directory" in err
    assert [p.name for p in (tmp_path / "outdir.csv").iterdir()] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outdir.csv"]


def test_the_output_is_checked_before_the_work(tmp_path, monkeypatch, capsys):
    """An output that cannot be written was found only after reading and solving everything;
    an --out naming the input replaced the patients' file with the decisions."""
    import rmab.io.batch as batch_mod

    def no_reading(*args, **kwargs):
        raise AssertionError("the input was read before the output was checked")

    monkeypatch.setattr(batch_mod, "read_with_models", no_reading)
    (tmp_path / "outdir.csv").mkdir()
    assert main(["solve", str(EXAMPLE), "--out", str(tmp_path / "outdir.csv")]) == 1
    assert "it is a directory" in capsys.readouterr().err
    monkeypatch.undo()
    src = tmp_path / "batches.csv"
    shutil.copy(EXAMPLE, src)
    shutil.copy(EXAMPLE.parent / "health_example.npz", tmp_path / "health_example.npz")
    before = src.read_text()
    assert main(["solve", str(src), "--out", str(tmp_path / "." / "batches.csv")]) == 1
    err = capsys.readouterr().err          # named by its flag (a new user's walkthrough)
    assert "solve.out: " in err and "batches.csv: must not be an input of this run" in err
    assert src.read_text() == before
    model = (tmp_path / "health_example.npz").read_bytes()     # nor a model file it names
    assert main(["solve", str(src), "--out", str(tmp_path / "health_example.npz")]) == 1
    assert "solve.out: must be a path ending in .csv" in capsys.readouterr().err
    with pytest.raises(OutputError, match="health_example.npz: must not be an input of this"):
        solve_batches(src, "myopic", out=tmp_path / "health_example.npz")
    assert (tmp_path / "health_example.npz").read_bytes() == model


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_an_unknown_planner_exits_2_before_the_output_is_checked(tmp_path, capsys, check):
    """A solve exited 1 on an unwritable --out before naming an unknown planner, which exits
    2 under --check (a review)."""
    (tmp_path / "outdir.csv").mkdir()
    argv = ["solve", str(EXAMPLE), "--planner", "nosuch", "--out", str(tmp_path / "outdir.csv")]
    assert main(argv + check) == 2
    assert "planner: must be one of" in capsys.readouterr().err


def test_batches_name_their_model_files(tmp_path):
    """... and solve_batches refuses to write over one, also when given the batches."""
    batches = read_batches(EXAMPLE)
    model = EXAMPLE.parent / "health_example.npz"
    before = model.read_bytes()
    with pytest.raises(OutputError, match="must not be an input of this run"):
        solve_batches(batches, "myopic", out=model)
    assert model.read_bytes() == before
    named = {b.model_files for b in batches}               # one batch gives its models inline
    assert named == {(str(EXAMPLE.parent / "health_example.npz"),), ()}


def test_cli_out_dash_is_stdout(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["solve", str(EXAMPLE), "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith(",".join(OUTPUT_COLUMNS))
    assert list(tmp_path.iterdir()) == []                  # no file named '-'


def test_cli_closed_stdout_is_an_error_not_a_silent_success(monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys, "stdout", None)
    assert main(["solve", str(EXAMPLE)]) == 1
    assert ("solve: standard output is closed, so the results would be lost; give --out FILE"
            in capsys.readouterr().err)
    assert main(["solve", str(EXAMPLE), "--check"]) == 0         # reports on stderr
    for argv in (["index", str(HEALTH)], ["bound", str(HEALTH)], ["planners"]):
        assert main(argv) == 1                  # a traceback (index) or a silent exit 0
        assert "standard output is closed" in capsys.readouterr().err


def test_cli_keep_going_exits_3(tmp_path, capsys):
    path = _mixed_file(tmp_path)
    out = tmp_path / "out.csv"
    assert main(["solve", str(path), "--out", str(out), "--keep-going", "--progress"]) == 3
    err = capsys.readouterr().err
    assert "batch 'bad' skipped" in err and "1 failed" in err
    assert len(_read_out(out)) == 4


@pytest.mark.parametrize("argv", [["solve"], ["solve", "x.csv", "--param", "novalue"],
                                  ["solve", "x.csv", "--param", "k=[1]"],
                                  ["solve", "x.csv", "--seed", "one"]])
def test_cli_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_cli_param_values_are_json_scalars_or_objects(tmp_path):
    from rmab.commands import param_arg as _param  # solve's --param
    assert _param("dp_limit=10") == ("dp_limit", 10)
    assert _param("threshold=0.5") == ("threshold", 0.5)
    assert _param("knapsack=greedy") == ("knapsack", "greedy")
    assert _param("flag=true") == ("flag", True)
    assert _param("threshold=-inf") == ("threshold", float("-inf"))   # docs/relaxations.md
    assert _param("threshold=inf") == ("threshold", float("inf"))
    # an object: rollout's base planner's parameters (could not be set: a CLI review)
    assert _param('base_params={"knapsack": "greedy"}') == ("base_params",
                                                         {"knapsack": "greedy"})
    with pytest.raises(argparse.ArgumentTypeError, match="a JSON object or text"):
        _param("x=[1, 2]")
    # an object with a bare word was taken as text, then refused as 'must be a dict' with no
    # word of the JSON; an unclosed one too
    for bad, why in (('base_params={"knapsack": greedy}', "Expecting value"),
                     ('base_params={"knapsack": "greedy"', "Expecting ',' delimiter"),
                     ("x=[1, 2", "Expecting ',' delimiter")):
        with pytest.raises(argparse.ArgumentTypeError, match=rf"^VALUE starting with '[{{\[]' "
                           rf"must be valid JSON \({why}.*\); got .*text inside needs double "
                           rf"quotes"):
            _param(bad)
    out = tmp_path / "r.csv"
    assert main(["solve", str(EXAMPLE), "--planner", "rollout", "--param", "n_trajectories=2",
                 "--param", "horizon=2", "--param", 'base_params={"knapsack": "greedy"}',
                 "--out", str(out)]) == 0
    assert main(["solve", str(EXAMPLE), "--planner", "rollout", "--param",
                 'base_params={"knapsak": "greedy"}', "--out", str(out)]) == 1


def test_cli_param_takes_plus_inf_and_refuses_an_empty_key(capsys):
    """VALUE inf, +inf and -inf in any case are floats (JSON reads none of them); a KEY of
    blanks is a usage error (exit 2), not a parameter named ''."""
    from rmab.commands import param_arg as _param  # solve's --param
    assert _param("threshold=+inf") == ("threshold", float("inf"))
    assert _param(" threshold = -INF") == ("threshold", float("-inf"))
    for bad in ("=5", " =5"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"^must be KEY=VALUE; got '{bad}'$"):
            _param(bad)
    with pytest.raises(SystemExit) as info:
        main(["solve", str(EXAMPLE), "--param", "=5", "--check"])
    assert info.value.code == 2 and "must be KEY=VALUE; got '=5'" in capsys.readouterr().err


def test_cli_out_suffix_is_matched_in_any_case(tmp_path, capsys):
    """'R.CSV' ends in .csv (the suffix check lower-cases the path), and is written as given."""
    out = tmp_path / "R.CSV"
    assert main(["solve", str(EXAMPLE), "--out", str(out)]) == 0
    assert len(_read_out(out)) == 15 and os.listdir(tmp_path) == ["R.CSV"]
    assert "wrote 15 rows to" in capsys.readouterr().err


def test_cli_check_counts_no_batch_left_out_for_a_row_without_a_batch_id(tmp_path, capsys):
    """A row with an empty batch_id belongs to no batch: 1 problem, and batch x (its one arm)
    still read, so no '(... left out)' (a set of the failing batch ids counted None as one)."""
    path = tmp_path / "s.csv"
    path.write_text("batch_id,arm_id,budget,state,transitions,rewards\n"
                    "x,a,1,0,\"[[[1,0],[0,1]],[[1,0],[0,1]]]\",\"[0,1]\"\n"
                    ",b,1,0,\"[[[1,0],[0,1]],[[1,0],[0,1]]]\",\"[0,1]\"\n")
    assert main(["solve", str(path), "--check"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "line 3, column 'batch_id'" in err[0]
    assert err[1] == f"rmab: {path}: 1 batch (1 arm) read without a problem; 1 problem"


@pytest.mark.filterwarnings("ignore::rmab.errors.IndexabilityWarning")
@pytest.mark.parametrize("name", [s.name for s in __import__("rmab").available_planners()
                                  if s.available])
def test_every_registered_planner_solves_the_example(name, tmp_path):
    out = tmp_path / f"{name}.csv"
    assert main(["solve", str(EXAMPLE), "--planner", name, "--out", str(out)]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    budgets = {b.batch_id: b for b in read_batches(EXAMPLE)}
    assert {r["batch_id"] for r in rows} == set(budgets)
    for batch_id in budgets:
        spent = sum(float(r["cost"]) for r in rows if r["batch_id"] == batch_id)
        assert spent <= budgets[batch_id].instance.budget + 1e-9


@pytest.mark.parametrize("call, visit", [("0.4", "0.9"), ("0.3333333", "0.6666667")])
def test_cli_solves_decimal_and_real_costs_exactly_and_stdout_holds_only_csv(
        call, visit, folder, write_csv, health, capfd):
    """Costs of a money grid take the scaled DP, costs of no grid the MIP; the greedy, which
    both got before 2026-12, is 0.060 and 0.020 short here. stdout (``-o -``) is the CSV alone
    (scipy's bundled HiGHS printed debug lines there)."""
    import itertools

    from rmab.planners.baselines import one_step_values

    rng = np.random.default_rng(7)
    beliefs = rng.dirichlet([1.0, 1.0], 7)
    text = H + "".join(f"b,p{i},2.1,,{b[0]:.3f};{1 - b[0]:.3f},health.npz,{i},"
                       f"0;{call};{visit}\n" for i, b in enumerate(beliefs))
    capfd.readouterr()
    assert main(["solve", str(write_csv(text)), "--planner", "myopic", "-o", "-"]) == 0
    out = capfd.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.startswith("batch_id,") and len(rows) == 7
    belief = np.array([[round(b[0], 3), round(1 - b[0], 3)] for b in beliefs])
    values = one_step_values(health.arms.select(range(7)), belief, health.discount)
    costs = np.tile([0.0, float(call), float(visit)], (7, 1))
    best = max(values[np.arange(7), list(a)].sum() for a in itertools.product(range(3), repeat=7)
               if costs[np.arange(7), list(a)].sum() <= 2.1 + 1e-9)
    got = np.array([int(r["action"]) for r in rows])
    assert values[np.arange(7), got].sum() == pytest.approx(best, abs=1e-12)


def test_a_model_named_only_by_a_failed_batch_is_not_replaced(folder):
    """--keep-going: batch B fails to read (budgets differ), so its model was not among the
    inputs and '-o other.npz' replaced it with the CSV output (a CSV review)."""
    shutil.copy(folder / "health.npz", folder / "other.npz")
    (folder / "in.csv").write_text("batch_id,arm_id,budget,state,model,model_arm\n"
                                   "A,a1,1,0,health.npz,0\nB,b1,1,0,other.npz,0\n"
                                   "B,b2,2,0,other.npz,1\n")
    before = (folder / "other.npz").read_bytes()
    with pytest.raises(OutputError, match=r"other\.npz: must not be an input of this run"):
        solve_batches(folder / "in.csv", "myopic", out=folder / "other.npz", keep_going=True)
    assert (folder / "other.npz").read_bytes() == before
    with open(folder / "in.csv", "a") as fh:                # a row with a field too many
        fh.write("C,c1,1,0,third.npz,0,extra\n")
    shutil.copy(folder / "health.npz", folder / "third.npz")
    with pytest.raises(OutputError, match=r"third\.npz: must not be an input of this run"):
        solve_batches(folder / "in.csv", "myopic", out=folder / "third.npz", keep_going=True)


def test_standard_output_is_utf8_whatever_the_locale(folder):
    """'-o -' wrote in the locale's encoding: an ASCII locale raised UnicodeEncodeError
    after the header, a latin-1 one wrote a file the reader refuses (a CSV review)."""
    import os
    import subprocess
    import sys

    (folder / "u.csv").write_text("batch_id,arm_id,budget,state,model,model_arm\n"
                                  "café,zoë,1,0,health.npz,0\n", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    out = subprocess.run([sys.executable, "-m", "rmab", "solve", str(folder / "u.csv"), "-o",
                          "-"], capture_output=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert out.stdout.decode("utf-8").splitlines()[1].startswith("café,zoë,")


def test_a_planners_warnings_and_errors_name_the_batch_and_its_line(write_csv, monkeypatch):
    """Two batches' warnings printed alike, naming neither batch nor file (a CSV review)."""
    import rmab.io.batch as batch_mod
    from rmab.errors import RmabWarning

    path = write_csv("batch_id,arm_id,budget,state,model,model_arm\n"
                     "b1,a,1,0,health.npz,0\nb2,c,1,0,health.npz,1\n")
    real = batch_mod.make_planner

    def warning_planner(name, **params):
        planner = real(name, **params)
        plan = planner.plan

        def warn_then_plan(belief, **kw):
            import warnings
            warnings.warn("1 of 1 arms are not indexable", RmabWarning)
            return plan(belief, **kw)
        planner.plan = warn_then_plan
        return planner

    monkeypatch.setattr(batch_mod, "make_planner", warning_planner)
    with pytest.warns(RmabWarning) as caught:
        solve_batches(path, "myopic")
    said = sorted(str(w.message) for w in caught)
    assert said == [f"batch 'b1' ({path}, line 2): 1 of 1 arms are not indexable",
                    f"batch 'b2' ({path}, line 3): 1 of 1 arms are not indexable"]
    import warnings                         # warnings as errors: each batch fails alone
    with warnings.catch_warnings():
        warnings.simplefilter("error", RmabWarning)
        result = solve_batches(path, "myopic", keep_going=True)
    assert [f.batch_id for f in result.failures] == ["b1", "b2"]
    assert "not indexable" in str(result.failures[0].error)


def test_an_index_planners_unindexable_arms_are_named_by_arm_id(write_csv, monkeypatch):
    """'rmab solve --planner whittle' said "5 of 150 arms are not (fully) indexable" with
    no way to find them: 'rmab index' takes no CSV (a walkthrough)."""
    from types import SimpleNamespace

    import rmab.io.batch as batch_mod
    from rmab.errors import IndexabilityWarning

    path = write_csv("batch_id,arm_id,budget,state,model,model_arm\n"
                     "b1,p1,1,0,health.npz,0\nb1,p2,1,0,health.npz,1\nb1,p3,1,0,health.npz,2\n")
    real = batch_mod.make_planner

    def unindexable(name, **params):
        planner, fit = real(name, **params), None

        def fit_and_warn(instance, **kw):
            import warnings
            fit(instance, **kw)
            planner.result = SimpleNamespace(indexable=np.array([True, False, False]))
            warnings.warn("2 of 3 arms are not (fully) indexable", IndexabilityWarning)
            return planner
        fit, planner.fit = planner.fit, fit_and_warn
        return planner

    monkeypatch.setattr(batch_mod, "make_planner", unindexable)
    with pytest.warns(IndexabilityWarning) as caught:
        solve_batches(path, "myopic")
    assert [str(w.message) for w in caught] == [
        f"batch 'b1' ({path}, line 2): 2 of 3 arms are not (fully) indexable; in this batch: "
        f"arm_id p2, p3"]


def test_a_batch_built_in_python_names_its_actions_from_the_instance(tmp_path):
    """A Batch built by hand wrote an empty action_name column (a new user's walkthrough)."""
    from rmab.io import Batch
    from rmab.models import health_intervention

    inst = health_intervention(6, seed=0)
    batch = Batch("w1", [f"B{j}" for j in range(6)], inst)
    assert batch.action_names == ("none", "call", "visit")
    out = tmp_path / "w1.csv"
    solve_batches([batch], "myopic", out=out)
    names = {line.split(",")[3] for line in out.read_text().splitlines()[1:]}
    assert names <= {"none", "call", "visit"} and "" not in names
    plain = inst.replace(metadata={})
    assert Batch("w1", list("abcdef"), plain).action_names is None


RULE = "must be non-empty text (or an integer) without blanks at either end or control characters"


@pytest.mark.parametrize("batch_id, arm_ids, match", [
    (None, list("abc"), f"Batch.batch_id: {RULE}"),
    ("", list("abc"), f"Batch.batch_id: {RULE}"),
    ("  ", list("abc"), f"Batch.batch_id: {RULE}"),
    (" w", list("abc"), f"Batch.batch_id: {RULE}"),
    (True, list("abc"), f"Batch.batch_id: {RULE}"),
    ("w", ["a", "", "c"], f"Batch.arm_ids: {RULE}, as the CSV reader reads ids; got '' at "
                          f"position 1"),
    ("w", [None, "b", "c"], f"Batch.arm_ids: {RULE}"),
    ("w", ["a", " a", "b"], f"Batch.arm_ids: {RULE}"),
    ("w", ["a", "b", "a"], "Batch.arm_ids: must be unique names; got 'a' at positions 0 and 2"),
    ("w", ["a", "b"], "Batch.arm_ids: must be 3 unique names, one per arm; got 2: "),
    ("w\x00", list("abc"), f"Batch.batch_id: {RULE}"),
    ("w", ["a", "b\x1b", "c"], f"Batch.arm_ids: {RULE}"),
])
def test_a_hand_built_batch_needs_ids_the_csv_would_take(batch_id, arm_ids, match):
    """Batch(None, ...) and Batch('', ...) were both written with an empty batch_id, which
    'rmab solve' refuses on reading the file back, and were seeded apart (a docs review);
    blank-padded ids are read back stripped, so another id and seed (a diff review)."""
    from rmab.io import Batch
    from rmab.models import health_intervention

    with pytest.raises(InvalidParameterError, match=re.escape(match)):
        Batch(batch_id, arm_ids, health_intervention(3, seed=0))


@pytest.mark.parametrize("change, match", [
    (dict(arm_ids=3), "Batch.arm_ids: must be a sequence of names, one per arm; got 3"),
    (dict(arm_ids="abc"), "Batch.arm_ids: must be a sequence of names, one per arm; got 'abc'"),
    (dict(lines=[1]), "Batch.lines: must be None or the 1-based line of each arm's row, "
                      "integers of shape (n_arms=3,); got [1]"),
    (dict(lines="x"), "Batch.lines: must be None or the 1-based line"),
    (dict(lines=[0, 1, 2]), "Batch.lines: must be None or the 1-based line"),
    (dict(file=3), "Batch.file: must be a path (str or os.PathLike); got int"),
    (dict(model_files=3), "Batch.model_files: must be a sequence of paths; got 3"),
    (dict(model_files="m.npz"), "Batch.model_files: must be a sequence of paths"),
    (dict(model_files=["m.npz", b"n.npz"]), "Batch.model_files[1]: must be a path (str or "
                                            "os.PathLike); got bytes"),
])
def test_a_hand_built_batch_checks_where_it_says_it_came_from(change, match):
    """A fuzz review: arm_ids=3 raised Python's TypeError, arm_ids='abc' made three arms 'a',
    'b', 'c', and lines, file and model_files (used in error messages and by the write's
    overwrite guard) were taken as anything."""
    from rmab.io import Batch
    from rmab.models import health_intervention

    args = dict(batch_id="w", arm_ids=list("abc"), instance=health_intervention(3, seed=0))
    with pytest.raises(InvalidParameterError, match=re.escape(match)):
        Batch(**{**args, **change})
    batch = Batch(**args, lines=[2, 3, 4], file=Path("b.csv"), model_files=[Path("m.npz")])
    assert batch.lines.dtype == np.int64 and batch.model_files == ("m.npz",)
    assert batch.file == "b.csv"


def test_solve_batches_checks_the_discount_given_with_batch_objects():
    from rmab.io import Batch, solve_batches
    from rmab.models import health_intervention

    batch = Batch("w", list("abc"), health_intervention(3, seed=0))
    with pytest.raises(InvalidParameterError, match=r"solve_batches\.discount: must be < 1"):
        solve_batches([batch], discount=2)


def test_a_numeric_batch_id_is_taken_as_text():
    from rmab.io import Batch
    from rmab.models import health_intervention

    batch = Batch(7, [1, np.int64(2), "c"], health_intervention(3, seed=0))
    assert batch.batch_id == "7" and batch.arm_ids.tolist() == ["1", "2", "c"]


def test_the_output_shown_in_the_csv_docs(tmp_path):
    """docs/csv.md shows rows of ``rmab solve`` on the shipped example (myopic) and p001's
    whittle score; the latter went stale when the belief indices changed."""
    text = (EXAMPLE.parents[1] / "docs" / "csv.md").read_text()
    shown = re.search(r"```\nbatch_id,arm_id,action,action_name,cost,score\n(.*?)```", text,
                      re.S).group(1).split()
    solve_batches(EXAMPLE, "myopic", out=tmp_path / "m.csv")
    lines = (tmp_path / "m.csv").read_text().split()
    assert shown and all(row in lines for row in shown)
    solve_batches(EXAMPLE, "whittle", out=tmp_path / "w.csv")
    p001 = next(r for r in _read_out(tmp_path / "w.csv") if r["arm_id"] == "p001")
    said = re.search(r"`p001` above has action (\d) and score ([\d.]+)", text)
    assert p001["action"] == said.group(1)
    assert f"{float(p001['score']):.4f}" == said.group(2)


def test_a_model_found_only_from_the_current_folder_is_named(tmp_path, monkeypatch, capsys):
    """Model paths are relative to the CSV's folder; the error showed only the name given,
    although a file of that name was in the current folder (a CLI review)."""
    (tmp_path / "sub").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "sub" / "b.csv")
    shutil.copy(HEALTH, tmp_path / "health_example.npz")
    monkeypatch.chdir(tmp_path)
    assert main(["solve", str(Path("sub") / "b.csv")]) == 1
    err = capsys.readouterr().err
    looked = os.path.abspath(Path("sub") / "health_example.npz")    # the CSV's folder shown
    assert (f"got 'health_example.npz', looked for {looked!r}; that path exists from the "
            f"current folder: name it from the CSV's") in err


def test_scores_of_the_wrong_shape_are_left_out(tmp_path, monkeypatch):
    import rmab.io.batch as batch_mod
    from rmab.planners.baselines import NoActionPlanner

    class Shaped(NoActionPlanner):
        extra = 1

        def _plan(self, beliefs, t):
            n = beliefs.shape[0]
            self.last_stats.scores = (np.arange(n + self.extra) + 0.5 if n == 3 else
                                      np.arange(n) + 0.5)
            return np.zeros(n, dtype=np.int64)

    monkeypatch.setattr(batch_mod, "make_planner", lambda name, **params: Shaped())
    odd_ids = [b.batch_id for b in read_batches(EXAMPLE) if b.n_arms == 3]
    for extra in (1, -1):                    # one score too many, one too few
        Shaped.extra = extra
        result = solve_batches(EXAMPLE, "no-action", out=tmp_path / "out.csv")
        assert result.ok and result.rows_written == 15
        for outcome in result.outcomes:
            assert (outcome.scores is None) == (outcome.batch_id in odd_ids)
        rows = _read_out(tmp_path / "out.csv")
        assert odd_ids and {r["score"] for r in rows if r["batch_id"] in odd_ids} == {""}


def test_cli_check_says_problems_alike_but_for_their_line_once(tmp_path, capsys):
    """A model file not found was said once per row, 12 lines alike in a walkthrough (8 000
    in a programme's file); it is said once, then the lines of the rows alike, in ranges. A
    different problem between them starts a new group."""
    from rmab.commands.solve import _alike, _spans

    text = EXAMPLE.read_text().replace("health_example.npz", "nothere.npz")
    path = tmp_path / "b.csv"
    path.write_text(text)
    assert main(["solve", str(path), "--check"]) == 1
    err = capsys.readouterr().err.splitlines()
    missing = [k + 1 for k, row in enumerate(text.splitlines()) if "nothere.npz" in row]
    assert missing == list(range(2, 12))                   # the two health batches' rows
    assert err[0].startswith(f"rmab: {path}, line 2, column 'model': csv.model: must name an "
                             f"existing file")
    assert err[1] == "rmab:   and 9 more rows alike: lines 3-11"
    assert err[2].endswith("10 problems (2 batches left out)") and len(err) == 3
    assert _spans([3, 4, 5, 7, 9, 10]) == "3-5, 7, 9-10" and _spans([8]) == "8"
    said = [BatchInputError(m, file="f.csv", line=n, column="model")
            for n, m in ((2, "a"), (3, "a"), (4, "b"), (5, "a"), (6, "a line 6"))]
    assert _alike(said) == [("f.csv, line 2, column 'model': a", [3]),
                            ("f.csv, line 4, column 'model': b", []),
                            ("f.csv, line 5, column 'model': a", []),
                            ("f.csv, line 6, column 'model': a line 6", [])]
    # the same words in another column, or naming their own line again, are not alike
    said = [BatchInputError("a", file="f.csv", line=2, column="model"),
            BatchInputError("a", file="f.csv", line=3, column="belief"),
            BatchInputError("a line 4", file="f.csv", line=4, column="belief"),
            BatchInputError("a line 5", file="f.csv", line=5, column="belief")]
    assert [lines for _, lines in _alike(said)] == [[], [], [], []]
    two = tmp_path / "two.csv"           # one more row alike: said, in the singular
    two.write_text("".join(r + "\n" for r in text.splitlines()[:3]))
    assert main(["solve", str(two), "--check"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[1] == "rmab:   and 1 more row alike: line 3" and len(err) == 3, err


def test_arm_ids_are_a_read_only_array_a_mask_of_the_arms_selects():
    """A walkthrough's ``batch.arm_ids[actions > 0]`` (the arms acted on) raised numpy's
    TypeError 'only integer scalar arrays can be converted to a scalar index': they were a
    tuple. Reference: the ids of data/batch_example.csv's clinic-north rows, by hand."""
    import pickle

    north = read_batches(EXAMPLE)[0]
    acted = np.array([0, 0, 0, 2, 2, 0]) > 0
    assert north.arm_ids[acted].tolist() == ["p004", "p005"]
    assert north.arm_ids[[5, 0]].tolist() == ["p006", "p001"]
    assert all(type(a) is str for a in north.arm_ids)      # Python str: shown as 'p001'
    with pytest.raises(ValueError, match="read-only"):
        north.arm_ids[0] = "x"
    outcome = solve_batches([north], "myopic").outcomes[0]
    assert outcome.arm_ids[outcome.actions > 0].tolist() == [
        f"p00{k + 1}" for k in np.flatnonzero(outcome.actions)]
    sent = pickle.loads(pickle.dumps(north))                  # as to a worker process
    assert sent.arm_ids.tolist() == [f"p00{k}" for k in range(1, 7)]


def test_arm_ids_given_as_a_numpy_array_are_named_as_text():
    """The README builds ids with np.array: its numpy str_ ids were kept, and an error named
    an arm as np.str_('a') rather than 'a'."""
    from rmab.io import Batch
    from rmab.models import health_intervention

    with pytest.raises(InvalidParameterError, match=re.escape(
            "Batch.arm_ids: must be unique names; got 'a' at positions 0 and 2")):
        Batch("w", np.array(["a", "b", "a"]), health_intervention(3, seed=0))
    batch = Batch("w", np.array(["a", "b", "c"]), health_intervention(3, seed=0))
    assert [type(a) for a in batch.arm_ids] == [str, str, str]


def test_arm_ids_given_by_an_iterator_are_checked_as_a_list():
    """A generator or dict keys of ids with a bad one raised a bare TypeError ('generator'
    object is not subscriptable) where a list got the typed error naming the id."""
    from rmab.io import Batch
    from rmab.models import health_intervention

    inst = health_intervention(3, seed=0)
    for ids in ((x for x in ["a", " b", "c"]), {"a": 1, " b": 2, "c": 3}.keys()):
        with pytest.raises(InvalidParameterError, match=re.escape(
                "Batch.arm_ids: ") + ".*got ' b' at position 1$"):
            Batch("w", ids, inst)
    assert Batch("w", (x for x in "abc"), inst).arm_ids.tolist() == ["a", "b", "c"]
