"""Finite-horizon point-based value iteration for POMDP arms with a price on resource use.

The finite-horizon counterpart of :mod:`rmab.values.pbvi` (``PORMAB.md`` §1, the objective's
finite-horizon total): with ``H`` periods ``t = 0..H-1`` and ``V_H = 0``, arm ``n``'s value
``V_t(b) = max E Σ_{u=t}^{H-1} β^{u-t} (r(s_u, a_u) - λ c(a_u))`` (``β = 1`` allowed) is bounded
from below by one α-vector set per period, ``V_t(b) >= max_{α ∈ Γ_t} α · b``, built by
backward induction from ``Γ_H = {0}``::

    Γ_t = { backup of Γ_{t+1} at b : b in the point set },   t = H-1, ..., 0

with the same point-based backup (and the same Numba kernel, ``backup_all_kernel``) as the
discounted solver: ``α_{a,o} = argmax_{α ∈ Γ_{t+1}} Σ_s' (bP^a)(s') ρ^a(s',o) α(s')``,
``α = r_a - λ c(a) + β Σ_o P^a diag(ρ^a_{·o}) α_{a,o}``, and beside it the plan's resource
use over the periods left, ``κ = c(a) + β Σ_o P^a diag(ρ^a_{·o}) κ_{a,o}``.

Lower bound: every vector of ``Γ_t`` is the value of a conditional plan for the ``H - t``
periods left, so ``max_k α_k · b <= V_t(b)`` at every belief. There is no iteration and no
tolerance: H backups per point. The values are exact at ``b`` when the point set holds every
belief reachable from ``b`` within the periods left (``points=`` can supply them); otherwise
how close they are depends on how well the set covers the reachable beliefs. Pair with
``fib_bound(..., horizon=H)`` (:mod:`rmab.values.bounds`) for a certified interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rmab._validation import as_generator, check_arms, check_discount, check_number
from rmab.models.arms import POMDPArms
from rmab.values import _kernels
from rmab.values.exact import check_scale
from rmab.values.pbvi import (AlphaVectors, PBVIResult, _Stack, _arm_key, arm_problem,
                              check_belief_rows, grid_beliefs, start_beliefs)

__all__ = ["FiniteAlphaVectors", "FinitePBVIResult", "solve_finite_pbvi"]


@dataclass(frozen=True, eq=False)
class FiniteAlphaVectors:
    """One arm's finite-horizon PBVI solution at one price.

    ``periods[t]`` is an :class:`~rmab.values.pbvi.AlphaVectors` whose vectors bound ``V_t``
    (``H - t`` periods left) from below; its ``costs`` are each plan's resource use
    ``E Σ_{u>=t} β^{u-t} c(a_u)`` over those periods. Queries take the period ``t``
    (default 0); ``q(b, t)`` looks one step ahead onto ``Γ_{t+1}`` (``Γ_H = {0}``). The
    attributes ``alphas``, ``costs``, ``actions`` and :meth:`repriced` are period 0's.

    Attributes
    ----------
    periods : tuple of H AlphaVectors
    horizon : int;  price, discount : the λ and β solved for (β may be 1)
    beliefs : (M, S)  the point set every period was backed up on
    """

    periods: tuple
    horizon: int
    price: float
    discount: float
    beliefs: np.ndarray
    _terminal: AlphaVectors

    @property
    def n_states(self) -> int:
        return self.beliefs.shape[1]

    @property
    def alphas(self) -> np.ndarray:
        return self.periods[0].alphas

    @property
    def costs(self) -> np.ndarray:
        return self.periods[0].costs

    @property
    def actions(self) -> np.ndarray:
        return self.periods[0].actions

    def _period(self, t) -> int:
        return check_number(type(self).__name__, "t", t, low=0, high=self.horizon - 1,
                            integer=True)

    def value(self, b, t: int = 0):
        """``max_{α ∈ Γ_t} α · b``: a float for b (S,), an array (M,) for b (M, S)."""
        return self.periods[self._period(t)].value(b)

    def action(self, b, t: int = 0):
        """First action of the best period-``t`` plan at b (int, or (M,) int64)."""
        return self.periods[self._period(t)].action(b)

    def resource(self, b, t: int = 0):
        """Resource use over the periods left of the best period-``t`` plan at b."""
        return self.periods[self._period(t)].resource(b)

    def q(self, b, t: int = 0):
        """``R(b, a) - λ c(a) + β Σ_o Pr(o|b,a) V_{t+1}(τ(b,a,o))`` with ``V_{t+1}`` from
        ``Γ_{t+1}`` (``V_H = 0``): (A,) for one belief, (M, A) for many."""
        t = self._period(t)
        arr, single = check_belief_rows(f"{type(self).__name__}.q", b, self.n_states)
        out = self._q(arr, t)
        return out[0] if single else out

    def _q(self, arr, t: int = 0) -> np.ndarray:
        nxt = self.periods[t + 1] if t + 1 < self.horizon else self._terminal
        return nxt._q(arr)

    def repriced(self, price: float) -> np.ndarray:
        """Period 0's plans valued at another price (exact, :meth:`AlphaVectors.repriced`)."""
        return self.periods[0].repriced(price)


