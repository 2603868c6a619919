"""Q-network inputs of SEQUOIA (Xu et al., ICLR 2025, arXiv 2503.01919, §4).

One input row is ``[action (action_size), state / (n_states - 1) (n_arms), time_to_go / horizon]``
so the network has ``action_size + n_arms + 1`` inputs. The action comes first: in the MIP the
action entries are the decision variables and the rest (the *context*, state and time-to-go)
are constants that enter only the right-hand sides of the first layer's rows.
``time_to_go = horizon - t`` is 1 at the last period (no bootstrapping after it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rmab.errors import InvalidModelError, InvalidParameterError

__all__ = ["input_size", "context_features", "encode_inputs", "load_network",
           "check_network_fits"]


def input_size(action_size: int, n_arms: int) -> int:
    """Number of network inputs: ``action_size + n_arms + 1``."""
    return int(action_size) + int(n_arms) + 1


def context_features(states, time_to_go, horizon: int, n_states: int) -> np.ndarray:
    """Context inputs ``[states / (n_states - 1), time_to_go / horizon]``.

    ``states`` int (n_arms,) or (k, n_arms); ``time_to_go`` scalar or (k,). Returns float64
    (n_arms + 1,) or (k, n_arms + 1). Inputs are trusted (validated by the callers).
    """
    s = np.asarray(states, dtype=np.float64) / float(n_states - 1)
    ttg = np.asarray(time_to_go, dtype=np.float64) / float(horizon)
    if s.ndim == 1:
        return np.append(s, ttg)
    return np.concatenate([s, np.broadcast_to(ttg, (s.shape[0],))[:, None]], axis=1)


def encode_inputs(actions, states, time_to_go, horizon: int, n_states: int) -> np.ndarray:
    """Full network inputs (k, action_size + n_arms + 1) float32 for ``k`` actions.

    ``actions`` (k, action_size); ``states`` (n_arms,) shared by all rows or (k, n_arms);
    ``time_to_go`` scalar or (k,).
    """
    a = np.asarray(actions, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    ctx = context_features(states, time_to_go, horizon, n_states)
    if ctx.ndim == 1:
        ctx = np.broadcast_to(ctx, (a.shape[0], ctx.size))
    return np.concatenate([a, ctx], axis=1).astype(np.float32)


def load_network(owner: str, network):
    """``network`` as a one-output :class:`solvers.nn.ReLUNetwork` or
    :class:`~rmab.planners.sequoia.gains.GainTableNetwork` (a path is loaded)."""
    from solvers.errors import SolverInputError
    from solvers.nn import ReLUNetwork

    from rmab.planners.sequoia import gains

    if isinstance(network, (str, Path)):
        try:
            network = gains.load(network)
        except SolverInputError as exc:
            raise InvalidModelError(f"{owner}.network: {exc}") from exc
    if not isinstance(network, (ReLUNetwork, gains.GainTableNetwork)):
        raise InvalidParameterError(f"{owner}.network: must be a ReLUNetwork, a "
                                    f"GainTableNetwork or a path to its .npz file; got "
                                    f"{type(network).__name__}")
    if network.n_outputs != 1:
        raise InvalidModelError(f"{owner}.network: must have 1 output; got "
                                f"{network.n_outputs}")
    return network


def check_network_fits(owner: str, network, domain) -> None:
    """The network's input size must be ``action_size + n_arms + 1`` for ``domain``."""
    want = input_size(domain.action_size, domain.n_arms)
    if network.n_inputs != want:
        raise InvalidModelError(f"{owner}.network: must have action_size + n_arms + 1 = {want} "
                                f"inputs for this domain; got {network.n_inputs}")
    table = getattr(network, "gain_table", None)
    if table is not None:
        from rmab.planners.sequoia.gains import level_map

        shape = (domain.n_arms, domain.n_states, domain.arms.n_levels)
        if table.shape != shape:
            raise InvalidModelError(f"{owner}.network.gain_table: must have shape {shape} "
                                    f"for this domain; got {table.shape}")
        if not np.array_equal(network.levels_map, level_map(domain)):
            raise InvalidModelError(f"{owner}.network.levels_map: must be this domain's level "
                                    f"map (trained on another instance?)")
