"""write_batches: a CSV file of batches from Batch objects built in Python, read back as them."""

import csv
import io
import json
import os
import re
import unicodedata
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmab.errors import InvalidParameterError, OutputError
from rmab.io import Batch, read_batches, solve_batches, write_batches
from rmab.models import Instance, MDPArms, POMDPArms, health_intervention

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "batch_example.csv"
T = [[[0.9, 0.1], [0.3, 0.7]], [[0.5, 0.5], [0.1, 0.9]]]


def test_a_hand_built_batch_is_written_as_the_docs_describe_and_read_back(tmp_path):
    """A walkthrough found no way to write a Batch made in Python as the file rmab solve
    reads. Reference: the file's text, written here by hand from docs/csv.md."""
    arms = MDPArms([T, T], [[[0.0, 0.0], [1.0, 1.5]]] * 2, costs=[[0, 0.5], [0, 1.25]])
    inst = Instance(arms, 0.5, discount=0.9, initial_belief=[[0.25, 0.75], [0.0, 1.0]],
                    max_active=1)
    out = tmp_path / "week.csv"
    assert write_batches([Batch("w 1", ["a,1", "b"], inst)], out) == 2
    t = '"[[[0.9,0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"'
    assert out.read_text(encoding="utf-8").splitlines() == [
        "batch_id,arm_id,budget,discount,state,belief,transitions,rewards,costs,max_active",
        f'w 1,"a,1",0.5,0.9,,0.25;0.75,{t},"[[0.0,0.0],[1.0,1.5]]",0;0.5,1',
        f'w 1,b,0.5,0.9,1,,{t},"[[0.0,0.0],[1.0,1.5]]",0;1.25,1']
    (back,) = read_batches(out)
    assert back.arm_ids.tolist() == ["a,1", "b"] and back.batch_id == "w 1"
    np.testing.assert_array_equal(back.belief, [[0.25, 0.75], [0.0, 1.0]])
    np.testing.assert_array_equal(back.instance.arms.costs, [[0, 0.5], [0, 1.25]])
    assert (back.instance.budget, back.instance.discount, back.instance.max_active) == (
        0.5, 0.9, 1)
    # rmab solve's input: the same decision as the batch itself (reference: Batch in memory)
    got, want = (solve_batches(b, "myopic").outcomes[0].actions for b in ([back], out))
    np.testing.assert_array_equal(got, solve_batches([Batch("w 1", ["a,1", "b"], inst)],
                                                     "myopic").outcomes[0].actions)
    np.testing.assert_array_equal(want, got)


def test_a_text_file_gets_the_same_text_and_read_batches_are_written_inline(tmp_path):
    """The bundled example's batches (model files, states, beliefs) are written with their
    arms inline; the reader gives back the same arrays as from the original file."""
    batches = read_batches(EXAMPLE)
    out = tmp_path / "inline.csv"
    text = io.StringIO()
    assert write_batches(batches, text) == write_batches(batches, out) == 15
    assert text.getvalue() == out.read_text(encoding="utf-8")
    assert "health_example.npz" not in text.getvalue()
    again = read_batches(out)
    assert [b.batch_id for b in again] == ["clinic-north", "clinic-south", "pilot", "outreach"]
    for old, new in zip(batches, again):
        assert new.arm_ids.tolist() == old.arm_ids.tolist()
        assert type(new.instance.arms) is type(old.instance.arms)
        for name in ("transitions", "rewards", "costs", "observations"):
            if hasattr(old.instance.arms, name):
                np.testing.assert_array_equal(getattr(new.instance.arms, name),
                                              getattr(old.instance.arms, name))
        np.testing.assert_array_equal(new.belief, old.belief)
        assert (new.instance.budget, new.instance.discount) == (old.instance.budget,
                                                                old.instance.discount)


IDS = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=6).filter(
    lambda s: s == s.strip())


