"""Rollout: estimates against closed-form returns under the no-action base, common random
numbers, Hoeffding sizes, joint vs per-arm modes, the planner's protocol, error paths."""

import math

import numpy as np
import pytest

from rmab.errors import (InvalidParameterError, NotFittedError, UnknownPlannerError)
from rmab.models import Instance, POMDPArms, health_intervention, random_instance
from rmab.planners.baselines import NoActionPlanner
from rmab.planners.rollout import RolloutPlanner
from rmab.values.rollout import hoeffding_trajectories, rollout


def no_action_return(arms, belief, first, beta, horizon):
    """Exact E Σ_{t<H} β^t r(s_t, a_t) per arm with a_0 = first, then passive (propagating
    the state distribution: independent of the simulator)."""
    n = arms.n_arms
    out = np.zeros(n)
    for i in range(n):
        dist = belief[i].copy()
        for t in range(horizon):
            a = first[i] if t == 0 else 0
            out[i] += beta ** t * dist @ arms.rewards[i, :, a]
            dist = dist @ arms.transitions[i, a]
    return out


def test_per_arm_estimates_match_closed_form():
    inst = random_instance(4, 3, 3, 2, budget=2, discount=0.9, seed=1)
    res = rollout(inst, inst.initial_belief, base="no-action", horizon=6, n_trajectories=200,
                  mode="per-arm", seed=0)
    assert res.mode == "per-arm" and res.q.shape == (4, 3)
    for a in range(3):
        exact = no_action_return(inst.arms, inst.initial_belief, np.full(4, a), 0.9, 6)
        assert np.all(np.abs(res.q[:, a] - exact) <= 5 * res.q_stderr[:, a] + 1e-12)
    assert res.truncation_bound == pytest.approx(0.9 ** 6 * np.abs(inst.arms.rewards).max()
                                                 / 0.1)


def test_joint_estimates_match_closed_form_and_pick_feasible():
    inst = random_instance(3, 2, 2, 2, budget=1, discount=0.8, seed=4)
    res = rollout(inst, inst.initial_belief, base="no-action", horizon=5, n_trajectories=300,
                  seed=2)
    assert res.mode == "joint"
    assert len(res.candidates) == 4            # passive + each single arm acting
    for k, cand in enumerate(res.candidates):
        exact = no_action_return(inst.arms, inst.initial_belief, cand, 0.8, 5).sum()
        assert abs(res.values[k] - exact) <= 5 * res.stderr[k] + 1e-12
    assert inst.arms.costs[np.arange(3), res.actions].sum() <= 1
    assert res.actions.tolist() == res.candidates[np.argmax(res.values)].tolist()


def test_common_random_numbers_make_identical_candidates_identical():
    """Action 1 is a copy of action 0: with common random numbers their estimates agree
    exactly, although each has sampling noise."""
    inst = random_instance(5, 3, 2, 2, seed=3)
    arms = inst.arms
    t = np.array(arms.transitions)
    o = np.array(arms.observations)
    r = np.array(arms.rewards)
    t[:, 1], o[:, 1], r[:, :, 1] = t[:, 0], o[:, 0], r[:, :, 0]
    twin = Instance(POMDPArms(t, o, r, [0.0, 0.0]), budget=1.0)
    res = rollout(twin, twin.initial_belief, horizon=5, n_trajectories=8, mode="per-arm",
                  seed=0)
    np.testing.assert_array_equal(res.q[:, 0], res.q[:, 1])
    assert (res.q_stderr > 0).all()


def test_hoeffding_trajectories():
    # L >= Δ² ln(2K/δ) / (2ε²)
    assert hoeffding_trajectories(0.1, 0.05, 1.0) == math.ceil(math.log(40) / 0.02)
    assert hoeffding_trajectories(0.1, 0.05, 1.0, n_candidates=4) == \
        math.ceil(math.log(160) / 0.02)
    assert hoeffding_trajectories(1.0, 0.5, 0.0) == 1
    with pytest.raises(InvalidParameterError, match=r"hoeffding_trajectories\.delta: must be"):
        hoeffding_trajectories(0.1, 1.0, 1.0)
    with pytest.raises(InvalidParameterError, match=r"hoeffding_trajectories\.epsilon: must be"):
        hoeffding_trajectories(0.0, 0.1, 1.0)
    # these raised ZeroDivisionError and OverflowError
    for args in ((1e-200, 0.05, 1.0), (0.1, 0.05, 1e200)):
        with pytest.raises(InvalidParameterError, match=r"hoeffding_trajectories\.epsilon: must "
                                                        r"give a number of trajectories within"):
            hoeffding_trajectories(*args)
    assert hoeffding_trajectories(0.1, 5e-324, 1.0) == 37257      # 2 / delta overflowed


