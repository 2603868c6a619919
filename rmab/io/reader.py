"""Read a CSV file of budgeted allocation batches into validated instances (``docs/csv.md``).

One row per arm; rows sharing a ``batch_id`` form one :class:`Batch`, i.e. one
:class:`~rmab.models.Instance` (its arms, the batch's budget and discount) plus the arms' current
beliefs. Columns are converted batch by batch with vectorised numpy code; model files named in
the ``model`` column are loaded once per file read. Every problem raises
:class:`~rmab.errors.BatchInputError` with the file, the 1-based physical line (header = line 1)
and the column.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import warnings
from collections import Counter
from itertools import repeat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rmab._validation import (DISCOUNT_GAP, PROB_TOL, _short, check_discount, check_flag,
                              check_path, comma_hint, decimal_float, field_count_hint)
from rmab.errors import (BatchInputError, InvalidModelError, InvalidParameterError, RmabError,
                         RmabWarning)
from rmab.io.schema import OWNER, check_header, rounding_tol
from rmab.models.arms import MDPArms, POMDPArms
from rmab.models.instance import Instance
from rmab.models.storage import load_instance

__all__ = ["Batch", "read_batches"]


_ID_RULE = ("must be non-empty text (or an integer) without blanks at either end or control "
            "characters, as the CSV reader reads ids")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")     # Unicode's control characters (Cc)


def _id_text(value) -> str | None:
    """``value`` as the id the CSV reader would read (an integer as its text), or None where
    it would read another one (blank-padded, empty) or none (None, a float, a NUL byte...)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value and value == value.strip() and \
            not _CONTROL.search(value):
        return str(value)                     # numpy's str_ too: shown as 'a', not str_('a')
    return None


def id_array(ids) -> np.ndarray:
    """The sequence of str ``ids`` as a read-only 1-d numpy array of them (dtype object, so an
    id shows as 'a' in messages): a mask over the arms selects their ids."""
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Batch:
    """One batch of a CSV file: an instance and the current belief of each of its arms.

    Attributes
    ----------
    batch_id : str, non-empty, no blanks at either end (an integer is taken as its text)
    arm_ids : read-only numpy array of str (dtype object), (n_arms,), unique, as batch_id
        (given as any sequence): ``batch.arm_ids[actions > 0]`` names the arms acted on
    instance : Instance
        Arms in row order, the batch's budget and discount; ``instance.initial_belief``
        (n_arms, n_states) holds the current beliefs (a given ``state`` is a one-hot row).
    action_names : tuple of str (n_actions,) or None
        From the model files' ``metadata['actions']`` when every arm of the batch agrees;
        built by hand, default the instance's ``metadata['actions']`` if it has ``n_actions``
        names (``health_intervention``'s ``none, call, visit``).
    lines : array int64 (n_arms,) or None
        1-based line of each arm's row in ``file``.
    file : str or None
    model_files : tuple of str
        The model files its rows name (paths as read, relative ones joined to the CSV's
        folder), so that a run can refuse to write over them.
    """

    batch_id: str
    arm_ids: np.ndarray
    instance: Instance
    action_names: tuple | None = None
    lines: np.ndarray | None = None
    file: str | None = None
    model_files: tuple = ()

    def __post_init__(self):
        if not isinstance(self.instance, Instance):
            raise InvalidParameterError(f"Batch.instance: must be an Instance; got "
                                        f"{type(self.instance).__name__}")
        bid = _id_text(self.batch_id)
        if bid is None:                          # '' and None were both written as ''
            raise InvalidParameterError(f"Batch.batch_id: {_ID_RULE}; got "
                                        f"{_short(self.batch_id)}")
        object.__setattr__(self, "batch_id", bid)
        if isinstance(self.arm_ids, (str, bytes)) or not hasattr(self.arm_ids, "__iter__"):
            raise InvalidParameterError(f"Batch.arm_ids: must be a sequence of names, one per "
                                        f"arm; got {_short(self.arm_ids)}")
        given = list(self.arm_ids)         # a generator or dict keys, indexed below
        ids = tuple(map(_id_text, given))
        if None in ids:
            bad = given[ids.index(None)]
            raise InvalidParameterError(f"Batch.arm_ids: {_ID_RULE}; got {_short(bad)} at "
                                        f"position {ids.index(None)}")
        if len(ids) != self.instance.n_arms:
            raise InvalidParameterError(f"Batch.arm_ids: must be {self.instance.n_arms} unique "
                                        f"names, one per arm; got {len(ids)}: {_short(ids)}")
        if len(set(ids)) != len(ids):
            seen: dict = {}
            k = next(k for k, i in enumerate(ids) if seen.setdefault(i, k) != k)
            raise InvalidParameterError(f"Batch.arm_ids: must be unique names; got "
                                        f"{_short(ids[k])} at positions {seen[ids[k]]} and {k}")
        object.__setattr__(self, "arm_ids", id_array(ids))
        named = self.instance.metadata.get("actions")
        if self.action_names is None and isinstance(named, (list, tuple)) and \
                len(named) == self.instance.n_actions:
            object.__setattr__(self, "action_names", named)
        if self.action_names is not None:
            names = tuple(map(str, self.action_names))
            if len(names) != self.instance.n_actions:
                raise InvalidParameterError(f"Batch.action_names: must have n_actions="
                                            f"{self.instance.n_actions} names; got {names}")
            object.__setattr__(self, "action_names", names)
        self._check_provenance()

    def _check_provenance(self) -> None:
        """``lines``, ``file`` and ``model_files``: where the batch was read from."""
        if self.lines is not None:
            lines = np.asarray(self.lines)
            if (lines.dtype.kind not in "iu" or lines.shape != (self.n_arms,)
                    or (self.n_arms and lines.min() < 1)):
                raise InvalidParameterError(f"Batch.lines: must be None or the 1-based line of "
                                            f"each arm's row, integers of shape (n_arms="
                                            f"{self.n_arms},); got {_short(self.lines)}")
            object.__setattr__(self, "lines", lines.astype(np.int64))
        if self.file is not None:
            check_path("Batch", self.file, "file")
            object.__setattr__(self, "file", os.fspath(self.file))
        files = self.model_files
        if isinstance(files, (str, bytes)) or not isinstance(files, (tuple, list)):
            raise InvalidParameterError(f"Batch.model_files: must be a sequence of paths; got "
                                        f"{_short(files)}")
        for k, f in enumerate(files):
            check_path("Batch", f, f"model_files[{k}]")
        object.__setattr__(self, "model_files", tuple(map(os.fspath, files)))

    def __repr__(self) -> str:
        return (f"Batch(batch_id={self.batch_id!r}, n_arms={self.n_arms}, "
                f"budget={self.instance.budget}, file={self.file!r})")

    @property
    def belief(self) -> np.ndarray:
        """Current beliefs (n_arms, n_states), read-only."""
        return self.instance.initial_belief

    @property
    def n_arms(self) -> int:
        return self.instance.n_arms


