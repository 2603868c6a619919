"""The domains' Whittle policy with finite-horizon indices against the quality table.

Issue 5's quality table (``benchmarks/results/sequoia_quality_J20_reseeded.csv``: 4 domains x
5 seeds, J = 20, B = 5, 50 evaluation episodes of H = 20) measured the Whittle baseline with
the discounted (0.99) infinite-horizon indices. This replays it on the same instances and
episodes (``evaluate_domain(seed=SeedSequence([seed, 1]))``, as ``bench_sequoia_quality.py
--rebaseline``; the replay must equal the stored per-episode rewards, which shows the episodes
are the table's) next to ``WhittleDomainPlanner(horizon=20)``, the time-dependent indices of
the undiscounted 20-period problem the protocol scores, and sets both against the stored
SEQUOIA rows (RANDOM = 1; SEQUOIA minus finite Whittle as a paired per-episode difference).

    .venv/bin/python benchmarks/bench_whittle_horizon.py [--domains capacity ...]
        [--csv benchmarks/results/sequoia_quality_J20_reseeded.csv] [--quick]
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from rmab.domains import make_domain  # noqa: E402
from rmab.domains.baselines import make_domain_planner  # noqa: E402
from rmab.domains.evaluate import evaluate_domain  # noqa: E402
from rmab.errors import IndexabilityWarning  # noqa: E402

TABLE = pathlib.Path(__file__).resolve().parent / "results" / "sequoia_quality_J20_reseeded.csv"
KINDS = ("capacity", "interventions", "path", "scheduling")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--csv", default=str(TABLE))
    parser.add_argument("--quick", action="store_true", help="each domain's first seed only")
    args = parser.parse_args(argv)
    jobs: dict = {}
    with open(args.csv, newline="") as fh:
        for row in csv.DictReader(fh):
            jobs.setdefault((row["domain"], int(row["seed"])), {})[row["planner"]] = row
    print(f"{'domain':<14}{'seed':>4}  {'whittle':>8} {'finite':>8} {'sequoia':>8}  "
          f"{'sequoia - finite (paired)':>26}")
    summary: dict = {}
    for (kind, seed), rows in sorted(jobs.items()):
        if kind not in args.domains or (args.quick and kind in summary):
            continue
        stored = np.array(rows["whittle"]["episode_rewards"].split(), float)
        finite = make_domain_planner("whittle", horizon=20)
        finite.name = "whittle-h20"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IndexabilityWarning)
            ev = evaluate_domain(make_domain(kind, 20, 5, seed=seed),
                                 [make_domain_planner("whittle"), finite],
                                 episodes=stored.size, horizon=20,
                                 seed=np.random.SeedSequence([seed, 1]))
        gap = float(np.abs(ev.rewards[0, 0] - stored).max())
        if gap > 1e-8:
            raise RuntimeError(f"{kind} {seed}: whittle replays {gap:.2e} away from the "
                               f"stored rewards; not the table's episodes")
        random = float(rows["random"]["reward"])
        sequoia = np.array(rows["sequoia"]["episode_rewards"].split(), float)
        diff = sequoia - ev.rewards[0, 1]
        norm = (float(rows["whittle"]["reward"]) / random, ev.rewards[0, 1].mean() / random,
                float(rows["sequoia"]["reward"]) / random)
        summary.setdefault(kind, []).append(norm)
        print(f"{kind:<14}{seed:>4}  {norm[0]:8.4f} {norm[1]:8.4f} {norm[2]:8.4f}  "
              f"{diff.mean():+11.4f} ± {diff.std(ddof=1) / np.sqrt(diff.size):.4f}", flush=True)
    print("\nper domain (mean over seeds, RANDOM = 1):")
    for kind, rows in summary.items():
        w, f, s = np.mean(rows, axis=0)
        at_least = sum(r[2] >= r[1] - 1e-12 for r in rows)
        print(f"{kind:<14} whittle {w:.4f}  finite {f:.4f} ({100 * (f / w - 1):+.2f} %)  "
              f"sequoia {s:.4f} ({100 * (s / f - 1):+.3f} % vs finite; at least it on "
              f"{at_least} of {len(rows)})")


if __name__ == "__main__":
    main()
