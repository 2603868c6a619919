"""Capacity-constrained workers (coRMAB domain 2, Xu et al. 2025 §5).

``budget`` workers with capacities ``C_i``; arm ``j`` costs ``c_j``. The action vector is the
per-arm pull vector (n_arms,). It is feasible iff the pulled arms can be assigned to workers,
each arm to one worker, with ``Σ_{j→i} c_j <= C_i`` for every worker (a bin-packing
feasibility question, decided exactly by :func:`pack`). MILP: a pattern formulation over
the distinct costs and capacities (integer ``y_kp`` = workers of capacity class ``k`` filled
with pattern ``p``; see ``CapacityDomain._build_block``), exact and free of the worker/arm
symmetry of the per-pair assignment ``x_ij``, which remains the fallback when the patterns
are too many.
Generator (:func:`make_capacity`): ``C_i ~ U{2..7}``, ``c_j ~ U{2..6}``, base arms as in the
paper (passive up-probability ``U[0, 0.2]``, active ``U[0.7, 0.9]``, first ``budget`` arms good).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rmab._validation import as_float_array, as_generator, check_number
from rmab.domains.arm import BaseArms, paper_rewards, pull_probabilities
from rmab.domains.base import ConstraintBlock, Domain, build_block, check_budget
from rmab.errors import InvalidModelError, RmabWarning

__all__ = ["CapacityDomain", "make_capacity", "pack"]

_TOL = 1e-9     # a worker may go over by this much, relative to the largest capacity


def _unit(costs: np.ndarray, capacities: np.ndarray) -> float:
    """The instance's scale: the largest capacity, or the largest cost if every capacity is 0
    (> 0 as costs are). Feasibility tolerances and the MILP's rows are in this unit, so hours,
    minutes or 1e-10 pack alike. The capacities alone, so that every check on a subset of the
    arms (:func:`pack` on the pulled ones) has the domain's unit: an arm no worker can serve
    once set a looser one for the sampler and the MILP than for the check."""
    top = float(capacities.max(initial=0.0))
    return top if top > 0 else float(costs.max(initial=0.0))


def _slack(capacities: np.ndarray) -> float:
    """How far a worker may go over: ``_TOL`` of the largest capacity (none if all are 0,
    so that no arm is served then, whatever its cost, in every check alike)."""
    return _TOL * float(capacities.max(initial=0.0))


@functools.lru_cache(maxsize=4096)
def _packable(costs: tuple, capacities: tuple) -> bool:
    """Whether the (sorted) ``costs`` can be packed (:func:`pack`), remembered: feasibility
    checks ask it again and again (129 000 times in a J = 20 comparison, 20 % of its time)."""
    return pack(np.array(costs), np.array(capacities)) is not None


def pack(costs: np.ndarray, capacities: np.ndarray) -> np.ndarray | None:
    """Exact bin-packing feasibility: a worker index per item (int64 (n_items,)) such that no
    worker exceeds its capacity, or ``None`` if there is none.

    Depth-first search over items in decreasing cost, trying each distinct remaining capacity
    once, with a memo of failed ``(item, sorted remaining capacities)`` states (rounded, so
    float round-off does not defeat it) and the wasted-space bound: capacity left below the
    smallest remaining item is lost, and what is left must still hold the remaining items.
    A worker may go over by ``1e-9`` of the largest capacity (of the largest cost if all are 0).
    """
    costs = np.asarray(costs, dtype=np.float64)
    caps = np.asarray(capacities, dtype=np.float64)
    if costs.size == 0:
        return np.zeros(0, dtype=np.int64)
    unit = _unit(costs, caps)
    tol = _slack(caps) / unit                            # 1e-9, or 0 without capacity
    costs, caps = costs / unit, caps / unit
    slack = min(costs.size, caps.size) * tol           # each worker may go tol over
    if costs.sum() > caps.sum() + slack or costs.max() > caps.max(initial=0.0) + tol:
        return None
    order = np.argsort(-costs, kind="stable")
    c = costs[order].tolist()
    tail = np.cumsum(costs[order][::-1])[::-1].tolist() + [0.0]    # tail[k] = sum(c[k:])
    smallest = c[-1]
    rem = caps.tolist()
    where = [0] * len(c)
    failed = set()

    def go(k: int) -> bool:
        if k == len(c):
            return True
        usable = sum(r for r in rem if r + tol >= smallest)
        if usable + len(c) * tol < tail[k]:            # (each placement has tol slack)
            return False
        key = (k, tuple(sorted(round(r, 9) for r in rem)))
        if key in failed:
            return False
        tried = set()
        for w in sorted(range(len(rem)), key=rem.__getitem__):
            r = rem[w]
            if r + tol < c[k] or round(r, 9) in tried:
                continue
            tried.add(round(r, 9))
            rem[w] = r - c[k]
            where[k] = w
            if go(k + 1):
                return True
            rem[w] = r                                   # restored exactly, no drift
        failed.add(key)
        return False

    if not go(0):
        return None
    out = np.empty(len(c), dtype=np.int64)
    out[order] = where
    return out


@dataclass(frozen=True, eq=False, repr=False)   # Domain's short repr
class CapacityDomain(Domain):
    """Workers with capacities serve arms with costs; action = pulls (n_arms,).

    ``costs`` (n_arms,) > 0, ``capacities`` (n_workers,) >= 0; ``budget`` = number of workers.
    """

    arms: BaseArms
    budget: int
    costs: np.ndarray
    capacities: np.ndarray

    kind: ClassVar[str] = "capacity"

    @property
    def action_size(self) -> int:
        return self.n_arms

    @property
    def n_workers(self) -> int:
        return self.capacities.shape[0]

    @property
    def unservable(self) -> np.ndarray:
        """Indices of the arms that cost more than every worker's capacity (never pulled)."""
        return np.flatnonzero(self.costs > self.capacities.max() + _slack(self.capacities))

    @classmethod
    def from_arrays(cls, *, up_prob, rewards, costs, capacities,
                    budget=None) -> "CapacityDomain":
        """``budget`` (optional, as the other domains take it) must be the number of workers,
        ``len(capacities)``."""
        owner = cls.__name__
        arms = BaseArms(up_prob, rewards)
        if arms.n_levels != 2:
            raise InvalidModelError(f"{owner}.up_prob: must have shape (n_arms, 2) (passive, "
                                    f"pulled); got {arms.up_prob.shape}")
        c = as_float_array(owner, "costs", costs)       # any ndim: the shape error says more
        if c.shape != (arms.n_arms,):
            raise InvalidModelError(f"{owner}.costs: must have shape (n_arms={arms.n_arms},); "
                                    f"got {c.shape}")
        if (c <= 0).any():
            j = int(np.flatnonzero(c <= 0)[0])
            raise InvalidModelError(f"{owner}.costs: must be > 0; got {c[j]} (arm {j})")
        cap = as_float_array(owner, "capacities", capacities)
        if cap.ndim != 1:
            raise InvalidModelError(f"{owner}.capacities: must have shape (n_workers,); got "
                                    f"{cap.shape}")
        if cap.size < 1 or (cap < 0).any():
            raise InvalidModelError(f"{owner}.capacities: must be a non-empty array of numbers "
                                    f">= 0; got {cap.tolist()}")
        if budget is not None and check_budget(owner, budget) != cap.size:
            raise InvalidModelError(f"{owner}.budget: must be the number of workers "
                                    f"len(capacities) = {cap.size} (or left out); got {budget!r}")
        c.setflags(write=False)
        cap.setflags(write=False)
        made = cls(arms, int(cap.size), c, cap)
        never = made.unservable
        if never.size:
            warnings.warn(f"{owner}: {never.size} of {arms.n_arms} arms "
                          f"cost{'s' * (never.size == 1)} more than every worker's capacity "
                          f"({cap.max():g}) and can never be served: "
                          f"{never[:10].tolist()}{' ...' if never.size > 10 else ''}",
                          RmabWarning, stacklevel=2)
        return made

    def to_arrays(self) -> dict:
        return {"up_prob": self.arms.up_prob, "rewards": self.arms.rewards, "costs": self.costs,
                "capacities": self.capacities}

    # -- actions -------------------------------------------------------------------------
    def _arm_levels(self, action):
        return action

    def assignment(self, action) -> np.ndarray:
        """The serving worker of every arm (int64 (n_arms,), -1 if not pulled) for a feasible
        pull vector; :class:`InfeasibleActionError` otherwise."""
        a = self.check_action(action)
        out = np.full(self.n_arms, -1, dtype=np.int64)
        pulled = np.flatnonzero(a)
        out[pulled] = pack(self.costs[pulled], self.capacities)
        return out

    def _violation(self, action):
        pulled = np.flatnonzero(action)
        if not _packable(tuple(sorted(self.costs[pulled].tolist())),
                         tuple(self.capacities.tolist())):
            return (f"worker capacities violated: pulled arms {pulled.tolist()} with costs "
                    f"{self.costs[pulled].tolist()} (total {self.costs[pulled].sum():g}) cannot "
                    f"be assigned to workers with capacities {self.capacities.tolist()}")
        return None

    def _sample_action(self, rng):
        """Workers in random order each take, in a random arm order, every unserved arm that
        still fits (the reference implementation's random action)."""
        a = np.zeros(self.n_arms, dtype=np.int64)
        arms = rng.permutation(self.n_arms)
        tol = _slack(self.capacities)
        for i in rng.permutation(self.n_workers):
            left = self.capacities[i]
            for j in arms:
                if not a[j] and self.costs[j] <= left + tol:
                    a[j] = 1
                    left -= self.costs[j]
        return a

    # -- MILP ----------------------------------------------------------------------------
    def _build_block(self) -> ConstraintBlock:
        """Pattern formulation (exact, no worker or arm symmetry), else per-pair assignment.

        Arms with equal cost are interchangeable and workers with equal capacity too. A
        *pattern* of capacity class ``k`` is a maximal count vector ``p`` over the distinct
        costs ``v_t`` with ``Σ_t p_t v_t <= C_k``; integer ``y_kp`` counts the workers of class
        ``k`` (``n_k`` of them) that use it. Rows: ``Σ_p y_kp <= n_k``; for each cost ``v_t``,
        ``Σ_{j: c_j = v_t} pull_j <= Σ_{k,p} p_t y_kp``. A pull vector extends to a feasible
        ``y`` iff its arms can be packed (a packing gives each worker a sub-pattern of a
        maximal pattern; a ``y`` gives slots that hold the pulled arms of every cost). Valid
        rows on the pulls alone (used for the network's first-layer bounds):
        ``Σ_j c_j pull_j <= Σ_i C_i`` and, per cost, the number of slots of that cost.
        Falls back to the assignment formulation when the patterns exceed half the number of
        (worker, arm) pairs times the number of workers, or ``_MAX_PATTERNS`` (many distinct
        costs, large capacities): there HiGHS solves the compact assignment faster (measured
        in docs/domains.md).
        """
        unit, tol = _unit(self.costs, self.capacities), _slack(self.capacities)
        pairs = int((self.costs[None, :] <= self.capacities[:, None] + tol).sum())
        patterns = _capacity_patterns(self.costs, self.capacities, tol,
                                      limit=min(_MAX_PATTERNS, pairs * self.n_workers // 2))
        if patterns is None:
            return self._assignment_block()
        n = self.n_arms
        values, types = np.unique(self.costs, return_inverse=True)
        classes, counts = np.unique(self.capacities, return_counts=True)
        cls_of, P = patterns            # (n_patterns,) class index, (n_patterns, n_types) counts
        y = n + np.arange(len(cls_of))
        rows = []
        for k in range(classes.size):
            sel = y[cls_of == k]
            if sel.size:
                rows.append((sel, np.ones(sel.size), -np.inf, float(counts[k])))
        for t in range(values.size):
            arms = np.flatnonzero(types == t)
            use = np.flatnonzero(P[:, t] > 0)
            rows.append((np.concatenate([arms, y[use]]),
                         np.concatenate([np.ones(arms.size), -P[use, t].astype(float)]),
                         -np.inf, 0.0))
            slots = float(counts @ np.floor((classes + tol) / values[t]))
            if slots < arms.size:
                rows.append((arms, np.ones(arms.size), -np.inf, slots))
        rows += _total_row(self.costs / unit, self.capacities / unit, tol / unit)
        n_vars = n + y.size
        upper = np.concatenate([np.ones(n), counts[cls_of].astype(float)])
        return build_block(n_vars, rows, np.ones(n_vars, bool), upper, n,
                           pull_vars=np.arange(n, dtype=np.int64),
                           index={"patterns": y, "pattern_class": classes[cls_of],
                                  "pattern_counts": P, "pattern_costs": values})

    def _assignment_block(self) -> ConstraintBlock:
        """Binary ``x_ij`` (only where ``c_j <= C_i``): ``Σ_j c_j x_ij <= C_i``,
        ``Σ_i x_ij = pull_j``; and, when it binds, the valid row ``Σ_j c_j pull_j <= Σ_i C_i``
        on the pulls alone (the network's first-layer bounds use such rows). Costs and
        capacities enter in units of :func:`_unit`: HiGHS's feasibility tolerance is absolute."""
        n, m = self.n_arms, self.n_workers
        unit = _unit(self.costs, self.capacities)
        tol = _slack(self.capacities) / unit
        costs, caps = self.costs / unit, self.capacities / unit
        pairs = np.argwhere(costs[None, :] <= caps[:, None] + tol)  # (i, j)
        x = n + np.arange(len(pairs))
        rows = []
        for i in range(m):
            sel = pairs[:, 0] == i
            rows.append((x[sel], costs[pairs[sel, 1]], -np.inf, caps[i]))
        for j in range(n):
            sel = pairs[:, 1] == j
            rows.append((np.concatenate([x[sel], [j]]),
                         np.concatenate([np.ones(sel.sum()), [-1.0]]), 0.0, 0.0))
        rows += _total_row(costs, caps, tol)                  # valid on the pulls alone
        n_vars = n + len(pairs)
        return build_block(n_vars, rows, np.ones(n_vars, bool), np.ones(n_vars), n,
                           pull_vars=np.arange(n, dtype=np.int64),
                           index={"assign": x, "assign_pairs": pairs})


def _total_row(costs: np.ndarray, caps: np.ndarray, tol: float) -> list:
    """``Σ_j c_j pull_j <= Σ_i C_i`` over the arms some worker can serve (costs and capacities
    in the domain's unit), if it binds: the others are held at 0 by rows of their own, and
    their costs (1e300 beside capacities of 1) would only blow up the row."""
    arms = np.flatnonzero(costs <= caps.max() + tol)
    if costs[arms].sum() <= caps.sum() + tol:
        return []
    return [(arms, costs[arms], -np.inf, float(caps.sum()))]


_MAX_PATTERNS = 20_000


def _capacity_patterns(costs: np.ndarray, capacities: np.ndarray, tol: float,
                       limit: int = _MAX_PATTERNS):
    """Maximal packing patterns per capacity class: ``(class index (n_p,), counts (n_p,
    n_types))`` over ``np.unique(costs)`` and ``np.unique(capacities)``, or ``None`` if there
    are more than ``limit``. Maximal: no further item of any cost fits (a worker may go over
    by ``tol``)."""
    values = np.unique(costs)                        # ascending
    smallest = float(values[0])
    cls, rows = [], []
    nodes = 0
    for k, cap in enumerate(np.unique(capacities)):
        stack = [(0, cap, [])]
        while stack:
            t, left, cnt = stack.pop()
            nodes += 1
            if nodes > 20 * limit + 100_000:         # visiting, not only listing, is bounded
                return None
            if t == values.size or left + tol < values[t]:    # no item of cost >= v_t fits
                if any(cnt) and left + tol < smallest:        # maximal
                    cls.append(k)
                    rows.append(cnt + [0] * (values.size - len(cnt)))
                    if len(rows) > limit:
                        return None
                continue
            most = int(min(np.floor((left + tol) / values[t]), 20 * limit + 100_000))
            nodes += most                 # pushed: a cost of 0.6 beside a capacity of 1e8
            if nodes > 20 * limit + 100_000:   # pushed 1.7e8 entries (MemoryError)
                return None
            for q in range(most + 1):
                stack.append((t + 1, left - q * values[t], cnt + [q]))
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, values.size), np.int64)
    return np.array(cls, dtype=np.int64), np.array(rows, dtype=np.int64)


def make_capacity(n_arms: int = 20, budget: int = 5, *, seed=None) -> CapacityDomain:
    """The paper's capacity instance: ``budget`` workers with ``C_i ~ U{2..7}``, arm costs
    ``c_j ~ U{2..6}``. Silent about arms that cost more than every capacity, as these draws
    often make them (:attr:`CapacityDomain.unservable`; ``from_arrays`` warns)."""
    owner = "make_capacity"
    n_arms = check_number(owner, "n_arms", n_arms, low=1, integer=True)
    budget = check_number(owner, "budget", budget, low=1, high=n_arms, integer=True)
    rng = as_generator(seed, f"{owner}.seed")
    rewards = paper_rewards(n_arms, budget, rng)
    up = pull_probabilities(n_arms, rng)
    costs = rng.integers(2, 7, size=n_arms).astype(float)
    caps = rng.integers(2, 8, size=budget).astype(float)
    with warnings.catch_warnings():     # the paper's draws can leave arms no worker can serve
        warnings.simplefilter("ignore", RmabWarning)
        return CapacityDomain.from_arrays(up_prob=up, rewards=rewards, costs=costs,
                                          capacities=caps)