@dataclass(frozen=True, eq=False, repr=False)
class FinitePBVIResult(PBVIResult):
    """Finite-horizon PBVI solutions for a stack of arms (identical arms share one solve).

    As :class:`~rmab.values.pbvi.PBVIResult`, with ``solves`` of
    :class:`FiniteAlphaVectors`, ``horizon`` ``H``, ``tol = 0`` (no stopping rule: ``H``
    backups) and queries that take the period ``t`` (0..H-1).
    """

    horizon: int = 1

    @property
    def iterations(self) -> np.ndarray:
        """Backups of each solve, (n_solves,): the horizon."""
        return np.full(len(self.solves), self.horizon, dtype=np.int64)

    def _t(self, t) -> int:
        return check_number("FinitePBVIResult", "t", t, low=0, high=self.horizon - 1,
                            integer=True)

    @cached_property
    def _stacks(self) -> dict:
        return {}

    def _period_stack(self, t: int) -> _Stack:
        """Every solve's period-``t`` vectors, stacked (``t = H``: the terminal ``V_H = 0``)."""
        if t not in self._stacks:
            self._stacks[t] = _Stack([s.periods[t] if t < self.horizon else s._terminal
                                      for s in self.solves])
        return self._stacks[t]

    def values(self, beliefs, t: int = 0) -> np.ndarray:
        """Each arm's lower-bound value ``V_t`` at its belief: (N, S) -> (N,)."""
        t = self._t(t)
        arr, single = self._beliefs(beliefs)
        out = self._period_stack(t).best(self.arm_to_solve, arr)[1]
        return out[0] if single else out

    def q(self, beliefs, t: int = 0) -> np.ndarray:
        """Each arm's one-step lookahead at period ``t``: (N, S) -> (N, A)."""
        t = self._t(t)
        arr, single = self._beliefs(beliefs)
        out = self._period_stack(t + 1).q(self.arm_to_solve, arr)
        return out[0] if single else out

    def resource(self, beliefs, t: int = 0) -> np.ndarray:
        """Each arm's resource use over the periods left from ``t``: (N, S) -> (N,)."""
        t = self._t(t)
        arr, single = self._beliefs(beliefs)
        out = self._period_stack(t).resource(self.arm_to_solve, arr)
        return out[0] if single else out

    def actions(self, beliefs, t: int = 0) -> np.ndarray:
        """Each arm's plan action at period ``t``: (N, S) -> (N,) int64."""
        t = self._t(t)
        arr, single = self._beliefs(beliefs)
        out = self._period_stack(t).actions(self.arm_to_solve, arr)
        return out[0] if single else out


def solve_finite_pbvi(arms: POMDPArms, *, horizon: int, price: float = 0.0,
                      discount: float = 1.0, initial_belief=None, n_beliefs: int = 64,
                      grid: int | None = None, points=None, seed=None) -> FinitePBVIResult:
    """Finite-horizon PBVI lower bounds for every arm of a stack at one price.

    Parameters
    ----------
    arms : POMDPArms
    horizon : int >= 1
        ``H``: periods ``0..H-1``, then nothing (``V_H = 0``).
    price : float
        ``λ``: the reward is ``r(s, a) - λ c(a)``.
    discount : float in (0, 1 - 1e-9] or 1
    initial_belief : array (S,) or (N, S), optional
        Where belief expansion starts (default uniform).
    n_beliefs : int >= 1
        Maximum number of points grown from the initial belief by simulated successors (the
        discounted solver's expansion, :func:`rmab.values.pbvi.solve_pbvi`).
    grid : int, optional
        Also include every belief with entries in multiples of ``1/grid``.
    points : array (M, S), optional
        Further beliefs for the point set (for instance every belief reachable within the
        horizon, which makes the values exact at the initial belief).
    seed : int, SeedSequence or Generator
        Drives the simulated expansion.

    Returns
    -------
    FinitePBVIResult
        ``result[n].value(b, t)`` is a lower bound of arm ``n``'s optimal value with
        ``H - t`` periods left.
    """
    owner = "solve_finite_pbvi"
    check_arms(owner, arms, POMDPArms)
    horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
    price = check_number(owner, "price", price)
    discount = check_discount(owner, discount, one=True)
    n_beliefs = check_number(owner, "n_beliefs", n_beliefs, low=1, high=10**6, integer=True)
    check_scale(owner, arms, np.array([price]), discount, horizon, "price")
    n, s = arms.n_arms, arms.n_states
    b0 = start_beliefs(owner, initial_belief, n, s)
    extra = []
    if grid is not None:
        extra.append(grid_beliefs(owner, "grid", s, grid))
    if points is not None:
        extra.append(check_belief_rows(owner, points, s, field="points")[0])
    extra = np.vstack(extra) if extra else None
    rng = as_generator(seed, f"{owner}.seed")
    start = time.perf_counter()

    keys: dict = {}
    arm_to_solve = np.empty(n, dtype=np.int64)
    solves = []
    for i in range(n):
        key = _arm_key(arms, i, b0[i], None)
        j = keys.get(key)
        if j is None:
            j = keys[key] = len(solves)
            solves.append(_solve_one(arms, i, price, discount, horizon, b0[i], n_beliefs,
                                     extra, rng))
        arm_to_solve[i] = j
    arm_to_solve.setflags(write=False)
    return FinitePBVIResult(tuple(solves), arm_to_solve, price, discount, 0.0,
                            time.perf_counter() - start, True, horizon=horizon)


