"""Inline model cells read a column at a time (session 52): the same batches and errors as
reading them cell by cell, which the reader falls back to for a bad cell."""

import json
from unittest import mock

import numpy as np
import pytest

from rmab.io import read_batches, read_batches_keep_going
from rmab.io import reader

HEADER = "batch_id,arm_id,budget,state,transitions,observations,rewards\n"


def cell_by_cell(path, **kwargs):
    """``read_batches_keep_going`` with every inline cell read alone (the reader before)."""
    with mock.patch.object(reader._FileReader, "_read_inline", lambda self, keys: None):
        return read_batches_keep_going(path, **kwargs)


def quoted(value) -> str:
    return '"' + value.replace('"', '""') + '"'


BAD_CELLS = [  # (column, text) put in place of a row's cell
    ("transitions", "[[[1.1,-0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),       # negative
    ("transitions", "[[[0.6,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),        # sums to 1.1
    ("transitions", "[[[0.3333,0.6666],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),  # rescaled
    ("transitions", "[[[-1e-13,1.0],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),     # rounding, taken
    ("transitions", "[[[-1e-13,0.99995],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),  # not rescaled
    ("transitions", "[[[NaN,1.0],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),
    ("transitions", "[[[1e400,0],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),
    ("transitions", "[[[1e308,1e308],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),   # sum overflows
    ("transitions", "[[[Infinity,-Infinity],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),
    ("transitions", "[[[true,0],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"),
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]"),         # unbalanced
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9,0]]]"),      # ragged
    ("transitions", "[[0.5,0.5],[0.3,0.7]]"),                                # 2 dimensions
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[.5,0.5],[0.1,0.9]]]"),         # not JSON
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[+0.5,0.5],[0.1,0.9]]]"),
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[05,0.5],[0.1,0.9]]]"),
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5 0.5],[0.1,0.9]]]"),
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5,,0.5],[0.1,0.9]]]"),
    ("transitions", '[[[0.5,0.5],[0.3,0.7]],[["0.5",0.5],[0.1,0.9]]]'),
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]],]"),
    ("transitions", "[[[1,0],[0,1]]]"),                                      # one action
    ("transitions", "[[[1,0,0],[0,1,0],[0,0,1]],[[1,0,0],[0,1,0],[0,0,1]]]"),  # 3 states
    ("transitions", "[ [ [0.5 , 0.5],\n[0.3,0.7]] , [[0.5,0.5],[0.1,0.9]]]"),  # blanks: fine
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,9e-1]]]"),       # fine
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9\x1f]]]"),
    ("transitions", "[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]\x1e"),
    ("transitions", "5"),
    ("transitions", ""),
    ("observations", "[[[0.8,0.2],[0.2,0.8]],[[0.9,0.1]]]"),
    ("observations", "[[[0.8,0.2],[0.2,0.8]],[[0.9,0.1],[0.1,0.8]]]"),
    ("observations", "[[[0.8,0.2,0],[0.2,0.8,0]],[[0.9,0.1,0],[0.1,0.9,0]]]"),  # 3 signals
    ("observations", ""),                                                    # fully observed
    ("rewards", "[0,1,2]"),
    ("rewards", "[[0,1],[1,2]]"),
    ("rewards", "[0,Infinity]"),
    ("rewards", ""),
    ("rewards", "[[0,1]]"),
    ("rewards", "[-3.5e2,1E+2]"),
]


