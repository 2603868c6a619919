"""Index planners (``../shared/specs/PORMAB.md`` §6): act on the arms with the highest Whittle
indices within the budget.

Indices are prices per unit of resource (:mod:`rmab.relax.whittle`): fully observed arms use
the exact state indices (a fractional belief gets the belief-weighted average), POMDP arms the
belief-state indices interpolated on a belief grid (any number of states); on a finite horizon
both are the time-dependent indices of the periods left. Only arms whose index is above
``threshold`` (default 0: acting is worth its resource even when resource is
free) act.
"""

from __future__ import annotations

import hashlib
import numbers
import warnings
from collections import OrderedDict

import numpy as np

from rmab._reporting import count_noun
from rmab._validation import budget_slack, check_number
from rmab.errors import IndexabilityWarning, InvalidParameterError
from rmab.planners.base import ONLY_PASSIVE, BasePlanner, kernel_limits
from rmab.relax import _kernels
from rmab.relax.knapsack import _fill_active
from rmab.relax.whittle import (N_PRICES, belief_whittle_indices, finite_whittle_indices,
                                 whittle_indices)

__all__ = ["WhittlePlanner", "WhittleMultiPlanner"]

_FITS: OrderedDict = OrderedDict()     # the last few belief-index fits (_belief_indices)
_FITS_KEPT = 4


def _belief_indices(arms, **options):
    """:func:`belief_whittle_indices`, remembered for the last ``_FITS_KEPT`` (arms, options):
    ``whittle`` and ``whittle-multi`` fitted on the same instance and seed (as in a
    comparison) solve the same PBVI problems (0.5 s on the bundled example). The result's
    arrays are read-only (:class:`~rmab._repr.ReadOnlyArrays`), as it is shared."""
    h = hashlib.blake2b(digest_size=16)
    for x in (arms.transitions, arms.observations, arms.rewards, arms.costs):
        h.update(repr(x.shape).encode())
        h.update(np.ascontiguousarray(x).tobytes())
    key = (h.digest(), tuple(sorted(options.items())))
    if key in _FITS:
        _FITS.move_to_end(key)
        return _FITS[key]
    result = belief_whittle_indices(arms, **options)
    _FITS[key] = result
    if len(_FITS) > _FITS_KEPT:
        _FITS.popitem(last=False)
    return result


def index_walk(instance, index, levels, threshold: float = -np.inf) -> np.ndarray:
    """The joint action of the greedy index walk (the knapsack's greedy rule,
    :func:`~rmab.relax._kernels.mckp_greedy_kernel`): each arm's steps ``levels`` (a list of
    (from, to) action pairs, one per column of ``index`` (n_arms, len(levels))) whose index is
    above ``threshold`` are taken by decreasing index (ties: lower arm, then lower level)
    while the extra cost fits in what is left of the budget; an arm whose step does not fit
    stops upgrading (another arm's step may still fit), a step to an action used up
    (``action_caps``) is walked past at the next step's index, and an arm that would exceed
    ``max_active`` stays put. The index planners and the ranked baselines (round-robin,
    belief-threshold) all act through it."""
    costs = instance.arms.costs
    lv_from, lv_to = np.array(levels, dtype=np.int64).reshape(len(levels), 2).T
    step = (costs[:, lv_to] - costs[:, lv_from]).ravel()     # (arm, level) order, as index
    score = index.ravel()
    kept = np.flatnonzero(score > threshold)
    arm_of, col = np.divmod(kept, len(levels))
    lv_from, lv_to, step, score = lv_from[col], lv_to[col], step[kept], score[kept]
    order = np.lexsort((lv_from, arm_of, -score)).astype(np.int64)
    actions = np.zeros(instance.n_arms, dtype=np.int64)
    caps, top = kernel_limits(instance)
    _kernels.mckp_greedy_kernel(order, arm_of, lv_from, lv_to, step,
                                float(instance.budget), 0.5 * budget_slack(instance.budget),
                                caps, top, actions)
    return actions


def index_top_up(instance, index, levels, actions) -> None:
    """With ``min_active``, bring :func:`index_walk`'s ``actions`` up to it in place: passive
    arms take their first steps (the levels from 0) by index whatever its sign or threshold
    (the classical "exactly k" rule), the actions without such a step only if needed
    (:func:`~rmab.relax.knapsack.fill_active`, which falls back on the exact MIP should the
    greedy not fit)."""
    if not instance.min_active:
        return
    scores = np.full((instance.n_arms, instance.n_actions), -np.inf)
    for col, (a, b) in enumerate(levels):
        if a == 0:
            scores[:, b] = index[:, col]
    _fill_active(scores, instance.arms.costs, instance.budget, actions, **instance.limits)


