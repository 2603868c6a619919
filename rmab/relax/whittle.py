"""Whittle indices: binary and multi-action fully observed arms, belief-state (POMDP) arms
(``../shared/specs/PORMAB.md`` §6).

Convention: the index is a **price per unit of resource**. With reward ``r(s, a) - λ c(a)``,
``W(s, a)`` (``a >= 1``) is the price at which the optimal level of state ``s`` drops from
``a`` or above to below ``a``: ``sup {λ : a*_λ(s) >= a}``. Where levels ``a - 1`` and ``a`` are
both optimal on the way down this is the price where they are equally good,
``Q^λ(s, a) = Q^λ(s, a-1)``; a level that is never optimal shares the index of the level above.
With levels of equal cost the index may be ``+inf`` (level ``a`` or above is optimal at every
price, e.g. a free action that helps) or ``-inf`` (at none). For a binary arm with
``c(1) = 1`` it is Whittle's subsidy for passivity. An arm is (fully) indexable when, as
``λ`` rises, every state's optimal level only goes down; then ``W(s, 1) >= W(s, 2) >= ...``
and the index policy activates state ``s`` at level ``a`` exactly when the going price is
below ``W(s, a)``.

References: P. Whittle (1988); J. Niño-Mora (2007), fast-pivoting adaptive greedy;
N. Gast, B. Gaujal, K. Khun (2023), "Computing Whittle (and Gittins) index in subcubic time";
K. D. Glazebrook, D. J. Hodge, C. Kirkbride (2011), multi-action (full) indexability.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import dataclass

import numpy as np

from rmab._reporting import count_noun
from rmab._repr import CompactRepr, ReadOnlyArrays
from rmab._validation import (as_generator, check_arms, check_discount, check_number,
                              default_discount, discounted_periods)
from rmab.errors import IndexabilityWarning, InvalidParameterError, RmabError, raise_in
from rmab.models.arms import MDPArms, POMDPArms
from rmab.relax import _whittle_kernels

__all__ = ["WhittleResult", "FiniteWhittleResult", "BeliefWhittleResult", "whittle_indices",
           "finite_whittle_indices", "belief_whittle_indices"]

_METHODS = ("homotopy", "bisection")
N_PRICES = 24   # evenly spaced PBVI prices per arm (12 left interior indices up to 7e-3 off:
#                 their envelope was too coarse between prices; 24 cost 10 % more fit)


@dataclass(frozen=True, eq=False, repr=False)
class WhittleResult(CompactRepr, ReadOnlyArrays):
    """Indices of fully observed arms.

    indices : (n_arms, n_states, n_actions - 1)
        ``indices[n, s, a - 1] = W_n(s, a)``, a price per unit of resource (see the module).
    indexable : bool (n_arms,)
        Full indexability per arm (binary arms: Whittle indexability). Where False the indices
        are the last breakpoints of the traced policy path and carry no guarantee.
    discount, method, seconds
    """

    indices: np.ndarray
    indexable: np.ndarray
    discount: float
    method: str
    seconds: float

    @property
    def binary(self) -> np.ndarray:
        """``W_n(s, 1)`` (n_arms, n_states): the classical index of binary arms."""
        return self.indices[:, :, 0]


def _check_index_arms(owner, arms, kind):
    check_arms(owner, arms, kind)
    if arms.n_actions < 2:
        raise InvalidParameterError(f"{owner}.arms: must have at least 2 actions; got "
                                    f"{arms.n_actions}")
    free = np.flatnonzero(arms.costs[:, -1] <= 0)
    if len(free):
        raise InvalidParameterError(f"{owner}.arms.costs: must have an action of positive cost "
                                    f"for indices; got {arms.costs[free[0]].tolist()} "
                                    f"(arm {int(free[0])})")


def _checked_bracket(owner, arms, discount, horizon=None):
    """:func:`_price_bracket`, refused (naming ``costs``) where the indices would overflow or
    the smallest cost step is subnormal (a cost of 1e-320 gave NaN and ``inf`` indices)."""
    steps = np.diff(arms.costs, axis=1)
    step = steps[steps > 0].min()
    with np.errstate(over="ignore"):
        bracket = _price_bracket(arms, discount, horizon)
    if step < np.finfo(float).tiny or not np.isfinite(bracket[1]):
        raise InvalidParameterError(f"{owner}.arms.costs: the smallest positive cost step "
                                    f"({step:g}) is too small for the rewards (spread "
                                    f"{float(np.ptp(arms.rewards)):g}): the indices overflow")
    return bracket


def _warn_not_indexable(owner, indexable, worst=None, finite=False):
    """Warn of the arms not indexable; ``worst``: the belief-state indices' largest
    violation in units of PBVI's tolerance (:class:`BeliefWhittleResult`), or with
    ``finite`` (finite-horizon PBVI, which has no tolerance) of the arm's reward spread."""
    bad = np.flatnonzero(~indexable)
    if len(bad):
        shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
        its = "its" if len(bad) == 1 else "their"
        # finite: value_tol is unused there, so it neither scales the violation nor helps
        unit, knobs = (("of the reward spread", "more n_prices") if finite else
                       ("value_tol", "a smaller value_tol and more n_prices"))
        size = "" if worst is None else (
            f"; the largest violation is {worst:.2g} {unit} (.violation: a small one can be "
            f"the noise of PBVI's values, which {knobs} reduce)")
        warnings.warn(f"{owner}: {count_noun(len(bad), 'arm')} not (fully) indexable: {shown}; "
                      f"{its} indices are unreliable; consider the Lagrangian policy{size}",
                      IndexabilityWarning, stacklevel=3)


