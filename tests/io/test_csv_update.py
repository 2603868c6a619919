"""updated_beliefs: the period's actions and signals read from CSV files, each batch's beliefs
updated with them, against update_beliefs on the arrays themselves."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import rmab
from rmab.belief import sample_states
from rmab.belief._reference import signal_probability_numpy, update_numpy
from rmab.cli import main
from rmab.errors import BatchInputError, ImpossibleSignalError, InvalidParameterError
from rmab.io import read_batches, read_batches_keep_going, solve_batches, write_beliefs
from rmab.io.responses import updated_beliefs
from rmab.models import POMDPArms

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def week(folder):
    """week.csv (the bundled example), the actions myopic chose (actions.csv, as rmab solve
    writes them), signals drawn from the arms (answers.csv) and the reference beliefs."""
    shutil.copy(DATA / "batch_example.csv", folder / "week.csv")
    shutil.copy(DATA / "health_example.npz", folder)
    batches = read_batches(folder / "week.csv")
    result = solve_batches(batches, "myopic", out=folder / "actions.csv")
    rng = np.random.default_rng(3)
    rows, reference = [["batch_id", "arm_id", "signal"]], {}
    for batch, outcome in zip(batches, result.outcomes):
        arms = batch.instance.arms
        states = sample_states(batch.belief, seed=rng)
        _, signals = rmab.sample_next(arms, states, outcome.actions, seed=rng)
        reference[batch.batch_id] = rmab.update_beliefs(arms, batch.belief, outcome.actions,
                                                        signals)
        rows += [[batch.batch_id, arm, s] for arm, s in zip(batch.arm_ids, signals.tolist())]
    with open(folder / "answers.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return batches, reference


def test_the_beliefs_are_update_beliefs_bit_for_bit(week, folder):
    batches, reference = week
    beliefs = updated_beliefs(batches, folder / "actions.csv", folder / "answers.csv")
    assert list(beliefs) == list(reference)
    for bid, expected in reference.items():
        np.testing.assert_array_equal(beliefs[bid], expected)


def test_a_signal_column_in_the_actions_file_and_signal_names(week, folder):
    """The actions file with a signal column added serves as both; labels read as numbers."""
    batches, reference = week
    with open(folder / "answers.csv", newline="") as fh:
        labels = ["no answer", "answered"]
        signals = {(r["batch_id"], r["arm_id"]): labels[int(r["signal"])]
                   for r in csv.DictReader(fh)}
    with open(folder / "actions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(folder / "both.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, [*rows[0], "signal"])
        writer.writeheader()
        writer.writerows({**r, "signal": signals[r["batch_id"], r["arm_id"]]} for r in rows)
    beliefs = updated_beliefs(batches, folder / "both.csv", signal_names=labels)
    for bid, expected in reference.items():
        np.testing.assert_array_equal(beliefs[bid], expected)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (old, text)
    path.write_text(text.replace(old, new), encoding="utf-8")


# (file, row: (old, new), message, line, column); rows of actions.csv and answers.csv
BAD = [
    ("actions", ("clinic-north,p001,0,none", "clinic-nort,p001,0,none"),
     r"actions\.batch_id: must be a batch of .*week\.csv; got 'clinic-nort' \(did you mean "
     r"'clinic-north'\?\); they are", 2, "batch_id"),
    ("answers", ("clinic-north,p002,", "clinic-north,p02,"),
     r"signals\.arm_id: must be an arm of batch 'clinic-north' in .*week\.csv; got 'p02' "
     r"\(did you mean 'p002'\?\)", 3, "arm_id"),
    ("answers", ("clinic-north,p002,", "clinic-north,p001,"),
     r"signals: must have one row per arm; got arm 'p001' of batch 'clinic-north' again "
     r"\(first on line 2\)", 3, None),
    ("actions", ("clinic-north,p001,0,none", "clinic-north,p001,3,none"),
     r"actions\.action: must be an integer in \[0, 3\); got '3' \(arm 'p001' of batch "
     r"'clinic-north'\)", 2, "action"),
    ("actions", ("clinic-north,p001,0,none", "clinic-north,p001,1.5,none"),
     r"actions\.action: must be an integer in \[0, 3\); got '1\.5'", 2, "action"),
    ("actions", ("clinic-north,p001,0,none", "clinic-north,p001,,none"),
     r"actions\.action: must be an integer in \[0, 3\); got ''", 2, "action"),
    ("actions", ("clinic-north,p001,0,none", "clinic-north,p001,1,none"),
     r"actions\.action_name: must name the row's action 1 \('call'\); got 'none' \(arm 'p001' "
     r"of batch 'clinic-north'\): an action edited by hand\?", 2, "action_name"),
    ("answers", ("pilot,s1,", "pilot,s1,2#"),
     r"signals\.signal: must be an integer in \[0, 2\) or empty \(none seen\) or '\?' \(not "
     r"known\); got '2' \(arm 's1' of batch 'pilot'\)", 12, "signal"),
    # a lost record is said with '?', not with a word of one's own
    ("answers", ("clinic-north,p002,", "clinic-north,p002,NA#"),
     r"signals\.signal: must be an integer in \[0, 2\) or empty \(none seen\) or '\?' \(not "
     r"known\); got 'NA' \(arm 'p002' of batch 'clinic-north'\); not known\? write "
     r"'\?'$", 3, "signal"),
    # a fraction is a number, not a name: no --signal-names hint
    ("answers", ("clinic-north,p002,", "clinic-north,p002,0.5#"),
     r"got '0\.5' \(arm 'p002' of batch 'clinic-north'\)$", 3, "signal"),
    ("answers", ("clinic-north,p002,", "clinic-north,p002,answered#"),
     r"got 'answered' \(arm 'p002' of batch 'clinic-north'\); a name\? give the names in "
     r"order with --signal-names \(signal_names=\)$", 3, "signal"),
    ("answers", ("clinic-south,p101,", "clinic-south,p101,#"),
     r"signals\.signal: must be given; got an empty cell: its model's signal after action "
     r"\d tells its states apart \(arm 'p101' of batch 'clinic-south'\); not seen, or its "
     r"record lost\? write '\?'$", 8, "signal"),
    # a fully observed arm's state left out is caught too
    ("answers", ("pilot,s2,", "pilot,s2,#"),
     r"signals\.signal: must be given; got an empty cell: its model's signal after action "
     r"\d tells its states apart \(arm 's2' of batch 'pilot'\); not seen, or its record "
     r"lost\? write '\?'$", 13, "signal"),
    ("answers", ("batch_id,arm_id,signal", "batch_id,arm_id,answer"),
     r"signals\.header: must have the columns batch_id, arm_id, signal; missing signal \(got "
     r"'batch_id', 'arm_id', 'answer'\)$", 1, None),
    ("answers", ("batch_id,arm_id,signal", "batch_id;arm_id;signal"),      # as solve's reader
     r"signals\.header: must have the columns batch_id, arm_id, signal; missing batch_id, "
     r"arm_id, signal \(got 'batch_id;arm_id;signal'\): the header holds ';', fields must be "
     r"separated by commas$", 1, None),
    ("answers", ("batch_id,arm_id,signal", "batch_id,signal,arm_id,signal"),
     r"signals\.header: column names must be unique; got 'signal' twice", 1, "signal"),
    ("answers", ("outreach,o2,", "outreach,o2#"),
     r"signals: must have 3 fields like the header; got 2", 16, None),
    # a stray comma (a hand-typed '1,0') read the signal from the cell before it
    ("answers", ("clinic-north,p003,", "clinic-north,p003,1,0#"),
     r"signals: must have 3 fields like the header; got 4 \(a ',' inside a cell\? quote it "
     r"or use ';'\)", 4, None),
    # the second action_name, edited by hand, was ignored
    ("actions", ("batch_id,arm_id,action,action_name,cost,score",
                 "batch_id,arm_id,action,action_name,cost,action_name"),
     r"actions\.header: column names must be unique; got 'action_name' twice", 1,
     "action_name"),
]


@pytest.mark.parametrize("which, edit, message, line, column", BAD)
def test_every_bad_row_is_named_by_file_line_and_column(week, folder, which, edit, message,
                                                        line, column):
    path = folder / f"{which}.csv"
    old, new = edit
    if new.endswith("#"):                        # the cell after the ids, whatever it was
        row = next(r for r in path.read_text().splitlines() if r.startswith(old))
        old, new = row, new[:-1]
    _edit(path, old, new)
    with pytest.raises(BatchInputError, match=message) as info:
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv")
    error = info.value
    assert (error.file, error.line, error.column) == (str(path), line, column)
    assert str(error).startswith(f"{path}, line {line}")


def test_empty_cells_past_the_header_are_read_as_spreadsheets_write_them(week, folder):
    """Trailing commas on every row, the header's too, or on the rows alone: no stray cell."""
    batches, reference = week
    text = (folder / "answers.csv").read_text()
    for edited in (text.replace("\n", ",\n"),
                   text.replace("\n", ",,\n").replace(",,\n", "\n", 1)):  # not the header's
        (folder / "answers.csv").write_text(edited)
        beliefs = updated_beliefs(batches, folder / "actions.csv", folder / "answers.csv")
        for bid, expected in reference.items():
            np.testing.assert_array_equal(beliefs[bid], expected)


