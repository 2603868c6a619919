"""SEQUOIA: action selection at J = 100, a training run at J = 20, evaluation vs the baselines.

Figures (all measured in this run; times are wall seconds and, in brackets, process CPU
seconds, because the machine may be shared):

1. Action selection with a [A+J+1, 32, 32, 1] network at J = 100 on the capacity domain
   (B = 20 workers; ``--domain`` another of the four, coRMAB spec section 1's sizes), HiGHS on
   one thread: network build (encode + passModel, once per
   network), in-place state update and solve per step, median over states. Reference measured
   in the same run: the exact myopic MIP (same constraint block, linear objective) per step,
   and a rebuild-from-scratch of the network MIP (what the reference implementation does at
   every solve) against the in-place update. Target: median <= 0.3 s per step.
   The network is warm-started (the fit SEQUOIA's training starts from) when
   torch is installed, else random (``--random``); ``--dqn-episodes N`` trains it with DQN at
   that J for N episodes first (the last network is timed).
   Solves that stop at their time limit (``--time-limit``, 10 s) report the network value of
   the best candidate before the ascent and of the action played after it.
2. Training at J = 20, B = 5 on the capacity domain: MIP solves (acting, targets), cache hits,
   hard target updates, time. Target: <= 15 min on 2 cores for the full run (100 episodes);
   ``--quick`` runs 3 episodes.
3. Normalised reward (RANDOM = 1) of SEQUOIA (the network trained in 2) against the baselines
   on the same instance with the paper's protocol (H = 20, Bernoulli(0.2) starts, common random
   numbers); 50 episodes (``--quick``: 3).

Run ``.venv/bin/python benchmarks/bench_sequoia.py [--quick] [--random] [--skip-train]
[--arms J] [--domain KIND] [--steps N] [--time-limit S] [--dqn-episodes N]
[--offset lagrangian|none]
[--formulation patterns|assignment]``.
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from rmab.domains import DOMAIN_KINDS, make_capacity, make_domain  # noqa: E402
from rmab.domains.baselines import MyopicMIPPlanner  # noqa: E402
from rmab.domains.evaluate import evaluate_domain  # noqa: E402
from rmab.errors import SolverLimitWarning  # noqa: E402
from rmab.planners.sequoia import MIPArgmax, SequoiaPlanner  # noqa: E402
from rmab.planners.sequoia.features import context_features, input_size  # noqa: E402
from solvers import get_backend  # noqa: E402
from solvers.nn import ReLUNetwork, encode_network  # noqa: E402


class Clock:
    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w
        self.cpu = time.process_time() - self.c


def fmt(wall, cpu) -> str:
    return f"{wall:8.4f} s ({cpu:.4f} cpu)"


def network_for(domain, hidden, warm: bool, seed: int, max_ones: int,
                stability: float, offset: str, episodes: int = 0,
                gain_table: str = "none", whittle: str = "discounted"
                ) -> tuple[ReLUNetwork, str]:
    if warm:
        try:
            import torch

            from rmab.planners.sequoia.qnet import QNetwork
            from rmab.planners.sequoia.train import (SequoiaConfig, to_relu_network,
                                                     train_sequoia, warm_start)
        except ImportError:
            warm = False
    if warm and episodes:
        # validate_every=0: the last network, so that it is the DQN-trained one being timed
        cfg = SequoiaConfig(episodes=episodes, hidden=hidden, stability=stability, offset=offset,
                            validate_every=0, gain_table=gain_table,
                            whittle=whittle if gain_table != "none" else "discounted")
        res = train_sequoia(domain, cfg, seed=seed, progress=False)
        return res.network, (f"DQN-trained ({episodes} episodes in {res.seconds:.0f} s, the last "
                             f"network; offset {offset}, stability weight {stability}, gain "
                             f"table {gain_table}"
                             f"{'' if gain_table == 'none' else f', {whittle}'})")
    if warm:
        torch.set_num_threads(1)
        from rmab.planners.sequoia.gains import table_args, whittle_gain_table

        periods = 20 if whittle == "finite" else None          # one table per time-to-go
        table = {} if gain_table == "none" else table_args(domain, periods or 0)
        prior = None if gain_table == "none" else whittle_gain_table(domain, 0.99, periods)
        q = QNetwork(input_size(domain.action_size, domain.n_arms), hidden,
                     generator=torch.Generator().manual_seed(seed), **table)
        cfg = SequoiaConfig(warm_start_samples=4000, warm_start_epochs=40, stability=stability,
                            offset=offset)
        fit = warm_start(q, domain, cfg, np.random.default_rng(seed), 1.0 / domain.n_arms,
                         max_ones, prior=prior)
        return to_relu_network(q), (f"warm-started ({cfg.warm_start} fit, offset {offset}, "
                                    f"stability weight {stability}, gain table {gain_table}"
                                    f"{'' if gain_table == 'none' else f' ({whittle})'}, "
                                    f"held-out MSE {fit.loss_after:.2e})")
    rng = np.random.default_rng(seed)
    sizes = [input_size(domain.action_size, domain.n_arms), *hidden, 1]
    weights = tuple(rng.normal(scale=1 / np.sqrt(i), size=(o, i)) for i, o in zip(sizes, sizes[1:]))
    return ReLUNetwork(weights, tuple(rng.normal(scale=0.1, size=o) for o in sizes[1:])), "random"


def bench_action_selection(n_arms: int, budget: int, steps: int, warm: bool, time_limit: float,
                           stability: float, offset: str, episodes: int = 0,
                           gain_table: str = "none", domain: str = "capacity",
                           whittle: str = "discounted"):
    d = make_domain(domain, n_arms, budget, seed=0)
    with Clock() as c_init:
        argmax = MIPArgmax(d, 20, mip_gap=1e-4, time_limit=time_limit, threads=1)
    net, kind = network_for(d, (32, 32), warm, 0, argmax.max_ones, stability, offset, episodes,
                            gain_table, whittle)
    print(f"\n1. Action selection: {domain} J = {n_arms}, B = {budget}, network "
          f"[{net.n_inputs}, 32, 32, 1] {kind}, HiGHS 1 thread, time limit {time_limit} s")
    with Clock() as c_build:
        argmax.set_network(net)
    climbs = []                         # (value before, after) of each time-limit ascent
    ascend = argmax._ascend

    def recorded(action, value, *args):
        out = ascend(action, value, *args)
        climbs.append((value, out[1]))
        return out

    argmax._ascend = recorded
    rng = np.random.default_rng(1)
    upd, sol, statuses, unstable = [], [], [], []
    for _ in range(steps):
        s = np.minimum(rng.binomial(3, 0.3, size=n_arms), 3)
        ttg = int(rng.integers(1, 21))
        with Clock() as c:
            res = argmax.solve(s, ttg)
        upd.append(argmax.update_seconds)
        sol.append(c.wall - argmax.update_seconds)
        statuses.append(res.status)
        b = argmax.encoded.bounds_for(context_features(s, ttg, 20, d.n_states))
        unstable.append(sum(int(((lo < 0) & (hi > 0)).sum()) for lo, hi in
                            zip(b.lower[:-1], b.upper[:-1])))
        assert d.is_feasible(res.action)
    enc = argmax.encoded
    # reference 1: rebuild from scratch per state (encode + passModel)
    rebuild = []
    for _ in range(min(steps, 5)):
        s = np.minimum(rng.binomial(3, 0.3, size=n_arms), 3)
        with Clock() as c:
            e = encode_network(getattr(net, "network", net), argmax.action_milp,
                               context_features(s, 10, 20, 4),
                               state_lower=np.zeros(n_arms + 1), state_upper=np.ones(n_arms + 1))
            get_backend("highs").build(e.milp)
        rebuild.append(c.wall)
    # reference 2: the exact myopic MIP on the same constraint block
    myopic = MyopicMIPPlanner().fit(d)
    my = []
    for _ in range(steps):
        s = np.minimum(rng.binomial(3, 0.3, size=n_arms), 3)
        myopic.plan(s)
        my.append(myopic.last_stats.seconds)
    med_upd, med_sol = statistics.median(upd), statistics.median(sol)
    print(f"   MILP: {enc.milp.n_cols} columns, {enc.milp.n_rows} rows; cardinality cut + "
          f"domain block built in {fmt(c_init.wall, c_init.cpu)}")
    print(f"   network build (encode + passModel, once per network): "
          f"{fmt(c_build.wall, c_build.cpu)}")
    print(f"   in-place state update, median      : {med_upd:8.4f} s")
    print(f"   rebuild from scratch, median       : {statistics.median(rebuild):8.4f} s "
          f"(update is {statistics.median(rebuild) / med_upd:.1f}x faster)")
    print(f"   solve, median over {steps} states   : {med_sol:8.4f} s (max {max(sol):.3f} s); "
          f"statuses {dict((k, statuses.count(k)) for k in set(statuses))}")
    print(f"   unstable neurons per state (of 64), median {statistics.median(unstable)}, "
          f"max {max(unstable)}")
    if climbs:
        before, after = np.array(climbs).T
        print(f"   ascent after the {len(climbs)} time-limited solves: network value median "
              f"{np.median(before):.4f} -> {np.median(after):.4f} (best candidate -> played; "
              f"gain {np.min(after - before):.4f} to {np.max(after - before):.4f})")
    print(f"   per step (update + solve), median  : {med_upd + med_sol:8.4f} s  (target <= 0.3 s)")
    print(f"   reference: exact myopic MIP per step: {statistics.median(my):8.4f} s "
          f"(SEQUOIA step / myopic = {(med_upd + med_sol) / statistics.median(my):.1f}x)")
    return med_upd + med_sol


def bench_training(episodes: int, out: Path, offset: str):
    from rmab.planners.sequoia.train import SequoiaConfig, train_sequoia

    d = make_capacity(20, 5, seed=0)
    cfg = SequoiaConfig(episodes=episodes, offset=offset)
    print(f"\n2. Training: capacity J = 20, B = 5, {episodes} episodes, hidden {cfg.hidden}, "
          f"time limits {cfg.time_limit} s (acting) / {cfg.target_time_limit} s (targets)")
    with Clock() as c:
        res = train_sequoia(d, cfg, seed=0, progress=True, checkpoint=out / "sequoia.pt")
    res.network.save(out / "sequoia.npz")
    lookups = res.n_target_solves + res.cache_hits
    print(f"   warm start held-out MSE {res.warm_start.loss_before:.4f} -> "
          f"{res.warm_start.loss_after:.4f}")
    print(f"   MIP solves {res.n_action_solves + res.n_target_solves} (acting "
          f"{res.n_action_solves}, targets {res.n_target_solves}); cache hits {res.cache_hits} "
          f"of {lookups} target lookups ({100 * res.cache_hits / max(lookups, 1):.0f} %); "
          f"hard target updates {res.n_target_updates}")
    print(f"   time {fmt(c.wall, c.cpu)}  ({c.wall / 60:.1f} min; target <= 15 min for 100 "
          f"episodes)")
    print(f"   training reward per episode: {np.round(res.episode_rewards, 3).tolist()}")
    return d, res.network


def bench_evaluation(domain, network, episodes: int, time_limit: float):
    print(f"\n3. Evaluation: capacity J = 20, B = 5, {episodes} episodes, H = 20, SEQUOIA "
          f"time limit {time_limit} s per step")
    planners = ["no-action", "random", "sampling", "myopic", "iterative-myopic",
                SequoiaPlanner(network, horizon=20, time_limit=time_limit)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SolverLimitWarning)
        res = evaluate_domain(domain, planners, episodes=episodes, horizon=20, seed=0)
    print("   " + res.table().replace("\n", "\n   "))
    n_limit = sum(issubclass(w.category, SolverLimitWarning) for w in caught)
    print(f"   SEQUOIA steps that hit the time limit: {n_limit} of {episodes * 20}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small figures (a few minutes)")
    p.add_argument("--random", action="store_true", help="random network in figure 1")
    p.add_argument("--skip-train", action="store_true", help="figure 1 only")
    p.add_argument("--arms", type=int, default=100, help="J for figure 1 (default 100)")
    p.add_argument("--domain", choices=DOMAIN_KINDS, default="capacity",
                   help="figure 1's domain (default capacity)")
    p.add_argument("--steps", type=int, default=None,
                   help="states in figure 1 (default 20, --quick 5)")
    p.add_argument("--time-limit", type=float, default=10.0,
                   help="figure 1's time limit per solve in seconds (default 10)")
    p.add_argument("--stability", type=float, default=1.0,
                   help="ReLU-stability weight of the warm start in figure 1 (0 = none)")
    p.add_argument("--dqn-episodes", type=int, default=0,
                   help="figure 1 with a network trained for this many DQN episodes at J "
                        "(default 0: the warm start)")
    p.add_argument("--offset", choices=("none", "lagrangian"), default=None,
                   help="SequoiaConfig.offset (default: SequoiaConfig's)")
    p.add_argument("--gain-table", choices=("none", "whittle"), default="none",
                   help="figure 1's network with the Whittle-started gain table")
    p.add_argument("--whittle", choices=("discounted", "finite"), default="discounted",
                   help="with --gain-table whittle: the discounted indices' table or one per "
                        "time-to-go (SequoiaConfig.whittle)")
    p.add_argument("--formulation", choices=("patterns", "assignment"), default="patterns",
                   help="capacity MILP block: pattern counts (default) or the per-pair "
                        "assignment x_ij (the former formulation, for comparison)")
    args = p.parse_args(argv)
    if args.formulation == "assignment":
        from rmab.domains import capacity

        capacity._MAX_PATTERNS = 0      # forces the assignment fallback
    steps = args.steps or (5 if args.quick else 20)
    if args.offset is None:
        from rmab.planners.sequoia.train import SequoiaConfig

        args.offset = SequoiaConfig.offset
    step = bench_action_selection(args.arms, args.arms // 5, steps, not args.random,
                                  args.time_limit,
                                  args.stability, args.offset, args.dqn_episodes, args.gain_table,
                                  args.domain, args.whittle)
    if args.stability > 0 and not args.random:
        print("\n   reference: the same warm start without the stability penalty (3 states)")
        ref = bench_action_selection(args.arms, args.arms // 5, 3, True, 10.0, 0.0, args.offset,
                                     domain=args.domain)
        print(f"\n   stability penalty: per-step time {ref / step:.0f}x shorter "
              f"({ref:.3f} s -> {step:.3f} s; the reference is capped by its 10 s limit)")
    if args.skip_train:
        return
    with tempfile.TemporaryDirectory() as tmp:
        domain, network = bench_training(3 if args.quick else 100, Path(tmp), args.offset)
        bench_evaluation(domain, network, 3 if args.quick else 50, time_limit=2.0)


if __name__ == "__main__":
    main()
