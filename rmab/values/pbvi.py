"""Point-based value iteration (PBVI) for POMDP arms with a price on resource use.

Pineau, Gordon and Thrun (2003), "Point-based value iteration: an anytime algorithm for
POMDPs"; Spaan and Vlassis (2005), "Perseus: randomized point-based value iteration".

Each arm's value ``V_λ(b) = max E Σ_t β^t (r(s_t, a_t) - λ c(a_t))`` is approximated from below
by the upper envelope of α-vectors ``V(b) = max_k α_k · b``. A point-based backup at belief
``b`` computes the exact Bellman backup of the current envelope at ``b``::

    α_{a,o} = argmax_{α ∈ Γ} Σ_s' (b P^a)(s') ρ^a(s', o) α(s')
    α_a^b   = r_a - λ c(a) + β Σ_o P^a diag(ρ^a_{·o}) α_{a,o}          (S,)
    backup(b) = α_a^b for the a maximising α_a^b · b

and carries, next to each α, the vector of discounted expected resource use of the same
conditional plan, ``κ_a^b = c(a) + β Σ_o P^a diag(ρ^a_{·o}) κ_{a,o}``, so that
``α = (reward value) - λ κ`` and ``-dV/dλ = κ · b`` (the Lagrangian slope).

Lower bound: the start set holds the values of the blind policies "always take a",
``(I - β P^a)^{-1} (r_a - λ c(a))``; every backed-up vector is the value of a conditional plan,
so ``V(b) <= V*_λ(b)`` for every belief, however early the iteration stops.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rmab._repr import CompactRepr
from rmab._validation import (as_float_array, as_generator, check_arms, check_discount, check_flag,
                              check_number, zero_rounding)
from rmab._warnings import user_stacklevel
from rmab.errors import ConvergenceWarning, InvalidParameterError
from rmab.models.arms import POMDPArms
from rmab.values import _kernels
from rmab.values.exact import check_scale

__all__ = ["AlphaVectors", "PBVIResult", "solve_pbvi", "simplex_grid", "check_belief_rows"]

_MIN_L1 = 1e-6      # successors closer than this (L1) to the set are not added
_IDLE_ROUNDS = 3    # expansion stops after this many rounds without a new point
_GRID_LIMIT = 20_000


def check_belief_rows(owner: str, b, n_states: int, field: str = "b") -> tuple[np.ndarray, bool]:
    """A belief (S,) or beliefs (M, S) on the simplex as float64 (M, S); the flag says whether
    the input was a single belief. Real numbers only: strings and complex numbers are
    refused."""
    arr = as_float_array(owner, field, b, error=InvalidParameterError, first_axis="row")
    single = arr.ndim <= 1
    arr = arr.reshape(1, -1) if single else arr
    if arr.ndim != 2 or arr.shape[1] != n_states:
        raise InvalidParameterError(f"{owner}.{field}: must have shape (n_states={n_states},) or "
                                    f"(n_beliefs, {n_states}); got {np.shape(b)}")
    arr = zero_rounding(arr)                 # [1, 1 - 0.9 - 0.1] as instances take it
    if (arr < 0).any():
        m, s = (int(i) for i in np.argwhere(arr < 0)[0])
        raise InvalidParameterError(f"{owner}.{field}: must be finite and >= 0; got "
                                    f"{float(arr[m, s])!r} (row {m}, state {s})")
    off = np.abs(arr.sum(axis=1) - 1.0) > 1e-6
    if off.any():
        m = int(np.flatnonzero(off)[0])
        raise InvalidParameterError(f"{owner}.{field}: rows must sum to 1; got "
                                    f"{float(arr[m].sum()):.12g} (row {m})")
    return arr, single


@dataclass(frozen=True, eq=False, repr=False)
class AlphaVectors(CompactRepr):
    """One arm's PBVI solution at one price: ``V(b) = max_k alphas[k] · b``.

    Attributes
    ----------
    alphas : (K, S)  value vectors (lower bounds of ``V*_λ``)
    actions : (K,) int64  first action of each vector's plan
    costs : (K, S)  discounted expected resource use of each vector's plan
    beliefs : (M, S)  the point set the vectors were backed up on
    price, discount : the λ and β solved for
    transitions (A, S, S), observations (A, S, O), rewards (S, A), action_costs (A,) : the arm
    iterations : int  sweeps;  residual : float  Bellman residual on the point set at the end
    converged : bool
    periods_left : None for a discounted solve; ``k`` for a finite-horizon period's vectors
        (lower bounds of the ``k``-period value, not of ``V*_λ``: no warm start)
    """

    alphas: np.ndarray
    actions: np.ndarray
    costs: np.ndarray
    beliefs: np.ndarray
    price: float
    discount: float
    transitions: np.ndarray
    observations: np.ndarray
    rewards: np.ndarray
    action_costs: np.ndarray
    iterations: int = 0
    residual: float = float("nan")
    converged: bool = True
    periods_left: int | None = None

    @property
    def n_states(self) -> int:
        return self.alphas.shape[1]

    @property
    def n_actions(self) -> int:
        return self.transitions.shape[0]

    def _best(self, b):
        arr, single = check_belief_rows(f"{type(self).__name__}", b, self.n_states)
        scores = arr @ self.alphas.T                                        # (M, K)
        return arr, single, np.argmax(scores, axis=1), scores.max(axis=1)

    def value(self, b):
        """``max_k α_k · b``: a float for b (S,), an array (M,) for b (M, S)."""
        _, single, _, v = self._best(b)
        return float(v[0]) if single else v

    def action(self, b):
        """First action of the plan of the best vector at b (int, or (M,) int64)."""
        _, single, k, _ = self._best(b)
        return int(self.actions[k[0]]) if single else self.actions[k]

    def resource(self, b):
        """Discounted expected resource use ``κ · b`` of the best vector's plan at b."""
        arr, single, k, _ = self._best(b)
        out = np.einsum("ms,ms->m", self.costs[k], arr)
        return float(out[0]) if single else out

    def q(self, b):
        """One-step lookahead ``R(b, a) - λ c(a) + β Σ_o Pr(o|b,a) V(τ(b,a,o))``: (A,) for one
        belief, (M, A) for many, using
        ``Pr(o|b,a) V(τ) = max_k Σ_s' (bP^a)(s') ρ(s',o) α_k(s')`` (no division)."""
        arr, single = check_belief_rows(f"{type(self).__name__}.q", b, self.n_states)
        out = self._q(arr)
        return out[0] if single else out

    def _q(self, arr):
        pred = np.einsum("ms,ast->mat", arr, self.transitions)              # (M, A, S')
        joint = pred[:, :, :, None] * self.observations[None]               # (M, A, S', O)
        future = np.einsum("mato,kt->maok", joint, self.alphas).max(axis=3).sum(axis=2)
        now = arr @ self.rewards - self.price * self.action_costs[None, :]
        return now + self.discount * future

    def repriced(self, price: float) -> np.ndarray:
        """The same plans' values at another price: ``alphas + (price_old - price) costs``
        (exact: each plan's reward value does not depend on the price)."""
        price = check_number("AlphaVectors.repriced", "price", price)
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.alphas + (self.price - price) * self.costs
        if not np.isfinite(out).all():       # a finite price of 1e308 gave -inf silently
            raise InvalidParameterError(f"AlphaVectors.repriced.price: must keep the values "
                                        f"within float64; got {price!r} (solved at "
                                        f"{self.price!r})")
        return out


