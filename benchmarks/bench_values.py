"""Speed of the single-arm value code, each figure beside a reference measured in this run.

    .venv/bin/python benchmarks/bench_values.py [--quick]

1. PBVI on Tiger (data/tiger.pomdp) to within 0.01 % of 19.371 (target <= 0.1 s); reference:
   the plain-numpy PBVI twin on the same point set. The twin runs plain sweeps; since session
   46 the kernel also evaluates a repeating plan structure at once (fewer sweeps, closer to
   the fixed point), so the ratio is the algorithm's and the implementation's together.
2. PBVI (full sweeps) for 1 000 heterogeneous health-intervention arms (2 states, 3 actions,
   2 signals) at one price, tolerance 1e-3 (target <= 10 s on one core); reference: the numpy
   full-sweep twin on 20 arms, scaled to 1 000 (plain sweeps, as in 1). Perseus
   (``randomized=True``, not evaluated so) has no numpy twin: its line is an algorithm
   comparison against the full-sweep kernel of the same run.
3. Value and policy iteration for 10 000 fully observed arms (10 states, 3 actions) at 20
   prices at once (target <= 5 s); references: the vectorised numpy twins of the same
   algorithm (``_reference.vi_numpy``, ``_reference.pi_numpy``).
4. The fast informed bound for 2 000 health arms (2 and 3 states); reference: the same
   iteration with the backup written as one ``einsum`` (the implementation before session 14).
5. The belief-state Whittle fit's PBVI price sweep (12 warm-started solves per arm, 200 health
   arms, 2 and 3 states); reference: the same solves as a loop of public ``solve_pbvi`` calls
   (the implementation before session 28), identical vectors.
6. Sawtooth upper backups (``sawtooth_bound(fib, PBVI's points, backups=...)``), discounted and
   over a horizon of 30; reference: the same sweeps with the sawtooth's (Q, M) belief-to-point
   ratios recomputed at every sweep (the implementation before session 33), identical values.
7. Monte-Carlo rollout (``rollout``, per-arm, horizon 10, 16 trajectories) at 50 health arms
   with the round-robin, myopic and Whittle base planners; reference: the same rollout with the
   base planner called through its public ``plan`` (belief checked and copied at every call:
   the implementation before ``BasePlanner._decide``), identical estimates; 3x the repeats,
   subject and reference alternating.

Medians of repeats (the numpy references: 3); the first call of each Numba kernel
(compilation or cache load) is made before timing. Thread pools are pinned to one thread and
every speed-up is a ratio of CPU times (``time.process_time``), steadier than wall time on a
shared machine; the subject's wall time is printed too.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from rmab.models import POMDPArms, health_intervention, random_mdp_arms  # noqa: E402
from rmab.models.pomdp_format import read_pomdp  # noqa: E402
from rmab.planners import make_planner  # noqa: E402
from rmab.values import _reference as ref  # noqa: E402
from rmab.values.bounds import _sawtooth, _successors, fib_bound, sawtooth_bound  # noqa: E402
from rmab.values.exact import policy_iteration, value_iteration  # noqa: E402
from rmab.values.pbvi import _blind_vectors, _expand, price_sweep, solve_pbvi  # noqa: E402
from rmab.values.rollout import rollout  # noqa: E402

TIGER = Path(__file__).resolve().parents[1] / "data" / "tiger.pomdp"


def timed(fn, repeats):
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def numpy_pbvi(arms, i, price, beta, tol, b0, n_beliefs, seed):
    """The reference: same expansion, then the numpy twin's full sweeps."""
    t, o = arms.transitions[i], np.ascontiguousarray(arms.observations[i])
    c = arms.costs[i]
    r = arms.rewards[i] - price * c[None, :]
    beliefs = _expand(t, o, b0, n_beliefs, np.random.default_rng(seed))
    a0, c0 = _blind_vectors(t, r, c, beta)
    out = ref.pbvi_numpy(t, o, r, c, beta, beliefs, a0, c0, np.arange(len(a0)),
                         tol * (1 - beta) / beta, 10_000)
    return (beliefs @ out[0].T).max(axis=1)[0]


def fib_einsum(arms, discount, tol=1e-6):
    """The reference FIB: :func:`fib_bound`'s iteration with the backup as an ``einsum``."""
    r = arms.rewards.transpose(0, 2, 1)
    m = arms.transitions[:, :, None, :, :] * arms.observations.transpose(0, 1, 3, 2)[:, :, :, None]
    alpha = np.broadcast_to(r.max(axis=(1, 2), keepdims=True) / (1 - discount), r.shape).copy()
    while True:
        inner = np.einsum("naost,nbt->naosb", m, alpha).max(axis=4).sum(axis=2)
        new = np.minimum(alpha, r + discount * inner)
        change, alpha = float(np.abs(new - alpha).max()), new
        if change <= tol * (1 - discount) / discount:
            return alpha


def sweep_by_calls(arm, prices, rng):
    """The reference sweep: one public solve_pbvi call per price, warm-started in turn."""
    out, warm = [], None
    for price in prices:
        warm = solve_pbvi(arm, price=float(price), discount=0.95, tol=1e-2,
                          initial_belief=np.full(arm.n_states, 1 / arm.n_states), grid=10,
                          warm_start=warm, seed=rng)
        out.append(warm[0])
    return out