def whittle_indices(arms: MDPArms, *, discount: float = 0.95, method: str = "homotopy",
                    tol: float = 1e-10) -> WhittleResult:
    """Whittle indices of fully observed arms, for every state and level.

    Parameters
    ----------
    arms : MDPArms
        Any number of actions, costs non-decreasing with at least one positive; where two
        levels cost the same, the price does not separate them and the worse one is skipped
        (its index is that of the level above, or ``-inf``).
    discount : float in (0, 1 - 1e-9]
    method : {"homotopy", "bisection"}
        ``"homotopy"`` (default): the exact breakpoints of the optimal policy as the price
        rises, with Sherman–Morrison updates (Niño-Mora's fast pivoting, ``O(A^2 S^3)`` per arm,
        Numba). ``"bisection"``: the simple reference, bisection on the price of
        ``sup {λ : a*_λ(s) >= a}`` with exact policy iteration
        (:func:`rmab.values.exact.policy_iteration`) to ``tol``; indexability is read from the
        homotopy (it starts from the last crossing on a price grid; ties go to the cheaper
        level, so on two levels tied over an interval it returns the start, the homotopy the
        end).
    tol : float in (0, 1e-3]
        Price tolerance of the bisection, in units of each arm's price scale (reward spread
        over the smallest positive cost step); it also stops at float resolution.

    Non-indexable arms give an :class:`~rmab.errors.IndexabilityWarning` and
    ``indexable[n] = False``.
    """
    owner = "whittle_indices"
    _check_index_arms(owner, arms, MDPArms)
    discount = check_discount(owner, discount, finite="rmab.relax.finite_whittle_indices(arms, "
                              "horizon=H) gives the H-period indices")
    if not isinstance(method, str) or method not in _METHODS:
        raise InvalidParameterError(f"{owner}.method: must be one of {_METHODS}; got {method!r}")
    tol = check_number(owner, "tol", tol, low=0.0, high=1e-3, low_open=True)
    _checked_bracket(owner, arms, discount)
    start = time.perf_counter()
    indices, flags = _homotopy(arms, discount)
    if method == "bisection":
        try:                    # its policy iterations at the indices: rewards of 1e300
            indices = _bisection(arms, discount, tol, indices)
        except RmabError as exc:
            raise_in(exc, f"{owner} (method 'bisection')")
    indexable = flags == 0
    _warn_not_indexable(owner, indexable)
    return WhittleResult(indices, indexable, discount, method, time.perf_counter() - start)


def _homotopy(arms, discount):
    n, a, s = arms.n_arms, arms.n_actions, arms.n_states
    indices = np.empty((n, s, a - 1))
    flags = np.empty(n, dtype=np.int64)
    start, _ = _price_bracket(arms, discount)
    _whittle_kernels.homotopy_kernel(arms.transitions, arms.rewards, arms.costs, discount,
                                     start, 4 * s * a + 16, indices, flags)
    # a level optimal at no price (dropped at the start) or at every price (never dropped)
    indices[indices <= start] = -np.inf
    indices[np.isnan(indices) & (flags != _whittle_kernels.STEP_LIMIT)[:, None, None]] = np.inf
    return indices, flags


def _reward_spreads(arms) -> np.ndarray:
    """Per arm (n_arms,): ``r_max - r_min`` (1 where every reward is the same)."""
    spread = arms.rewards.max(axis=(1, 2)) - arms.rewards.min(axis=(1, 2))
    return np.where(spread > 0, spread, 1.0)


def _price_units(arms) -> np.ndarray:
    """Per arm (n_arms,): its reward spread over its smallest positive cost step, the scale of
    its indices. The belief-state fit widens its prices by a tenth of it (a fixed 0.1 was 100
    times the indices' range when the rewards were in thousandths)."""
    steps = np.diff(arms.costs, axis=1)
    return _reward_spreads(arms) / np.where(steps > 0, steps, np.inf).min(axis=1)


def _price_bracket(arms, discount, horizon=None):
    """A price interval holding every index. Whatever the price, values span at most
    ``(r_max - r_min) w`` (``w = 1 / (1 - β)``, or ``Σ_{t<H} β^t`` over a finite horizon), so
    beyond ``±`` that over the smallest cost step the cheaper (``λ > 0``) or costlier
    (``λ < 0``) of two adjacent levels wins in every state; the bracket adds one spread (a
    fixed 1 was not in the rewards' units), and is ``±(w + 1)`` over the step when every
    reward is the same."""
    r = arms.rewards
    steps = np.diff(arms.costs, axis=1)
    weight = discounted_periods(discount, horizon)
    spread = float(r.max() - r.min()) or 1.0
    top = spread * (weight + 1.0) / steps[steps > 0].min()
    return -top, top


