"""Single-arm value functions: exact (fully observed), PBVI lower bounds, upper bounds,
Monte-Carlo rollout."""

from rmab.values.exact import ExactResult, policy_iteration, value_iteration

__all__ = ["ExactResult", "value_iteration", "policy_iteration"]