def test_signal_names_past_the_models_signals_are_not_offered(week, folder):
    """Three names for two signals: the third is refused, and not listed as a choice."""
    text = (folder / "answers.csv").read_text()
    row = next(r for r in text.splitlines() if r.startswith("pilot,s1,"))
    _edit(folder / "answers.csv", row, "pilot,s1,maybe")
    with pytest.raises(BatchInputError, match=r"signals\.signal: must be an integer in \[0, 2\) "
                       r"or a name: 'no answer', 'answered' or empty \(none seen\) or '\?' "
                       r"\(not known\); got 'maybe' \(arm 's1' of batch 'pilot'\)$"):
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv",
                        signal_names=["no answer", "answered", "maybe"])


def test_a_missing_arm_is_named_with_its_line_in_the_batch_file(week, folder):
    row = next(r for r in (folder / "answers.csv").read_text().splitlines()
               if r.startswith("clinic-south,p103,"))
    _edit(folder / "answers.csv", row + "\n", "")
    with pytest.raises(BatchInputError, match=r"signals: must have a row for every arm of "
                       r".*week\.csv; got none for arm 'p103' of batch 'clinic-south' \(line "
                       r"10 there\) \(an arm not acted on too: its signal empty where its "
                       r"model expects none, else '\?' if not seen\)$") as info:
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv")
    assert (info.value.line, info.value.batch_id) == (None, "clinic-south")
    # every batch's missing arms are counted, not only the first's (a walkthrough)
    row = next(r for r in (folder / "answers.csv").read_text().splitlines()
               if r.startswith("pilot,"))
    _edit(folder / "answers.csv", row + "\n", "")
    with pytest.raises(BatchInputError, match=r"got none for arm 'p103' of batch 'clinic-south' "
                                              r"\(line 10 there\) and 1 more arm \(2 batches "
                                              r"miss arms\) \(an arm not acted on"):
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv")


def test_files_that_are_not_row_tables_are_refused(week, folder):
    (folder / "answers.csv").write_text("\n\n")
    with pytest.raises(BatchInputError, match=r"signals: must have a header row and a row per "
                                              r"arm; got 0 non-blank lines"):
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv")
    with pytest.raises(BatchInputError, match=r"actions\.path: must be a readable file"):
        updated_beliefs(week[0], folder / "nope.csv", folder / "answers.csv")
    with pytest.raises(BatchInputError, match=r"signals\.header: .*missing signal .* \(add a "
                                              r"'signal' column, or give a signals file\)"):
        updated_beliefs(week[0], folder / "actions.csv")
    with pytest.raises(InvalidParameterError, match=r"^updated_beliefs\.batches: must be a "
                                                    r"sequence of Batch read from a file"):
        updated_beliefs(str(folder / "week.csv"), folder / "actions.csv")


