"""The vectorised environment against a plain-numpy twin, and its error paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.belief._reference import sample_numpy, sample_states_numpy, update_numpy
from rmab.errors import ImpossibleSignalError, InfeasibleActionError, InvalidParameterError
from rmab.models import Instance, MDPArms, POMDPArms, health_intervention, random_instance
from rmab.planners import make_planner
from rmab.sim import Environment
from rmab.sim.noise import episode_noise, root_sequence


def _twin_episode(inst, seed, actions_seq):
    """The same episode with the numpy reference functions and the same uniforms."""
    arms = inst.arms
    n, T = inst.n_arms, len(actions_seq)
    noise = episode_noise(root_sequence("twin", seed), n, T)
    idx = np.arange(n)
    states = sample_states_numpy(inst.initial_belief, noise.initial)
    belief = (np.eye(inst.n_states)[states] if inst.fully_observed
              else inst.initial_belief.copy())
    out = []
    for t, a in enumerate(actions_seq):
        reward = arms.rewards[idx, states, a].sum()
        nxt, sig = sample_numpy(states, a, arms.transitions, arms.observations,
                                noise.u_state[t], noise.u_signal[t])
        if inst.fully_observed:
            belief = np.eye(inst.n_states)[nxt]
        else:
            belief, norm = update_numpy(belief, a, sig, arms.transitions, arms.observations)
            assert np.all(norm > 0)
        states = nxt
        out.append((reward, belief, sig, states))
    return out


@pytest.mark.parametrize("observed", [False, True])
def test_environment_matches_numpy_twin(observed):
    inst = random_instance(7, n_states=3, n_actions=3, n_obs=None if observed else 2,
                           budget=4.0, horizon=6, seed=3)
    env = Environment(inst, seed=21)
    planner = make_planner("random").fit(inst, seed=0)
    belief = env.belief
    if observed:
        assert np.array_equal(belief, np.eye(3)[env.states])
    actions_seq, steps = [], []
    while not env.done:
        a = planner.plan(belief, t=env.t)
        actions_seq.append(a)
        step = env.step(a)
        steps.append((step, env.states))
        belief = step.belief
    assert len(steps) == 6
    for (step, states), (reward, b, sig, s) in zip(steps, _twin_episode(inst, 21, actions_seq)):
        assert step.reward == pytest.approx(reward, abs=1e-12)
        np.testing.assert_allclose(step.belief, b, atol=1e-12)
        assert np.array_equal(step.signals, sig)
        assert np.array_equal(states, s)
    assert steps[-1][0].done and not steps[0][0].done


def test_reset_with_same_seed_repeats_the_episode():
    inst = health_intervention(20, seed=1)
    env = Environment(inst, horizon=5)
    actions = np.zeros(20, dtype=np.int64)
    runs = []
    for _ in range(2):
        env.reset(seed=9)
        runs.append([(s.reward, s.signals.copy()) for s in (env.step(actions) for _ in range(5))])
    assert [r for r, _ in runs[0]] == [r for r, _ in runs[1]]
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(runs[0], runs[1]))
    env.reset(seed=10)
    other = [env.step(actions).reward for _ in range(5)]
    assert other != [r for r, _ in runs[0]]


def test_reward_is_earned_on_the_state_at_the_start():
    # two states, the arm always jumps 0 -> 1 -> 0 ...; reward 1 in state 0 only
    p = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
    arms = MDPArms(p, np.array([[1.0, 0.0]]), costs=[0.0])
    inst = Instance(arms, budget=0.0, horizon=4, initial_belief=[1.0, 0.0])
    env = Environment(inst, seed=0)
    rewards = [env.step([0]).reward for _ in range(4)]
    assert rewards == [1.0, 0.0, 1.0, 0.0]


def test_returned_arrays_are_read_only_and_not_overwritten():
    inst = health_intervention(5, seed=2)
    env = Environment(inst, seed=0)
    first = env.step(np.zeros(5, dtype=np.int64))
    kept = first.belief.copy()
    env.step(np.zeros(5, dtype=np.int64))
    env.step(np.zeros(5, dtype=np.int64))
    assert np.array_equal(first.belief, kept)
    for arr in (first.belief, first.signals, env.belief, env.states):
        assert not arr.flags.writeable


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_states=st.integers(2, 4))
def test_beliefs_stay_on_the_simplex(seed, n_states):
    inst = random_instance(4, n_states=n_states, n_actions=2, n_obs=3, budget=2.0, horizon=8,
                           seed=seed)
    env = Environment(inst, seed=seed)
    planner = make_planner("random").fit(inst, seed=seed)
    belief = env.belief
    while not env.done:
        belief = env.step(planner.plan(belief, t=env.t)).belief
        assert np.all(belief >= 0) and np.allclose(belief.sum(axis=1), 1.0, atol=1e-12)


# -- error paths ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inst():
    return health_intervention(4, budget_fraction=0.5, seed=0)  # budget 2, costs 0/1/2


def test_overspend_names_the_overspend(inst):
    env = Environment(inst, seed=0)
    with pytest.raises(InfeasibleActionError,
                       match=r"Environment\.step\.actions: must cost at most budget=2; "
                             r"got total cost 5 \(overspend 3\)"):
        env.step([2, 2, 1, 0])
    assert env.t == 0  # nothing happened
    env.step([2, 0, 0, 0])  # exactly the budget is fine


def test_budget_slack_is_relative_to_the_budget():
    """31 costs of 123456.7 sum to 1.4e-9 above their exact product: still the budget (the
    absolute 1e-9 once refused it), and the index planner takes every arm."""
    n, c = 31, 123456.7
    arms = MDPArms(np.tile(np.eye(2), (n, 2, 1, 1)), np.tile([[0.0, 1.0]] * 2, (n, 1, 1)),
                   np.array([0.0, c]))                    # acting earns 1 now
    inst = Instance(arms, budget=n * c, horizon=2)
    assert np.full(n, c).sum() > n * c                     # the rounding this is about
    Environment(inst, seed=0).step(np.ones(n, int))
    for name in ("myopic", "whittle"):
        planner = make_planner(name).fit(inst, seed=0)
        assert planner.plan(np.tile([1.0, 0.0], (n, 1)), t=0).sum() == n, name
    with pytest.raises(InfeasibleActionError, match="overspend"):
        Environment(Instance(arms, budget=(n - 1) * c + 1e-3, horizon=2), seed=0).step(
            np.ones(n, int))


@pytest.mark.parametrize("actions, match", [
    ([0, 0, 0], r"Environment\.step\.actions: must have shape \(n_arms=4,\); got \(3,\)"),
    ([0, 0, 3, 0], r"Environment\.step\.actions: must lie in \[0, 3\); got 3 \(arm 2\)"),
    ([0, -1, 0, 0], r"must lie in \[0, 3\); got -1 \(arm 1\)"),
    ([0.5, 0, 0, 0], r"Environment\.step\.actions: must be integers"),
])
def test_bad_actions(inst, actions, match):
    with pytest.raises(InvalidParameterError, match=match):
        Environment(inst, seed=0).step(actions)


def test_step_after_the_horizon(inst):
    env = Environment(inst, horizon=1, seed=0)
    env.step([0, 0, 0, 0])
    with pytest.raises(InvalidParameterError, match=r"at most horizon=1 times.*got step 2"):
        env.step([0, 0, 0, 0])
    env.reset(seed=1)
    env.step([0, 0, 0, 0])


@pytest.mark.parametrize("kwargs, match", [
    ({"horizon": 0}, r"Environment\.horizon: must be >= 1; got 0"),
    ({"horizon": 2.5}, r"Environment\.horizon: must be an integer"),
    ({"seed": -3}, r"Environment\.seed: must be a non-negative integer"),
])
def test_bad_construction(inst, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        Environment(inst, **kwargs)


def test_not_an_instance():
    with pytest.raises(InvalidParameterError, match=r"Environment\.instance: must be an Instance"):
        Environment("instance.npz")


def test_impossible_signal_is_reported(monkeypatch):
    # the sampler never draws an impossible signal; fake one to check the guard
    arms = POMDPArms(np.array([[[[1.0, 0.0], [0.0, 1.0]]]]),
                     np.array([[[[1.0, 0.0], [0.0, 1.0]]]]), np.array([[0.0, 1.0]]), costs=[0.0])
    inst = Instance(arms, budget=0.0, horizon=2, initial_belief=[1.0, 0.0])
    env = Environment(inst, seed=0)
    from rmab.belief import _kernels

    def wrong_signal(states, actions, p, o, u1, u2, next_states, signals):
        next_states[:] = states
        signals[:] = 1 - states

    monkeypatch.setattr(_kernels, "sample_kernel", wrong_signal)
    with pytest.raises(ImpossibleSignalError, match=r"Environment\.step\.signals: .*\(arm 0\)"):
        env.step([0])


def test_episodes_end_at_a_finite_horizon_instance_s_horizon():
    """Beyond H the Lagrangian planner reused its last period's table and rollout clamped to
    one step: 10 periods of a 3-period model ran without complaint."""
    from rmab.sim import compare

    fh = random_instance(4, n_obs=None, horizon=3, discount=1.0, seed=0)
    assert Environment(fh, seed=0).horizon == 3
    Environment(fh, horizon=2, seed=0)
    env = Environment(fh, horizon=3, seed=0)        # the whole model, given explicitly
    for t in range(3):
        assert env.step(np.zeros(4, dtype=np.int64)).done == (t == 2)
    with pytest.raises(InvalidParameterError, match=r"Environment\.horizon: must be at most the "
                                                    r"instance's horizon 3 .*got 4"):
        Environment(fh, horizon=4, seed=0)       # one past the model's end
    with pytest.raises(InvalidParameterError, match=r"Environment\.horizon: must be at most the "
                                                    r"instance's horizon 3 .*got 10"):
        Environment(fh, horizon=10, seed=0)
    with pytest.raises(InvalidParameterError, match=r"compare\.horizon: must be at most the "
                                                    r"instance's horizon 3"):
        compare(fh, ["random"], episodes=1, horizon=4)


def test_a_default_episode_of_billions_of_periods_is_refused():
    """At discount 1 - 1e-9 (still a valid discount) the default episode runs 4.6e9 periods,
    which looked like a hang in Environment and compare (a review); a horizon is then asked
    for, and one given is taken."""
    from rmab.errors import InvalidParameterError
    from rmab.models import Instance, random_mdp_arms
    from rmab.sim import compare

    inst = Instance(random_mdp_arms(2, 2, 2, seed=0), 1.0, discount=1 - 1e-9)
    for owner, call in (("Environment", lambda: Environment(inst)),
                        ("compare", lambda: compare(inst, ["random"], episodes=1))):
        with pytest.raises(InvalidParameterError, match=rf"^{owner}\.horizon: must be given for "
                           r"discount 0\.999999999, whose episodes would run 4\.61e\+09"):
            call()
    assert Environment(inst, horizon=5).horizon == 5
    long = Instance(random_mdp_arms(2, 2, 2, seed=0), 1.0, discount=0.5, horizon=2 * 10**7)
    assert Environment(long).horizon == 2 * 10**7   # a finite horizon is the instance's own
    assert Environment(inst.replace(discount=0.9999)).horizon == inst.replace(
        discount=0.9999).episode_length


def test_a_step_names_the_period_it_played():
    """StepResult.t is the 0-based period just played, and Environment.t counts the periods
    played (t + 1 after that step): a 4-period episode plays t = 0, 1, 2, 3."""
    inst = health_intervention(3, horizon=4, seed=0)
    env = Environment(inst, seed=0)
    played = []
    for expected in range(4):
        step = env.step(np.zeros(3, dtype=np.int64))
        played.append(step.t)
        assert env.t == expected + 1
    assert played == [0, 1, 2, 3]


def test_a_default_episode_of_exactly_the_limit_is_taken():
    """The limit refuses episodes *past* EPISODE_LIMIT periods: a discount whose episode runs
    exactly 10**7 periods (the smallest T with discount**T <= 0.01, by hand) is taken, one
    period more is refused."""
    import math

    from rmab.models import random_mdp_arms
    from rmab.sim.environment import EPISODE_LIMIT

    arms = random_mdp_arms(2, 2, 2, seed=0)
    for periods in (EPISODE_LIMIT, EPISODE_LIMIT + 1):
        discount = math.exp(math.log(0.01) / (periods - 0.5))   # T - 1 < log 0.01/log d < T
        assert discount ** (periods - 1) > 0.01 >= discount ** periods
        inst = Instance(arms, 1.0, discount=discount)
        if periods == EPISODE_LIMIT:
            assert Environment(inst, seed=0).horizon == EPISODE_LIMIT
        else:
            with pytest.raises(InvalidParameterError, match=r"^Environment\.horizon: must be "
                                                            r"given for discount"):
                Environment(inst, seed=0)


SEED_KINDS = "must be a non-negative integer, numpy SeedSequence or Generator; got "


@pytest.mark.parametrize("seed, got", [(1.0, "1.0 (seeds are integers: pass 1)"),
                                       (np.float64(2), "np.float64(2.0) (seeds are integers: "
                                                       "pass 2)"),
                                       (1.5, "1.5"), ("1", "'1'"), (-1, "-1"),
                                       (-1.0, "-1.0")])    # no seed to pass
def test_a_bad_seed_is_named_as_given_and_a_whole_float_told_the_integer(seed, got):
    """``Environment(..., seed=1.0)`` named ``Environment.reset.seed``, which the user never
    passed: a walkthrough. ``reset``'s own seed keeps its name."""
    inst = health_intervention(3, seed=0)
    with pytest.raises(InvalidParameterError) as info:
        Environment(inst, horizon=2, seed=seed)
    assert str(info.value) == "Environment.seed: " + SEED_KINDS + got
    env = Environment(inst, horizon=2, seed=0)
    with pytest.raises(InvalidParameterError) as info:
        env.reset(seed=seed)
    assert str(info.value) == "Environment.reset.seed: " + SEED_KINDS + got


