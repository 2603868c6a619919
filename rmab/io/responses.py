"""The period's actions and signals from CSV files, and the beliefs they give (``rmab update``;
docs/csv.md, "A weekly loop").

The actions file has the columns ``batch_id, arm_id, action`` (the file ``rmab solve``
writes); the signals file ``batch_id, arm_id, signal`` (an empty cell: none seen; ``?``: one
was seen but its record is lost), or it is the actions file with a ``signal`` column added.
Other columns are ignored.
"""

from __future__ import annotations

import difflib
import unicodedata

import numpy as np

from rmab._reporting import count_noun
from rmab._validation import _short, check_path, field_count_hint
from rmab.belief.update import predicted, signal_probabilities, update_beliefs
from rmab.errors import (BatchInputError, ImpossibleSignalError, InvalidParameterError,
                         RmabError)
from rmab.io.logs import UNKNOWN_SIGNAL, check_signal_names
from rmab.io.reader import Batch, _filled, _int, _load_rows, _without_empty_tail
from rmab.io.schema import wrong_separator
from rmab.models.storage import load_instance

__all__ = ["updated_beliefs", "UNKNOWN_SIGNAL"]

_EMPTY, _UNKNOWN, _BAD = -1, -3, -2                 # the cells' codes besides signals >= 0


def updated_beliefs(batches, actions, signals=None, *, signal_names=None, skip=()) -> dict:
    """Each batch's beliefs after the actions taken and the signals seen, read from CSV files:
    the mapping :func:`~rmab.io.write_beliefs` takes.

    Parameters
    ----------
    batches : sequence of :class:`~rmab.io.Batch`, read from one file (``read_batches``)
    actions : path of a CSV file, one row per arm: ``batch_id, arm_id, action`` (an integer
        in ``[0, n_actions)``); an ``action_name`` cell, where given and the batch's actions
        have names, must name the row's action
    signals : path of a CSV file, one row per arm: ``batch_id, arm_id, signal`` (an integer
        in ``[0, n_obs)``, for fully observed arms the state seen next); default ``actions``
        (its ``signal`` column). An empty cell is no signal: an arm whose signal rows after
        its action are all alike (the model expects none) must have it, and only such an arm.
        ``?`` (:data:`UNKNOWN_SIGNAL`) is a signal not known, a record lost, for an arm whose
        model expects one (a fully observed arm's state not seen): its belief is the
        prediction ``belief @ transitions[action]``, the signal summed out (each signal's
        posterior weighted by its probability). That is the exact Bayes update when the loss
        is ignorable, the record "missing at random" (Rubin 1976, "Inference and missing
        data", Biometrika 63(3)): the chance of losing it depends on neither the state nor
        the signal. An empty cell stays an error there, so a forgotten signal is caught.
    signal_names : sequence of str, labels read as their index (``["no answer",
        "answered"]``); ``?`` is not a name. Default: the names ``rmab estimate --hidden
        --signal-names`` kept in a batch's model files, where they all keep the same
    skip : collection of str, ids of batches the files' rows may name and that are passed
        over: those :func:`~rmab.io.read_batches_keep_going` left out (``rmab update
        --keep-going``)

    Every arm of ``batches`` needs exactly one row in each file, and the files no other arm.
    Raises :class:`~rmab.errors.BatchInputError` naming the file, line, column, batch and
    arm of the first problem (an impossible signal chained to the
    :class:`~rmab.errors.ImpossibleSignalError`).
    """
    owner = "updated_beliefs"
    given = type(batches).__name__
    batches = list(batches) if hasattr(batches, "__iter__") and given != "str" else None
    if not batches or not all(isinstance(b, Batch) and b.file for b in batches):
        raise InvalidParameterError(f"{owner}.batches: must be a sequence of Batch read from a "
                                    f"file (read_batches(path)); got {given}")
    names = check_signal_names(owner, signal_names)
    if isinstance(skip, str) or not all(isinstance(bid, str) for bid in skip):
        raise InvalidParameterError(f"{owner}.skip: must be a collection of batch ids (str); "
                                    f"got {_short(skip)}")
    arms = {b.batch_id: dict(zip(b.arm_ids, range(b.n_arms))) for b in batches}
    arms.update((bid, None) for bid in skip if bid not in arms)     # rows passed over
    taken = _rows(owner, "actions", actions, "action", batches, arms)
    hint = " (add a 'signal' column, or give a signals file)" if signals is None else ""
    seen = _rows(owner, "signals", actions if signals is None else signals, "signal", batches,
                 arms, hint)
    beliefs, kept = {}, {}
    for batch in batches:
        a = _numbers(batch, "actions", "action", *taken[batch.batch_id],
                     batch.instance.n_actions)
        _check_names(batch, a, *taken[batch.batch_id])
        o = _numbers(batch, "signals", "signal", *seen[batch.batch_id],
                     batch.instance.arms.n_obs, names or _kept_signal_names(batch, kept))
        beliefs[batch.batch_id] = _update(batch, a, o, *seen[batch.batch_id])
    return beliefs


