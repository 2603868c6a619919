"""Count limits in CSV batches: the action_caps, min_active and max_active columns."""

import numpy as np
import pytest

from rmab.errors import BatchInputError
from rmab.io import read_batches, read_batches_keep_going, solve_batches

H = "batch_id,arm_id,budget,state,model,model_arm,action_caps,min_active,max_active\n"


def _rows(batch, budget, n, caps="", low="", high="", first=0):
    return "".join(f"{batch},a{i},{budget},{i % 2},health.npz,{first + i},"
                   f"{caps if i == 0 else ''},{low},{high}\n" for i in range(n))


def test_limits_are_read_and_every_planner_answer_respects_them(write_csv):
    text = H + _rows("k", 6, 6, caps="inf;inf;1", low=3, high=3) + _rows("free", 2, 4, first=10)
    path = write_csv(text)
    k, free = read_batches(path)
    assert k.instance.action_caps.tolist() == [np.inf, np.inf, 1.0]
    assert (k.instance.min_active, k.instance.max_active) == (3, 3)
    assert free.instance.action_caps is None and not free.instance.count_limited
    for planner in ("myopic", "whittle", "random", "round-robin", "lagrangian"):
        result = solve_batches(path, planner)
        out = {o.batch_id: o.actions for o in result.outcomes}
        assert (out["k"] > 0).sum() == 3 and (out["k"] == 2).sum() <= 1, planner


@pytest.mark.parametrize("cells,line,column,message", [
    (dict(caps="inf;2"), 2, "action_caps", r"action_caps: must have 3 numbers separated by ';'"),
    (dict(caps="inf;nan;1"), 2, "action_caps", r"action_caps: must be numbers or inf"),
    (dict(caps="inf;x;1"), 2, "action_caps", r"action_caps: must be numbers separated by ';'"),
    (dict(caps="2;2;2"), 2, "action_caps", r"action_caps: entry 0 \(passive\) must be inf; "
                                           r"got 2 \(use min_active"),
    (dict(caps="inf;-1;inf"), 2, "action_caps", r"action_caps: must be non-negative integers "
                                                r"or inf; got -1 for action 1"),
    (dict(caps="inf;2.5;inf"), 2, "action_caps", r"must be non-negative integers or inf; got "
                                                 r"2\.5 for action 1"),
    (dict(low="1.5"), 2, "min_active", r"min_active: must be an integer; got '1\.5'"),
    (dict(low="-1"), 2, "min_active", r"min_active: must be >= 0; got -1$"),
    (dict(low="3", high="2"), 2, None,
     r"Instance\.max_active: must be >= min_active \(3\); got 2 "),
    (dict(low="3"), 2, None, r"Instance\.min_active: the cheapest 3 active arms must fit the "
                             r"budget 2; they cost 3"),
])
def test_bad_limits_name_the_line_and_column(write_csv, cells, line, column, message):
    path = write_csv(H + _rows("b", 2, 3, **cells))
    with pytest.raises(BatchInputError, match=message) as info:
        read_batches(path)
    assert info.value.line == line and info.value.column == column


def test_rows_of_a_batch_must_agree_and_a_bad_batch_spares_the_others(write_csv):
    text = H + "b,a0,6,0,health.npz,0,inf;1;1,2,\nb,a1,6,0,health.npz,1,inf;2;1,2,\n" \
        + _rows("c", 2, 2, first=5)
    with pytest.raises(BatchInputError, match=r"action_caps: must be the same on every row of "
                                              r"batch 'b'; got \[inf, 2\.0, 1\.0\] here") as info:
        read_batches(write_csv(text))
    assert info.value.line == 3
    batches, failures = read_batches_keep_going(write_csv(text, "k.csv"))
    assert [b.batch_id for b in batches] == ["c"] and failures[0].line == 3
    differ = H + "b,a0,6,0,health.npz,0,,2,\nb,a1,6,0,health.npz,1,,3,\n"
    with pytest.raises(BatchInputError, match="min_active: must be the same on every row"):
        read_batches(write_csv(differ, "d.csv"))


def test_integer_limits_read_as_integers_in_messages(write_csv):
    differ = H + "b,a0,6,0,health.npz,0,,2,\nb,a1,6,0,health.npz,1,,3,\n"
    with pytest.raises(BatchInputError, match=r"min_active: must be the same on every row of "
                                              r"batch 'b'; got 3 here and 2 on line 2"):
        read_batches(write_csv(differ))
