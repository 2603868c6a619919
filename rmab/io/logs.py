"""Logged transitions from a CSV file: one row per arm and period, in time order.

Columns ``arm_id, state, action, next_state`` (others, such as a date, are ignored): arm
``arm_id`` was seen in ``state``, received ``action`` and was seen next in ``next_state``
(fully observed logs). Read with :func:`read_transition_log`; ``rmab estimate`` turns a log
into an instance file (docs/csv.md).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from rmab._reporting import count_noun
from rmab._repr import CompactRepr
from rmab._validation import check_path
from rmab.errors import BatchInputError, RmabWarning
from rmab.io.reader import _filled, _id_text, _int, _load_rows
from rmab.models.estimate import count_transitions

LOG_COLUMNS = ("arm_id", "state", "action", "next_state")
_OWNER = "log"


@dataclass(frozen=True, eq=False, repr=False)
class TransitionLog(CompactRepr):
    """The records of a log file.

    arm_ids : tuple of str (n_arms,), in order of first appearance; ``arm_index`` indexes it
    arm_index, states, actions, next_states : int64 arrays (n_records,)
    lines : int64 array (n_records,), the 1-based line of each record
    file : str
    """

    arm_ids: tuple
    arm_index: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    next_states: np.ndarray
    lines: np.ndarray
    file: str

    def counts(self, n_states: int, n_actions: int) -> np.ndarray:
        """:func:`~rmab.models.count_transitions` of the records: (n_arms, n_actions,
        n_states, n_states); a record past ``n_states`` or ``n_actions`` is refused by its
        line."""
        for name, values, size in (("state", self.states, n_states),
                                   ("action", self.actions, n_actions),
                                   ("next_state", self.next_states, n_states)):
            bad = np.flatnonzero(values >= size)
            if len(bad):
                k = int(bad[0])
                raise BatchInputError(f"{_OWNER}.{name}: must be in [0, {size}); got "
                                      f"{values[k]}", file=self.file, line=int(self.lines[k]),
                                      column=name)
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
            self.file)

    def last_states(self) -> np.ndarray:
        """Each arm's state after its last record (n_arms,): the file is in time order."""
        last = np.empty(len(self.arm_ids), dtype=np.int64)
        last[self.arm_index] = self.next_states              # later records overwrite earlier ones
        return last


def _hint(column: str, cell: str) -> str:
    """What to do with a cell that is not a number: a label, or a next state not known yet."""
    if not cell:
        return (" (a record whose next state is not known yet, the last week's say, is left "
                "out of the log)" if column == "next_state" else "")
    try:
        float(cell)                               # a number, negative or fractional
        return ""
    except ValueError:
        pass
    if column == "action":
        return (" (actions are numbers: 0 for none, 1, 2, ... in the order of --costs; write a "
                "yes/no or True/False column as 1/0)")
    return (" (states are numbers: 0, 1, ... in the order of --rewards; write a label such as "
            "'not engaged' / 'engaged' as its number)")


def read_transition_log(path) -> TransitionLog:
    """The records of the CSV log ``path`` (UTF-8; a byte-order mark, CRLF line ends and blank
    lines are accepted). Raises :class:`~rmab.errors.BatchInputError` naming the file, line and
    column of the first bad cell."""
    check_path("read_transition_log", path)
    file = str(path)
    rows, lines = _load_rows(path, file, _OWNER)
    filled = [i for i, row in enumerate(rows) if _filled(row)]
    if len(filled) < 2:
        raise BatchInputError(f"{_OWNER}: must have a header row and at least one record; got "
                              f"{len(filled)} non-blank lines", file=file, line=1)
    head = filled[0]
    names = [h.strip() for h in rows[head]]
    missing = [c for c in LOG_COLUMNS if c not in names]
    if missing:
        sep = next((c for c in ";\t|" if c in names[0] and len(names) == 1), None)
        hint = (f": the header holds {sep!r}, fields must be separated by commas" if sep else
                ": rename your columns to these names (e.g. beneficiary_id to arm_id)")
        raise BatchInputError(f"{_OWNER}.header: must have the columns {', '.join(LOG_COLUMNS)}"
                              f"; missing {', '.join(missing)} (got {', '.join(map(repr, names))}"
                              f"){hint}", file=file, line=int(lines[head]))
    twice = next((c for c in LOG_COLUMNS if names.count(c) > 1), None)
    if twice is not None:                 # which one holds the data? (the first was taken)
        raise BatchInputError(f"{_OWNER}.header: column names must be unique; got {twice!r} "
                              f"twice", file=file, line=int(lines[head]), column=twice)
    where = {c: names.index(c) for c in LOG_COLUMNS}
    ids: dict[str, int] = {}
    out = np.empty((len(filled) - 1, 4), dtype=np.int64)
    seen: dict[tuple, int] = {}          # with a date column, a repeated row is a duplicate
    repeats = []
    for k, i in enumerate(filled[1:]):
        row, line = rows[i], int(lines[i])
        if len(names) > len(LOG_COLUMNS):
            key = tuple(c.strip() for c in row)
            if key in seen:
                repeats.append((line, seen[key]))
            seen.setdefault(key, line)
        if len(row) <= max(where.values()):
            raise BatchInputError(f"{_OWNER}: must have {len(names)} fields like the header; got "
                                  f"{len(row)}", file=file, line=line)
        arm = _id_text(row[where["arm_id"]].strip())
        if arm is None:
            raise BatchInputError(f"{_OWNER}.arm_id: must be a name; got "
                                  f"{row[where['arm_id']]!r}", file=file, line=line,
                                  column="arm_id")
        out[k, 0] = ids.setdefault(arm, len(ids))
        for j, column in enumerate(LOG_COLUMNS[1:], start=1):
            cell = row[where[column]].strip()
            try:
                value = _int(cell)                    # 3 and 3.0 (pandas), as batches read
            except ValueError:
                value = -1
            if value < 0 or value >= 2**31:
                got = repr(cell) if cell else "an empty cell"        # pandas' NaN
                raise BatchInputError(f"{_OWNER}.{column}: must be an integer >= 0; got {got}"
                                      f"{_hint(column, cell)}", file=file, line=line,
                                      column=column)
            out[k, j] = value
    if repeats:
        one = len(repeats) == 1
        warnings.warn(f"{_OWNER}: {count_noun(len(repeats), 'row')} "
                      f"{'repeats' if one else 'repeat'} an earlier row in every cell (first: "
                      f"line {repeats[0][0]} repeats line {repeats[0][1]}), "
                      f"{'its' if one else 'each'} transition counted again: duplicated "
                      f"rows?", RmabWarning, stacklevel=2)
    return TransitionLog(tuple(ids), *(np.ascontiguousarray(out[:, j]) for j in range(4)),
                         np.array([lines[i] for i in filled[1:]], dtype=np.int64), file)
