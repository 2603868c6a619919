"""Per-arm gain table of SEQUOIA's Q-function (numpy + MILP only).

``Q(a, s, τ) = f(a, s, τ) + Σ_j G[j, s_j, ℓ_j(a)]``: a ReLU network ``f`` plus a table ``G``
(n_arms, n_states, n_levels) of per-arm, per-state gains of each level (``G[:, :, 0] = 0``),
where ``ℓ_j(a) = (M a)_j`` is arm ``j``'s level, linear in the action (``M`` the domain's
:func:`level_map`). A network trained to be ReLU-stable is affine in the action at almost every
state, with action gains that change only where its activation pattern does; the table gives
each arm gains that depend on its own state, as an index policy's do. It stays linear in the
MIP: at a state it adds the block's level objective ``Σ_j G[j, s_j, ℓ_j]``
(``ConstraintBlock.level_objective``), so a new state still only changes the model in place.

A *per-period* table (horizon, n_arms, n_states, n_levels) has one such table per time-to-go:
``G[τ - 1]`` at ``τ`` periods to go (decoded from the network's time-to-go input, so the
horizon is the table's length).

With ``f`` independent of the action and ``G`` the Whittle gains
(:class:`~rmab.domains.index_baselines.WhittleDomainPlanner`), the greedy action is the Whittle
policy's; SEQUOIA's warm start begins there when ``SequoiaConfig.gain_table == "whittle"``
(per period, the ``whittle-finite`` policy's, with ``SequoiaConfig.whittle == "finite"``).
"""

from __future__ import annotations

import numpy as np

from rmab._validation import as_float_array
from rmab.errors import InvalidModelError

__all__ = ["GainTableNetwork", "level_map", "table_args", "whittle_gain_table", "table_terms",
           "period_index", "load"]


def level_map(domain) -> np.ndarray:
    """``M`` (n_arms, action_size) int64 with ``arm_levels(a) == M @ a`` for every action
    (the domains' levels are linear in the action: the identity in pull domains, the
    intervention reach in multiple interventions)."""
    eye = np.eye(domain.action_size, dtype=np.int64)
    return np.stack([domain._arm_levels(e) for e in eye], axis=1).astype(np.int64)


def table_args(domain, n_periods: int = 0) -> dict:
    """``QNetwork`` keyword arguments that give it a gain table for ``domain`` (per period
    over ``n_periods`` periods if > 0)."""
    return dict(levels_map=level_map(domain), n_states=domain.n_states,
                n_levels=domain.arms.n_levels, n_periods=int(n_periods))


def whittle_gain_table(domain, discount: float, horizon: int | None = None) -> np.ndarray:
    """The Whittle policy's gains ``G[j, s, ℓ]`` (n_arms, n_states, n_levels) on the domain's
    budget relaxation (``WhittleDomainPlanner.gain_table``, infinite horizon, ``discount``);
    with ``horizon``, the per-period gains (horizon, n_arms, n_states, n_levels) of the
    undiscounted ``horizon``-period problem, ``G[τ - 1]`` at ``τ`` periods to go (the
    ``whittle-finite`` policy's, ``discount`` unused)."""
    from rmab.domains.index_baselines import WhittleDomainPlanner

    if horizon is None:
        return WhittleDomainPlanner(discount=discount).fit(domain, seed=0).gain_table.copy()
    planner = WhittleDomainPlanner(horizon=horizon).fit(domain, seed=0)
    return planner.gain_tables[::-1].copy()          # by period t -> by time-to-go H - t


def period_index(x: np.ndarray, n_periods: int) -> np.ndarray:
    """Row ``τ - 1`` (k,) of a per-period table for network inputs ``x`` (k, n_inputs), whose
    last entry is ``τ / n_periods`` (:mod:`~rmab.planners.sequoia.features`)."""
    return np.clip(np.rint(x[:, -1] * n_periods) - 1, 0, n_periods - 1).astype(np.int64)


