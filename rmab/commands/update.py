"""``rmab update``: next period's CSV of batches, each arm's belief updated by the action
taken and the signal seen (docs/csv.md, "A weekly loop"): :func:`rmab.io.read_batches`,
:func:`rmab.io.responses.updated_beliefs`, :func:`rmab.io.write_beliefs`. Nothing is written
unless every row of the three files reads."""

from __future__ import annotations

from rmab._reporting import count_noun
from rmab.commands import check_suffix


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
                             " the signals file may write a signal by its name")
    parser.add_argument("--out", "-o", required=True,
                        help="next period's CSV of batches (a path ending in .csv), written "
                             "atomically: the file read with each arm's belief replaced")


def run(args) -> int:
    from rmab.io import read_batches, write_beliefs
    from rmab.io.logs import check_names
    from rmab.io.responses import updated_beliefs
    from rmab.models.storage import check_writable

    check_suffix("update.out", args.out, ".csv")
    inputs = [p for p in (args.csv, args.actions, args.signals) if p is not None]
    check_writable(args.out, inputs, owner="update.out")
    names = None if args.signal_names is None else \
        check_names("update", "signal_names", args.signal_names.split(";"))
    batches = read_batches(args.csv)
    beliefs = updated_beliefs(batches, args.actions, args.signals, signal_names=names)
    written = write_beliefs(batches, beliefs, args.out)
    print(f"wrote {args.out}: {count_noun(written, 'belief')} updated in "
          f"{count_noun(len(batches), 'batch', 'batches')}")
    return 0
