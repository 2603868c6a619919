"""Pre-activation bounds of a ReLU network whose input is ``(action a, state s)``.

The network's input is ``x = (a, s)``: the first ``n_action`` entries are the action variables
of a MILP (box ``[action_lower, action_upper]``, typically binary) restricted by knapsack rows
``sum_i w_i a_i <= C`` (``w >= 0``); the rest is the fixed state (a point, or a box when the
bounds must hold for every state in it).

- Layer 1: ``z = W_a a + W_s s + b``. The action part's range is exact for binary actions under
  a *cardinality* row (equal weights): the maximum of ``g @ a`` is the sum of the ``k`` largest
  positive ``g_i`` (``k = floor(C / w)``, after the forced ones), the minimum the ``k`` most
  negative. For unequal weights the bound is the LP relaxation (fractional knapsack: greedy by
  ``g_i / w_i``), valid but not exact. With several knapsack rows the tightest is taken.
- Layer 2: back-substitution (DeepPoly-style): each layer-1 ReLU is replaced by its linear
  upper or lower line, giving a linear function of ``a`` that is maximised over the knapsack set
  as above; intersected with the interval bound. ``back_substitution=False`` skips it
  (intervals from layer 1 on); with no knapsacks as well, the bounds are plain interval
  bounds over the action box, for ablations.
- Later layers: interval propagation, ``[W+ l + W- u + b, W+ u + W- l + b]`` on the
  post-ReLU intervals.
- Optional: :func:`lp_tighten` maximises/minimises each later neuron over the LP relaxation of
  the encoded network plus the action MILP (two LPs per neuron; worth it only when solves take
  seconds).

All bounds are on pre-activations ``z_l`` (before the ReLU), layer by layer, output included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solvers.errors import SolverInputError
from solvers.milp import FEAS_TOL, MILP, _check_order, _flags, real_array
from solvers.nn.network import ReLUNetwork

__all__ = ["Knapsack", "NetworkBounds", "action_range", "interval_bounds", "network_bounds",
           "knapsacks_from_milp", "lp_tighten"]


@dataclass(frozen=True, eq=False)
class Knapsack:
    """``weights @ a <= capacity`` over the action variables; ``weights`` (n_action,) >= 0."""

    weights: np.ndarray
    capacity: float

    def __post_init__(self):
        w = real_array("Knapsack.weights", self.weights)
        if w.ndim != 1:
            raise SolverInputError(f"Knapsack.weights: must be one weight per action (1-D); got "
                                   f"shape {w.shape}")
        try:                            # text refused (float("1") took capacity "1")
            if isinstance(self.capacity, (str, bytes)):
                raise TypeError("text")
            capacity = float(self.capacity)
        except (TypeError, ValueError) as exc:
            raise SolverInputError(f"Knapsack.capacity: must be a number; got "
                                   f"{self.capacity!r}") from exc
        if not (np.isfinite(w).all() and (w >= 0).all()):
            raise SolverInputError(f"Knapsack.weights: must be finite and >= 0; got {w}")
        if not np.isfinite(capacity):
            raise SolverInputError(f"Knapsack.capacity: must be finite; got {self.capacity}")
        w.flags.writeable = False
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "capacity", capacity)


@dataclass(frozen=True, eq=False)
class NetworkBounds:
    """``lower[l]``, ``upper[l]``: (width_l,) bounds on layer ``l``'s pre-activations."""

    lower: tuple
    upper: tuple