class _IndexPlanner(BasePlanner):
    """Shared fitting and index lookup; subclasses choose the upgrade steps."""

    def __init__(self, threshold: float = 0.0, resolution: int = 10, n_prices: int = N_PRICES,
                 value_tol: float = 1e-2):
        super().__init__()
        owner = type(self).__name__
        # -inf: act by index whatever its sign (the classical "activate the top arms" rule)
        self.threshold = (-np.inf if isinstance(threshold, numbers.Real) and threshold == -np.inf
                          else check_number(owner, "threshold", threshold))
        self.resolution = check_number(owner, "resolution", resolution, low=1, integer=True)
        self.n_prices = check_number(owner, "n_prices", n_prices, low=2, integer=True)
        self.value_tol = check_number(owner, "value_tol", value_tol, low=0.0, low_open=True)
        self.result = None

    def _check_instance(self, instance) -> None:
        """Subclass checks before fitting (kept out of ``_fit`` so that the indexability
        warning below points at the caller of ``fit``)."""

    def _fit(self, instance):
        self._check_instance(instance)
        with warnings.catch_warnings():
            # non-indexable arms are reported once, by this planner, below
            warnings.simplefilter("ignore", IndexabilityWarning)
            if instance.fully_observed and instance.horizon is not None:
                self.result = finite_whittle_indices(instance.arms, horizon=instance.horizon,
                                                     discount=instance.discount)
            elif instance.fully_observed:
                self.result = whittle_indices(instance.arms, discount=instance.discount)
            else:
                self.result = _belief_indices(
                    instance.arms, discount=instance.discount, resolution=self.resolution,
                    n_prices=self.n_prices, value_tol=self.value_tol,
                    horizon=instance.horizon, seed=int(self.rng.integers(2**63)))
        bad = int((~self.result.indexable).sum())
        if bad:
            verb, its = ("is", "its") if bad == 1 else ("are", "their")
            far = "" if instance.fully_observed else "; how far: .result.violation"
            warnings.warn(f"{type(self).__name__}: {bad} of {count_noun(instance.n_arms, 'arm')} "
                          f"{verb} not (fully) indexable; {its} indices are heuristics (which: the "
                          "planner's .result.indexable, or the indexable column of 'rmab "
                          f"index'{far})", IndexabilityWarning, stacklevel=3)

    def indices_at(self, belief, t: int | None = None) -> np.ndarray:
        """``W_n(b_n, a)`` (n_arms, n_actions - 1) at the beliefs (n_arms, n_states) in period
        ``t`` (needed on a finite horizon, as for ``plan``)."""
        return self._indices_at(*self._checked(f"{type(self).__name__}.indices_at", belief, t))

    def _indices_at(self, belief, t: int) -> np.ndarray:
        if self.instance.fully_observed:   # indices may be ±inf: states of belief 0 add 0
            table = self.result.indices
            if table.ndim == 4:            # finite horizon: one table per period
                table = table[min(t, len(table) - 1)]
            with np.errstate(invalid="ignore"):                         # 0 * inf, dropped
                weighted = belief[:, :, None] * table
            return np.where(belief[:, :, None] > 0, weighted, 0.0).sum(axis=1)
        return self.result.index_at(belief, t)

    def _walk(self, index, levels):
        """:func:`index_walk` by this planner's threshold, then :func:`index_top_up`."""
        actions = index_walk(self.instance, index, levels, self.threshold)
        index_top_up(self.instance, index, levels, actions)
        return actions


class WhittlePlanner(_IndexPlanner):
    """Binary index policy: arms take ``action`` (default 1) by decreasing index
    ``W_n(b_n, action)`` while its cost fits in what is left of the budget (an arm that does not
    fit is skipped, the next may). Multi-action instances use the index of level ``action``.

    Parameters
    ----------
    action : int >= 1
    threshold : float
        Only arms with an index above it act (default 0; ``-inf``: every arm that fits, by
        index).
    resolution, n_prices, value_tol :
        Belief grid and PBVI settings of POMDP arms
        (:func:`rmab.relax.whittle.belief_whittle_indices`; ``value_tol`` in units of each
        arm's reward spread).
    """

    name = "whittle"

    def __init__(self, action: int = 1, threshold: float = 0.0, resolution: int = 10,
                 n_prices: int = N_PRICES, value_tol: float = 1e-2):
        super().__init__(threshold, resolution, n_prices, value_tol)
        self.action = check_number("WhittlePlanner", "action", action, low=1, integer=True)

    def _check_instance(self, instance):
        if self.action >= instance.n_actions:
            raise InvalidParameterError(f"WhittlePlanner.action: must be < n_actions="
                                        f"{instance.n_actions}; got {self.action}"
                                        + ONLY_PASSIVE * (instance.n_actions == 1))

    def _plan(self, belief, t):
        index = self._indices_at(belief, t)[:, self.action - 1]
        actions = self._walk(index[:, None], [(0, self.action)])
        self.last_stats.scores = index
        return actions


class WhittleMultiPlanner(_IndexPlanner):
    """Multi-action index policy (Glazebrook, Hodge & Kirkbride 2011): upgrade arms one level
    at a time by decreasing ``W_n(b_n, a)`` (already a price per unit of extra resource) while
    the extra cost fits; an arm whose next step does not fit stops upgrading, and one whose
    next level is used up (``action_caps``) walks past it at the next step's index. Under full
    indexability each arm's indices fall with the level, so its steps come in order.

    Parameters: ``threshold``, ``resolution``, ``n_prices``, ``value_tol`` as
    :class:`WhittlePlanner`.
    """

    name = "whittle-multi"

    def _check_instance(self, instance):
        if instance.n_actions == 1:
            raise InvalidParameterError("WhittleMultiPlanner.fit.instance.n_actions: must be >= 2 "
                                        "(an active level to index); got 1" + ONLY_PASSIVE)

    def _plan(self, belief, t):
        index = self._indices_at(belief, t)
        n_levels = index.shape[1]
        actions = self._walk(index, [(a, a + 1) for a in range(n_levels)])
        idx = np.arange(len(actions))
        self.last_stats.scores = np.where(actions > 0, index[idx, np.maximum(actions, 1) - 1],
                                          0.0)
        return actions