def _bisection(arms, discount, tol, hints, n_checks=256):
    """Bisection on the price of every arm, state and level (``tol`` relative to each arm's
    price scale) from the last crossing on ``n_checks`` prices spanning the traced indices
    ``hints`` within the arm's own price bracket. (From the whole bracket it found some
    crossing: on a flagged arm not the sup, and on an indexable arm whose levels tie at the
    bracket's midpoint 0 it returned 0 for 2.78. The stack's bracket put an arm of small
    rewards among large ones at prices where its levels tie to float64: -6.8e5 for -inf.)"""
    from rmab.values.exact import policy_iteration

    n_arms, n_actions, n_states = arms.n_arms, arms.n_actions, arms.n_states
    out = np.empty((n_arms, n_states, n_actions - 1))
    s_idx = np.repeat(np.arange(n_states), n_actions - 1)
    a_idx = np.tile(np.arange(1, n_actions), n_states)
    units = _price_units(arms)
    checks = _check_prices(hints.reshape(n_arms, -1), n_checks, units)
    for n in range(n_arms):
        arm = arms.select([n])
        bracket = _price_bracket(arm, discount)
        step, value_tol = tol * units[n], tol * _reward_spreads(arm)[0]
        levels = policy_iteration(arm, prices=checks[n], discount=discount,
                                  tol=value_tol).policy[:, 0].T                # (S, P)
        lo, hi = (x.ravel() for x in _last_crossings(levels, checks[n], bracket, n_actions))
        mid = 0.5 * (lo + hi)
        # stop at the tolerance or where the midpoint is an end (below float spacing: an
        # absolute 1e-10 never ended at indices above ~4.5e5)
        while ((hi - lo > step) & (lo < mid) & (mid < hi)).any():
            policy = policy_iteration(arm, prices=mid, discount=discount, tol=value_tol).policy
            up = policy[np.arange(mid.size), 0, s_idx] >= a_idx     # ties go to the cheaper
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
            mid = 0.5 * (lo + hi)
        out[n, s_idx, a_idx - 1] = np.where(mid - bracket[0] <= step, -np.inf,
                                            np.where(bracket[1] - mid <= step, np.inf, mid))
    return out


@dataclass(frozen=True, eq=False, repr=False)
class FiniteWhittleResult(CompactRepr, ReadOnlyArrays):
    """Finite-horizon indices of fully observed arms, one table per period.

    indices : (horizon, n_arms, n_states, n_actions - 1)
        ``indices[t, n, s, a - 1]``: ``W_n(s, a)`` at period ``t`` (``horizon - t`` periods to
        go), the price per unit of resource at which the optimal level of state ``s`` drops
        below ``a`` in the ``(horizon - t)``-period problem.
    indexable : bool (n_arms,)
        Whether, at every period and state, the optimal level only goes down as the price
        rises (checked on ``check_prices`` prices).
    horizon, discount, seconds
    """

    indices: np.ndarray
    indexable: np.ndarray
    horizon: int
    discount: float
    seconds: float


