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

from rmab.domains.baselines import IterativeMyopicPlanner
from rmab.errors import InvalidParameterError
from rmab.planners.sequoia.features import (check_network_fits, encode_inputs, load_network,
                                            network_values, planning_horizon)

__all__ = ["IterativeDQNPlanner"]


class IterativeDQNPlanner(IterativeMyopicPlanner):
    """Greedy construction by the Q-network's value of each candidate action.

    Parameters
    ----------
    network : ReLUNetwork, GainTableNetwork or path of its ``.npz`` file (written by
        ``rmab train``); inputs
        ``action_size + n_arms + 1`` (:mod:`rmab.planners.sequoia.features`), one output.
    horizon : episode length the network was trained for (time-to-go = ``horizon - t``);
        None (default): the one its training record names (``rmab train`` writes it), else 20.
    """

    name = "iterative-dqn"

    def __init__(self, network, horizon: int | None = None):
        super().__init__()
        owner = "IterativeDQNPlanner"
        self.network = load_network(owner, network)
        self.horizon = planning_horizon(owner, self.network, horizon)

    def _fit(self, domain) -> None:
        check_network_fits("IterativeDQNPlanner", self.network, domain, self.horizon)

    def _plan(self, states, t):
        if not 0 <= t < self.horizon:
            raise InvalidParameterError(f"IterativeDQNPlanner.plan.t: must be in [0, "
                                        f"{self.horizon}); got {t}")
        return super()._plan(states, t)

    def _scores(self, states, t, actions):
        """Q of each candidate action (k, action_size) in ``states`` at period ``t``, (k,);
        :class:`~rmab.errors.PlanningError` where one is not finite (weights too large)."""
        x = encode_inputs(actions, states, self.horizon - t, self.horizon,
                          self.domain.n_states)
        return network_values("IterativeDQNPlanner", self.network, x)
