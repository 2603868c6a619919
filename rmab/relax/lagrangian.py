"""Lagrangian relaxation of the per-period budget (``../shared/specs/PORMAB.md`` §4).

Pricing resource at ``λ >= 0`` decouples the arms::

    L(λ) = Σ_n V_n^λ(π_n) + λ B w,     w = 1 / (1 - β)   (finite horizon H: Σ_{t<H} β^t)

where ``V_n^λ`` is arm ``n``'s optimal value with reward ``r_n(s, a) - λ c_n(a)`` from its
belief ``π_n``. ``L(λ) >= OPT`` for every ``λ >= 0``, ``L`` is convex, and its slope is
``B w - Σ_n C_n^λ`` with ``C_n^λ`` the discounted resource use of the λ-optimal policy.

* Fully observed arms: exact values by policy iteration (:mod:`rmab.values.exact`); the
  minimiser ``λ*`` by bisection on the slope's sign, golden section, or exactly by Hawkins'
  single linear program over all arms (HiGHS)::

      min_{V, λ >= 0}  Σ_n π_n · V_n + λ B w
      s.t.  V_n(s) >= r_n(s, a) - λ c_n(a) + β Σ_s' P_n^a(s, s') V_n(s')   for all n, s, a

  (finite horizon: one ``V_n,t`` per period, ``V_n,t+1`` on the right, ``V_n,H = 0``).

* Partially observable arms: point-based value iteration (:mod:`rmab.values.pbvi`; on a
  finite horizon :mod:`rmab.values.finite_pbvi`, one α-set per period) gives *lower* values,
  so ``Σ_n V̲_n^λ + λ B w`` is an **estimate** of ``L(λ)`` that may fall below it; the fast
  informed bound (:mod:`rmab.values.bounds`, finite horizon: its ``H``-step backward
  induction) gives upper values, so ``Σ_n V̄_n^λ + λ B w`` is a **certified upper bound** on
  ``OPT`` at any ``λ``. Both are reported, each under its own name.

Arms with identical parameters share one solve per price. References: J. T. Hawkins (2003),
PhD thesis, MIT; D. Adelman and A. J. Mersereau (2008); PORMAB.md §4.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from rmab._repr import CompactRepr, ReadOnlyArrays
from rmab._validation import as_generator, check_flag, check_number, discounted_periods
from rmab._warnings import user_stacklevel
from rmab.belief.update import check_beliefs
from rmab.errors import ConvergenceWarning, InvalidParameterError
from rmab.models.arms import MDPArms
from rmab.models.instance import Instance

__all__ = ["LagrangianResult", "DualCurveResult", "lagrangian_bound", "dual_curve",
           "plot_dual", "unique_arms"]

_METHODS = ("auto", "bisection", "golden", "cutting-plane", "lp")
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_LIMIT_ROUNDS = 8           # coordinate rounds of the count limits' multipliers, at most
_WIDENINGS = 6              # 4-fold widenings of a multiplier's range, at most
_LP_ROWS = 60_000           # largest Hawkins LP solved for the limits' multipliers (HiGHS took
                            # 1 s at 10 000 rows; at 120 000 its dual simplex gave up)
_CERT_EVALS = 5


@dataclass(frozen=True, eq=False, repr=False)
class LagrangianResult(CompactRepr, ReadOnlyArrays):
    """The Lagrangian bound at the multiplier found.

    Attributes
    ----------
    estimate : float
        ``L(λ*)`` from the per-arm values computed (for fully observed arms exact up to
        ``value_tol`` per arm, so within ``n_arms · value_tol`` of ``L(λ*)``; PBVI lower values
        for POMDP arms: then it may fall below the true ``L(λ*)``). The certificate holds
        either way.
    certified_upper_bound : float or None
        An upper bound on the optimal return proven by upper values on every arm (fully
        observed: the exact values plus their tolerance; POMDP: the fast informed bound);
        None when no certificate was asked for.
    price : float
        ``λ*``, the minimising price per unit of resource.
    arm_values, arm_resource : (n_arms,)
        ``V_n^{λ*}(π_n)`` and ``C_n^{λ*}(π_n)`` (discounted resource use).
    arm_upper : (n_arms,) or None
        Upper values ``V̄_n^λ(π_n)`` behind the certificate, at ``certificate_price``.
    certificate_price : float or None
        The price of the certificate: ``λ*`` for fully observed arms; for POMDP arms the
        minimiser of the (convex) upper dual ``Σ_n V̄_n^λ(π_n) + λ B w``, by golden section.
    budget_weight : float
        ``w`` in ``λ B w``. A budget ``B`` above ``2 D + 1``, ``D`` the dearest joint
        action's cost, is searched as ``2 D + 1`` (the same bound, at ``λ* = 0``; the path's
        dual values and the slope use it).
    slope : float
        ``B w - Σ_n C_n^{λ*}``, a subgradient of ``L`` at ``λ*``. Where ``λ*`` sits at a kink
        (an arm indifferent between levels there) any value between the one-sided slopes is
        one, and which the arms' tie-breaking gives can differ between methods (a walkthrough:
        -4.66 by bisection, +0.066 by the LP, at the same price and bound).
    method : str
    exact : bool
        True when the arm values come from policy iteration (fully observed arms; exact up to
        ``value_tol``).
    iterations : int
        Prices evaluated by the search.
    prices, dual_values : (k,)
        Every price evaluated and its ``L`` estimate (the search path).
    seconds, certificate_seconds : float
        Wall time in total and for the certificate.
    limit_charges : (n_actions,) or None
        With ``price_limits``: the per-period charge of each action from the count limits'
        multipliers (included in ``arm_values`` and :meth:`q_values`, like ``λ* c``).
    """

    estimate: float
    certified_upper_bound: float | None
    price: float
    arm_values: np.ndarray
    arm_resource: np.ndarray
    arm_upper: np.ndarray | None
    certificate_price: float | None
    budget_weight: float
    slope: float
    method: str
    exact: bool
    iterations: int
    prices: np.ndarray
    dual_values: np.ndarray
    seconds: float
    certificate_seconds: float
    limit_charges: np.ndarray | None = None
    _q: "_QFunction" = field(repr=False, default=None)

    def q_values(self, beliefs, t: int = 0) -> np.ndarray:
        """``Q_n^{λ*}(b_n, a)`` (n_arms, n_actions) at beliefs (n_arms, n_states): the priced
        reward now plus the λ*-optimal continuation (rewards net of ``λ* c_n(a)``). On a
        finite horizon ``H``, ``t`` is the period (0..H-1) counted from the beliefs the bound
        was computed for; otherwise it is ignored."""
        b = check_beliefs("LagrangianResult.q_values", beliefs, len(self.arm_values),
                          self._q.n_states)
        t = check_number("LagrangianResult.q_values", "t", t, low=0, integer=True)
        return self._q(b, t)


@dataclass(frozen=True, eq=False, repr=False)
class DualCurveResult(CompactRepr, ReadOnlyArrays):
    """``L(λ)`` on a grid of prices: ``estimate`` (k,), ``upper`` (k,) or None, ``slope`` (k,)."""

    prices: np.ndarray
    estimate: np.ndarray
    upper: np.ndarray | None
    slope: np.ndarray
    exact: bool
    seconds: float


def unique_arms(arms):
    """Indices of distinct arms and the map back: ``arms.select(first)[inverse]`` are ``arms``.

    Arms are equal when every parameter is bitwise equal.
    """
    parts = [arms.transitions, arms.rewards, arms.costs]
    if not arms.fully_observed:
        parts.append(arms.observations)
    flat = np.concatenate([p.reshape(arms.n_arms, -1) for p in parts], axis=1)
    _, first, inverse = np.unique(flat, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


# -- per-arm solvers: values, resource and Q at the beliefs, for one price -------------------

class _QFunction:
    """``Q_n(b_n, ·)`` of every arm at one price: for fully observed arms ``table[inverse]``
    (linear in the belief; ``table`` (K, S, A) over the K distinct arms, or (H, K, S, A), one
    per period, on a finite horizon), else the PBVI solution of every arm (on a finite
    horizon a :class:`~rmab.values.finite_pbvi.FinitePBVIResult`, queried at period ``t``).
    Periods past the horizon take the last period's Q."""

    def __init__(self, n_states, table=None, inverse=None, pbvi=None):
        self.n_states, self.table, self.inverse, self.pbvi = n_states, table, inverse, pbvi

    def __call__(self, beliefs, t: int = 0) -> np.ndarray:
        if self.table is None:
            horizon = getattr(self.pbvi, "horizon", None)
            if horizon is None:
                return self.pbvi.q(beliefs)
            return self.pbvi.q(beliefs, min(t, horizon - 1))
        table = self.table if self.table.ndim == 3 else self.table[min(t, len(self.table) - 1)]
        return np.einsum("ns,nsa->na", beliefs, table[self.inverse])


