"""Logs from a CSV file: one row per arm and period, in time order.

A transition log has the columns ``arm_id, state, action, next_state`` (others, such as a
date, are ignored): arm ``arm_id`` was seen in ``state``, received ``action`` and was seen
next in ``next_state`` (fully observed logs; :func:`read_transition_log`). A signal log has
``arm_id, action, signal``: the state is never seen, only the signal after the action, an
empty cell where there was none (:func:`read_signal_log`). Both readers take your own column
names, labels, and a date column to order the rows by; ``rmab estimate`` turns a log into an
instance file (docs/csv.md).
"""

from __future__ import annotations

import difflib
import gc
import re
import warnings
from collections.abc import Mapping, Set
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np

from rmab._reporting import count_noun
from rmab._repr import CompactRepr
from rmab._validation import (check_flag, check_path, comma_hint, decimal_float,
                              field_count_hint)
from rmab._warnings import user_stacklevel
from rmab.errors import BatchInputError, InvalidParameterError, RmabWarning
from rmab.io.reader import _filled, _id_text, _int, _load_rows, id_array
from rmab.io.schema import wrong_separator
from rmab.models.estimate import count_transitions

LOG_COLUMNS = ("arm_id", "state", "action", "next_state")
SIGNAL_LOG_COLUMNS = ("arm_id", "action", "signal")
BATCH_COLUMNS = ("batch_id", "budget")        # either log's, read where the header has them
_CODED = ("order_by",) + BATCH_COLUMNS       # read as text: the readers give their _codes
_OWNER = "log"


@dataclass(frozen=True, eq=False, repr=False)
class TransitionLog(CompactRepr):
    """The records of a log file.

    arm_ids : read-only numpy array of str (dtype object, as a batch's) (n_arms,), in order of
        first appearance (in time order with ``order_by``); ``arm_index`` indexes it, and a
        mask over the arms selects their ids
    arm_index, states, actions, next_states : int64 arrays (n_records,)
    lines : int64 array (n_records,), the 1-based line of each record
    file : str
    columns : dict, the file's column of each log name that differs (as errors name them)
    arm_batches : read-only numpy array of str (n_arms,) as ``arm_ids``, each arm's batch (the
        ``batch_id`` column; ``log.arm_ids[log.arm_batches == "north"]``), or None
    arm_budgets : float64 array (n_arms,), the budget of each arm's batch (the ``budget``
        column), or None
    """

    arm_ids: np.ndarray
    arm_index: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    next_states: np.ndarray
    lines: np.ndarray
    file: str
    columns: dict = field(default_factory=dict)
    arm_batches: np.ndarray | None = None
    arm_budgets: np.ndarray | None = None

    def __post_init__(self) -> None:
        _id_arrays(self)

    def counts(self, n_states: int, n_actions: int) -> np.ndarray:
        """:func:`~rmab.models.count_transitions` of the records: (n_arms, n_actions,
        n_states, n_states); a record past ``n_states`` or ``n_actions`` is refused by its
        line."""
        _check_sizes(self, (("state", self.states, n_states),
                            ("action", self.actions, n_actions),
                            ("next_state", self.next_states, n_states)))
        return count_transitions(self.arm_index, self.states, self.actions, self.next_states,
                                 n_arms=len(self.arm_ids), n_states=n_states,
                                 n_actions=n_actions)

    def breaks(self) -> np.ndarray:
        """Indices of the records that do not start in the state their arm's previous record
        (in file order) reached: none in a complete log in time order, oldest first."""
        order = np.argsort(self.arm_index, kind="stable")       # each arm's records in order
        arm, state, nxt = self.arm_index[order], self.states[order], self.next_states[order]
        bad = (arm[1:] == arm[:-1]) & (state[1:] != nxt[:-1])
        return np.sort(order[1:][bad])

    def reversed(self) -> TransitionLog:
        """The records in reverse file order (the arms keep their indices)."""
        return TransitionLog(self.arm_ids, *(a[::-1].copy() for a in (
            self.arm_index, self.states, self.actions, self.next_states, self.lines)),
            self.file, self.columns, self.arm_batches, self.arm_budgets)

    def last_states(self) -> np.ndarray:
        """Each arm's state after its last record (n_arms,): the file is in time order."""
        last = np.empty(len(self.arm_ids), dtype=np.int64)
        last[self.arm_index] = self.next_states              # later records overwrite earlier ones
        return last


@dataclass(frozen=True, eq=False, repr=False)
class SignalLog(CompactRepr):
    """The records of a signal log file.

    arm_ids : as :class:`TransitionLog`'s
    arm_index, actions, signals : int64 arrays (n_records,); a signal of -1 is none (an empty
        cell)
    lines : int64 array (n_records,), the 1-based line of each record
    file : str
    columns : dict, the file's column of each log name that differs (as errors name them)
    arm_batches, arm_budgets : as :class:`TransitionLog`'s
    """

    arm_ids: np.ndarray
    arm_index: np.ndarray
    actions: np.ndarray
    signals: np.ndarray
    lines: np.ndarray
    file: str
    columns: dict = field(default_factory=dict)
    arm_batches: np.ndarray | None = None
    arm_budgets: np.ndarray | None = None

    def __post_init__(self) -> None:
        _id_arrays(self)

    def check_sizes(self, n_actions: int, n_obs: int) -> None:
        """A record past ``n_actions`` or ``n_obs`` is refused by its line."""
        _check_sizes(self, (("action", self.actions, n_actions),
                            ("signal", self.signals, n_obs)))


