"""Whittle indices: binary and multi-action fully observed arms, belief-state (POMDP) arms
(``../shared/specs/PORMAB.md`` §6).

Convention: the index is a **price per unit of resource**. With reward ``r(s, a) - λ c(a)``,
``W(s, a)`` (``a >= 1``) is the price at which the optimal level of state ``s`` drops from
``a`` or above to below ``a``: ``sup {λ : a*_λ(s) >= a}``. Where levels ``a - 1`` and ``a`` are
both optimal on the way down this is the price where they are equally good,
``Q^λ(s, a) = Q^λ(s, a-1)``; a level that is never optimal shares the index of the level above. For a binary arm with ``c(1) = 1`` it is Whittle's
subsidy for passivity. An arm is (fully) indexable when, as ``λ`` rises, every state's optimal
level only goes down; then ``W(s, 1) >= W(s, 2) >= ...`` and the index policy activates
state ``s`` at level ``a`` exactly when the going price is below ``W(s, a)``.

References: P. Whittle (1988); J. Niño-Mora (2007), fast-pivoting adaptive greedy;
N. Gast, B. Gaujal, K. Khun (2023), "Computing Whittle (and Gittins) index in subcubic time";
K. D. Glazebrook, D. J. Hodge, C. Kirkbride (2011), multi-action (full) indexability.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from rmab._validation import as_float_array, check_number
from rmab.errors import IndexabilityWarning, InvalidParameterError
from rmab.models.arms import MDPArms, POMDPArms
from rmab.relax import _whittle_kernels

__all__ = ["WhittleResult", "BeliefWhittleResult", "whittle_indices", "belief_whittle_indices",
           "simplex_grid"]

_METHODS = ("homotopy", "bisection")


@dataclass(frozen=True, eq=False)
class WhittleResult:
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


def _check_discount(owner, discount):
    return check_number(owner, "discount", discount, low=0.0, high=1.0, low_open=True,
                        high_open=True)


def _check_index_arms(owner, arms, kind):
    if not isinstance(arms, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InvalidParameterError(f"{owner}.arms: must be {names}; got {type(arms).__name__}")
    if arms.n_actions < 2:
        raise InvalidParameterError(f"{owner}.arms: must have at least 2 actions; got "
                                    f"{arms.n_actions}")
    flat = np.argwhere(np.diff(arms.costs, axis=1) <= 0)
    if len(flat):
        n, a = (int(i) for i in flat[0])
        raise InvalidParameterError(f"{owner}.arms.costs: must be strictly increasing in the "
                                    f"action for indices; got {arms.costs[n, a]} then "
                                    f"{arms.costs[n, a + 1]} (arm {n})")


def _warn_not_indexable(owner, indexable):
    bad = np.flatnonzero(~indexable)
    if len(bad):
        shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
        warnings.warn(f"{owner}: {len(bad)} arm(s) not (fully) indexable; their indices are "
                      f"unreliable (arms {shown}); consider the Lagrangian policy",
                      IndexabilityWarning, stacklevel=3)


def whittle_indices(arms: MDPArms, *, discount: float = 0.95, method: str = "homotopy",
                    tol: float = 1e-10) -> WhittleResult:
    """Whittle indices of fully observed arms, for every state and level.

    Parameters
    ----------
    arms : MDPArms
        Costs strictly increasing in the action (any number of actions).
    discount : float in (0, 1)
    method : {"homotopy", "bisection"}
        ``"homotopy"`` (default): the exact breakpoints of the optimal policy as the price
        rises, with Sherman–Morrison updates (Niño-Mora's fast pivoting, ``O(A^2 S^3)`` per arm,
        Numba). ``"bisection"``: the simple reference, bisection on the price of
        ``sup {λ : a*_λ(s) >= a}`` with exact policy iteration
        (:func:`rmab.values.exact.policy_iteration`) to ``tol``; indexability is read from the
        homotopy.
    tol : float
        Price tolerance of the bisection.

    Non-indexable arms give an :class:`~rmab.errors.IndexabilityWarning` and
    ``indexable[n] = False``.
    """
    owner = "whittle_indices"
    _check_index_arms(owner, arms, MDPArms)
    discount = _check_discount(owner, discount)
    if method not in _METHODS:
        raise InvalidParameterError(f"{owner}.method: must be one of {_METHODS}; got {method!r}")
    tol = check_number(owner, "tol", tol, low=0.0, low_open=True)
    start = time.perf_counter()
    indices, flags = _homotopy(arms, discount)
    if method == "bisection":
        indices = _bisection(arms, discount, tol)
    indexable = flags == 0
    _warn_not_indexable(owner, indexable)
    return WhittleResult(indices, indexable, discount, method, time.perf_counter() - start)


def _homotopy(arms, discount):
    n, a, s = arms.n_arms, arms.n_actions, arms.n_states
    indices = np.empty((n, s, a - 1))
    flags = np.empty(n, dtype=np.int64)
    _whittle_kernels.homotopy_kernel(arms.transitions, arms.rewards, arms.costs, discount,
                                     4 * s * a + 16, indices, flags)
    return indices, flags


def _price_bracket(arms, discount):
    """A price interval holding every index. Whatever the price, values span at most
    ``(r_max - r_min) / (1 - β)``, so beyond ``±`` that over the smallest cost step the cheaper
    (``λ > 0``) or costlier (``λ < 0``) of two adjacent levels wins in every state."""
    r = arms.rewards
    top = ((r.max() - r.min()) / (1.0 - discount) + 1.0) / np.diff(arms.costs, axis=1).min()
    return -top, top


def _bisection(arms, discount, tol):
    from rmab.values.exact import policy_iteration

    n_arms, n_actions, n_states = arms.n_arms, arms.n_actions, arms.n_states
    lo_all, hi_all = _price_bracket(arms, discount)
    out = np.empty((n_arms, n_states, n_actions - 1))
    s_idx = np.repeat(np.arange(n_states), n_actions - 1)
    a_idx = np.tile(np.arange(1, n_actions), n_states)
    for n in range(n_arms):
        arm = arms.select([n])
        lo = np.full(s_idx.size, lo_all)
        hi = np.full(s_idx.size, hi_all)
        while (hi - lo).max() > tol:
            mid = 0.5 * (lo + hi)
            policy = policy_iteration(arm, prices=mid, discount=discount, tol=tol).policy
            up = policy[np.arange(mid.size), 0, s_idx] >= a_idx     # ties go to the cheaper
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
        out[n, s_idx, a_idx - 1] = 0.5 * (lo + hi)
    return out
