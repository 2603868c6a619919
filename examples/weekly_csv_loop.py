"""A weekly loop on CSV files: solve this week's batches, record each beneficiary's response,
and write next week's CSV with the updated beliefs.

Run: ``python examples/weekly_csv_loop.py`` (it writes ``week_*.csv`` and a copy of
``data/health_example.npz``, which the rows name, into ``out/weekly/``).
It starts from ``data/batch_example.csv`` (docs/csv.md). The field's answers are simulated here
with ``sample_next``; in a programme they are what each beneficiary did this week (for the
health-intervention arms of the example, signal 1: responded, 0: did not). On the command
line the loop is ``rmab solve``, then ``rmab update`` with the answers in a CSV file.
"""

import shutil
from pathlib import Path

import numpy as np

import rmab
from rmab.belief import sample_states
from rmab.io import read_batches, solve_batches

data = Path(__file__).resolve().parents[1] / "data"
folder = Path("out/weekly")                         # a row's relative model path joins its CSV's
folder.mkdir(parents=True, exist_ok=True)
shutil.copy(data / "batch_example.csv", folder / "week_0.csv")
shutil.copy(data / "health_example.npz", folder)   # the model file the rows name
rng = np.random.default_rng(0)                     # the simulated field
state = {}                                          # batch -> true states (simulation only)

for week in range(3):
    batches = read_batches(folder / f"week_{week}.csv")
    result = solve_batches(batches, "myopic", out=folder / f"week_{week}_actions.csv")
    beliefs = {}
    outcomes = {o.batch_id: o for o in result.outcomes}
    for batch in batches:
        outcome, arms = outcomes[batch.batch_id], batch.instance.arms
        if week == 0:
            state[batch.batch_id] = sample_states(batch.belief, seed=rng)
        # the field's answers, one signal per arm in row order (simulated)
        state[batch.batch_id], signals = rmab.sample_next(arms, state[batch.batch_id],
                                                          outcome.actions, seed=rng)
        beliefs[batch.batch_id] = rmab.update_beliefs(arms, batch.belief, outcome.actions,
                                                      signals)
        print(f"week {week} {batch.batch_id}: act on {int((outcome.actions > 0).sum())} of "
              f"{batch.n_arms}, cost {outcome.total_cost:g} of {outcome.budget:g}")
    # next week's file: the same rows, each with its posterior belief (the state cell cleared)
    rmab.io.write_beliefs(batches, beliefs, folder / f"week_{week + 1}.csv")
print(f"wrote {folder}/week_1.csv to week_3.csv; last beliefs of clinic-north: "
      f"{np.round(beliefs['clinic-north'][:, 1], 3).tolist()}")