def test_planner_is_feasible_deterministic_and_keeps_input():
    inst = health_intervention(30, budget_fraction=0.2, seed=1)
    belief = np.array(inst.initial_belief)
    before = belief.copy()
    p1 = RolloutPlanner(horizon=4, n_trajectories=4).fit(inst, seed=5)
    p2 = RolloutPlanner(horizon=4, n_trajectories=4).fit(inst, seed=5)
    a1, a2 = p1.plan(belief), p2.plan(belief)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(belief, before)
    assert inst.arms.costs[np.arange(30), a1].sum() <= inst.budget + 1e-9
    assert p1.last_stats.info["mode"] == "per-arm" and p1.last_stats.scores.shape == (30,)
    assert (p1.last_stats.scores >= -1e-12).all()
    p1.reset(seed=9)
    assert p1.plan(belief).shape == (30,)


@pytest.mark.parametrize("budget", [0.0, 100.0])
def test_planner_budget_edges(budget):
    inst = random_instance(3, 2, 2, 2, budget=budget, seed=0)
    p = RolloutPlanner(base="random", horizon=3, n_trajectories=4).fit(inst, seed=0)
    a = p.plan(inst.initial_belief)
    if budget == 0:
        assert (a == 0).all()
    assert p.last_stats.info["mode"] == "joint"
    assert inst.arms.costs[np.arange(3), a].sum() <= budget


def test_planner_errors():
    with pytest.raises(NotFittedError):
        RolloutPlanner().plan(np.full((2, 2), 0.5))
    # named as the rollout's own parameter: 'planner: must be one of' read as if --planner
    # were wrong in 'rmab solve --planner rollout --param base=myopik' (a CLI review)
    with pytest.raises(UnknownPlannerError, match=r"^RolloutPlanner\.base: must be one of .*"
                                                  r"did you mean 'myopic'"):
        RolloutPlanner(base="myopik")
    with pytest.raises(InvalidParameterError, match=r"RolloutPlanner\.base: must be the name"):
        RolloutPlanner(base="rollout")
    with pytest.raises(InvalidParameterError, match=r"RolloutPlanner\.mode: must be one of"):
        RolloutPlanner(mode="both")
    with pytest.raises(InvalidParameterError, match=r"RolloutPlanner\.horizon: must be >= 1"):
        RolloutPlanner(horizon=0)
    with pytest.raises(InvalidParameterError, match=r"RolloutPlanner\.n_trajectories"):
        RolloutPlanner(n_trajectories=1.5)


def test_rollout_errors():
    inst = random_instance(2, 2, 2, 2, seed=0)
    b = inst.initial_belief
    with pytest.raises(InvalidParameterError, match=r"rollout\.instance: must be an Instance"):
        rollout("x", b)
    with pytest.raises(InvalidParameterError, match=r"rollout\.belief: must have shape"):
        rollout(inst, np.full((3, 2), 0.5))
    with pytest.raises(InvalidParameterError, match=r"rollout\.base: must be a planner name"):
        rollout(inst, b, base=NoActionPlanner())          # not fitted to this instance
    with pytest.raises(InvalidParameterError,
                       match=r"rollout\.max_joint: must be >= n_actions \*\* n_arms = 4"):
        rollout(inst, b, mode="joint", max_joint=3)
    with pytest.raises(InvalidParameterError, match=r"rollout\.seed"):
        rollout(inst, b, seed="x")
    fitted = NoActionPlanner().fit(inst)
    assert rollout(inst, b, base=fitted, horizon=2, n_trajectories=2, seed=0).mode == "joint"


