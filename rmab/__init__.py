"""rmab: restless multi-armed bandits and combinatorial planning.

The public face: models, belief updates, planners, simulation. See ``README.md``.
"""

import importlib as _importlib

from rmab.errors import (BatchInputError, ConvergenceWarning, ImpossibleSignalError,
                         IndexabilityWarning, InfeasibleActionError, InvalidModelError,
                         InvalidParameterError, MissingDependencyError, NotFittedError,
                         OutputError, PlanningError, POMDPFormatError, RmabError, RmabWarning,
                         SolverLimitWarning, UnknownPlannerError, ValidationError)

# The rest is imported on first use (PEP 562): ``import rmab`` stays light (no numba, 1.0 s ->
# 0.14 s), so ``rmab --help`` is quick and Ctrl-C while the command line loads is caught.
_WHERE = {
    "rmab.belief": ("sample_next", "signal_probabilities", "update_beliefs"),
    "rmab.models": ("HiddenArmsEstimate", "Instance", "MDPArms", "POMDPArms",
                    "budget_from_fraction", "collapsing_arms", "concat_arms",
                    "count_transitions", "estimate_hidden_arms", "estimate_probabilities",
                    "health_intervention", "load_instance", "random_instance",
                    "random_mdp_arms", "random_pomdp_arms", "save_instance",
                    "score_hidden_strengths", "score_strengths"),
    "rmab.planners": ("BasePlanner", "Planner", "available_planners", "make_planner",
                      "planner_names", "register_planner"),
    "rmab.io": ("Batch", "BatchSolveResult", "read_batches", "solve_batches"),
    "rmab.models.pomdp_format": ("PomdpModel", "read_pomdp", "write_pomdp"),
    "rmab.values": ("fib_bound", "policy_iteration", "qmdp_bound", "rollout", "sawtooth_bound",
                    "solve_finite_pbvi", "solve_pbvi", "value_iteration"),
    "rmab.relax": ("belief_whittle_indices", "lagrangian_bound", "solve_knapsack",
                   "whittle_indices"),
    "rmab.sim": ("ComparisonResult", "Environment", "EpisodeResult", "PairedDifferenceResult",
                 "PlannerScore", "StepResult", "compare", "load_comparison", "run_episode"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
_SUBPACKAGES = ("belief", "cli", "commands", "domains", "io", "models", "planners", "relax",
                "sim", "values")


def __getattr__(name: str):
    if name in _SUBPACKAGES:                         # rmab.relax.whittle_indices etc.
        return _importlib.import_module(f"rmab.{name}")
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'rmab' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value                          # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF) | set(_SUBPACKAGES))


__version__ = "0.1.0"


def _check_solvers_layer() -> None:
    """Warn when the module ``solvers`` that Python finds first is not rmab's MILP layer (a
    user's ``solvers.py`` or ``solvers/`` folder beside a script shadows it): even
    ``health_intervention`` then fails with "'solvers' is not a package"."""
    import importlib.util
    import os
    import warnings

    def real(path):
        return os.path.normcase(os.path.realpath(path))

    ours = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "solvers")
    try:
        spec = importlib.util.find_spec("solvers")
    except (ImportError, ValueError):     # a module without a spec in sys.modules
        return
    if spec is None:
        return
    if spec.origin is not None and spec.has_location:
        found = os.path.dirname(spec.origin)
        shown = spec.origin
    else:                                 # a namespace package: a folder without __init__
        found = shown = next(iter(spec.submodule_search_locations or []), None)
    if found is not None and real(found) != real(ours):
        warnings.warn(f"rmab: the module 'solvers' Python finds first is {shown}, not rmab's "
                      f"MILP layer ({ours}), which rmab uses throughout (model files, the MIP "
                      f"planners, SEQUOIA): most calls will fail; rename that file or folder",
                      RmabWarning, stacklevel=3)


_check_solvers_layer()

__all__ = [
    "Instance", "MDPArms", "POMDPArms", "concat_arms", "health_intervention", "random_mdp_arms",
    "random_pomdp_arms", "collapsing_arms", "random_instance", "budget_from_fraction",
    "save_instance", "load_instance", "count_transitions", "estimate_probabilities",
    "estimate_hidden_arms", "HiddenArmsEstimate", "score_hidden_strengths",
    "score_strengths",
    "update_beliefs", "signal_probabilities", "sample_next",
    "Planner", "BasePlanner", "make_planner", "available_planners", "planner_names",
    "register_planner",
    "Environment", "StepResult", "EpisodeResult", "run_episode", "compare", "ComparisonResult",
    "PlannerScore", "PairedDifferenceResult", "load_comparison",
    "Batch", "BatchSolveResult", "read_batches", "solve_batches",
    "read_pomdp", "write_pomdp", "PomdpModel",
    "value_iteration", "policy_iteration", "solve_pbvi", "solve_finite_pbvi", "qmdp_bound",
    "fib_bound",
    "sawtooth_bound", "rollout",
    "lagrangian_bound", "whittle_indices", "belief_whittle_indices", "solve_knapsack",
    "RmabError", "ValidationError", "InvalidModelError", "InvalidParameterError",
    "InfeasibleActionError", "ImpossibleSignalError", "NotFittedError", "UnknownPlannerError",
    "MissingDependencyError", "PlanningError", "OutputError", "BatchInputError",
    "POMDPFormatError", "RmabWarning",
    "ConvergenceWarning", "IndexabilityWarning", "SolverLimitWarning",
]
