"""Speed of the Bayes filter kernel ``rmab.belief._kernels.update_kernel``.

Figures (medians over repeats of the thread's CPU time, all measured in this run):

1. N = 1 000 arms, S = 4 states, 2 signals: kernel vs the vectorised numpy twin
   ``rmab.belief._reference.update_numpy``; target ratio >= 3x.
2. N = 100 000 arms, same sizes: kernel rate in arm-updates per second on one core; target
   >= 20 million/s. Printed beside it: the numpy twin, and a memory reference, the time numpy
   needs just to stream-read the model arrays once (``transitions.sum() + observations.sum()``),
   because at this size the per-arm matrices (N A S^2 + N A S O doubles, 58 MB for 3 actions)
   do not stay in cache; and the kernel's time per arm against its time per arm at N = 1 000
   (figure 1, model in cache), the cost of leaving the cache.

Both figures are given for 2 actions (classical binary RMAB) and 3 actions (none/call/visit).
Run ``.venv/bin/python benchmarks/bench_belief.py [--quick]``. Numba and the BLAS pools are
pinned to one thread before they are imported, and times are the thread's CPU time
(``time.thread_time``), so "one core" is honest on a shared machine.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rmab.belief._kernels import update_kernel  # noqa: E402
from rmab.belief._reference import update_numpy  # noqa: E402
from rmab.models import random_pomdp_arms  # noqa: E402

N_STATES, N_OBS = 4, 2
TARGET_RATIO = 3.0
TARGET_RATE = 20e6


def _problem(n_arms: int, n_actions: int, seed: int = 0):
    arms = random_pomdp_arms(n_arms, N_STATES, n_actions, N_OBS, seed=seed)
    rng = np.random.default_rng(seed + 1)
    beliefs = rng.dirichlet(np.ones(N_STATES), n_arms)
    actions = rng.integers(0, n_actions, n_arms)
    signals = rng.integers(0, N_OBS, n_arms)  # Dirichlet rows > 0: every signal is possible
    return beliefs, actions, signals, arms.transitions, arms.observations


def _median_time(fn, repeats: int, inner: int) -> float:
    """Median over ``repeats`` of the mean CPU time of ``inner`` consecutive calls (seconds)."""
    fn()  # warm up (JIT compile, caches)
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        for _ in range(inner):
            fn()
        times.append((time.thread_time() - t0) / inner)
    return statistics.median(times)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def bench_vs_numpy(n_actions: int, repeats: int, inner: int) -> float:
    """Prints figure 1; returns the kernel's time (s) for 1 000 arms."""
    b, a, o, p, q = _problem(1_000, n_actions)
    out = np.empty_like(b)
    ref, _ = update_numpy(b, a, o, p, q)
    if update_kernel(b, a, o, p, q, out) != -1 or np.abs(out - ref).max() > 1e-12:
        raise RuntimeError("kernel and numpy twin disagree")
    t_kernel = _median_time(lambda: update_kernel(b, a, o, p, q, out), repeats, inner)
    t_numpy = _median_time(lambda: update_numpy(b, a, o, p, q), repeats, max(1, inner // 10))
    ratio = t_numpy / t_kernel
    print(f"N=1000   S={N_STATES} A={n_actions} O={N_OBS}: kernel {t_kernel * 1e6:7.1f} us, "
          f"numpy twin {t_numpy * 1e6:7.1f} us -> kernel {ratio:4.1f}x faster "
          f"(target >= {TARGET_RATIO:g}x: {_verdict(ratio >= TARGET_RATIO)})")
    return t_kernel


def bench_rate(n_actions: int, repeats: int, inner: int, t_small: float) -> float:
    n_arms = 100_000
    b, a, o, p, q = _problem(n_arms, n_actions)
    out = np.empty_like(b)
    t_kernel = _median_time(lambda: update_kernel(b, a, o, p, q, out), repeats, inner)
    t_numpy = _median_time(lambda: update_numpy(b, a, o, p, q), repeats, 1)
    t_read = _median_time(lambda: p.sum() + q.sum(), repeats, inner)
    rate = n_arms / t_kernel
    print(f"N=100000 S={N_STATES} A={n_actions} O={N_OBS}: kernel {t_kernel * 1e3:5.2f} ms = "
          f"{rate / 1e6:5.1f} M arm-updates/s on one core (target >= {TARGET_RATE / 1e6:g} M/s: "
          f"{_verdict(rate >= TARGET_RATE)}); numpy twin {t_numpy / t_kernel:4.1f}x slower; "
          f"stream-reading the {(p.nbytes + q.nbytes) / 1e6:.0f} MB model alone takes "
          f"{t_read / t_kernel:4.2f}x the kernel time; {t_kernel / n_arms * 1e9:.0f} ns per arm, "
          f"{t_kernel / n_arms / (t_small / 1_000):.1f}x its {t_small / 1_000 * 1e9:.0f} ns "
          f"at N=1000 (in cache)")
    return rate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    small = {a: bench_vs_numpy(a, repeats, 100 if args.quick else 1000) for a in (2, 3)}
    for n_actions in (2, 3):
        bench_rate(n_actions, repeats, 2 if args.quick else 10, small[n_actions])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
