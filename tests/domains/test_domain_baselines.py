"""Domain planners (feasible, ordered on the one-step objective, deterministic) and the
evaluation protocol."""

import itertools

import numpy as np
import pytest
from scipy import stats

from rmab.domains import make_domain
from rmab.domains.baselines import (DOMAIN_PLANNERS, BaseDomainPlanner, DomainPlanner,
                                    IterativeMyopicPlanner, action_values, make_domain_planner)
from rmab.domains.evaluate import compare_domain, evaluate_domain
from rmab.errors import (InfeasibleActionError, InvalidParameterError, NotFittedError,
                         PlanningError, RmabWarning, SolverLimitWarning, UnknownPlannerError)

KINDS = ["interventions", "capacity", "scheduling", "path"]
FAST = ["no-action", "random", "sampling", "iterative-myopic"]


def _states(n, seed):
    return np.random.default_rng(seed).integers(0, 4, n)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", FAST)
def test_fast_planners_feasible_and_deterministic(kind, name):
    d = make_domain(kind, 12, 3, seed=1)
    p = make_domain_planner(name).fit(d, seed=4)
    assert isinstance(p, DomainPlanner)
    states = _states(12, 0)
    runs = []
    for _ in range(2):
        p.reset(seed=7)
        runs.append([p.plan(states, t=t) for t in range(3)])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
        assert d.is_feasible(a)
    assert p.last_stats.seconds >= 0


@pytest.mark.mip
@pytest.mark.parametrize("kind", KINDS)
def test_one_step_ordering(kind):
    """On the one-step expected reward: myopic (exact) >= sampling, iterative myopic, random
    and no-action, in several random states."""
    d = make_domain(kind, 12, 3, seed=2)
    planners = {n: make_domain_planner(n).fit(d, seed=0)
                for n, spec in DOMAIN_PLANNERS.items() if not spec.requires}
    for k in range(4):
        states = _states(12, k)
        value = {n: d.expected_reward(states, p.plan(states, t=0)) for n, p in planners.items()}
        for n in ("sampling", "iterative-myopic", "random"):
            assert value["myopic"] >= value[n] - 1e-9, (n, value)
        assert value["sampling"] >= value["random"] - 1e-9
        if kind != "interventions":      # there "no action" is outside the action set
            assert value["myopic"] >= value["no-action"] - 1e-9
        assert planners["myopic"].last_stats.info["status"] == "optimal"
        assert planners["myopic"].last_stats.info["objective"] == pytest.approx(value["myopic"])


@pytest.mark.mip
@pytest.mark.parametrize("scale", [1e-6, 1e-20])
def test_myopic_and_iterative_myopic_in_any_reward_units(scale):
    """Rewards scaled by a constant change no action. The myopic MIP passed its objective
    unscaled to HiGHS, whose tolerances are absolute: at 1e-6 it was suboptimal in 22 of 40
    states while reporting 'optimal'; iterative myopic stopped at an absolute 1e-12 and took
    nothing at 1e-20 (a review)."""
    from rmab.domains import CapacityDomain

    base = make_domain("capacity", 8, 3, seed=1)
    arrays = base.to_arrays()
    small = CapacityDomain.from_arrays(**{**arrays, "rewards": arrays["rewards"] * scale})
    actions = small.feasible_actions()
    for name in ("myopic", "iterative-myopic"):
        ref, got = (make_domain_planner(name).fit(d, seed=0) for d in (base, small))
        for k in range(12):
            states = _states(8, k)
            action = got.plan(states)
            np.testing.assert_array_equal(action, ref.plan(states))
            if name == "myopic":
                best = max(small.expected_reward(states, a) for a in actions)
                assert small.expected_reward(states, action) >= best * (1 - 1e-9)


@pytest.mark.mip
def test_myopic_with_one_dominant_gain_stays_exact():
    """Objectives are only scaled up (largest gain below 1): scaled down to 1, an arm whose
    gains were 1e4 times the others' pushed them under HiGHS's absolute tolerances, and an
    'optimal' action lost 7e-6 of the best (a review)."""
    base = make_domain("scheduling", 8, 3, seed=0)
    arrays = base.to_arrays()
    rewards = arrays["rewards"].copy()
    rewards[0] = 1e4 * (rewards[0].mean() - rewards[0])      # arm 0: never worth pulling
    d = type(base).from_arrays(**{**arrays, "rewards": rewards})
    planner = make_domain_planner("myopic").fit(d, seed=0)
    actions = d.feasible_actions()
    rng = np.random.default_rng(0)
    for _ in range(14):
        states = rng.integers(0, d.arms.n_states, 8)
        best = max(d.expected_reward(states, a) for a in actions)
        assert d.expected_reward(states, planner.plan(states)) >= best - 1e-6 * abs(best)