@dataclass(frozen=True, eq=False, repr=False)
class PBVIResult(CompactRepr):
    """PBVI solutions for a stack of arms; arms with identical parameters (and initial
    belief) share one solve. Its queries take one belief per arm (N, S); a one-arm result
    also a belief (S,), and answers for that arm alone.

    Attributes
    ----------
    solves : tuple of AlphaVectors, one per distinct arm
    arm_to_solve : (N,) int64  index into ``solves`` of each arm
    price, discount, tol : as requested
    seconds : float  wall time of the whole call
    converged : bool  every solve reached the tolerance
    """

    solves: tuple
    arm_to_solve: np.ndarray
    price: float
    discount: float
    tol: float
    seconds: float
    converged: bool

    def __len__(self) -> int:
        return len(self.arm_to_solve)

    def __getitem__(self, n: int) -> AlphaVectors:
        """Arm ``n``'s solution (``-n_arms <= n < n_arms``)."""
        size = len(self.arm_to_solve)
        n = check_number("PBVIResult", "arm", n, low=-size, high=size - 1, integer=True)
        return self.solves[int(self.arm_to_solve[n])]

    def __iter__(self):
        return iter(self.alpha_vectors)

    @property
    def alpha_vectors(self) -> tuple:
        """One :class:`AlphaVectors` per arm (shared objects for identical arms)."""
        return tuple(self.solves[i] for i in self.arm_to_solve)

    @property
    def iterations(self) -> np.ndarray:
        """Sweeps of each solve, (n_solves,)."""
        return np.array([s.iterations for s in self.solves], dtype=np.int64)

    def _beliefs(self, beliefs) -> tuple[np.ndarray, bool]:
        """Checked beliefs (N, S), and whether one arm's were given as (S,) (the answer is
        then that arm's alone, as :class:`AlphaVectors` gives it)."""
        owner = type(self).__name__
        n = len(self.arm_to_solve)
        s = self.solves[0].n_states
        arr = as_float_array(owner, "beliefs", beliefs, error=InvalidParameterError)
        single = n == 1 and arr.ndim == 1
        if single:
            arr = arr[None]
        if arr.shape != (n, s):
            raise InvalidParameterError(f"{owner}.beliefs: must have shape (n_arms={n}, "
                                        f"n_states={s}); got {arr.shape}")
        return check_belief_rows(owner, arr, s, field="beliefs")[0], single

    @cached_property
    def _stack(self) -> "_Stack":
        return _Stack(self.solves)

    def values(self, beliefs) -> np.ndarray:
        """Each arm's lower-bound value at its belief: beliefs (N, S) -> (N,)."""
        arr, single = self._beliefs(beliefs)
        out = self._stack.best(self.arm_to_solve, arr)[1]
        return out[0] if single else out

    def q(self, beliefs) -> np.ndarray:
        """Each arm's one-step lookahead Q-values: beliefs (N, S) -> (N, A)."""
        arr, single = self._beliefs(beliefs)
        out = self._stack.q(self.arm_to_solve, arr)
        return out[0] if single else out

    def resource(self, beliefs) -> np.ndarray:
        """Each arm's discounted expected resource use at its belief: (N, S) -> (N,)."""
        arr, single = self._beliefs(beliefs)
        out = self._stack.resource(self.arm_to_solve, arr)
        return out[0] if single else out

    def actions(self, beliefs) -> np.ndarray:
        """Each arm's plan action at its belief: (N, S) -> (N,) int64."""
        arr, single = self._beliefs(beliefs)
        out = self._stack.actions(self.arm_to_solve, arr)
        return out[0] if single else out