def write_file(path, rng, n_rows: int, n_bad: int, n_batches: int = 3) -> None:
    t = rng.dirichlet(np.ones(2), size=(n_rows, 2, 2))
    t[::4] = t[::4].round(4)                    # rows rescaled by the reader, some of them
    o = rng.dirichlet(np.ones(2), size=(n_rows, 2, 2))
    r = rng.normal(size=(n_rows, 2)).round(rng.integers(0, 6))
    cells = [[json.dumps(t[k].tolist(), separators=(",", ":")),
              json.dumps(o[k].tolist()) if k % 3 else "",               # blanks: json's own
              json.dumps(r[k].tolist(), separators=(",", ":"))] for k in range(n_rows)]
    for k in rng.integers(1, n_rows, size=rng.integers(0, 4)):
        cells[k] = cells[int(rng.integers(0, k))]                        # shared cells
    columns = ("transitions", "observations", "rewards")
    for k in rng.choice(n_rows, size=n_bad, replace=False):
        column, text = BAD_CELLS[int(rng.integers(len(BAD_CELLS)))]
        cells[k][columns.index(column)] = text
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for k in range(n_rows):
            fh.write(f"b{k % n_batches},a{k},1,{k % 2},"
                     + ",".join(map(quoted, cells[k])) + "\n")


def outcome(result):
    batches, failures = result
    arrays = [(b.batch_id, b.arm_ids.tolist(), b.lines.tolist(), b.belief,
               b.instance.arms.transitions, b.instance.arms.observations,
               b.instance.arms.rewards, b.instance.arms.costs) for b in batches]
    return arrays, [(str(f), f.line, f.column, f.batch_id) for f in failures]


def assert_same(got, want):
    (arrays, failures), (ref_arrays, ref_failures) = got, want
    assert failures == ref_failures
    assert len(arrays) == len(ref_arrays)
    for one, ref in zip(arrays, ref_arrays):
        assert one[:3] == ref[:3]
        for a, b in zip(one[3:], ref[3:]):
            assert a.dtype == b.dtype and np.array_equal(a, b)     # bit for bit