@pytest.mark.mip
def test_solver_input_errors_become_typed_errors():
    """Rows HiGHS refuses (coefficients of 1e15 or more) and gains of -inf reached the command
    line as a raw SolverInputError traceback (a domain review). Capacity costs of 1e300 went
    in so; they now enter in units of the largest cost or capacity and plan as costs of 1."""
    from rmab.domains import CapacityDomain
    from rmab.domains.base import build_block
    from rmab.errors import InvalidModelError

    rng = np.random.default_rng(0)
    up = np.column_stack([rng.uniform(0, 0.2, 5), rng.uniform(0.7, 0.9, 5)])
    rewards = np.tile([0.1, 0.15, 0.2, 3.0], (5, 1))
    states = _states(5, 0)
    plans = [make_domain_planner("myopic").fit(CapacityDomain.from_arrays(
        up_prob=up, rewards=rewards, costs=np.full(5, s), capacities=[s, s])).plan(states)
        for s in (1.0, 1e300)]
    assert np.array_equal(*plans) and plans[0].sum() == 2

    class HugeRow(CapacityDomain):          # a user's domain with a row HiGHS refuses
        def _build_block(self):
            n = self.n_arms
            return build_block(n, [(np.arange(n), np.full(n, 1e300), -np.inf, 1e300)],
                               np.ones(n, bool), np.ones(n), n, pull_vars=np.arange(n))

    huge = HugeRow.from_arrays(up_prob=up, rewards=rewards, costs=np.ones(5),
                               capacities=[1.0, 1.0])
    with pytest.raises(InvalidModelError, match="MyopicMIPPlanner: the domain's MILP cannot "
                                                "be built; .*below 1e\\+15"):
        make_domain_planner("myopic").fit(huge)
    from solvers.errors import SolverInputError

    planner = make_domain_planner("myopic").fit(make_domain("capacity", 5, 2, seed=0))

    def refused(c, offset):
        raise SolverInputError("HighsModel.set_objective.c: must be finite; got -inf")
    planner._model.set_objective = refused
    with pytest.raises(PlanningError, match="the objective cannot be solved; .*must be finite"):
        planner.plan(_states(5, 0))
    # rewards of 1e-300 gave indices of -inf (finite_whittle_indices had a fixed unit in its
    # tie test); they now plan as the unscaled rewards
    path = make_domain("path", 6, 2, seed=0)
    arrays = path.to_arrays()
    tiny = type(path).from_arrays(**{**arrays, "rewards": arrays["rewards"] * 1e-300})
    plans = [make_domain_planner("whittle-finite").fit(d, seed=0).plan(np.zeros(6, np.int64), t=0)
             for d in (path, tiny)]
    assert np.array_equal(*plans)
    # the path domain's route search raised InvalidParameterError, blaming a parameter
    finite = make_domain_planner("whittle-finite").fit(path, seed=0)
    gains = np.zeros(finite.gain_table.shape[::2])            # (n_arms, n_levels)
    gains[:, 1:] = -np.inf
    finite._gains = lambda states: gains
    with pytest.raises(PlanningError, match="the objective cannot be solved; RouteSearch"):
        finite.plan(np.zeros(6, dtype=np.int64), t=0)


def test_sampling_is_best_of_its_samples():
    d = make_domain("capacity", 10, 3, seed=0)
    states = _states(10, 1)
    p = make_domain_planner("sampling", n_samples=30).fit(d, seed=3)
    p.reset(seed=5)
    chosen = p.plan(states)
    rng = np.random.default_rng(5)
    samples = np.stack([d._sample_action(rng) for _ in range(30)])
    values = action_values(d, states, samples)
    assert d.expected_reward(states, chosen) == pytest.approx(values.max())


@pytest.mark.parametrize("kind,n,budget,seed", [("scheduling", 12, 4, 3), ("capacity", 12, 4, 1),
                                                 ("path", 30, 8, 2)])
def test_iterative_myopic_is_greedy(kind, n, budget, seed):
    """Every added element was the best feasible single addition at its turn (every element
    checked again at every turn by hand; the planner skips those found infeasible before)."""
    d = make_domain(kind, n, budget, seed=seed)
    states = _states(n, 2)
    action = make_domain_planner("iterative-myopic").fit(d).plan(states)
    gains = d.arms.level_gains(states)
    marginal = gains[:, 1] - gains[:, 0]
    chosen = np.flatnonzero(action)
    assert (marginal[chosen] > 0).all()
    # rebuild greedily by hand
    a = np.zeros(n, dtype=int)
    while True:
        cand = [j for j in range(n) if not a[j] and a.sum() < d.budget and
                d.is_feasible(a + np.eye(n, dtype=int)[j])]
        cand = [j for j in cand if marginal[j] > 0]
        if not cand:
            break
        a[max(cand, key=lambda j: marginal[j])] = 1
    np.testing.assert_array_equal(a, action)


def test_iterative_myopic_checks_an_infeasible_element_once(monkeypatch):
    """Feasible sets are closed under removal, so an element that cannot be added is never
    checked again (path J = 100, B = 20 went from 127-173 s per step to under a second)."""
    d = make_domain("path", 40, 10, seed=0)
    refused = []
    check = type(d)._violation

    def spy(self, action):
        why = check(self, action)
        if why is not None:
            refused.append(tuple(np.flatnonzero(action)))
        return why

    monkeypatch.setattr(type(d), "_violation", spy)
    action = make_domain_planner("iterative-myopic").fit(d).plan(_states(40, 4))
    assert action.sum() >= 2 and refused
    chosen = set(np.flatnonzero(action))
    added = [set(r) - chosen for r in refused]          # the one element each check added
    assert all(len(x) == 1 for x in added)
    assert len({x.pop() for x in added}) == len(refused)


def test_iterative_scores_hook():
    """A subclass overriding ``_scores`` (as iterative DQN will) drives the greedy choice."""

    class PreferLowIndex(IterativeMyopicPlanner):
        name = "prefer-low"

        def _scores(self, states, t, actions):
            return -(actions * np.arange(actions.shape[1])).sum(axis=1) + 100 * actions.sum(1)

    d = make_domain("interventions", 12, 3, n_interventions=4, seed=0)
    a = PreferLowIndex().fit(d).plan(_states(12, 0))
    np.testing.assert_array_equal(np.flatnonzero(a), [0, 1, 2])


def test_planner_errors():
    with pytest.raises(UnknownPlannerError, match="did you mean 'myopic'"):
        make_domain_planner("myopc")
    with pytest.raises(InvalidParameterError, match=r"make_domain_planner\('sampling'\)\.k: "
                       r"not a parameter of this planner; it takes n_samples$"):
        make_domain_planner("sampling", k=3)
    with pytest.raises(InvalidParameterError, match="SamplingPlanner.n_samples: must be >= 1"):
        make_domain_planner("sampling", n_samples=0)
    with pytest.raises(NotFittedError, match="call fit"):
        make_domain_planner("random").plan(np.zeros(3, int))
    with pytest.raises(InvalidParameterError, match="fit.domain: must be a Domain"):
        make_domain_planner("random").fit("capacity")
    d = make_domain("capacity", 8, 2, seed=0)
    with pytest.raises(InvalidParameterError, match=r"CapacityDomain.states: must have shape"):
        make_domain_planner("random").fit(d).plan(np.zeros(5, int))
    with pytest.raises(InvalidParameterError, match=r"^CapacityDomain\.states: must be integers; "
                                                    r"got dtype bool$"):   # no action hint
        make_domain_planner("random").fit(d).plan(np.zeros(8, bool))
    with pytest.raises(InvalidParameterError, match="MyopicMIPPlanner.backend"):
        make_domain_planner("myopic", backend="gurobo").fit(d)
    with pytest.raises(NotImplementedError):
        BaseDomainPlanner().fit(d).plan(np.zeros(8, int))