class _Point:
    """Per-arm values and resource at one price, and the Q function behind them; ``slack``: by
    how much the values may fall short of the optimal ones (exact solver)."""

    __slots__ = ("price", "values", "resource", "q", "slack")

    def __init__(self, price, values, resource, q, slack=0.0):
        self.price, self.values, self.resource, self.q = price, values, resource, q
        self.slack = slack


class _MDPSolver:
    exact = True

    def __init__(self, arms, beliefs, discount, horizon, tol):
        self.first, self.inverse = unique_arms(arms)
        self.arms = arms.select(self.first)
        self.beliefs, self.discount, self.horizon, self.tol = beliefs, discount, horizon, tol

    def __call__(self, price: float) -> _Point:
        from rmab.values.exact import policy_iteration

        arms, finite = self.arms, self.horizon is not None
        res = policy_iteration(arms, prices=price, discount=self.discount,
                               horizon=self.horizon, tol=self.tol, return_table=finite)
        inv = self.inverse
        values = np.einsum("ns,ns->n", self.beliefs, res.values[0][inv])
        resource = np.einsum("ns,ns->n", self.beliefs, res.resource[0][inv])
        table = res.q[0]
        if finite:   # Q of every period: r - λ c + β E V_{t+1}, with V_H = 0
            after = np.zeros_like(res.period_values[:, 0])
            after[:-1] = res.period_values[1:, 0]                              # (H, K, S)
            table = ((arms.rewards - price * arms.costs[:, None, :])[None]
                     + self.discount * np.einsum("kast,hkt->hksa", arms.transitions, after))
        # |values - V*| <= ExactResult.tol at this price (the tolerance met, raised where
        # float64 cannot resolve the one asked for): the certificate adds it per arm. It added
        # the largest tol / (1 - β) of any price searched, 156 above the estimate at β = 0.9999
        slack = 0.0 if finite else res.tol
        return _Point(price, values, resource, _QFunction(arms.n_states, table, inv), slack)

    def upper(self, point: _Point) -> np.ndarray:
        return point.values + point.slack