def finite_whittle_indices(arms: MDPArms, *, horizon: int, discount: float = 1.0,
                           tol: float = 1e-9, check_prices: int = 256) -> FiniteWhittleResult:
    """Whittle indices of fully observed arms over a finite horizon (time-dependent).

    With ``τ`` periods to go and price ``λ``, ``Q_τ(s, a) = r(s, a) - λ c(a) + β Σ_s' P^a(s,
    s') V_{τ-1}(s')``, ``V_0 = 0``; the index ``W_τ(s, a) = sup {λ : a*_τ,λ(s) >= a}`` (ties go
    to the cheaper level) is found by bisection on the price for every period, state and level,
    each step one backward induction (Numba): ``O(H^2 S^3 A^2 log(1/tol))`` per arm. On an arm
    found non-indexable it is redone from the last crossing on the ``check_prices`` grid.

    Parameters
    ----------
    arms : MDPArms (costs as in :func:`whittle_indices`)
    horizon : int >= 1
    discount : float in (0, 1 - 1e-9] or 1 (default 1: the plain total)
    tol : float in (0, 1e-3]
        Price tolerance, relative to the half-width of each arm's own price bracket (its
        reward spread times ``Σ_{t<H} β^t + 1`` over its smallest cost step: the indices
        scale with the rewards); it also stops at float resolution.
    check_prices : int
        Prices on which indexability is checked at every period and state, spanning the
        arm's indices (and each index +- 1e-6 of their range).
    """
    owner = "finite_whittle_indices"
    _check_index_arms(owner, arms, MDPArms)
    horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
    discount = check_discount(owner, discount, one=True)
    tol = check_number(owner, "tol", tol, low=0.0, high=1e-3, low_open=True)
    check_prices = check_number(owner, "check_prices", check_prices, low=2, high=100_000,
                                integer=True)
    _checked_bracket(owner, arms, discount, horizon)
    start = time.perf_counter()
    from rmab.relax.lagrangian import unique_arms

    first, inverse = unique_arms(arms)
    uarms = arms.select(first)
    # each arm's own bracket and tolerances: one for the stack put an arm's tolerances in
    # the units of the arm with the widest price scale
    units = _price_units(uarms)
    tops = units * (discounted_periods(discount, horizon) + 1.0)
    n_states, n_actions = arms.n_states, arms.n_actions
    n_unique = len(first)
    shape = (n_unique, horizon, n_states, n_actions - 1)          # by periods to go
    indices = np.empty(shape)
    args = (uarms.transitions, uarms.rewards, uarms.costs, discount)
    high = np.empty(shape)
    high[:] = tops[:, None, None, None]
    _whittle_kernels.finite_index_kernel(*args, horizon, tops, tol, -high, high, indices)
    checks = _check_prices(indices.reshape(n_unique, -1), check_prices, units)
    indexable = np.empty(n_unique, dtype=bool)
    last = np.empty(shape, dtype=np.int64)
    _whittle_kernels.finite_indexable_kernel(*args, checks, horizon, indexable, last)
    # a level still reached at a check price above its index: the bisection found an earlier
    # crossing, not the sup (levels 2, 1, 2 around an exact tie at price 0, the bracket's
    # midpoint: the index came out 0 for 0.44). The verdict stays the check prices': a dip
    # at one price, where the level above is optimal too, is not a violation
    reached = np.take_along_axis(checks, np.maximum(last, 0).reshape(n_unique, -1), axis=1)
    early = ((last >= 0) & (reached.reshape(shape) > indices)).reshape(n_unique, -1).any(1)
    bad = np.flatnonzero(~indexable | early)
    if len(bad):        # the sup: bisection from the last crossing (the bracket found any one)
        edges = np.concatenate([-tops[bad, None], checks[bad], tops[bad, None]], axis=1)
        k = last[bad].reshape(len(bad), -1) + 1
        redo = np.empty((len(bad), *shape[1:]))
        _whittle_kernels.finite_index_kernel(
            *(x[bad] for x in args[:3]), discount, horizon, tops[bad], tol,
            np.take_along_axis(edges, k, axis=1).reshape(redo.shape),
            np.take_along_axis(edges, k + 1, axis=1).reshape(redo.shape), redo)
        indices[bad] = redo
    indices = indices[:, ::-1]                     # period t has horizon - t periods to go
    indexable = indexable[inverse]
    _warn_not_indexable(owner, indexable)
    return FiniteWhittleResult(np.ascontiguousarray(indices[inverse].transpose(1, 0, 2, 3)),
                               indexable, horizon, discount, time.perf_counter() - start)


def _check_prices(indices, n_grid, units):
    """Per arm (n_arms, P), sorted: ``n_grid`` prices spanning the arm's finite indices with a
    quarter of their range on each side, and each index +- 1e-6 of that range: a level that
    rises again between two prices far apart would be missed on a grid over the whole price
    bracket (a review found 14 such arms of 45). The range is widened by a tenth of the arm's
    price unit ``units`` (n_arms,), :func:`_price_units` (a fixed 0.1 put every price far from
    indices in millionths)."""
    finite = np.where(np.isfinite(indices), indices, np.nan)
    lo = np.nan_to_num(np.nanmin(finite, axis=1, initial=np.inf), posinf=0.0)
    hi = np.nan_to_num(np.nanmax(finite, axis=1, initial=-np.inf), neginf=0.0)
    span = hi - lo + 0.1 * units
    grid = np.linspace(lo - 0.25 * span, hi + 0.25 * span, n_grid, axis=1)
    near = np.where(np.isfinite(indices), indices, lo[:, None])
    step = 1e-6 * span[:, None]
    return np.sort(np.concatenate([grid, near - step, near + step], axis=1), axis=1)


