"""read_batches: contents checked against the model file, and every error with line/column."""

import json

import numpy as np
import pytest

from rmab._validation import comma_hint
from rmab.errors import BatchInputError, InvalidModelError, InvalidParameterError
from rmab.io import read_batches, read_batches_keep_going
from rmab.models import load_instance

H = "batch_id,arm_id,budget,state,belief,model,model_arm,costs\n"
INLINE_H = "batch_id,arm_id,budget,state,belief,transitions,observations,rewards,costs\n"
T2 = '"[[[0.9,0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"'
O2 = '"[[[0.8,0.2],[0.2,0.8]],[[0.9,0.1],[0.1,0.9]]]"'


def test_reads_model_arms_costs_and_beliefs(write_csv, health):
    path = write_csv(H + "b1,a,2,,0.25;0.75,health.npz,7,\n"
                         "b1,b,2,1,,health.npz,3,0;1;1\n"
                         "b2,c,0,0,,health.npz,99,\n")
    b1, b2 = read_batches(path)
    assert (b1.batch_id, b1.arm_ids.tolist(), b2.batch_id) == ("b1", ["a", "b"], "b2")
    assert b1.lines.tolist() == [2, 3] and b2.lines.tolist() == [4]
    ref = health.arms.select([7, 3])
    arms = b1.instance.arms
    np.testing.assert_array_equal(arms.transitions, ref.transitions)
    np.testing.assert_array_equal(arms.observations, ref.observations)
    np.testing.assert_array_equal(arms.rewards, ref.rewards)
    np.testing.assert_array_equal(arms.costs, [health.arms.costs[7], [0, 1, 1]])
    np.testing.assert_array_equal(b1.belief, [[0.25, 0.75], [0.0, 1.0]])
    assert b1.instance.budget == 2.0 and b1.instance.discount == 0.95
    assert b1.action_names == ("none", "call", "visit")
    assert b2.instance.budget == 0.0 and b2.belief.tolist() == [[1.0, 0.0]]


def test_inline_arms_fully_observed_and_partial(write_csv):
    path = write_csv(INLINE_H + f'm,x,1,0,,{T2},,"[0,1]",\n'
                                f'm,y,1,,0.5;0.5,{T2},,"[[0,0],[1,2]]",0;3\n'
                                f'p,z,1,,0.2;0.8,{T2},{O2},"[0,1]",\n')
    m, p = read_batches(path, discount=0.8)
    assert type(m.instance.arms).__name__ == "MDPArms" and m.instance.discount == 0.8
    np.testing.assert_array_equal(m.instance.arms.transitions[0],
                                  [[[0.9, 0.1], [0.3, 0.7]], [[0.5, 0.5], [0.1, 0.9]]])
    np.testing.assert_array_equal(m.instance.arms.rewards, [[[0, 0], [1, 1]], [[0, 0], [1, 2]]])
    np.testing.assert_array_equal(m.instance.arms.costs, [[0, 1], [0, 3]])
    assert m.action_names is None
    assert type(p.instance.arms).__name__ == "POMDPArms"
    np.testing.assert_array_equal(p.instance.arms.observations[0, 1], [[0.9, 0.1], [0.1, 0.9]])


def test_inline_integers_of_any_size_are_numbers(write_csv):
    """JSON's 10**30 became a Python int and the cell 'must be an array of numbers', where
    1e30 was taken (an input review)."""
    path = write_csv(INLINE_H + f'm,x,1,0,,{T2},,"[{10**30},1]",\n')
    (batch,) = read_batches(path)
    np.testing.assert_array_equal(batch.instance.arms.rewards[0, :, 0], [1e30, 1.0])


def test_fully_observed_arm_joins_partial_batch_with_identity_signal(write_csv):
    path = write_csv(INLINE_H + f'p,x,1,0,,{T2},,"[0,1]",\np,y,1,1,,{T2},{O2},"[0,1]",\n')
    (batch,) = read_batches(path)
    np.testing.assert_array_equal(batch.instance.arms.observations[0, 1], np.eye(2))


def test_blank_lines_quoted_newlines_bom_and_batch_order(write_csv):
    # a quoted cell spanning two physical lines: the next row starts on line 5
    text = ("\ufeff" + INLINE_H + "\n"
            + 'm,x,1,0,,"[[[0.9,0.1],[0.3,0.7]],\n[[0.5,0.5],[0.1,0.9]]]",,"[0,1]",\n'
            + "n,y,1,0,,[[[1]]],,[0],\n" + ",,,,,,,,\n" + f'm,z,1,5,,{T2},,"[0,1]",\n')
    with pytest.raises(BatchInputError) as info:
        read_batches(write_csv(text))
    assert (info.value.line, info.value.column, info.value.batch_id) == (7, "state", "m")
    batches, failures = read_batches_keep_going(write_csv(text, "c.csv"))
    assert [b.batch_id for b in batches] == ["n"]
    assert [f.line for f in failures] == [7]


def test_relative_model_path_is_relative_to_the_csv_folder(folder):
    sub = folder / "batches"
    sub.mkdir()
    (sub / "b.csv").write_text(H + "b,a,1,0,,../health.npz,0,\n")
    (batch,) = read_batches(sub / "b.csv")
    assert batch.n_arms == 1


def test_model_file_loaded_once(write_csv, monkeypatch):
    import rmab.io.reader as reader
    calls = []
    real = reader.load_instance
    monkeypatch.setattr(reader, "load_instance", lambda p: calls.append(p) or real(p))
    rows = "".join(f"b{i},a,1,0,,health.npz,{i},\n" for i in range(5))
    assert len(read_batches(write_csv(H + rows))) == 5
    assert len(calls) == 1


def test_integers_written_as_floats_by_pandas_are_read(write_csv, folder):
    """pandas writes an integer column holding a gap as floats ("0.0")."""
    (batch,) = read_batches(write_csv(H + "b,a,1,1.0,,health.npz,3.00,\n"))
    np.testing.assert_array_equal(batch.belief, [[0.0, 1.0]])
    assert batch.instance.arms.transitions[0].tolist() == \
        load_instance(folder / "health.npz").arms.transitions[3].tolist()


def test_a_float_that_is_not_an_integer_is_still_refused(write_csv):
    with pytest.raises(BatchInputError, match="model_arm: must be an integer; got '3.5'"):
        read_batches(write_csv(H + "b,a,1,1,,health.npz,3.5,\n"))


def test_trailing_commas_of_spreadsheets_are_ignored(write_csv):
    """Excel and LibreOffice write a comma after the last column when a stray cell to the
    right was ever edited: 'column 9 must have a name' before."""
    rows = "b,a,1,0,,health.npz,0,,,\nb,c,1,1,,health.npz,1,\n"
    (batch,) = read_batches(write_csv(H.rstrip("\n") + ",,\n" + rows))
    assert batch.arm_ids.tolist() == ["a", "c"]
    with pytest.raises(BatchInputError, match="must have 8 fields like the header; got 9"):
        read_batches(write_csv(H + "b,a,1,0,,health.npz,0,,note\n"))
    # a comma too many (an unquoted "1,000") with an empty last cell, past the header's own
    # trailing commas: read before with budget 1 and the state "000"
    for header in (H, H.rstrip("\n") + ",\n"):
        with pytest.raises(BatchInputError, match="must have 8 fields like the header"):
            read_batches(write_csv(header + "b,a,1,000,0,,health.npz,0,,\n"))