class _POMDPSolver:
    exact = False

    def __init__(self, arms, beliefs, discount, horizon, tol, seed, unit):
        self.first, self.inverse = unique_arms(arms)
        self.arms = arms.select(self.first)
        self.beliefs, self.discount, self.tol, self.seed = beliefs, discount, tol, seed
        self.horizon = horizon
        self.unit = unit                        # of the certificate's tolerances
        # start PBVI's belief sets from every distinct arm's mean starting belief
        counts = np.bincount(self.inverse, minlength=len(self.first)).astype(float)
        start = np.zeros((len(self.first), arms.n_states))
        np.add.at(start, self.inverse, beliefs)
        self.start = start / counts[:, None]
        self.solved = {}                                              # price -> PBVIResult
        # the pool of plans seen so far, as (reward value, resource use) at each arm's belief;
        # it starts with "never act", whose value is exact and whose resource use is 0
        passive = passive_values(arms, discount, horizon)
        self.pool_value = [np.einsum("ns,ns->n", beliefs, passive)[:, None]]
        self.pool_cost = [np.zeros((arms.n_arms, 1))]

    def _warm(self, price):
        if not self.solved:
            return None
        near = min(self.solved, key=lambda p: abs(p - price))
        return self.solved[near]

    def __call__(self, price: float) -> _Point:
        if self.horizon is None:
            from rmab.values.pbvi import solve_pbvi

            res = solve_pbvi(self.arms, price=price, discount=self.discount, tol=self.tol,
                             initial_belief=self.start, warm_start=self._warm(price),
                             seed=self.seed)
        else:   # one α-set per period, backward from V_H = 0: no iteration to warm-start
            from rmab.values.finite_pbvi import solve_finite_pbvi

            res = solve_finite_pbvi(self.arms, horizon=self.horizon, price=price,
                                    discount=self.discount, initial_belief=self.start,
                                    seed=self.seed)
        self.solved[price] = res
        every = replace(res, arm_to_solve=res.arm_to_solve[self.inverse])   # all N arms
        self._add_plans(res)
        return _Point(price, every.values(self.beliefs), every.resource(self.beliefs),
                      _QFunction(self.arms.n_states, pbvi=every))

    def _add_plans(self, res) -> None:
        """Pool the plans of a PBVI solve: each α-vector's reward value ``α + λ κ`` and
        resource use ``κ`` at the arm's belief (-inf / 0 padding)."""
        width = max(len(sol.alphas) for sol in res.solves)
        value = np.full((len(self.inverse), width), -np.inf)
        cost = np.zeros((len(self.inverse), width))
        owner = res.arm_to_solve[self.inverse]
        for j, sol in enumerate(res.solves):
            idx = np.flatnonzero(owner == j)
            k = len(sol.alphas)
            b = self.beliefs[idx]
            value[idx, :k] = b @ (sol.alphas + sol.price * sol.costs).T
            cost[idx, :k] = b @ sol.costs.T
        self.pool_value.append(value)
        self.pool_cost.append(cost)

    def _pool(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.pool_value, axis=1), np.concatenate(self.pool_cost, axis=1)

    def model(self, price: float, budget_term: float) -> float:
        """The pooled-plan model ``L̲`` (below) at ``price``."""
        value, cost = self._pool()
        return float((value - price * cost).max(axis=1).sum() + price * budget_term)

    def model_minimiser(self, budget_term: float, hi: float) -> float:
        """Minimiser over ``[0, hi]`` of the pooled-plan model
        ``L̲(λ) = Σ_n max_k (v_nk - λ c_nk) + λ B w``, a convex piecewise-linear lower bound of
        ``L``, by bisection on its subgradient to machine precision."""
        value, cost = self._pool()
        rows = np.arange(len(value))

        def slope(lam):
            k = np.argmax(value - lam * cost, axis=1)
            return budget_term - cost[rows, k].sum()

        lo = 0.0
        if slope(lo) >= 0.0:
            return 0.0
        while hi - lo > 1e-12 * hi:            # relative: prices scale with the units
            mid = 0.5 * (lo + hi)
            if slope(mid) < 0.0:
                lo = mid
            else:
                hi = mid
        return hi

    def upper(self, point: _Point) -> np.ndarray:
        return self.upper_at(point.price)

    def upper_at(self, price: float, sweeps: int = 0) -> np.ndarray:
        """Fast-informed-bound values ``V̄_n^λ(π_n)`` (N,) at ``price``, capped by the sawtooth
        bound over each distinct arm's PBVI points at the nearest price solved and the beliefs
        of its arms: on a finite horizon the backward sawtooth (one per period), discounted
        ``sweeps`` point backups (none: the FIB alone)."""
        from rmab.values.bounds import fib_bound, sawtooth_bound

        # tolerances in units of the reward spread: a fixed 1e-3 loosened the certificate
        # made the certificate 2.6 times the one in other units with rewards in millionths
        fib = fib_bound(self.arms, price=price, discount=self.discount, horizon=self.horizon,
                        tol=1e-3 * self.unit)
        upper = np.einsum("nas,ns->na", fib.vectors[self.inverse], self.beliefs).max(axis=1)
        if not self.solved or (self.horizon is None and not sweeps):
            return upper
        near = self.solved[min(self.solved, key=lambda p: abs(p - price))]
        for k in range(len(self.first)):
            idx = np.flatnonzero(self.inverse == k)
            pts = np.vstack([near[k].beliefs, self.beliefs[idx]])
            saw = sawtooth_bound(fib, pts, arm=k, backups=1 if self.horizon else sweeps,
                                 tol=1e-4 * self.unit)
            upper[idx] = saw.value(self.beliefs[idx])       # capped by the FIB itself
        return upper


def passive_values(arms, discount: float, horizon: int | None) -> np.ndarray:
    """"Never act"'s exact values (N, S) of every arm (it uses no resource)."""
    if horizon is None:
        return np.linalg.solve(np.eye(arms.n_states) - discount * arms.transitions[:, 0],
                               arms.rewards[:, :, 0, None])[:, :, 0]
    out = np.zeros((arms.n_arms, arms.n_states))
    for _ in range(horizon):
        out = arms.rewards[:, :, 0] + discount * np.einsum("nst,nt->ns", arms.transitions[:, 0],
                                                           out)
    return out


def reward_spread(arms) -> float:
    """``r_max - r_min`` over the arms (1 where every reward is the same): the unit of the
    default value tolerances, so that they mean the same in any units of the rewards."""
    spread = float(arms.rewards.max() - arms.rewards.min())
    return spread if spread > 0 else 1.0


def _solver(instance, beliefs, value_tol, seed, unit=None):
    """The per-arm solver, its default tolerance in units of ``unit`` (None: the arms' reward
    spread)."""
    unit = reward_spread(instance.arms) if unit is None else unit
    if isinstance(instance.arms, MDPArms):
        return _MDPSolver(instance.arms, beliefs, instance.discount, instance.horizon,
                          1e-9 * unit if value_tol is None else value_tol)
    return _POMDPSolver(instance.arms, beliefs, instance.discount, instance.horizon,
                        1e-3 * unit if value_tol is None else value_tol, seed, unit)


