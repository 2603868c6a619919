"""Action selection with a ReLU Q-network inside a MILP (SEQUOIA's inner loop), HiGHS 1 thread.

Networks [2J+1, 32, 32, 1] (``--hidden``: other hidden widths, e.g. 64; input: action J,
normalised state J, time-to-go 1): "random" (He-initialised) and "fitted" (torch, fitted to the
one-step expected reward of the coRMAB base arms: SEQUOIA's myopic warm-start network, a
stand-in for a trained Q-network). Constraint sets:
"cardinality" (at most B arms), "knapsack" (+ K random knapsack rows) and "capacity" (B workers
x J arms with capacities, the structure of spec section 2.2, built here because solvers and
this benchmark do not import rmab.domains).

Per row: encode time, passModel time (medians over the first build and the rebuilds), update
time for a new state (its bounds, then the model's changes in place, also shown alone), the
median per-step time (update + solve) of the persistent model, and references measured in the
same run on the same states: rebuilding from scratch per step (encode + passModel + solve),
scipy.optimize.milp (rebuilt per step), and the action MILP alone with the network's
first-order (linear) objective -- the cost of the combinatorial constraints by themselves.
Times are wall seconds. ``agree``: whether the persistent solve's objective matches the
rebuild's and scipy's, checked only where both are optimal ("n/a" when no pair was); a row
with %TL > 0 has ratios bounded by the time limit.

Opt-in columns (spec section 5's figures): ``--pyomo`` builds the same MILP through the pyomo
backend on the rebuild states (its ConcreteModel; the transfer to the solver happens at the first
solve and is not counted) against encode + passModel; ``--bounds exact,first,interval`` runs
each row per bound mode -- exact (default: knapsack-exact layer 1, layer 2 by
back-substitution), first (knapsack-exact layer 1, intervals after, as the spec describes) and
interval (the action box's range, intervals after) -- and prints the per-state bounds time.

    .venv/bin/python benchmarks/bench_solvers.py            # J = 20 and 100, all sets
    .venv/bin/python benchmarks/bench_solvers.py --quick    # J = 20, short-fitted net, 5 states
    .venv/bin/python benchmarks/bench_solvers.py --arms 100,1000 --nets fitted \
        --constraints cardinality --hidden 64 --pyomo --bounds exact,interval
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from solvers import MILP, available_backends, get_backend  # noqa: E402
from solvers.nn import Knapsack, ReLUNetwork, encode_network  # noqa: E402


def he_network(sizes, rng) -> ReLUNetwork:
    return ReLUNetwork(tuple(rng.normal(scale=np.sqrt(2.0 / i), size=(o, i))
                             for i, o in zip(sizes[:-1], sizes[1:])),
                       tuple(rng.normal(scale=0.1, size=o) for o in sizes[1:]))


def fitted_network(J: int, B: int, seed: int, steps: int, hidden=(32, 32)) -> ReLUNetwork:
    """[2J+1, *hidden, 1] fitted (torch, Adam, MSE) to the one-step expected reward of the
    coRMAB base arms (spec section 1: 4 states, up-probability U[0, .2] passive / U[.7, .9]
    active, good arms first) on random states and actions, feasible or not -- SEQUOIA's
    "myopic" warm-start network, a stand-in for a trained Q-network."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    p = np.stack([rng.uniform(0, .2, J), rng.uniform(.7, .9, J)], 1)
    good = np.arange(J) < B
    r = np.where(good[:, None], [0.2, .15, .1, 0], [.1, .15, .2, 0])
    r[:, 3] = np.where(good, rng.integers(4, 7, J), rng.integers(1, 4, J))
    arms = np.arange(J)
    sizes = [2 * J + 1, *hidden]
    net = torch.nn.Sequential(*[m for i, o in zip(sizes, sizes[1:])
                                for m in (torch.nn.Linear(i, o), torch.nn.ReLU())],
                              torch.nn.Linear(sizes[-1], 1))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(steps):
        s = rng.integers(0, 4, (256, J))
        a = (rng.random((256, J)) < rng.uniform(0, 2 * B / J, (256, 1))).astype(int)
        pj = p[arms, a]
        y = (pj * r[arms, np.minimum(s + 1, 3)] + (1 - pj) * r[arms, np.maximum(s - 1, 0)]).sum(1)
        x = np.c_[a, s / 3.0, rng.random(256)]
        loss = torch.nn.functional.mse_loss(net(torch.tensor(x, dtype=torch.float32))[:, 0],
                                            torch.tensor(y, dtype=torch.float32))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ReLUNetwork.from_torch(net)


