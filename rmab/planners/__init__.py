"""Planners: the protocol, the registry and the built-in planners."""

from rmab.planners.base import (BasePlanner, Planner, PlannerSpec, PlanStats, available_planners,
                                get_spec, make_planner, planner_names, register_planner)

__all__ = ["Planner", "BasePlanner", "PlanStats", "PlannerSpec", "register_planner",
           "make_planner", "available_planners", "planner_names", "get_spec"]
