"""The occupation-measure LP bound (``rmab.domains.hull_bound``) against the budget relaxation's
Lagrangian bound (``LagrangianBound``), both measured in this run on the same starts.

For each domain (J = 20, B = 5 by default, seed 0), ``--starts`` start states drawn as in the
paper's evaluation (Bernoulli(0.2) per arm), H = 20: the mean of each bound per step, how much
lower the LP bound is, and the CPU time per start (``time.process_time``; both are
single-threaded): each bound's one call over all the starts, build included, divided by the
number of starts, the median of ``--repeats`` after one warm-up call of each. ``LP/Lagr.`` is
the ratio of those medians. ``LP <= Lagr.`` checks the LP bound is at most the Lagrangian one
(docs/domains.md); the script exits 1 if it is not.

Run ``.venv/bin/python benchmarks/bench_hull_bound.py [--quick] [--arms J] [--budget B]
[--starts K] [--repeats R] [--domains ...]``.
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rmab.domains import hull_bound, initial_states, make_domain  # noqa: E402
from rmab.planners.sequoia.warm_targets import LagrangianBound  # noqa: E402

KINDS = ("interventions", "capacity", "scheduling", "path")


def _median_cpu(fn, repeats: int):
    """(median CPU seconds over ``repeats`` calls, the last result)."""
    times = []
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        times.append(time.process_time() - t)
    return statistics.median(times), out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains", nargs="+", choices=KINDS, default=None)
    p.add_argument("--arms", type=int, default=20)
    p.add_argument("--budget", type=int, default=5)
    p.add_argument("--starts", type=int, default=None, help="default 5, --quick 2")
    p.add_argument("--horizon", type=int, default=20)
    p.add_argument("--repeats", type=int, default=None, help="default 5, --quick 3")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="2 starts, 3 repeats, interventions and capacity only")
    args = p.parse_args(argv)
    domains = args.domains or (["interventions", "capacity"] if args.quick else list(KINDS))
    n_starts = args.starts or (2 if args.quick else 5)
    repeats = args.repeats or (3 if args.quick else 5)
    H = args.horizon
    print(f"J = {args.arms}, B = {args.budget}, H = {H}, {n_starts} starts, seed {args.seed}; "
          f"CPU time per start, median of {repeats} after a warm-up")
    print(f"{'domain':<14} {'LP bound':>9} {'Lagrangian':>11} {'LP lower by':>12} "
          f"{'LP s/start':>11} {'Lagr. s/start':>14} {'LP/Lagr.':>9} {'LP <= Lagr.':>12}")
    failed = False
    for kind in domains:
        domain = make_domain(kind, args.arms, args.budget, seed=args.seed)
        starts = np.array([initial_states(args.arms, seed=np.random.SeedSequence([args.seed, i]))
                           for i in range(n_starts)])
        horizons = np.full(len(starts), H)

        def lp_call():
            return hull_bound(domain, starts, H)

        def lag_call():
            return LagrangianBound(domain, H, 1.0).state_values(starts, horizons)

        lp_call(), lag_call()                                 # warm-up: imports, first HiGHS call
        lp_time, lp = _median_cpu(lp_call, repeats)
        lag_time, lag = _median_cpu(lag_call, repeats)
        ok = bool(np.all(lp <= lag + 1e-6 * np.maximum(1.0, np.abs(lag))))
        failed |= not ok
        lp_m, lag_m = lp.mean() / H, lag.mean() / H
        print(f"{kind:<14} {lp_m:9.4f} {lag_m:11.4f} {100 * (1 - lp_m / lag_m):11.2f} % "
              f"{lp_time / n_starts:11.3f} {lag_time / n_starts:14.4f} "
              f"{lp_time / max(lag_time, 1e-9):8.0f}x {'ok' if ok else 'FAIL':>12}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
