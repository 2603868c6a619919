"""Iterative DQN: the greedy construction of ITERATIVE MYOPIC scored by a trained Q-network.

The paper's "iterative DQN" baseline (Xu et al., ICLR 2025, arXiv 2503.01919, §6): from the
empty action, repeatedly add the element (intervention or arm) that keeps the action feasible
and has the highest ``Q(a + e_i, state, time-to-go)``, stopping when no addition raises Q (in
multiple interventions: when ``budget`` are chosen). The construction is
:class:`~rmab.domains.baselines.IterativeMyopicPlanner`'s; only the score changes: one batched
forward pass of the network over all candidate actions of a step, with SEQUOIA's inputs
(:mod:`rmab.planners.sequoia.features`). numpy only, no torch, no MIP::

    planner = IterativeDQNPlanner("run/sequoia.npz", horizon=20).fit(domain)
    action = planner.plan(states, t=0)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rmab._validation import check_number
from rmab.domains.baselines import IterativeMyopicPlanner
from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.planners.sequoia.features import encode_inputs, input_size

__all__ = ["IterativeDQNPlanner"]


def _load_network(owner: str, network):
    """``network`` as a one-output :class:`solvers.nn.ReLUNetwork` (a path is loaded)."""
    from solvers.errors import SolverInputError
    from solvers.nn import ReLUNetwork

    if isinstance(network, (str, Path)):
        try:
            network = ReLUNetwork.load(network)
        except SolverInputError as exc:
            raise InvalidModelError(f"{owner}.network: {exc}") from exc
    if not isinstance(network, ReLUNetwork):
        raise InvalidParameterError(f"{owner}.network: must be a ReLUNetwork or a path to its "
                                    f".npz file; got {type(network).__name__}")
    if network.n_outputs != 1:
        raise InvalidModelError(f"{owner}.network: must have 1 output; got "
                                f"{network.n_outputs}")
    return network


class IterativeDQNPlanner(IterativeMyopicPlanner):
    """Greedy construction by the Q-network's value of each candidate action.

    Parameters
    ----------
    network : ReLUNetwork or path of its ``.npz`` file (written by ``rmab train``); inputs
        ``action_size + n_arms + 1`` (:mod:`rmab.planners.sequoia.features`), one output.
    horizon : episode length the network was trained for (time-to-go = ``horizon - t``).
    """

    name = "iterative-dqn"

    def __init__(self, network, horizon: int = 20):
        super().__init__()
        owner = "IterativeDQNPlanner"
        self.network = _load_network(owner, network)
        self.horizon = check_number(owner, "horizon", horizon, low=1, integer=True)

    def _fit(self, domain) -> None:
        want = input_size(domain.action_size, domain.n_arms)
        if self.network.n_inputs != want:
            raise InvalidModelError(f"IterativeDQNPlanner.network: must have action_size + "
                                    f"n_arms + 1 = {want} inputs for this domain; got "
                                    f"{self.network.n_inputs}")

    def _plan(self, states, t):
        if not 0 <= t < self.horizon:
            raise InvalidParameterError(f"IterativeDQNPlanner.plan.t: must be in [0, "
                                        f"{self.horizon}); got {t}")
        return super()._plan(states, t)

    def _scores(self, states, t, actions):
        """Q of each candidate action (k, action_size) in ``states`` at period ``t``, (k,)."""
        x = encode_inputs(actions, states, self.horizon - t, self.horizon,
                          self.domain.n_states)
        return self.network.forward(x.astype(np.float64))[:, 0]
