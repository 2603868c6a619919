"""write_beliefs: next period's CSV from this one's, each arm's belief replaced."""

import csv
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import rmab
from rmab.errors import BatchInputError, InvalidParameterError, OutputError
from rmab.io import read_batches, solve_batches, write_beliefs

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def example(folder):
    shutil.copy(DATA / "batch_example.csv", folder / "week_0.csv")
    shutil.copy(DATA / "health_example.npz", folder)
    return folder / "week_0.csv"


def test_the_next_file_reads_back_the_updated_beliefs_and_keeps_every_other_cell(example):
    batches = read_batches(example)
    result = solve_batches(batches, "myopic")
    rng = np.random.default_rng(0)
    beliefs = {}
    for batch, outcome in zip(batches, result.outcomes):
        arms = batch.instance.arms
        signals = rng.integers(0, getattr(arms, "n_obs", arms.n_states), batch.n_arms)
        try:
            beliefs[batch.batch_id] = rmab.update_beliefs(arms, batch.belief, outcome.actions,
                                                          signals)
        except rmab.ImpossibleSignalError:
            beliefs[batch.batch_id] = rmab.update_beliefs(arms, batch.belief, outcome.actions,
                                                          np.zeros(batch.n_arms, dtype=int))
    out = example.parent / "week_1.csv"
    assert write_beliefs(batches, beliefs, out) == sum(b.n_arms for b in batches)
    again = read_batches(out)
    assert [b.batch_id for b in again] == [b.batch_id for b in batches]
    for old, new in zip(batches, again):
        np.testing.assert_array_equal(new.arm_ids, old.arm_ids)
        np.testing.assert_allclose(new.belief, beliefs[old.batch_id], atol=1e-11)
        np.testing.assert_array_equal(new.instance.arms.transitions,
                                      old.instance.arms.transitions)
        np.testing.assert_array_equal(new.instance.arms.costs, old.instance.arms.costs)
        assert (new.instance.budget, new.instance.discount) == \
            (old.instance.budget, old.instance.discount)
    with open(example, newline="") as fh:
        before = list(csv.DictReader(fh))
    with open(out, newline="") as fh:
        after = list(csv.DictReader(fh))
    for a, b in zip(before, after):
        assert b["state"] == ""
        assert {k: v for k, v in a.items() if k not in ("state", "belief")} == \
            {k: v for k, v in b.items() if k not in ("state", "belief")}


def test_rows_of_batches_without_beliefs_are_copied_and_a_belief_column_is_added(write_csv):
    path = write_csv("batch_id,arm_id,budget,state,model,model_arm,,\r\n"
                     "a,x,1,0,health.npz,0,,\r\n"
                     "b,y,1,1,health.npz,1,,\r\n"
                     "a,z,1,1,health.npz,2,,\r\n")
    batches = read_batches(path)
    out = path.parent / "next.csv"
    with pytest.warns(rmab.RmabWarning, match="got none for 'b' "):
        assert write_beliefs(batches, {"a": [[0.25, 0.75], [1.0, 0.0]]}, out) == 2
    assert out.read_text(encoding="utf-8").splitlines() == [
        "batch_id,arm_id,budget,state,model,model_arm,belief",
        "a,x,1,,health.npz,0,0.25;0.75",
        "b,y,1,1,health.npz,1,",
        "a,z,1,,health.npz,2,1;0",
    ]
    np.testing.assert_array_equal(read_batches(out)[0].belief, [[0.25, 0.75], [1.0, 0.0]])


def test_a_batch_given_no_beliefs_is_copied_with_a_warning_at_the_callers_line(write_csv):
    """A walkthrough: write_beliefs(batches, {}, out) wrote last week's file again, 0 beliefs,
    without a word (a batch forgotten in the mapping, or a zip over outcomes that skipped
    one). A batch left out of ``batches`` is still copied silently, on purpose."""
    path = write_csv("batch_id,arm_id,budget,state,model,model_arm\n"
                     "a,x,1,0,health.npz,0\n"
                     "b,y,1,1,health.npz,1\n"
                     "b,z,1,0,health.npz,2\n")
    a, b = read_batches(path)
    out = path.parent / "next.csv"
    with pytest.warns(rmab.RmabWarning) as caught:
        assert write_beliefs([a, b], {}, out) == 0
    (w,) = caught
    assert w.filename == __file__
    assert str(w.message) == (
        "write_beliefs.beliefs: should give every batch's new beliefs; got none for 'a' "
        "(1 arm), 'b' (2 arms): their rows are copied as they were (give beliefs[batch_id], "
        "or leave the batch out of batches to copy it on purpose)")
    assert out.read_text(encoding="utf-8").splitlines() == [
        "batch_id,arm_id,budget,state,model,model_arm,belief", "a,x,1,0,health.npz,0,",
        "b,y,1,1,health.npz,1,", "b,z,1,0,health.npz,2,"]
    out.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # none: b left out of batches on purpose
        assert write_beliefs([a], {"a": [[0.5, 0.5]]}, out) == 1
    assert out.read_text(encoding="utf-8").splitlines()[1:] == [
        "a,x,1,,health.npz,0,0.5;0.5", "b,y,1,1,health.npz,1,", "b,z,1,0,health.npz,2,"]
    out.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # made an error: nothing written
        with pytest.raises(rmab.RmabWarning, match="got none for 'b' "):
            write_beliefs([a, b], {"a": [[0.5, 0.5]]}, out)
    assert not out.exists()