def sawtooth_recomputed(upper, pts, sweeps, tol):
    """The reference discounted sawtooth sweeps (``bounds._refine`` of session 32, with the
    successor values capped by the FIB as since session 41): the ratios recomputed inside every
    sweep's sawtooth."""
    beta, s = upper.discount, upper.vectors.shape[2]
    corners, vals = upper.vectors[0].max(axis=0), upper.value(pts, arm=0)
    succ, prob, now = _successors(upper, 0, pts)
    cap = (succ @ upper.vectors[0].T).max(axis=1)      # capped by the FIB (session 41)
    for _ in range(sweeps):
        u = np.minimum(_sawtooth(succ, corners, pts, vals), cap).reshape(prob.shape)
        backed = (now + beta * (prob * u).sum(axis=2)).max(axis=1)
        new_c, new_v = np.minimum(corners, backed[:s]), np.minimum(vals, backed[s:])
        change = max(float(np.abs(new_c - corners).max()), float(np.abs(new_v - vals).max()))
        corners, vals = new_c, new_v
        if change <= tol * (1.0 - beta) / beta:
            break
    return corners, vals


class ThroughPlan:
    """The reference rollout's base planner: a Planner that is not a ``BasePlanner``, so the
    rollout calls its public ``plan`` (belief checked and copied, actions checked), as it
    called every base planner before ``BasePlanner._decide``."""

    def __init__(self, planner):
        self.planner, self.instance = planner, planner.instance

    def reset(self, *, seed=None):
        self.planner.reset(seed=seed)

    def plan(self, belief, *, t=0):
        return self.planner.plan(belief, t=t)