def _kept_signal_names(batch: Batch, kept: dict) -> tuple | None:
    """The signal names ``rmab estimate --hidden --signal-names`` kept in the batch's model
    files (``metadata['params']['signals']``) where every file names its ``n_obs`` signals
    alike, else None; ``kept``: path -> names, each file read once."""
    for path in batch.model_files:
        if path not in kept:
            try:
                params = load_instance(path).metadata.get("params")
            except (RmabError, OSError, ValueError):    # changed since read: no names
                params = None
            names = params.get("signals") if isinstance(params, dict) else None
            kept[path] = tuple(names) if isinstance(names, list) and all(
                isinstance(x, str) for x in names) else None
    found = {kept[path] for path in batch.model_files}
    names = found.pop() if len(found) == 1 else None
    return names if names and len(names) == batch.instance.arms.n_obs else None


def _rows(owner: str, role: str, path, column: str, batches: list, arms: dict,
          hint: str = "") -> dict:
    """batch_id -> (file, lines, cells, names): the line of each arm's row of ``path``, its
    ``column`` cell and its ``action_name`` cell (stripped; "" where the file has no
    ``action_name``), in the batch's arm order (``arms``: batch_id -> arm_id -> place);
    ``hint`` follows a missing column's error."""
    check_path(owner, path, role)
    file = str(path)
    rows, lines = _load_rows(path, file, role, f"a CSV file of {role}, one row per arm")
    filled = [i for i, row in enumerate(rows) if _filled(row)]
    if len(filled) < 2:
        raise BatchInputError(f"{role}: must have a header row and a row per arm; got "
                              f"{len(filled)} non-blank lines", file=file, line=1)
    header = [name.strip() for name in _without_empty_tail(rows[filled[0]])]
    head = int(lines[filled[0]])
    wanted = ("batch_id", "arm_id", column)
    missing = [name for name in wanted if name not in header]
    if missing:
        sep = wrong_separator(header)
        hint = f": the header holds {sep!r}, fields must be separated by commas" if sep else hint
        raise BatchInputError(f"{role}.header: must have the columns {', '.join(wanted)}; "
                              f"missing {', '.join(missing)} (got "
                              f"{', '.join(map(repr, header))}){hint}", file=file, line=head)
    twice = next((name for name in (*wanted, "action_name") if header.count(name) > 1), None)
    if twice:
        raise BatchInputError(f"{role}.header: column names must be unique; got {twice!r} "
                              f"twice", file=file, line=head, column=twice)
    ib, ia, ic = (header.index(name) for name in wanted)
    iname = header.index("action_name") if "action_name" in header else None
    need, width = max(ib, ia, ic, -1 if iname is None else iname), len(header)
    found = {b.batch_id: (file, np.zeros(b.n_arms, dtype=np.int64), [""] * b.n_arms,
                          [""] * b.n_arms) for b in batches}
    for i in filled[1:]:
        row = rows[i]
        if len(row) > ib and row[ib].strip() in arms and arms[row[ib].strip()] is None:
            continue                        # a batch skipped: its rows, however bad, passed over
        if len(row) <= need or (len(row) > width and "".join(row[width:]).strip()):
            # past the header: a stray comma (a note's '2, no answer') moved the cells right
            raise BatchInputError(f"{role}: must have {width} fields like the header; "
                                  f"got {len(row)}{field_count_hint(row, header)}", file=file,
                                  line=int(lines[i]))
        bid, arm = row[ib].strip(), row[ia].strip()
        k = arms[bid].get(arm) if bid in arms else None
        if k is None:
            raise _unknown(role, bid, arm, batches, file, int(lines[i]))
        _, arm_lines, cells, names = found[bid]
        if arm_lines[k]:
            raise BatchInputError(f"{role}: must have one row per arm; got arm {arm!r} of batch "
                                  f"{bid!r} again (first on line {arm_lines[k]})", file=file,
                                  line=int(lines[i]), batch_id=bid)
        arm_lines[k] = lines[i]
        cells[k] = row[ic].strip()
        if iname is not None:
            names[k] = row[iname].strip()
    absent = [(b, np.flatnonzero(found[b.batch_id][1] == 0)) for b in batches]
    absent = [(b, arms) for b, arms in absent if len(arms)]
    if absent:
        (batch, arms), more = absent[0], sum(len(arms) for _, arms in absent) - 1
        k = int(arms[0])
        more = ("" if not more else f" and {more} more of its arms" if len(absent) == 1 else
                f" and {count_noun(more, 'more arm')} ({len(absent)} batches miss arms)")
        what = (f" (an arm not acted on too: its signal empty where its model expects none, "
                f"else {UNKNOWN_SIGNAL!r} if not seen)" if role == "signals" else "")
        raise BatchInputError(f"{role}: must have a row for every arm of {batch.file}; got "
                              f"none for arm {batch.arm_ids[k]!r} of batch {batch.batch_id!r} "
                              f"(line {batch.lines[k]} there){more}{what}", file=file,
                              batch_id=batch.batch_id)
    return found


