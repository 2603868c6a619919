"""The numba kernel of :mod:`rmab.models.hidden` (private: inputs are trusted), imported on
first use so that ``import rmab.models`` does not load numba.

Its checks are the sum over every hidden path and the Bayes filter
(``tests/models/test_hidden.py``), and a numpy twin in ``benchmarks/bench_estimate.py``.
"""

from __future__ import annotations

import numpy as np

from rmab._kernels import njit


@njit(nogil=True)
def em_kernel(bounds, actions, signals, param, transitions, observations, initial,
              out_transitions, out_observations, out_first, beliefs, log_likelihood,
              alpha, scales):
    """The E-step of Baum-Welch with scaling, arm by arm (records sorted by arm).

    Arm ``n`` uses row ``param[n]`` of ``transitions`` (R, A, S, S), ``observations``
    (R, A, S, O) and ``initial`` (R, S), and adds its expected counts to the same row of
    ``out_*``; ``beliefs[n]`` is its filtered belief after its last record, and
    ``log_likelihood[n]`` the log-probability of its signals; an arm without records adds
    nothing to ``out_first`` (else the belief's M-step is slowed by the share of such arms,
    its fixed point the same). ``alpha`` (n_records + n_arms, S) and ``scales``
    (n_records,) are workspace. A signal ``< 0`` is missing (no factor).
    Returns -1, or the first sorted record whose signal has probability 0.
    """
    n_states = initial.shape[1]
    beta = np.empty(n_states)
    weight = np.empty(n_states)
    for n in range(bounds.shape[0] - 1):
        r = param[n]
        start, length = bounds[n], bounds[n + 1] - bounds[n]
        row = start + n                        # alpha's row of the arm's time 0
        total = 0.0
        for s in range(n_states):
            alpha[row, s] = initial[r, s]
        for t in range(length):
            k, a, o = start + t, actions[start + t], signals[start + t]
            c = 0.0
            for s2 in range(n_states):
                pred = 0.0
                for s in range(n_states):
                    pred += alpha[row + t, s] * transitions[r, a, s, s2]
                if o >= 0:
                    pred *= observations[r, a, s2, o]
                alpha[row + t + 1, s2] = pred
                c += pred
            if not c > 0.0:
                return k
            for s2 in range(n_states):
                alpha[row + t + 1, s2] /= c
            scales[k] = c
            total += np.log(c)
        log_likelihood[n] = total
        for s in range(n_states):
            beliefs[n, s] = alpha[row + length, s]
            beta[s] = 1.0
        for t in range(length - 1, -1, -1):
            k, a, o = start + t, actions[start + t], signals[start + t]
            for s2 in range(n_states):
                e = observations[r, a, s2, o] if o >= 0 else 1.0
                weight[s2] = e * beta[s2] / scales[k]
                if o >= 0:
                    out_observations[r, a, s2, o] += alpha[row + t + 1, s2] * beta[s2]
            for s in range(n_states):
                back = 0.0
                for s2 in range(n_states):
                    x = transitions[r, a, s, s2] * weight[s2]
                    out_transitions[r, a, s, s2] += alpha[row + t, s] * x
                    back += x
                beta[s] = back
        if length > 0:                         # no records: no information on the belief
            for s in range(n_states):
                out_first[r, s] += alpha[row, s] * beta[s]
    return -1