def backward_sets(trans, obs, r, c, beta, beliefs, horizon):
    """The period sets ``Γ_{H-1}, ..., Γ_0`` (returned in period order 0..H-1) as
    ``(alphas, costs, actions)`` triples: each is the backup of the next period's set at every
    point (``backup_all_kernel``), duplicates dropped; ``Γ_H = {0}``. ``r`` (S, A) are the
    priced rewards; inputs C-contiguous float64."""
    m_count, s_count = beliefs.shape
    if not beliefs.flags.writeable:     # writable, as pbvi_kernel's: one point_backup (a
        beliefs = beliefs.copy()        # read-only one compiled it again, 0.7 s cold)
    alphas = np.zeros((1, s_count))
    costs = np.zeros((1, s_count))
    out_a, out_c = np.empty((m_count, s_count)), np.empty((m_count, s_count))
    out_act, out_v = np.empty(m_count, dtype=np.int64), np.empty(m_count)
    sets = []
    for _ in range(horizon):
        _kernels.backup_all_kernel(trans, obs, r, c, beta, beliefs, alphas, costs, out_a, out_c,
                                   out_act, out_v)
        # every backup is the best plan at its own point: only duplicates are dropped
        _, first = np.unique(np.column_stack([out_a, out_act]), axis=0, return_index=True)
        first = np.sort(first)
        alphas = np.ascontiguousarray(out_a[first])
        costs = np.ascontiguousarray(out_c[first])
        sets.append((alphas, costs, out_act[first].copy()))
    return sets[::-1]


def first_plans_with_uses(trans, obs, r, beta, beliefs, horizon) -> tuple:
    """Period 0's set of :func:`backward_sets` with, per plan, how often it takes each active
    action: ``(alphas (K, S), uses (K, S, A - 1), actions (K,))`` (the discounted counts over
    the horizon; as :func:`rmab.values.pbvi.plans_with_uses`, one run per active action with
    its indicator as the cost, the same α-vectors every time)."""
    n_actions = trans.shape[0]
    runs = []
    for a in range(1, n_actions):
        c = np.zeros(n_actions)
        c[a] = 1.0
        runs.append(backward_sets(trans, obs, r, c, beta, beliefs, horizon)[0])
    alphas, _, actions = runs[0]
    if any(not np.array_equal(run[0], alphas) for run in runs[1:]):
        raise RuntimeError("first_plans_with_uses: the runs differ; backups must not depend "
                           "on the costs")
    return alphas, np.stack([run[1] for run in runs], axis=2), actions


def _solve_one(arms, i, price, discount, horizon, b0, n_beliefs, extra, rng):
    trans, obs, c, r, beliefs = arm_problem(arms, i, price, b0, n_beliefs, extra, rng)
    beliefs.setflags(write=False)

    def vectors(left, alphas, costs, actions):
        for x in (alphas, costs, actions):
            x.setflags(write=False)
        return AlphaVectors(alphas, actions, costs, beliefs, price, discount, trans, obs,
                            arms.rewards[i], arms.costs[i], iterations=horizon, residual=0.0,
                            converged=True, periods_left=left)

    periods = tuple(vectors(horizon - t, *x) for t, x in enumerate(
        backward_sets(trans, obs, r, c, discount, beliefs, horizon)))
    zero = np.zeros((1, trans.shape[1]))
    terminal = vectors(0, zero, zero.copy(), np.zeros(1, dtype=np.int64))
    return FiniteAlphaVectors(periods, horizon, price, discount, beliefs, terminal)
