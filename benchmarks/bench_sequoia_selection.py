"""Is SEQUOIA's validation picking the right network, and how far are the policies from the bound?

For each domain and seed: generate the instance, train SEQUOIA with the defaults (training seed
= seed), then score *every* validated network (the warm start and one per ``validate_every``
episodes) on held-out episodes (``--episodes``, 50 by default) drawn from
``SeedSequence([seed, 7])`` -- never the quality benchmark's evaluation episodes
(``[seed, 1]``) -- next to the Whittle, Lagrangian and rollout baselines on the same
episodes (common random numbers; normalised so that RANDOM = 1). Also printed: the Lagrangian
upper bound on the optimal mean reward per period from the same starts (the budget relaxation,
:class:`~rmab.planners.sequoia.warm_targets.LagrangianBound` with no discount), normalised
the same way, to show how much room any policy has.

What it answers: if the network chosen on the validation episodes
(``SequoiaConfig.validation_episodes``, 20 by default) scores well below the best checkpoint on
the held-out episodes, selection is the weak link; if every checkpoint scores below the
baselines, training is.

Run ``.venv/bin/python benchmarks/bench_sequoia_selection.py [--domains capacity]
[--seeds 0 1 2 3 4] [--jobs 2] [--episodes 50] [--out out/sequoia_selection.csv]
[--validation-episodes K] [--quick]``.
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
from concurrent.futures import as_completed  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from rmab._processes import spawn_pool  # noqa: E402

BASELINES = ("whittle", "lagrangian", "rollout")
FIELDS = ("domain", "seed", "policy", "validation_reward", "chosen", "normalised", "reward")


def run_job(kind: str, seed: int, n_arms: int, budget: int, episodes: int,
            config: dict | None = None) -> list[dict]:
    """Rows of one instance; ``config``: :class:`SequoiaConfig` overrides (default: none)."""
    import torch

    from rmab.domains import make_domain
    from rmab.domains.baselines import make_domain_planner
    from rmab.domains.evaluate import evaluate_domain
    from rmab.planners.sequoia import SequoiaPlanner
    from rmab.planners.sequoia.train import SequoiaConfig, train_sequoia
    from rmab.planners.sequoia.warm_targets import LagrangianBound

    torch.set_num_threads(1)
    domain = make_domain(kind, n_arms, budget, seed=seed)
    res = train_sequoia(domain, SequoiaConfig(**(config or {})), seed=seed, progress=False)
    planners = []
    for name in ("random", *BASELINES):
        planner = make_domain_planner(name)
        planner.fit(domain, seed=0)
        planners.append(planner)
    for episode, network in zip(res.validated_at, res.validated_networks):
        planner = SequoiaPlanner(network, horizon=20, time_limit=2.0)
        planner.name = f"sequoia@{episode}"
        planners.append(planner)
    ev = evaluate_domain(domain, planners, episodes=episodes, horizon=20,
                         seed=np.random.SeedSequence([seed, 7]))
    bound = LagrangianBound(domain, 20, 1.0).state_values(ev.starts[0],
                                                          np.full(episodes, 20)) / 20
    rewards = ev.rewards[0].mean(axis=1)
    ref = rewards[ev.planners.index("random")]
    rows = [dict(domain=kind, seed=seed, policy="bound", validation_reward="", chosen="",
                 normalised=bound.mean() / ref, reward=bound.mean())]
    val = dict(zip((f"sequoia@{e}" for e in res.validated_at), res.validation_rewards))
    for name, r in zip(ev.planners, rewards):
        rows.append(dict(domain=kind, seed=seed, policy=name,
                         validation_reward=val.get(name, ""),
                         chosen=int(name == f"sequoia@{res.best_episode}") if name in val else "",
                         normalised=r / ref, reward=r))
    return rows


def summary(rows: list[dict]) -> str:
    by = {r["policy"]: float(r["normalised"]) for r in rows}
    nets = {p: v for p, v in by.items() if p.startswith("sequoia@")}
    chosen = next(r["policy"] for r in rows if r["chosen"] == 1)
    best = max(nets, key=nets.get)
    return (f"{rows[0]['domain']} seed {rows[0]['seed']}: chosen {chosen} {by[chosen]:.4f}, "
            f"best checkpoint {best} {nets[best]:.4f}, checkpoints {min(nets.values()):.4f}-"
            f"{max(nets.values()):.4f}; whittle {by['whittle']:.4f}, lagrangian "
            f"{by['lagrangian']:.4f}, rollout {by['rollout']:.4f}; bound {by['bound']:.4f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", nargs="+", default=["capacity"],
                    choices=("interventions", "capacity", "scheduling", "path"))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--arms", type=int, default=20)
    ap.add_argument("--budget", type=int, default=5)
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None,
                    help="CSV appended to (default out/sequoia_selection.csv; with --quick "
                         "out/sequoia_selection_quick.csv, apart from full runs' rows)")
    ap.add_argument("--validation-episodes", type=int, default=None,
                    help="SequoiaConfig.validation_episodes (default: its default)")
    ap.add_argument("--discount", type=float, default=None,
                    help="SequoiaConfig.discount (default: its default)")
    ap.add_argument("--control-variate", choices=("lagrangian", "none"), default=None,
                    help="SequoiaConfig.control_variate (default: its default)")
    ap.add_argument("--quick", action="store_true",
                    help="J = 10, B = 3, seed 0, 20 training and 10 held-out episodes")
    args = ap.parse_args(argv)
    if args.out is None:
        args.out = Path(f"out/sequoia_selection{'_quick' if args.quick else ''}.csv")
    config = {}
    if args.quick:
        args.arms, args.budget, args.seeds, args.episodes = 10, 3, [0], 10
        config = dict(episodes=20)
    if args.validation_episodes is not None:
        config["validation_episodes"] = args.validation_episodes
    if args.discount is not None:
        config["discount"] = args.discount
    if args.control_variate is not None:
        config["control_variate"] = args.control_variate
    args.out.parent.mkdir(parents=True, exist_ok=True)
    new = not args.out.exists()
    jobs = [(k, s) for s in args.seeds for k in args.domains]
    with spawn_pool(args.jobs) as pool, \
            open(args.out, "a", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS)
        if new:
            writer.writeheader()
        futures = [pool.submit(run_job, k, s, args.arms, args.budget, args.episodes, config)
                   for k, s in jobs]
        for fut in as_completed(futures):
            rows = fut.result()
            writer.writerows(rows)
            fh.flush()
            print(summary(rows), flush=True)


if __name__ == "__main__":
    main()
