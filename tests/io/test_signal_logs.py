"""Signal logs (the state never seen): read_signal_log and ``rmab estimate --hidden``, from a
log to a solved batch."""

import numpy as np
import pytest

from rmab.belief import update_beliefs
from rmab.cli import main
from rmab.errors import BatchInputError, InvalidParameterError, RmabWarning
from rmab.io import read_batches
from rmab.io.logs import read_signal_log
from rmab.models import POMDPArms, estimate_hidden_arms, load_instance

LOG = ("week,who,action,signal\n"
       "2,ana,call,answered\n1,bo,none,\n1,ana,none,\n2,bo,call,no answer\n"
       "3,cy,call, answered \n3,ana,none,\n")
NAMES = dict(columns={"arm_id": "who"}, order_by="week", action_names=["none", "call"],
             signal_names=["no answer", "answered"])


def test_a_signal_log_reads_labels_blanks_and_the_time_order(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    log = read_signal_log(path, **NAMES)
    assert log.arm_ids.tolist() == ["bo", "ana", "cy"]                # in time order
    np.testing.assert_array_equal(log.lines, [3, 4, 2, 5, 6, 7])
    np.testing.assert_array_equal(log.arm_index, [0, 1, 1, 0, 2, 1])
    np.testing.assert_array_equal(log.actions, [0, 0, 1, 1, 1, 0])
    np.testing.assert_array_equal(log.signals, [-1, -1, 1, 0, 1, -1])     # empty: none
    rows = read_signal_log(path, **NAMES | {"order_by": None})          # the file's order
    np.testing.assert_array_equal(rows.lines, [2, 3, 4, 5, 6, 7])


def test_the_row_by_row_reading_agrees_with_the_column_reading(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    columns = read_signal_log(path, **NAMES)
    path.write_text(LOG + "4,cy,none,,\n")          # a fifth cell: read row by row
    rows = read_signal_log(path, **NAMES)
    assert rows.arm_ids.tolist() == columns.arm_ids.tolist()
    for name in ("arm_index", "actions", "signals", "lines"):
        np.testing.assert_array_equal(getattr(rows, name)[:-1], getattr(columns, name))
    assert (rows.arm_index[-1], rows.actions[-1], rows.signals[-1]) == (2, 0, -1)


@pytest.mark.parametrize("cell, match", [
    ("maybe", r"column 'signal': log\.signal: must be an integer >= 0 or a name: 'no answer', "
              r"'answered' or empty \(no signal\) or '\?' \(not known\); got 'maybe'$"),
    ("-1", r"log\.signal: must be an integer >= 0 or a name: .*got '-1'$"),
])
def test_a_bad_signal_is_named_by_line_and_column(tmp_path, cell, match):
    path = tmp_path / "log.csv"
    path.write_text(LOG.replace("no answer", cell))
    with pytest.raises(BatchInputError, match=match):
        read_signal_log(path, **NAMES)


def test_a_question_mark_is_a_signal_not_known_as_rmab_update_takes_it(tmp_path):
    """A log put together from the weekly answer files holds the '?' that rmab update asks for
    where a signal was not seen; it was refused ('must be an integer >= 0 or empty'). It is no
    evidence that period, as an empty cell: the records of the log with those cells emptied
    (the reference), read column by column and row by row (a fifth cell)."""
    marked, blank = tmp_path / "marked.csv", tmp_path / "blank.csv"
    text = LOG.replace("2,bo,call,no answer", "2,bo,call,?").replace("1,ana,none,", "1,ana,none,?")
    marked.write_text(text)
    blank.write_text(text.replace("?", ""))
    want = read_signal_log(blank, **NAMES)
    np.testing.assert_array_equal(want.signals, [-1, -1, 1, -1, 1, -1])
    for extra in ("", "4,cy,none,,\n"):
        marked.write_text(text + extra)
        blank.write_text(text.replace("?", "") + extra)
        got, want = read_signal_log(marked, **NAMES), read_signal_log(blank, **NAMES)
        for name in ("arm_index", "actions", "signals", "lines"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    with pytest.raises(InvalidParameterError, match=r"signal_names: must not name a signal "
                                                    r"'\?'"):
        read_signal_log(marked, **NAMES | {"signal_names": ["no answer", "?"]})


def test_a_bad_signal_without_labels_gets_the_hint(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\nana,1,yes\n")
    with pytest.raises(BatchInputError, match=r"line 2, column 'signal': .*got 'yes' \(signals "
                                              r"are numbers: .*--signal-names; an empty cell "
                                              r"is no signal\)$"):
        read_signal_log(path)


def test_a_repeated_row_is_warned_of_as_a_signal_counted_again(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG + "3,cy,call,answered\n")
    with pytest.warns(RmabWarning, match=r"line 8 repeats line 6\), its signal counted again"):
        read_signal_log(path, **NAMES)


@pytest.mark.filterwarnings("ignore:.*cannot determine it:rmab.errors.RmabWarning")
def test_estimate_hidden_writes_pomdp_arms_beliefs_and_a_batch_rmab_solve_takes(tmp_path,
                                                                                capsys):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    out, batch = tmp_path / "model" / "arms.npz", tmp_path / "week.csv"
    assert main(["estimate", str(path), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                 "--columns", "arm_id=who", "--order-by", "week", "--action-names",
                 "none;call", "--signal-names", "no answer;answered", "--strength", "2",
                 "--seed", "5", "--budget", "1", "-o", str(out), "--batch", str(batch)]) == 0
    err = capsys.readouterr().err
    assert "3 arms from 6 records, 2 states, 2 actions, budget 1; 2 signals" in err
    inst = load_instance(out)
    log = read_signal_log(path, **NAMES)
    want = estimate_hidden_arms(log.arm_index, log.actions, log.signals, n_arms=3, n_states=2,
                                n_actions=2, n_obs=2, strength=2.0, seed=5)
    assert isinstance(inst.arms, POMDPArms)
    np.testing.assert_array_equal(inst.arms.transitions, want.transitions)
    np.testing.assert_array_equal(inst.arms.observations, want.observations)
    np.testing.assert_array_equal(inst.initial_belief, want.beliefs)
    assert inst.metadata["arm_ids"] == ["bo", "ana", "cy"]
    assert inst.metadata["params"]["signals"] == ["no answer", "answered"]
    (read,) = read_batches(batch)
    assert read.arm_ids.tolist() == ["bo", "ana", "cy"]
    np.testing.assert_allclose(read.belief, want.beliefs, rtol=1e-11)
    assert main(["solve", str(batch), "--planner", "whittle", "--out",
                 str(tmp_path / "actions.csv")]) == 0


def test_the_bundled_signal_log_estimates(tmp_path, capsys):
    from pathlib import Path
    log = Path(__file__).resolve().parents[2] / "data" / "signal_log_example.csv"
    assert main(["estimate", str(log), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                 "--order-by", "week", "-o", str(tmp_path / "a.npz")]) == 0
    inst = load_instance(tmp_path / "a.npz")
    assert inst.n_arms == 20 and inst.arms.n_obs == 2
    np.testing.assert_array_equal(inst.arms.observations[:, 0], 0.5)   # no signal uncalled
    assert inst.arms.observations[0, 1, 1, 1] > inst.arms.observations[0, 1, 0, 1]


@pytest.mark.parametrize("flags, match", [
    (["--hidden", "--prior", "uniform"], r"estimate\.prior: not with --hidden \(the prior is "),
    (["--hidden", "--state-names", "a;b"], r"estimate\.state_names: not with --hidden \(a "
                                           r"signal log has no state column\)"),
    (["--hidden", "--strength", "0"], r"estimate\.strength: must be > 0 with --hidden"),
    (["--hidden", "--max-iter", "0"], r"estimate\.max_iter: must be >= 1"),
    (["--hidden", "--strength", "auto", "--prior", "pooled"], r"estimate\.prior: not with"),
    (["--strength", "auto", "--seed", "1"], r"estimate\.seed: is for a signal log"),
    (["--signal-names", "a;b"], r"estimate\.signal_names: is for a signal log \(--hidden\)"),
    (["--seed", "1"], r"estimate\.seed: is for a signal log \(--hidden\)"),
    (["--hidden", "--columns", "state=x"], r"estimate\.columns: keys must be among arm_id, "
                                           r"action, signal, batch_id, budget; got 'state'"),
])
def test_estimate_hidden_refuses_what_does_not_apply(tmp_path, capsys, flags, match):
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\nana,1,1\nana,0,\n")
    out = str(tmp_path / "a.npz")
    assert main(["estimate", str(path), "--rewards", "0;1", "-o", out, *flags]) == 1
    assert capsys.readouterr().err.startswith("rmab: error: ")
    with pytest.raises(InvalidParameterError, match=match):
        main(["--debug", "estimate", str(path), "--rewards", "0;1", "-o", out, *flags])
    assert not (tmp_path / "a.npz").exists()


def test_a_signal_past_the_signal_names_is_named_by_its_line(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\nana,1,1\nana,1,2\n")
    with pytest.raises(BatchInputError, match=r"line 3, column 'signal': log\.signal: must be "
                                              r"in \[0, 2\); got 2 \(2 signals, a name "
                                              r"each: --signal-names\)$"):
        main(["--debug", "estimate", str(path), "--hidden", "--rewards", "0;1",
              "--signal-names", "no;yes", "-o", str(tmp_path / "a.npz")])


def test_estimate_hidden_warns_when_the_log_has_too_few_signals(tmp_path, capsys):
    """The 3 signals of LOG cannot determine the pooled model's 7 free parameters: the
    command said nothing and wrote near-certain beliefs (a walkthrough)."""
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    assert main(["estimate", str(path), "--hidden", "--rewards", "0;1", "--columns",
                 "arm_id=who", "--order-by", "week", "--action-names", "none;call",
                 "--signal-names", "no answer;answered", "-o", str(tmp_path / "a.npz")]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1
    assert ("rmab: warning: estimate_hidden_arms: the records hold 3 signals, fewer than the "
            "pooled model's 7 free parameters, so they cannot determine it") in err


@pytest.mark.filterwarnings("ignore:.*cannot determine it:rmab.errors.RmabWarning")
def test_estimate_hidden_with_strength_inf_gives_every_arm_the_pooled_rows(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    out = tmp_path / "a.npz"
    assert main(["estimate", str(path), "--hidden", "--rewards", "0;1", "--columns",
                 "arm_id=who", "--order-by", "week", "--action-names", "none;call",
                 "--signal-names", "no answer;answered", "--strength", "inf", "-o",
                 str(out)]) == 0                    # documented; JSON has no inf
    inst = load_instance(out)
    log = read_signal_log(path, **NAMES)
    want = estimate_hidden_arms(log.arm_index, log.actions, log.signals, n_arms=3, n_states=2,
                                n_actions=2, n_obs=2, strength=np.inf, seed=0)
    np.testing.assert_array_equal(inst.arms.transitions, want.transitions)
    assert inst.metadata["params"]["strength"] == "inf"


def test_a_signal_past_the_signal_names_is_named_by_the_file_s_column(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("who,what,heard\nana,1,1\nana,1,2\n")
    with pytest.raises(BatchInputError, match=r"line 3, column 'heard': log\.signal: must be "
                                              r"in \[0, 2\)"):
        main(["--debug", "estimate", str(path), "--hidden", "--rewards", "0;1", "--columns",
              "arm_id=who;action=what;signal=heard", "--signal-names", "no;yes", "-o",
              str(tmp_path / "a.npz")])


def test_a_typo_in_a_signal_is_not_10_001_signals(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\nana,1,1\nana,1,0\nbo,1,10000\nbo,0,\n")
    args = ["estimate", str(path), "--hidden", "--rewards", "0;1", "-o", str(tmp_path / "a.npz")]
    with pytest.raises(BatchInputError, match=r"line 4, column 'signal': log\.signal: no record "
                                              r"gives signal 2, below the largest logged, "
                                              r"10000 \(a typo\?\): give --signal-names"):
        main(["--debug", *args])                    # 2000 arms: 2 GB; 20 000: out of memory
    path.write_text("arm_id,action,signal\nana,1,1\nbo,0,\n")     # only answers: 2 signals
    assert main(args) == 0 and load_instance(tmp_path / "a.npz").arms.n_obs == 2


def test_one_signal_name_is_refused_by_its_flag(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\nana,1,0\nana,0,\n")
    with pytest.raises(InvalidParameterError, match=r"estimate\.signal_names: must give a name "
                                                    r"per signal, at least 2; got 'no'$"):
        main(["--debug", "estimate", str(path), "--hidden", "--rewards", "0;1",
              "--signal-names", "no", "-o", str(tmp_path / "a.npz")])


@pytest.mark.parametrize("text, flags, match", [
    ("week,arm_id,action,signal\n1,ana,1,1\n", [],
     r"missing state, next_state \(got .*\): a log of actions and signals\? read it with "
     r"read_signal_log \(rmab estimate --hidden\)$"),
    ("week,arm_id,state,action,next_state\n1,ana,0,1,1\n", ["--hidden"],
     r"missing signal \(got .*\): a log of seen states\? read it with read_transition_log "
     r"\(rmab estimate without --hidden\)$"),
])
def test_the_other_kind_of_log_is_named_as_such(tmp_path, text, flags, match):
    path = tmp_path / "log.csv"                 # not 'name yours with columns'
    path.write_text(text)
    with pytest.raises(BatchInputError, match=match):
        main(["--debug", "estimate", str(path), "--rewards", "0;1", "-o",
              str(tmp_path / "a.npz"), *flags])


def test_an_action_no_record_takes_is_warned_of_as_from_a_transition_log(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    assert main(["estimate", str(path), "--hidden", "--rewards", "0;1", "--costs", "0;1;1",
                 "--columns", "arm_id=who", "--order-by", "week", "--action-names",
                 "none;call;sms", "--signal-names", "no answer;answered", "-o",
                 str(tmp_path / "a.npz")]) == 0
    assert ("rmab: warning: estimate.costs: no record takes action 2; its transition and "
            "signal rows are uniform (no arm has data)") in capsys.readouterr().err
    arms = load_instance(tmp_path / "a.npz").arms
    np.testing.assert_allclose(arms.transitions[:, 2], 0.5)
    np.testing.assert_allclose(arms.observations[:, 2], 0.5)


def test_an_npz_given_as_a_signal_log_is_named_as_no_signal_log(tmp_path):
    path = tmp_path / "arms.npz"
    path.write_bytes(b"PK\x03\x04" + bytes(range(128, 256)))
    with pytest.raises(BatchInputError, match=r"log: must be a CSV log of actions and signals; "
                                              r"got an \.npz archive"):     # not transitions
        read_signal_log(path)


@pytest.mark.parametrize("hidden", [True, False])
def test_strength_auto_takes_the_best_held_out_strength(tmp_path, capsys, hidden):
    from pathlib import Path

    from rmab.io.logs import read_transition_log
    from rmab.models import score_hidden_strengths, score_strengths

    data = Path(__file__).resolve().parents[2] / "data"
    log = data / ("signal_log_example.csv" if hidden else "log_example.csv")
    out = tmp_path / "a.npz"
    assert main(["estimate", str(log), *(["--hidden"] if hidden else []), "--rewards", "0;1",
                 "--costs", "0;1", "--order-by", "week", "--strength", "auto", "-o",
                 str(out)]) == 0
    if hidden:
        read = read_signal_log(log, order_by="week")
        scores = score_hidden_strengths(read.arm_index, read.actions, read.signals,
                                        n_arms=20, n_states=2, n_actions=2, n_obs=2, seed=0)
    else:
        read = read_transition_log(log, order_by="week")
        scores = score_strengths(read.arm_index, read.states, read.actions, read.next_states,
                                 n_arms=20, n_states=2, n_actions=2)
    best = max(scores, key=scores.get)
    assert load_instance(out).metadata["params"]["strength"] == best
    err = capsys.readouterr().err
    assert f"--strength auto took {best:g}" in err and "held-out log-likelihood" in err


@pytest.mark.parametrize("hidden", [True, False])
def test_strength_auto_refuses_when_every_strength_scores_minus_inf(tmp_path, capsys, hidden):
    # the last quarter of each arm shows what no arm's head does: a signal 2 / a move 1 -> 0
    path = tmp_path / "log.csv"
    if hidden:
        rows = ["arm_id,action,signal"] + [f"{n},1,{o}" for n in "ab" for o in "0101012"]
    else:
        rows = ["arm_id,state,action,next_state"] + [
            f"{n},{s},0,{t}" for n in "ab" for s, t in ("00", "01", "11", "01", "11", "10")]
    path.write_text("\n".join(rows) + "\n")
    args = ["estimate", str(path), *(["--hidden"] if hidden else []), "--rewards", "0;1",
            "--costs", "0;1", "--strength", "auto", "-o", str(tmp_path / "a.npz")]
    remedy = "--signal-strength 1" if hidden else "--prior uniform"
    with pytest.raises(InvalidParameterError, match=r"estimate\.strength: auto: every "
                                                    r"strength gives a held-out record "
                                                    r"probability 0 .*give --strength a "
                                                    rf"number, or {remedy} to keep it "
                                                    r"possible$"):
        main(["--debug", *args])
    assert not (tmp_path / "a.npz").exists()
    assert main([*args, *remedy.split()]) == 0      # as it says: then nothing is ruled out


def test_known_signals_hold_the_signal_model_after_each_action_heard(tmp_path, capsys):
    from pathlib import Path

    log = Path(__file__).resolve().parents[2] / "data" / "signal_log_example.csv"
    out = tmp_path / "a.npz"
    assert main(["estimate", str(log), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                 "--order-by", "week", "--known-signals", "0.85,0.15;0.15,0.85", "-o",
                 str(out)]) == 0
    read = read_signal_log(log, order_by="week")
    rows = np.array([[0.85, 0.15], [0.15, 0.85]])
    want = estimate_hidden_arms(read.arm_index, read.actions, read.signals, n_arms=20,
                                n_states=2, n_actions=2, n_obs=2, seed=0, strength=1.0,
                                observations=[np.full((2, 2), 0.5), rows],   # no call: none
                                fixed=("observations",))
    inst = load_instance(out)
    np.testing.assert_array_equal(inst.arms.observations, want.observations)
    np.testing.assert_array_equal(inst.arms.transitions, want.transitions)


@pytest.mark.parametrize("flags, match", [
    (["--hidden", "--known-signals", "0.8,0.2"], r"estimate\.known_signals: must be 2 rows "
                                                 r"\(one per state of --rewards\) of 2 "),
    (["--hidden", "--known-signals", "0.8,0.2;0.3"], r"estimate\.known_signals: must be 2 rows"),
    (["--hidden", "--known-signals", "0.8,0.2;x,1"], r"estimate\.known_signals: must be 2 rows"),
    (["--hidden", "--known-signals", "0.8,0.2;0.3,0.8"], r"estimate\.known_signals: rows must "
                                                         r"sum to 1 .*state 1"),
    (["--known-signals", "0.8,0.2;0.3,0.7"], r"estimate\.known_signals: is for a signal log"),
])
def test_bad_known_signals_are_named(tmp_path, capsys, flags, match):
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\nana,1,1\nana,0,\n")
    with pytest.raises(InvalidParameterError, match=match):
        main(["--debug", "estimate", str(path), "--rewards", "0;1", "-o",
              str(tmp_path / "a.npz"), *flags])
    assert not (tmp_path / "a.npz").exists()


@pytest.mark.parametrize("hidden", [True, False])
def test_strength_auto_on_a_log_too_short_says_so_in_the_commands_terms(tmp_path, hidden):
    """Three records an arm hold out none (a quarter, rounded down): the error named
    'score_hidden_strengths.holdout' and 'a larger share', which the command has no flag for
    (a walkthrough)."""
    path = tmp_path / "log.csv"
    if hidden:
        rows = ["arm_id,action,signal"] + [f"{n},1,{o}" for n in "ab" for o in "010"]
    else:
        rows = ["arm_id,state,action,next_state"] + [f"{n},0,1,1" for n in "ab" for _ in "123"]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(InvalidParameterError, match=r"^estimate\.strength: auto scores each "
                                                    r"strength on each arm's last quarter of "
                                                    r"its records \(rounded down\), and this "
                                                    r"log leaves no record to score \(an arm "
                                                    r"needs 4 records\); give --strength a "
                                                    r"number \(default 1\)$"):
        main(["--debug", "estimate", str(path), *(["--hidden"] if hidden else []),
              "--rewards", "0;1", "--costs", "0;1", "--strength", "auto", "-o",
              str(tmp_path / "a.npz")])
    assert not (tmp_path / "a.npz").exists()


def test_a_missing_week_of_an_arm_is_warned_of(tmp_path):
    """Arm bo's week 2 row deleted: the fit read week 3 as the period after week 1, silently
    (a walkthrough). A gap in a column of whole numbers is warned of by its lines; dates
    (calls on other weekdays) and complete logs are left alone."""
    import warnings

    rows = [f"{w},{a},1,{(w + len(a)) % 2}" for w in range(1, 5) for a in ("ana", "bo")]
    path = tmp_path / "log.csv"
    path.write_text("week,arm_id,action,signal\n" + "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_signal_log(path, order_by="week")
    path.write_text("week,arm_id,action,signal\n" + "\n".join(r for r in rows
                                                               if r != rows[3]) + "\n")
    with pytest.warns(RmabWarning, match=r"^log: 1 gap in an arm's 'week' \(first: arm 'bo', 1 "
                                         r"on line 3 then 3 on line 6; 1 apart elsewhere\): "
                                         r"each arm needs a record every period") as caught:
        read_signal_log(path, order_by="week")
    assert caught[0].filename == __file__
    dated = tmp_path / "dated.csv"                       # 7 and 9 days apart: no gap said
    dated.write_text("day,arm_id,action,signal\n2026-01-05,ana,1,0\n2026-01-12,ana,1,1\n"
                     "2026-01-21,ana,0,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_signal_log(dated, order_by="day")


def test_strength_auto_with_no_signal_held_out_says_signal(tmp_path):
    """Four records an arm hold out one each, but with no signal in it (empty: none that
    period): the log leaves no signal to score, said as such rather than as no record."""
    path = tmp_path / "log.csv"
    rows = ["arm_id,action,signal"] + [f"{n},{a},{o}" for n in "ab"
                                       for a, o in ((1, 0), (1, 1), (1, 0), (0, ""))]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(InvalidParameterError, match=r"^estimate\.strength: auto scores .* and "
                                                    r"this log leaves no signal to score "):
        main(["--debug", "estimate", str(path), "--hidden", "--rewards", "0;1", "--costs",
              "0;1", "--strength", "auto", "-o", str(tmp_path / "a.npz")])
    assert not (tmp_path / "a.npz").exists()


def test_a_signal_never_logged_after_an_action_is_warned_of_with_the_way_to_keep_it(tmp_path,
                                                                                   capsys):
    """A signal no record shows after an action has probability 0 in every state for every
    arm, and rmab update then refused it, unsaid at estimate. Calls (action 1) are followed by
    'answered' only, so (call, 'no answer') has probability 0; action 0 by no signal, its rows
    uniform: 1 of the 4 (action, signal) pairs."""
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\n" + "".join(
        f"{n},call,answered\n{n},none,\n" for n in "abcd" for _ in range(3)))
    out = tmp_path / "a.npz"
    args = ["estimate", str(path), "--hidden", "--rewards", "0;1", "--costs", "0;1",
            "--action-names", "none;call", "--signal-names", "no answer;answered", "-o",
            str(out)]
    assert main(args) == 0
    assert ("rmab: warning: estimate.signal_strength: 1 of 4 (action, signal) pairs have "
            "probability 0 in every state, for every arm: no record shows them and the signal "
            "model (--signal-strength 0) gives them no weight (first: signal 0 ('no answer') "
            "after action 1 ('call')); should one happen, rmab update refuses it as impossible. "
            "If it can happen, give every signal a little weight with --signal-strength 1 "
            "(1/n_obs pseudo-observations each), or hold a signal model you know, every entry "
            "> 0, with --known-signals") in capsys.readouterr().err
    assert (load_instance(out).arms.observations[:, 1, :, 0] == 0).all()
    assert main(args + ["--signal-strength", "1"]) == 0
    assert "warning" not in capsys.readouterr().err
    inst = load_instance(out)
    # 'no answer' after a call in state s: (0 + 1/2) / (n_s + 1), n_s the pooled expected
    # calls ending in state s, which sum to the 12 calls logged
    calls = 0.5 / inst.arms.observations[:, 1, :, 0] - 1
    assert (calls >= -1e-9).all()
    np.testing.assert_allclose(calls.sum(axis=1), 12.0)
    assert inst.metadata["params"]["signal_strength"] == 1.0
    assert main(args + ["--known-signals", "0.5,0.5;0,1"]) == 0      # yours: not warned of
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("flags, match", [
    (["--signal-strength", "1"], r"estimate\.signal_strength: is for a signal log \(--hidden\)"),
    (["--hidden", "--signal-strength", "-1"], r"estimate\.signal_strength: must be >= 0"),
    (["--hidden", "--signal-strength", "1", "--known-signals", "0.8,0.2;0.3,0.7"],
     r"estimate\.signal_strength: not with --known-signals \(the signal model is then yours, "
     r"held fixed: give it every entry > 0 instead\)"),
])
def test_a_signal_strength_that_does_not_apply_is_refused(tmp_path, flags, match):
    path = tmp_path / "log.csv"
    path.write_text("arm_id,action,signal\nana,1,1\nana,0,\n")
    with pytest.raises(InvalidParameterError, match=match):
        main(["--debug", "estimate", str(path), "--rewards", "0;1", "-o",
              str(tmp_path / "a.npz"), *flags])
    assert not (tmp_path / "a.npz").exists()


def test_rmab_update_reads_the_signal_names_rmab_estimate_kept(tmp_path):
    path, week = tmp_path / "log.csv", tmp_path / "week.csv"
    path.write_text(LOG)
    assert main(["estimate", str(path), "--hidden", "--rewards", "0;1", "--costs", "0;1",
                 "--columns", "arm_id=who", "--order-by", "week", "--action-names",
                 "none;call", "--signal-names", "no answer;answered", "--budget", "2",
                 "-o", str(tmp_path / "arms.npz"), "--batch", str(week)]) == 0
    (batch,) = read_batches(week)                       # arms bo, ana, cy
    (tmp_path / "actions.csv").write_text("batch_id,arm_id,action,signal\n"
                                          "next,bo,1,answered\nnext,ana,0,\n"
                                          "next,cy,1,no answer\n")
    assert main(["update", str(week), "--actions", str(tmp_path / "actions.csv"), "-o",
                 str(tmp_path / "week2.csv")]) == 0     # no --signal-names: the file's
    (after,) = read_batches(tmp_path / "week2.csv")
    want = update_beliefs(batch.instance.arms, batch.belief, np.array([1, 0, 1]),
                          np.array([1, -1, 0]))
    np.testing.assert_allclose(after.belief, want, rtol=1e-10)
    assert not np.allclose(want, batch.belief)          # the answers moved the beliefs


def test_only_a_signal_of_probability_0_in_every_state_is_warned_of(recwarn):
    """Hand-made signal models (action, state, signal): signal 0 after action 1 has
    probability 0 in state 1 only (possible in state 0): no warning; 0 in both: one pair."""
    import argparse

    from rmab.commands.estimate import _warn_of_unheard
    from rmab.errors import RmabWarning
    args = argparse.Namespace(action_names=None)
    some = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.3, 0.7], [0.0, 1.0]]])
    _warn_of_unheard(args, some, None)
    assert not [w for w in recwarn if issubclass(w.category, RmabWarning)]
    every = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.0, 1.0], [0.0, 1.0]]])
    with pytest.warns(RmabWarning, match=r"1 of 4 \(action, signal\) pairs have probability 0 "
                                         r"in every state.*\(first: signal 0 after action 1\)"):
        _warn_of_unheard(args, every, None)
