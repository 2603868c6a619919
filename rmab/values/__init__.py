"""Single-arm value functions: exact (fully observed), PBVI lower bounds, upper bounds,
Monte-Carlo rollout."""

from rmab.values.bounds import (SawtoothBound, UpperBound, fib_bound, qmdp_bound,
                                sawtooth_bound)
from rmab.values.exact import ExactResult, policy_iteration, value_iteration
from rmab.values.finite_pbvi import FiniteAlphaVectors, FinitePBVIResult, solve_finite_pbvi
from rmab.values.pbvi import AlphaVectors, PBVIResult, simplex_grid, solve_pbvi
from rmab.values.rollout import RolloutResult, hoeffding_trajectories, rollout

__all__ = ["ExactResult", "value_iteration", "policy_iteration", "AlphaVectors", "PBVIResult",
           "solve_pbvi", "simplex_grid", "FiniteAlphaVectors", "FinitePBVIResult",
           "solve_finite_pbvi", "UpperBound", "SawtoothBound", "qmdp_bound",
           "fib_bound", "sawtooth_bound", "RolloutResult", "rollout", "hoeffding_trajectories"]
