"""Hidden-state arms from logs (EM): the E-step's speed, and a whole fit.

    .venv/bin/python benchmarks/bench_estimate.py [--quick]

A log of 20 000 arms x 52 weeks (1 040 000 records; ``--quick``: 2 000 arms), 2 states, 2
actions, 2 signals, drawn from known arms, calls at random with probability 0.2 and no signal
without a call. The E-step (``_Records.expect``, the numba kernel
``rmab.models._kernels.em_kernel``, one model per arm) is timed against its numpy twin written
here: the same scaled forward-backward pass, vectorised over the arms (each step a batched
matrix product), checked to give the same expected counts and log-likelihood. Medians of
repeats. Then ``estimate_hidden_arms`` with one model shared by all arms (``strength=inf``)
from a given start, accelerated (SQUAREM) against plain EM (``accelerate=False``), both to
``tol=1e-9``: their times, E-steps and log-likelihoods; and a whole default run (random starts,
per-arm stage).
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rmab.models import estimate_hidden_arms  # noqa: E402
from rmab.models.hidden import _Records  # noqa: E402

P = np.array([[[0.9, 0.1], [0.3, 0.7]], [[0.6, 0.4], [0.1, 0.9]]])
O = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.85, 0.15], [0.2, 0.8]]])


def simulate(n_arms: int, n_weeks: int, seed: int = 0):
    """Records (arm_index, actions, signals), arm by arm in time order, and the arrays by
    week (n_weeks, n_arms) for the twin."""
    rng = np.random.default_rng(seed)
    state = rng.integers(0, 2, n_arms)
    actions = (rng.random((n_weeks, n_arms)) < 0.2).astype(np.int64)
    signals = np.empty((n_weeks, n_arms), dtype=np.int64)
    for t in range(n_weeks):
        a = actions[t]
        state = (rng.random(n_arms) > P[a, state, 0]).astype(np.int64)
        heard = (rng.random(n_arms) < O[a, state, 1]).astype(np.int64)
        signals[t] = np.where(a == 1, heard, -1)
    arm_index = np.repeat(np.arange(n_arms), n_weeks)
    return (arm_index, actions.T.ravel(), signals.T.ravel()), actions, signals


def twin(actions, signals, p, o, b0):
    """The E-step in numpy over arms of equal length: (transition counts (N, A, S, S), signal
    counts (N, A, S, O), log-likelihood per arm)."""
    n_weeks, n = actions.shape
    arms = np.arange(n)
    alpha = np.empty((n_weeks + 1, n, p.shape[-1]))
    scale = np.empty((n_weeks, n))
    emit = np.empty((n_weeks, n, p.shape[-1]))
    alpha[0] = b0
    for t in range(n_weeks):
        a, s = actions[t], signals[t]
        e = o[arms, a, :, np.maximum(s, 0)]                     # (n, S)
        emit[t] = np.where(s[:, None] >= 0, e, 1.0)
        pred = np.einsum("ns,nsk->nk", alpha[t], p[arms, a])
        alpha[t + 1] = pred * emit[t]
        scale[t] = alpha[t + 1].sum(axis=1)
        alpha[t + 1] /= scale[t][:, None]
    trans = np.zeros(p.shape)
    obs = np.zeros(o.shape)
    beta = np.ones((n, p.shape[-1]))
    for t in range(n_weeks - 1, -1, -1):
        a, s = actions[t], signals[t]
        w = emit[t] * beta / scale[t][:, None]
        trans[arms, a] += alpha[t][:, :, None] * p[arms, a] * w[:, None, :]  # arms unique
        seen = s >= 0
        obs[arms[seen], a[seen], :, s[seen]] += (alpha[t + 1] * beta)[seen]
        beta = np.einsum("nsk,nk->ns", p[arms, a], w)
    return trans, obs, np.log(scale).sum(axis=0)


def median_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_arms, n_weeks = (2_000, 52) if args.quick else (20_000, 52)
    records, actions, signals = simulate(n_arms, n_weeks)
    p = np.ascontiguousarray(np.broadcast_to(P, (n_arms,) + P.shape))
    o = np.ascontiguousarray(np.broadcast_to(O, (n_arms,) + O.shape))
    b0 = np.array([0.5, 0.5])
    rec = _Records.of("bench", *records, n_arms, 2, 2)
    step = rec.expect(p, o, b0)                                  # compiled before timing
    trans, obs, ll = twin(actions, signals, p, o, b0)
    gap = max(np.abs(step.transitions - trans).max(), np.abs(step.observations - obs).max(),
              np.abs(step.arm_log_likelihood - ll).max())
    assert gap < 1e-9, gap
    repeats = 7 if args.quick else 5
    kernel = median_time(lambda: rec.expect(p, o, b0), repeats)
    reference = median_time(lambda: twin(actions, signals, p, o, b0), max(3, repeats // 2))
    print(f"E-step, {n_arms * n_weeks:,} records ({n_arms:,} arms x {n_weeks} weeks): "
          f"{kernel * 1e3:.1f} ms; numpy twin {reference * 1e3:.1f} ms: "
          f"{reference / kernel:.1f}x (max difference {gap:.1e})")
    counted = []
    expect = _Records.expect

    def counting(self, *a, **k):
        counted[-1] += 1
        return expect(self, *a, **k)

    runs = {}
    for accelerate in (False, True):
        counted.append(0)
        _Records.expect = counting
        try:
            start = time.perf_counter()
            est = estimate_hidden_arms(*records, n_arms=n_arms, n_states=2, n_actions=2,
                                       n_obs=2, strength=np.inf, tol=1e-9, max_iter=100_000,
                                       transitions=[[[0.7, 0.3], [0.4, 0.6]]] * 2,
                                       observations=[[[0.5, 0.5]] * 2, [[0.6, 0.4], [0.4, 0.6]]],
                                       accelerate=accelerate)
            runs[accelerate] = time.perf_counter() - start, counted[-1], est
        finally:
            _Records.expect = expect
    (slow, slow_steps, plain), (fast, fast_steps, squarem) = runs[False], runs[True]
    print(f"pooled EM to tol 1e-9 from one start: SQUAREM {fast:.2f} s ({fast_steps} E-steps), "
          f"plain {slow:.2f} s ({slow_steps} E-steps): {slow / fast:.1f}x; log-likelihood "
          f"{squarem.log_likelihood:.4f} vs {plain.log_likelihood:.4f}; largest difference "
          f"of the rows {np.abs(squarem.transitions[0] - plain.transitions[0]).max():.1e}")
    start = time.perf_counter()
    est = estimate_hidden_arms(*records, n_arms=n_arms, n_states=2, n_actions=2, n_obs=2,
                               seed=0)
    took = time.perf_counter() - start
    error = np.abs(est.transitions.mean(axis=0) - P).max()
    print(f"estimate_hidden_arms, defaults: {took:.2f} s, {len(est.history_pooled)} pooled + "
          f"{len(est.history_arms)} per-arm iterations, converged {est.converged}; largest "
          f"error of the arms' mean transition rows {error:.3f}")


if __name__ == "__main__":
    main()
