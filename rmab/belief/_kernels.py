"""Numba kernels of the Bayes filter and the samplers (private: inputs are trusted).

All arrays are C-contiguous float64 / int64; outputs are preallocated by the caller.
Twins in plain numpy live in :mod:`rmab.belief._reference` and are compared in the tests.
"""

from __future__ import annotations

from rmab._kernels import njit, prefetch


_PREFETCH_MIN_ARMS = 8192  # below this the model stays in cache: prefetching only costs
_AHEAD = 8                 # arms between a prefetch and the arm's update
_PREFETCH_MIN_BYTES = 256  # an arm's model (all actions) below which sampling reads in order


@njit(nogil=True)
def update_kernel(beliefs, actions, signals, transitions, observations, out):
    """``out[n] ∝ observations[n, a, :, o] * (beliefs[n] @ transitions[n, a])``.

    Returns -1 on success, else the first arm whose signal has probability zero (its row of
    ``out`` is then left unnormalised, earlier rows hold their posteriors, later rows are
    unspecified).

    With many arms the per-arm matrices come from main memory, at addresses that depend on
    each arm's action, so the CPU's own prefetcher falls behind: the kernel asks for the
    matrices of arm ``n + _AHEAD`` while it updates arm ``n`` (at 100 000 arms of 4 states
    1.6x with 3 actions and 1.8x with 2 over the four interleaved arm streams it replaced;
    docs/history.md#benchmarks-foundation, session 40).
    """
    if beliefs.shape[0] < _PREFETCH_MIN_ARMS:
        return _update_in_order(beliefs, actions, signals, transitions, observations, out)
    return _update_prefetched(beliefs, actions, signals, transitions, observations, out)


@njit(nogil=True)
def _update_in_order(beliefs, actions, signals, transitions, observations, out):
    for n in range(beliefs.shape[0]):
        if not (_filter_arm(beliefs, actions, signals, transitions, observations, out, n)
                or _filter_scaled(beliefs, actions, signals, transitions, observations, out, n)):
            return n
    return -1


@njit(nogil=True)
def _update_prefetched(beliefs, actions, signals, transitions, observations, out):
    """:func:`_update_in_order`, prefetching every cache line of the transition and signal
    matrices arm ``n + _AHEAD`` will read (8 float64 to a 64-byte line)."""
    n_arms, n_actions = transitions.shape[0], transitions.shape[1]
    t_size = transitions.shape[2] * transitions.shape[3]
    o_size = observations.shape[2] * observations.shape[3]
    for n in range(n_arms):
        m = n + _AHEAD
        if m < n_arms:
            block = m * n_actions + actions[m]
            for k in range(block * t_size, (block + 1) * t_size, 8):
                prefetch(transitions, k)
            prefetch(transitions, (block + 1) * t_size - 1)    # a block may straddle lines
            for k in range(block * o_size, (block + 1) * o_size, 8):
                prefetch(observations, k)
            prefetch(observations, (block + 1) * o_size - 1)
        if not (_filter_arm(beliefs, actions, signals, transitions, observations, out, n)
                or _filter_scaled(beliefs, actions, signals, transitions, observations, out, n)):
            return n
    return -1


@njit(nogil=True, inline="always")
def _filter_arm(beliefs, actions, signals, transitions, observations, out, n):
    """Posterior of arm ``n`` into ``out[n]``; False if its normaliser is below ``_TINY``
    (then :func:`_filter_scaled` decides)."""
    n_states = beliefs.shape[1]
    a = actions[n]
    o = signals[n]
    total = 0.0
    for sp in range(n_states):
        acc = 0.0
        for s in range(n_states):
            acc += beliefs[n, s] * transitions[n, a, s, sp]
        v = acc * observations[n, a, sp, o]
        out[n, sp] = v
        total += v
    if not total >= _TINY:
        return False
    inv = 1.0 / total
    for sp in range(n_states):
        out[n, sp] *= inv
    return True


_TINY = 1e-290        # below, prior * likelihood loses digits (subnormal) or all (0)


