"""Baseline planners against independent references (brute force, hand-worked cases)."""

import itertools

import numpy as np
import pytest

from rmab.errors import (InvalidParameterError, MissingDependencyError, PlanningError,
                         UnknownPlannerError)
from rmab.models import Instance, MDPArms, POMDPArms, random_instance, random_mdp_arms
from rmab.planners import make_planner, register_planner
from rmab.planners.base import PlannerSpec, get_spec
from rmab.planners.baselines import one_step_values


def _brute_force_best(values, costs, budget):
    n, a = values.shape
    best = -np.inf
    for joint in itertools.product(range(a), repeat=n):
        joint = np.array(joint)
        if costs[np.arange(n), joint].sum() <= budget + 1e-9:
            best = max(best, values[np.arange(n), joint].sum())
    return best


@pytest.mark.parametrize("seed", range(6))
def test_myopic_is_brute_force_optimal(seed):
    inst = random_instance(5, n_states=3, n_actions=3, n_obs=2, budget=3.0, seed=seed)
    rng = np.random.default_rng(seed)
    belief = rng.dirichlet(np.ones(3), 5)
    p = make_planner("myopic").fit(inst, seed=0)
    actions = p.plan(belief)
    values = one_step_values(inst.arms, belief, inst.discount)
    got = values[np.arange(5), actions].sum()
    assert got == pytest.approx(_brute_force_best(values, inst.arms.costs, inst.budget), abs=1e-12)
    assert p.last_stats.info["knapsack"] == "dp"
    np.testing.assert_allclose(p.last_stats.scores, values[np.arange(5), actions] - values[:, 0])


def test_one_step_values_by_hand():
    # one arm, two states, reward 1 in state 1; acting moves 0 -> 1 surely, resting stays
    p = np.zeros((1, 2, 2, 2))
    p[0, 0] = np.eye(2)
    p[0, 1] = [[0.0, 1.0], [0.0, 1.0]]
    arms = MDPArms(p, np.array([[0.0, 1.0]]))
    q = one_step_values(arms, np.array([[0.7, 0.3]]), 0.9)
    np.testing.assert_allclose(q, [[0.3 + 0.9 * 0.3, 0.3 + 0.9 * 1.0]])


def test_myopic_in_the_last_period_takes_the_reward_now_alone():
    """Acting costs 0.1 now and pays next period: worth it except in the last period of a
    finite horizon, where myopic acted for a period that does not come (a review)."""
    import rmab

    p = np.zeros((1, 2, 2, 2))
    p[0, 0] = np.eye(2)
    p[0, 1] = [[0.0, 1.0], [0.0, 1.0]]
    rewards = np.array([[[0.5, 0.4], [1.0, 1.0]]])
    inst = Instance(MDPArms(p, rewards), 1.0, discount=1.0, horizon=2, initial_belief=[[1., 0.]])
    planner = make_planner("myopic").fit(inst, seed=0)
    assert planner.plan(inst.initial_belief, t=0).tolist() == [1]     # 0.4 + 1.0 > 0.5 + 0.5
    assert planner.plan(inst.initial_belief, t=1).tolist() == [0]     # 0.5 > 0.4, nothing after
    one = inst.replace(horizon=1)
    res = rmab.compare(one, ["myopic", "no-action"], episodes=2, seed=0)
    assert res.names[:2] == ("myopic", "no-action")
    np.testing.assert_array_equal(res.returns[:2], 0.5)                # myopic had 0.4
    discounted = inst.replace(horizon=None, discount=0.9)
    assert make_planner("myopic").fit(discounted).plan(inst.initial_belief, t=5).tolist() == [1]


