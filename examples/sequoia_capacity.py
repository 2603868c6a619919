"""SEQUOIA on a small capacity instance: train a Q-network whose argmax over feasible actions
is a MIP, then compare it with the baselines under the paper's protocol (RANDOM = 1).
Training's default ``argmax="auto"`` enumerates the feasible actions instead at this size
(the printed label says which oracle it used); the planner solves the MIP.

Small on purpose (J = 6 arms, B = 2 workers, horizon 10, a few episodes, under a minute);
``rmab train --domain capacity --arms 20 --budget 5`` is the full-size run.
Needs torch (pip install 'rmab[torch]'). Run: python examples/sequoia_capacity.py
"""

from pathlib import Path

import numpy as np

from rmab.domains import make_capacity
from rmab.domains.evaluate import evaluate_domain
from rmab.planners.sequoia import SequoiaPlanner
from rmab.planners.sequoia.train import SequoiaConfig, train_sequoia

domain = make_capacity(n_arms=6, budget=2, seed=0)
print("worker capacities:", domain.capacities.astype(int).tolist(),
      " arm costs:", domain.costs.astype(int).tolist())
# the paper's draws (costs 2-6, capacities 2-7) leave arms costlier than every worker at this
# size; make_capacity keeps them silently, and no planner can pull them
print("arms no worker can serve:", domain.unservable.tolist())

config = SequoiaConfig(horizon=10, episodes=6, hidden=(16, 16), target_update=20,
                       warm_start_samples=1000, warm_start_epochs=15)
result = train_sequoia(domain, config, seed=0, progress=False)
oracle = {"mip": "MIP", "brute": "enumeration"}[result.argmax]   # "auto", resolved
print(f"trained {config.episodes} episodes in {result.seconds:.1f} s: "
      f"{oracle} solves {result.n_action_solves} acting + {result.n_target_solves} target, "
      f"{result.cache_hits} cache hits, {result.n_target_updates} hard target updates")
print("warm start held-out MSE: "
      f"{result.warm_start.loss_before:.3f} -> {result.warm_start.loss_after:.3f}")

Path("out").mkdir(exist_ok=True)                  # out/ is where the README's commands write
path = result.network.save(Path("out") / "sequoia_capacity.npz")
planner = SequoiaPlanner(path, horizon=config.horizon)
table = evaluate_domain(domain, ["no-action", "random", "myopic", planner], episodes=5,
                        horizon=config.horizon, seed=0)
print(table.table())
print("SEQUOIA's first action from all-zero states:",
      planner.plan(np.zeros(domain.n_arms, dtype=np.int64), t=0).tolist())