@st.composite
def batches(draw):
    out = []
    for bid in draw(st.lists(IDS, min_size=1, max_size=3, unique=True)):
        n = draw(st.integers(1, 4))
        s, a = draw(st.integers(1, 3)), draw(st.integers(2, 3))
        rng = np.random.default_rng(draw(st.integers(0, 2**32)))
        p = rng.dirichlet(np.ones(s), size=(n, a, s))
        r = rng.normal(size=(n, s, a)) * draw(st.sampled_from([1.0, 1e-7, 3e5]))
        c = np.cumsum(np.concatenate([np.zeros((n, 1)), rng.uniform(0, 2, (n, a - 1))], 1), 1)
        if draw(st.booleans()):
            arms = MDPArms(p, r, c)
        else:
            arms = POMDPArms(p, rng.dirichlet(np.ones(2), size=(n, a, s)), r, c)
        belief = rng.dirichlet(np.ones(s), size=n)
        hot = rng.random(n) < 0.4
        belief[hot] = np.eye(s)[rng.integers(0, s, hot.sum())]
        caps = draw(st.sampled_from([None, [np.inf] + [1.0] * (a - 1)]))
        max_active = draw(st.sampled_from([None, 0, n]))
        budget = draw(st.floats(0, 1e6, allow_subnormal=False))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # a budget below every active cost
            inst = Instance(arms, budget, discount=draw(st.floats(1e-3, 0.999)),
                            initial_belief=belief, action_caps=caps, max_active=max_active)
        ids = draw(st.lists(IDS, min_size=n, max_size=n, unique=True))
        out.append(Batch(bid, ids, inst))
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(written=batches())
def test_read_batches_gives_back_what_write_batches_wrote(written, tmp_path):
    """Reference: the Batch objects written, field by field (a belief row to the rounding of
    its rescaling by its sum; every other number exactly)."""
    out = tmp_path / "b.csv"
    assert write_batches(written, out) == sum(b.n_arms for b in written)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = read_batches(out)
    assert [b.batch_id for b in back] == [b.batch_id for b in written]
    for old, new in zip(written, back):
        assert new.arm_ids.tolist() == old.arm_ids.tolist()
        x, y = old.instance, new.instance
        assert type(y.arms) is type(x.arms)
        for name in ("transitions", "rewards", "costs") + ("observations",) * (
                not x.arms.fully_observed):
            np.testing.assert_array_equal(getattr(y.arms, name), getattr(x.arms, name))
        np.testing.assert_allclose(y.initial_belief, x.initial_belief, rtol=0, atol=1e-15)
        assert (y.budget, y.discount, y.min_active, y.max_active) == (
            x.budget, x.discount, x.min_active, x.max_active)
        if x.action_caps is None:
            assert y.action_caps is None
        else:
            np.testing.assert_array_equal(y.action_caps, x.action_caps)


def test_ids_in_any_script_and_unicode_form_come_back_as_written(tmp_path):
    """Reference: the ids themselves (NFD and NFC forms of one name are two ids)."""
    ids = [unicodedata.normalize("NFD", "José"), "José", "李", '"q"', "x\u2028y"]
    batch = Batch("é", ids, health_intervention(5, seed=0))
    write_batches([batch], tmp_path / "u.csv")
    assert read_batches(tmp_path / "u.csv")[0].arm_ids.tolist() == ids


def test_bad_input_is_refused_before_writing(tmp_path):
    inst = health_intervention(2, seed=0)
    one = Batch("w", ["a", "b"], inst)
    out = tmp_path / "o.csv"
    for value, got in ((one, "got Batch (write [batch])"), ([], "got an empty list"),
                       ("b.csv", "got str"), ([one, 3], "got a sequence holding a int")):
        with pytest.raises(InvalidParameterError, match=re.escape(
                f"write_batches.batches: must be a non-empty sequence of Batch; {got}")):
            write_batches(value, out)
    with pytest.raises(InvalidParameterError, match=r"^write_batches\.batches: batch ids must "
                                                    r"be unique .*; got 'w' twice"):
        write_batches([one, Batch("w", ["c", "d"], inst)], out)
    timed = Batch("t", ["a", "b"], inst.replace(horizon=5))
    with pytest.raises(InvalidParameterError, match=re.escape(
            "write_batches.batches: must have no horizon (a CSV batch is planned as "
            "discounted); got horizon 5 in batch 't'")):
        write_batches([one, timed], out)
    with pytest.raises(InvalidParameterError, match=r"^write_batches\.out: must be a path "
                                                    r"ending in \.csv"):
        write_batches([one], tmp_path / "o.txt")
    with pytest.raises(InvalidParameterError, match=r"^write_batches\.out: '-' would be"):
        write_batches([one], "-")
    with pytest.raises(InvalidParameterError, match=r"^write_batches\.out: must be a path"):
        write_batches([one], None)
    with open(tmp_path / "bin.csv", "wb") as fh, pytest.raises(
            InvalidParameterError, match=r"^write_batches\.out: must be a path or a text file "
                                         r"open for writing; got a BufferedWriter that is binary"):
        write_batches([one], fh)
    assert not out.exists()
    source = tmp_path / "week.csv"
    write_batches([one], source)
    before = source.read_bytes()
    with pytest.raises(OutputError, match=r"^write_batches\.out: .*must not be an input"):
        write_batches(read_batches(source), source)
    assert source.read_bytes() == before


