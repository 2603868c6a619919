"""Simulation and evaluation: the environment, episodes, and paired planner comparison."""

from rmab.sim.compare import (ComparisonResult, PairedDifferenceResult, PlannerScore, compare,
                              load_comparison)
from rmab.sim.environment import Environment, StepResult
from rmab.sim.episodes import EpisodeResult, run_episode

__all__ = ["Environment", "StepResult", "EpisodeResult", "run_episode", "compare",
           "ComparisonResult", "PlannerScore", "PairedDifferenceResult", "load_comparison"]
