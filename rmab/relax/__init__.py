"""Relaxations that remove the coupling between arms: knapsack, Lagrangian, Whittle."""

from rmab.relax.knapsack import Knapsack, KnapsackResult, solve_knapsack
from rmab.relax.lagrangian import (DualCurveResult, LagrangianResult, dual_curve,
                                   lagrangian_bound, plot_dual)
from rmab.relax.whittle import (BeliefWhittleResult, FiniteWhittleResult, WhittleResult,
                                belief_whittle_indices, finite_whittle_indices, whittle_indices)

__all__ = ["Knapsack", "KnapsackResult", "solve_knapsack", "LagrangianResult", "DualCurveResult",
           "lagrangian_bound", "dual_curve", "plot_dual", "WhittleResult", "BeliefWhittleResult",
           "FiniteWhittleResult", "whittle_indices", "finite_whittle_indices",
           "belief_whittle_indices"]
