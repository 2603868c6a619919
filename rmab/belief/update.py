"""Bayes filter over many arms and samplers of next states and signals (public, validated).

``update_beliefs`` computes, for every arm ``n`` with action ``a = actions[n]`` and signal
``o = signals[n]``::

    belief'[n, s'] ∝ observations[n, a, s', o] * sum_s belief[n, s] * transitions[n, a, s, s']

The hot loops are Numba kernels (:mod:`rmab.belief._kernels`); the simulator calls those
directly after validating once.
"""

from __future__ import annotations

import numpy as np

from rmab._validation import (BELIEF_TOL, as_float_array, as_generator, check_actions,
                              check_arms, zero_rounding)
from rmab.belief import _kernels
from rmab.errors import ImpossibleSignalError, InvalidParameterError
from rmab.models.arms import MDPArms, POMDPArms

__all__ = ["update_beliefs", "signal_probabilities", "sample_next", "sample_states",
           "check_beliefs", "check_actions"]


def check_beliefs(owner: str, beliefs, n_arms: int, n_states: int, field: str = "beliefs"
                  ) -> np.ndarray:
    """Beliefs as a C-contiguous float64 array (n_arms, n_states) on the simplex (real numbers
    only: strings and complex numbers are refused); errors name ``owner.field``. Entries in
    ``[-1e-9, 0)`` count as 0 (in a copy). A finite C-contiguous float64 array of entries
    >= 0 is returned as it is (the simulator's hot path: no copy); anything else is
    converted."""
    fast = (isinstance(beliefs, np.ndarray) and beliefs.dtype == np.float64
            and beliefs.flags.c_contiguous and np.isfinite(beliefs).all())
    b = beliefs if fast else as_float_array(owner, field, beliefs,
                                            error=InvalidParameterError)
    if b.shape != (n_arms, n_states):
        states = b.shape == (n_arms,) and bool((b == np.round(b)).all())
        hint = ("; states known exactly are one-hot beliefs: np.eye(n_states)[states]"
                if states else "")
        raise InvalidParameterError(f"{owner}.{field}: must have shape (n_arms={n_arms}, "
                                    f"n_states={n_states}); got {b.shape}{hint}")
    b = zero_rounding(b)             # as the models' rows (a copy, never the input)
    bad = b < 0.0
    if bad.any():
        n, s = (int(i) for i in np.argwhere(bad)[0])
        raise InvalidParameterError(f"{owner}.{field}: must be finite and >= 0; got {b[n, s]} "
                                    f"(arm {n}, state {s})")
    off = np.abs(b.sum(axis=1) - 1.0) > BELIEF_TOL
    if off.any():
        n = int(np.flatnonzero(off)[0])
        raise InvalidParameterError(f"{owner}.{field}: rows must sum to 1 (within 1e-6); got "
                                    f"{float(b[n].sum()):.12g} (arm {n}); rounded beliefs: "
                                    f"b / b.sum(axis=1, keepdims=True)")
    return b


def _check_arms(owner: str, arms):
    check_arms(owner, arms, (MDPArms, POMDPArms))


def update_beliefs(arms, beliefs, actions, signals, *, out=None) -> np.ndarray:
    """Posterior beliefs after ``actions`` and the observed ``signals``.

    Parameters
    ----------
    arms : MDPArms or POMDPArms
    beliefs : array (n_arms, n_states)
    actions, signals : int arrays (n_arms,); a signal of -1 is none seen (an arm not called) or
        one not known: its belief is the prediction ``belief @ transitions[action]``, the
        signal summed out, as :func:`~rmab.estimate_hidden_arms` reads -1 and ``rmab update``
        an empty or ``?`` cell (docs/csv.md)
    out : array (n_arms, n_states), optional
        Written in place and returned; must not share memory with ``beliefs``.

    Raises
    ------
    ImpossibleSignalError
        If a signal has probability zero under the model and the belief (names the arm).
    """
    owner = "update_beliefs"
    _check_arms(owner, arms)
    n, s = arms.n_arms, arms.n_states
    b = check_beliefs(owner, beliefs, n, s)
    a = check_actions(owner, actions, n, arms.n_actions)
    o = check_actions(owner, signals, n, arms.n_obs, field="signals",
                      none="no signal: the prediction alone")
    if out is None:
        out = np.empty_like(b)
    elif (not isinstance(out, np.ndarray) or out.shape != b.shape or out.dtype != np.float64
          or not out.flags.c_contiguous or not out.flags.writeable
          or np.shares_memory(out, beliefs)):
        raise InvalidParameterError(f"{owner}.out: must be a writeable C-contiguous float64 array "
                                    f"of shape {b.shape} not sharing memory with beliefs")
    if (o >= 0).all():
        bad = _kernels.update_kernel(b, a, o, arms.transitions, arms.observations, out)
        if bad >= 0:
            raise impossible_signal(owner, bad, a[bad], o[bad])
        return out
    seen, none = np.flatnonzero(o >= 0), np.flatnonzero(o < 0)
    if seen.size:
        part = np.empty((seen.size, s))
        bad = _kernels.update_kernel(b[seen], a[seen], o[seen], arms.transitions[seen],
                                     arms.observations[seen], part)
        if bad >= 0:
            raise impossible_signal(owner, int(seen[bad]), a[seen[bad]], o[seen[bad]])
        out[seen] = part
    out[none] = predicted(arms, b[none], a[none], none)
    return out