def _unknown(role: str, bid: str, arm: str, batches: list, file: str,
             line: int) -> BatchInputError:
    """The error of a row whose batch, or arm within its batch, is not among ``batches``."""
    batch = next((b for b in batches if b.batch_id == bid), None)
    column, choices, got = ("batch_id", [b.batch_id for b in batches], bid) if batch is None \
        else ("arm_id", list(batch.arm_ids), arm)
    same = [c for c in choices if unicodedata.normalize("NFC", c) ==
            unicodedata.normalize("NFC", got)]
    close = difflib.get_close_matches(got, choices, n=1)
    hint = (f" (as {same[0]!r} but with its accents encoded another way, Unicode NFD against "
            f"NFC: save both files from the same program)" if same else
            f" (did you mean {close[0]!r}?)" if close else "")
    what = f"a batch of {batches[0].file}" if batch is None else \
        f"an arm of batch {bid!r} in {batch.file}"
    return BatchInputError(f"{role}.{column}: must be {what}; got {got!r}{hint}; they are "
                           f"{_short(choices)}", file=file, line=line, column=column,
                           batch_id=bid if batch else None)


def _numbers(batch: Batch, role: str, column: str, file: str, lines, cells, _names,
             size: int, labels: tuple | None = None) -> np.ndarray:
    """The arms' ``column`` cells as integers in ``[0, size)`` (or ``labels``, the first
    ``size`` of them); a signal cell empty as ``_EMPTY``, ``?`` as ``_UNKNOWN``. Each distinct
    cell is read once."""
    labels = labels[:size] if labels else None
    values = {}
    for cell in set(cells):
        if column == "signal" and cell in ("", UNKNOWN_SIGNAL):
            values[cell] = _UNKNOWN if cell else _EMPTY
            continue
        try:
            value = labels.index(cell) if labels and cell in labels else _int(cell)
        except ValueError:
            value = _BAD
        values[cell] = value if 0 <= value < size else _BAD
    out = np.fromiter(map(values.__getitem__, cells), dtype=np.int64, count=batch.n_arms)
    bad = np.flatnonzero(out == _BAD)
    if len(bad):
        k = int(bad[0])
        named = f" or a name: {', '.join(map(repr, labels))}" if labels else ""
        empty = (f" or empty (none seen) or {UNKNOWN_SIGNAL!r} (not known)"
                 if column == "signal" else "")
        named_how = "" if column != "signal" else (
            f"; not known? write {UNKNOWN_SIGNAL!r}" if cells[k].casefold() in _MISSING else
            "; a name? give the names in order with --signal-names (signal_names=)"
            if not labels and _is_name(cells[k]) else "")
        raise BatchInputError(f"{role}.{column}: must be an integer in [0, {size}){named}"
                              f"{empty}; got {cells[k]!r} (arm {batch.arm_ids[k]!r} of batch "
                              f"{batch.batch_id!r}){named_how}", file=file,
                              line=int(lines[k]), column=column, batch_id=batch.batch_id)
    return out


