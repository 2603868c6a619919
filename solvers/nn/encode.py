r"""Big-M MILP encoding of a ReLU network ``Q(a, s)`` maximised over feasible actions ``a``.

Input ``x = (a, s)``: ``a`` are the first ``n_action`` columns of an *action MILP* (the domain's
constraints; its own objective is ignored), ``s`` the fixed state. For hidden neuron ``j`` of
layer ``l`` with pre-activation ``z = w @ x_prev + c`` (``c = W_s s + b_1`` in layer 1, ``b_l``
after) and bounds ``L <= z <= U``:

- ``U <= 0`` over the whole state box: stably inactive, dropped (``h = 0``);
- ``L >= 0`` over the whole state box: stably active, one row ``h - w @ x_prev = c``; in the
  last hidden layer no row at all: the output weight ``v`` times ``w @ x_prev + c`` goes into
  the objective (folded; at J = 1 000 a [64] net's dense rows made the solve 1.9x slower);
- otherwise the big-M formulation with the neuron's own bounds, ``delta`` binary and ``z``
  free (one dense row per neuron, not two: at J = 1 000 a [64] net's solve took 0.053 s
  against 0.075 s with ``w @ x_prev`` in both r1 and r2)::

      z - w @ x_prev            =  c          (rz)
      h - z                     >= 0          (r1)
      h - z - L delta           <= -L         (r2)
      h     - U delta           <= 0          (r3),      0 <= h <= max(U, 0)

The objective is the (linear) output layer on the last hidden layer plus an optional linear
term on the action MILP's columns.

**What a new state changes** (:meth:`EncodedNetwork.update_state`): the state enters only
(i) the right-hand sides of layer 1 (``c``), (ii) each unstable neuron's ``L``, ``U`` (the
coefficients of ``delta`` in r2/r3 and the bound of r2), (iii) the column bounds of ``h`` and
``delta`` (a neuron stable *for this state* gets ``delta`` fixed, which HiGHS presolve removes;
an inactive one's rz/r1/r2 are freed, as they only restate ``L <= z <= U``), (iv) with one
hidden layer, the objective offset ``v @ c`` of the folded neurons.
The sparsity pattern, the set of dropped/linearised neurons, the weights and the action MILP are
fixed at build time from the *state box* ``[state_lower, state_upper]`` (default: unbounded,
so nothing depending on the state is dropped structurally); a state outside the box is refused.
A network without hidden layer is linear; its state term goes into the objective offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from solvers.backends.base import HIGHS_LARGE_COEFFICIENT, PersistentModel
from solvers.errors import SolverInputError
from solvers.milp import MILP, real_array
from solvers.nn.bounds import (NetworkBounds, action_range, knapsacks_from_milp, lp_tighten,
                               network_bounds)
from solvers.nn.network import ReLUNetwork

__all__ = ["EncodedNetwork", "encode_network"]


@dataclass(frozen=True, eq=False)
class _Layer:
    """Column/row indices of one encoded hidden layer (neuron indices into the layer)."""

    on: np.ndarray          # structurally active neurons
    un: np.ndarray          # big-M neurons
    h_on: np.ndarray
    h_un: np.ndarray
    d_un: np.ndarray        # delta columns of the big-M neurons
    z_un: np.ndarray        # their pre-activation columns
    rows_on: np.ndarray
    rz: np.ndarray
    r1: np.ndarray
    r2: np.ndarray
    r3: np.ndarray
    fold: np.ndarray        # structurally active neurons of the last layer, in the objective

    @property
    def kept_idx(self) -> np.ndarray:
        return np.concatenate([self.on, self.un])

    @property
    def kept_cols(self) -> np.ndarray:
        return np.concatenate([self.h_on, self.h_un])


def _first_constant(net: ReLUNetwork, n_action: int, state: np.ndarray) -> np.ndarray:
    return net.weights[0][:, n_action:] @ state + net.biases[0]


def _state_values(net, layouts, bounds: NetworkBounds, const0: np.ndarray):
    """Everything that depends on the state: (rows, lo, up), (rows, cols, vals), (cols, lo, up)."""
    rows, rlo, rup, crow, ccol, cval, cols, clo, cup = ([] for _ in range(9))
    for l, lay in enumerate(layouts):
        const = const0 if l == 0 else net.biases[l]
        rows.append(lay.rows_on)
        rlo.append(const[lay.on])
        rup.append(const[lay.on])
        L, U, c = bounds.lower[l][lay.un], bounds.upper[l][lay.un], const[lay.un]
        if not (np.isfinite(L).all() and np.isfinite(U).all()):
            raise SolverInputError("encode_network.bounds: must be finite for every big-M "
                                   "neuron; give the action columns finite bounds")
        # a neuron off at this state (U <= 0) has h = delta = 0, and its rows rz/r1/r2 would only
        # restate L <= z <= U, which hold for every feasible action: freed, since presolve
        # cannot see exact bounds as redundant (1-layer [64] nets at J = 1000: 0.3-0.5 s a
        # solve with the rows, 0.04 s without)
        off = U <= 0
        rows += [lay.rz, lay.r1, lay.r2]
        rlo += [np.where(off, -np.inf, c), np.where(off, -np.inf, 0.0), np.full(c.size, -np.inf)]
        rup += [np.where(off, np.inf, c), np.full(c.size, np.inf), np.where(off, np.inf, -L)]
        crow += [lay.r2, lay.r3]
        ccol += [lay.d_un, lay.d_un]
        cval += [-L, -U]
        cols += [lay.h_un, lay.d_un]
        clo += [np.zeros(c.size), np.where((L >= 0) & ~off, 1.0, 0.0)]
        cup += [np.maximum(U, 0.0), np.where(off, 0.0, 1.0)]
    cat = (lambda xs, dt=np.float64: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
    return ((cat(rows, np.int64), cat(rlo), cat(rup)),
            (cat(crow, np.int64), cat(ccol, np.int64), cat(cval)),
            (cat(cols, np.int64), cat(clo), cat(cup)))


def _check_big_m(bounds: NetworkBounds, n_hidden: int) -> None:
    """Refuse big-M values a MIP solver cannot take (``HIGHS_LARGE_COEFFICIENT``, 1e15; at such
    magnitudes feasibility tolerances make the encoding meaningless anyway): the bounds over
    the state box of the neurons that get a binary, as large as any state in the box writes."""
    for layer in range(n_hidden):
        L, U = bounds.lower[layer], bounds.upper[layer]
        big = np.abs(np.r_[L[(L < 0) & (U > 0)], U[(L < 0) & (U > 0)]])
        big = big[np.isfinite(big)]
        if big.size and big.max() >= HIGHS_LARGE_COEFFICIENT:
            raise SolverInputError(f"encode_network.network: hidden layer {layer + 1}'s "
                                   f"pre-activations reach {big.max():g} in magnitude over the "
                                   f"state box; big-M values from {HIGHS_LARGE_COEFFICIENT:g} "
                                   f"on are refused (rescale the weights)")


def _encode_layers(net, action_milp: MILP, n_action: int, state, structure: NetworkBounds,
                   bounds: NetworkBounds, n_hidden: int, relax: bool = False,
                   fold: bool = False):
    """MILP of the action MILP plus the first ``n_hidden`` hidden layers (zero objective),
    with the layouts. ``structure`` decides dropped/linear/big-M, ``bounds`` the values;
    ``fold``: the last layer's stably active neurons get no row (for the objective)."""
    n, m = action_milp.n_cols, action_milp.n_rows
    const0 = _first_constant(net, n_action, state)
    ent_r, ent_c, ent_v = [], [], []
    layouts = []
    in_cols = np.arange(n_action)
    for l in range(n_hidden):
        W = net.weights[l]
        W_in = W[:, :n_action] if l == 0 else W[:, layouts[-1].kept_idx]
        L, U = structure.lower[l], structure.upper[l]
        on = np.flatnonzero(L >= 0)
        un = np.flatnonzero((L < 0) & (U > 0))
        folded = on if fold and l == n_hidden - 1 else on[:0]
        on = on[:0] if folded.size else on
        h_on = np.arange(n, n + on.size); n += on.size
        h_un = np.arange(n, n + un.size); n += un.size
        d_un = np.arange(n, n + un.size); n += un.size
        z_un = np.arange(n, n + un.size); n += un.size
        rows_on = np.arange(m, m + on.size); m += on.size
        rz = np.arange(m, m + un.size); m += un.size
        r1 = np.arange(m, m + un.size); m += un.size
        r2 = np.arange(m, m + un.size); m += un.size
        r3 = np.arange(m, m + un.size); m += un.size
        for rows, idx, h in ((rows_on, on, h_on), (rz, un, z_un)):
            ent_r += [rows, np.repeat(rows, in_cols.size)]
            ent_c += [h, np.tile(in_cols, rows.size)]
            ent_v += [np.ones(rows.size), -W_in[idx].reshape(-1)]
        one = np.ones(un.size)
        ent_r += [r1, r1, r2, r2, r2, r3, r3]
        ent_c += [h_un, z_un, h_un, z_un, d_un, h_un, d_un]
        ent_v += [one, -one, one, -one, one, one, one]      # delta's: placeholders
        lay = _Layer(on, un, h_on, h_un, d_un, z_un, rows_on, rz, r1, r2, r3, folded)
        layouts.append(lay)
        in_cols = lay.kept_cols
    n_new, m_new = n - action_milp.n_cols, m - action_milp.n_rows
    (rr, rl, ru), (cr, cc, cv), (kc, kl, ku) = _state_values(net, layouts, bounds, const0)
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
    R, C, V = cat(ent_r, np.int64), cat(ent_c, np.int64), cat(ent_v, np.float64)
    keys = R * n + C
    order = np.argsort(keys, kind="stable")
    V[order[np.searchsorted(keys[order], cr * n + cc)]] = cv    # big-M values (explicit zeros kept)
    block = sp.csr_matrix((V, (R - action_milp.n_rows, C)), shape=(m_new, n))
    A = sp.vstack([sp.hstack([action_milp.A, sp.csr_matrix((action_milp.n_rows, n_new))]),
                   block], format="csr")
    row_lower = np.concatenate([action_milp.row_lower, np.full(m_new, -np.inf)])
    row_upper = np.concatenate([action_milp.row_upper, np.zeros(m_new)])
    col_lower = np.concatenate([action_milp.col_lower, np.zeros(n_new)])
    col_upper = np.concatenate([action_milp.col_upper, np.full(n_new, np.inf)])
    integ = np.concatenate([action_milp.integrality, np.zeros(n_new, bool)])
    row_lower[rr], row_upper[rr] = rl, ru
    col_lower[kc], col_upper[kc] = kl, ku
    for lay in layouts:
        col_lower[lay.z_un], col_upper[lay.z_un] = -np.inf, np.inf
    if not relax:
        for lay in layouts:
            integ[lay.d_un] = True
    else:
        integ[:] = False
    milp = MILP(np.zeros(n), A, row_lower, row_upper, col_lower, col_upper, integ, "max")
    return milp, layouts


