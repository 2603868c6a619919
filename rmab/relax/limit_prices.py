"""Multipliers of the count limits on POMDP arms: a cutting plane over pooled PBVI plans.

With the budget priced at ``λ`` and each count limit's row ``k`` at ``μ_k`` (pattern
``d_k(a)``, bounds ``low_k <= Σ_n d_k(a_n) <= high_k`` per period), the dual

    D(λ, μ) = Σ_n V_n^{λ, μ}(π_n) + λ B w + Σ_k μ_k T_k(μ_k),
    T_k = high_k w (μ_k >= 0),  low_k w (μ_k < 0),

is convex, ``V_n^{λ, μ}`` the value under the reward ``r_n(s, a) - λ c_n(a) - Σ_k μ_k
d_k(a)``. Every PBVI α-vector is the value of a conditional plan, and the plan's reward value
and its discounted uses of each action (:func:`rmab.values.pbvi.plans_with_uses`) do not
depend on the multipliers: the pooled plans of every solve give a piecewise-linear model of
``D`` from below, minimised over ``(λ, μ)`` by one LP (HiGHS). PBVI is re-solved at the LP's
minimiser, its plans join the pool, until the model there lies within the PBVI's own noise of
the best dual value found (Kelley's method in ``1 + K`` dimensions; the golden sections per
multiplier it replaced took a full price search for each of their steps).
"""

from __future__ import annotations

import warnings

import numpy as np

from rmab._validation import as_generator
from rmab._warnings import user_stacklevel
from rmab.errors import ConvergenceWarning
from rmab.models.instance import Instance

_SETTLED = 0.01         # of N value_tol on a discounted horizon, as the budget's cutting plane
_MAX_EVALS = 60
_WIDEST = 4.0 ** 10   # the box grows at most this much past the first one


def limit_multipliers(instance: Instance, rows, beliefs, value_tol: float, seed,
                      start_price: float, budget_term: float, price_ceiling: float) -> tuple:
    """The multipliers ``m`` (one per row of ``rows``, :func:`rmab.relax.lagrangian.
    _limit_rows` form) at the best dual value found, and the number of PBVI evaluations.

    ``beliefs`` (N, S) the arms' beliefs; ``value_tol`` PBVI's tolerance (discounted);
    ``start_price`` the budget-only ``λ*`` (the first evaluation, at ``μ = 0``);
    ``budget_term`` ``B w``; ``price_ceiling`` the first box's largest ``λ`` (widened 4-fold
    while the model's minimiser lies on its edge, as are the rows' ranges)."""
    from rmab.relax.lagrangian import budget_weight

    pool = _PlanPool(instance, rows, beliefs, value_tol, seed, budget_weight(instance))
    sides = pool.sides
    # the box keeps the model bounded; it is widened where the minimiser meets it and the
    # model is lower beyond (not along a flat ray of the dual, which the LP's vertex would
    # follow to the box's edge): with the limits priced, λ can exceed the ceiling of the
    # rewards alone (a multiplier of min_active pays arms to act), a multiplier its row's range
    first = np.array([price_ceiling] + [bound for _, _, _, bound in sides])
    upper = first.copy()
    point = np.zeros(1 + len(sides))
    point[0] = start_price
    best, evals = (np.inf, point), 0
    noise = len(beliefs) * value_tol if instance.horizon is None else 0.0   # PBVI's, in D
    settled = _SETTLED * noise
    while evals < _MAX_EVALS:
        dual = pool.evaluate(point) + point[0] * budget_term
        evals += 1
        if dual < best[0]:
            best = (dual, point)
        last, (point, model) = point, pool.minimise(budget_term, _box(upper))
        close = settled + 1e-9 * (abs(best[0]) + pool.unit)                   # any units
        edge = (point >= upper * (1.0 - 1e-9)) & (upper > 0.0) & (upper < _WIDEST * first)
        if edge.any():
            wider = np.where(edge, 4.0 * upper, upper)
            far, low = pool.minimise(budget_term, _box(wider))
            if low < model - noise - close:     # the box, not the model, stopped it: widen
                upper, point = wider, far
                continue
        if best[0] - model <= close or np.array_equal(point, last):
            break
    else:
        warnings.warn(f"lagrangian_bound: the count limits' multipliers stopped after "
                      f"{_MAX_EVALS} PBVI evaluations with the model {best[0] - model:.3g} "
                      f"below the best dual value found; the bound holds at the multipliers "
                      f"reached", ConvergenceWarning, stacklevel=user_stacklevel())
    m = [0.0] * len(rows)
    for (k, sign, _, _), value in zip(sides, best[1][1:]):
        m[k] += sign * float(value)
    return m, evals


