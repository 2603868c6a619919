"""SEQUOIA as a domain planner: the trained Q-network's argmax over feasible actions by MILP.

numpy + MILP only (no torch): the network is a :class:`solvers.nn.ReLUNetwork` or a
:class:`~rmab.planners.sequoia.gains.GainTableNetwork` (``.npz`` written by ``rmab train`` or
their ``save``). At ``fit`` the network is encoded once together
with the domain's constraint block on a persistent HiGHS model; each ``plan`` moves the model to
the new state in place and solves it::

    planner = SequoiaPlanner("sequoia.npz", horizon=20, time_limit=1.0).fit(domain)
    planner.reset(seed=0)
    action = planner.plan(states, t=0)

On a time limit the better (by the network) of the incumbent and 100 random feasible actions is
returned with a :class:`~rmab.errors.SolverLimitWarning`, so an action always exists, even when
the solver found no incumbent.
"""

from __future__ import annotations

import warnings

from rmab._validation import check_number
from rmab.domains.baselines import BaseDomainPlanner
from rmab.errors import (InvalidModelError, InvalidParameterError, PlanningError, RmabWarning,
                         SolverLimitWarning)
from rmab.planners.sequoia.argmax import MIPArgmax
from rmab.planners.sequoia.features import check_network_fits, load_network, planning_horizon

__all__ = ["SequoiaPlanner"]


class SequoiaPlanner(BaseDomainPlanner):
    """Plan with a trained SEQUOIA Q-network.

    Parameters
    ----------
    network : ReLUNetwork, GainTableNetwork or path of its ``.npz`` file; inputs
        ``action_size + n_arms + 1`` (:mod:`rmab.planners.sequoia.features`).
    horizon : episode length the network was trained for (time-to-go = ``horizon - t``);
        None (default): the one its training record names (``rmab train`` writes it), else 20.
    time_limit : seconds per solve (None = none). mip_gap : relative gap. threads : HiGHS
        threads. backend : a :mod:`solvers` backend name.
    tighten : None, or "lp": tighten the later layers' big-M bounds by LP at every state
        (:func:`solvers.nn.encode_network`); two LPs per later-layer neuron, worth it only when
        solves take seconds (coRMAB spec section 5).
    """

    name = "sequoia"

    def __init__(self, network, horizon: int | None = None, *, time_limit: float | None = None,
                 mip_gap: float = 1e-4, threads: int = 1, backend: str = "highs",
                 tighten: str | None = None):
        super().__init__()
        owner = "SequoiaPlanner"
        self.network = load_network(owner, network)
        self.horizon = planning_horizon(owner, self.network, horizon)
        self.time_limit = None if time_limit is None else check_number(
            owner, "time_limit", time_limit, low=0.0, low_open=True)
        self.mip_gap = check_number(owner, "mip_gap", mip_gap, low=0.0, high=1.0, high_open=True)
        self.threads = check_number(owner, "threads", threads, low=1, integer=True)
        self.backend = backend
        if tighten not in (None, "lp"):
            raise InvalidParameterError(f"{owner}.tighten: must be None or 'lp'; got "
                                        f"{tighten!r}")
        self.tighten = tighten

    def _fit(self, domain) -> None:
        check_network_fits("SequoiaPlanner", self.network, domain, self.horizon)
        try:
            self._argmax = MIPArgmax(domain, self.horizon, self.network, mip_gap=self.mip_gap,
                                     time_limit=self.time_limit, threads=self.threads,
                                     backend=self.backend, tighten=self.tighten)
        except (InvalidParameterError, InvalidModelError) as exc:   # named as the planner's
            raise type(exc)(str(exc).replace("MIPArgmax.", "SequoiaPlanner.", 1)) from exc
        if self.time_limit is None and "move" in self._argmax.block.index:
            warnings.warn(f"SequoiaPlanner: the path domain's {domain.n_arms} nodes and "
                          f"{domain.budget} pulls need the time-expanded walk MILP, whose "
                          f"solves take seconds to minutes (docs/sequoia.md, 'Larger paths'); "
                          f"give a time_limit (about 1 s: the best action found is then "
                          f"improved by an ascent)", RmabWarning, stacklevel=3)

    def _reset(self) -> None:
        self._argmax.reset_start()      # each episode plays as a new planner would

    def _plan(self, states, t):
        if not 0 <= t < self.horizon:
            raise InvalidParameterError(f"SequoiaPlanner.plan.t: must be in [0, {self.horizon})"
                                        f"; got {t}")
        try:
            res = self._argmax.solve(states, self.horizon - t)
        except PlanningError as exc:      # named as the planner's, as in _fit
            raise PlanningError(str(exc).replace("MIPArgmax", "SequoiaPlanner", 1)) from exc
        self.last_stats.info.update(status=res.status, gap=res.gap, value=res.value,
                                    solve_seconds=res.seconds,
                                    update_seconds=self._argmax.update_seconds)
        if res.status != "optimal":
            warnings.warn(f"SequoiaPlanner: solver stopped with status {res.status}; returning "
                          f"the best action found (gap {res.gap:.3g})", SolverLimitWarning,
                          stacklevel=3)
        return res.action.copy()