@dataclass(frozen=True, eq=False)
class EncodedNetwork:
    """``milp`` maximises ``network(a, state) + linear_objective @ x`` over the action MILP.

    Columns: the action MILP's first, then per hidden layer ``h`` (kept neurons), ``delta``
    and ``z`` (big-M neurons). Use :meth:`update_state` to move a persistent model built from
    ``milp`` (``get_backend("highs").build(enc.milp)``) to another state in place, and solve it
    with ``presolve=False``: HiGHS 1.16's MIP presolve returns a wrong "optimal" value on some
    of these models, and without presolve on far fewer (docs/solvers.md).
    """

    milp: MILP
    network: ReLUNetwork
    n_action: int
    state: np.ndarray
    state_lower: np.ndarray
    state_upper: np.ndarray
    structure: NetworkBounds
    bounds: NetworkBounds
    knapsacks: tuple
    linear_objective: np.ndarray
    tighten: str | None
    _action_milp: MILP = field(repr=False)
    _action_part: tuple = field(repr=False)
    _layouts: tuple = field(repr=False)
    back_substitution: bool = True

    @property
    def n_state(self) -> int:
        return self.network.n_inputs - self.n_action

    def action(self, x) -> np.ndarray:
        """The action part ``x[:n_action]`` of a MILP solution, rounded (int64)."""
        return np.round(np.asarray(x)[: self.n_action]).astype(np.int64)

    def bounds_for(self, state) -> NetworkBounds:
        """Per-state pre-activation bounds (knapsack-exact layer 1, intervals, LP if chosen)."""
        state = self._check_state(state)
        a = self._action_milp
        nb = network_bounds(self.network, self.n_action, state,
                            action_lower=a.col_lower[: self.n_action],
                            action_upper=a.col_upper[: self.n_action],
                            knapsacks=self.knapsacks,
                            integer=a.integrality[: self.n_action],
                            action_part=self._action_part,
                            back_substitution=self.back_substitution)
        # never looser than the structural bounds (both are valid)
        st = self.structure
        nb = NetworkBounds(tuple(np.maximum(lo, s) for lo, s in zip(nb.lower, st.lower)),
                           tuple(np.minimum(hi, s) for hi, s in zip(nb.upper, st.upper)))
        if self.tighten == "lp":
            nb = lp_tighten(self.network, nb, a, self.n_action, state)
        return nb

    def objective_terms(self, state) -> tuple[np.ndarray, float]:
        """Objective coefficients (n,) and offset for ``state``."""
        state = self._check_state(state)
        net, n = self.network, self.milp.n_cols
        c = np.zeros(n)
        c[: self.linear_objective.size] += self.linear_objective
        W, b = net.weights[-1][0], float(net.biases[-1][0])
        if not self._layouts:
            c[: self.n_action] += W[: self.n_action]
            return c, b + float(W[self.n_action:] @ state)
        last = self._layouts[-1]
        c[last.kept_cols] += W[last.kept_idx]
        if last.fold.size:          # v @ (w @ x_prev + c) of the folded neurons
            v = W[last.fold]
            if len(self._layouts) == 1:
                w_in, cols = net.weights[0][last.fold, : self.n_action], np.arange(self.n_action)
                const = _first_constant(net, self.n_action, state)[last.fold]
            else:
                prev = self._layouts[-2]
                w_in, cols = net.weights[-2][np.ix_(last.fold, prev.kept_idx)], prev.kept_cols
                const = net.biases[-2][last.fold]
            c[cols] += v @ w_in
            b += float(v @ const)
        return c, b

    def warm_start(self, action_solution, state,
                   bounds: NetworkBounds | None = None) -> np.ndarray:
        """A full start vector (n,) for :attr:`milp` from a solution (action_milp.n_cols,) of
        the action MILP: neuron columns from the forward pass at ``(a, state)``. Feasible when
        ``action_solution`` is (``bounds``: :meth:`bounds_for` ``(state)``, computed if not
        given); pass it as ``warm_start`` so a time-limited solve always returns an action."""
        state = self._check_state(state)
        base = real_array("EncodedNetwork.warm_start.action_solution",
                          action_solution).reshape(-1)
        if base.shape != (self._action_milp.n_cols,):
            raise SolverInputError(f"EncodedNetwork.warm_start.action_solution: must have shape "
                                   f"({self._action_milp.n_cols},); got "
                                   f"{np.shape(action_solution)}")
        if not np.isfinite(base).all():     # else the start's neurons were NaN as well
            raise SolverInputError(f"EncodedNetwork.warm_start.action_solution: must be finite; "
                                   f"got {base[~np.isfinite(base)][0]}")
        x = np.zeros(self.milp.n_cols)
        x[: base.size] = base
        h = np.r_[base[: self.n_action], state]
        nb = self.bounds_for(state) if bounds is None else bounds
        # delta is fixed: to 0 where U <= 0, else 1 if L >= 0
        for lay, W, b, L, U in zip(self._layouts, self.network.weights, self.network.biases,
                                   nb.lower, nb.upper):
            z = W @ h + b
            h = np.maximum(z, 0.0)
            x[lay.h_on], x[lay.h_un], x[lay.z_un] = h[lay.on], h[lay.un], z[lay.un]
            x[lay.d_un] = (U[lay.un] > 0) & ((z[lay.un] > 0) | (L[lay.un] >= 0))
        return x

    def update_state(self, model: PersistentModel, state,
                     bounds: NetworkBounds | None = None) -> NetworkBounds:
        """Move ``model`` (built from :attr:`milp`) to ``state`` in place: row bounds, the big-M
        coefficients and the ``h``/``delta`` column bounds (and the whole objective, for its offset,
        in a net without hidden layer or with one hidden layer whose stably active neurons are
        folded). ``bounds``: this state's :meth:`bounds_for`, if already computed. Returns the
        bounds used."""
        if not isinstance(model, PersistentModel) or model.n_cols != self.milp.n_cols or \
                model.n_rows != self.milp.n_rows:
            raise SolverInputError("EncodedNetwork.update_state.model: must be a persistent model "
                                   f"built from this encoding's milp ({self.milp.n_rows} rows, "
                                   f"{self.milp.n_cols} columns)")
        state = self._check_state(state)
        nb = self.bounds_for(state) if bounds is None else bounds
        const0 = _first_constant(self.network, self.n_action, state)
        (rr, rl, ru), (cr, cc, cv), (kc, kl, ku) = _state_values(self.network, self._layouts, nb,
                                                                 const0)
        if cv.size and np.abs(cv).max() >= HIGHS_LARGE_COEFFICIENT:     # before any change
            raise SolverInputError(f"EncodedNetwork.update_state.state: big-M values reach "
                                   f"{np.abs(cv).max():g} at this state; values from "
                                   f"{HIGHS_LARGE_COEFFICIENT:g} on are refused (rescale the "
                                   f"weights, or give a bounded state box)")
        if rr.size:
            model.set_row_bounds(rr, rl, ru)
            model.set_coefficients(cr, cc, cv)
            model.set_col_bounds(kc, kl, ku)
        if not self._layouts or (len(self._layouts) == 1 and self._layouts[0].fold.size):
            model.set_objective(*self.objective_terms(state))       # the state's offset
        return nb

    def affine_in_action(self, state, bounds: NetworkBounds | None = None):
        """``(g, c)`` with ``Q(a, state) + linear_objective @ x = g @ x + c`` (g over the action
        MILP's columns) for every solution ``x`` of the action MILP, when every hidden neuron is
        stable at ``state`` (``bounds``: from :meth:`bounds_for` or :meth:`update_state`);
        ``None`` otherwise. Then the maximum is a linear objective over the action MILP alone:
        no neuron rows, no binaries."""
        state = self._check_state(state)
        nb = self.bounds_for(state) if bounds is None else bounds
        net, n = self.network, self.n_action
        A = net.weights[0][:, :n]
        c = net.weights[0][:, n:] @ state + net.biases[0]
        for layer in range(net.n_layers - 1):
            lo, hi = nb.lower[layer], nb.upper[layer]
            if ((lo < 0) & (hi > 0)).any():
                return None
            on = (lo >= 0).astype(np.float64)           # stable: h = z or h = 0
            W, b = net.weights[layer + 1], net.biases[layer + 1]
            A, c = W @ (on[:, None] * A), W @ (on * c) + b
        g = self.linear_objective.copy()
        g[:n] += A[0]
        return g, float(c[0])

    def piece_at(self, state, action, bounds: NetworkBounds | None = None):
        """``(g, c)`` as :meth:`affine_in_action`, for the linear piece of the network that
        holds ``action`` (n_action,): every neuron unstable at ``state`` fixed to its phase at
        ``(action, state)`` (active where its pre-activation is >= 0). ``g @ x + c`` equals the
        objective at ``action``, so an action maximising the piece is at least as good on the
        piece (a step of piecewise-linear ascent)."""
        state = self._check_state(state)
        a = real_array("EncodedNetwork.piece_at.action", action).reshape(-1)
        if a.size != self.n_action or not np.isfinite(a).all():
            raise SolverInputError(f"EncodedNetwork.piece_at.action: must be {self.n_action} "
                                   f"finite numbers; got shape {np.shape(action)}")
        nb = self.bounds_for(state) if bounds is None else bounds
        lower, upper = list(nb.lower), list(nb.upper)
        h = np.r_[a, state]
        for layer in range(self.network.n_layers - 1):
            z = self.network.weights[layer] @ h + self.network.biases[layer]
            lo, hi = lower[layer].copy(), upper[layer].copy()
            unstable = (lo < 0) & (hi > 0)
            lo[unstable & (z >= 0)] = 0.0
            hi[unstable & (z < 0)] = 0.0
            lower[layer], upper[layer] = lo, hi
            h = np.maximum(z, 0.0)
        return self.affine_in_action(state, NetworkBounds(tuple(lower), tuple(upper)))

    def _check_state(self, state) -> np.ndarray:
        s = real_array("EncodedNetwork.state", state).reshape(-1)
        if s.size != self.n_state or not np.isfinite(s).all():
            raise SolverInputError(f"EncodedNetwork.state: must be {self.n_state} finite numbers; "
                                   f"got shape {np.shape(state)}")
        out = (s < self.state_lower - 1e-12) | (s > self.state_upper + 1e-12)
        if out.any():
            i = int(np.flatnonzero(out)[0])
            raise SolverInputError(f"EncodedNetwork.state: must lie in the state box the "
                                   f"encoding was built for; got {s[i]} outside "
                                   f"[{self.state_lower[i]}, {self.state_upper[i]}] at index {i}")
        return s