SILENT = ("batch_id,arm_id,budget,belief,transitions,observations,rewards\n"
          "a,x,1,0.5;0.5,\"[[[1,0],[0.2,0.8]],[[0.6,0.4],[0.1,0.9]]]\","
          "\"[[[0.5,0.5],[0.5,0.5]],[[0.9,0.1],[0.1,0.9]]]\",\"[0,1]\"\n"
          "a,y,1,1;0,\"[[[1,0],[0.2,0.8]],[[0.6,0.4],[0.1,0.9]]]\","
          "\"[[[0.5,0.5],[0.5,0.5]],[[0.9,0.1],[0.1,0.9]]]\",\"[0,1]\"\n")


def test_no_signal_where_the_model_expects_none_carries_the_belief_forward(write_csv):
    """Signal rows all alike after doing nothing (as rmab estimate --hidden fits them where the
    log shows no signal): an empty cell, and the belief is the prediction alone."""
    batches = read_batches(write_csv(SILENT, "week.csv"))
    both = write_csv("batch_id,arm_id,action,signal\na,x,0,\na,y,1,1\n", "both.csv")
    beliefs = updated_beliefs(batches, both)["a"]
    arms = batches[0].instance.arms
    np.testing.assert_array_equal(beliefs, rmab.update_beliefs(arms, batches[0].belief,
                                                               [0, 1], [0, 1]))
    np.testing.assert_allclose(beliefs[0], [0.6, 0.4], rtol=1e-15)      # 0.5 @ T[0]
    write_csv("batch_id,arm_id,action,signal\na,x,0,1\na,y,1,1\n", "both.csv")
    with pytest.raises(BatchInputError, match=r"signals\.signal: must be empty; got '1': its "
                       r"model expects no signal after action 0 \(its signal rows are all "
                       r"alike\); acted on after all\? correct its action \(arm 'x' of batch "
                       r"'a'\)$") as info:
        updated_beliefs(batches, both)
    assert (info.value.line, info.value.column) == (2, "signal")


def test_no_signal_where_the_model_certainly_gives_one_signal_carries_the_belief(write_csv):
    """Alike signal rows that put all weight on one signal (here signal 1, 'no answer' coded
    last): the empty cell's stand-in is that signal, not one of probability 0 (a mutation
    review: the likeliest signal taken as the least likely read as impossible)."""
    batches = read_batches(write_csv(SILENT.replace("[[[0.5,0.5],[0.5,0.5]]", "[[[0,1],[0,1]]"),
                                     "week.csv"))
    both = write_csv("batch_id,arm_id,action,signal\na,x,0,\na,y,1,1\n", "both.csv")
    beliefs = updated_beliefs(batches, both)["a"]
    np.testing.assert_allclose(beliefs[0], [0.6, 0.4], rtol=1e-15)      # 0.5 @ T[0]


def _silenced(arms, belief, actions) -> np.ndarray:
    """The public Bayes filter under the arms' transitions and a signal that tells no state
    from another (every signal row 1/2): the prediction ``belief @ transitions[action]``, with
    the filter's rounding (a likelihood of 1/2 scales every product by a power of two)."""
    n, n_actions, n_states = arms.transitions.shape[:3]
    silent = POMDPArms(arms.transitions, np.full((n, n_actions, n_states, 2), 0.5),
                       arms.rewards, arms.costs)
    return rmab.update_beliefs(silent, belief, actions, np.zeros(n, dtype=np.int64))


# a hidden-state arm left alone, one visited, a fully observed arm left alone (its state 0)
LOST = ("clinic-north,p002,", "outreach,o2,", "pilot,s1,")


def test_a_lost_record_gives_the_prediction_bit_for_bit(week, folder):
    """'?' where the model expects a signal: the belief is the prediction without it (for the
    fully observed arm, the row of its transitions from its state); every other arm's is the
    update with its signal, as before."""
    batches, reference = week
    with open(folder / "actions.csv", newline="") as fh:
        taken = {(r["batch_id"], r["arm_id"]): int(r["action"]) for r in csv.DictReader(fh)}
    for start in LOST:
        row = next(r for r in (folder / "answers.csv").read_text().splitlines()
                   if r.startswith(start))
        _edit(folder / "answers.csv", row + "\n", start + "?\n")
    beliefs = updated_beliefs(batches, folder / "actions.csv", folder / "answers.csv")
    lost = 0
    for batch in batches:
        arms = batch.instance.arms
        actions = np.array([taken[batch.batch_id, arm] for arm in batch.arm_ids])
        predicted = _silenced(arms, batch.belief, actions)
        for k, arm in enumerate(batch.arm_ids):
            if f"{batch.batch_id},{arm}," in LOST:
                lost += 1
                np.testing.assert_array_equal(beliefs[batch.batch_id][k], predicted[k])
                plain = batch.belief[k] @ arms.transitions[k, actions[k]]
                np.testing.assert_allclose(beliefs[batch.batch_id][k], plain, rtol=0,
                                           atol=1e-15)
            else:
                np.testing.assert_array_equal(beliefs[batch.batch_id][k],
                                              reference[batch.batch_id][k])
    assert lost == len(LOST)
    pilot = next(b for b in batches if b.batch_id == "pilot")
    assert (pilot.belief[0].tolist(), taken["pilot", "s1"]) == ([1.0, 0.0], 0)
    np.testing.assert_array_equal(beliefs["pilot"][0], [0.9, 0.1])    # transitions[s1, 0, 0]


def test_rmab_update_writes_a_lost_records_belief_and_the_loop_goes_on(week, folder, capsys):
    """The fully observed arm whose state was not seen gets a belief cell that is no one-hot
    row (its state cell cleared); next week's file reads, and the index planners solve it."""
    for start in LOST:
        row = next(r for r in (folder / "answers.csv").read_text().splitlines()
                   if r.startswith(start))
        _edit(folder / "answers.csv", row + "\n", start + "?\n")
    argv = ["update", str(folder / "week.csv"), "--actions", str(folder / "actions.csv"),
            "--signals", str(folder / "answers.csv"), "-o", str(folder / "next.csv")]
    assert main(argv) == 0
    assert "15 beliefs updated in 4 batches" in capsys.readouterr().out
    assert "\npilot,s1,1,,,0.9;0.1,,," in (folder / "next.csv").read_text()
    for planner in ("myopic", "whittle"):
        assert main(["solve", str(folder / "next.csv"), "--planner", planner, "-o",
                     str(folder / f"{planner}.csv")]) == 0


