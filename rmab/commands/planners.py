"""``rmab planners``: list the registered planners and whether their extras are installed."""

from __future__ import annotations

from rmab.planners import available_planners


def add_arguments(parser) -> None:
    parser.add_argument("--available", action="store_true",
                        help="only the planners whose optional dependencies are installed")


def run(args) -> int:
    specs = available_planners()
    if args.available:
        specs = [s for s in specs if s.available]
    width = max((len(s.name) for s in specs), default=4)
    print(f"{'name':<{width}}  {'available':<22}  summary")
    for s in specs:
        missing = s.missing_extras()
        status = "yes" if not missing else "needs " + ",".join(missing)
        print(f"{s.name:<{width}}  {status:<22}  {s.summary}")
    return 0
