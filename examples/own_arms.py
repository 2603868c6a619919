"""Build arms from your own estimates: 50 beneficiaries, 5 calls a week, engagement hidden.

Run: ``python examples/own_arms.py``. Each beneficiary has two states (0 not engaged,
1 engaged) and two actions (0 no call, 1 call, costing 1). A call reveals a noisy answer; a
beneficiary who is not called gives no signal, which is modelled as one signal ("nothing
heard", 0) that every state emits with probability 1, so it leaves the belief unchanged except
for the drift of the chain.
"""

import numpy as np

import rmab

rng = np.random.default_rng(0)
n = 50
# your per-beneficiary estimates, e.g. fitted from call logs
engage_if_idle = rng.uniform(0.05, 0.20, n)      # Pr(not engaged -> engaged | no call)
engage_if_called = engage_if_idle + rng.uniform(0.10, 0.30, n)
stay_if_idle = rng.uniform(0.60, 0.85, n)        # Pr(engaged -> engaged | no call)
stay_if_called = np.minimum(stay_if_idle + rng.uniform(0.05, 0.15, n), 0.99)

# transitions[arm, action, state, next state]; rows sum to 1
T = np.empty((n, 2, 2, 2))
T[:, 0, 0] = np.c_[1 - engage_if_idle, engage_if_idle]
T[:, 1, 0] = np.c_[1 - engage_if_called, engage_if_called]
T[:, 0, 1] = np.c_[1 - stay_if_idle, stay_if_idle]
T[:, 1, 1] = np.c_[1 - stay_if_called, stay_if_called]

# observations[arm, action, next state, signal]: signal 0 "no answer / nothing heard",
# 1 "answered"; without a call the signal is always 0 (no information)
O = np.zeros((n, 2, 2, 2))
O[:, 0, :, 0] = 1.0
O[:, 1, 1] = [0.15, 0.85]          # engaged: answers 85 % of calls
O[:, 1, 0] = [0.80, 0.20]          # not engaged: answers 20 %

arms = rmab.POMDPArms(T, O, rewards=np.tile([0.0, 1.0], (n, 1)), costs=[0.0, 1.0])
belief0 = np.c_[np.full(n, 0.5), np.full(n, 0.5)]
inst = rmab.Instance(arms, budget=5, discount=0.95, horizon=10, initial_belief=belief0)

# plan this week, then update the beliefs with what the calls found
planner = rmab.make_planner("whittle").fit(inst, seed=0)
actions = planner.plan(belief0, t=0)
called = np.flatnonzero(actions)
signals = np.zeros(n, dtype=int)                 # nobody else gives a signal
signals[called[:3]] = 1                          # say the first three answered, the rest not
belief = rmab.update_beliefs(arms, belief0, actions, signals)
print(f"call {called.tolist()}; Pr(engaged) of the called: "
      f"{np.round(belief[called, 1], 2).tolist()}")

# which planner for this programme? the same random streams for all of them
result = rmab.compare(inst, ["random", "myopic", "whittle"], episodes=20, seed=0)
print(result.table())