@dataclass(frozen=True, eq=False, repr=False)
class BeliefWhittleResult(CompactRepr, ReadOnlyArrays):
    """Belief-state indices of POMDP arms on a belief grid.

    grid : (G, n_states)
        The beliefs (the simplex grid of ``resolution``, or those given).
    indices : (n_arms, G, n_actions - 1)
        ``W_n(b_g, a)``, prices per unit of resource as in :class:`WhittleResult`.
    indexable : bool (n_arms,)
        Full indexability checked on the grid: at every grid belief the optimal level never
        rises with the price (on ``check_prices`` prices spanning the evaluated range).
    violation : (n_arms,)
        How far each arm is from indexable, in reward units: the largest lookahead advantage
        ``max_{a' >= a} Q - max_{a' < a} Q`` with which a level ``a`` is regained at a check
        price above one where it was left (0 where none is; on a finite horizon over all
        periods). A small one can be the noise of PBVI's values (``value_tol`` times the
        reward spread at the prices solved, more between them) rather than the arm's.
    resolution : int or None
        Grid resolution; None when the beliefs were given (then :meth:`index_at` is not
        available).
    prices : (n_arms, n_prices + P n_states (n_actions - 1))
        Prices PBVI was solved at for each arm, sorted: evenly spaced over that arm's fully
        observed indices, and those indices (``P = 1``; on a finite horizon every period's,
        ``P = H``, each distinct price solved once); their plans, re-priced exactly, give the
        values between.
    discount, seconds
    horizon : int or None
        Finite horizon ``H``: then ``indices`` is (H, n_arms, G, n_actions - 1), one table per
        period ``t`` (``H - t`` periods to go), and :meth:`index_at` takes the period.
    """

    grid: np.ndarray
    indices: np.ndarray
    indexable: np.ndarray
    violation: np.ndarray
    resolution: int | None
    prices: np.ndarray
    discount: float
    seconds: float
    horizon: int | None = None

    def index_at(self, beliefs, t: int = 0) -> np.ndarray:
        """Indices at one belief per arm (n_arms, n_states) -> (n_arms, n_actions - 1), by
        linear interpolation on the grid (barycentric on its Freudenthal simplices); on a
        finite horizon, those of period ``t`` (the last period's beyond it); otherwise ``t``
        (checked: an integer >= 0) is ignored."""
        from rmab.belief.update import check_beliefs

        if self.resolution is None:
            raise InvalidParameterError("BeliefWhittleResult.index_at: needs a grid (computed "
                                        "with resolution=...); got indices at given beliefs")
        # checked on a discounted result too, where t=-1 was accepted silently
        t = check_number("BeliefWhittleResult.index_at", "t", t, low=0, integer=True)
        table = self.indices
        if self.horizon is not None:
            table = table[min(t, self.horizon - 1)]
        n_arms, _, n_levels = table.shape
        n_states = self.grid.shape[1]
        b = check_beliefs("BeliefWhittleResult.index_at", beliefs, n_arms, n_states)
        rows, weights = _grid_weights(b, self.resolution, _grid_lookup(self.grid,
                                                                       self.resolution))
        arm = np.arange(n_arms)[:, None]
        return np.einsum("nv,nvl->nl", weights, table[arm, rows])


def _grid_lookup(grid, resolution):
    """(sorted keys, rows): each grid belief's counts ``resolution * b`` as one key (the
    count vector's bytes: exact for any number of states), sorted, and the grid row of each
    key."""
    keys = _keys(np.rint(grid * resolution).astype(np.int64))
    order = np.argsort(keys, kind="stable")
    return keys[order], order


