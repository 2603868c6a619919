"""Multiple interventions with a sigmoid link (coRMAB domain 1, Xu et al. 2025 §5).

``n_interventions`` interventions; the action chooses exactly ``budget`` of them (binary
``a`` of length ``n_interventions``). Arm ``j`` receives ``x_j = Σ_i ω_{j,i} a_i`` with
``ω_{j,i} ∈ {0, 3}`` and at most three non-zero weights per arm, so ``x_j ∈ {0, 3, 6, 9}`` and
its level is ``x_j / 3 ∈ {0, 1, 2, 3}``. Its up-probability is the exact lookup

    p_j(x) = 0.98 · α_j · [σ(b_j x − x0_j) − σ(−x0_j)] + 0.01        (σ logistic)

The generator's ω structure (:func:`make_interventions`): intervention ``i`` belongs to group
``i // 3``; group ``g`` acts with weight 3 on arms ``3g, 3g+1, 3g+2``, so an arm of group ``g``
has level = number of chosen interventions of group ``g`` (the last group may hold fewer than
three interventions; arms ``≥ 3·n_groups`` are reached by no intervention and stay at
``p = 0.01``). The first ``budget`` arms are "good" (reward ``(0.2, 0.15, 0.1, T∈{4,5,6})`` and
link ``α ~ U[0.7, 1.0]``, ``b ~ U[1.4, 1.9]``, ``x0 ~ U{9, 10}``: they respond only to all
three interventions of their group together); the others are "bad" (reward
``(0.1, 0.15, 0.2, T∈{1,2,3})``, ``α ~ U[0.2, 0.5]``, ``b = 1``, ``x0 ~ U{1, 2}``: one
intervention suffices). Explicit ``omega`` arrays of any other structure are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rmab._validation import as_float_array, as_generator, check_number
from rmab.domains.arm import BaseArms, paper_rewards
from rmab.domains.base import ConstraintBlock, Domain, build_block, check_budget
from rmab.errors import InvalidModelError, InvalidParameterError

__all__ = ["InterventionsDomain", "make_interventions", "sigmoid_link"]

N_LEVELS = 4
WEIGHT = 3.0


def sigmoid_link(x, alpha, slope, x0):
    """``0.98 α [σ(b x − x0) − σ(−x0)] + 0.01`` elementwise (numpy broadcasting; σ is
    :func:`scipy.special.expit`, which does not overflow for large ``|b x − x0|``)."""
    from scipy.special import expit

    return 0.98 * alpha * (expit(slope * x - x0) - expit(-x0)) + 0.01


@dataclass(frozen=True, eq=False, repr=False)   # Domain's short repr
class InterventionsDomain(Domain):
    """Choose exactly ``budget`` of ``n_interventions``; build with :meth:`from_arrays` or
    :func:`make_interventions`. ``omega`` (n_arms, n_interventions) in {0, 3}; link
    parameters ``alpha``, ``slope`` (b), ``x0`` (n_arms,); ``arms.up_prob`` (n_arms, 4) is the
    link at ``x = 0, 3, 6, 9``."""

    arms: BaseArms
    budget: int
    omega: np.ndarray
    alpha: np.ndarray
    slope: np.ndarray
    x0: np.ndarray

    kind: ClassVar[str] = "interventions"
    must_fill: ClassVar[bool] = True

    @property
    def n_interventions(self) -> int:
        return self.omega.shape[1]

    @property
    def action_size(self) -> int:
        return self.n_interventions

    @classmethod
    def from_arrays(cls, *, omega, alpha, slope, x0, rewards, budget) -> "InterventionsDomain":
        """Validate the arrays and tabulate the link at ``x ∈ {0, 3, 6, 9}``."""
        owner = cls.__name__
        om = as_float_array(owner, "omega", omega)      # any ndim: the shape error says more
        if om.ndim != 2 or min(om.shape) < 1:
            raise InvalidModelError(f"{owner}.omega: must have shape (n_arms >= 1, "
                                    f"n_interventions >= 1); got {om.shape}")
        n_arms, n_int = om.shape
        bad = np.argwhere((om != 0.0) & (om != WEIGHT))
        if len(bad):
            j, i = (int(k) for k in bad[0])
            raise InvalidModelError(f"{owner}.omega: must be 0 or 3; got {om[j, i]} for "
                                    f"intervention {i} (arm {j})")
        count = (om > 0).sum(axis=1)
        if (count > N_LEVELS - 1).any():
            j = int(np.flatnonzero(count > N_LEVELS - 1)[0])
            raise InvalidModelError(f"{owner}.omega: must have at most 3 non-zero weights per "
                                    f"arm (x <= 9); got {count[j]} (arm {j})")
        params = {}
        for name, value in (("alpha", alpha), ("slope", slope), ("x0", x0)):
            arr = as_float_array(owner, name, value)
            if arr.shape != (n_arms,):
                raise InvalidModelError(f"{owner}.{name}: must have shape (n_arms={n_arms},); "
                                        f"got {arr.shape}")
            params[name] = arr
        if ((params["alpha"] < 0) | (params["alpha"] > 1)).any():
            j = int(np.flatnonzero((params["alpha"] < 0) | (params["alpha"] > 1))[0])
            raise InvalidModelError(f"{owner}.alpha: must lie in [0, 1]; got "
                                    f"{params['alpha'][j]} (arm {j})")
        if (params["slope"] < 0).any():
            j = int(np.flatnonzero(params["slope"] < 0)[0])
            raise InvalidModelError(f"{owner}.slope: must be >= 0; got {params['slope'][j]} "
                                    f"(arm {j})")
        budget = check_budget(owner, budget, high=n_int)
        xs = WEIGHT * np.arange(N_LEVELS)
        up = sigmoid_link(xs[None, :], params["alpha"][:, None], params["slope"][:, None],
                          params["x0"][:, None])
        arms = BaseArms(up, rewards)
        for arr in (om, *params.values()):
            arr.setflags(write=False)
        return cls(arms, budget, om, params["alpha"], params["slope"], params["x0"])

    def to_arrays(self) -> dict:
        return {"omega": self.omega, "alpha": self.alpha, "slope": self.slope, "x0": self.x0,
                "rewards": self.arms.rewards, "budget": self.budget}

    # -- actions -------------------------------------------------------------------------
    def _arm_levels(self, action: np.ndarray) -> np.ndarray:
        return np.rint(self.omega @ action / WEIGHT).astype(np.int64)

    def _violation(self, action):
        k = int(action.sum())
        if k not in (0, self.budget):      # 0: the do-nothing reference action, see Domain
            return (f"must choose exactly budget={self.budget} interventions; got {k} "
                    f"(chosen: {np.flatnonzero(action).tolist()})")
        return None

    def _sample_action(self, rng):
        a = np.zeros(self.n_interventions, dtype=np.int64)
        a[rng.choice(self.n_interventions, self.budget, replace=False)] = 1
        return a

    def _additions(self, action, among=None):
        if action.sum() >= self.budget:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(action == 0) if among is None else among

    # -- MILP ----------------------------------------------------------------------------
    def block_solution(self, action) -> np.ndarray | None:
        """``None`` for the null action, which the block (``Σ a = budget``) leaves out."""
        a = self.check_action(action)
        if a.sum() != self.budget:
            return None
        block = self.constraint_block()
        x = np.zeros(block.n_vars)
        x[:a.size] = a
        x[block.level_vars[np.arange(self.n_arms), self._arm_levels(a)]] = 1.0
        return x

    def _build_block(self) -> ConstraintBlock:
        """Variables: ``a`` (n_interventions) then level indicators ``z[j, k]``.

        Rows: ``Σ_i a_i = budget``; per arm ``Σ_k z_jk = 1`` and
        ``Σ_k k z_jk − Σ_i (ω_ji / 3) a_i = 0``; ``z_jk`` fixed to 0 above the arm's number
        of non-zero weights.
        """
        n_int, n_arms = self.n_interventions, self.n_arms
        n_vars = n_int + n_arms * N_LEVELS
        level_vars = n_int + np.arange(n_arms * N_LEVELS).reshape(n_arms, N_LEVELS)
        rows = [(np.arange(n_int), np.ones(n_int), self.budget, self.budget)]
        for j in range(n_arms):
            z = level_vars[j]
            rows.append((z, np.ones(N_LEVELS), 1.0, 1.0))
            hit = np.flatnonzero(self.omega[j])
            rows.append((np.concatenate([z[1:], hit]),
                         np.concatenate([np.arange(1, N_LEVELS), -self.omega[j, hit] / WEIGHT]),
                         0.0, 0.0))
        col_upper = np.ones(n_vars)
        count = (self.omega > 0).sum(axis=1)
        unreachable = np.arange(N_LEVELS)[None, :] > count[:, None]
        col_upper[level_vars[unreachable]] = 0.0
        return build_block(n_vars, rows, np.ones(n_vars, bool), col_upper, n_int,
                           level_vars=level_vars, index={"level": level_vars})


def make_interventions(n_arms: int = 20, n_interventions: int | None = None, budget: int = 5,
                       *, seed=None) -> InterventionsDomain:
    """The paper's multiple-interventions instance (see the module docstring for ω and the
    good/bad arm parameters). ``n_interventions`` defaults to ``max(10, 2 · budget)``, at most
    ``3 · floor(n_arms / 3)``: the paper's 10 at ``B = 5``, and twice the budget beyond, so
    that choosing ``B`` of them stays a choice at ``J = 40, B = 10`` and ``J = 100, B = 20``
    (before 2026-12, the default was 10 at every size). Needs
    ``3 · ceil(n_interventions / 3) <= n_arms``."""
    owner = "make_interventions"
    n_arms = check_number(owner, "n_arms", n_arms, low=1, integer=True)
    budget = check_number(owner, "budget", budget, low=0, high=n_arms, integer=True)
    if n_interventions is None:
        n_interventions = max(1, min(max(10, 2 * budget), 3 * (n_arms // 3)))
    n_int = check_number(owner, "n_interventions", n_interventions, low=1, integer=True)
    budget = check_number(owner, "budget", budget, low=0, high=min(n_int, n_arms), integer=True)
    n_groups = -(-n_int // 3)
    if 3 * n_groups > n_arms:
        raise InvalidParameterError(f"{owner}.n_arms: must be >= 3 * ceil(n_interventions / 3) = "
                                f"{3 * n_groups}; got {n_arms} (the arms come in groups of "
                                f"three, a group per three interventions)")
    rng = as_generator(seed, f"{owner}.seed")
    rewards = paper_rewards(n_arms, budget, rng)
    omega = np.zeros((n_arms, n_int))
    for i in range(n_int):
        g = i // 3
        omega[3 * g:3 * g + 3, i] = WEIGHT
    good = np.arange(n_arms) < budget
    alpha = np.where(good, rng.uniform(0.7, 1.0, n_arms), rng.uniform(0.2, 0.5, n_arms))
    slope = np.where(good, rng.uniform(1.4, 1.9, n_arms), 1.0)
    x0 = np.where(good, rng.integers(9, 11, n_arms), rng.integers(1, 3, n_arms)).astype(float)
    return InterventionsDomain.from_arrays(omega=omega, alpha=alpha, slope=slope, x0=x0,
                                           rewards=rewards, budget=budget)
