"""The CSV batch schema: one row per arm, many batches per file (``docs/csv.md``).

The table :data:`COLUMNS` is the single source of the column names the reader accepts;
:func:`check_header` maps a header row to column positions or raises
:class:`~rmab.errors.BatchInputError` on line 1.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from rmab.errors import BatchInputError

__all__ = ["Column", "COLUMNS", "OUTPUT_COLUMNS", "ROUNDING_TOL", "rounding_tol", "OWNER",
           "check_header"]

OWNER = "csv"
ROUNDING_TOL = 5e-5  # per entry: probabilities written with 4 decimals or more


def wrong_separator(header: list) -> str | None:
    """The separator a header read as one cell holds (';', a tab or '|': Excel in locales
    with a decimal comma writes ';'), or None."""
    return next((c for c in ";\t|" if len(header) == 1 and c in header[0]), None)


def rounding_tol(n: int) -> float:
    """How far from 1 a row of ``n`` probabilities may sum (each rounded to 4 decimals or
    more); such a row is rescaled onto the simplex."""
    return n * ROUNDING_TOL + 1e-12


@dataclass(frozen=True)
class Column:
    """One input column: its name, whether every file must have it, and what it holds."""

    name: str
    required: bool
    help: str


COLUMNS = (
    Column("batch_id", True, "batch the arm belongs to (any text; rows of a batch may be "
                             "anywhere in the file)"),
    Column("arm_id", True, "arm name, unique within its batch"),
    Column("budget", True, "the batch's budget per period, >= 0 (every row of the batch repeats "
                           "the same value)"),
    Column("state", False, "current state, an integer in [0, n_states) (fully observed now)"),
    Column("belief", False, "current belief: n_states probabilities separated by ';'"),
    Column("model", False, "path of an .npz written by rmab.models.save_instance, relative to "
                           "the CSV's folder"),
    Column("model_arm", False, "arm index inside the model file, in [0, n_arms)"),
    Column("transitions", False, "inline model: JSON list (n_actions, n_states, n_states)"),
    Column("observations", False, "inline model: JSON list (n_actions, n_states, n_obs); "
                                  "empty = fully observed arm"),
    Column("rewards", False, "inline model: JSON list (n_states, n_actions) or (n_states,)"),
    Column("costs", False, "optional: n_actions costs separated by ';' (overrides the model's)"),
    Column("discount", False, "optional: discount in (0, 1 - 1e-9]; rows of a batch that give "
           "it agree"),
    Column("action_caps", False, "optional: most arms per action, n_actions numbers separated "
                                 "by ';' ('inf' = no cap, the first must be inf); rows of a "
                                 "batch that give it agree"),
    Column("min_active", False, "optional: fewest arms with an active action per period "
                                "(integer); rows of a batch that give it agree"),
    Column("max_active", False, "optional: most arms with an active action per period "
                                "(integer; min = max = k: exactly k); rows of a batch that give "
                                "it agree"),
)

OUTPUT_COLUMNS = ("batch_id", "arm_id", "action", "action_name", "cost", "score")

_NAMES = tuple(c.name for c in COLUMNS)


def check_header(header: list[str], file: str | None, line: int = 1) -> dict[str, int]:
    """Column name -> position for a header row (names stripped of surrounding blanks) on
    ``line`` of ``file``.

    Raises :class:`BatchInputError` (at ``line``) on an empty, duplicate or unknown name, a
    missing required column, or a combination that cannot describe an arm. Unknown names are
    reported together, each with its closest column name if there is one; ``column`` is the
    first of them.
    """
    def fail(message, column=None):
        raise BatchInputError(message, file=file, line=line, column=column)

    names = [h.strip() for h in header]
    positions: dict[str, int] = {}
    unknown = []
    for i, name in enumerate(names):
        if not name:
            hint = (" (a pandas index? DataFrame.to_csv(path, index=False) leaves it out)"
                    if i == 0 else "")
            fail(f"{OWNER}.header: column {i + 1} must have a name; got an empty name{hint}")
        if name in positions:
            fail(f"{OWNER}.header: column names must be unique; got {name!r} twice", name)
        if name not in _NAMES:
            close = difflib.get_close_matches(name.lower(), _NAMES, n=1)   # 'Arm_ID' too
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if name.startswith("Unnamed: "):   # pandas' name for a column without one
                hint = (" (pandas' name for a nameless column, such as an index written by "
                        "to_csv: index=False leaves it out)")
            sep = wrong_separator(header)
            if sep is not None:       # e.g. Excel in locales with a decimal comma
                hint = (f"; the header holds {sep!r}: fields must be separated by commas "
                        f"(';' separates the numbers inside a cell)")
            unknown.append((name, hint))
        positions[name] = i
    if unknown:
        got = ", ".join(f"{name!r}{hint}" for name, hint in unknown)
        fail(f"{OWNER}.header: columns must be among {list(_NAMES)}; got {got}", unknown[0][0])
    for col in COLUMNS:
        if col.required and col.name not in positions:
            fail(f"{OWNER}.header: must have a {col.name!r} column; got {names}", col.name)
    needs = (("state", "belief"), ("model", "transitions"))
    for a, b in needs:
        if a not in positions and b not in positions:
            fail(f"{OWNER}.header: must have a {a!r} or a {b!r} column; got {names}", a)
    pairs = (("model", "model_arm"), ("model_arm", "model"), ("transitions", "rewards"),
             ("rewards", "transitions"), ("observations", "transitions"))
    for have, need in pairs:
        if have in positions and need not in positions:
            fail(f"{OWNER}.header: a {have!r} column needs a {need!r} column; got {names}", need)
    return positions
