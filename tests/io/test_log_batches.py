"""A log of several programmes: its batch_id and budget columns reach ``rmab estimate --batch``
and, through the batch file it writes, ``rmab solve``."""

import csv
import warnings

import numpy as np
import pytest

from rmab.cli import main
from rmab.errors import BatchInputError, InvalidParameterError
from rmab.io import read_batches
from rmab.io.logs import read_signal_log, read_transition_log
from rmab.models import load_instance

# two programmes, rows shuffled across weeks and batches; by hand, each arm's last next_state
# (week 2): p1 1, p2 1, p3 0, s1 0, s2 1
LOG = """week,batch_id,arm_id,budget,state,action,next_state
2,south,s2,1,1,1,1
1,north,p1,2,0,1,1
1,south,s1,1,1,1,1
2,north,p3,2,0,0,0
1,north,p2,2,1,0,0
2,south,s1,1,1,0,0
1,north,p3,2,0,0,0
2,north,p1,2,1,0,1
1,south,s2,1,0,0,1
2,north,p2,2,0,1,1
"""


def _estimate(tmp_path, text, *flags):
    path = tmp_path / "log.csv"
    path.write_text(text)
    return main(["estimate", str(path), "--rewards", "0;1", "--costs", "0;1", "--order-by",
                 "week", "-o", str(tmp_path / "arms.npz"), *flags])


def test_estimate_keeps_each_arm_s_batch_and_each_batch_s_budget(tmp_path, capsys):
    """The batch file held one batch 'next' at 10 % of all arms (budget 1 for the two
    programmes' 2 + 1), so that the next solve spent one call where three were paid for."""
    week = tmp_path / "week.csv"
    assert _estimate(tmp_path, LOG, "--batch", str(week)) == 0
    with open(week, newline="") as fh:
        rows = [(r["batch_id"], r["arm_id"], r["budget"], r["state"]) for r in csv.DictReader(fh)]
    # arms in order of first appearance in time (week 1: p1, s1, p2, p3, s2)
    assert rows == [("north", "p1", "2", "1"), ("south", "s1", "1", "0"),
                    ("north", "p2", "2", "1"), ("north", "p3", "2", "0"),
                    ("south", "s2", "1", "1")]
    assert load_instance(tmp_path / "arms.npz").budget == 3.0       # both batches' arms: 2 + 1
    # each batch's arms counted (it said '5 arms each', read as 5 a batch)
    assert ("2 batches of the log's batch_id column: 'north' 3 arms, budget 2; 'south' 2 "
            "arms, budget 1; each arm in its last logged state") in capsys.readouterr().err
    north, south = read_batches(week)                    # the round trip: rmab solve reads it
    assert (north.batch_id, north.arm_ids.tolist(), north.instance.budget) == (
        "north", ["p1", "p2", "p3"], 2.0)
    assert (south.batch_id, south.arm_ids.tolist(), south.instance.budget) == (
        "south", ["s1", "s2"], 1.0)
    np.testing.assert_array_equal(north.belief, np.eye(2)[[1, 1, 0]])
    np.testing.assert_array_equal(south.belief, np.eye(2)[[0, 1]])
    out = tmp_path / "actions.csv"
    assert main(["solve", str(week), "--planner", "myopic", "--out", str(out)]) == 0
    with open(out, newline="") as fh:
        spent = {}
        for r in csv.DictReader(fh):
            spent[r["batch_id"]] = spent.get(r["batch_id"], 0.0) + float(r["cost"])
    assert set(spent) == {"north", "south"} and spent["north"] <= 2 and spent["south"] <= 1