class _Stack:
    """The :class:`AlphaVectors` of several solves as padded arrays, so that one query over
    all arms (each with its solve ``idx[n]``) is one kernel call or a few batched numpy
    operations, not a Python loop over arms (the Lagrangian planner's ``q`` at every step).
    Vectors are zero-padded to the largest set (``n_vec`` real ones per solve) and masked out
    of every maximum."""

    def __init__(self, solves):
        k = max(len(sol.alphas) for sol in solves)
        j, s = len(solves), solves[0].n_states
        self.alphas, self.costs = np.zeros((j, k, s)), np.zeros((j, k, s))
        self.plan = np.zeros((j, k), dtype=np.int64)
        self.n_vec = np.array([len(sol.alphas) for sol in solves], dtype=np.int64)
        for i, sol in enumerate(solves):
            m = len(sol.alphas)
            self.alphas[i, :m], self.costs[i, :m] = sol.alphas, sol.costs
            self.plan[i, :m] = sol.actions
        self.transitions = np.stack([sol.transitions for sol in solves])      # (J, A, S, S')
        self.observations = np.stack([sol.observations for sol in solves])    # (J, A, S', O)
        self.rewards = np.stack([sol.rewards for sol in solves])              # (J, S, A)
        self.charge = np.stack([sol.price * sol.action_costs for sol in solves])   # (J, A)
        self.discount = np.array([sol.discount for sol in solves])

    def best(self, idx, arr):
        """Best vector ``k`` (N,) and its value (N,) at each arm's belief."""
        scores = np.matmul(self.alphas[idx], arr[:, :, None])[:, :, 0]        # (N, K)
        scores[np.arange(scores.shape[1]) >= self.n_vec[idx][:, None]] = -np.inf
        k = np.argmax(scores, axis=1)
        return k, scores[np.arange(len(idx)), k]

    def actions(self, idx, arr):
        return self.plan[idx, self.best(idx, arr)[0]]

    def resource(self, idx, arr):
        k = self.best(idx, arr)[0]
        return np.einsum("ns,ns->n", self.costs[idx, k], arr)

    def q(self, idx, arr):
        """As :meth:`AlphaVectors.q`, each arm with its solve's vectors: (N, S) -> (N, A)
        (:func:`~rmab.values._kernels.stack_q_kernel`)."""
        out = np.empty((len(idx), self.transitions.shape[1]))
        _kernels.stack_q_kernel(np.ascontiguousarray(idx, dtype=np.int64),
                                np.ascontiguousarray(arr), self.transitions, self.observations,
                                self.rewards, self.charge, self.discount, self.alphas,
                                self.n_vec, out)
        return out


