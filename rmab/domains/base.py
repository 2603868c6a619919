"""What every coRMAB domain provides, and the MILP constraint block it hands to planners.

A domain couples :class:`~rmab.domains.arm.BaseArms` through a combinatorial action set. Its
*action vector* is binary, of length ``action_size``: the chosen interventions (multiple
interventions) or the per-arm pulls (capacity, scheduling, path). ``arm_levels(action)`` maps it
to what each arm receives (0/1 pulls, or 0..3 interventions of its group), and the domain's
:meth:`Domain.constraint_block` is a MILP whose first ``action_size`` variables are the action
vector, so that a planner (the exact one-step MIP, SEQUOIA's Q-network encoding) adds only its
objective. Feasibility is decided by the same constraints in simulation (``check_action``) and
in the MILP; the tests compare the two by enumeration on small instances.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from rmab._repr import CompactRepr
from rmab._validation import _short, as_array, as_generator, check_number
from rmab.belief.update import _check_uniforms
from rmab.domains.arm import BaseArms, check_states
from rmab.errors import (InfeasibleActionError, InvalidModelError, InvalidParameterError,
                         RmabWarning)

__all__ = ["Domain", "ConstraintBlock", "DomainStepResult", "LinearBlockModel",
           "ENUMERATION_SIZE"]

ENUMERATION_SIZE = 16   # largest action_size whose 2**action_size vectors are filtered


@dataclass(frozen=True, eq=False, repr=False)
class DomainStepResult(CompactRepr):
    """One simulated period: ``next_states`` int64 (n_arms,) and the expected reward
    ``Σ_j E[r_j(s'_j) | s, a]`` (the quantity the paper reports)."""

    next_states: np.ndarray
    expected_reward: float


@dataclass(frozen=True, eq=False)
class ConstraintBlock:
    """A domain's feasible set as a MILP (objective zero) plus index maps.

    ``milp`` variables: ``action`` (indices of the action vector, always ``0..action_size-1``,
    binary) then auxiliary variables named in ``index`` (e.g. ``"assign"`` for worker-arm
    pairs). Per-arm levels are linear in the variables: in pull domains ``pull_vars``
    (n_arms,) holds the index of arm ``j``'s pull indicator; in the multiple-interventions
    domain ``level_vars`` (n_arms, n_levels) holds one-hot level indicators (entry -1: the
    level cannot occur). Arrays are kept as read-only copies (domains cache their block).
    """

    milp: object
    action: np.ndarray
    pull_vars: np.ndarray | None = None
    level_vars: np.ndarray | None = None
    index: dict = field(default_factory=dict)

    def __post_init__(self):
        # a domain caches its block: read-only copies, so that no caller can change later plans
        def frozen(arr):
            if not isinstance(arr, np.ndarray):
                return arr
            arr = arr.copy()
            arr.setflags(write=False)
            return arr

        for name in ("action", "pull_vars", "level_vars"):
            object.__setattr__(self, name, frozen(getattr(self, name)))
        object.__setattr__(self, "index", {k: frozen(v) for k, v in self.index.items()})

    @property
    def n_vars(self) -> int:
        return self.milp.n_cols

    def level_objective(self, gains: np.ndarray) -> tuple[np.ndarray, float]:
        """``(c, offset)`` with ``c @ x + offset = Σ_j gains[j, level_j(x)]`` on the block.

        ``gains`` (n_arms, n_levels), e.g. :meth:`BaseArms.level_gains` for the one-step
        expected reward (the myopic objective). ``c`` holds the gains over each arm's level 0
        and ``offset`` their sum at level 0 (every arm is at one level), so a constant added to
        the rewards moves the offset alone: in ``c`` it drowned the gains' differences under
        HiGHS's relative gap (rewards of 1e9: suboptimal interventions in 5 of 20 states)."""
        c = np.zeros(self.n_vars)
        base = gains[:, 0]
        if self.pull_vars is not None:
            np.add.at(c, self.pull_vars, gains[:, 1] - base)
            return c, float(base.sum())
        ok = self.level_vars >= 0
        base = np.where(ok[:, 0], base, 0.0)
        np.add.at(c, self.level_vars[ok], (gains - base[:, None])[ok])
        return c, float(base.sum())

    def with_objective(self, c, offset: float = 0.0, sense: str = "max"):
        """The block's MILP with objective ``c @ x + offset`` (a new model)."""
        m = self.milp
        return type(m)(c=np.asarray(c, dtype=np.float64), A=m.A, row_lower=m.row_lower,
                       row_upper=m.row_upper, col_lower=m.col_lower, col_upper=m.col_upper,
                       integrality=m.integrality, sense=sense, offset=offset)

    def action_from_solution(self, x: np.ndarray) -> np.ndarray:
        """The action vector (int64) of a MILP solution ``x``."""
        return np.rint(np.asarray(x)[self.action]).astype(np.int64)


def objective_scale(c: np.ndarray) -> float:
    """What to divide a MIP objective ``c`` by before the solver sees it: its largest
    coefficient if below 1, else 1. HiGHS's tolerances are absolute, so with rewards of 1e-5
    it reported "optimal" actions that left out arms worth 3e-8 (a review); larger
    objectives go in as they are (scaled down to 1, one gain of 1e4 pushed the others under
    the tolerances: a second review)."""
    scale = float(np.abs(c).max()) if np.size(c) else 0.0
    return scale if np.isfinite(scale) and 0 < scale < 1 else 1.0


class LinearBlockModel:
    """Persistent model for linear objectives over a block's MILP (``milp``: the block's, or
    the block's with valid rows added): the LP relaxation first, the MILP only when the LP's
    optimum is fractional on an integer variable (an LP optimum that is integral is optimal for
    the MILP). The path block's route sets make its LP the convex hull of the feasible actions
    and the scheduling matching is integral for most objectives, so there the MILP (and
    HiGHS's presolve, most of a small MILP's time) is rarely needed; elsewhere the LP costs
    ~0.3 ms at J = 20. ``n_lp``/``n_mip`` count the solves each answered. The offset is added
    to the result, not given to the solver, whose relative gap would count it: with rewards
    of 1e9 the interventions MIP stopped at suboptimal actions in 5 of 20 states.
    """

    def __init__(self, block: ConstraintBlock, backend, milp=None):
        milp = block.milp if milp is None else milp
        self._integer = np.flatnonzero(milp.integrality)
        self._mip = backend.build(milp)
        self._lp = backend.build(replace(milp, integrality=np.zeros(milp.n_cols, bool)))
        self._objective = None
        self.n_lp = self.n_mip = 0

    def set_objective(self, c, offset: float = 0.0) -> None:
        offset = check_number("LinearBlockModel.set_objective", "offset", offset)   # finite
        self._lp.set_objective(c, 0.0)
        self._objective = (c, offset)

    def solve(self, **options):
        """:meth:`solvers.PersistentModel.solve` options; returns its :class:`MIPResult`."""
        from solvers.result import relative_gap

        c, offset = self._objective
        res = self._lp.solve(**options)
        x = res.x[self._integer] if res.is_optimal else None
        if x is not None and np.abs(x - np.rint(x)).max(initial=0.0) <= 1e-7:
            self.n_lp += 1
        else:
            self._mip.set_objective(c, 0.0)
            self.n_mip += 1
            res = self._mip.solve(**options)
        if offset == 0.0:
            return res
        objective, bound = res.objective + offset, res.bound + offset
        return replace(res, objective=objective, bound=bound,
                       gap=relative_gap(objective, bound) if res.has_solution else res.gap)


def build_block(n_vars: int, rows: list, integrality: np.ndarray, col_upper: np.ndarray,
                action_size: int, **maps) -> ConstraintBlock:
    """Assemble a :class:`ConstraintBlock` from rows ``(cols, coefs, lower, upper)``."""
    from solvers.milp import MILP

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r[0]) for r in rows])
    cols = np.concatenate([np.asarray(r[0], dtype=np.int64) for r in rows]) if rows else \
        np.zeros(0, np.int64)
    coefs = np.concatenate([np.asarray(r[1], dtype=np.float64) for r in rows]) if rows else \
        np.zeros(0)
    A = sp.csr_matrix((coefs, cols, indptr), shape=(len(rows), n_vars))
    milp = MILP(c=np.zeros(n_vars), A=A,
                row_lower=np.array([r[2] for r in rows], dtype=np.float64),
                row_upper=np.array([r[3] for r in rows], dtype=np.float64),
                col_lower=np.zeros(n_vars), col_upper=col_upper, integrality=integrality,
                sense="max")
    return ConstraintBlock(milp, np.arange(action_size, dtype=np.int64), **maps)