def test_a_planner_for_a_horizon_needs_the_period():
    """plan(states) planned period 0 in every period: the finite-horizon indices of period 0
    in the last one, where they differ (the planner for a horizon of 1 is the reference)."""
    d = make_domain("capacity", 6, 2, seed=0)
    states = np.array([0, 1, 2, 3, 0, 1])
    finite = make_domain_planner("whittle-finite", horizon=3).fit(d, seed=0)
    with pytest.raises(InvalidParameterError, match=r"^FiniteWhittleDomainPlanner\.plan\.t: "
                       r"needed by a planner for 3 periods .*t=2 in the last$"):
        finite.plan(states)
    last = make_domain_planner("whittle-finite", horizon=1).fit(d, seed=0).plan(states)
    np.testing.assert_array_equal(finite.plan(states, t=2), last)
    assert make_domain_planner("random").fit(d, seed=0).plan(states).shape == (d.action_size,)
    assert make_domain_planner("whittle").fit(d, seed=0).plan(states).shape == (d.action_size,)
    with pytest.raises(InvalidParameterError, match=r"needed by a planner for 2 periods"):
        make_domain_planner("whittle-finite", horizon=2).fit(d, seed=0).plan(states)

    class Periods(BaseDomainPlanner):        # no horizon, or one of 1: period 0 by default
        def _plan(self, states, t):
            self.seen.append(t)
            return make_domain_planner("random").fit(self.domain, seed=0).plan(states)

    for horizon in (None, 1):
        own = Periods()
        own.horizon, own.seen = horizon, []
        own.fit(d, seed=0).plan(states)
        assert own.seen == [0]


@pytest.mark.parametrize("t", [1.5, "2", float("nan"), -1])
def test_plan_refuses_a_period_that_is_not_a_whole_number(t):
    """int(t) planned t=1.5 as period 1 and raised bare errors on 'x' or NaN (a review)."""
    p = make_domain_planner("random").fit(make_domain("capacity", 6, 2, seed=0))
    with pytest.raises(InvalidParameterError, match=r"RandomDomainPlanner\.plan\.t: must be"):
        p.plan(np.zeros(6, int), t=t)


@pytest.mark.mip
def test_myopic_without_solution_raises():
    d = make_domain("capacity", 6, 2, seed=0)
    p = make_domain_planner("myopic").fit(d)
    # make the model infeasible: force arm 0 pulled and not pulled via contradictory rows
    for model in (p._model._lp, p._model._mip):
        model.set_col_bounds([0], [1.0], [1.0])
        model.set_row_bounds([d.n_workers], [0.5], [0.5])
    with pytest.raises(PlanningError, match="no solution"):
        p.plan(np.zeros(6, int))


class _StoppedModel:
    """A linear model whose solve stops at the time limit with ``x`` as its incumbent."""

    def __init__(self, x):
        self.x = x

    def set_objective(self, c, offset=0.0):
        pass

    def solve(self, **_):
        from solvers.result import MIPResult, TerminationStatus

        return MIPResult(TerminationStatus.TIME_LIMIT, self.x, np.nan if self.x is None else 0.0,
                         np.inf, np.inf, 1.0, "stub")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["myopic", "whittle"])
def test_solve_stopped_without_incumbent_plays_the_best_random_action(kind, name):
    d = make_domain(kind, 10, 3, seed=2)
    p = make_domain_planner(name).fit(d, seed=5)
    p._model = _StoppedModel(None)
    states = _states(10, 3)
    null = "" if d.must_fill else "the null action and "
    with pytest.warns(SolverLimitWarning, match=fr"status time_limit; returning the best of "
                      fr"{null}100 random feasible actions \(no incumbent\)"):
        action = p.plan(states)
    assert d.is_feasible(action)
    # the same draws by hand: the best of them by the planner's own gains
    rng = np.random.default_rng(5)
    drawn = np.stack(([] if d.must_fill else [d.null_action()])
                     + [d._sample_action(rng) for _ in range(100)])
    gains = p._gains(states)
    value = lambda a: gains[np.arange(10), d.arm_levels(a)].sum()         # noqa: E731
    assert value(action) == pytest.approx(max(value(a) for a in drawn), abs=0)
    assert any((a == action).all() for a in drawn)


@pytest.mark.parametrize("kind", ["capacity", "scheduling", "path"])
def test_solve_stopped_does_nothing_where_every_pull_loses(kind):
    """With negative gains for every pull the random actions all lose; doing nothing (in these
    domains' MILP) is the best fallback."""
    d = make_domain(kind, 10, 3, seed=2)
    p = make_domain_planner("myopic").fit(d, seed=5)
    p._model = _StoppedModel(None)
    p._gains = lambda states: np.c_[np.zeros(10), -np.ones(10)]
    with pytest.warns(SolverLimitWarning, match="the null action and 100"):
        np.testing.assert_array_equal(p.plan(_states(10, 3)), d.null_action())


def test_solve_stopped_in_interventions_still_chooses_budget_interventions():
    """Where the budget must be filled exactly, the null action (outside the MILP's set) is no
    fallback even when every intervention loses: the best of the random actions is played,
    with exactly ``budget`` interventions."""
    d = make_domain("interventions", 10, 3, seed=2)
    assert d.must_fill
    p = make_domain_planner("myopic").fit(d, seed=5)
    p._model = _StoppedModel(None)
    p._gains = lambda states: np.c_[np.zeros(10), -np.ones((10, 3))]
    with pytest.warns(SolverLimitWarning, match=r"returning the best of 100 random"):
        action = p.plan(_states(10, 3))
    assert action.sum() == d.budget


def test_rollout_fallbacks_draw_from_its_own_seed():
    """Rollout's inner Whittle and myopic planners share its generator, so a reset seed gives
    the same actions whatever was planned before (their time-limit fallbacks draw numbers)."""
    d = make_domain("capacity", 10, 3, seed=2)
    p = make_domain_planner("rollout", n_candidates=2, n_rollouts=2, depth=1).fit(d, seed=0)
    for inner in (p._whittle, p._myopic):
        inner._model = _StoppedModel(None)
    states = _states(10, 3)
    runs = []
    for before in range(3):
        p.reset(seed=1)
        with pytest.warns(SolverLimitWarning):
            for _ in range(before):
                p.plan(states)
            p.reset(seed=1)
            runs.append(p.plan(states))
    assert all((r == runs[0]).all() for r in runs)
    assert p._whittle.rng is p.rng and p._myopic.rng is p.rng