def encode_network(network: ReLUNetwork, action_milp: MILP, state, *, state_lower=None,
                   state_upper=None, knapsacks=None, linear_objective=None,
                   tighten: str | None = None, n_action: int | None = None,
                   back_substitution: bool = True) -> EncodedNetwork:
    """Encode ``max_a network(a, state)`` over ``action_milp`` as a MILP.

    Parameters
    ----------
    network : ReLUNetwork with one output; input ``(a, state)``, ``n_action = n_inputs -
        len(state)`` action inputs = the first ``n_action`` columns of ``action_milp`` (these
        need finite bounds).
    action_milp : MILP of the action constraints (its objective is ignored).
    state : (n_state,) the state the MILP is built for.
    state_lower, state_upper : (n_state,) the box of states :meth:`EncodedNetwork.update_state`
        may move to (default unbounded); neurons stable over the whole box are dropped or
        linearised for good. Big-M values of 1e15 or more over the box are refused
        (``SolverInputError``; with an unbounded box, at the state that writes them).
    knapsacks : list of :class:`~solvers.nn.bounds.Knapsack` used for the layer-1 bounds
        (default: :func:`~solvers.nn.bounds.knapsacks_from_milp` on the action MILP).
    linear_objective : (action_milp.n_cols,) added to the objective (default 0).
    tighten : None, or "lp" to tighten later layers' bounds by LP at every state (slow).
    n_action : the number of action inputs, checked against ``n_inputs - len(state)`` when
        given (otherwise a state that is too short silently makes an auxiliary column of
        ``action_milp`` a network input).
    back_substitution : False bounds layer 2 by intervals, not by back-substitution to the
        actions (looser; with ``knapsacks=[]`` too, plain interval bounds: an ablation switch).
    """
    if not isinstance(network, ReLUNetwork):
        raise SolverInputError(f"encode_network.network: must be a ReLUNetwork; got "
                               f"{type(network).__name__}")
    if not isinstance(action_milp, MILP):
        raise SolverInputError(f"encode_network.action_milp: must be a MILP; got "
                               f"{type(action_milp).__name__}")
    if network.n_outputs != 1:
        raise SolverInputError(f"encode_network.network: must have 1 output; got "
                               f"{network.n_outputs}")
    if tighten not in (None, "lp"):
        raise SolverInputError(f"encode_network.tighten: must be None or 'lp'; got {tighten!r}")
    state = real_array("encode_network.state", state).reshape(-1)
    if n_action is not None and (isinstance(n_action, bool) or not isinstance(
            n_action, (int, np.integer))):
        raise SolverInputError(f"encode_network.n_action: must be an integer or None; got "
                               f"{n_action!r}")
    if n_action is not None and n_action != network.n_inputs - state.size:
        raise SolverInputError(f"encode_network.state: must have network.n_inputs - n_action = "
                               f"{network.n_inputs - n_action} entries; got {state.size}")
    n_action = network.n_inputs - state.size
    if not 0 <= n_action <= action_milp.n_cols:
        raise SolverInputError(f"encode_network.state: must have network.n_inputs - n_action "
                               f"entries with 0 <= n_action <= {action_milp.n_cols} (the action "
                               f"MILP's columns); got {state.size} for {network.n_inputs} inputs")
    lo_a, up_a = action_milp.col_lower[:n_action], action_milp.col_upper[:n_action]
    if not (np.isfinite(lo_a).all() and np.isfinite(up_a).all()):
        raise SolverInputError("encode_network.action_milp: must give the action columns finite "
                               "bounds (col_lower/col_upper of the first n_action columns)")
    box_lo = np.full(state.size, -np.inf) if state_lower is None else \
        real_array("encode_network.state_lower", state_lower).reshape(-1)
    box_up = np.full(state.size, np.inf) if state_upper is None else \
        real_array("encode_network.state_upper", state_upper).reshape(-1)
    if not np.isfinite(state).all():
        raise SolverInputError(f"encode_network.state: must be finite; got {state}")
    if box_lo.shape != state.shape or box_up.shape != state.shape or (box_lo > box_up).any() \
            or np.isnan(box_lo).any() or np.isnan(box_up).any():
        raise SolverInputError(f"encode_network.state_lower: must be <= state_upper (no NaN), "
                               f"both of shape {state.shape}; got {box_lo} and {box_up}")
    if linear_objective is None:
        linear = np.zeros(action_milp.n_cols)
    else:
        linear = real_array("encode_network.linear_objective", linear_objective).reshape(-1)
        if linear.shape != (action_milp.n_cols,) or not np.isfinite(linear).all():
            raise SolverInputError(f"encode_network.linear_objective: must be {action_milp.n_cols}"
                                   f" finite numbers; got shape {np.shape(linear_objective)}")
    if knapsacks is not None and not isinstance(knapsacks, (list, tuple)):
        raise SolverInputError(f"encode_network.knapsacks: must be a list or tuple of Knapsack "
                               f"objects; got {type(knapsacks).__name__}")
    ks = tuple(knapsacks_from_milp(action_milp, n_action) if knapsacks is None else knapsacks)
    integer = action_milp.integrality[:n_action]
    part = action_range(network.weights[0][:, :n_action], lo_a, up_a, ks, integer)
    structure = network_bounds(network, n_action, box_lo, state_upper=box_up,
                               action_lower=lo_a, action_upper=up_a, knapsacks=ks,
                               integer=integer, action_part=part,
                               back_substitution=back_substitution)
    n_hidden = network.n_layers - 1
    _check_big_m(structure, n_hidden)
    draft = EncodedNetwork(action_milp, network, n_action, state, box_lo, box_up, structure,
                           structure, ks, linear, tighten, action_milp, part, (),
                           back_substitution)
    bounds = draft.bounds_for(state)
    milp, layouts = _encode_layers(network, action_milp, n_action, state, structure, bounds,
                                   n_hidden, fold=True)
    big = np.abs(milp.A.data).max(initial=0.0)
    if big >= HIGHS_LARGE_COEFFICIENT:        # an unbounded box: the state writes them
        raise SolverInputError(f"encode_network.state: big-M values reach {big:g} at this "
                               f"state; values from {HIGHS_LARGE_COEFFICIENT:g} on are refused "
                               f"(rescale the weights, or give a bounded state box)")
    enc = EncodedNetwork(milp, network, n_action, state, box_lo, box_up, structure, bounds, ks,
                         linear, tighten, action_milp, part, tuple(layouts),
                         back_substitution)
    c, offset = enc.objective_terms(state)
    milp = MILP(c, milp.A, milp.row_lower, milp.row_upper, milp.col_lower, milp.col_upper,
                milp.integrality, "max", offset)
    return EncodedNetwork(milp, network, n_action, state, box_lo, box_up, structure, bounds, ks,
                          linear, tighten, action_milp, part, tuple(layouts),
                          back_substitution)