def budget_weight(instance: Instance) -> float:
    """``w`` with ``Σ_t β^t B = B w`` over the horizon (``1/(1-β)`` if infinite)."""
    return discounted_periods(instance.discount, instance.horizon)


def _budget_term(instance: Instance) -> float:
    """``B w``, with ``B`` capped at ``2 D + 1``, ``D`` the dearest joint action's cost: a larger
    budget changes neither the bound nor its price (0), and 1e307 times ``w`` overflowed to a
    NaN bound. (The margin keeps the slope at 0 clear of the rounding of the resource use.)"""
    dearest = float(instance.arms.costs.max(axis=1).sum())
    return min(instance.budget, 2.0 * dearest + 1.0) * budget_weight(instance)


def _price_ceiling(instance: Instance, weight: float) -> float:
    """A price at which every arm's λ-optimal policy uses no resource: values span at most
    ``(r_max - r_min) w`` whatever the price, so beyond that over the smallest positive cost
    acting never pays; twice that, a margin in the units of the problem (0 where rewards
    are all equal: acting never pays)."""
    arms = instance.arms
    pos = arms.costs[arms.costs > 0]
    if pos.size == 0:
        return 0.0
    spread = float(arms.rewards.max() - arms.rewards.min()) * weight
    return 2.0 * spread / float(pos.min())


# -- public API ------------------------------------------------------------------------------

def _check_common(owner, instance, beliefs, value_tol):
    if not isinstance(instance, Instance):
        raise InvalidParameterError(f"{owner}.instance: must be an Instance; got "
                                    f"{type(instance).__name__}")
    if beliefs is None:
        beliefs = instance.initial_belief
    beliefs = check_beliefs(owner, beliefs, instance.n_arms, instance.n_states)
    if value_tol is not None:
        value_tol = check_number(owner, "value_tol", value_tol, low=0.0, low_open=True)
    return beliefs, value_tol


def lagrangian_bound(instance: Instance, *, method: str = "auto", beliefs=None,
                     price_tol: float = 1e-6, max_iter: int = 60, value_tol: float | None = None,
                     certificate: bool = True, sawtooth_sweeps: int = 0,
                     price_limits: bool = False, seed=0) -> LagrangianResult:
    """Minimise the Lagrangian dual ``L(λ)`` over ``λ >= 0``.

    The instance's count limits (``action_caps``, ``min_active``, ``max_active``) are relaxed
    away by default, so the bound remains an upper bound on their problem, looser where a limit
    binds; ``price_limits=True`` prices them too (below).

    Parameters
    ----------
    instance : Instance
    method : {"auto", "bisection", "golden", "cutting-plane", "lp"}
        ``"bisection"`` on the sign of the slope ``B w - Σ C_n^λ``; ``"golden"`` section on
        ``L``; ``"lp"`` Hawkins' linear program (fully observed arms; one layer of values per
        period on a finite horizon) solved by HiGHS, exact; ``"cutting-plane"`` (POMDP arms;
        Kelley's method): every PBVI plan's value is linear in ``λ`` (its reward value and
        resource use do not depend on the price) and a lower bound of ``V_n^λ``, so the plans
        of all solves so far give a convex piecewise-linear model of ``L`` from below; PBVI is
        re-solved at the model's minimiser (found by bisection on its subgradient) until the
        price settles or, discounted, another solve would gain the model less than 1 % of
        ``N value_tol`` (PBVI's own noise), typically in a handful of solves instead of the
        ~15 of plain bisection. ``"auto"`` (default):
        bisection for fully observed arms, cutting-plane for POMDP arms.
    beliefs : array (n_arms, n_states), optional
        Beliefs to start from (default the instance's initial belief).
    price_tol : float
        Stop when the price bracket is narrower than ``price_tol * max(λ, λ_max / (1000 w))``
        (cutting plane: when the model's minimiser moves by less, or on a discounted horizon
        first when another solve would gain the model less than 1 % of ``N value_tol``: the
        price is then known only as far as PBVI's values tell it), ``λ_max`` the price beyond
        which no arm acts (``2 (r_max - r_min) w`` over the smallest positive cost): relative
        to the price, so the same in any units of rewards and costs.
    max_iter : int
        At most this many prices evaluated by the search (golden section evaluates at least
        three). Stopping on ``max_iter`` first gives a
        :class:`~rmab.errors.ConvergenceWarning` naming the bracket reached (cutting plane:
        the last price and the model's next minimiser); the result is then the best price
        evaluated, and both bounds still hold (every ``λ >= 0`` gives one), only looser.
    value_tol : float, optional
        Per-arm value tolerance: policy iteration (default 1e-9) or PBVI (default 1e-3;
        unused by finite-horizon PBVI, which makes ``H`` backups and has no stopping rule);
        the defaults are in units of the reward spread ``r_max - r_min`` (rewards in
        thousandths get a thousandth of the tolerance), a value given is absolute.
    certificate : bool
        Compute ``certified_upper_bound`` (POMDP: the fast informed bound near ``λ*``, on a
        finite horizon capped by the backward sawtooth over the PBVI points).
    sawtooth_sweeps : int >= 0
        Discounted POMDP arms: cap the certificate's FIB by the sawtooth bound over each arm's
        PBVI points after up to this many sweeps of point backups, at ``λ*`` (0: FIB alone).
        Tighter, and slower (docs/relaxations.md).
    price_limits : bool
        Also price the count limits: a multiplier ``μ_k`` per binding cap and one (of either
        sign) for the active-arm range, charging ``κ(a) = Σ_k μ_k d_k(a)`` per period on top of
        ``λ c(a)`` and adding ``Σ_k μ_k B_k w``; every ``μ`` gives a bound. Fully observed
        arms: the multipliers of Hawkins' LP with a variable per limit (exact, one LP; one
        layer of values per period on a finite horizon; above 60 000 rows, golden sections on
        the dual minimised over ``λ``, coordinate-wise in rounds, each step a full search over
        ``λ``). POMDP arms: a cutting plane over ``(λ, μ)`` on the pooled PBVI plans and their
        per-action uses (:mod:`rmab.relax.limit_prices`), then the bound at the ``μ`` found.
    seed : int, SeedSequence or Generator
        PBVI's belief sampling.
    """
    return _bound(instance, None, method=method, beliefs=beliefs, price_tol=price_tol,
                  max_iter=max_iter, value_tol=value_tol, certificate=certificate,
                  sawtooth_sweeps=sawtooth_sweeps, price_limits=price_limits, seed=seed)


