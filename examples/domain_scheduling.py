"""Scheduling (coRMAB domain 3): each pulled arm needs two (worker, slot) assignments where
both are available; a worker serves at most one arm per slot; at most B arms are pulled.

Run: python examples/domain_scheduling.py
"""

from rmab.domains import initial_states, make_scheduling
from rmab.domains.baselines import make_domain_planner
from rmab.domains.evaluate import evaluate_domain

domain = make_scheduling(n_arms=20, budget=5, seed=0)
print(f"{domain.n_workers} workers, {domain.n_slots} slots")
print("worker availability (rows = workers):")
print(domain.worker_avail.astype(int))
block = domain.constraint_block()
print(f"MILP block: {block.n_vars} variables ({len(block.index['assign'])} worker-slot-arm "
      f"assignments), {block.milp.n_rows} rows")

states = initial_states(domain.n_arms, seed=2)
action = make_domain_planner("iterative-myopic").fit(domain).plan(states)
for arm, worker, slot in domain.assignment(action):
    print(f"  arm {arm:2d} <- worker {worker} in slot {slot}")

result = evaluate_domain(domain, ["no-action", "random", "sampling", "myopic",
                                  "iterative-myopic"], episodes=2, horizon=6, seed=0)
print(result.table())
