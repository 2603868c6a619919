"""SEQUOIA's argmax on the path domain: enumeration of the feasible actions vs the MIP, same run.

For each J = 20, B = 5 path instance: a network trained briefly (``--episodes`` of DQN with the
enumeration, the default config otherwise), then ``--solves`` argmaxes at random states and
times-to-go with :class:`BruteForceArgmax` (one forward pass over the listed actions) and
:class:`MIPArgmax` (HiGHS, one thread, gap 1e-4, persistent model). Prints the listed actions,
the one-off costs (listing; MIP network build), the median and max time per solve and their
ratio (MIP / enumeration, > 1: enumeration faster), and the largest value difference (both
are exact up to the MIP gap).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_argmax.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from rmab.domains import make_path  # noqa: E402
from rmab.planners.sequoia.argmax import BruteForceArgmax, MIPArgmax  # noqa: E402
from rmab.planners.sequoia.train import SequoiaConfig, train_sequoia  # noqa: E402


def _time(oracle, states, ttgs):
    seconds, values = [], []
    for s, ttg in zip(states, ttgs):
        start = time.perf_counter()
        values.append(oracle.solve(s, int(ttg)).value)
        seconds.append(time.perf_counter() - start)
    return np.array(seconds), np.array(values)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--episodes", type=int, default=10, help="DQN episodes before timing")
    ap.add_argument("--solves", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="1 seed, 2 episodes, 20 solves")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.episodes, args.solves = args.seeds[:1], 2, 20
    print(f"path J = 20, B = 5; networks after {args.episodes} DQN episodes; {args.solves} "
          f"solves at random states (Bernoulli(0.2) of state 1..3) and times-to-go\n")
    print(f"{'seed':>4} {'actions':>7} {'list s':>7} {'build s':>7} {'MIP ms':>8} {'max':>8} "
          f"{'enum ms':>8} {'max':>6} {'ratio':>6} {'max |dv|':>9}")
    ratios = []
    for seed in args.seeds:
        d = make_path(20, 5, seed=seed)
        start = time.perf_counter()
        actions = d.feasible_actions()
        listing = time.perf_counter() - start
        cfg = SequoiaConfig(episodes=args.episodes, validate_every=0, argmax="brute")
        net = train_sequoia(d, cfg, seed=seed, progress=False).network
        start = time.perf_counter()
        mip = MIPArgmax(d, cfg.horizon, net)
        build = time.perf_counter() - start
        brute = BruteForceArgmax(d, cfg.horizon, net, actions=actions)
        rng = np.random.default_rng(seed)
        states = (rng.random((args.solves, 20)) < 0.2) * rng.integers(1, 4, (args.solves, 20))
        ttgs = rng.integers(1, cfg.horizon + 1, args.solves)
        t_mip, v_mip = _time(mip, states, ttgs)
        t_enum, v_enum = _time(brute, states, ttgs)
        ratio = np.median(t_mip) / np.median(t_enum)
        ratios.append(ratio)
        print(f"{seed:>4} {len(actions):>7} {listing:>7.2f} {build:>7.2f} "
              f"{1e3 * np.median(t_mip):>8.2f} {1e3 * t_mip.max():>8.1f} "
              f"{1e3 * np.median(t_enum):>8.2f} {1e3 * t_enum.max():>6.1f} {ratio:>6.1f} "
              f"{np.abs(v_mip - v_enum).max():>9.2e}")
    print(f"\nmedian ratio MIP / enumeration: {np.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