def _random_week(rng, write_csv) -> list:
    """A batch of hidden-state arms with random models (some signals impossible in some
    states) and beliefs, and one of fully observed arms with beliefs not one-hot."""
    n_states, n_obs, n_actions = (int(x) for x in rng.integers(2, 5, size=3))
    rows = ["batch_id,arm_id,budget,belief,transitions,observations,rewards"]
    for bid, hidden in (("h", True), ("f", False)):
        for k in range(6):
            p = rng.dirichlet(np.full(n_states, 0.7), size=(n_actions, n_states))
            o = rng.dirichlet(np.full(n_obs, 0.7), size=(n_actions, n_states))
            o[rng.random(o.shape) < 0.2] = 0.0
            o[..., 0] += o.sum(axis=-1) == 0.0                      # a row with no signal
            o /= o.sum(axis=-1, keepdims=True)
            b = rng.dirichlet(np.ones(n_states))
            cells = [bid, f"{bid}{k}", "1", ";".join(map(repr, b.tolist())),
                     json.dumps(p.tolist()), json.dumps(o.tolist()) if hidden else "",
                     json.dumps(rng.random(n_states).tolist())]
            rows.append(",".join(f'"{c}"' for c in cells))
    return read_batches(write_csv("\n".join(rows) + "\n", "week.csv"))


@pytest.mark.parametrize("seed", range(12))
def test_the_prediction_is_the_posterior_averaged_over_the_signals(write_csv, seed):
    """The marginalisation, against an independent reference (the numpy twin of the filter):
    sum_o Pr(o | b, a) * posterior(b, a, o) is what '?' gives, hidden states or not."""
    rng = np.random.default_rng(seed)
    batches = _random_week(rng, write_csv)
    rows = ["batch_id,arm_id,action,signal"]
    taken = {b.batch_id: rng.integers(0, b.instance.n_actions, size=b.n_arms) for b in batches}
    rows += [f"{b.batch_id},{arm},{a},?" for b in batches
             for arm, a in zip(b.arm_ids, taken[b.batch_id].tolist())]
    beliefs = updated_beliefs(batches, write_csv("\n".join(rows) + "\n", "both.csv"))
    for batch in batches:
        arms, a = batch.instance.arms, taken[batch.batch_id]
        p, o = np.asarray(arms.transitions), np.asarray(arms.observations)
        chance = signal_probability_numpy(batch.belief, a, p, o)            # (n, n_obs)
        average = np.zeros_like(batch.belief)
        for signal in range(arms.n_obs):
            posterior, _ = update_numpy(batch.belief, a, np.full(batch.n_arms, signal), p, o)
            average += chance[:, [signal]] * posterior      # an impossible signal: 0 * 0
        np.testing.assert_allclose(beliefs[batch.batch_id], average, rtol=0, atol=1e-13)


def test_a_lost_record_where_no_signal_was_expected_is_refused(write_csv):
    """'?' says a signal was seen: for an arm whose model expects none after its action (x,
    left alone), the action is in doubt, as with a signal; the error names file, line,
    column, batch and arm."""
    batches = read_batches(write_csv(SILENT, "week.csv"))
    both = write_csv("batch_id,arm_id,action,signal\na,x,0,?\na,y,1,?\n", "both.csv")
    with pytest.raises(BatchInputError, match=r"signals\.signal: must be empty; got '\?': its "
                       r"model expects no signal after action 0 \(its signal rows are all "
                       r"alike\); acted on after all\? correct its action \(arm 'x' of batch "
                       r"'a'\)$") as info:
        updated_beliefs(batches, both)
    error = info.value
    assert (error.file, error.line, error.column, error.batch_id) == (str(both), 2, "signal",
                                                                       "a")
    write_csv("batch_id,arm_id,action,signal\na,x,0,\na,y,1,?\n", "both.csv")
    beliefs = updated_beliefs(batches, both)["a"]
    np.testing.assert_array_equal(beliefs, _silenced(batches[0].instance.arms,
                                                     batches[0].belief, [0, 1]))


def test_a_signal_named_like_the_mark_of_a_lost_record_is_refused(week, folder, capsys):
    with pytest.raises(InvalidParameterError, match=r"^updated_beliefs\.signal_names: must not "
                       r"name a signal '\?', the mark of a signal not known \(a record lost\); "
                       r"got it at 1$"):
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv",
                        signal_names=["no answer", "?"])
    argv = ["update", str(folder / "week.csv"), "--actions", str(folder / "actions.csv"),
            "--signals", str(folder / "answers.csv"), "--signal-names", "no;?", "-o",
            str(folder / "next.csv")]
    assert main(argv) == 1
    assert "updated_beliefs.signal_names: must not name a signal '?'" in capsys.readouterr().err
    assert not (folder / "next.csv").exists()


def test_an_impossible_signal_names_its_arm_and_line(write_csv):
    """A fully observed arm seen in a state it cannot reach: y stays in state 0 when left
    alone."""
    batches = read_batches(write_csv("batch_id,arm_id,budget,state,transitions,rewards\n"
                                     "a,x,1,1,\"[[[1,0],[0.2,0.8]]]\",\"[0,1]\"\n"
                                     "a,y,1,0,\"[[[1,0],[0.2,0.8]]]\",\"[0,1]\"\n", "week.csv"))
    both = write_csv("batch_id,arm_id,action,signal\na,x,0,0\na,y,0,1\n", "both.csv")
    with pytest.raises(BatchInputError, match=r"signals\.signal: must be possible under the "
                       r"arm's model and belief; got '1' after action 0, which has probability "
                       r"0 \(arm 'y' of batch 'a'\): its model moves from state 0 to 1 "
                       r"under action 0 with probability 0$") as info:
        updated_beliefs(batches, both)
    assert (info.value.line, info.value.column, info.value.batch_id) == (3, "signal", "a")
    assert isinstance(info.value.__cause__, ImpossibleSignalError)