@pytest.mark.parametrize("row, column", [("b,a\x00,1,0,,health.npz,0,", "arm_id"),
                                         ("b\x7f,a,1,0,,health.npz,0,", "batch_id")])
def test_ids_with_control_characters_are_refused(write_csv, row, column):
    """A NUL byte in an arm_id went through to the output CSV (Python's csv module no longer
    refuses it)."""
    with pytest.raises(BatchInputError, match=f"{column}: must not hold control characters"):
        read_batches(write_csv(H + row + "\n"))


def test_belief_within_tolerance_is_rescaled(write_csv):
    (batch,) = read_batches(write_csv(H + "b,a,1,,0.3;0.7000005,health.npz,0,\n"))
    assert batch.belief.sum() == pytest.approx(1.0, abs=1e-15)
    # rounded to 4 decimals (refused before: 1e-6), with spaces around ';'
    (batch,) = read_batches(write_csv(H + "b,a,1,,0.3333 ; 0.6666,health.npz,0,\n"))
    np.testing.assert_allclose(batch.belief[0], [1 / 3, 2 / 3], atol=1e-4)
    assert batch.belief.sum() == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(BatchInputError, match=r"belief: must sum to 1 \(within 0.0001 for 2 "
                                              r"entries rounded to 4 decimals\); got 0.999"):
        read_batches(write_csv(H + "b,a,1,,0.333;0.666,health.npz,0,\n"))
    with pytest.raises(BatchInputError, match=r"; got 0\.9$"):       # 0.8999999999999999
        read_batches(write_csv(H + "b,a,1,,0.3;0.6,health.npz,0,\n"))


def test_a_huge_belief_is_refused_without_numpy_warnings(write_csv):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")               # numpy's overflow warning leaked before
        with pytest.raises(BatchInputError, match="belief: must sum to 1.*got inf"):
            read_batches(write_csv(H + "b,a,1,,1e308;1e308,health.npz,0,\n"))


def test_inline_rows_rounded_to_four_decimals_are_rescaled(write_csv):
    third = "[" + ",".join(["[0.3333,0.3333,0.3333]"] * 3) + "]"
    text = INLINE_H + f'b,a,1,0,,"[{third},{third}]",,"[0,1,2]",\n'
    (batch,) = read_batches(write_csv(text))
    np.testing.assert_allclose(batch.instance.arms.transitions[0], 1 / 3, rtol=1e-12)
    off = "[" + ",".join(["[0.333,0.333,0.333]"] * 3) + "]"
    with pytest.raises(BatchInputError, match=r"rows must sum to 1 .*got 0\.999.* \(rows "
                                              r"rounded to 4 decimals are rescaled"):
        read_batches(write_csv(INLINE_H + f'b,a,1,0,,"[{off},{off}]",,"[0,1,2]",\n'))


GARBAGE_NPZ = "not a zip file"