def test_plan_on_a_finite_horizon_needs_the_period():
    """``plan(belief)`` planned period 0 whatever the week: myopic acted in the last period of
    two (the instance above), where acting pays in a period that does not come."""
    p = np.zeros((1, 2, 2, 2))
    p[0, 0] = np.eye(2)
    p[0, 1] = [[0.0, 1.0], [0.0, 1.0]]
    rewards = np.array([[[0.5, 0.4], [1.0, 1.0]]])
    inst = Instance(MDPArms(p, rewards), 1.0, discount=1.0, horizon=2, initial_belief=[[1., 0.]])
    b = inst.initial_belief
    for name in ("myopic", "whittle", "random"):
        planner = make_planner(name).fit(inst, seed=0)
        with pytest.raises(InvalidParameterError, match=r"^\w+Planner\.plan\.t: needed on a "
                           r"finite horizon \(the instance's horizon is 2; .*t=0 in the first "
                           r"period, \.\.\., t=1 in the last$"):
            planner.plan(b)
    whittle = make_planner("whittle").fit(inst, seed=0)
    with pytest.raises(InvalidParameterError, match=r"indices_at\.t: needed"):
        whittle.indices_at(b)
    np.testing.assert_array_equal(whittle.indices_at(b, t=1), whittle.result.indices[1, :, 0])
    # one period, or none: t can only be 0, or does not matter
    assert make_planner("myopic").fit(inst.replace(horizon=1)).plan(b).tolist() == [0]
    discounted = inst.replace(horizon=None, discount=0.9)
    assert make_planner("myopic").fit(discounted).plan(b).tolist() == [1]


def test_a_period_past_the_horizon_is_named_with_the_horizon():
    """'plan.t: must be <= 4; got 5' did not say where the 4 came from (weeks counted from 1
    in a loop over range(1, H + 1) reach t = H)."""
    inst = random_instance(3, 2, 2, horizon=5, seed=0)
    planner = make_planner("myopic").fit(inst, seed=0)
    with pytest.raises(InvalidParameterError, match=r"^MyopicPlanner\.plan\.t: must be <= 4; "
                       r"got 5 \(the instance's horizon is 5: periods 0 to 4\)$"):
        planner.plan(inst.initial_belief, t=5)
    with pytest.raises(InvalidParameterError, match=r"plan\.t: must be >= 0; got -1$"):
        planner.plan(inst.initial_belief, t=-1)


def test_myopic_beyond_the_dp_limit_takes_the_mip_or_the_greedy():
    inst = random_instance(200, n_states=2, n_actions=3, n_obs=2, budget=40.0, seed=1)
    values = one_step_values(inst.arms, inst.initial_belief, inst.discount)
    exact = make_planner("myopic").fit(inst)
    best = values[np.arange(200), exact.plan(inst.initial_belief)].sum()
    assert exact.last_stats.info["knapsack"] == "dp"
    for params, used in (({"dp_limit": 10}, "mip"), ({"knapsack": "mip"}, "mip"),
                         ({"knapsack": "greedy"}, "greedy")):
        p = make_planner("myopic", **params).fit(inst)
        a = p.plan(inst.initial_belief)
        assert p.last_stats.info["knapsack"] == used
        assert inst.arms.costs[np.arange(200), a].sum() <= 40.0
        if used == "mip":           # 400 indicators: exact
            assert values[np.arange(200), a].sum() == pytest.approx(best, abs=1e-9)


def test_myopic_is_exact_on_costs_with_no_decimal_grid():
    """Costs of thirds: the DP cannot scale them, the MIP answers (the greedy did until
    2026-12)."""
    arms = random_instance(5, n_states=3, n_actions=3, n_obs=2, budget=1.0, seed=3).arms
    costs = arms.costs / 3.0                    # 1/3 and 2/3
    inst = Instance(POMDPArms(arms.transitions, arms.observations, arms.rewards, costs), 1.0)
    belief = np.random.default_rng(3).dirichlet(np.ones(3), 5)
    p = make_planner("myopic").fit(inst)
    actions = p.plan(belief)
    values = one_step_values(inst.arms, belief, inst.discount)
    assert p.last_stats.info["knapsack"] == "mip" and p.last_stats.info["optimal"]
    assert values[np.arange(5), actions].sum() == pytest.approx(
        _brute_force_best(values, costs, 1.0), abs=1e-12)


def test_round_robin_cycles():
    inst = random_instance(5, n_obs=None, budget=2.0, seed=0)
    p = make_planner("round-robin").fit(inst)
    b = np.eye(2)[np.zeros(5, dtype=int)]
    seen = [np.flatnonzero(p.plan(b)).tolist() for _ in range(3)]
    assert seen == [[0, 1], [2, 3], [0, 4]]
    p.reset()
    assert np.flatnonzero(p.plan(b)).tolist() == [0, 1]


