"""Speed of the ranked baselines' greedy fill (``round-robin``, ``belief-threshold``): the index
walk they share with the index planners (``rmab.planners.index.index_walk``, a Numba kernel),
against the plain-Python fill they had before (to 2026-12-04), measured in the same run.

Health-intervention arms (``health_intervention(N, seed=0)``: costs 0/1/2, budget 10 % of N),
round-robin with the call (action 1). Figures are the thread's CPU time (steadier than wall
time on a shared machine), medians of ``--repeats`` after a warm-up, the two fills measured
alternately:

1. one fill (the joint action and the arms served, as ``RoundRobinPlanner`` asks for them;
   each repeat times a batch of 20 calls): the previous Python fill, the shared walk, and
   their ratio;
2. one round-robin episode (90 periods: plan, then the simulator's step), with either fill.

The two fills give the same actions (checked on the first call and on the episode's return).

    .venv/bin/python benchmarks/bench_baselines.py [--sizes 100,2000,20000] [--repeats 7]
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from rmab._validation import budget_slack  # noqa: E402
from rmab.models import health_intervention  # noqa: E402
from rmab.planners import baselines, make_planner  # noqa: E402
from rmab.planners.base import kernel_limits  # noqa: E402
from rmab.sim import Environment, run_episode  # noqa: E402


def python_fill(inst, ranking, eligible, action):
    """The fill of ``rmab/planners/baselines.py`` before 2026-12-04 (``_fill`` and the
    ``min_active``-free part of ``_fill_action``), the reference."""
    costs = inst.arms.costs[:, action]
    budget = inst.budget
    order = ranking[:eligible]
    slack = 0.5 * budget_slack(budget)
    spent = np.cumsum(costs[order])
    k = int(np.searchsorted(spent, budget + slack, side="right"))
    taken = list(order[:k])
    left = budget - (spent[k - 1] if k else 0.0)
    for i in order[k + 1:] if k < len(order) else ():
        if costs[i] <= left + slack:
            taken.append(i)
            left -= costs[i]
    cap = kernel_limits(inst)[0][action]
    take = np.asarray(taken[:int(min(cap, len(taken)))], dtype=np.int64)
    actions = np.zeros(inst.n_arms, dtype=np.int64)
    actions[take] = action
    return actions, take


def _medians(fns, repeats, batch=1):
    """Median CPU seconds per call of each of ``fns``, timed alternately after a warm-up."""
    times = [[] for _ in fns]
    for fn in fns:
        fn()
    for _ in range(repeats):
        for fn, own in zip(fns, times):
            start = time.thread_time()
            for _ in range(batch):
                fn()
            own.append((time.thread_time() - start) / batch)
    return [float(np.median(own)) for own in times]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,2000,20000")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="N = 100 and 2000 only")
    args = parser.parse_args(argv)
    if args.quick and args.sizes == parser.get_default("sizes"):   # --sizes wins
        args.sizes = "100,2000"
    shared = baselines._ranked_actions
    print(f"{'N':>6}  {'fill: python ms':>15} {'walk ms':>8} {'ratio':>6}   "
          f"{'episode: python s':>17} {'walk s':>7} {'ratio':>6}   (CPU time)")
    for n in (int(x) for x in args.sizes.split(",")):
        inst = health_intervention(n, seed=0)
        order = (n // 3 + np.arange(n)) % n               # a cycle mid-way
        old, new = python_fill(inst, order, n, 1), shared(inst, order, n, 1)
        if not (np.array_equal(old[0], new[0]) and np.array_equal(old[1], new[1])):
            raise SystemExit(f"N = {n}: the two fills differ")
        t_old, t_new = _medians([lambda: python_fill(inst, order, n, 1),
                                 lambda: shared(inst, order, n, 1)], args.repeats, batch=20)
        env = Environment(inst, seed=0)
        planner = make_planner("round-robin").fit(inst, seed=0)

        def episode(fill):
            baselines._ranked_actions = fill
            try:
                return run_episode(env, planner, seed=1).total_reward
            finally:
                baselines._ranked_actions = shared

        if episode(python_fill) != episode(shared):
            raise SystemExit(f"N = {n}: the two episodes differ")
        e_old, e_new = _medians([lambda: episode(python_fill), lambda: episode(shared)],
                                args.repeats)
        print(f"{n:>6}  {t_old * 1e3:15.3f} {t_new * 1e3:8.3f} {t_old / t_new:6.1f}   "
              f"{e_old:17.3f} {e_new:7.3f} {e_old / e_new:6.2f}")


if __name__ == "__main__":
    main()
