"""Schedule calls and visits for 200 beneficiaries over four weeks with the myopic planner.

Run: ``python examples/schedule_interventions.py``. In a real programme the signals (did the
beneficiary respond?) come from the field instead of ``sample_next``.
"""

import numpy as np

import rmab
from rmab.belief import sample_states

inst = rmab.health_intervention(200, budget_fraction=0.1, seed=0)  # 200 arms, 20 cost units/week
planner = rmab.make_planner("myopic").fit(inst, seed=0)
rng = np.random.default_rng(1)                      # one stream for the simulated field
belief, state = inst.initial_belief.copy(), sample_states(inst.initial_belief, seed=rng)
for week in range(4):
    actions = planner.plan(belief, t=week)  # 0 none, 1 call (cost 1), 2 visit (cost 2)
    state, signals = rmab.sample_next(inst.arms, state, actions, seed=rng)
    belief = rmab.update_beliefs(inst.arms, belief, actions, signals)
    engaged = belief[:, 1].mean()
    print(f"week {week}: call {(actions == 1).sum():3d}, visit {(actions == 2).sum():3d}, "
          f"mean Pr(engaged) {engaged:.3f}")
