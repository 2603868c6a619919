"""Plain-numpy twins of :mod:`rmab.belief._kernels` (vectorised over arms).

They define what the kernels must compute; the tests compare the two, and the benchmarks use
these as the reference speed.
"""

from __future__ import annotations

import numpy as np


def update_numpy(beliefs, actions, signals, transitions, observations):
    """Bayes filter; returns ``(posterior (N, S), normaliser (N,))``; rows with a zero
    normaliser are left unnormalised (all zero). Below 1e-290 the normaliser is that of the
    prior and likelihood each scaled to a largest entry of 1 (> 0 iff the signal is
    possible): the product would lose digits or underflow."""
    idx = np.arange(beliefs.shape[0])
    p = transitions[idx, actions]                        # (N, S, S)
    prior = np.einsum("ns,nst->nt", beliefs, p)          # (N, S)
    like = observations[idx, actions, :, signals]        # (N, S)
    joint = prior * like
    norm = joint.sum(axis=1)
    tiny = norm < 1e-290           # subnormal or underflowed: each factor scaled to a max of 1
    if tiny.any():
        p_top = prior[tiny].max(axis=1, keepdims=True)
        l_top = like[tiny].max(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled = (prior[tiny] / p_top) * (like[tiny] / l_top)
        scaled[~np.isfinite(scaled)] = 0.0          # a zero prior or likelihood: impossible
        joint[tiny] = scaled
        norm[tiny] = scaled.sum(axis=1)
    safe = np.where(norm > 0.0, norm, 1.0)
    return joint / safe[:, None], norm


def signal_probability_numpy(beliefs, actions, transitions, observations):
    idx = np.arange(beliefs.shape[0])
    prior = np.einsum("ns,nst->nt", beliefs, transitions[idx, actions])
    return np.einsum("nt,nto->no", prior, observations[idx, actions])


def _draw_numpy(rows, u):
    cdf = np.cumsum(rows, axis=1)
    k = (u[:, None] >= cdf).sum(axis=1)
    k = np.minimum(k, rows.shape[1] - 1)
    # rounding can put u past the last positive entry: step back to it
    positive = rows > 0.0
    last_pos = rows.shape[1] - 1 - np.argmax(positive[:, ::-1], axis=1)
    return np.where(rows[np.arange(len(k)), k] > 0.0, k, np.minimum(k, last_pos))


def sample_numpy(states, actions, transitions, observations, u_state, u_signal):
    idx = np.arange(states.shape[0])
    next_states = _draw_numpy(transitions[idx, actions, states], u_state)
    signals = _draw_numpy(observations[idx, actions, next_states], u_signal)
    return next_states, signals


def sample_states_numpy(beliefs, u_state):
    return _draw_numpy(beliefs, u_state)
