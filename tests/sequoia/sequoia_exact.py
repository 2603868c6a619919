"""Exact finite-horizon policy value on tiny coRMAB domains (a reference for the SEQUOIA tests)."""

import itertools

import numpy as np


def exact_policy_value(domain, choose, horizon: int, p_high: float = 0.2) -> float:
    """Mean per-step expected reward of the policy ``choose(states, time_to_go) -> action`` from
    Bernoulli(``p_high``) initial states, by backward induction over all ``n_states ** n_arms``
    states (an exact reference, no simulation noise)."""
    n = domain.n_arms
    states = np.array(list(itertools.product(range(domain.n_states), repeat=n)))
    index = {tuple(s): i for i, s in enumerate(states)}
    moves = np.array(list(itertools.product((0, 1), repeat=n)))
    value = np.zeros(len(states))
    for t in reversed(range(horizon)):
        new = np.zeros(len(states))
        for i, s in enumerate(states):
            levels = domain.arm_levels(np.asarray(choose(s, horizon - t)))
            p = domain.arms.up_prob[np.arange(n), levels]
            nxt = np.clip(np.where(moves == 1, s + 1, s - 1), 0, domain.n_states - 1)
            prob = np.prod(np.where(moves == 1, p, 1 - p), axis=1)
            new[i] = domain.arms.expected_reward(s, levels) + sum(
                pr * value[index[tuple(x)]] for pr, x in zip(prob, nxt))
        value = new
    start = np.array([np.prod(np.where(s == 1, p_high, 1 - p_high)) if s.max() <= 1 else 0.0
                      for s in states])
    return float(start @ value) / horizon