def action_milp(J: int, B: int, n_knapsacks: int, rng) -> MILP:
    rows, upper = [np.ones(J)], [float(B)]
    for _ in range(n_knapsacks):
        costs = rng.integers(2, 7, J).astype(float)
        rows.append(costs)
        upper.append(float(np.round(0.8 * B * costs.mean())))
    return MILP.from_arrays(np.zeros(J), np.array(rows), None, upper, 0, 1, np.ones(J, bool))


def capacity_milp(J: int, B: int, rng) -> tuple[MILP, list]:
    """The capacity domain's structure (spec section 2.2), built here: B workers with capacity
    C_i ~ U{2..7}, arm costs c_j ~ U{2..6}; columns a (J) then x_ij (B*J, worker-major);
    a_j = sum_i x_ij (an arm is served by at most one worker), sum_j c_j x_ij <= C_i. Returns
    the MILP and the aggregated knapsacks on a used for the layer-1 bounds:
    sum_j c_j a_j <= sum_i C_i and sum_j a_j <= sum_i floor(C_i / 2)."""
    cap = rng.integers(2, 8, B).astype(float)
    cost = rng.integers(2, 7, J).astype(float)
    link = sp.hstack([sp.identity(J), -sp.hstack([sp.identity(J)] * B)])
    load = sp.hstack([sp.csr_matrix((B, J)), sp.kron(sp.identity(B), cost[None, :])])
    A = sp.vstack([link, load], format="csr")
    n = J + B * J
    milp = MILP.from_arrays(np.zeros(n), A, np.r_[np.zeros(J), np.full(B, -np.inf)],
                            np.r_[np.zeros(J), cap], 0, 1, np.ones(n, bool))
    return milp, [Knapsack(cost, cap.sum()), Knapsack(np.ones(J), np.floor(cap / 2).sum())]


def states(J: int, n: int, rng) -> list[np.ndarray]:
    """Normalised 4-state arms (Bernoulli(0.2) start, drifted) and a time-to-go in [0, 1]."""
    return [np.r_[rng.integers(0, 4, J) * (rng.random(J) < 0.6) / 3.0, rng.random()]
            for _ in range(n)]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


# bound mode -> encode_network keywords (interval: no knapsacks, so layer 1 is the box's range)
BOUND_MODES = {"exact": {}, "first": dict(back_substitution=False),
               "interval": dict(back_substitution=False, knapsacks=[])}