def test_belief_threshold_acts_on_least_engaged():
    inst = random_instance(4, n_states=2, n_obs=2, budget=2.0, seed=0)
    arms = inst.arms
    rewards = np.tile([[0.0, 0.0], [1.0, 1.0]], (4, 1, 1))  # reward 1 in state 1
    inst = inst.replace(arms=type(arms)(arms.transitions, arms.observations, rewards, arms.costs))
    belief = np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5], [0.95, 0.05]])
    a = make_planner("belief-threshold").fit(inst).plan(belief)
    assert np.flatnonzero(a).tolist() == [1, 3]
    a = make_planner("belief-threshold", threshold=0.1).fit(inst).plan(belief)
    assert np.flatnonzero(a).tolist() == [3]


def test_random_is_seeded_and_varied():
    inst = random_instance(30, n_states=2, n_actions=3, budget=10.0, seed=0)
    p = make_planner("random").fit(inst, seed=5)
    draws = [p.plan(inst.initial_belief) for _ in range(5)]
    assert any(not np.array_equal(draws[0], d) for d in draws[1:])
    p.reset(seed=5)
    np.testing.assert_array_equal(p.plan(inst.initial_belief), draws[0])
    q = make_planner("random").fit(inst, seed=5)
    np.testing.assert_array_equal(q.plan(inst.initial_belief), draws[0])


def test_unknown_planner_suggests_close_names():
    with pytest.raises(UnknownPlannerError, match="did you mean 'myopic'"):
        make_planner("myopc")


def test_bad_planner_parameters():
    with pytest.raises(InvalidParameterError, match="MyopicPlanner.knapsack: must be 'auto', "
                                                     "'dp', 'greedy' or 'mip'; got 'simplex'"):
        make_planner("myopic", knapsack="simplex")
    with pytest.raises(InvalidParameterError, match="make_planner"):
        make_planner("no-action", nonsense=1)
    with pytest.raises(InvalidParameterError, match="action"):
        make_planner("round-robin", action=0)
    inst = random_instance(3, n_actions=2, seed=0)
    with pytest.raises(InvalidParameterError, match="n_actions"):
        make_planner("round-robin", action=2).fit(inst)


class NotAPlanner:
    name = "not-a-planner"


def test_registered_targets_and_extras_are_checked(monkeypatch):
    """A review: extras="plot" became p, l, o, t; a target that is not a planner class failed
    later with a bare AttributeError or ValueError; non-str parameter names a TypeError."""
    import rmab
    from rmab.planners import base

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    spec = register_planner("one-extra", "rmab.planners.baselines:NoActionPlanner", "x", "plot")
    assert spec.extras == ("plot",)
    spec = register_planner("set-extras", "rmab.planners.baselines:NoActionPlanner", "x",
                            {"numpy"})                          # any iterable of names
    assert spec.extras == ("numpy",)
    for extras in (None, [1]):
        with pytest.raises(InvalidParameterError, match="register_planner.extras: must be a "
                                                        "tuple of extra names"):
            register_planner("bad-extras", "rmab.planners.baselines:NoActionPlanner", "x",
                             extras)
    with pytest.raises(InvalidParameterError, match="register_planner.summary: must be a str"):
        register_planner("bad-summary", "rmab.planners.baselines:NoActionPlanner", None)
    register_planner("a-function", "rmab.planners.base:make_planner", "x")
    register_planner("a-builtin", "builtins:dict", "x")
    register_planner("no-methods", f"{__name__}:NotAPlanner", "x")
    inst = random_instance(2, seed=0)
    for name, match in [("a-function", "must be a planner class; got function"),
                        ("a-builtin", "is not a planner class"),
                        ("no-methods", "NotAPlanner is not a planner .*docs/planners.md")]:
        with pytest.raises(PlanningError, match=match):
            make_planner(name)
        with pytest.raises(PlanningError, match=match):
            rmab.compare(inst, [name], episodes=1)
    with pytest.raises(InvalidParameterError, match=r"parameter names must be str; got 1"):
        rmab.compare(inst, [("myopic", {1: 2})], episodes=1)


