"""The ``rollout`` planner: Monte-Carlo rollout of a base planner (:mod:`rmab.values.rollout`)."""

from __future__ import annotations

import numpy as np

from rmab.errors import InvalidParameterError
from rmab.planners.base import BasePlanner, construct, get_spec
from rmab.values.rollout import _check, _rollout, check_joint

__all__ = ["RolloutPlanner"]


class RolloutPlanner(BasePlanner):
    """At each period, estimate by simulation the return of each candidate first action
    followed by the ``base`` planner for ``horizon - 1`` periods (at most to the episode's
    end; ``n_trajectories`` runs with common random numbers) and take the best: joint
    enumeration on tiny instances, per-arm Q-estimates combined by the multiple-choice
    knapsack otherwise (see
    :mod:`rmab.values.rollout`, which also gives Hoeffding guidance for ``n_trajectories``).

    ``last_stats.scores`` holds each arm's estimated gain of its chosen action over the passive
    one; ``last_stats.info`` the mode, the truncation bound and the standard errors' maximum.
    """

    name = "rollout"

    def __init__(self, base: str = "myopic", horizon: int = 10, n_trajectories: int = 16,
                 mode: str = "auto", max_joint: int = 256, base_params: dict | None = None):
        super().__init__()
        self.horizon, self.n_trajectories, self.max_joint = _check(
            "RolloutPlanner", horizon, n_trajectories, mode, max_joint)
        if not isinstance(base, str) or base == self.name:
            raise InvalidParameterError(f"RolloutPlanner.base: must be the name of another "
                                        f"registered planner; got {base!r}")
        # unknown names fail here, with suggestions; the spec, not the name, makes the base at
        # fit: a worker of compare(n_jobs > 1) has the built-in planners only, not the ones
        # its caller registered (a user's base worked in one process and not in two)
        self._base_spec = get_spec(base, "RolloutPlanner.base")
        self.base = base
        self.mode = mode
        if base_params is not None and not isinstance(base_params, dict):
            raise InvalidParameterError(f"RolloutPlanner.base_params: must be a dict of the base "
                                        f"planner's parameters; got {base_params!r}")
        self.base_params = dict(base_params or {})
        try:                            # a bad parameter fails now, not at every fit
            self._make_base()
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"RolloutPlanner.base_params: {exc}") from exc

    def _fit(self, instance):
        check_joint("RolloutPlanner", instance, self.mode, self.max_joint)   # not at 1st plan
        self._base = self._make_base().fit(instance, seed=self.rng)

    def _make_base(self) -> BasePlanner:
        """A new base planner (``make_planner(base, **base_params)`` from the spec kept)."""
        return construct(f"make_planner({self.base!r})", self._base_spec.load(),
                         self.base_params)

    def _plan(self, belief, t):
        inst = self.instance
        res = _rollout(inst, self._base, belief, self.horizon, self.n_trajectories, self.mode,
                       self.max_joint, self.rng, t)
        idx = np.arange(inst.n_arms)
        if res.mode == "per-arm":
            scores = res.q[idx, res.actions] - res.q[:, 0]
            spread = res.q_stderr
        else:
            chosen = int(np.flatnonzero((res.candidates == res.actions).all(axis=1))[0])
            passive = np.flatnonzero((res.candidates == 0).all(axis=1))
            # no scores when min_active rules out the all-passive joint action
            scores = (res.arm_values[chosen] - res.arm_values[passive[0]] if passive.size
                      else None)
            spread = res.stderr
        spread = float("nan") if np.isnan(spread).all() else float(np.nanmax(spread))
        self.last_stats.scores = scores
        self.last_stats.info.update(mode=res.mode, truncation_bound=res.truncation_bound,
                                    max_stderr=spread)
        return res.actions
