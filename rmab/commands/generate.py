"""``rmab generate``: write a seeded instance (``save_instance``) or coRMAB domain
(``save_domain``, read by ``rmab train`` and ``rmab compare --domain-file``) to an ``.npz``
file."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np

from rmab._reporting import count_noun
from rmab.commands import (DEFAULT_BUDGET, check_suffix, domain_budget, integer_arg,
                           named_by_flags, number_arg, option, seed_arg)
from rmab._validation import check_number, decimal_float
from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.models import generators, save_instance
from rmab.models.storage import check_writable
from rmab.models.instance import Instance

if TYPE_CHECKING:                   # rmab.domains is imported where a domain is generated
    from rmab.domains import Domain

INSTANCES = ("health", "random", "collapsing")
DOMAINS = ("capacity", "interventions", "scheduling", "path")
KINDS = INSTANCES + DOMAINS
# flags of some kinds only: refused with another (they would be ignored silently); their
# defaults are applied where the kind is built, so that None is "not given"
ONLY = {"states": INSTANCES, "actions": ("random",), "obs": ("random",),
        "clusters": ("health",), "noise": ("health",), "budget_fraction": INSTANCES,
        "discount": INSTANCES, "horizon": INSTANCES, "action_caps": INSTANCES,
        "min_active": INSTANCES, "max_active": INSTANCES, "budget": DOMAINS,
        "interventions": ("interventions",), "edges": ("path",), "graph": ("path",),
        "source": ("path",), "route_length": ("path",)}


def add_arguments(parser) -> None:
    parser.add_argument("kind", choices=KINDS, metavar="KIND",
                        help="an instance family (" + ", ".join(INSTANCES) + ") or a coRMAB "
                             "domain (" + ", ".join(DOMAINS) + "; docs/domains.md)")
    parser.add_argument("--arms", type=integer_arg, default=None,
                        help="number of arms (default 100; 20 for a domain; with --graph: the "
                             "nodes, by default 1 + the largest index in the CSV)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    parser.add_argument("--out", "-o", required=True, help="output .npz path")
    inst = parser.add_argument_group("instances (" + ", ".join(INSTANCES) + ")")
    inst.add_argument("--states", type=integer_arg, default=None, help="states per arm (default 2)")
    inst.add_argument("--actions", type=integer_arg, default=None,
                      help="actions per arm, only for 'random' (default 2; health has 3)")
    inst.add_argument("--obs", type=integer_arg, default=None,
                      help="signals per arm, only for 'random' (0 = fully observed; default 2)")
    inst.add_argument("--clusters", type=integer_arg, default=None,
                      help="risk groups, only for 'health' (default 3)")
    inst.add_argument("--noise", type=number_arg, default=None,
                      help="half-width of the per-arm perturbation of every probability, in "
                           "[0, 0.2], only for 'health' (default 0.05)")
    inst.add_argument("--budget-fraction", type=number_arg, default=None,
                      help="budget as a fraction of the number of arms, rounded half up, at "
                           "least 1 when positive (default 0.1; 0.2 for 'random', as "
                           "random_instance)")
    inst.add_argument("--discount", type=number_arg, default=None, help="discount (default 0.95)")
    inst.add_argument("--horizon", type=integer_arg, default=None, help="finite horizon (optional)")
    inst.add_argument("--action-caps", metavar="CAPS", default=None,
                      help="most arms per action, ';'-separated, inf = no cap, e.g. "
                           "'inf;inf;3' (docs/instances.md, count limits)")
    inst.add_argument("--min-active", type=integer_arg, default=None,
                      help="fewest arms with an active action per period")
    inst.add_argument("--max-active", type=integer_arg, default=None,
                      help="most arms with an active action per period (min = max: exactly)")
    dom = parser.add_argument_group("coRMAB domains (" + ", ".join(DOMAINS) + "; as "
                                    "'rmab train --domain')")
    dom.add_argument("--budget", type=integer_arg, default=None, help="budget B (default 5)")
    dom.add_argument("--interventions", type=integer_arg, default=None,
                     help="interventions, only for 'interventions' (default max(10, 2B), at "
                          "most 3 floor(J/3))")
    dom.add_argument("--edges", type=integer_arg, default=None,
                     help="edges of the generated graph, only for 'path' (default: the "
                          "paper's, 29 at J = 20)")
    dom.add_argument("--graph", metavar="CSV", default=None,
                     help="only for 'path': the graph of this edge-list CSV (header u,v) "
                          "instead of a generated one, with the paper's random arms")
    dom.add_argument("--source", type=integer_arg, default=None,
                     help="with --graph: the node routes start from (default 0)")
    dom.add_argument("--route-length", type=integer_arg, default=None,
                     help="with --graph: moves per route (default 2B)")


def _check_flags(args) -> None:
    for flag, kinds in ONLY.items():
        value = getattr(args, flag)
        if value is not None and args.kind not in kinds:
            why = f" ({args.kind} arms fix it)" if flag in ("actions", "obs") else ""
            instead = ("; an instance takes --budget-fraction (calls per period / arms)"
                       if flag == "budget" and args.kind in INSTANCES else "")
            which = {INSTANCES: "the instance kinds", DOMAINS: "the domains"}.get(kinds)
            which = f"{which} ({', '.join(kinds)})" if which else ", ".join(map(repr, kinds))
            raise InvalidParameterError(f"generate.{flag}: only for {which}{why}; got "
                                        f"{option(flag)} {value}{instead}")


def build(args) -> Instance | Domain:
    check_suffix("generate.out", args.out, ".npz")
    _check_flags(args)
    if args.kind in DOMAINS:
        return _domain(args)
    # the generators' and Instance's errors named by the flags typed ('Instance.max_active'
    # named none, beside --max-active: a CLI review)
    with named_by_flags("generate", _MAKERS, _FIELDS, ("min_active", "max_active", "n_arms",
                                                       "action_caps")):
        return _instance(args)


_MAKERS = ("Instance", "health_intervention", "random_instance", "random_pomdp_arms",
           "random_mdp_arms", "collapsing_arms")
_FIELDS = {"n_arms": "arms", "n_states": "states", "n_actions": "actions", "n_obs": "obs",
           "n_clusters": "clusters", "noise": "noise", "budget_fraction": "budget_fraction",
           "discount": "discount", "horizon": "horizon", "action_caps": "action_caps",
           "min_active": "min_active", "max_active": "max_active"}    # field -> dest


def _instance(args) -> Instance:
    """The instance of ``args.kind`` with the count limits given."""
    n_arms = check_number("generate", "arms", 100 if args.arms is None else args.arms, low=1,
                          integer=True)
    states = 2 if args.states is None else args.states
    discount = 0.95 if args.discount is None else args.discount
    if discount == 1 and args.horizon is None:      # Instance.horizon named no flag
        raise InvalidParameterError("generate.horizon: --discount 1 (the plain total) needs a "
                                    "finite horizon: pass --horizon H")
    default = 0.2 if args.kind == "random" else 0.1       # the Python generators' defaults
    fraction = check_number("generate", "budget_fraction",
                            default if args.budget_fraction is None else args.budget_fraction,
                            low=0.0)
    actions = 2 if args.actions is None else args.actions
    obs = 2 if args.obs is None else args.obs
    if obs < 0:
        raise InvalidParameterError(f"generate.obs: must be >= 0 (0: fully observed); got "
                                    f"{obs}")
    budget = generators.budget_from_fraction(fraction, n_arms)
    if args.kind == "health" and fraction > 2:     # said in the flag's terms, not Python's
        raise InvalidParameterError(f"generate.budget_fraction: must be <= 2 (a share of the "
                                    f"arms: 2 visits them all); got {fraction:g}, a budget of "
                                    f"{fraction:g} calls? --budget-fraction "
                                    f"{fraction / n_arms:g} ({fraction:g} of {n_arms} arms)")
    if args.kind == "health":
        given = {name: value for name, value in (("n_clusters", args.clusters),
                                                 ("noise", args.noise)) if value is not None}
        made = generators.health_intervention(
            n_arms, n_states=states, budget_fraction=fraction, discount=discount,
            horizon=args.horizon, seed=args.seed, **given)
    elif args.kind == "random":
        made = generators.random_instance(
            n_arms, states, actions, obs if obs > 0 else None,
            budget=budget, discount=discount, horizon=args.horizon, seed=args.seed)
    else:
        arms = generators.collapsing_arms(n_arms, states, seed=args.seed)
        made = Instance(arms, budget, discount=discount, horizon=args.horizon,
                        name=f"collapsing-{n_arms}",
                        metadata={"generator": "collapsing_arms",
                                  "params": {"n_arms": n_arms, "n_states": states},
                                  "seed": args.seed})
    limits = _limits(args)
    caps = limits.get("action_caps")
    if caps is not None and len(caps) != made.n_actions:   # 'shape (n_actions=3)' named no flag
        names = made.metadata.get("actions")
        names = f": {', '.join(names)}" if names else ""
        raise InvalidParameterError(f"generate.action_caps: must give {made.n_actions} caps, one "
                                    f"per action{names} (inf = no cap); got {len(caps)}: "
                                    f"{args.action_caps!r}")
    try:
        return made.replace(**limits) if limits else made
    except InvalidModelError as exc:       # named_by_flags then names it generate.min_active
        if not str(exc).startswith("Instance.min_active: the cheapest"):
            raise
        raise InvalidModelError(f"{exc}: raise --budget-fraction (now {fraction:g}, a "
                                    f"budget of {made.budget:g}) or lower --min-active") from None


def _limits(args) -> dict:
    """The count limits given on the command line."""
    limits = {name: getattr(args, name) for name in ("min_active", "max_active")
              if getattr(args, name) is not None}
    if args.action_caps is not None:
        try:
            limits["action_caps"] = [decimal_float(x.strip())
                                     for x in args.action_caps.split(";")]
        except ValueError:
            raise InvalidParameterError(f"generate.action_caps: must be numbers separated by "
                                        f"';' (inf = no cap); got {args.action_caps!r}") from None
    return limits


def _domain(args) -> Domain:
    """The generator of 'rmab train --domain' (make_domain), or path_from_csv with --graph."""
    from rmab.domains import make_domain

    if args.graph is not None:
        if args.edges is not None:
            raise InvalidParameterError(f"generate.edges: not with --graph (the CSV fixes the "
                                        f"edges); got --edges {args.edges}")
        return _graph_domain(args)
    budget = domain_budget("generate", args)
    for flag in ("source", "route_length"):
        if getattr(args, flag) is not None:
            raise InvalidParameterError(f"generate.{flag}: only with --graph (a generated graph "
                                        f"starts routes at node 0, a centre, of 2B moves); got "
                                        f"{option(flag)} {getattr(args, flag)}")
    params = {name: value for name, value in (("n_interventions", args.interventions),
                                              ("n_edges", args.edges)) if value is not None}
    return make_domain(args.kind, 20 if args.arms is None else args.arms, budget,
                       seed=args.seed, **params)


def _graph_domain(args) -> Domain:
    """path_from_csv on --graph. Without --budget, the default 5 is checked against the graph's
    node count only after the user's own flags (--source, --route-length), and named as the
    default: 'path_from_csv.budget: must be <= 4; got 5' named a budget the user never typed,
    and hid a wrong --source (a walkthrough)."""
    import warnings

    from rmab.domains import path_from_csv, read_edge_list
    from rmab.errors import RmabWarning

    if args.budget is not None:
        budget, refused = domain_budget("generate", args), False
    else:
        if args.arms is not None:
            check_number("generate", "arms", args.arms, low=1, integer=True)
        n = read_edge_list(args.graph, args.arms)[1]      # errors name the file and line
        budget, refused = min(DEFAULT_BUDGET, n), n < DEFAULT_BUDGET
    with warnings.catch_warnings():
        if refused:                                       # no warnings before the error
            warnings.simplefilter("ignore", RmabWarning)
        # nodes out of the route's reach: the summary line counts them (said twice otherwise);
        # nodes not connected to the source still warn, a data error more often than not
        warnings.filterwarnings("ignore", r".* can never be pulled", RmabWarning)
        made = path_from_csv(args.graph, budget, source=0 if args.source is None else
                             args.source, route_length=args.route_length, n_nodes=args.arms,
                             seed=args.seed)
    if refused:
        nodes = f"--arms {args.arms}" if args.arms is not None else args.graph
        raise InvalidParameterError(f"generate.budget: the default budget {DEFAULT_BUDGET} "
                                    f"exceeds the graph's {made.n_arms} nodes ({nodes}); pass "
                                    f"--budget B with B <= {made.n_arms}")
    return made


def _details(domain: Domain, graph: bool = False) -> str:
    """The summary's domain details; with ``graph`` (``--graph``, where ``--route-length`` is
    the user's) the route length that reaches every connected node out of reach, as the
    warning it stands for says."""
    if domain.kind == "interventions":
        return f", {count_noun(domain.n_interventions, 'intervention')}"
    if domain.kind == "capacity":
        never = domain.unservable.size
        return f", {count_noun(domain.n_workers, 'worker')}" + (
            f" ({never} arm{'s' * (never > 1)} costing more than any can serve)" if never else "")
    if domain.kind == "scheduling":
        never = domain.unpullable.size
        return (f", {count_noun(domain.n_workers, 'worker')}, "
                f"{count_noun(domain.n_slots, 'slot')}" + (
                    f" ({never} arm{'s' * (never > 1)} sharing fewer than two (worker, slot) "
                    f"pairs with them, never pulled)" if never else ""))
    far = domain.unreachable.size
    dist = domain.distances[domain.source][domain.unreachable]
    dist = dist[np.isfinite(dist)]                 # not connected: warned of apart
    reach = "" if not (graph and dist.size) else (
        f"; --route-length {int(2 * dist.max())} reaches "
        + ("them all" if dist.size == far else f"the {dist.size} connected to the source"))
    return (f", {count_noun(len(domain.edges), 'edge')}, source {domain.source}, route length "
            f"{domain.route_length}" + (f" ({far} node{'s' * (far > 1)} out of its reach"
                                        f"{reach})" if far else ""))


def run(args) -> int:
    if args.graph is not None:
        # before the work, not after it
        check_writable(args.out, [args.graph], owner="generate.out")
    made = build(args)
    if args.kind in DOMAINS:
        from rmab.domains import save_domain

        path = save_domain(made, args.out)
        print(f"wrote {path}: {made.kind} domain, {count_noun(made.n_arms, 'arm')}, budget "
              f"{made.budget}{_details(made, graph=args.graph is not None)}",
              file=sys.stderr)
        return 0
    path = save_instance(made, args.out)
    print(f"wrote {path}: {count_noun(made.n_arms, 'arm')}, {count_noun(made.n_states, 'state')}, "
          f"{count_noun(made.n_actions, 'action')}, "
          + ("fully observed" if made.arms.fully_observed else count_noun(made.n_obs, "signal"))
          + f", budget {made.budget:g}", file=sys.stderr)
    return 0
