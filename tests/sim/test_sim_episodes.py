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
        step = env2.step(planner.plan(belief, t=env2.t))
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


class _ThroughPlan:
    """A Planner that is not a BasePlanner: episodes call its public ``plan`` and check its
    action in ``Environment.step`` (the loop before ``BasePlanner._decide``)."""

    name = "through-plan"

    def __init__(self, planner):
        self.planner = planner

    def fit(self, instance, *, seed=None):
        return self

    def reset(self, *, seed=None):
        self.planner.reset(seed=seed)

    def plan(self, belief, *, t=0):
        return self.planner.plan(belief, t=t)


class _OwnEnvironment(Environment):
    """A subclass: its beliefs and step may be its own, so its episodes take the public path."""


@pytest.mark.parametrize("name", ["random", "myopic"])
def test_episodes_check_a_base_planners_belief_never_and_actions_once(name, monkeypatch):
    """An Environment's beliefs are valid by construction: a BasePlanner decides without
    plan's belief check and copy, and its actions, checked by _decide, are not checked again
    by Environment.step (together 1.2-2x a period at 50 arms); the returns are those of the
    public plan and step to the last bit. Any other planner, or an Environment subclass, still
    goes through plan and step."""
    import rmab.planners.base as base_module
    import rmab.sim.environment as env_module

    calls = {"belief": 0, "_decide": 0, "step": 0}

    def counted(key, real):
        def wrapper(*args, **kwargs):
            calls[key] += 1
            return real(*args, **kwargs)
        return wrapper

    inst = health_intervention(8, budget_fraction=0.3, seed=2)
    planner = make_planner(name).fit(inst, seed=0)
    monkeypatch.setattr(BasePlanner, "_checked", counted("belief", BasePlanner._checked))
    monkeypatch.setattr(base_module, "check_actions",
                        counted("_decide", base_module.check_actions))
    monkeypatch.setattr(env_module, "check_actions", counted("step", env_module.check_actions))
    got = {}
    for label, env_class, subject in (("trusted", Environment, planner),
                                      ("through plan", Environment, _ThroughPlan(planner)),
                                      ("own environment", _OwnEnvironment, planner)):
        calls.update(belief=0, _decide=0, step=0)
        res = run_episode(env_class(inst, horizon=6), subject, seed=3, planner_seed=4)
        got[label] = (res.discounted_return, res.total_reward)
        if label == "trusted":
            assert calls == {"belief": 0, "_decide": 6, "step": 0}
        else:
            assert calls == {"belief": 6, "_decide": 6, "step": 6}, label
    assert got["trusted"] == got["through plan"] == got["own environment"]


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


def test_run_episode_refuses_a_planner_fitted_to_another_instance():
    """A fuzz review: a planner fitted with budget 8 played an episode of a budget-1
    environment unchecked (its plan checks against its own instance, and the environment's
    fast path does not check again): a return of 7.51 where 6.61 is the most one can get."""
    inst = health_intervention(4, seed=0)
    for other in (inst.replace(budget=8), health_intervention(5, seed=0)):
        planner = make_planner("myopic").fit(other, seed=0)
        with pytest.raises(InvalidParameterError, match=r"run_episode\.planner: must be fitted "
                           r"to env\.instance; 'myopic' was fitted to another Instance object"):
            run_episode(Environment(inst, horizon=3), planner, seed=0)
    planner = make_planner("myopic").fit(inst, seed=0)
    assert run_episode(Environment(inst, horizon=3), planner, seed=0).discounted_return > 0


def test_run_episode_names_its_own_planner_seed():
    """A bad planner_seed was reported as 'MyopicPlanner.reset.seed' (a review)."""
    inst = health_intervention(4, seed=0)
    planner = make_planner("myopic").fit(inst, seed=0)
    env = Environment(inst, horizon=3)
    for bad in (-1, "x", 1.5):
        with pytest.raises(InvalidParameterError, match=r"^run_episode\.planner_seed: must be"):
            run_episode(env, planner, seed=0, planner_seed=bad)
    rng = np.random.default_rng(7)
    got = run_episode(env, planner, seed=0, planner_seed=rng).discounted_return
    assert got == run_episode(env, planner, seed=0,
                              planner_seed=np.random.default_rng(7)).discounted_return


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


class _Recorder(_ThroughPlan):
    """Keeps each period's t, belief and actions (a planner that is not a BasePlanner)."""

    def __init__(self, planner):
        super().__init__(planner)
        self.seen = []

    def plan(self, belief, *, t=0):
        actions = self.planner.plan(belief, t=t)
        self.seen.append((t, belief.copy(), actions.copy()))
        return actions


def test_each_period_plans_on_the_beliefs_the_last_step_returned():
    """The planner sees, at t = 0, 1, ..., the beliefs of the environment's reset and then
    of each step: replayed with the public reset and step and the same actions."""
    inst = health_intervention(6, budget_fraction=0.5, horizon=5, seed=3)
    recorder = _Recorder(make_planner("myopic").fit(inst, seed=0))
    run_episode(Environment(inst), recorder, seed=3, planner_seed=1)
    replay = Environment(inst)
    belief = replay.reset(seed=3)
    assert [t for t, _, _ in recorder.seen] == [0, 1, 2, 3, 4]
    for _, seen, actions in recorder.seen:
        np.testing.assert_array_equal(seen, belief)
        belief = replay.step(actions).belief
    assert not np.array_equal(recorder.seen[0][1], recorder.seen[-1][1])   # beliefs moved


class _Spender(_ThroughPlan):
    """Not a BasePlanner: nothing checks its actions before Environment.step. Passive until
    t = 2, then every arm takes the costliest action."""

    name = "spender"

    def __init__(self, n_arms, n_actions):
        self.n_arms, self.n_actions = n_arms, n_actions

    def reset(self, *, seed=None):
        pass

    def plan(self, belief, *, t=0):
        return np.full(self.n_arms, self.n_actions - 1 if t == 2 else 0, dtype=np.int64)


def test_an_infeasible_action_the_environment_refuses_names_planner_and_period():
    """Refused by Environment.step (the planner does not check its own actions), the error
    still names the planner and the period, as for a BasePlanner's."""
    inst = health_intervention(10, horizon=4, seed=0)  # budget 1, visit costs 2
    with pytest.raises(InfeasibleActionError,
                       match=r"^planner 'spender' at t=2: Environment\.step\.actions: must cost "
                             r"at most budget=1; got total cost 20 \(overspend 19\)"):
        run_episode(Environment(inst), _Spender(10, inst.n_actions), seed=0)


class _ResetSeeds(_ThroughPlan):
    """Keeps the seeds of its resets."""

    def __init__(self, planner):
        super().__init__(planner)
        self.seeds = []

    def reset(self, *, seed=None):
        self.seeds.append(seed)
        super().reset(seed=seed)


def test_the_default_planner_seed_is_the_noise_seed_s_first_64_bit_word():
    """Without planner_seed the planner is reset with SeedSequence(seed)'s first uint64 word
    (numpy's generate_state; the replay above relies on it), and a given one is passed on."""
    inst = health_intervention(4, horizon=2, seed=0)
    recorder = _ResetSeeds(make_planner("random").fit(inst, seed=0))
    for seed in (4, 2**70):
        run_episode(Environment(inst), recorder, seed=seed)
    run_episode(Environment(inst), recorder, seed=4, planner_seed=17)
    assert recorder.seeds == [int(np.random.SeedSequence(s).generate_state(1, np.uint64)[0])
                              for s in (4, 2**70)] + [17]
