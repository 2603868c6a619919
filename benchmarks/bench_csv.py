"""CSV batch solving speed: 100 000 arm rows read, solved with the myopic planner and written;
batches of POMDP arms solved by the whittle planner in one process and in two; then a
transition log of 1 000 000 rows read.

    .venv/bin/python benchmarks/bench_csv.py [--quick]

Two files referencing the bundled 100-arm health model (``data/health_example.npz``): 100
batches of 1 000 arms (budget 100, exact DP knapsack) and 1 batch of 100 000 arms (budget
10 000, greedy knapsack since N*(B+1) > 5e7). Figures are medians of repeats; the reference,
timed in the same run, is a naive reader written here that builds one arm object per row
(``csv.DictReader``, ``arms.select([k])`` per row, ``concat_arms`` per batch), and the same
read followed by the same planner and a plain ``csv.writer`` for the end-to-end figure.

The log (``week,arm_id,state,action,next_state``, 20 000 arms x 50 weeks, each arm's rows
together; ``--quick``: 2 000 arms) is read by ``read_transition_log`` as it is and in time
order (``order_by="week"``); the reference, timed in the same run, is its row-by-row reading,
the one it falls back to for a bad cell (the only one before session 44), giving the same
records (checked).
"""

from __future__ import annotations

import os

# one thread for BLAS before numpy loads it: on two loaded cores, two OpenBLAS threads made
# the J = 1 000 network bounds 29 ms against 1.7 ms (session 48)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from unittest import mock  # noqa: E402

import numpy as np  # noqa: E402

from rmab.errors import IndexabilityWarning  # noqa: E402
from rmab.io import logs, read_batches, solve_batches  # noqa: E402
from rmab.models import Instance, concat_arms, load_instance  # noqa: E402
from rmab.planners.index import _FITS  # noqa: E402

MODEL = Path(__file__).resolve().parents[1] / "data" / "health_example.npz"


def write_file(path: Path, n_batches: int, n_arms: int, budget: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 1.0, n_batches * n_arms)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["batch_id", "arm_id", "budget", "belief", "model", "model_arm"])
        k = 0
        for b in range(n_batches):
            for a in range(n_arms):
                w.writerow([f"batch{b}", f"arm{a}", budget, f"{1 - p[k]:.6f};{p[k]:.6f}",
                            "health.npz", (b * n_arms + a) % 100])
                k += 1