def test_actions_as_a_mask_or_one_hot_rows_are_told_the_conversion():
    """A numpy user's two other ways to write "arms 0 and 2 act": a boolean mask, and one-hot
    rows (n_arms, n_actions); both said only dtype bool / shape (3, 2)."""
    inst = health_intervention(3, budget_fraction=1.0, seed=0)       # 3 arms, actions 0/1/2
    env = Environment(inst, horizon=2, seed=0)
    with pytest.raises(InvalidParameterError) as info:
        env.step(np.array([True, False, True]))
    assert str(info.value) == ("Environment.step.actions: must be integers; got dtype bool (a "
                               "mask of the arms acting? actions.astype(int) gives them action 1)")
    with pytest.raises(InvalidParameterError) as info:
        env.step(np.eye(3, dtype=int)[[1, 0, 1]])
    assert str(info.value) == ("Environment.step.actions: must have shape (n_arms=3,); got "
                               "(3, 3) (one-hot rows? actions.argmax(axis=1))")
    with pytest.raises(InvalidParameterError) as info:
        env.step(np.zeros((3, 2), int))                     # 2 columns for 3 actions: not one-hot
    assert str(info.value) == ("Environment.step.actions: must have shape (n_arms=3,); got "
                               "(3, 2)")
    assert env.step(np.array([True, False, True]).astype(int)).t == 0     # the way told works
    assert env.step(np.eye(3, dtype=int)[[1, 0, 1]].argmax(axis=1)).t == 1
