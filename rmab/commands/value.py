"""``rmab value FILE.pomdp``: the value interval [PBVI lower bound, sawtooth upper bound] at the
file's start belief, and the time each bound took."""

from __future__ import annotations

import time

from rmab.commands import seed_arg
from rmab.errors import InvalidParameterError
from rmab.models.pomdp_format import read_pomdp
from rmab.values.bounds import fib_bound, sawtooth_bound
from rmab.values.pbvi import solve_pbvi


def add_arguments(parser) -> None:
    parser.add_argument("file", help="POMDP in Cassandra's .POMDP format")
    parser.add_argument("--tol", type=float, default=1e-3,
                        help="PBVI tolerance on its point set (default 1e-3)")
    parser.add_argument("--price", type=float, default=0.0,
                        help="price per unit of action cost (default 0; .POMDP files have no "
                             "costs unless written by rmab)")
    parser.add_argument("--n-beliefs", type=int, default=64,
                        help="points grown from the start belief (default 64)")
    parser.add_argument("--upper-sweeps", type=int, default=10_000,
                        help="at most this many sawtooth upper-bound sweeps (default 10000; "
                             "0 reports the fast informed bound)")
    parser.add_argument("--randomized", action="store_true", help="Perseus sweeps for PBVI")
    parser.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")


def run(args) -> int:
    model = read_pomdp(args.file)
    arms, start, beta = model.arms, model.start, model.discount
    if beta >= 1.0:
        raise InvalidParameterError(f"value.discount: must be < 1 for PBVI; got {beta} "
                                    f"in {args.file}")
    t0 = time.perf_counter()
    lower = solve_pbvi(arms, price=args.price, discount=beta, tol=args.tol,
                       initial_belief=start, n_beliefs=args.n_beliefs,
                       randomized=args.randomized, seed=args.seed)[0]
    t1 = time.perf_counter()
    upper = sawtooth_bound(fib_bound(arms, price=args.price, discount=beta, tol=args.tol),
                           lower.beliefs, backups=args.upper_sweeps, tol=args.tol)
    t2 = time.perf_counter()
    lo, hi = lower.value(start), upper.value(start)
    print(f"file: {args.file} ({arms.n_states} states, {arms.n_actions} actions, {arms.n_obs} "
          f"signals, discount {beta:g}, price {args.price:g})")
    print(f"value at the start belief: [{lo:.6f}, {hi:.6f}]  (gap {hi - lo:.3g})")
    print(f"lower: PBVI, {len(lower.beliefs)} beliefs, {len(lower.alphas)} vectors, "
          f"{lower.iterations} sweeps, {t1 - t0:.3f} s")
    print(f"upper: sawtooth on the PBVI beliefs from the fast informed bound, {upper.sweeps} "
          f"sweeps, {t2 - t1:.3f} s")
    print(f"first action: {model.action_names[lower.action(start)]}")
    return 0