def test_registry_duplicates_and_missing_extras():
    with pytest.raises(InvalidParameterError, match="taken"):
        register_planner("myopic", "x:y", "dup")
    spec = PlannerSpec("needs-thing", "rmab.planners.baselines:NoActionPlanner", "test",
                       extras=("definitely_not_installed_pkg",))
    assert not spec.available
    with pytest.raises(MissingDependencyError, match=r"rmab\[definitely_not_installed_pkg\]"):
        spec.load()
    assert get_spec("myopic").available


@pytest.mark.parametrize("name, target, field", [
    (3, "rmab.planners.baselines:NoActionPlanner", "name"),
    ("", "rmab.planners.baselines:NoActionPlanner", "name"),
    ("t1", "rmab.planners.baselines", "target"),
    ("t1", None, "target"),
    ("t1", ".baselines:NoActionPlanner", "target"),    # failed later with a bare TypeError
])
def test_register_planner_checks_its_entry(name, target, field):
    """An int name was listed; a target without ':Class' failed later with a bare
    AttributeError (a planner review)."""
    with pytest.raises(InvalidParameterError, match=rf"register_planner\.{field}: must be"):
        register_planner(name, target, "bad")


@pytest.mark.parametrize("target", ["no_such_module_xyz:Cls", "rmab.planners.baselines:Nope"])
def test_a_target_that_cannot_be_loaded_names_the_planner(target):
    spec = PlannerSpec("t-load", target, "test")
    with pytest.raises(PlanningError, match=rf"planner 't-load': its target '{target}' cannot"):
        spec.load()


def test_an_arm_too_costly_does_not_block_the_others():
    # arm 0 costs 3 > budget 2: round-robin and belief-threshold pass over it
    base = random_mdp_arms(4, 2, 2, seed=0)
    arms = MDPArms(base.transitions, base.rewards, np.array([[0, 3.0], [0, 1], [0, 1], [0, 1]]))
    inst = Instance(arms, 2.0)
    rr = make_planner("round-robin").fit(inst)
    plans = [rr.plan(np.full((4, 2), 0.5)).tolist() for _ in range(3)]
    assert plans == [[0, 1, 1, 0], [0, 1, 0, 1], [0, 0, 1, 1]]      # the cycle goes on
    bt = make_planner("belief-threshold").fit(inst)
    assert bt.plan(np.full((4, 2), 0.5)).sum() == 2


def test_plan_period_and_parameter_errors_name_the_planner():
    inst = random_instance(3, 2, 2, None, budget=1.0, seed=0)
    planner = make_planner("myopic").fit(inst)
    for t, match in (("a", "must be an integer"), (-1, "must be >= 0"),
                     (2.7, "must be an integer")):
        with pytest.raises(InvalidParameterError, match=rf"MyopicPlanner\.plan\.t: {match}"):
            planner.plan(inst.initial_belief, t=t)
    with pytest.raises(InvalidParameterError, match=r"BeliefThresholdPlanner\.action: must be <"):
        make_planner("belief-threshold", action=2).fit(inst)
    with pytest.raises(InvalidParameterError, match=r"RolloutPlanner\.base_params: must be a dict"):
        make_planner("rollout", base_params=3)
    # too many joint actions for mode 'joint': refused at fit (it was at the first plan)
    with pytest.raises(InvalidParameterError, match=r"RolloutPlanner\.max_joint: must be >= "
                                                    r"n_actions \*\* n_arms = 8 .*got 4"):
        make_planner("rollout", mode="joint", max_joint=4).fit(inst)
    big = random_instance(40, 2, 3, None, budget=1.0, seed=0)     # 3 ** 40, as a power
    with pytest.raises(InvalidParameterError, match=r"n_arms = 3\*\*40 for mode 'joint'"):
        make_planner("rollout", mode="joint").fit(big)


def test_plan_refuses_beliefs_that_are_not_real_numbers():
    """Strings were parsed and complex numbers cast with only a numpy ComplexWarning."""
    planner = make_planner("myopic").fit(random_instance(2, 2, 2, None, budget=1.0, seed=0))
    for belief in ([["0.5", "0.5"], ["1", "0"]], np.array([[0.5 + 3j, 0.5], [1, 0]])):
        with pytest.raises(InvalidParameterError, match=r"MyopicPlanner\.plan\.belief: must be "
                                                        r"an array of numbers"):
            planner.plan(belief)


