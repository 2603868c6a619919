"""Regression data for SEQUOIA's warm start (numpy): what the Q-network is fitted to before DQN.

Every dataset draws the same (state, time-to-go, action) triples — states uniform over all
states, time-to-go uniform in ``1..horizon``, half random feasible actions and half random
binary vectors of random density (feasible or not, so that the network sees the whole action
cube the MIP ranges over) — and differs in the target:

- ``"myopic"`` (the paper's warm start): the one-step expected reward ``Σ_j R_j(s_j, ℓ_j)``.
- ``"lagrangian"``: the Lagrangian upper bound on the finite-horizon action value
  (Hawkins 2003), on the domain's budget relaxation
  (:func:`rmab.domains.index_baselines.relaxed_arms`, per-arm resource ``c_j`` and budget
  ``B``)::

      Q_λ(s, a, τ) = Σ_j [R_j(s_j, ℓ_j) + γ Σ_s' P_j(s' | s_j, ℓ_j) V_j^λ(s', τ - 1)]
                     + λ B γ w(τ - 1),        w(τ) = Σ_{k<τ} γ^k,

  where ``V_j^λ(·, τ)`` is arm ``j``'s optimal ``τ``-period value with rewards
  ``R_j - λ c_j`` (``V(·, 0) = 0``). By weak duality ``Q_λ >= Q*`` for every feasible action
  and every ``λ >= 0``; we take the ``λ`` of a price grid that minimises the dual
  ``Σ_j V_j^λ(s_j, τ) + λ B w(τ)`` of the sample's state. The network's greedy policy then
  starts as the Lagrangian policy with the domain's constraints rather than as the myopic one.
  At ``τ = 1`` both targets coincide.
"""

from __future__ import annotations

import numpy as np

from rmab.planners.sequoia.features import encode_inputs

__all__ = ["WARM_STARTS", "warm_start_dataset", "lagrangian_action_values"]

WARM_STARTS = ("lagrangian", "myopic")
_N_PRICES = 128          # price grid of the Lagrangian target (0 and a geometric ladder)
_CHUNK = 512             # samples per vectorised block (bounds memory at large J)


def warm_start_dataset(domain, n_samples: int, horizon: int, rng: np.random.Generator,
                       scale: float = 1.0, target: str = "myopic", discount: float = 0.99
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n_samples, n_inputs) float32 and scaled targets (n_samples,) (module doc).

    Inputs are trusted (validated by :class:`~rmab.planners.sequoia.train.SequoiaConfig`).
    """
    n, k = domain.n_arms, domain.action_size
    states = rng.integers(0, domain.n_states, size=(n_samples, n))
    ttg = rng.integers(1, horizon + 1, size=n_samples)
    actions = (rng.random((n_samples, k)) < rng.random((n_samples, 1))).astype(np.int64)
    feasible = rng.random(n_samples) < 0.5
    for i in np.flatnonzero(feasible):
        actions[i] = domain.sample_action(rng)
    levels = np.stack([domain.arm_levels(a) for a in actions]) if n_samples else \
        np.zeros((0, n), dtype=np.int64)
    if target == "myopic":
        y = np.array([domain.arms.expected_reward(s, lv) for s, lv in zip(states, levels)])
    else:
        y = lagrangian_action_values(domain, states, levels, ttg, horizon, discount)
    return encode_inputs(actions, states, ttg, horizon, domain.n_states), y * scale


def lagrangian_action_values(domain, states: np.ndarray, levels: np.ndarray,
                             time_to_go: np.ndarray, horizon: int, discount: float
                             ) -> np.ndarray:
    """``Q_λ(s, ℓ, τ)`` of the module docstring for each row (k,).

    ``states``, ``levels`` int64 (k, n_arms); ``time_to_go`` int (k,) in ``1..horizon``.
    """
    from rmab.domains.index_baselines import relaxed_arms
    from rmab.values.exact import value_iteration

    arms, budget = relaxed_arms(domain)
    pos = arms.costs[arms.costs > 0]
    w = np.cumsum(np.r_[0.0, discount ** np.arange(horizon)])           # w[τ], τ = 0..H
    ceiling = (float(np.ptp(arms.rewards)) * w[-1] + 1.0) / float(pos.min()) if pos.size else 0.0
    prices = np.r_[0.0, ceiling * np.geomspace(1e-5, 1.0, _N_PRICES - 1)] if pos.size else \
        np.zeros(1)
    vi = value_iteration(arms, prices=prices, discount=discount, horizon=horizon,
                         return_table=True)
    n, s = arms.n_arms, arms.n_states
    values = np.zeros((horizon + 1, len(prices), n, s))                   # V[τ, p, j, s]
    values[1:] = vi.period_values[::-1]
    j = np.arange(n)
    out = np.empty(len(time_to_go))
    for lo in range(0, len(out), _CHUNK):
        st, lv = states[lo:lo + _CHUNK], levels[lo:lo + _CHUNK]
        tau = np.asarray(time_to_go[lo:lo + _CHUNK], dtype=np.int64)
        dual = (values[tau[:, None, None], np.arange(len(prices))[None, :, None], j, st[:, None]]
                .sum(axis=2) + prices[None, :] * budget * w[tau][:, None])    # (c, P)
        best = np.argmin(dual, axis=1)
        nxt = values[tau - 1, best]                                         # (c, n, S)
        trans = arms.transitions[j, lv, st]                                 # (c, n, S)
        q = arms.rewards[j, st, lv] + discount * np.einsum("cns,cns->cn", trans, nxt)
        out[lo:lo + _CHUNK] = q.sum(axis=1) + prices[best] * budget * discount * w[tau - 1]
    return out