_MISSING = {"na", "n/a", "nan", "null", "none", "missing", "-"}   # spreadsheets' blanks


def _is_name(cell: str) -> bool:
    """Whether ``cell`` is no number (a label such as 'answered', not '2' or '-1')."""
    try:
        float(cell)
    except ValueError:
        return True
    return False


def _check_names(batch: Batch, actions: np.ndarray, file: str, lines, _cells, names) -> None:
    """An ``action_name`` cell must name the row's action (an action edited by hand?)."""
    if not batch.action_names or not any(names):
        return
    given = np.array(names, dtype=object)
    odd = np.flatnonzero((given != "") & (given != np.array(batch.action_names,
                                                            dtype=object)[actions]))
    if len(odd):
        k = int(odd[0])
        a = int(actions[k])
        raise BatchInputError(f"actions.action_name: must name the row's action {a} "
                              f"({batch.action_names[a]!r}); got {names[k]!r} (arm "
                              f"{batch.arm_ids[k]!r} of batch {batch.batch_id!r}): an "
                              f"action edited by hand? edit both cells, or clear "
                              f"action_name", file=file, line=int(lines[k]),
                              column="action_name", batch_id=batch.batch_id)


def _update(batch: Batch, actions: np.ndarray, signals: np.ndarray, file: str, lines,
            cells, _names) -> np.ndarray:
    """:func:`~rmab.belief.update_beliefs` of the batch; a signal left empty is the likeliest
    of the arm's alike signal rows (each gives the same posterior), and so is the signal they
    give probability 1, where given or ``?``; an arm whose signal is not known (``?``) has the
    prediction alone (:func:`~rmab.belief.update.predicted`)."""
    arms = batch.instance.arms
    rows = arms.observations[np.arange(batch.n_arms), actions]        # (n_arms, S, O)
    alike = (rows == rows[:, :1]).all(axis=(1, 2))
    chance = rows[:, 0][np.arange(batch.n_arms), np.maximum(signals, 0)]    # if alike
    never = alike & (signals >= 0) & (chance == 0)
    certain = alike & (rows[:, 0].max(axis=1) == 1)   # one signal sure: one is expected
    sure = certain & (((signals >= 0) & (chance == 1)) | (signals == _UNKNOWN))   # no news
    odd = np.flatnonzero(np.where(alike, (signals != _EMPTY) & ~sure, signals == _EMPTY))
    if len(odd):
        k = int(odd[0])
        if never[k]:             # not "none expected": one signal is certain, this one never
            raise _impossible(batch, k, actions, signals, file, lines, cells)
        must, got, tail = (("be empty", f"{cells[k]!r}: its model expects no signal after "
                            f"action {actions[k]} (its signal rows are all alike); acted on "
                            f"after all? correct its action", "") if alike[k] else
                           ("be given", f"an empty cell: its model's signal after action "
                            f"{actions[k]} tells its states apart",
                            f"; not seen, or its record lost? write {UNKNOWN_SIGNAL!r}"))
        raise BatchInputError(f"signals.signal: must {must}; got {got} (arm "
                              f"{batch.arm_ids[k]!r} of batch {batch.batch_id!r}){tail}",
                              file=file, line=int(lines[k]), column="signal",
                              batch_id=batch.batch_id)
    signals = np.where(alike, rows[:, 0].argmax(axis=1), signals)
    lost = np.flatnonzero(signals == _UNKNOWN)
    if len(lost):                  # a stand-in of positive probability, its posterior replaced
        signals[lost] = signal_probabilities(arms, batch.belief, actions)[lost].argmax(axis=1)
    try:
        beliefs = update_beliefs(arms, batch.belief, actions, signals)
    except ImpossibleSignalError as exc:
        chance = signal_probabilities(arms, batch.belief, actions)
        k = int(chance[np.arange(batch.n_arms), signals].argmin())
        raise _impossible(batch, k, actions, signals, file, lines, cells) from exc
    if len(lost):
        beliefs[lost] = predicted(arms, batch.belief[lost], actions[lost], lost)
    return beliefs


