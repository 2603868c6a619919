"""Capacity (coRMAB domain 2): B workers with capacities serve arms with costs; an arm is
pulled iff some worker serves it.

Builds the paper's instance, saves it to out/capacity_J20_B5.npz (plain arrays + JSON, readable by
any other implementation), plans one step with the exact MIP and shows the worker assignment, then
compares the baselines with the LP upper bound on any policy's reward from the same starts.
Run: python examples/domain_capacity.py
"""

from pathlib import Path

import numpy as np

from rmab.domains import initial_states, load_domain, make_capacity, save_domain
from rmab.domains.baselines import make_domain_planner
from rmab.domains.evaluate import evaluate_domain

domain = make_capacity(n_arms=20, budget=5, seed=0)
print("worker capacities:", domain.capacities.astype(int).tolist())
print("arm costs:        ", domain.costs.astype(int).tolist())

Path("out").mkdir(exist_ok=True)                  # out/ is where the README's commands write
path = save_domain(domain, Path("out") / "capacity_J20_B5.npz")
same = load_domain(path)
print(f"saved and reloaded {path} ({type(same).__name__}, {same.n_arms} arms)")

states = initial_states(domain.n_arms, seed=1)
action = make_domain_planner("myopic").fit(same).plan(states)
workers = same.assignment(action)
for i in range(same.n_workers):
    arms = np.flatnonzero(workers == i).tolist()
    print(f"  worker {i} (capacity {same.capacities[i]:.0f}) serves arms {arms} "
          f"(cost {same.costs[arms].sum():.0f})")

result = evaluate_domain(same, ["no-action", "random", "sampling", "myopic",
                                "iterative-myopic", "whittle"], episodes=4, horizon=6, seed=0,
                         bound=True)
print(result.table())
best = result.mean_reward.max()
print(f"no policy can gain more than {100 * (result.bound.mean() / best - 1):.1f} % over the best "
      f"planner here (up to the evaluation's noise)")
