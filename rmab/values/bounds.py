"""Upper bounds on POMDP arm values with a price on resource use.

* QMDP (Littman, Cassandra, Kaelbling 1995): ``U(b) = max_a Σ_s b(s) Q_MDP(s, a)``, the value
  if the state were seen from the next period on.
* FIB, the fast informed bound (Hauskrecht 2000): one vector per action,
  ``α_a(s) = r(s,a) - λc(a) + β Σ_o max_a' Σ_s' P(s'|s,a) ρ(o|s',a) α_a'(s')``, tighter than
  QMDP at their fixed points because the signal is seen before the next action (as computed,
  within FIB's ``tol``: it stops up to ``tol`` above its fixed point).
* Sawtooth interpolation (Hauskrecht 2000; Smith and Simmons 2005): from corner values ``u``
  and upper values ``v_i`` at beliefs ``b_i``,
  ``U(b) = min(b·u, min_i [b·u + min_{s: b_i(s)>0} b(s)/b_i(s) (v_i - b_i·u)])``; point-based
  Bellman backups of this bound at the ``b_i`` (and the corners) tighten it.

Every bound here is a valid upper bound of ``V*_λ`` whatever the iteration count: QMDP and FIB
iterate downwards from ``max r / (1 - β)`` (each iterate stays above the fixed point, which is
above ``V*``), and a Bellman backup of an upper bound is an upper bound (``U >= V*`` implies
``HU >= HV* = V*``). With a PBVI lower bound this gives an interval ``[lower, upper]``.

Finite horizon ``H`` (``horizon=``, ``β = 1`` allowed): QMDP and FIB run ``H`` steps of
backward induction from ``V_H = 0`` and bound ``V_0`` (``H`` periods left), exactly as
computed (no tolerance); by induction each period's vectors stay above that period's optimal
values, since the FIB and QMDP backups dominate the Bellman backup. Sawtooth backups on such a
bound run ``H`` periods backward from ``U_H = 0`` (one sawtooth per period).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from rmab._validation import (as_float_array, check_arms, check_discount, check_number,
                              default_discount)
from rmab.errors import ConvergenceWarning, InvalidParameterError
from rmab.models.arms import POMDPArms
from rmab.values.exact import check_scale, value_iteration
from rmab.values.pbvi import check_belief_rows

__all__ = ["UpperBound", "SawtoothBound", "qmdp_bound", "fib_bound", "sawtooth_bound"]


@dataclass(frozen=True, eq=False)
class UpperBound:
    """Per-action upper-bound vectors for a stack of arms: ``U_n(b) = max_a vectors[n, a] · b``.

    Attributes
    ----------
    vectors : (N, A, S)  ``vectors[n, a] · b >= Q*_λ(b, a)`` for arm ``n``
    kind : "qmdp" or "fib";  price, discount
    arms : the POMDPArms they bound;  iterations : int;  converged : bool
    horizon : int or None  finite horizon ``H``: the vectors bound ``V_0`` (``H`` periods left)
    """

    vectors: np.ndarray
    kind: str
    price: float
    discount: float
    arms: POMDPArms
    iterations: int
    converged: bool
    horizon: int | None = None

    def _beliefs(self, beliefs, arm):
        if arm is None:
            n, s = self.vectors.shape[0], self.vectors.shape[2]
            arr = as_float_array("UpperBound", "beliefs", beliefs, error=InvalidParameterError)
            if n == 1 and arr.ndim == 1:    # one arm: a belief (S,) as AlphaVectors takes it
                return self._beliefs(arr, 0)
            if arr.shape != (n, s):
                hint = " (several beliefs of one arm: pass arm=)" if arr.ndim == 2 else ""
                raise InvalidParameterError(f"UpperBound.beliefs: must have shape (n_arms={n}, "
                                            f"n_states={s}){hint}; got {arr.shape}")
            arr, _ = check_belief_rows("UpperBound", arr, s, field="beliefs")
            return arr, self.vectors, False
        arm = check_number("UpperBound", "arm", arm, low=0, high=self.vectors.shape[0] - 1,
                           integer=True)
        arr, single = check_belief_rows("UpperBound", beliefs, self.vectors.shape[2],
                                        field="beliefs")
        return arr, np.broadcast_to(self.vectors[arm], (len(arr),) + self.vectors.shape[1:]), \
            single

    def q(self, beliefs, *, arm: int | None = None):
        """Upper bounds of ``Q*(b, a)``: beliefs (N, S) (one per arm) -> (N, A); with ``arm``,
        beliefs (S,) or (M, S) of that arm -> (A,) or (M, A); a one-arm bound also takes a
        belief (S,) without ``arm``."""
        arr, vec, single = self._beliefs(beliefs, arm)
        out = np.einsum("mas,ms->ma", vec, arr)
        return out[0] if single else out

    def value(self, beliefs, *, arm: int | None = None):
        """Upper bounds of ``V*(b)``: (N, S) -> (N,); with ``arm``: (S,) -> float or (M, S)
        -> (M,); a one-arm bound: (S,) -> float without ``arm`` too."""
        q = np.asarray(self.q(beliefs, arm=arm))
        v = q.max(axis=-1)
        return float(v) if v.ndim == 0 else v


def _check_common(owner, arms, price, discount, tol, max_iter, horizon=None):
    check_arms(owner, arms, POMDPArms)
    price = check_number(owner, "price", price)
    if horizon is not None:
        horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
    discount = check_discount(owner, discount, one=horizon is not None, finite="pass horizon=H")
    tol = check_number(owner, "tol", tol, low=0.0, low_open=True)
    max_iter = check_number(owner, "max_iter", max_iter, low=1, integer=True)
    check_scale(owner, arms, np.array([price]), discount, horizon, "price")
    return price, discount, tol, max_iter, horizon


def qmdp_bound(arms: POMDPArms, *, price: float = 0.0, discount: float | None = None,
               horizon: int | None = None, tol: float = 1e-9,
               max_iter: int = 100_000) -> UpperBound:
    """QMDP upper bound: the Q-values of the underlying MDP (value iteration within ``tol``,
    then raised by the tolerance it used, ``ExactResult.tol``, so the bound stays valid; if
    ``max_iter`` stops it first, raised by ``β e / (1 - β)`` instead, ``e`` the Bellman
    residual of the last values). A finite ``horizon`` (``discount`` in (0, 1 - 1e-9] or 1,
    default 1) takes the period-0 Q-values of backward induction, exact."""
    owner = "qmdp_bound"
    discount = default_discount(discount, horizon)
    price, discount, tol, max_iter, horizon = _check_common(owner, arms, price, discount, tol,
                                                            max_iter, horizon)
    res = value_iteration(arms, prices=price, discount=discount, horizon=horizon, tol=tol,
                          max_iter=max_iter)
    q = res.q[0] + (0.0 if horizon is not None else res.tol)               # (N, S, A)
    if not res.converged:
        # stopped early: from any V, T V <= V + e gives V* <= V + e / (1 - β), so
        # Q* <= r - λc + β P V + β e / (1 - β) with e the largest Bellman residual per arm
        v = res.values[0]
        q = (arms.rewards - price * arms.costs[:, None, :]
             + discount * np.einsum("nast,nt->nsa", arms.transitions, v))
        e = np.maximum((q.max(axis=2) - v).max(axis=1), 0.0)                # (N,)
        q = q + (discount * e / (1.0 - discount))[:, None, None]
    vectors = np.ascontiguousarray(q.transpose(0, 2, 1))                   # (N, A, S)
    vectors.setflags(write=False)
    return UpperBound(vectors, "qmdp", price, discount, arms, res.iterations, res.converged,
                      horizon)


def fib_bound(arms: POMDPArms, *, price: float = 0.0, discount: float | None = None,
              horizon: int | None = None, tol: float = 1e-6,
              max_iter: int = 100_000) -> UpperBound:
    """Fast informed bound, iterated downwards from ``max r / (1 - β)`` (vectorised over arms)
    until a sweep changes no entry by more than ``tol (1 - β) / β``, which puts it within
    ``tol`` of its fixed point; every iterate is an upper bound. A finite ``horizon``
    (``discount`` in (0, 1 - 1e-9] or 1, default 1) runs ``H`` backward steps from ``0``
    instead (``tol`` and ``max_iter`` unused) and bounds the value with ``H`` periods left."""
    owner = "fib_bound"
    discount = default_discount(discount, horizon)
    price, discount, tol, max_iter, horizon = _check_common(owner, arms, price, discount, tol,
                                                            max_iter, horizon)
    r = arms.rewards.transpose(0, 2, 1) - price * arms.costs[:, :, None]      # (N, A, S)
    # m[n, a, o, s, s'] = P(s'|s,a) ρ(o|s',a)
    m = arms.transitions[:, :, None, :, :] * arms.observations.transpose(0, 1, 3, 2)[:, :, :, None]
    if horizon is not None:
        alpha = np.zeros_like(r)
        for _ in range(horizon):
            inner = (m @ alpha.transpose(0, 2, 1)[:, None, None]).max(axis=4).sum(axis=2)
            alpha = r + discount * inner
        alpha.setflags(write=False)
        return UpperBound(alpha, "fib", price, discount, arms, horizon, True, horizon)
    top = r.max(axis=(1, 2), keepdims=True) / (1.0 - discount)
    alpha = np.broadcast_to(top, r.shape).copy()
    target = tol * (1.0 - discount) / discount
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        # (N, A, O, S, S') @ (N, 1, 1, S', B): a batched matmul, ~7x numpy's einsum here
        inner = (m @ alpha.transpose(0, 2, 1)[:, None, None]).max(axis=4).sum(axis=2)
        new = np.minimum(alpha, r + discount * inner)
        change = float(np.abs(new - alpha).max())
        alpha = new
        if change <= target:
            converged = True
            break
    if not converged:
        warnings.warn(f"{owner}: stopped after max_iter={max_iter} sweeps before reaching "
                      f"tol={tol:g} (the bound is valid but looser)", ConvergenceWarning,
                      stacklevel=2)
    alpha.setflags(write=False)
    return UpperBound(alpha, "fib", price, discount, arms, it, converged)


@dataclass(frozen=True, eq=False)
class SawtoothBound:
    """Sawtooth upper bound of one arm (module docstring).

    Attributes
    ----------
    corners : (S,)  upper values at the corner beliefs
    beliefs : (M, S), values : (M,)  upper values at interior points
    sweeps : int  point-based upper backups done;  gap_change : float  last sweep's change
    cap : (K, S) or None  the vectors of the bound it was built from (period 0's), whose
        maximum also bounds the value: between the points the sawtooth alone can lie above
        it (0.13 above an exact FIB on a fully observed arm, a review)
    """

    corners: np.ndarray
    beliefs: np.ndarray
    values: np.ndarray
    sweeps: int = 0
    gap_change: float = float("nan")
    cap: np.ndarray | None = None

    def value(self, b):
        """Upper bound at b (S,) -> float, or (M, S) -> (M,): the sawtooth, capped by the
        bound it was built from."""
        arr, single = check_belief_rows("SawtoothBound", b, self.corners.shape[0])
        v = _sawtooth(arr, self.corners, self.beliefs, self.values)
        if self.cap is not None:
            v = np.minimum(v, (arr @ self.cap.T).max(axis=1))
        return float(v[0]) if single else v


def _sawtooth(b, corners, points, values, ratio=None) -> np.ndarray:
    """The sawtooth at beliefs ``b`` (Q, S); ``ratio`` (Q, M) from :func:`_ratios` when the
    beliefs and points are fixed across calls (the backup sweeps)."""
    base = b @ corners                                                    # (Q,)
    if len(points) == 0:
        return base
    if ratio is None:
        ratio = _ratios(b, points)
    gain = values - points @ corners                                      # (M,) <= 0 if useful
    return base + np.minimum(0.0, (ratio * gain[None]).min(axis=1))     # ratio >= 0


def _ratios(b, points, chunk_cells: int = 1 << 22) -> np.ndarray:
    """``min_s b[q, s] / points[m, s]`` over the points' support (0 where a belief has no
    support there), (Q, M); computed ``chunk_cells`` (Q M S) cells at a time."""
    q, (m, s) = b.shape[0], points.shape
    out = np.empty((q, m))
    step = max(1, chunk_cells // max(m * s, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo in range(0, q, step):
            part = b[lo:lo + step]
            ratio = np.where(points[None] > 0, part[:, None, :] / points[None], np.inf).min(axis=2)
            out[lo:lo + step] = np.where(np.isfinite(ratio), ratio, 0.0)
    return out


def sawtooth_bound(upper: UpperBound, beliefs, values=None, *, arm: int = 0,
                   backups: int = 0, tol: float = 1e-6) -> SawtoothBound:
    """Sawtooth bound of arm ``arm`` over ``beliefs`` (M, S) with corner values from ``upper``.

    ``values`` (M,) are known upper values at the points (default: ``upper`` there). With
    ``backups > 0`` up to that many sweeps of point-based Bellman backups of the bound at the
    points and the corners tighten it (stopping once no value moves by more than
    ``tol (1 - β) / β``); every sweep keeps it an upper bound. For a finite-horizon ``upper``
    (``horizon=H``), ``backups > 0`` runs instead ``H`` backups backward from ``U_H = 0``
    (one sawtooth per period, period 0's returned, capped by ``upper``).
    """
    owner = "sawtooth_bound"
    if not isinstance(upper, UpperBound):
        raise InvalidParameterError(f"{owner}.upper: must be an UpperBound; got "
                                    f"{type(upper).__name__}")
    arm = check_number(owner, "arm", arm, low=0, high=upper.vectors.shape[0] - 1, integer=True)
    s = upper.vectors.shape[2]
    pts, _ = check_belief_rows(owner, beliefs, s, field="beliefs")
    corner_vals = upper.vectors[arm].max(axis=0)
    vals = upper.value(pts, arm=arm)
    vals = np.atleast_1d(vals).astype(np.float64)
    if values is not None:
        given = as_float_array(owner, "values", values, error=InvalidParameterError)
        if given.shape != (len(pts),):
            raise InvalidParameterError(f"{owner}.values: must have shape ({len(pts)},), a "
                                        f"value for each belief; got shape {given.shape}")
        vals = np.minimum(vals, given)
    backups = check_number(owner, "backups", backups, low=0, integer=True)
    tol = check_number(owner, "tol", tol, low=0.0, low_open=True)
    change = float("nan")
    done = 0
    if backups and upper.horizon is not None:
        corner_vals, vals, done = _refine_finite(upper, arm, pts, corner_vals, vals)
    elif backups:
        corner_vals, vals, done, change = _refine(upper, arm, pts, corner_vals, vals, backups,
                                                  tol)
    cap = np.array(upper.vectors[arm])
    for x in (corner_vals, pts, vals, cap):
        x.setflags(write=False)
    return SawtoothBound(corner_vals, pts, vals, done, change, cap)


def _successors(upper, arm, pts):
    """For the corners then ``pts``: successor beliefs ``τ(b,a,o)`` (M' A O, S), their
    probabilities (M', A, O) and the priced rewards now (M', A)."""
    arms = upper.arms
    p = arms.transitions[arm]                                             # (A, S, S)
    obs = arms.observations[arm]                                          # (A, S, O)
    r = arms.rewards[arm] - upper.price * arms.costs[arm][None, :]         # (S, A)
    s = p.shape[1]
    allp = np.vstack([np.eye(s), pts])                                    # corners first
    pred = np.einsum("ms,ast->mat", allp, p)                              # (M', A, S')
    joint = pred[..., None] * obs[None]                                   # (M', A, S', O)
    prob = joint.sum(axis=2)                                              # (M', A, O)
    succ = joint / np.where(prob > 0, prob, 1.0)[:, :, None, :]
    succ = succ.transpose(0, 1, 3, 2).reshape(-1, s)                      # (M' A O, S)
    return succ, prob, allp @ r


def _refine_finite(upper, arm, pts, corners, vals):
    """Finite horizon ``H``: ``H`` point-based upper backups backward from ``U_H = 0``, each
    period's sawtooth over the corners and points bounding that period's value (a backup of an
    upper bound of ``V_{t+1}`` bounds ``V_t``); period 0's values are then capped by the
    static bound (``corners``, ``vals``)."""
    beta, s = upper.discount, upper.vectors.shape[2]
    succ, prob, now = _successors(upper, arm, pts)
    ratio = _ratios(succ, pts)                      # fixed across the backups
    u_corners, u_vals = np.zeros(s), np.zeros(len(pts))
    for _ in range(upper.horizon):
        u = _sawtooth(succ, u_corners, pts, u_vals, ratio).reshape(prob.shape)
        backed = (now + beta * (prob * u).sum(axis=2)).max(axis=1)        # (M',)
        u_corners, u_vals = backed[:s], backed[s:]
    return np.minimum(corners, u_corners), np.minimum(vals, u_vals), upper.horizon


def _refine(upper, arm, pts, corners, vals, sweeps, tol):
    """Point-based upper backups ``v <- min(v, max_a R(b,a) + β Σ_o Pr(o|b,a) U(τ(b,a,o)))``,
    ``U`` the sawtooth capped by ``upper`` (each an upper bound, so their minimum is)."""
    beta = upper.discount
    s = upper.vectors.shape[2]
    succ, prob, now = _successors(upper, arm, pts)
    ratio = _ratios(succ, pts)                      # fixed across the sweeps
    cap = (succ @ upper.vectors[arm].T).max(axis=1)  # the successors' bound from ``upper``
    target = tol * (1.0 - beta) / beta
    change = float("inf")
    done = 0
    while done < sweeps:
        done += 1
        u = np.minimum(_sawtooth(succ, corners, pts, vals, ratio), cap).reshape(prob.shape)
        backed = (now + beta * (prob * u).sum(axis=2)).max(axis=1)        # (M',)
        new_c = np.minimum(corners, backed[:s])
        new_v = np.minimum(vals, backed[s:])
        change = max(float(np.abs(new_c - corners).max()),
                     float(np.abs(new_v - vals).max(initial=0.0)))
        corners, vals = new_c, new_v
        if change <= target:
            break
    return corners, vals, done, change
