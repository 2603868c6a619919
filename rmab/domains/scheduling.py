"""Scheduling as bipartite matching (coRMAB domain 3, Xu et al. 2025 §5).

``budget`` workers and ``n_slots`` time slots; ``arm_avail[j, t]`` / ``worker_avail[i, t]`` say
who is available when. The action vector is the per-arm pull vector (n_arms,). It is feasible
iff at most ``budget`` arms are pulled and every pulled arm can get two (worker, slot)
assignments with both available in that slot, a worker serving at most one arm per slot (the
same worker may serve an arm in two slots, as in the reference MIP). This is a bipartite
b-matching, decided exactly by a maximum matching (each pulled arm copied twice).
MILP: binary ``y[i, t, j]`` only where worker ``i`` and arm ``j`` are both available in slot
``t``; ``Σ_j y[i, t, j] <= 1``; ``Σ_{i,t} y[i, t, j] = 2 pull_j``; ``Σ_j pull_j <= budget``.

Generator (:func:`make_scheduling`): ``n_slots = 5``; each arm draws 2 distinct slots with
probabilities proportional to ``1, 2, ..., n_slots`` (later slots likelier), each worker 3 slots
proportional to ``n_slots, ..., 2, 1`` (earlier likelier), without replacement.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching

from rmab._validation import as_generator, check_number
from rmab.domains.arm import BaseArms, paper_rewards, pull_probabilities
from rmab.domains.base import ConstraintBlock, Domain, build_block, check_budget
from rmab.errors import InvalidModelError, RmabWarning

__all__ = ["SchedulingDomain", "make_scheduling"]

ASSIGNMENTS_PER_ARM = 2


def _check_avail(owner: str, field: str, value, rows: tuple[str, int | None],
                 n_slots: int | None):
    """A read-only bool copy of the 0/1 array ``value`` of shape (rows, n_slots); ``rows`` is
    the name of its rows and their number, if fixed (as ``n_slots``)."""
    try:
        arr = np.asarray(value)
    except ValueError as exc:                       # ragged rows
        raise InvalidModelError(f"{owner}.{field}: must be a 2-D 0/1 array; got rows of "
                                f"different lengths") from exc
    name, n_rows = rows
    if arr.ndim != 2 or (n_rows is not None and arr.shape[0] != n_rows) or \
            (n_slots is not None and arr.shape[1] != n_slots):
        # the expected shape with its names and known sizes: '(rows, n_slots)' left out that
        # the rows must be the n_arms arms (a walkthrough)
        shape = ", ".join(label if size is None else f"{label}={size}"
                          for label, size in ((name, n_rows), ("n_slots", n_slots)))
        raise InvalidModelError(f"{owner}.{field}: must be a 2-D 0/1 array of shape "
                                f"({shape}); got shape {arr.shape}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise InvalidModelError(f"{owner}.{field}: must contain only 0/1; got "
                                f"{arr[~np.isin(arr, (0, 1))][0]!r}")
    out = np.ascontiguousarray(arr, dtype=bool)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False, repr=False)   # Domain's short repr
class SchedulingDomain(Domain):
    """Workers and arms with slot availabilities; action = pulls (n_arms,)."""

    arms: BaseArms
    budget: int
    arm_avail: np.ndarray
    worker_avail: np.ndarray

    kind: ClassVar[str] = "scheduling"

    @property
    def action_size(self) -> int:
        return self.n_arms

    @property
    def n_workers(self) -> int:
        return self.worker_avail.shape[0]

    @property
    def n_slots(self) -> int:
        return self.arm_avail.shape[1]

    @property
    def unpullable(self) -> np.ndarray:
        """Indices of the arms sharing fewer than two (worker, slot) pairs with the workers
        (never pulled)."""
        cells = (self.arm_avail * self.worker_avail.sum(axis=0)).sum(axis=1)
        return np.flatnonzero(cells < ASSIGNMENTS_PER_ARM)

    @classmethod
    def from_arrays(cls, *, up_prob, rewards, arm_avail, worker_avail, budget=None
                    ) -> "SchedulingDomain":
        """``arm_avail`` (n_arms, n_slots) and ``worker_avail`` (n_workers, n_slots) 0/1;
        ``budget`` (at most that many arms pulled) defaults to the number of workers."""
        owner = cls.__name__
        arms = BaseArms(up_prob, rewards)
        if arms.n_levels != 2:
            raise InvalidModelError(f"{owner}.up_prob: must have shape (n_arms, 2) (passive, "
                                    f"pulled); got {arms.up_prob.shape}")
        aa = _check_avail(owner, "arm_avail", arm_avail, ("n_arms", arms.n_arms), None)
        wa = _check_avail(owner, "worker_avail", worker_avail, ("n_workers", None),
                          aa.shape[1])
        if wa.shape[0] < 1:
            raise InvalidModelError(f"{owner}.worker_avail: must have at least one worker; "
                                    f"got shape {wa.shape}")
        budget = check_budget(owner, wa.shape[0] if budget is None else budget)
        made = cls(arms, budget, aa, wa)
        never = made.unpullable
        if never.size:
            warnings.warn(f"{owner}: {never.size} of {arms.n_arms} arms "
                          f"share{'s' * (never.size == 1)} fewer than two (worker, slot) pairs "
                          f"with the workers and can never be pulled: "
                          f"{never[:10].tolist()}{' ...' if never.size > 10 else ''}",
                          RmabWarning, stacklevel=2)
        return made

    def to_arrays(self) -> dict:
        return {"up_prob": self.arms.up_prob, "rewards": self.arms.rewards,
                "arm_avail": self.arm_avail.astype(np.int64),
                "worker_avail": self.worker_avail.astype(np.int64), "budget": self.budget}

    # -- actions -------------------------------------------------------------------------
    def _arm_levels(self, action):
        return action

    def _cells(self):
        """(worker, slot) pairs with the worker available, (n_cells, 2)."""
        cells = self.__dict__.get("_cells_cache")
        if cells is None:
            cells = np.argwhere(self.worker_avail)
            object.__setattr__(self, "_cells_cache", cells)
        return cells

    def _match(self, pulled: np.ndarray) -> np.ndarray | None:
        """Matched cell index per (arm copy) row, (2 * len(pulled),), or None if impossible."""
        if pulled.size == 0:
            return np.zeros(0, dtype=np.int64)
        cells = self._cells()
        ok = self.arm_avail[np.repeat(pulled, ASSIGNMENTS_PER_ARM)][:, cells[:, 1]]
        if ok.sum(axis=1).min() == 0:
            return None
        match = maximum_bipartite_matching(sp.csr_matrix(ok.astype(np.int8)),
                                           perm_type="column")
        return None if (match < 0).any() else match

    def assignment(self, action) -> list:
        """For a feasible pull vector, ``[(arm, worker, slot), ...]`` (two per pulled arm);
        :class:`~rmab.errors.InfeasibleActionError` otherwise."""
        a = self.check_action(action)
        pulled = np.flatnonzero(a)
        cells = self._cells()[self._match(pulled)]
        arms = np.repeat(pulled, ASSIGNMENTS_PER_ARM)
        return [(int(j), int(i), int(t)) for j, (i, t) in zip(arms, cells)]

    def _violation(self, action):
        pulled = np.flatnonzero(action)
        if pulled.size > self.budget:
            return f"must pull at most budget={self.budget} arms; got {pulled.size}"
        if self._match(pulled) is None:
            return (f"worker availability violated: pulled arms {pulled.tolist()} cannot each "
                    f"get {ASSIGNMENTS_PER_ARM} (worker, slot) assignments with at most one arm "
                    f"per worker and slot")
        return None

    def _sample_action(self, rng):
        """Arms in random order each take two random free compatible (worker, slot) cells,
        while fewer than ``budget`` arms are pulled."""
        a = np.zeros(self.n_arms, dtype=np.int64)
        cells = self._cells()
        free = np.ones(len(cells), dtype=bool)
        for j in rng.permutation(self.n_arms):
            if a.sum() >= self.budget:
                break
            cand = np.flatnonzero(free & self.arm_avail[j, cells[:, 1]])
            if cand.size >= ASSIGNMENTS_PER_ARM:
                free[rng.choice(cand, ASSIGNMENTS_PER_ARM, replace=False)] = False
                a[j] = 1
        return a

    # -- MILP ----------------------------------------------------------------------------
    def _build_block(self) -> ConstraintBlock:
        n = self.n_arms
        # triples (i, t, j) with worker i and arm j both available in slot t
        triples = np.argwhere(self.worker_avail[:, :, None] & self.arm_avail.T[None, :, :])
        y = n + np.arange(len(triples))
        rows = []
        for i, t in self._cells():
            sel = (triples[:, 0] == i) & (triples[:, 1] == t)
            if sel.any():
                rows.append((y[sel], np.ones(sel.sum()), -np.inf, 1.0))
        for j in range(n):
            sel = triples[:, 2] == j
            rows.append((np.concatenate([y[sel], [j]]),
                         np.concatenate([np.ones(sel.sum()), [-ASSIGNMENTS_PER_ARM]]), 0.0, 0.0))
        rows.append((np.arange(n), np.ones(n), -np.inf, float(self.budget)))
        n_vars = n + len(triples)
        # an arm with one shared cell: the LP relaxation pulled it by half (Σ y = 2 pull_j,
        # y <= 1), and hull_bound's LP read 3.9 for an optimum of 1.24 (a review)
        upper = np.ones(n_vars)
        never = self.unpullable
        upper[never] = 0.0
        upper[y[np.isin(triples[:, 2], never)]] = 0.0
        return build_block(n_vars, rows, np.ones(n_vars, bool), upper, n,
                           pull_vars=np.arange(n, dtype=np.int64),
                           index={"assign": y, "assign_triples": triples})


def _avail(rng, n_rows: int, n_slots: int, k: int, weights: np.ndarray) -> np.ndarray:
    out = np.zeros((n_rows, n_slots), dtype=np.int64)
    p = weights / weights.sum()
    for r in range(n_rows):
        out[r, rng.choice(n_slots, k, replace=False, p=p)] = 1
    return out


def make_scheduling(n_arms: int = 20, budget: int = 5, *, n_slots: int = 5, seed=None
                    ) -> SchedulingDomain:
    """The paper's scheduling instance (availability probabilities in the module docstring).
    Silent about arms that share fewer than two (worker, slot) pairs with the workers, as its
    draws sometimes leave one (:attr:`SchedulingDomain.unpullable`; ``from_arrays`` warns)."""
    owner = "make_scheduling"
    n_arms = check_number(owner, "n_arms", n_arms, low=1, integer=True)
    budget = check_number(owner, "budget", budget, low=1, high=n_arms, integer=True)
    n_slots = check_number(owner, "n_slots", n_slots, low=3, integer=True)
    rng = as_generator(seed, f"{owner}.seed")
    rewards = paper_rewards(n_arms, budget, rng)
    up = pull_probabilities(n_arms, rng)
    ramp = np.arange(1, n_slots + 1, dtype=float)
    arm_avail = _avail(rng, n_arms, n_slots, 2, ramp)
    worker_avail = _avail(rng, budget, n_slots, 3, ramp[::-1])
    with warnings.catch_warnings():     # as make_capacity and make_path: a paper's draw
        warnings.simplefilter("ignore", RmabWarning)
        return SchedulingDomain.from_arrays(up_prob=up, rewards=rewards, arm_avail=arm_avail,
                                            worker_avail=worker_avail, budget=budget)