def _id_arrays(log) -> None:
    """A log's ``arm_ids`` and ``arm_batches`` (if any) as :func:`~rmab.io.reader.id_array`s."""
    for name in ("arm_ids", "arm_batches"):
        value = getattr(log, name)
        if value is not None:
            object.__setattr__(log, name, id_array(value))


# where a column's number of values comes from (rmab estimate's flag, or the Python keyword)
_SIZED_BY = {"state": "a reward each: --rewards", "next_state": "a reward each: --rewards",
             "action": "a cost each: --costs", "signal": "a name each: --signal-names"}


def _check_sizes(log, columns) -> None:
    for name, values, size in columns:
        bad = np.flatnonzero(values >= size)
        if len(bad):
            k = int(bad[0])
            raise BatchInputError(f"{_OWNER}.{name}: must be in [0, {size}); got "
                                  f"{values[k]} ({size} {name.replace('next_', '')}s, "
                                  f"{_SIZED_BY[name]})", file=log.file,
                                  line=int(log.lines[k]), column=log.columns.get(name, name))


def _hint(column: str, cell: str) -> str:
    """What to do with a cell that is not a number: a label, or a next state not known yet."""
    if not cell:
        skip = "skip_incomplete, --skip-incomplete, leaves out every row with an empty cell"
        return ("" if column not in ("state", "action", "next_state") else
                f" (a record whose next state is not known yet, the last week's say, is left "
                f"out of the log; {skip})" if column == "next_state" else f" ({skip})")
    try:
        float(cell)                               # a number, negative or fractional
        return ""
    except ValueError:
        pass
    if column == "action":
        return (" (actions are numbers: 0 for none, 1, 2, ... in the order of --costs; name "
                "labels such as 'call' or yes/no with action_names, --action-names)")
    if column == "signal":
        return (" (signals are numbers: 0, 1, ...; name labels such as 'no answer' / "
                "'answered' with signal_names, --signal-names; an empty cell is no signal)")
    return (" (states are numbers: 0, 1, ... in the order of --rewards; name labels such as "
            "'not engaged' / 'engaged' with state_names, --state-names)")


def check_columns(owner: str, columns, fields: tuple = LOG_COLUMNS) -> dict:
    """``columns`` ({log name: your column}, None for none) checked: keys among the log's
    ``fields``, values non-empty names, no column taken twice."""
    if columns is None:
        return {}
    if not isinstance(columns, dict):
        raise InvalidParameterError(f"{owner}.columns: must be a dict such as "
                                    f"{{'arm_id': 'beneficiary_id'}}; got {columns!r}")
    for key, value in columns.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidParameterError(f"{owner}.columns: keys must be among "
                                        f"{', '.join(fields)}; got {key!r}{hint}")
        if not isinstance(value, str) or not value.strip():
            raise InvalidParameterError(f"{owner}.columns[{key!r}]: must be a column name; "
                                        f"got {value!r}")
    columns = {key: value.strip() for key, value in columns.items()}
    # compared as the header is read, stripped: 'status ' is the column 'status'
    taken = {c: columns.get(c, c) for c in fields}
    for name in dict.fromkeys(taken.values()):
        readers = [c for c in fields if taken[c] == name]
        if len(readers) > 1:
            raise InvalidParameterError(f"{owner}.columns: each column must be read once; got "
                                        f"{name!r} for {' and '.join(readers)}")
    return columns


UNKNOWN_SIGNAL = "?"    # a signal cell: one was seen (the model expects one) but is not known


def check_signal_names(owner: str, names) -> tuple | None:
    """:func:`check_names` of signal labels, none of them :data:`UNKNOWN_SIGNAL`."""
    names = check_names(owner, "signal_names", names)
    if names and UNKNOWN_SIGNAL in names:
        raise InvalidParameterError(f"{owner}.signal_names: must not name a signal "
                                    f"{UNKNOWN_SIGNAL!r}, the mark of a signal not known (a "
                                    f"record lost); got it at {names.index(UNKNOWN_SIGNAL)}")
    return names


