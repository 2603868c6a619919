"""Property: for any text, the reader returns valid batches or raises BatchInputError."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmab.errors import BatchInputError
from rmab.io import COLUMNS, Batch, read_batches_keep_going

MODEL = Path(__file__).resolve().parents[2] / "data" / "health_example.npz"
NAMES = [c.name for c in COLUMNS]

CELLS = st.one_of(
    st.sampled_from(["", "b1", "b2", "a", "0", "1", "2", "-1", "1.5", "nan", "1e400", "0.3;0.7",
                     "0.5;0.5", ";", "0;1;2", "0;1;1", "health.npz", "missing.npz", "model.csv",
                     "../health.npz", "/", "99", "[0,1]", "[[0,0],[1,1]]", "[[[1]]]",
                     "[[[0.9,0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]",
                     "[[[0.7,0.3],[0.3,0.7]],[[0.9,0.1],[0.1,0.9]]]", "[[[[[[", '{"a": 1}',
                     "[true, null]", "0.9", "1.0", "\x00", "\u2028"]),
    st.text(max_size=12))


T = "[[[0.9,0.1],[0.3,0.7]],[[0.5,0.5],[0.1,0.9]]]"
PLAUSIBLE = {"batch_id": ["b1", "b2"], "arm_id": ["a", "b", "c"], "budget": ["0", "1", "2.5"],
             "state": ["0", "1", ""], "belief": ["0.3;0.7", "", "1;0"], "model": ["health.npz"],
             "model_arm": ["0", "1", "7"], "transitions": [T], "rewards": ["[0,1]"],
             "observations": ["", "[[[0.7,0.3],[0.3,0.7]],[[0.9,0.1],[0.1,0.9]]]"],
             "costs": ["", "0;1"], "discount": ["", "0.9"]}
HEADERS = [["batch_id", "arm_id", "budget", "state", "belief", "model", "model_arm"],
           ["batch_id", "arm_id", "budget", "belief", "model", "model_arm", "discount"],
           ["batch_id", "arm_id", "budget", "state", "transitions", "observations", "rewards",
            "costs"],
           ["batch_id", "arm_id", "budget", "state", "belief", "model", "model_arm",
            "transitions", "observations", "rewards", "costs", "discount"]]


@st.composite
def csv_texts(draw):
    if draw(st.integers(0, 4)) == 0:
        header = draw(st.lists(st.sampled_from(NAMES + ["junk", ""]), min_size=1, max_size=9))
    else:  # mostly valid headers with plausible cells, so that the row checks are reached
        header = draw(st.sampled_from(HEADERS))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(st.sampled_from(PLAUSIBLE.get(name, [""]))
                    if draw(st.integers(0, 9)) else CELLS) for name in header]
        if draw(st.integers(0, 9)) == 0:
            row = row[:-1] if draw(st.booleans()) else row + ["x"]
        rows.append(row)
    lines = [",".join(header)]
    for row in rows:
        lines.append(",".join('"' + c.replace('"', '""') + '"' if ("," in c or '"' in c) else c
                              for c in row))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("prop")
    shutil.copy(MODEL, path / "health.npz")
    (path / "model.csv").write_text("not a model")
    return path


def _check(path):
    try:
        batches, failures = read_batches_keep_going(path)
    except BatchInputError as exc:
        assert exc.file == str(path)
        return
    for batch in batches:
        assert isinstance(batch, Batch)
        b = batch.belief
        assert b.shape == (batch.n_arms, batch.instance.n_states)
        assert np.all(b >= 0) and np.allclose(b.sum(axis=1), 1.0, atol=1e-12)
        assert len(set(batch.arm_ids)) == batch.n_arms and batch.instance.budget >= 0
    assert all(isinstance(f, BatchInputError) and f.line >= 2 for f in failures)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=csv_texts())
def test_structured_random_csv(folder, text):
    path = folder / "p.csv"
    path.write_text(text, encoding="utf-8", newline="")
    _check(path)


@settings(max_examples=80, deadline=None)
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_arbitrary_bytes(folder, data):
    path = folder / "r.csv"
    path.write_bytes(data)
    _check(path)
