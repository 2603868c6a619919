"""Multiple interventions (coRMAB domain 1): choose exactly B of N_I interventions; each arm's
up-probability is a sigmoid of how many interventions of its group are chosen.

Shows the "myopic trap": the good arms (the first B) pay most at the top state but need all
three interventions of their group, so the one-step planners spend the budget on the bad arms
that respond to a single intervention. From the same states the myopic action earns more in
the next step than Whittle's, which completes a good group; over the paper's horizon
(H = 20) the one-step planners stay near RANDOM (below it in this run) and Whittle scores
about four times RANDOM.
Run: python examples/domain_interventions.py
"""

import numpy as np

from rmab.domains import initial_states, make_interventions
from rmab.domains.baselines import make_domain_planner
from rmab.domains.evaluate import evaluate_domain

domain = make_interventions(n_arms=20, n_interventions=10, budget=5, seed=0)
print(f"{domain.n_arms} arms, {domain.n_interventions} interventions, choose {domain.budget}")
print("up-probability at x = 0, 3, 6, 9 (arm 0 good, arm 6 bad):")
for j in (0, 6):
    print(f"  arm {j}:", np.round(domain.arms.up_prob[j], 3))

states = initial_states(domain.n_arms, p_high=0.2, seed=1)
print(f"good arms 0-{domain.budget - 1}; states", states.tolist())
for name in ("myopic", "whittle"):
    action = make_domain_planner(name).fit(domain, seed=0).plan(states)
    print(f"{name} interventions:", np.flatnonzero(action).tolist(),
          "-> arm levels", domain.arm_levels(action).tolist(),
          f"one-step expected reward {domain.expected_reward(states, action):.4f}")

result = evaluate_domain(domain, ["no-action", "random", "sampling", "myopic",
                                  "iterative-myopic", "whittle"], episodes=5, horizon=20, seed=0)
print(result.table())