def test_with_model_the_arms_go_to_an_npz_that_keeps_the_action_names(tmp_path):
    """write_batches lost health_intervention's action names (rmab solve's action_name was
    empty): the reader takes names from model files only. Reference: the model cells worked
    out by hand from docs/csv.md (relative to the CSV's folder, arms numbered across the
    batches) and the names health_intervention's docs give."""
    inst = health_intervention(5, budget_fraction=0.4, seed=0)
    north = Batch("north", ["p1", "p2", "p3"], inst.replace(
        arms=inst.arms.select([0, 1, 2]), initial_belief=inst.initial_belief[:3], max_active=1))
    south = Batch("south", ["s1", "s2"], inst.replace(
        arms=inst.arms.select([3, 4]), initial_belief=[[1.0, 0.0], [0.5, 0.5]], discount=0.9))
    out, model = tmp_path / "week" / "w.csv", tmp_path / "arms" / "m.npz"
    assert write_batches([north, south], out, model=model) == 5
    rows = [line.split(",") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == ["batch_id", "arm_id", "budget", "discount", "state", "belief", "model",
                       "model_arm", "max_active"]
    assert [(r[0], r[1], r[6], r[7]) for r in rows[1:]] == [
        ("north", "p1", "../arms/m.npz", "0"), ("north", "p2", "../arms/m.npz", "1"),
        ("north", "p3", "../arms/m.npz", "2"), ("south", "s1", "../arms/m.npz", "3"),
        ("south", "s2", "../arms/m.npz", "4")]
    assert [r[4] for r in rows[4:]] == ["0", ""]                    # s1's one-hot belief
    back = read_batches(out)
    for old, new in zip((north, south), back):
        assert new.action_names == ("none", "call", "visit")
        assert new.arm_ids.tolist() == old.arm_ids.tolist()
        for name in ("transitions", "observations", "rewards", "costs"):
            np.testing.assert_array_equal(getattr(new.instance.arms, name),
                                          getattr(old.instance.arms, name))
        np.testing.assert_allclose(new.belief, old.belief, rtol=0, atol=1e-15)
        assert (new.instance.budget, new.instance.discount, new.instance.max_active) == (
            old.instance.budget, old.instance.discount, old.instance.max_active)
        assert len(new.model_files) == 1 and os.path.samefile(new.model_files[0], model)
    from rmab.cli import main
    decided = tmp_path / "actions.csv"
    assert main(["solve", str(out), "--planner", "myopic", "--out", str(decided)]) == 0
    got = [line.split(",") for line in decided.read_text().splitlines()[1:]]
    assert len(got) == 5 and any(r[2] != "0" for r in got)
    assert all(r[3] == ("none", "call", "visit")[int(r[2])] for r in got)
    text = io.StringIO()                       # an open file: no folder to be relative to
    write_batches([south], text, model=tmp_path / "m2.npz")
    assert text.getvalue().splitlines()[1].split(",")[6] == str(tmp_path / "m2.npz")


def test_a_model_file_refuses_batches_it_cannot_hold_and_never_replaces_an_input(tmp_path):
    inst = health_intervention(2, seed=0)
    one = Batch("w", ["a", "b"], inst)
    out, model = tmp_path / "o.csv", tmp_path / "m.npz"
    pilot = next(b for b in read_batches(EXAMPLE) if b.batch_id == "pilot")
    with pytest.raises(InvalidParameterError, match=re.escape(
            "write_batches.model: the batches' arms must share their kind and (n_actions, "
            "n_states, n_obs) to be saved in one model file; got POMDPArms (3, 2, 2) in batch "
            "'w' and MDPArms (2, 2, 2) in batch 'pilot'")):
        write_batches([one, pilot], out, model=model)
    renamed = Batch("v", ["a", "b"], inst, action_names=["no", "sms", "visit"])
    with pytest.raises(InvalidParameterError, match=re.escape(
            "write_batches.model: the batches must share their action_names, the model file's "
            "metadata['actions']; got ('none', 'call', 'visit') in batch 'w' and ('no', 'sms', "
            "'visit') in batch 'v'")):
        write_batches([one, renamed], out, model=model)
    with pytest.raises(InvalidParameterError, match=r"^write_batches\.model: must be a path "
                                                    r"ending in \.npz"):
        write_batches([one], out, model=tmp_path / "m.csv")
    assert not out.exists() and not model.exists()
    source = tmp_path / "week.csv"
    write_batches([one], source, model=model)
    before = model.read_bytes()
    with pytest.raises(OutputError, match=r"^write_batches\.model: .*must not be an input"):
        write_batches(read_batches(source), tmp_path / "next.csv", model=model)
    assert model.read_bytes() == before and not (tmp_path / "next.csv").exists()


def reference_rows(batches) -> list[list[str]]:
    """The rows as written arm by arm (``json.dumps`` of each arm's arrays, ``repr`` of each
    number, '.0' cut from costs and beliefs): write_batches before session 52."""
    def short(row):
        return ";".join(t[:-2] if t.endswith(".0") else t for t in map(repr, row.tolist()))

    def dumps(array):
        return json.dumps(array.tolist(), separators=(",", ":"))

    partial = any(not b.instance.arms.fully_observed for b in batches)
    rows = []
    for b in batches:
        inst, arms = b.instance, b.instance.arms
        for k, arm in enumerate(b.arm_ids.tolist()):
            belief = inst.initial_belief[k]
            hot = np.count_nonzero(belief) == 1 and belief.max() == 1.0
            model = [dumps(arms.transitions[k])]
            if partial:
                model.append("" if arms.fully_observed else dumps(arms.observations[k]))
            model += [dumps(arms.rewards[k]), short(arms.costs[k])]
            rows.append([b.batch_id, arm, short(np.array([inst.budget])),
                         short(np.array([inst.discount])),
                         str(int(belief.argmax())) if hot else "", "" if hot else short(belief),
                         *model])
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written=batches(), signs=st.booleans())
def test_cells_are_each_arms_json_written_without_json_per_arm(written, signs):
    """The model cells are formatted all at once (each distinct number once): json.dumps per
    arm took 2.5 of the 4.8 s of 100 000 arms. Reference: the rows written arm by arm, and
    the text as csv.writer writes those rows (the rows are joined without it)."""
    if signs:                                     # -0.0 and 0.0, integers: each as repr has it
        b = written[0]
        arms = b.instance.arms
        r = arms.rewards.copy().ravel()
        r[::2] = np.resize([-0.0, 0.0, 3.0, 1e16, -2.5e-7], r.size)[::2]
        r = r.reshape(arms.rewards.shape)
        arms = (MDPArms(arms.transitions, r, arms.costs) if arms.fully_observed else
                POMDPArms(arms.transitions, arms.observations, r, arms.costs))
        written[0] = Batch(b.batch_id, b.arm_ids, b.instance.replace(arms=arms))
    text = io.StringIO()
    with mock.patch("json.dumps", side_effect=AssertionError("json.dumps per arm")):
        write_batches(written, text)
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    again = io.StringIO()                         # quoted as csv.writer quotes
    csv.writer(again, lineterminator="\n").writerows(rows)
    assert again.getvalue() == text.getvalue()
    want = reference_rows(written)
    assert len(rows) == len(want) + 1
    assert [row[:len(ref)] for row, ref in zip(rows[1:], want)] == want