def test_rollout_time_limit_warnings_name_the_rollout(recwarn):
    """'rmab compare --planners myopic,rollout --time-limit ...' showed 'MyopicMIPPlanner:
    solver stopped ...' under rollout, from its inner myopic MIP: it read as the myopic
    planner's limit (a walkthrough). The inner planners' warnings name the rollout; the
    evaluation still counts them under it."""
    import warnings

    from rmab.domains.baselines import MyopicMIPPlanner
    from rmab.domains.index_baselines import RolloutDomainPlanner

    class StoppedRollout(RolloutDomainPlanner):
        def _fit(self, domain):
            super()._fit(domain)
            for inner in (self._whittle, self._myopic):
                inner._model = _StoppedModel(None)

    class StoppedMyopic(MyopicMIPPlanner):
        def _fit(self, domain):
            super()._fit(domain)
            self._model = _StoppedModel(None)

    d = make_domain("capacity", 6, 2, seed=0)
    rollout = StoppedRollout(n_candidates=2, n_rollouts=2, depth=1).fit(d, seed=0)
    warnings.simplefilter("always")
    rollout.plan(_states(6, 3))
    said = [str(w.message).split(";")[0] for w in recwarn]
    assert said == ["RolloutDomainPlanner's whittle candidate (WhittleDomainPlanner): solver "
                    "stopped with status time_limit",
                    "RolloutDomainPlanner's myopic candidate (MyopicMIPPlanner): solver "
                    "stopped with status time_limit"]
    recwarn.clear()
    warnings.simplefilter("default")
    evaluate_domain(d, [StoppedMyopic(), StoppedRollout(n_candidates=2, n_rollouts=2,
                                                        depth=1)], episodes=1, horizon=3)
    limits = [str(w.message) for w in recwarn if w.category is SolverLimitWarning]
    assert [m.split(";")[0] for m in limits] == [
        "StoppedMyopic: solver stopped with status time_limit",         # the user's myopic
        "evaluate_domain: planner 'myopic' stopped at the solver time limit in 3 of 3 steps and "
        "played the best action found",
        "RolloutDomainPlanner's whittle candidate (WhittleDomainPlanner): solver stopped with "
        "status time_limit",
        "evaluate_domain: planner 'rollout' stopped at the solver time limit in 3 of 3 steps and "
        "played the best action found"]


@pytest.mark.parametrize("kind", ["capacity", "path"])
def test_solve_stopped_keeps_the_better_of_incumbent_and_random_actions(kind):
    d = make_domain(kind, 10, 3, seed=2)
    states = _states(10, 3)
    exact = make_domain_planner("myopic").fit(d).plan(states)
    p = make_domain_planner("myopic").fit(d, seed=5)
    block = d.constraint_block()
    for incumbent, kept in ((exact, "the incumbent"),
                            (d.null_action(), "better than the incumbent")):
        x = np.zeros(block.milp.n_cols)
        x[block.action] = incumbent
        p._model = _StoppedModel(x)
        with pytest.warns(SolverLimitWarning, match=kept):
            action = p.plan(states)
        if kept == "the incumbent":
            np.testing.assert_array_equal(action, exact)
        else:        # a null incumbent loses to a random action of positive value
            assert action_values(d, states, action[None])[0] > action_values(
                d, states, incumbent[None])[0]
            assert d.is_feasible(action)