def _bound(instance: Instance, unit: float | None, *, method, beliefs, price_tol, max_iter,
           value_tol, certificate, sawtooth_sweeps, price_limits, seed) -> LagrangianResult:
    """:func:`lagrangian_bound` with its default tolerances (PBVI's, the certificate's, policy
    iteration's) in units of ``unit``, None for the arms' reward spread: :func:`_price_limits`
    gives the spread of its instance's arms, which its charges would otherwise widen, and the
    tolerances with them (a hundredfold at a charge of -101 on rewards in [0, 1])."""
    owner = "lagrangian_bound"
    check_flag(owner, "price_limits", price_limits)
    check_flag(owner, "certificate", certificate)
    start = time.perf_counter()
    beliefs, value_tol = _check_common(owner, instance, beliefs, value_tol)
    if not isinstance(method, str) or method not in _METHODS:
        raise InvalidParameterError(f"{owner}.method: must be one of {_METHODS}; got {method!r}")
    price_tol = check_number(owner, "price_tol", price_tol, low=0.0, low_open=True)
    max_iter = check_number(owner, "max_iter", max_iter, low=1, integer=True)
    sawtooth_sweeps = check_number(owner, "sawtooth_sweeps", sawtooth_sweeps, low=0,
                                   integer=True)
    as_generator(seed, f"{owner}.seed")       # checked here (each PBVI solve draws from it)
    if price_limits and instance.count_limited:
        if isinstance(seed, np.random.Generator):      # every solve samples the same beliefs
            seed = int(seed.integers(2**63))
        return _price_limits(instance, dict(
            method=method, beliefs=beliefs, price_tol=price_tol, max_iter=max_iter,
            value_tol=value_tol, certificate=certificate, sawtooth_sweeps=sawtooth_sweeps,
            seed=seed))
    if method == "auto":
        method = "bisection" if instance.fully_observed else "cutting-plane"
    if method == "cutting-plane" and instance.fully_observed:
        raise InvalidParameterError(f"{owner}.method: 'cutting-plane' needs POMDP arms (fully "
                                    f"observed arms are solved exactly); got MDPArms")
    if method == "lp" and not instance.fully_observed:
        raise InvalidParameterError(f"{owner}.method: 'lp' needs fully observed arms; got "
                                    f"{type(instance.arms).__name__}")
    solver = _solver(instance, beliefs, value_tol, seed, unit)
    weight = budget_weight(instance)
    budget_term = _budget_term(instance)
    path: dict[float, _Point] = {}

    def evaluate(price: float) -> _Point:
        if price not in path:
            path[price] = solver(price)
        return path[price]

    def dual(point: _Point) -> float:
        return float(point.values.sum() + point.price * budget_term)

    def slope(point: _Point) -> float:
        return float(budget_term - point.resource.sum())

    flat = -1e-12 * max(1.0, budget_term)    # a slope at 0 this small is the resource's rounding
    # prices scale with the units of rewards and costs: the tolerance is relative to the price,
    # and below a per-period thousandth of the ceiling (where nothing acts any more) to that
    # (not to 1, which made it absolute at small prices: rewards in thousandths gave a price
    # of 0; nor to the ceiling's thousandth, which grows as 1 / (1 - β): at β = 1 - 1e-7 the
    # searches stopped 0.01 wide, at 1 - 1e-9 golden section at 0.47 for 0.2457)
    hi = _price_ceiling(instance, weight)
    scale = 1e-3 * hi                   # the certificate's search reaches that far past λ*
    floor = scale / weight
    if method == "lp":
        found = _hawkins_lp(solver.arms, solver.inverse, beliefs, instance.discount,
                            instance.horizon, budget_term)
        if found is None:
            size = f"{solver.arms.n_arms} distinct arms" + (
                "" if instance.horizon is None else f" x {instance.horizon} periods")
            raise InvalidParameterError(f"{owner}.method: HiGHS did not solve Hawkins' LP to "
                                        f"optimality ({size}); 'bisection' is exact too")
        price = found[0]
        # where the dual is flat from 0 (a budget every arm fits, B = D), the LP may return any
        # price of the flat: 0.274 instead of 0 in a domain whose every arm fits; take 0 as the
        # searches do
        lo_point = evaluate(0.0) if price > 0.0 else None
        best = (lo_point if lo_point is not None and slope(lo_point) >= flat
                else evaluate(price))
    else:
        lo_point = evaluate(0.0)
        bracket = None
        if slope(lo_point) >= flat or hi == 0.0:
            best = lo_point
        elif method == "bisection":
            best, bracket = _bisect(evaluate, slope, dual, 0.0, hi, price_tol, max_iter, floor)
        elif method == "cutting-plane":
            best, bracket = _cutting_plane(solver, evaluate, dual, budget_term, hi,
                                           price_tol, max_iter, floor)
        else:
            best, bracket = _golden(evaluate, dual, 0.0, hi, price_tol, max_iter, floor)
        if bracket is not None:
            warnings.warn(f"{owner}: the {method} price search stopped after max_iter="
                          f"{max_iter} prices before reaching price_tol={price_tol:g}; bracket "
                          f"[{bracket[0]:.6g}, {bracket[1]:.6g}], returned price "
                          f"{best.price:.6g} (the bound is valid but looser)",
                          ConvergenceWarning, stacklevel=user_stacklevel())
    cert_start = time.perf_counter()
    upper = certified = cert_price = None
    if certificate:
        cert_price, upper = best.price, solver.upper(best)
        certified = float(upper.sum() + best.price * budget_term)
        if not solver.exact:
            cert_price, upper, certified = _min_upper_dual(solver, budget_term,
                                                           (cert_price, upper, certified),
                                                           scale)
            if sawtooth_sweeps and solver.horizon is None:   # at λ*, where it is tight
                capped = solver.upper_at(best.price, sawtooth_sweeps)
                total = float(capped.sum() + best.price * budget_term)
                if total < certified:
                    cert_price, upper, certified = best.price, capped, total
    cert_seconds = time.perf_counter() - cert_start
    prices = np.array(list(path))
    order = np.argsort(prices, kind="stable")
    values = np.array([dual(p) for p in path.values()])
    return LagrangianResult(
        estimate=dual(best), certified_upper_bound=certified, price=float(best.price),
        arm_values=best.values, arm_resource=best.resource, arm_upper=upper,
        certificate_price=cert_price, budget_weight=weight, slope=slope(best), method=method,
        exact=solver.exact,
        iterations=len(path), prices=prices[order], dual_values=values[order],
        seconds=time.perf_counter() - start, certificate_seconds=cert_seconds, _q=best.q)