def test_the_model_file_holds_every_batch_s_arms_beliefs_ids_and_their_total_budget(tmp_path):
    """Reference: the batches in memory (budgets 2 and 1.5: 3.5 in all)."""
    inst = health_intervention(5, seed=0)
    north = Batch("north", ["p1", "p2", "p3"], inst.replace(
        arms=inst.arms.select([0, 1, 2]), initial_belief=inst.initial_belief[:3], budget=2.0))
    south = Batch("south", ["s1", "s2"], inst.replace(
        arms=inst.arms.select([3, 4]), initial_belief=[[1.0, 0.0], [0.5, 0.5]], budget=1.5))
    from rmab.models import load_instance
    model = tmp_path / "m.npz"
    write_batches([north, south], tmp_path / "w.csv", model=model)
    saved = load_instance(model)
    assert saved.budget == 3.5
    assert saved.metadata["batch_ids"] == ["north"] * 3 + ["south"] * 2
    assert saved.metadata["arm_ids"] == ["p1", "p2", "p3", "s1", "s2"]
    np.testing.assert_array_equal(saved.initial_belief, np.vstack(
        [inst.initial_belief[:3], [[1.0, 0.0], [0.5, 0.5]]]))


def test_a_limit_column_is_empty_on_the_rows_of_a_batch_without_it(tmp_path):
    """docs/csv.md: the limits are written where a batch has them; hand-written cells."""
    arms = MDPArms([T], [[[0.0, 0.0], [1.0, 1.0]]])
    one = Batch("a", ["x"], Instance(arms, 1.0, initial_belief=[[1.0, 0.0]], min_active=1,
                                     max_active=1))
    other = Batch("b", ["y"], Instance(arms, 1.0, initial_belief=[[1.0, 0.0]]))
    text = io.StringIO()
    write_batches([one, other], text)
    rows = list(csv.DictReader(io.StringIO(text.getvalue())))
    assert [(r["min_active"], r["max_active"]) for r in rows] == [("1", "1"), ("", "")]
