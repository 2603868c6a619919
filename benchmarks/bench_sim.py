"""Speed of one simulator period (``rmab.sim.Environment.step``).

One step = validate the actions and the budget, realised reward, draw the uniforms, sample the
next states and signals, Bayes-filter the beliefs. Health-intervention arms
(``health_intervention(N, seed=0)``: 2 states, 3 actions, 2 signals), actions from the
``random`` planner. Figures, medians over repeats, measured in this run:

1. N = 100 000 arms: step time (wall clock; the thread's CPU time beside it, which a machine
   shared with other jobs inflates less); target <= 30 ms wall. Beside it, the same step written
   with the plain-numpy twins of ``rmab.belief._reference`` (ratio = numpy time / step time).
2. N = 1 000 arms: the same two numbers.
3. Whole episodes (``run_episode``, 90 periods) at N = 50 and 1 000 arms with the random,
   round-robin, myopic and Whittle planners, time per period; reference: the same episodes with
   the planner called through its public ``plan`` and the action through ``Environment.step``
   (belief checked and copied, action checked twice: the loop before ``BasePlanner._decide``),
   identical returns.

Run ``.venv/bin/python benchmarks/bench_sim.py [--quick]``. Numba and BLAS are pinned to one
thread before they are imported (the kernels are serial anyway).
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rmab.belief._reference import sample_numpy, update_numpy  # noqa: E402
from rmab.models import health_intervention  # noqa: E402
from rmab.planners import make_planner  # noqa: E402
from rmab.sim import Environment, run_episode  # noqa: E402

TARGET_MS = 30.0
N_ACTION_SETS = 8


def _numpy_step(inst, idx, states, belief, actions, rng):
    """The same period with numpy only: checks, budget, reward, uniforms, sampling, filter."""
    arms = inst.arms
    a = np.asarray(actions, dtype=np.int64)
    if a.shape != (inst.n_arms,) or a.min() < 0 or a.max() >= inst.n_actions:
        raise ValueError("bad actions")
    if arms.costs[idx, a].sum() > inst.budget + 1e-9:
        raise ValueError("over budget")
    reward = arms.rewards[idx, states, a].sum()
    u_state, u_signal = rng.random(inst.n_arms), rng.random(inst.n_arms)
    nxt, sig = sample_numpy(states, a, arms.transitions, arms.observations, u_state, u_signal)
    post, _ = update_numpy(belief, a, sig, arms.transitions, arms.observations)
    return reward, nxt, post


def bench(n_arms: int, repeats: int) -> float:
    inst = health_intervention(n_arms, seed=0)
    planner = make_planner("random").fit(inst, seed=0)
    env = Environment(inst, seed=0)
    # actions planned beforehand so that only the simulator is timed
    action_sets = [planner.plan(env.belief) for _ in range(N_ACTION_SETS)]
    env.step(action_sets[0])  # warm up (loads the compiled kernels)
    times, cpu = [], []
    for r in range(repeats):
        if env.done:
            env.reset(seed=r)
        a = action_sets[r % N_ACTION_SETS]
        c0, t0 = time.thread_time(), time.perf_counter()
        env.step(a)
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    t_env, c_env = statistics.median(times), statistics.median(cpu)

    idx = np.arange(n_arms)
    rng = np.random.default_rng(0)
    states = np.array(env.states)
    belief = np.array(env.belief)
    times = []
    for r in range(max(3, repeats // 3)):
        a = action_sets[r % N_ACTION_SETS]
        t0 = time.perf_counter()
        _, states, belief = _numpy_step(inst, idx, states, belief, a, rng)
        times.append(time.perf_counter() - t0)
    t_np = statistics.median(times)
    verdict = ""
    if n_arms == 100_000:
        verdict = f"; target <= {TARGET_MS:g} ms: {'met' if t_env * 1e3 <= TARGET_MS else 'MISSED'}"
    print(f"N={n_arms:>7} health arms (S=2, A=3, O=2): Environment.step {t_env * 1e3:8.3f} ms "
          f"(CPU {c_env * 1e3:7.3f} ms), numpy twin {t_np * 1e3:8.3f} ms, ratio "
          f"{t_np / t_env:5.1f}x{verdict}")
    return t_env


class ThroughPlan:
    """The reference episodes' planner: a Planner that is not a ``BasePlanner``, so the episode
    calls its public ``plan`` and checks the action again in ``Environment.step``."""

    def __init__(self, planner):
        self.planner, self.name = planner, planner.name

    def fit(self, instance, *, seed=None):
        return self

    def reset(self, *, seed=None):
        self.planner.reset(seed=seed)

    def plan(self, belief, *, t=0):
        return self.planner.plan(belief, t=t)


def bench_episodes(n_arms: int, repeats: int) -> None:
    inst = health_intervention(n_arms, seed=0)
    env = Environment(inst, horizon=90, seed=0)
    for name in ("random", "round-robin", "myopic", "whittle"):
        planner = make_planner(name).fit(inst, seed=0)
        subjects = (planner, ThroughPlan(planner))
        cpu = ([], [])
        returns = ([], [])
        for subject in subjects:
            run_episode(env, subject, seed=0)                           # compile / load
        for r in range(repeats):          # alternating: both see the same load
            for i, subject in enumerate(subjects):
                c0 = time.thread_time()
                returns[i].append(run_episode(env, subject, seed=r).discounted_return)
                cpu[i].append(time.thread_time() - c0)
        mine, ref = (statistics.median(c) / env.horizon for c in cpu)
        print(f"N={n_arms:>5} episode, {name:<12} {mine * 1e6:7.1f} us/period CPU, public plan "
              f"+ step {ref * 1e6:7.1f} us, ratio {ref / mine:4.2f}x, identical returns: "
              f"{returns[0] == returns[1]}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 15 if args.quick else 60
    bench(100_000, repeats)
    bench(1_000, repeats * 10)
    for n in (50, 1_000):
        bench_episodes(n, 5 if args.quick else 15)


if __name__ == "__main__":
    main()