def line(label, wall, cpu, ref_cpu, ref_label, extra=""):
    print(f"{label:<48} cpu {cpu:7.3f} s (wall {wall:7.3f} s)   {ref_label}: cpu {ref_cpu:7.3f} s"
          f"   speed-up x{ref_cpu / cpu:5.1f}  {extra}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 5
    ref_repeats = 3

    # 1. Tiger
    tiger = read_pomdp(TIGER)
    solve_pbvi(tiger.arms, discount=0.95, seed=0)                        # compile / load
    wall, cpu, res = timed(lambda: solve_pbvi(tiger.arms, discount=0.95, tol=1e-3, seed=0),
                           repeats)
    v = res[0].value(tiger.start)
    _, rc, rv = timed(lambda: numpy_pbvi(tiger.arms, 0, 0.0, 0.95, 1e-3, tiger.start, 64, 0),
                      max(repeats, ref_repeats))
    line("PBVI Tiger, tol 1e-3", wall, cpu, rc, "numpy plain sweeps",
         f"V(uniform)={v:.5f} (err {abs(v - 19.371) / 19.371:.2e}; numpy {rv:.5f})")

    # 2. 1 000 health arms at one price
    n = 200 if args.quick else 1000
    inst = health_intervention(n, seed=0)
    price = 0.5
    solve_pbvi(inst.arms.select([0]), price=price, seed=0)
    sub = 20
    _, rc, _ = timed(lambda: [numpy_pbvi(inst.arms, i, price, 0.95, 1e-3,
                                         inst.initial_belief[i], 64, i) for i in range(sub)],
                     ref_repeats)
    full_cpu = None
    for randomized in (False, True):
        wall, cpu, res = timed(lambda: solve_pbvi(
            inst.arms, price=price, tol=1e-3, initial_belief=inst.initial_belief, seed=0,
            randomized=randomized), repeats)
        info = (f"{len(res.solves)} solves, {res.iterations.mean():.0f} sweeps avg, "
                f"converged={res.converged}")
        if not randomized:
            full_cpu = cpu
            line(f"PBVI {n} health arms, price {price}, full sweeps", wall, cpu, rc * n / sub,
                 f"numpy plain x{n}/{sub}", info)
        else:
            line(f"PBVI {n} health arms, price {price}, Perseus", wall, cpu, full_cpu,
                 "algorithm: full-sweep kernel", info)

    # 3. Value and policy iteration, 10 000 arms x 20 prices, each against its numpy twin
    n, p = (2000, 20) if args.quick else (10_000, 20)
    arms = random_mdp_arms(n, 10, 3, seed=0)
    prices = np.linspace(0.0, 1.0, p)
    value_iteration(arms.select([0]), prices=prices)
    policy_iteration(arms.select([0]), prices=prices)
    for fn, twin, name in ((value_iteration, ref.vi_numpy, "numpy VI"),
                           (policy_iteration, ref.pi_numpy, "numpy PI")):
        _, rc, rres = timed(lambda: twin(arms, prices, 0.95, 1e-10, 100_000), ref_repeats)
        wall, cpu, res = timed(lambda: fn(arms, prices=prices, discount=0.95, tol=1e-10),
                               repeats)
        err = float(np.abs(res.values - rres[0]).max())
        line(f"{fn.__name__} {n} arms x {p} prices, S=10 A=3", wall, cpu, rc, name,
             f"max |V - V_numpy| = {err:.1e}, {res.iterations} iterations (numpy {rres[4]})")

    # 4. Fast informed bound
    n = 500 if args.quick else 2000
    for states in (2, 3):
        arms = health_intervention(n, n_states=states, seed=0).arms
        wall, cpu, res = timed(lambda: fib_bound(arms, discount=0.95), repeats)
        _, rc, rv = timed(lambda: fib_einsum(arms, 0.95), ref_repeats)
        line(f"FIB {n} health arms, {states} states", wall, cpu, rc, "einsum twin",
             f"max difference {float(np.abs(res.vectors - rv).max()):.1e}")

    # 5. The Whittle fit's per-arm price sweep
    n = 50 if args.quick else 200
    prices = np.linspace(-0.5, 1.5, 12)
    for states in (2, 3):
        arms = health_intervention(n, n_states=states, seed=0).arms
        one = [arms.select([i]) for i in range(n)]
        center = np.full(states, 1 / states)

        def sweeps():
            return [price_sweep(a, prices, discount=0.95, tol=1e-2, initial_belief=center,
                                grid=10, seed=np.random.default_rng(i))
                    for i, a in enumerate(one)]

        def calls():
            return [sweep_by_calls(a, prices, np.random.default_rng(i))
                    for i, a in enumerate(one)]

        sweeps()
        wall, cpu, got = timed(sweeps, repeats)
        _, rc, want = timed(calls, ref_repeats)
        same = all(np.array_equal(g[0][g[3][p]:g[3][p + 1]], w.alphas)
                   for g, ws in zip(got, want) for p, w in enumerate(ws))
        line(f"PBVI price sweep, {n} health arms x 12, {states} states", wall, cpu, rc,
             "solve_pbvi calls", f"identical vectors: {same}")

    # 6. Sawtooth backups on a random 5-state arm (3 actions, 3 signals), PBVI's points
    rng = np.random.default_rng(0)
    arm = POMDPArms(rng.dirichlet(np.ones(5), (1, 3, 5)), rng.dirichlet(np.ones(3), (1, 3, 5)),
                    rng.normal(size=(1, 5, 3)))
    pts = solve_pbvi(arm, discount=0.95, seed=0)[0].beliefs
    fib = fib_bound(arm, discount=0.95)
    sweeps = 50 if args.quick else 500
    wall, cpu, res = timed(lambda: sawtooth_bound(fib, pts, backups=sweeps, tol=1e-12), repeats)
    _, rc, want = timed(lambda: sawtooth_recomputed(fib, pts, res.sweeps, 1e-12), ref_repeats)
    same = np.array_equal(res.corners, want[0]) and np.array_equal(res.values, want[1])
    line(f"Sawtooth, {len(pts)} points, {res.sweeps} sweeps", wall, cpu, rc,
         "ratios per sweep", f"identical values: {same}")
    fib30 = fib_bound(arm, discount=0.95, horizon=30)
    wall, cpu, res = timed(lambda: sawtooth_bound(fib30, pts, backups=1), repeats)

    def backward():                   # the reference: each period's sawtooth from scratch
        s, u_c, u_v = 5, np.zeros(5), np.zeros(len(pts))
        succ, prob, now = _successors(fib30, 0, pts)
        for _ in range(30):
            u = _sawtooth(succ, u_c, pts, u_v).reshape(prob.shape)
            backed = (now + 0.95 * (prob * u).sum(axis=2)).max(axis=1)
            u_c, u_v = backed[:s], backed[s:]
        return (np.minimum(fib30.vectors[0].max(axis=0), u_c),
                np.minimum(fib30.value(pts, arm=0), u_v))

    _, rc, want = timed(backward, ref_repeats)
    same = np.array_equal(res.corners, want[0]) and np.array_equal(res.values, want[1])
    line(f"Sawtooth, {len(pts)} points, horizon 30", wall, cpu, rc, "ratios per period",
         f"identical values: {same}")

    # 7. Rollout with a cheap and two dearer base planners, against the base's public plan;
    # subject and reference alternate, so that both see the same load on a shared machine
    inst = health_intervention(50, seed=0)
    for name in ("round-robin", "myopic", "whittle"):
        base = make_planner(name).fit(inst, seed=0)
        reference = ThroughPlan(base)

        def run(planner):
            return rollout(inst, inst.initial_belief, base=planner, horizon=10,
                           n_trajectories=16, mode="per-arm", seed=0)

        run(base)                                                         # compile / load
        run(reference)
        subject, through = [], []
        for _ in range(3 * repeats):
            subject.append(timed(lambda: run(base), 1))
            through.append(timed(lambda: run(reference), 1))
        res, want = subject[-1][2], through[-1][2]
        same = np.array_equal(res.q, want.q) and np.array_equal(res.actions, want.actions)
        line(f"Rollout, 50 health arms, base {name}",
             statistics.median(w for w, _, _ in subject),
             statistics.median(c for _, c, _ in subject),
             statistics.median(c for _, c, _ in through), "public plan",
             f"identical estimates: {same}")


if __name__ == "__main__":
    main()