@pytest.mark.parametrize("beliefs, match", [
    ({"nope": [[0.5, 0.5]]}, r"^write_beliefs\.beliefs: 'nope' is not a batch of batches"),
    ({"a": [[0.5, 0.5]]}, r"^write_beliefs\.beliefs\['a'\]: must have shape \(n_arms=2, "
                          r"n_states=2\); got \(1, 2\)$"),
    ({"a": [[0.5, 0.6], [1.0, 0.0]]}, r"^write_beliefs\.beliefs\['a'\]: rows must sum to 1"),
    ([[0.5, 0.5]], r"^write_beliefs\.beliefs: must be a mapping batch_id -> beliefs"),
])
def test_bad_beliefs_are_named(write_csv, beliefs, match):
    path = write_csv("batch_id,arm_id,budget,state,model,model_arm\n"
                     "a,x,1,0,health.npz,0\na,z,1,1,health.npz,2\n")
    with pytest.raises(InvalidParameterError, match=match):
        write_beliefs(read_batches(path), beliefs, path.parent / "next.csv")
    assert not (path.parent / "next.csv").exists()


def test_the_output_must_not_replace_the_file_read_nor_follow_a_changed_file(write_csv):
    path = write_csv("batch_id,arm_id,budget,state,model,model_arm\n"
                     "a,x,1,0,health.npz,0\na,z,1,1,health.npz,2\n")
    batches = read_batches(path)
    with pytest.raises(OutputError, match=r"must not be an input of this run"):
        write_beliefs(batches, {"a": [[1.0, 0.0]] * 2}, path)
    with pytest.raises(InvalidParameterError, match=r"^write_beliefs\.out: must be a path "
                                                    r"ending in \.csv"):
        write_beliefs(batches, {"a": [[1.0, 0.0]] * 2}, path.parent / "next.txt")
    write_csv("batch_id,arm_id,budget,state,model,model_arm\n"
              "a,x,1,0,health.npz,0\na,w,1,1,health.npz,2\n")           # edited since
    with pytest.raises(BatchInputError, match=r"the file changed since it was read: line 3 "
                                              r"was batch 'a', arm 'z'"):
        write_beliefs(batches, {"a": [[1.0, 0.0]] * 2}, path.parent / "next.csv")
    assert not (path.parent / "next.csv").exists()


def test_batches_built_by_hand_are_refused(health):
    batch = rmab.Batch("a", [f"p{i}" for i in range(health.n_arms)], health)
    with pytest.raises(InvalidParameterError, match=r"^write_beliefs\.batches: must all be read "
                                                    r"from one CSV file"):
        write_beliefs([batch], {}, "next.csv")


def test_a_file_written_to_another_folder_still_finds_its_models(write_csv):
    """The model column is relative to the CSV's folder: copied as it was, next week's file
    in weeks/ named weeks/health.npz, which is not there (written, then unreadable)."""
    path = write_csv("batch_id,arm_id,budget,state,model,model_arm\n"
                     "a,x,1,0,health.npz,0\na,z,1,1,./health.npz,2\n")
    out = path.parent / "weeks" / "next.csv"
    assert write_beliefs(read_batches(path), {"a": [[0.25, 0.75], [1.0, 0.0]]}, out) == 2
    assert [r.split(",")[4] for r in out.read_text().splitlines()[1:]] == \
        ["../health.npz", "../health.npz"]
    np.testing.assert_array_equal(read_batches(out)[0].belief, [[0.25, 0.75], [1.0, 0.0]])
    back = path.parent / "again.csv"                                  # and back: health.npz
    assert write_beliefs(read_batches(out), {"a": [[0.5, 0.5], [0.5, 0.5]]}, back) == 2
    assert [r.split(",")[4] for r in back.read_text().splitlines()[1:]] == ["health.npz"] * 2


def test_a_path_for_the_batches_is_named_as_text(write_csv):
    with pytest.raises(InvalidParameterError, match=r"^write_beliefs\.batches: must be a "
                                                    r"sequence of Batch \(read_batches\(path\)\)"
                                                    r"; got str$"):
        write_beliefs(str(write_csv("batch_id\n")), {}, "next.csv")


def test_integer_batch_ids_a_late_header_and_a_shortened_file(write_csv):
    """Mutations of a review: beliefs keyed by an int batch id, blank lines before the header,
    and rows lost since the file was read were untested."""
    path = write_csv("\n\nbatch_id,arm_id,budget,state,model,model_arm\n"
                     "7,x,1,0,health.npz,0\n7,z,1,1,health.npz,2\n")
    batches = read_batches(path)
    out = path.parent / "next.csv"
    assert write_beliefs(batches, {7: [[0.25, 0.75], [1.0, 0.0]]}, out) == 2
    np.testing.assert_array_equal(read_batches(out)[0].belief, [[0.25, 0.75], [1.0, 0.0]])
    write_csv("\n\nbatch_id,arm_id,budget,state,model,model_arm\n7,x,1,0,health.npz,0\n")
    out.unlink()
    with pytest.raises(BatchInputError, match=r"the file changed since it was read: 1 arm row "
                                              r"not found$"):
        write_beliefs(batches, {7: [[0.25, 0.75], [1.0, 0.0]]}, out)
    assert not out.exists()
