"""SEQUOIA training (torch): a warm start, then DQN in which both the greedy action and
the Bellman target's ``max`` are exact argmaxes over the domain's feasible actions
(Xu, Wilder, Khalil, Tambe, ICLR 2025, arXiv 2503.01919, Alg. 1).

Departures from the reference implementation (spec ``coRMAB.md`` §4), on purpose:

- hard target updates every ``target_update`` gradient steps (not Polyak with τ = 1e-6);
- cosine learning-rate decay to ``lr_floor * learning_rate`` over the run (not ×0.9 per
  episode, which stops learning within ~30 episodes);
- uniform replay (no prioritised replay whose priorities are never updated);
- the target maxima are cached by ``(next state, time-to-go)`` for as long as the target
  network lives (cleared at each hard update), not for one episode;
- finite horizon through the time-to-go input: no bootstrap at the last period;
- the domain's constraints are the same in training and evaluation (one constraint block);
- a ReLU-stability penalty (:mod:`rmab.planners.sequoia.stability`) keeps most neurons stable
  over the feasible actions of each state, so that the MIP argmax has few binaries left;
- by default the warm start fits the Lagrangian bound on the action value rather than the
  one-step reward, and the network learns ``Q`` less the Lagrangian bound on the state value
  (:mod:`rmab.planners.sequoia.warm_targets`);
- the Bellman targets carry a zero-mean control variate from the same relaxation
  (``control_variate``): the successor's per-arm bound values are replaced by their
  expectation, which removes most of the sampling noise of the targets;
- the returned network is the best of periodic validations (over ``restarts`` independent
  trainings if asked; its best few re-scored on fresh episodes if ``selection_episodes``),
  not the last.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
import warnings
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field

import numpy as np

from rmab._processes import check_guarded, spawn_failure, spawn_pool, stop_now
from rmab._reporting import count_noun
from rmab._repr import CompactRepr
from rmab._validation import DISCOUNT_GAP, as_generator, check_number, check_path
from rmab.domains.arm import initial_states
from rmab.domains.base import ENUMERATION_SIZE
from rmab.errors import (InvalidModelError, InvalidParameterError, PlanningError, RmabWarning,
                         SolverLimitWarning)
from rmab.models.storage import atomic_write
from rmab.planners.sequoia.argmax import (ARGMAX_METHODS, BruteForceArgmax, _check_domain,
                                          make_argmax, maxima_of, solve_chunk)
from rmab.planners.sequoia.cache import TargetCache
from rmab.planners.sequoia.features import encode_inputs, input_size, with_training_record
from rmab.planners.sequoia.gains import GainTableNetwork, table_args, whittle_gain_table
from rmab.planners.sequoia.qnet import QNetwork, torch
from rmab.planners.sequoia.replay import Batch, ReplayBuffer
from rmab.planners.sequoia.stability import instability
from rmab.planners.sequoia.warm_targets import WARM_STARTS, LagrangianBound, warm_start_dataset

__all__ = ["SequoiaConfig", "TrainResult", "WarmStartResult", "train_sequoia", "warm_start",
           "bellman_targets", "TargetMaxima", "to_relu_network", "beats", "paired_difference",
           "save_checkpoint", "load_checkpoint", "load_qnetwork"]

OFFSETS = ("lagrangian", "none")
CONTROL_VARIATES = ("lagrangian", "none")
GAIN_TABLES = ("none", "whittle", "both")
WHITTLE_KINDS = ("discounted", "finite")


@dataclass(frozen=True)
class SequoiaConfig:
    """Hyper-parameters of :func:`train_sequoia` (defaults: the paper's protocol where it
    states one, ``hidden=(32, 32)`` where the reference uses ``(16, 32)``).

    ``target_update``: gradient steps between hard target updates. ``epsilon_*``: ε decays
    linearly from ``epsilon_start`` to ``epsilon_end`` over the first ``epsilon_decay``
    fraction of episodes. ``reward_scale``: rewards are multiplied by it before learning
    (``None`` = ``1 / n_arms``; argmaxes do not depend on it). ``argmax``: ``"mip"`` (HiGHS),
    ``"brute"`` (enumeration of the feasible actions) or ``"auto"`` (enumeration where the
    domain lists at most 5 000 feasible actions — action_size <= 16, as multiple interventions
    at J = 20 (253), or a path domain's route sets, 1-2.4k at J = 20 — else the MIP; the same
    exact argmax, faster).
    ``action_gap``/``target_gap``: relative MIP gaps of acting and target solves;
    ``time_limit``/``target_time_limit``: their time limits in seconds (None = none); a
    time-limited target uses the incumbent's value, a lower bound on the maximum.
    ``workers``: processes (``spawn``) for target solves, 0 = none.
    ``stability``: weight of the ReLU-stability penalty added to the warm-start and DQN losses
    (0 = none); it is what makes the MIP argmax fast (at J = 100 a warm-started network solves
    in 0.035 s instead of hitting a 10 s limit, see
    docs/history.md#benchmarks-combinatorial-planning, sessions 5-6).
    ``warm_start``: the regression target before DQN, ``"lagrangian"`` (the Lagrangian bound
    on the action value) or ``"myopic"`` (the paper's one-step reward); see
    :mod:`~rmab.planners.sequoia.warm_targets`. ``offset``: ``"lagrangian"`` makes the network
    learn ``Q(s, a, τ) - D(s, τ)``, with ``D`` the Lagrangian bound on the state value, in the
    warm start and in DQN (argmaxes are unchanged: ``D`` does not depend on the action; the
    network's fit and stability go to what differs between actions); ``"none"``: the network
    learns ``Q`` (the paper's). ``control_variate``: ``"lagrangian"`` adds to each
    bootstrapped target ``discount * (E[c(s') | s, a] - c(s'))``, ``c`` the Lagrangian dual of
    the successor at the current state's price (:meth:`LagrangianBound.next_correction`): zero
    in expectation, so the targets stay unbiased, while it cancels the successor's per-arm
    values, >99 % of the variance of ``D(s')``; ``"none"``: the plain sampled target.
    ``validate_every``: every so many episodes
    (and after the warm start and at the end) the greedy policy plays ``validation_episodes``
    fixed episodes (starts and uniforms drawn once from the training seed, common to all
    validations) and the network with the best mean reward is the one returned unless
    re-selected (``selection_episodes``; 0 = no validation: the last network); 20 episodes
    rather than 5 kept a better network on 3 of 7 instances and a worse one on none
    (docs/history.md#benchmarks-combinatorial-planning, session 5). ``restarts``: independent
    trainings (warm start and DQN from fresh seeds; the first is the single run's), all scored
    on the same validation episodes; the best validated network over all of them is returned
    (> 1 needs validation). ``gain_table``: ``"whittle"`` adds a per-arm table ``G[j, s_j,
    ℓ_j]`` to the network (:mod:`~rmab.planners.sequoia.gains`: state-dependent gains of each
    arm's level, linear in the MIP) and warm-starts it at the Whittle policy's gains, so that
    the warm-started greedy policy is the Whittle index policy and DQN refines it; ``"none"``:
    the network alone (the paper's); ``"both"``: each restart trains the network alone, then
    the network with the Whittle table (from a fresh seed), all validated on the same episodes
    (needs validation). :attr:`trainings` lists them. ``whittle``: the Whittle gains the table
    starts at, ``"discounted"`` (the infinite-horizon indices at ``discount``, one table) or
    ``"finite"`` (the time-dependent indices of the undiscounted ``horizon``-period problem,
    one table per time-to-go: the warm start is then the ``whittle-finite`` policy, the better
    Whittle policy for the protocol's total reward;
    docs/history.md#benchmarks-combinatorial-planning, session 22).
    ``selection_episodes``: after training,
    the ``selection_top`` best validated networks play so many fresh episodes and the best
    there is returned (0 = the validated best; needs validation): the best of many noisy
    validations is biased upwards, a fresh score is not. With a Whittle-tabled training, its
    warm start (the Whittle policy) is re-scored too and stays unless the best there beats it
    by more than ``selection_margin`` standard errors of their paired per-episode difference
    (0 = the best there): a network that cannot show it improves on the Whittle policy does
    not replace it. ``training_jobs``: processes that run
    the trainings side by side (``spawn``; 1 = one after another here). Training ``k >= 1`` is
    seeded from the first training's torch seed and ``k``, apart from training 0's stream, so
    the result does not depend on ``training_jobs``. With ``workers`` too, every training
    starts its own target-solve workers.
    """

    horizon: int = 20
    episodes: int = 100
    hidden: tuple = (32, 32)
    discount: float = 0.99
    batch_size: int = 32
    buffer_size: int = 10_000
    learning_rate: float = 1e-3
    lr_floor: float = 0.1
    target_update: int = 50
    epsilon_start: float = 0.5
    epsilon_end: float = 0.05
    epsilon_decay: float = 0.5
    huber_delta: float = 1.0
    warm_start_samples: int = 4000
    warm_start_epochs: int = 40
    p_high: float = 0.5
    reward_scale: float | None = None
    argmax: str = "auto"
    time_limit: float | None = 2.0
    target_time_limit: float | None = 0.5
    action_gap: float = 1e-4
    target_gap: float = 0.01
    workers: int = 0
    stability: float = 1.0
    warm_start: str = "lagrangian"
    offset: str = "lagrangian"
    control_variate: str = "lagrangian"
    validate_every: int = 10
    validation_episodes: int = 20
    restarts: int = 1
    gain_table: str = "none"
    whittle: str = "discounted"
    selection_episodes: int = 0
    selection_top: int = 3
    selection_margin: float = 2.0
    training_jobs: int = 1

    def __post_init__(self):
        o = "SequoiaConfig"

        def check(name, **limits):      # stored as checked: 3.0 episodes as the int 3
            object.__setattr__(self, name, check_number(o, name, getattr(self, name), **limits))

        for name in ("horizon", "batch_size", "buffer_size", "target_update",
                     "validation_episodes", "restarts", "training_jobs"):
            check(name, low=1, integer=True)
        check("selection_top", low=2, integer=True)
        if self.restarts > 1 and self.validate_every == 0:
            raise InvalidParameterError(f"{o}.restarts: > 1 needs validation to choose among "
                                        f"the restarts (validate_every > 0); got restarts="
                                        f"{self.restarts} with validate_every=0")
        for name in ("episodes", "warm_start_samples", "warm_start_epochs", "workers",
                     "validate_every", "selection_episodes"):
            check(name, low=0, integer=True)
        for name in ("discount", "lr_floor", "epsilon_start", "epsilon_end", "epsilon_decay",
                     "p_high", "target_gap", "action_gap"):
            check(name, low=0.0, high=1.0)
        if 1.0 - DISCOUNT_GAP < self.discount < 1.0:   # check_discount's rule (0 is taken here)
            raise InvalidParameterError(f"{o}.discount: must be at most 1 - {DISCOUNT_GAP:g} "
                                        f"or exactly 1; got {self.discount!r} (values of order "
                                        f"1 / (1 - discount) leave float64 no digits)")
        check("stability", low=0.0)
        check("selection_margin", low=0.0)
        for name in ("learning_rate", "huber_delta"):
            check(name, low=0.0, low_open=True)
        for name in ("reward_scale", "time_limit", "target_time_limit"):
            if getattr(self, name) is not None:
                check(name, low=0.0, low_open=True)
        try:
            hidden = tuple(self.hidden)
            bad = not hidden or any(isinstance(h, (bool, str)) or not np.isfinite(h)
                                    or int(h) != h or h < 1 for h in hidden)
        except (TypeError, ValueError, OverflowError):
            bad = True
        if bad:
            raise InvalidParameterError(f"{o}.hidden: must be a non-empty sequence of positive "
                                        f"integers; got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        if self.buffer_size < self.batch_size:
            raise InvalidParameterError(f"{o}.buffer_size: must be >= batch_size="
                                        f"{self.batch_size} (no gradient step otherwise); got "
                                        f"{self.buffer_size}")
        if 0 < self.warm_start_samples < 10:
            raise InvalidParameterError(f"{o}.warm_start_samples: must be 0 (no warm start) or "
                                        f">= 10 (90 % fit, 10 % held out); got "
                                        f"{self.warm_start_samples}")
        if self.warm_start not in WARM_STARTS:
            raise InvalidParameterError(f"{o}.warm_start: must be one of {WARM_STARTS}; got "
                                        f"{self.warm_start!r}")
        if self.offset not in OFFSETS:
            raise InvalidParameterError(f"{o}.offset: must be one of {OFFSETS}; got "
                                        f"{self.offset!r}")
        if self.control_variate not in CONTROL_VARIATES:
            raise InvalidParameterError(f"{o}.control_variate: must be one of "
                                        f"{CONTROL_VARIATES}; got {self.control_variate!r}")
        if self.discount == 0 and "lagrangian" in (self.warm_start, self.offset,
                                                   self.control_variate):
            raise InvalidParameterError(f"{o}.discount: must be > 0 with the Lagrangian warm "
                                        f"start, offset or control variate; got 0 (use "
                                        f"warm_start='myopic', offset='none', "
                                        f"control_variate='none'; in 'rmab train': "
                                        f"--warm-start myopic --offset none "
                                        f"--control-variate none)")
        if self.gain_table not in GAIN_TABLES:
            raise InvalidParameterError(f"{o}.gain_table: must be one of {GAIN_TABLES}; got "
                                        f"{self.gain_table!r}")
        if self.gain_table == "both" and self.validate_every == 0:
            raise InvalidParameterError(f"{o}.gain_table: 'both' needs validation to choose "
                                        f"between the trainings (validate_every > 0); got "
                                        f"validate_every=0")
        if self.selection_episodes and self.validate_every == 0:
            raise InvalidParameterError(f"{o}.selection_episodes: > 0 needs validation to "
                                        f"choose the candidates (validate_every > 0); got "
                                        f"selection_episodes={self.selection_episodes} with "
                                        f"validate_every=0")
        if self.whittle not in WHITTLE_KINDS:
            raise InvalidParameterError(f"{o}.whittle: must be one of {WHITTLE_KINDS}; got "
                                        f"{self.whittle!r}")
        if self.whittle == "finite" and self.gain_table == "none":
            raise InvalidParameterError(f"{o}.whittle: 'finite' chooses the gain table's start "
                                        f"and needs one (gain_table='whittle' or 'both'; in "
                                        f"'rmab train': --gain-table whittle); got "
                                        f"gain_table='none'")
        if (self.gain_table != "none" and self.whittle == "discounted"
                and not 0 < self.discount < 1):
            raise InvalidParameterError(f"{o}.discount: must be in (0, 1) with the Whittle gain "
                                        f"table (infinite-horizon indices); got "
                                        f"{self.discount} (use whittle='finite' or "
                                        f"gain_table='none'; in 'rmab train': --whittle finite "
                                        f"or --gain-table none)")
        if self.argmax not in ARGMAX_METHODS:
            raise InvalidParameterError(f"{o}.argmax: must be one of {ARGMAX_METHODS}; got "
                                        f"{self.argmax!r}")

    @property
    def trainings(self) -> tuple:
        """Whether each training (restarts × gain tables, in order) has the Whittle table."""
        tables = {"none": (False,), "whittle": (True,), "both": (False, True)}[self.gain_table]
        return tables * self.restarts

    def epsilon(self, episode: int) -> float:
        span = max(1.0, self.epsilon_decay * self.episodes)
        frac = min(1.0, episode / span)
        return self.epsilon_start + frac * (self.epsilon_end - self.epsilon_start)

    def learning_rate_at(self, update: int, total: int) -> float:
        """Cosine decay from ``learning_rate`` to ``lr_floor * learning_rate``."""
        frac = min(1.0, update / max(1, total))
        floor = self.lr_floor * self.learning_rate
        return floor + 0.5 * (self.learning_rate - floor) * (1.0 + math.cos(math.pi * frac))


@dataclass(frozen=True, eq=False, repr=False)
class WarmStartResult(CompactRepr):
    """Held-out mean squared error of the warm-start regression before and after."""

    loss_before: float
    loss_after: float


@dataclass(frozen=True, eq=False, repr=False)
class TrainResult(CompactRepr):
    """Outcome of :func:`train_sequoia`.

    ``network``: the trained Q-network as a :class:`solvers.nn.ReLUNetwork` (numpy; a
    :class:`~rmab.planners.sequoia.gains.GainTableNetwork` if it has a gain table) — the
    validated best, or the re-selected one with ``selection_episodes`` (``restart``: the
    training it comes from, an index into ``config.trainings``; ``best_episode``: episodes of
    DQN behind it in that training, 0 = the warm start), or without validation the last;
    ``state_dict``: its torch weights; ``episode_rewards`` (len(config.trainings) * episodes,):
    mean per-step expected reward of each training episode, trainings one after another;
    ``validated_at``, ``validated_restart`` and ``validation_rewards`` (k,): the episodes (and
    restart) after which the greedy policy was validated and its mean per-step reward there,
    ``validated_networks`` the network validated at each (to score them on other episodes,
    ``benchmarks/bench_sequoia_selection.py``); ``selected`` (indices into ``validated_at``,
    best validated first, so ``selected[0]`` is what validation alone keeps; the Whittle start
    last if it is not among them), ``selection_rewards`` and ``selection_episode_rewards``
    (len(selected), selection_episodes): the networks re-scored on
    ``config.selection_episodes`` fresh episodes and their mean per-step reward there, in all
    and per episode (empty without); solve counts (``n_action_solves`` includes validation
    and re-selection), cache hits, gradient steps (``n_updates``), hard target updates and wall
    time, summed over restarts; ``n_action_limited`` and ``n_target_limited``: how many of
    those acting and target solves stopped at their time
    limit (the action is then the best found, the target a lower bound on the maximum; a
    :class:`~rmab.errors.SolverLimitWarning` says so at the end of training); ``argmax``: the
    oracle that solved them, ``"mip"`` or ``"brute"`` (``config.argmax`` with ``"auto"``
    resolved).
    """

    network: object
    state_dict: dict
    config: SequoiaConfig
    warm_start: WarmStartResult
    episode_rewards: np.ndarray
    n_action_solves: int
    n_target_solves: int
    cache_hits: int
    n_target_updates: int
    seconds: float
    validated_at: np.ndarray
    validation_rewards: np.ndarray
    best_episode: int
    validated_networks: tuple = ()
    validated_restart: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    restart: int = 0
    selected: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    selection_rewards: np.ndarray = field(default_factory=lambda: np.zeros(0))
    selection_episode_rewards: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    argmax: str = "mip"
    n_action_limited: int = 0
    n_target_limited: int = 0
    n_updates: int = 0

    @property
    def whittle_start(self) -> int:
        """Index into ``validated_at`` of the first Whittle-tabled training's warm start (the
        Whittle policy), -1 without one."""
        return whittle_start(self.validated_at, self.validated_restart, self.config.trainings)


def whittle_start(episodes, restarts, trainings) -> int:
    """The first validation record (``episodes``, ``restarts``) of a warm start (episode 0) of
    a training with the Whittle table (``trainings[restart]``), -1 if none."""
    return next((i for i, (e, r) in enumerate(zip(episodes, restarts))
                 if e == 0 and trainings[r]), -1)


def _check_config(owner: str, config) -> None:
    if not isinstance(config, SequoiaConfig):
        raise InvalidParameterError(f"{owner}.config: must be a SequoiaConfig; got "
                                    f"{type(config).__name__}")


def _check_qnet(owner: str, field: str, qnet) -> None:
    if not isinstance(qnet, QNetwork):
        raise InvalidParameterError(f"{owner}.{field}: must be a QNetwork; got "
                                    f"{type(qnet).__name__}")


# -- numpy export ----------------------------------------------------------------------------

def to_relu_network(qnet: QNetwork):
    """The network's weights as a :class:`solvers.nn.ReLUNetwork` (numpy, float64), with its
    gain table as a :class:`~rmab.planners.sequoia.gains.GainTableNetwork` if it has one."""
    from solvers.nn import ReLUNetwork

    _check_qnet("to_relu_network", "qnet", qnet)
    net = ReLUNetwork.from_torch(qnet.layers)
    if qnet.gains is None:
        return net
    table = qnet.gains.detach().double().numpy().copy()
    table[..., 0] = 0.0                      # level 0 carries no gain (QNetwork.table_term)
    return GainTableNetwork(net, table, qnet.levels_map.numpy().astype(np.int64))


# -- warm start ------------------------------------------------------------------------------

def warm_start(qnet: QNetwork, domain, config: SequoiaConfig, rng, scale: float = 1.0,
               max_ones: int | None = None, bound: LagrangianBound | None = None,
               prior=None) -> WarmStartResult:
    """Fit ``qnet`` to the ``config.warm_start`` target, less ``config.offset``
    (:mod:`~rmab.planners.sequoia.warm_targets`; ``bound``: the domain's
    :class:`LagrangianBound` if already built), in place. ``rng``: a seed or
    :class:`numpy.random.Generator` (drawn from).

    Adam, mini-batches of 128, ``config.warm_start_epochs`` passes over 90 % of
    ``config.warm_start_samples`` pairs; the loss is measured on the other 10 %. With
    ``config.stability > 0`` the stability penalty over actions with at most ``max_ones`` ones
    (default: ``action_size``) is added.

    ``prior`` (n_arms, n_states, n_levels), or per period like the network's table, for a
    network with a gain table: the fit is
    ``body(context) + κ Σ_j prior[j, s_j, ℓ_j]`` -- the body sees no action (its action
    weights stay 0) and only the scale ``κ > 0`` of the prior is learnt (``loss_before`` is
    measured at the least-squares ``κ``) -- and the table ends as ``κ prior``. The greedy
    action is then the prior's (Whittle's, for the Whittle gains), and DQN starts from it.
    Without warm-start data the table is ``prior`` itself (``κ = 1``).
    """
    _check_qnet("warm_start", "qnet", qnet)
    _check_domain("warm_start", domain)
    _check_config("warm_start", config)
    rng = as_generator(rng, "warm_start.rng")
    want = input_size(domain.action_size, domain.n_arms)
    if qnet.sizes[0] != want:
        raise InvalidModelError(f"warm_start.qnet: must have action_size + n_arms + 1 = {want} "
                                f"inputs for this domain; got {qnet.sizes[0]}")
    if prior is not None and qnet.gains is None:
        raise InvalidParameterError("warm_start.prior: needs a QNetwork with a gain table "
                                    "(levels_map=...)")
    if prior is not None and np.shape(prior) != tuple(qnet.gains.shape):
        raise InvalidParameterError(f"warm_start.prior: must have the shape of the network's "
                                    f"gain table {tuple(qnet.gains.shape)}; got "
                                    f"{np.shape(prior)}")
    if config.warm_start_samples == 0 or config.warm_start_epochs == 0:
        if prior is not None:
            _PriorFit.install(qnet, prior, 1.0)
        return WarmStartResult(float("nan"), float("nan"))
    x, y = warm_start_dataset(domain, config.warm_start_samples, config.horizon, rng, scale,
                              config.warm_start, config.discount,
                              offset=config.offset == "lagrangian", bound=bound)
    n_test = max(1, len(y) // 10)
    xt, yt = torch.from_numpy(x[:n_test]), torch.from_numpy(y[:n_test]).float()
    xs, ys = torch.from_numpy(x[n_test:]), torch.from_numpy(y[n_test:]).float()
    k = domain.action_size if max_ones is None else int(max_ones)
    model = qnet if prior is None else _PriorFit(qnet, prior, xs, ys)
    params = list(qnet.parameters()) if prior is None else model.parameters_to_fit()

    def held_out() -> float:
        with torch.no_grad():
            return float(torch.mean((model(xt) - yt) ** 2))

    before = held_out()
    with torch.no_grad():                 # start at the targets' level (O(horizon) without offset)
        qnet.linears[-1].bias += ys.mean() - model(xs).mean()
    opt = torch.optim.Adam(params, lr=config.learning_rate)
    for _ in range(config.warm_start_epochs):
        order = torch.from_numpy(rng.permutation(len(ys)))
        for start in range(0, len(ys), 128):
            idx = order[start:start + 128]
            loss = (torch.mean((model(xs[idx]) - ys[idx]) ** 2)
                    + _stability_term(qnet, xs[idx], domain.action_size, k, config))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if prior is not None:
                model.after_step()
    after = held_out()
    if prior is not None:
        model.finish()
    return WarmStartResult(before, after)


class _PriorFit:
    """The warm start's model with a prior gain table (:func:`warm_start`): ``body`` on the
    context alone plus ``exp(log κ)`` times the prior's table term."""

    def __init__(self, qnet: QNetwork, prior, xs, ys):
        self.qnet = qnet
        self.prior = torch.as_tensor(prior, dtype=torch.float32)
        self.after_step()
        with torch.no_grad():
            t = qnet.table_term(xs, self.prior)
            tc, yc = t - t.mean(), ys - ys.mean()     # least-squares scale, kept positive
            kappa = float((tc * yc).sum() / (tc * tc).sum().clamp(min=1e-12))
        self.log_kappa = torch.nn.Parameter(torch.tensor(math.log(max(kappa, 1e-3))))

    def parameters_to_fit(self) -> list:
        return [p for n, p in self.qnet.named_parameters() if n != "gains"] + [self.log_kappa]

    def __call__(self, x):
        return self.qnet.body(x) + torch.exp(self.log_kappa) * self.qnet.table_term(x, self.prior)

    def after_step(self) -> None:
        self.blind(self.qnet)              # the body stays blind to the action

    def finish(self) -> None:
        self.install(self.qnet, self.prior, torch.exp(self.log_kappa))

    @staticmethod
    def blind(qnet: QNetwork) -> None:
        """Zero the body's first-layer weights on the action inputs."""
        with torch.no_grad():
            qnet.linears[0].weight[:, :qnet.levels_map.shape[1]] = 0.0

    @classmethod
    def install(cls, qnet: QNetwork, prior, kappa) -> None:
        """Table ``kappa * prior`` and a blind body: the prior's greedy policy."""
        with torch.no_grad():
            qnet.gains.copy_(kappa * torch.as_tensor(prior, dtype=torch.float32))
        cls.blind(qnet)


_PENALTY_ROWS = 32     # contexts per step on which the stability penalty is evaluated


def _stability_term(qnet: QNetwork, x: "torch.Tensor", n_action: int, k: int,
                    config: SequoiaConfig):
    """``config.stability`` times the instability of the contexts of (up to 32) rows of ``x``."""
    if config.stability == 0:
        return 0.0
    ctx = x[:_PENALTY_ROWS, n_action:]
    return config.stability * instability(qnet.linears, ctx, n_action, k)


# -- Bellman targets -------------------------------------------------------------------------

def bellman_targets(batch: Batch, discount: float, max_value, offset=None,
                    control=None) -> np.ndarray:
    """``y = r + discount * max_{a' feasible} Q_target(s', a', ttg - 1)``, and ``y = r`` at the
    last period (``time_to_go == 1``: no bootstrap).

    ``max_value(next_states (k, n_arms), time_to_go (k,)) -> (k,)`` gives the target maxima.
    ``offset(states, time_to_go) -> (k,)``: when the network learns ``Q - offset``, the target
    is ``r + discount * (max + offset(s', ttg - 1)) - offset(s, ttg)``.
    ``control(states, levels, time_to_go, next_states) -> (k,)``: a zero-mean term added to
    the bootstrap, ``discount * (... + control)``, with the current period's ``time_to_go``.
    """
    y = batch.rewards.astype(np.float64).copy()
    boot = batch.time_to_go > 1
    if boot.any():
        nxt, ttg = batch.next_states[boot], batch.time_to_go[boot] - 1
        v = np.asarray(max_value(nxt, ttg), dtype=np.float64)
        if offset is not None:
            v = v + offset(nxt, ttg)
        if control is not None:
            v = v + control(batch.states[boot], batch.levels[boot], batch.time_to_go[boot], nxt)
        y[boot] += discount * v
    if offset is not None:
        y -= offset(batch.states, batch.time_to_go)
    return y


class TargetMaxima:
    """``max_{a'} Q_target(s', a', ttg)`` with the :class:`TargetCache` in front of the solver.

    ``reset(network)`` installs a new target network and clears the cache (call it before the
    first use). Misses of one call are deduplicated and solved serially or, with
    ``workers > 0``, split over ``spawn`` worker processes (each keeps its own persistent model
    of the current target network). ``n_solves`` counts the solves, ``n_limited`` those that
    stopped at their time limit (their maximum is a lower bound).
    """

    def __init__(self, domain, config: SequoiaConfig):
        _check_domain("TargetMaxima", domain)
        _check_config("TargetMaxima", config)
        self.domain = domain
        self.config = config
        self.cache = TargetCache()
        self.n_solves = 0
        self.n_limited = 0
        self._oracle = None
        self._pool = None
        self._version = 0
        self._network = None

    def reset(self, network) -> None:
        self.cache.clear()
        self._network = network
        self._version += 1
        if self.config.workers == 0:
            if self._oracle is None:
                self._oracle = make_argmax(self.domain, self.config.horizon, self.config.argmax,
                                           mip_gap=self.config.target_gap,
                                           time_limit=self.config.target_time_limit,
                                           carry_start=False)     # as in the workers
            self._oracle.set_network(network)

    def __call__(self, next_states: np.ndarray, time_to_go: np.ndarray) -> np.ndarray:
        if self._network is None:
            raise PlanningError("TargetMaxima: call reset(network) first")
        out = np.empty(len(time_to_go))
        misses: dict[tuple, list[int]] = {}
        for i, (s, ttg) in enumerate(zip(next_states, time_to_go)):
            value = self.cache.get(s, ttg)
            if value is None:
                misses.setdefault(TargetCache.key(s, ttg), []).append(i)
            else:
                out[i] = value
        if misses:
            jobs = [(next_states[idx[0]], int(time_to_go[idx[0]])) for idx in misses.values()]
            values = self._solve(jobs)
            self.n_solves += len(jobs)
            for (s, ttg), v, idx in zip(jobs, values, misses.values()):
                self.cache.put(s, ttg, v)
                out[idx] = v
        return out

    def _solve(self, jobs: list) -> list[float]:
        if self.config.workers == 0:
            values, limited = maxima_of(self._oracle, jobs)
            self.n_limited += limited
            return values
        pool = self._get_pool()
        w = self.config.workers
        chunks = [jobs[i::w] for i in range(w) if jobs[i::w]]
        spec = (self.domain, self.config.horizon, self.config.argmax, self.config.target_gap,
                self.config.target_time_limit)
        session = (os.getpid(), id(self))
        futures = [pool.submit(solve_chunk, spec, session, self._version, self._network, c)
                   for c in chunks]
        try:
            results = [f.result() for f in futures]
        except BrokenProcessPool as exc:
            self._pool = None
            raise spawn_failure("SequoiaConfig.workers", w, "solving the Bellman targets",
                                "workers=0") from exc
        values = [0.0] * len(jobs)
        for i, (res, limited) in enumerate(results):
            values[i::w] = res
            self.n_limited += limited
        return values

    def _get_pool(self):
        if self._pool is None:
            self._pool = spawn_pool(self.config.workers)
        return self._pool

    def close(self, now: bool = False) -> None:
        """End the workers once their solves are done, or ``now`` (on an error or Ctrl-C: the
        solves in flight are dropped)."""
        if self._pool is not None:
            if now:
                stop_now(self._pool)
            else:
                self._pool.shutdown()
            self._pool = None


# -- DQN -------------------------------------------------------------------------------------

def train_sequoia(domain, config: SequoiaConfig | None = None, *, seed=None,
                  progress: bool = True, checkpoint=None) -> TrainResult:
    """Train SEQUOIA's Q-network on a coRMAB ``domain`` (see :mod:`rmab.domains`).

    Episodes start from Bernoulli(``config.p_high``) states (0.5 as in the paper) and last
    ``config.horizon`` periods; the per-step reward is the expected reward of the domain's
    simulator. ``checkpoint``: a path where the returned network's state dict is saved
    (:func:`save_checkpoint`) with ``meta`` ``config`` (as a dict), ``episodes``,
    ``best_episode``, ``restart`` and ``updates``, the gradient steps behind that network
    (in its training, up to its validation). Progress goes to stderr (tqdm) when ``progress``.
    Solves stopped at their time limit give one
    :class:`~rmab.errors.SolverLimitWarning` at the end.
    """
    config = SequoiaConfig() if config is None else config
    _check_config("train_sequoia", config)
    from rmab.models.storage import check_writable

    _check_domain("train_sequoia", domain)
    if config.argmax == "brute" and domain.feasible_actions() is None:
        raise InvalidParameterError(f"SequoiaConfig.argmax: must be 'auto' or 'mip' for a "
                                    f"domain that cannot list its feasible actions (listed "
                                    f"only with action_size <= {ENUMERATION_SIZE}, or as a "
                                    f"path domain's route sets); got 'brute' with a "
                                    f"{domain.kind} domain of action_size "
                                    f"{domain.action_size}")
    _check_fits_in_memory(input_size(domain.action_size, domain.n_arms), config.hidden)
    if 0 < config.episodes * config.horizon < config.batch_size:
        size = config.episodes * config.horizon
        warnings.warn(f"train_sequoia: {count_noun(size, 'transition')} "
                      f"({count_noun(config.episodes, 'episode')} of "
                      f"{count_noun(config.horizon, 'step')}), fewer than a batch "
                      f"({config.batch_size}): no gradient step, the network stays the warm "
                      f"start", RmabWarning, stacklevel=2)
    rng = as_generator(seed, "train_sequoia.seed")
    if checkpoint is not None:
        if not isinstance(checkpoint, (str, os.PathLike)):
            raise InvalidParameterError(f"train_sequoia.checkpoint: must be a path; got "
                                        f"{checkpoint!r}")
        check_writable(checkpoint)          # before the run, not after it
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # tiny networks: one thread is fastest; restored below
    try:
        result = _train(domain, config, rng, progress, checkpoint)
    finally:
        torch.set_num_threads(threads)
    if result.n_action_limited or result.n_target_limited:
        warnings.warn(f"train_sequoia: {result.n_action_limited} of {result.n_action_solves} "
                      f"acting solves (SequoiaConfig.time_limit={config.time_limit}) and "
                      f"{result.n_target_limited} of {result.n_target_solves} target solves "
                      f"(target_time_limit={config.target_time_limit}) stopped before proving "
                      f"their maximum (time limit): those actions are the best found, those "
                      f"targets lower bounds on the maxima", SolverLimitWarning, stacklevel=2)
    return result


def _check_fits_in_memory(n_inputs: int, hidden: tuple) -> None:
    """Refuse hidden widths whose training would not fit in this machine's memory: the
    network, its target copy, the gradients and Adam's two moments, float32 (hidden
    100000,100000 crashed with torch's raw allocation error: a walkthrough)."""
    sizes = (n_inputs, *hidden, 1)
    weights = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    need = 5 * 4 * weights
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):       # not a POSIX system: torch decides
        return
    if need > have:
        raise InvalidParameterError(f"SequoiaConfig.hidden: a network of {weights:,} "
                                    f"weights needs about {need / 2**30:.3g} GiB to train "
                                    f"(network, target, gradients and Adam's moments), more "
                                    f"than this machine's {have / 2**30:.3g} GiB; got hidden "
                                    f"{list(hidden)}")


class _Episodes:
    """``k`` fixed episodes (starts from Bernoulli(``p_high``) and the uniforms of every step,
    drawn once from ``rng``) on which greedy policies are scored with common random numbers."""

    def __init__(self, domain, config: SequoiaConfig, rng, k: int):
        sub = np.random.default_rng(rng.integers(2**62))   # one draw, whatever the settings
        n, h = domain.n_arms, config.horizon
        self.starts = (sub.random((k, n)) < config.p_high).astype(np.int64)
        self.uniforms = sub.random((k, h, n))
        self.domain, self.horizon = domain, h

    @property
    def n_steps(self) -> int:
        return self.uniforms.shape[0] * self.horizon

    def play(self, network, acting) -> tuple[float, np.ndarray, int]:
        """Mean per-step expected reward of ``network``'s greedy policy (``acting``'s argmax)
        over the episodes, per episode (k,), and how many solves stopped at their limit. Each
        episode starts ``acting`` afresh (``reset_start``), as
        :class:`~rmab.planners.sequoia.planner.SequoiaPlanner` does."""
        acting.set_network(network)
        total, per_episode, limited = 0.0, np.zeros(len(self.starts)), 0
        for e, (states, u) in enumerate(zip(self.starts, self.uniforms)):
            acting.reset_start()
            for t in range(self.horizon):
                res = acting.solve(states, self.horizon - t)
                limited += res.status != "optimal"
                step = self.domain.step(states, res.action, u=u[t])
                total += step.expected_reward
                per_episode[e] += step.expected_reward
                states = step.next_states
        return total / self.n_steps, per_episode / self.horizon, limited


def paired_difference(rewards, reference) -> tuple[float, float]:
    """Mean and standard error (ddof 1; NaN with one episode) of per-episode ``rewards`` (k,)
    less ``reference`` (k,) played on the same episodes."""
    rewards = np.asarray(rewards, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if rewards.ndim != 1 or rewards.size == 0 or rewards.shape != reference.shape:
        raise InvalidParameterError(f"paired_difference.rewards: must be (k,) with k >= 1, "
                                    f"like reference; got {rewards.shape} and "
                                    f"{reference.shape}")
    diff = rewards - reference
    se = float(diff.std(ddof=1)) / math.sqrt(diff.size) if diff.size > 1 else math.nan
    return float(diff.mean()), se


def beats(rewards, reference, margin: float) -> bool:
    """Whether per-episode ``rewards`` (k,) beat ``reference`` (k,) played on the same
    episodes: their mean paired difference is > 0 and > ``margin`` times its standard error
    (with one episode only ``margin == 0`` can pass)."""
    margin = check_number("beats", "margin", margin, low=0.0)
    mean, se = paired_difference(rewards, reference)
    return mean > 0 and (margin == 0 or mean > margin * se)


class _Validation:
    """The greedy policy on fixed :class:`_Episodes` (shared by every training); keeps every
    validated state (with its episode, restart and gradient steps), in training order, and the
    best (ties: the later); ``n_limited`` of its ``n_solves`` stopped at their limit."""

    def __init__(self, play: _Episodes, acting):
        self.play, self.acting = play, acting
        self.episodes, self.restarts, self.rewards, self.networks, self.states = [], [], [], [], []
        self.updates = []
        self.selected, self.selection_rewards = np.zeros(0, np.int64), np.zeros(0)
        self.selection_episode_rewards = np.zeros((0, 0))
        self.chosen = -1
        self.n_solves = self.n_limited = 0

    def __call__(self, qnet: QNetwork, episode: int, restart: int, updates: int) -> None:
        network = to_relu_network(qnet)
        reward, _, limited = self.play.play(network, self.acting)
        self.rewards.append(reward)
        self.n_solves += self.play.n_steps
        self.n_limited += limited
        self.episodes.append(episode)
        self.restarts.append(restart)
        self.updates.append(updates)
        self.networks.append(network)
        self.states.append({k: v.detach().clone() for k, v in qnet.state_dict().items()})

    def extend(self, other: "_Validation") -> None:
        """Append the records of a later training."""
        for name in ("episodes", "restarts", "updates", "rewards", "networks", "states"):
            getattr(self, name).extend(getattr(other, name))
        self.n_solves += other.n_solves
        self.n_limited += other.n_limited

    @property
    def best(self) -> int:
        """Index of the kept record: the re-selected one, else the best validated."""
        if self.chosen >= 0:
            return self.chosen
        return len(self.rewards) - 1 - int(np.argmax(self.rewards[::-1])) if self.rewards else -1

    def reselect(self, fresh: _Episodes, top: int, acting, start: int = -1,
                 margin: float = 0.0) -> None:
        """Score the ``top`` best validated networks, and record ``start`` (if >= 0), again on
        ``fresh`` episodes and keep the best there (ties: the better validated): the best of
        noisy validations is biased upwards, fresh episodes are not. With ``start``, the best
        replaces it only if it beats it by more than ``margin`` standard errors of their
        paired per-episode difference (:func:`beats`)."""
        rewards = np.asarray(self.rewards)
        order = [int(i) for i in np.lexsort((-np.arange(len(rewards)), -rewards))[:top]]
        if start >= 0 and start not in order:        # (validation ties above: the later first)
            order.append(start)
        scores = [fresh.play(self.networks[i], acting) for i in order]
        self.selected = np.array(order, dtype=np.int64)
        self.selection_rewards = np.array([mean for mean, _, _ in scores])
        self.selection_episode_rewards = np.array([each for _, each, _ in scores])
        self.n_limited += sum(limited for _, _, limited in scores)
        pick = int(np.argmax(self.selection_rewards))
        if start >= 0:
            anchor = order.index(start)
            if not beats(self.selection_episode_rewards[pick],
                         self.selection_episode_rewards[anchor], margin):
                pick = anchor
        self.chosen = order[pick]
        self.n_solves += len(order) * fresh.n_steps

    @property
    def best_restart(self) -> int:
        return self.restarts[self.best] if self.rewards else 0

    @property
    def best_episode(self) -> int:
        return self.episodes[self.best]


@dataclass
class _Run:
    """One training's network and what it played and solved."""

    qnet: QNetwork
    warm: WarmStartResult
    rewards: np.ndarray
    n_action: int = 0
    n_action_limited: int = 0
    n_hard: int = 0
    updates: int = 0
    n_target: int = 0
    n_target_limited: int = 0
    cache_hits: int = 0


def _train(domain, config: SequoiaConfig, rng, progress: bool, checkpoint) -> TrainResult:
    start = time.perf_counter()
    if config.workers:          # before any training: not after the warm start's minutes
        check_guarded("SequoiaConfig.workers", "workers=0")
    if config.training_jobs > 1 and len(config.trainings) > 1:
        check_guarded("SequoiaConfig.training_jobs", "training_jobs=1")
    torch_seed = int(rng.integers(2**62))
    play = _Episodes(domain, config, rng, config.validation_episodes)
    whittle = (whittle_gain_table(domain, config.discount,
                                  config.horizon if config.whittle == "finite" else None)
               if any(config.trainings) else None)
    later = []                   # trainings 1.. : seeded apart from training 0's stream
    for restart, tabled in enumerate(config.trainings[1:], start=1):
        sub = np.random.default_rng([torch_seed, restart])
        later.append((domain, config, restart, tabled, sub, int(sub.integers(2**62)), play,
                      whittle))
    bar = _progress(len(config.trainings) * config.episodes, progress)
    pool = None
    n_jobs = min(config.training_jobs - 1, len(later))
    try:
        if config.training_jobs > 1 and later:
            pool = spawn_pool(n_jobs)
            pool.submit(int).result()     # a worker that cannot start fails now, not after
            futures = [pool.submit(_training_in_worker, job) for job in later]   # training 0
        parts = [_training(domain, config, 0, config.trainings[0], rng, torch_seed, play,
                           whittle, bar)]      # restart 0 plays the stream of a single run
        for i, job in enumerate(later):
            if pool is None:
                parts.append(_training(*job, bar))
            else:
                parts.append(futures[i].result())
                bar.update(config.episodes)
    except BaseException as exc:
        if pool is not None:
            stop_now(pool)
            pool = None
        if isinstance(exc, BrokenProcessPool):
            raise spawn_failure("SequoiaConfig.training_jobs", n_jobs, "running the trainings",
                                "training_jobs=1") from exc
        raise
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown()
    runs = [run for run, _ in parts]
    validation = parts[0][1]
    for _, part in parts[1:]:
        validation.extend(part)
    acting = make_argmax(domain, config.horizon, config.argmax, mip_gap=config.action_gap,
                         time_limit=config.time_limit)
    if config.selection_episodes:
        validation.reselect(_Episodes(domain, config, rng, config.selection_episodes),
                            config.selection_top, acting,
                            whittle_start(validation.episodes, validation.restarts,
                                          config.trainings), config.selection_margin)
    kept = runs[validation.best_restart]
    qnet = kept.qnet
    if validation.rewards:
        qnet.load_state_dict(validation.states[validation.best])
    state = {k: v.detach().clone() for k, v in qnet.state_dict().items()}
    best = validation.best_episode if config.validate_every else config.episodes
    result = TrainResult(network=with_training_record(to_relu_network(qnet), domain,
                                                      config.horizon),
                         state_dict=state, config=config,
                         warm_start=kept.warm,
                         episode_rewards=np.concatenate([r.rewards for r in runs]),
                         n_action_solves=sum(r.n_action for r in runs) + validation.n_solves,
                         n_target_solves=sum(r.n_target for r in runs),
                         cache_hits=sum(r.cache_hits for r in runs),
                         n_target_updates=sum(r.n_hard for r in runs),
                         n_updates=sum(r.updates for r in runs),
                         seconds=time.perf_counter() - start,
                         validated_at=np.array(validation.episodes, dtype=np.int64),
                         validation_rewards=np.array(validation.rewards), best_episode=best,
                         validated_networks=tuple(validation.networks),
                         validated_restart=np.array(validation.restarts, dtype=np.int64),
                         restart=validation.best_restart, selected=validation.selected,
                         selection_rewards=validation.selection_rewards,
                         selection_episode_rewards=validation.selection_episode_rewards,
                         argmax="brute" if isinstance(acting, BruteForceArgmax) else "mip",
                         n_action_limited=(sum(r.n_action_limited for r in runs)
                                           + validation.n_limited),
                         n_target_limited=sum(r.n_target_limited for r in runs))
    if checkpoint is not None:      # the kept network alone: the last step's target and
        save_checkpoint(checkpoint, qnet,       # optimizer belong to another network
                        meta={"config": asdict(config),
                              "updates": (validation.updates[validation.best]
                                          if validation.rewards else kept.updates),
                              "episodes": config.episodes, "best_episode": best,
                              "restart": validation.best_restart})
    return result


def _training(domain, config: SequoiaConfig, restart: int, tabled: bool, rng, torch_seed: int,
              play: _Episodes, whittle, bar) -> tuple[_Run, _Validation]:
    """One training (``restart``, with the Whittle table if ``tabled``) with its own argmax
    oracles and validation records, so that it runs the same here or in a worker process."""
    scale = 1.0 / domain.n_arms if config.reward_scale is None else config.reward_scale
    acting = make_argmax(domain, config.horizon, config.argmax, mip_gap=config.action_gap,
                         time_limit=config.time_limit)
    validation = _Validation(play, acting)
    bound = (LagrangianBound(domain, config.horizon, config.discount)
             if "lagrangian" in (config.warm_start, config.offset, config.control_variate)
             else None)
    offset = (None if config.offset == "none" else
              lambda states, ttg: scale * bound.state_values(states, ttg))
    control = (None if config.control_variate == "none" else
               lambda *rows: scale * bound.next_correction(*rows))
    maxima = TargetMaxima(domain, config)
    try:
        run = _dqn(domain, config, rng, torch_seed, restart, acting, validation, maxima, bound,
                   scale, offset, control, whittle if tabled else None, bar)
    except BaseException:
        maxima.close(now=True)           # an error or Ctrl-C does not wait for the solves
        raise
    maxima.close()
    run.n_target, run.n_target_limited = maxima.n_solves, maxima.n_limited
    run.cache_hits = maxima.cache.hits
    validation.acting = None           # a solver model does not cross processes
    return run, validation


def _training_in_worker(job: tuple) -> tuple[_Run, _Validation]:
    """``spawn`` worker entry of :func:`_training` (one torch thread, no progress bar)."""
    torch.set_num_threads(1)
    return _training(*job, _progress(0, False))


def _dqn(domain, config: SequoiaConfig, rng, torch_seed: int, restart: int, acting,
         validation: _Validation, maxima: TargetMaxima, bound, scale: float, offset, control,
         prior, bar) -> _Run:
    """One restart: a fresh network, its warm start, then ``config.episodes`` of DQN."""
    n, horizon = domain.n_arms, config.horizon
    table = {} if prior is None else table_args(domain, prior.shape[0] if prior.ndim == 4 else 0)
    qnet = QNetwork(input_size(domain.action_size, n), config.hidden,
                    generator=torch.Generator().manual_seed(torch_seed), **table)
    _stage(bar, config, restart, "warm start")      # seconds to minutes before episode 1
    warm = warm_start(qnet, domain, config, rng, scale, acting.max_ones, bound, prior)
    every = config.validate_every
    if every:
        _stage(bar, config, restart, "validation")
        validation(qnet, 0, restart, 0)
    _stage(bar, config, restart, "DQN")
    target = copy.deepcopy(qnet)
    maxima.reset(to_relu_network(target))
    buffer = ReplayBuffer(config.buffer_size, n, domain.action_size)
    opt = torch.optim.Adam(qnet.parameters(), lr=config.learning_rate)
    huber = torch.nn.HuberLoss(delta=config.huber_delta)
    run = _Run(qnet, warm, np.zeros(config.episodes))
    total_updates = config.episodes * horizon - (config.batch_size - 1)   # none until a batch
    for episode in range(config.episodes):
        eps = config.epsilon(episode)
        states = initial_states(n, p_high=config.p_high, seed=rng)
        for t in range(horizon):
            ttg = horizon - t
            if rng.random() < eps:
                action = domain.sample_action(rng)
            else:
                acting.set_network(to_relu_network(qnet))
                res = acting.solve(states, ttg)
                action = res.action
                run.n_action += 1
                run.n_action_limited += res.status != "optimal"
            step = domain.step(states, action, u=rng.random(n))
            run.rewards[episode] += step.expected_reward / horizon
            buffer.add(states, action, step.expected_reward * scale, step.next_states, ttg,
                       domain._arm_levels(action))
            states = step.next_states
            if len(buffer) < config.batch_size:
                continue
            batch = buffer.sample(config.batch_size, rng)
            y = torch.from_numpy(bellman_targets(batch, config.discount, maxima,
                                                 offset, control)).float()
            x = torch.from_numpy(encode_inputs(batch.actions, batch.states, batch.time_to_go,
                                               horizon, domain.n_states))
            for group in opt.param_groups:
                group["lr"] = config.learning_rate_at(run.updates, total_updates)
            loss = huber(qnet(x), y) + _stability_term(qnet, x, domain.action_size,
                                                       acting.max_ones, config)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run.updates += 1
            if run.updates % config.target_update == 0:
                target.load_state_dict(qnet.state_dict())
                maxima.reset(to_relu_network(target))
                run.n_hard += 1
        done = episode + 1
        if every and (done % every == 0 or done == config.episodes):
            _stage(bar, config, restart, "validation")
            validation(qnet, done, restart, run.updates)
            _stage(bar, config, restart, "DQN")
        # before the update, which shows it: set after, each episode showed the one before
        bar.set_postfix(reward=f"{run.rewards[episode]:.3f}", solves=run.n_action
                        + maxima.n_solves, hits=maxima.cache.hits, refresh=False)
        bar.update(1)
    return run


def _stage(bar, config: SequoiaConfig, restart: int, stage: str) -> None:
    """Name on the progress bar what runs between its episodes (the warm start and the
    validations took seconds to minutes behind an unlabelled bar), and which training."""
    n = len(config.trainings)
    name = "SEQUOIA" if n == 1 else f"SEQUOIA {restart + 1}/{n}"
    bar.set_description(f"{name} ({stage})", refresh=True)


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="SEQUOIA", unit="episode", file=sys.stderr,
                disable=not enabled)


# -- checkpoints -----------------------------------------------------------------------------

CHECKPOINT_VERSION = 1


def save_checkpoint(path, qnet: QNetwork, *, target: QNetwork | None = None, optimizer=None,
                    meta: dict | None = None):
    """Save state dicts (network, target, optimizer) and plain metadata with ``torch.save``,
    atomically. Load with :func:`load_checkpoint` (``weights_only=True``)."""
    check_path("save_checkpoint", path)
    _check_qnet("save_checkpoint", "qnet", qnet)
    if target is not None:
        _check_qnet("save_checkpoint", "target", target)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidParameterError(f"save_checkpoint.optimizer: must be a torch optimizer; got "
                                    f"{type(optimizer).__name__}")
    if meta is not None and not isinstance(meta, dict):
        raise InvalidParameterError(f"save_checkpoint.meta: must be a dict; got "
                                    f"{type(meta).__name__}")
    payload = {"format": "rmab-sequoia", "version": CHECKPOINT_VERSION, "sizes": list(qnet.sizes),
               "gain_table": None if qnet.gains is None else list(qnet.gains.shape),
               "model": qnet.state_dict(), "meta": _plain(meta or {}, "save_checkpoint.meta")}
    if target is not None:
        payload["target"] = target.state_dict()
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    with atomic_write(path) as tmp:
        with open(tmp, "wb") as fh:     # a file, not its (random) name: the archive's root
            torch.save(payload, fh)     # is then "archive", so equal runs give equal bytes
    return path


def _plain(value, where: str):
    """``value`` as the plain Python a ``weights_only`` load reads back: numpy scalars and str
    subclasses (``np.str_``) become int, float, bool or str; dicts (string keys), lists and
    tuples are converted through; anything else is an :class:`InvalidParameterError`."""
    if isinstance(value, np.generic) and isinstance(value.item(), (bool, int, float, str)):
        value = value.item()
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            raise InvalidParameterError(f"{where}: keys must be strings; got {bad!r}")
        return {str(k): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if isinstance(value, tuple) else items
    raise InvalidParameterError(f"{where}: must hold only None, bool, int, float, str, lists, "
                                f"tuples and dicts (what a weights_only load reads); got "
                                f"{type(value).__name__}")


def load_checkpoint(path) -> dict:
    """A checkpoint's dict, read with ``torch.load(..., weights_only=True)`` (no code runs)."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        raise InvalidParameterError(f"load_checkpoint.path: must be an existing file; got "
                                    f"{str(path)!r}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InvalidModelError(f"load_checkpoint.path: must be a SEQUOIA checkpoint; got "
                                f"{str(path)!r} ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != "rmab-sequoia":
        raise InvalidModelError(f"load_checkpoint.path: must be a SEQUOIA checkpoint; got "
                                f"{str(path)!r}")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise InvalidModelError(f"load_checkpoint.path: must be a version "
                                f"{CHECKPOINT_VERSION} checkpoint; got version "
                                f"{payload.get('version')!r} in {str(path)!r}")
    return payload


def load_qnetwork(path) -> QNetwork:
    """The Q-network saved in a checkpoint."""
    payload = load_checkpoint(path)
    try:
        sizes, shape = payload["sizes"], payload.get("gain_table")
        if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in sizes):
            raise ValueError(f"sizes must be positive integers; got {sizes}")
        # the sizes must be the stored weights' before anything is built: layers 20 000
        # wide declared in a 3 KB file took 1.9 GB before load_state_dict refused them
        model = payload["model"]
        linears = [(sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)]
        stored = []
        while f"layers.{2 * len(stored)}.weight" in model:
            stored.append(tuple(model[f"layers.{2 * len(stored)}.weight"].shape))
        if stored != linears or (shape is not None
                                 and tuple(model["gains"].shape) != tuple(shape)):
            raise ValueError(f"sizes {list(sizes)} and gain table {shape} must be those of the "
                             f"stored weights; got layers {stored}")
        table = {} if shape is None else dict(levels_map=payload["model"]["levels_map"],
                                              n_states=shape[-2], n_levels=shape[-1],
                                              n_periods=shape[0] if len(shape) == 4 else 0)
        qnet = QNetwork(sizes[0], sizes[1:-1], generator=torch.Generator().manual_seed(0),
                        **table)
        qnet.load_state_dict(payload["model"])
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise InvalidModelError(f"load_qnetwork.path: must hold a Q-network's sizes and "
                                f"weights; got {str(path)!r} ({type(exc).__name__}: {exc})"
                                ) from exc
    if not all(torch.isfinite(v).all() for v in qnet.state_dict().values()
               if v.is_floating_point()):
        raise InvalidModelError(f"load_qnetwork.path: weights must be finite; got a non-finite "
                                f"weight in {str(path)!r}")
    return qnet