def table_terms(gain_table: np.ndarray, levels_map: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``Σ_j G[j, s_j, ℓ_j(a)]`` (k,) for network inputs ``x`` (k, n_inputs)
    (:mod:`~rmab.planners.sequoia.features` layout: the states, and a per-period table's
    time-to-go, are decoded from their normalised inputs)."""
    n, n_states, n_levels = gain_table.shape[-3:]
    n_action = levels_map.shape[1]
    x = np.asarray(x, dtype=np.float64)
    s = np.clip(np.rint(x[:, n_action:n_action + n] * (n_states - 1)), 0, n_states - 1
                ).astype(np.int64)
    lv = np.clip(np.rint(x[:, :n_action] @ levels_map.T), 0, n_levels - 1).astype(np.int64)
    arms = np.arange(n)[None, :]
    if gain_table.ndim == 3:
        return gain_table[arms, s, lv].sum(axis=1)
    tau = period_index(x, gain_table.shape[0])[:, None]
    return gain_table[tau, arms, s, lv].sum(axis=1)


class GainTableNetwork:
    """A one-output :class:`solvers.nn.ReLUNetwork` ``network`` plus a ``gain_table``
    (n_arms, n_states, n_levels), or per period (horizon, n_arms, n_states, n_levels), and the
    domain's ``levels_map`` (n_arms, action_size):
    ``forward(x) = network.forward(x) + Σ_j G[j, s_j, ℓ_j(a)]`` (module doc). Saved as the
    network's ``.npz`` with two more arrays (:meth:`save`, :func:`load`)."""

    def __init__(self, network, gain_table, levels_map):
        from solvers.nn import ReLUNetwork

        if not isinstance(network, ReLUNetwork) or network.n_outputs != 1:
            raise InvalidModelError(f"GainTableNetwork.network: must be a one-output "
                                    f"ReLUNetwork; got {type(network).__name__}")
        self.network = network
        self.gain_table = as_float_array("GainTableNetwork", "gain_table", gain_table)
        levels = as_float_array("GainTableNetwork", "levels_map", levels_map)
        if (levels != np.rint(levels)).any():
            raise InvalidModelError("GainTableNetwork.levels_map: must hold integers (an "
                                    "action's level is levels_map @ action)")
        self.levels_map = levels.astype(np.int64)
        n = self.gain_table.shape[-3] if self.gain_table.ndim in (3, 4) else -1
        if (self.gain_table.ndim not in (3, 4) or 0 in self.gain_table.shape
                or self.levels_map.ndim != 2 or self.levels_map.shape[0] != n
                or network.n_inputs != self.levels_map.shape[1] + n + 1):
            raise InvalidModelError(
                f"GainTableNetwork.gain_table: must be (n_arms, n_states, n_levels) or "
                f"(horizon, n_arms, n_states, n_levels) with levels_map (n_arms, action_size) "
                f"and a network of action_size + n_arms + 1 inputs; got "
                f"{self.gain_table.shape}, {self.levels_map.shape} and {network.n_inputs} "
                f"inputs")
        if (self.gain_table[..., 0] != 0).any():
            raise InvalidModelError("GainTableNetwork.gain_table: must be 0 at level 0 (gains "
                                    "are relative to the arm's idle level)")
        self.gain_table.setflags(write=False)   # checked once; oracles cache per network
        self.levels_map.setflags(write=False)

    n_inputs = property(lambda self: self.network.n_inputs)
    n_outputs = property(lambda self: self.network.n_outputs)
    hidden_sizes = property(lambda self: self.network.hidden_sizes)

    meta = property(lambda self: self.network.meta, doc="The network's ``meta``.")
    n_periods = property(lambda self: (self.gain_table.shape[0] if self.gain_table.ndim == 4
                                       else None), doc="A per-period table's horizon, or None.")

    def gains(self, states, time_to_go: int) -> np.ndarray:
        """Per-arm, per-level gains at ``states`` with ``time_to_go`` periods to go
        (n_arms, n_levels)."""
        s = np.asarray(states, dtype=np.int64)
        table = self.gain_table
        if table.ndim == 4:
            table = table[min(max(int(time_to_go), 1), table.shape[0]) - 1]
        return table[np.arange(s.size), s]

    def forward(self, x) -> np.ndarray:
        """(k, 1) like :meth:`ReLUNetwork.forward`."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self.network.forward(x) + table_terms(self.gain_table, self.levels_map, x)[:, None]

    def save(self, path, extra: dict | None = None):
        """The network's ``.npz`` (:meth:`ReLUNetwork.save`: a path, written atomically, or
        an open binary file) with ``gain_table``, ``levels_map`` and ``extra`` added."""
        return self.network.save(path, extra={**(extra or {}), "gain_table": self.gain_table,
                                              "levels_map": self.levels_map})


def load(path):
    """A network file written by ``rmab train``: a :class:`GainTableNetwork` if it holds a
    gain table, else the plain :class:`solvers.nn.ReLUNetwork` (no pickle); the rest of the
    file's arrays (the training record) stay in the network's ``meta``."""
    from dataclasses import replace

    from solvers.nn import ReLUNetwork

    network = ReLUNetwork.load(path)
    meta = dict(network.meta)
    if "gain_table" not in meta:
        return network
    table, levels = meta.pop("gain_table"), meta.pop("levels_map", None)
    if levels is None:
        raise InvalidModelError(f"load.path: a gain table must come with its levels_map; got "
                                f"none in {str(path)!r}")
    return GainTableNetwork(replace(network, meta=meta), table, levels)
