"""SEQUOIA against every baseline on the four coRMAB domains, several seeds (issue 5's bar).

For each domain and seed: generate the instance (``make_domain(kind, J, B, seed=seed)``),
train SEQUOIA on it (``SequoiaConfig(episodes=...)``, training seed = seed), then evaluate
every planner with the paper's protocol (H = 20, 50 episodes from Bernoulli(0.2) states shared
by all methods, RANDOM = 1): the paper's baselines (no-action, random, sampling, myopic,
iterative myopic, iterative DQN with the same trained network) and ours (whittle, whittle-finite,
lagrangian, rollout) where the domain relaxes to a budget. Prints, per domain, the mean normalised
reward ± standard deviation over seeds, and SEQUOIA's improvement over the best baseline (per seed
and averaged), the figure the paper reports (24.8 % on average over existing methods). With
``--selection-episodes``, the row ``sequoia-validated`` is the network that validation alone
would have kept and ``sequoia-best-fresh`` the best on the fresh episodes without the
Whittle start's margin (diagnostics, not baselines; rows only where they differ from the kept
network). The CSV keeps every planner's per-episode rewards, so each job's report gives
SEQUOIA minus the best other planner as a paired difference with its standard error.

Jobs (one per domain and seed, seed-major) run in ``--jobs`` spawn processes. Rows are appended
to ``--out`` (CSV) as jobs finish, below any rows of earlier runs (never overwritten);
``--report CSV...`` prints the tables of earlier runs. ``--rebaseline CSV...`` re-measures, without
training, the baselines that draw random numbers (random, sampling, rollout) of CSVs written
before session 17's evaluation seeding, replays the deterministic ones as a check, and writes the
jobs with every normalised reward recomputed to ``--out``.

Run ``.venv/bin/python benchmarks/bench_sequoia_quality.py [--quick] [--domains ...]
[--seeds 0 1 2 3 4] [--jobs 2] [--out out/sequoia_quality.csv] [--report CSV ...]``.
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import as_completed  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from rmab._processes import spawn_pool  # noqa: E402

KINDS = ("interventions", "capacity", "scheduling", "path")
PAPER = ("no-action", "random", "sampling", "myopic", "iterative-myopic", "iterative-dqn")
# issue 5's list: the paper's + the Whittle (discounted and, since session 21, finite-horizon
# indices) and Lagrangian policies
ISSUE = PAPER + ("whittle", "whittle-finite", "lagrangian")
GROUPS = (("the paper's baselines", PAPER), ("issue 5's baselines (+ whittle, lagrangian)", ISSUE),
          ("every other planner (+ rollout)", None))
BASELINES = ("no-action", "random", "sampling", "myopic", "iterative-myopic", "whittle",
             "whittle-finite", "lagrangian", "rollout")


def run_job(kind: str, seed: int, n_arms: int, budget: int, train_episodes: int,
            eval_episodes: int, config: dict) -> dict:
    import torch

    from rmab.domains import make_domain
    from rmab.domains.baselines import make_domain_planner
    from rmab.domains.evaluate import evaluate_domain
    from rmab.errors import RmabError, SolverLimitWarning
    from rmab.planners.sequoia import SequoiaPlanner
    from rmab.planners.sequoia.iterative import IterativeDQNPlanner
    from rmab.planners.sequoia.train import SequoiaConfig, paired_difference, train_sequoia

    torch.set_num_threads(1)
    domain = make_domain(kind, n_arms, budget, seed=seed)
    start = time.perf_counter()
    res = train_sequoia(domain, SequoiaConfig(episodes=train_episodes, **config), seed=seed,
                        progress=False)
    train_seconds = time.perf_counter() - start
    planners, skipped = [], []
    for name in BASELINES:
        planner = make_domain_planner(name)
        try:                                  # a planner may not apply to this domain
            planner.fit(domain, seed=0)
        except RmabError as exc:
            skipped.append(f"{name} ({exc})")
            continue
        planners.append(planner)
    planners += [IterativeDQNPlanner(res.network, horizon=20),
                 SequoiaPlanner(res.network, horizon=20, time_limit=2.0)]
    if res.selected.size:
        # diagnostics where they differ from the kept network: what validation alone, and
        # the best on the fresh episodes without the Whittle start's margin, would keep
        kept = np.flatnonzero((res.validated_restart == res.restart)
                              & (res.validated_at == res.best_episode))[0]
        best_fresh = res.selected[int(np.argmax(res.selection_rewards))]
        for name, i in (("sequoia-validated", res.selected[0]),
                        ("sequoia-best-fresh", best_fresh)):
            if i != kept:
                other = SequoiaPlanner(res.validated_networks[i], horizon=20, time_limit=2.0)
                other.name = name
                planners.append(other)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SolverLimitWarning)
        ev = evaluate_domain(domain, planners, episodes=eval_episodes, horizon=20,
                             seed=np.random.SeedSequence([seed, 1]))
    selection = []                           # each re-scored network against the Whittle start
    if res.selected.size and res.whittle_start >= 0:
        per = res.selection_episode_rewards
        ref = per[list(res.selected).index(res.whittle_start)]
        for i, each in zip(res.selected, per):
            mean, se = paired_difference(each, ref)
            selection.append(f"{res.validated_at[i]}/{res.validated_restart[i]} "
                             f"{100 * mean / ref.mean():+.2f}±{100 * se / ref.mean():.2f}%")
    return dict(kind=kind, seed=seed, planners=ev.planners, normalised=ev.normalised[0],
                reward=ev.rewards[0].mean(axis=1), episodes=ev.rewards[0],
                ms=1e3 * ev.seconds_per_step[0],
                train_seconds=train_seconds, solves=res.n_action_solves + res.n_target_solves,
                cache_hits=res.cache_hits, best_episode=res.best_episode, restart=res.restart,
                skipped=skipped,
                time_limit_steps=sum(issubclass(w.category, SolverLimitWarning)
                                     for w in caught), selection=selection)


def planner_names(rows: list[dict]) -> list:
    """Every planner of ``rows`` in order of appearance (a job may lack ``sequoia-validated``)."""
    return list(dict.fromkeys(n for r in rows for n in r["planners"]))


def column(rows: list[dict], key: str, names: list) -> np.ndarray:
    """``r[key]`` per row and planner (len(rows), len(names)); NaN where a job lacks one."""
    return np.array([[r[key][r["planners"].index(p)] if p in r["planners"] else np.nan
                      for p in names] for r in rows])


def report(kind: str, rows: list[dict]) -> None:
    names = planner_names(rows)
    norm, ms = column(rows, "normalised", names), column(rows, "ms", names)
    seeds = [r["seed"] for r in rows]
    print(f"\n{kind}: seeds {seeds}, "
          f"training {np.mean([r['train_seconds'] for r in rows]):.0f} s per seed "
          f"(max {max(r['train_seconds'] for r in rows):.0f} s), MIP solves "
          f"{np.mean([r['solves'] for r in rows]):.0f}, cache hits "
          f"{np.mean([r['cache_hits'] for r in rows]):.0f}; SEQUOIA steps at the time "
          f"limit {sum(r['time_limit_steps'] for r in rows)}; networks kept after "
          f"{[r['best_episode'] for r in rows]} episodes"
          + (f" of restarts {[r['restart'] for r in rows]}" if any(r["restart"] for r in rows)
             else ""))
    for s in rows[0]["skipped"]:
        print(f"   not applicable: {s}")
    print(f"   {'planner':<18} {'normalised':>10} {'± std':>7} {'ms/step':>8}")
    for p, name in enumerate(names):
        m, sd = mean_sd(norm[:, p])
        print(f"   {name:<18} {m:10.3f} {sd:7.3f} {np.nanmean(ms[:, p]):8.1f}"
              + ("" if np.isfinite(norm[:, p]).all()
                 else f" ({np.isfinite(norm[:, p]).sum()} seeds)"))
    for label, group in GROUPS:
        gain, best, overall = gains(norm, names, group)
        seq = norm[:, names.index("sequoia")]
        print(f"   SEQUOIA vs {label}: per seed (vs that seed's best) "
              f"{np.round(gain, 2).tolist()} %, >= on {int((gain >= 0).sum())}/{len(gain)}, "
              f"mean {gain.mean():+.2f} %; vs the best on average ({best}) {overall:+.2f} %; "
              f">= each on average: "
              f"{bool(seq.mean() >= norm[:, names.index(best)].mean() - 1e-12)}")
    for r in rows:
        if all(e.size for e in r["episodes"]):
            print(f"   seed {r['seed']}: SEQUOIA - the best other planner there, on the same "
                  f"episodes: {paired(r)}")


def paired(r: dict) -> str:
    """SEQUOIA's per-episode rewards less those of the best other planner of job ``r`` (by
    mean), as mean ± standard error of the paired difference, in % of that planner's mean."""
    names = r["planners"]
    others = [p for p, n in enumerate(names) if not n.startswith("sequoia")]
    best = max(others, key=lambda p: r["reward"][p])
    diff = r["episodes"][names.index("sequoia")] - r["episodes"][best]
    scale = 100 / r["reward"][best]
    return (f"{names[best]} {scale * diff.mean():+.3f} % ± "
            f"{scale * diff.std(ddof=1) / np.sqrt(diff.size):.3f} %")


