"""The occupation-measure LP bound (``rmab.domains.hull_bound``) against the budget relaxation's
Lagrangian bound (``LagrangianBound``), both measured in this run on the same starts.

For each domain (J = 20, B = 5 by default, seed 0), ``--starts`` start states drawn as in the
paper's evaluation (Bernoulli(0.2) per arm), H = 20: the mean of each bound per step, how much
lower the LP bound is (its tightness gain), and the wall time per start (each bound's one call
over all the starts, its build included, divided by the number of starts; the Lagrangian
builds one value-iteration table for every start, the LP re-solves once per start).

Run ``.venv/bin/python benchmarks/bench_hull_bound.py [--arms J] [--budget B] [--starts K]
[--domains ...]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rmab.domains import hull_bound, initial_states, make_domain
from rmab.planners.sequoia.warm_targets import LagrangianBound

KINDS = ("interventions", "capacity", "scheduling", "path")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains", nargs="+", choices=KINDS, default=list(KINDS))
    p.add_argument("--arms", type=int, default=20)
    p.add_argument("--budget", type=int, default=5)
    p.add_argument("--starts", type=int, default=5)
    p.add_argument("--horizon", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    H = args.horizon
    print(f"J = {args.arms}, B = {args.budget}, H = {H}, {args.starts} starts, seed {args.seed}")
    print(f"{'domain':<14} {'LP bound':>9} {'Lagrangian':>11} {'LP lower by':>12} "
          f"{'LP s/start':>11} {'Lagr. s/start':>14}")
    for kind in args.domains:
        domain = make_domain(kind, args.arms, args.budget, seed=args.seed)
        starts = np.array([initial_states(args.arms, seed=np.random.SeedSequence([args.seed, i]))
                           for i in range(args.starts)])
        hull_bound(domain, starts[:1], 2)                     # imports, first HiGHS call
        t = time.perf_counter()
        lp = hull_bound(domain, starts, H)
        lp_time = (time.perf_counter() - t) / len(starts)
        t = time.perf_counter()
        lag = LagrangianBound(domain, H, 1.0).state_values(starts, np.full(len(starts), H))
        lag_time = (time.perf_counter() - t) / len(starts)
        lp, lag = lp.mean() / H, lag.mean() / H
        print(f"{kind:<14} {lp:9.4f} {lag:11.4f} {100 * (1 - lp / lag):11.2f} % "
              f"{lp_time:11.3f} {lag_time:14.3f}")


if __name__ == "__main__":
    main()
