"""Rollout: estimates against closed-form returns under the no-action base, common random
numbers, Hoeffding sizes, joint vs per-arm modes, the planner's protocol, error paths."""

import math

import numpy as np
import pytest

from rmab.errors import (InfeasibleActionError, InvalidParameterError, NotFittedError,
                         UnknownPlannerError)
from rmab.models import Instance, POMDPArms, health_intervention, random_instance
from rmab.planners import BasePlanner, make_planner
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
    make_planner("rollout", horizon=3, n_trajectories=2).fit(inst).plan(inst.initial_belief, t=0)


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


class _ThroughPlan:
    """A base planner that is not a BasePlanner: the rollout calls its public ``plan``, as it
    called every base planner's before ``BasePlanner._decide`` (the reference numbers)."""

    def __init__(self, planner):
        self.planner, self.instance = planner, planner.instance

    def reset(self, *, seed=None):
        self.planner.reset(seed=seed)

    def plan(self, belief, *, t=0):
        return self.planner.plan(belief, t=t)


class _ByPeriod(BasePlanner):
    """Calls the least engaged arm in periods 3, 4, 5, 9, 10, 11, ... of the episode: its
    action depends on the belief and on the period it is told."""

    name = "by-period"

    def _plan(self, belief, t):
        actions = np.zeros(belief.shape[0], dtype=np.int64)
        if t % 6 >= 3:
            actions[np.argmin(belief[:, -1])] = 1
        return actions


@pytest.mark.filterwarnings("ignore::rmab.errors.IndexabilityWarning")   # whittle: heuristic
@pytest.mark.parametrize("base", ["random", "round-robin", "myopic", "whittle", _ByPeriod])
def test_the_base_planner_skips_the_belief_check_with_the_same_numbers(base, monkeypatch):
    """The rollout's beliefs come from the Bayes filter: the base planner decides without
    plan's belief check and copy (24-63 % of its call at 50 arms, a review), and every
    estimate is the public plan's to the last bit (per-arm from a later period of a finite
    episode, and joint; _ByPeriod sees a wrong belief or period at once)."""
    cases = [(health_intervention(6, budget_fraction=0.3, horizon=8, seed=3),
              dict(mode="per-arm", t=2)),
             (health_intervention(3, budget_fraction=0.7, seed=4), dict(mode="joint"))]
    real = BasePlanner._checked
    for inst, kw in cases:
        planner = (make_planner(base) if isinstance(base, str) else base()).fit(inst, seed=0)
        want = rollout(inst, inst.initial_belief, base=_ThroughPlan(planner), horizon=5,
                       n_trajectories=3, seed=5, **kw)
        checked = []
        monkeypatch.setattr(BasePlanner, "_checked",
                            lambda self, *args: checked.append(args[0]) or real(self, *args))
        got = rollout(inst, inst.initial_belief, base=planner, horizon=5, n_trajectories=3,
                      seed=5, **kw)
        monkeypatch.undo()
        assert checked == []
        assert got.mode == want.mode == kw["mode"]
        for field in ("actions", "arm_values", "q", "q_stderr", "candidates", "values",
                      "stderr"):
            mine, ref = getattr(got, field), getattr(want, field)
            assert (mine is None) == (ref is None), field
            if ref is not None:
                np.testing.assert_array_equal(mine, ref, err_msg=field)


class _Fixed(BasePlanner):
    """A user's base planner returning a fixed action, counting its calls."""

    name = "fixed"

    def __init__(self, out):
        super().__init__()
        self.out, self.calls = out, 0

    def _plan(self, belief, t):
        self.calls += 1
        return self.out