def _max_over_knapsack(G: np.ndarray, lower, upper, ks: Knapsack, integer) -> np.ndarray:
    """max of ``G @ a`` (rows) over the box and one knapsack (fractional; exact if cardinality)."""
    w = ks.weights
    room = upper - lower
    # the solver takes a row violated by its feasibility tolerance as met: so do the bounds
    cap = ks.capacity - float(w @ lower) + FEAS_TOL * max(1.0, abs(ks.capacity))
    if cap < 0:                                     # empty feasible set: fall back to the box
        return np.full(G.shape[0], np.inf)
    free = room > 0
    zero_w = free & (w == 0)
    out = G @ lower + np.maximum(G[:, zero_w] * room[zero_w], 0.0).sum(axis=1)
    items = free & (w > 0)
    if not items.any():
        return out
    wi, ri = w[items], room[items]
    g = G[:, items] * ri                               # value of taking item i fully
    if wi.max() - wi.min() <= 1e-12 * wi.max() and (ri == 1).all() and integer[items].all():
        k = int(np.floor(cap / wi[0]))                 # cardinality: the k best items (exact)
        if k <= 0:
            return out
        if k < g.shape[1]:
            g = -np.partition(-g, k - 1, axis=1)[:, :k]
        return out + np.maximum(g, 0.0).sum(axis=1)
    cost = wi * ri                                     # capacity used by taking item i fully
    ratio = np.where(g > 0, g / cost, -np.inf)
    order = np.argsort(-ratio, axis=1, kind="stable")
    g_sorted = np.take_along_axis(g, order, axis=1)
    c_sorted = cost[order]
    prev = np.cumsum(c_sorted, axis=1) - c_sorted
    frac = np.clip((cap - prev) / c_sorted, 0.0, 1.0)
    return out + np.where(g_sorted > 0, frac * g_sorted, 0.0).sum(axis=1)


def _check_action_box(lower, upper, knapsacks, integer):
    """``(lower, upper, integer)`` checked, the integer actions' bounds rounded inwards (an
    integer ``a`` in [0.5, 1.5] is 1) up to the solver's feasibility tolerance."""
    lower = real_array("action_range.lower", lower).reshape(-1)
    upper = real_array("action_range.upper", upper).reshape(-1)
    if lower.shape != upper.shape:
        raise SolverInputError(f"action_range.lower/upper: must have the same shape; got "
                               f"{lower.shape} and {upper.shape}")
    if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
        raise SolverInputError("action_range.lower/upper: must be finite (the action columns "
                               "need finite bounds); got a non-finite bound")
    _check_order("action_range", "lower", "upper", lower, upper)
    if not isinstance(knapsacks, (list, tuple)):
        raise SolverInputError(f"knapsacks: must be a list or tuple of Knapsack objects; got "
                               f"{type(knapsacks).__name__}")
    for ks in knapsacks:
        if not isinstance(ks, Knapsack):
            raise SolverInputError(f"knapsacks: must be Knapsack objects; got "
                                   f"{type(ks).__name__} {ks!r:.60}")
        if ks.weights.size != lower.size:
            raise SolverInputError(f"Knapsack.weights: must have {lower.size} entries; got "
                                   f"{ks.weights.size}")
    if integer is not None and np.ndim(integer) == 0:   # one flag broadcast: bounds invalid
        raise SolverInputError(f"action_range.integer: must have shape {lower.shape}; got a "
                               f"scalar")
    # 0/1 or bools: [0.5] had been read as True, and the box rounded as for an integer
    integer = (np.zeros(lower.size, bool) if integer is None
               else _flags("integer", integer, lower.size, owner="action_range"))
    lower = np.where(integer, np.ceil(lower - FEAS_TOL), lower)     # the solver's tolerance:
    upper = np.where(integer, np.floor(upper + FEAS_TOL), upper)    # 0.9999995 admits 1
    empty = np.flatnonzero(lower > upper)
    if empty.size:
        raise SolverInputError(f"action_range.lower/upper: integer action {int(empty[0])} has no "
                               f"integer between its bounds")
    return lower, upper, integer


def _action_max(W, lower, upper, knapsacks, integer) -> np.ndarray:
    """Upper bound of ``W @ a``: the box bound, tightened by every knapsack (trusted input)."""
    hi = np.maximum(W, 0.0) @ upper + np.minimum(W, 0.0) @ lower
    for ks in knapsacks:
        hi = np.minimum(hi, _max_over_knapsack(W, lower, upper, ks, integer))
    return hi