def run(net: ReLUNetwork, J: int, B: int, constraints: str, n_knapsacks: int, n_states: int,
        n_ref: int, seed: int, time_limit: float, mip_gap: float, bounds: str = "exact",
        pyomo: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    if constraints == "capacity":
        milp_a, knapsacks = capacity_milp(J, B, rng)
    else:
        milp_a = action_milp(J, B, n_knapsacks if constraints == "knapsack" else 0, rng)
        knapsacks = None
    S = states(J, n_states + 1, rng)
    box = {**dict(state_lower=np.zeros(J + 1), state_upper=np.ones(J + 1), knapsacks=knapsacks),
           **BOUND_MODES[bounds]}
    highs, scipy_ = get_backend("highs"), get_backend("scipy")
    enc, t = timed(lambda: encode_network(net, milp_a, S[0], **box))
    t_encode = [t]
    model, t = timed(lambda: highs.build(enc.milp))
    t_build = [t]
    model.solve(time_limit=time_limit, presolve=False)     # as MIPArgmax (docs/solvers.md)
    t_update, t_step, t_rebuild, t_scipy, t_linear, t_bounds, t_pyomo, t_in_place = (
        [] for _ in range(8))
    unstable, limited, agree, compared = [], 0, True, 0
    for i, s in enumerate(S[1:]):
        t0 = time.perf_counter()
        nb = enc.update_state(model, s)
        t1 = time.perf_counter()
        res = model.solve(time_limit=time_limit, mip_gap=mip_gap, threads=1, presolve=False)
        t2 = time.perf_counter()
        t_update.append(t1 - t0)
        t_step.append(t2 - t0)
        t_bounds.append(timed(lambda: enc.bounds_for(s))[1])
        t_in_place.append(timed(lambda: enc.update_state(model, s, nb))[1])    # the same values
        limited += res.status.name == "TIME_LIMIT"
        unstable.append(np.mean(np.concatenate([(lo < 0) & (hi > 0) for lo, hi in
                                                zip(nb.lower[:-1], nb.upper[:-1])])))
        base = net.forward(np.r_[np.zeros(J), s])[0]          # first-order (linear) objective
        gains = net.forward(np.c_[np.eye(J), np.tile(s, (J, 1))])[:, 0] - base
        gains = np.r_[gains, np.zeros(milp_a.n_cols - J)]
        linear = MILP(gains, milp_a.A, milp_a.row_lower, milp_a.row_upper, milp_a.col_lower,
                      milp_a.col_upper, milp_a.integrality)
        t_linear.append(timed(lambda: highs.build(linear).solve(mip_gap=mip_gap,
                                                                 threads=1))[1])
        if i >= n_ref:
            continue
        enc_s, t_e = timed(lambda: encode_network(net, milp_a, s, **box))
        model_s, t_b = timed(lambda: highs.build(enc_s.milp))
        fresh, t = timed(lambda: model_s.solve(time_limit=time_limit, mip_gap=mip_gap,
                                               threads=1, presolve=False))
        t_encode.append(t_e)
        t_build.append(t_b)
        t_rebuild.append(t_e + t_b + t)
        if pyomo:
            t_pyomo.append(timed(lambda: get_backend("pyomo").build(enc_s.milp))[1])
        ref, t = timed(lambda: scipy_.build(model.milp).solve(time_limit=time_limit,
                                                                mip_gap=mip_gap,
                                                                presolve=False))
        t_scipy.append(t)
        for other in (fresh, ref):
            if res.is_optimal and other.is_optimal:
                compared += 1
                agree &= abs(res.objective - other.objective) <= 1e-4 * max(1, abs(res.objective))
    median = (lambda xs: statistics.median(xs) if xs else float("nan"))
    return dict(rows=enc.milp.n_rows, cols=enc.milp.n_cols, encode=median(t_encode),
                build=median(t_build), update=statistics.median(t_update),
                in_place=statistics.median(t_in_place),
                bounds=median(t_bounds), pyomo=median(t_pyomo), step=statistics.median(t_step),
                step_max=max(t_step), rebuild=median(t_rebuild),
                scipy=median(t_scipy), linear=statistics.median(t_linear),
                unstable=float(np.mean(unstable)),
                limited=limited / n_states, agree=f"{agree} ({compared})" if compared else "n/a")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="J = 20 only, the fitted net with a 300-step fit, 5 states "
                             "(random nets hit the time limit, so their ratios say nothing)")
    parser.add_argument("--states", type=int, default=5, help="states per row (default 5)")
    parser.add_argument("--references", type=int, default=3,
                        help="states on which the rebuild and scipy references run (default 3)")
    parser.add_argument("--knapsacks", type=int, default=5,
                        help="random knapsack rows of the 'knapsack' constraint set")
    parser.add_argument("--constraints", default="cardinality,knapsack,capacity",
                        help="comma-separated: cardinality (sum a <= B), knapsack (+ random "
                             "knapsack rows), capacity (workers x arms, spec section 2.2)")
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--fit-steps", type=int, default=1500,
                        help="Adam steps of the fitted network (0: random nets only)")
    parser.add_argument("--mip-gap", type=float, default=1e-6,
                        help="relative gap of every solve (the reference implementation uses 0.02)")
    parser.add_argument("--arms", default="20,100", help="comma-separated J (default 20,100)")
    parser.add_argument("--nets", default="random,fitted", help="comma-separated: random,fitted")
    parser.add_argument("--hidden", default="32,32",
                        help="comma-separated hidden widths (default 32,32; e.g. 64)")
    parser.add_argument("--bounds", default=None,
                        help="comma-separated bound modes, one row each, with the per-state "
                             "bounds time: exact (the default), first (no layer-2 "
                             "back-substitution), interval (plain intervals over the box)")
    parser.add_argument("--pyomo", action="store_true",
                        help="also build each row's MILP through the pyomo backend")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.states < 1 or args.references < 0:
        parser.error(f"--states must be >= 1 and --references >= 0; got {args.states} and "
                     f"{args.references}")
    hidden = tuple(int(w) for w in args.hidden.split(","))
    modes = (args.bounds or "exact").split(",")
    unknown = set(modes) - set(BOUND_MODES)
    if unknown:
        parser.error(f"--bounds: unknown mode(s) {sorted(unknown)}; choose from "
                     f"{list(BOUND_MODES)}")
    if args.pyomo and "pyomo" not in available_backends():
        print("# pyomo or its solver is not available here: the pyomo build is skipped")
        args.pyomo = False
    budgets = {20: 5, 40: 10, 100: 20}                  # the paper's (J, B) pairs
    arms = [20] if args.quick else [int(j) for j in args.arms.split(",")]
    sizes = [(J, budgets.get(J, max(1, J // 5))) for J in arms]
    n_states = args.states
    fit_steps = min(args.fit_steps, 300) if args.quick else args.fit_steps
    net_kinds = ["fitted"] if args.quick else args.nets.split(",")
    print(f"# [2J+1, {', '.join(map(str, hidden))}, 1] nets; constraints: cardinality = sum a "
          f"<= B, knapsack = + {args.knapsacks} random knapsack rows, capacity = B workers x J "
          f"arms; HiGHS 1 thread, fit {fit_steps} steps, {n_states} states per row "
          f"({min(args.references, n_states)} for the "
          f"references), time limit {args.time_limit} s, mip gap {args.mip_gap}")
    print("# encode/passModel/update in ms, update = the state's bounds + in place (the model's "
          "changes given the bounds, spec: under 1 ms)")
    print("# step = update + solve (persistent), rebuild = "
          "encode + passModel + solve, scipy = scipy.optimize.milp on the same model; medians in "
          "wall s")
    extra = ""
    if args.bounds:
        extra += "  bounds    bounds_ms"
        print("# bounds: exact = knapsack-exact layer 1 + layer-2 back-substitution, first = "
              "knapsack-exact layer 1 + intervals, interval = box + intervals; bounds_ms = "
              "median per-state bounds_for")
    if args.pyomo:
        extra += "  pyomo  (enc+pyomo)/(enc+pass)"
        print("# pyomo = ms to build the same MILP through the pyomo backend (median over the "
              "rebuild states; not counting the transfer to the solver at the first solve)")
    print("# linear = the action MILP alone with the net's first-order objective (its own cost); "
          "agree = objectives match where both optimal (pairs compared)")
    print("net      J   B  constraints  rows  cols  encode  passModel  update  in place  "
          "update/(enc+pass)  "
          "step   max  %TL  rebuild  scipy  linear  step/rebuild  step/scipy  big-M%  "
          + f"{'agree':8s}{extra}".rstrip())
    failed = False
    for J, B in sizes:
        kinds = net_kinds
        nets = [("random", he_network([2 * J + 1, *hidden, 1], np.random.default_rng(args.seed)))
                ] if "random" in kinds else []
        if fit_steps and "fitted" in kinds:
            try:
                nets.append(("fitted", fitted_network(J, B, args.seed, fit_steps, hidden)))
            except ImportError:
                print("# torch missing: fitted networks skipped")
        for (kind, net), cons, mode in itertools.product(nets, args.constraints.split(","),
                                                         modes):
            r = run(net, J, B, cons, args.knapsacks, n_states, args.references, args.seed,
                    args.time_limit, args.mip_gap, mode, args.pyomo)
            ms = {k: 1e3 * r[k] for k in ("encode", "build", "update", "in_place", "bounds",
                                          "pyomo")}
            cols = ""
            if args.bounds:
                cols += f"  {mode:8s} {ms['bounds']:10.2f}"
            if args.pyomo:
                cols += (f"  {ms['pyomo']:5.0f} "
                         f"{(r['encode'] + r['pyomo']) / (r['encode'] + r['build']):23.1f}")
            print(f"{kind:7s} {J:3d} {B:3d} {cons:12s} {r['rows']:5d} {r['cols']:5d} "
                  f"{ms['encode']:7.1f} {ms['build']:9.1f} {ms['update']:7.2f} "
                  f"{ms['in_place']:9.2f} "
                  f"{r['update'] / (r['encode'] + r['build']):17.2f} {r['step']:6.2f} "
                  f"{r['step_max']:5.1f} {100 * r['limited']:4.0f} {r['rebuild']:8.2f} "
                  f"{r['scipy']:6.2f} {r['linear']:7.3f} {r['step'] / r['rebuild']:13.2f} "
                  f"{r['step'] / r['scipy']:11.2f} {100 * r['unstable']:7.1f}  "
                  + f"{r['agree']:8s}{cols}".rstrip(), flush=True)
            if r["agree"].startswith("False"):
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