def test_evaluate_protocol_common_random_numbers(tmp_path):
    d = make_domain("path", 10, 2, seed=0)
    res = evaluate_domain(d, ["no-action", "sampling", "iterative-myopic"], episodes=3,
                          horizon=4, seed=11)
    assert res.planners == ("no-action", "sampling", "iterative-myopic", "random")
    assert res.rewards.shape == (1, 4, 3) and res.normalised[0, 3] == pytest.approx(1.0)
    again = evaluate_domain(d, ["no-action", "iterative-myopic", "random"], episodes=3,
                            horizon=4, seed=11)
    # same seed -> same initial states and uniforms -> same no-action and deterministic greedy
    np.testing.assert_allclose(again.rewards[0, 0], res.rewards[0, 0])
    np.testing.assert_allclose(again.rewards[0, 1], res.rewards[0, 2])
    # no-action episode reward by hand, from the same uniforms
    rng = np.random.default_rng(11)
    u0, u = rng.random((3, 10)), rng.random((3, 4, 10))
    s = (u0[1] < 0.2).astype(int)
    assert res.starts.shape == (1, 3, 10)
    np.testing.assert_array_equal(res.starts[0], u0 < 0.2)
    total = 0.0
    for t in range(4):
        total += d.expected_reward(s, d.null_action())
        s = d.arms.next_states(s, np.zeros(10, int), u[1, t])
    assert res.rewards[0, 0, 1] == pytest.approx(total / 4)
    text = res.table()
    assert "iterative-myopic" in text and "RANDOM = 1" in text
    assert text.splitlines()[-3].startswith("reward: expected reward per step")
    csv_text = res.to_csv(tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == csv_text
    assert csv_text.count("\n") == 1 + 4


def test_the_table_gives_standard_errors_and_planners_compare_paired():
    """With one instance the table had no spread at all; now the reward's standard error over
    episodes, and ``paired_difference`` over every (seed, episode) the planners shared."""
    res = compare_domain("capacity", planners=["myopic", "iterative-myopic", "random"], n_arms=8,
                         budget=2, seeds=(0, 1), episodes=4, horizon=3)
    r = res.rewards                                            # (seeds, planners, episodes)
    sem = r.std(axis=2, ddof=1) / 2.0
    np.testing.assert_allclose(res.sem_reward, np.sqrt((sem ** 2).sum(axis=0)) / 2)
    row = next(line for line in res.table().splitlines() if line.startswith("random "))
    assert row.split()[1:3] == [f"{r[:, 2].mean():.4f}", f"{res.sem_reward[2]:.4f}"]
    diff = res.paired_difference("myopic", "random")
    d = r[:, 0] - r[:, 2]                      # the seeds are strata: their gaps are not noise
    assert diff.mean == pytest.approx(d.mean()) and diff.episodes == 8
    assert diff.stderr == pytest.approx(np.sqrt((d.var(axis=1, ddof=1) / 4).sum()) / 2)
    v = d.var(axis=1, ddof=1) / 4
    t = stats.t.ppf(0.975, v.sum() ** 2 / (v ** 2 / 3).sum())     # Welch-Satterthwaite df
    assert (diff.ci_low, diff.ci_high) == pytest.approx((d.mean() - t * diff.stderr,
                                                         d.mean() + t * diff.stderr))
    same = res.paired_difference("myopic", "myopic")
    assert (same.mean, same.stderr) == (0.0, 0.0)
    with pytest.raises(InvalidParameterError, match=r"DomainComparisonResult.paired_difference."
                                                    r"second: must be one of \['myopic', "):
        res.paired_difference("myopic", "whittle")
    with pytest.raises(InvalidParameterError, match="paired_difference.confidence"):
        res.paired_difference("myopic", "random", confidence=1.0)
    one = compare_domain("capacity", planners=["myopic", "random"], n_arms=8, budget=2, seeds=(0,),
                         episodes=1, horizon=3)
    assert np.isnan(one.sem_reward).all()
    assert np.isnan(one.paired_difference("myopic", "random").stderr)
    assert one.table().splitlines()[3].split()[2] == "-"


def test_paired_difference_over_seeds_counts_the_spread_between_instances():
    """Over episodes, the seeds are strata: the interval holds for these instances, and one
    instance's large gap read as a domain-wide 'higher' (a simulation review). Over seeds,
    the t interval of the seeds' mean differences (scipy as the reference)."""
    res = compare_domain("capacity", planners=["myopic", "random"], n_arms=8, budget=2,
                         seeds=(0, 1, 2, 3), episodes=3, horizon=3)
    per_seed = (res.rewards[:, 0] - res.rewards[:, 1]).mean(axis=1)
    diff = res.paired_difference("myopic", "random", over="seeds")
    ci = stats.t.interval(0.9, 3, loc=per_seed.mean(), scale=stats.sem(per_seed))
    diff90 = res.paired_difference("myopic", "random", confidence=0.9, over="seeds")
    assert diff.mean == pytest.approx(per_seed.mean()) and diff.episodes == 4
    assert diff.stderr == pytest.approx(stats.sem(per_seed))
    assert (diff90.ci_low, diff90.ci_high) == pytest.approx(ci)
    assert "the CI holds for these instances" in res.paired_table("random")
    text = res.paired_table("random", over="seeds")
    assert "the CI over 4 seeds: it holds for instances drawn from the generator" in text
    assert f"{diff.mean:+.4f}" in text.splitlines()[2]
    one = compare_domain("capacity", planners=["myopic", "random"], n_arms=8, budget=2,
                         seeds=(0,), episodes=3, horizon=3)
    assert np.isnan(one.paired_difference("myopic", "random", over="seeds").stderr)
    for bad in ("seed", None):
        with pytest.raises(InvalidParameterError, match=r"paired_difference.over: must be "
                                                        r"'episodes' or 'seeds'"):
            res.paired_difference("myopic", "random", over=bad)
    with pytest.raises(InvalidParameterError, match=r"paired_table.over: must be"):
        res.paired_table("random", over="instances")


def test_evaluation_refuses_odd_planners_flags_and_episode_counts():
    """A None planner was a raw AttributeError, bound='no' computed the bound, and episodes=50
    beside 2 starts ran 2 episodes silently (a simulation review)."""
    d = make_domain("capacity", 6, 2, seed=0)
    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.planners\[1\]: must be "
                                                    r"a domain planner name or object"):
        evaluate_domain(d, ["random", None], episodes=1, horizon=2)
    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.bound: must be True or"):
        evaluate_domain(d, ["random"], episodes=1, horizon=2, bound="no")
    with pytest.raises(InvalidParameterError, match=r"compare_domain.bound: must be True or"):
        compare_domain("capacity", n_arms=6, budget=2, seeds=(0,), episodes=1, horizon=2,
                       bound=1)
    starts = np.zeros((2, 6), dtype=np.int64)
    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.episodes: must be the "
                                                    r"number of starts \(2\) or left out"):
        evaluate_domain(d, ["random"], episodes=50, starts=starts, horizon=2)
    assert evaluate_domain(d, ["random"], episodes=2, starts=starts, horizon=2).episodes == 2
    assert evaluate_domain(d, ["random"], starts=starts, horizon=2).episodes == 2


def test_evaluation_from_given_starts():
    """``starts`` replaces the Bernoulli draws (another implementation's episodes): the drawn
    starts given back reproduce the run to the bit; other starts change only the starts."""
    d = make_domain("capacity", 8, 2, seed=3)
    names = ["no-action", "random", "iterative-myopic"]
    drawn = evaluate_domain(d, names, episodes=4, horizon=3, seed=5)
    again = evaluate_domain(d, names, horizon=3, seed=5, starts=drawn.starts[0])
    np.testing.assert_array_equal(again.rewards, drawn.rewards)
    ones = np.ones((2, 8), dtype=int)
    res = evaluate_domain(d, names, horizon=3, seed=5, starts=ones)
    assert res.episodes == 2 and res.rewards.shape == (1, 3, 2)
    np.testing.assert_array_equal(res.starts[0], ones)
    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.starts: must have shape "
                                                    r"\(episodes >= 1, n_arms=8\); got \(8,\)"):
        evaluate_domain(d, names, starts=np.zeros(8, dtype=int))
    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.starts\[1\].states: must "
                                                    r"lie in \[0, 4\); got 4 \(arm 2\)"):
        evaluate_domain(d, names, starts=[[0] * 8, [0, 0, 4, 0, 0, 0, 0, 0]])
    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.starts: must have shape "
                                                    r".* got rows of different lengths"):
        evaluate_domain(d, names, starts=[[0] * 8, [0]])         # was a raw ValueError