def read_batches(path, *, discount: float = 0.95) -> list[Batch]:
    """Read every batch of the CSV file ``path`` (schema in ``docs/csv.md``).

    ``discount`` is used for batches whose rows give no ``discount``. Raises
    :class:`~rmab.errors.BatchInputError` for the first problem in the file (the lowest line).
    """
    batches, failures = read_batches_keep_going(path, discount=discount)
    if failures:
        raise failures[0]
    return batches


def read_batches_keep_going(path, *, discount: float = 0.95, every_row: bool = False
                            ) -> tuple[list[Batch], list[BatchInputError]]:
    """Like :func:`read_batches`, but a batch with a bad row is left out and its error (one per
    failed batch, or per row with no batch id) returned instead, sorted by line.
    ``every_row``: the first error of every bad row, not only of every failed batch (the batch
    is read again without each bad row found, so a file is mended in one pass; ``rmab solve
    --check``).

    Problems of the whole file (unreadable, not CSV, bad header, no rows) still raise.
    """
    check_path("read_batches", path)
    every_row = check_flag("read_batches", "every_row", every_row)
    return read_with_models(path, discount, every_row)[:2]


def read_with_models(path, discount: float = 0.95, every_row: bool = False):
    """:func:`read_batches_keep_going` and the paths of every model file a row names, also
    in the batches left out (an output must not replace any of them)."""
    discount = check_discount("read_batches", discount)
    file = str(path)
    rows, lines = _load_rows(path, file)
    nonblank = (i for i, row in enumerate(rows) if _filled(row))
    head = next(nonblank, None)
    if head is None:
        raise BatchInputError(f"{OWNER}: must have a header row and arm rows; got an empty file",
                              file=file, line=1)
    header = _without_empty_tail(rows[head])        # spreadsheets add trailing commas
    positions = check_header(header, file, int(lines[head]))
    names = [h.strip() for h in header]
    width, bi = len(names), positions["batch_id"]
    data = [row if len(row) == width else _fit(row, width, len(rows[head]))
            for row in rows[head + 1:]]
    data_lines = lines[head + 1:]
    full = np.fromiter(map(len, data), dtype=np.int64, count=len(data)) == width
    good = data if full.all() else [data[i] for i in np.flatnonzero(full)]
    reader = _FileReader(file, Path(path).parent, discount)
    reader.lines = data_lines[full]
    columns = zip(*good) if good else ([] for _ in names)
    reader.table = {name: list(map(str.strip, col)) for name, col in zip(names, columns)}
    groups: dict[str, list[int]] = {}
    reader.groups = groups
    failures: list[BatchInputError] = []
    for k, bid in enumerate(reader.table["batch_id"]):
        if bid:
            groups.setdefault(bid, []).append(k)
        elif _filled(good[k]):
            failures.append(BatchInputError(f"{OWNER}.batch_id: must not be empty; got ''",
                                            file=file, line=int(reader.lines[k]),
                                            column="batch_id"))
    first = {bid: int(reader.lines[members[0]]) for bid, members in groups.items()}
    broken: dict[str, BatchInputError] = {}
    for i in np.flatnonzero(~full):
        row, line = data[i], int(data_lines[i])
        if not _filled(row):
            continue
        # d commas too many (too few) may have moved the batch_id cell up to d places right
        # (left): the row's own cell and every batch named in those places are broken
        cells = [c.strip() for c in row]
        d = abs(len(row) - width)
        near = cells[bi:bi + d + 1] if len(row) > width else cells[max(0, bi - d):bi + 1]
        own = [cells[bi]] if len(row) > bi and cells[bi] else []
        named = list(dict.fromkeys(own + [c for c in near if c in groups]))
        reader.stray.update(cells)                   # any may name a model file
        message = f"{OWNER}.row: must have {width} fields like the header; got {len(row)}"
        message += field_count_hint(row, names, _LISTS)
        if len(named) > 1:
            message += (f" (its batch_id may be any of {', '.join(map(repr, named))}: each of "
                        f"these batches is skipped)")
        if not named:
            failures.append(BatchInputError(message, file=file, line=line))
        for bid in named:
            broken.setdefault(bid, BatchInputError(message, file=file, line=line, batch_id=bid))
            first[bid] = min(first.get(bid, line), line)
    if not first and not failures:
        raise BatchInputError(f"{OWNER}: must have at least one arm row after the header; got "
                              f"none", file=file, line=int(lines[head]) + 1)
    batches = []
    for bid in sorted(first, key=first.get):
        if bid in broken:
            failures.append(broken[bid])
            if not (every_row and groups.get(bid)):
                continue                # else its well-formed rows are checked, not kept
        try:
            batch = reader.batch(bid, groups[bid])
            if bid not in broken:
                batches.append(batch)
        except BatchInputError as exc:
            failures.append(exc)
            if every_row:
                failures += _later_rows(reader, bid, groups[bid], exc)
        except Warning as exc:  # a reader warning the user made an error (-W error): its batch
            failures.append(_warned(file, bid, first[bid], exc))
    failures.sort(key=lambda e: e.line or 0)
    return batches, failures, reader.named_models()


_BATCH_COLUMNS = ("budget", "discount", "min_active", "max_active", "action_caps")
_LISTS = ("belief", "costs", "action_caps")          # cells of ';'-separated numbers


def _later_rows(reader: "_FileReader", bid: str, members: list[int],
                error: BatchInputError) -> list[BatchInputError]:
    """The errors of the batch's other bad rows: read it again without the rows of each error,
    until it reads. Only errors of a row's own cells are reported: one of the whole batch
    (no column, or a batch column's relation to the rows, such as ``min_active`` above their
    number) is the caller's first error or may follow from the rows taken out. A batch
    column's value that is bad by itself is the row's own, and so is one that differs from
    the batch's other rows (taking rows out cannot make values differ), reported once per
    column: ``--check`` hid both until the next run (a CLI review).

    An error names every row it holds for (``_rows``: the rows with the same bad cell, or
    all the rows that differ), and they go together: one read per row had made ``--check``
    quadratic (8 000 rows naming a missing model file: 62 s)."""
    found = _alike(error)
    differs = {error.column} if error._fault == "differs" else set()
    start = int(reader.lines[members[0]])           # the batch's first line
    while error.column not in (None, "batch_id"):   # else every row's own check has passed
        drop = set(error._rows)
        rest = [k for k in members if int(reader.lines[k]) not in drop]
        if len(rest) in (0, len(members)):
            return found
        members = rest
        try:
            reader.batch(bid, members)
            return found
        except Warning as exc:        # -W error: the batch's own, once its rows read
            return found + [_warned(reader.file, bid, start, exc)]
        except BatchInputError as exc:
            fault = exc._fault
            if exc.column is not None and (exc.column not in _BATCH_COLUMNS or fault == "cell"
                                           or fault == "differs" and exc.column not in differs):
                found += [exc] + _alike(exc)
                if fault == "differs":
                    differs.add(exc.column)
            error = exc
    return found


