"""Episodes: returns, discounting, and the exact expected return of the passive policy."""

import numpy as np
import pytest

from rmab.errors import InfeasibleActionError, InvalidParameterError
from rmab.models import health_intervention, random_instance
from rmab.planners import BasePlanner, make_planner
from rmab.sim import Environment, compare, run_episode
from rmab.sim.noise import int_seed, root_sequence


def _passive_value(inst, horizon):
    """E sum_t discount**t reward_t under the passive action, by propagating each arm's state
    distribution through its passive transitions (independent of the simulator)."""
    b = np.array(inst.initial_belief)
    p0 = inst.arms.transitions[:, 0]
    r0 = inst.arms.rewards[:, :, 0]
    value = 0.0
    for t in range(horizon):
        value += inst.discount ** t * float(np.sum(b * r0))
        b = np.einsum("ns,nst->nt", b, p0)
    return value


@pytest.mark.parametrize("observed", [False, True])
def test_no_action_matches_exact_expected_return(observed):
    inst = random_instance(6, n_states=3, n_actions=2, n_obs=None if observed else 2,
                           budget=2.0, discount=0.9, seed=5)
    res = compare(inst, ["no-action"], episodes=300, seed=1, horizon=15)
    exact = _passive_value(inst, 15)
    s = res.score("no-action")
    assert s.stderr > 0
    assert abs(s.mean - exact) < 4 * s.stderr, (s.mean, exact, s.stderr)


def test_discount_one_gives_the_total():
    inst = health_intervention(10, discount=1.0, horizon=7, seed=0)
    env = Environment(inst)
    planner = make_planner("myopic").fit(inst, seed=0)
    res = run_episode(env, planner, seed=3)
    assert res.n_steps == 7 and res.discounted_return == res.total_reward
    assert res.decision_seconds > 0


def test_run_episode_is_deterministic_and_discounts():
    inst = health_intervention(10, discount=0.8, horizon=6, seed=0)
    env = Environment(inst)
    planner = make_planner("random").fit(inst, seed=0)
    a = run_episode(env, planner, seed=4)
    b = run_episode(env, planner, seed=4)
    assert (a.discounted_return, a.total_reward) == (b.discounted_return, b.total_reward)
    # recompute the discounted return from the rewards of a replay
    env2 = Environment(inst)
    belief = env2.reset(seed=4)
    planner.reset(seed=int_seed(root_sequence("s", 4)))
    rewards = []
    while not env2.done:
        step = env2.step(planner.plan(belief))
        rewards.append(step.reward)
        belief = step.belief
    assert sum(rewards) == pytest.approx(a.total_reward)
    assert sum(0.8 ** t * r for t, r in enumerate(rewards)) == pytest.approx(a.discounted_return)
    assert a.discounted_return < a.total_reward


class _Greedy(BasePlanner):
    """Spends twice the budget: every arm takes the costliest action."""

    name = "greedy"

    def _plan(self, belief, t):
        return np.full(belief.shape[0], self.instance.n_actions - 1, dtype=np.int64)


def test_infeasible_planner_is_named():
    inst = health_intervention(10, seed=0)  # budget 1, visit costs 2
    env = Environment(inst)
    with pytest.raises(InfeasibleActionError,
                       match=r"planner 'greedy' at t=0: _Greedy\.plan: the action planned breaks "
                             r"the instance's limits: must cost at most budget=1; got total cost "
                             r"20 \(overspend 19\)"):
        run_episode(env, _Greedy().fit(inst), seed=0)


def test_run_episode_rejects_non_environment():
    inst = health_intervention(3, seed=0)
    with pytest.raises(InvalidParameterError, match=r"run_episode\.env: must be an Environment"):
        run_episode(inst, make_planner("random").fit(inst), seed=0)


def test_run_episode_rejects_a_planner_name():
    """A registry name failed with AttributeError: 'str' object has no attribute 'reset'."""
    env = Environment(health_intervention(2, seed=0))
    with pytest.raises(InvalidParameterError, match=r"run_episode\.planner: must be a Planner "
                                                    r"fitted to env\.instance .*; got 'myopic'"):
        run_episode(env, "myopic", seed=0)
    from rmab.planners.baselines import MyopicPlanner    # the class passed the protocol check

    with pytest.raises(InvalidParameterError, match=r"run_episode\.planner: must be a Planner "
                                                    r"fitted .*; got <class"):
        run_episode(env, MyopicPlanner, seed=0)


def test_a_fit_error_of_a_users_own_class_reaches_the_caller():
    """compare rebuilt fit errors as type(exc)(message): an error class taking other
    arguments raised a TypeError that hid the user's error (a review)."""
    import rmab

    class FieldError(InvalidParameterError):
        def __init__(self, field, value):
            super().__init__(f"Mine.{field}: must be ok; got {value}")

    class Refuses(rmab.BasePlanner):
        name = "refuses"

        def _fit(self, instance):
            raise FieldError("x", 3)

    with pytest.raises(FieldError, match=r"Mine\.x: must be ok; got 3") as info:
        rmab.compare(health_intervention(2, seed=0), [Refuses()], episodes=1)
    assert "(fitting planner 'refuses')" in info.value.__notes__
