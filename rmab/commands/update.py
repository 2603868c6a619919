"""``rmab update``: next period's CSV of batches, each arm's belief updated by the action
taken and the signal seen (docs/csv.md, "A weekly loop"): :func:`rmab.io.read_batches`,
:func:`rmab.io.responses.updated_beliefs`, :func:`rmab.io.write_beliefs`. Nothing is written
unless every row of the three files reads; with ``--keep-going``, a batch with a bad row in
the CSV of batches is copied as it is and reported (exit 3), its rows in the other two files
passed over."""

from __future__ import annotations

import sys

from rmab._reporting import count_noun
from rmab.commands import EXIT_SOME_FAILED, check_suffix
from rmab.errors import BatchInputError


def add_arguments(parser) -> None:
    parser.add_argument("csv", help="this period's CSV file of batches (the one rmab solve read)")
    parser.add_argument("--actions", required=True, metavar="CSV",
                        help="the actions taken, a row per arm: batch_id, arm_id, action (the "
                             "file rmab solve --out writes, as it is or edited)")
    parser.add_argument("--signals", metavar="CSV", default=None,
                        help="the signals seen, a row per arm: batch_id, arm_id, signal (empty: "
                             "none seen, for an arm whose model expects none; '?': not known, "
                             "not seen or a record lost, the belief then predicted without it; "
                             "fully observed arms: the state seen next); default the actions "
                             "file's signal column")
    parser.add_argument("--signal-names", metavar="NAMES", default=None,
                        help="a name for each signal, ';'-separated, e.g. 'no answer;answered':"
                             " the signals file may write a signal by its name (default: the "
                             "names rmab estimate --hidden --signal-names kept in the model "
                             "files)")
    parser.add_argument("--keep-going", action="store_true",
                        help="a batch with a bad row in the CSV of batches (one rmab solve "
                             "--keep-going skipped) is copied as it is and reported, exit 3; "
                             "the actions and signals files may leave its arms out")
    parser.add_argument("--out", "-o", required=True,
                        help="next period's CSV of batches (a path ending in .csv), written "
                             "atomically: the file read with each arm's belief replaced")


def run(args) -> int:
    from rmab.io import read_batches, read_batches_keep_going, write_beliefs
    from rmab.io.logs import check_names
    from rmab.io.responses import updated_beliefs
    from rmab.models.storage import check_writable

    check_suffix("update.out", args.out, ".csv")
    inputs = [p for p in (args.csv, args.actions, args.signals) if p is not None]
    check_writable(args.out, inputs, owner="update.out")
    names = None if args.signal_names is None else \
        check_names("update", "signal_names", args.signal_names.split(";"))
    if args.keep_going:
        batches, bad = read_batches_keep_going(args.csv)
        if not batches:                        # nothing to update: every problem, then stop
            for e in bad:
                print(f"rmab: {_which(e)}: {e}", file=sys.stderr)
            raise BatchInputError(f"update: no batch of {args.csv} reads "
                                  f"({count_noun(len(bad), 'problem')} above); nothing "
                                  f"written", file=args.csv)
    else:
        batches, bad = read_batches(args.csv), []
    skipped = sorted({e.batch_id for e in bad if e.batch_id is not None})
    beliefs = updated_beliefs(batches, args.actions, args.signals, signal_names=names,
                              skip=skipped)
    written = write_beliefs(batches, beliefs, args.out)
    for e in bad:
        print(f"rmab: {_which(e)} copied as it was: {e}", file=sys.stderr)
    print(f"wrote {args.out}: {count_noun(written, 'belief')} updated in "
          f"{count_noun(len(batches), 'batch', 'batches')}"
          + (f"; {len(bad)} copied as {'they were' if len(bad) > 1 else 'it was'}"
             if bad else ""))
    return EXIT_SOME_FAILED if bad else 0


def _which(error) -> str:
    return "a row without a batch id" if error.batch_id is None else f"batch {error.batch_id!r}"
