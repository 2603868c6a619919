"""Q-network inputs of SEQUOIA (Xu et al., ICLR 2025, arXiv 2503.01919, §4).

One input row is ``[action (action_size), state / (n_states - 1) (n_arms), time_to_go / horizon]``
so the network has ``action_size + n_arms + 1`` inputs. The action comes first: in the MIP the
action entries are the decision variables and the rest (the *context*, state and time-to-go)
are constants that enter only the right-hand sides of the first layer's rows.
``time_to_go = horizon - t`` is 1 at the last period (no bootstrapping after it).
"""

from __future__ import annotations

import os

import numpy as np

from rmab.errors import InvalidModelError, InvalidParameterError, PlanningError, RmabWarning

__all__ = ["input_size", "context_features", "encode_inputs", "network_values", "load_network",
           "check_network_fits", "trained_for", "with_training_record", "training_record"]


def input_size(action_size: int, n_arms: int) -> int:
    """Number of network inputs: ``action_size + n_arms + 1``."""
    return int(action_size) + int(n_arms) + 1


def context_features(states, time_to_go, horizon: int, n_states: int) -> np.ndarray:
    """Context inputs ``[states / (n_states - 1), time_to_go / horizon]``, rounded to float32
    (the network's inputs, as torch and :func:`encode_inputs` see them) so that every argmax
    oracle maximises the same function: at 1/3 and 7/20 the float64 values differ by ~1e-8,
    enough to move a large layer-1 weight's neuron and flip a near-tie.

    ``states`` int (n_arms,) or (k, n_arms); ``time_to_go`` scalar or (k,). Returns float64
    (n_arms + 1,) or (k, n_arms + 1) in [0, 1]. Inputs are trusted (validated by the callers).
    """
    s = np.asarray(states, dtype=np.float64) / float(n_states - 1)
    ttg = np.asarray(time_to_go, dtype=np.float64) / float(horizon)
    if s.ndim == 1:
        ctx = np.append(s, ttg)
    else:
        ctx = np.concatenate([s, np.broadcast_to(ttg, (s.shape[0],))[:, None]], axis=1)
    return ctx.astype(np.float32).astype(np.float64)


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


def network_values(owner: str, network, x) -> np.ndarray:
    """The one-output ``network``'s values of the input rows ``x`` (k, n_inputs), (k,) float64;
    :class:`~rmab.errors.PlanningError` if one is not finite: weights of 1e300 overflowed
    float64, and the values (inf or NaN for every action, with numpy's overflow warning) made
    iterative DQN return the all-zero action without an error (a fuzz review)."""
    with np.errstate(over="ignore", invalid="ignore"):
        values = network.forward(np.asarray(x, dtype=np.float64))[:, 0]
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise PlanningError(f"{owner}: the network's value of an action must be finite; got "
                            f"{values[bad]} (its weights overflow float64 at these inputs)")
    return values


def load_network(owner: str, network):
    """``network`` as a one-output :class:`solvers.nn.ReLUNetwork` or
    :class:`~rmab.planners.sequoia.gains.GainTableNetwork` (a path is loaded)."""
    from solvers.errors import SolverInputError
    from solvers.nn import ReLUNetwork

    from rmab.planners.sequoia import gains

    if isinstance(network, (str, os.PathLike)):
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


def domain_digest(domain) -> str:
    """SHA-256 of the domain's kind and arrays (what :func:`rmab.domains.save_domain` writes)."""
    import hashlib

    h = hashlib.sha256(domain.kind.encode())
    for key, value in sorted(domain.to_arrays().items()):
        h.update(key.encode())
        h.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray)
                 else repr(value).encode())
    return h.hexdigest()


def trained_for(domain, horizon: int) -> dict:
    """What ``rmab train`` records in the network's ``meta`` (kept by its ``save`` and
    ``load``): the domain's kind and digest and the training horizon, as arrays."""
    return {"trained_kind": np.array(domain.kind),
            "trained_digest": np.array(domain_digest(domain)),
            "trained_horizon": np.array(int(horizon))}


def with_training_record(network, domain, horizon: int):
    """``network`` (a ReLUNetwork or GainTableNetwork) with :func:`trained_for`'s record."""
    from dataclasses import replace

    from rmab.planners.sequoia.gains import GainTableNetwork

    if isinstance(network, GainTableNetwork):
        return GainTableNetwork(with_training_record(network.network, domain, horizon),
                                network.gain_table, network.levels_map)
    return replace(network, meta={**network.meta, **trained_for(domain, horizon)})


