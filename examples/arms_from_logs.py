"""Estimate arms from a year of logs, then plan with them: 200 beneficiaries, 20 calls a week.

Run: ``python examples/arms_from_logs.py``. A past programme called beneficiaries at random
and logged each one's state every week (engaged or not: fully observed logs). The weekly
transitions are counted, turned into probabilities shrunk towards the whole population's
(``prior="pooled"``: a state and action a beneficiary never met takes the population's
behaviour), and planned with. Each plan made from estimates (a uniform prior, and the pooled
one with 1 and 10 pseudo-observations per row, and with the number ``rmab.score_strengths``
finds best at predicting each arm's held-out last weeks) is then played on the true arms,
next to the plan made from the true arms and a random one.
"""

import numpy as np

import rmab

rng = np.random.default_rng(0)
truth = rmab.health_intervention(200, seed=3).arms          # the unknown true arms
n, n_states, n_actions = truth.n_arms, truth.n_states, 2    # actions: 0 none, 1 call
true_t = truth.transitions[:, :n_actions]

# a year of logs: each week 10 % of the beneficiaries called at random
arm_index, states, actions, next_states = [], [], [], []
state = rng.integers(0, n_states, n)
for week in range(52):
    action = (rng.random(n) < 0.1).astype(int)
    u = rng.random(n)
    nxt = (u[:, None] > true_t[np.arange(n), action, state].cumsum(axis=1)).sum(axis=1)
    arm_index.append(np.arange(n)), states.append(state), actions.append(action)
    next_states.append(nxt)
    state = nxt
counts = rmab.count_transitions(*map(np.concatenate, (arm_index, states, actions, next_states)),
                                n_arms=n, n_states=n_states, n_actions=n_actions)
unseen = int((counts.sum(axis=-1) == 0).sum())
print(f"{counts.sum()} logged weeks; {unseen} of {counts[..., 0].size} (arm, action, state) "
      f"rows never seen")
# how far to shrink, measured: each arm's last quarter of weeks held out and predicted
scores = rmab.score_strengths(*map(np.concatenate, (arm_index, states, actions, next_states)),
                              n_arms=n, n_states=n_states, n_actions=n_actions)
best = max(scores, key=scores.get)
print("held-out log-likelihood per week: " + ", ".join(
    f"{k:g}: {v:.4f}" for k, v in scores.items()) + f"; the best strength: {best:g}")

# engaged beneficiaries are the reward; a call costs 1; this week's states are known
rewards = np.tile([[0.0, 0.0], [1.0, 1.0]], (n, 1, 1))
start = np.eye(n_states)[state]
real = rmab.Instance(rmab.MDPArms(true_t, rewards, costs=[0.0, 1.0]), budget=20,
                     discount=0.95, initial_belief=start)
plans = {}
for prior, strength in (("uniform", 1.0), ("pooled", 1.0), ("pooled", 10.0), ("pooled", best)):
    estimate = rmab.estimate_probabilities(counts, prior=prior, strength=strength)
    planned = real.replace(arms=rmab.MDPArms(estimate, rewards, costs=[0.0, 1.0]))
    name = f"whittle, {prior} prior x{strength:g}"
    plans[name] = rmab.make_planner("whittle").fit(planned, seed=0)
    print(f"{name}: mean error {np.abs(estimate - true_t).mean():.3f}; calls this week "
          f"{np.flatnonzero(plans[name].plan(start, t=0))[:8].tolist()}...")
plans["whittle on the true arms"] = rmab.make_planner("whittle").fit(real, seed=0)
plans["random"] = rmab.make_planner("random").fit(real, seed=0)

# each plan played on the true arms: 20 year-long episodes, the same random streams for all
env = rmab.Environment(real, horizon=52, seed=0)
for name, planner in plans.items():
    returns = []
    for episode in range(20):
        belief, total = env.reset(seed=episode), 0.0
        planner.reset(seed=episode)
        while not env.done:
            step = env.step(planner.plan(belief, t=env.t))
            belief, total = step.belief, total + step.reward
        returns.append(total / 52)
    print(f"{name:30s} engaged per week {np.mean(returns):6.2f}")
