"""``rmab bound``: the Lagrangian upper bound of an instance, or of a ``.POMDP`` file's one arm
under a per-period budget (estimate, certificate, λ*)."""

from __future__ import annotations

import sys

import numpy as np

from rmab._reporting import count_noun, plot_format
from rmab._validation import check_number
from rmab.commands import integer_arg, number_arg, read_instance, seed_arg
from rmab.errors import InvalidParameterError
from rmab.models.storage import check_writable
from rmab.relax.lagrangian import (_price_ceiling, budget_weight, dual_curve,
                                   lagrangian_bound, plot_dual)


METHODS = ("auto", "bisection", "golden", "cutting-plane", "lp")


def add_arguments(parser) -> None:
    parser.add_argument("instance", metavar="INSTANCE",
                        help="instance file (.npz written by 'rmab generate' / save_instance), "
                             "or a .POMDP file: its one arm at the file's discount (costs from "
                             "an '# rmab-costs:' line; give --budget)")
    parser.add_argument("--budget", type=number_arg, default=None,
                        help="per-period budget in place of the instance's (required for a "
                             ".POMDP file)")
    parser.add_argument("--method", choices=METHODS, default="auto",
                        help="multiplier search (default auto: bisection for fully observed "
                             "arms, cutting-plane for POMDP arms; lp: Hawkins' LP, exact)")
    parser.add_argument("--value-tol", type=number_arg, default=None,
                        help="per-arm value tolerance (default 1e-9 exact, 1e-3 PBVI)")
    parser.add_argument("--price-tol", type=number_arg, default=1e-4,
                        help="relative tolerance on λ* (default 1e-4, coarser than "
                             "lagrangian_bound's 1e-6: on 1 000 POMDP arms about 6 s of CPU "
                             "instead of 8 s, the bounds within 4e-5 of each other)")
    parser.add_argument("--no-certificate", action="store_true",
                        help="skip the certified upper bound (POMDP: the fast informed bound)")
    parser.add_argument("--sawtooth-sweeps", type=integer_arg, default=0, metavar="N",
                        help="POMDP arms, discounted: cap the certificate by the sawtooth "
                             "over the PBVI points after up to N sweeps of backups (tighter, "
                             "under a second at 100 arms; default 0: the fast informed bound "
                             "alone; a finite horizon always runs its backward sawtooth)")
    parser.add_argument("--price-limits", action="store_true",
                        help="also price the instance's count limits (a multiplier per cap and "
                             "for the active-arm range; tighter where they bind: one LP on "
                             "fully observed arms, a cutting plane over PBVI plans on POMDP "
                             "arms, 1.4-6x the relaxed bound's time)")
    parser.add_argument("--seed", type=seed_arg, default=None,
                        help="POMDP arms: PBVI seed (default 0)")
    parser.add_argument("--plot", metavar="IMAGE", default=None,
                        help="also plot L(λ) on a grid around λ*, .png, .pdf or .svg (needs "
                             "rmab[plot])")
    parser.add_argument("--plot-points", type=integer_arg, default=25,
                        help="prices on the plot's grid (default 25)")


def _check_applies(args, instance) -> None:
    """Refuse flags this instance would ignore (they were accepted silently, as ``rmab
    index`` does not: a CLI review)."""
    pomdp = {"seed": args.seed is not None, "sawtooth_sweeps": args.sawtooth_sweeps != 0}
    for flag, given in pomdp.items():
        if given and instance.fully_observed:
            raise InvalidParameterError(f"bound.{flag}: only for POMDP arms (PBVI); the fully "
                                        f"observed arms' values are exact; got --"
                                        f"{flag.replace('_', '-')} {getattr(args, flag)}")
    if args.sawtooth_sweeps and instance.horizon is not None:
        raise InvalidParameterError(f"bound.sawtooth_sweeps: for a discounted horizon (a "
                                    f"finite horizon's certificate always runs its backward "
                                    f"sawtooth, one backup per period); got --sawtooth-sweeps "
                                    f"{args.sawtooth_sweeps} with horizon {instance.horizon}")
    if args.sawtooth_sweeps and args.no_certificate:
        raise InvalidParameterError(f"bound.sawtooth_sweeps: caps the certificate; got "
                                    f"--sawtooth-sweeps {args.sawtooth_sweeps} with "
                                    f"--no-certificate (drop one)")
    if args.price_limits and not instance.count_limited:
        raise InvalidParameterError("bound.price_limits: the instance has no count limits to "
                                    "price (action caps, min_active, max_active); got "
                                    "--price-limits")
    if args.seed is None:
        args.seed = 0


def run(args) -> int:
    if args.plot_points < 2:
        raise InvalidParameterError(f"bound.plot_points: must be >= 2; got {args.plot_points}")
    if args.budget is not None:
        check_number("bound", "budget", args.budget, low=0.0)
    elif str(args.instance).lower().endswith(".pomdp"):
        raise InvalidParameterError(f"bound.budget: a .POMDP file has no budget; give "
                                    f"--budget B for {args.instance}")
    instance = read_instance("bound", args.instance, args.budget)
    _check_applies(args, instance)
    if args.plot is not None:
        if args.price_limits:
            raise InvalidParameterError("bound.plot: draws L(λ) with the count limits relaxed; "
                                        "got --plot with --price-limits (drop one)")
        plot_format("bound.plot", args.plot)
        # before the work, not after it
        check_writable(args.plot, [args.instance], owner="bound.plot")
    res = lagrangian_bound(instance, method=args.method, value_tol=args.value_tol,
                           price_tol=args.price_tol, certificate=not args.no_certificate,
                           sawtooth_sweeps=args.sawtooth_sweeps,
                           price_limits=args.price_limits, seed=args.seed)
    cert = ("none" if res.certified_upper_bound is None
            else f"{res.certified_upper_bound:.6f}")
    kind = "exact arm values" if res.exact else "PBVI lower values: an estimate"
    print(f"instance:              {instance.name} ({count_noun(instance.n_arms, 'arm')}, budget "
          f"{instance.budget:g})")
    if res.limit_charges is not None:
        charges = ", ".join(f"{c:.6g}" for c in res.limit_charges[1:])
        print(f"count limits:          priced (per-period charge of actions 1..: {charges})")
    elif instance.count_limited:
        print("count limits:          relaxed (the bound prices the budget only; it is still "
              "an upper bound; --price-limits prices them)")
    print(f"estimate:              {res.estimate:.6f}  ({kind})")
    print(f"certified upper bound: {cert}")
    print(f"price λ*:              {res.price:.6g}  ({res.method}, "
          f"{count_noun(res.iterations, 'price')}, "
          f"tolerance {args.price_tol:g})")
    print(f"time:                  {res.seconds:.3f} s  (certificate "
          f"{res.certificate_seconds:.3f} s)")
    if args.plot is not None:
        # twice λ*, or where λ* = 0 an 80th of the price beyond which no arm acts (0.5 on the
        # health family): in the problem's units (a fixed 0.5 hid λ* = 5e-7)
        top = 2.0 * res.price or _price_ceiling(instance, budget_weight(instance)) / 80 or 1.0
        curve = dual_curve(instance, np.linspace(0.0, top, args.plot_points),
                           value_tol=args.value_tol, certificate=not args.no_certificate,
                           seed=args.seed)
        plot_dual(curve, args.plot, result=res)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