@pytest.mark.filterwarnings("error")      # a float warning is a batch's error: the same one
@pytest.mark.parametrize("seed", range(40))
def test_the_same_batches_and_errors_as_cell_by_cell(tmp_path, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "b.csv"
    n_rows = int(rng.integers(2, 60))
    write_file(path, rng, n_rows, n_bad=int(rng.integers(1, min(n_rows, 6) + 1)),
               n_batches=int(rng.integers(1, 4)))
    for every_row in (False, True):
        assert_same(outcome(read_batches_keep_going(path, every_row=every_row)),
                    outcome(cell_by_cell(path, every_row=every_row)))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("column,text", BAD_CELLS)
def test_each_bad_cell_is_reported_as_cell_by_cell_with_its_line(tmp_path, column, text):
    """One odd cell on line 40 of 60 rows of one batch (all others valid)."""
    rng = np.random.default_rng(7)
    path = tmp_path / "b.csv"
    write_file(path, rng, 60, n_bad=0, n_batches=1)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    t = '"[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"'
    cells = {"transitions": t, "observations": "", "rewards": '"[0,1]"'}
    cells[column] = quoted(text)
    lines[39] = "b0,odd,1,0," + ",".join(cells.values()) + "\n"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    got = outcome(read_batches_keep_going(path, every_row=True))
    assert_same(got, outcome(cell_by_cell(path, every_row=True)))
    for message, line, col, _ in got[1]:
        if "1e308" in text:          # the sum overflows: a warning, the batch's error here
            assert (line, col) == (2, None) and "RuntimeWarning raised as an error" in message
            continue
        assert line == 40 and col in ("transitions", "observations", "rewards")
        assert message.startswith(f"{path}, line 40, column {col!r}")


def test_a_column_of_distinct_arms_is_not_read_cell_by_cell(tmp_path):
    """2 000 distinct inline arms, partially and fully observed, with rewards of both
    shapes: no cell is read alone (its JSON parsed, its one-arm stack checked: 17 s of the
    25 s of 100 000 arms), and each arm holds the numbers written (numpy's)."""
    rng = np.random.default_rng(3)
    n = 2000
    t = rng.dirichlet(np.ones(3), size=(n, 2, 3))
    o = rng.dirichlet(np.ones(3), size=(n, 2, 3))
    r = rng.normal(size=(n, 3, 2))
    path = tmp_path / "b.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for k in range(n):
            rewards = r[k] if k % 2 else r[k, :, 0]
            fh.write(f"b,a{k},1,0,{quoted(json.dumps(t[k].tolist()))},"
                     f"{quoted(json.dumps(o[k].tolist()))},{quoted(json.dumps(rewards.tolist()))}"
                     "\n")
    with mock.patch.object(reader, "_parse_inline", side_effect=AssertionError("read alone")):
        (batch,) = read_batches(path)
    arms = batch.instance.arms
    assert np.array_equal(arms.transitions, t) and np.array_equal(arms.observations, o)
    want = np.where(np.arange(n)[:, None, None] % 2, r, r[:, :, :1])
    assert np.array_equal(arms.rewards, want)
    assert np.array_equal(arms.costs, np.tile([0.0, 1.0], (n, 1)))


T = "[[[0.5,0.5],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"


def _rows(path, cells: list[str]) -> None:
    """One batch of fully observed arms, a row per transitions cell (rewards [0,1])."""
    path.write_text("batch_id,arm_id,budget,state,transitions,rewards\n" + "".join(
        f"b,a{k},1,0,{quoted(t)},\"[0,1]\"\n" for k, t in enumerate(cells)), encoding="utf-8")


def test_a_record_separator_inside_a_cell_leaves_the_later_rows_their_own_cells(tmp_path):
    """\\x1e (which the column read joins cells with) inside row 2's cell: that cell is refused
    as not JSON, and each later row is read from its own cell: row 4's negative entry is
    named on line 5, not on line 6 of the row after it."""
    cells = [json.dumps([[[p, 1 - p], [0.3, 0.7]], [[0.5, 0.5], [0.1, 0.9]]],
                        separators=(",", ":")) for p in (0.125, 0.25, 0.375, 0.5, 0.625, 0.75)]
    cells[1] = cells[1].replace("],[", "],\x1e[", 1)           # distinct cells, each its key
    cells[3] = "[[[1.1,-0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"
    path = tmp_path / "b.csv"
    _rows(path, cells)
    batches, failures = read_batches_keep_going(path, every_row=True)
    assert not batches
    assert [(f.line, f.column) for f in failures] == [(3, "transitions"), (5, "transitions")]
    assert "must be a JSON list" in str(failures[0])
    assert "must describe a valid arm" in str(failures[1])


@pytest.mark.filterwarnings("error")
def test_an_overflowing_cell_after_a_bad_one_leaves_the_bad_one_named(tmp_path):
    """Under -W error: row 2 (line 3) is negative, row 4's 1e308 + 1e308 overflows. Read
    cell by cell, line 3 is the batch's first error; the column read must not fail the batch
    on the overflow's warning first."""
    path = tmp_path / "b.csv"
    _rows(path, [T, "[[[1.1,-0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]", T,
                 "[[[1e308,1e308],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]", T])
    batches, failures = read_batches_keep_going(path)
    assert not batches and [(f.line, f.column) for f in failures] == [(3, "transitions")]
    assert "must describe a valid arm" in str(failures[0])


def test_a_column_of_fully_observed_arms_is_not_read_cell_by_cell(tmp_path):
    """Empty observations cells (fully observed arms) are read with the column too."""
    rng = np.random.default_rng(4)
    t = rng.dirichlet(np.ones(2), size=(50, 2, 2))
    path = tmp_path / "b.csv"
    path.write_text(HEADER + "".join(f"b,a{k},1,0,{quoted(json.dumps(t[k].tolist()))},,"
                                     f"\"[0,{k}]\"\n" for k in range(50)), encoding="utf-8")
    with mock.patch.object(reader, "_parse_inline", side_effect=AssertionError("read alone")):
        (batch,) = read_batches(path)
    assert batch.instance.arms.fully_observed
    np.testing.assert_array_equal(batch.instance.arms.transitions, t)
    np.testing.assert_array_equal(batch.instance.arms.rewards[:, 1, 0], np.arange(50.0))
