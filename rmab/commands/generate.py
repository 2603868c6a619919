"""``rmab generate``: write a seeded instance to an ``.npz`` file."""

from __future__ import annotations

import sys

from rmab.commands import seed_arg
from rmab._validation import check_number
from rmab.errors import InvalidParameterError
from rmab.models import generators, save_instance
from rmab.models.instance import Instance


KINDS = ("health", "random", "collapsing")
# flags of some kinds only: refused with another (they would be ignored silently)
ONLY = {"actions": ("random",), "obs": ("random",), "clusters": ("health",),
        "noise": ("health",)}


def add_arguments(parser) -> None:
    parser.add_argument("kind", choices=KINDS, help="instance family")
    parser.add_argument("--arms", type=int, default=100, help="number of arms (default 100)")
    parser.add_argument("--states", type=int, default=2, help="states per arm (default 2)")
    parser.add_argument("--actions", type=int, default=None,
                        help="actions per arm, only for 'random' (default 2; health has 3)")
    parser.add_argument("--obs", type=int, default=None,
                        help="signals per arm, only for 'random' (0 = fully observed; default 2)")
    parser.add_argument("--clusters", type=int, default=None,
                        help="risk groups, only for 'health' (default 3)")
    parser.add_argument("--noise", type=float, default=None,
                        help="half-width of the per-arm perturbation of every probability, in "
                             "[0, 0.2], only for 'health' (default 0.05)")
    parser.add_argument("--budget-fraction", type=float, default=0.1,
                        help="budget as a fraction of the number of arms, rounded half up, at "
                             "least 1 when positive (default 0.1)")
    parser.add_argument("--discount", type=float, default=0.95, help="discount (default 0.95)")
    parser.add_argument("--horizon", type=int, default=None, help="finite horizon (optional)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    parser.add_argument("--out", "-o", required=True, help="output .npz path")


def _check_flags(args) -> None:
    for flag, kinds in ONLY.items():
        value = getattr(args, flag)
        if value is not None and args.kind not in kinds:
            why = f" ({args.kind} arms fix it)" if flag in ("actions", "obs") else ""
            option = "--" + flag.replace("_", "-")
            raise InvalidParameterError(f"generate.{flag}: only for "
                                        f"{', '.join(map(repr, kinds))}{why}; got {option} "
                                        f"{value}")


def build(args) -> Instance:
    if not str(args.out).lower().endswith(".npz"):     # '-o README.md' replaced the README
        raise InvalidParameterError(f"generate.out: must be a path ending in .npz; got "
                                    f"{args.out!r}")
    fraction = check_number("generate", "budget_fraction", args.budget_fraction, low=0.0)
    _check_flags(args)
    actions = 2 if args.actions is None else args.actions
    obs = 2 if args.obs is None else args.obs
    if obs < 0:
        raise InvalidParameterError(f"generate.obs: must be >= 0 (0: fully observed); got "
                                    f"{obs}")
    budget = generators.budget_from_fraction(fraction, args.arms)
    if args.kind == "health":
        given = {name: value for name, value in (("n_clusters", args.clusters),
                                                 ("noise", args.noise)) if value is not None}
        return generators.health_intervention(
            args.arms, n_states=args.states, budget_fraction=args.budget_fraction,
            discount=args.discount, horizon=args.horizon, seed=args.seed, **given)
    if args.kind == "random":
        return generators.random_instance(
            args.arms, args.states, actions, obs if obs > 0 else None,
            budget=budget, discount=args.discount, horizon=args.horizon, seed=args.seed)
    arms = generators.collapsing_arms(args.arms, args.states, seed=args.seed)
    return Instance(arms, budget, discount=args.discount, horizon=args.horizon,
                    name=f"collapsing-{args.arms}",
                    metadata={"generator": "collapsing_arms", "seed": args.seed})


def run(args) -> int:
    inst = build(args)
    path = save_instance(inst, args.out)
    print(f"wrote {path}: {inst.n_arms} arms, {inst.n_states} states, {inst.n_actions} actions, "
          f"{inst.n_obs} signals, budget {inst.budget:g}", file=sys.stderr)
    return 0
