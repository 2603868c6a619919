"""The Lagrangian policy (``../shared/specs/PORMAB.md`` §4): price resource at the dual
minimiser ``λ*`` and choose the joint action with the multiple-choice knapsack on
``Q_n^{λ*}(π_n, a)``."""

from __future__ import annotations

import numpy as np

from rmab._validation import check_flag, check_number
from rmab.errors import InvalidParameterError
from rmab.planners.base import BasePlanner
from rmab.relax.knapsack import DP_LIMIT, Knapsack
from rmab.relax.lagrangian import lagrangian_bound, reward_spread

__all__ = ["LagrangianPlanner"]

_METHODS = ("auto", "bisection", "golden", "cutting-plane", "lp")


class LagrangianPlanner(BasePlanner):
    """At each period maximise ``Σ_n G_n(b_n, a_n)`` under the budget (multiple-choice knapsack).

    ``Q_n^{λ*}`` is arm ``n``'s one-step lookahead under the price ``λ*`` (exact for fully
    observed arms, PBVI for POMDP arms), ``λ*`` the minimiser of the Lagrangian dual from the
    instance's initial beliefs (:func:`rmab.relax.lagrangian.lagrangian_bound`). The gains:

    * ``charge_now=False`` (default): ``G = Q^{λ*} + λ* c``, the reward now plus the
      λ*-optimal continuation. The knapsack enforces this period's budget exactly, so the price
      only charges *future* resource use; the budget is spent whenever acting helps.
    * ``charge_now=True``: the textbook ``G = Q^{λ*}``, which also charges ``λ* c(a)`` now: an
      arm whose advantage falls below the price is left idle even when the budget would allow
      acting (gains within the price's tolerance count as ties broken towards acting).

    On the bundled health example (``make compare``: 40 episodes, the same noise) the default
    returned 763.16 against 755.93 with ``charge_now=True`` (Whittle 763.50); the same choice as
    :class:`~rmab.domains.index_baselines.LagrangianDomainPlanner`.

    Parameters
    ----------
    resolve_every : int, optional
        Re-solve ``λ*`` (and the arm values) from the current beliefs every this many periods
        (at ``t = k, 2k, ...``); default never.
    method : {"auto", "bisection", "golden", "cutting-plane", "lp"}
        Multiplier search (:func:`~rmab.relax.lagrangian.lagrangian_bound`; ``"auto"``:
        bisection for fully observed arms, cutting plane for POMDP arms).
    value_tol : float, optional
        Per-arm value tolerance (policy iteration 1e-9; PBVI default here 1e-2, coarse so that
        fitting stays fast; defaults in units of the reward spread ``r_max - r_min``).
    price_tol : float
        Relative tolerance of the multiplier search (default 1e-3).
    charge_now : bool
        Charge the price for this period's resource too (see above); default False.
    price_limits : bool or "auto"
        Price the instance's count limits in the bound as well (``lagrangian_bound(...,
        price_limits=True)``: continuation values that know a binding cap or "exactly k"
        rule); False: the limits are met by the knapsack only. ``"auto"`` (default): priced
        on fully observed arms, where one LP gives the multipliers in milliseconds, relaxed
        on POMDP arms, where pricing costs a few times the fit and gained nothing measurable
        (docs/relaxations.md). Under "exactly 4 active" on 30 random fully observed arms
        pricing returned 0.2-1.6 % more on each of 6 seeds (paired, 30 episodes); under caps
        or a minimum alone the differences were within noise.
    knapsack : {"auto", "dp", "greedy", "mip"}
        How each period's knapsack is solved (:func:`~rmab.relax.knapsack.solve_knapsack`'s
        ``method``): ``"auto"`` (default) the exact DP where its table fits ``dp_limit``, else
        the HiGHS MIP where it is small enough, else greedy; ``"dp"`` the DP or an error;
        ``"greedy"`` along each arm's cost-gain hull (fast, not always optimal); ``"mip"``
        HiGHS.
    dp_limit : int
        Largest DP table (cells) that ``"auto"`` and ``"dp"`` use (default
        ``rmab.relax.knapsack.DP_LIMIT``).
    """

    name = "lagrangian"

    def __init__(self, resolve_every: int | None = None, method: str = "auto",
                 value_tol: float | None = None, price_tol: float = 1e-3,
                 charge_now: bool = False, knapsack: str = "auto", dp_limit: int = DP_LIMIT,
                 price_limits: bool | str = "auto"):
        super().__init__()
        owner = "LagrangianPlanner"
        if resolve_every is not None:
            resolve_every = check_number(owner, "resolve_every", resolve_every, low=1,
                                         integer=True)
        if not isinstance(method, str) or method not in _METHODS:
            raise InvalidParameterError(f"{owner}.method: must be one of {_METHODS}; got "
                                        f"{method!r}")
        if not isinstance(knapsack, str) or knapsack not in ("auto", "dp", "greedy", "mip"):
            raise InvalidParameterError(f"{owner}.knapsack: must be 'auto', 'dp', 'greedy' or "
                                        f"'mip'; got {knapsack!r}")
        check_flag(owner, "charge_now", charge_now)
        if not (isinstance(price_limits, str) and price_limits == "auto"):
            if not isinstance(price_limits, (bool, np.bool_)):
                raise InvalidParameterError(f"{owner}.price_limits: must be True, False or "
                                            f"'auto'; got {price_limits!r}")
            price_limits = bool(price_limits)
        if value_tol is not None:
            value_tol = check_number(owner, "value_tol", value_tol, low=0.0, low_open=True)
        self.resolve_every = resolve_every
        self.method = method
        self.value_tol = value_tol
        self.price_tol = check_number(owner, "price_tol", price_tol, low=0.0, low_open=True)
        self.charge_now = bool(charge_now)
        self.price_limits = price_limits
        self.knapsack = knapsack
        self.dp_limit = check_number(owner, "dp_limit", dp_limit, low=0, integer=True)
        self.result = None

    def _solve(self, instance, beliefs, t: int = 0):
        """The bound from ``beliefs`` at period ``t`` (a finite horizon: over the periods left)."""
        self._solved_at = t
        if instance.horizon is not None and t > 0:
            instance = instance.replace(horizon=max(instance.horizon - t, 1))
        tol = self.value_tol
        if tol is None and not instance.fully_observed:
            tol = 1e-2 * reward_spread(instance.arms)
        return lagrangian_bound(instance, method=self.method, beliefs=beliefs, value_tol=tol,
                                price_tol=self.price_tol, certificate=False,
                                price_limits=(instance.fully_observed if self.price_limits
                                              == "auto" else self.price_limits),
                                seed=self.rng.integers(2**63))

    def _fit(self, instance):
        need = {"lp": True, "cutting-plane": False}.get(self.method)
        if need is not None and instance.fully_observed != need:
            raise InvalidParameterError(
                f"LagrangianPlanner.method: {self.method!r} needs "
                f"{'fully observed' if need else 'POMDP'} arms; the instance has "
                f"{type(instance.arms).__name__}")
        self._knapsack = Knapsack(instance.arms.costs, instance.budget, method=self.knapsack,
                                  dp_limit=self.dp_limit, **instance.limits)   # errors first
        self.result = self._fit_result = self._solve(instance, None)

    def _reset(self):
        self.result = self._fit_result
        self._solved_at = 0

    def _plan(self, belief, t):
        inst = self.instance
        resolved = False
        if self.resolve_every is not None and t > 0 and t % self.resolve_every == 0:
            self.result = self._solve(inst, belief, t)
            resolved = True
        costs = inst.arms.costs
        gains = self.result.q_values(belief, max(t - self._solved_at, 0))   # finite horizon
        if self.charge_now:
            # λ* is known to a relative price_tol (bisection; the discounted cutting plane
            # may stop sooner, where PBVI's noise hides the rest); over that interval a gain
            # moves by up to price_tol λ* c(a) w (w = Σ β^t, the weight of the budget in the
            # dual). Gains inside that band are ties at the true price: break them towards
            # acting, or the budget idles whenever the search stops just above an arm's
            # switching price
            band = self.price_tol * self.result.price * self.result.budget_weight
        else:
            priced = gains
            gains = gains + self.result.price * costs      # give back this period's charge
            if self.result.limit_charges is not None:      # and the count limits' charges
                gains = gains + self.result.limit_charges
            # giving the charge back leaves round-off where the gain is exactly 0 (a visit
            # worth 5.6e-17 was bought in the last period of every episode, a review)
            noise = 1e-12 * max(float(np.abs(priced).max()),
                                float(np.abs(gains - priced).max()))
            gains = np.where(np.abs(gains - gains[:, :1]) <= noise, gains[:, :1], gains)
            band = 0.0
        res = self._knapsack.solve(gains + band * costs)
        idx = np.arange(inst.n_arms)
        self.last_stats.scores = gains[idx, res.actions] - gains[:, 0]
        self.last_stats.info.update(price=self.result.price, knapsack=res.method,
                                    optimal=res.optimal, value=res.value, resolved=resolved)
        return res.actions