def predicted(arms, beliefs: np.ndarray, actions: np.ndarray, which: np.ndarray
              ) -> np.ndarray:
    """``beliefs[i] @ transitions[which[i], actions[i]]``: the Bayes filter's
    :func:`~rmab.belief._kernels.update_kernel` given a signal of likelihood 1 in every state,
    which is what summing the signal out leaves (``sum_o Pr(o | s', a) = 1``), so the same
    rounding as an update; the exact Bayes update of a record missing at random."""
    transitions = arms.transitions[which]                     # C-contiguous copies
    out = np.empty_like(beliefs)
    silent = np.ones(transitions.shape[:3] + (1,))
    # the prior sums to 1, never below the kernel's threshold: no arm to report (-1)
    _kernels.update_kernel(beliefs, actions, np.zeros(len(which), dtype=np.int64), transitions,
                           silent, out)
    return out


def impossible_signal(owner: str, arm: int, action: int, signal: int) -> ImpossibleSignalError:
    return ImpossibleSignalError(
        f"{owner}.signals: must have positive probability under the model and belief; got "
        f"signal {signal} after action {action}, which has probability 0 (arm {arm})")


def signal_probabilities(arms, beliefs, actions) -> np.ndarray:
    """``Pr(o | belief[n], actions[n])`` for every arm and signal, shape (n_arms, n_obs)."""
    owner = "signal_probabilities"
    _check_arms(owner, arms)
    b = check_beliefs(owner, beliefs, arms.n_arms, arms.n_states)
    a = check_actions(owner, actions, arms.n_arms, arms.n_actions)
    out = np.empty((arms.n_arms, arms.n_obs))
    _kernels.signal_probability_kernel(b, a, arms.transitions, arms.observations, out)
    return out


def sample_next(arms, states, actions, *, seed=None, u_state=None, u_signal=None):
    """Draw next states and signals for every arm.

    Either give ``seed`` or both uniform arrays ``u_state``, ``u_signal`` of shape (n_arms,)
    in [0, 1) (common random numbers: the same uniforms give the same outcome for the same
    action). Returns ``(next_states, signals)`` as int64 arrays.
    """
    owner = "sample_next"
    _check_arms(owner, arms)
    n = arms.n_arms
    st = check_actions(owner, states, n, arms.n_states, field="states")
    a = check_actions(owner, actions, n, arms.n_actions)
    if (u_state is None) != (u_signal is None):
        raise InvalidParameterError(f"{owner}.u_state: must be given with u_signal (both, or "
                                    f"neither and a seed); got only "
                                    f"{'u_state' if u_signal is None else 'u_signal'}")
    if u_state is None:
        rng = as_generator(seed, f"{owner}.seed")
        u_state, u_signal = rng.random(n), rng.random(n)
    u_state = _check_uniforms(owner, "u_state", u_state, n)
    u_signal = _check_uniforms(owner, "u_signal", u_signal, n)
    next_states = np.empty(n, dtype=np.int64)
    signals = np.empty(n, dtype=np.int64)
    _kernels.sample_kernel(st, a, arms.transitions, arms.observations, u_state, u_signal,
                           next_states, signals)
    return next_states, signals


def sample_states(beliefs, *, seed=None, u_state=None) -> np.ndarray:
    """Draw one state per row of ``beliefs`` (n_arms, n_states); returns int64 (n_arms,)."""
    owner = "sample_states"
    b = as_float_array(owner, "beliefs", beliefs, error=InvalidParameterError)
    if b.ndim != 2:
        raise InvalidParameterError(f"{owner}.beliefs: must be 2-dimensional; got {b.shape}")
    b = check_beliefs(owner, b, *b.shape)
    if u_state is None:
        u_state = as_generator(seed, f"{owner}.seed").random(b.shape[0])
    u_state = _check_uniforms(owner, "u_state", u_state, b.shape[0])
    out = np.empty(b.shape[0], dtype=np.int64)
    _kernels.sample_states_kernel(b, u_state, out)
    return out


def _check_uniforms(owner, field, u, n) -> np.ndarray:
    try:
        raw = np.asarray(u)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{owner}.{field}: must be {n} numbers in [0, 1)") from exc
    if raw.dtype.kind not in "biuf":             # strings and complex numbers are refused
        raise InvalidParameterError(f"{owner}.{field}: must be {n} numbers in [0, 1)")
    u = np.ascontiguousarray(raw, dtype=np.float64)
    if u.shape != (n,):
        raise InvalidParameterError(f"{owner}.{field}: must have shape (n_arms={n},); got "
                                    f"{u.shape}")
    bad = ~((u >= 0.0) & (u < 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(f"{owner}.{field}: must be numbers in [0, 1); got {u[i]} "
                                    f"(arm {i})")
    return u