def simplex_grid(n_states: int, resolution: int) -> np.ndarray:
    """Every belief whose entries are multiples of ``1/resolution``, (M, n_states)."""
    owner = "simplex_grid"
    n_states = check_number(owner, "n_states", n_states, low=1, integer=True)
    return grid_beliefs(owner, "resolution", n_states, resolution)


def grid_beliefs(owner: str, field: str, n_states: int, resolution) -> np.ndarray:
    """:func:`simplex_grid` with the resolution's errors named ``owner.field``, the caller's
    parameter: ``solve_pbvi(arms, grid=30)`` on six states was refused as
    ``simplex_grid.resolution``, a function and a parameter the caller never used."""
    resolution = check_number(owner, field, resolution, low=1, integer=True)
    from math import comb
    size = comb(resolution + n_states - 1, n_states - 1)
    if size > _GRID_LIMIT:
        raise InvalidParameterError(f"{owner}.{field}: must give at most {_GRID_LIMIT} points; "
                                    f"got {size} for {n_states} states")
    rows = []

    def rec(prefix, left, slots):
        if slots == 1:
            rows.append(prefix + [left])
            return
        for k in range(left, -1, -1):
            rec(prefix + [k], left - k, slots - 1)

    rec([], resolution, n_states)
    return np.array(rows, dtype=np.float64) / resolution


def start_beliefs(owner: str, initial_belief, n_arms: int, n_states: int) -> np.ndarray:
    """The expansion's start beliefs (n_arms, n_states): uniform by default, one belief for
    every arm, or one per arm."""
    if initial_belief is None:
        return np.full((n_arms, n_states), 1.0 / n_states)
    b0, single = check_belief_rows(owner, initial_belief, n_states, field="initial_belief")
    if single:
        return np.repeat(b0, n_arms, axis=0)
    if b0.shape[0] != n_arms:
        raise InvalidParameterError(f"{owner}.initial_belief: must have shape "
                                    f"(n_states={n_states},) or (n_arms={n_arms}, "
                                    f"n_states={n_states}); got {b0.shape}")
    return b0