# (text after the header H unless the text starts with '!', line, column, message pattern)
BAD = [
    ("!", 1, None, "empty file"),
    ("!" + H, 2, None, "at least one arm row"),
    ("!batch_id,arm_id,budjet,state,model,model_arm\nb,a,1,0,health.npz,0\n", 1, "budjet",
     "did you mean 'budget'"),
    ("!batch_id,Arm_ID,budget,state,model,model_arm\nb,a,1,0,health.npz,0\n", 1, "Arm_ID",
     r"got 'Arm_ID' \(did you mean 'arm_id'\?\)"),
    # every unknown name at once, each with its closest column
    ("!batch_id,arm_id,budjet,stat,model,model_arm,colour\nb,a,1,0,health.npz,0,red\n", 1,
     "budjet", r"got 'budjet' \(did you mean 'budget'\?\), 'stat' \(did you mean 'state'\?\), "
               r"'colour'$"),
    ("!batch_id;arm_id;budget;state;model;model_arm\nb;a;1;0;health.npz;0\n", 1,
     "batch_id;arm_id;budget;state;model;model_arm",
     "the header holds ';': fields must be separated by commas"),
    ("!batch_id,budget,state,model,model_arm\nb,1,0,health.npz,0\n", 1, "arm_id",
     "must have a 'arm_id' column"),
    ("!batch_id,arm_id,arm_id,budget,state,model,model_arm\n", 1, "arm_id", "unique"),
    ("!batch_id,arm_id,budget,model,model_arm\nb,a,1,health.npz,0\n", 1, "state",
     "'state' or a 'belief'"),
    ("!batch_id,arm_id,budget,state,model\nb,a,1,0,health.npz\n", 1, "model_arm",
     "needs a 'model_arm'"),
    ("!batch_id,arm_id,budget,state,,model,model_arm\n", 1, None, "must have a name; got an "
     r"empty name$"),
    # DataFrame.to_csv(path) writes its index first, without a name: 'pandas' was not said
    ("!,batch_id,arm_id,budget,state,model,model_arm\n0,b,a,1,0,health.npz,0\n", 1, None,
     r"column 1 must have a name; got an empty name \(a pandas index\? "
     r"DataFrame\.to_csv\(path, index=False\) leaves it out\)"),
    ("!Unnamed: 0,batch_id,arm_id,budget,state,model,model_arm\n0,b,a,1,0,health.npz,0\n", 1,
     "Unnamed: 0", r"got 'Unnamed: 0' \(pandas' name for a nameless column.*index=False"),
    ("b,a,1,0,,health.npz,0,\nb,c,1,0,,health.npz\n", 3, None, "8 fields"),
    ("b,a,ten,0,,health.npz,0,\n", 2, "budget", "must be a number; got 'ten'"),
    ("b,a,,0,,health.npz,0,\n", 2, "budget", "must be a number; got an empty cell$"),  # ''
    ("b,a,nan,0,,health.npz,0,\n", 2, "budget", "must be finite"),
    ("b,a,1_0,0,,health.npz,0,\n", 2, "budget", "must be a number; got '1_0'"),
    # spreadsheets in locales with a decimal comma (a walk-through): the hint says what to write
    ('b,a,"2,5",0,,health.npz,0,\n', 2, "budget",
     r"must be a number; got '2,5' \(a decimal comma\? write '2\.5'\)$"),
    ('b,a,"1,000",0,,health.npz,0,\n', 2, "budget",
     r"got '1,000' \(write '1000' for a thousands separator, '1\.000' for a decimal comma\)$"),
    # several groups, or a decimal point after them: a thousands separator only
    ('b,a,"1,000,000",0,,health.npz,0,\n', 2, "budget",
     r"got '1,000,000' \(a thousands separator\? write '1000000'\)$"),
    ('b,a,"-1,000.5",0,,health.npz,0,\n', 2, "budget",
     r"got '-1,000\.5' \(a thousands separator\? write '-1000\.5'\)$"),
    ('b,a,1,,"0,4;0,6",health.npz,0,\n', 2, "belief",
     r"numbers separated by ';'; got '0,4;0,6' \(a decimal comma\? write '0\.4;0\.6'\)$"),
    ('b,a,1,0,,health.npz,0,"0,1,2"\n', 2, "costs",
     r"3 numbers separated by ';'; got '0,1,2' \(',' between the numbers\? write '0;1;2'\)$"),
    ("b,a,1,\u0661,,health.npz,0,\n", 2, "state", "must be an integer"),   # Arabic-Indic 1
    ("b,a,1,,0.5;0_5,health.npz,0,\n", 2, "belief", "numbers separated by ';'"),
    ("b,a,-1,0,,health.npz,0,\n", 2, "budget", r"must be >= 0\.0; got -1\.0"),
    ("b,a,2,0,,health.npz,0,\nb,c,2,0,,health.npz,1,\nb,d,3,0,,health.npz,2,\n", 4, "budget",
     "same on every row of batch 'b'; got 3.0 here and 2.0 on line 2"),
    ("b,a,1,,0.5;0.4,health.npz,0,\n", 2, "belief", r"sum to 1.*got 0\.9$"),
    ("b,a,1,,40;60,health.npz,0,\n", 2, "belief", r"sum to 1.*got 100 \(percentages\? "
     r"divide by 100\)$"),
    ("b,a,1,,0.2;0.3;0.5,health.npz,0,\n", 2, "belief", "2 numbers separated by ';'"),
    ("b,a,1,,1.5;-0.5,health.npz,0,\n", 2, "belief", "must be >= 0"),
    ("b,a,1,,0.5;x,health.npz,0,\n", 2, "belief", "numbers separated by ';'; got '0.5;x'"),
    ("b,a,1,,0.5;inf,health.npz,0,\n", 2, "belief", "finite"),
    ("b,a,1,,1e308;1e308,health.npz,0,\n", 2, "belief", "sum to 1.*got inf"),
    ("!" + INLINE_H + 'b,a,1,0,,"[[[""0.9"",""0.1""],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]",,'
     '"[0,1]",\n', 2, "transitions", "must describe a valid arm"),     # numbers as JSON text
    ("b,a,1,2,,health.npz,0,\n", 2, "state", r"must be in \[0, 2\); got 2"),
    ("b,a,1,1.5,,health.npz,0,\n", 2, "state", "must be an integer; got '1.5'"),
    ("b,a,1,1,0.5;0.5,health.npz,0,\n", 2, "belief", "empty when 'state' is given"),
    ("b,a,1,,,health.npz,0,\n", 2, "state", "state or belief"),
    ("b,a,1,0,,missing.npz,0,\n", 2, "model", "existing file.*'missing.npz'"),
    ("b,a,1,0,,garbage.npz,0,\n", 2, "model", "written by rmab.models.save_instance"),
    ("b,a,1,0,,health.npz,100,\n", 2, "model_arm", r"must be in \[0, 100\).*got 100"),
    ("b,a,1,0,,health.npz,,\n", 2, "model_arm", "must be an integer; got ''"),
    ("b,a,1,0,,,0,\n", 2, "model", "must give the arm's model"),
    ("b,a,1,0,,health.npz,0,\nb,a,1,0,,health.npz,1,\n", 3, "arm_id",
     "unique within batch 'b'; got 'a' again \\(first on line 2\\)"),
    ("b,,1,0,,health.npz,0,\n", 2, "arm_id", "must not be empty"),
    (" ,a,1,0,,health.npz,0,\n", 2, "batch_id", "must not be empty"),
    ("b,a,1,0,,health.npz,0,0;1\n", 2, "costs", "3 numbers separated by ';'"),
    ("b,a,1,0,,health.npz,0,0;2;1\n", 2, "costs", "non-decreasing"),
    ("b,a,1,0,,health.npz,0,1;1;1\n", 2, "costs", "passive action 0 must cost 0"),
    ("!" + INLINE_H + "b,a,1,0,,\"[[[0.9,0.1]]\",,[0],\n", 2, "transitions", "JSON list"),
    # where the JSON breaks (a walk-through: one ']' missing in 45 characters was not said)
    ("!" + INLINE_H + 'b,a,1,0,,"[[[0.9,0.1],[0.2,0.8]],[[0.6,0.4],[0.1,0.9]]",,"[0,1]",\n', 2,
     "transitions", r"JSON list; got '.*' \(unbalanced brackets: 7 '\[' and 6 '\]'\)$"),
    ("!" + INLINE_H + 'b,a,1,0,,"[[[0.9 0.1],[0.2,0.8]],[[0.6,0.4],[0.1,0.9]]]",,"[0,1]",\n', 2,
     "transitions", r"JSON list; got '.*' \(Expecting ',' delimiter at character 8\)$"),
    ("!" + INLINE_H + 'b,a,1,0,,"[[[0.9,0.2],[0.3,0.7]]]",,"[0,1]",\n', 2, "transitions",
     "rows must sum to 1"),
    ("!" + INLINE_H + f'b,a,1,0,,{T2},,"[0,1,2]",\n', 2, "rewards", "must have shape"),
    ("!" + INLINE_H + 'b,a,1,0,,"[[[true,false],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]",,"[0,1]",\n',
     2, "transitions", "numbers only; got 'true'"),
    ("!" + INLINE_H + f'b,a,1,0,,{T2},,,\n', 2, "rewards", "must be given with 'transitions'"),
    ("!" + INLINE_H + 'b,a,1,0,,"[[0.9,0.1],[0.2,0.8]]",,"[0,1]",\n', 2, "transitions",
     r"must be a nested list of shape \(n_actions, n_states, n_states\); got shape \(2, 2\)"),
    ("!" + INLINE_H + 'b,a,1,0,,"[[[0.9,0.1],[0.2]]]",,"[0,1]",\n', 2, "transitions",
     "got a ragged list"),
    ("!" + INLINE_H + f'b,a,1,0,,{T2},"[[[1.5,-0.5]]]","[0,1]",\n', 2, "observations",
     "observations"),
    ("!" + INLINE_H + f'b,a,1,0,,{T2},,"[0,1]",\nb,c,1,0,,"[[[1]]]",,"[0]",\n', 3,
     "transitions", r"must share \(n_actions, n_states, n_obs\).*on line 2"),
    ("!" + INLINE_H + f'b,a,1,0,,{T2},,"[0,1]",\nb,c,1,0,,{T2},"[[[1,0,0],[0,1,0]],'
     '[[1,0,0],[0,1,0]]]","[0,1]",\n', 3, "transitions", "must share"),
    ("!batch_id,arm_id,budget,state,model,model_arm,transitions,rewards\n"
     f'b,a,1,0,health.npz,0,{T2},"[0,1]"\n', 2, "transitions", "empty when 'model' is given"),
    ("!batch_id,arm_id,budget,state,model,model_arm,transitions,rewards\n"
     'b,a,1,0,health.npz,0,,"[0,1]"\n', 2, "rewards", "must be empty when 'model' is given"),
    ("!batch_id,arm_id,budget,state,model,model_arm,transitions,rewards\n"
     f'b,a,1,0,,3,{T2},"[0,1]"\n', 2, "model_arm", "must be empty when 'transitions' is given"),
    ("!batch_id,arm_id,budget,discount,state,model,model_arm\nb,a,1,1.0,0,health.npz,0\n", 2,
     "discount", r"must be in \(0, 1 - 1e-09\]; got 1.0"),
    ("!batch_id,arm_id,budget,discount,state,model,model_arm\n"
     "b,a,1,0.999999999999,0,health.npz,0\n", 2, "discount",
     r"must be in \(0, 1 - 1e-09\]; got 0.999999999999"),
    # the open end at 0: a discount of 0 (no future at all) is refused, not read as valid
    ("!batch_id,arm_id,budget,discount,state,model,model_arm\nb,a,1,0,0,health.npz,0\n", 2,
     "discount", r"must be in \(0, 1 - 1e-09\]; got 0.0"),
    ("!batch_id,arm_id,budget,discount,state,model,model_arm\nb,a,1,0.9,0,health.npz,0\n"
     "b,c,1,,0,health.npz,1\nb,d,1,0.8,0,health.npz,2\n", 4, "discount", "same on every row"),
    ('!batch_id,arm_id,budget,state,model,model_arm\nb,"a,1,0,health.npz,0\n', 2, None,
     "well-formed CSV"),
    # an unclosed quote is reported where its record starts, not at the end of the file
    ('!batch_id,arm_id,budget,state,model,model_arm\nb,a,1,0,health.npz,0\n'
     'b,"c,1,0,health.npz,1\n' + "b,x,1,0,health.npz,2\n" * 5, 3, None, "well-formed CSV"),
]