def _keys(counts):
    """Byte-string keys (...,) of int64 count vectors (..., S), for sorting and lookup."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    return counts.view(np.dtype((np.void, 8 * counts.shape[-1])))[..., 0]


def _grid_weights(b, resolution, lookup):
    """Grid rows (N, S) and interpolation weights (N, S) of beliefs b (N, S): the vertices of
    the Freudenthal simplex holding each belief (Lovejoy 1991), in the coordinates
    ``x_i = resolution * sum_{k >= i} b_k`` (i = 1..S-1), where the grid is the integer points
    and the cells are split along the sorted fractional parts."""
    n, s = b.shape
    keys, rows = lookup
    x = resolution * np.cumsum(b[:, ::-1], axis=1)[:, ::-1][:, 1:]          # (N, S-1)
    base = np.minimum(np.floor(x + 1e-12), resolution).astype(np.int64)
    frac = np.clip(x - base, 0.0, 1.0)
    order = np.argsort(-frac, axis=1, kind="stable")    # ties: the lower coordinate first
    d = np.take_along_axis(frac, order, axis=1)
    weights = np.empty((n, s))
    weights[:, 0] = 1.0 - d[:, 0] if s > 1 else 1.0
    weights[:, 1:-1] = d[:, :-1] - d[:, 1:]
    if s > 1:
        weights[:, -1] = d[:, -1]
    vertex = np.repeat(base[:, None, :], s, axis=1)                         # (N, S, S-1)
    steps = np.zeros((n, s - 1, s - 1), dtype=np.int64)
    np.put_along_axis(steps, order[:, :, None], 1, axis=2)                 # e_{p_k}
    vertex[:, 1:] += np.cumsum(steps, axis=1)
    vertex = np.minimum(vertex, resolution)          # zero-weight vertices may step outside
    full = np.concatenate([np.full((n, s, 1), resolution), vertex, np.zeros((n, s, 1),
                                                                           dtype=np.int64)],
                          axis=2)
    counts = np.maximum(full[:, :, :-1] - full[:, :, 1:], 0)                # (N, S, S)
    pos = np.minimum(np.searchsorted(keys, _keys(counts)), keys.size - 1)
    return rows[pos], weights


def belief_whittle_indices(arms: POMDPArms, *, discount: float | None = None,
                           resolution: int = 10, beliefs=None, n_prices: int = N_PRICES,
                           value_tol: float = 1e-2, check_prices: int = 64,
                           horizon: int | None = None, seed=0) -> BeliefWhittleResult:
    """Whittle indices of POMDP arms at grid beliefs (binary and multi-action).

    Method (ours, after PORMAB.md §6): PBVI (:func:`rmab.values.pbvi.solve_pbvi`, warm-started
    from the previous price, the grid added to its point set) is solved at ``n_prices`` prices
    spanning the indices of each arm's underlying fully observed arm, and at those indices.
    Every α-vector is the value of a conditional plan whose reward value and resource use are
    both kept, so pooling the plans of all solves and re-pricing them exactly gives a lower
    envelope ``V̲_λ`` at *any* price.
    The index ``W(b, a) = sup {λ : a*_λ(b) >= a}`` (``a*_λ(b)`` the best level of the one-step
    lookahead on ``V̲_λ``, ties to the cheaper) is then found by bisection on ``λ`` to machine
    precision, for every arm, grid belief and level at once. Its accuracy is that of PBVI's
    envelope near the index, not of the bisection; between the corners the number of prices
    sets it more than ``value_tol`` (docs/relaxations.md).

    Parameters
    ----------
    arms : POMDPArms (costs as in :func:`whittle_indices`)
    discount : float in (0, 1 - 1e-9]; default 0.95, or 1 with ``horizon`` (as
        :func:`finite_whittle_indices`)
    resolution : int
        Grid of beliefs with entries in multiples of ``1/resolution``: ``C(resolution + S - 1,
        S - 1)`` points (66 for 3 states at 10, 286 for 4, 1 001 for 5), each indexed.
    beliefs : array (G, n_states), optional
        Compute the indices at these beliefs instead of a grid (any number of states).
    n_prices : int >= 2
        Evenly spaced prices per arm (default ``N_PRICES``, 24: more make the indices between
        the corners more accurate); PBVI is also solved at the arm's fully observed indices
        (``n_prices + S (A - 1)`` solves; on a finite horizon at every period's, at most
        ``n_prices + H S (A - 1)``).
    value_tol : float
        PBVI tolerance, in units of each arm's reward spread ``r_max - r_min`` (so that the
        indices scale with the rewards); unused with ``horizon`` (finite-horizon PBVI makes
        ``H`` backups and has no stopping rule).
    check_prices : int
        Prices on which indexability is checked at every grid belief.
    horizon : int, optional
        Finite horizon ``H`` (then ``discount`` may be 1): finite-horizon PBVI
        (:func:`rmab.values.finite_pbvi.solve_finite_pbvi`) at each price, its plans pooled per
        period, and the index of period ``t`` from the lookahead onto period ``t + 1``'s
        envelope (nothing after the last). Prices from every period's
        :func:`finite_whittle_indices`.
    seed : int, SeedSequence or Generator (PBVI's belief sampling)
    """
    owner = "belief_whittle_indices"
    _check_index_arms(owner, arms, POMDPArms)
    discount = default_discount(discount, horizon)
    if horizon is None:
        discount = check_discount(owner, discount, finite="pass horizon=H")
    else:
        horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
        discount = check_discount(owner, discount, one=True)
    n_prices = check_number(owner, "n_prices", n_prices, low=2, integer=True)
    value_tol = check_number(owner, "value_tol", value_tol, low=0.0, low_open=True)
    check_prices = check_number(owner, "check_prices", check_prices, low=2, high=100_000,
                                integer=True)
    start = time.perf_counter()
    from rmab.relax.lagrangian import unique_arms
    from rmab.values.pbvi import check_belief_rows, grid_beliefs

    n_states = arms.n_states
    if beliefs is None:
        resolution = check_number(owner, "resolution", resolution, low=1, integer=True)
        if n_states < 2:
            raise InvalidParameterError(f"{owner}.arms: a belief grid needs at least 2 states; "
                                        f"got {n_states}")
        grid = grid_beliefs(owner, "resolution", n_states, resolution)
    else:
        grid, _ = check_belief_rows(owner, beliefs, n_states, field="beliefs")
        if not len(grid):           # their mean, PBVI's start, would be NaN
            raise InvalidParameterError(f"{owner}.beliefs: must have at least one row; got "
                                        f"shape {np.shape(beliefs)}")
        resolution = None
    first, inverse = unique_arms(arms)
    uarms = arms.select(first)
    mdp = MDPArms(uarms.transitions, uarms.rewards, uarms.costs)
    if horizon is None:
        hints, _ = _homotopy(mdp, discount)                   # (K, S, A-1) fully observed
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IndexabilityWarning)
            hints = finite_whittle_indices(mdp, horizon=horizon, discount=discount).indices
        hints = hints.transpose(1, 0, 2, 3)                   # (K, H, S, A-1): every period
    entropy = int(as_generator(seed, f"{owner}.seed").integers(2**63))
    center = grid.mean(axis=0)
    periods = 1 if horizon is None else horizon
    indices = np.empty((periods, len(first), len(grid), arms.n_actions - 1))
    indexable = np.empty(len(first), dtype=bool)
    violation = np.zeros(len(first))
    unit, spread = _price_units(uarms), _reward_spreads(uarms)
    prices = np.empty((len(first), n_prices + hints[0].size))
    for u in range(len(first)):
        # each arm's own prices: a shared grid spanning every arm's indices left arms with
        # small indices few prices near theirs (indices and verdicts depended on the stack)
        hint = hints[u][np.isfinite(hints[u])]
        hint = hint if hint.size else np.zeros(1)
        span = float(hint.max() - hint.min()) + 0.1 * unit[u]
        even = np.linspace(min(0.0, hint.min()) - 0.25 * span, hint.max() + 0.25 * span,
                           n_prices)
        # and the fully observed indices themselves, where the corner beliefs' indices are
        # (the even prices alone missed them by up to 1.5e-2 on 4 states; a finite horizon's
        # later periods, by 1.3e-3 from the first period's alone); a level optimal at
        # every price or none, or left unset by a homotopy at its step limit (NaN), gets an
        # end price solved twice
        at = np.nan_to_num(hints[u].ravel(), nan=even[0], posinf=even[-1], neginf=even[0])
        prices[u] = np.sort(np.concatenate([even, np.clip(at, even[0], even[-1])]))
        one = uarms.select([u])
        rng = np.random.default_rng([entropy, *_arm_words(one)])   # not the arm's position
        if horizon is None:
            pools = [_pooled_plans(one, prices[u], discount, value_tol * spread[u], center,
                                   resolution, rng)]
            bracket = _price_bracket(one, discount)
        else:                   # period t looks ahead onto period t + 1's plans
            pools = _finite_pooled_plans(one, prices[u], horizon, discount, center, resolution,
                                         rng)[1:]
            bracket = _price_bracket(one, discount, horizon)
        checks = np.linspace(prices[u, 0], prices[u, -1], check_prices)
        indexable[u] = True
        for t, (plans, plan_costs) in enumerate(pools):
            model = _LookaheadModel(one, 0, grid, plans, plan_costs, discount)
            levels = model.best_level(np.broadcast_to(checks, (len(grid), check_prices)))
            monotone = bool(np.all(np.diff(levels, axis=1) <= 0))
            indexable[u] &= monotone
            if not monotone:
                violation[u] = max(violation[u], model.regained_advantage(levels, checks))
            indices[t, u] = model.indices(*_last_crossings(levels, checks, bracket,
                                                           one.n_actions))
    indexable, violation = indexable[inverse], violation[inverse]
    finite = horizon is not None       # finite-horizon PBVI has no value_tol
    scale = spread[inverse] * (1.0 if finite else value_tol)
    _warn_not_indexable(owner, indexable, (violation / scale).max(), finite)
    indices = indices[:, inverse] if horizon is not None else indices[0, inverse]
    return BeliefWhittleResult(grid, indices, indexable, violation, resolution,
                               prices[inverse], discount, time.perf_counter() - start, horizon)


def _arm_words(arm) -> list[int]:
    """Four 32-bit words hashing one arm's parameters (seeds its PBVI solves, so that its
    indices do not depend on the other arms of the stack)."""
    h = hashlib.blake2b(digest_size=16)
    for x in (arm.transitions, arm.observations, arm.rewards, arm.costs):
        h.update(np.ascontiguousarray(x).tobytes())
    return [int.from_bytes(h.digest()[i:i + 4], "little") for i in range(0, 16, 4)]


def _pooled_plans(arm, prices, discount, tol, center, resolution, rng):
    """The reward values (K, S) and resource uses (K, S) of the plans of every PBVI solve of
    one arm over ``prices`` (warm-started in order)."""
    from rmab.values.pbvi import price_sweep

    alphas, costs, _, ends = price_sweep(arm, prices, discount=discount, tol=tol,
                                         initial_belief=center, grid=resolution, seed=rng)
    return alphas + np.repeat(prices, np.diff(ends))[:, None] * costs, costs


def _finite_pooled_plans(arm, prices, horizon, discount, center, resolution, rng):
    """Per period ``t = 0..H`` (``H``: the terminal zero plan), the reward values (K, S) and
    resource uses (K, S) of the finite-horizon PBVI plans of one arm over ``prices``."""
    from rmab.values.finite_pbvi import solve_finite_pbvi

    plans = [[] for _ in range(horizon)]
    costs = [[] for _ in range(horizon)]
    for price in np.unique(prices):         # a price solved twice adds no plan
        sol = solve_finite_pbvi(arm, horizon=horizon, price=float(price), discount=discount,
                                initial_belief=center, grid=resolution, seed=rng).solves[0]
        for t, period in enumerate(sol.periods):
            plans[t].append(period.alphas + sol.price * period.costs)
            costs[t].append(period.costs)
    zero = np.zeros((1, arm.n_states))
    return ([(np.concatenate(p), np.concatenate(c)) for p, c in zip(plans, costs)]
            + [(zero, zero)])


def _last_crossings(levels, checks, bracket, n_actions):
    """Per belief and level (G, A - 1): the prices around the last check price at which the
    best level (``levels``, (G, C) at ``checks``) is at least that level, so that bisection
    finds the ``sup`` of a non-indexable arm (from the whole bracket it found one crossing,
    not always the last). Below the first check price where none is; up to the bracket's
    end where the last is."""
    above = levels[:, :, None] >= np.arange(1, n_actions)                  # (G, C, A - 1)
    last = levels.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    k = np.where(above.any(axis=1), last + 1, 0)
    edges = np.concatenate([[bracket[0]], checks, [bracket[1]]])
    return edges[k], edges[k + 1]


_CHUNK = 2**23      # float64 entries of the numpy lookahead's largest intermediate (64 MB)


def _weigh(joint, plans):
    """``einsum("gato,kt->gaok", joint, plans)`` (G, A, O, K), C-contiguous (einsum's strided
    result made q's max over K 8x slower, a review), by :func:`weigh_kernel`."""
    g, a, _, o = joint.shape
    out = np.empty((g, a, o, len(plans)))
    _whittle_kernels.weigh_kernel(np.ascontiguousarray(joint), np.ascontiguousarray(plans), out)
    return out


class _LookaheadModel:
    """One-step lookahead of one arm at fixed beliefs on the re-priced plan envelope:
    ``Q(b, a, λ) = R(b, a) - λ c(a) + β Σ_o max_k (m_k - λ κ_k)`` with
    ``m_k = Σ_s' (bP^a)(s') ρ^a(s', o) ρ_k(s')`` and ``κ_k`` the same on resource use."""

    def __init__(self, arms, n, beliefs, plans, plan_costs, discount):
        pred = np.einsum("gs,ast->gat", beliefs, arms.transitions[n])           # (G, A, S')
        joint = pred[..., None] * arms.observations[n][None]                   # (G, A, S', O)
        self.m = _weigh(joint, plans)                                          # (G, A, O, K)
        self.kappa = _weigh(joint, plan_costs)
        self.now = beliefs @ arms.rewards[n]                                   # (G, A)
        self.cost = arms.costs[n]
        self.discount = discount

    def q(self, lam):
        """``Q`` at prices ``lam`` (G, L), one row of prices per belief: returns (G, L, A)."""
        return self._q(self.m[:, None], self.kappa[:, None], self.now[:, None], lam)

    def _q(self, m, kappa, now, lam):
        """``Q`` (..., A) from ``m``, ``kappa`` (..., A, O, K) and ``now`` (..., A) at prices
        ``lam`` (...), all broadcasting together."""
        lam = np.asarray(lam)[..., None]
        future = (m - lam[..., None, None] * kappa).max(axis=-1).sum(axis=-1)
        return now - lam * self.cost + self.discount * future

    def best_level(self, lam):
        """First (cheapest) maximiser of ``Q`` at prices ``lam`` (G, L): (G, L) int, ties
        within ``1e-12 |max Q|`` (Numba; :meth:`best_level_numpy` is its twin)."""
        out = np.empty(lam.shape, dtype=np.int64)
        _whittle_kernels.best_level_kernel(self.m, self.kappa, self.now, self.cost,
                                           self.discount, np.ascontiguousarray(lam), out)
        return out

    def best_level_numpy(self, lam):
        """:meth:`best_level` in numpy: prices go through ``q`` in chunks, so its (G, L, A, O,
        K) intermediate stays near ``_CHUNK`` (the kernel, with none, was 7-15x faster)."""
        per_price = self.m.size                                       # G A O K per price
        step = max(1, _CHUNK // max(per_price, 1))
        out = np.empty(lam.shape, dtype=np.int64)
        for j in range(0, lam.shape[1], step):
            q = self.q(lam[:, j:j + step])
            best = q.max(axis=-1, keepdims=True)
            out[:, j:j + step] = np.argmax(q >= best - 1e-12 * np.abs(best),   # any units
                                           axis=-1)
        return out

    def regained_advantage(self, levels, checks):
        """Largest ``max_{a' >= a} Q - max_{a' < a} Q`` (>= 0) over the grid beliefs and check
        prices ``checks`` (C,) at which the best level ``levels`` (G, C) is ``a`` or more after
        an earlier check price where it was less (0 where that never happens)."""
        worst = 0.0
        for a in range(1, self.now.shape[1]):
            above = levels >= a
            left = np.maximum.accumulate(~above, axis=1)
            rows, cols = np.nonzero(above[:, 1:] & left[:, :-1])
            step = max(1, _CHUNK // max(self.m[0].size, 1))
            for j in range(0, len(rows), step):
                g = rows[j:j + step]
                q = self._q(self.m[g], self.kappa[g], self.now[g], checks[cols[j:j + step] + 1])
                worst = max(worst, float((q[:, a:].max(axis=1) - q[:, :a].max(axis=1)).max()))
        return worst

    def indices(self, lo, hi):
        """``sup {λ : a*_λ(b) >= a}`` by bisection for every belief and level: (G, A - 1),
        between ``lo`` and ``hi`` (numbers, or (G, A - 1) arrays bracketing the last
        crossing, :func:`_last_crossings`)."""
        n_beliefs, n_actions = self.now.shape
        levels = np.arange(1, n_actions)
        low = np.array(np.broadcast_to(lo, (n_beliefs, n_actions - 1)), dtype=np.float64)
        high = np.array(np.broadcast_to(hi, (n_beliefs, n_actions - 1)), dtype=np.float64)
        tol = 1e-12 * max(float(np.abs(low).max()), float(np.abs(high).max()))
        while (high - low).max() > tol:
            mid = 0.5 * (low + high)
            up = self.best_level(mid) >= levels
            low = np.where(up, mid, low)
            high = np.where(up, high, mid)
        return 0.5 * (low + high)
