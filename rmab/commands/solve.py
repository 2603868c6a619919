"""``rmab solve``: solve the budgeted allocation batches of a CSV file (``docs/csv.md``).

Exit codes: 0 every batch solved; 1 an error (a bad row without ``--keep-going``, an unreadable
file, a planner failure); 2 usage error (an unknown planner name among them); 3 with
``--keep-going``, some batches failed (each is reported on stderr) and the others were solved
and written. ``--check`` only reads the file and reports every bad row on stderr (exit 1 if
any, else 0; the planner and its parameters are checked too; nothing is solved or written).
"""

from __future__ import annotations

import argparse
import sys

from rmab._reporting import count_noun
from rmab._validation import check_discount, check_number
from rmab.commands import (EXIT_SOME_FAILED, check_suffix, hint_numbers, integer_arg,
                           number_arg, param_arg, seed_arg)
from rmab.errors import InvalidParameterError
from rmab.io.batch import solve_batches
from rmab.io.reader import read_batches_keep_going
from rmab.planners.base import make_planner


def _params(args) -> dict:
    """The ``--param`` pairs, each key once (``dict`` kept the last of a repeated key)."""
    params: dict = {}
    for key, value in args.param:
        if key in params:
            raise InvalidParameterError(f"solve.param: must give each KEY once; got {key!r} "
                                        f"twice ({params[key]!r}, {value!r})")
        params[key] = value
    return params


def add_arguments(parser) -> None:
    parser.add_argument("csv", help="CSV file of batches (schema: docs/csv.md)")
    parser.add_argument("--planner", default="myopic",
                        help="registered planner (default myopic; see 'rmab planners')")
    parser.add_argument("--param", action="append", type=param_arg, default=[], metavar="KEY=VALUE",
                        help="planner parameter (repeatable; VALUE read as a JSON scalar or "
                             "object, or inf/-inf)")
    parser.add_argument("--out", "-o", default=None,
                        help="output CSV (a path ending in .csv), written atomically "
                             "(default or '-': stdout)")
    parser.add_argument("--keep-going", action="store_true",
                        help="skip batches with bad rows or a failing planner, solve the rest "
                             "(exit 3 if any failed)")
    parser.add_argument("--check", action="store_true",
                        help="only read the file and report every bad row (exit 1 if any); "
                             "nothing is solved or written")
    parser.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    parser.add_argument("--discount", type=number_arg, default=0.95,
                        help="discount of batches whose rows give none (default 0.95)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=False,
                        help="progress bar on stderr (default: off)")
    parser.add_argument("--n-jobs", type=integer_arg, default=1,
                        help="worker processes planning batches at once (default 1); the "
                             "output does not depend on it")


def run(args) -> int:
    if args.out == "-":
        args.out = None
    if args.out is not None:                  # --check too: the run it checks for would fail
        check_suffix("solve.out", args.out, ".csv")
    check_discount("solve", args.discount)    # named by its flag, not by read_batches
    check_number("solve", "n_jobs", args.n_jobs, low=1, integer=True)   # nor solve_batches
    params = _params(args)
    try:
        make_planner(args.planner, **params)        # an unknown planner exits 2 first
    except InvalidParameterError as exc:
        hint_numbers(exc, params.values())
        raise
    if args.out is not None:                  # named by its flag, not by solve_batches
        from rmab.models.storage import check_writable

        check_writable(args.out, [args.csv], owner="solve.out")
    if args.check:
        return _check(args)
    if args.out is None and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")     # the CSV's encoding, whatever the locale
    result = solve_batches(args.csv, args.planner, planner_params=params,
                           seed=args.seed, keep_going=args.keep_going,
                           out=args.out if args.out is not None else sys.stdout,
                           discount=args.discount, progress=args.progress,
                           n_jobs=args.n_jobs)
    for failure in result.failures:
        which = "a row without a batch id" if failure.batch_id is None else \
            f"batch {failure.batch_id!r}"
        print(f"rmab: {which} skipped: {failure.error}", file=sys.stderr)
    where = f" to {result.out}" if result.out else ""
    print(f"rmab: solved {count_noun(len(result.outcomes), 'batch', 'batches')} "
          f"({count_noun(result.n_arms, 'arm')}) with "
          f"{result.planner}, wrote {count_noun(result.rows_written, 'row')}{where}; "
          f"{len(result.failures)} failed; {result.seconds:.2f} s", file=sys.stderr)
    return EXIT_SOME_FAILED if result.failures else 0


def _check(args) -> int:
    batches, errors = read_batches_keep_going(args.csv, discount=args.discount,
                                              every_row=True)
    failed = len({e.batch_id for e in errors if e.batch_id is not None})
    problems = list({str(e): e for e in errors}.values())   # a stray row may break two batches
    for text, lines in _alike(problems):
        print(f"rmab: {text}", file=sys.stderr)
        if lines:
            print(f"rmab:   and {count_noun(len(lines), 'more row')} alike: line"
                  f"{'s' * (len(lines) > 1)} {_spans(lines)}", file=sys.stderr)
    rows = sum(len(b.arm_ids) for b in batches)
    print(f"rmab: {args.csv}: {count_noun(len(batches), 'batch', 'batches')} "
          f"({count_noun(rows, 'arm')}) read without a problem; "
          f"{count_noun(len(problems), 'problem')}"
          + (f" ({count_noun(failed, 'batch', 'batches')} left out)" if failed else ""),
          file=sys.stderr)
    return 1 if problems else 0


def _alike(errors) -> list[tuple[str, list[int]]]:
    """Each problem's text and the later lines of the problems after it that say the same but
    for their line (a model file not found names it on every row: 8 000 lines of it)."""
    said: list = []
    for e in errors:
        text = str(e)
        key = None if e.line is None else (e.file, e.column, text.replace(f"line {e.line}", "", 1))
        if said and key is not None and said[-1][0] == key:
            said[-1][2].append(e.line)
        else:
            said.append((key, text, []))
    return [(text, lines) for _, text, lines in said]


def _spans(lines: list[int]) -> str:
    """``'3-13, 15'`` for the lines 3, 4, ..., 13 and 15."""
    spans = []
    for line in lines:
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