def _alike(error: BatchInputError) -> list[BatchInputError]:
    """The error of each other row it holds for (``_rows``, with their ``_messages``)."""
    if error._fault == "differs":             # one problem of the batch: reported once
        return []
    return [BatchInputError(message, file=error.file, line=line, column=error.column,
                            batch_id=error.batch_id)
            for line, message in zip(error._rows, error._messages) if line != error.line]


def _warned(file: str, bid: str, line: int, exc: Warning) -> BatchInputError:
    """A reader warning raised as an error (``-W error``) as the failure of batch ``bid``."""
    said = re.sub(rf"^{re.escape(f'{file}: batch {bid!r}')}(?: \(line \d+\))?: ", "",
                  str(exc))              # the file and batch (and line) the error says itself
    return BatchInputError(f"{OWNER}: {said} ({type(exc).__name__} raised as an error)",
                           file=file, line=line, batch_id=bid)


def _shown(key) -> str:
    """A value of :meth:`_BatchRows.differing` as the error shows it: ``[inf, 1.0, inf]``."""
    return str(list(key) if isinstance(key, tuple) else key)


def _float_tuple(cell: str) -> tuple:
    return tuple(decimal_float(x.strip()) for x in cell.split(";"))


def _filled(row: list[str]) -> bool:
    """False for a blank record (no cells, or only blank cells)."""
    return bool("".join(row).strip())


_FIELD_LIMIT = 2**31 - 1   # csv's default 131 072 characters refused a 60-state inline arm


def _load_rows(path, file: str, owner: str = OWNER, kind: str = "a CSV file of batches"
               ) -> tuple[list[list[str]], np.ndarray]:
    """Every CSV record (blank ones included) and the physical line each starts on; errors
    are headed by ``owner`` and say what the file must be (``kind``)."""
    try:
        raw = Path(path).read_bytes()
    except (OSError, ValueError) as exc:
        raise BatchInputError(f"{owner}.path: must be a readable file; got {file!r} ({exc})",
                              file=file) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if raw.startswith(b"PK\x03\x04"):            # a zip: an .npz, or a spreadsheet
            what = ("an .npz archive (an instance: 'rmab compare', 'rmab bound' or 'rmab index' "
                    "read it; a CSV's 'model' column names it)"
                    if str(file).lower().endswith(".npz") else
                    "a zip archive (a spreadsheet? save it as CSV, comma-separated)")
            raise BatchInputError(f"{owner}: must be {kind}; got {what}",
                                  file=file) from exc
        at = exc.start + 3 * raw.startswith(codecs.BOM_UTF8)   # utf-8-sig counts after it
        head = raw[:at]                  # line ends as the csv reader counts them: \n, \r\n, \r
        line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            got, line = "UTF-16 text (a spreadsheet's 'Unicode text'?)", 1
        else:                            # e.g. 'José' saved as Windows-1252 by a spreadsheet
            got = f"byte {raw[at]:#04x} (text in a local code page, such as Windows-1252?)"
        raise BatchInputError(f"{owner}: must be UTF-8 text; got {got}: save the file as "
                              f"'CSV UTF-8'", file=file, line=line) from exc
    limit = csv.field_size_limit(_FIELD_LIMIT)   # inline arms can be long; the text is in memory
    try:
        return _records(text, file, owner)
    finally:
        csv.field_size_limit(limit)


def _records(text: str, file: str, owner: str = OWNER) -> tuple[list[list[str]], np.ndarray]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise BatchInputError(f"{owner}: must be well-formed CSV; {exc}", file=file,
                              line=_bad_record_line(text)) from exc
    n_lines = (text.count("\n") + text.count("\r") - text.count("\r\n")
               + (not text.endswith(("\n", "\r"))))
    if n_lines == len(rows):  # one record per line: no quoted line breaks
        return rows, np.arange(1, len(rows) + 1, dtype=np.int64)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines, start = [], 1
    for _ in reader:
        lines.append(start)
        start = reader.line_num + 1
    return rows, np.array(lines, dtype=np.int64)


def _without_empty_tail(row: list[str]) -> list[str]:
    end = len(row)
    while end > 1 and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _fit(row: list[str], width: int, header_cells: int) -> list[str]:
    """A row cut to ``width`` when the cells past it are empty and no more than the header's
    own (trailing commas, as spreadsheets write them on every row); else unchanged, and
    refused later for its field count. A row with one comma too many and an empty last cell
    was read with its cells moved one column right."""
    if len(row) <= header_cells and not any(cell.strip() for cell in row[width:]):
        return row[:width]
    return row