def test_the_python_route_and_the_file_route_write_the_same_file(week, folder):
    batches, reference = week
    write_beliefs(batches, reference, folder / "python.csv")
    beliefs = updated_beliefs(batches, folder / "actions.csv", folder / "answers.csv")
    write_beliefs(batches, beliefs, folder / "files.csv")
    assert (folder / "files.csv").read_bytes() == (folder / "python.csv").read_bytes()


def test_rmab_update_writes_the_python_routes_file_and_the_loop_goes_on(week, folder, capsys):
    batches, reference = week
    write_beliefs(batches, reference, folder / "python.csv")
    argv = ["update", str(folder / "week.csv"), "--actions", str(folder / "actions.csv"),
            "--signals", str(folder / "answers.csv"), "-o", str(folder / "next.csv")]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"wrote {folder / 'next.csv'}: 15 beliefs updated in 4 " \
                                      f"batches\n"
    assert (folder / "next.csv").read_bytes() == (folder / "python.csv").read_bytes()
    assert main(["solve", str(folder / "next.csv"), "-o", str(folder / "actions1.csv")]) == 0


@pytest.mark.parametrize("out, message", [
    ("next.csv", "{folder}/answers.csv, line 2, column 'signal': signals.signal: must be an "
                 "integer"),
    ("next.txt", "update.out: must be a path ending in .csv; got"),
    ("answers.csv", "update.out: {folder}/answers.csv: must not be an input of this run"),
])
def test_rmab_update_writes_nothing_on_an_error(week, folder, capsys, out, message):
    _edit(folder / "answers.csv", "batch_id,arm_id,signal\nclinic-north,p001,",
          "batch_id,arm_id,signal\nclinic-north,p001,x")
    (folder / "next.csv").write_text("last run's\n")
    before = sorted(p.name for p in folder.iterdir())
    argv = ["update", str(folder / "week.csv"), "--actions", str(folder / "actions.csv"),
            "--signals", str(folder / "answers.csv"), "--out", str(folder / out)]
    assert main(argv) == 1
    assert f"rmab: error: {message.format(folder=folder)}" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == before
    assert (folder / "next.csv").read_text() == "last run's\n"


def test_rmab_update_needs_the_actions_and_an_output(week, folder, capsys):
    with pytest.raises(SystemExit) as info:
        main(["update", str(folder / "week.csv"), "-o", str(folder / "next.csv")])
    assert info.value.code == 2
    assert "the following arguments are required: --actions" in capsys.readouterr().err


@pytest.mark.parametrize("decomposed", ["actions", "week"])
@pytest.mark.parametrize("column", ["batch_id", "arm_id"])
def test_an_id_in_another_unicode_form_is_said_so(tmp_path, column, decomposed):
    """An actions file saved with decomposed accents (NFD, as macOS tools may write them)
    against a batch file's composed ones (NFC) said "got 'Bénéficiaire' (did you mean
    'Bénéficiaire'?)", the two alike on screen (a walkthrough). Either file may be the
    decomposed one."""
    import unicodedata

    arm = '"[[[1,0],[0,1]],[[1,0],[0,1]]]","[0,1]"'
    ids = {"batch_id": "Clínica", "arm_id": "Bénéficiaire"}
    other = dict(ids, **{column: unicodedata.normalize("NFD", ids[column])})
    assert other[column] != unicodedata.normalize("NFC", other[column])
    week, acted = (ids, other) if decomposed == "actions" else (other, ids)
    (tmp_path / "week.csv").write_text("batch_id,arm_id,budget,state,transitions,rewards\n"
                                       f"{week['batch_id']},{week['arm_id']},1,0,{arm}\n",
                                       encoding="utf-8")
    (tmp_path / "actions.csv").write_text(f"batch_id,arm_id,action,signal\n"
                                          f"{acted['batch_id']},{acted['arm_id']},0,\n",
                                          encoding="utf-8")
    with pytest.raises(BatchInputError, match=fr"actions\.{column}: .* but with its accents "
                                              r"encoded another way, Unicode NFD against NFC: "
                                              r"save both files from the same program\); they "
                                              r"are") as info:
        updated_beliefs(read_batches(tmp_path / "week.csv"), tmp_path / "actions.csv")
    assert "did you mean" not in str(info.value)


def test_update_keep_going_copies_a_bad_batch_and_updates_the_rest(week, folder, capsys):
    """After rmab solve --keep-going skipped a batch, rmab update refused the whole week until
    its rows were mended (a walkthrough). With --keep-going that batch's rows are copied as
    they are (its rows in the actions and answers files passed over), the others updated as
    update_beliefs updates them (the fixture's reference), exit 3."""
    batches, reference = week
    text = (folder / "week.csv").read_text()
    bad = next(r for r in text.splitlines() if r.startswith("clinic-north,p001,"))
    _edit(folder / "week.csv", bad, bad.replace("0.40;0.60", "0.4;0.7"))
    argv = ["update", str(folder / "week.csv"), "--actions", str(folder / "actions.csv"),
            "--signals", str(folder / "answers.csv"), "-o", str(folder / "next.csv")]
    assert main(argv) == 1 and not (folder / "next.csv").exists()
    assert "line 2, column 'belief'" in capsys.readouterr().err
    assert main([*argv, "--keep-going"]) == 3
    out, err = capsys.readouterr()
    assert "rmab: batch 'clinic-north' copied as it was: " in err and "line 2" in err
    assert out.startswith("wrote ") and out.rstrip().endswith("; 1 copied as it was")
    after = read_batches_keep_going(folder / "next.csv")[0]
    assert [b.batch_id for b in after] == [b.batch_id for b in batches[1:]]
    for batch in after:
        np.testing.assert_allclose(batch.belief, reference[batch.batch_id], atol=1e-12)
    kept = [r for r in (folder / "next.csv").read_text().splitlines()
            if r.startswith("clinic-north,")]
    assert kept == [r for r in (folder / "week.csv").read_text().splitlines()
                    if r.startswith("clinic-north,")]
    # the skipped batch's rows are passed over however bad (one of too few fields: a review)
    with open(folder / "actions.csv", "a") as fh:
        fh.write("clinic-north,p001\n")
    assert main([*argv, "--keep-going"]) == 3
    capsys.readouterr()
    # every batch bad: each problem said, and nothing to write (a review: only the first)
    text = (folder / "week.csv").read_text()
    firsts = [next(r for r in text.splitlines() if r.startswith(b.batch_id + ","))
              for b in batches]
    for row in firsts[1:]:                     # clinic-north's is bad already
        _edit(folder / "week.csv", row, row + ",stray")
    (folder / "next.csv").unlink()
    assert main([*argv, "--keep-going"]) == 1 and not (folder / "next.csv").exists()
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1] for line in err[:4]] == [
        f" batch {b.batch_id!r}" for b in batches], err
    assert err[4].startswith("rmab: error: ") and err[4].endswith(
        "week.csv: update: no batch of " + str(folder / "week.csv") + " reads (4 problems "
        "above); nothing written"), err


