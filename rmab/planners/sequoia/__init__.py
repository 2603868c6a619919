"""SEQUOIA: a Q-network over combinatorial actions, maximised by MILP at every step
(Xu, Wilder, Khalil, Tambe, ICLR 2025, arXiv 2503.01919).

- :class:`SequoiaPlanner` (numpy + MILP): plans with a trained network on a coRMAB domain.
- :class:`IterativeDQNPlanner` (numpy): the paper's iterative DQN baseline on that network.
- :mod:`rmab.planners.sequoia.train` (torch, imported on demand): ``train_sequoia``.
- :mod:`rmab.planners.sequoia.features`: the network's input layout.
- :class:`GainTableNetwork`: a network plus a per-arm gain table (:mod:`~.gains`).
"""

from rmab.planners.sequoia.argmax import ArgmaxResult, BruteForceArgmax, MIPArgmax
from rmab.planners.sequoia.features import context_features, encode_inputs, input_size
from rmab.planners.sequoia.gains import GainTableNetwork
from rmab.planners.sequoia.iterative import IterativeDQNPlanner
from rmab.planners.sequoia.planner import SequoiaPlanner

__all__ = ["SequoiaPlanner", "IterativeDQNPlanner", "GainTableNetwork", "MIPArgmax",
           "BruteForceArgmax", "ArgmaxResult", "input_size", "context_features", "encode_inputs"]
