"""ReLU networks as data, their bounds and their MILP encodings.

``ReLUNetwork`` (numpy weights; ``from_torch``, ``.npz`` save/load, ``forward``), bounds
(:mod:`solvers.nn.bounds`) and the big-M encoding with in-place state updates
(:mod:`solvers.nn.encode`).
"""

from solvers.nn.bounds import (Knapsack, NetworkBounds, action_range, interval_bounds,
                               knapsacks_from_milp, lp_tighten, network_bounds)
from solvers.nn.encode import EncodedNetwork, encode_network
from solvers.nn.network import ReLUNetwork

__all__ = ["ReLUNetwork", "Knapsack", "NetworkBounds", "action_range", "interval_bounds",
           "network_bounds", "knapsacks_from_milp", "lp_tighten", "EncodedNetwork",
           "encode_network"]
