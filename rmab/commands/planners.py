"""``rmab planners``: list the registered planners and whether their extras are installed;
``rmab planners NAME``: one planner's parameters (for ``--param``) and documentation;
``--domain``: the same for the coRMAB domain planners (``rmab compare --domain``)."""

from __future__ import annotations

import difflib
import inspect

from rmab.errors import UnknownPlannerError
from rmab.planners import available_planners
from rmab.planners.base import get_spec, planner_names


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", default=None,
                        help="show this planner's parameters and documentation")
    parser.add_argument("--available", action="store_true",
                        help="only the planners whose optional dependencies are installed "
                             "(the domain planners need none)")
    parser.add_argument("--domain", action="store_true",
                        help="the coRMAB domain planners (rmab compare --domain, --domain-file)")


def _domain_spec(name: str):
    from rmab.domains.baselines import DOMAIN_PLANNERS, make_domain_planner

    if name not in DOMAIN_PLANNERS:
        make_domain_planner(name)              # UnknownPlannerError with the closest names
    return DOMAIN_PLANNERS[name]


def _describe(name: str, domain: bool) -> int:
    from rmab.domains.baselines import DOMAIN_PLANNERS

    # a name only the domain table has (sampling, sequoia, ...) needs no --domain
    domain = domain or (name in DOMAIN_PLANNERS and name not in planner_names())
    if not domain and name not in planner_names():        # the closest names of both tables
        known = sorted(set(planner_names()) | set(DOMAIN_PLANNERS))
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UnknownPlannerError(f"planners.name: must be a planner ('rmab planners') or a "
                                  f"domain planner ('rmab planners --domain'); got "
                                  f"{name!r}{hint}")
    spec = _domain_spec(name) if domain else get_spec(name)
    cls = spec.load()
    print(f"{spec.name}{' (domain planner)' if domain else ''}: {spec.summary}")
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.name != "self" and p.kind is not p.VAR_KEYWORD]
    print("\nparameters (" + ("rmab compare --domain ... --planners 'NAME(KEY=VALUE, ...)', "
                               "make_domain_planner(name, KEY=VALUE)" if domain else
                               "rmab solve --param KEY=VALUE, make_planner(name, KEY=VALUE)")
          + "):")
    for p in params:
        print(f"  {p.name} = {p.default!r}" if p.default is not p.empty else f"  {p.name}")
    if not params:
        print("  (none)")
    print("\n" + inspect.cleandoc(cls.__doc__ or ""))
    return 0


def run(args) -> int:
    if args.name is not None:
        return _describe(args.name, args.domain)
    if args.domain:
        from rmab.domains.baselines import DOMAIN_PLANNERS

        width = max(len(n) for n in DOMAIN_PLANNERS)
        print(f"{'name':<{width}}  summary")
        for spec in DOMAIN_PLANNERS.values():
            needs = f" (needs {', '.join(spec.requires)})" if spec.requires else ""
            print(f"{spec.name:<{width}}  {spec.summary}{needs}")
        print("\n'rmab planners NAME --domain' lists a domain planner's parameters")
        return 0
    specs = available_planners()
    if args.available:
        specs = [s for s in specs if s.available]
    width = max((len(s.name) for s in specs), default=4)
    print(f"{'name':<{width}}  {'available':<22}  summary")
    for s in specs:
        missing = s.missing_extras()
        status = "yes" if not missing else "needs " + ",".join(missing)
        print(f"{s.name:<{width}}  {status:<22}  {s.summary}")
    print("\n'rmab planners NAME' lists a planner's parameters; 'rmab planners --domain' the "
          "coRMAB domain planners (rmab compare --domain)")
    return 0