def _expand(trans, obs, b0, n_beliefs, rng) -> np.ndarray:
    """Grow a point set from ``b0``: each round, from every point and action simulate one
    successor belief and keep, per point, the one farthest (L1) from the set if it is farther
    than ``_MIN_L1`` (stochastic simulation with explorative action, Pineau et al. 2003).
    Stops at ``n_beliefs`` points or after ``_IDLE_ROUNDS`` rounds without a new point; the
    simulation's seed is one draw from the Generator ``rng``."""
    return _kernels.expand_kernel(trans, obs, b0, n_beliefs, int(rng.integers(1, 2**62)),
                                  _MIN_L1, _IDLE_ROUNDS)


def _blind_vectors(trans, r, c, beta):
    """Values and costs of the blind policies "always a": (A, S) each."""
    n_actions, s_count, _ = trans.shape
    alphas = np.linalg.solve(np.eye(s_count) - beta * trans, r.T[:, :, None])[:, :, 0]
    costs = np.repeat((c / (1.0 - beta))[:, None], s_count, axis=1)
    return alphas, costs


def _warm_vectors(owner, warm_start, arms, discount, price):
    """Per-arm (alphas, costs, actions) re-priced to ``price``, or None per arm. The vectors
    are lower bounds only for the arm they were computed for: its parameters must match."""
    n_arms, n_states = arms.n_arms, arms.n_states
    if warm_start is None:
        return [None] * n_arms
    from rmab.values.finite_pbvi import FiniteAlphaVectors, FinitePBVIResult

    if isinstance(warm_start, (FinitePBVIResult, FiniteAlphaVectors)) or (
            isinstance(warm_start, AlphaVectors) and warm_start.periods_left is not None):
        raise InvalidParameterError(f"{owner}.warm_start: must come from a discounted solve "
                                    f"(solve_pbvi); got a finite-horizon one, whose vectors "
                                    f"bound a value of so many periods, not V*")
    if isinstance(warm_start, AlphaVectors):
        per_arm = [warm_start] * n_arms
    elif isinstance(warm_start, PBVIResult):
        if len(warm_start) != n_arms:
            raise InvalidParameterError(f"{owner}.warm_start: must cover n_arms={n_arms} arms; "
                                        f"got {len(warm_start)}")
        per_arm = list(warm_start.alpha_vectors)
    else:
        raise InvalidParameterError(f"{owner}.warm_start: must be a PBVIResult or AlphaVectors; "
                                    f"got {type(warm_start).__name__}")
    first = per_arm[0]
    if first.n_states != n_states or first.discount != discount:
        raise InvalidParameterError(f"{owner}.warm_start: must come from arms with {n_states} "
                                    f"states and discount {discount}; got {first.n_states} "
                                    f"states and discount {first.discount}")
    for n, av in enumerate(per_arm):
        same = all(np.array_equal(x, y) for x, y in (
            (av.transitions, arms.transitions[n]), (av.observations, arms.observations[n]),
            (av.rewards, arms.rewards[n]), (av.action_costs, arms.costs[n])))
        if not same:
            raise InvalidParameterError(f"{owner}.warm_start: must come from the same arms "
                                        f"(transitions, observations, rewards, costs); arm {n} "
                                        f"differs")
    return [(av.repriced(price), av.costs, av.actions) for av in per_arm]


N_BELIEFS, MAX_ITER = 64, 10_000      # solve_pbvi's defaults, which price_sweep takes too