def test_update_keep_going_copies_every_bad_batch(week, folder, capsys):
    """Two bad batches are both copied and both said; a skipped batch's row is passed over
    with its batch id padded by spaces, as every cell is read stripped. Reference: the
    fixture's update_beliefs beliefs for the other two batches."""
    batches, reference = week
    text = (folder / "week.csv").read_text()
    for bid in ("clinic-north", "outreach"):
        row = next(r for r in text.splitlines() if r.startswith(bid + ","))
        _edit(folder / "week.csv", row, row + ",stray")
    with open(folder / "actions.csv", "a") as fh:
        fh.write(" clinic-north ,p001\n")
    argv = ["update", str(folder / "week.csv"), "--actions", str(folder / "actions.csv"),
            "--signals", str(folder / "answers.csv"), "-o", str(folder / "next.csv"),
            "--keep-going"]
    assert main(argv) == 3
    out, err = capsys.readouterr()
    for bid in ("clinic-north", "outreach"):
        assert f"rmab: batch {bid!r} copied as it was: " in err, err
    assert out.rstrip().endswith("; 2 copied as they were"), out
    after = read_batches_keep_going(folder / "next.csv")[0]
    assert [b.batch_id for b in after] == ["clinic-south", "pilot"]
    for batch in after:
        np.testing.assert_allclose(batch.belief, reference[batch.batch_id], atol=1e-12)


def test_updated_beliefs_skip_takes_batch_ids(week, folder):
    with pytest.raises(InvalidParameterError, match=r"^updated_beliefs\.skip: must be a "
                                                    r"collection of batch ids \(str\); got "):
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv", skip="x")
    with pytest.raises(InvalidParameterError, match=r"updated_beliefs\.skip: must be"):
        updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv", skip=[1])
    got = updated_beliefs(week[0][1:], folder / "actions.csv", folder / "answers.csv",
                          skip={"clinic-north"})
    assert list(got) == [b.batch_id for b in week[0][1:]]
    # a batch that was read is updated even if skip names it: only rows of batches not read
    # are passed over (reference: the fixture's update_beliefs beliefs)
    got = updated_beliefs(week[0], folder / "actions.csv", folder / "answers.csv",
                          skip={"clinic-north"})
    assert list(got) == [b.batch_id for b in week[0]]
    for bid, belief in got.items():
        np.testing.assert_allclose(belief, week[1][bid], atol=1e-12)


def test_a_move_the_estimate_s_log_never_showed_is_said_so_with_the_way_to_keep_it(tmp_path):
    """rmab estimate's pooled prior gives a move no arm's record shows probability 0; when it
    then happened, rmab update refused it as impossible without saying why (a walkthrough).
    No record goes from state 1 to 0 under action 1: bo, in state 1, is called and is seen
    in state 0."""
    log = tmp_path / "log.csv"
    log.write_text("week,batch_id,budget,arm_id,state,action,next_state\n"
                   "1,south,1,ana,0,0,0\n1,south,1,bo,1,1,1\n2,south,1,ana,0,1,1\n"
                   "2,south,1,bo,1,0,0\n3,south,1,ana,1,1,1\n3,south,1,bo,0,0,1\n")
    week, out = tmp_path / "week.csv", tmp_path / "week2.csv"
    estimate = ["estimate", str(log), "--rewards", "0;1", "--costs", "0;1", "--order-by",
                "week", "-o", str(tmp_path / "arms.npz"), "--batch", str(week)]
    assert main(estimate) == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nsouth,ana,0,0\nsouth,bo,1,0\n")
    update = ["--debug", "update", str(week), "--actions", str(answers), "-o", str(out)]
    with pytest.raises(BatchInputError, match=r"got '0' after action 1, which has probability "
                       r"0 \(arm 'bo' of batch 'south'\): its model moves from state 1 to 0 "
                       r"under action 1 with probability 0; rmab estimate fitted it from "
                       r"'log\.csv', where no record of any arm shows that move and the pooled "
                       r"prior \(strength 1\) gives it no weight: if it can happen, give it a "
                       r"little weight: estimate again with --prior uniform and run the update "
                       r"again$") as info:
        main(update)
    assert (info.value.line, info.value.column) == (3, "signal")
    assert not out.exists()
    assert main(estimate + ["--prior", "uniform"]) == 0          # as the error says
    assert main(update[1:]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["arm_id"], r["belief"]) for r in rows] == [("ana", "1;0"), ("bo", "1;0")]


