"""Exact values of fully observed arms with a price on resource use (``PORMAB.md`` §3).

Every arm ``n`` and price ``λ_p`` define the MDP with reward ``r_n(s, a) - λ_p c_n(a)``;
:func:`value_iteration` and :func:`policy_iteration` solve all ``P x N`` of them at once
(discounted, or finite horizon by backward induction) and return an :class:`ExactResult`::

    res = value_iteration(arms, prices=np.linspace(0, 1, 11), discount=0.95)
    res.values[p, n, s]     # V*_λ(s) of arm n at price prices[p]
    res.resource[p, n, s]   # discounted expected resource use of the returned policy

For POMDP arms both functions solve the underlying fully observed MDP (the QMDP relaxation).
Discounted problems run a Numba kernel over the (arm, price) pairs, each pair stopping on its
own; finite horizons use numpy backward induction vectorised over arms and prices.

Stopping rule of discounted value iteration (MacQueen 1966 bounds): with
``d = V_k - V_{k-1}``, ``V* ∈ [V_k + β/(1-β) min d, V_k + β/(1-β) max d]`` state by state;
iteration stops once the midpoint is within ``β/(1-β) (max d - min d)/2 <= tol`` of ``V*``.
The span shrinks at least as fast as ``β`` times the ergodicity coefficient of the chain, often
much faster than the sup norm. Both methods then return the greedy policy improved on its exact
values (``ExactResult.policy``) and, as values, the best ``q`` under that policy's exact
values: within ``tol`` of ``V*``.

Float64 limits (:func:`check_scale`). Every value and resource use is bounded by
``M = max(|r - λc|, c) Σ_t β^t``; ``M > 1e300`` is refused (the sweeps would overflow to inf or
NaN). A sweep rounds each value by up to about ``(S + 2) ε M' / 2`` (``ε = 2⁻⁵²``, ``S``
states, ``M' = max(|r|, λ c) Σ_t β^t`` in the values' own units: the costs alone enter only
the resource use), which can move the result by ``F = (S + 2) ε M' / (1 - β)`` from what the
bounds above say; so discounted iteration stops at ``tol - F`` and ``tol`` is raised to at least
``2 F`` (``ExactResult.tol`` is the tolerance met). ``F`` is about ``1e-12`` for rewards of order 1,
``β = 0.95`` and ten states, far below the default ``tol``; at ``β = 0.99`` it is 25 times that.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from rmab._repr import CompactRepr
from rmab._validation import (SCALE_LIMIT, as_float_array, check_arms, check_discount,
                              check_flag, check_number, default_discount, discounted_periods,
                              undiscounted_hint)
from rmab._warnings import user_stacklevel
from rmab.errors import ConvergenceWarning, InvalidModelError, InvalidParameterError
from rmab.models.arms import MDPArms, POMDPArms
from rmab.values import _kernels

__all__ = ["ExactResult", "value_iteration", "policy_iteration", "check_prices", "check_scale"]



@dataclass(frozen=True, eq=False, repr=False)
class ExactResult(CompactRepr):
    """Values of ``P`` prices x ``N`` arms (``P`` = ``len(prices)``, even for a scalar price).

    Attributes
    ----------
    prices : (P,)
    values : (P, N, S)  optimal values (finite horizon: at period 0)
    q : (P, N, S, A)  ``r(s,a) - λ c(a) + β Σ_s' P(s'|s,a) V(s')``
    policy : (P, N, S) int64  the action taken. Discounted: the greedy policy (ties within
        ``τ = tol (1 - β)`` to the cheaper action), improved on its exact values until no action
        gains more than ``τ`` (a state that switches takes the cheapest action within ``τ`` of
        the best; one that does not keeps its action), so ``V* - V_π <= tol`` (the greedy policy
        alone can lose ``~tol / (1 - β)``). Finite horizon: greedy per period, ties within
        ``2 tol`` to the cheaper action
    resource : (P, N, S)  ``E Σ_t β^t c(a_t)`` under ``policy`` from each state (finite
        horizon: over periods ``0..H-1``, undiscounted when ``discount == 1``), so that
        ``values = E Σ β^t r - λ resource``
    iterations : int  sweeps (value iteration) or improvement steps (policy iteration)
    converged : bool
    tol : float  the tolerance met: the requested one, raised in the discounted case to at least
        ``2 F``, twice the float64 rounding ``F`` (module docstring)
    discount, horizon, method, seconds
    period_values : (H, P, N, S) or None  every period's values (``return_table=True``)
    period_policy : (H, P, N, S) or None
    """

    prices: np.ndarray
    values: np.ndarray
    q: np.ndarray
    policy: np.ndarray
    resource: np.ndarray
    iterations: int
    converged: bool
    tol: float
    discount: float
    horizon: int | None
    method: str
    seconds: float
    period_values: np.ndarray | None = None
    period_policy: np.ndarray | None = None


def check_prices(owner: str, prices) -> np.ndarray:
    """``prices`` (scalar or 1-D) as a float64 array (P,) of finite numbers, P >= 1."""
    arr = as_float_array(owner, "prices", prices, error=InvalidParameterError)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0:
        raise InvalidParameterError(f"{owner}.prices: must be a number or a non-empty 1-D "
                                    f"array; got shape {arr.shape}")
    return arr


def check_scale(owner: str, arms, prices: np.ndarray, discount: float,
                horizon: int | None = None, field: str = "prices") -> float:
    """``M = max(|r - λc|, c) Σ_{t < H} β^t`` over the arms and ``prices`` (``H`` infinite when
    ``horizon`` is None), a bound on every value and resource use; raises when ``M > 1e300``,
    where float64 sweeps would overflow to inf or NaN: :class:`~rmab.errors.InvalidModelError`
    naming the rewards when the arms alone go past it, else
    :class:`~rmab.errors.InvalidParameterError` naming ``field`` (the price)."""
    periods = discounted_periods(discount, horizon)
    ends = np.array([prices.min(), prices.max()])      # |r - λc| is largest at an end price
    with np.errstate(over="ignore"):
        priced = np.abs(arms.rewards[..., None] - arms.costs[:, None, :, None] * ends).max()
    plain = max(float(np.abs(arms.rewards).max()), float(arms.costs.max()))
    top = max(float(priced), plain)
    scale = top * periods
    if scale <= SCALE_LIMIT:
        return scale
    if plain * periods <= SCALE_LIMIT:
        raise InvalidParameterError(
            f"{owner}.{field}: must keep max(|r - λc|, c) Σ_t discount^t (a bound on the "
            f"values) <= {SCALE_LIMIT:g} to stay within float64; got {scale:.3g} at prices "
            f"{ends[0]:g} to {ends[1]:g} (max(|r|, c) = {plain:.3g}, discount {discount})")
    raise InvalidModelError(
        f"{owner}.rewards: must keep max(|r - λc|, c) Σ_t discount^t (a bound on the "
        f"values) <= {SCALE_LIMIT:g} to stay within float64; got {scale:.3g} "
        f"(max(|r - λc|, c) = {top:.3g}, discount {discount})")


def _check(owner, arms, prices, discount, horizon, tol, max_iter):
    check_arms(owner, arms, (MDPArms, POMDPArms))
    prices = check_prices(owner, prices)
    discount = check_discount(owner, discount, one=True)
    if horizon is not None:
        horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
    elif discount == 1.0:
        raise InvalidParameterError(f"{owner}.horizon: must be set when discount is 1; got None"
                                    + undiscounted_hint(owner, "pass horizon=H"))
    tol = check_number(owner, "tol", tol, low=0.0, low_open=True)
    max_iter = check_number(owner, "max_iter", max_iter, low=1, integer=True)
    check_scale(owner, arms, prices, discount, horizon)
    floor = 0.0
    if horizon is None:   # the float64 rounding in the values (module docstring), in the
        # rewards' and charges' own magnitude: with the costs' (which only enter the resource
        # use), rewards of 1e-12 at costs of 1 met a floor of 2e-12 on values of 2e-11
        terms = max(float(np.abs(arms.rewards).max()),
                    float(arms.costs.max()) * float(np.abs(prices).max()))
        floor = ((arms.n_states + 2) * float(np.finfo(np.float64).eps) * terms
                 / (1.0 - discount) ** 2)
        tol = max(tol, 2.0 * floor)
    return prices, discount, horizon, tol, max_iter, floor


def _priced_rewards(arms, prices) -> np.ndarray:
    """``R[n, a, s, p] = r[n, s, a] - prices[p] * c[n, a]``."""
    r = arms.rewards.transpose(0, 2, 1)[:, :, :, None]
    return np.ascontiguousarray(r - arms.costs[:, :, None, None] * prices)


def _expect(transitions, v) -> np.ndarray:
    """``E[n, a, s, p] = Σ_s' P[n, a, s, s'] v[n, s', p]``."""
    n, a, s, _ = transitions.shape
    return np.matmul(transitions.reshape(n, a * s, s), v).reshape(n, a, s, v.shape[-1])


def _greedy(q, tie, rel: float = 1e-12) -> np.ndarray:
    """First (cheapest) action within ``tie + rel max(1, |best|)`` of the best: q (N, A, S, P)
    -> (N, S, P)."""
    best = q.max(axis=1, keepdims=True)
    return np.argmax(q >= best - tie - rel * np.maximum(1.0, np.abs(best)),
                     axis=1).astype(np.int64)


def _select(x, policy) -> np.ndarray:
    """``x[n, policy[n, s, p], s, p]``: (N, A, S, P) -> (N, S, P)."""
    return np.take_along_axis(x, policy[:, None], axis=1)[:, 0]


def _backward(arms, prices, discount, horizon, tol, return_table):
    """Backward induction over ``horizon`` periods (numpy, vectorised over arms and prices);
    returns period-0 ``q (N, A, S, P)``, ``v, policy, resource (N, S, P)`` and the table."""
    p = arms.transitions
    reward = _priced_rewards(arms, prices)
    n, _, s, n_prices = reward.shape
    v = np.zeros((n, s, n_prices))
    res = np.zeros((n, s, n_prices))
    table = None
    if return_table:
        table = (np.empty((horizon, n, s, n_prices)),
                 np.empty((horizon, n, s, n_prices), dtype=np.int64))
    for t in range(horizon - 1, -1, -1):
        q = reward + discount * _expect(p, v)
        pol = _greedy(q, 2.0 * tol)
        v = q.max(axis=1)
        res = (arms.costs[np.arange(n)[:, None, None], pol]
               + discount * _select(_expect(p, res), pol))
        if return_table:
            table[0][t], table[1][t] = v, pol
    return q, v, pol, res, table


def _solve(owner, kernel, arms, prices, discount, horizon, tol, max_iter, floor, return_table):
    start = time.perf_counter()
    out = {}
    if horizon is not None:
        q, v, pol, res, table = _backward(arms, prices, discount, horizon, tol, return_table)
        pns = lambda x: np.ascontiguousarray(x.transpose(2, 0, 1))  # noqa: E731
        out.update(values=pns(v), q=np.ascontiguousarray(q.transpose(3, 0, 2, 1)),
                   policy=pns(pol), resource=pns(res), iterations=horizon, converged=True)
        if table is not None:
            out["period_values"] = np.ascontiguousarray(table[0].transpose(0, 3, 1, 2))
            out["period_policy"] = np.ascontiguousarray(table[1].transpose(0, 3, 1, 2))
    else:
        n_p, n, s, a = len(prices), arms.n_arms, arms.n_states, arms.n_actions
        values, resource = np.empty((n_p, n, s)), np.empty((n_p, n, s))
        q = np.empty((n_p, n, s, a))
        policy = np.empty((n_p, n, s), dtype=np.int64)
        iters = np.empty((n_p, n), dtype=np.int64)
        kernel(arms.transitions, arms.rewards, arms.costs, prices, discount, tol - floor,
               max_iter, values, q, policy, resource, iters)
        worst = int(iters.max())
        out.update(values=values, q=q, policy=policy, resource=resource,
                   iterations=min(worst, max_iter), converged=worst <= max_iter)
        if not out["converged"]:
            warnings.warn(f"{owner}: {int((iters > max_iter).sum())} (arm, price) pairs stopped "
                          f"after max_iter={max_iter} iterations before reaching tol={tol:g}",
                          ConvergenceWarning, stacklevel=user_stacklevel())
    for val in out.values():
        if isinstance(val, np.ndarray):
            val.setflags(write=False)
    prices.setflags(write=False)
    return ExactResult(prices=prices, tol=tol, discount=discount, horizon=horizon,
                       method=owner, seconds=time.perf_counter() - start, **out)


def value_iteration(arms, *, prices=0.0, discount: float | None = None,
                    horizon: int | None = None, tol: float = 1e-10, max_iter: int = 100_000,
                    return_table: bool = False) -> ExactResult:
    """Optimal values of every arm at every price by value iteration.

    Parameters
    ----------
    arms : MDPArms (or POMDPArms: its underlying fully observed MDP)
    prices : float or array (P,)
        Price ``λ`` per unit of resource; the reward is ``r(s, a) - λ c(a)``.
    discount : float in (0, 1 - 1e-9] or 1, which needs ``horizon``. Default 0.95, or 1.0
        with ``horizon`` (:func:`rmab._validation.default_discount`, one default across the
        value functions).
    horizon : int, optional
        Finite horizon ``H``: exact backward induction (``tol`` only breaks ties, ``max_iter``
        is unused), values at period 0.
    tol : float > 0
        Discounted case: ``|values - V*| <= tol`` on exit (MacQueen bounds and float64
        rounding, module docstring); raised to at least twice the rounding
        (``ExactResult.tol``).
    max_iter : int
        The most sweeps, then the most policy evaluations of the improvement that follows; a
        settled policy meets ``tol`` however far the sweeps got, else a
        :class:`~rmab.errors.ConvergenceWarning` (``converged=False``).
    return_table : bool
        Finite horizon: also keep every period's values and policy.

    Returns
    -------
    ExactResult
    """
    owner = "value_iteration"
    discount = default_discount(discount, horizon)
    args = _check(owner, arms, prices, discount, horizon, tol, max_iter)
    return _solve(owner, _kernels.vi_kernel, arms, *args,
                  check_flag(owner, "return_table", return_table))


def policy_iteration(arms, *, prices=0.0, discount: float | None = None,
                     horizon: int | None = None,
                     tol: float = 1e-10, max_iter: int = 100_000,
                     return_table: bool = False) -> ExactResult:
    """Optimal values of every arm at every price by Howard's policy iteration.

    Same parameters and result as :func:`value_iteration`. Each step evaluates the current
    policies exactly (one ``S x S`` linear solve per arm and price) and switches an action only
    where another is better by more than ``tol (1 - β)`` (no cycling on ties); it stops when
    no policy changes, which takes a handful of steps, and then ``V* - V_π <= tol`` (``tol``
    raised as in :func:`value_iteration`). A finite
    ``horizon`` uses backward induction (the two methods coincide there).
    """
    owner = "policy_iteration"
    discount = default_discount(discount, horizon)
    args = _check(owner, arms, prices, discount, horizon, tol, max_iter)
    return _solve(owner, _kernels.pi_kernel, arms, *args,
                  check_flag(owner, "return_table", return_table))
