"""Normalised reward (RANDOM = 1) of the index, Lagrangian and rollout domain planners
(``rmab.domains.index_baselines``) beside the myopic MIP and iterative myopic, on the four
coRMAB domains (``coRMAB.md`` §3), with the paper's protocol (:func:`compare_domain`: one
generated instance per seed, ``episodes`` episodes of ``H = 20`` from Bernoulli(0.2) states,
common random numbers). Every figure is a ratio against RANDOM measured in the same run.

Run ``.venv/bin/python benchmarks/bench_domain_index.py [--quick] [--kinds path ...]
[--episodes N]``. ``--quick``: J = 12, B = 2, one seed, 5 episodes.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

from rmab.domains.evaluate import compare_domain  # noqa: E402
from rmab.domains.index_baselines import (LagrangianDomainPlanner,  # noqa: E402
                                          RolloutDomainPlanner, WhittleDomainPlanner)
from rmab.errors import IndexabilityWarning  # noqa: E402

KINDS = ("interventions", "capacity", "scheduling", "path")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    n_arms, budget, seeds, episodes = 20, 5, tuple(args.seeds), args.episodes
    if args.quick:
        n_arms, budget, seeds, episodes = 12, 2, (0,), 5
    for kind in args.kinds:
        planners = ["random", "myopic", "iterative-myopic", WhittleDomainPlanner(),
                    LagrangianDomainPlanner(), RolloutDomainPlanner()]
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IndexabilityWarning)
            res = compare_domain(kind, n_arms=n_arms, budget=budget, seeds=seeds,
                                 planners=planners, episodes=episodes, horizon=20)
        print(res.table())
        if caught:
            print(f"  ({len(caught)} indexability warning(s): {caught[0].message})")
        print(f"  J = {n_arms}, B = {budget}, wall {time.perf_counter() - start:.0f} s\n",
              flush=True)


if __name__ == "__main__":
    main()
