"""rmab's planners on the reference implementation's own instance and evaluation episodes.

coRMAB spec section 0: SEQUOIA "must reach at least [the reference's] reward on the same
instances". ``benchmarks/results/reference_*.npz`` hold instances that the reference
(lily-x/combinatorial-rmab, ``driver.py -s SEED -H 20 -J 20 -B 5 --rmab_type TYPE``) generated,
as arrays, with the 50 Bernoulli(0.2) start states of its evaluation (``eval_init_states``), the
horizon and a note on its conventions; they were exported from runs of the reference on
2026-12-02 (docs/history.md#benchmarks-combinatorial-planning, sessions 20 and 21, has those
runs' figures). The reference's reward is the expected reward of the next state summed over
arms, as here. The kind is read
from the file (a ``kind`` entry, else from the arrays present):

- capacity (``reference_capacity_J20_seed{0,1}.npz``, ``--rmab_type constrained``):
  ``up_prob`` (J, 2) passive/pulled, ``rewards`` (J, 4), ``costs``, ``capacities``;
  rebuilt with ``CapacityDomain.from_arrays``.
- scheduling (``reference_scheduling_J20_seed0.npz``, ``--rmab_type scheduling``):
  ``up_prob``, ``rewards``, ``arm_avail`` (J, slots), ``worker_avail`` (workers, slots),
  ``budget``; rebuilt with ``SchedulingDomain.from_arrays``.
- multiple interventions (``reference_interventions_J20_seed0.npz``, ``--rmab_type sigmoid
  -N 10``): ``omega`` (J, N) in {0, 3}, ``alpha``, ``slope``, ``x0`` (J,), ``rewards``,
  ``budget``; rebuilt with ``InterventionsDomain.from_arrays``.

This evaluates the planners from those starts (the transitions' uniforms come from ``--seed``),
printing the mean per-step expected reward ± its standard error over the episodes and
RANDOM = 1.

    .venv/bin/python benchmarks/bench_reference.py [--planners a,b,...] [--network NPZ]
        [--time-limit S] [--instance NPZ] [--seed N] [--save-domain NPZ] [--quick]

``--network``: a SEQUOIA network trained on that instance, e.g. ``rmab train --domain-file
D.npz --out run`` after ``--save-domain D.npz`` has written the instance as a domain file.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import warnings

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from rmab.domains import save_domain  # noqa: E402
from rmab.domains.base import Domain  # noqa: E402
from rmab.domains.capacity import CapacityDomain  # noqa: E402
from rmab.domains.evaluate import evaluate_domain  # noqa: E402
from rmab.domains.interventions import InterventionsDomain  # noqa: E402
from rmab.domains.scheduling import SchedulingDomain  # noqa: E402

INSTANCE = pathlib.Path(__file__).resolve().parent / "results" / \
    "reference_capacity_J20_seed0.npz"
PLANNERS = "no-action,random,sampling,myopic,iterative-myopic,whittle,lagrangian"
KINDS = ("capacity", "scheduling", "interventions")


def reference_kind(z) -> str:
    """The domain kind of a reference export: its ``kind`` entry, else the arrays present."""
    if "kind" in z.files:
        kind = str(z["kind"])
    elif "costs" in z.files and "capacities" in z.files:
        kind = "capacity"
    elif "arm_avail" in z.files and "worker_avail" in z.files:
        kind = "scheduling"
    elif "omega" in z.files:
        kind = "interventions"
    else:
        raise ValueError(f"not a reference export of a known kind {KINDS}: arrays "
                         f"{sorted(z.files)}")
    if kind not in KINDS:
        raise ValueError(f"reference export of kind {kind!r}; known kinds {KINDS}")
    return kind


def load_reference(path) -> tuple[Domain, np.ndarray, int]:
    """The reference's instance as a domain, its evaluation starts (E, J) and horizon."""
    with np.load(path, allow_pickle=False) as z:
        kind = reference_kind(z)
        if kind == "capacity":
            with warnings.catch_warnings():   # an arm may cost more than any worker can take
                warnings.simplefilter("ignore")
                domain = CapacityDomain.from_arrays(up_prob=z["up_prob"], rewards=z["rewards"],
                                                    costs=z["costs"],
                                                    capacities=z["capacities"])
        elif kind == "interventions":
            domain = InterventionsDomain.from_arrays(omega=z["omega"], alpha=z["alpha"],
                                                     slope=z["slope"], x0=z["x0"],
                                                     rewards=z["rewards"],
                                                     budget=int(z["budget"]))
        else:
            domain = SchedulingDomain.from_arrays(up_prob=z["up_prob"], rewards=z["rewards"],
                                                  arm_avail=z["arm_avail"],
                                                  worker_avail=z["worker_avail"],
                                                  budget=int(z["budget"]))
        return domain, z["eval_init_states"].astype(np.int64), int(z["horizon"])


def describe(domain: Domain) -> str:
    """One line on the instance's size."""
    if domain.kind == "scheduling":
        return (f"J = {domain.n_arms}, B = {domain.budget} arms, {domain.n_workers} workers, "
                f"{domain.n_slots} slots")
    if domain.kind == "interventions":
        return (f"J = {domain.n_arms}, B = {domain.budget} of {domain.n_interventions} "
                f"interventions")
    return f"J = {domain.n_arms}, B = {domain.budget} workers"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instance", default=str(INSTANCE), help="reference export (.npz)")
    p.add_argument("--planners", default=PLANNERS, help=f"domain planners (default {PLANNERS})")
    p.add_argument("--network", default=None, help="a SEQUOIA network (.npz) to add")
    p.add_argument("--time-limit", type=float, default=2.0,
                   help="SEQUOIA's seconds per solve (default 2)")
    p.add_argument("--seed", type=int, default=0, help="the transitions' uniforms (default 0)")
    p.add_argument("--save-domain", default=None, metavar="NPZ",
                   help="also write the instance as a domain file (for rmab train)")
    p.add_argument("--quick", action="store_true", help="the first 10 of the episodes")
    args = p.parse_args(argv)
    domain, starts, horizon = load_reference(args.instance)
    starts = starts[:10] if args.quick else starts
    if args.save_domain:
        save_domain(domain, args.save_domain)
    planners = [name for name in args.planners.split(",") if name]
    if args.network:
        from rmab.planners.sequoia import SequoiaPlanner

        planners.append(SequoiaPlanner(args.network, horizon=horizon, time_limit=args.time_limit))
    res = evaluate_domain(domain, planners, starts=starts, horizon=horizon, seed=args.seed)
    rewards = res.rewards[0]                                   # (planners, episodes)
    random = rewards[res.planners.index("random")].mean()
    print(f"reference {domain.kind} instance: {describe(domain)}, "
          f"{len(starts)} episodes from the reference's starts, H = {horizon}, seed {args.seed}")
    print(f"{'planner':18s} {'reward':>8s} {'± s.e.':>7s} {'/ random':>9s} {'ms/step':>8s}")
    for name, r, sec in zip(res.planners, rewards, res.seconds_per_step[0]):
        print(f"{name:18s} {r.mean():8.3f} {r.std(ddof=1) / np.sqrt(len(r)):7.3f} "
              f"{r.mean() / random:9.3f} {1e3 * sec:8.2f}")


if __name__ == "__main__":
    main()
