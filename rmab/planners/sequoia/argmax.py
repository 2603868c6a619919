"""``argmax_{a feasible} Q(a, state, time-to-go)`` for a ReLU Q-network (numpy + MILP only).

Two oracles with one interface (``set_network``, ``solve``):

- :class:`MIPArgmax`: the network encoded exactly in a MILP together with the domain's
  constraint block (:func:`solvers.nn` big-M encoding), built once per network on a persistent
  HiGHS model; a new state only changes right-hand sides (in place), then one solve.
- :class:`BruteForceArgmax`: enumerates the feasible actions (small domains, and the path
  domain's route sets) and runs one batched forward pass: the reference the MIP is tested
  against, and the faster oracle where the list is short (``make_argmax(method="auto")``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from rmab._repr import CompactRepr
from rmab._validation import check_number
from rmab.domains.arm import check_states
from rmab.domains.base import ENUMERATION_SIZE, Domain, objective_scale
from rmab.errors import InvalidModelError, InvalidParameterError, PlanningError
from rmab.planners.sequoia.features import (check_network_fits, context_features, encode_inputs,
                                            network_values)

__all__ = ["ArgmaxResult", "BruteForceArgmax", "MIPArgmax", "make_argmax", "ARGMAX_METHODS",
           "AUTO_ENUMERATION"]

ARGMAX_METHODS = ("auto", "mip", "brute")
AUTO_ENUMERATION = 5_000   # "auto" enumerates up to so many feasible actions (path J = 20: 1-2.4k)
ASCENT_SHARE = 0.2         # of the time limit, for the ascent after a solve stopped early
# verdicts HiGHS can give on a network's MILP, which has a solution at every state
_WRONG_VERDICTS = ("infeasible", "infeasible_or_unbounded", "error")


@dataclass(frozen=True, eq=False, repr=False)
class ArgmaxResult(CompactRepr):
    """A maximising feasible ``action`` (int64 (action_size,)), its network ``value``
    (forward pass), the solve ``status`` ("optimal", "time_limit", ...), ``gap`` and
    ``seconds``."""

    action: np.ndarray
    value: float
    status: str
    gap: float
    seconds: float


def _block_admits_null(domain) -> bool:
    """Whether the domain's MILP admits the all-zero action (multiple interventions does not:
    it chooses exactly ``budget``; the simulator accepts it as the NO-ACTION reference)."""
    from dataclasses import replace

    from solvers import solve

    milp = domain.constraint_block().milp
    upper = milp.col_upper.copy()
    upper[domain.constraint_block().action] = 0.0
    return solve(replace(milp, col_upper=upper)).is_optimal


def _check_network(owner: str, network, domain, horizon: int) -> None:
    """A ReLUNetwork or GainTableNetwork whose gain table (if per period) has ``horizon``
    periods and whose inputs fit ``domain`` (:func:`~rmab.planners.sequoia.features.
    check_network_fits`): a wrong one was a raw AttributeError or numpy error at the first
    solve (a review)."""
    from rmab.planners.sequoia.gains import GainTableNetwork
    from solvers.nn import ReLUNetwork

    if not isinstance(network, (ReLUNetwork, GainTableNetwork)):
        raise InvalidParameterError(f"{owner}.network: must be a ReLUNetwork or "
                                    f"GainTableNetwork; got {type(network).__name__}")
    periods = getattr(network, "n_periods", None)
    if periods is not None and periods != horizon:
        raise InvalidModelError(f"{owner}.network: its gain table has one table per period of "
                                f"horizon {periods}; this oracle's horizon is {horizon}")
    # the training record is the planners' to check: the oracle's repeat of their warning
    # pointed into this module (a review)
    check_network_fits(owner, network, domain, record=False)


def _check_time_to_go(owner: str, time_to_go, horizon: int) -> int:
    """Periods left, 1..horizon (0 has no action to choose; it divided the input by 0)."""
    return check_number(f"{owner}.solve", "time_to_go", time_to_go, low=1, high=horizon,
                        integer=True)


def _check_domain(owner: str, domain) -> None:
    if not isinstance(domain, Domain):
        raise InvalidParameterError(f"{owner}.domain: must be a coRMAB Domain (see "
                                    f"rmab.domains); got {type(domain).__name__}")


class BruteForceArgmax:
    """Exact argmax by enumeration: :meth:`Domain.feasible_actions <rmab.domains.base.Domain.
    feasible_actions>` scored by one batched forward pass, over the same set as the MIP's (the
    null action is left out where the domain's MILP excludes it). ``actions``: that list, if
    already computed. ``max_ones``: the largest number of ones in a feasible action."""

    def __init__(self, domain, horizon: int, network=None, *, actions=None):
        _check_domain("BruteForceArgmax", domain)
        actions = domain.feasible_actions() if actions is None else actions
        if actions is None:
            raise InvalidParameterError(f"BruteForceArgmax.domain: must list its feasible "
                                        f"actions (action_size <= {ENUMERATION_SIZE}, or a "
                                        f"path domain with route sets); got a "
                                        f"{type(domain).__name__} with action_size "
                                        f"{domain.action_size}")
        actions = np.asarray(actions, dtype=np.int64)
        null = ~actions.any(axis=1)
        if null.any() and not _block_admits_null(domain):
            actions = actions[~null]
        self.domain = domain
        self.horizon = check_number("BruteForceArgmax", "horizon", horizon, low=1, integer=True)
        self.actions = actions
        self.max_ones = int(self.actions.sum(axis=1).max())
        self.network = None
        self._cached = self._first = self._levels = None
        if network is not None:
            self.set_network(network)

    def reset_start(self) -> None:
        """Nothing to reset: enumeration carries nothing from one solve to the next."""

    def set_network(self, network) -> None:
        _check_network("BruteForceArgmax", network, self.domain, self.horizon)
        self.network = network

    def values(self, states, time_to_go: int) -> np.ndarray:
        """Network value of every feasible action (rows of ``self.actions``), (K,) float64
        (:class:`~rmab.errors.PlanningError` if one is not finite: weights too large).
        The first layer's action part ``actions @ W_a.T`` (K, h1) is computed once per
        network; a state adds one context vector to it."""
        net = self.network
        if net is None:
            raise PlanningError("BruteForceArgmax: no network set (call set_network first)")
        time_to_go = _check_time_to_go("BruteForceArgmax", time_to_go, self.horizon)
        states = check_states("BruteForceArgmax.solve", states, self.domain.n_arms,
                              self.domain.n_states)
        table = getattr(net, "gain_table", None)
        base = net if table is None else net.network
        m = self.actions.shape[1]
        if self._cached is not net:       # (a table on the same body needs its levels too)
            self._first = self.actions @ base.weights[0][:, :m].T
            self._levels = None if table is None else self.actions @ net.levels_map.T
            self._cached = net
        ctx = context_features(states, time_to_go, self.horizon, self.domain.n_states)
        with np.errstate(over="ignore", invalid="ignore"):       # checked below
            h = self._first + (base.weights[0][:, m:] @ ctx + base.biases[0])   # layer 1 (K, h)
            for w, b in zip(base.weights[1:], base.biases[1:]):                 # ReLU, then on
                h = np.maximum(h, 0.0) @ w.T + b
            v = h.reshape(-1)
            if table is not None:
                arms = np.arange(self._levels.shape[1])                   # levels (K, n_arms)
                v = v + net.gains(states, time_to_go)[arms, self._levels].sum(axis=1)
        if not np.isfinite(v).all():        # as network_values: argmax took the first NaN
            raise PlanningError(f"BruteForceArgmax: the network's value of an action must be "
                                f"finite; got {v[~np.isfinite(v)][0]} (its weights overflow "
                                f"float64 at these inputs)")
        return v

    def solve(self, states, time_to_go: int) -> ArgmaxResult:
        v = self.values(states, time_to_go)
        i = int(np.argmax(v))
        return ArgmaxResult(self.actions[i].copy(), float(v[i]), "optimal", 0.0, 0.0)


class MIPArgmax:
    """Exact argmax by MILP: the network (big-M, :func:`solvers.nn.encode_network`) over the
    domain's constraint block, on a persistent model.

    ``set_network`` encodes a network once, for the whole box of normalised contexts
    ``[0, 1]^(n_arms + 1)`` (neurons stable over the box are dropped or linearised for good),
    and builds the model. A :class:`~rmab.planners.sequoia.gains.GainTableNetwork`'s table
    adds its level objective at each state (linear, in place). The domain block gets one valid
    inequality, ``Σ a <= max_ones`` (the largest feasible action, one MILP solve at
    construction), which makes the first layer's bounds exact under a cardinality constraint
    even where the domain's own rows involve
    auxiliary variables (capacity, scheduling, path). ``solve`` moves it to a state in place
    (layer-1 right-hand sides, big-M values, column bounds) and solves -- unless every neuron is
    stable at that state: then the network is affine in the action there and the argmax is a
    linear objective over the domain block alone, solved on a second persistent model
    (:meth:`~rmab.domains.base.Domain.linear_model`: the LP first, or the path domain's exact
    search; ``n_linear`` counts these
    solves; a network trained with the stability penalty takes this
    path on most states). With a time limit, the MILP starts from block columns that are
    feasible at every state (the block does not depend on the state), neuron columns from the
    forward pass at the state, so HiGHS holds an incumbent from the outset: the latest
    solution's block (``carry_start``, for acting: at J = 100 on capacity a step took 0.022 s
    with it, 0.031 s without; after a time-limited solve, the block of the action returned,
    where :meth:`~rmab.domains.base.Domain.block_solution` gives it;
    :meth:`reset_start` goes back to the first) or always the
    construction solve's (``carry_start=False``, for targets: a solve then depends on its
    state alone, so parallel target solves equal serial ones when they finish). When the solve stops
    early (time limit), the incumbent (if any) competes with the fallback action -- the domain's
    null action if feasible, else a fixed random feasible action -- and ``n_fallback`` random
    feasible actions (drawn from a stream seeded by the state and time to go), scored by one
    batched forward pass; the best is then improved by piecewise-linear ascent for up to
    ``ASCENT_SHARE`` of the time limit more (the network's linear piece at the action,
    maximised over the block by the linear model, while the network's value rises;
    ``n_ascent`` counts its steps; docs/sequoia.md). A solve HiGHS ends INFEASIBLE (or with
    an error), which the model, feasible at every state, cannot be, is solved once more from
    one ascent step's action as a start, in what is left of the time limit (``n_resolve``;
    HiGHS 1.16 without presolve, 5 of 45 000 fuzzed encoded networks, all fixed; an answer
    called optimal is not checked: one ascent step caught HiGHS's 9 below the optimum there,
    but cost up to 67 % of a solve on the domains, where it found none in 17 928). An action
    always exists; ``status`` says what happened. What a solve stopped by a time limit
    returns depends on the time it had (HiGHS's incumbent, the ascent's steps), so only
    solves that finish are reproducible across machines and loads.
    ``tighten="lp"`` tightens the later layers' bounds by LP at every state
    (:func:`solvers.nn.encode_network`).
    """

    def __init__(self, domain, horizon: int, network=None, *, mip_gap: float = 1e-4,
                 time_limit: float | None = None, threads: int = 1, backend: str = "highs",
                 n_fallback: int = 100, tighten: str | None = None, carry_start: bool = True):
        from solvers import get_backend

        owner = "MIPArgmax"
        _check_domain(owner, domain)
        self.domain = domain
        self.horizon = check_number(owner, "horizon", horizon, low=1, integer=True)
        self.mip_gap = check_number(owner, "mip_gap", mip_gap, low=0.0, high=1.0,
                                    high_open=True)
        self.time_limit = None if time_limit is None else check_number(
            owner, "time_limit", time_limit, low=0.0, low_open=True)
        self.threads = check_number(owner, "threads", threads, low=1, integer=True)
        if tighten not in (None, "lp"):
            raise InvalidParameterError(f"{owner}.tighten: must be None or 'lp'; got "
                                        f"{tighten!r}")
        n_fallback = check_number(owner, "n_fallback", n_fallback, low=0, integer=True)
        self.block = domain.constraint_block()
        try:
            self._backend = get_backend(backend)
        except LookupError as exc:
            raise InvalidParameterError(f"{owner}.backend: {exc}") from exc
        self.max_ones, self._first = _max_ones(self.block.milp, domain.action_size,
                                               self._backend)
        self._start = self._first
        self.carry_start = bool(carry_start)
        self.action_milp = _with_cardinality_cut(self.block.milp, domain.action_size,
                                                 self.max_ones)
        m = self.action_milp
        self._linear = domain.linear_model(
            self._backend, replace(m, c=np.zeros(m.n_cols), sense="max", offset=0.0))
        self.fallback = (domain.null_action() if _block_admits_null(domain)
                         else domain.sample_action(0))    # an action of the MILP's set
        self.n_fallback = int(n_fallback)
        self.tighten = tighten
        self.network = self.encoded = self.model = self.gains_at = None
        self.update_seconds = 0.0
        self.n_linear = self.n_ascent = self.n_resolve = 0
        if network is not None:
            self.set_network(network)

    def reset_start(self) -> None:
        """Start the next time-limited solve from the construction solve's block again (a new
        episode: it then plays as a new oracle would)."""
        self._start = self._first

    def set_network(self, network) -> None:
        from solvers.errors import SolverInputError
        from solvers.nn import encode_network

        _check_network("MIPArgmax", network, self.domain, self.horizon)
        n_ctx = self.domain.n_arms + 1
        ctx = context_features(np.zeros(self.domain.n_arms), self.horizon, self.horizon,
                               self.domain.n_states)
        self.gains_at = getattr(network, "gains", None)       # a GainTableNetwork's
        relu = getattr(network, "network", network)
        try:
            encoded = encode_network(relu, self.action_milp, ctx, state_lower=np.zeros(n_ctx),
                                     state_upper=np.ones(n_ctx),
                                     n_action=self.domain.action_size, tighten=self.tighten)
            model = self._backend.build(encoded.milp)
        except SolverInputError as exc:     # weights the MIP cannot take (big-M of 1e15, an
            raise InvalidModelError(f"MIPArgmax.network: {exc}") from exc   # output of 1e21)
        self.encoded, self.model, self.network = encoded, model, network

    def solve(self, states, time_to_go: int) -> ArgmaxResult:
        """The argmax in ``states`` with ``time_to_go`` periods left (class doc). A model the
        solver cannot take at this state (weights of 1e10: objective coefficients HiGHS reads
        as infinite) raises :class:`~rmab.errors.PlanningError`, as the myopic planner's
        objective does; a network value that is not finite too."""
        from solvers.errors import SolverInputError

        if self.model is None:
            raise PlanningError("MIPArgmax: no network set (call set_network first)")
        time_to_go = _check_time_to_go("MIPArgmax", time_to_go, self.horizon)
        d = self.domain
        states = check_states("MIPArgmax.solve", states, d.n_arms, d.n_states)
        try:
            return self._solve(states, time_to_go)
        except SolverInputError as exc:   # raw from the solvers layer (a fuzz review)
            raise PlanningError(f"MIPArgmax: the network's MIP cannot be solved at this state; "
                                f"{exc}") from exc

    def _solve(self, states, time_to_go: int) -> ArgmaxResult:
        start = time.perf_counter()
        d = self.domain
        ctx = context_features(states, time_to_go, self.horizon, d.n_states)
        bounds = self.encoded.bounds_for(ctx)
        affine = self.encoded.affine_in_action(ctx, bounds)
        extra = (None if self.gains_at is None
                 else self.block.level_objective(self.gains_at(states, time_to_go)))
        if affine is None:
            self.encoded.update_state(self.model, ctx, bounds)
            c, b = self.encoded.objective_terms(ctx)
            model = self.model
            # c @ x = Q less the offset (the output bias and folded neurons' constants)
            span = (float(bounds.lower[-1][0]) - b, float(bounds.upper[-1][0]) - b)
        else:                  # every neuron stable: a linear objective over the block alone
            c, model, span = affine[0], self._linear, None
        self._set_objective(model, c, extra, span)
        warm = None
        if affine is None and self.time_limit is not None and self._start is not None:
            warm = self.encoded.warm_start(self._start, ctx, bounds)
        self.update_seconds = time.perf_counter() - start
        self.n_linear += affine is not None
        options = {} if affine is not None else {"presolve": False}   # docs/solvers.md
        if warm is not None:         # its neuron columns are the forward pass: no LP needed
            options.update(warm_start=warm, complete_start=False)
        res = model.solve(time_limit=self.time_limit, mip_gap=self.mip_gap,
                          threads=self.threads, **options)
        cand = [] if res.x is None else [self._action_of(res.x, states, time_to_go)]
        if not res.is_optimal:      # stopped early: also try sampled feasible actions
            rng = np.random.default_rng([int(time_to_go), *np.asarray(states, np.int64)])
            cand += [self.fallback] + [d._sample_action(rng) for _ in range(self.n_fallback)]
        values = self._values(np.stack(cand), states, time_to_go)
        best = int(np.argmax(values))
        action, value = cand[best].copy(), float(values[best])
        if affine is None and res.status.value in _WRONG_VERDICTS:
            action, value, again = self._again(model, options, action, value, states,
                                               time_to_go, ctx, bounds, extra, start)
            res = res if again is None else again
        if self.carry_start and res.x is not None and res.x.size >= self.action_milp.n_cols:
            self._start = res.x[:self.action_milp.n_cols]
        if not res.is_optimal and affine is None and self.time_limit is not None:
            action, value = self._ascend(action, value, states, time_to_go, ctx, bounds, extra)
            if self.carry_start and (block_x := d.block_solution(action)) is not None:
                self._start = block_x
        return ArgmaxResult(action, value, res.status.value, float(res.gap),
                            time.perf_counter() - start)

    def _set_objective(self, model, c, extra, span=None) -> None:
        """The objective ``c @ x`` (+ the gain table's ``extra``) as the solver takes it. HiGHS's
        gap is relative to the objective, so a constant in it hides differences between
        actions: the output bias is left out (a bias of 1e4 gave suboptimal "optimal" actions
        in 6 of 30 states). ``span``: bounds (L, U) on ``c @ x`` over the actions (the
        output's interval bounds); where they lie far from 0 for their width (constants of
        stable active neurons inside ``c @ x``: 7 of 30 states, a second review) the solver
        sees ``c @ x - L``, in [0, U - L]; where they are loose, as interval bounds over
        deep networks and gain tables can be, that shift would make the constant larger (10
        of 30 states, a third review) and ``c @ x`` goes in as it is. Scaled up when tiny
        (:func:`~rmab.domains.base.objective_scale`: outputs times 1e-7 gave the 15th-best
        action of 140). Values come from the forward pass, not the solver."""
        if extra is not None:
            c = c.copy()
            k = extra[0].size
            c[:k] += extra[0]
            if span is not None:     # the table's sums over the columns' box
                e, on = extra[0], extra[0] != 0
                lo, up = self.action_milp.col_lower[:k][on], self.action_milp.col_upper[:k][on]
                span = (span[0] + float(np.minimum(e[on] * lo, e[on] * up).sum()),
                        span[1] + float(np.maximum(e[on] * lo, e[on] * up).sum()))
        shift = 0.0
        if span is not None and np.isfinite(span).all() and \
                span[1] - span[0] < max(abs(span[0]), abs(span[1])):
            shift = span[0]
        scale = objective_scale(c)
        model.set_objective(c / scale, -shift / scale)

    def _action_of(self, x, states, time_to_go: int) -> np.ndarray:
        """The action of a MILP solution, feasible (:meth:`~rmab.domains.base.Domain.repair_action`
        drops what the solver's tolerance let in, by the network's values)."""
        return self.domain.repair_action(
            self.block.action_from_solution(x),
            lambda a: self._values(a, states, time_to_go), owner=type(self).__name__)

    def _values(self, actions, states, time_to_go: int) -> np.ndarray:
        x = encode_inputs(actions, states, time_to_go, self.horizon, self.domain.n_states)
        return network_values(type(self).__name__, self.network, x)

    def _again(self, model, options, action, value, states, time_to_go, ctx, bounds, extra,
               start):
        """Solve the network's MILP once more after HiGHS called it infeasible (or failed): it
        has a solution at every state (any block action with its forward pass), and HiGHS 1.16
        without presolve gave that verdict to 5 of 45 000 fuzzed encoded networks
        (docs/sequoia.md). One ascent step from ``action`` (the best sampled action), then
        the solve from the step's block columns as a start (the first solve's own, if any,
        when the step found nothing): that fixed all 5 (presolve, 3).
        Both run within what is left of the time limit since ``start`` (none left: neither).
        The best action by network value wins; ``n_resolve`` counts these solves. Returns
        (action, value, the new solve or None)."""
        def left():                 # of the time limit (None: no limit)
            return None if self.time_limit is None else \
                self.time_limit - (time.perf_counter() - start)

        if (rest := left()) is not None and rest <= 0:
            return action, value, None
        x, step, q = self._step(action, states, time_to_go, ctx, bounds, extra,
                                None if rest is None
                                else min(rest, ASCENT_SHARE * self.time_limit))
        if q > value:                               # -inf if the step found nothing
            action, value = step, q
        if (rest := left()) is not None and rest <= 0:
            return action, value, None
        if x is not None and x.size != self.action_milp.n_cols:    # the path's route search
            x = self.domain.block_solution(step)
        if x is not None:
            options = {**options, "warm_start": self.encoded.warm_start(x, ctx, bounds),
                       "complete_start": False}
        self.n_resolve += 1
        res = model.solve(time_limit=rest, mip_gap=self.mip_gap,
                          threads=self.threads, **options)
        if res.x is not None:
            again = self._action_of(res.x, states, time_to_go)
            q = float(self._values(again[None], states, time_to_go)[0])
            if q > value:
                action, value = again, q
        return action, value, res

    def _step(self, action, states, time_to_go, ctx, bounds, extra, time_limit):
        """One step of piecewise-linear ascent: the network's linear piece at ``action``
        (:meth:`solvers.nn.EncodedNetwork.piece_at`) maximised over the domain block by the
        linear model. Returns its solution, action and network value, or (None, None, -inf)."""
        self._set_objective(self._linear, self.encoded.piece_at(ctx, action, bounds)[0], extra)
        res = self._linear.solve(time_limit=time_limit, mip_gap=self.mip_gap,
                                 threads=self.threads)
        if res.x is None:
            return None, None, -np.inf
        step = self._action_of(res.x, states, time_to_go)
        return res.x, step, float(self._values(step[None], states, time_to_go)[0])

    def _ascend(self, action, value, states, time_to_go, ctx, bounds, extra):
        """Piecewise-linear ascent from ``action`` for ``ASCENT_SHARE`` of the time limit
        (:meth:`_step` while the network's value rises)."""
        budget = ASCENT_SHARE * float(self.time_limit)
        deadline = time.perf_counter() + budget
        while (left := deadline - time.perf_counter()) > 0:
            step, q = self._step(action, states, time_to_go, ctx, bounds, extra,
                                 min(left, budget / 3))[1:]
            if step is None or q <= value + 1e-12 * max(1.0, abs(value)):
                break
            action, value = step, q
            self.n_ascent += 1
        return action, value


def _max_ones(milp, action_size: int, backend) -> tuple[int, np.ndarray | None]:
    """The largest ``Σ_{i < action_size} x_i`` over ``milp`` (its proven bound, rounded down,
    if the solve stops early; ``action_size`` if none is proven), and the solve's solution
    (n_cols,) or None: feasible for ``milp`` with the cut ``Σ x_i <= max_ones`` too."""
    c = np.zeros(milp.n_cols)
    c[:action_size] = 1.0
    probe = type(milp)(c, milp.A, milp.row_lower, milp.row_upper, milp.col_lower,
                       milp.col_upper, milp.integrality, "max", 0.0)
    res = backend.build(probe).solve(time_limit=10.0)
    bound = res.objective if res.is_optimal else res.bound
    if not np.isfinite(bound):
        return int(action_size), res.x
    return int(min(action_size, np.floor(bound + 1e-6))), res.x


def _with_cardinality_cut(milp, action_size: int, max_ones: int):
    """``milp`` plus the valid row ``Σ_{i < action_size} x_i <= max_ones`` (none if it does not
    cut)."""
    if max_ones >= action_size:
        return milp
    row = np.zeros((1, milp.n_cols))
    row[0, :action_size] = 1.0
    return milp.add_rows(row, [-np.inf], [max_ones])


def make_argmax(domain, horizon: int, method: str = "auto", *, mip_gap: float = 1e-4,
                time_limit: float | None = None, network=None, carry_start: bool = True):
    """An argmax oracle: ``"mip"`` (:class:`MIPArgmax`), ``"brute"`` (enumeration) or
    ``"auto"``: enumeration when the domain lists at most ``AUTO_ENUMERATION`` feasible
    actions (a forward pass over them is faster than one MIP solve), else the MIP
    (``carry_start``: see :class:`MIPArgmax`)."""
    _check_domain("make_argmax", domain)
    if method not in ARGMAX_METHODS:
        raise InvalidParameterError(f"make_argmax.method: must be one of {ARGMAX_METHODS}; "
                                    f"got {method!r}")
    actions = None
    if method == "auto":
        actions = domain.feasible_actions(AUTO_ENUMERATION)
        method = "mip" if actions is None else "brute"
    if method == "brute":
        return BruteForceArgmax(domain, horizon, network, actions=actions)
    return MIPArgmax(domain, horizon, network, mip_gap=mip_gap, time_limit=time_limit,
                     carry_start=carry_start)


def maxima_of(oracle, jobs: list) -> tuple[list[float], int]:
    """The maxima of ``jobs`` (``(states, time_to_go)`` pairs) and how many of the solves
    stopped at their limit."""
    results = [oracle.solve(s, ttg) for s, ttg in jobs]
    return [r.value for r in results], sum(r.status != "optimal" for r in results)


_WORKER: dict = {}


def solve_chunk(spec: tuple, session, version: int, network, jobs: list
                ) -> tuple[list[float], int]:
    """Worker-process entry of parallel target solves: :func:`maxima_of` ``jobs``. The oracle
    is built once per ``session`` (one training run) in each process, and its network replaced
    only when ``version`` changes (a new target network)."""
    if _WORKER.get("session") != session:
        domain, horizon, method, mip_gap, time_limit = spec
        _WORKER.update(session=session, version=None,
                       oracle=make_argmax(domain, horizon, method, mip_gap=mip_gap,
                                          time_limit=time_limit, carry_start=False))
    oracle = _WORKER["oracle"]
    if _WORKER["version"] != version:
        oracle.set_network(network)
        _WORKER["version"] = version
    return maxima_of(oracle, jobs)