def test_compare_domain_seeds_and_errors():
    res = compare_domain("capacity", n_arms=8, budget=2, seeds=(0, 1), episodes=2, horizon=3,
                         planners=["no-action", "random", "iterative-myopic"])
    assert res.normalised.shape == (2, 3) and res.seeds == (0, 1)
    assert res.starts.shape == (2, 2, 8) and set(np.unique(res.starts)) <= {0, 1}
    np.testing.assert_allclose(res.normalised[:, 1], 1.0)
    assert res.std_normalised.shape == (3,)
    with pytest.raises(InvalidParameterError, match="evaluate_domain.episodes: must be >= 1"):
        compare_domain("capacity", episodes=0)
    with pytest.raises(InvalidParameterError, match="evaluate_domain.planners: must be a "
                                                    "sequence"):
        evaluate_domain(make_domain("capacity", 8, 2), "random")
    with pytest.raises(InvalidParameterError, match="names must be unique"):
        evaluate_domain(make_domain("capacity", 8, 2), ["random", "random"])
    with pytest.raises(InvalidParameterError, match="evaluate_domain.domain: must be a Domain"):
        evaluate_domain("capacity")
    with pytest.raises(InvalidParameterError, match="compare_domain.seeds: must not be empty"):
        compare_domain("capacity", seeds=())
    with pytest.raises(InvalidParameterError, match="compare_domain.seeds: must be distinct"):
        compare_domain("capacity", seeds=(0, 0))


def test_scores_do_not_depend_on_the_other_planners_or_their_order():
    """Planners' seeds were drawn by position: moving 'random' moved RANDOM = 1 itself."""
    d = make_domain("capacity", 10, 3, seed=2)
    runs = [evaluate_domain(d, names, episodes=4, horizon=5, seed=4)
            for names in (["random", "myopic", "sampling"], ["myopic", "sampling", "random"],
                          ["sampling"])]
    for name in ("random", "sampling"):
        first = runs[0].rewards[0, runs[0].planners.index(name)]
        for other in runs[1:]:
            np.testing.assert_array_equal(other.rewards[0, other.planners.index(name)], first)


def test_normalising_needs_a_positive_random_mean_and_one_episode_has_no_sem(tmp_path):
    from rmab.domains import CapacityDomain

    base = make_domain("capacity", 4, 2, seed=0).to_arrays()
    d = CapacityDomain.from_arrays(**{**base, "rewards": -1.0 - base["rewards"]})
    res = evaluate_domain(d, ["random", "myopic"], episodes=1, horizon=3, seed=np.int64(7))
    assert np.isnan(res.normalised).all()           # a ratio of negatives inverts the ranking
    assert res.seeds == (7,)
    rows = res.to_csv(tmp_path / "r.csv").splitlines()
    assert rows[1].split(",")[:5] == ["capacity", "7", "random", rows[1].split(",")[3], "nan"]
    res.plot(tmp_path / "r.png")
    assert evaluate_domain(d, ["random"], episodes=1, horizon=2, seed=None).seeds == (None,)


def test_an_infeasible_action_names_the_planner():
    class Greedy(BaseDomainPlanner):
        name = "all-of-them"

        def _plan(self, states, t):
            return np.ones(self.domain.action_size, dtype=np.int64)

    with pytest.raises(InfeasibleActionError, match="planner 'all-of-them' in episode 0 at t=0"):
        evaluate_domain(make_domain("capacity", 6, 2, seed=0), [Greedy()], episodes=1,
                        horizon=2)


def test_a_planning_error_names_the_planner_and_a_bug_keeps_its_type():
    from rmab.errors import PlanningError

    class Fails(BaseDomainPlanner):
        name = "fails"

        def _plan(self, states, t):
            if t == 1:
                raise PlanningError("no action found")
            return np.zeros(self.domain.action_size, dtype=np.int64)

    class Buggy(Fails):
        name = "buggy"

        def _plan(self, states, t):
            return {}[t]

    domain = make_domain("capacity", 6, 2, seed=0)
    with pytest.raises(PlanningError, match="^planner 'fails' in episode 0 at t=1: no action"):
        evaluate_domain(domain, [Fails()], episodes=1, horizon=2)
    with pytest.raises(KeyError) as info:
        evaluate_domain(domain, [Buggy()], episodes=1, horizon=2)
    assert info.value.__notes__ == ["(in planner 'buggy' in episode 0 at t=0)"]


def test_time_limited_steps_are_one_warning_per_planner(recwarn):
    """A solve at its time limit warns at every step (1 000 lines in a default comparison);
    the evaluation counts them into one warning per planner and passes other warnings on, each
    once."""
    import warnings

    class Limited(BaseDomainPlanner):
        name = "limited"

        def _plan(self, states, t):
            if t % 2 == 0:
                warnings.warn(f"stopped at the limit (gap {t / 10})", SolverLimitWarning)
                warnings.warn(f"stopped at the limit again (gap {t / 10})", SolverLimitWarning)
            warnings.warn("something else", RmabWarning)
            return np.zeros(self.domain.action_size, dtype=np.int64)

    warnings.simplefilter("default")
    evaluate_domain(make_domain("capacity", 6, 2, seed=0), ["random", Limited()], episodes=3,
                    horizon=4)
    limits = [str(w.message) for w in recwarn if w.category is SolverLimitWarning]
    assert limits == ["stopped at the limit (gap 0.0)",
                      "evaluate_domain: planner 'limited' stopped at the solver time limit in "
                      "6 of 12 steps and played the best action found"]
    assert [str(w.message) for w in recwarn if w.category is RmabWarning] == ["something else"]
    assert all(w.filename == __file__ for w in recwarn)
    recwarn.clear()

    class Failing(Limited):                  # a step's warnings are shown even if it raises
        name = "failing"

        def _plan(self, states, t):
            warnings.warn("fell back to its LP relaxation", RmabWarning)
            raise PlanningError("no solution")

    with pytest.raises(PlanningError):
        evaluate_domain(make_domain("capacity", 6, 2, seed=0), [Failing()], episodes=1,
                        horizon=2)
    assert [str(w.message) for w in recwarn] == ["fell back to its LP relaxation"]
    calls = []

    class Counted(Limited):                  # an "error" filter stops the run at the first one
        name = "counted"

        def _plan(self, states, t):
            calls.append(t)
            return super()._plan(states, 0)

    warnings.simplefilter("error", SolverLimitWarning)
    with pytest.raises(SolverLimitWarning, match="stopped at the limit") as info:
        evaluate_domain(make_domain("capacity", 6, 2, seed=0), [Counted()], episodes=3,
                        horizon=4)
    assert len(calls) == 1          # raised where it happened, with where that was
    assert info.value.__notes__ == ["(in planner 'counted' in episode 0 at t=0)"]