def _bad_record_line(text: str) -> int:
    """The line where the record that breaks the CSV starts (an unclosed quote is reported
    by the csv module at the end of the file)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error:
        return start
    return reader.line_num


_FIELD = re.compile(r"^\w+\.(\w+):")
_INT = re.compile(r"[+-]?[0-9]+(?:\.0*)?")      # "3.0" as pandas writes integer columns
_JSON_WORD = re.compile(r"true|false|null")


def _int(cell: str) -> int:
    if not _INT.fullmatch(cell):
        raise ValueError(f"not a decimal integer: {cell!r}")
    return int(cell.partition(".")[0])


def _int64(cell: str) -> int:
    """:func:`_int` within int64 (as :meth:`_BatchRows.ints` reads; OverflowError past it)."""
    return int(np.int64(_int(cell)))


class _FileReader:
    """Per-file state: the stripped cells by column, row lines, model-file and inline caches."""

    def __init__(self, file: str, folder: Path, discount: float):
        self.file = file
        self.folder = folder
        self.discount = discount
        self.table: dict[str, list[str]] = {}
        self.lines = np.zeros(0, dtype=np.int64)  # line of each full-width data row
        self.stray: set[str] = set()               # cells of rows with a wrong field count
        self._models: dict[str, Instance | Exception] = {}
        self._unused: set[tuple] = set()            # (model file, setting) already warned of
        self._inline: dict[tuple, tuple] = {}      # cells -> (arms, index) or their error
        self.groups: dict[str, list[int]] = {}     # batch id -> all its full-width rows
        self._shared: dict[tuple, list] = {}        # (batch id, column) -> its parsed values

    def shared_values(self, bid: str, name: str, parse, valid) -> list[tuple]:
        """``(parse(cell), line)`` of every non-empty cell of column ``name`` in all of batch
        ``bid``'s rows whose value is ``valid`` by itself (those refused for their own cell
        left out): the most common value is the batch's, however many rows ``--check`` has
        taken out."""
        key = (bid, name)
        if key not in self._shared:
            values = []
            for i in self.groups.get(bid, ()):
                cell = self.table[name][i]
                if cell:
                    try:
                        value = parse(cell)
                    except (ValueError, OverflowError):
                        continue
                    if valid(value):
                        values.append((value, int(self.lines[i])))
            self._shared[key] = values
        return self._shared[key]

    # -- one batch -------------------------------------------------------------------------
    def batch(self, bid: str, members: list[int]) -> Batch:
        b = _BatchRows(self, bid, members)
        if _CONTROL.search(bid):
            b.fail(0, "batch_id", f"{OWNER}.batch_id: must not hold control characters; got "
                                  f"{bid!r}")
        ids = b.col("arm_id")
        self._check_ids(b, ids)
        budget = b.same_number("budget", b.floats("budget", range(b.n)), low=0.0)
        discount = self._discount(b)
        transitions, observations, rewards, costs, names, source_col = self._models_of(b)
        n_states, n_actions = transitions.shape[2], transitions.shape[1]
        overridden = self._costs(b, costs, n_actions)
        belief = self._beliefs(b, n_states)
        arms = self._arms(b, transitions, observations, rewards, costs, source_col, overridden)
        metadata = {"source": self.file, "batch_id": bid}
        if names:
            metadata["actions"] = list(names)
        try:
            with warnings.catch_warnings(record=True) as caught:   # said again with the batch
                warnings.simplefilter("always")
                instance = Instance(arms, budget, discount=discount, initial_belief=belief,
                                    name=f"batch {bid}", metadata=metadata,
                                    **self._limits(b, n_actions))
        except InvalidModelError as exc:
            b.fail(0, None, f"{OWNER}: must describe a valid instance; {exc}", exc)
        for w in caught:                    # e.g. a budget below every action's cost
            warnings.warn(f"{self.file}: batch {bid!r} (line {int(b.lines_array().min())}): "
                          f"{w.message}", w.category, stacklevel=2)
        self._warn_unused(b, discount)
        return Batch(bid, tuple(ids), instance, action_names=names, lines=b.lines_array(),
                     file=self.file, model_files=tuple(sorted(b.model_files)))

    def _warn_unused(self, b, discount: float) -> None:
        """An RmabWarning, once per model file and setting, for a setting of a batch's model
        files that the batch's rows do not replace and that is not used (a planner then plans
        with other settings than the file's: 10 calls where the file allowed 2). A setting
        the rows give (a discount column, count-limit columns) is the user's choice: no
        warning."""
        def given(*columns) -> bool:
            return any(c in self.table and any(b.col(c)) for c in columns)

        for key in sorted(b.model_files):
            inst = self._models.get(key)
            if not isinstance(inst, Instance):
                continue
            unused = []
            if inst.discount != discount and not given("discount"):
                unused.append((f"discount {inst.discount:g}",
                               f"the default {discount:g} (--discount; or give a discount "
                               f"column)"))
            if inst.horizon is not None:
                unused.append((f"horizon {inst.horizon}",
                               "none: a batch is planned as discounted"))
            for column, kept in (("min_active", inst.min_active > 0),
                                 ("max_active", inst.max_active is not None),
                                 ("action_caps", inst.action_caps is not None)):
                if kept and not given(column):          # each limit on its own
                    unused.append((column, f"none (give the CSV's {column} column)"))
            for what, instead in unused:
                if (key, what) not in self._unused:      # noted once warned: under -W error
                    warnings.warn(f"{self.file}: batch {b.bid!r}: model file {key}'s {what} is "
                                  f"not used; instead {instead} (docs/csv.md)", RmabWarning,
                                  stacklevel=2)        # every batch it concerns fails alike
                    self._unused.add((key, what))

    def _check_ids(self, b, ids):
        unique = set(ids)
        if len(unique) == b.n and "" not in unique and not _CONTROL.search("".join(unique)):
            return
        seen: dict[str, int] = {}
        for k, arm in enumerate(ids):
            if not arm:
                b.fail(k, "arm_id", f"{OWNER}.arm_id: must not be empty; got ''")
            if _CONTROL.search(arm):       # a NUL byte went through to the output CSV
                b.fail(k, "arm_id", f"{OWNER}.arm_id: must not hold control characters; got "
                                    f"{arm!r}")
            if arm in seen:
                b.fail(k, "arm_id", f"{OWNER}.arm_id: must be unique within batch {b.bid!r}; got "
                                    f"{arm!r} again (first on line {b.line(seen[arm])})")
            seen[arm] = k

    def _limits(self, b, n_actions: int) -> dict:
        """The batch's count limits from the optional columns; the rows that give one agree."""
        out = {}
        for name in ("min_active", "max_active"):
            ks = np.flatnonzero(b.present(name))
            if len(ks):
                values = b.ints(name, ks)
                out[name] = int(b.same_number(name, values, ks, low=0))
        ks = np.flatnonzero(b.present("action_caps"))
        if len(ks):
            caps = b.float_lists("action_caps", ks, n_actions, allow_inf=True)
            passive = np.flatnonzero(caps[:, 0] != np.inf)
            if len(passive):         # a cell's own fault (it was blamed on the batch's first line)
                b.fail(ks[passive[0]], "action_caps",
                       f"{OWNER}.action_caps: entry 0 (passive) must be inf; got "
                       f"{caps[passive[0], 0]:g} (use min_active to limit the passive arms)",
                       fault="cell")
            bad = ~((caps >= 0) & ((caps == np.round(caps)) | np.isinf(caps)))
            if bad.any():
                i, a = np.argwhere(bad)[0]
                b.fail(ks[i], "action_caps", f"{OWNER}.action_caps: must be non-negative "
                                             f"integers or inf; got {caps[i, a]:g} for action "
                                             f"{a}", fault="cell")
            b.differing("action_caps", list(map(tuple, caps.tolist())), ks, _float_tuple,
                        lambda v: len(v) == n_actions and v[0] == np.inf and all(
                            x == np.inf or (x >= 0 and x == round(x)) for x in v))
            out["action_caps"] = caps[0]
        return out

    def _discount(self, b) -> float:
        if "discount" not in self.table:
            return self.discount
        ks = [k for k, v in enumerate(b.col("discount")) if v]
        if not ks:
            return self.discount
        values = b.floats("discount", ks)
        top = 1.0 - DISCOUNT_GAP                # check_discount's rule, named by the cell
        bad = np.flatnonzero((values <= 0.0) | (values > top))
        if len(bad):
            b.fail(ks[bad[0]], "discount", f"{OWNER}.discount: must be in (0, 1 - "
                   f"{DISCOUNT_GAP:g}]; got {float(values[bad[0]])!r}", fault="cell")
        return b.same_number("discount", values, ks, valid=lambda v: 0.0 < v <= top)

    def _models_of(self, b):
        """Stacked model arrays of the batch's arms, from model files and inline columns."""
        n = b.n
        ref, inline = b.exactly_one("model", "transitions",
                                    "model (a 'model' file or inline 'transitions')")
        for col, rows, owner in (("observations", ref, "model"), ("rewards", ref, "model"),
                                 ("model_arm", inline, "transitions")):
            stray = np.flatnonzero(rows & b.present(col))
            if len(stray):
                b.fail(stray[0], col, f"{OWNER}.{col}: must be empty when {owner!r} is given; "
                                      f"got {_short(b.col(col)[stray[0]])}")
        sources = []  # (first k, arms, arm indices, ks, names, column)
        refs = _group(b.col("model"), np.flatnonzero(ref)) if ref.any() else {}
        for path, ks in refs.items():
            instance = self._model(b, path, ks)
            which = b.ints("model_arm", ks)
            out = np.flatnonzero((which < 0) | (which >= instance.n_arms))
            if len(out):
                b.fail_rows("model_arm", ks, out, lambda i: f"{OWNER}.model_arm: must be in "
                                                            f"[0, {instance.n_arms}) for "
                                                            f"{path!r}; got {which[i]}")
            names = instance.metadata.get("actions")
            if not (isinstance(names, list) and len(names) == instance.n_actions
                    and all(isinstance(x, str) for x in names)):
                names = None
            sources.append((ks[0], instance.arms, which, ks, names and tuple(names), "model"))
        if inline.any():
            obs = b.col("observations") if "observations" in self.table else None
            keys = zip(b.col("transitions"), obs or [""] * n, b.col("rewards"))
            groups = _group(list(keys), np.flatnonzero(inline))
            self._read_inline(list(groups))
            stacks: dict = {}            # id(arms) -> (arms, rows, index of each row's arm)
            for key, ks in groups.items():
                arms, index = self._inline_arm(b, key, ks)
                _, rows, which = stacks.setdefault(id(arms), (arms, [], []))
                rows += ks.tolist()
                which += [index] * len(ks)
            for arms, rows, which in stacks.values():
                order = np.argsort(rows)
                ks = np.asarray(rows, dtype=np.int64)[order]
                sources.append((ks[0], arms, np.asarray(which, dtype=np.int64)[order], ks,
                                None, "transitions"))
        sources.sort(key=lambda s: s[0])
        sizes = [(a.n_actions, a.n_states, a.n_obs) for _, a, _, _, _, _ in sources]
        if len(set(sizes)) > 1:    # against the most rows' size: not one odd first row's
            weight = Counter()
            for (_, _, _, ks, _, _), size in zip(sources, sizes):
                weight[size] += len(ks)
            common = max(sizes, key=weight.__getitem__)
            ref = sizes.index(common)
            odd = [i for i, size in enumerate(sizes) if size != common]
            rows = [k for i in odd for k in sources[i][3]]
            k, col = sources[odd[0]][0], sources[odd[0]][5]
            b.fail(k, col, f"{OWNER}.{col}: arms of a batch must share (n_actions, n_states, "
                           f"n_obs) (a fully observed arm has n_obs = n_states); got "
                           f"{sizes[odd[0]]} here and {common} on line "
                           f"{b.line(sources[ref][0])}{b.others(sorted(rows))}",
                   fault="differs", rows=rows)
        n_actions, n_states, n_obs = sizes[0]
        partial = any(not a.fully_observed for _, a, _, _, _, _ in sources)
        transitions = np.empty((n, n_actions, n_states, n_states))
        observations = np.empty((n, n_actions, n_states, n_obs)) if partial else None
        rewards = np.empty((n, n_states, n_actions))
        costs = np.empty((n, n_actions))
        for _, arms, which, ks, _, _ in sources:
            transitions[ks] = arms.transitions[which]
            rewards[ks] = arms.rewards[which]
            costs[ks] = arms.costs[which]
            if partial:
                observations[ks] = arms.observations[which]
        names = {s[4] for s in sources}
        names = names.pop() if len(names) == 1 else None
        source_col = np.empty(n, dtype=object)
        for _, _, _, ks, _, col in sources:
            source_col[ks] = col
        return transitions, observations, rewards, costs, names, source_col

    def named_models(self) -> list[str]:
        """The model files the rows name, as :meth:`_model` finds them, and every cell of a
        row with a wrong field count that names an existing file."""
        paths = {self._model_path(p) for p in set(self.table.get("model", ())) if p}
        paths.update(q for q in map(self._model_path, set(filter(None, self.stray)))
                     if os.path.isfile(q))      # False, not OSError, for a long JSON cell
        return sorted(paths)

    def _model_path(self, path: str) -> str:
        full = Path(path)
        return str(full if full.is_absolute() else self.folder / full)

    def _model(self, b, path: str, ks) -> Instance:
        """The instance of the model file ``path`` named by the rows ``ks`` (an error holds
        for all of them)."""
        key = self._model_path(path)
        full = Path(key)
        b.model_files.add(key)
        if key not in self._models:
            try:
                if not os.path.isfile(full):    # False for a name too long to be a file
                    raise FileNotFoundError(f"no file {key!r}")
                with warnings.catch_warnings():   # of its own budget, which no batch uses:
                    warnings.simplefilter("ignore", RmabWarning)    # "no arm can act" misled
                    self._models[key] = load_instance(full)
            except Exception as exc:  # noqa: BLE001 - any failure to read an untrusted file
                self._models[key] = exc
        found = self._models[key]
        if isinstance(found, Exception):
            if isinstance(found, FileNotFoundError):
                here = ("; that path exists from the current folder: name it from the CSV's"
                        if os.path.isfile(path) else "")
                b.fail(ks[0], "model", f"{OWNER}.model: must name an existing file (relative "
                                       f"to the CSV's folder); got {path!r}, looked for "
                                       f"{os.path.abspath(key)!r}{here}", found, rows=ks)
            b.fail(ks[0], "model", f"{OWNER}.model: must be a file written by rmab.models."
                                   f"save_instance; got {path!r} ({found})", found, rows=ks)
        return found

    def _inline_arm(self, b, key: tuple, ks) -> tuple:
        """``(arms, index)``: the arm of the inline cells ``key`` in a stack of arms."""
        if key not in self._inline:
            found = _parse_inline(*key)
            self._inline[key] = found if isinstance(found, tuple) else (found, 0)
        found = self._inline[key]
        if isinstance(found[0], str):               # every row of these cells alike
            column, message, cause = found
            b.fail(ks[0], column, message, cause, rows=ks)
        return found

    def _read_inline(self, keys: list[tuple]) -> None:
        """Read the inline cells ``keys`` (transitions, observations, rewards) not read yet at
        once: the keys whose cells are JSON lists of numbers, stacked by their shapes, one
        stack of arms each (an arm's rows rescaled as :func:`_parse_inline` does). Where a
        stack fails, the keys before its first bad one are kept and the rest left to
        :meth:`_inline_arm`, one by one: the first bad key's error is the same."""
        keys = [key for key in keys if key not in self._inline]
        if not keys:
            return
        read = []
        for j, column in enumerate(("transitions", "observations", "rewards")):
            found = _json_cells([key[j] for key in keys], _INLINE_SHAPES[column][0])
            if found is None:
                return
            read.append(found)
        stacks: dict[tuple, list[int]] = {}
        for i, shapes in enumerate(zip(read[0][2], read[1][2], read[2][2])):
            if shapes[0] and shapes[2] and shapes[1] is not None:
                stacks.setdefault(shapes, []).append(i)
        for shapes, members in stacks.items():
            at = np.asarray(members)
            arrays = [None if not shape else flat[starts[at][:, None] + np.arange(
                int(np.prod(shape)))].reshape((len(at),) + shape)
                for (flat, starts, _), shape in zip(read, shapes)]
            transitions, observations, rewards = arrays
            # a valid arm makes no float warning; one that does (1e308;1e308 overflows) is
            # refused here, then read alone, warned of as before (an error under -W error)
            with np.errstate(all="ignore"):
                transitions = _rescaled_stack(transitions)
                if observations is not None:
                    observations = _rescaled_stack(observations)

                def build(m, t=transitions, o=observations, r=rewards):
                    if o is None:
                        return MDPArms(t[:m], r[:m])
                    return POMDPArms(t[:m], o[:m], r[:m])
                try:
                    arms, m = build(len(at)), len(at)
                except (RmabError, ValueError):
                    m, arms = _first_bad(build, len(at))
            self._inline.update((keys[i], (arms, k)) for k, i in enumerate(members[:m]))

    def _costs(self, b, costs: np.ndarray, n_actions: int) -> np.ndarray:
        """Write the ``costs`` overrides into ``costs``; returns which rows gave one."""
        given = b.present("costs")
        ks = np.flatnonzero(given)
        if len(ks):
            costs[ks] = b.float_lists("costs", ks, n_actions)
        return given

    def _beliefs(self, b, n_states: int) -> np.ndarray:
        has_state, has_belief = b.exactly_one("state", "belief", "state or belief")
        belief = np.zeros((b.n, n_states))
        ks = np.flatnonzero(has_state)
        if len(ks):
            states = b.ints("state", ks)
            out = np.flatnonzero((states < 0) | (states >= n_states))
            if len(out):
                b.fail_rows("state", ks, out, lambda i: f"{OWNER}.state: must be in [0, "
                                                        f"{n_states}); got {states[i]}")
            belief[ks, states] = 1.0
        ks = np.flatnonzero(has_belief)
        if len(ks):
            rows = b.float_lists("belief", ks, n_states)
            neg = np.flatnonzero((rows < 0).any(axis=1))
            if len(neg):
                b.fail_rows("belief", ks, neg, lambda i: f"{OWNER}.belief: must be >= 0; got "
                                                         f"{rows[i].tolist()}")
            with np.errstate(over="ignore"):        # 1e308;1e308 sums to inf: refused below
                sums = rows.sum(axis=1)
            tol = rounding_tol(n_states)
            off = np.flatnonzero(np.abs(sums - 1.0) > tol)
            if len(off):
                def off_sum(i):
                    pct = " (percentages? divide by 100)" if abs(sums[i] - 100.0) <= 0.5 else ""
                    return (f"{OWNER}.belief: must sum to 1 (within {tol:.3g} for {n_states} "
                            f"entries rounded to 4 decimals); got {float(sums[i]):.12g}{pct}")
                b.fail_rows("belief", ks, off, off_sum)
            belief[ks] = rows / sums[:, None]
        return belief

    def _arms(self, b, transitions, observations, rewards, costs, source_col, overridden):
        def build(sl):
            if observations is None:
                return MDPArms(transitions[sl], rewards[sl], costs[sl])
            return POMDPArms(transitions[sl], observations[sl], rewards[sl], costs[sl])
        try:
            return build(slice(None))
        except InvalidModelError as exc:
            # the models were valid alone: a costs override broke them; find the first such row
            for k in range(b.n):
                try:
                    build(slice(k, k + 1))
                except InvalidModelError as one:
                    col = "costs" if overridden[k] else source_col[k]
                    b.fail(k, col, f"{OWNER}.{col}: must give a valid arm; {_cell_terms(one)}",
                           one)
            b.fail(0, None, f"{OWNER}: must give valid arms; {exc}", exc)