def _limit_rows(instance: Instance):
    """The count limits as priced rows: each ``(pattern (n_actions,), high, low, m_low,
    m_high)``; a multiplier ``m`` charges ``m * pattern[a]`` per period and adds ``m * high
    * w`` (``m >= 0``) or ``m * low * w`` (``m < 0``) to the dual, over ``[m_low, m_high]``."""
    n, n_actions = instance.n_arms, instance.n_actions
    weight = budget_weight(instance)
    # in the rewards' units (an absolute + 1 left multipliers of 1e-6 a range of 1 at rewards
    # in millionths: golden sections to 1e-6 of it, bounds up to 3 % looser, a review)
    spread = reward_spread(instance.arms) * (weight + 1.0)
    reach = spread + _price_ceiling(instance, weight) * float(instance.arms.costs.max())
    caps = instance.caps
    high = min(caps[1] if n_actions == 2 else np.inf,
               n if instance.max_active is None else instance.max_active, n)
    rows = []
    if high < n or instance.min_active > 0:
        active = np.r_[0.0, np.ones(n_actions - 1)]
        rows.append((active, float(high), float(instance.min_active),
                     -reach if instance.min_active > 0 else 0.0, spread if high < n else 0.0))
    if n_actions > 2 and instance.action_caps is not None:
        for a in np.flatnonzero(instance.action_caps < n):
            rows.append((np.eye(n_actions)[a], float(instance.action_caps[a]), 0.0, 0.0, spread))
    return rows


def _price_limits(instance: Instance, options: dict) -> LagrangianResult:
    """:func:`lagrangian_bound` with the count limits priced (its ``price_limits``)."""
    start = time.perf_counter()
    rows = _limit_rows(instance)
    weight = budget_weight(instance)
    arms = instance.arms
    unit = reward_spread(arms)      # the tolerances' unit: the charges widen the shifted spread
    search = dict(options, certificate=False, sawtooth_sweeps=0, price_limits=False)
    cache: dict[tuple, tuple] = {}

    def priced(m):
        charges = sum((mk * row[0] for mk, row in zip(m, rows)), np.zeros(instance.n_actions))
        term = weight * sum(mk * (row[1] if mk >= 0 else row[2]) for mk, row in zip(m, rows))
        shifted = instance.replace(arms=replace(arms, rewards=arms.rewards - charges))
        return shifted, charges, term

    def evaluate(m):
        key = tuple(m)
        if key not in cache:
            shifted, _, term = priced(m)
            cache[key] = (key, _bound(shifted, unit, **search).estimate + term)
        return cache[key]

    found, evals = None, 0
    if instance.fully_observed:                                  # exact: one LP
        first, inverse = unique_arms(arms)
        layers = 1 if instance.horizon is None else instance.horizon
        if len(first) * layers * arms.n_actions * arms.n_states <= _LP_ROWS:
            beliefs = (instance.initial_belief if options["beliefs"] is None
                       else options["beliefs"])
            found = _hawkins_lp(arms.select(first), inverse, np.asarray(beliefs, float),
                                instance.discount, instance.horizon, _budget_term(instance),
                                rows, weight)
    else:                   # POMDP arms: a cutting plane over pooled plans (limit_prices)
        from rmab.relax.limit_prices import limit_multipliers

        tol = options["value_tol"]
        relaxed = _bound(instance, unit, **search)
        cache[(0.0,) * len(rows)] = ((0.0,) * len(rows), relaxed.estimate)
        m, evals = limit_multipliers(
            instance, rows, options["beliefs"], 1e-3 * unit if tol is None
            else tol, options["seed"], relaxed.price, _budget_term(instance),
            _price_ceiling(instance, weight))
        found = (relaxed.price, m)
    m = [0.0] * len(rows) if found is None else found[1]
    # otherwise coordinate-wise golden sections (to 1e-6 of each range), repeated while they
    # gain: the dual is piecewise linear, and two rounds stalled 3e-4 short on three rows
    for _ in range(0 if found is not None else 1 if len(rows) == 1 else _LIMIT_ROUNDS):
        before = evaluate(m)[1]
        # a minimum on the range's edge widens it 4-fold: the multiplier of min_active can
        # pass the range (-98 against -20 where every arm must act; a review)
        for k, (_, _, _, lo, hi) in enumerate(rows):
            for _ in range(_WIDENINGS):
                def along(u, k=k, lo=lo, hi=hi):
                    return evaluate(m[:k] + [lo + u * (hi - lo)] + m[k + 1:])
                best, _ = _golden(along, lambda point: point[1], 0.0, 1.0, 1e-6, 60)
                m = list(best[0])
                low = lo < 0.0 and m[k] <= lo + 1e-5 * (hi - lo)
                high = hi > 0.0 and m[k] >= hi - 1e-5 * (hi - lo)
                if not (low or high):
                    break
                lo, hi = 4.0 * lo if low else lo, 4.0 * hi if high else hi
        if before - evaluate(m)[1] <= 1e-10 * abs(before):      # relative: any units
            break
    shifted, charges, term = priced(m)
    res = _bound(shifted, unit, **options, price_limits=False)
    zero = [0.0] * len(rows)
    if m != zero and evaluate(zero)[1] < res.estimate + term:   # never worse than relaxed
        shifted, charges, term = priced(zero)
        res = _bound(shifted, unit, **options, price_limits=False)
    certified = None if res.certified_upper_bound is None else res.certified_upper_bound + term
    return replace(res, estimate=res.estimate + term, certified_upper_bound=certified,
                   dual_values=res.dual_values + term, limit_charges=charges,
                   iterations=res.iterations + len(cache) + evals,
                   seconds=time.perf_counter() - start)


