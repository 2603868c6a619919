"""``rmab value FILE.pomdp``: the value interval [PBVI lower bound, sawtooth upper bound] at the
file's start belief, and the time each bound took; ``--horizon H`` for the value over ``H``
periods (finite-horizon PBVI and FIB, any discount up to 1)."""

from __future__ import annotations

import time

from rmab._reporting import count_noun
from rmab.commands import integer_arg, number_arg, seed_arg
from rmab.errors import InvalidParameterError
from rmab.models.pomdp_format import read_pomdp
from rmab.values.bounds import fib_bound, sawtooth_bound
from rmab.values.finite_pbvi import solve_finite_pbvi
from rmab.values.pbvi import solve_pbvi


def add_arguments(parser) -> None:
    parser.add_argument("file", help="POMDP in Cassandra's .POMDP format")
    parser.add_argument("--tol", type=number_arg, default=1e-3,
                        help="PBVI tolerance on its point set (default 1e-3; unused with "
                             "--horizon, whose PBVI makes H backups)")
    parser.add_argument("--price", type=number_arg, default=0.0,
                        help="price per unit of action cost (default 0; a .POMDP file's costs "
                             "come from an '# rmab-costs:' line, else all 0)")
    parser.add_argument("--n-beliefs", type=integer_arg, default=64,
                        help="points grown from the start belief (default 64)")
    parser.add_argument("--upper-sweeps", type=integer_arg, default=10_000,
                        help="at most this many sawtooth upper-bound sweeps (default 10000; "
                             "0 reports the fast informed bound)")
    parser.add_argument("--randomized", action="store_true", help="Perseus sweeps for PBVI")
    parser.add_argument("--horizon", type=integer_arg, default=None,
                        help="value over this many periods (finite-horizon PBVI and FIB; the "
                             "file's discount may then be 1); default infinite")
    parser.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")


def run(args) -> int:
    if not args.tol > 0:                                  # checked before any solving
        raise InvalidParameterError(f"value.tol: must be > 0 (--tol); got {args.tol}")
    for flag, value, low in (("upper-sweeps", args.upper_sweeps, 0),
                             ("n-beliefs", args.n_beliefs, 1), ("horizon", args.horizon, 1)):
        if value is not None and value < low:   # named by the flag, not by the solver's field
            raise InvalidParameterError(f"value.{flag.replace('-', '_')}: must be >= {low} "
                                        f"(--{flag}); got {value}")
    model = read_pomdp(args.file)
    arms, start, beta = model.arms, model.start, model.discount
    if args.horizon is not None:
        return _finite(args, model)
    if beta >= 1.0:
        raise InvalidParameterError(f"value.discount: must be < 1 for PBVI (or give --horizon); "
                                    f"got {beta} in {args.file}")
    t0 = time.perf_counter()
    lower = solve_pbvi(arms, price=args.price, discount=beta, tol=args.tol,
                       initial_belief=start, n_beliefs=args.n_beliefs,
                       randomized=args.randomized, seed=args.seed)[0]
    t1 = time.perf_counter()
    upper = sawtooth_bound(fib_bound(arms, price=args.price, discount=beta, tol=args.tol),
                           lower.beliefs, backups=args.upper_sweeps, tol=args.tol)
    t2 = time.perf_counter()
    lo, hi = lower.value(start), upper.value(start)
    _header(args, model)
    below, above = _interval(model, lo, hi)
    print(f"{below}: PBVI, {count_noun(len(lower.beliefs), 'belief')}, "
          f"{count_noun(len(lower.alphas), 'vector')}, {count_noun(lower.iterations, 'sweep')}, "
          f"{t1 - t0:.3f} s")
    print(f"{above}: sawtooth on the PBVI beliefs from the fast informed bound, "
          f"{count_noun(upper.sweeps, 'sweep')}, {t2 - t1:.3f} s")
    print(f"first action: {model.action_names[lower.action(start)]}")
    return 0


def _header(args, model) -> None:
    arms = model.arms
    extra = "" if args.horizon is None else f", horizon {args.horizon}"
    free = args.price != 0 and not arms.costs.any()     # a .POMDP file without rmab-costs
    print(f"file: {args.file} ({count_noun(arms.n_states, 'state')}, "
          f"{count_noun(arms.n_actions, 'action')}, {count_noun(arms.n_obs, 'signal')}, "
          f"discount {model.discount:g}{extra}, price {args.price:g}"
          + (": the file gives no action costs, so the price changes nothing" if free else "")
          + ")")


def _finite(args, model) -> int:
    """The value over ``args.horizon`` periods: finite-horizon PBVI below; above, one sawtooth
    per period on the PBVI points, backward from 0, capped by the finite-horizon FIB
    (``--upper-sweeps 0``: the FIB alone)."""
    arms, start = model.arms, model.start
    if args.randomized:
        raise InvalidParameterError("value.randomized: only without --horizon (finite-horizon "
                                    "PBVI makes one backup per point and period, no sweeps)")
    t0 = time.perf_counter()
    lower = solve_finite_pbvi(arms, horizon=args.horizon, price=args.price,
                              discount=model.discount, initial_belief=start,
                              n_beliefs=args.n_beliefs, seed=args.seed)[0]
    t1 = time.perf_counter()
    upper = sawtooth_bound(fib_bound(arms, price=args.price, discount=model.discount,
                                     horizon=args.horizon), lower.beliefs,
                           backups=min(args.upper_sweeps, 1))
    t2 = time.perf_counter()
    lo, hi = lower.value(start), upper.value(start)
    _header(args, model)
    below, above = _interval(model, lo, hi)
    print(f"{below}: finite-horizon PBVI, {count_noun(len(lower.beliefs), 'belief')}, "
          f"{count_noun(len(lower.alphas), 'vector')} at period 0, "
          f"{count_noun(args.horizon, 'period')}, {t1 - t0:.3f} s")
    how = ("the finite-horizon fast informed bound" if not upper.sweeps else
           f"{upper.sweeps} backward sawtooth backups on the PBVI beliefs, capped by the "
           f"finite-horizon fast informed bound")
    print(f"{above}: {how}, {t2 - t1:.3f} s")
    print(f"first action: {model.action_names[lower.action(start)]}")
    return 0


def _interval(model, lo: float, hi: float) -> tuple[str, str]:
    """Print the value interval, or for a ``values: cost`` file the cost interval
    ``[-hi, -lo]`` (the reader negates costs into rewards); return the names of the bounds
    that PBVI and the upper bound give (for costs: the upper and the lower)."""
    if model.metadata.get("values") == "cost":
        print(f"cost at the start belief: [{0.0 - hi:.6f}, {0.0 - lo:.6f}]  "
              f"(gap {_gap(lo, hi):.3g})")
        return "cost upper", "cost lower"
    print(f"value at the start belief: [{lo:.6f}, {hi:.6f}]  (gap {_gap(lo, hi):.3g})")
    return "lower", "upper"


def _gap(lo: float, hi: float) -> float:
    """``hi - lo``, with a rounding-level negative (the bounds meet) shown as 0; a real
    negative gap would be a bug and stays visible."""
    gap = hi - lo
    return 0.0 if -1e-12 * max(1.0, abs(hi)) < gap < 0.0 else gap
