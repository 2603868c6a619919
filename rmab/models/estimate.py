"""Arm probabilities estimated from logged data: counts of transitions, and posterior means.

A programme's logs give, per beneficiary and week, the state seen, the action taken and the
state seen next (fully observed logs: engagement read from answered calls, say).
:func:`count_transitions` tallies them into ``(n_arms, n_actions, n_states, n_states)``;
:func:`estimate_probabilities` turns counts into rows that sum to 1, shrinking each row
towards a prior by ``strength`` pseudo-observations, so that a row with little or no data (a
state and action never logged for that beneficiary) is usable. The same function estimates
signal models from ``(n_arms, n_actions, n_states, n_obs)`` counts.
"""

from __future__ import annotations

import numpy as np

from rmab._validation import as_array, as_float_array, check_actions, check_number
from rmab.errors import InvalidParameterError

_PRIORS = ("pooled", "uniform")
STRENGTHS = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)            # score_strengths' default


def count_transitions(arm_index, states, actions, next_states, *, n_arms: int, n_states: int,
                      n_actions: int) -> np.ndarray:
    """Counts of logged transitions, one record per (arm, period).

    Parameters
    ----------
    arm_index, states, actions, next_states : int arrays (n_records,)
        Record ``k``: arm ``arm_index[k]`` was in ``states[k]``, took ``actions[k]`` and was
        next seen in ``next_states[k]``.
    n_arms, n_states, n_actions : int
        The sizes of the arms the counts are for (arms without records get rows of zeros).

    Returns
    -------
    counts : int64 array (n_arms, n_actions, n_states, n_states)
        ``counts[n, a, s, s2]``: the records of arm ``n`` going from ``s`` to ``s2`` under
        ``a``.
    """
    owner = "count_transitions"
    sizes = [int(check_number(owner, name, value, low=1, high=2**31, integer=True))
             for name, value in (("n_arms", n_arms), ("n_states", n_states),
                                 ("n_actions", n_actions))]
    n_arms, n_states, n_actions = sizes
    arm_index = as_array(owner, "arm_index", arm_index, "(n_records,)")    # ragged: named
    n_records = arm_index.shape[0] if arm_index.ndim == 1 else -1
    if n_records < 0:
        raise InvalidParameterError(f"{owner}.arm_index: must be a 1-D array of arm indices; got "
                                    f"shape {arm_index.shape}")
    if n_arms * n_actions * n_states * n_states > 2**31:
        raise InvalidParameterError(f"{owner}: n_arms * n_actions * n_states**2 must be at most "
                                    f"2**31 counts; got {n_arms * n_actions * n_states**2}")
    columns = [check_actions(owner, values, n_records, high, field, noun="record")
               for field, values, high in (("arm_index", arm_index, n_arms),
                                           ("states", states, n_states),
                                           ("actions", actions, n_actions),
                                           ("next_states", next_states, n_states))]
    counts = np.zeros((n_arms, n_actions, n_states, n_states), dtype=np.int64)
    n, s, a, s2 = columns
    np.add.at(counts, (n, a, s, s2), 1)
    return counts


def estimate_probabilities(counts, *, prior="pooled", strength: float = 1.0) -> np.ndarray:
    """Posterior-mean probability rows from counts over the last axis.

    Each row ``c`` (its ``m = Σ c`` observations) becomes ``(c + strength * p) / (m +
    strength)``: the mean of the Dirichlet posterior whose prior has mean ``p`` and
    ``strength`` pseudo-observations, i.e. the observed frequencies ``c / m`` weighted by ``m``
    against the prior row weighted by ``strength``.

    Parameters
    ----------
    counts : array (n_arms, ..., K)
        Non-negative counts (or weights), e.g. from :func:`count_transitions`: ``(n_arms,
        n_actions, n_states, n_states)`` for transitions, ``(n_arms, n_actions, n_states,
        n_obs)`` for signals.
    prior : "pooled", "uniform" or array (..., K)
        The rows shrunk towards. ``"pooled"`` (default): every arm's row is shrunk towards the
        frequencies of that row summed over all arms (uniform where no arm has data), so an
        unseen state and action takes the population's behaviour. ``"uniform"``: ``1 / K``.
        An array broadcasting to ``counts.shape[1:]``: your own rows (an expert's, a previous
        fit), each summing to 1.
    strength : float >= 0
        Pseudo-observations of the prior per row (default 1). 0 gives the observed
        frequencies (maximum likelihood), which needs data in every row.

    Returns
    -------
    probabilities : float64 array, the shape of ``counts``; rows sum to 1.
    """
    owner = "estimate_probabilities"
    c = as_float_array(owner, "counts", counts, error=InvalidParameterError)
    if c.ndim < 2 or c.shape[-1] < 1 or c.size == 0:
        raise InvalidParameterError(f"{owner}.counts: must have an arm axis first and the "
                                    f"outcomes last, (n_arms, ..., K); got shape {c.shape}")
    if (c < 0).any():
        idx = tuple(int(i) for i in np.argwhere(c < 0)[0])
        raise InvalidParameterError(f"{owner}.counts: must be >= 0; got {c[idx]:g} at index "
                                    f"{idx} (arm {idx[0]})")
    strength = check_number(owner, "strength", strength, low=0.0)
    with np.errstate(over="ignore"):                 # refused below, by its row
        rows = c.sum(axis=-1, keepdims=True)
    total = rows + strength
    if not np.isfinite(total).all():           # 1e308 + 1e308: NaN rows, returned silently
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(total[..., 0]))[0])
        raise InvalidParameterError(f"{owner}.counts: each row's sum plus strength must be "
                                    f"finite; got a sum of {float(rows[idx][0]):g} at index "
                                    f"{idx} (arm {idx[0]})")
    with np.errstate(over="ignore", invalid="ignore"):
        p = _prior_rows(owner, prior, c)
    if not np.isfinite(p).all():               # the pooled sums over arms overflowed
        raise InvalidParameterError(f"{owner}.counts: the sums over arms of the pooled prior "
                                    f"must be finite; scale the counts down")
    empty = rows[..., 0] == 0
    if strength == 0.0 and empty.any():
        idx = tuple(int(i) for i in np.argwhere(empty)[0])
        raise InvalidParameterError(f"{owner}.counts: with strength 0 every row needs data; "
                                    f"got none at index {idx} (arm {idx[0]}): use strength > 0 "
                                    f"to fill it from the prior")
    out = (c + strength * p) / total
    return out / out.sum(axis=-1, keepdims=True)          # exact sums after the division


