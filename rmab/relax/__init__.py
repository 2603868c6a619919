"""Relaxations that remove the coupling between arms: knapsack, Lagrangian, Whittle."""

from rmab.relax.knapsack import KnapsackResult, solve_knapsack

__all__ = ["KnapsackResult", "solve_knapsack"]
