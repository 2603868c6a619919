"""Hidden-state arms estimated from logs of actions and signals (expectation-maximisation).

Where a programme never sees the state (engagement) but only a signal after each action (a
call answered or not), :func:`estimate_hidden_arms` fits the arms' transition rows, the
signal model and the starting belief by Baum-Welch EM for input-output hidden Markov chains
(Rabiner 1989, §III.C; Bengio & Frasconi 1995), in two stages:

1. **pooled**: one model shared by all arms, by maximum likelihood (from the given model, or
   the best of ``n_starts`` random starts), a known signal model or belief held fixed; EM
   accelerated by SQUAREM (Varadhan & Roland 2008), as plain EM crawls where the likelihood
   is flat;
2. **per arm**: each arm's transition rows by maximum a posteriori EM under the Dirichlet
   prior ``strength * pooled + 1`` (its mode the pooled rows), whose M-step is
   :func:`~rmab.models.estimate_probabilities` on expected counts. The signal model and the
   starting belief stay pooled: every arm reads its signals the same way, which keeps the
   states' meaning common to all arms.

Each EM iteration cannot lower its stage's objective (the log-likelihood, then the log
posterior); EM finds a local optimum, so the start matters. The records of each arm must be in
time order, one per period.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from rmab._repr import CompactRepr, ReadOnlyArrays
from rmab._validation import (BELIEF_TOL, PROB_TOL, as_array, as_float_array, as_generator,
                              check_actions, check_flag, check_number, check_stochastic)
from rmab._warnings import user_stacklevel
from rmab.errors import ConvergenceWarning, InvalidParameterError, RmabWarning
from rmab.models.arms import POMDPArms
from rmab.models.estimate import check_strengths, estimate_probabilities, held_out

__all__ = ["HiddenArmsEstimate", "estimate_hidden_arms", "score_hidden_strengths"]

_OWNER = "estimate_hidden_arms"
_START_ITERATIONS = 20   # EM iterations of each random start before the best one goes on
STRENGTHS = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, np.inf)   # score_hidden_strengths' default


@dataclass(frozen=True, eq=False, repr=False)
class HiddenArmsEstimate(ReadOnlyArrays, CompactRepr):
    """The result of :func:`estimate_hidden_arms`.

    transitions : float64 (n_arms, n_actions, n_states, n_states), each arm's own rows
    observations : float64 (n_arms, n_actions, n_states, n_obs), the pooled signal model
        (the same for every arm) ``Pr(o | s', a)``
    initial_belief : float64 (n_states,), the pooled belief before each arm's first record
    beliefs : float64 (n_arms, n_states), each arm's belief after its last record (the
        filtered belief under its own rows): the belief to plan its next period with
    log_likelihood : float, the log-likelihood of the records under the returned arms
    history_pooled, history_arms : float64 arrays, the objective at each EM iteration of
        each stage, non-decreasing: the pooled log-likelihood (the best random start's 20
        iterations first; with ``signal_strength``, plus the signal model's log prior);
        the log posterior of the arms' rows, up to a constant (the log-likelihood plus
        ``Σ strength * pooled * log(rows / pooled)``)
    converged : bool, both stages stopped by ``tol`` rather than ``max_iter``
    """

    transitions: np.ndarray
    observations: np.ndarray
    initial_belief: np.ndarray
    beliefs: np.ndarray
    log_likelihood: float
    history_pooled: np.ndarray
    history_arms: np.ndarray
    converged: bool

    def arms(self, rewards, costs=None) -> POMDPArms:
        """The estimated arms as :class:`~rmab.POMDPArms` with your ``rewards`` (per state:
        ``(n_states,)``; or any shape ``POMDPArms`` takes) and ``costs``."""
        return POMDPArms(self.transitions, self.observations, rewards, costs)


def estimate_hidden_arms(arm_index, actions, signals, *, n_arms: int, n_states: int,
                         n_actions: int, n_obs: int, transitions=None, observations=None,
                         initial_belief=None, fixed=(), strength: float = 1.0,
                         signal_strength: float = 0.0, n_starts: int = 10,
                         max_iter: int = 1000, tol: float = 1e-6, accelerate: bool = True,
                         seed=None) -> HiddenArmsEstimate:
    """Arms with hidden states fitted to logged actions and signals by EM (module docstring).

    Parameters
    ----------
    arm_index, actions, signals : int arrays (n_records,)
        Record ``k``: arm ``arm_index[k]`` received ``actions[k]`` and then gave signal
        ``signals[k]`` (emitted from its next state), or ``-1`` for no signal that period
        (no call made). Each arm's records in time order, one per period from its first.
    n_arms, n_states, n_actions, n_obs : int
        The sizes (arms without records keep the pooled rows).
    transitions : array (n_actions, n_states, n_states), optional
        Starting transition rows; default: random starts.
    observations : array (n_actions, n_states, n_obs), optional
        The starting signal model ``Pr(o | s', a)``, or the known one with ``fixed``; given,
        it fixes what each state number means (state 1 where signal 1 is likely, say).
        Default: random starts, the states then numbered by their mean signal, lowest first
        (unless a fixed, not uniform, ``initial_belief`` names them); the rows of an action
        never taken, or never followed by a signal, are uniform (no data).
    initial_belief : array (n_states,), optional
        The starting belief before each arm's first record; default uniform.
    fixed : tuple of str
        Of ``"observations"`` and ``"initial_belief"``, those held at their given values
        (known) rather than estimated. A known signal model is the strongest help EM can
        get: weak signals leave many models almost equally likely.
    strength : float > 0 or inf
        Pseudo-observations of the pooled rows in each arm's prior (default 1, as
        :func:`~rmab.models.estimate_probabilities`); ``inf``: every arm takes the pooled rows.
    signal_strength : float >= 0
        Pseudo-observations added to each signal row, spread evenly (``signal_strength /
        n_obs`` per signal; maximum a posteriori under a symmetric Dirichlet prior): a signal
        no record shows after an action keeps a little probability. Default 0: the maximum
        likelihood, which gives such a signal probability 0 in every state. Not with a fixed
        ``observations``.
    n_starts : int >= 1
        Random starts where ``transitions`` or ``observations`` is not given; each runs 20
        iterations (at most ``max_iter``), the best goes on.
    max_iter, tol
        Each stage (the pooled one after its random starts) stops when an iteration raises
        its objective by at most ``tol`` per record, or after ``max_iter`` iterations with a
        ``ConvergenceWarning``.
    accelerate : bool
        The pooled stage by SQUAREM (Varadhan & Roland 2008): EM's steps extrapolated, the
        same kind of fixed point in fewer E-steps (each iteration takes up to three); False:
        plain EM, one E-step an iteration.
    seed : int, SeedSequence or Generator, optional
        For the random starts.

    Returns
    -------
    HiddenArmsEstimate

    Warns
    -----
    RmabWarning
        When the signals (all EM learns from) are fewer than the pooled model's free
        parameters: ``n_states - 1`` for each transition row of an action taken, ``n_obs -
        1`` for each signal row of an action a signal follows and ``n_states - 1`` for the
        starting belief (those held fixed not counted). Fewer data than unknowns cannot
        determine them, and EM's pick then typically has probabilities of 0 or 1
        (near-certain beliefs). An arm's own rows need no such count: its prior holds them
        near the pooled rows.
    """
    setup = _Setup.of(_OWNER, arm_index, actions, signals, n_arms=n_arms, n_states=n_states,
                      n_actions=n_actions, n_obs=n_obs, transitions=transitions,
                      observations=observations, initial_belief=initial_belief, fixed=fixed,
                      signal_strength=signal_strength, n_starts=n_starts, max_iter=max_iter,
                      tol=tol)
    accelerate = check_flag(_OWNER, "accelerate", accelerate)
    estimate = setup.fit(_check_strength(strength), seed=seed, accelerate=accelerate)
    setup.warn_if_undetermined()
    return estimate


def _check_strength(strength) -> float:
    """A strength > 0, or inf."""
    if isinstance(strength, (float, np.floating)) and strength == np.inf:
        return float(strength)
    if check_number(_OWNER, "strength", strength, low=0.0) == 0.0:
        raise InvalidParameterError(f"{_OWNER}.strength: must be > 0 (one arm's log alone "
                                    f"cannot fill every row), or inf for the pooled rows; "
                                    f"got 0")
    return float(strength)


def score_hidden_strengths(arm_index, actions, signals, *, strengths=STRENGTHS,
                           holdout: float = 0.25, **options) -> dict:
    """How far to shrink, measured: each strength's held-out log-likelihood per signal.

    Each arm's last ``holdout`` share of records (rounded down: none where that is under one
    record) is held out, the arms are fitted on the rest by :func:`estimate_hidden_arms`
    (``**options``: its other arguments), and the held-out signals are scored given the
    arm's earlier ones, ``log p(tail | head) = log p(all) - log p(head)`` under the fit. The
    pooled stage is fitted once, shared by every strength's fit.

    Returns ``{strength: mean log-likelihood per held-out signal}`` (records without one
    not counted; ``-inf`` where the fit gives a held-out signal probability 0, as a signal
    never heard after that action before), higher is better.
    """
    owner = "score_hidden_strengths"
    grid = check_strengths(owner, strengths)
    for name in ("strength", "transitions"):
        if name in options:
            raise InvalidParameterError(f"{owner}.{name}: set by the scoring; give the "
                                        f"strengths to try as strengths=")
    if any(k not in options for k in ("n_arms", "n_states", "n_actions", "n_obs")):
        raise InvalidParameterError(f"{owner}: give n_arms, n_states, n_actions and n_obs, "
                                    f"as to estimate_hidden_arms")
    seed = options.pop("seed", None)
    accelerate = check_flag(owner, "accelerate", options.pop("accelerate", True))
    try:
        whole = _Setup.of(owner, arm_index, actions, signals, **options)
    except TypeError as exc:                  # an option estimate_hidden_arms does not take
        raise InvalidParameterError(f"{owner}: takes estimate_hidden_arms' options; got "
                                    f"another ({exc})") from None
    records = whole.records
    n = np.empty(len(records.order), np.int64)
    n[records.order] = np.repeat(np.arange(records.n_arms), np.diff(records.bounds))
    held = held_out(owner, n, records.n_arms, holdout)
    heard = int((held & (np.asarray(signals) >= 0)).sum())
    if not heard:
        raise InvalidParameterError(f"{owner}.holdout: holds out no signal (each arm's last "
                                    f"{holdout:g} of its records); give a larger share")
    keep = np.flatnonzero(~held)
    head = _Setup.of(owner, *(np.asarray(x)[keep] for x in (arm_index, actions, signals)),
                     numbers=keep, **options)
    pooled = head.fit_pooled(seed, accelerate)            # once, for every strength
    scores = {}
    for strength in grid:
        fit = head.fit(strength, seed=seed, accelerate=accelerate, pooled=pooled)
        step = records.expect(fit.transitions, fit.observations, fit.initial_belief,
                              strict=False)       # None: a held-out signal the fit rules out
        scores[strength] = (-np.inf if step is None else
                            (step.log_likelihood - fit.log_likelihood) / heard)
    return scores


@dataclass(frozen=True)
class _Setup:
    """The checked arguments of a fit: the records, the sizes, the given and fixed model
    parts and the stopping rules; errors name ``owner``."""

    owner: str
    records: _Records
    sizes: tuple          # (n_actions, n_states, n_obs)
    given: dict
    fixed: frozenset
    n_starts: int
    max_iter: int
    tol: float
    signal_strength: float

    @classmethod
    def of(cls, owner, arm_index, actions, signals, *, n_arms, n_states, n_actions, n_obs,
           transitions=None, observations=None, initial_belief=None, fixed=(),
           signal_strength=0.0, n_starts=10, max_iter=1000, tol=1e-6,
           numbers=None) -> _Setup:
        sizes = [int(check_number(owner, name, value, low=1, high=2**31, integer=True))
                 for name, value in (("n_arms", n_arms), ("n_states", n_states),
                                     ("n_actions", n_actions), ("n_obs", n_obs),
                                     ("n_starts", n_starts), ("max_iter", max_iter))]
        n_arms, n_states, n_actions, n_obs, n_starts, max_iter = sizes
        if n_arms * n_actions * n_states * max(n_states, n_obs) > 2**31:
            raise InvalidParameterError(f"{owner}: n_arms * n_actions * n_states * max("
                                        f"n_states, n_obs) must be at most 2**31 "
                                        f"probabilities; got "
                                        f"{n_arms * n_actions * n_states * max(n_states, n_obs)}")
        tol = check_number(owner, "tol", tol, low=0.0)
        records = _Records.of(owner, arm_index, actions, signals, n_arms, n_actions, n_obs,
                              numbers)
        if numbers is None and (records.signals == -1).all():   # a fit of the start alone
            raise InvalidParameterError(f"{owner}.signals: must hold at least one signal; every "
                                        f"record's is missing (-1, an empty cell in a log), and "
                                        f"with the states hidden the signals are all EM "
                                        f"learns from")
        given = {name: None if value is None else _check_rows(owner, name, value, shape)
                 for name, value, shape in (
                     ("transitions", transitions, (n_actions, n_states, n_states)),
                     ("observations", observations, (n_actions, n_states, n_obs)),
                     ("initial_belief", initial_belief, (n_states,)))}
        fixed = _check_fixed(owner, fixed, given)
        signal_strength = float(check_number(owner, "signal_strength", signal_strength,
                                             low=0.0))
        if signal_strength > 0 and "observations" in fixed:
            raise InvalidParameterError(f"{owner}.signal_strength: weighs the estimated signal "
                                        f"model, not a fixed one; got {signal_strength:g} with "
                                        f"fixed observations (give them every entry > 0)")
        return cls(owner, records, (n_actions, n_states, n_obs), given, fixed, n_starts,
                   max_iter, tol, signal_strength)

    def free_parameters(self) -> int:
        """The pooled model's free parameters: the transition rows of each action taken, the
        signal rows of each action a signal follows and the starting belief, those held fixed
        (or uniform for want of data) not counted."""
        n_actions, n_states, n_obs = self.sizes
        actions, signals = self.records.actions, self.records.signals
        rows = n_states * len(np.unique(actions)) * (n_states - 1)
        if "observations" not in self.fixed:
            rows += n_states * len(np.unique(actions[signals >= 0])) * (n_obs - 1)
        return rows + (0 if "initial_belief" in self.fixed else n_states - 1)

    def warn_if_undetermined(self) -> None:
        """Warn when the signals, all the fit learns from, are fewer than the pooled model's
        free parameters: they cannot determine it."""
        heard, free = int((self.records.signals >= 0).sum()), self.free_parameters()
        if heard < free:
            warnings.warn(f"{self.owner}: the records hold {heard} signal"
                          f"{'s' * (heard != 1)}, fewer than the pooled model's {free} free "
                          f"parameters, so they cannot determine it: many models explain them "
                          f"alike, and EM's pick typically has probabilities of 0 or 1 and "
                          f"near-certain beliefs that the data do not support; log more "
                          f"signals, or hold a signal model you know fixed (fixed=; "
                          f"--known-signals on the command line)", RmabWarning, stacklevel=3)

    def fit_pooled(self, seed, accelerate: bool) -> tuple:
        """The pooled stage: ((p, o, b), history, converged)."""
        return _fit_pooled(self.records, self.sizes, self.given, self.fixed, self.n_starts,
                           self.max_iter, self.tol, seed, accelerate, self.signal_strength)

    def fit(self, strength: float, *, seed, accelerate: bool,
            pooled: tuple | None = None) -> HiddenArmsEstimate:
        """Both stages (the pooled one given as ``pooled``, if it is), warning of a stage
        stopped by ``max_iter``."""
        records, n_arms = self.records, self.records.n_arms
        (p, o, b), history_pooled, done_pooled = pooled or self.fit_pooled(seed, accelerate)
        transitions = np.ascontiguousarray(np.broadcast_to(p, (n_arms,) + p.shape))
        history_arms, done_arms = np.zeros(0), True
        if np.isfinite(strength):
            transitions, history_arms, done_arms = _em_arms(records, transitions, o, b,
                                                            strength, self.max_iter, self.tol)
        for stage, done in (("pooled", done_pooled), ("per-arm", done_arms)):
            if not done:
                warnings.warn(f"{self.owner}: the {stage} stage stopped at max_iter="
                              f"{self.max_iter} iterations, before an iteration raised its "
                              f"objective by at most tol={self.tol:g} per record; EM only "
                              f"improves, so the arms are usable, and a higher max_iter gets "
                              f"closer", ConvergenceWarning, stacklevel=user_stacklevel())
        observations = np.ascontiguousarray(np.broadcast_to(o, (n_arms,) + o.shape))
        step = records.expect(transitions, observations, b)
        return HiddenArmsEstimate(transitions, observations, b, step.beliefs,
                                  float(step.log_likelihood), history_pooled, history_arms,
                                  bool(done_pooled and done_arms))


@dataclass(frozen=True)
class _Step:
    """One E-step: expected counts summed per parameter row, and the filtered beliefs."""

    transitions: np.ndarray    # (rows, A, S, S)
    observations: np.ndarray   # (rows, A, S, O)
    first: np.ndarray          # (rows, S)
    beliefs: np.ndarray        # (n_arms, S)
    arm_log_likelihood: np.ndarray  # (n_arms,)

    @property
    def log_likelihood(self) -> float:
        return float(self.arm_log_likelihood.sum())


@dataclass(frozen=True)
class _Records:
    """The records sorted by arm (each arm's time order kept), with each arm's offsets."""

    bounds: np.ndarray    # (n_arms + 1,)
    actions: np.ndarray
    signals: np.ndarray
    order: np.ndarray     # sorted position -> the caller's record number
    owner: str

    @classmethod
    def of(cls, owner, arm_index, actions, signals, n_arms, n_actions, n_obs,
           numbers=None) -> _Records:
        """``numbers``: the caller's number of each record (default its position)."""
        arm_index = as_array(owner, "arm_index", arm_index, "(n_records,)")   # ragged: named
        n_records = arm_index.shape[0] if arm_index.ndim == 1 else -1
        if n_records < 1:
            raise InvalidParameterError(f"{owner}.arm_index: must be a 1-D array of arm "
                                        f"indices, at least one record; got shape "
                                        f"{arm_index.shape}")
        n = check_actions(owner, arm_index, n_records, n_arms, "arm_index", noun="record")
        a = check_actions(owner, actions, n_records, n_actions, "actions", noun="record")
        o = signals if isinstance(signals, str) else as_array(owner, "signals", signals,
                                                               f"(n_records={n_records},)")
        missing = o == -1 if isinstance(o, np.ndarray) and o.dtype.kind in "iuf" else None
        try:
            o = check_actions(owner, o if missing is None else np.where(missing, 0, o),
                              n_records, n_obs, "signals", noun="record")
        except InvalidParameterError as exc:
            hint = " (or -1 for no signal)" if "must lie in" in str(exc) else ""
            raise InvalidParameterError(f"{exc}{hint}") from None
        if missing is not None:
            o[missing] = -1
        order = np.argsort(n, kind="stable")
        bounds = np.searchsorted(n[order], np.arange(n_arms + 1)).astype(np.int64)
        return cls(bounds, a[order], o[order],
                   order if numbers is None else np.asarray(numbers)[order], owner)

    @property
    def n_arms(self) -> int:
        return len(self.bounds) - 1

    def expect(self, transitions, observations, initial, strict: bool = True) -> _Step | None:
        """The E-step under models of one row per arm (n_arms, ...) or one shared row
        (1, ...) and the belief ``initial`` (S,); a signal the model gives probability 0 is an
        error naming its record (``strict``) or None."""
        rows, n_states = len(transitions), initial.shape[-1]
        param = np.arange(self.n_arms) if rows > 1 else np.zeros(self.n_arms, np.int64)
        step = _Step(np.zeros((rows,) + transitions.shape[1:]),
                     np.zeros((rows,) + observations.shape[1:]), np.zeros((rows, n_states)),
                     np.zeros((self.n_arms, n_states)), np.zeros(self.n_arms))
        alpha = np.empty((len(self.actions) + self.n_arms, n_states))
        scales = np.empty(len(self.actions))
        from rmab.models._kernels import em_kernel      # numba on first use, not on import

        bad = em_kernel(self.bounds, self.actions, self.signals, param,
                        np.ascontiguousarray(transitions), np.ascontiguousarray(observations),
                        np.tile(initial, (rows, 1)), step.transitions, step.observations,
                        step.first, step.beliefs, step.arm_log_likelihood, alpha, scales)
        if bad >= 0 and not strict:
            return None
        if bad >= 0:
            k = int(self.order[bad])
            raise InvalidParameterError(
                f"{self.owner}.signals: record {k} (signal {self.signals[bad]} after action "
                f"{self.actions[bad]}) has probability 0 under the model: a given model with "
                f"zero entries cannot explain it")
        return step


def _check_rows(owner: str, field: str, value, shape: tuple) -> np.ndarray:
    """Probability rows of ``shape``; a belief's sum within ``BELIEF_TOL``, as beliefs are
    taken everywhere."""
    arr = as_float_array(owner, field, value, error=InvalidParameterError,
                         first_axis="action")
    if arr.shape != shape:
        names = {3: "(n_actions, n_states, n_states)" if field == "transitions" else
                 "(n_actions, n_states, n_obs)", 1: "(n_states,)"}[len(shape)]
        raise InvalidParameterError(f"{owner}.{field}: must have shape {shape} = {names}; got "
                                    f"{arr.shape}")
    check_stochastic(owner, field, arr, error=InvalidParameterError,
                     tol=BELIEF_TOL if len(shape) == 1 else PROB_TOL,
                     row_desc="row " + ", ".join(f"{{{i}}}" for i in range(len(shape) - 1))
                     if len(shape) > 1 else "the row")
    return arr / arr.sum(axis=-1, keepdims=True)


def _check_fixed(owner: str, fixed, given: dict) -> frozenset:
    names = ("observations", "initial_belief")
    if isinstance(fixed, str) or not isinstance(fixed, (tuple, list, set, frozenset)):
        raise InvalidParameterError(f"{owner}.fixed: must be a tuple of names among "
                                    f"{names}; got {fixed!r}")
    for name in fixed:
        if name not in names:
            raise InvalidParameterError(f"{owner}.fixed: names must be among {names}; got "
                                        f"{name!r}")
        if given[name] is None:
            raise InvalidParameterError(f"{owner}.fixed: {name!r} is held at its given "
                                        f"value; give {name}=")
    return frozenset(fixed)


def _rows(counts: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Maximum-likelihood rows of expected counts; a row without data keeps its previous
    value."""
    total = counts.sum(axis=-1, keepdims=True)
    return np.where(total > 0, counts / np.where(total > 0, total, 1.0), previous)


def _em_pooled(records: _Records, model: tuple, fixed: frozenset, max_iter: int, tol: float,
               accelerate: bool, signal_strength: float = 0.0):
    """Maximum-likelihood EM on one shared model ``(p, o, b)``: (model, history, converged);
    with ``signal_strength``, maximum a posteriori, ``signal_strength / n_obs`` added to each
    signal's expected count, its log prior ``Σ signal_strength / n_obs * log o`` in the
    objective.

    With ``accelerate``, SQUAREM (Varadhan & Roland 2008, scheme S3): each iteration takes two
    EM steps ``θ1 = F(θ0)``, ``θ2 = F(θ1)`` and extrapolates to ``θ' = θ0 - 2αr + α²v``
    (``r = θ1 - θ0``, ``v = θ2 - θ1 - r``, ``α = -|r|/|v|`` at most -1, moved halfway to -1
    until ``θ'`` has no negative entry; ``α = -1`` gives ``θ2``), then keeps ``F(θ')`` if
    ``θ'`` is at least as likely as ``θ1``, else ``θ2``: the history stays non-decreasing.
    """
    def step(theta, strict=True):   # (objective, F(theta)); None: theta is impossible
        p, o, b = theta
        e = records.expect(p[None], o[None], b, strict=strict)
        if e is None:
            return None
        prior = 0.0
        if pseudo:
            with np.errstate(divide="ignore"):
                prior = pseudo * np.log(o).sum()
        return e.log_likelihood + prior, (
            _rows(e.transitions[0], p),
            o if "observations" in fixed else _rows(e.observations[0] + pseudo, o),
            b if "initial_belief" in fixed else _rows(e.first[0], b))

    pseudo = signal_strength / model[1].shape[-1]

    limit = tol * len(records.actions)
    history = []
    theta = model
    for _ in range(max_iter):
        like, theta1 = step(theta)
        history.append(like)
        if len(history) > 1 and history[-1] - history[-2] <= limit:
            return theta1, np.array(history), True
        if not accelerate:
            theta = theta1
            continue
        like1, theta2 = step(theta1)
        r = [x1 - x0 for x0, x1 in zip(theta, theta1)]
        v = [x2 - x1 - d for x1, x2, d in zip(theta1, theta2, r)]
        norm_r = np.sqrt(sum((d * d).sum() for d in r))
        norm_v = np.sqrt(sum((d * d).sum() for d in v))
        alpha = min(-norm_r / norm_v, -1.0) if norm_v > 0 else -1.0
        for _ in range(30):
            guess = [x0 - 2 * alpha * d + alpha * alpha * w for x0, d, w in zip(theta, r, v)]
            if alpha == -1.0 or all((x >= 0).all() for x in guess):
                break
            alpha = (alpha - 1.0) / 2
        else:
            guess = theta2
        ahead = step(tuple(guess), strict=False) if alpha != -1.0 else None
        theta = ahead[1] if ahead is not None and ahead[0] >= like1 else theta2
    return theta, np.array(history), False


def _fit_pooled(records: _Records, sizes: tuple, given: dict, fixed: frozenset,
                n_starts: int, max_iter: int, tol: float, seed, accelerate: bool,
                signal_strength: float = 0.0):
    """The pooled stage from the given model or, where transitions or signals are not given,
    the best of ``n_starts`` random starts after a few iterations (its states then numbered
    by mean signal), run on to convergence."""
    n_actions, n_states, n_obs = sizes
    p, o, b = given["transitions"], given["observations"], given["initial_belief"]
    if b is None:
        b = np.full(n_states, 1.0 / n_states)
    if p is not None and o is not None:
        return _em_pooled(records, (p, o, b), fixed, max_iter, tol, accelerate,
                          signal_strength)
    rng = as_generator(seed, f"{records.owner}.seed")
    # rows no record informs (an action never taken, or never followed by a signal) start,
    # and so stay, uniform: not a random start's leftover
    taken = np.bincount(records.actions, minlength=n_actions)[:, None, None] > 0
    heard = np.bincount(records.actions[records.signals >= 0],
                        minlength=n_actions)[:, None, None] > 0
    best = None
    for _ in range(n_starts):
        start = (np.where(taken, rng.dirichlet(np.ones(n_states), size=(n_actions, n_states)),
                          1.0 / n_states) if p is None else p,
                 np.where(heard, rng.dirichlet(np.ones(n_obs), size=(n_actions, n_states)),
                          1.0 / n_obs) if o is None else o, b)
        model, history, _ = _em_pooled(records, start, fixed, min(_START_ITERATIONS, max_iter),
                                       tol, accelerate, signal_strength)
        if best is None or history[-1] > best[1][-1]:
            best = model, history
    model, first = best
    model, history, done = _em_pooled(records, model, fixed, max_iter, tol, accelerate,
                                      signal_strength)
    p, o, b = model
    if given["observations"] is None:       # the states numbered by their mean signal
        seen = records.signals >= 0
        weight = np.bincount(records.actions[seen], minlength=n_actions).astype(float)
        score = np.einsum("a,aso,o->s", weight, o, np.arange(n_obs, dtype=float))
        s = np.argsort(score, kind="stable")
        if "initial_belief" not in fixed or np.array_equal(b[s], b):   # a fixed belief
            p, o, b = p[:, s][:, :, s], o[:, s], b[s]                 # names the states
    return (p, o, b), np.concatenate([first, history]), done


def _em_arms(records: _Records, transitions, o, b, strength, max_iter, tol):
    """MAP EM on each arm's transition rows around the pooled ones (the prior's mean)."""
    prior = transitions[0].copy()
    observations = np.ascontiguousarray(np.broadcast_to(o, (records.n_arms,) + o.shape))
    weight = strength * prior
    history = []
    for _ in range(max_iter):
        step = records.expect(transitions, observations, b)
        with np.errstate(divide="ignore", invalid="ignore"):   # 0 log 0 = 0: no prior mass
            penalty = np.where(weight > 0, weight * np.log(transitions / prior), 0.0).sum()
        history.append(step.log_likelihood + penalty)
        transitions = estimate_probabilities(step.transitions, prior=prior, strength=strength)
        if len(history) > 1 and history[-1] - history[-2] <= tol * len(records.actions):
            break
    else:
        return transitions, np.array(history), False
    return transitions, np.array(history), True