def check_names(owner: str, field: str, names) -> tuple | None:
    """Labels ``names[k]`` read as ``k`` (None for none): unique, non-empty, and a name that
    is a number only its own index."""
    if names is None:
        return None
    try:          # a set's order changes from run to run; a dict's values would be ignored
        given = None if isinstance(names, (str, bytes, Set, Mapping)) else list(names)
    except TypeError:
        given = None
    if given is None or not all(isinstance(x, str) for x in given):
        raise InvalidParameterError(f"{owner}.{field}: must be a sequence of names such as "
                                    f"['none', 'call']; got {names!r}")
    names = tuple(x.strip() for x in given)
    for k, name in enumerate(names):
        if not name:
            raise InvalidParameterError(f"{owner}.{field}: names must be non-empty; got "
                                        f"{names!r}")
        if names.index(name) != k:
            raise InvalidParameterError(f"{owner}.{field}: names must be unique; got "
                                        f"{name!r} twice")
        try:
            number = _int(name)                   # as a cell is read: 1 and 1.0
        except ValueError:
            number = k
        if number != k:
            raise InvalidParameterError(f"{owner}.{field}: a name that is a number must be "
                                        f"its own index; got {name!r} at {k}")
    return names


_ISO = re.compile(r"([0-9]{4})(?:-([0-9]{2})-([0-9]{2})|([0-9]{2})([0-9]{2})"
                  r"|-?W([0-9]{2})(?:-?([1-7]))?)"
                  r"(?:[T ]([0-9]{2})(?::?([0-9]{2})(?::?([0-9]{2})(?:[.,]([0-9]+))?)?)?"
                  r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?")


def _iso_time(cell: str) -> datetime:
    """An ISO 8601 date (2026-12-05, 20261205, 2026-W49, 2026-W49-6), optionally with a time
    after ``T`` or a blank (08, 08:00, 08:00:00.5, 0800) and a zone (Z, +01:00, -0500), the
    same on every Python: 3.10's ``datetime.fromisoformat`` refuses 'Z', 20261205 and weeks,
    3.11's also takes any character between the date and the time. Raises ValueError."""
    match = _ISO.fullmatch(cell)
    if match is None:
        raise ValueError(cell)
    year, month, day, month2, day2, week, weekday, hh, mm, ss, frac, zone = match.groups()
    if week:
        when = date.fromisocalendar(int(year), int(week), int(weekday or 1))
    else:
        when = date(int(year), int(month or month2), int(day or day2))
    tz = None
    if zone == "Z":
        tz = timezone.utc
    elif zone:
        digits = zone[1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        tz = timezone(-shift if zone[0] == "-" else shift)
    return datetime(when.year, when.month, when.day, int(hh or 0), int(mm or 0), int(ss or 0),
                    int((frac or "0")[:6].ljust(6, "0")), tzinfo=tz)


def _order_keys(cells: list[str], lines: list[int], column: str, file: str) -> list:
    """The sort keys of an ``order_by`` column: numbers, or ISO 8601 dates and times, as the
    first cell is."""
    def number(cell):
        if not np.isfinite(decimal_float(cell)):
            raise ValueError(cell)
        return Decimal(cell)        # exact: times in nanoseconds pass float's 2**53

    parse, kind = None, ""
    for candidate, name in ((number, "finite numbers"), (_iso_time, "dates")):
        try:
            candidate(cells[0])
            parse, kind = candidate, f" in a column of {name}"
            break
        except ValueError:
            pass
    keys = []
    for cell, line in zip(cells, lines):
        try:
            if parse is None:                 # the first cell is neither
                raise ValueError(cell)
            keys.append(parse(cell))
        except ValueError:
            got = repr(cell) if cell else "an empty cell"
            raise BatchInputError(f"{_OWNER}.{column}: must be numbers or ISO dates such as "
                                  f"2026-12-05 to order by; got {got}{kind} (a day/month "
                                  f"order is ambiguous: write dates as year-month-day)",
                                  file=file, line=line, column=column) from None
    zoned = [getattr(key, "tzinfo", None) is not None for key in keys]
    if len(set(zoned)) > 1:                      # naive and aware times do not compare
        k = zoned.index(not zoned[0])
        raise BatchInputError(f"{_OWNER}.{column}: must give every time with a time zone or none"
                              f"; got {cells[k]!r} after {cells[0]!r}", file=file,
                              line=lines[k], column=column)
    return keys


@contextmanager
def _collector_paused():
    """The cyclic garbage collector paused, then restored: each CSV row is a new list, and
    the collector scanned the rows again and again as more came (0.54 s of the 0.88 s the
    csv module took on a 1 000 000-row log); rows of strings make no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_transition_log(path, *, columns=None, order_by=None, state_names=None,
                        action_names=None, skip_incomplete=False) -> TransitionLog:
    """The records of the CSV log ``path`` (UTF-8; a byte-order mark, CRLF line ends and blank
    lines are accepted).

    columns : dict, your column for each log name that differs, e.g. ``{"arm_id":
        "beneficiary_id", "action": "called"}``
    order_by : str, a column of numbers or ISO 8601 dates (``2026-12-05``) to put the records
        in time order by (a stable sort: rows of one date keep their file order), not one the
        log reads; default the file's order
    state_names, action_names : sequence of str, labels read as their index (``["none",
        "call"]``: ``call`` is action 1); numbers are read as well
    skip_incomplete : bool, leave out, with a warning naming their lines, the rows with an
        empty state, action or next_state cell (a missed follow-up), rather than refuse the
        first (``rmab estimate --skip-incomplete``)

    A ``batch_id`` column (a log of several programmes) gives each arm's batch, the same on
    every row of the arm, and a ``budget`` column each batch's budget (the whole log's without
    ``batch_id``), the same on every row of the batch: ``arm_batches``, ``arm_budgets``;
    ``columns`` may name yours.

    Raises :class:`~rmab.errors.BatchInputError` naming the file, line and column of the first
    bad cell."""
    owner = "read_transition_log"
    states = check_names(owner, "state_names", state_names)
    skip = check_flag(owner, "skip_incomplete", skip_incomplete)
    ids, records, lines, batches = _read_log(owner, path, LOG_COLUMNS, columns, order_by, {
        "state": states, "action": check_names(owner, "action_names", action_names),
        "next_state": states}, skip)
    return TransitionLog(ids, *records, lines, str(path),
                         check_columns(owner, columns, LOG_COLUMNS + BATCH_COLUMNS), *batches)


def read_signal_log(path, *, columns=None, order_by=None, action_names=None,
                    signal_names=None) -> SignalLog:
    """The records of the CSV signal log ``path``, columns ``arm_id, action, signal`` (an
    empty signal cell: none that period; ``?``: one not known, as ``rmab update`` takes it;
    either read as -1, no evidence); the options and errors of
    :func:`read_transition_log`, ``signal_names`` the signals' labels (``["no answer",
    "answered"]``)."""
    owner = "read_signal_log"
    ids, records, lines, batches = _read_log(owner, path, SIGNAL_LOG_COLUMNS, columns,
                                             order_by, {
        "action": check_names(owner, "action_names", action_names),
        "signal": check_signal_names(owner, signal_names)})
    return SignalLog(ids, *records, lines, str(path),
                     check_columns(owner, columns, SIGNAL_LOG_COLUMNS + BATCH_COLUMNS), *batches)


def _read_log(owner: str, path, fields: tuple, columns, order_by, names_of: dict,
              skip_incomplete: bool = False) -> tuple:
    """The arm ids, the records' ``fields`` (arm index first), their lines and
    :func:`_batch_columns`; with ``skip_incomplete``, rows with an empty cell of ``fields``
    past the arm id left out."""
    check_path(owner, path)
    columns = check_columns(owner, columns, fields + BATCH_COLUMNS)
    if order_by is not None and (not isinstance(order_by, str) or not order_by.strip()):
        raise InvalidParameterError(f"{owner}.order_by: must be a column name; got "
                                    f"{order_by!r}")
    wanted = {c: columns.get(c, c) for c in fields + BATCH_COLUMNS if c in fields or
              c in columns}                  # a batch column named in columns is required
    if order_by is not None:
        reads = next((c for c in fields if wanted[c] == order_by.strip()), None)
        if reads is not None:        # sorted by state, each arm's last record is its highest
            raise InvalidParameterError(f"{owner}.order_by: must be a column of dates or "
                                        f"numbers other than the log's; got {order_by!r}, "
                                        f"read as {reads}")
        wanted["order_by"] = order_by.strip()
    file = str(path)
    with _collector_paused():               # a million rows are a million lists
        rows, lines = _load_rows(path, file, _OWNER, "a CSV log of " + (
            "transitions" if fields == LOG_COLUMNS else "actions and signals"))
        head, width, where = _header(rows, lines, wanted, fields, columns, file)
        names = [h.strip() for h in rows[head]]
        for name in BATCH_COLUMNS:        # optional: read where the header has them
            if name not in wanted and name in names and name not in wanted.values():
                wanted[name], where[name] = name, names.index(name)
        if skip_incomplete:
            rows, lines = _without_incomplete(rows, lines, head, [where[c] for c in fields[1:]],
                                              [wanted[c] for c in fields[1:]])
        read = (_read_columns(rows, lines, head, width, where, fields, names_of)  # None: bad
                or _read_rows(rows, lines, head, width, where, wanted, fields, names_of, file))
        del rows                            # freed while paused, not scanned once more
    ids, records, record_lines, repeats, cells = read
    when = cells.pop("order_by", None)                # cells: the batch columns there are
    if repeats:
        count, line, earlier = repeats
        one, noun = count == 1, "transition" if fields == LOG_COLUMNS else "signal"
        warnings.warn(f"{_OWNER}: {count_noun(count, 'row')} "
                      f"{'repeats' if one else 'repeat'} an earlier row in every cell (first: "
                      f"line {line} repeats line {earlier}), "
                      f"{'its' if one else 'each'} {noun} counted again: duplicated "
                      f"rows?", RmabWarning, stacklevel=3)
    if when is not None:
        _warn_of_same_time(ids, records, when, record_lines, wanted["order_by"],
                           repeats[0] if repeats else 0)
        order, keys = _time_order(*when, record_lines, wanted["order_by"], file)
        _warn_of_gaps(ids, records[0][order], keys, when[0][order], record_lines[order],
                      wanted["order_by"])
        records, record_lines = [r[order] for r in records], record_lines[order]
        cells = {name: (codes[order], kinds) for name, (codes, kinds) in cells.items()}
        # the arms in order of first appearance in time, as in the log sorted by hand (in
        # the file's order, the instance's arms and the batch's rows came out permuted)
        _, first = np.unique(records[0], return_index=True)
        seen = np.argsort(first)
        rank = np.empty_like(seen)
        rank[seen] = np.arange(len(seen))
        records[0] = rank[records[0]]
        ids = [ids[k] for k in seen]
    return (tuple(ids), list(map(np.ascontiguousarray, records)), record_lines,
            _batch_columns(ids, records[0], cells, record_lines, wanted, file))


def _batch_columns(ids, arm: np.ndarray, cells: dict, lines: np.ndarray, wanted: dict,
                   file: str) -> tuple:
    """Each arm's batch (its ``batch_id`` cells, alike on all its rows) and the budget of its
    batch (its ``budget`` cells, alike on all the batch's rows, a number >= 0), each None
    where ``cells`` (each column's :func:`_codes` of the records) has no such column."""
    if not cells:
        return None, None
    by_line = np.argsort(lines, kind="stable")              # the file's order: first = lowest
    arm, lines = arm[by_line], lines[by_line]
    if "batch_id" in cells:
        codes, names = cells["batch_id"]
        codes = codes[by_line]
        bad = next((b for b, name in enumerate(names) if _id_text(name) is None), None)
        if bad is not None:
            raise BatchInputError(f"{_OWNER}.batch_id: must be a name; got {names[bad]!r}",
                                  file=file, line=int(lines[np.argmax(codes == bad)]),
                                  column=wanted["batch_id"])
    else:                                                   # one batch: the whole log
        codes, names = np.zeros(len(arm), dtype=np.int64), [None]
    _, first = np.unique(arm, return_index=True)            # each arm's first row
    home = codes[first]
    odd = np.flatnonzero(codes != home[arm])
    if len(odd):
        k = int(odd[0])
        raise BatchInputError(f"{_OWNER}.batch_id: must be the same on every row of arm "
                              f"{ids[arm[k]]!r}; got {names[codes[k]]!r} here and "
                              f"{names[home[arm[k]]]!r} on line {lines[first[arm[k]]]} (one "
                              f"id in two programmes? make the ids unique, such as "
                              f"'{names[codes[k]]}-{ids[arm[k]]}')", file=file,
                              line=int(lines[k]), column=wanted["batch_id"])
    batches = None if names == [None] else tuple(names[b] for b in home)
    if "budget" not in cells:
        return batches, None
    texts, budgets = cells["budget"]
    texts = texts[by_line]
    firsts = np.unique(texts, return_index=True)[1]
    kinds, kind = np.unique([_budget(text, lines[firsts[j]], wanted, file)
                             for j, text in enumerate(budgets)], return_inverse=True)
    kind = kind.ravel()[texts]                    # each row's budget: kinds[kind] (2 = 2.0)
    pairs, at, counts = np.unique(codes * len(kinds) + kind, return_index=True,
                                  return_counts=True)
    batch = pairs // len(kinds)
    ranked = np.lexsort((at, -counts, batch))     # each batch's most common budget first
    best = ranked[np.r_[True, batch[ranked][1:] != batch[ranked][:-1]]]   # (ties: earliest)
    usual = np.empty(len(names), dtype=np.int64)
    usual[batch[best]] = pairs[best] % len(kinds)
    odd = np.flatnonzero(kind != usual[codes])
    if len(odd):
        b = codes[odd[0]]
        odd = odd[codes[odd] == b]
        more = ", ".join(map(str, lines[odd[1:6]])) + ", ..." * (len(odd) > 6)
        of = ("of the log (one batch: it has no batch_id column)" if names == [None]
              else f"of batch {names[b]!r}")
        raise BatchInputError(
            f"{_OWNER}.budget: must be the same on every row {of}; got "
            f"{kinds[kind[odd[0]]]:.12g} here and {kinds[usual[b]]:.12g} on line "
            f"{lines[at[best[batch[best] == b]][0]]}"
            + (f"; {len(odd) - 1} more row{'s' * (len(odd) > 2)} differ"
               f"{'s' * (len(odd) == 2)} (line {more})" if len(odd) > 1 else "")
            + ": a batch has one budget; write next period's on every row of it",
            file=file, line=int(lines[odd[0]]), column=wanted["budget"])
    return batches, kinds[usual[home]]


def _budget(cell: str, line: int, wanted: dict, file: str) -> float:
    """A ``budget`` cell's number (finite, >= 0)."""
    try:
        value = decimal_float(cell)
    except ValueError:
        value = None
    if value is None or not np.isfinite(value) or value < 0:
        got = repr(cell) if cell else "an empty cell"
        raise BatchInputError(f"{_OWNER}.budget: must be a number >= 0; got {got}"
                              f"{comma_hint(cell) if value is None else ''}", file=file,
                              line=int(line), column=wanted["budget"])
    return value


def _without_incomplete(rows, lines, head: int, cells: list, names: list) -> tuple:
    """``rows`` and ``lines`` without the records with an empty cell at a position of
    ``cells`` (a row too short for them stays, for the reader to refuse), warned of."""
    def empty(row) -> bool:
        return _filled(row) and len(row) > max(cells) and any(not row[j].strip() for j in cells)

    out = [i for i in range(head + 1, len(rows)) if empty(rows[i])]
    if out:
        said = ", ".join(str(lines[i]) for i in out[:5]) + (", ..." if len(out) > 5 else "")
        warnings.warn(f"{_OWNER}: {count_noun(len(out), 'row')} with an empty "
                      f"{', '.join(map(repr, names))} cell left out (skip_incomplete, "
                      f"--skip-incomplete; line{'s' * (len(out) > 1)} {said})", RmabWarning,
                      stacklevel=user_stacklevel())
        drop = set(out)
        keep = [i for i in range(len(rows)) if i not in drop]
        rows, lines = [rows[i] for i in keep], lines[keep]
    return rows, lines


def _warn_of_same_time(ids, records, when, lines, column: str, exact: int) -> None:
    """Warn of records that share their arm and ``column`` cell with an earlier one (a record
    an arm a period: both are counted, and a signal log's periods shift), unless all are
    rows repeated whole (``exact`` of them, warned of already); the first named is one whose
    record differs from the earlier one's, if any (a conflict, not a repeat)."""
    arm, codes, cells = records[0], *when
    key = arm * len(cells) + codes
    if len(ids) * len(cells) <= 8 * len(key) + 1024:    # counted: 8 ms at 10**6 records
        distinct = int(np.count_nonzero(np.bincount(key)))
    else:                                               # sorted: 60 ms (np.unique's 300)
        ordered = np.sort(key)
        distinct = int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1
    if len(key) - distinct <= exact:
        return
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    earlier = first[inverse.ravel()]
    again = np.flatnonzero(earlier != np.arange(len(key)))
    differ = np.any([r[again] != r[earlier[again]] for r in records[1:]], axis=0)
    k = int(again[np.argmax(differ)])               # the first conflict, else the first
    earlier = int(earlier[k])
    one = len(again) == 1
    warnings.warn(f"{_OWNER}: {count_noun(len(again), 'record')} "
                  f"{'shares' if one else 'share'} {'its' if one else 'their'} arm and "
                  f"{column!r} with an earlier one (first: line {lines[k]}, arm "
                  f"{ids[arm[k]]!r} at {cells[codes[k]].strip()!r}, as line {lines[earlier]}): "
                  f"one record an arm a period; duplicated or conflicting rows?", RmabWarning,
                  stacklevel=user_stacklevel())


def _header(rows, lines, wanted: dict, fields: tuple, columns: dict,
            file: str) -> tuple[int, int, dict]:
    """The header row's index, its number of cells and the index of each ``wanted`` column
    in it."""
    filled = (i for i, row in enumerate(rows) if _filled(row))
    head, record = next(filled, None), next(filled, None)
    if record is None:
        raise BatchInputError(f"{_OWNER}: must have a header row and at least one record; got "
                              f"{int(head is not None)} non-blank lines", file=file, line=1)
    names = [h.strip() for h in rows[head]]
    needed = list(dict.fromkeys(wanted.values()))
    missing = [name for name in needed if name not in names]
    if missing:
        sep = wrong_separator(names)
        # the other kind of log: rmab estimate with or without --hidden?
        other = (fields == LOG_COLUMNS and "signal" in names and "state" in missing,
                 fields == SIGNAL_LOG_COLUMNS and "next_state" in names and "signal" in missing)
        hint = (f": the header holds {sep!r}, fields must be separated by commas" if sep else
                ": a log of actions and signals? read it with read_signal_log (rmab estimate "
                "--hidden)" if other[0] else
                ": a log of seen states? read it with read_transition_log (rmab estimate "
                "without --hidden)" if other[1] else
                ": name yours with columns, e.g. {'arm_id': 'beneficiary_id'} (--columns "
                "'arm_id=beneficiary_id')" if set(missing) & set(fields) - set(columns)
                else "")
        raise BatchInputError(f"{_OWNER}.header: must have the columns "
                              f"{', '.join(needed)}; missing {', '.join(missing)} "
                              f"(got {', '.join(map(repr, names))}){hint}", file=file,
                              line=int(lines[head]))
    twice = next((c for c in wanted.values() if names.count(c) > 1), None)
    if twice is not None:                 # which one holds the data? (the first was taken)
        raise BatchInputError(f"{_OWNER}.header: column names must be unique; got {twice!r} "
                              f"twice", file=file, line=int(lines[head]), column=twice)
    return head, len(names), {c: names.index(name) for c, name in wanted.items()}


def _value(cell: str, labels: tuple | None, column: str) -> int | None:
    """A stripped cell's number (a label's index; -1 for an empty or ``?`` signal cell), None
    if it has none."""
    if column == "signal" and cell in ("", UNKNOWN_SIGNAL):
        return -1
    if labels is not None and cell in labels:
        return labels.index(cell)
    try:
        value = _int(cell)                    # 3 and 3.0 (pandas), as batches read
    except ValueError:
        return None
    return value if 0 <= value < 2**31 else None


def _codes(cells: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each cell's index among the distinct stripped cells, and those, in order of first
    appearance."""
    raw = dict.fromkeys(cells)
    stripped: dict[str, int] = {}
    for cell in raw:
        raw[cell] = stripped.setdefault(cell.strip(), len(stripped))
    return np.fromiter(map(raw.__getitem__, cells), dtype=np.int64, count=len(cells)), \
        list(stripped)


def _read_rows(rows, lines, head, width, where, wanted, fields, names_of, file):
    """The records after the header row ``head``, read row by row: the first bad cell raises.
    Returns the arm ids; the records' ``fields``, the arm's index first (an array each);
    their lines; ``(count, line, earlier line)`` of the rows that repeat an earlier one (or
    None); and the :func:`_codes` of the order and batch columns there are (a dict by log
    name)."""
    filled = [i for i in range(head + 1, len(rows)) if _filled(rows[i])]
    ids: dict[str, int] = {}
    out = np.empty((len(filled), len(fields)), dtype=np.int64)
    seen: dict[tuple, int] = {}          # with a date column, a repeated row is a duplicate
    repeats = []
    for k, i in enumerate(filled):
        row, line = rows[i], int(lines[i])
        if width > len(fields):
            key = [c.strip() for c in row]
            while len(key) > width and not key[-1]:     # empty cells past the header's: none
                key.pop()
            key = tuple(key)
            if key in seen:
                repeats.append((line, seen[key]))
            seen.setdefault(key, line)
        # a cell past the header's is a stray comma's (an unquoted '1,000' or 'Dec 5, 2026'),
        # which may have moved the cells read one column right: refused, as in a batch file
        if len(row) <= max(where.values()) or any(c.strip() for c in row[width:]):
            raise BatchInputError(f"{_OWNER}: must have {width} fields like the header; got "
                                  f"{len(row)}{field_count_hint(row, rows[head])}", file=file,
                                  line=line)
        arm = _id_text(row[where["arm_id"]].strip())
        if arm is None:
            raise BatchInputError(f"{_OWNER}.arm_id: must be a name; got "
                                  f"{row[where['arm_id']]!r}", file=file, line=line,
                                  column=wanted["arm_id"])
        out[k, 0] = ids.setdefault(arm, len(ids))
        for j, column in enumerate(fields[1:], start=1):
            cell = row[where[column]].strip()
            labels = names_of[column]
            value = _value(cell, labels, column)
            if value is None:
                got = repr(cell) if cell else "an empty cell"        # pandas' NaN
                named = "" if labels is None else f" or a name: {', '.join(map(repr, labels))}"
                named += (f" or empty (no signal) or {UNKNOWN_SIGNAL!r} (not known)"
                          if column == "signal" else "")
                hint = _closest(cell, labels) if labels is not None and cell else \
                    _hint(column, cell)
                raise BatchInputError(f"{_OWNER}.{column}: must be an integer >= 0{named}; got "
                                      f"{got}{hint}", file=file, line=line,
                                      column=wanted[column])
            out[k, j] = value
    coded = {name: _codes([rows[i][where[name]] for i in filled]) for name in _CODED
             if name in where}
    return (list(ids), list(out.T), lines[filled],
            (len(repeats), *repeats[0]) if repeats else None, coded)


def _closest(cell: str, labels) -> str:
    """`` (did you mean 'engaged'?)`` for a label a typo or a case away from one of ``labels``;
    every label alike but for case (`` (did you mean 'Call' or 'call'?)``), as labels are read
    case-sensitively and either may be the one meant."""
    folded: dict[str, list] = {}
    for label in labels:
        folded.setdefault(label.casefold(), []).append(label)
    close = difflib.get_close_matches(cell.casefold(), list(folded), n=1, cutoff=0.75)
    if not close:
        return ""
    *others, last = map(repr, folded[close[0]])
    return f" (did you mean {', '.join(others) + ' or ' if others else ''}{last}?)"


def _read_columns(rows, lines, head, width, where, fields, names_of):
    """:func:`_read_rows`'s records read column by column, each distinct cell once (a log of
    1 000 000 rows has some 20 000 arm ids and 2 states); None where a non-blank row has not
    ``width`` cells or a cell is not an arm id, a number or a label (read row by row, the
    first such cell's error is said as it always was)."""
    sizes = np.fromiter(map(len, rows[head + 1:]), dtype=np.int64, count=len(rows) - head - 1)
    longer = head + 1 + np.flatnonzero(sizes > width)
    if len(longer) and not any(any(c.strip() for c in rows[i][width:]) for i in longer):
        # only empty cells past the header's (a trailing comma on each row): read without them
        rows = rows[:head + 1] + [row[:width] for row in rows[head + 1:]]
        sizes = np.minimum(sizes, width)
    odd = np.flatnonzero(sizes != width)
    if any(_filled(rows[head + 1 + k]) for k in odd):
        return None
    at = head + 1 + np.flatnonzero(sizes == width)
    data = [rows[i] for i in at] if len(odd) else rows[head + 1:]
    arm, ids = _codes([row[where["arm_id"]] for row in data])
    if "" in ids:                               # blank rows of ``width`` empty cells?
        blank = arm == ids.index("")
        if any(_filled(data[k]) for k in np.flatnonzero(blank)):
            return None
        at = at[~blank]
        data = [rows[i] for i in at]
        arm, ids = _codes([row[where["arm_id"]] for row in data])
    if any(_id_text(i) is None for i in ids):
        return None
    coded = {j: _codes([row[j] for row in data]) for j in range(width) if j != where["arm_id"]}
    coded[where["arm_id"]] = arm, ids
    records = [arm]
    for column in fields[1:]:
        codes, cells = coded[where[column]]
        values = [_value(cell, names_of[column], column) for cell in cells]
        if None in values:
            return None
        records.append(np.array(values, dtype=np.int64)[codes])
    record_lines = lines[at]
    repeats = (_repeated([coded[j] for j in range(width)], record_lines)
               if width > len(fields) else None)
    return ids, records, record_lines, repeats, {name: coded[where[name]] for name in _CODED
                                                 if name in where}


def _repeated(coded: list, lines: np.ndarray) -> tuple | None:
    """``(count, line, earlier line)`` of the records whose cells, each column's
    :func:`_codes`, all repeat an earlier record's; None if none do."""
    key, span = np.zeros(len(lines), dtype=np.int64), 1
    for codes, cells in coded:                  # the columns' codes as one number
        if span * len(cells) >= 2**63:          # renumbered: as many numbers as records
            distinct, key = np.unique(key, return_inverse=True)
            span = len(distinct)
        key, span = key * len(cells) + codes, span * len(cells)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    earlier = first[inverse]
    again = np.flatnonzero(earlier != np.arange(len(key)))
    if not len(again):
        return None
    return len(again), int(lines[again[0]]), int(lines[earlier[again[0]]])


def _time_order(codes: np.ndarray, cells: list[str], lines: np.ndarray, column: str,
                file: str) -> np.ndarray:
    """The records in the order of their order_by cells, given as :func:`_codes` (a stable
    sort: equal times keep the file's order); each distinct cell read once, by the line it
    is first on, so that a bad cell is named as when every cell was read. Returns the order
    and the cells' sort keys."""
    new = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    keys = _order_keys(cells, lines[new].tolist(), column, file)
    by = sorted(range(len(keys)), key=keys.__getitem__)
    ordered = [keys[k] for k in by]
    rank = np.empty(len(keys), dtype=np.int64)          # equal times (1 and 1.0): one rank
    rank[by] = np.cumsum([0] + [a < b for a, b in zip(ordered, ordered[1:])])
    return np.argsort(rank[codes], kind="stable"), keys


def _warn_of_gaps(ids, arm, keys, codes, lines, column: str) -> None:
    """Warn of an arm's missing periods in a column of whole numbers (weeks): a difference
    between an arm's consecutive times above the smallest one in the log (records in time
    order). Each arm needs a record every period; a signal log's fit reads the record after
    a gap as the next period. Dates are left alone (calls on other weekdays are no gap)."""
    if not all(isinstance(k, Decimal) and k == k.to_integral_value() and abs(k) < 2**62
               for k in keys):
        return
    time = np.array([int(k) for k in keys], dtype=np.int64)[codes]
    by_arm = np.argsort(arm, kind="stable")                 # each arm's records in time order
    same = arm[by_arm][1:] == arm[by_arm][:-1]
    step = np.diff(time[by_arm])[same]
    if not (step > 0).any():
        return
    unit = step[step > 0].min()
    gaps = np.flatnonzero(same)[step > unit]
    if len(gaps):
        a, b = by_arm[gaps[0]], by_arm[gaps[0] + 1]
        warnings.warn(f"{_OWNER}: {count_noun(len(gaps), 'gap')} in an arm's {column!r} "
                      f"(first: arm {ids[arm[a]]!r}, {time[a]} on line {lines[a]} then "
                      f"{time[b]} on line {lines[b]}; {unit} apart elsewhere): each arm needs "
                      f"a record every period, one of action 0 where none was taken (a signal "
                      f"log's fit reads the record after a gap as the next period)",
                      RmabWarning, stacklevel=user_stacklevel())
