"""Whittle, Lagrangian and rollout domain planners (rmab.domains.index_baselines)."""

import itertools
import warnings

import numpy as np
import pytest

from rmab.domains import make_domain
from rmab.domains.base import Domain
from rmab.domains.baselines import MyopicMIPPlanner
from rmab.domains.capacity import CapacityDomain
from rmab.domains.index_baselines import (LagrangianDomainPlanner, RolloutDomainPlanner,
                                          WhittleDomainPlanner, arm_mdp, relaxed_instance)
from rmab.domains.interventions import make_interventions
from rmab.errors import IndexabilityWarning, InvalidParameterError
from rmab.relax.lagrangian import lagrangian_bound
from rmab.relax.whittle import whittle_indices
from rmab.values.exact import policy_iteration, value_iteration

pytestmark = pytest.mark.mip

KINDS = ["interventions", "capacity", "scheduling", "path"]
PLANNERS = [WhittleDomainPlanner, LagrangianDomainPlanner, RolloutDomainPlanner]


def _small(kind, seed=0):
    if kind == "interventions":
        return make_interventions(n_arms=8, n_interventions=6, budget=2, seed=seed)
    return make_domain(kind, 8, 2, seed=seed)


def _milp_actions(domain):
    """Every action of the MILP's feasible set (the do-nothing action of the interventions
    domain is accepted by the simulator but not in the MILP)."""
    out = []
    for bits in itertools.product((0, 1), repeat=domain.action_size):
        a = np.array(bits, dtype=np.int64)
        if domain.is_feasible(a) and not (domain.kind == "interventions" and a.sum() == 0):
            out.append(a)
    return np.array(out)