def test_the_base_planners_actions_are_still_checked():
    """The trusted path skips the belief check only: a user's _plan that overspends in the
    rollout's later periods is refused as plan refuses it, not valued as if feasible, and whole
    floats are cast to int64 as plan casts them."""
    inst = health_intervention(4, budget_fraction=0.5, seed=0)      # budget 2, visits cost 2
    kw = dict(horizon=3, n_trajectories=2, mode="per-arm", seed=0)
    with pytest.raises(InfeasibleActionError, match=r"^_Fixed\.plan: the action planned breaks "
                                                    r"the instance's limits: must cost at most "
                                                    r"budget=2; got total cost 8"):
        rollout(inst, inst.initial_belief, base=_Fixed(np.full(4, 2)).fit(inst), **kw)
    with pytest.raises(InvalidParameterError, match=r"^_Fixed\.plan \(the _plan's result\)"
                                                    r"\.actions: must be integers; got 0\.5"):
        rollout(inst, inst.initial_belief, base=_Fixed([0.5] * 4).fit(inst), **kw)
    floats = _Fixed([1.0, 0.0, 0.0, 1.0]).fit(inst)
    ints = _Fixed(np.array([1, 0, 0, 1])).fit(inst)
    got = rollout(inst, inst.initial_belief, base=floats, **kw)
    want = rollout(inst, inst.initial_belief, base=ints, **kw)
    np.testing.assert_array_equal(got.q, want.q)
    assert floats.calls == 3 * 2 * 2                 # per action level, trajectory, period >= 1


def test_the_base_planner_may_keep_the_beliefs_it_is_handed():
    """As plan's checked copy was, each belief handed to the base planner is read-only and
    never written again (the simulator fills a new array each period), so a planner may keep
    one: a reused buffer would change the kept beliefs under it. The periods it is told are
    the episode's (from t = 2: 3, 4, 5)."""

    class Keeper(BasePlanner):
        def __init__(self):
            super().__init__()
            self.kept, self.periods = [], []

        def _plan(self, belief, t):
            assert not belief.flags.writeable
            self.kept.append((belief, belief.copy()))
            self.periods.append(t)
            return np.zeros(belief.shape[0], dtype=np.int64)

    inst = health_intervention(5, seed=1)
    keeper = Keeper().fit(inst)
    rollout(inst, inst.initial_belief, base=keeper, horizon=4, n_trajectories=3,
            mode="per-arm", t=2, seed=0)
    assert keeper.periods == [3, 4, 5] * 3 * 3      # per action level and trajectory
    for belief, seen in keeper.kept:
        np.testing.assert_array_equal(belief, seen)
    assert len({id(belief) for belief, _ in keeper.kept}) == len(keeper.kept)


def test_a_base_planner_with_its_own_plan_is_called_through_it():
    """A subclass (or an object) with its own plan is called through it: _decide would skip
    what that plan adds."""

    class Counted(_Fixed):
        def plan(self, belief, *, t=0):
            self.planned = getattr(self, "planned", 0) + 1
            return super().plan(belief, t=t)

    inst = health_intervention(4, seed=0)
    kw = dict(horizon=3, n_trajectories=2, mode="per-arm", seed=0)
    own = Counted(np.zeros(4, dtype=np.int64)).fit(inst)
    rollout(inst, inst.initial_belief, base=own, **kw)
    assert own.planned == own.calls == 3 * 2 * 2
    patched = _Fixed(np.zeros(4, dtype=np.int64)).fit(inst)
    seen = []
    patched.plan = lambda belief, *, t=0: seen.append(t) or np.zeros(4, dtype=np.int64)
    rollout(inst, inst.initial_belief, base=patched, **kw)
    assert seen == [1, 2] * 6 and patched.calls == 0


class _Duck:
    """A Planner of the protocol that is not a BasePlanner: its plan is all there is."""

    name = "duck"

    def __init__(self, out):
        self.out = out

    def fit(self, instance, *, seed=None):
        self.instance = instance
        return self

    def reset(self, *, seed=None):
        pass

    def plan(self, belief, *, t=0):
        return self.out


def test_a_base_planners_own_plan_has_its_actions_checked():
    """A base called through its own plan (not _decide) is checked as Environment.step checks
    an action: an action of -1 was read as the last action (numpy's and the kernels' negative
    index), an overspend valued as if feasible, 7 a raw IndexError."""
    inst = health_intervention(4, budget_fraction=0.5, seed=0)      # budget 2, visits cost 2
    kw = dict(horizon=3, n_trajectories=2, mode="per-arm", seed=0)
    with pytest.raises(InfeasibleActionError, match=r"^_Duck\.plan \(the rollout's base\): the "
                                                    r"action planned breaks the instance's "
                                                    r"limits: must cost at most budget=2; got "
                                                    r"total cost 8"):
        rollout(inst, inst.initial_belief, base=_Duck(np.full(4, 2)).fit(inst), **kw)
    for bad in (-1, 7):
        with pytest.raises(InvalidParameterError, match=r"^_Duck\.plan \(the rollout's base\)"
                                                        r"\.actions: must lie in \[0, 3\); got "
                                                        + str(bad)):
            rollout(inst, inst.initial_belief, base=_Duck(np.array([bad, 0, 0, 0])).fit(inst),
                    **kw)
    got = rollout(inst, inst.initial_belief, base=_Duck([1.0, 0.0, 0.0, 1.0]).fit(inst), **kw)
    want = rollout(inst, inst.initial_belief, base=_Fixed(np.array([1, 0, 0, 1])).fit(inst),
                   **kw)
    np.testing.assert_array_equal(got.q, want.q)


