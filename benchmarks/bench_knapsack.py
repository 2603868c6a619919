"""Speed of the joint-action knapsack (``rmab.relax.knapsack.solve_knapsack``) under count
limits, against the same knapsack without them, measured in the same run.

Health-style costs (none / call / visit = 0 / 1 / 2), budget 10 % of N, values N(0, 1) per arm
and action (seeded). Cases: no limit (the DP, the reference); ``max_active = 8 % N``; exactly
``5 % N`` active; at most ``2 % N`` visits (a per-action cap); both, at most ``2 % N`` visits
and exactly ``5 % N`` active. For each case the
method ``auto`` picks, its median time and the ratio to the unlimited DP, and, where the DP
answered, the MIP on the same problem (time and whether both found the same value).

Then the knapsack set up once (``Knapsack(costs, budget, **limits).solve(values)``, what the
myopic and Lagrangian planners do each period) against ``solve_knapsack`` called afresh (their
path until 2026-12), on the same values: median microseconds per solve and the ratio, and
whether both chose the same actions.

    .venv/bin/python benchmarks/bench_knapsack.py [--sizes 100,1000,10000] [--repeats 3] [--quick]
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

from rmab.relax.knapsack import Knapsack, solve_knapsack  # noqa: E402


def _median(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="N = 100 and 1000 only")
    args = parser.parse_args(argv)
    if args.quick and args.sizes == parser.get_default("sizes"):   # --sizes wins
        args.sizes = "100,1000"
    solve_knapsack(np.ones((3, 2)), [[0, 1]] * 3, 1.0, max_active=1)       # compile
    solve_knapsack(np.ones((3, 2)), [[0, 1]] * 3, 1.0, max_active=1, method="mip")  # HiGHS
    print(f"{'N':>6}  {'limits':<22} {'auto':>4} {'ms':>9} {'x DP':>7} {'MIP ms':>9} {'same':>5}")
    for n in (int(x) for x in args.sizes.split(",")):
        rng = np.random.default_rng(n)
        values = rng.normal(size=(n, 3))
        costs = np.tile([0.0, 1.0, 2.0], (n, 1))
        budget = 0.1 * n
        base = None
        cases = {"none": {}, f"max_active={int(0.08 * n)}": dict(max_active=int(0.08 * n)),
                 f"exactly {int(0.05 * n)}": dict(min_active=int(0.05 * n),
                                                  max_active=int(0.05 * n)),
                 f"visits <= {int(0.02 * n)}": dict(action_caps=[np.inf, np.inf,
                                                                 int(0.02 * n)]),
                 "both": dict(action_caps=[np.inf, np.inf, int(0.02 * n)],
                               min_active=int(0.05 * n), max_active=int(0.05 * n))}
        for name, kw in cases.items():
            t, res = _median(lambda: solve_knapsack(values, costs, budget, **kw), args.repeats)
            base = base or t                    # the first case, without limits
            mip = same = ""
            if res.method == "dp" and kw:
                tm, rm = _median(lambda: solve_knapsack(values, costs, budget, method="mip",
                                                        **kw), args.repeats)
                mip, same = f"{tm * 1e3:9.1f}", str(abs(rm.value - res.value) <= 1e-9 * n)
            print(f"{n:>6}  {name:<22} {res.method:>4} {t * 1e3:9.2f} {t / base:7.1f} "
                  f"{mip:>9} {same:>5}")
    _set_up_once(args)


def _set_up_once(args):
    """Knapsack.solve against solve_knapsack (per solve, median of repeats of many calls,
    the two alternated)."""
    print(f"\n{'N':>6}  {'limits':<12} {'afresh us':>10} {'set up us':>10} {'speed-up':>9} "
          f"{'same':>5}")
    for n in (int(x) for x in args.sizes.split(",")):
        values = np.random.default_rng(n).normal(size=(n, 3))
        costs = np.tile([0.0, 1.0, 2.0], (n, 1))
        budget = 0.1 * n
        calls = max(2, 20_000 // n)
        for name, kw in {"none": {}, "exactly 5 %": dict(min_active=int(0.05 * n),
                                                         max_active=int(0.05 * n))}.items():
            knapsack = Knapsack(costs, budget, **kw)
            times = np.empty((args.repeats, 2))
            for r in range(args.repeats):           # alternated: the load drifts alike
                times[r, 0], a = _median(lambda: [solve_knapsack(values, costs, budget, **kw)
                                                  for _ in range(calls)][-1], 1)
                times[r, 1], b = _median(lambda: [knapsack.solve(values)
                                                  for _ in range(calls)][-1], 1)
            fresh, once = np.median(times, axis=0) / calls
            print(f"{n:>6}  {name:<12} {fresh * 1e6:10.1f} {once * 1e6:10.1f} "
                  f"{fresh / once:8.2f}x {str(np.array_equal(a.actions, b.actions)):>5}")


if __name__ == "__main__":
    main()