def write_log(path: Path, n_arms: int, n_weeks: int, seed: int = 0) -> None:
    """A transition log of ``n_arms`` arms over ``n_weeks`` weeks, each arm's rows together (2
    states, 2 actions; a record starts in the state the arm's previous one reached)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["week", "arm_id", "state", "action", "next_state"])
        for a in range(n_arms):
            states = rng.integers(0, 2, n_weeks + 1).tolist()
            actions = rng.integers(0, 2, n_weeks).tolist()
            w.writerows(zip(range(n_weeks), [f"arm{a}"] * n_weeks, states, actions, states[1:]))


def row_by_row(path: Path, **kwargs) -> logs.TransitionLog:
    """``read_transition_log`` reading every row in turn, as it does when a cell is bad."""
    with mock.patch.object(logs, "_read_columns", lambda *args: None):
        return logs.read_transition_log(path, **kwargs)


def naive_read(path: Path) -> list:
    """Row by row: parse each cell, build a one-arm stack per row, concatenate per batch."""
    models: dict = {}
    batches: dict = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["model"]
            if name not in models:
                models[name] = load_instance(path.parent / name)
            arm = models[name].arms.select([int(row["model_arm"])])
            belief = [float(x) for x in row["belief"].split(";")]
            entry = batches.setdefault(row["batch_id"], (float(row["budget"]), [], [], []))
            entry[1].append(row["arm_id"])
            entry[2].append(arm)
            entry[3].append(belief)
    return [(bid, ids, Instance(concat_arms(arms), budget, initial_belief=np.array(beliefs)))
            for bid, (budget, ids, arms, beliefs) in batches.items()]


def naive_solve(path: Path, out: Path) -> None:
    """The naive pipeline end to end: :func:`naive_read`, the same myopic planner per batch
    (seeded as ``solve_batches`` seeds it), one ``csv.writer`` row per arm."""
    from rmab.io import batch_seed
    from rmab.planners import make_planner

    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["batch_id", "arm_id", "action", "cost"])
        for bid, ids, inst in naive_read(path):
            actions = make_planner("myopic").fit(inst, seed=batch_seed(0, bid)).plan(
                inst.initial_belief)
            costs = inst.arms.costs[np.arange(inst.n_arms), actions]
            for arm, a, c in zip(ids, actions.tolist(), costs.tolist()):
                w.writerow([bid, arm, a, c])


def median_time(fn, repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU (this process) seconds of ``fn()``; on a shared machine the
    CPU time is the steadier figure."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10 000 arm rows, a 100 000-row log (still medians of 3)")
    args = parser.parse_args()
    rows = 10_000 if args.quick else 100_000
    repeats = 3
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(MODEL, folder / "health.npz")
        cases = {f"{rows // 1000} batches x 1 000 arms": (rows // 1000, 1000, 100),
                 f"1 batch x {rows:,} arms".replace(",", " "): (1, rows, rows // 10)}
        solve_batches(read_batches(_small(folder)), "myopic")  # compile/load Numba kernels
        print(f"CSV batches, {rows} arm rows, myopic planner; medians of {repeats}")
        for label, (n_batches, n_arms, budget) in cases.items():
            path = folder / "batches.csv"
            write_file(path, n_batches, n_arms, budget)
            out = folder / "out.csv"
            t_read = median_time(lambda: read_batches(path), repeats)
            t_naive = median_time(lambda: naive_read(path), repeats)
            t_all = median_time(lambda: solve_batches(path, "myopic", out=out), repeats)
            t_naive_all = median_time(lambda: naive_solve(path, folder / "naive.csv"), repeats)
            result = solve_batches(path, "myopic", out=out)
            assert result.ok and result.rows_written == rows
            assert _actions(out) == _actions(folder / "naive.csv")    # the same decisions
            print(f"  {label}:\n"
                  f"    read               {_fmt(t_read)}\n"
                  f"    naive read         {_fmt(t_naive)}  -> read is "
                  f"{t_naive[1] / t_read[1]:.1f}x faster (CPU)\n"
                  f"    read+solve+write   {_fmt(t_all)}  -> {rows / t_all[1]:,.0f} arms per "
                  f"CPU second\n"
                  f"    naive, end to end  {_fmt(t_naive_all)}  -> solve_batches is "
                  f"{t_naive_all[1] / t_all[1]:.1f}x faster (CPU)")
        jobs(folder, 6 if args.quick else 16, repeats)
        n_arms, n_weeks = rows // 5, 50
        path = folder / "log.csv"
        write_log(path, n_arms, n_weeks)
        print(f"Transition log, {n_arms * n_weeks} rows ({n_arms} arms x {n_weeks} weeks); "
              f"medians of {repeats}")
        for label, order_by in (("as in the file", None), ("in time order", "week")):
            fast, slow = (reader(path, order_by=order_by) for reader in (
                logs.read_transition_log, row_by_row))
            assert fast.arm_ids == slow.arm_ids and all(
                np.array_equal(getattr(fast, name), getattr(slow, name)) for name in
                ("arm_index", "states", "actions", "next_states", "lines"))
            t_read = median_time(lambda: logs.read_transition_log(path, order_by=order_by),
                                 repeats)
            t_rows = median_time(lambda: row_by_row(path, order_by=order_by), repeats)
            print(f"  {label}:\n"
                  f"    read_transition_log {_fmt(t_read)}\n"
                  f"    row by row          {_fmt(t_rows)}  -> read is "
                  f"{t_rows[1] / t_read[1]:.1f}x faster (CPU)")


def jobs(folder: Path, n_batches: int, repeats: int) -> None:
    """Batches of 60 POMDP arms (each its own subset of the model's 100) solved by the
    whittle planner, whose belief-state index fit takes about half a second a batch: in one
    process against two workers (``n_jobs=2``), wall time, the same file written."""
    path = folder / "pomdp.csv"
    write_file(path, n_batches, 60, 6)
    one, two = folder / "one.csv", folder / "two.csv"
    with warnings.catch_warnings():         # some arms' indices are said to be unreliable
        warnings.simplefilter("ignore", IndexabilityWarning)
        # each batch fitted afresh, as in a worker: the planner keeps its last few fits
        t_one = median_time(lambda: (_FITS.clear(), solve_batches(path, "whittle", out=one)),
                            repeats)
        t_two = median_time(lambda: solve_batches(path, "whittle", out=two, n_jobs=2),
                            repeats)
    assert one.read_bytes() == two.read_bytes()
    print(f"CSV batches in worker processes, {n_batches} batches x 60 POMDP arms, whittle; "
          f"medians of {repeats}, the same file written\n"
          f"    n_jobs=1           {_fmt(t_one)}\n"
          f"    n_jobs=2           wall {t_two[0]:7.3f} s  -> {t_one[0] / t_two[0]:.2f}x "
          f"faster (wall, workers' start-up included)")


def _actions(path: Path) -> dict:
    with open(path, newline="") as fh:
        return {(r["batch_id"], r["arm_id"]): int(r["action"]) for r in csv.DictReader(fh)}


def _fmt(t: tuple[float, float]) -> str:
    return f"wall {t[0]:7.3f} s  cpu {t[1]:7.3f} s"


def _small(folder: Path) -> Path:
    path = folder / "warm.csv"
    write_file(path, 2, 10, 2)
    return path


if __name__ == "__main__":
    main()