def solve_pbvi(arms: POMDPArms, *, price: float = 0.0, discount: float = 0.95,
               tol: float = 1e-3, initial_belief=None, n_beliefs: int = N_BELIEFS,
               grid: int | None = None, randomized: bool = False, warm_start=None, seed=None,
               max_iter: int = MAX_ITER) -> PBVIResult:
    """PBVI lower bounds for every arm of a stack at one price.

    Parameters
    ----------
    arms : POMDPArms
    price : float
        ``λ``: the reward is ``r(s, a) - λ c(a)``.
    discount : float in (0, 1 - 1e-9]
    tol : float > 0
        Stopping rule: iteration ends after a full sweep in which no point-based backup
        raises the value at any point of the set by more than ``tol (1 - β) / β`` (Bellman
        residual ``max_{b ∈ B} (HV(b) - V(b))^+``); the values on ``B`` are then about
        ``tol`` from the point-based fixed point (a heuristic: docs/values.md). They are
        lower bounds of ``V*_λ`` everywhere; how close to ``V*_λ`` also depends on how well
        ``B`` covers the reachable beliefs (Pineau et al. 2003 bound the gap by
        ``(R_max - R_min) δ_B / (1 - β)^2``, ``δ_B`` the set's density). Pair with
        :mod:`rmab.values.bounds` for a certified interval.
    initial_belief : array (S,) or (N, S), optional
        Where belief expansion starts (default uniform).
    n_beliefs : int >= 1
        Maximum number of points grown from the initial belief by simulated successors.
    grid : int, optional
        Also include every belief with entries in multiples of ``1/grid`` (2-3-state arms).
    randomized : bool
        Perseus sweeps (back up random points until each has improved) instead of full sweeps.
    warm_start : PBVIResult or AlphaVectors, optional
        Vectors from a nearby price, re-priced exactly (see :meth:`AlphaVectors.repriced`);
        they stay lower bounds, so the start is closer and the bound property holds.
    seed : int, SeedSequence or Generator
        Drives the simulated expansion and Perseus' order.
    max_iter : int
        Sweeps per solve before a :class:`~rmab.errors.ConvergenceWarning`.

    Returns
    -------
    PBVIResult
    """
    owner = "solve_pbvi"
    check_arms(owner, arms, POMDPArms)
    price = check_number(owner, "price", price)
    randomized = check_flag(owner, "randomized", randomized)
    discount = check_discount(owner, discount, finite="rmab.solve_finite_pbvi(arms, horizon=H)")
    tol = check_number(owner, "tol", tol, low=0.0, low_open=True)
    # the point set is allocated up front; a million points is far beyond what PBVI backs up
    n_beliefs = check_number(owner, "n_beliefs", n_beliefs, low=1, high=10**6, integer=True)
    max_iter = check_number(owner, "max_iter", max_iter, low=1, integer=True)
    check_scale(owner, arms, np.array([price]), discount, field="price")
    n, s = arms.n_arms, arms.n_states
    b0 = start_beliefs(owner, initial_belief, n, s)
    grid_points = None
    if grid is not None:
        grid_points = grid_beliefs(owner, "grid", s, grid)
    warm = _warm_vectors(owner, warm_start, arms, discount, price)
    rng = as_generator(seed, f"{owner}.seed")
    start = time.perf_counter()

    target = tol * (1.0 - discount) / discount
    keys: dict = {}
    arm_to_solve = np.empty(n, dtype=np.int64)
    solves = []
    for i in range(n):
        key = _arm_key(arms, i, b0[i], warm[i])
        j = keys.get(key)
        if j is None:
            j = keys[key] = len(solves)
            solves.append(_solve_one(arms, i, price, discount, target, b0[i], n_beliefs,
                                     grid_points, randomized, warm[i], rng, max_iter))
        arm_to_solve[i] = j
    arm_to_solve.setflags(write=False)
    converged = all(sol.converged for sol in solves)
    if not converged:
        bad = sum(not sol.converged for sol in solves)
        which = "the solve" if len(solves) == 1 else f"{bad} of {len(solves)} solves"
        warnings.warn(f"{owner}: {which} stopped after max_iter={max_iter} sweeps before "
                      f"reaching tol={tol:g}", ConvergenceWarning, stacklevel=user_stacklevel())
    return PBVIResult(tuple(solves), arm_to_solve, price, discount, tol,
                      time.perf_counter() - start, converged)


