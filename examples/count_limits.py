"""A programme with a fixed team: exactly 8 beneficiaries contacted each week, at most 3 of
them visited (count limits, docs/instances.md), on top of the cost budget.

Compares the planners on the limited instance, and the Lagrangian bound with the limits
relaxed and priced. Run: ``python examples/count_limits.py``.
"""

import numpy as np

import rmab
from rmab.sim.compare import compare

inst = rmab.health_intervention(40, budget_fraction=0.4, seed=3)      # 16 cost units a week
inst = inst.replace(action_caps=[np.inf, np.inf, 3],                  # none / call / visit
                    min_active=8, max_active=8)
print(inst)

actions = rmab.make_planner("myopic").fit(inst, seed=0).plan(inst.initial_belief)
print(f"week 0: call {(actions == 1).sum()}, visit {(actions == 2).sum()}, "
      f"cost {inst.arms.costs[np.arange(inst.n_arms), actions].sum():g} of {inst.budget:g}; "
      f"feasible: {inst.violation(actions) is None}")

result = compare(inst, ["random", "myopic", "whittle-multi", "lagrangian",
                        ("lagrangian", {"price_limits": True})], episodes=6, horizon=40,
                 seed=0)
print(result.table())

relaxed = rmab.lagrangian_bound(inst, value_tol=1e-2)
priced = rmab.lagrangian_bound(inst, value_tol=1e-2, price_limits=True)
print(f"certified upper bound: {relaxed.certified_upper_bound:.2f} with the limits relaxed, "
      f"{priced.certified_upper_bound:.2f} with them priced")