def action_range(W, lower, upper, knapsacks=(), integer=None) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``(lo, hi)`` (rows of ``W``) of ``W @ a`` over ``lower <= a <= upper`` and every
    knapsack (each relaxed separately; the tightest bound is kept). ``integer`` (n,) bool marks
    integer actions (default none, which is valid for any action): integer actions get the
    exact cardinality rounding."""
    W = real_array("action_range.W", W)
    lower, upper, integer = _check_action_box(lower, upper, knapsacks, integer)
    if W.ndim != 2 or W.shape[1] != lower.size:
        raise SolverInputError(f"action_range.W: must have shape (rows, {lower.size}) (one "
                               f"column per action); got {W.shape}")
    if not np.isfinite(W).all():                       # NaN gave (nan, nan) bounds
        raise SolverInputError("action_range.W: must be finite; got a non-finite weight")
    return (-_action_max(-W, lower, upper, knapsacks, integer),
            _action_max(W, lower, upper, knapsacks, integer))


def _dot_interval(W: np.ndarray, lo: np.ndarray, hi: np.ndarray, b: np.ndarray):
    """Interval of ``W @ v + b`` for ``lo <= v <= hi`` (infinite ends allowed; 0 * inf = 0)."""
    pos, neg = np.maximum(W, 0.0), np.minimum(W, 0.0)
    if np.isfinite(lo).all() and np.isfinite(hi).all():
        return pos @ lo + neg @ hi + b, pos @ hi + neg @ lo + b

    def dot(M, v):
        fin = np.where(np.isfinite(v), v, 0.0)
        res = M @ fin
        up = ((M > 0) @ (v == np.inf)) + ((M < 0) @ (v == -np.inf))
        down = ((M > 0) @ (v == -np.inf)) + ((M < 0) @ (v == np.inf))
        res = np.where(up > 0, np.inf, res)
        return np.where(down > 0, -np.inf, res)

    return dot(pos, lo) + dot(neg, hi) + b, dot(pos, hi) + dot(neg, lo) + b


def _check_types(owner: str, **given) -> None:
    """SolverInputError unless each argument is of its type (``net`` a ReLUNetwork, as a torch
    module or a path is not; ``bounds`` NetworkBounds; ``action_milp`` a MILP)."""
    kinds = {"net": (ReLUNetwork, _Tail), "bounds": (NetworkBounds,), "action_milp": (MILP,)}
    for name, value in given.items():
        if not isinstance(value, kinds[name]):
            raise SolverInputError(f"{owner}.{name}: must be a {kinds[name][0].__name__}; got "
                                   f"{type(value).__name__}")


def interval_bounds(net, first_lower, first_upper) -> NetworkBounds:
    """Propagate layer-1 pre-activation bounds through the rest of ``net`` by intervals."""
    _check_types("interval_bounds", net=net)
    lower = [real_array("interval_bounds.first_lower", first_lower)]
    upper = [real_array("interval_bounds.first_upper", first_upper)]
    width = net.weights[0].shape[0]
    if lower[0].shape != (width,) or upper[0].shape != (width,):
        raise SolverInputError(f"interval_bounds.first_lower/first_upper: must have shape "
                               f"({width},) (the first layer's width); got {lower[0].shape} and "
                               f"{upper[0].shape}")
    if np.isnan(lower[0]).any() or np.isnan(upper[0]).any():
        raise SolverInputError("interval_bounds.first_lower/first_upper: must be numbers "
                               "(infinite ends allowed); got NaN")
    _check_order("interval_bounds", "first_lower", "first_upper", lower[0], upper[0])
    for W, b in zip(net.weights[1:], net.biases[1:]):
        lo, hi = _dot_interval(W, np.maximum(lower[-1], 0.0), np.maximum(upper[-1], 0.0), b)
        lower.append(lo)
        upper.append(hi)
    return NetworkBounds(tuple(lower), tuple(upper))


def network_bounds(net, n_action: int, state, *, action_lower, action_upper, knapsacks=(),
                   integer=None, state_upper=None, action_part=None,
                   back_substitution=True) -> NetworkBounds:
    """Pre-activation bounds of every layer for input ``(a, state)``.

    ``state`` (n_state,) is a point, or the lower end of a box when ``state_upper`` is given
    (then the bounds hold for every state in the box; infinite ends allowed). ``action_part``
    may pass a precomputed ``action_range`` of the first layer's action columns.
    ``back_substitution=False``: layer 2 by intervals too (with ``knapsacks=()``, the plain
    interval bounds over the action box; never tighter than the default, for ablations).
    """
    _check_types("network_bounds", net=net)
    W1 = net.weights[0]
    if isinstance(n_action, bool) or not isinstance(n_action, (int, np.integer)) or \
            not 0 <= n_action <= net.n_inputs:
        raise SolverInputError(f"network_bounds.n_action: must be an integer in "
                               f"[0, {net.n_inputs}]; got {n_action!r}")
    s_lo = real_array("network_bounds.state", state).reshape(-1)
    s_hi = s_lo if state_upper is None else \
        real_array("network_bounds.state_upper", state_upper).reshape(-1)
    if s_lo.size != net.n_inputs - n_action or s_hi.size != s_lo.size:
        raise SolverInputError(f"network_bounds.state: must have {net.n_inputs - n_action} "
                               f"entries; got {s_lo.size}")
    if np.isnan(s_lo).any() or np.isnan(s_hi).any() or (
            state_upper is None and not np.isfinite(s_lo).all()):
        raise SolverInputError(f"network_bounds.state: must be finite (a box's ends may be "
                               f"infinite, not NaN); got {s_lo}"
                               + ("" if state_upper is None else f" to {s_hi}"))
    _check_order("network_bounds", "state", "state_upper", s_lo, s_hi)   # else bounds invalid
    with np.errstate(over="ignore", invalid="ignore"):     # checked: _no_overflow
        if action_part is None:
            action_part = action_range(W1[:, :n_action], action_lower, action_upper,
                                       knapsacks, integer)
        d_lo, d_hi = _dot_interval(W1[:, n_action:], s_lo, s_hi, net.biases[0])
        first_lo, first_hi = action_part[0] + d_lo, action_part[1] + d_hi
        _no_overflow(first_lo, first_hi)
        bounds = interval_bounds(net, first_lo, first_hi)
        _no_overflow(*bounds.lower, *bounds.upper)
        finite = np.isfinite(first_lo).all() and np.isfinite(first_hi).all()
        if not back_substitution or net.n_layers < 2 or not finite:
            return bounds
        lo2, hi2 = _second_layer_backsub(net, n_action, first_lo, first_hi, d_lo, d_hi,
                                         action_lower, action_upper, knapsacks, integer)
        _no_overflow(lo2, hi2)
        lo2, hi2 = np.maximum(lo2, bounds.lower[1]), np.minimum(hi2, bounds.upper[1])
        tail = interval_bounds(_Tail(net, 1), lo2, hi2)
        _no_overflow(*tail.lower, *tail.upper)
    return NetworkBounds((first_lo,) + tail.lower, (first_hi,) + tail.upper)


def _no_overflow(*bounds) -> None:
    """Refuse bounds holding NaN: ``inf - inf`` where weights of 1e300 overflow float64 (the
    error named interval_bounds' arguments, which the caller never gave; a fuzz review)."""
    if any(np.isnan(b).any() for b in bounds):
        raise SolverInputError("network_bounds.net: must give bounds within float64 over the "
                               "input box; got NaN (weights so large that they overflow)")


def _second_layer_backsub(net, n_action, L, U, d_lo, d_hi, action_lower, action_upper,
                          knapsacks, integer):
    """Layer-2 bounds by back-substitution to the actions (DeepPoly-style): each layer-1 ReLU
    is replaced by its linear upper line ``h <= U (z - L) / (U - L)`` or lower line
    ``h >= [U > -L] z``, ``z = W_a a + d``; the resulting linear function of ``a`` is then
    maximised over the knapsack set by :func:`action_range` (exact for a cardinality row)."""
    unstable = (L < 0) & (U > 0)
    on = L >= 0
    width = np.where(unstable, U - L, 1.0)
    su = np.where(unstable, U / width, on.astype(float))          # upper line slope
    tu = np.where(unstable, -L * U / width, 0.0)                  # and intercept
    sl = np.where(unstable, (U > -L).astype(float), on.astype(float))   # lower line slope
    W2, b2 = net.weights[1], net.biases[1]
    pos, neg = np.maximum(W2, 0.0), np.minimum(W2, 0.0)
    c_up = pos * su + neg * sl                                    # (out, width) on z
    c_lo = pos * sl + neg * su
    Wa = net.weights[0][:, :n_action]

    def d_term(c, upper):
        cp, cn = np.maximum(c, 0.0), np.minimum(c, 0.0)
        return cp @ (d_hi if upper else d_lo) + cn @ (d_lo if upper else d_hi)

    lower, upper, integer = _check_action_box(action_lower, action_upper, knapsacks, integer)
    hi_a = _action_max(c_up @ Wa, lower, upper, knapsacks, integer)
    lo_a = -_action_max(-(c_lo @ Wa), lower, upper, knapsacks, integer)
    hi = hi_a + d_term(c_up, True) + pos @ tu + b2
    lo = lo_a + d_term(c_lo, False) + neg @ tu + b2
    return lo, hi


def knapsacks_from_milp(milp, n_action: int) -> list[Knapsack]:
    """Rows of ``milp`` that are knapsacks over its first ``n_action`` columns only: all
    coefficients of one sign, a finite bound on the matching side (``>=`` rows with negative
    coefficients are flipped)."""
    if not isinstance(milp, MILP):
        raise SolverInputError(f"knapsacks_from_milp.milp: must be a MILP; got "
                               f"{type(milp).__name__}")
    if isinstance(n_action, bool) or not isinstance(n_action, (int, np.integer)) or not \
            0 <= n_action <= milp.n_cols:
        raise SolverInputError(f"knapsacks_from_milp.n_action: must be an integer in "
                               f"[0, {milp.n_cols}]; got {n_action!r}")
    A = milp.A.tocsr()
    out = []
    for i in range(A.shape[0]):
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        vals = A.data[A.indptr[i]:A.indptr[i + 1]]
        if cols.size == 0 or cols.max() >= n_action:
            continue
        for sign, cap in ((1.0, milp.row_upper[i]), (-1.0, -milp.row_lower[i])):
            if np.isfinite(cap) and (sign * vals >= 0).all():
                w = np.zeros(n_action)
                w[cols] = sign * vals
                out.append(Knapsack(w, cap))
    return out


_LP_MARGIN = 1e-6


def lp_tighten(net, bounds: NetworkBounds, action_milp, n_action: int, state) -> NetworkBounds:
    """Tighten the bounds of layers 2.. by LP: for each neuron, max and min of its
    pre-activation over the LP relaxation of ``action_milp`` plus the big-M encoding of the
    earlier layers (HiGHS, two LPs per neuron). Layer 1 is kept (already exact or knapsack-LP).
    """
    from solvers.backends.highs import HighsModel
    from solvers.nn.encode import _encode_layers

    _check_types("lp_tighten", net=net, bounds=bounds, action_milp=action_milp)
    lower = [np.array(v, dtype=np.float64) for v in bounds.lower]
    upper = [np.array(v, dtype=np.float64) for v in bounds.upper]
    for layer in range(1, net.n_layers - 1):
        nb = NetworkBounds(tuple(lower), tuple(upper))
        milp, layouts = _encode_layers(net, action_milp, n_action, state, nb, nb, layer,
                                       relax=True)
        model = HighsModel(milp)
        W, b = net.weights[layer], net.biases[layer]
        prev = layouts[layer - 1]
        for j in range(W.shape[0]):
            c = np.zeros(milp.n_cols)
            c[prev.kept_cols] = W[j, prev.kept_idx]
            for sign in (1.0, -1.0):
                model.set_objective(sign * c)
                res = model.solve()
                if res.status.name == "OPTIMAL" and np.isfinite(res.bound):
                    # widened by HiGHS's MIP feasibility tolerance: with bounds only 1e-7
                    # outside the true range, presolve cut off the argmax (2 of 1 200 nets)
                    val = sign * (res.bound + _LP_MARGIN * max(1.0, abs(res.bound))) + b[j]
                    if sign > 0:
                        upper[layer][j] = min(upper[layer][j], val)
                    else:
                        lower[layer][j] = max(lower[layer][j], val)
        tail = interval_bounds(_Tail(net, layer), lower[layer], upper[layer])
        for k, (lo, hi) in enumerate(zip(tail.lower[1:], tail.upper[1:]), start=layer + 1):
            lower[k], upper[k] = np.maximum(lower[k], lo), np.minimum(upper[k], hi)
    return NetworkBounds(tuple(lower), tuple(upper))


class _Tail:
    """Layers ``start..`` of a network, for interval propagation from a tightened layer."""

    def __init__(self, net, start: int):
        self.weights = net.weights[start:]
        self.biases = net.biases[start:]