@njit(nogil=True)
def _filter_scaled(beliefs, actions, signals, transitions, observations, out, n):
    """:func:`_filter_arm` with the prior and the likelihood each divided by its largest
    entry (the posterior is the same, the products no longer underflow); False (row left
    unnormalised) if the signal has probability zero. Off the hot path."""
    n_states = beliefs.shape[1]
    a = actions[n]
    o = signals[n]
    top_like = 0.0
    for sp in range(n_states):
        top_like = max(top_like, observations[n, a, sp, o])
    if top_like == 0.0:                # an impossible signal: the row stays all zero
        return False
    top_prior = 0.0
    for sp in range(n_states):
        acc = 0.0
        for s in range(n_states):
            acc += beliefs[n, s] * transitions[n, a, s, sp]
        out[n, sp] = acc
        top_prior = max(top_prior, acc)
    total = 0.0
    for sp in range(n_states):
        v = (out[n, sp] / top_prior) * (observations[n, a, sp, o] / top_like)
        out[n, sp] = v
        total += v
    if not total > 0.0:
        return False
    for sp in range(n_states):         # divide: 1 / a subnormal total is inf (as the twin)
        out[n, sp] /= total
    return True


@njit(nogil=True)
def signal_probability_kernel(beliefs, actions, transitions, observations, out):
    """``out[n, o] = Pr(o | beliefs[n], actions[n])``."""
    n_arms, n_states = beliefs.shape
    n_obs = observations.shape[3]
    for n in range(n_arms):
        a = actions[n]
        for o in range(n_obs):
            out[n, o] = 0.0
        for sp in range(n_states):
            acc = 0.0
            for s in range(n_states):
                acc += beliefs[n, s] * transitions[n, a, s, sp]
            for o in range(n_obs):
                out[n, o] += acc * observations[n, a, sp, o]


@njit(nogil=True, inline="always")
def _draw(row, u):
    """Inverse-CDF draw from the probability vector ``row`` with a uniform ``u`` in [0, 1)."""
    k = 0
    c = row[0]
    last = row.shape[0] - 1
    while u >= c and k < last:
        k += 1
        c += row[k]
    while row[k] == 0.0 and k > 0:  # rounding put u past the last positive entry
        k -= 1
    return k


@njit(nogil=True)
def sample_kernel(states, actions, transitions, observations, u_state, u_signal,
                  next_states, signals):
    """Draw each arm's next state from ``transitions[n, a, s]`` and its signal from
    ``observations[n, a, s']`` by inverse CDF with the given uniforms (common random numbers).

    As :func:`update_kernel`, many arms whose model takes at least ``_PREFETCH_MIN_BYTES``
    prefetch arm ``n + _AHEAD``'s row and signal matrix (2.1x at 100 000 arms of 4 states and 3
    actions); smaller models read in order are followed by the CPU (prefetching them cost 0.9x
    at 2 states)."""
    n_arms, n_actions, s_count = transitions.shape[0], transitions.shape[1], transitions.shape[2]
    o_size = observations.shape[2] * observations.shape[3]
    ahead = _AHEAD if (n_arms >= _PREFETCH_MIN_ARMS and
                       8 * n_actions * (s_count * s_count + o_size) >= _PREFETCH_MIN_BYTES) else 0
    for n in range(n_arms):
        m = n + ahead
        if ahead and m < n_arms:
            block = m * n_actions + actions[m]
            row = (block * s_count + states[m]) * s_count
            for k in range(row, row + s_count, 8):
                prefetch(transitions, k)
            prefetch(transitions, row + s_count - 1)
            for k in range(block * o_size, (block + 1) * o_size, 8):
                prefetch(observations, k)
            prefetch(observations, (block + 1) * o_size - 1)
        a = actions[n]
        sp = _draw(transitions[n, a, states[n]], u_state[n])
        next_states[n] = sp
        signals[n] = _draw(observations[n, a, sp], u_signal[n])


@njit(nogil=True)
def sample_states_kernel(beliefs, u_state, states):
    """Draw ``states[n]`` from the distribution ``beliefs[n]``."""
    for n in range(beliefs.shape[0]):
        states[n] = _draw(beliefs[n], u_state[n])


@njit(nogil=True)
def realised_reward_kernel(states, actions, rewards, out):
    """``out[n] = rewards[n, states[n], actions[n]]``; returns the sum."""
    total = 0.0
    for n in range(states.shape[0]):
        v = rewards[n, states[n], actions[n]]
        out[n] = v
        total += v
    return total