def test_a_move_one_arm_s_log_never_showed_with_strength_0(tmp_path):
    """--strength 0 gives each arm its own frequencies: bo's records go from 1 to 0 under
    action 1, ana's never, so ana's 0 is its own and --strength > 0 lends it bo's."""
    log = tmp_path / "log.csv"
    log.write_text("arm_id,state,action,next_state\nana,0,0,0\nana,0,1,1\nana,1,0,1\n"
                   "ana,1,1,1\nbo,0,0,0\nbo,0,1,1\nbo,1,0,0\nbo,1,1,0\n")
    week = tmp_path / "week.csv"
    assert main(["estimate", str(log), "--rewards", "0;1", "--strength", "0", "-o",
                 str(tmp_path / "arms.npz"), "--batch", str(week)]) == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nnext,ana,1,0\nnext,bo,0,0\n")
    with pytest.raises(BatchInputError, match=r"\(arm 'ana' of batch 'next'\): its model moves "
                       r"from state 1 to 0 under action 1 with probability 0; rmab estimate "
                       r"fitted it from 'log\.csv', where no record of its arm 'ana' shows "
                       r"that move and the pooled prior \(strength 0\) gives it no weight: if "
                       r"it can happen, give it a little weight: estimate again with "
                       r"--strength > 0 \(other arms' records show it\) and run the update "
                       r"again$"):
        main(["--debug", "update", str(week), "--actions", str(answers), "-o",
              str(tmp_path / "week2.csv")])


def test_a_signal_the_estimate_s_log_never_showed_is_said_so_with_the_way_to_keep_it(tmp_path):
    """rmab estimate --hidden gives a signal no record shows after an action probability 0 in
    every state. Where every call was answered, the signal rows after a call were all alike
    (answered, surely), and rmab update said an answer of 0 needs an empty cell: 'correct its
    action', the wrong way. Now it says why 0 is impossible and how to keep it possible."""
    log = tmp_path / "hlog.csv"
    log.write_text("week,arm_id,action,signal\n" + "".join(
        f"{w},{n},{w % 2},{'1' if w % 2 else ''}\n" for w in range(1, 13) for n in "abcd"))
    week, out = tmp_path / "hweek.csv", tmp_path / "hweek2.csv"
    estimate = ["estimate", str(log), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                "--order-by", "week", "-o", str(tmp_path / "h.npz"), "--batch", str(week)]
    assert main(estimate) == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nnext,a,1,0\nnext,b,0,\nnext,c,0,\n"
                       "next,d,0,\n")
    update = ["--debug", "update", str(week), "--actions", str(answers), "-o", str(out)]
    with pytest.raises(BatchInputError, match=r"signals\.signal: must be possible under the "
                       r"arm's model and belief; got '0' after action 1, which has probability "
                       r"0 \(arm 'a' of batch 'next'\): its signal model gives signal 0 after "
                       r"action 1 probability 0 in every state; rmab estimate fitted it from "
                       r"'hlog\.csv', where no record of any arm shows that signal after that "
                       r"action and the signal model \(--signal-strength 0\) gives it no "
                       r"weight: if it can happen, give it a little weight: estimate again "
                       r"with --signal-strength 1 and run the update again$") as info:
        main(update)
    assert (info.value.line, info.value.column) == (2, "signal")
    assert not out.exists()
    # the answer every call had: expected (no news), not 'must be empty'; the belief is the
    # prediction, by hand
    answers.write_text("batch_id,arm_id,action,signal\nnext,a,1,1\nnext,b,0,\nnext,c,0,\n"
                       "next,d,0,\n")
    assert main(update[1:]) == 0
    batch = read_batches(week)[0]
    np.testing.assert_allclose(read_batches(out)[0].belief[0],
                               batch.belief[0] @ batch.instance.arms.transitions[0, 1],
                               atol=1e-11)
    answers.write_text("batch_id,arm_id,action,signal\nnext,a,1,0\nnext,b,0,\nnext,c,0,\n"
                       "next,d,0,\n")
    assert main(estimate + ["--signal-strength", "1"]) == 0          # as the error says
    assert main(update[1:]) == 0
    batch = read_batches(week)[0]
    p, o = batch.instance.arms.transitions, batch.instance.arms.observations
    assert o[0, 1, 1, 0] > 0                                 # 'no answer' kept possible
    ahead = batch.belief[0] @ p[0, 1]                        # Bayes' rule, by hand
    want = ahead * o[0, 1, :, 0] / (ahead @ o[0, 1, :, 0])
    np.testing.assert_allclose(read_batches(out)[0].belief[0], want, atol=1e-11)


def test_a_third_signal_never_logged_is_said_so_for_a_hidden_arm(tmp_path):
    """Signals 0 and 1 follow a call in the log, never 2 ('busy'): the signal rows differ by
    state, and 2 was refused as of probability 0 without a why."""
    log = tmp_path / "log.csv"
    log.write_text("arm_id,action,signal\n" + "".join(
        f"{n},1,{s}\n{n},0,\n" for n in "ab" for s in "0110100111"))
    week = tmp_path / "week.csv"
    assert main(["estimate", str(log), "--hidden", "--rewards", "0;1", "--signal-names",
                 "no;yes;busy", "-o", str(tmp_path / "h.npz"), "--batch", str(week)]) == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nnext,a,0,\nnext,b,1,2\n")
    with pytest.raises(BatchInputError, match=r"got '2' after action 1, which has probability "
                       r"0 \(arm 'b' of batch 'next'\): its signal model gives signal 2 after "
                       r"action 1 probability 0 in every state; rmab estimate fitted it from "
                       r"'log\.csv', where no record of any arm shows that signal after that "
                       r"action and the signal model \(--signal-strength 0\) gives it no "
                       r"weight: if it can happen, give it a little weight: estimate again "
                       r"with --signal-strength 1 and run the update again$") as info:
        main(["--debug", "update", str(week), "--actions", str(answers), "-o",
              str(tmp_path / "week2.csv")])
    assert isinstance(info.value.__cause__, ImpossibleSignalError)


