"""Result objects print on one line: arrays by shape and dtype (a usability review found
PlanStats and LagrangianResult printing hundreds of numbers)."""

import numpy as np
import pytest

import rmab
from rmab._repr import CompactRepr
from rmab.domains.base import DomainStepResult
from rmab.domains.evaluate import DomainComparisonResult
from rmab.io.batch import BatchFailure, BatchOutcome, BatchSolveResult
from rmab.planners.base import PlanStats
from rmab.planners.sequoia.argmax import ArgmaxResult
from rmab.relax.knapsack import KnapsackResult
from rmab.relax.lagrangian import DualCurveResult, LagrangianResult
from rmab.relax.whittle import BeliefWhittleResult, FiniteWhittleResult, WhittleResult
from rmab.sim.compare import ComparisonResult
from rmab.sim.environment import StepResult
from rmab.sim.episodes import EpisodeResult
from rmab.values.exact import ExactResult
from rmab.values.finite_pbvi import FinitePBVIResult
from rmab.values.pbvi import AlphaVectors, PBVIResult
from rmab.values.rollout import RolloutResult

RESULTS = [DomainStepResult, DomainComparisonResult, BatchSolveResult, BatchOutcome, BatchFailure,
           PlanStats, ArgmaxResult, KnapsackResult, DualCurveResult, LagrangianResult,
           BeliefWhittleResult, FiniteWhittleResult, WhittleResult, ComparisonResult, StepResult,
           EpisodeResult, ExactResult, FinitePBVIResult, PBVIResult, RolloutResult, AlphaVectors]


@pytest.mark.parametrize("cls", RESULTS, ids=lambda c: c.__name__)
def test_results_use_the_compact_repr(cls):
    assert cls.__repr__ is CompactRepr.__repr__       # not a generated dataclass repr


def test_arrays_print_by_shape_small_ones_in_full():
    inst = rmab.health_intervention(50, budget_fraction=0.1, seed=0)
    text = repr(rmab.lagrangian_bound(inst))
    assert "\n" not in text.split("prices=")[0]
    assert "arm_values=array(shape=(50,), dtype=float64)" in text
    assert text.startswith("LagrangianResult(estimate=")
    stats = PlanStats(seconds=0.5, scores=np.arange(3.0), info={"optimal": True})
    assert repr(stats) == ("PlanStats(seconds=0.5, scores=array([0., 1., 2.]), "
                           "info={'optimal': True})")
    nested = PlanStats(seconds=0.5, scores=None, info={"prices": np.arange(100.0)})
    assert repr(nested) == ("PlanStats(seconds=0.5, scores=None, "
                            "info={'prices': array(shape=(100,), dtype=float64)})")


def test_domains_print_their_arrays_by_shape():
    """A 20-arm domain printed some 60 lines of numbers (a new user's walkthrough)."""
    from rmab.domains import make_domain

    for kind in ("capacity", "interventions", "scheduling", "path"):
        text = repr(make_domain(kind, 20, 5, seed=0))
        assert "\n" not in text and len(text) < 400, kind
        assert "budget=5" in text and "up_prob=array(shape=(20, " in text, kind


def test_a_solved_batch_prints_on_one_line():
    """print(solve_batches(...)) listed every arm id, action, cost and score of 200 arms (a
    walkthrough): the outcomes inside print by shape too."""
    from rmab.io import Batch, solve_batches

    batch = Batch("w", [f"p{j}" for j in range(200)], rmab.health_intervention(200, seed=0))
    text = repr(solve_batches([batch], "myopic"))
    assert "\n" not in text and len(text) < 600 and "p150" not in text
    assert "arm_ids=array(shape=(200,), dtype=object)" in text
    assert "actions=array(shape=(200,)" in text


def test_relaxation_and_rollout_results_hold_read_only_arrays():
    """A planner reads its result's arrays at every step: ``planner.result.indices[...] = 0``
    changed its decisions (they were writable, unlike ExactResult's). The caller's own arrays
    stay writable."""
    from rmab.models.generators import health_intervention, random_instance
    from rmab.planners.index import WhittlePlanner
    from rmab.planners.lagrangian import LagrangianPlanner
    from rmab.relax.whittle import belief_whittle_indices
    from rmab.values.rollout import rollout

    inst = random_instance(4, 3, 2, None, budget=1.0, seed=0)
    whittle = WhittlePlanner().fit(inst, seed=0).result
    lagrangian = LagrangianPlanner().fit(inst, seed=0).result
    pomdp = health_intervention(2, seed=0)
    grid = np.array([[0.5, 0.5], [1.0, 0.0]])
    belief = belief_whittle_indices(pomdp.arms, beliefs=grid, n_prices=4)
    roll = rollout(inst, np.full((4, 3), 1 / 3), n_trajectories=2, horizon=2, seed=0)
    arrays = [whittle.indices, whittle.indexable, lagrangian.arm_values, lagrangian.prices,
              belief.indices, belief.violation, belief.grid, *(
                  v for v in vars(roll).values() if isinstance(v, np.ndarray))]
    for arr in arrays:
        with pytest.raises(ValueError, match="read-only"):
            arr[(0,) * arr.ndim] = 0
    grid[0, 0] = 0.25                                   # the caller's array is not frozen