def test_undiscounted_finite_horizon_truncation():
    # discount 1 is valid with a finite horizon: the left-out weight is the periods left out
    from rmab.planners import make_planner

    inst = random_instance(4, 2, 2, None, discount=1.0, horizon=5, seed=0)
    res = rollout(inst, inst.initial_belief, base="myopic", horizon=3, n_trajectories=2, seed=0)
    assert res.truncation_bound == pytest.approx(2 * np.abs(inst.arms.rewards).max())
    long = rollout(inst, inst.initial_belief, base="myopic", horizon=6, n_trajectories=2, seed=0)
    assert long.truncation_bound == 0.0
    make_planner("rollout", horizon=3, n_trajectories=2).fit(inst).plan(inst.initial_belief)


def _one_period_trap():
    """Acting pays 0.5 less now and 1 more next period: worth it only with a period left."""
    from rmab.models import MDPArms

    T = np.array([[[[1, 0], [1, 0.0]], [[0, 1], [0, 1.0]]]])
    R = np.array([[[0, -0.5], [1, 0.5]]])
    return MDPArms(T, R, [0, 1])


def test_rollout_stops_at_the_end_of_a_finite_episode():
    """A one-period episode: the returns are 0 and -0.5 whatever ``horizon`` asks; it once
    simulated 5 periods, picked acting and reported a truncation bound of 0."""
    inst = Instance(_one_period_trap(), budget=1, discount=1.0, horizon=1,
                    initial_belief=[[1, 0.0]])
    res = rollout(inst, inst.initial_belief, horizon=5, n_trajectories=4, seed=0)
    np.testing.assert_allclose(res.values, [0.0, -0.5])
    assert res.actions.tolist() == [0] and res.horizon == 1 and res.truncation_bound == 0.0


def test_rollout_planner_counts_the_periods_left():
    inst = Instance(_one_period_trap(), budget=1, discount=1.0, horizon=3,
                    initial_belief=[[1, 0.0]])
    planner = RolloutPlanner(horizon=10, n_trajectories=2).fit(inst, seed=0)
    b = np.array([[1.0, 0.0]])
    assert planner.plan(b, t=0).tolist() == [1]          # two periods left: acting pays
    assert planner.plan(b, t=2).tolist() == [0]          # the last period: it does not
    res = rollout(inst, b, horizon=10, n_trajectories=2, seed=0, t=1)
    assert res.horizon == 2
    with pytest.raises(InvalidParameterError, match="rollout.t: must be >= 0"):
        rollout(inst, b, t=-1)


def test_one_trajectory_warns_nothing():
    inst = health_intervention(4, seed=0)
    planner = RolloutPlanner(n_trajectories=1, horizon=2).fit(inst, seed=0)
    planner.plan(inst.initial_belief)                    # -W error: no All-NaN warning
    assert math.isnan(planner.last_stats.info["max_stderr"])


def test_base_params_must_be_a_dict():
    inst = health_intervention(3, seed=0)
    with pytest.raises(InvalidParameterError, match=r"rollout\.base_params: must be a dict"):
        rollout(inst, inst.initial_belief, base_params=[1])


def test_a_period_past_the_episode_is_refused():
    """t = 10 on a 3-period instance simulated one period and returned values (a review)."""
    inst = random_instance(3, seed=0, discount=1.0, horizon=3)
    b = inst.initial_belief
    with pytest.raises(InvalidParameterError, match=r"rollout\.t: must be <= 2; got 10"):
        rollout(inst, b, t=10, seed=0)
    planner = NoActionPlanner().fit(inst)
    with pytest.raises(InvalidParameterError, match=r"NoActionPlanner\.plan\.t: must be <= 2"):
        planner.plan(b, t=3)


def test_base_params_are_checked_when_the_planner_is_made():
    """A typo in base_params passed make_planner and failed at every fit (one error per CSV
    batch with --keep-going, not one up front; a planners review)."""
    from rmab.planners import make_planner

    with pytest.raises(InvalidParameterError, match=r"RolloutPlanner\.base_params: "
                                                    r"make_planner\('myopic'\)\.bogus: not a "
                                                    r"parameter"):
        make_planner("rollout", base_params={"bogus": 1})