def score_strengths(arm_index, states, actions, next_states, *, n_arms: int, n_states: int,
                    n_actions: int, prior="pooled", strengths=STRENGTHS,
                    holdout: float = 0.25) -> dict:
    """How far to shrink, measured: each strength's held-out log-likelihood per record.

    Each arm's last ``holdout`` share of records (rounded down: none where that is under one
    record; the records of an arm in time order) is held out, the rows are estimated from the
    rest by :func:`estimate_probabilities` (``prior``, each strength), and each held-out
    transition scores the log of its estimated probability.

    Returns ``{strength: mean log-likelihood per held-out record}``, higher is better.
    """
    owner = "score_strengths"
    counts = count_transitions(arm_index, states, actions, next_states, n_arms=n_arms,
                               n_states=n_states, n_actions=n_actions)      # checks them all
    grid = check_strengths(owner, strengths, finite=True)
    n, s, a, s2 = (np.asarray(x).astype(np.int64) for x in (arm_index, states, actions,
                                                            next_states))
    held = held_out(owner, n, n_arms, holdout)          # checked: integral floats too
    head = counts - count_transitions(n[held], s[held], a[held], s2[held], n_arms=n_arms,
                                      n_states=n_states, n_actions=n_actions)
    scores = {}
    for strength in grid:
        rows = estimate_probabilities(head, prior=prior, strength=strength)
        with np.errstate(divide="ignore"):          # a transition the rows rule out: -inf
            scores[strength] = float(np.log(rows[n[held], a[held], s[held], s2[held]]).mean())
    return scores


def held_out(owner: str, arm_index: np.ndarray, n_arms: int, holdout) -> np.ndarray:
    """Which records are held out: each arm's last ``holdout`` share, rounded down, in the
    records' order (an error if none is)."""
    holdout = check_number(owner, "holdout", holdout, low=0.0, high=1.0, low_open=True,
                           high_open=True)
    order = np.argsort(arm_index, kind="stable")
    length = np.bincount(arm_index, minlength=n_arms)
    start = np.cumsum(length) - length
    place = np.arange(len(order)) - np.repeat(start, length)   # in its arm, sorted order
    tail = np.repeat(np.floor(holdout * length).astype(np.int64), length)
    held = np.zeros(len(order), bool)
    held[order] = place >= np.repeat(length, length) - tail
    if not held.any():
        raise InvalidParameterError(f"{owner}.holdout: holds out no record (each arm's last "
                                    f"{holdout:g} of its records, rounded down); give a larger "
                                    f"share or a longer log")
    return held


def check_strengths(owner: str, strengths, finite: bool = False) -> tuple:
    """The strengths to score: numbers > 0 (or inf unless ``finite``), at least one."""
    try:
        grid = tuple(strengths)
    except TypeError:
        grid = ()
    checked = []
    for value in grid:
        if finite or not (isinstance(value, (float, np.floating)) and value == np.inf):
            value = check_number(owner, "strengths", value, low=0.0, low_open=True)
        checked.append(float(value))
    if not checked:
        raise InvalidParameterError(f"{owner}.strengths: must be numbers > 0"
                                    f"{'' if finite else ' (or inf)'}, at least one; got "
                                    f"{strengths!r}")
    return tuple(checked)


def _prior_rows(owner: str, prior, c: np.ndarray) -> np.ndarray:
    """The prior's rows, broadcasting to ``c.shape[1:]``."""
    k = c.shape[-1]
    if isinstance(prior, str):
        if prior not in _PRIORS:
            raise InvalidParameterError(f"{owner}.prior: must be one of {_PRIORS} or an array "
                                        f"of rows; got {prior!r}")
        if prior == "uniform":
            return np.full(c.shape[1:], 1.0 / k)
        pooled = c.sum(axis=0)
        total = pooled.sum(axis=-1, keepdims=True)
        return np.where(total > 0, pooled / np.where(total > 0, total, 1.0), 1.0 / k)
    p = as_float_array(owner, "prior", prior, error=InvalidParameterError, first_axis="action")
    try:
        p = np.broadcast_to(p, c.shape[1:])
    except ValueError:
        raise InvalidParameterError(f"{owner}.prior: must broadcast to counts.shape[1:] = "
                                    f"{c.shape[1:]}; got shape {p.shape}") from None
    bad = (p < 0).any(axis=-1) | (np.abs(p.sum(axis=-1) - 1.0) > 1e-9)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidParameterError(f"{owner}.prior: rows must be probabilities (>= 0, summing "
                                    f"to 1 within 1e-9); got {p[idx].tolist()} at row {idx}")
    return p