def _bisect(evaluate, slope, dual, lo, hi, price_tol, max_iter, scale):
    """Bisection on the slope's sign: ``slope(lo) < 0 <= slope(hi)`` down to a bracket of
    ``price_tol * max(scale, hi)``; returns the evaluated point of smallest dual value and, if
    ``max_iter`` stopped it first, the bracket reached (else None)."""
    best = evaluate(lo)
    for _ in range(max_iter - 1):
        if hi - lo <= price_tol * max(scale, hi):
            return best, None
        point = evaluate(0.5 * (lo + hi))
        if dual(point) < dual(best):
            best = point
        if slope(point) < 0.0:
            lo = point.price
        else:
            hi = point.price
    return best, (None if hi - lo <= price_tol * max(scale, hi) else (lo, hi))


def _cutting_plane(solver, evaluate, dual, budget_term, hi, price_tol, max_iter, scale):
    """Kelley's method on the pooled-plan model (see ``lagrangian_bound``): returns the point
    solved at the last model minimiser (the reported values are PBVI's at that price) and None
    or, if ``max_iter`` stopped it first, the evaluated point of smallest dual value and the
    last price and the model's next minimiser.

    Discounted, it also stops once the model at the last price lies within ``_SETTLED`` of
    the estimate's tolerance ``N value_tol`` above the model's minimum: PBVI's values move
    by up to ``value_tol`` from solve to solve, and the minimiser crept with them by ~1e-6 a
    solve, just above ``price_tol`` (58 solves where 6 settle the value)."""
    point = best = evaluate(0.0)
    settled = None if solver.horizon is not None else _SETTLED * len(solver.inverse) * solver.tol
    for i in range(max_iter):
        lam = solver.model_minimiser(budget_term, hi)
        if abs(lam - point.price) <= price_tol * max(scale, lam) or (
                settled is not None and solver.model(point.price, budget_term)
                - solver.model(lam, budget_term) <= settled):
            return point, None
        if i == max_iter - 1:
            return best, (min(lam, point.price), max(lam, point.price))
        point = evaluate(lam)
        best = min(best, point, key=dual)


_SETTLED = 0.01     # of N value_tol: 1e-3 crept again (27 solves), 0.01 stopped 40 instances in
                    # 2-9 solves within 0.15 N value_tol of bisection's estimate


def _golden(evaluate, dual, lo, hi, price_tol, max_iter, scale=1.0):
    """Golden-section search of the convex ``L`` on ``[lo, hi]`` down to a bracket of
    ``price_tol * max(scale, b)``: returns the evaluated point of smallest dual value and, if
    ``max_iter`` stopped it first, the bracket reached (else None)."""
    a, b = lo, hi
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    pc, pd = evaluate(c), evaluate(d)
    best = min((evaluate(lo), pc, pd), key=dual)
    for _ in range(max_iter - 3):
        if b - a <= price_tol * max(scale, b):
            return best, None
        if dual(pc) <= dual(pd):
            b, d, pd = d, c, pc
            c = b - _GOLDEN * (b - a)
            pc = evaluate(c)
            cand = pc
        else:
            a, c, pc = c, d, pd
            d = a + _GOLDEN * (b - a)
            pd = evaluate(d)
            cand = pd
        if dual(cand) < dual(best):
            best = cand
    return best, (None if b - a <= price_tol * max(scale, b) else (a, b))


def _min_upper_dual(solver, budget_term, start, scale):
    """A few golden-section steps on the convex upper dual ``U(λ) = Σ_n V̄_n^λ + λ B w`` near
    the estimate's ``λ*`` (every price gives a valid certificate; this only tightens it);
    returns the best (price, per-arm upper values, U) seen, ``start`` included."""
    cache = {}

    def upper(price):
        if price not in cache:
            values = solver.upper_at(price)
            cache[price] = (price, values, float(values.sum() + price * budget_term))
        return cache[price]

    lam = start[0]          # 1.25 scale: 0.05 on the health family (ceiling 40), as before
    point, _ = _golden(upper, lambda e: e[2], 0.5 * lam, 2.0 * lam + 1.25 * scale, 1e-2,
                       _CERT_EVALS, scale)
    return min((start, point), key=lambda e: e[2])


