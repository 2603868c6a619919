"""CSV batch solving speed: 100 000 arm rows read, solved with the myopic planner and written;
next week's file from the actions and signals (``rmab update``); batches of POMDP arms solved
by the whittle planner in one process and in two; then a transition log of 1 000 000 rows read.

    .venv/bin/python benchmarks/bench_csv.py [--quick]

Two files referencing the bundled 100-arm health model (``data/health_example.npz``): 100
batches of 1 000 arms (budget 100, exact DP knapsack) and 1 batch of 100 000 arms (budget
10 000, greedy knapsack since N*(B+1) > 5e7). Figures are medians of repeats; the reference,
timed in the same run, is a naive reader written here that builds one arm object per row
(``csv.DictReader``, ``arms.select([k])`` per row, ``concat_arms`` per batch), and the same
read followed by the same planner and a plain ``csv.writer`` for the end-to-end figure.

The weekly update (the 1-batch file, its myopic actions, a signal drawn for each arm acted on)
is ``read_batches`` + ``updated_beliefs`` + ``write_beliefs``, as ``rmab update`` runs it; the
reference, timed in the same run, is :func:`naive_read`, ``csv.DictReader`` of the two files,
``update_beliefs`` per batch and a ``csv.writer`` copying each row with its new belief, giving
the same beliefs (checked).

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

from rmab.belief import signal_probabilities, update_beliefs  # noqa: E402
from rmab.errors import IndexabilityWarning  # noqa: E402
from rmab.io import logs, read_batches, solve_batches, write_beliefs  # noqa: E402
from rmab.io.responses import updated_beliefs  # noqa: E402
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
        weekly(folder, path, out, repeats)
        jobs(folder, 6 if args.quick else 16, repeats)
        n_arms, n_weeks = rows // 5, 50
        path = folder / "log.csv"
        write_log(path, n_arms, n_weeks)
        print(f"Transition log, {n_arms * n_weeks} rows ({n_arms} arms x {n_weeks} weeks); "
              f"medians of {repeats}")
        for label, order_by in (("as in the file", None), ("in time order", "week")):
            fast, slow = (reader(path, order_by=order_by) for reader in (
                logs.read_transition_log, row_by_row))
            assert fast.arm_ids.tolist() == slow.arm_ids.tolist() and all(
                np.array_equal(getattr(fast, name), getattr(slow, name)) for name in
                ("arm_index", "states", "actions", "next_states", "lines"))
            t_read = median_time(lambda: logs.read_transition_log(path, order_by=order_by),
                                 repeats)
            t_rows = median_time(lambda: row_by_row(path, order_by=order_by), repeats)
            print(f"  {label}:\n"
                  f"    read_transition_log {_fmt(t_read)}\n"
                  f"    row by row          {_fmt(t_rows)}  -> read is "
                  f"{t_rows[1] / t_read[1]:.1f}x faster (CPU)")


def _expects_signal(arms, actions: np.ndarray) -> np.ndarray:
    """Arms whose signal rows after their action tell states apart (the others take none)."""
    rows = arms.observations[np.arange(len(actions)), actions]
    return ~(rows == rows[:, :1]).all(axis=(1, 2))


def write_signals(path: Path, actions: Path, out: Path, seed: int = 0) -> None:
    """A signal drawn from each arm's predictive distribution where its model expects one."""
    rng = np.random.default_rng(seed)
    taken = _actions(actions)
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["batch_id", "arm_id", "signal"])
        for b in read_batches(path):
            a = np.array([taken[b.batch_id, arm] for arm in b.arm_ids])
            p = signal_probabilities(b.instance.arms, b.belief, a)
            o = (p.cumsum(axis=1) > rng.random((b.n_arms, 1))).argmax(axis=1)
            given = _expects_signal(b.instance.arms, a)
            w.writerows([b.batch_id, arm, s if g else ""]
                        for arm, s, g in zip(b.arm_ids, o.tolist(), given))


def naive_update(path: Path, actions: Path, signals: Path, out: Path) -> dict:
    """The weekly update by hand: :func:`naive_read`, the two files by ``csv.DictReader``,
    ``update_beliefs`` per batch (an empty signal: the first of alike rows), and each row of
    ``path`` copied with its new belief."""
    taken = _actions(actions)
    with open(signals, newline="") as fh:
        seen = {(r["batch_id"], r["arm_id"]): r["signal"] for r in csv.DictReader(fh)}
    beliefs = {}
    for bid, ids, inst in naive_read(path):
        a = np.array([taken[bid, arm] for arm in ids])
        o = np.array([int(seen[bid, arm] or 0) for arm in ids])
        beliefs[bid] = dict(zip(ids, update_beliefs(inst.arms, inst.initial_belief, a, o)))
    with open(path, newline="") as src, open(out, "w", newline="") as fh:
        reader = csv.DictReader(src)
        w = csv.DictWriter(fh, reader.fieldnames)
        w.writeheader()
        for row in reader:
            row["belief"] = ";".join(f"{x:.12g}" for x in beliefs[row["batch_id"]][row["arm_id"]])
            w.writerow(row)
    return beliefs


def weekly(folder: Path, path: Path, actions: Path, repeats: int) -> None:
    """``rmab update``'s work on the last file solved, against :func:`naive_update`."""
    signals, out, naive = folder / "signals.csv", folder / "next.csv", folder / "naive_next.csv"
    write_signals(path, actions, signals)

    def update() -> dict:
        batches = read_batches(path)
        new = updated_beliefs(batches, actions, signals)
        write_beliefs(batches, new, out)
        return new

    ours, theirs = update(), naive_update(path, actions, signals, naive)
    for b in read_batches(path):            # the same beliefs, arm by arm
        assert np.array_equal(ours[b.batch_id],
                              np.array([theirs[b.batch_id][arm] for arm in b.arm_ids]))
    t_ours = median_time(update, repeats)
    t_naive = median_time(lambda: naive_update(path, actions, signals, naive), repeats)
    n = sum(len(v) for v in ours.values())
    print(f"Weekly update (rmab update), {n} arms: read_batches + updated_beliefs + "
          f"write_beliefs; medians of {repeats}\n"
          f"    update             {_fmt(t_ours)}\n"
          f"    naive update       {_fmt(t_naive)}  -> update is "
          f"{t_naive[1] / t_ours[1]:.1f}x faster (CPU)")


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