def test_a_log_s_arm_ids_and_batches_are_read_only_arrays_a_mask_selects(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    signals = tmp_path / "signals.csv"
    signals.write_text("arm_id,action,signal,batch_id\na,1,1,x\nb,0,,y\nc,1,0,x\n")
    # by hand: the arms in order of first appearance (in week order: p1 s1 p2 p3 s2; in the
    # file's: s2 p1 s1 p3 p2), those of north (x), and those with an action > 0 on a row
    for log, north, acted in (
            (read_transition_log(path, order_by="week"), ["p1", "p2", "p3"],
             ["p1", "s1", "p2", "s2"]),
            (read_transition_log(path), ["p1", "p3", "p2"], ["s2", "p1", "s1", "p2"]),
            (read_signal_log(signals), ["a", "c"], ["a", "c"])):
        for ids in (log.arm_ids, log.arm_batches):
            assert isinstance(ids, np.ndarray) and ids.dtype == object and ids.ndim == 1
            assert all(type(i) is str for i in ids)          # shown as 'p1' in messages
            with pytest.raises(ValueError):
                ids[0] = "x"                                 # read-only
        in_north = np.isin(log.arm_batches, ["north", "x"])
        assert log.arm_ids[in_north].tolist() == north
        assert log.arm_ids[np.unique(log.arm_index[log.actions > 0])].tolist() == acted
    assert read_transition_log(path).reversed().arm_ids.flags.writeable is False


def test_the_python_readers_give_the_batch_columns_under_the_names_given(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG.replace("batch_id", "programme").replace(",budget,", ",calls,", 1))
    log = read_transition_log(path, columns={"batch_id": "programme", "budget": "calls"},
                              order_by="week")
    assert log.arm_ids.tolist() == ["p1", "s1", "p2", "p3", "s2"]
    assert log.arm_batches.tolist() == ["north", "south", "north", "north", "south"]
    np.testing.assert_array_equal(log.arm_budgets, [2, 1, 2, 2, 1])
    signals = tmp_path / "signals.csv"
    signals.write_text("arm_id,action,signal,budget,batch_id\na,1,1,3,x\nb,0,,1.5,y\n"
                       "a,0,,3.0,x\n")
    log = read_signal_log(signals)
    assert log.arm_batches.tolist() == ["x", "y"]
    np.testing.assert_array_equal(log.arm_budgets, [3.0, 1.5])
    plain = read_transition_log(tmp_path / "log.csv", order_by="week")   # no such columns
    assert plain.arm_batches is None and plain.arm_budgets is None


def test_a_budget_column_without_batches_is_the_one_batch_s(tmp_path):
    rows = [row.split(",") for row in LOG.splitlines()]
    text = "".join(",".join([r[0], r[2], "budget" if k == 0 else "2", *r[4:]]) + "\n"
                   for k, r in enumerate(rows))                # no batch_id; every budget 2
    week = tmp_path / "week.csv"
    assert _estimate(tmp_path, text, "--batch", str(week)) == 0
    (batch,) = read_batches(week)
    assert (batch.batch_id, batch.instance.budget, batch.n_arms) == ("next", 2.0, 5)


def test_batches_without_budgets_take_10_percent_of_their_own_arms(tmp_path):
    rows = [f"1,{'a' if k < 15 else 'b'},x{k},0,1,1" for k in range(20)]
    week = tmp_path / "week.csv"
    assert _estimate(tmp_path, "week,batch_id,arm_id,state,action,next_state\n" +
                     "\n".join(rows) + "\n", "--batch", str(week)) == 0
    a, b = read_batches(week)
    assert (a.n_arms, a.instance.budget, b.n_arms, b.instance.budget) == (15, 2.0, 5, 1.0)
    assert _estimate(tmp_path, "week,batch_id,arm_id,state,action,next_state\n" +
                     "\n".join(rows) + "\n", "--batch", str(week), "--budget", "4") == 0
    assert [x.instance.budget for x in read_batches(week)] == [4.0, 4.0]
    assert load_instance(tmp_path / "arms.npz").budget == 8.0


@pytest.mark.parametrize("old, new, line, column, match", [
    # south's budget is 1 on lines 2, 7 and 10, 3 on line 4: named against line 2
    ("1,south,s1,1,", "1,south,s1,3,", 4, "budget",
     r"log\.budget: must be the same on every row of batch 'south'; got 3 here and 1 on line "
     r"2: a batch has one budget"),
    ("2,north,p1,2,", "2,north,p1,5,", 9, "budget", r"got 5 here and 2 on line 3"),
    ("1,south,s1,1,", "1,south,s1,,", 4, "budget", r"log\.budget: must be a number >= 0; got "
                                                   r"an empty cell$"),
    ("1,south,s1,1,", "1,south,s1,-1,", 4, "budget", r"must be a number >= 0; got '-1'$"),
    ("2,north,p2,2,", "2,south,p2,1,", 11, "batch_id",
     r"log\.batch_id: must be the same on every row of arm 'p2'; got 'south' here and "
     r"'north' on line 6 \(one id in two programmes\? make the ids unique, such as "
     r"'south-p2'\)$"),
])
def test_a_batch_or_budget_that_differs_is_named_by_its_lines(tmp_path, old, new, line, column,
                                                               match):
    assert LOG.count("\n" + old) == 1
    path = tmp_path / "log.csv"
    path.write_text(LOG.replace("\n" + old, "\n" + new))
    with pytest.raises(BatchInputError, match=match) as info:
        read_transition_log(path, order_by="week")
    assert (info.value.line, info.value.column) == (line, column)


def test_a_budget_differing_on_many_rows_lists_them(tmp_path):
    """Named against the most common budget, 3 (first on line 4), as a batch file's is."""
    path = tmp_path / "log.csv"
    path.write_text("week,arm_id,budget,state,action,next_state\n" +
                    "".join(f"{k},a,{2 if k in (0, 1, 5) else 3},0,0,0\n" for k in range(8)))
    with pytest.raises(BatchInputError, match=r"must be the same on every row of the log \(one "
                                               r"batch: it has no batch_id column\); got 2 here "
                                               r"and 3 on line 4; 2 more rows differ \(line 3, "
                                               r"7\)") as info:
        read_transition_log(path)
    assert info.value.line == 2


@pytest.mark.parametrize("flags, match", [
    (["--budget", "3"], r"^estimate\.budget: not with the log's budget column 'budget', which "
                        r"gives each batch's budget; got 3$"),
    (["--batch", "w.csv", "--batch-id", "x"], r"^estimate\.batch_id: not with the log's "
                                              r"batch_id column 'batch_id'"),
])
def test_a_flag_the_log_s_columns_give_is_refused(tmp_path, flags, match):
    """Before the fit: no warning of the estimate (a transition no record shows) ahead of the
    refusal, nor a fit (EM's, minutes with --hidden) for nothing."""
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    with pytest.raises(InvalidParameterError, match=match), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main(["--debug", "estimate", str(path), "--rewards", "0;1", "-o",
              str(tmp_path / "arms.npz"), *[str(tmp_path / f) if f.endswith(".csv") else f
                                            for f in flags]])
    assert not caught, [str(w.message) for w in caught]
    assert not (tmp_path / "arms.npz").exists() and not (tmp_path / "w.csv").exists()


def test_a_signal_log_s_batches_reach_the_batch_of_beliefs(tmp_path):
    path, week = tmp_path / "signals.csv", tmp_path / "week.csv"
    path.write_text("week,programme,arm_id,calls,action,signal\n1,north,p1,2,1,1\n"
                    "1,south,s1,1,1,0\n1,north,p2,2,0,\n2,north,p1,2,0,\n2,south,s1,1,1,1\n"
                    "2,north,p2,2,1,0\n")
    assert main(["estimate", str(path), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                 "--columns", "batch_id=programme;budget=calls", "--order-by", "week", "-o",
                 str(tmp_path / "arms.npz"), "--batch", str(week)]) == 0
    north, south = read_batches(week)
    assert (north.arm_ids.tolist(), north.instance.budget, south.arm_ids.tolist(),
            south.instance.budget) == (["p1", "p2"], 2.0, ["s1"], 1.0)


def _log(tmp_path, text: str, **kwargs):
    path = tmp_path / "log.csv"
    path.write_text(text)
    return read_transition_log(path, **kwargs)


def test_a_budget_tie_is_named_against_the_earliest_budget(tmp_path):
    """Budget 2 on lines 2 and 3, 3 on lines 4 and 5: as common, the earlier one is the
    batch's, and the first row of the other is the one named."""
    text = "arm_id,budget,state,action,next_state\n" + "".join(
        f"a{k},{b},0,0,0\n" for k, b in enumerate((2, 2, 3, 3)))
    with pytest.raises(BatchInputError, match=r"got 3 here and 2 on line 2; 1 more row "
                                               r"differs \(line 5\)") as info:
        _log(tmp_path, text)
    assert info.value.line == 4


def test_six_rows_differing_are_all_listed_without_an_ellipsis(tmp_path):
    """Budget 3 on 7 rows (lines 2-8), 2 on the 6 after: the first of those named, the other
    5 listed in full; a seventh differing row is the first one left to '...'."""
    head = "arm_id,budget,state,action,next_state\n"
    rows = [f"a{k},{3 if k < 7 else 2},0,0,0\n" for k in range(13)]
    with pytest.raises(BatchInputError, match=r"got 2 here and 3 on line 2; 5 more rows differ "
                                               r"\(line 10, 11, 12, 13, 14\): a batch") as info:
        _log(tmp_path, head + "".join(rows))
    assert info.value.line == 9
    rows = [f"a{k},{3 if k < 8 else 2},0,0,0\n" for k in range(15)]
    with pytest.raises(BatchInputError, match=r"6 more rows differ \(line 11, 12, 13, 14, 15, "
                                               r"\.\.\.\): a batch"):
        _log(tmp_path, head + "".join(rows))


@pytest.mark.parametrize("cell", ["inf", "nan", "-inf", "1e999"])
def test_a_budget_that_is_not_finite_is_refused(tmp_path, cell):
    with pytest.raises(BatchInputError, match=rf"log\.budget: must be a number >= 0; got "
                                               rf"'{cell}'$") as info:
        _log(tmp_path, f"arm_id,budget,state,action,next_state\na,1,0,0,0\nb,{cell},0,0,0\n")
    assert (info.value.line, info.value.column) == (3, "budget")


def test_a_budget_of_0_is_a_batch_s_budget(tmp_path):
    log = _log(tmp_path, LOG.replace(",south,s2,1,", ",south,s2,0,").replace(
        ",south,s1,1,", ",south,s1,0,"), order_by="week")
    assert log.arm_batches.tolist() == ["north", "south", "north", "north", "south"]
    np.testing.assert_array_equal(log.arm_budgets, [2.0, 0.0, 2.0, 2.0, 0.0])


def test_a_bad_budget_cell_is_named_by_its_own_line(tmp_path):
    """p3's budget on line 8 (the 7th record) is not a number; lines 2-7 are fine."""
    text = LOG.replace("\n1,north,p3,2,", "\n1,north,p3,two,")
    with pytest.raises(BatchInputError, match=r"must be a number >= 0; got 'two'") as info:
        _log(tmp_path, text, order_by="week")
    assert (info.value.line, info.value.column) == (8, "budget")


def test_the_reversed_log_keeps_each_arm_s_batch_and_budget(tmp_path):
    back = _log(tmp_path, LOG, order_by="week").reversed()
    assert back.arm_batches.tolist() == ["north", "south", "north", "north", "south"]
    np.testing.assert_array_equal(back.arm_budgets, [2.0, 1.0, 2.0, 2.0, 1.0])