def cell(x: np.ndarray) -> str:
    """``mean ± sd`` of the finite values of ``x``, with their count if some are missing."""
    n = int(np.isfinite(x).sum())
    if n == 0:
        return "—"
    return "{:.3f} ± {:.3f}".format(*mean_sd(x)) + ("" if n == x.size else f" ({n} seeds)")


def mean_sd(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (ddof 1; 0 for one value) of the finite values of ``x``."""
    x = x[np.isfinite(x)]
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else 0.0


def gains(norm: np.ndarray, names: list, group) -> tuple[np.ndarray, str, float]:
    """SEQUOIA's gain in % over the best planner of ``group`` (None: every other) per seed,
    the best of the group on average, and SEQUOIA's gain over it (ratio of the means)."""
    seq = names.index("sequoia")
    base = [p for p, n in enumerate(names)
            if not n.startswith("sequoia") and (group is None or n in group)]
    gain = 100 * (norm[:, seq] / np.nanmax(norm[:, base], axis=1) - 1)
    best = int(base[np.nanargmax(np.nanmean(norm[:, base], axis=0))])
    return gain, names[best], 100 * (norm[:, seq].mean() / np.nanmean(norm[:, best]) - 1)


def markdown(rows: list[dict], kinds) -> str:
    """The docs' table: one row per domain, mean ± std over seeds of each planner's normalised
    reward (RANDOM omitted), then SEQUOIA's gain over the best of each of :data:`GROUPS`, as
    the mean of the per-seed gains with the per-seed figures."""
    names = [n for n in planner_names(rows) if n != "random"]
    lines = ["| domain (seeds) | " + " | ".join(names) + " | SEQUOIA vs best paper baseline"
             " | vs best of issue 5's | vs best of all |", "|" + " --- |" * (len(names) + 4)]
    for kind in kinds:
        done = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["seed"])
        if not done:
            continue
        norm = column(done, "normalised", names)
        cells = [cell(norm[:, p]) for p in range(len(names))]
        for _, group in GROUPS:
            gain = gains(norm, names, group)[0]
            cells.append(f"{gain.mean():+.2f} % (per seed "
                         f"[{', '.join(f'{g:+.2f}' for g in gain)}])")
        seeds = ",".join(str(r["seed"]) for r in done)
        lines.append(f"| {kind} ({seeds}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


COLUMNS = ["domain", "seed", "planner", "normalised", "reward", "ms_per_step",
           "train_seconds", "mip_solves", "cache_hits", "time_limit_steps", "best_episode",
           "restart", "episode_rewards"]


def write_rows(writer, r: dict) -> None:
    for i, name in enumerate(r["planners"]):
        writer.writerow([r["kind"], r["seed"], name, f"{r['normalised'][i]:.6f}",
                         f"{r['reward'][i]:.6f}", f"{r['ms'][i]:.3f}",
                         f"{r['train_seconds']:.1f}", r["solves"], r["cache_hits"],
                         r["time_limit_steps"], r["best_episode"], r["restart"],
                         " ".join(f"{x:.8f}" for x in r["episodes"][i])])


def read_rows(path) -> list[dict]:
    """Job results back from a CSV written by this script (for ``--report``)."""
    jobs: dict = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            r = jobs.setdefault((row["domain"], int(row["seed"])), dict(
                kind=row["domain"], seed=int(row["seed"]), planners=[], normalised=[],
                reward=[], ms=[], train_seconds=float(row["train_seconds"]),
                solves=int(row["mip_solves"]), cache_hits=int(row["cache_hits"]),
                time_limit_steps=int(row["time_limit_steps"]),
                best_episode=int(row["best_episode"]),
                restart=int(row.get("restart") or 0), skipped=[], episodes=[]))
            r["planners"].append(row["planner"])      # older CSVs: one run, no episode rewards
            r["episodes"].append(np.array((row.get("episode_rewards") or "").split(), float))
            for key, col in (("normalised", "normalised"), ("reward", "reward"),
                             ("ms", "ms_per_step")):
                r[key].append(float(row[col]))
    return list(jobs.values())


def headroom(r: dict, n_arms: int, budget: int, episodes: int, horizon: int = 20) -> str:
    """The occupation-measure LP bound (:func:`rmab.domains.bound.hull_bound`) on the optimal
    mean per-step reward from job ``r``'s evaluation starts (the same draws as
    ``evaluate_domain``), as the most any policy can gain over Whittle and over SEQUOIA there
    (in %; an upper bound on the expectation, so up to the evaluation's noise)."""
    from rmab.domains import make_domain
    from rmab.domains.evaluate import evaluate_domain

    domain = make_domain(r["kind"], n_arms, budget, seed=r["seed"])
    bound = evaluate_domain(domain, ["no-action"], episodes=episodes, horizon=horizon,
                            seed=np.random.SeedSequence([r["seed"], 1]), bound=True).bound.mean()
    reward = dict(zip(r["planners"], r["reward"]))
    return (f"bound {bound:.4f} per step: at most {100 * (bound / reward['whittle'] - 1):+.2f} % "
            f"over Whittle, {100 * (bound / reward['sequoia'] - 1):+.2f} % over SEQUOIA")


RESEEDED = ("random", "sampling", "rollout")   # the baselines that draw from their seeds
CHECKED = ("no-action", "myopic", "whittle")   # deterministic: must replay to the last digit


def rebaseline(r: dict, n_arms: int, budget: int) -> dict:
    """Job ``r`` (from a CSV of this script) with :data:`RESEEDED`'s rewards re-measured under
    the evaluation's current seeding (every planner fitted and reset with the same seeds,
    since session 17) and every planner's normalised reward recomputed against the new RANDOM.
    The other planners' rewards are kept: the :data:`CHECKED` ones are replayed first and must
    equal the stored per-episode rewards, which shows the episodes (starts, transitions) are
    the ones the stored rows were measured on."""
    from rmab.domains import make_domain
    from rmab.domains.baselines import make_domain_planner
    from rmab.domains.evaluate import evaluate_domain

    names = list(RESEEDED) + [n for n in CHECKED if n in r["planners"]]
    episodes = r["episodes"][r["planners"].index("whittle")].size
    domain = make_domain(r["kind"], n_arms, budget, seed=r["seed"])
    planners = [make_domain_planner(n) for n in names]
    ev = evaluate_domain(domain, planners, episodes=episodes, horizon=20,
                         seed=np.random.SeedSequence([r["seed"], 1]))
    new = dict(r, reward=list(r["reward"]), ms=list(r["ms"]), episodes=list(r["episodes"]))
    for i, name in enumerate(names):
        p = r["planners"].index(name)
        if name in CHECKED:
            # stored with 8 decimals; anything beyond their rounding is another episode set
            gap = np.abs(ev.rewards[0, i] - r["episodes"][p]).max()
            if gap > 1e-8:
                raise RuntimeError(f"{r['kind']} {r['seed']}: {name} replays {gap:.2e} away "
                                   f"from the stored rewards; not the same episodes")
            continue
        new["episodes"][p] = ev.rewards[0, i]
        new["reward"][p] = float(ev.rewards[0, i].mean())
        new["ms"][p] = 1e3 * float(ev.seconds_per_step[0, i])
    ref = new["reward"][r["planners"].index("random")]
    new["normalised"] = [x / ref for x in new["reward"]]
    return new


def report_all(rows: list[dict], kinds) -> None:
    for kind in kinds:
        done = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["seed"])
        if done:
            report(kind, done)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains", nargs="+", choices=KINDS, default=list(KINDS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--arms", type=int, default=20)
    p.add_argument("--budget", type=int, default=5)
    p.add_argument("--train-episodes", type=int, default=100)
    p.add_argument("--eval-episodes", type=int, default=50)
    p.add_argument("--jobs", type=int, default=2)
    # SEQUOIA options: SequoiaConfig's defaults unless given
    p.add_argument("--warm-start", choices=("lagrangian", "myopic"))
    p.add_argument("--offset", choices=("lagrangian", "none"))
    p.add_argument("--control-variate", choices=("lagrangian", "none"))
    p.add_argument("--validate-every", type=int,
                   help="SequoiaConfig.validate_every (0: keep the last network)")
    p.add_argument("--validation-episodes", type=int,
                   help="SequoiaConfig.validation_episodes (session 4's table: 5)")
    p.add_argument("--stability", type=float,
                   help="SequoiaConfig.stability (weight of the ReLU-stability penalty)")
    p.add_argument("--discount", type=float,
                   help="SequoiaConfig.discount (1: the undiscounted mean the table reports)")
    p.add_argument("--restarts", type=int,
                   help="SequoiaConfig.restarts (independent trainings, best validated kept)")
    p.add_argument("--gain-table", choices=("none", "whittle", "both"),
                   help="SequoiaConfig.gain_table (per-arm gain table and its prior)")
    p.add_argument("--whittle", choices=("discounted", "finite"),
                   help="SequoiaConfig.whittle (the Whittle gains the table starts at)")
    p.add_argument("--p-high", type=float,
                   help="SequoiaConfig.p_high (training and validation starts; evaluation's: "
                        "0.2)")
    p.add_argument("--selection-episodes", type=int,
                   help="SequoiaConfig.selection_episodes (fresh episodes re-scoring the 3 best "
                        "validated networks)")
    p.add_argument("--selection-margin", type=float,
                   help="SequoiaConfig.selection_margin (paired standard errors by which a "
                        "network must beat the Whittle start on the fresh episodes)")
    p.add_argument("--training-jobs", type=int,
                   help="SequoiaConfig.training_jobs (trainings side by side; same numbers)")
    p.add_argument("--quick", action="store_true", help="J = 12, 2 seeds, 5 + 5 episodes")
    p.add_argument("--out", default=None,
                   help="CSV, one row per (domain, seed, planner), appended as jobs finish (an "
                        "existing file of this script is kept and appended to; default "
                        "out/sequoia_quality.csv, with --quick out/sequoia_quality_quick.csv, "
                        "so that a quick run's J = 12 rows never join a full table's)")
    p.add_argument("--skip", nargs="+", default=[], metavar="DOMAIN:SEED",
                   help="jobs already measured (e.g. capacity:1)")
    p.add_argument("--report", metavar="CSV", nargs="+",
                   help="only print the tables of CSVs written earlier")
    p.add_argument("--rebaseline", metavar="CSV", nargs="+",
                   help="re-measure random, sampling and rollout of CSVs written before "
                        "session 17's evaluation seeding (no training; the deterministic "
                        "planners are replayed as a check) and write the jobs to --out "
                        "(--arms, --budget as the run's)")
    p.add_argument("--markdown", action="store_true",
                   help="with --report: one markdown table, a row per domain (docs/benchmarks.md)")
    p.add_argument("--headroom", action="store_true",
                   help="with --report: the LP bound on any policy's reward from each "
                        "job's evaluation starts, against Whittle and SEQUOIA (--arms, "
                        "--budget, --eval-episodes as the run's)")
    args = p.parse_args(argv)
    if args.report:
        rows = [r for path in args.report for r in read_rows(path)]
        if args.headroom:
            for r in sorted(rows, key=lambda r: (r["kind"], r["seed"])):
                print(f"{r['kind']} {r['seed']}: "
                      f"{headroom(r, args.arms, args.budget, args.eval_episodes)}")
        else:
            print(markdown(rows, KINDS)) if args.markdown else report_all(rows, KINDS)
        return
    if args.out is None:
        args.out = f"out/sequoia_quality{'_quick' if args.quick else ''}.csv"
    if args.rebaseline:
        out = Path(args.out)
        if out.exists() and out.stat().st_size:
            raise SystemExit(f"--out {out}: exists; --rebaseline writes a new file")
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = [r for path in args.rebaseline for r in read_rows(path)
                if r["kind"] in args.domains and r["seed"] in args.seeds]
        start = time.perf_counter()
        with open(out, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for i, r in enumerate(rows):
                rows[i] = rebaseline(r, args.arms, args.budget)
                write_rows(writer, rows[i])
                fh.flush()
                print(f"   re-measured {r['kind']} seed {r['seed']}: random "
                      f"{dict(zip(r['planners'], r['reward']))['random']:.6f} -> "
                      f"{dict(zip(rows[i]['planners'], rows[i]['reward']))['random']:.6f} "
                      f"[{time.perf_counter() - start:.0f} s]", flush=True)
        report_all(rows, args.domains)
        print(f"\nrows written to {out}; total {time.perf_counter() - start:.0f} s")
        return
    if args.quick:
        args.arms, args.budget, args.seeds = 12, 3, args.seeds[:2]
        args.train_episodes = args.eval_episodes = 5
    # seed-major order: a run stopped early still covers every domain
    config = {k: v for k, v in (("warm_start", args.warm_start), ("offset", args.offset),
                                ("control_variate", args.control_variate),
                                ("validate_every", args.validate_every),
                                ("validation_episodes", args.validation_episodes),
                                ("stability", args.stability),
                                ("discount", args.discount),
                                ("restarts", args.restarts),
                                ("p_high", args.p_high),
                                ("gain_table", args.gain_table),
                                ("whittle", args.whittle),
                                ("selection_episodes", args.selection_episodes),
                                ("selection_margin", args.selection_margin),
                                ("training_jobs", args.training_jobs)) if v is not None}
    jobs = [(k, s, args.arms, args.budget, args.train_episodes, args.eval_episodes, config)
            for s in args.seeds for k in args.domains if f"{k}:{s}" not in args.skip]
    print(f"{len(jobs)} jobs (J = {args.arms}, B = {args.budget}, {args.train_episodes} "
          f"training episodes, {args.eval_episodes} evaluation episodes, SEQUOIA {config}) on "
          f"{args.jobs} processes", flush=True)
    start = time.perf_counter()
    rows = []
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = not out.exists() or out.stat().st_size == 0
    if not fresh:                         # earlier runs' rows are kept: append below them
        with open(out, newline="") as fh:
            header = next(csv.reader(fh), [])
        if header != COLUMNS:
            raise SystemExit(f"--out {out}: not a CSV of this script (header {header}); "
                             f"choose another file")
    with open(out, "a", newline="") as fh, \
            spawn_pool(args.jobs) as pool:
        writer = csv.writer(fh)
        if fresh:
            writer.writerow(COLUMNS)
        futures = {pool.submit(run_job, *job): job for job in jobs}
        for f in as_completed(futures):
            try:
                r = f.result()
            except Exception as exc:          # one failing job does not take the others down
                print(f"   FAILED {futures[f][0]} seed {futures[f][1]}: {exc!r}", flush=True)
                continue
            rows.append(r)
            write_rows(writer, r)
            fh.flush()
            seq = r["normalised"][r["planners"].index("sequoia")]
            other = max(v for n, v in zip(r["planners"], r["normalised"])
                        if not n.startswith("sequoia"))
            print(f"   done {r['kind']} seed {r['seed']}: SEQUOIA {seq:.3f}, best other "
                  f"{other:.3f} (train {r['train_seconds']:.0f} s, kept the network after "
                  f"{r['best_episode']} episodes of restart {r['restart']}) "
                  f"[{time.perf_counter() - start:.0f} s]", flush=True)
            if r["selection"]:
                print(f"   re-scored (episodes/training, paired against the Whittle start): "
                      f"{'; '.join(r['selection'])}", flush=True)
    report_all(rows, args.domains)
    print(f"\nrows written to {out}; total {time.perf_counter() - start:.0f} s")
    if len(rows) < len(jobs):        # 'make bench' stops on a failing script
        raise SystemExit(f"{len(jobs) - len(rows)} of {len(jobs)} jobs failed")


if __name__ == "__main__":
    main()