class _BatchRows:
    """The rows of one batch: cell access and typed conversion with line-numbered errors.

    ``k`` is always the position of a row within the batch (0..n-1).
    """

    def __init__(self, reader: _FileReader, bid: str, members: list[int]):
        self.reader = reader
        self.bid = bid
        self.members = members
        self.n = len(members)
        self.contiguous = members[-1] - members[0] == self.n - 1
        self.model_files: set[str] = set()

    def col(self, name: str) -> list[str]:
        cells = self.reader.table[name]
        if self.contiguous:
            return cells[self.members[0]:self.members[0] + self.n]
        return [cells[i] for i in self.members]

    def present(self, name: str) -> np.ndarray:
        """Bool (n,): which rows have a non-empty cell in column ``name``."""
        if name not in self.reader.table:
            return np.zeros(self.n, dtype=bool)
        return np.fromiter(map(bool, self.col(name)), dtype=bool, count=self.n)

    def exactly_one(self, first: str, second: str, what: str) -> tuple[np.ndarray, np.ndarray]:
        """Check every row fills exactly one of the columns ``first`` and ``second`` (``what``
        names the alternatives in the error); returns their bool (n,) presence masks."""
        has_first, has_second = self.present(first), self.present(second)
        both = np.flatnonzero(has_first & has_second)
        if len(both):
            self.fail(both[0], second, f"{OWNER}.{second}: must be empty when {first!r} is "
                                       f"given; got both for one arm")
        neither = np.flatnonzero(~(has_first | has_second))
        if len(neither):
            col = first if first in self.reader.table else second
            self.fail(neither[0], col, f"{OWNER}.{col}: must give the arm's {what}; got an "
                                       f"empty cell")
        return has_first, has_second

    def line(self, k: int) -> int:
        return int(self.reader.lines[self.members[k]])

    def lines_array(self) -> np.ndarray:
        lines = self.reader.lines[self.members]
        lines.setflags(write=False)
        return lines

    def fail(self, k: int, column, message: str, cause=None, *, fault: str | None = None,
             rows=None, messages=None):
        """Raise the error of row ``k``; ``fault`` (for :func:`_later_rows`): ``"cell"`` if
        its cell's value is bad by itself, ``"differs"`` if it differs from the batch's;
        ``rows``: every row the error holds for (default: with ``fault="cell"`` the rows whose
        cell is the same; else row ``k``), ``messages`` theirs (default ``message``)."""
        k = int(k)
        if rows is None:
            rows = [k]
            if fault == "cell":
                cells = self.col(column)
                rows = [j for j, cell in enumerate(cells) if cell == cells[k]]
        exc = BatchInputError(message, file=self.reader.file, line=self.line(k),
                              column=column, batch_id=self.bid)
        exc._fault = fault
        exc._rows = [self.line(j) for j in rows]
        exc._messages = [message] * len(rows) if messages is None else list(messages)
        raise exc from cause

    def fail_rows(self, column, ks, bad, message) -> None:
        """Raise the error of the rows ``ks[bad]`` (``bad`` indexes ``ks``, in order), with
        ``message(i)`` each: found together, not one read of the batch per row under
        ``--check`` (4 000 states out of range had taken 19 s)."""
        rows = [ks[i] for i in bad]
        messages = [message(i) for i in bad]
        self.fail(rows[0], column, messages[0], rows=rows, messages=messages)

    def differing(self, name: str, keys: list, ks, parse, valid) -> None:
        """Refuse the rows whose ``keys`` (hashable, one per row at ``ks``, each valid) differ
        from the value most common in all the batch's rows with a ``valid`` value, even those
        ``--check`` has taken out (``parse`` reads a cell): named against the first row had
        made one odd first row the error of every other, against the rows left had passed
        odd rows that agree among themselves, and against every row had named valid rows as
        differing from an invalid value."""
        whole = self.n == len(self.reader.groups.get(self.bid, ()))
        if whole and keys.count(keys[0]) == len(keys):
            return                      # every row agrees and none is taken out: the usual case
        pool = self.reader.shared_values(self.bid, name, parse, valid) or [
            (key, self.line(k)) for key, k in zip(keys, ks)]
        counts = Counter(value for value, _ in pool)
        usual, line = max(pool, key=lambda item: counts[item[0]])     # ties: the earliest
        odd = [i for i, key in enumerate(keys) if key != usual]
        if odd:
            rows = [ks[i] for i in odd]
            self.fail(rows[0], name, f"{OWNER}.{name}: must be the same on every row of batch "
                                     f"{self.bid!r}; got {_shown(keys[odd[0]])} here and "
                                     f"{_shown(usual)} on line {line}{self.others(rows)}",
                      fault="differs", rows=rows)

    def others(self, rows) -> str:
        """``'; 2 more rows differ (line 7, 9)'`` for the rows after the first of ``rows``."""
        if len(rows) < 2:
            return ""
        lines = ", ".join(str(self.line(k)) for k in rows[1:6])
        return (f"; {len(rows) - 1} more row{'s' * (len(rows) > 2)} differ"
                f"{'s' * (len(rows) == 2)} (line {lines}{', ...' * (len(rows) > 6)})")

    def _cells(self, name, ks) -> list[str]:
        """Cells of column ``name`` at the sorted positions ``ks``."""
        cells = self.col(name)
        return cells if len(ks) == self.n else [cells[k] for k in ks]

    def floats(self, name: str, ks) -> np.ndarray:
        cells = self._cells(name, ks)
        try:
            values = np.fromiter(_each(decimal_float, cells), dtype=np.float64,
                                 count=len(cells))
        except ValueError:
            for k, cell in zip(ks, cells):
                try:
                    decimal_float(cell)
                except ValueError as exc:
                    got = _short(cell) if cell else "an empty cell"    # pandas' NaN
                    self.fail(k, name, f"{OWNER}.{name}: must be a number; got {got}"
                                       f"{comma_hint(cell)}", exc, fault="cell")
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            self.fail(ks[bad[0]], name, f"{OWNER}.{name}: must be finite; got {values[bad[0]]}",
                      fault="cell")
        return values

    def ints(self, name: str, ks) -> np.ndarray:
        cells = self._cells(name, ks)
        try:
            return np.fromiter(_each(_int, cells), dtype=np.int64, count=len(cells))
        except (ValueError, OverflowError):
            for k, cell in zip(ks, cells):
                try:
                    np.int64(_int(cell))
                except ValueError as exc:
                    self.fail(k, name, f"{OWNER}.{name}: must be an integer; got "
                                       f"{_short(cell)}", exc, fault="cell")
                except OverflowError as exc:          # an integer all the same: say so
                    self.fail(k, name, f"{OWNER}.{name}: must be below 2**63 in absolute "
                                       f"value; got {_short(cell)}", exc, fault="cell")
            raise

    def float_lists(self, name: str, ks, length: int, allow_inf: bool = False) -> np.ndarray:
        """(len(ks), length) numbers from cells like ``0.2;0.8`` (``allow_inf``: ``inf`` too)."""
        cells = self._cells(name, ks)
        counts = np.fromiter(map(str.count, cells, repeat(";")), dtype=np.int64,
                             count=len(cells))
        off = np.flatnonzero(counts != length - 1)
        if len(off):
            cell = cells[off[0]]
            self.fail(ks[off[0]], name, f"{OWNER}.{name}: must have {length} numbers separated "
                                        f"by ';'; got {_short(cell)}{comma_hint(cell, length)}",
                      fault="cell")
        parts = [x.strip() for x in ";".join(cells).split(";")]     # '0.3 ; 0.7' too
        try:
            flat = np.fromiter(_each(decimal_float, parts), dtype=np.float64,
                               count=len(parts))
        except ValueError:
            for k, cell in zip(ks, cells):
                try:
                    [decimal_float(x.strip()) for x in cell.split(";")]
                except ValueError as exc:
                    self.fail(k, name, f"{OWNER}.{name}: must be numbers separated by ';'; got "
                                       f"{_short(cell)}{comma_hint(cell, length)}", exc,
                              fault="cell")
            raise
        values = flat.reshape(len(cells), length)
        bad = np.flatnonzero((np.isnan(values) if allow_inf else ~np.isfinite(values)).any(axis=1))
        if len(bad):
            self.fail(ks[bad[0]], name, f"{OWNER}.{name}: must be "
                                        f"{'numbers or inf' if allow_inf else 'finite'}; got "
                                        f"{_short(cells[bad[0]])}", fault="cell")
        return values

    def same_number(self, name: str, values: np.ndarray, ks=None, low=None,
                    valid=None) -> float:
        """The one value every row of the batch gives for ``name`` (finite, ``>= low``; the
        caller has refused the values not ``valid``)."""
        ks = range(len(values)) if ks is None else ks
        if low is not None:
            below = np.flatnonzero(values < low)
            if len(below):
                self.fail(ks[below[0]], name, f"{OWNER}.{name}: must be >= {low}; got "
                                              f"{values[below[0]]}", fault="cell")
        self.differing(name, values.tolist(), ks,
                       _int64 if values.dtype.kind == "i" else decimal_float,
                       lambda v: np.isfinite(v) and (low is None or v >= low)
                       and (valid is None or valid(v)))
        return float(values[0])


