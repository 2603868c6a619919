"""Write solved batches as CSV (``docs/csv.md``): one row per arm, written atomically."""

from __future__ import annotations

import csv
import io
import os
from itertools import repeat

from rmab._validation import check_path
from rmab.errors import InvalidParameterError
from rmab.io.schema import OUTPUT_COLUMNS
from rmab.models.storage import atomic_write

__all__ = ["write_solutions"]


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
