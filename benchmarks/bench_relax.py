"""Speed and quality of the relaxations (``rmab.relax``): Whittle indices, Lagrangian bound,
index and Lagrangian policies.

Figures (all measured in this run):

1. Whittle indices of 10 000 fully observed binary 10-state arms (``random_mdp_arms``,
   discount 0.95): the Numba price homotopy vs ``markovianbandit-pkg`` (the reference, timed
   on a subset of arms and scaled per arm) and vs the numpy twin; target >= 10x faster than
   the package, identical indices (max abs difference printed).
2. Lagrangian bound (estimate and FIB certificate) of 1 000 heterogeneous POMDP arms
   (``health_intervention(1000, n_states=2)`` and ``3``; 3 actions, 2 signals): wall time;
   target <= 60 s. The cutting-plane multiplier search is compared with plain bisection on
   200 arms (PBVI solves and time).
3. Health example, N = 100, budget 10 %: the certified bound and the simulated discounted
   return (common random numbers) of myopic, whittle, whittle-multi, lagrangian and rollout
   (if present); target: the best policy within 5 % of the certified bound.
4. Opt-in (``--figures 4``), the spec's sizes (PORMAB.md section 2): ``health_intervention(N)``
   at budget 10 % for each N of ``--grid-sizes`` (default 100, 1 000, 10 000): the time of
   ``lagrangian_bound`` and, for the planners whittle, lagrangian and myopic, of
   ``fit(instance, seed=0)`` and the median ``plan`` over the first 20 periods of one
   simulated episode (5 with ``--quick``; process CPU time, wall time beside it; one run,
   after a warm-up at N = 10). No reference: the planners are set against each other.
5. The Lagrangian planner's step on POMDP arms at N = 100, 1 000, 10 000 health arms (2 and
   3 states, budget 10 %): the stacked lookahead Q (``stack_q_kernel``) and a whole ``plan``
   against the same with the Q of the kernel's batched numpy twin (``stack_q_numpy``, the
   implementation before session 40), alternating, identical actions.
6. Belief-state Whittle indices (``belief_whittle_indices``, default settings) of 100 health
   arms (2 and 3 states): the fit with the lookahead's best level from
   ``best_level_kernel`` against the same fit with its numpy twin
   (``_LookaheadModel.best_level_numpy``, the implementation before session 41), CPU
   medians, alternating, the indices compared to the bit.
7. Count limits priced on POMDP arms (``lagrangian_bound(..., price_limits=True,
   certificate=False)``) on health arms with at most N/20 visits and exactly N/10 arms acting
   (N = 20 and 100; 20 with ``--quick``): the cutting plane over pooled plans
   (``rmab.relax.limit_prices``) against the coordinate-wise golden sections it replaced in
   session 43 (re-implemented here, each step a full price search), CPU time of one run
   each after a warm-up on 10 arms, and the estimates at the multipliers found.

Run ``.venv/bin/python benchmarks/bench_relax.py [--quick] [--figures 1,2,3]
[--states 10] [--grid-sizes 100,1000,10000]``; the defaults (figures 1-3 and 5-7, 10-state
arms) are the figures above. ``--states 10,100`` repeats figure 1 on 100-state arms, with a tenth as
many arms (1 000, 30 timed with the package); the arm counts scale as 10 / states. Numba and
the BLAS pools are pinned to one thread before they are imported. Figure 1 uses the thread's
CPU time (``time.thread_time``, medians of repeats, after a warm-up call, which also keeps the
package's one-off Numba compilation, about 0.6 s, out of its per-arm time), so it is honest on
a shared machine; figure 2's cutting plane against bisection does too (with the ratio), its
bound and figure 3 are wall-clock times of one run on that shared machine.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from rmab.errors import IndexabilityWarning
from rmab.models import health_intervention, random_mdp_arms
from rmab.planners import make_planner, planner_names
from rmab.planners.index import WhittleMultiPlanner, WhittlePlanner
from rmab.planners.lagrangian import LagrangianPlanner
from rmab.relax import _whittle_kernels
from rmab.relax.lagrangian import (_LIMIT_ROUNDS, _golden, _limit_rows, budget_weight,
                                   lagrangian_bound)
from rmab.relax.whittle import (_LookaheadModel, _price_bracket, belief_whittle_indices,
                                 whittle_indices)
from rmab.sim import Environment, compare
from rmab.values import _reference
from rmab.values.pbvi import _Stack


def _median(fn, repeats):
    """Median CPU time of ``fn`` over ``repeats`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return statistics.median(times)


def bench_whittle(n_arms, n_ref, repeats, n_states=10):
    arms = random_mdp_arms(n_arms, n_states, 2, seed=0)
    beta = 0.95
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        t_fast = _median(lambda: whittle_indices(arms, discount=beta), repeats)
        res = whittle_indices(arms, discount=beta)
    sub = arms.select(np.arange(n_ref))
    start, _ = _price_bracket(sub, beta)
    t_numpy = _median(lambda: _whittle_kernels.homotopy_numpy(
        sub.transitions, sub.rewards, sub.costs, beta, start, 10 * n_states), repeats) / n_ref
    print(f"[1] Whittle indices, {n_arms} binary {n_states}-state arms, discount {beta}")
    print(f"    homotopy (Numba):        {t_fast:8.3f} s CPU = {1e6 * t_fast / n_arms:5.1f} us/arm"
          f"   ({res.indexable.mean():.1%} indexable)")
    print(f"    numpy twin ({n_ref} arms):   {1e6 * t_numpy:7.1f} us/arm  -> Numba is "
          f"{t_numpy * n_arms / t_fast:5.1f}x faster")
    try:
        import contextlib
        import io

        import markovianbandit as mb
    except ImportError:
        print("    markovianbandit-pkg not installed: reference skipped")
        return
    out = np.empty((n_ref, n_states))

    def reference():
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints "Not indexable!"
            for n in range(n_ref):
                p, r = sub.transitions[n], sub.rewards[n]
                bandit = mb.restless_bandit_from_P0P1_R0R1(p[0], p[1], r[:, 0], r[:, 1])
                out[n] = bandit.whittle_indices(discount=beta)

    t_ref = _median(reference, repeats) / n_ref
    ok = res.indexable[:n_ref]
    diff = np.abs(out[ok] - res.binary[:n_ref][ok]).max()
    print(f"    markovianbandit ({n_ref} arms, scaled): {1e6 * t_ref:7.1f} us/arm -> homotopy is "
          f"{t_ref * n_arms / t_fast:5.1f}x faster"
          + (" (target >= 10x)" if n_states == 10 else " (the target is for 10 states)"))
    print(f"    max |difference| on the {ok.sum()} indexable arms of the subset: {diff:.2e}")


def bench_bound(n_arms, n_states_list, n_compare, repeats):
    for n_states in n_states_list:
        inst = health_intervention(n_arms, n_states=n_states, seed=0)
        t0, c0 = time.perf_counter(), time.process_time()
        res = lagrangian_bound(inst, value_tol=1e-2, price_tol=1e-3)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        gap = (res.certified_upper_bound - res.estimate) / res.certified_upper_bound
        print(f"[2] Lagrangian bound, health_intervention({n_arms}, n_states={n_states}): "
              f"{wall:6.1f} s wall, {cpu:6.1f} s CPU (target <= 60 s; certificate "
              f"{res.certificate_seconds:.1f} s wall)")
        print(f"    estimate {res.estimate:10.2f}   certified {res.certified_upper_bound:10.2f}"
              f"   gap {gap:.2%}   λ* {res.price:.4f}   PBVI solves {res.iterations}")
    inst = health_intervention(n_compare, n_states=2, seed=1)
    cpu = {}
    for method in ("cutting-plane", "bisection"):
        def run(method=method):
            return lagrangian_bound(inst, method=method, value_tol=1e-2, price_tol=1e-3,
                                    certificate=False)
        cpu[method] = _median(run, repeats)
        res = run()
        print(f"    {method:13s} on {n_compare} arms: {cpu[method]:5.2f} s CPU (median of "
              f"{repeats}), {res.iterations:2d} PBVI solves, estimate {res.estimate:.3f}, "
              f"λ* {res.price:.4f}")
    print(f"    cutting-plane is {cpu['bisection'] / cpu['cutting-plane']:.1f}x faster than "
          f"bisection (same run)")


def bench_policies(n_arms, episodes):
    inst = health_intervention(n_arms, n_states=2, budget_fraction=0.1, seed=0)
    t0 = time.perf_counter()
    res = lagrangian_bound(inst, value_tol=1e-3, price_tol=1e-4)
    t_bound = time.perf_counter() - t0
    planners = [make_planner("myopic"), WhittlePlanner(), WhittleMultiPlanner(),
                LagrangianPlanner()]
    if "rollout" in planner_names():
        planners.append(make_planner("rollout"))
    else:
        try:  # written alongside, maybe not registered yet
            from rmab.planners.rollout import RolloutPlanner
            planners.append(RolloutPlanner())
        except ImportError:
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        t0 = time.perf_counter()
        comp = compare(inst, planners, episodes=episodes, seed=0)
    t_sim = time.perf_counter() - t0
    cert = res.certified_upper_bound
    print(f"[3] Health example N={n_arms}, budget {inst.budget:g}, discount {inst.discount}, "
          f"{episodes} episodes of {comp.horizon} periods ({t_sim:.0f} s)")
    print(f"    Lagrangian estimate {res.estimate:.2f}, certified upper bound {cert:.2f} "
          f"({t_bound:.1f} s)")
    for s in comp.scores:
        print(f"    {s.name:14s} {s.mean:9.2f} ± {1.96 * s.stderr:5.2f}   "
              f"{s.mean / cert:6.1%} of the certified bound")
    best = max(comp.scores, key=lambda s: s.mean)
    print(f"    best: {best.name} at {best.mean / cert:.1%} of the certified bound "
          f"(target >= 95 %; episodes stop after {comp.horizon} periods, which drops "
          f"{inst.discount ** comp.horizon:.1%} of the discounted weight)")


def _timed(fn):
    """``(wall s, CPU s of the process, fn())`` of one call."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def _grid_times(inst, name, steps):
    """CPU and wall seconds of ``make_planner(name).fit(inst, seed=0)`` and lists of those of
    each ``plan`` over the first ``steps`` periods of one simulated episode (seed 0)."""
    planner = make_planner(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        fit_wall, fit_cpu, _ = _timed(lambda: planner.fit(inst, seed=0))
    planner.reset(seed=0)
    env = Environment(inst, seed=0)
    belief, plan_cpu, plan_wall = env.belief, [], []
    for _ in range(min(steps, env.horizon)):
        wall, cpu, actions = _timed(lambda: planner.plan(belief, t=env.t))
        plan_cpu.append(cpu)
        plan_wall.append(wall)
        belief = env.step(actions).belief
    return fit_cpu, fit_wall, plan_cpu, plan_wall


def bench_grid(sizes, steps, planners=("whittle", "lagrangian", "myopic")):
    print(f"[4] PORMAB sizes: health_intervention(N, n_states=2, budget_fraction=0.1, seed=0); "
          f"fit(instance, seed=0), then the median plan of the first {steps} periods of one "
          f"simulated episode (seed 0); CPU time, wall in brackets (after a warm-up at N=10)")
    warm = health_intervention(10, n_states=2, budget_fraction=0.1, seed=0)
    lagrangian_bound(warm)
    for name in planners:
        _grid_times(warm, name, 2)
    for n_arms in sizes:
        inst = health_intervention(n_arms, n_states=2, budget_fraction=0.1, seed=0)
        wall, cpu, res = _timed(lambda: lagrangian_bound(inst))
        print(f"    N={n_arms:6d} B={inst.budget:g}  lagrangian_bound: {cpu:8.2f} s ({wall:.2f})"
              f"   estimate {res.estimate:.2f}, certified {res.certified_upper_bound:.2f}")
        for name in planners:
            fit_cpu, fit_wall, plan_cpu, plan_wall = _grid_times(inst, name, steps)
            print(f"    {'':15s}{name:11s} fit {fit_cpu:8.2f} s ({fit_wall:.2f}) = "
                  f"{1e3 * fit_cpu / n_arms:6.2f} ms/arm   plan "
                  f"{1e3 * statistics.median(plan_cpu):8.2f} ms "
                  f"({1e3 * statistics.median(plan_wall):.2f})")


def _twin_q(stack, idx, arr):
    return _reference.stack_q_numpy(idx, arr, stack.transitions, stack.observations,
                                    stack.rewards, stack.charge, stack.discount, stack.alphas,
                                    stack.n_vec)


def bench_step(sizes, repeats):
    print("[5] Lagrangian planner, POMDP health arms (budget 10 %): its lookahead Q and a whole "
          "plan, with the Q kernel against its numpy twin (before session 40); CPU medians, "
          "alternating")
    kernel_q = _Stack.q
    for n_states in (2, 3):
        for n_arms in sizes:
            inst = health_intervention(n_arms, n_states=n_states, budget_fraction=0.1, seed=0)
            planner = LagrangianPlanner().fit(inst, seed=0)
            belief = Environment(inst, seed=0).belief
            calls = {"q": lambda: planner.result.q_values(belief, 0),
                     "plan": lambda: planner.plan(belief)}
            times = {(name, twin): [] for name in calls for twin in (False, True)}
            out = {}
            for _ in range(repeats + 1):                 # the first round is a warm-up
                for (name, twin), row in times.items():
                    _Stack.q = _twin_q if twin else kernel_q
                    try:
                        t0 = time.process_time()
                        out[name, twin] = calls[name]()
                        row.append(time.process_time() - t0)
                    finally:
                        _Stack.q = kernel_q
            med = {key: statistics.median(row[1:]) for key, row in times.items()}
            diff = np.abs(out["q", False] - out["q", True]).max()
            same = np.array_equal(out["plan", False], out["plan", True])
            print(f"    {n_states} states, N={n_arms:6d}: Q {1e3 * med['q', False]:7.3f} ms "
                  f"(twin {1e3 * med['q', True]:7.3f}, "
                  f"{med['q', True] / med['q', False]:4.1f}x, max |diff| {diff:.1e}); plan "
                  f"{1e3 * med['plan', False]:7.3f} ms (with the twin's Q "
                  f"{1e3 * med['plan', True]:7.3f}, "
                  f"{med['plan', True] / med['plan', False]:4.1f}x; identical actions: {same})")


def bench_belief_whittle(n_arms, repeats):
    print("[6] belief-state Whittle indices, health arms: the fit with the lookahead's best "
          "level from the kernel against its numpy twin (before session 41); CPU medians, "
          "alternating")
    kernel = _LookaheadModel.best_level
    for n_states in (2, 3):
        arms = health_intervention(n_arms, n_states=n_states, seed=0).arms
        times = {False: [], True: []}
        out = {}
        for _ in range(repeats + 1):                     # the first round is a warm-up
            for twin, row in times.items():
                _LookaheadModel.best_level = _LookaheadModel.best_level_numpy if twin \
                    else kernel
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", IndexabilityWarning)
                        t0 = time.process_time()
                        out[twin] = belief_whittle_indices(arms, seed=0).indices
                        row.append(time.process_time() - t0)
                finally:
                    _LookaheadModel.best_level = kernel
        med = {twin: statistics.median(row[1:]) for twin, row in times.items()}
        same = np.array_equal(out[False], out[True])
        print(f"    {n_states} states, N={n_arms}: fit {med[False]:6.3f} s (with the twin "
              f"{med[True]:6.3f} s, {med[True] / med[False]:4.2f}x; indices equal to the bit: "
              f"{same})")


def _golden_limits(inst):
    """The limits' multipliers as found before session 43: golden sections per row (to 1e-6
    of its range), in rounds while they gain, each step ``lagrangian_bound`` of the instance
    with that row's charge on its rewards; returns the estimate at the best multipliers."""
    from dataclasses import replace

    rows, weight, arms = _limit_rows(inst), budget_weight(inst), inst.arms
    cache = {}

    def dual(m):
        key = tuple(m)
        if key not in cache:
            charge = sum((mk * row[0] for mk, row in zip(m, rows)), np.zeros(inst.n_actions))
            term = weight * sum(mk * (row[1] if mk >= 0 else row[2]) for mk, row in zip(m, rows))
            shifted = inst.replace(arms=replace(arms, rewards=arms.rewards - charge))
            cache[key] = (key, lagrangian_bound(shifted, certificate=False).estimate + term)
        return cache[key]

    m = [0.0] * len(rows)
    for _ in range(1 if len(rows) == 1 else _LIMIT_ROUNDS):
        before = dual(m)[1]
        for k, (_, _, _, lo, hi) in enumerate(rows):
            def along(u, k=k, lo=lo, hi=hi):
                return dual(m[:k] + [lo + u * (hi - lo)] + m[k + 1:])
            m = list(_golden(along, lambda point: point[1], 0.0, 1.0, 1e-6, 60)[0][0])
        if before - dual(m)[1] <= 1e-10 * abs(before):
            break
    return min(dual(m)[1], dual([0.0] * len(rows))[1]), len(cache)


def bench_limits(sizes):
    print("[7] count limits priced on POMDP health arms (at most N/20 visits, exactly N/10 "
          "acting): cutting plane over pooled plans vs golden sections (before session 43)")

    def limited(n_arms):
        return health_intervention(n_arms, seed=0).replace(
            action_caps=[np.inf, np.inf, max(1, n_arms // 20)], min_active=n_arms // 10,
            max_active=n_arms // 10)

    lagrangian_bound(limited(10), price_limits=True, certificate=False)   # warm-up: Numba's
    _golden_limits(limited(10))                                        # compile, HiGHS import
    for n_arms in sizes:
        inst = limited(n_arms)
        t = time.process_time()
        res = lagrangian_bound(inst, price_limits=True, certificate=False)
        t_new = time.process_time() - t
        t = time.process_time()
        ref, evals = _golden_limits(inst)
        t_ref = time.process_time() - t
        relaxed = lagrangian_bound(inst, certificate=False).estimate
        print(f"    N={n_arms:4d}: cutting plane {t_new:6.2f} s CPU, estimate {res.estimate:.5f}; "
              f"golden sections {t_ref:6.2f} s ({evals} price searches), {ref:.5f}; relaxed "
              f"{relaxed:.5f} -> {t_ref / t_new:.1f}x faster")


def _int_list(text):
    return [int(x) for x in text.split(",")]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--figures", type=_int_list, default=[1, 2, 3, 5, 6, 7],
                        metavar="LIST", help="figures to run, of 1-7 (default 1,2,3,5,6,7; 4 "
                                             "is the PORMAB grid)")
    parser.add_argument("--states", type=_int_list, default=[10], metavar="LIST",
                        help="figure 1: states per arm, e.g. 10,100 (default 10); the arm "
                             "counts scale as 10 / states")
    parser.add_argument("--grid-sizes", type=_int_list, default=None, metavar="LIST",
                        help="figure 4: numbers of arms (default 100,1000,10000; --quick "
                             "100,1000)")
    args = parser.parse_args(argv)
    if not set(args.figures) <= {1, 2, 3, 4, 5, 6, 7}:
        parser.error(f"--figures: figures are 1-7; got {args.figures}")
    n_whittle, n_ref, repeats = (1000, 50, 1) if args.quick else (10_000, 300, 3)
    if 1 in args.figures:
        for n_states in args.states:
            scale = 10 / n_states
            bench_whittle(max(1, round(n_whittle * scale)), max(1, round(n_ref * scale)),
                          repeats, n_states)
    if 2 in args.figures:
        bench_bound(*((200, (2,), 50) if args.quick else (1000, (2, 3), 200)), repeats)
    if 3 in args.figures:
        bench_policies(*((100, 4) if args.quick else (100, 40)))
    if 4 in args.figures:
        sizes = args.grid_sizes or ([100, 1000] if args.quick else [100, 1000, 10_000])
        bench_grid(sizes, 5 if args.quick else 20)
    if 5 in args.figures:
        bench_step([100, 1000] if args.quick else [100, 1000, 10_000], 5 if args.quick else 15)
    if 6 in args.figures:
        bench_belief_whittle(100, 1 if args.quick else 3)
    if 7 in args.figures:
        bench_limits([20] if args.quick else [20, 100])


if __name__ == "__main__":
    main()
