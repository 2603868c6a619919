"""Inline models in a CSV file of batches: 100 000 arms written by ``write_batches`` without
``model=`` (each arm's transitions, observations, rewards and costs in its row) and read back
by ``read_batches``.

    .venv/bin/python benchmarks/bench_csv_inline.py [--quick]

Two files: ``health_intervention(100 000, seed=0)`` in one batch (3 actions, 2 states, 2
signals), and a partially observed ``random_instance`` (3 states, 3 actions, 2 signals) in 10
batches of 10 000 arms (``--quick``: 10 000 arms in all). Figures are medians of repeats; the
references, timed in the same run, are the previous implementations: the read with every
inline cell parsed and checked as a one-arm stack on its own (the reader's fallback for a bad
cell, the only path before session 52), giving the same batches (checked), and the rows
written arm by arm with ``json.dumps`` (here), giving the same text (checked).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from unittest import mock  # noqa: E402

import numpy as np  # noqa: E402

from bench_csv import median_time  # noqa: E402 - run as a script: benchmarks/ on the path
from rmab.io import Batch, read_batches, reader, write_batches  # noqa: E402
from rmab.models import health_intervention, random_instance  # noqa: E402


def cell_by_cell(path: Path) -> list:
    """``read_batches`` parsing every inline cell alone, as it does for a bad cell."""
    with mock.patch.object(reader._FileReader, "_read_inline", lambda self, keys: None):
        return read_batches(path)


def _short(row) -> str:
    return ";".join(t[:-2] if t.endswith(".0") else t for t in map(repr, row.tolist()))


def _dumps(array) -> str:
    return json.dumps(array.tolist(), separators=(",", ":"))


def arm_by_arm(batches, fh) -> None:
    """``write_batches(batches, fh)`` as it was written before session 52: per arm, one
    ``json.dumps`` per model array and one ``repr`` per number (no count-limit columns: the
    batches here have none)."""
    partial = any(not b.instance.arms.fully_observed for b in batches)
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["batch_id", "arm_id", "budget", "discount", "state", "belief", "transitions"]
               + ["observations"] * partial + ["rewards", "costs"])
    for b in batches:
        inst, arms = b.instance, b.instance.arms
        shared = [_short(np.array([inst.budget])), _short(np.array([inst.discount]))]
        for k, arm in enumerate(b.arm_ids):
            belief = inst.initial_belief[k]
            hot = np.count_nonzero(belief) == 1 and belief.max() == 1.0
            cells = [_dumps(arms.transitions[k])]
            if partial:
                cells.append("" if arms.fully_observed else _dumps(arms.observations[k]))
            cells += [_dumps(arms.rewards[k]), _short(arms.costs[k])]
            w.writerow([b.batch_id, arm, *shared, str(belief.argmax()) if hot else "",
                        "" if hot else _short(belief), *cells])


def _fmt(t: tuple[float, float]) -> str:
    return f"wall {t[0]:7.3f} s  cpu {t[1]:7.3f} s"


def _same(got: list, want: list) -> bool:
    names = ("transitions", "observations", "rewards", "costs")
    return len(got) == len(want) and all(
        g.batch_id == w.batch_id and g.arm_ids.tolist() == w.arm_ids.tolist()
        and np.array_equal(g.belief, w.belief) and all(
            np.array_equal(getattr(g.instance.arms, n), getattr(w.instance.arms, n))
            for n in names) for g, w in zip(got, want))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 000 arms (still medians of 3)")
    args = parser.parse_args()
    n = 10_000 if args.quick else 100_000
    repeats = 3
    health = health_intervention(n, seed=0)
    pomdp = random_instance(n, 3, 3, 2, seed=0)
    per = n // 10
    cases = {
        f"health_intervention, 1 batch x {n} arms": [Batch("b0", [f"a{k}" for k in range(n)],
                                                           health)],
        f"random_instance POMDP, 10 batches x {per} arms": [
            Batch(f"b{j}", [f"a{k}" for k in range(per)],
                  pomdp.replace(arms=pomdp.arms.select(slice(j * per, (j + 1) * per)),
                                initial_belief=pomdp.initial_belief[j * per:(j + 1) * per],
                                budget=per // 5))
            for j in range(10)]}
    print(f"Inline models in a CSV file, {n} arms; medians of {repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inline.csv"
        for label, batches in cases.items():
            write_batches(batches, path)
            text, ref = io.StringIO(), io.StringIO()
            write_batches(batches, text)
            arm_by_arm(batches, ref)
            assert text.getvalue() == ref.getvalue()              # the same text
            assert _same(read_batches(path), cell_by_cell(path))   # the same batches
            t_write = median_time(lambda: write_batches(batches, io.StringIO()), repeats)
            t_ref_write = median_time(lambda: arm_by_arm(batches, io.StringIO()), repeats)
            t_read = median_time(lambda: read_batches(path), repeats)
            t_ref_read = median_time(lambda: cell_by_cell(path), repeats)
            print(f"  {label} ({path.stat().st_size / 1e6:.0f} MB):\n"
                  f"    write_batches      {_fmt(t_write)}\n"
                  f"    arm by arm         {_fmt(t_ref_write)}  -> write is "
                  f"{t_ref_write[1] / t_write[1]:.1f}x faster (CPU)\n"
                  f"    read_batches       {_fmt(t_read)}\n"
                  f"    cell by cell       {_fmt(t_ref_read)}  -> read is "
                  f"{t_ref_read[1] / t_read[1]:.1f}x faster (CPU)")


if __name__ == "__main__":
    main()
