"""Path MILP: route-set formulation vs the time-expanded walk (its fallback), same run; and,
where the walk is used, the exact route search (what the planners use there) vs the walk MILP.

For each instance: which formulation ``constraint_block`` picks, build times, HiGHS solve time
of random linear objectives on the pulls (median / max over objectives, persistent model,
objective changed per solve) as a MILP and through :class:`LinearBlockModel` (the LP first,
what the planners use), and the myopic planner's time per step with the route sets (LP first)
and with the walk block, where it searches (:class:`~rmab.domains.path.RouteSearch`); ratios
are walk / route sets (> 1: route sets faster). All must reach the same optima. Where the
enumeration falls back, :class:`~rmab.domains.path.RouteSearch` and the walk MILP (HiGHS,
``--walk-limit`` seconds per solve) maximise the same one-step objectives: solve times,
ratio walk / search, and whether the optima agree (a walk solve at its limit gives a bound).

    .venv/bin/python benchmarks/bench_path_block.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rmab.domains import PathDomain, make_path
from rmab.domains import path as path_mod
from rmab.domains.base import LinearBlockModel
from rmab.domains.path import RouteSearch
from rmab.domains.baselines import MyopicMIPPlanner
from solvers import get_backend


def _fresh(d: PathDomain, walk: bool) -> PathDomain:
    """A copy of ``d`` (no cached block) whose block is the walk (``walk``) or the default."""
    saved = path_mod._MAX_ROUTE_SETS
    path_mod._MAX_ROUTE_SETS = 0 if walk else saved
    try:
        out = PathDomain.from_arrays(**d.to_arrays())
        start = time.perf_counter()
        out.constraint_block()
        return out, time.perf_counter() - start
    finally:
        path_mod._MAX_ROUTE_SETS = saved


def _solves(d: PathDomain, objectives: np.ndarray, lp_first: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
    block = d.constraint_block()
    backend = get_backend("highs")
    model = LinearBlockModel(block, backend) if lp_first else backend.build(block.milp)
    times, values = [], []
    for c_pull in objectives:
        c = np.zeros(block.n_vars)
        c[block.pull_vars] = c_pull
        model.set_objective(c, 0.0)
        start = time.perf_counter()
        res = model.solve()
        times.append(time.perf_counter() - start)
        values.append(res.objective)
    return np.array(times), np.array(values)


def _myopic(d: PathDomain, steps: int, seed: int) -> float:
    planner = MyopicMIPPlanner().fit(d, seed=seed)
    rng = np.random.default_rng(seed)
    times = []
    for t in range(steps):
        states = rng.integers(0, d.n_states, d.n_arms)
        start = time.perf_counter()
        planner.plan(states, t=t)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="J = 20 only, fewer repeats")
    ap.add_argument("--walk-limit", type=float, default=60.0,
                    help="time limit of a walk MILP solve where the search is compared")
    args = ap.parse_args()
    n_obj, steps = (5, 5) if args.quick else (20, 10)
    cases = [(20, 5, s) for s in range(3)]
    if not args.quick:
        cases += [(40, 6, 0), (40, 7, 0), (40, 10, 0), (40, 10, 1), (60, 12, 0),
                  (100, 20, 0)]
    print(f"_MAX_ROUTE_SETS = {path_mod._MAX_ROUTE_SETS}; {n_obj} objectives U[0, 1] on the "
          f"pulls, myopic median of {steps} steps; times in ms; ratio = walk / route sets")
    for J, B, seed in cases:
        d = make_path(J, B, seed=seed)
        start = time.perf_counter()
        sets = path_mod._route_sets(d.distances, d.source, d.route_length, d.budget)
        t_enum = time.perf_counter() - start
        default, t_default = _fresh(d, walk=False)
        walk, t_walk = _fresh(d, walk=True)
        head = f"J={J} B={B} seed={seed}:"
        if sets is None:
            print(f"{head} falls back to the walk (enumeration aborted after "
                  f"{t_enum * 1e3:.0f} ms); walk build {t_walk * 1e3:.0f} ms")
            _search_vs_walk(walk, 3, seed, args.walk_limit)
            continue
        rng = np.random.default_rng(seed)
        objectives = rng.uniform(0.0, 1.0, (n_obj, J))
        t_rs, v_rs = _solves(default, objectives)
        t_wk, v_wk = _solves(walk, objectives)
        t_lp, v_lp = _solves(default, objectives, lp_first=True)
        if not (np.allclose(v_rs, v_wk, atol=1e-6) and np.allclose(v_lp, v_wk, atol=1e-6)):
            raise RuntimeError(f"{head} optima differ: {v_rs} vs {v_wk} vs {v_lp}")
        m_rs, m_wk = _myopic(default, steps, seed), _myopic(walk, steps, seed)
        print(f"{head} route sets K={sets.shape[0]} (enumeration {t_enum * 1e3:.0f} ms, "
              f"block {t_default * 1e3:.0f} ms; walk block {t_walk * 1e3:.0f} ms)\n"
              f"  solve median {np.median(t_rs) * 1e3:.1f} vs walk {np.median(t_wk) * 1e3:.1f}"
              f" (x{np.median(t_wk) / np.median(t_rs):.1f}); max {t_rs.max() * 1e3:.1f} vs "
              f"{t_wk.max() * 1e3:.1f} (x{t_wk.max() / t_rs.max():.1f})\n"
              f"  LP first (LinearBlockModel) on the route sets: median "
              f"{np.median(t_lp) * 1e3:.1f} ms (x{np.median(t_wk) / np.median(t_lp):.0f} vs the "
              f"walk MILP), max {t_lp.max() * 1e3:.1f} ms\n"
              f"  myopic step: route sets (LP first) {m_rs * 1e3:.1f} vs route search "
              f"{m_wk * 1e3:.1f} (x{m_wk / m_rs:.2f})")


def _search_vs_walk(d: PathDomain, steps: int, seed: int, walk_limit: float) -> None:
    """One-step objectives of random states: RouteSearch against the walk MILP."""
    block = d.constraint_block()
    search, walk = RouteSearch(d), get_backend("highs").build(block.milp)
    c, offset = block.level_objective(d.arms.level_gains(np.zeros(d.n_arms, dtype=int)))
    search.set_objective(c, offset)
    search.solve()                                      # compiles (or loads) the kernels
    rng = np.random.default_rng(seed)
    t_search, t_walk, agree = [], [], []
    for _ in range(steps):
        states = rng.integers(0, d.n_states, d.n_arms)
        c, offset = block.level_objective(d.arms.level_gains(states))
        search.set_objective(c, offset)
        walk.set_objective(c, offset)
        rs, rw = search.solve(), walk.solve(time_limit=walk_limit)
        t_search.append(rs.seconds)
        t_walk.append(rw.seconds)
        agree.append("=" if rw.is_optimal and abs(rs.objective - rw.objective) <= 1e-6 else
                     f"walk {rw.status.value} {rw.objective:.4f} (bound {rw.bound:.4f}) vs "
                     f"{rs.objective:.4f}")
        if rw.is_optimal and rs.objective < rw.objective - 1e-6:
            raise RuntimeError(f"search {rs.objective} below the walk optimum {rw.objective}")
    ts, tw = np.array(t_search), np.array(t_walk)
    print(f"  route search: median {np.median(ts) * 1e3:.1f} ms, max {ts.max() * 1e3:.1f} ms; "
          f"walk MILP median {np.median(tw) * 1e3:.0f} ms, max {tw.max() * 1e3:.0f} ms "
          f"(x{np.median(tw) / np.median(ts):.0f} median); optima: {agree}")


if __name__ == "__main__":
    main()