def training_record(owner: str, network) -> dict | None:
    """The :func:`trained_for` record in the network's ``meta`` as ``kind``, ``digest`` and
    ``horizon``, or None (a network made or saved without it)."""
    meta = network.meta
    if "trained_kind" not in meta:
        return None
    try:
        kind, digest, horizon = (meta[k] for k in ("trained_kind", "trained_digest",
                                                   "trained_horizon"))
    except KeyError as exc:
        raise InvalidModelError(f"{owner}.network: its training record lacks {exc}") from None
    if horizon.shape != () or horizon.dtype.kind not in "iu":       # 3.7 was read as 3
        raise InvalidModelError(f"{owner}.network: its training record's trained_horizon "
                                f"must be an integer; got {horizon.tolist()}")
    return {"kind": str(kind), "digest": str(digest), "horizon": int(horizon)}


def planning_horizon(owner: str, network, horizon) -> int:
    """``horizon`` checked, or where it is None the horizon ``network`` was trained for: its
    training record's (:func:`training_record`), a per-period gain table's periods, else 20
    (the paper's). The time-to-go input is scaled by it, so the training's is the one to plan
    with; ``rmab compare --network`` takes it the same way."""
    from rmab._validation import check_number

    if horizon is None:
        record = training_record(owner, network)
        horizon = (record["horizon"] if record is not None
                   else getattr(network, "n_periods", None) or 20)
    return check_number(owner, "horizon", horizon, low=1, integer=True)


def check_network_fits(owner: str, network, domain, horizon: int | None = None, *,
                       record: bool = True) -> None:
    """The network's input size must be ``action_size + n_arms + 1`` for ``domain``; with its
    training record (:func:`training_record`), the domain kind must match, and another
    instance or another horizon than the training's gives a warning. A gain table must fit
    the domain, and a per-period one have ``horizon`` periods. The warnings come after every
    check has passed, so that none precedes an error."""
    import warnings

    trained = training_record(owner, network) if record else None
    periods = getattr(network, "n_periods", None)
    if periods is not None and horizon is not None and periods != horizon:
        raise InvalidModelError(f"{owner}.network: its gain table has one table per period of "
                                f"horizon {periods}; plan with horizon={periods} (in "
                                f"'rmab compare': --horizon {periods}); got horizon {horizon}")
    if trained is not None and trained["kind"] != domain.kind:
        raise InvalidModelError(f"{owner}.network: was trained on a {trained['kind']} "
                                f"domain; this one is {domain.kind}")
    want = input_size(domain.action_size, domain.n_arms)
    if network.n_inputs != want:
        raise InvalidModelError(f"{owner}.network: must have action_size + n_arms + 1 = {want} "
                                f"inputs for this {domain.kind} domain of {domain.n_arms} arms; "
                                f"got {network.n_inputs} (trained for another number of arms?)")
    table = getattr(network, "gain_table", None)
    if table is not None:
        from rmab.planners.sequoia.gains import level_map

        shape = (domain.n_arms, domain.n_states, domain.arms.n_levels)
        if table.ndim == 4:                 # one table per time-to-go of the horizon
            shape = (table.shape[0] if horizon is None else horizon,) + shape
        if table.shape != shape:
            raise InvalidModelError(f"{owner}.network.gain_table: must have shape {shape} "
                                    f"for this domain"
                                    + (" (one table per period of the horizon)"
                                       if len(shape) == 4 else "") + f"; got {table.shape}")
        if not np.array_equal(network.levels_map, level_map(domain)):
            raise InvalidModelError(f"{owner}.network.levels_map: must be this domain's level "
                                    f"map (trained on another instance?)")
    if trained is not None and trained["digest"] != domain_digest(domain):
        warnings.warn(f"{owner}: the network was trained on another {domain.kind} instance "
                      f"(its Q-values may not transfer)", RmabWarning, stacklevel=4)
    if trained is not None and horizon is not None and trained["horizon"] != horizon:
        warnings.warn(f"{owner}: the network was trained for horizon {trained['horizon']}; "
                      f"planning with horizon {horizon} scales its time-to-go input "
                      f"differently (plan with horizon={trained['horizon']}; in 'rmab "
                      f"compare': --horizon {trained['horizon']})", RmabWarning, stacklevel=4)