class Domain(CompactRepr, ABC):
    """Base class of the four domains (frozen dataclasses with ``arms`` and ``budget``; their
    repr shows arrays by shape: the default printed some 60 lines for 20 arms).

    Subclasses implement ``action_size``, ``_arm_levels``, ``_violation``, ``_sample_action``,
    ``_build_block`` and ``to_arrays``/``from_arrays``.
    """

    kind: ClassVar[str] = "domain"
    must_fill: ClassVar[bool] = False   # greedy construction must reach ``budget`` elements
    refill_on_repair: ClassVar[bool] = True   # repair_action adds back what fits (see there)
    arms: BaseArms
    budget: int

    def __post_init__(self):
        """The constructor takes checked parts: their types are checked here, their values are
        trusted (``from_arrays`` checks raw arrays and values; build domains with it). Refuse
        other types with a pointer to ``from_arrays`` rather than fail later."""
        import dataclasses

        owner = type(self).__name__
        hint = f"build it with {owner}.from_arrays(...)"
        if not isinstance(self.arms, BaseArms):
            raise InvalidModelError(f"{owner}.arms: must be BaseArms; got "
                                    f"{type(self.arms).__name__} ({hint})")
        if not isinstance(self.budget, (int, np.integer)) or isinstance(self.budget, bool):
            raise InvalidModelError(f"{owner}.budget: must be an integer; got "
                                    f"{self.budget!r} ({hint})")
        object.__setattr__(self, "budget", int(self.budget))      # numpy ints do not save
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if "ndarray" in str(f.type) and not (isinstance(value, np.ndarray) or
                                                 (value is None and "None" in str(f.type))):
                raise InvalidModelError(f"{owner}.{f.name}: must be a numpy array; got "
                                        f"{type(value).__name__} ({hint})")

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_arms(self) -> int:
        return self.arms.n_arms

    @property
    def n_states(self) -> int:
        return self.arms.n_states

    @property
    @abstractmethod
    def action_size(self) -> int:
        """Length of the action vector."""

    # -- actions -------------------------------------------------------------------------
    def arm_levels(self, action) -> np.ndarray:
        """int64 (n_arms,) level of every arm under a binary action vector (action_size,);
        feasibility is not checked (:meth:`check_action`), the shape and 0/1 entries are
        (:class:`InvalidParameterError` / :class:`InfeasibleActionError` naming
        ``<Domain>.arm_levels.action``: a short action gave a short array, or a raw numpy
        error, a fuzz review)."""
        return self._arm_levels(self._as_binary(f"{type(self).__name__}.arm_levels", action))

    def pulls(self, action) -> np.ndarray:
        """int64 (n_arms,): 1 where the arm receives anything (the action checked as by
        :meth:`arm_levels`)."""
        a = self._as_binary(f"{type(self).__name__}.pulls", action)
        return (self._arm_levels(a) > 0).astype(np.int64)

    @abstractmethod
    def _arm_levels(self, action: np.ndarray) -> np.ndarray:
        """:meth:`arm_levels` of a validated int64 action (trusted: the internal callers')."""

    @abstractmethod
    def _violation(self, action: np.ndarray) -> str | None:
        """``None`` if the binary action is feasible, else the violated constraint in words."""

    def _as_binary(self, owner: str, action) -> np.ndarray:
        a = as_array(owner, "action", action, f"(action_size={self.action_size},)")
        if a.shape != (self.action_size,):
            raise InvalidParameterError(f"{owner}.action: must have shape (action_size="
                                        f"{self.action_size},); got {a.shape}")
        if a.dtype.kind not in "biuf" and not (                # None, strings, complex
                a.dtype.kind == "O" and all(isinstance(x, (numbers.Real, np.bool_))
                                            for x in a.flat)):
            raise InvalidParameterError(f"{owner}.action: must be an array of 0/1 numbers; "
                                        f"got dtype {a.dtype} ({_short(a.tolist())})")
        if a.size and not np.isin(a, (0, 1)).all():
            i = int(np.flatnonzero(~np.isin(a, (0, 1)))[0])
            raise InfeasibleActionError(f"{owner}.action: must be binary (0/1); got "
                                        f"{a[i].item()!r} at index {i}")
        return np.ascontiguousarray(a, dtype=np.int64)

    def check_action(self, action) -> np.ndarray:
        """The action as int64 (action_size,), or :class:`InfeasibleActionError` naming the
        violated constraint (wrong shape: :class:`InvalidParameterError`)."""
        owner = type(self).__name__
        a = self._as_binary(owner, action)
        why = self._violation(a)
        if why is not None:
            raise InfeasibleActionError(f"{owner}.action: {why}")
        return a

    def repair_action(self, action, values, *, owner: str) -> np.ndarray:
        """A MILP's action made feasible, int64 (action_size,). The solver accepts rows broken
        by its own tolerance (HiGHS: 1e-6 of the capacity domain's unit, where the check allows
        1e-9), so a pull of ``[0.5, 0.5000001]`` into a capacity of 1 can come back. An
        infeasible action loses set elements one at a time, each time the one whose removal
        leaves the highest ``values`` (callable: int64 (k, action_size) -> (k,)), then gains
        back, one at a time, the element of highest ``values`` that keeps it feasible (a
        cheaper arm fits where one was dropped; not where ``refill_on_repair`` is False), with
        a warning naming them. Ties, which can decide the answer, go to the lowest index (a
        stable sort: numpy's default argsort is not stable past 16 entries on AVX-512 machines,
        so the answer would depend on the machine). The pull domains' feasible sets are closed
        under removal; where the budget must be filled exactly (interventions) the check's
        :class:`InfeasibleActionError` stands."""
        a = self._as_binary(owner, action).copy()
        why = self._violation(a)
        if why is None:
            return a
        if self.must_fill:
            raise InfeasibleActionError(f"{type(self).__name__}.action: {why}")

        def value(actions) -> np.ndarray:
            return np.nan_to_num(np.asarray(values(actions), dtype=np.float64), nan=-np.inf)

        dropped, added = [], []
        while self._violation(a) is not None:
            on = np.flatnonzero(a)
            if not on.size:                  # the null action is feasible in every domain
                raise InfeasibleActionError(f"{type(self).__name__}.action: {why}")
            trial = np.repeat(a[None, :], on.size, axis=0)
            trial[np.arange(on.size), on] = 0
            i = int(on[int(np.argmax(value(trial)))])
            a[i] = 0
            dropped.append(i)
        current = float(value(a[None, :])[0])
        while self.refill_on_repair:   # feasibility checked best value first, until one fits
            off = np.flatnonzero(a == 0)
            trial = np.repeat(a[None, :], off.size, axis=0)
            trial[np.arange(off.size), off] = 1
            gains = value(trial)
            fits = None
            for i in np.argsort(-gains, kind="stable"):
                if not gains[i] > current:
                    break
                a[off[i]] = 1
                if self._violation(a) is None:
                    fits = int(i)
                    break
                a[off[i]] = 0
            if fits is None:
                break
            current = float(gains[fits])
            added.append(int(off[fits]))
        warnings.warn(f"{owner}: the solver's action breaks a constraint within the solver's "
                      f"feasibility tolerance ({why}); dropped element(s) {dropped}"
                      + (f", then added {added}" if added else "")
                      + " to make it feasible (it may not be optimal)", RmabWarning,
                      stacklevel=3)
        return a

    def is_feasible(self, action) -> bool:
        a = self._as_binary(type(self).__name__, action)
        return self._violation(a) is None

    def feasible_actions(self, limit: int | None = None) -> np.ndarray | None:
        """Every feasible action, int64 (K, action_size) in lexicographic order (read-only,
        listed once per domain), or ``None`` when there are more than ``limit`` (None = no
        limit) or the domain cannot list them (:meth:`_list_actions`)."""
        if limit is not None:
            limit = check_number(f"{type(self).__name__}.feasible_actions", "limit", limit,
                                 low=0, integer=True)
        if "_actions_cache" not in self.__dict__:
            actions = self._list_actions()
            if actions is not None:
                actions.flags.writeable = False
            object.__setattr__(self, "_actions_cache", actions)
        actions = self.__dict__["_actions_cache"]
        return None if actions is None or (limit is not None and len(actions) > limit) \
            else actions

    def _list_actions(self) -> np.ndarray | None:
        """The ``2**action_size`` binary vectors filtered by the constraints, for
        ``action_size <= ENUMERATION_SIZE`` only (subclasses with structure list more)."""
        if self.action_size > ENUMERATION_SIZE:
            return None
        cand = np.array(list(itertools.product((0, 1), repeat=self.action_size)),
                        dtype=np.int64).reshape(-1, self.action_size)
        return cand[[self._violation(a) is None for a in cand]]

    @abstractmethod
    def _sample_action(self, rng: np.random.Generator) -> np.ndarray:
        """A random feasible action (int64)."""

    def sample_action(self, seed=None) -> np.ndarray:
        """A random feasible action vector (the RANDOM baseline's distribution)."""
        return self._sample_action(as_generator(seed,
                                                f"{type(self).__name__}.sample_action.seed"))

    def null_action(self) -> np.ndarray:
        """The all-zero action: doing nothing is accepted in every domain (in the
        multiple-interventions domain it is the one exception to "exactly ``budget``", kept as
        the NO-ACTION reference; it is not in the MILP's feasible set)."""
        return np.zeros(self.action_size, dtype=np.int64)

    def _additions(self, action: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """Indices ``i`` (action[i] == 0; those in ``among`` when given) such that setting
        ``action[i] = 1`` keeps the action feasible (greedy construction). The pull domains'
        feasible sets are closed under removal, so an index that cannot be added now can
        never be added to a larger action: the greedy passes the previous additions as
        ``among``. ``action`` is modified in place and restored."""
        keep = []
        for i in np.flatnonzero(action == 0) if among is None else among:
            action[i] = 1
            if self._violation(action) is None:
                keep.append(i)
            action[i] = 0
        return np.asarray(keep, dtype=np.int64)

    # -- dynamics ------------------------------------------------------------------------
    def check_states(self, states) -> np.ndarray:
        return check_states(type(self).__name__, states, self.n_arms, self.n_states)

    def expected_reward(self, states, action) -> float:
        """``Σ_j E[r_j(s'_j) | s_j, a]`` of a feasible action in ``states``."""
        s = self.check_states(states)
        return self.arms.expected_reward(s, self._arm_levels(self.check_action(action)))

    def step(self, states, action, *, seed=None, u=None) -> DomainStepResult:
        """Simulate one period. Give ``seed`` or uniforms ``u`` (n_arms,) in [0, 1): arm ``j``
        moves up iff ``u[j] < up_prob`` (common random numbers)."""
        owner = f"{type(self).__name__}.step"
        s = self.check_states(states)
        levels = self._arm_levels(self.check_action(action))
        if u is not None and seed is not None:      # one of them would be ignored
            raise InvalidParameterError(f"{owner}: give seed or u, not both")
        if u is None:
            u = as_generator(seed, f"{owner}.seed").random(self.n_arms)
        u = _check_uniforms(owner, "u", u, self.n_arms)
        return DomainStepResult(self.arms.next_states(s, levels, u),
                                self.arms.expected_reward(s, levels))

    # -- MILP ----------------------------------------------------------------------------
    def constraint_block(self) -> ConstraintBlock:
        """The feasible set as a MILP (cached; objective zero)."""
        block = self.__dict__.get("_block")
        if block is None:
            block = self._build_block()
            object.__setattr__(self, "_block", block)
        return block

    @abstractmethod
    def _build_block(self) -> ConstraintBlock: ...

    def block_solution(self, action) -> np.ndarray | None:
        """Values (n_vars,) of the block's columns that extend a feasible ``action`` (a MILP
        start), or ``None`` where that takes a search (capacity's packing, scheduling's
        assignment); the path domain builds them from :meth:`~rmab.domains.path.PathDomain.route`
        and interventions from the levels."""
        return None

    def linear_model(self, backend, milp=None):
        """A persistent model maximising linear objectives over the block (``set_objective(c,
        offset)``, ``solve(time_limit=, mip_gap=, threads=)`` returning a
        :class:`~solvers.MIPResult` whose ``x`` gives the action through
        ``block.action_from_solution``): :class:`LinearBlockModel` (the LP first) on ``milp``
        (the block's MILP, default, or the block's with valid rows added), unless the domain has
        a faster exact search (path: :class:`~rmab.domains.path.RouteSearch`)."""
        return LinearBlockModel(self.constraint_block(), backend, milp)

    # -- storage -------------------------------------------------------------------------
    @abstractmethod
    def to_arrays(self) -> dict:
        """Keyword arguments of :meth:`from_arrays` that rebuild this instance (arrays and
        JSON-serialisable scalars)."""

    @classmethod
    @abstractmethod
    def from_arrays(cls, **arrays) -> "Domain": ...


def check_budget(owner: str, budget, high: int | None = None) -> int:
    return check_number(owner, "budget", budget, low=0, high=high, integer=True,
                        error=InvalidModelError)
