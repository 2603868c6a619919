"""Lagrangian bound and planner on finite-horizon POMDP instances: above the joint optimum by
enumeration of joint belief trees, equal to the fully observed finite bound when signals reveal
the state, above the simulated return of every planner that applies, period-t Q-values from
the period-t α-sets, error paths."""

import itertools

import numpy as np
import pytest

from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.models import Instance, POMDPArms, health_intervention, random_instance
from rmab.planners.lagrangian import LagrangianPlanner
from rmab.relax.lagrangian import dual_curve, lagrangian_bound
from rmab.sim.compare import compare
from rmab.values.finite_pbvi import solve_finite_pbvi


def joint_pomdp_optimum(inst):
    """The optimal expected total of a tiny finite-horizon POMDP instance: recursion over the
    joint belief (the arms' beliefs, independent given the actions), every joint action
    within the budget and every joint signal."""
    arms, beta, horizon = inst.arms, inst.discount, inst.horizon
    acts = [a for a in itertools.product(range(arms.n_actions), repeat=arms.n_arms)
            if sum(arms.costs[n, a[n]] for n in range(arms.n_arms)) <= inst.budget + 1e-12]

    def value(beliefs, t):
        if t == horizon:
            return 0.0
        best = -np.inf
        for act in acts:
            now = sum(b @ arms.rewards[n, :, act[n]] for n, b in enumerate(beliefs))
            branches = []
            for n, b in enumerate(beliefs):
                joint = (b @ arms.transitions[n, act[n]])[:, None] * arms.observations[n, act[n]]
                pr = joint.sum(axis=0)
                branches.append([(pr[o], joint[:, o] / pr[o]) for o in range(len(pr))
                                 if pr[o] > 0])
            cont = sum(np.prod([p for p, _ in combo]) * value(tuple(b for _, b in combo), t + 1)
                       for combo in itertools.product(*branches))
            best = max(best, now + beta * cont)
        return best

    return value(tuple(inst.initial_belief), 0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_arms, horizon, discount", [(2, 3, 1.0), (3, 2, 1.0), (2, 3, 0.8)])
def test_bound_above_the_joint_optimum(seed, n_arms, horizon, discount):
    inst = random_instance(n_arms, 2, 2, 2, budget=1.0, discount=discount, horizon=horizon,
                           seed=seed)
    opt = joint_pomdp_optimum(inst)
    res = lagrangian_bound(inst)
    assert not res.exact and res.method == "cutting-plane"
    assert res.budget_weight == pytest.approx(sum(discount ** t for t in range(horizon)))
    # tiny horizons: the sampled point set holds the reachable beliefs, PBVI is exact
    assert res.estimate >= opt - 1e-9
    assert res.certified_upper_bound >= res.estimate - 1e-9
    assert res.certified_upper_bound >= opt - 1e-9
    for method in ("bisection", "golden"):
        other = lagrangian_bound(inst, method=method, price_tol=1e-9)
        assert other.estimate == pytest.approx(res.estimate, abs=1e-5)


@pytest.mark.parametrize("discount", [1.0, 0.9])
def test_revealing_signals_match_the_fully_observed_finite_bound(discount):
    mdp = random_instance(4, 3, 3, None, budget=2.0, discount=discount, horizon=6, seed=8)
    a = mdp.arms
    start = mdp.replace(initial_belief=np.eye(3)[[0, 1, 2, 0]])
    pomdp = start.replace(arms=POMDPArms(a.transitions, a.observations, a.rewards, a.costs))
    exact = lagrangian_bound(start, price_tol=1e-10)
    est = lagrangian_bound(pomdp, price_tol=1e-10)
    assert est.estimate == pytest.approx(exact.estimate, abs=1e-7)
    assert est.certified_upper_bound == pytest.approx(exact.estimate, abs=1e-7)
    assert est.price == pytest.approx(exact.price, abs=1e-6)
    b = pomdp.initial_belief
    for t in range(6):
        np.testing.assert_allclose(est.q_values(b, t), exact.q_values(b, t), atol=1e-7)


def test_q_values_are_the_period_sets_lookahead():
    inst = health_intervention(4, discount=1.0, horizon=5, seed=1)
    res = lagrangian_bound(inst)
    ref = solve_finite_pbvi(inst.arms, horizon=5, price=res.price, discount=1.0,
                            initial_belief=inst.initial_belief, seed=0)
    b = np.tile([0.3, 0.7], (4, 1))
    for t in range(5):
        np.testing.assert_allclose(res.q_values(b, t), ref.q(b, t), atol=1e-9)
    # the last period's Q is the priced reward now: R(b, a) - λ c(a)
    last = np.einsum("ns,nsa->na", b, inst.arms.rewards) - res.price * inst.arms.costs
    np.testing.assert_allclose(res.q_values(b, 4), last, atol=1e-12)
    np.testing.assert_array_equal(res.q_values(b, 9), res.q_values(b, 4))   # past H: the last
    curve = dual_curve(inst, [0.0, res.price, 2.0 * res.price + 0.1])
    assert curve.estimate.min() == pytest.approx(res.estimate, rel=1e-6)
    assert (curve.upper >= curve.estimate - 1e-9).all()


def test_certificate_tightens_fib_with_the_backward_sawtooth():
    """On a health instance the finite FIB alone certified 61.32 above an estimate of 60.70
    (horizon 12); the per-period sawtooth over the PBVI points caps each arm's FIB value."""
    from rmab.values.bounds import fib_bound

    inst = health_intervention(4, discount=1.0, horizon=8, seed=2)
    res = lagrangian_bound(inst)
    fib = fib_bound(inst.arms, price=res.certificate_price, discount=1.0, horizon=8)
    fib_values = fib.value(inst.initial_belief)
    assert (res.arm_upper <= fib_values + 1e-12).all()
    assert (res.arm_upper < fib_values - 1e-3).any()
    assert res.estimate - 1e-9 <= res.certified_upper_bound
    assert res.certified_upper_bound - res.estimate < 0.5 * (
        fib_values.sum() + res.certificate_price * inst.budget * 8 - res.estimate)


def test_planner_uses_the_period_sets():
    """At period t the planner maximises Q_t + λ c under the budget; in the last period an
    action-dependent reward that only costs now (-0.3 for acting) is never taken."""
    P = np.array([[[0.9, 0.1], [0.5, 0.5]], [[0.1, 0.9], [0.05, 0.95]]])
    O = np.array([[[0.8, 0.2], [0.3, 0.7]], [[0.9, 0.1], [0.1, 0.9]]])
    R = np.array([[0.0, -0.3], [1.0, 0.7]])
    arms = POMDPArms(np.tile(P, (3, 1, 1, 1)), np.tile(O, (3, 1, 1, 1)), np.tile(R, (3, 1, 1)),
                     np.array([0.0, 1.0]))
    inst = Instance(arms, budget=1, discount=1.0, horizon=4, initial_belief=np.full((3, 2), 0.5))
    planner = LagrangianPlanner().fit(inst, seed=0)
    price = planner.result.price
    b = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    for t in range(4):
        gains = planner.result.q_values(b, t) + price * arms.costs
        act = planner.plan(b, t=t)
        best = max(((0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)),
                   key=lambda a: gains[np.arange(3), list(a)].sum())
        assert gains[np.arange(3), act].sum() == pytest.approx(
            gains[np.arange(3), list(best)].sum(), abs=1e-12)
    assert planner.plan(b, t=3).tolist() == [0, 0, 0]
    assert planner.plan(b, t=0).sum() == 1                  # acting pays with periods left
    resolved = LagrangianPlanner(resolve_every=2).fit(inst, seed=0)
    resolved.plan(b, t=2)
    assert resolved.last_stats.info["resolved"]
    assert resolved.plan(b, t=3).tolist() == [0, 0, 0]     # 2 periods left: the last one


@pytest.mark.parametrize("discount", [1.0, 0.95])
def test_bound_above_simulated_returns(discount):
    """Every planner that applies, 60 episodes on the same noise: none beats the certified
    bound (nor the estimate) beyond its standard error."""
    inst = health_intervention(6, budget_fraction=0.2, discount=discount, horizon=8, seed=3)
    res = lagrangian_bound(inst)
    comp = compare(inst, ["lagrangian", "myopic", "belief-threshold", "random", "no-action"],
                   episodes=60, seed=5)
    for score in comp.scores:
        assert score.mean <= res.estimate + 3.0 * score.stderr, score.name
        assert score.mean <= res.certified_upper_bound + 3.0 * score.stderr, score.name
    best = max(comp.scores, key=lambda s: s.mean)
    assert best.mean > 0.8 * res.estimate                       # the bound is not vacuous
    lagr = next(s for s in comp.scores if s.name == "lagrangian")
    passive = next(s for s in comp.scores if s.name == "no-action")
    assert lagr.mean > passive.mean


def test_error_paths():
    inst = random_instance(3, 2, 2, 2, budget=1.0, discount=1.0, horizon=4, seed=0)
    with pytest.raises(InvalidModelError, match=r"Instance\.horizon: must be >= 1; got 0"):
        inst.replace(horizon=0)
    with pytest.raises(InvalidModelError, match=r"Instance\.horizon: must be set when discount"):
        inst.replace(horizon=None)
    with pytest.raises(InvalidParameterError, match=r"'lp' needs fully observed arms; got "
                                                    r"POMDPArms"):
        lagrangian_bound(inst, method="lp")
    res = lagrangian_bound(inst)
    with pytest.raises(InvalidParameterError, match=r"LagrangianResult\.q_values\.t: must be "
                                                    r">= 0"):
        res.q_values(inst.initial_belief, -1)
    with pytest.raises(InvalidParameterError, match=r"LagrangianResult\.q_values\.t: must be "
                                                    r"an integer"):
        res.q_values(inst.initial_belief, 1.5)