def _fit(cls, domain, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        return cls(**params).fit(domain, seed=0)


def test_arm_mdp_matches_the_base_arm():
    arms = make_domain("capacity", 5, 2, seed=1).arms
    mdp = arm_mdp(arms)
    for j, lev, s in itertools.product(range(5), range(2), range(4)):
        ref = np.zeros(4)
        ref[min(s + 1, 3)] += arms.up_prob[j, lev]
        ref[max(s - 1, 0)] += 1.0 - arms.up_prob[j, lev]
        np.testing.assert_allclose(mdp.transitions[j, lev, s], ref)
        # expected next-state reward, earned at the start of the period
        np.testing.assert_allclose(mdp.rewards[j, s, lev], ref @ arms.rewards[j])
    np.testing.assert_array_equal(mdp.costs, np.tile([0.0, 1.0], (5, 1)))


@pytest.mark.parametrize("kind", KINDS)
def test_relaxation_holds_for_every_feasible_action(kind):
    domain = _small(kind)
    inst = relaxed_instance(domain)
    costs = inst.arms.costs
    used = [costs[np.arange(domain.n_arms), domain.arm_levels(a)].sum()
            for a in _milp_actions(domain)]
    assert max(used) <= inst.budget + 1e-9
    assert inst.discount == 0.99 and inst.horizon is None


def test_the_interventions_relaxation_covers_the_widest_intervention():
    """Interventions of an explicit omega reaching 3 arms and 1 arm: choosing the first raises
    three levels, so the relaxed budget is B times the most arms one intervention reaches
    (module table), attained here by enumeration."""
    from rmab.domains.interventions import InterventionsDomain

    omega = np.zeros((4, 2))
    omega[:3, 0] = omega[3, 1] = 3.0
    domain = InterventionsDomain.from_arrays(
        omega=omega, alpha=np.full(4, 0.5), slope=np.ones(4), x0=np.ones(4),
        rewards=np.tile([0.1, 0.15, 0.2, 1.0], (4, 1)), budget=1)
    inst = relaxed_instance(domain)
    used = [inst.arms.costs[np.arange(4), domain.arm_levels(a)].sum()
            for a in _milp_actions(domain)]
    assert sorted(used) == [1.0, 3.0] and inst.budget == 3.0


def test_whittle_indices_equalise_the_two_actions():
    domain = make_domain("capacity", 6, 2, seed=2)
    planner = _fit(WhittleDomainPlanner, domain, discount=0.9)
    arms = relaxed_instance(domain, discount=0.9).arms
    w = planner.indices[:, :, 0]                                    # (n, S), per unit of cost
    ref = whittle_indices(arms, discount=0.9, method="bisection", tol=1e-9).binary
    np.testing.assert_allclose(w, ref, atol=1e-6)
    for s in range(4):  # at price W(s) the arm is indifferent in state s
        q = policy_iteration(arms, prices=w[:, s], discount=0.9).q      # (P, n, S, A)
        rows = np.arange(6)
        np.testing.assert_allclose(q[rows, rows, s, 1], q[rows, rows, s, 0], atol=1e-7)
    # the MILP gain of a pull is the subsidy W(s) c_j, whatever the resource unit
    unit = whittle_indices(arm_mdp(domain.arms), discount=0.9).binary
    np.testing.assert_allclose(planner.gain_table[:, :, 1], unit, rtol=1e-9)


def test_multi_action_gains_are_cumulated_indices():
    domain = make_interventions(n_arms=12, n_interventions=9, budget=3, seed=4)
    planner = _fit(WhittleDomainPlanner, domain)
    assert np.isfinite(planner.indices).all()
    some = [0, 4, 9]  # good and bad arms: against the bisection reference
    ref = whittle_indices(relaxed_instance(domain).arms.select(some), discount=0.99,
                          method="bisection", tol=1e-9).indices
    np.testing.assert_allclose(planner.indices[some], ref, atol=1e-6)
    np.testing.assert_allclose(planner.gain_table[:, :, 1:], np.cumsum(planner.indices, axis=2))
    np.testing.assert_array_equal(planner.gain_table[:, :, 0], 0.0)


@pytest.mark.parametrize("kind", ["capacity", "scheduling", "interventions"])
def test_lagrangian_price_matches_hawkins_lp(kind):
    domain = _small(kind, seed=3)
    planner = _fit(LagrangianDomainPlanner, domain, price_tol=1e-8)
    states = np.random.default_rng(0).integers(0, 4, domain.n_arms)
    planner.plan(states)
    inst = relaxed_instance(domain)
    lp = lagrangian_bound(inst, beliefs=np.eye(4)[states], method="lp", certificate=False)
    assert planner.last_stats.info["price"] == pytest.approx(lp.price, abs=1e-6)


@pytest.mark.parametrize("charge_now", [False, True])
@pytest.mark.parametrize("room", [2, 1])
def test_lagrangian_gains_at_zero_price_are_the_vi_advantage(charge_now, room):
    base = make_domain("capacity", 6, 2, seed=5)
    # capacity for every arm: the relaxed budget never binds, so λ* = 0 (room 1, exactly every
    # arm's cost: the dual is flat from 0 and the LP returned 0.274)
    domain = CapacityDomain.from_arrays(up_prob=base.arms.up_prob, rewards=base.arms.rewards,
                                        costs=base.costs, capacities=[room * base.costs.sum()])
    planner = _fit(LagrangianDomainPlanner, domain, charge_now=charge_now)
    states = np.array([0, 1, 2, 3, 1, 0])
    gains = planner._gains(states)
    assert planner.last_stats.info["price"] == 0.0
    q = value_iteration(arm_mdp(domain.arms), discount=0.99, tol=1e-10).q[0]
    ref = q[np.arange(6), states] - q[np.arange(6), states, :1]
    np.testing.assert_allclose(gains, ref, atol=1e-6)
    assert domain.is_feasible(planner.plan(states))


@pytest.mark.parametrize("charge_now", [False, True])
def test_lagrangian_gains_at_a_binding_price_are_the_priced_advantage(charge_now):
    """With the capacity binding (λ* > 0): ``charge_now=True`` gains are the advantage
    Q(s, ℓ) - Q(s, 0) of the arm MDP paying r - λ* c (policy iteration at that price as the
    reference); the default adds the charge λ* c(ℓ) back, so only future use is priced."""
    domain = make_domain("capacity", 6, 2, seed=5)
    planner = _fit(LagrangianDomainPlanner, domain, charge_now=charge_now, price_tol=1e-8)
    states = np.array([0, 1, 2, 3, 1, 0])
    gains = planner._gains(states)
    price = planner.last_stats.info["price"]
    assert price > 0.01
    costs = domain.costs[:, None] * np.arange(2.0)                 # c_j(ℓ) = ℓ cost_j
    q = policy_iteration(arm_mdp(domain.arms, costs), prices=price, discount=0.99).q[0]
    ref = q[np.arange(6), states] - q[np.arange(6), states, :1]
    np.testing.assert_allclose(gains, ref if charge_now else ref + price * costs, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cls", [WhittleDomainPlanner, LagrangianDomainPlanner])
def test_milp_argmax_equals_enumeration(kind, cls):
    domain = _small(kind, seed=6)
    planner = _fit(cls, domain)
    actions = _milp_actions(domain)
    levels = np.array([domain.arm_levels(a) for a in actions])
    rows = np.arange(domain.n_arms)
    rng = np.random.default_rng(7)
    for _ in range(3):
        states = rng.integers(0, 4, domain.n_arms)
        action = planner.plan(states)
        gains = planner._gains(states)
        best = gains[rows[None, :], levels].sum(axis=1).max()
        assert gains[rows, domain.arm_levels(action)].sum() == pytest.approx(best, abs=1e-7)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cls", PLANNERS)
def test_actions_are_feasible(kind, cls):
    domain = make_domain(kind, 12, 2, seed=8)
    planner = _fit(cls, domain)
    rng = np.random.default_rng(9)
    s = rng.integers(0, 2, domain.n_arms)
    for t in range(4):
        action = planner.plan(s, t=t)
        assert action.dtype == np.int64 and domain.is_feasible(action)
        s = domain.step(s, action, seed=t).next_states


def _naive_rollout_scores(planner, domain, states, rng):
    """Loop reference of the rollout scores, replaying the planner's draws from ``rng``. The
    candidates and the base policy's gains come from planners fitted here, not from the
    rollout's parts: Whittle at the rollout's discount, or the one-step expected reward of
    :func:`arm_mdp` (checked against the base arm above)."""
    whittle = _fit(WhittleDomainPlanner, domain, discount=planner.discount)
    cands = [whittle.plan(states), MyopicMIPPlanner().fit(domain).plan(states)]
    cands += [domain._sample_action(rng) for _ in range(planner.n_candidates)]
    pool = []
    for a in cands:
        if not any(np.array_equal(a, b) for b in pool):
            pool.append(a)
    u = rng.random((planner.depth + 1, planner.n_rollouts, domain.n_arms))
    gain = whittle.gain_table if planner.base == "whittle" else arm_mdp(domain.arms).rewards
    rows = np.arange(domain.n_arms)
    scores = []
    for a in pool:
        total = 0.0
        for r in range(planner.n_rollouts):
            s, act = states, a
            ret = domain.expected_reward(s, act)
            for k in range(planner.depth + 1):
                if k:
                    act = max(pool, key=lambda b: gain[rows, s, domain.arm_levels(b)].sum())
                    ret += planner.discount ** k * domain.expected_reward(s, act)
                s = domain.step(s, act, u=u[k, r]).next_states
            total += ret
        scores.append(total / planner.n_rollouts)
    return pool, np.array(scores)


@pytest.mark.parametrize("kind,base", [("capacity", "whittle"), ("path", "myopic"),
                                       ("interventions", "whittle")])
def test_rollout_scores_match_a_loop_reference(kind, base):
    domain = _small(kind, seed=10)
    planner = _fit(RolloutDomainPlanner, domain, n_candidates=4, n_rollouts=3, depth=2,
                   base=base, discount=0.9)
    states = np.random.default_rng(11).integers(0, 4, domain.n_arms)
    planner.reset(seed=12)
    action = planner.plan(states)
    pool, scores = _naive_rollout_scores(planner, domain, states, np.random.default_rng(12))
    assert planner.last_stats.info["n_candidates"] == len(pool)
    assert planner.last_stats.info["score"] == pytest.approx(scores.max(), rel=1e-10)
    np.testing.assert_array_equal(action, pool[int(np.argmax(scores))])


def test_rollout_without_lookahead_is_myopic():
    domain = make_domain("scheduling", 12, 3, seed=13)
    rollout = _fit(RolloutDomainPlanner, domain, n_candidates=5, depth=0)
    myopic = MyopicMIPPlanner().fit(domain)
    states = np.random.default_rng(14).integers(0, 4, 12)
    a, b = rollout.plan(states), myopic.plan(states)
    assert domain.expected_reward(states, a) == pytest.approx(domain.expected_reward(states, b))


def test_rollout_is_reproducible():
    domain = make_domain("capacity", 12, 2, seed=15)
    states = np.random.default_rng(16).integers(0, 4, (3, 12))

    def run(seed):
        planner = _fit(RolloutDomainPlanner, domain, n_candidates=10)
        planner.reset(seed=seed)
        return np.stack([planner.plan(s, t=t) for t, s in enumerate(states)])

    np.testing.assert_array_equal(run(1), run(1))


class _Toy(Domain):
    """A domain outside the relaxation table."""

    def __init__(self, arms):
        self.arms, self.budget = arms, 1

    action_size = property(lambda self: self.n_arms)
    _arm_levels = _violation = _sample_action = _build_block = to_arrays = lambda self, *a: None
    from_arrays = classmethod(lambda cls, **a: None)


@pytest.mark.parametrize("cls", PLANNERS)
def test_errors(cls):
    with pytest.raises(InvalidParameterError,
                       match=rf"{cls.__name__}.discount: must be < 1.0; got 1.0"):
        cls(discount=1.0)
    with pytest.raises(InvalidParameterError, match=r"discount: must be > 0.0; got 0.0"):
        cls(discount=0)
    with pytest.raises(InvalidParameterError, match="relaxes to a per-arm budget.*got _Toy"):
        cls().fit(_Toy(make_domain("capacity", 4, 1, seed=0).arms))
    with pytest.raises(InvalidParameterError, match="must be a Domain; got str"):
        cls().fit("capacity")


def test_parameter_errors():
    with pytest.raises(InvalidParameterError, match=r"n_candidates: must be >= 0; got -1"):
        RolloutDomainPlanner(n_candidates=-1)
    with pytest.raises(InvalidParameterError, match=r"n_candidates: must be an integer"):
        RolloutDomainPlanner(n_candidates=2.5)
    with pytest.raises(InvalidParameterError, match=r"n_rollouts: must be >= 1; got 0"):
        RolloutDomainPlanner(n_rollouts=0)
    with pytest.raises(InvalidParameterError, match=r"depth: must be >= 0; got -1"):
        RolloutDomainPlanner(depth=-1)
    with pytest.raises(InvalidParameterError, match=r"base: must be one of .*got 'dqn'"):
        RolloutDomainPlanner(base="dqn")
    with pytest.raises(InvalidParameterError, match=r"charge_now: must be True or False; "
                                                    r"got 'yes'"):
        LagrangianDomainPlanner(charge_now="yes")
    with pytest.raises(InvalidParameterError, match=r"price_tol: must be > 0.0"):
        LagrangianDomainPlanner(price_tol=0)
    with pytest.raises(InvalidParameterError, match=r"relaxed_instance.domain: must be a "
                                                    r"Domain; got int"):
        relaxed_instance(3)


@pytest.mark.parametrize("kind", KINDS)
def test_finite_whittle_with_one_period_to_go_is_myopic(kind):
    """With one period to go the index is the reward gain per unit of resource, so the gains
    are the one-step ones: the same expected reward as the myopic MIP."""
    domain = _small(kind, seed=3)
    finite = _fit(WhittleDomainPlanner, domain, horizon=1)
    myopic = MyopicMIPPlanner().fit(domain)
    for k in range(3):
        states = np.random.default_rng(k).integers(0, 4, domain.n_arms)
        a, b = finite.plan(states, t=0), myopic.plan(states)
        assert domain.expected_reward(states, a) == pytest.approx(domain.expected_reward(states, b))


def test_finite_whittle_uses_the_period_table():
    domain = _small("capacity", seed=4)
    p = _fit(WhittleDomainPlanner, domain, horizon=5)
    assert p.gain_tables.shape[0] == 5 and np.array_equal(p.gain_table, p.gain_tables[0])
    states = np.random.default_rng(5).integers(0, 4, domain.n_arms)
    for t, expect in ((0, 0), (3, 3), (9, 4)):
        p.plan(states, t=t)
        np.testing.assert_array_equal(p._gains(states),
                                      p.gain_tables[expect][np.arange(domain.n_arms), states])
    with pytest.raises(InvalidParameterError, match=r"WhittleDomainPlanner.horizon: must be >= 1"):
        WhittleDomainPlanner(horizon=0)


def test_whittle_finite_by_name_plans_for_the_evaluations_horizon():
    """Made by name, ``whittle-finite`` takes the evaluation's horizon (its indices are those
    of that many periods); the discounted ``whittle`` stays discounted."""
    from rmab.domains.evaluate import _planners, evaluate_domain

    made = {p.name: p for p in _planners(["whittle-finite", "whittle"], 6)}
    assert made["whittle-finite"].horizon == 6 and made["whittle"].horizon is None
    domain = _small("capacity", seed=4)
    res = evaluate_domain(domain, ["whittle-finite", "random"], episodes=2, horizon=6)
    assert res.planners[0] == "whittle-finite"
    from rmab.domains.baselines import make_domain_planner

    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.planners: 'whittle-finite' "
                                                    r"plans for horizon 20; this evaluation's "
                                                    r"horizon is 6 \(evaluate with "
                                                    r"horizon=20, or make it with horizon=6\)"):
        evaluate_domain(domain, [make_domain_planner("whittle-finite")], episodes=2, horizon=6)


def test_a_planner_made_for_fewer_periods_is_refused_too():
    """Indices for 3 periods run out at t = 3 of a 6-period evaluation: refused as one for
    more periods is, not played with its last table."""
    from rmab.domains.baselines import make_domain_planner
    from rmab.domains.evaluate import evaluate_domain

    with pytest.raises(InvalidParameterError, match=r"evaluate_domain.planners: 'whittle-finite' "
                                                    r"plans for horizon 3; this evaluation's "
                                                    r"horizon is 6"):
        evaluate_domain(_small("capacity", seed=4),
                        [make_domain_planner("whittle-finite", horizon=3)], episodes=2,
                        horizon=6)