def price_sweep(arm: POMDPArms, prices, *, discount: float, tol: float, initial_belief,
                grid: int | None, seed) -> tuple:
    """:func:`solve_pbvi` of one arm (a one-arm stack) at each of ``prices`` in turn, each
    warm-started from the previous solve, drawing from the Generator ``seed``: the same
    vectors as that loop of calls, in one kernel (:func:`~rmab.values._kernels.sweep_kernel`;
    the belief-state Whittle fit makes ``n_prices + S (A - 1)`` solves per arm, where the
    calls' Python overhead outweighed their numba work).

    Returns ``(alphas (K, S), costs (K, S), actions (K,), ends (P + 1,))``: the solve at
    ``prices[p]`` has rows ``ends[p]:ends[p + 1]``, its α-vectors priced at ``prices[p]``."""
    owner = "solve_pbvi"
    prices = np.asarray(prices, dtype=np.float64)
    check_scale(owner, arm, prices, discount, field="price")     # each call's price
    b0 = start_beliefs(owner, initial_belief, 1, arm.n_states)[0]
    s_count = arm.n_states
    extra = np.zeros((0, s_count)) if grid is None else simplex_grid(s_count, grid)
    target = tol * (1.0 - discount) / discount
    rng = as_generator(seed, f"{owner}.seed")
    trans = arm.transitions[0]
    c = np.ascontiguousarray(arm.costs[0])
    priced = np.ascontiguousarray(arm.rewards[0] - prices[:, None, None] * c)   # (P, S, A)
    # every price's blind policies in one batched solve, as _blind_vectors makes them
    blind = np.linalg.solve(np.eye(s_count) - discount * trans,
                            priced.transpose(0, 2, 1)[..., None])[..., 0]       # (P, A, S)
    seeds = rng.integers(1, 2**62, size=(len(prices), 2))    # each call's expansion, Perseus
    alphas, costs, actions, ends, residuals = _kernels.sweep_kernel(
        trans, np.ascontiguousarray(arm.observations[0]), priced, blind, c, prices, discount,
        b0, N_BELIEFS, extra, seeds, _MIN_L1, _IDLE_ROUNDS, target, MAX_ITER)
    for _ in range(int(np.sum(~(residuals <= target)))):
        warnings.warn(f"{owner}: the solve stopped after max_iter={MAX_ITER} sweeps "
                      f"before reaching tol={tol:g}", ConvergenceWarning,
                      stacklevel=user_stacklevel())
    return alphas, costs, actions, ends


def plans_with_uses(trans, obs, r, beliefs, discount: float, target: float, max_iter: int,
                    seed: int, warm=None) -> tuple:
    """PBVI of one arm (priced rewards ``r`` (S, A), point set ``beliefs`` (M, S)) that
    keeps, for every plan, how often it takes each active action: returns ``(alphas (K, S),
    uses (K, S, A - 1), actions (K,), converged)``, ``uses[k, s, a - 1]`` the discounted
    expected number of periods plan ``k`` takes action ``a`` from state ``s``; any linear
    charge on the actions (a cost, a count limit's pattern) is then ``uses @ charge[1:]``.

    The kernel's choices depend on the α-vectors alone (costs ride along), so it runs once
    per active action with that action's indicator as the cost, from the same start and
    Perseus ``seed``: the same α-vectors every time (checked). ``warm``: ``(alphas, uses,
    actions)`` of plans valued at these rewards (re-priced by the caller)."""
    n_actions, s_count = trans.shape[0], trans.shape[1]
    runs = []
    for a in range(1, n_actions):
        c = np.zeros(n_actions)
        c[a] = 1.0
        a0, c0 = _blind_vectors(trans, r, c, discount)
        act0 = np.arange(n_actions, dtype=np.int64)
        if warm is not None:
            a0 = np.vstack([a0, warm[0]])
            c0 = np.vstack([c0, warm[1][:, :, a - 1]])
            act0 = np.concatenate([act0, warm[2]])
        cap = max(len(beliefs), len(a0))
        alphas, costs = np.zeros((cap, s_count)), np.zeros((cap, s_count))
        actions = np.zeros(cap, dtype=np.int64)
        alphas[:len(a0)], costs[:len(a0)], actions[:len(a0)] = a0, c0, act0
        stats = np.zeros(2)
        k = _kernels.pbvi_kernel(trans, obs, r, c, discount, beliefs, alphas, costs, actions,
                                 len(a0), target, max_iter, False, seed, stats)
        runs.append((alphas[:k], costs[:k], actions[:k], bool(stats[1] <= target)))
    alphas, _, actions, converged = runs[0]
    if any(not np.array_equal(run[0], alphas) for run in runs[1:]):
        raise RuntimeError("plans_with_uses: PBVI's runs differ; the kernel's choices must "
                           "not depend on the costs")
    return alphas.copy(), np.stack([run[1] for run in runs], axis=2), actions.copy(), converged