def test_progress_bar_counts_every_planner_episode(capsys):
    """A J = 100 path comparison runs for hours: the bar shows it is moving, and which planner
    plays."""
    d = make_domain("capacity", 6, 2, seed=0)
    evaluate_domain(d, ["no-action"], episodes=3, horizon=2, progress=True)
    err = capsys.readouterr().err
    assert "evaluate_domain: 100%" in err and "6/6" in err and "random" in err  # added last
    compare_domain("capacity", n_arms=6, budget=2, seeds=(0, 1), planners=["random"],
                   episodes=2, horizon=2, progress=True)
    assert "compare_domain: 100%" in capsys.readouterr().err
    evaluate_domain(d, ["random"], episodes=1, horizon=1)
    assert capsys.readouterr().err == ""                       # silent by default
    for call in (lambda: evaluate_domain(d, ["random"], episodes=1, progress="yes"),
                 lambda: compare_domain("capacity", n_arms=6, budget=2, progress=1)):
        with pytest.raises(InvalidParameterError, match=r"_domain\.progress: must be True or "
                                                        r"False"):
            call()


@pytest.mark.parametrize("params, match", [
    (dict(mip_gap=1.5), r"MyopicMIPPlanner.mip_gap: must be < 1"),
    (dict(mip_gap=-0.1), r"MyopicMIPPlanner.mip_gap: must be >= 0"),
    (dict(time_limit=0), r"MyopicMIPPlanner.time_limit: must be > 0"),
])
def test_myopic_solver_options_are_checked_when_made(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        make_domain_planner("myopic", **params)


@pytest.mark.parametrize("name, owner", [("whittle", "WhittleDomainPlanner"),
                                         ("whittle-finite", "FiniteWhittleDomainPlanner"),
                                         ("lagrangian", "LagrangianDomainPlanner")])
def test_the_mip_planners_solver_options_name_the_planner_asked_for(name, owner):
    """make_domain_planner('whittle', time_limit=0) said 'MyopicMIPPlanner.time_limit', a
    planner the user never named (a walkthrough)."""
    with pytest.raises(InvalidParameterError, match=fr"^{owner}\.time_limit: must be > 0"):
        make_domain_planner(name, time_limit=0)
    with pytest.raises(InvalidParameterError, match=fr"^{owner}\.mip_gap: must be < 1"):
        make_domain_planner(name, mip_gap=1.5)
    with pytest.raises(InvalidParameterError, match=fr"^{owner}\.backend: .*'gurobo'"):
        make_domain_planner(name, backend="gurobo").fit(make_domain("capacity", 6, 2, seed=0))


def test_rollouts_solver_options_are_named_as_the_rollouts():
    """Its Whittle and myopic candidates check them: the errors named only those."""
    with pytest.raises(InvalidParameterError, match=r"^RolloutDomainPlanner: "
                                                    r"WhittleDomainPlanner\.time_limit: must be "
                                                    r"> 0"):
        make_domain_planner("rollout", time_limit=0)
    with pytest.raises(InvalidParameterError, match=r"^RolloutDomainPlanner: .*\.backend: "
                                                    r".*'gurobo'"):
        make_domain_planner("rollout", backend="gurobo").fit(make_domain("capacity", 6, 2,
                                                                         seed=0))


def test_a_refused_fit_leaves_a_domain_planner_unfitted():
    class OnlyCapacity(BaseDomainPlanner):
        name = "only-capacity"

        def _fit(self, domain):
            if domain.kind != "capacity":
                raise InvalidParameterError("OnlyCapacity.domain: must be a capacity domain")

        def _plan(self, states, t):
            return self.domain.null_action()

    p = OnlyCapacity().fit(make_domain("capacity", 6, 2, seed=0))
    path = make_domain("path", 6, 2, seed=0)
    with pytest.raises(InvalidParameterError, match="must be a capacity domain"):
        p.fit(path)
    with pytest.raises(NotFittedError):
        p.plan(np.zeros(6, dtype=np.int64))


def test_every_planner_is_fitted_before_any_episode():
    """A planner that does not fit the domain (SEQUOIA with a network for another J in 'rmab
    compare') failed only after the planners before it had played all their episodes (48 s;
    a new user's walkthrough)."""
    played = []

    class Counting(BaseDomainPlanner):
        name = "counting"

        def _plan(self, states, t):
            played.append(t)
            return self.domain.null_action()

    class OnlyPath(Counting):
        name = "only-path"

        def _fit(self, domain):
            raise InvalidParameterError("OnlyPath.domain: must be a path domain")

    with pytest.raises(InvalidParameterError, match="must be a path domain"):
        evaluate_domain(make_domain("capacity", 6, 2, seed=0), [Counting(), OnlyPath()],
                        episodes=2, horizon=3)
    assert played == []


def test_evaluation_takes_planners_of_the_protocol_alone():
    """A planner with name, fit, reset and plan only (the DomainPlanner protocol) is evaluated
    and timed; evaluate_domain had read a ``last_stats`` the protocol does not have."""
    from rmab.domains.baselines import DomainPlanner

    class Passive:
        name = "passive"

        def fit(self, domain, *, seed=None):
            self.domain = domain
            return self

        def reset(self, *, seed=None):
            pass

        def plan(self, states, *, t=0):
            return self.domain.null_action()

    d = make_domain("capacity", 10, 3, seed=0)
    assert isinstance(Passive(), DomainPlanner)
    res = evaluate_domain(d, [Passive(), "no-action"], episodes=2, horizon=3, seed=0)
    np.testing.assert_array_equal(res.rewards[0, 0], res.rewards[0, 1])
    assert np.all(res.seconds_per_step > 0)


@pytest.mark.mip
@pytest.mark.filterwarnings("ignore:.*can never be:rmab.errors.RmabWarning")  # nodes far off
@pytest.mark.parametrize("kind", ["interventions", "capacity", "scheduling", "path"])
def test_a_constant_added_to_the_rewards_changes_no_myopic_action(kind):
    """The path search measured its gap on the objective with the offset (rewards of 1e5:
    suboptimal in 8 of 30 states, a domains review); the interventions objective held every
    arm's level-0 gain in ``c`` and HiGHS got the offset, so at 1e9 its relative gap took
    suboptimal actions (5 of 20). The action's value is checked against the unshifted
    optimum."""
    worse = 0
    for seed in range(8):
        d = make_domain(kind, 20, 5, seed=seed)
        arrays = d.to_arrays()
        shifted = type(d).from_arrays(**{**arrays, "rewards": arrays["rewards"] + 1e9})
        states = np.random.default_rng(seed).integers(0, 4, d.n_arms)
        best = make_domain_planner("myopic").fit(d, seed=0).plan(states)
        got = make_domain_planner("myopic").fit(shifted, seed=0).plan(states)
        worse += d.expected_reward(states, got) < d.expected_reward(states, best) - 1e-9
    assert worse == 0


def test_the_protocols_defaults_are_the_papers():
    """Spec §1's protocol by default: 50 evaluation episodes of H = 20 from Bernoulli(0.2)
    states (1 000 draws at J = 20: within 4 standard deviations of 0.2), RANDOM = 1; sampling
    takes the best of K = 100 random feasible actions (training's Bernoulli(0.5):
    tests/sequoia/test_sequoia_train.py)."""
    import inspect

    res = evaluate_domain(make_domain("capacity", 20, 5, seed=0), ["no-action"], seed=1)
    assert (res.episodes, res.horizon) == (50, 20)
    assert res.rewards.shape == (1, 2, 50) and res.starts.shape == (1, 50, 20)
    assert abs(res.starts.mean() - 0.2) <= 4 * np.sqrt(0.2 * 0.8 / 1000)
    assert res.normalised[0, res.planners.index("random")] == 1.0
    defaults = inspect.signature(compare_domain).parameters
    assert [defaults[k].default for k in ("episodes", "horizon", "p_high")] == [50, 20, 0.2]
    assert make_domain_planner("sampling").n_samples == 100


def test_a_random_mean_of_zero_normalises_to_nan():
    """RANDOM = 1 needs a positive mean (module doc): with rewards of 0 everywhere RANDOM's
    mean is 0, and every normalised score is NaN, not the raw mean over 1."""
    from rmab.domains import CapacityDomain

    base = make_domain("capacity", 4, 2, seed=0).to_arrays()
    d = CapacityDomain.from_arrays(**{**base, "rewards": np.zeros_like(base["rewards"])})
    res = evaluate_domain(d, ["random", "myopic"], episodes=2, horizon=2, seed=0)
    np.testing.assert_array_equal(res.rewards, 0.0)
    assert np.isnan(res.normalised).all() and np.isnan(res.mean_normalised).all()


def test_seconds_per_step_is_each_plan_call_over_every_step(monkeypatch):
    """Each plan call is timed alone and the sum divided by episodes x horizon: with a clock
    that moves 1 s per reading, every planner takes exactly 1 s a step (3 x 4 steps)."""
    import types

    from rmab.domains import evaluate as evaluate_module

    clock = itertools.count()
    monkeypatch.setattr(evaluate_module, "time",
                        types.SimpleNamespace(perf_counter=lambda: float(next(clock))))
    res = evaluate_domain(make_domain("capacity", 6, 2, seed=0), ["no-action", "sampling"],
                          episodes=3, horizon=4, seed=0)
    np.testing.assert_array_equal(res.seconds_per_step, np.ones((1, 3)))


def test_every_episode_resets_the_planners_with_its_own_seed():
    """One seed per episode (module doc): RANDOM's draws differ from episode to episode; the
    same seed replays them."""
    from rmab.domains.baselines import RandomDomainPlanner

    played = []

    class Recording(RandomDomainPlanner):
        name = "recording"

        def _reset(self):
            played.append([])

        def _plan(self, states, t):
            played[-1].append(super()._plan(states, t))
            return played[-1][-1]

    d = make_domain("capacity", 10, 3, seed=0)
    runs = []
    for _ in range(2):
        played.clear()
        evaluate_domain(d, [Recording()], episodes=4, horizon=3, seed=0)
        runs.append(np.array(played[1:]))                   # played[0]: fit's own reset
    assert runs[0].shape == (4, 3, 10)
    np.testing.assert_array_equal(runs[0], runs[1])
    for e, f in itertools.combinations(range(4), 2):
        assert not np.array_equal(runs[0][e], runs[0][f]), (e, f)


def test_a_single_time_limited_step_is_shown_once_and_not_counted(recwarn):
    """The count replaces the warnings after the first; a planner at its limit in one step
    only shows that one warning, with no '1 of 6 steps' line after it."""
    import warnings

    class OnceLimited(BaseDomainPlanner):
        name = "once-limited"
        calls = 0

        def _plan(self, states, t):
            type(self).calls += 1
            if type(self).calls == 1:
                warnings.warn("stopped at the limit (gap 0.1)", SolverLimitWarning)
            return self.domain.null_action()

    warnings.simplefilter("default")
    evaluate_domain(make_domain("capacity", 6, 2, seed=0), ["random", OnceLimited()],
                    episodes=2, horizon=3)
    assert [str(w.message) for w in recwarn if w.category is SolverLimitWarning] == [
        "stopped at the limit (gap 0.1)"]


def test_starts_without_a_row_are_refused():
    d = make_domain("capacity", 8, 2, seed=3)
    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.starts: must have shape "
                                                    r"\(episodes >= 1, n_arms=8\); got \(0, 8\)"):
        evaluate_domain(d, ["random"], horizon=3, starts=np.zeros((0, 8), dtype=np.int64))


def test_std_normalised_is_the_sample_std_over_seeds():
    """The spread over seeds is the sample standard deviation (statistics.stdev, n - 1), zero
    with one seed."""
    import statistics

    res = compare_domain("capacity", n_arms=6, budget=2, seeds=(0, 1, 2), episodes=2,
                         horizon=2, planners=["no-action", "random", "sampling"])
    want = [statistics.stdev(res.normalised[:, p].tolist()) for p in range(3)]
    np.testing.assert_allclose(res.std_normalised, want, rtol=1e-12)
    assert want[0] > 0
    one = compare_domain("capacity", n_arms=6, budget=2, seeds=(0,), episodes=2, horizon=2,
                         planners=["random"])
    np.testing.assert_array_equal(one.std_normalised, [0.0])