def _each(parse, cells: list[str]):
    """``map(parse, cells)``, each distinct cell parsed once where they repeat (a budget on
    every row, costs '0;1;2'); raises as ``map`` would, with some bad cell."""
    distinct = dict.fromkeys(cells)
    if 2 * len(distinct) > len(cells):
        return map(parse, cells)
    for cell in distinct:
        distinct[cell] = parse(cell)
    return map(distinct.__getitem__, cells)


def _group(keys, ks) -> dict:
    """key -> array of the positions ``k`` in ``ks`` whose ``keys[k]`` is that key."""
    chosen = [keys[k] for k in ks]
    if chosen.count(chosen[0]) == len(chosen):  # the usual case: one model file
        return {chosen[0]: np.asarray(ks, dtype=np.int64)}
    groups: dict = {}
    for k, key in zip(ks, chosen):
        groups.setdefault(key, []).append(k)
    return {key: np.array(v, dtype=np.int64) for key, v in groups.items()}


_INLINE_SHAPES = {"transitions": ((3,), "(n_actions, n_states, n_states)"),
                  "observations": ((3,), "(n_actions, n_states, n_obs)"),
                  "rewards": ((1, 2), "(n_states,) or (n_states, n_actions)")}


def _rescaled_rows(value):
    """Probability rows (last axis) within :func:`rounding_tol` of summing to 1, rescaled; the
    value unchanged if it is not numeric (the arm's own checks then report it). Rows within
    ``PROB_TOL``, which the arms take, are kept as given: divided by sums an ulp from 1, a
    model written inline at full precision (``json.dumps``) read back with a quarter of its
    entries changed, unlike the same model from a file."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        return value
    if arr.dtype.kind not in "iuf" or arr.ndim == 0:
        return value                                  # text, booleans, ...: refused later
    return _rescaled_stack(arr.astype(np.float64))


def _rescaled_stack(arr: np.ndarray) -> np.ndarray:
    """:func:`_rescaled_rows` of each arm of the stack ``arr`` (first axis): an arm with a
    negative or non-finite entry is left as given, for its own check to refuse."""
    plain = (np.isfinite(arr) & (arr >= 0)).reshape(len(arr), -1).all(axis=1)
    plain = plain.reshape((-1,) + (1,) * (arr.ndim - 1))
    sums = np.where(plain, arr, 0.0).sum(axis=-1, keepdims=True)     # inf - inf: no warning
    off = np.abs(sums - 1.0)
    close = (off <= rounding_tol(arr.shape[-1])) & (off > PROB_TOL) & (sums > 0) & plain
    return np.where(close, arr / np.where(close, sums, 1.0), arr)


_BLANKS = re.compile(r"[ \t\n\r]+(?=[\[\],])|(?<=[\[\],])[ \t\n\r]+")   # JSON's, by , [ ]
_NUMBER = re.compile(r"(?<![\w.+-])(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
                     r"(?![\w.+-])")                   # a JSON number, not part of a word
_CELL_END, _SLOT = "\x1e", "\x1f"       # control characters: a cell holding one is read alone
_LAYOUT = set("[]," + _SLOT)


def _json_cells(cells: list[str], ndims: tuple):
    """The cells of an inline column read at once, or None: ``(flat, starts, shapes)``, every
    cell's numbers in ``flat`` from ``starts[i]`` in C order, of shape ``shapes[i]``: ``()``
    for an empty cell, None for one that is not a JSON list of numbers with ``ndims``
    dimensions (:func:`_parse_inline` reads it, for its error). A cell's layout (its numbers
    replaced by a mark, blanks by brackets and commas dropped) is read by ``json`` once per
    layout; the numbers are read by ``float``, as ``json`` reads them."""
    text = _CELL_END.join(cells)
    if " " in text or "\t" in text or "\n" in text or "\r" in text:
        text = _BLANKS.sub("", text)
    parts = _NUMBER.split(text)
    layouts = _SLOT.join(parts[0::2]).split(_CELL_END)
    numbers = parts[1::2]
    counts = np.fromiter(map(str.count, layouts, repeat(_SLOT)), np.int64, count=len(layouts))
    if len(layouts) != len(cells) or int(counts.sum()) != len(numbers):
        return None                                 # a cell holds a control character
    known: dict[str, tuple | None] = {"": ()}
    for layout in set(layouts) - {""}:
        known[layout] = None
        if not set(layout) <= _LAYOUT:
            continue                           # other characters: not numbers only
        try:
            shape = np.shape(json.loads(layout.replace(_SLOT, "0")))
        except (ValueError, RecursionError):    # not JSON, or a ragged list
            continue
        if len(shape) in ndims:
            known[layout] = shape
    flat = np.fromiter(map(float, numbers), dtype=np.float64, count=len(numbers))
    return flat, np.cumsum(counts) - counts, [known[layout] for layout in layouts]


def _first_bad(build, m: int):
    """``(j, arms)``: the first ``j`` with ``build(j + 1)`` raising (``build(m)`` does) and
    ``build(j)``, the arms of the ``j`` before it (None for ``j = 0``), found by bisection."""
    lo, hi, good = 0, m, None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            good, lo = build(mid), mid
        except (RmabError, ValueError):
            hi = mid
    return lo, good


def _parse_inline(transitions: str, observations: str, rewards: str):
    """A one-arm stack from the inline JSON cells, or ``(column, message, cause)``."""
    parsed = {}
    for column, text in (("transitions", transitions), ("observations", observations),
                         ("rewards", rewards)):
        if column == "observations" and not text:
            continue
        if not text:
            return column, f"{OWNER}.{column}: must be given with 'transitions'; got an empty " \
                           f"cell", None
        word = _JSON_WORD.search(text)
        if word:
            return column, f"{OWNER}.{column}: must hold numbers only; got {word.group()!r} " \
                           f"in {_short(text)}", None
        try:
            parsed[column] = [json.loads(text, parse_int=float)]   # 10**30: not an object
        except (ValueError, RecursionError) as exc:
            return column, f"{OWNER}.{column}: must be a JSON list; got {_short(text)}" \
                           f"{_json_fault(text, exc)}", exc
    for column, value in parsed.items():          # the cell's own shape, not the stack's
        ndims, layout = _INLINE_SHAPES[column]
        try:
            shape = np.shape(value[0])
        except ValueError:                             # ragged lists
            shape = None
        if shape is None or len(shape) not in ndims:
            return column, f"{OWNER}.{column}: must be a nested list of shape {layout}; got " \
                           f"{'a ragged list' if shape is None else f'shape {shape}'}", None
    for column in ("transitions", "observations"):       # rows rounded to 4 decimals or more
        if column in parsed:
            parsed[column] = _rescaled_rows(parsed[column])
    try:
        if "observations" in parsed:
            return POMDPArms(parsed["transitions"], parsed["observations"], parsed["rewards"])
        return MDPArms(parsed["transitions"], parsed["rewards"])
    except (RmabError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        match = _FIELD.match(str(exc))
        column = match.group(1) if match and match.group(1) in parsed else "transitions"
        hint = " (rows rounded to 4 decimals are rescaled: n entries within n·5e-5 of 1)" \
            if "must sum to 1" in str(exc) else ""
        return column, f"{OWNER}.{column}: must describe a valid arm; {_cell_terms(exc)}{hint}", \
            exc


def _json_fault(text: str, exc: Exception) -> str:
    """Where an inline cell stops being JSON, for its message: unbalanced brackets, or the
    parser's complaint and the character it was at (a 300-character cell is hard to scan)."""
    opened, closed = text.count("["), text.count("]")
    if opened != closed:
        return f" (unbalanced brackets: {opened} '[' and {closed} ']')"
    if isinstance(exc, json.JSONDecodeError):
        return f" ({exc.msg} at character {exc.pos + 1})"
    return ""


def _cell_terms(exc: Exception) -> str:
    """``exc``'s message about the one-arm stack built from a row's cells, in the cells' own
    terms: no "arm 0" (the row's arm is named by the error's line), indices without the
    stack's leading 0 and shapes without its leading 1."""
    def rest(m) -> str:
        return f"{m.group(1)} {tuple(int(k) for k in m.group(2).split(',') if k.strip())}"

    text = re.sub(r"\bat arm 0, ", "at ", str(exc))
    text = re.sub(r" \(arm 0\)", "", text)
    text = text.replace("n_arms=1, ", "")
    text = re.sub(r"(at index) \(0, ([^)]*)\)", rest, text)
    return re.sub(r"(got) \(1, ([^)]*)\)", rest, text)