def test_a_signal_not_known_where_the_alike_rows_make_one_certain_is_the_prediction(tmp_path):
    """Where every call in the log was answered, the rows after a call are alike as they give
    'answered' probability 1: a call's answer is expected, and update takes it. A '?' (the
    call made, its answer not logged) was refused as 'must be empty ... correct its action',
    the wrong way; it is the prediction, as the answer itself gives (by hand)."""
    log = tmp_path / "hlog.csv"
    log.write_text("week,arm_id,action,signal\n" + "".join(
        f"{w},{n},{w % 2},{'1' if w % 2 else ''}\n" for w in range(1, 13) for n in "abcd"))
    week, out = tmp_path / "hweek.csv", tmp_path / "hweek2.csv"
    assert main(["estimate", str(log), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                 "--order-by", "week", "-o", str(tmp_path / "h.npz"), "--batch", str(week)]) == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nnext,a,1,?\nnext,b,1,1\nnext,c,0,\n"
                       "next,d,0,\n")
    assert main(["update", str(week), "--actions", str(answers), "-o", str(out)]) == 0
    batch = read_batches(week)[0]
    p = batch.instance.arms.transitions
    got = read_batches(out)[0].belief
    for k in range(2):
        np.testing.assert_allclose(got[k], batch.belief[k] @ p[k, 1], atol=1e-11)
    answers.write_text("batch_id,arm_id,action,signal\nnext,a,0,?\nnext,b,0,\nnext,c,0,\n"
                       "next,d,0,\n")                 # no call: still 'must be empty'
    with pytest.raises(BatchInputError, match=r"signals\.signal: must be empty; got '\?'"):
        main(["--debug", "update", str(week), "--actions", str(answers), "-o", str(out)])


def test_the_why_of_an_impossible_move_is_said_for_an_arm_after_the_first(tmp_path):
    """--strength 0: each arm its own frequencies. From state 0 under action 0, bo (the second
    arm) only ever stays, ana moves to 1: bo's move to 1 is bo's own 0, which --strength > 0
    lends ana's records to (ana's model differs from bo's)."""
    log = tmp_path / "log.csv"
    log.write_text("arm_id,state,action,next_state\nana,0,0,1\nana,1,0,1\nana,0,1,1\n"
                   "ana,1,1,1\nbo,0,0,0\nbo,1,0,0\nbo,0,1,1\nbo,1,1,0\n")
    week = tmp_path / "week.csv"
    assert main(["estimate", str(log), "--rewards", "0;1", "--strength", "0", "-o",
                 str(tmp_path / "arms.npz"), "--batch", str(week)]) == 0
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nnext,ana,0,1\nnext,bo,0,1\n")
    with pytest.raises(BatchInputError, match=r"\(arm 'bo' of batch 'next'\): its model moves "
                       r"from state 0 to 1 under action 0 with probability 0; rmab estimate "
                       r"fitted it from 'log\.csv', where no record of its arm 'bo' shows "
                       r"that move .* --strength > 0 \(other arms' records show it\)") as info:
        main(["--debug", "update", str(week), "--actions", str(answers), "-o",
              str(tmp_path / "week2.csv")])
    assert info.value.line == 3


def test_a_signal_the_belief_rules_out_is_not_said_impossible_in_every_state(tmp_path):
    """Signal 0 after action 1 is possible in state 0 (0.5), never in state 1; the arm is in
    state 1 (identity moves): impossible by its belief, so no 'in every state' why."""
    o = "[[[0.5,0.5],[0.5,0.5]],[[0.5,0.5],[0,1]]]"
    t = "[[[1,0],[0,1]],[[1,0],[0,1]]]"
    week = tmp_path / "week.csv"
    week.write_text("batch_id,arm_id,budget,state,transitions,observations,rewards\n"
                    f'b,a,1,1,"{t}","{o}","[0,1]"\nb,c,1,0,"{t}","{o}","[0,1]"\n')
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nb,a,1,0\nb,c,1,0\n")
    with pytest.raises(BatchInputError, match=r"got '0' after action 1, which has probability "
                       r"0 \(arm 'a' of batch 'b'\)$") as info:
        updated_beliefs(read_batches(week), answers)
    assert info.value.line == 2


def test_a_model_file_changed_since_it_was_read_gives_the_signal_error_without_a_why(tmp_path):
    """The estimate's model file is overwritten by a file that is not an instance after the
    batch was read: the impossible move is refused as such (no hint), not as a bad file."""
    log = tmp_path / "log.csv"
    log.write_text("arm_id,state,action,next_state\n" + "".join(
        f"{arm},{s},{a},0\n" for arm in ("ana", "bo") for a in (0, 1) for s in (0, 1)))
    week = tmp_path / "week.csv"
    assert main(["estimate", str(log), "--rewards", "0;1", "--strength", "0", "-o",
                 str(tmp_path / "arms.npz"), "--batch", str(week)]) == 0
    batches = read_batches(week)
    (tmp_path / "arms.npz").write_bytes(b"not an npz")
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nnext,ana,0,1\nnext,bo,0,0\n")
    with pytest.raises(BatchInputError, match=r"its model moves from state 0 to 1 under "
                       r"action 0 with probability 0$"):
        updated_beliefs(batches, answers)


def test_a_signal_a_known_signal_model_rules_out_is_neither_warned_of_nor_blamed_on_a_fit(
        tmp_path, capsys):
    """--known-signals '1,0;1,0' gives signal 1 probability 0 in every state: the user's own
    model (no signal_strength in the file's params), so rmab estimate does not warn of it as
    unfitted and rmab update says why it is impossible without the estimate's remedy."""
    log = tmp_path / "hlog.csv"
    log.write_text("week,arm_id,action,signal\n1,a,1,0\n1,b,1,0\n2,a,0,\n2,b,0,\n")
    week = tmp_path / "hweek.csv"
    assert main(["estimate", str(log), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                 "--order-by", "week", "--known-signals", "1,0;1,0", "-o",
                 str(tmp_path / "h.npz"), "--batch", str(week)]) == 0
    err = capsys.readouterr().err
    assert "wrote" in err and "signal_strength" not in err
    answers = tmp_path / "answers.csv"
    answers.write_text("batch_id,arm_id,action,signal\nnext,a,1,1\nnext,b,0,\n")
    with pytest.raises(BatchInputError, match=r"\(arm 'a' of batch 'next'\): its signal model "
                       r"gives signal 1 after action 1 probability 0 in every state$"):
        updated_beliefs(read_batches(week), answers)
