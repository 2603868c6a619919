"""Regenerate the bundled examples: ``python data/make_examples.py``.

``health_example.npz``: ``rmab.models.health_intervention(100, seed=0)`` — 100 two-state
health-intervention arms (none/call/visit, costs 0/1/2), budget 10 (10 % of the arms),
discount 0.95, three risk clusters. See ``docs/instances.md`` for the parameter ranges.

``log_example.csv``: 26 weeks of a fully observed log (``week, arm_id, state, action,
next_state``) of 20 beneficiaries B001-B020, each called (action 1) with probability 0.2 a
week, moving as the none/call arms of ``health_intervention(20, seed=3)``; for ``rmab
estimate`` (docs/csv.md).

``signal_log_example.csv``: 52 weeks of a signal log (``week, arm_id, action, signal``) of
the same 20 beneficiaries, each called with probability 0.2 a week, the signal (1: answered)
drawn from the call arms' signal model and left empty in the weeks without a call (engagement
itself is never seen); for ``rmab estimate --hidden`` (docs/csv.md).
"""

import csv
from pathlib import Path

import numpy as np

from rmab.models import health_intervention, save_instance

HERE = Path(__file__).resolve().parent


def write_log(path, n_arms: int = 20, weeks: int = 26, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    truth = health_intervention(n_arms, seed=3).arms.transitions[:, :2]   # none, call
    state = rng.integers(0, 2, n_arms)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["week", "arm_id", "state", "action", "next_state"])
        for week in range(1, weeks + 1):
            action = (rng.random(n_arms) < 0.2).astype(int)
            rows = truth[np.arange(n_arms), action, state].cumsum(axis=1)
            after = (rng.random(n_arms)[:, None] > rows).sum(axis=1)
            for k in range(n_arms):
                writer.writerow([week, f"B{k + 1:03d}", state[k], action[k], after[k]])
            state = after


def write_signal_log(path, n_arms: int = 20, weeks: int = 52, seed: int = 8) -> None:
    rng = np.random.default_rng(seed)
    truth = health_intervention(n_arms, seed=3).arms
    state = rng.integers(0, 2, n_arms)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["week", "arm_id", "action", "signal"])
        for week in range(1, weeks + 1):
            action = (rng.random(n_arms) < 0.2).astype(int)
            rows = truth.transitions[np.arange(n_arms), action, state].cumsum(axis=1)
            after = (rng.random(n_arms)[:, None] > rows).sum(axis=1)
            heard = truth.observations[np.arange(n_arms), action, after, 1] > rng.random(n_arms)
            for k in range(n_arms):
                signal = int(heard[k]) if action[k] else ""
                writer.writerow([week, f"B{k + 1:03d}", action[k], signal])
            state = after


if __name__ == "__main__":
    inst = health_intervention(100, seed=0)
    save_instance(inst, HERE / "health_example.npz")
    print(f"wrote {HERE / 'health_example.npz'}: {inst.n_arms} arms, budget {inst.budget}")
    write_log(HERE / "log_example.csv")
    print(f"wrote {HERE / 'log_example.csv'}")
    write_signal_log(HERE / "signal_log_example.csv")
    print(f"wrote {HERE / 'signal_log_example.csv'}")