@pytest.mark.parametrize("name, params, match", [
    ("whittle", dict(threshold=np.array([0.0, 1.0])),
     r"WhittlePlanner\.threshold: must be a number"),
    ("belief-threshold", dict(threshold=np.array([0.0, np.inf])),
     r"BeliefThresholdPlanner\.threshold: must be a number"),
    ("lagrangian", dict(method=np.array(["auto", "lp"])), r"LagrangianPlanner\.method: must be"),
    ("lagrangian", dict(knapsack=np.array(["dp"])), r"LagrangianPlanner\.knapsack: must be"),
    ("myopic", dict(knapsack=np.array(["dp"])), r"MyopicPlanner\.knapsack: must be"),
    ("rollout", dict(mode=np.array(["joint", "auto"])), r"RolloutPlanner\.mode: must be"),
])
def test_array_parameters_give_typed_errors(name, params, match):
    """They raised numpy's "truth value of an array ... is ambiguous" ValueError."""
    with pytest.raises(InvalidParameterError, match=match):
        make_planner(name, **params)


def test_infinite_thresholds_are_still_accepted():
    assert make_planner("whittle", threshold=-np.inf).threshold == -np.inf
    assert make_planner("belief-threshold", threshold=np.float64(np.inf)).threshold == np.inf


def test_belief_threshold_acts_at_the_threshold_itself():
    """'At most threshold': an arm whose expected passive reward equals the threshold acts
    (a strict comparison left it out)."""
    p = np.tile(np.eye(2), (3, 2, 1, 1))                       # (3 arms, 2 actions, 2, 2)
    rewards = np.tile(np.array([[0.0, 0.0], [1.0, 1.0]]), (3, 1, 1))
    inst = Instance(MDPArms(p, rewards), 3.0, discount=0.9)
    belief = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])   # passive rewards 0, 0.5, 1
    planner = make_planner("belief-threshold", threshold=0.5).fit(inst, seed=0)
    # by hand: the arms with R(b, 0) <= 0.5 are 0 and 1, and the budget fits both
    assert planner.plan(belief).tolist() == [1, 1, 0]


def test_the_budget_tolerance_is_rounding_only():
    """The walk lets a joint action exceed the budget by float rounding (1e-9 of it), no
    more: two arms costing 0.5 and 0.5 + 3e-9 do not both fit a budget of 1, while 0.5 and
    0.5 + 2e-10 (a sum's rounding) do."""
    p = np.tile(np.eye(2), (2, 2, 1, 1))
    rewards = np.zeros((2, 2, 2))
    belief = np.tile([1.0, 0.0], (2, 1))
    for extra, both in ((3e-9, False), (2e-10, True)):
        costs = np.array([[0.0, 0.5], [0.0, 0.5 + extra]])
        inst = Instance(MDPArms(p, rewards, costs), 1.0, discount=0.9)
        actions = make_planner("round-robin").fit(inst, seed=0).plan(belief)
        assert actions.tolist() == ([1, 1] if both else [1, 0]), extra


def test_rollout_joint_scores_are_gains_over_passive():
    """Joint enumeration: ``scores`` are each arm's gain of its action over the passive one.
    One period simulated from known states, so each arm's value is its reward now, r(s, a):
    by hand the gains are r(s, chosen) - r(s, 0), and the chosen joint action is the best
    one the budget allows."""
    p = np.tile(np.eye(2), (3, 2, 1, 1))
    rewards = np.array([[[2.0, 2.5], [1.0, 1.0]],
                        [[1.0, 1.8], [0.0, 0.0]],
                        [[3.0, 3.2], [0.0, 0.0]]])
    inst = Instance(MDPArms(p, rewards), 2.0, discount=0.9)
    planner = make_planner("rollout", base="no-action", horizon=1, n_trajectories=2,
                           mode="joint").fit(inst, seed=0)
    actions = planner.plan(np.tile([1.0, 0.0], (3, 1)))
    assert planner.last_stats.info["mode"] == "joint"
    assert actions.tolist() == [1, 1, 0]                 # gains 0.5, 0.8, 0.2; two fit
    np.testing.assert_allclose(planner.last_stats.scores, [0.5, 0.8, 0.0], atol=1e-12)
