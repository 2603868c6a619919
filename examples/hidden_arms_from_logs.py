"""Estimate hidden-state arms from two years of call logs, then plan: 100 beneficiaries.

Run: ``python examples/hidden_arms_from_logs.py``. A past programme called 30 of its
beneficiaries at random each week and logged only what it saw: the action and, after a call,
whether it was answered (engagement itself is hidden; no call, no signal).
``rmab.estimate_hidden_arms`` fits the arms by EM: one pooled model, then each arm's
transition rows shrunk towards it by ``strength`` pseudo-observations per row; the signal
model is estimated too, or known and held fixed; ``rmab.score_hidden_strengths`` measures
which strength predicts held-out answers best. Each estimate is planned with (belief-state
Whittle indices, 10 calls a week) and played on the true arms for a year (20 episodes), its
beliefs filtered with its own model from the answers it hears, next to the plan made on the
true arms (as the programme sees them: answers only) and random calls.
"""

import numpy as np

import rmab

truth = rmab.health_intervention(100, seed=3).arms
n = truth.n_arms
true = rmab.POMDPArms(truth.transitions[:, :2], truth.observations[:, :2], truth.rewards[:, :, :2],
                      costs=[0.0, 1.0])                         # actions: 0 none, 1 call
real = rmab.Instance(true, budget=10, discount=0.95)
unheard = true.observations.copy()
unheard[:, 0] = 0.5                 # the programme hears an answer or not only when it calls
seen = rmab.POMDPArms(true.transitions, unheard, true.rewards, costs=[0.0, 1.0])

# two years of logs: each week 30 called at random; the programme records action and answer
env = rmab.Environment(real.replace(budget=30), horizon=104, seed=1)
now, rng = env.reset(seed=1), np.random.default_rng(1)
arm_index, actions, signals = [], [], []
while not env.done:
    action = np.zeros(n, np.int64)
    action[rng.choice(n, 30, replace=False)] = 1
    step = env.step(action)
    now = rmab.update_beliefs(seen, now, action, step.signals)    # as known on the true arms
    arm_index.append(np.arange(n)), actions.append(action)
    signals.append(np.where(action == 1, step.signals, -1))     # no call: no signal
log = [np.concatenate(x) for x in (arm_index, actions, signals)]
print(f"{len(log[0])} logged weeks, {int(log[1].sum())} calls and their answers")

# how far to shrink, measured: each arm's last quarter of records held out and predicted
scores = rmab.score_hidden_strengths(*log, n_arms=n, n_states=2, n_actions=2, n_obs=2, seed=0)
best = max(scores, key=scores.get)
print("held-out log-likelihood per signal: " + ", ".join(
    f"{k:g}: {v:.4f}" for k, v in scores.items()) + f"; the best strength: {best:g}")

# the signal model estimated too, or known (a survey: how often each kind answers a call)
known = dict(observations=unheard.mean(axis=0), fixed=("observations",))
models = {"whittle on the true arms": (seen, now)}
for kind, strength in (("estimated", 1.0), ("estimated", 10.0), ("known", 1.0),
                       ("known", 10.0)):
    est = rmab.estimate_hidden_arms(*log, n_arms=n, n_states=2, n_actions=2, n_obs=2,
                                    strength=strength, seed=0,
                                    **(known if kind == "known" else {}))
    name = f"whittle, {kind} signals x{strength:g}"
    errors = [np.abs(x - y).mean() for x, y in ((est.transitions, seen.transitions),
                                                 (est.observations, seen.observations))]
    print(f"{name:33s} {len(est.history_pooled)} + {len(est.history_arms)} EM iterations; "
          f"mean error of the transition rows {errors[0]:.3f}, of the signal rows "
          f"{errors[1]:.3f}")
    models[name] = est.arms([0.0, 1.0], costs=[0.0, 1.0]), est.beliefs

# each plan played on the true arms from this week: 20 year-long episodes, the same streams
play = rmab.Environment(real.replace(initial_belief=now), horizon=52, seed=0)
plans = {name: (rmab.make_planner("whittle").fit(real.replace(arms=arms), seed=0), arms, b)
         for name, (arms, b) in models.items()}
plans["random"] = (rmab.make_planner("random").fit(real, seed=0), seen, now)
for name, (planner, arms, start) in plans.items():
    returns = []
    for episode in range(20):
        play.reset(seed=episode)
        planner.reset(seed=episode)
        belief, total = start, 0.0
        while not play.done:      # each filters with its own arms: no signal heard uncalled
            action = planner.plan(belief, t=play.t)
            step = play.step(action)
            belief, total = rmab.update_beliefs(arms, belief, action, step.signals), \
                total + step.reward
        returns.append(total / 52)
    print(f"{name:33s} engaged per week {np.mean(returns):6.2f}")
