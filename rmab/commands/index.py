"""``rmab index``: Whittle indices of every arm to CSV (per state, or per grid belief; per period
on a finite horizon), of an instance or of the one arm of a ``.POMDP`` file."""

from __future__ import annotations

import csv
import sys
import warnings

from rmab._reporting import count_noun
from rmab.commands import check_suffix, integer_arg, number_arg, read_instance, seed_arg
from rmab.errors import IndexabilityWarning, InvalidParameterError
from rmab.models.storage import atomic_write, check_writable
from rmab.relax.whittle import (N_PRICES, belief_whittle_indices, finite_whittle_indices,
                                 whittle_indices)


def add_arguments(parser) -> None:
    parser.add_argument("instance", metavar="INSTANCE",
                        help="instance file (.npz written by 'rmab generate' / save_instance), "
                             "or a .POMDP file: its one arm at the file's discount (costs from "
                             "an '# rmab-costs:' line)")
    parser.add_argument("--out", "-o", metavar="CSV", default=None,
                        help="output CSV (a path ending in .csv), written atomically "
                             "(default or '-': stdout)")
    parser.add_argument("--resolution", type=integer_arg, default=None,
                        help="POMDP arms: belief grid resolution (default 10)")
    parser.add_argument("--n-prices", type=integer_arg, default=None,
                        help="POMDP arms: evenly spaced PBVI prices per arm, besides the "
                             f"fully observed indices (default {N_PRICES})")
    parser.add_argument("--value-tol", type=number_arg, default=None,
                        help="POMDP arms, discounted: PBVI tolerance in units of each arm's "
                             "reward spread (default 1e-2)")
    parser.add_argument("--seed", type=seed_arg, default=None,
                        help="POMDP arms: PBVI seed (default 0)")


# the PBVI settings, for POMDP arms only (fully observed indices are exact), and defaults
PBVI_FLAGS = {"resolution": 10, "n_prices": N_PRICES, "value_tol": 1e-2, "seed": 0}


def _rows(instance, args):
    """Header and rows: ``arm, [period,] state | belief_0.., index_1.., indexable``, and
    POMDP arms' ``violation`` (:class:`~rmab.relax.whittle.BeliefWhittleResult`)."""
    levels = [f"index_{a}" for a in range(1, instance.n_actions)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IndexabilityWarning)
        if instance.fully_observed and instance.horizon is not None:
            res = finite_whittle_indices(instance.arms, horizon=instance.horizon,
                                         discount=instance.discount)
            header = ["arm", "period", "state"] + levels + ["indexable"]
            rows = [[n, t, s, *map(repr, res.indices[t, n, s].tolist()), int(res.indexable[n])]
                    for n in range(instance.n_arms) for t in range(instance.horizon)
                    for s in range(instance.n_states)]
        elif instance.fully_observed:
            res = whittle_indices(instance.arms, discount=instance.discount)
            header = ["arm", "state"] + levels + ["indexable"]
            rows = [[n, s, *map(repr, res.indices[n, s].tolist()), int(res.indexable[n])]
                    for n in range(instance.n_arms) for s in range(instance.n_states)]
        else:
            res = belief_whittle_indices(instance.arms, discount=instance.discount,
                                         resolution=args.resolution, n_prices=args.n_prices,
                                         value_tol=args.value_tol, horizon=instance.horizon,
                                         seed=args.seed)
            beliefs = ["arm"] + [f"belief_{s}" for s in range(instance.n_states)]
            verdict = [[int(ok), repr(float(v))] for ok, v in zip(res.indexable, res.violation)]
            if instance.horizon is None:
                header = beliefs + levels + ["indexable", "violation"]
                rows = [[n, *map(repr, res.grid[g].tolist()),
                         *map(repr, res.indices[n, g].tolist()), *verdict[n]]
                        for n in range(instance.n_arms) for g in range(len(res.grid))]
            else:
                header = (beliefs[:1] + ["period"] + beliefs[1:] + levels
                          + ["indexable", "violation"])
                rows = [[n, t, *map(repr, res.grid[g].tolist()),
                         *map(repr, res.indices[t, n, g].tolist()), *verdict[n]]
                        for n in range(instance.n_arms) for t in range(instance.horizon)
                        for g in range(len(res.grid))]
    for w in caught:
        print(f"rmab: warning: {w.message}", file=sys.stderr)
    return header, rows, res


def run(args) -> int:
    instance = read_instance("index", args.instance)
    for flag, default in PBVI_FLAGS.items():
        if getattr(args, flag) is None:
            setattr(args, flag, default)
        elif instance.fully_observed:       # it would be ignored
            raise InvalidParameterError(f"index.{flag}: only for POMDP arms (PBVI); the "
                                        f"fully observed indices are exact; got --"
                                        f"{flag.replace('_', '-')} {getattr(args, flag)}")
        elif flag == "value_tol" and instance.horizon is not None:      # ignored too
            raise InvalidParameterError(f"index.value_tol: for a discounted horizon (finite-"
                                        f"horizon PBVI makes H backups and has no tolerance); "
                                        f"got --value-tol {args.value_tol} with horizon "
                                        f"{instance.horizon}")
    if args.out == "-":
        args.out = None
    if args.out is not None:
        check_suffix("index.out", args.out, ".csv")
        # before the work, not after it
        check_writable(args.out, [args.instance], owner="index.out")
    header, rows, res = _rows(instance, args)
    if args.out is None:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    else:
        with atomic_write(args.out, ".csv") as tmp:
            with open(tmp, "w", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)
        print(f"wrote {args.out}: {count_noun(len(rows), 'row')}, {int(res.indexable.sum())} of "
              f"{count_noun(instance.n_arms, 'arm')} indexable", file=sys.stderr)
    return 0
