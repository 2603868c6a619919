"""Write CSV files (``docs/csv.md``), one row per arm, atomically: solved batches, batches
built in Python, and next period's file with the beliefs updated."""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from collections.abc import Mapping
from itertools import repeat

import numpy as np

from rmab._validation import _short, check_path
from rmab._warnings import user_stacklevel
from rmab.errors import BatchInputError, InvalidParameterError, RmabWarning
from rmab.io.schema import OUTPUT_COLUMNS
from rmab.models.arms import concat_arms
from rmab.models.instance import Instance
from rmab.models.storage import atomic_write, check_writable, save_instance

__all__ = ["write_solutions", "write_batches", "write_beliefs"]


def write_solutions(outcomes, out) -> int:
    """Write the arms of ``outcomes`` (:class:`~rmab.io.BatchOutcome`) to ``out``.

    ``out`` is a path, written atomically (a temporary file beside it renamed on success, so a
    failure never leaves a partial file), or an open text file. Columns
    ``batch_id, arm_id, action, action_name, cost, score``; ``action_name`` and ``score`` are
    empty where unknown. Returns the number of arm rows written.
    """
    from rmab.io.batch import BatchOutcome          # here: rmab.io.batch imports this module

    must = ("write_solutions.outcomes: must be a sequence of BatchOutcome "
            "(solve_batches(...).outcomes)")
    if not hasattr(outcomes, "__iter__"):
        raise InvalidParameterError(f"{must}; got {type(outcomes).__name__}")
    outcomes = list(outcomes)
    wrong = next((type(o).__name__ for o in outcomes if not isinstance(o, BatchOutcome)), None)
    if wrong:
        raise InvalidParameterError(f"{must}; got a sequence holding a {wrong}")
    if hasattr(out, "write"):
        check_text_file("write_solutions", out)
        return _write(outcomes, out)
    check_out_path("write_solutions", out)
    check_path("write_solutions", out, "out", suffix=".csv")      # as rmab solve --out
    with atomic_write(out, ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            return _write(outcomes, fh)


def write_batches(batches, out, *, model=None) -> int:
    """Write ``batches`` (:class:`~rmab.io.Batch`, built in Python or read) as a CSV file of
    batches that :func:`~rmab.io.read_batches` reads back as them and ``rmab solve`` solves.

    One row per arm, batches in order, arms in row order: ``batch_id``, ``arm_id``, the
    batch's ``budget`` and ``discount`` (and ``action_caps``, ``min_active``, ``max_active``
    where a batch has them), the arm's ``state`` where its belief is one-hot, else its
    ``belief``, and its model inline (``transitions``, ``observations`` for partially observed
    arms, ``rewards``, ``costs``). Numbers are written as Python's ``repr``, which reads back to
    the same float; a belief row is divided by its sum on reading (an ulp off where its float
    sum is not 1; up to 1e-6 for a row an Instance took within 1e-6 of summing to 1). Not
    kept: the instance's name and metadata, and where a batch was read from;
    ``action_names`` only with ``model``.

    ``model`` : path ending in ``.npz``: all the batches' arms saved there instead, by
    :func:`~rmab.models.save_instance`, with the batches' ``action_names`` as
    ``metadata['actions']`` (the reader's source of names, so ``rmab solve`` fills
    ``action_name``); the rows name it in ``model`` (relative to ``out``'s folder; absolute
    for an open file) and ``model_arm``. The batches must share the arms' kind and sizes and
    their action names.

    ``out`` is a path ending in ``.csv``, written atomically and not a file a batch was read
    from or names, or an open text file. Returns the number of arm rows written.
    """
    from rmab.io.reader import Batch

    owner = "write_batches"
    given = type(batches).__name__
    listed = hasattr(batches, "__iter__") and not isinstance(batches, (str, bytes, Batch))
    batches = list(batches) if listed else []
    wrong = next((type(b).__name__ for b in batches if not isinstance(b, Batch)), None)
    if not batches or wrong:
        what = f"a sequence holding a {wrong}" if wrong else (
            "Batch (write [batch])" if given == "Batch" else f"an empty {given}" if listed
            else given)
        raise InvalidParameterError(f"{owner}.batches: must be a non-empty sequence of Batch; "
                                    f"got {what}")
    seen: set = set()
    twice = next((b.batch_id for b in batches if b.batch_id in seen or seen.add(b.batch_id)),
                 None)
    if twice is not None:
        raise InvalidParameterError(f"{owner}.batches: batch ids must be unique (the reader "
                                    f"joins the rows of an id into one batch); got {twice!r} "
                                    f"twice")
    timed = next((b for b in batches if b.instance.horizon is not None), None)
    if timed is not None:
        raise InvalidParameterError(
            f"{owner}.batches: must have no horizon (a CSV batch is planned as discounted); "
            f"got horizon {timed.instance.horizon} in batch {timed.batch_id!r}: "
            f"instance.replace(horizon=None) with a discount below 1")
    shared = None if model is None else _shared_model(owner, batches, model)
    inputs = sorted({f for b in batches for f in (b.file, *b.model_files) if f is not None})
    if hasattr(out, "write"):
        check_text_file(owner, out)
        folder = None
    else:
        check_out_path(owner, out)
        check_path(owner, out, "out", suffix=".csv")
        check_writable(out, inputs, owner=f"{owner}.out")
        folder = os.path.dirname(os.path.abspath(out))
    cell = None
    if shared is not None:
        check_writable(model, inputs, owner=f"{owner}.model")
        save_instance(shared, model)
        cell = os.path.abspath(model)
        cell = cell if folder is None else os.path.relpath(cell, folder)
    if folder is None:
        return _write_batches(batches, out, cell)
    with atomic_write(out, ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            return _write_batches(batches, fh, cell)


def _shared_model(owner: str, batches, model) -> Instance:
    """The instance ``write_batches`` saves to ``model``: every batch's arms in order, their
    beliefs, the batches' total budget and their action names (the rows give the rest)."""
    check_path(owner, model, "model", suffix=".npz")
    first = batches[0]
    for b in batches[1:]:
        if _kind(b) != _kind(first):
            raise InvalidParameterError(
                f"{owner}.model: the batches' arms must share their kind and (n_actions, "
                f"n_states, n_obs) to be saved in one model file; got {_kind(first)} in batch "
                f"{first.batch_id!r} and {_kind(b)} in batch {b.batch_id!r} (write those "
                f"batches to another file, or inline without model)")
        if b.action_names != first.action_names:
            raise InvalidParameterError(
                f"{owner}.model: the batches must share their action_names, the model file's "
                f"metadata['actions']; got {first.action_names} in batch {first.batch_id!r} "
                f"and {b.action_names} in batch {b.batch_id!r} (write those batches to "
                f"another file)")
    names = {} if first.action_names is None else {"actions": list(first.action_names)}
    with warnings.catch_warnings():     # of the total budget, which no batch plans with
        warnings.simplefilter("ignore", RmabWarning)
        return Instance(concat_arms([b.instance.arms for b in batches]),
                        sum(b.instance.budget for b in batches), discount=first.instance.discount,
                        initial_belief=np.concatenate([b.belief for b in batches]),
                        name="write_batches", metadata={
                            "generator": "write_batches", **names,
                            "batch_ids": [b.batch_id for b in batches for _ in b.arm_ids],
                            "arm_ids": [a for b in batches for a in b.arm_ids.tolist()]})


def _kind(batch) -> str:
    """The kind and sizes of a batch's arms, as one file holds arms alike."""
    arms = batch.instance.arms
    return f"{type(arms).__name__} {(arms.n_actions, arms.n_states, arms.n_obs)}"


def _number(x: float) -> str:
    """``x`` as the shortest text that reads back to it (``3`` for 3.0)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _numbers(row) -> str:
    return ";".join(map(_number, row))


_QUOTED = re.compile(r'[,"\r\n]')      # what csv.writer quotes a field for (QUOTE_MINIMAL)


def _field(text: str) -> str:
    """``text`` as ``csv.writer`` writes it in a row of several fields."""
    return '"' + text.replace('"', '""') + '"' if _QUOTED.search(text) else text


def _cells(array: np.ndarray, short: bool = False) -> list[str]:
    """One CSV field per arm (first axis) of ``array``, formatted all at once: each arm's
    ``json.dumps(array[k].tolist(), separators=(",", ":"))`` (quoted where it holds a comma),
    or (``short``, 2-d) its numbers as :func:`_numbers` writes them. Each distinct number
    (by its bits: -0.0 is not 0.0) is written once: arms share many."""
    distinct, where = np.unique(array.ravel().view(np.int64), return_inverse=True)
    texts = list(map(float.__repr__, distinct.view(np.float64).tolist()))
    if short:
        texts = [t[:-2] if t.endswith(".0") else t for t in texts]
    texts = list(map(texts.__getitem__, where.tolist()))
    if short:
        arm = ";".join(["{}"] * array.shape[1])
    else:
        arm = "{}"
        for size in reversed(array.shape[1:]):
            arm = "[" + ",".join([arm] * size) + "]"
        arm = _field(arm)
    return ((arm + "\x00") * len(array)).format(*texts).split("\x00")[:-1]


def _write_batches(batches, fh, model: str | None = None) -> int:
    """The rows, as ``csv.writer`` writes them; each arm's model inline, or as arm
    ``model_arm`` of the file ``model``."""
    insts = [b.instance for b in batches]
    header = ["batch_id", "arm_id", "budget", "discount", "state", "belief"]
    partial = any(not i.arms.fully_observed for i in insts)
    header += (["model", "model_arm"] if model is not None else
               ["transitions"] + ["observations"] * partial + ["rewards", "costs"])
    limits = [name for name, used in (
        ("action_caps", any(i.action_caps is not None for i in insts)),
        ("min_active", any(i.min_active > 0 for i in insts)),
        ("max_active", any(i.max_active is not None for i in insts))) if used]
    csv.writer(fh, lineterminator="\n").writerow(header + limits)
    written = 0
    for batch, inst in zip(batches, insts):
        arms, n = inst.arms, batch.n_arms
        shared = [_number(inst.budget), _number(inst.discount)]
        caps = inst.action_caps
        extra = {"action_caps": "" if caps is None else _numbers(caps),
                 "min_active": str(inst.min_active) if inst.min_active else "",
                 "max_active": "" if inst.max_active is None else str(inst.max_active)}
        extra = [extra[name] for name in limits]
        belief = inst.initial_belief
        one_hot = ((np.count_nonzero(belief, axis=1) == 1) & (belief.max(axis=1) == 1.0)).tolist()
        states = [str(s) if hot else "" for s, hot in zip(belief.argmax(axis=1).tolist(), one_hot)]
        spread = iter(_cells(belief[~np.array(one_hot, dtype=bool)], short=True))
        beliefs = ["" if hot else next(spread) for hot in one_hot]
        if model is not None:
            cells = [repeat(_field(model), n), map(str, range(written, written + n))]
        else:
            cells = [_cells(arms.transitions)]
            if partial:
                cells.append(repeat("", n) if arms.fully_observed else _cells(arms.observations))
            cells += [_cells(arms.rewards), _cells(arms.costs, short=True)]
        tail = "".join("," + _field(x) for x in extra) + "\n"       # after the model cells
        fh.writelines(",".join(row) + tail for row in zip(
            repeat(_field(batch.batch_id), n), map(_field, batch.arm_ids.tolist()),
            repeat(",".join(map(_field, shared)), n), states, beliefs, *cells))
        written += n
    return written


def check_out_path(owner: str, out) -> None:
    """Refuse an ``out`` that is not a path, or is ``"-"`` (the command line's standard output;
    here it would be a file named '-')."""
    check_path(owner, out, "out")
    if os.fspath(out) == "-":
        raise InvalidParameterError(f"{owner}.out: '-' would be a file named '-'; for standard "
                                    f"output pass sys.stdout")


def check_text_file(owner: str, out) -> None:
    """Refuse a file object ``out`` that cannot take text: binary, closed or read-only (the
    CSV writer would fail only after the work). A text stream says so (``io.TextIOBase``);
    anything else (a ``codecs`` writer, say) is asked to write ``""``."""
    what = None
    if getattr(out, "closed", False):
        what = "closed"
    elif isinstance(out, io.TextIOBase):
        what = None if out.writable() else "not writable"
    elif isinstance(out, (io.RawIOBase, io.BufferedIOBase)):
        what = "binary"
    else:
        try:
            out.write("")
        except TypeError:
            what = "binary"
        except (OSError, ValueError):           # io.UnsupportedOperation is both
            what = "not writable"
    if what:
        raise InvalidParameterError(f"{owner}.out: must be a path or a text file open for "
                                    f"writing; got a {type(out).__name__} that is {what}")


def _write(outcomes, fh) -> int:
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    written = 0
    for outcome in outcomes:
        writer.writerows(_rows(outcome))
        written += len(outcome.arm_ids)
    return written


def _rows(outcome):
    n = len(outcome.arm_ids)
    actions = outcome.actions.tolist()
    names = outcome.action_names
    action_names = [names[a] for a in actions] if names else repeat("", n)
    scores = outcome.scores.tolist() if outcome.scores is not None else repeat("", n)
    return zip(repeat(outcome.batch_id, n), outcome.arm_ids, actions, action_names,
               outcome.costs.tolist(), scores)


def write_beliefs(batches, beliefs, out) -> int:
    """Next period's CSV: the file ``batches`` were read from, with each arm's ``belief`` cell
    replaced and its ``state`` cell cleared (docs/csv.md, "A weekly loop").

    Parameters
    ----------
    batches : sequence of :class:`~rmab.io.Batch`
        Read from one CSV file by :func:`~rmab.io.read_batches` (each knows its file and the
        line of every arm's row).
    beliefs : mapping batch_id -> array (n_arms, n_states)
        New beliefs in the batch's row order (``update_beliefs``'s output). The rows of a
        batch of ``batches`` not in it are copied as they are, with an
        :class:`~rmab.errors.RmabWarning` naming it (forgotten, or a ``zip`` over outcomes
        that skipped one?); the file's rows of batches not in ``batches`` (those
        ``read_batches_keep_going`` left out) are copied without one: leave a batch out of
        ``batches`` to copy it on purpose.
    out : path ending in ``.csv``
        Written atomically; must not be the file read (last period's file is kept). A
        ``belief`` column is added where the header has none. Every other cell is copied as
        it was read (the file is written as UTF-8 with ``\\n`` line ends), except a relative
        ``model`` path when ``out`` is in another folder: it is rewritten relative to it.

    Returns the number of arm rows whose belief was written.
    """
    from rmab._reporting import count_noun
    from rmab.belief.update import check_beliefs
    from rmab.io.reader import Batch, _load_rows

    owner = "write_beliefs"
    given = type(batches).__name__                  # a path's text is iterable too
    batches = list(batches) if hasattr(batches, "__iter__") and given != "str" else batches
    if not isinstance(batches, list) or not all(isinstance(b, Batch) for b in batches):
        raise InvalidParameterError(f"{owner}.batches: must be a sequence of Batch "
                                    f"(read_batches(path)); got {given}")
    files = {b.file for b in batches}
    if None in files or any(b.lines is None for b in batches) or len(files) != 1:
        raise InvalidParameterError(f"{owner}.batches: must all be read from one CSV file "
                                    f"(read_batches(path)); got files {sorted(map(str, files))}")
    if not isinstance(beliefs, Mapping):
        raise InvalidParameterError(f"{owner}.beliefs: must be a mapping batch_id -> beliefs "
                                    f"(n_arms, n_states); got {type(beliefs).__name__}")
    by_id = {b.batch_id: b for b in batches}
    updates = {}                                            # line -> (batch, arm, belief row)
    for bid, value in beliefs.items():
        batch = by_id.get(str(bid))
        if batch is None:
            raise InvalidParameterError(f"{owner}.beliefs: {bid!r} is not a batch of "
                                        f"batches; they are {_short(list(by_id))}")
        rows = check_beliefs(owner, value, batch.n_arms, batch.instance.n_states,
                             field=f"beliefs[{bid!r}]")
        updates.update((int(line), (batch.batch_id, arm, row))
                       for line, arm, row in zip(batch.lines, batch.arm_ids, rows))
    (file,) = files
    check_out_path(owner, out)
    check_path(owner, out, "out", suffix=".csv")
    check_writable(out, [file], owner=f"{owner}.out")
    records, lines = _load_rows(file, file)
    head = next(i for i, row in enumerate(records) if "".join(row).strip())
    header = [h.strip() for h in records[head]]
    while len(header) > 1 and not header[-1]:
        header.pop()
    where = {name: k for k, name in enumerate(header)}
    if "belief" not in where:
        where["belief"] = len(header)
        header.append("belief")
    written, width = 0, len(header)
    output = [header]
    here, there = (os.path.dirname(os.path.abspath(f)) for f in (file, out))
    for record, line in zip(records[head + 1:], lines[head + 1:]):
        if not "".join(record[width:]).strip():          # trailing commas: the header's width
            record = record[:width] + [""] * (width - len(record))
        model = record[where["model"]].strip() if "model" in where else ""
        if model and here != there and not os.path.isabs(model):     # relative to the file
            record[where["model"]] = os.path.relpath(os.path.join(here, model), there)
        update = updates.get(int(line))
        if update is not None:
            bid, arm, row = update
            cells = list(record)
            if (cells[where["batch_id"]].strip(), cells[where["arm_id"]].strip()) != (bid, arm):
                raise BatchInputError(f"{owner}: the file changed since it was read: line "
                                      f"{line} was batch {bid!r}, arm {arm!r}", file=file,
                                      line=int(line))
            cells[where["belief"]] = ";".join(f"{p:.12g}" for p in row)
            if "state" in where:
                cells[where["state"]] = ""
            record, written = cells, written + 1
        output.append(record)
    if written != len(updates):
        missing = len(updates) - written
        raise BatchInputError(f"{owner}: the file changed since it was read: "
                              f"{count_noun(missing, 'arm row')} not found", file=file)
    given = {str(bid) for bid in beliefs}
    kept = [b for b in batches if b.batch_id not in given]
    if kept:                               # a zip over outcomes that skipped one, say
        named = ", ".join(f"{b.batch_id!r} ({count_noun(b.n_arms, 'arm')})" for b in kept[:5])
        warnings.warn(f"{owner}.beliefs: should give every batch's new beliefs; got none for "
                      f"{named}{' ...' * (len(kept) > 5)}: {'its' if len(kept) == 1 else 'their'}"
                      f" rows are copied as they were (give beliefs[batch_id], or leave the "
                      f"batch out of batches to copy it on purpose)", RmabWarning,
                      stacklevel=user_stacklevel())
    with atomic_write(out, ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(output)
    return written
