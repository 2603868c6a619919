"""An upper bound on any policy's reward in a coRMAB domain: the occupation-measure LP.

Over ``H`` periods from states ``s_0``, any policy (however it looks at the joint state)
induces, for every arm ``j``, period ``t``, state ``s`` and level ``ℓ``, the probability
``μ[t, j, s, ℓ]`` that arm ``j`` is in ``s`` and receives ``ℓ`` at ``t``. These satisfy each
arm's flow equations (arms move independently given their levels), and in every period the
arms' level marginals ``Σ_s μ[t, j, s, ℓ]`` are those of one distribution over the feasible
actions, so they lie in the *hull* of the feasible actions' level vectors. Maximising the
expected reward ``Σ μ[t, j, s, ℓ] E[r_j(s') | s, ℓ]`` over such ``μ`` is an LP whose value
bounds the optimal expected ``H``-period reward from ``s_0`` (Bertsimas & Niño-Mora 2000;
Hawkins 2003 for the budget case, with one price per period).

The hull is the convex hull of the listed feasible actions when
:meth:`~rmab.domains.base.Domain.feasible_actions` lists at most ``LISTED_ACTIONS`` of them
(multiple interventions with at most 16 interventions, e.g. 253 at J = 20; path's route sets
when there are few); otherwise the hull of the null action (feasible in every domain) and the
LP relaxation of the domain's constraint block, which contains the hull (path's route sets:
the hull itself; capacity and scheduling at J = 20: an outer approximation). The null action
is added by homogenisation: ``θ ∈ [0, 1]`` scales the block's right-hand sides and column
bounds. It is at least as tight as the budget
relaxation's Lagrangian bound (:class:`~rmab.planners.sequoia.warm_targets.LagrangianBound`):
each period has its own prices and the domain's own constraints replace the budget.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from rmab._validation import check_number
from rmab.belief.update import check_actions
from rmab.domains.base import Domain
from rmab.errors import InvalidParameterError, PlanningError

__all__ = ["hull_bound", "LISTED_ACTIONS"]

LISTED_ACTIONS = 1024   # most feasible actions whose convex hull is spelled out per period
MAX_NONZEROS = 50_000_000   # the LP's matrix (about 0.6 GB, and HiGHS's copies beside it)


def _hull(domain: Domain):
    """One period's hull as ``(A, lower, upper, col_upper, link)``: variables ``y`` with
    ``lower <= A y <= upper``, ``0 <= y <= col_upper`` and the level marginals
    ``q[j, ℓ] = (link @ y)[j * L + ℓ]`` for levels ``ℓ >= 1`` (``link`` csr (n_arms * L, n_y);
    rows of level 0 are empty: ``q[j, 0]`` is the rest)."""
    n, L = domain.n_arms, domain.arms.n_levels
    actions = domain.feasible_actions(limit=LISTED_ACTIONS)
    if actions is not None:          # y: a distribution over the listed actions
        levels = np.stack([domain._arm_levels(a) for a in actions], axis=1)   # (n, m)
        m = levels.shape[1]
        j, k = np.nonzero(levels > 0)
        link = sp.csr_matrix((np.ones(j.size), (j * L + levels[j, k], k)), shape=(n * L, m))
        return sp.csr_matrix(np.ones((1, m))), np.ones(1), np.ones(1), np.ones(m), link
    block = domain.constraint_block()             # y = (x, θ): x / θ in the block's LP
    milp = block.milp
    if block.pull_vars is not None:
        rows, cols = np.arange(n) * L + 1, block.pull_vars
    else:
        ok = block.level_vars[:, 1:] >= 0
        j, lv = np.nonzero(ok)
        rows, cols = j * L + lv + 1, block.level_vars[:, 1:][ok]
    link = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n * L, milp.n_cols + 1))
    A, lo, hi, ub = sp.csr_matrix(milp.A), milp.row_lower, milp.row_upper, milp.col_upper
    has_lo, has_hi, fin = np.isfinite(lo), np.isfinite(hi), np.isfinite(ub)
    m = milp.n_cols
    homogeneous = sp.bmat([[A[has_lo], sp.csr_matrix(-lo[has_lo][:, None])],   # A x >= lo θ
                           [A[has_hi], sp.csr_matrix(-hi[has_hi][:, None])],   # A x <= hi θ
                           [sp.eye(m, format="csr")[fin],                      # x <= ub θ
                            sp.csr_matrix(-ub[fin][:, None])]],
                          format="csr")
    k = int(has_lo.sum())
    lower = np.r_[np.zeros(k), np.full(homogeneous.shape[0] - k, -np.inf)]
    upper = np.r_[np.full(k, np.inf), np.zeros(homogeneous.shape[0] - k)]
    return homogeneous, lower, upper, np.r_[ub, 1.0], link


def _lp(domain: Domain, horizon: int):
    """The LP for ``horizon`` periods with the start rows' right-hand sides left at zero:
    ``(MILP, start_rows)``; ``start_rows`` (n_arms * n_states,) are the period-0 rows
    ``Σ_ℓ μ[0, j, s, ℓ] = 1[s = s_0j]``. Columns: ``μ[t, j, s, ℓ]`` (C order), then one
    hull copy ``y_t`` per period."""
    from solvers.milp import MILP

    arms = domain.arms
    n, S, L, H = arms.n_arms, arms.n_states, arms.n_levels, horizon
    per = n * S * L                                          # μ columns per period
    col = np.arange(per)
    j, s, lv = np.unravel_index(col, (n, S, L))
    up, down = np.minimum(s + 1, S - 1), np.maximum(s - 1, 0)
    p = arms.up_prob[j, lv]
    gain = np.stack([arms.level_gains(np.full(n, k)) for k in range(S)], axis=1)  # (n, S, L)
    # flow: Σ_ℓ μ[t, j, s', ℓ] - Σ_{s, ℓ} P(s' | s, ℓ) μ[t-1, j, s, ℓ] = [t = 0] 1[s' = s_0j]
    occupy = sp.csr_matrix((np.ones(per), (j * S + s, col)), shape=(n * S, per))
    move = sp.csr_matrix((np.r_[p, 1.0 - p], (np.r_[j * S + up, j * S + down], np.r_[col, col])),
                         shape=(n * S, per))                 # clipped moves are summed
    # link: Σ_s μ[t, j, s, ℓ] = (link y_t)[j, ℓ] for ℓ >= 1; y_t in one period's hull
    hull_A, hull_lo, hull_hi, hull_ub, link = _hull(domain)
    levels = np.flatnonzero(np.arange(n * L) % L > 0)
    sum_s = sp.csr_matrix((np.ones(per), (j * L + lv, col)), shape=(n * L, per))[levels]
    # the matrix's exact size, from one period's blocks, before any is repeated H times
    size = (H * (occupy.nnz + sum_s.nnz + link[levels].nnz + hull_A.nnz)
            + (H - 1) * move.nnz)
    if size > MAX_NONZEROS:              # horizon 10**6 ran the machine out of memory
        raise InvalidParameterError(f"hull_bound.horizon: the LP over {H} periods would hold "
                                    f"{size:.3g} nonzeros (at most {MAX_NONZEROS:.0e}); "
                                    f"bound fewer periods")
    flow = sp.kron(sp.eye(H), occupy) - sp.kron(sp.eye(H, k=-1), move)
    A = sp.bmat([[flow, None],
                 [sp.kron(sp.eye(H), sum_s), sp.kron(sp.eye(H), -link[levels])],
                 [None, sp.kron(sp.eye(H), hull_A)]], format="csr")
    n_rows = H * (n * S + levels.size)
    n_y = hull_A.shape[1]
    milp = MILP(c=np.r_[np.tile(gain.ravel(), H), np.zeros(H * n_y)], A=A,
                row_lower=np.r_[np.zeros(n_rows), np.tile(hull_lo, H)],
                row_upper=np.r_[np.zeros(n_rows), np.tile(hull_hi, H)],
                col_lower=np.zeros(A.shape[1]),
                col_upper=np.r_[np.full(H * per, np.inf), np.tile(hull_ub, H)],
                integrality=np.zeros(A.shape[1], bool), sense="max")
    return milp, np.arange(n * S)


def hull_bound(domain: Domain, states, horizon: int, *, backend: str = "highs") -> np.ndarray:
    """Upper bounds on the optimal expected reward over ``horizon`` periods (module doc).

    ``states`` int (n_arms,) or (k, n_arms): start states. Returns float64 (k,) (a single
    start (n_arms,) gives shape (1,)), each the LP's value from that start: no policy's
    expected total of the per-period rewards ``Σ_j E[r_j(s'_j) | s, a]`` exceeds it. One LP,
    re-solved from its last basis for every start after a right-hand-side update (at J = 20, H = 20:
    about 0.2 s per start on capacity and scheduling, 0.3 s on interventions, 1 s on path).
    An LP the solver cannot take (rewards of 1e300, whose gains HiGHS reads as infinite) or
    cannot solve to optimality raises :class:`~rmab.errors.PlanningError`, as the myopic
    planner's objective does.
    """
    owner = "hull_bound"
    if not isinstance(domain, Domain):
        raise InvalidParameterError(f"{owner}.domain: must be a Domain; got "
                                    f"{type(domain).__name__}")
    horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
    try:
        arr = np.asarray(states)
    except ValueError:                              # ragged rows
        arr = np.empty(0)
    if arr.ndim not in (1, 2) or arr.shape[-1] != domain.n_arms or arr.size == 0:
        raise InvalidParameterError(f"{owner}.states: must have shape (n_arms={domain.n_arms},) "
                                    f"or (k >= 1, {domain.n_arms}); got {arr.shape}")
    starts = [check_actions(owner, row, domain.n_arms, domain.n_states,
                            field=f"states[{i}]" if arr.ndim == 2 else "states")
              for i, row in enumerate(np.atleast_2d(arr))]
    from solvers.backends import get_backend
    from solvers.errors import SolverInputError

    try:
        solver = get_backend(backend)
    except LookupError as exc:
        raise InvalidParameterError(f"{owner}.backend: {exc}") from exc
    S = domain.n_states
    out = np.empty(len(starts))
    try:
        milp, start_rows = _lp(domain, horizon)
        model = solver.build(milp)
        for i, s0 in enumerate(starts):
            rhs = np.zeros(start_rows.size)
            rhs[np.arange(domain.n_arms) * S + s0] = 1.0
            model.set_row_bounds(start_rows, rhs, rhs)
            res = model.solve()
            if not res.is_optimal:
                raise PlanningError(f"{owner}: the LP from start {i} ended {res.status.value}")
            out[i] = res.objective
    except SolverInputError as exc:   # rewards of 1e300: gains HiGHS reads as infinite
        raise PlanningError(f"{owner}: the domain's LP cannot be solved; {exc}") from exc
    return out