def test_a_rollout_of_rollouts_is_refused_as_the_planner_refuses_it():
    inst = health_intervention(4, seed=0)
    with pytest.raises(InvalidParameterError, match=r"^rollout\.base: must be the name of "
                                                    r"another registered planner; got 'rollout'"):
        rollout(inst, inst.initial_belief, base="rollout", seed=0)
    # an array for base: 'base == "rollout"' was compared elementwise (a bare ValueError,
    # "truth value of an array ... is ambiguous"), before the typed error below
    with pytest.raises(InvalidParameterError, match=r"^rollout\.base: must be a planner name "
                                                    r"or a planner fitted"):
        rollout(inst, inst.initial_belief, base=np.zeros(4), seed=0)


def test_base_params_with_a_fitted_planner_are_refused():
    """base_params make a named base planner: with a planner object they were dropped
    silently (knapsack='greedy' asked for, the fitted planner's 'auto' used)."""
    inst = health_intervention(4, seed=0)
    base = make_planner("myopic").fit(inst, seed=0)
    with pytest.raises(InvalidParameterError, match=r"^rollout\.base_params: must be given with "
                                                    r"a planner name only"):
        rollout(inst, inst.initial_belief, base=base, base_params={"knapsack": "greedy"},
                seed=0)
    rollout(inst, inst.initial_belief, base=base, base_params={}, horizon=2, n_trajectories=2,
            seed=0)                                  # nothing asked, nothing dropped


def test_a_rollout_too_long_to_draw_is_refused_before_allocating():
    """horizon=10**9 raised numpy's MemoryError (358 GiB) or would swap (a review)."""
    inst = health_intervention(4, seed=0)
    with pytest.raises(InvalidParameterError, match=r"^rollout: n_trajectories x horizon x arms "
                                                    r"= 16 x 1000000000 x 4 would draw 1\.28e\+11 "
                                                    r"random numbers up front"):
        rollout(inst, inst.initial_belief, horizon=10**9, seed=0)
    planner = make_planner("rollout", horizon=10**9).fit(inst, seed=0)
    with pytest.raises(InvalidParameterError, match=r"lower horizon or n_trajectories$"):
        planner.plan(inst.initial_belief)


def test_joint_standard_errors_are_the_sample_standard_errors():
    """One fully observed arm whose next state is a fair coin and whose reward is the state:
    from the belief (1, 0) a two-period trajectory returns β s_1, so the L returns are β times
    a 0/1 sample whose count of ones the mean gives; the stderr is scipy's standard error of
    that sample (ddof 1). The population standard deviation (ddof 0) was sqrt(5/6) of it."""
    from scipy import stats

    beta, n_traj = 0.9, 6
    t = np.full((1, 2, 2, 2), 0.5)
    arms = POMDPArms(t, np.broadcast_to(np.eye(2), (1, 2, 2, 2)),
                     np.array([[[0.0, 0.0], [1.0, 1.0]]]), [0.0, 1.0])
    inst = Instance(arms, budget=1.0, discount=beta)
    res = rollout(inst, np.array([[1.0, 0.0]]), base="no-action", horizon=2,
                  n_trajectories=n_traj, mode="joint", seed=3)
    assert len(res.candidates) == 2
    for k in range(2):
        ones = round(res.values[k] / beta * n_traj)
        assert 0 < ones < n_traj and res.values[k] == pytest.approx(beta * ones / n_traj)
        sample = beta * np.array([1.0] * ones + [0.0] * (n_traj - ones))
        assert res.stderr[k] == pytest.approx(stats.sem(sample), rel=1e-12)