def _impossible(batch: Batch, k: int, actions, signals, file: str, lines,
                cells) -> BatchInputError:
    """The error of arm ``k``'s signal of probability 0, and why where it can be said."""
    why = _never_seen(batch, k, int(actions[k]), int(signals[k]))
    return BatchInputError(f"signals.signal: must be possible under the arm's model and "
                           f"belief; got {cells[k]!r} after action {actions[k]}, which has "
                           f"probability 0 (arm {batch.arm_ids[k]!r} of batch "
                           f"{batch.batch_id!r}){why}", file=file, line=int(lines[k]),
                           column="signal", batch_id=batch.batch_id)


def _never_seen(batch: Batch, k: int, action: int, state: int) -> str:
    """Why a fully observed arm's next ``state`` is impossible: the move its model gives
    probability 0, and, if ``rmab estimate`` fitted the model (``metadata['generator']``), that
    no record of its log shows the move and how to keep it possible; for a hidden-state arm,
    :func:`_never_heard`."""
    arms = batch.instance.arms
    if not arms.fully_observed:
        return _never_heard(batch, k, action, state)
    start = np.flatnonzero(batch.belief[k] > 0)
    text = (f": its model moves from state{'s' * (len(start) > 1)} "
            f"{', '.join(map(str, start))} to {state} under action {action} with probability 0")
    for model, params in _estimated(batch, True, "strength"):
        same = [n for n in range(model.n_arms)
                if np.array_equal(model.arms.transitions[n], arms.transitions[k])]
        if not same:
            continue
        ids = model.metadata.get("arm_ids") or list(range(model.n_arms))
        strength = params["strength"]
        if (model.arms.transitions[:, action, start, state] == 0).all():
            whose = "any arm"
            remedy = "--prior uniform" + (" and --strength > 0" if strength == 0 else "")
        else:                                   # strength 0: the arm's own frequencies
            whose = f"its arm {ids[same[0]]!r}"
            remedy = "--strength > 0 (other arms' records show it)"
        return (f"{text}; rmab estimate fitted it from {params.get('log')!r}, where no record "
                f"of {whose} shows that move and the {params.get('prior')} prior (strength "
                f"{strength:g}) gives it no weight: if it can happen, give it a little "
                f"weight: estimate again with {remedy} and run the update again")
    return text


def _estimated(batch: Batch, observed: bool, number: str):
    """The batch's model files that ``rmab estimate`` wrote, of fully observed arms or not as
    ``observed``, whose ``metadata['params'][number]`` is a number: (model, params) pairs; a
    file changed since it was read is passed over (no hint rather than a second error)."""
    for path in batch.model_files:
        try:
            model = load_instance(path)
        except (RmabError, OSError, ValueError):
            continue
        params = model.metadata.get("params")
        if (model.metadata.get("generator") == "estimate"
                and model.arms.fully_observed == observed and isinstance(params, dict)
                and isinstance(params.get(number), (int, float))):
            yield model, params


def _never_heard(batch: Batch, k: int, action: int, signal: int) -> str:
    """Why a hidden-state arm's ``signal`` is impossible where its signal model gives it
    probability 0 in every state, and, if ``rmab estimate --hidden`` estimated that model, that
    no record of its log shows the signal after the action and how to keep it possible; ""
    where the signal is possible in some state (the arm's belief rules it out)."""
    arms = batch.instance.arms
    if (arms.observations[k, action, :, signal] > 0).any():
        return ""
    text = (f": its signal model gives signal {signal} after action {action} probability 0 in "
            f"every state")
    for model, params in _estimated(batch, False, "signal_strength"):
        if not any(np.array_equal(model.arms.observations[n], arms.observations[k])
                   for n in range(model.n_arms)):
            continue
        return (f"{text}; rmab estimate fitted it from {params.get('log')!r}, where no record "
                f"of any arm shows that signal after that action and the signal model "
                f"(--signal-strength {params['signal_strength']:g}) gives it no weight: if it "
                f"can happen, give it a little weight: estimate again with --signal-strength 1 "
                f"and run the update again")
    return text