def _box(upper) -> list:
    return [(0.0, float(u)) for u in upper]


class _PlanPool:
    """Every distinct arm's plans so far, valued at each arm's belief: reward value, budget
    use and pattern uses (the passive plan, exact, to start), and the PBVI evaluations."""

    def __init__(self, instance, rows, beliefs, value_tol, seed, weight):
        from rmab.relax.lagrangian import passive_values, reward_spread, unique_arms
        from rmab.values.pbvi import N_BELIEFS, arm_problem

        arms = instance.arms
        self.unit = reward_spread(arms)     # the LP's values and prices in these units:
        self.first, self.inverse = unique_arms(arms)   # HiGHS's tolerances are absolute
        self.arms = arms.select(self.first)
        self.beliefs = beliefs
        self.discount, self.horizon = instance.discount, instance.horizon
        self.target = value_tol * (1.0 - self.discount) / self.discount \
            if self.horizon is None else 0.0
        # one multiplier a side: (row, sign, term per unit, largest value)
        self.sides = []
        for k, (_, high, low, m_low, m_high) in enumerate(rows):
            if m_high > 0:
                self.sides.append((k, 1.0, high * weight, m_high))
            if m_low < 0:
                self.sides.append((k, -1.0, -low * weight, -m_low))
        # charge per unit of each side's multiplier, per active action (A - 1, sides)
        self.patterns = np.array([sign * rows[k][0][1:] for k, sign, _, _ in self.sides]).T \
            if self.sides else np.zeros((arms.n_actions - 1, 0))
        self.terms = np.array([term for _, _, term, _ in self.sides])
        rng = as_generator(seed, "lagrangian_bound.seed")
        counts = np.bincount(self.inverse, minlength=len(self.first)).astype(float)
        start = np.zeros((len(self.first), arms.n_states))
        np.add.at(start, self.inverse, beliefs)
        start /= counts[:, None]
        # the point sets (and kernel seeds) the final solve at the multipliers draws, in its
        # order: chosen on other sets, the multipliers missed the reported dual's minimum
        # where one arm's set kept only its start state (0.085 % above the exact dual)
        self.points, self.seeds = [], []
        for j in range(len(self.first)):
            self.points.append(arm_problem(self.arms, j, 0.0, start[j], N_BELIEFS, None, rng)[4])
            if self.horizon is None:            # solve_pbvi's kernel seed; finite: none
                self.seeds.append(int(rng.integers(1, 2**62)))
        self.solved = [[] for _ in self.first]        # per distinct arm: (point, ρ, uses, acts)
        passive = passive_values(self.arms, self.discount, self.horizon)
        self.value = [np.einsum("ns,ns->n", beliefs, passive[self.inverse])[:, None]]
        n_use = arms.n_actions - 1
        self.use = [np.zeros((len(beliefs), 1, n_use))]          # per arm, plan, action

    def charges(self, point) -> np.ndarray:
        """Each distinct arm's charge per action (K, A) at ``point = (λ, side values)``."""
        active = point[0] * self.arms.costs[:, 1:] + self.patterns @ point[1:]
        return np.concatenate([np.zeros((len(self.first), 1)), active], axis=1)

    def evaluate(self, point) -> float:
        """Solve every distinct arm at ``point``, pool the plans, and return ``Σ_n V_n +
        Σ_sides y T`` (the budget's ``λ B w`` is the caller's)."""
        from rmab.values.finite_pbvi import first_plans_with_uses
        from rmab.values.pbvi import MAX_ITER, plans_with_uses

        arms, charges = self.arms, self.charges(point)
        width = 0
        found = []
        for j in range(len(self.first)):
            trans = arms.transitions[j]
            obs = np.ascontiguousarray(arms.observations[j])
            r = np.ascontiguousarray(arms.rewards[j] - charges[j][None, :])
            if self.horizon is None:
                alphas, uses, acts, _ = plans_with_uses(
                    trans, obs, r, self.points[j], self.discount, self.target, MAX_ITER,
                    self.seeds[j], self._warm(j, point, charges[j]))
            else:
                alphas, uses, acts = first_plans_with_uses(trans, obs, r, self.discount,
                                                           self.points[j], self.horizon)
            rho = alphas + uses @ charges[j][1:]                 # the plans' reward values
            self.solved[j].append((point, rho, uses, acts))
            found.append((alphas, rho, uses))
            width = max(width, len(alphas))
        n = len(self.beliefs)
        value = np.full((n, width), -np.inf)
        use = np.zeros((n, width, arms.n_actions - 1))
        total = 0.0
        for j, (alphas, rho, uses) in enumerate(found):
            idx = np.flatnonzero(self.inverse == j)
            b = self.beliefs[idx]
            k = len(alphas)
            value[idx, :k] = b @ rho.T
            use[idx, :k] = np.einsum("ns,ksa->nka", b, uses)
            total += float((b @ alphas.T).max(axis=1).sum())
        self.value.append(value)
        self.use.append(use)
        return total + float(point[1:] @ self.terms)

    def _warm(self, j, point, charge):
        """The plans of arm ``j``'s solve nearest ``point``, re-priced to its charges (exact:
        a plan's reward value and uses do not depend on them), or None."""
        if not self.solved[j]:
            return None
        near = min(self.solved[j], key=lambda x: float(np.abs(x[0] - point).sum()))
        _, rho, uses, acts = near
        return rho - uses @ charge[1:], uses, acts

    def minimise(self, budget_term: float, bounds) -> tuple:
        """The pooled model's minimiser ``(λ, side values)`` and minimum, by one LP::

            min Σ_n z_n + λ B w + Σ_sides y T   s.t.  z_n >= v_nj - (λ c + P y) · u_nj
        """
        from scipy import sparse
        from solvers import MILP, TerminationStatus, solve

        value = np.concatenate(self.value, axis=1)                       # (N, J)
        use = np.concatenate(self.use, axis=1)                           # (N, J, A - 1)
        n = value.shape[0]
        keep = np.isfinite(value)
        arm, plan = np.nonzero(keep)
        rows = len(arm)
        costs = self.arms.costs[self.inverse][:, 1:]                     # (N, A - 1)
        budget_use = np.einsum("ja,ja->j", use[arm, plan], costs[arm])
        side_use = use[arm, plan] @ self.patterns                        # (rows, sides)
        n_sides = side_use.shape[1]
        # columns: z (N), λ, y (sides); rows: z_n + λ κ + y · u >= v
        data = np.concatenate([np.ones(rows), budget_use, side_use.ravel()])
        r_idx = np.concatenate([np.arange(rows), np.arange(rows),
                                np.repeat(np.arange(rows), n_sides)])
        c_idx = np.concatenate([arm, np.full(rows, n),
                                n + 1 + np.tile(np.arange(n_sides), rows)])
        mat = sparse.csr_matrix((data, (r_idx, c_idx)), shape=(rows, n + 1 + n_sides))
        cost = np.concatenate([np.ones(n), [budget_term], self.terms])
        lower = np.concatenate([np.full(n, -np.inf), [b[0] for b in bounds]])
        upper = np.concatenate([np.full(n, np.inf), [b[1] for b in bounds]])
        unit = self.unit
        res = solve(MILP(cost, mat, value[arm, plan] / unit, np.full(rows, np.inf),
                         lower / unit, upper / unit, np.zeros(cost.size, dtype=bool), "min"))
        if res.status is not TerminationStatus.OPTIMAL:     # bounded and feasible, in theory
            raise RuntimeError(f"limit_multipliers: HiGHS ended the pooled model's LP with "
                               f"{res.status.name}")
        return np.clip(res.x[n:] * unit, [b[0] for b in bounds], [b[1] for b in bounds]), \
            float(res.objective) * unit