def _arm_key(arms, i, b0, warm) -> bytes:
    """Arm ``i``'s solve: arms with the same model, start belief and warm start (None in
    ``finite_pbvi``) share one."""
    h = hashlib.blake2b(digest_size=16)
    for arr in (arms.transitions[i], arms.observations[i], arms.rewards[i], arms.costs[i], b0):
        h.update(np.ascontiguousarray(arr).tobytes())
    if warm is not None:
        h.update(warm[0].tobytes())
    return h.digest()


def arm_problem(arms, i, price, b0, n_beliefs, extra, rng):
    """Arm ``i``'s transitions, signals, costs, priced rewards ``r - λ c`` and point set (the
    expansion from the arm's start belief ``b0`` plus the ``extra`` beliefs, if any)."""
    trans = arms.transitions[i]
    obs = np.ascontiguousarray(arms.observations[i])
    c = np.ascontiguousarray(arms.costs[i])
    r = np.ascontiguousarray(arms.rewards[i] - price * c[None, :])
    beliefs = _expand(trans, obs, b0, n_beliefs, rng)
    if extra is not None:
        beliefs = _unique_rows(np.vstack([beliefs, extra]))
    return trans, obs, c, r, np.ascontiguousarray(beliefs)


def _unique_rows(x: np.ndarray) -> np.ndarray:
    """``np.unique(x, axis=0)`` (rows sorted lexicographically, repeats dropped) of a float
    array without NaN (:func:`~rmab.values._kernels.unique_rows_kernel`: numpy's sort of rows
    as structured records took 14 % of a belief-state Whittle fit)."""
    return _kernels.unique_rows_kernel(np.ascontiguousarray(x, dtype=np.float64))


def _solve_one(arms, i, price, discount, target, b0, n_beliefs, grid_points, randomized, warm,
               rng, max_iter) -> AlphaVectors:
    trans, obs, c, r, beliefs = arm_problem(arms, i, price, b0, n_beliefs, grid_points, rng)
    a0, c0 = _blind_vectors(trans, r, c, discount)
    act0 = np.arange(trans.shape[0], dtype=np.int64)
    if warm is not None:
        a0 = np.vstack([a0, warm[0]])
        c0 = np.vstack([c0, warm[1]])
        act0 = np.concatenate([act0, warm[2]])
    cap = max(len(beliefs), len(a0))
    alphas = np.zeros((cap, trans.shape[1]))
    costs = np.zeros_like(alphas)
    actions = np.zeros(cap, dtype=np.int64)
    alphas[:len(a0)], costs[:len(a0)], actions[:len(a0)] = a0, c0, act0
    stats = np.zeros(2)
    k = _kernels.pbvi_kernel(trans, obs, r, c, discount, beliefs, alphas, costs, actions,
                             len(a0), target, max_iter, randomized,
                             int(rng.integers(1, 2**62)), stats)
    out = [np.ascontiguousarray(x[:k]) for x in (alphas, costs, actions)]
    for x in out + [beliefs]:
        x.setflags(write=False)
    return AlphaVectors(out[0], out[2], out[1], beliefs, price, discount, trans, obs,
                        arms.rewards[i], arms.costs[i], iterations=int(stats[0]),
                        residual=float(stats[1]), converged=bool(stats[1] <= target))