@pytest.mark.parametrize("text,line,column,pattern", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_raises_with_line_and_column(write_csv, folder, text, line, column, pattern):
    (folder / "garbage.npz").write_text(GARBAGE_NPZ)
    text = text[1:] if text.startswith("!") else H + text
    path = write_csv(text)
    with pytest.raises(BatchInputError, match=pattern) as info:
        read_batches(path)
    err = info.value
    assert (err.file, err.line, err.column) == (str(path), line, column)
    assert str(err).startswith(f"{path}, line {line}")


def test_model_errors_are_chained(write_csv):
    with pytest.raises(BatchInputError) as info:
        read_batches(write_csv(H + "b,a,1,0,,health.npz,0,0;2;1\n"))
    assert isinstance(info.value.__cause__, InvalidModelError)
    assert info.value.batch_id == "b"


def test_non_utf8_bytes_name_the_line(folder):
    path = folder / "b.csv"
    path.write_bytes(H.encode() + b"b,a,1,0,,health.npz,0,\nb,\xff,1,0,,health.npz,1,\n")
    with pytest.raises(BatchInputError, match="UTF-8") as info:
        read_batches(path)
    assert info.value.line == 3


def test_an_npz_given_as_the_csv_says_what_it_is(folder):
    """It said 'must be UTF-8 text; got byte 0xc9'."""
    with pytest.raises(BatchInputError, match=r"must be a CSV file of batches; got an \.npz "
                       r"archive \(an instance: 'rmab compare'"):
        read_batches(folder / "health.npz")
    xlsx = folder / "batches.xlsx"                      # a workbook is a zip archive too
    xlsx.write_bytes((folder / "health.npz").read_bytes())
    with pytest.raises(BatchInputError, match=r"got a zip archive \(a spreadsheet\? save it as "
                       r"CSV, comma-separated\)"):
        read_batches(xlsx)


def test_missing_file_and_bad_discount_argument(folder):
    with pytest.raises(BatchInputError, match="readable file"):
        read_batches(folder / "nope.csv")
    with pytest.raises(InvalidParameterError, match="discount"):
        read_batches(folder / "nope.csv", discount=1.5)


def test_first_error_is_the_lowest_line_and_keep_going_reports_each_batch(write_csv):
    text = H + ("ok,a,1,0,,health.npz,0,\n"
                "bad2,a,1,0,,health.npz,0,\n"
                "bad1,a,1,7,,health.npz,0,\n"
                "bad2,b,1,,0.1;0.1,health.npz,1,\n"
                ",a,1,0,,health.npz,0,\n"
                "ok,b,1,0,,health.npz,1,\n")
    path = write_csv(text)
    with pytest.raises(BatchInputError) as info:
        read_batches(path)
    assert info.value.line == 4
    batches, failures = read_batches_keep_going(path)
    assert [b.batch_id for b in batches] == ["ok"] and batches[0].arm_ids.tolist() == ["a", "b"]
    assert [(f.batch_id, f.line, f.column) for f in failures] == [
        ("bad1", 4, "state"), ("bad2", 5, "belief"), (None, 6, "batch_id")]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_numbers_with_any_line_ending(write_csv, newline):
    text = (H + "b,a,1,0,,health.npz,0,\n\nb,c,1,9,,health.npz,1,\n").replace("\n", newline)
    with pytest.raises(BatchInputError) as info:
        read_batches(write_csv(text))
    assert (info.value.line, info.value.column) == (4, "state")


def test_header_errors_name_the_header_line(write_csv):
    with pytest.raises(BatchInputError, match="line 3.*bogus") as info:
        read_batches(write_csv("\n,,\n" + H.strip() + ",bogus\nb,a,1,0,,health.npz,0,,\n"))
    assert info.value.line == 3


def test_long_inline_cells_are_read(write_csv):
    # a 60-state inline arm: its transitions cell is longer than csv's default field limit
    import csv
    import json

    S = 60
    up = np.eye(S, k=1)
    up[-1, -1] = 1.0
    t = np.stack([np.full((S, S), 1.0 / S), 0.5 * up + 0.5 / S])
    cell = json.dumps(t.round(17).tolist())
    assert len(cell) > csv.field_size_limit()
    text = (INLINE_H + f'x,a,1,0,,"{cell}",,"{json.dumps(list(range(S)))}",\n'
            + f'x,b,1,3,,"{cell}",,"{json.dumps(list(range(S)))}",\n')
    (batch,) = read_batches(write_csv(text))
    np.testing.assert_allclose(batch.instance.arms.transitions[0], t)
    assert csv.field_size_limit() == 131072          # the module's limit is restored


def test_long_cells_with_quoted_line_breaks(write_csv):
    # the second pass that finds each record's line must read long cells too
    import json

    S = 60
    t = np.full((2, S, S), 1.0 / S)
    cell = json.dumps(t.tolist()).replace("], [", "],\n[", 1)     # a line break inside
    text = INLINE_H + f'x,a,1,0,,"{cell}",,"{json.dumps([0.0] * S)}",\n' + "x,b,1,0,,,,,\n"
    with pytest.raises(BatchInputError, match="must give the arm's model") as info:
        read_batches(write_csv(text))
    assert info.value.line == 4


def test_a_shifted_row_breaks_every_batch_it_may_belong_to(write_csv):
    """An unquoted comma before batch_id shifted the cell: the error went to batch ' J' and
    'clinic' was solved without the arm (a CSV review). A batch is looked for within as many
    places of batch_id as the row has fields too many or too few (a review of the fix: numeric
    ids elsewhere in the row broke healthy batches); a batch named there is skipped with the
    row's error, the safe side where the row cannot say which batch it belongs to; so is the
    row's own batch_id cell, even when no other row names it (a later review: a row
    'b,c,...,extra' skipped batch 'c' and never mentioned 'b'), and the error says which ids
    the row may belong to."""
    text = ("arm_id,batch_id,budget,belief,model,model_arm\n"
            "Smith, J,clinic,1,0.2;0.8,health.npz,0\n"
            "Jones,clinic,1,0.9;0.1,health.npz,1\n"
            "Lee,other,1,0.9;0.1,health.npz,2\n"
            "Ng,lonely,2,0.5;0.5,health.npz,3,extra\n"
            "Wu,1,1,0.5;0.5,health.npz,0\n"              # batch '1' is fine, though the
            "Ma,7,3,0.5;0.5,health.npz,1,1\n")            # next row names '1' far from its id
    batches, failures = read_batches_keep_going(write_csv(text))
    assert [b.batch_id for b in batches] == ["other", "1"]
    assert [(f.batch_id, f.line) for f in failures] == [("clinic", 2), ("J", 2), ("lonely", 5),
                                                         ("7", 7)]
    assert "must have 6 fields like the header; got 7" in str(failures[0])
    assert "its batch_id may be any of 'J', 'clinic'" in str(failures[0])
    assert "may be any" not in str(failures[2])            # 'lonely': extra field at the end


def test_a_row_with_an_extra_field_fails_its_own_batch_and_the_batch_it_may_shift_to(write_csv):
    arm = '"[[[0.9,0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]","[0,1]"'
    text = ("batch_id,arm_id,budget,state,transitions,rewards\n"
            f"c,x1,1,0,{arm}\n"
            f"b,c,1,0,{arm},extra\n"
            f"a,x2,1,0,{arm}\n")
    batches, failures = read_batches_keep_going(write_csv(text))
    assert [b.batch_id for b in batches] == ["a"]
    assert sorted((f.batch_id, f.line) for f in failures) == [("b", 3), ("c", 3)]


def test_a_stray_row_with_a_cell_too_long_for_a_file_name_fails_only_its_batches(write_csv):
    """The field-count check asks whether a stray row's cells name model files; a JSON cell
    longer than a file name may be (255 bytes) raised a bare OSError and lost every batch."""
    n = 12
    cells = (json.dumps(np.full((2, n, n), 1.0 / n).round(4).tolist()), json.dumps(list(range(n))))
    arm = ",".join('"' + c + '"' for c in cells)
    assert len(cells[0]) > 255
    text = ("batch_id,arm_id,budget,state,transitions,rewards\n"
            f"a,x1,1,0,{arm}\n"
            f"b,x1,1,0,{arm},oops\n")
    batches, failures = read_batches_keep_going(write_csv(text))
    assert [b.batch_id for b in batches] == ["a"]
    assert [(f.batch_id, f.line) for f in failures] == [("b", 3)]
    assert "must have 6 fields like the header; got 7" in str(failures[0])


def test_an_inline_arm_error_speaks_of_the_row_not_of_a_one_arm_stack(write_csv):
    """The cells are checked as a one-arm stack; its "arm 0" and leading 1 in shapes read as
    if the row's arm were arm 0 of something (a usability review)."""
    arm = '"[[[0.9,0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"'
    bad = '"[[[1.1,-0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"'
    text = ("batch_id,arm_id,budget,state,transitions,rewards\n"
            f'a,north-008,1,0,{bad},"[0,1]"\n'
            f'b,north-009,1,0,{arm},"[0,1,2]"\n')
    _, failures = read_batches_keep_going(write_csv(text))
    messages = [str(f) for f in failures]
    assert messages[0].endswith("MDPArms.transitions: must be non-negative; got -0.1 at action "
                                "0, state 0, column 1")
    assert messages[1].endswith("MDPArms.rewards: must have shape (n_states=2); got (3,)")
    assert not any("arm 0" in m or "n_arms" in m for m in messages)


def test_every_row_lists_every_bad_row_in_one_pass(write_csv):
    """Checks go column by column and stop a batch at its first problem, so mending a file
    took one run per bad row; ``every_row`` reads each failed batch again without the rows
    found bad."""
    text = ("arm_id,batch_id,budget,belief,model,model_arm\n"
            "a,clinic,1,0.2;0.8,health.npz,0\n"
            "b,clinic,1,0.9;0.3,health.npz,1\n"          # line 3: belief sums to 1.2
            "c,clinic,1,0.5;0.5,health.npz,2\n"
            "d,clinic,2,0.5;0.5,health.npz,3\n"          # line 5: another budget
            "e,clinic,1,0.5;0.5,health.npz,999\n"        # line 6: no such arm
            "f,other,1,0.5;0.5,health.npz,4\n"
            "g,fine,1,0.5;0.5,health.npz,5\n"
            "h,other,1,2;0.5,health.npz,6\n")           # line 9
    path = write_csv(text)
    batches, first = read_batches_keep_going(path)
    assert [b.batch_id for b in batches] == ["fine"]
    assert [(f.batch_id, f.line) for f in first] == [("clinic", 5), ("other", 9)]
    batches, every = read_batches_keep_going(path, every_row=True)
    assert [b.batch_id for b in batches] == ["fine"]
    assert [(f.batch_id, f.line, f.column) for f in every] == [
        ("clinic", 3, "belief"), ("clinic", 5, "budget"), ("clinic", 6, "model_arm"),
        ("other", 9, "belief")]
    with pytest.raises(InvalidParameterError, match="read_batches.every_row: must be True or "
                                                    "False; got 1"):
        read_batches_keep_going(path, every_row=1)
    stray = write_csv(text + "i,fine,1,0.5;0.5,health.npz,7,extra\n", "stray.csv")
    batches, every = read_batches_keep_going(stray, every_row=True)
    assert batches == []                       # 'fine' holds a row of the wrong field count
    assert [(f.batch_id, f.line) for f in every][-2:] == [("other", 9), ("fine", 10)]
    text = text.replace("g,fine,1,0.5;0.5", "g,fine,1,0.5;0.6")
    _, every = read_batches_keep_going(write_csv(text + "i,fine,1,0.5;0.5,health.npz,7,x\n",
                                                 "both.csv"), every_row=True)
    assert [(f.batch_id, f.line) for f in every][-3:] == [("fine", 8), ("other", 9),
                                                          ("fine", 10)]
    # a value every row must share is one problem of the batch, reported once (line 5's
    # budget differs too), and does not hide the rows' own problems
    shared = text.replace("c,clinic,1,", "c,clinic,3,")     # lines 4 and 5 differ from line 2
    _, every = read_batches_keep_going(write_csv(shared, "shared.csv"), every_row=True)
    assert [(f.line, f.column) for f in every if f.batch_id == "clinic"] == [
        (3, "belief"), (4, "budget"), (6, "model_arm")]
    # a batch whose first problem is elsewhere: its differing budget and a budget that is no
    # number were left out, and showed up only on the next run (a CLI review)
    late = ("arm_id,batch_id,budget,belief,model,model_arm\n"
            "a,clinic,1,0.2;0.8,health.npz,0\n"
            "a,clinic,1,0.2;0.8,health.npz,1\n"           # line 3: a repeated arm id
            "c,clinic,2,0.5;0.5,health.npz,2\n"           # line 4: another budget
            "d,clinic,3,0.5;0.5,health.npz,3\n"           # line 5: one more (reported once)
            "e,clinic,x,0.5;0.5,health.npz,4\n")          # line 6: not a number
    _, every = read_batches_keep_going(write_csv(late, "late.csv"), every_row=True)
    assert [(f.line, f.column) for f in every] == [(3, "arm_id"), (4, "budget"), (6, "budget")]
    caps = ("arm_id,batch_id,budget,belief,model,model_arm,action_caps\n"
            "a,clinic,1,0.2;0.8,health.npz,0,\n"
            "a,clinic,1,0.2;0.8,health.npz,1,\n"          # line 3: a repeated arm id
            "c,clinic,1,0.5;0.5,health.npz,2,inf;2\n"     # line 4: too few numbers
            "d,clinic,1,0.5;0.5,health.npz,3,inf;x;1\n")  # line 5: not a number
    _, every = read_batches_keep_going(write_csv(caps, "caps.csv"), every_row=True)
    assert [(f.line, f.column) for f in every] == [(3, "arm_id"), (4, "action_caps"),
                                                    (5, "action_caps")]


def test_a_comma_inside_an_unquoted_cell_is_hinted_at_in_the_field_count_error(write_csv):
    """An unquoted belief '0.4,0.6' said only 'got 7' (a walkthrough). The hint names the cell
    where one run of a list column's cells reads as numbers joined by ','; the batches read as
    before: the bad row's, and the one its shifted batch_id may name, skipped."""
    text = ("batch_id,arm_id,budget,belief,model,model_arm\n"
            "w,a,1,0.4,0.6,health.npz,0\n"
            "w,b,1,1;0,health.npz,1\n"
            "v,c,1,0.5;0.5,health.npz,1\n"
            "u,Smith, J,1,1;0,health.npz,1\n"
            "t,d,1,0.5;0.5,health.npz,1\n")
    batches, failures = read_batches_keep_going(write_csv(text))
    assert [b.batch_id for b in batches] == ["v", "t"]
    assert [(f.batch_id, f.line) for f in failures] == [("w", 2), ("u", 5)]
    assert str(failures[0]).endswith("must have 6 fields like the header; got 7 (the 'belief' "
                                      "cell '0.4,0.6', split at its ','?) (',' between the "
                                      "numbers? write '0.4;0.6')")
    assert str(failures[1]).endswith("got 7 (a ',' inside a cell? quote it or use ';')")


def test_comma_hints_quote_a_long_cell_shortened(write_csv):
    """The hints quoted what to write in full, where the error quotes the cell shortened: a
    belief of 100 000 numbers split at its commas, or a 100 000-digit budget with a comma,
    gave an error of 1.2 MB (0.6 MB)."""
    head = "batch_id,arm_id,budget,belief,model,model_arm\n"
    long = "1" * 100_000
    for row, start in ((f"w,a,1,{','.join(['0.1'] * 100_000)},health.npz,0\n",
                        "(the 'belief' cell '0.1,0.1,"),
                       (f'w,a,"{long},5",0.5;0.5,health.npz,0\n', "(a decimal comma? write "),
                       (f'w,a,"1{",000" * 30_000}",0.5;0.5,health.npz,0\n',
                        "(a thousands separator? write '1000")):
        _, failures = read_batches_keep_going(write_csv(head + row))
        message = str(failures[0])
        assert start in message and len(message) < 600, (len(message), message[:300])
    hint = comma_hint(",".join(["0.1"] * 100_000), listed=True)
    assert hint.startswith(" (',' between the numbers? write '0.1;0.1;") and len(hint) < 130


def test_a_blank_before_a_quoted_cell_is_named_in_the_field_count_error(write_csv):
    """', "[0, 1, 2]"': the blank makes the quotes part of the cell and its commas split it;
    the error said only 'got 9' (a CSV review). Read as CSV is (a blank after a closing
    quote would fail the whole file, not the batch)."""
    with pytest.raises(BatchInputError, match=r"must have 7 fields like the header; got 9 "
                                              r"\(a blank before a quote .* remove the blank\)"):
        read_batches(write_csv('batch_id,arm_id,budget,belief,model,model_arm,costs\n'
                               'b,a1,1,0.2;0.8,health.npz,0, "[0, 1, 2]"\n'))


def test_model_file_settings_a_batch_does_not_take_are_warned_of(write_csv, folder, health):
    """A model file allowing 2 calls a week with discount 0.8 gave a batch with no limits and
    discount 0.95, silently (a new user's walkthrough)."""
    import warnings

    from rmab.errors import RmabWarning
    from rmab.models import save_instance

    save_instance(health.replace(action_caps=[np.inf, 2, 0], discount=0.8, horizon=12),
                  folder / "capped.npz")
    rows = "".join(f"b,{j},5,0,,capped.npz,{j},\n" for j in range(4))
    path = write_csv(H + rows + rows.replace("b,", "c,"))
    with pytest.warns(RmabWarning) as caught:
        batches = read_batches(path)
    said = [str(w.message) for w in caught]
    assert len(said) == 3                                      # once per file and setting
    assert any("capped.npz's discount 0.8 is not used; instead the default 0.95 "
               "(--discount; or give a discount column)" in s for s in said)
    assert any("horizon 12 is not used; instead none: a batch is planned as discounted" in s
               for s in said)
    assert any("action_caps is not used; instead none (give the CSV's action_caps column)"
               in s for s in said)
    assert batches[0].instance.action_caps is None and batches[0].instance.discount == 0.95
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the bundled model: nothing to say
        read_batches(write_csv(H + "b,a,1,0,,health.npz,0,\n", "ok.csv"))


def test_a_budget_no_action_fits_is_warned_of_with_its_batch_and_line(write_csv, health):
    from rmab.errors import RmabWarning

    rows = "".join(f"b,{j},0.5,0,,health.npz,{j},\n" for j in range(2))
    path = write_csv(H + "a,x,1,0,,health.npz,0,\n" + rows)
    with pytest.warns(RmabWarning) as caught:
        read_batches(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: batch 'b' (line 3): Instance.budget: 0.5 is below every active action's "
        f"cost (the cheapest costs 1), so no arm can act"]


def test_settings_the_rows_give_are_not_warned_of(write_csv, folder, health):
    """The bundled example's batch with its own discount column (0.9 against the model file's
    0.95) warned on every README run: a setting the rows give is the user's choice."""
    import warnings

    from rmab.errors import RmabWarning
    from rmab.models import save_instance

    save_instance(health.replace(max_active=2, discount=0.8), folder / "capped.npz")
    head = "batch_id,arm_id,budget,discount,max_active,belief,model,model_arm\n"
    rows = "".join(f"b,{j},5,0.9,3,0;1,capped.npz,{j}\n" for j in range(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = read_batches(write_csv(head + rows, "given.csv"))[0]
    assert batch.instance.discount == 0.9 and batch.instance.max_active == 3
    mixed = rows + "".join(f"c,{j},5,,,0;1,capped.npz,{j}\n" for j in range(3))
    with pytest.warns(RmabWarning) as caught:                # batch c gives neither
        read_batches(write_csv(head + mixed, "mixed.csv"))
    assert len(caught) == 2 and all("batch 'c'" in str(w.message) for w in caught)


def test_each_count_limit_is_warned_of_on_its_own(write_csv, folder, health):
    """A min_active column hid the loss of the file's caps and max_active (a diff review):
    the batch could plan visits the file forbade, without a word."""
    from rmab.errors import RmabWarning
    from rmab.models import save_instance

    save_instance(health.replace(action_caps=[np.inf, 2, 0], max_active=2),
                  folder / "capped.npz")
    head = "batch_id,arm_id,budget,min_active,belief,model,model_arm\n"
    rows = "".join(f"b,{j},5,0,0;1,capped.npz,{j}\n" for j in range(4))
    with pytest.warns(RmabWarning) as caught:
        batch = read_batches(write_csv(head + rows, "min.csv"))[0]
    said = sorted(str(w.message).split("'s ")[1].split(" is not")[0] for w in caught)
    assert said == ["action_caps", "max_active"]
    assert batch.instance.action_caps is None and batch.instance.max_active is None


def test_every_row_names_an_odd_row_against_the_batch_and_goes_on(write_csv):
    """A value every row shares was named against the first row: one odd first row was the
    error of every other row, and the rows' own problems showed only on the next run (a CSV
    review). It is now named against the most common value."""
    odd_first = (H + "a,x0,3,0,,health.npz,0,\n"          # line 2: the budget typo
                 "a,x1,2,0,,health.npz,1,\n"
                 "a,x2,2,7,,health.npz,2,\n"               # line 4: no such state
                 "a,x3,2,0,,health.npz,3,\n"
                 "a,x4,4,0,,health.npz,4,\n")              # line 6: another budget
    with pytest.raises(BatchInputError, match=r"line 2, column 'budget': .* got 3\.0 here and "
                                              r"2\.0 on line 3; 1 more row differs \(line 6\)"):
        read_batches(write_csv(odd_first))
    _, every = read_batches_keep_going(write_csv(odd_first), every_row=True)
    assert [(f.line, f.column) for f in every] == [(2, "budget"), (4, "state")]
    o3 = '"[[[0.8,0.1,0.1],[0.2,0.4,0.4]],[[0.9,0.05,0.05],[0.1,0.1,0.8]]]"'   # 3 signals
    inline = (INLINE_H + f'a,x0,1,0,,{T2},{o3},"[[0,1],[0,1]]",\n'         # line 2
              + "".join(f'a,x{j},1,0,,{T2},,"[[0,1],[0,1]]",\n' for j in range(1, 5)))
    _, every = read_batches_keep_going(write_csv(inline), every_row=True)
    assert [(f.line, f.column) for f in every] == [(2, "transitions")]
    assert "got (2, 2, 3) here and (2, 2, 2) on line 3" in str(every[0])
    caps = ("batch_id,arm_id,budget,state,model,model_arm,action_caps\n"
            + "".join(f"a,x{j},2,0,health.npz,{j},inf;1;inf\n" for j in range(3))
            + "a,x3,2,0,health.npz,3,inf;-1;inf\n")                      # line 5
    _, every = read_batches_keep_going(write_csv(caps), every_row=True)
    assert [(f.line, f.column) for f in every] == [(5, "action_caps")]
    assert "non-negative integers or inf; got -1 for action 1" in str(every[0])
    # the most common value is the whole batch's, not that of the rows left once the bad
    # ones are out: with lines 2-4 out for their state, line 7 was named the odd one; it is
    # named against the batch's first row that has it, even if that row is out
    late = ("batch_id,arm_id,budget,state,model,model_arm,action_caps\n"
            + "".join(f"a,x{j},2,7,health.npz,{j},inf;1;inf\n" for j in range(3))
            + "".join(f"a,y{j},2,0,health.npz,{j},inf;2;inf\n" for j in range(2))
            + "a,z,2,0,health.npz,9,inf;1;inf\n")                   # lines 5, 6 are odd
    _, every = read_batches_keep_going(write_csv(late), every_row=True)
    assert [(f.line, f.column) for f in every] == [(2, "state"), (3, "state"), (4, "state"),
                                                    (5, "action_caps")]
    assert "here and [inf, 1.0, inf] on line 2; 1 more row differs (line 6)" in str(every[3])
    # ... and rows that agree among themselves once those are out still differ from it
    _, every = read_batches_keep_going(write_csv(late.rsplit("a,z", 1)[0]), every_row=True)
    assert [(f.line, f.column) for f in every] == [(2, "state"), (3, "state"), (4, "state"),
                                                    (5, "action_caps")]
    assert "here and [inf, 1.0, inf] on line 2; 1 more row differs (line 6)" in str(every[3])
    # ... among the values valid by themselves: rows with budget 2 (or cap 2) were named as
    # differing from the invalid budget inf or -1 (cap -1) of the rows taken out (a review)
    for column, bad, got in (("budget", "inf", "must be finite; got inf"),
                             ("budget", "-1", "must be >= 0.0; got -1.0"),
                             ("action_caps", "inf;-1;inf", "got -1 for action 1")):
        odd = dict({"budget": "2", "action_caps": "inf;2;inf"}, **{column: bad})
        rows = ("batch_id,arm_id,state,model,model_arm,budget,action_caps\n"
                + "".join(f"a,x{j},0,health.npz,{j},{odd['budget']},{odd['action_caps']}\n"
                          for j in range(3))                               # lines 2-4
                + "".join(f"a,y{j},0,health.npz,{j},2,inf;2;inf\n" for j in range(2)))
        _, every = read_batches_keep_going(write_csv(rows), every_row=True)
        assert [(f.line, f.column) for f in every] == [(2, column), (3, column), (4, column)]
        assert got in str(every[0])
    # a count past int64 is not a value either (it crashed the comparison: a review)
    rows = ("batch_id,arm_id,budget,state,model,model_arm,max_active\n"
            + "".join(f"a,x{j},1,0,health.npz,{j},{m}\n"
                      for j, m in enumerate(("2", "-99999999999999999999", "2", "3"))))
    _, every = read_batches_keep_going(write_csv(rows), every_row=True)
    assert [(f.line, f.column) for f in every] == [(3, "max_active"), (5, "max_active")]
    assert "got 3 here and 2 on line 2" in str(every[1])


@pytest.mark.parametrize("cells", ["0,,missing.npz,0,inf;1;inf", "0,,health.npz,0,inf;2.5;inf",
                                   "0,,health.npz,x,inf;1;inf", "7,,health.npz,0,",
                                   ",0.5;0.4,health.npz,0,", "0,,health.npz,500,"])
def test_every_row_reads_a_batch_of_alike_bad_rows_once(write_csv, monkeypatch, cells):
    """Each bad row was taken out and the batch read again: quadratic (8 000 rows naming a
    missing model file took 62 s; 4 000 states out of range 19 s). Rows failing the same
    check go together and are each reported."""
    from rmab.io import reader as reader_mod

    calls = []
    batch = reader_mod._FileReader.batch
    monkeypatch.setattr(reader_mod._FileReader, "batch",
                        lambda self, bid, members: calls.append(len(members))
                        or batch(self, bid, members))
    rows = "".join(f"a,x{j},2,{cells}\n" for j in range(300))
    _, every = read_batches_keep_going(
        write_csv("batch_id,arm_id,budget,state,belief,model,model_arm,action_caps\n" + rows),
        every_row=True)
    assert [f.line for f in every] == list(range(2, 302))
    assert len({str(f).split(": ", 1)[1] for f in every}) == 1     # the same problem
    assert len(calls) == 1


def test_a_reader_warning_raised_as_an_error_fails_its_batch_alone(write_csv, folder,
                                                                  health):
    """Under ``-W error`` the warning of one batch's model file (its discount not used) took
    the whole ``--keep-going`` run down with a traceback (a CSV review)."""
    import warnings

    from rmab.errors import RmabWarning
    from rmab.models import save_instance

    save_instance(health.replace(discount=0.9), folder / "h09.npz")
    path = write_csv(H + "good,a,1,0,,health.npz,0,\n"
                         "w,b,1,0,,h09.npz,1,\n"
                         "w2,c,1,0,,h09.npz,2,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RmabWarning)
        batches, failures = read_batches_keep_going(path)
    assert [b.batch_id for b in batches] == ["good"]
    assert [(f.batch_id, f.line) for f in failures] == [("w", 3), ("w2", 4)]
    assert "model file" in str(failures[0]) and "discount 0.9 is not used" in str(failures[0])
    assert "RmabWarning raised as an error" in str(failures[0])
    # with --check, when its bad rows are out (the warning escaped a re-read)
    path = write_csv(H + "good,a,1,0,,health.npz,0,\n"
                         "w,b,1,7,,h09.npz,1,\n"
                         "w,c,1,0,,h09.npz,2,\n", "check.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RmabWarning)
        batches, failures = read_batches_keep_going(path, every_row=True)
    assert [b.batch_id for b in batches] == ["good"]
    assert [(f.line, f.column) for f in failures] == [(3, "state"), (3, None)]
    assert "RmabWarning raised as an error" in str(failures[1])


@pytest.mark.parametrize("bom, newline", [(b"", b"\n"), (b"\xef\xbb\xbf", b"\n"),
                                          (b"", b"\r"), (b"\xef\xbb\xbf", b"\r\n")])
def test_a_non_utf8_byte_is_named_with_its_line_after_a_bom_or_cr_line_ends(folder, bom,
                                                                            newline):
    """After a byte-order mark the error named the byte 3 places early (a comma, on line 2);
    with CR line ends it said line 1 (a CSV review)."""
    lines = [H.strip().encode(), b"b,a,1,0,,health.npz,0,", b"\xe9,a,1,0,,health.npz,1,"]
    path = folder / "latin.csv"
    path.write_bytes(bom + newline.join(lines) + newline)
    with pytest.raises(BatchInputError, match=r"line 3: .*must be UTF-8 text; got byte 0xe9"):
        read_batches(path)


def test_a_spreadsheets_non_utf8_csv_is_named_with_what_to_save_it_as(folder):
    """'got byte 0xe9' (a name such as José saved in Windows-1252) and 'got byte 0xff' (a
    UTF-16 'Unicode text' export) said neither what the file was nor how to mend it."""
    latin = folder / "latin.csv"
    latin.write_bytes(H.encode() + "b,José,1,0,,health.npz,0,\n".encode("cp1252"))
    with pytest.raises(BatchInputError, match=r"line 2: csv: must be UTF-8 text; got byte 0xe9 "
                       r"\(text in a local code page, such as Windows-1252\?\): save the file "
                       r"as 'CSV UTF-8'$"):
        read_batches(latin)
    for encoding in ("utf-16", "utf-16-be", "utf-16-le"):
        wide = folder / "wide.csv"
        bom = b"" if encoding == "utf-16" else "\ufeff".encode(encoding)
        wide.write_bytes(bom + (H + "b,a,1,0,,health.npz,0,\n").encode(encoding))
        with pytest.raises(BatchInputError, match=r"line 1: csv: must be UTF-8 text; got UTF-16 "
                           r"text \(a spreadsheet's 'Unicode text'\?\): save the file as "):
            read_batches(wide)


def test_inline_rows_the_arms_take_keep_their_bits(write_csv):
    """A model written inline at full precision (``json.dumps``) read back with a quarter of
    its probabilities an ulp off (rows summing to 1 - 1e-16 were divided by their sum), where
    the same model from a file is read bit for bit (a data-layer review)."""
    from rmab import random_pomdp_arms

    arms = random_pomdp_arms(6, 4, 3, 3, seed=1)
    cells = [f'"{json.dumps(arms.transitions[n].tolist())}",'
             f'"{json.dumps(arms.observations[n].tolist())}",'
             f'"{json.dumps(arms.rewards[n].tolist())}"' for n in range(6)]
    (batch,) = read_batches(write_csv(INLINE_H + "".join(f"b,a{n},1,0,,{c},0;1;2\n"
                                                         for n, c in enumerate(cells))))
    np.testing.assert_array_equal(batch.instance.arms.transitions, arms.transitions)
    np.testing.assert_array_equal(batch.instance.arms.observations, arms.observations)


def test_a_model_files_own_budget_is_not_warned_of(write_csv, folder, health):
    """A model file saved with a budget below its costs warned 'Instance.budget: 0.5 is below
    every active action's cost, so no arm can act' on every run, naming no file or batch, of
    a budget no batch uses (the batch's own was 3); under -W error the file was refused as
    not written by save_instance (a data-layer review)."""
    import warnings

    from rmab.errors import RmabWarning
    from rmab.models import save_instance

    with pytest.warns(RmabWarning):
        low = health.replace(budget=0.5)
    save_instance(low, folder / "low.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (batch,) = read_batches(write_csv(H + "b,a,3,0,,low.npz,0,\nb,c,3,0,,low.npz,1,\n"))
    assert batch.instance.budget == 3.0


@pytest.mark.parametrize("column, row", [
    ("state", "b,a,1,99999999999999999999999,,health.npz,0,"),
    ("model_arm", "b,a,1,0,,health.npz,-99999999999999999999999,")])
def test_an_integer_past_int64_is_named_out_of_range_not_a_non_integer(write_csv, column, row):
    """'must be an integer' was said of a cell holding an integer (a data-layer review)."""
    with pytest.raises(BatchInputError, match=rf"column '{column}': csv\.{column}: must be "
                                              rf"below 2\*\*63 in absolute value; got '-?9+'"):
        read_batches(write_csv(H + row + "\n"))


def test_a_budget_warning_raised_as_an_error_names_its_file_once(write_csv):
    """Under -W error the batch's failure said the file, batch and line twice: 'b.csv, line 2:
    csv: b.csv: batch 'b' (line 2): Instance.budget: ...' (a data-layer review)."""
    import warnings

    from rmab.errors import RmabWarning

    path = write_csv(H + "b,a,0.5,0,,health.npz,0,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RmabWarning)
        _, (failure,) = read_batches_keep_going(path)
    assert str(failure) == (f"{path}, line 2: csv: Instance.budget: 0.5 is below every active "
                            f"action's cost (the cheapest costs 1), so no arm can act "
                            f"(RmabWarning raised as an error)")
