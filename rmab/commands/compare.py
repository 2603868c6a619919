"""``rmab compare``: evaluate planners on one instance with common random numbers."""

from __future__ import annotations

import sys

from rmab.models import health_intervention, load_instance
from rmab.planners import available_planners
from rmab.sim import compare


def default_planners() -> list[str]:
    """Every registered planner whose optional dependencies are installed."""
    return [s.name for s in available_planners() if s.available]


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("instance", nargs="?", metavar="INSTANCE",
                        help="instance file (.npz written by 'rmab generate' / save_instance)")
    source.add_argument("--health", type=int, metavar="N",
                        help="generate a health-intervention instance with N arms instead")
    parser.add_argument("--budget-fraction", type=float, default=0.1,
                        help="with --health: budget as a fraction of N (default 0.1)")
    parser.add_argument("--n-states", type=int, choices=(2, 3), default=2,
                        help="with --health: 2 or 3 states (default 2)")
    parser.add_argument("--instance-seed", type=int, default=0,
                        help="with --health: seed of the generator (default 0)")
    parser.add_argument("--planners", default=None,
                        help="comma-separated planner names (default: every available "
                             "registered planner; see 'rmab planners')")
    parser.add_argument("--episodes", type=int, default=20, help="episodes (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")
    parser.add_argument("--n-jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--horizon", type=int, default=None,
                        help="periods per episode (default: the instance's episode length)")
    parser.add_argument("--out", metavar="CSV", default=None, help="write the table as CSV")
    parser.add_argument("--plot", metavar="PNG", default=None,
                        help="write a bar chart with confidence intervals (needs rmab[plot])")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run(args) -> int:
    if args.health is not None:
        instance = health_intervention(args.health, n_states=args.n_states,
                                       budget_fraction=args.budget_fraction,
                                       seed=args.instance_seed)
    else:
        instance = load_instance(args.instance)
    if args.planners is None:
        planners = default_planners()
    else:
        planners = [p.strip() for p in args.planners.split(",") if p.strip()]
    result = compare(instance, planners, episodes=args.episodes, seed=args.seed,
                     n_jobs=args.n_jobs, horizon=args.horizon, progress=not args.no_progress)
    print(result.table())
    if args.out:
        result.to_csv(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    if args.plot:
        result.plot(args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
