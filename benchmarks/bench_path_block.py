"""Path MILP: route-set formulation vs the time-expanded walk (its fallback), same run; and the
exact route search (what the planners use for linear objectives) vs both.

For each instance: which formulation ``constraint_block`` picks, build times, HiGHS solve time
of random linear objectives on the pulls (median / max over objectives, persistent model,
objective changed per solve) as a MILP and through :class:`LinearBlockModel` (the LP first),
and a myopic step's time with the route sets' LP and with
:class:`~rmab.domains.path.RouteSearch` (what the planners use); ratios are walk / route sets
(> 1: route sets faster) and search / LP. All must reach the same optima. Where the
enumeration falls back, :class:`~rmab.domains.path.RouteSearch` and the walk MILP (HiGHS,
``--walk-limit`` seconds per solve) maximise the same one-step objectives: solve times,
ratio walk / search, and whether the optima agree (a walk solve at its limit gives a bound).
The full run ends with the feasibility checks and the iterative-myopic greedy
(``_checks_and_greedy``), then ``RouteSearch``'s incumbent heuristic at J = 100, B = 20
(``_incumbent``; alone with ``--incumbent SECONDS``) and its subtour LP bound against the same
search without it (``_lp_bound``; alone with ``--lp SECONDS``).

    .venv/bin/python benchmarks/bench_path_block.py [--quick]
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rmab.domains import PathDomain, make_path  # noqa: E402
from rmab.domains import path as path_mod  # noqa: E402
from rmab.domains.base import LinearBlockModel  # noqa: E402
from rmab.domains.path import RouteSearch  # noqa: E402
from rmab.domains.baselines import IterativeMyopicPlanner  # noqa: E402
from solvers import get_backend  # noqa: E402


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


def _myopic(d: PathDomain, model, steps: int, seed: int) -> float:
    """Median time of a myopic step (objective set, solved, action read) with ``model``."""
    block = d.constraint_block()
    rng = np.random.default_rng(seed)
    times = []
    for _ in range(steps):
        states = rng.integers(0, d.n_states, d.n_arms)
        start = time.perf_counter()
        model.set_objective(*block.level_objective(d.arms.level_gains(states)))
        d.check_action(block.action_from_solution(model.solve().x))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _checks_and_greedy() -> None:
    """Feasibility of sets just too long to close at J = 100 (the search, then the DP where it
    gives up; against the DP alone), and iterative myopic's greedy step against the same
    greedy re-checking every element at every addition."""
    d = make_path(100, 20, seed=0)
    rng = np.random.default_rng(1)
    reach = np.flatnonzero(2 * d.distances[d.source] <= d.route_length)
    hard = []
    while len(hard) < 60:                       # random maximal sets plus one node
        a = np.zeros(d.n_arms, dtype=np.int64)
        for v in rng.permutation(reach):
            a[v] = 1
            if a.sum() > d.budget or not d.is_feasible(a):
                if 12 <= a.sum() <= d.budget:
                    hard.append(a.copy())
                a[v] = 0
    hard = hard[:60]

    def cpu(states_limit):
        saved = path_mod._SEARCH_STATES
        path_mod._SEARCH_STATES = states_limit
        try:
            start = time.process_time()
            verdicts = [d.is_feasible(a) for a in hard]
            return time.process_time() - start, verdicts
        finally:
            path_mod._SEARCH_STATES = saved

    t_search, v_search = cpu(path_mod._SEARCH_STATES)
    t_dp, v_dp = cpu(0)
    if v_search != v_dp:
        raise RuntimeError("the search and the DP disagree")
    print(f"J=100 B=20: 60 sets of 12-20 nodes, each one node too many: search {t_search:.2f} s "
          f"CPU vs the DP alone {t_dp:.2f} s (x{t_dp / t_search:.1f}); "
          f"{sum(v_search)} feasible")

    class Recheck(IterativeMyopicPlanner):
        """The greedy as it was: every element checked at every addition."""

        def _plan(self, states, t):
            original = self.domain._additions
            self.domain.__dict__["_additions"] = lambda action, among=None: original(action)
            try:
                return super()._plan(states, t)
            finally:
                del self.domain.__dict__["_additions"]

    g = make_path(60, 12, seed=1)
    rng = np.random.default_rng(0)
    runs = {"skip": [], "recheck": []}
    for _ in range(5):
        states = rng.integers(0, g.n_states, g.n_arms)
        for name, cls in (("skip", IterativeMyopicPlanner), ("recheck", Recheck)):
            p = cls().fit(g, seed=0)
            start = time.perf_counter()
            runs[name].append((p.plan(states), time.perf_counter() - start))
    if not all((a == b).all() for (a, _), (b, _) in zip(runs["skip"], runs["recheck"])):
        raise RuntimeError("the two greedy steps differ")
    skip = np.median([t for _, t in runs["skip"]])
    recheck = np.median([t for _, t in runs["recheck"]])
    print(f"J=60 B=12 iterative myopic step: {skip * 1e3:.1f} ms vs re-checking every element "
          f"{recheck * 1e3:.1f} ms (x{recheck / skip:.1f}), same actions")


def _solve_with(d: PathDomain, c, offset: float, limit: float, name: str, value):
    """``RouteSearch`` on one objective with ``path_mod.<name>`` set to ``value`` for the
    solve: (result, seconds)."""
    saved = getattr(path_mod, name)
    setattr(path_mod, name, value)
    try:
        model = RouteSearch(d, get_backend("highs"))
        model.set_objective(c, offset)
        start = time.perf_counter()
        res = model.solve(time_limit=limit)
        return res, time.perf_counter() - start
    finally:
        setattr(path_mod, name, saved)


def _incumbent(limit: float) -> None:
    """J = 100, B = 20, myopic objectives of Bernoulli(0.2) states (3 instances x 3 states):
    the incumbent heuristic alone (value, time), and RouteSearch with a ``limit`` against the
    same search with the heuristic switched off, in the same run (ratio of the sets' values)."""
    saved = path_mod._HEURISTIC_AFTER
    ratios = []
    for s in range(3):
        d = make_path(100, 20, seed=s)
        block = d.constraint_block()
        for k in range(3):
            state = (np.random.default_rng(k).random(100) < 0.2).astype(np.int64)
            c, offset = block.level_objective(d.arms.level_gains(state))
            w = c[block.pull_vars]
            out = np.empty(d.n_arms, dtype=np.int64)
            start = time.perf_counter()
            count = path_mod.route_heuristic(
                d.distances, d._graph()[2], d.source, float(d.route_length), w, d.budget,
                path_mod._HEURISTIC_ALPHAS, path_mod._HEURISTIC_STARTS,
                path_mod._HEURISTIC_DROP, path_mod._HEURISTIC_KICKS, out)
            t_heur = time.perf_counter() - start
            found = {}
            for name, after in (("with", saved), ("without", 1 << 62)):
                res, seconds = _solve_with(d, c, offset, limit, "_HEURISTIC_AFTER", after)
                found[name] = (res.objective - offset, res.bound - offset, res.status.value,
                               seconds)
            (v_w, b_w, st_w, t_w), (v_o, _, st_o, t_o) = found["with"], found["without"]
            ratios.append(v_w / v_o)
            print(f"  s{s} k{k}: heuristic {w[out[:count]].sum():.4f} in {t_heur * 1e3:.0f} ms;"
                  f" search {limit:g} s with it {v_w:.4f} ({st_w}, {t_w:.2f} s, bound "
                  f"{b_w:.4f}) vs without {v_o:.4f} ({st_o}, {t_o:.2f} s): x{v_w / v_o:.3f}")
    print(f"J=100 B=20 incumbent: the set after {limit:g} s with the heuristic / without, "
          f"median x{np.median(ratios):.3f}, min x{min(ratios):.3f}")


def _lp_bound(limit: float) -> None:
    """J = 100, B = 20, myopic and Whittle objectives of Bernoulli(0.2) states (3 instances x 2
    states): RouteSearch with a ``limit`` with the subtour LP bound after its first turn and
    without it (the bound switched off), in the same run: how many are proved, in what time,
    and the gap each reports at the limit."""
    from rmab.domains.baselines import make_domain_planner

    saved = path_mod._subtour_bound
    rows = {"with": [], "without": []}
    for s in range(3):
        d = make_path(100, 20, seed=s)
        block = d.constraint_block()
        planners = [make_domain_planner(n).fit(d, seed=0) for n in ("myopic", "whittle")]
        rng = np.random.default_rng(s)
        for k in range(2):
            state = (rng.random(100) < 0.2).astype(np.int64)
            for planner in planners:
                c, offset = block.level_objective(planner._gains(state))
                line = []
                for name, bound in (("with", saved), ("without", lambda *args: np.inf)):
                    res, seconds = _solve_with(d, c, offset, limit, "_subtour_bound", bound)
                    gap = 100 * (res.bound - res.objective) / abs(res.objective)
                    rows[name].append((res.is_optimal, seconds, gap, res.objective))
                    line.append(f"{name} {res.objective - offset:.4f} {res.status.value} "
                                f"{seconds:.2f} s gap {gap:.2f} %")
                print(f"  s{s} k{k} {planner.name}: " + "; ".join(line), flush=True)
    for name, r in rows.items():
        proved = [t for ok, t, _, _ in r if ok]
        print(f"J=100 B=20 {name} the LP bound: {len(proved)} of {len(r)} proved within "
              f"{limit:g} s (median {np.median(proved) if proved else np.nan:.2f} s); gap at "
              f"the limit median {np.median([g for ok, _, g, _ in r if not ok] or [0]):.2f} %")
    same = all(abs(a[3] - b[3]) <= 1e-9 * max(1, abs(a[3]))
               for a, b in zip(rows["with"], rows["without"]))
    print(f"  the same sets' values with and without: {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="J = 20 only, fewer repeats")
    ap.add_argument("--walk-limit", type=float, default=60.0,
                    help="time limit of a walk MILP solve where the search is compared")
    ap.add_argument("--incumbent", type=float, default=None, metavar="SECONDS",
                    help="only the J = 100 incumbent comparison, with this time limit per solve "
                         "(the full run ends with it at 1 s)")
    ap.add_argument("--lp", type=float, default=None, metavar="SECONDS",
                    help="only the J = 100 comparison with and without the subtour LP bound, "
                         "with this time limit per solve (the full run ends with it at 10 s)")
    args = ap.parse_args()
    if args.lp is not None:
        _lp_bound(args.lp)
        return
    if args.incumbent is not None:
        _incumbent(args.incumbent)
        return
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
        m_rs = _myopic(default, LinearBlockModel(default.constraint_block(),
                                                 get_backend("highs")), steps, seed)
        m_search = _myopic(default, RouteSearch(default, get_backend("highs")), steps, seed)
        print(f"{head} route sets K={sets.shape[0]} (enumeration {t_enum * 1e3:.0f} ms, "
              f"block {t_default * 1e3:.0f} ms; walk block {t_walk * 1e3:.0f} ms)\n"
              f"  solve median {np.median(t_rs) * 1e3:.1f} vs walk {np.median(t_wk) * 1e3:.1f}"
              f" (x{np.median(t_wk) / np.median(t_rs):.1f}); max {t_rs.max() * 1e3:.1f} vs "
              f"{t_wk.max() * 1e3:.1f} (x{t_wk.max() / t_rs.max():.1f})\n"
              f"  LP first (LinearBlockModel) on the route sets: median "
              f"{np.median(t_lp) * 1e3:.1f} ms (x{np.median(t_wk) / np.median(t_lp):.0f} vs the "
              f"walk MILP), max {t_lp.max() * 1e3:.1f} ms\n"
              f"  myopic step: route sets (LP first) {m_rs * 1e3:.1f} vs route search "
              f"{m_search * 1e3:.1f} (x{m_search / m_rs:.2f})")
    if not args.quick:
        _checks_and_greedy()
        _incumbent(1.0)
        _lp_bound(10.0)


def _search_vs_walk(d: PathDomain, steps: int, seed: int, walk_limit: float) -> None:
    """One-step objectives of random states: RouteSearch against the walk MILP."""
    block = d.constraint_block()
    search = RouteSearch(d, get_backend("highs"))
    walk = get_backend("highs").build(block.milp)
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