def _hawkins_lp(arms: MDPArms, inverse, beliefs, discount, horizon, budget_term, rows=(),
                weight=0.0) -> tuple[float, list] | None:
    """``λ*`` and the count limits' multipliers (``_limit_rows`` form) of Hawkins' LP over the
    distinct arms, solved by HiGHS through :mod:`solvers`::

        min Σ_n π_n · V_n,0 + λ B w + Σ_k μ_k T_k   (λ, μ >= 0; a two-sided row: one μ a side)
        s.t. V_n,t(s) >= r_n(s, a) - λ c_n(a) - Σ_k μ_k d_k(a) + β P_n^a(s, ·) V_n,t+1

    with ``V_n,t+1 = V_n,t`` on an infinite horizon, and one layer per period and
    ``V_n,H = 0`` on a finite one. Its optimum is the dual's minimum over every multiplier
    (the values are the backward induction's at that price). None if HiGHS does not reach
    the optimum (large finite-horizon LPs can defeat its simplex)."""
    from scipy import sparse
    from solvers import MILP, TerminationStatus, solve

    n, a, s = arms.n_arms, arms.n_actions, arms.n_states
    h = 1 if horizon is None else int(horizon)
    weights = np.zeros((n, s))
    np.add.at(weights, inverse, beliefs)
    sides = []                  # (row, sign, term): a multiplier charging sign * pattern
    for k, (_, high, low, m_low, m_high) in enumerate(rows):
        if m_high > 0:
            sides.append((k, 1.0, high * weight))
        if m_low < 0:
            sides.append((k, -1.0, -low * weight))
    # constraint (n, t, a, s) on values (n, t, s): -V_t(s) + β P^a(s, ·) V_next - charges
    shape = (n, h, a, s, s)
    con = np.arange(n * h * a * s).reshape(n, h, a, s)
    var = np.arange(n * h * s).reshape(n, h, s)
    r_idx = np.broadcast_to(con[..., None], shape)
    data = [np.full(n * h * a * s, -1.0)]
    i, j = [con.ravel()], [np.broadcast_to(var[:, :, None, :], (n, h, a, s)).ravel()]
    future = discount * arms.transitions                                   # (N, A, S, S')
    nxt = var if horizon is None else var[:, 1:]                           # V_next per layer
    layers = h if horizon is None else h - 1
    if layers:
        data.append(np.broadcast_to(future[:, None], (n, layers, a, s, s)).ravel())
        i.append(r_idx[:, :layers].ravel())
        j.append(np.broadcast_to(nxt[:, :, None, None, :], (n, layers, a, s, s)).ravel())
    charge = np.column_stack([np.repeat(arms.costs, s, axis=1)[:, None].repeat(h, 1).ravel()]
                             + [np.tile(np.repeat(sign * rows[k][0], s), n * h)
                                for k, sign, _ in sides])          # (N H A S, 1 + K')
    data.append(-charge.ravel())
    i.append(np.repeat(con.ravel(), charge.shape[1]))
    j.append(n * h * s + np.tile(np.arange(charge.shape[1]), n * h * a * s))
    mat = sparse.csr_matrix((np.concatenate(data), (np.concatenate(i), np.concatenate(j))),
                            shape=(n * h * a * s, n * h * s + charge.shape[1]))
    cost = np.zeros(mat.shape[1])
    cost[var[:, 0].ravel()] = weights.ravel()
    cost[n * h * s:] = [budget_term] + [t for _, _, t in sides]
    rhs = -np.broadcast_to(arms.rewards.transpose(0, 2, 1)[:, None], (n, h, a, s)).ravel()
    lower = np.r_[np.full(n * h * s, -np.inf), np.zeros(charge.shape[1])]
    res = solve(MILP(cost, mat, np.full(rhs.size, -np.inf), rhs, lower,
                     np.full(cost.size, np.inf), np.zeros(cost.size, dtype=bool), "min"))
    if res.status is not TerminationStatus.OPTIMAL:      # feasible and bounded, in theory
        return None
    m = [0.0] * len(rows)
    for (k, sign, _), value in zip(sides, res.x[n * h * s + 1:]):
        m[k] += sign * float(value)
    return max(0.0, float(res.x[n * h * s])), m


def dual_curve(instance: Instance, prices, *, beliefs=None, value_tol: float | None = None,
               certificate: bool = True, seed=0) -> DualCurveResult:
    """``L(λ)`` (estimate and, if asked, certified upper values) and its slope on ``prices``."""
    owner = "dual_curve"
    check_flag(owner, "certificate", certificate)
    start = time.perf_counter()
    beliefs, value_tol = _check_common(owner, instance, beliefs, value_tol)
    as_generator(seed, f"{owner}.seed")
    from rmab.values.exact import check_prices, check_scale

    prices = check_prices(owner, prices)
    if (prices < 0).any():
        raise InvalidParameterError(f"{owner}.prices: must be >= 0; got {prices.min()}")
    prices = np.sort(prices)
    # here, not in the per-arm solver, whose message named its own price (a review)
    check_scale(owner, instance.arms, prices, instance.discount, instance.horizon)
    solver = _solver(instance, beliefs, value_tol, seed)
    budget_term = instance.budget * budget_weight(instance)   # L itself: inf may overflow
    points = [solver(float(p)) for p in prices]
    priced = np.array([p.price * budget_term if p.price else 0.0 for p in points])  # not 0 inf
    est = np.array([p.values.sum() for p in points]) + priced
    up = (np.array([solver.upper(p).sum() for p in points]) + priced
          if certificate else None)
    slope = np.array([budget_term - p.resource.sum() for p in points])
    return DualCurveResult(prices, est, up, slope, solver.exact, time.perf_counter() - start)


def plot_dual(curve: DualCurveResult, path, *, result: LagrangianResult | None = None):
    """Plot ``L(λ)`` (estimate, certificate) to an image file (``.png``, ``.pdf`` or ``.svg``)
    written atomically; needs the ``plot`` extra (matplotlib). Returns the path."""
    from rmab._reporting import new_figure, plot_format, save_figure

    if not isinstance(curve, DualCurveResult):
        raise InvalidParameterError(f"plot_dual.curve: must be a DualCurveResult; got "
                                    f"{type(curve).__name__}")
    if result is not None and not isinstance(result, LagrangianResult):   # its price is drawn
        raise InvalidParameterError(f"plot_dual.result: must be a LagrangianResult "
                                    f"(lagrangian_bound) or None; got {type(result).__name__}")
    fmt = plot_format("plot_dual.path", path)
    fig = new_figure("plot_dual", (6, 4))
    ax = fig.add_subplot()
    label = "L(λ), exact values" if curve.exact else "L(λ) estimate (PBVI)"
    ax.plot(curve.prices, curve.estimate, marker=".", label=label)
    if curve.upper is not None and not curve.exact:
        ax.plot(curve.prices, curve.upper, marker=".", label="certified upper bound (FIB)")
    if result is not None:
        ax.axvline(result.price, color="grey", linestyle="--", label=f"λ* = {result.price:.4g}")
    ax.set_xlabel("price λ per unit of resource")
    ax.set_ylabel("Lagrangian dual L(λ)")
    ax.legend()
    save_figure(fig, path, fmt)
    return path
