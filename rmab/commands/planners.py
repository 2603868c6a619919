"""``rmab planners``: list the registered planners and whether their extras are installed;
``rmab planners NAME``: one planner's parameters (for ``--param``) and documentation."""

from __future__ import annotations

import inspect

from rmab.planners import available_planners
from rmab.planners.base import get_spec


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", default=None,
                        help="show this planner's parameters and documentation")
    parser.add_argument("--available", action="store_true",
                        help="only the planners whose optional dependencies are installed")


def _describe(name: str) -> int:
    spec = get_spec(name)                      # unknown names: UnknownPlannerError, suggestions
    cls = spec.load()
    print(f"{spec.name}: {spec.summary}")
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.name != "self" and p.kind is not p.VAR_KEYWORD]
    print("\nparameters (rmab solve --param KEY=VALUE, make_planner(name, KEY=VALUE)):")
    for p in params:
        print(f"  {p.name} = {p.default!r}" if p.default is not p.empty else f"  {p.name}")
    if not params:
        print("  (none)")
    print("\n" + inspect.cleandoc(cls.__doc__ or ""))
    return 0


def run(args) -> int:
    if args.name is not None:
        return _describe(args.name)
    specs = available_planners()
    if args.available:
        specs = [s for s in specs if s.available]
    width = max((len(s.name) for s in specs), default=4)
    print(f"{'name':<{width}}  {'available':<22}  summary")
    for s in specs:
        missing = s.missing_extras()
        status = "yes" if not missing else "needs " + ",".join(missing)
        print(f"{s.name:<{width}}  {status:<22}  {s.summary}")
    print("\n'rmab planners NAME' lists a planner's parameters")
    return 0
