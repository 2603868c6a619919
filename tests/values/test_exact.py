"""Exact values of fully observed arms: VI == PI == LP (HiGHS), kernels == numpy twins,
finite horizon by brute-force enumeration, resource use, error paths."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from rmab.errors import ConvergenceWarning, InvalidModelError, InvalidParameterError
from rmab.models import MDPArms, POMDPArms, random_mdp_arms, random_pomdp_arms
from rmab.values import _reference as ref
from rmab.values.bounds import fib_bound, qmdp_bound
from rmab.values.exact import policy_iteration, value_iteration
from rmab.values.pbvi import solve_pbvi


def lp_values(p, r, beta):
    """min Σ_s V(s) s.t. V(s) >= r(s,a) + β Σ P(s'|s,a) V(s') (HiGHS): the optimal values."""
    n_actions, n_states, _ = p.shape
    rows, rhs = [], []
    for a in range(n_actions):
        for s in range(n_states):
            row = beta * p[a, s].copy()
            row[s] -= 1.0
            rows.append(row)
            rhs.append(-r[s, a])
    res = linprog(np.ones(n_states), A_ub=np.array(rows), b_ub=np.array(rhs),
                  bounds=[(None, None)] * n_states, method="highs")
    assert res.status == 0
    return res.x


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_states=st.integers(1, 6), n_actions=st.integers(1, 4),
       beta=st.sampled_from([0.5, 0.9, 0.99]))
def test_vi_pi_lp_agree(seed, n_states, n_actions, beta):
    arms = random_mdp_arms(3, n_states, n_actions, seed=seed)
    prices = np.array([0.0, 0.3, -0.2])
    vi = value_iteration(arms, prices=prices, discount=beta, tol=1e-9)
    pi = policy_iteration(arms, prices=prices, discount=beta, tol=1e-9)
    assert vi.converged and pi.converged
    np.testing.assert_allclose(vi.values, pi.values, atol=2e-9)
    for k, lam in enumerate(prices):
        for n in range(3):
            r = arms.rewards[n] - lam * arms.costs[n][None, :]
            v_lp = lp_values(arms.transitions[n], r, beta)
            np.testing.assert_allclose(pi.values[k, n], v_lp, atol=1e-6 / (1 - beta))


def test_values_decompose_into_reward_minus_price_times_resource():
    """V_λ = (value of the greedy policy's reward stream) - λ resource."""
    arms = random_mdp_arms(20, 4, 3, seed=3)
    prices = np.array([0.0, 0.2, 0.7])
    res = policy_iteration(arms, prices=prices, discount=0.9)
    for k, lam in enumerate(prices):
        pol = res.policy[k]
        n_idx = np.arange(20)[:, None]
        s_idx = np.arange(4)[None, :]
        p_pi = arms.transitions[n_idx, pol, s_idx]                  # (N, S, S)
        r_pi = arms.rewards[n_idx, s_idx, pol]
        gain = np.linalg.solve(np.eye(4) - 0.9 * p_pi, r_pi[..., None])[..., 0]
        np.testing.assert_allclose(res.values[k], gain - lam * res.resource[k], atol=1e-9)


def test_greedy_ties_go_to_the_cheaper_action():
    """Identical actions except cost 0 vs 0 (equal): the lower index; and at the price where
    acting and resting are equally good, the passive action."""
    p = np.array([[[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]]])
    r = np.array([[[0.0, 1.0], [0.0, 1.0]]])
    arms = MDPArms(p, r, np.array([0.0, 1.0]))
    res = value_iteration(arms, prices=[0.5, 1.0, 1.5], discount=0.9)
    np.testing.assert_array_equal(res.policy[:, 0, 0], [1, 0, 0])
    np.testing.assert_allclose(res.resource[:, 0, 0], [10.0, 0.0, 0.0], atol=1e-9)


@pytest.mark.parametrize("method", ["vi", "pi"])
def test_kernels_match_numpy_twins(method):
    arms = random_mdp_arms(30, 5, 3, seed=11)
    prices = np.linspace(-0.5, 1.0, 5)
    if method == "vi":
        res = value_iteration(arms, prices=prices, discount=0.9, tol=1e-11)
        twin = ref.vi_numpy(arms, prices, 0.9, 1e-11, 10_000)
    else:
        res = policy_iteration(arms, prices=prices, discount=0.9, tol=1e-11)
        twin = ref.pi_numpy(arms, prices, 0.9, 1e-11, 10_000)
    values, q, policy, resource, _ = twin
    np.testing.assert_allclose(res.values, values, atol=1e-10)
    np.testing.assert_allclose(res.q, q, atol=1e-10)
    np.testing.assert_array_equal(res.policy, policy)
    np.testing.assert_allclose(res.resource, resource, atol=1e-9)


def brute_force_finite(p, r, c, beta, horizon):
    """Best over all deterministic Markov policies by enumeration (tiny sizes only)."""
    n_actions, n_states, _ = p.shape
    best = np.full(n_states, -np.inf)
    rules = list(itertools.product(range(n_actions), repeat=n_states))
    for plan in itertools.product(rules, repeat=horizon):
        v = np.zeros(n_states)
        for t in range(horizon - 1, -1, -1):
            a = np.array(plan[t])
            v = r[np.arange(n_states), a] + beta * (p[a, np.arange(n_states)] @ v)
        best = np.maximum(best, v)
    return best


@pytest.mark.parametrize("beta", [1.0, 0.8])
def test_finite_horizon_matches_enumeration(beta):
    arms = random_mdp_arms(2, 2, 2, seed=5)
    res = value_iteration(arms, prices=[0.0, 0.4], discount=beta, horizon=3, return_table=True)
    for k, lam in enumerate([0.0, 0.4]):
        for n in range(2):
            r = arms.rewards[n] - lam * arms.costs[n][None, :]
            np.testing.assert_allclose(res.values[k, n],
                                       brute_force_finite(arms.transitions[n], r, None, beta, 3),
                                       atol=1e-12)
    assert res.period_values.shape == (3, 2, 2, 2)
    np.testing.assert_allclose(res.period_values[0], res.values)
    pi = policy_iteration(arms, prices=[0.0, 0.4], discount=beta, horizon=3)
    np.testing.assert_allclose(pi.values, res.values)
    assert pi.period_values is None


@pytest.mark.parametrize("beta", [1.0, 0.8])
def test_finite_horizon_resource_counts_actions(beta):
    """Always acting (huge reward for action 1) for H periods uses Σ_{t<H} β^t cost: H * cost
    undiscounted, cost (1 - β^H) / (1 - β) discounted (a resource left undiscounted in the
    backward induction passed at β = 1 alone)."""
    arms = random_mdp_arms(4, 3, 2, seed=2)
    r = np.array(arms.rewards)
    r[:, :, 1] += 100.0
    arms = MDPArms(arms.transitions, r, [0.0, 2.0])
    res = value_iteration(arms, discount=beta, horizon=7)
    expected = 14.0 if beta == 1.0 else 2.0 * (1.0 - beta ** 7) / (1.0 - beta)
    np.testing.assert_allclose(res.resource, expected)
    assert res.policy.shape == (1, 4, 3) and (res.policy == 1).all()


def test_pomdp_arms_solve_their_underlying_mdp():
    arms = random_pomdp_arms(3, 3, 2, 2, seed=1)
    mdp = MDPArms(arms.transitions, arms.rewards, arms.costs)
    np.testing.assert_allclose(value_iteration(arms).values, value_iteration(mdp).values)


def test_scalar_price_gives_one_row_and_results_are_read_only():
    arms = random_mdp_arms(2, 3, 2, seed=0)
    res = value_iteration(arms, prices=0.25)
    assert res.prices.tolist() == [0.25] and res.values.shape == (1, 2, 3)
    assert res.q.shape == (1, 2, 3, 2) and res.policy.dtype == np.int64
    with pytest.raises(ValueError):
        res.values[0, 0, 0] = 1.0


def test_sweeps_cut_short_by_max_iter_are_certified_by_the_improvement(recwarn):
    """Two sweeps end far from tol, but the improvement that follows settles the policy and so
    meets tol: converged, no warning (it warned "before reaching tol" with exact values)."""
    arms = random_mdp_arms(2, 4, 2, seed=0)
    res = value_iteration(arms, discount=0.99, max_iter=2)
    assert res.converged and res.iterations == 2
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    exact = policy_iteration(arms, discount=0.99)
    assert np.abs(res.values - exact.values).max() <= res.tol


def test_a_periodic_chain_near_discount_one_is_not_reported_unconverged(recwarn):
    """The span shrinks only by β a sweep on a cycle, so 100 000 sweeps end short of tol at
    β = 0.9999; the values met tol all the same (against the closed form)."""
    s = 50
    cycle = np.stack([np.roll(np.eye(s), 1, axis=1)] * 2)[None]
    rewards = np.random.default_rng(0).normal(size=(1, s, 2))
    res = value_iteration(MDPArms(cycle, rewards), discount=0.9999, tol=1e-6)
    closed = np.linalg.solve(np.eye(s) - 0.9999 * cycle[0, 0], rewards[0].max(axis=1))
    assert res.converged and not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    assert np.abs(res.values[0, 0] - closed).max() <= res.tol


@pytest.mark.parametrize("fn", [value_iteration, policy_iteration])
@pytest.mark.parametrize("kwargs, match", [
    (dict(arms="x"), r"arms: must be MDPArms or POMDPArms; got str"),
    (dict(discount=0.0), r"discount: must be > 0.0"),
    (dict(discount=1.5), r"discount: must be <= 1.0"),
    (dict(discount=1.0), r"horizon: must be set when discount is 1"),
    (dict(horizon=0), r"horizon: must be >= 1"),
    (dict(tol=0.0), r"tol: must be > 0.0"),
    (dict(max_iter=0), r"max_iter: must be >= 1"),
    (dict(prices=[[1.0]]), r"prices: must be a number or a non-empty 1-D array"),
    (dict(prices=[]), r"prices: must be a number or a non-empty 1-D array"),
    (dict(prices=np.nan), r"prices: must be finite"),
    (dict(prices="abc"), r"prices: must be an array of numbers"),
    (dict(return_table="no"), r"return_table: must be True or False; got 'no'"),   # was truthy
])
def test_error_paths(fn, kwargs, match):
    args = dict(arms=random_mdp_arms(1, 2, 2, seed=0))
    args.update(kwargs)
    arms = args.pop("arms")
    with pytest.raises(InvalidParameterError, match=fn.__name__ + r"\." + match):
        fn(arms, **args)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 100_000))
def test_policy_iteration_keeps_its_tolerance(seed):
    """tol promises |values - V*| <= tol, as value iteration's does; switching only on gains
    above tol once left errors of 82 tol at discount 0.99."""
    arms = random_mdp_arms(4, 3, 3, seed=seed)
    arms = MDPArms(arms.transitions, arms.rewards * 0.05, arms.costs)
    exact = value_iteration(arms, discount=0.99, tol=1e-12).values
    loose = policy_iteration(arms, discount=0.99, tol=0.05).values
    assert np.abs(loose - exact).max() <= 0.05


def _policy_value(arms, res, k, beta, price):
    """Exact priced value of ``res.policy[k]`` (N, S), by a linear solve."""
    n_idx = np.arange(arms.n_arms)[:, None]
    s_idx = np.arange(arms.n_states)[None, :]
    pol = res.policy[k]
    p_pi = arms.transitions[n_idx, pol, s_idx]
    r_pi = arms.rewards[n_idx, s_idx, pol] - price * arms.costs[n_idx, pol]
    return np.linalg.solve(np.eye(arms.n_states) - beta * p_pi, r_pi[..., None])[..., 0]


REVIEW_P = np.array([[[[1, 0, 0], [0, 1, 0], [0, 1, 0]], [[0, 1, 0], [1, 0, 0], [0, 0, 1]]]],
                    float)
REVIEW_R = np.array([[[0.3421247828158679, 0.1604817747484818],
                      [0.31730062117034663, 0.9506407981887465],
                      [0.27746349793867775, 0.9730428331119245]]])


@pytest.mark.parametrize("solve", [value_iteration, policy_iteration], ids=["vi", "pi"])
def test_the_returned_policy_is_worth_the_returned_values_near_discount_one(solve):
    """At β = 0.9999 the greedy policy (ties within 2 tol to the cheaper action) was worth 0.25
    less than the values said (4 500 tol), and resource did not match values."""
    arms, beta = MDPArms(REVIEW_P, REVIEW_R, [0, 1]), 0.9999
    res = solve(arms, prices=248.6, discount=beta)
    exact = value_iteration(arms, prices=248.6, discount=beta, tol=1e-12)   # V*
    worth = _policy_value(arms, res, 0, beta, 248.6)
    assert np.abs(res.values - exact.values).max() <= res.tol
    assert (exact.values[0] - worth).max() <= 2 * res.tol       # before: 0.25, tol 5.5e-5
    np.testing.assert_array_equal(res.policy[0, 0], [0, 1, 0])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 100_000), st.sampled_from([0.999, 0.9999]))
def test_returned_policies_are_within_tol_of_optimal(seed, beta):
    arms = random_mdp_arms(3, 4, 3, seed=seed)
    prices = np.array([0.0, 0.3])
    exact = value_iteration(arms, prices=prices, discount=beta, tol=1e-12)
    for solve in (value_iteration, policy_iteration):
        res = solve(arms, prices=prices, discount=beta, tol=1e-6)
        for k, lam in enumerate(prices):
            worth = _policy_value(arms, res, k, beta, lam)
            assert (exact.values[k] - worth).max() <= 2 * res.tol + 1e-9
            # values = E Σ β^t r - λ resource for the returned policy, up to tol
            np.testing.assert_allclose(res.values[k], worth, atol=res.tol + 1e-9)


CHAIN = np.array([[[[0.9, 0.1], [0.2, 0.8]]]])          # one arm, one action, two states


def chain_arms(reward_scale):
    """The two-state chain with rewards (0, reward_scale), as MDP and as POMDP arms."""
    r = np.array([[[0.0], [reward_scale]]])
    return MDPArms(CHAIN, r), POMDPArms(CHAIN, np.ones((1, 1, 2, 1)), r)


@pytest.mark.parametrize("solve", [
    lambda m, p: value_iteration(m, discount=0.95),
    lambda m, p: policy_iteration(m, discount=0.95),
    lambda m, p: value_iteration(m, discount=1.0, horizon=3),
    lambda m, p: qmdp_bound(p, discount=0.95),
    lambda m, p: fib_bound(p, discount=0.95),
    lambda m, p: solve_pbvi(p, discount=0.95, seed=0),
], ids=["vi", "pi", "vi-horizon", "qmdp", "fib", "pbvi"])
def test_rewards_too_large_for_float64_are_refused(solve):
    """They gave NaN or inf values reported as converged (and FIB ran 100 000 sweeps first)."""
    with pytest.raises(InvalidModelError, match=r"\.rewards: must keep max\(\|r - λc\|, c\) "
                                                r"Σ_t discount\^t .* <= 1e\+300"):
        solve(*chain_arms(1e308))


def test_prices_that_overflow_the_rewards_are_refused_by_name():
    """Rewards of at most 1 priced past float64 named the rewards (InvalidModelError)."""
    arms = MDPArms(np.repeat(CHAIN, 2, axis=1), np.zeros((1, 2, 2)), [0.0, 1.0])
    with pytest.raises(InvalidParameterError, match=r"value_iteration\.prices: .* got inf at "
                                                    r"prices 0 to 1e\+308"):
        value_iteration(arms, prices=[0.0, 1e308], discount=0.5)
    pomdp = POMDPArms(np.repeat(CHAIN, 2, axis=1), np.ones((1, 2, 2, 1)), np.zeros((1, 2, 2)),
                      [0.0, 1.0])
    for solve in (solve_pbvi, fib_bound):
        with pytest.raises(InvalidParameterError, match=rf"{solve.__name__}\.price: must keep"):
            solve(pomdp, price=1e300, discount=0.5)


def test_largest_accepted_scale_keeps_every_result_finite():
    mdp, pomdp = chain_arms(0.99e300 * (1 - 0.95))
    results = [value_iteration(mdp, discount=0.95), policy_iteration(mdp, discount=0.95)]
    for res in results:
        assert np.isfinite(res.values).all() and np.isfinite(res.q).all() and res.converged
    assert np.isfinite(qmdp_bound(pomdp, discount=0.95).vectors).all()
    assert np.isfinite(fib_bound(pomdp, discount=0.95).vectors).all()
    # (a tolerance of the values' scale: PBVI's 1e-3 is below float64 resolution there)
    assert np.isfinite(solve_pbvi(pomdp, discount=0.95, tol=1e290, seed=0)[0].alphas).all()


@pytest.mark.parametrize("fn", [value_iteration, policy_iteration])
@pytest.mark.parametrize("scale, beta", [(1e6, 0.95), (1e3, 0.999)])
def test_tol_below_float64_resolution_is_raised_and_met(fn, scale, beta):
    """At rewards 1e6 value iteration stopped on a span rounded to zero and reported
    convergence 84 times farther than tol = 1e-10 from V*; at discount 0.999 it ran out of
    sweeps. The tolerance is raised to what float64 resolves, and met."""
    arms, _ = chain_arms(scale)
    exact = np.linalg.solve(np.eye(2) - beta * CHAIN[0, 0], [0.0, scale])
    res = fn(arms, discount=beta, tol=1e-10)
    assert res.converged and 1e-10 < res.tol < 1e-10 * np.abs(exact).max()
    assert np.abs(res.values[0, 0] - exact).max() <= res.tol
    assert value_iteration(arms, discount=beta, tol=1.0).tol == 1.0


def test_qmdp_bound_stays_valid_at_a_large_reward_scale():
    """QMDP adds the tolerance value iteration met, not the one asked for (raised by 1e-9
    only it fell 4e-7 below V* here)."""
    rng = np.random.default_rng(0)
    p, r = rng.dirichlet(np.ones(3), size=3), rng.normal(size=3) * 1e6
    arms = POMDPArms(p[None, None], np.ones((1, 1, 3, 1)), r[None, :, None])
    exact = np.linalg.solve(np.eye(3) - 0.99 * p, r)
    assert (qmdp_bound(arms, discount=0.99).vectors[0, 0] >= exact).all()


@pytest.mark.parametrize("solve", [value_iteration, policy_iteration], ids=["vi", "pi"])
def test_a_gain_above_the_tie_tolerance_is_taken_at_any_value_scale(solve):
    """A float guard of 1e-12 |V| on top of tol (1 - β) kept action 0 where action 1 pays 5e-9
    more per period (V ~ 1e4 at β = 0.9999): values fell 5e-5 (375 tol) below V*, and the
    Lagrangian certificate below the optimum."""
    beta, g = 0.9999, 5e-9
    arms = MDPArms(np.array([[[[1.0]], [[1.0]]]]), np.array([[[1.0, 1.0 + g]]]), [0.0, 0.0])
    res = solve(arms, discount=beta)
    assert res.policy[0, 0, 0] == 1
    assert abs(res.values[0, 0, 0] - (1 + g) / (1 - beta)) <= res.tol


@pytest.mark.parametrize("solve", [value_iteration, policy_iteration], ids=["vi", "pi"])
@pytest.mark.parametrize("base, g", [(0.5, 1e-9), (1000.0, 5e-9)])
def test_finite_horizon_takes_a_gain_above_twice_tol(solve, base, g):
    """Finite horizon breaks ties within 2 tol + 1e-12 max(1, |V|) only: action 1 pays g more
    per period, above that band (2e-10 + 3e-12 at rewards 0.5, 2e-10 + 3e-9 at rewards 1000
    over 3 periods), and must be taken in every period, so the resource use is the H unit
    costs it spends. A tie band 10x wider (20 tol, or 1e-11 |V|) kept the free action 0."""
    horizon = 3
    arms = MDPArms(np.array([[[[1.0]], [[1.0]]]]), np.array([[[base, base + g]]]), [0.0, 1.0])
    res = solve(arms, discount=1.0, horizon=horizon, tol=1e-10, return_table=True)
    assert (res.period_policy == 1).all()
    assert res.resource[0, 0, 0] == pytest.approx(horizon)
    assert res.values[0, 0, 0] == pytest.approx(horizon * (base + g), rel=1e-14)


def test_the_policy_settles_within_max_iter():
    """max_iter also bounds the improvement steps that finish each pair."""
    arms = random_mdp_arms(5, 6, 3, seed=4)
    with pytest.warns(ConvergenceWarning):
        res = value_iteration(arms, discount=0.999, max_iter=1)
    assert not res.converged


def test_a_policy_settled_at_the_last_allowed_evaluation_is_converged(recwarn):
    """One state, one evaluation allowed: the greedy policy is already optimal, the first
    evaluation settles it, and the pair has converged (no warning) to r / (1 - β). Counting
    the evaluation that used up max_iter as a failure reported it unconverged."""
    arms = MDPArms(np.array([[[[1.0]], [[1.0]]]]), np.array([[[1.0, 2.0]]]), [0.0, 0.0])
    for solve in (value_iteration, policy_iteration):
        res = solve(arms, discount=0.9, max_iter=1)
        assert res.converged and res.iterations == 1
        assert res.values[0, 0, 0] == pytest.approx(2.0 / (1.0 - 0.9))
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]


def test_value_iteration_sweeps_follow_the_macqueen_stopping_rule():
    """Two absorbing states with rewards 0 and 1 from v_0 = r: sweep k's differences have
    span β^k, so the rule β/(1-β) span/2 <= tol stops at the first k with
    β^(k+1) / (2 (1-β)) <= tol (80 sweeps at β = 0.9, tol = 1e-3, 2 % and 9 % off the
    threshold on either side). Stopping on span/2 <= tol, without the factor β/(1-β), took
    59 sweeps and left the values to the improvement alone."""
    beta, tol = 0.9, 1e-3
    arms = MDPArms(np.eye(2)[None, None], np.array([[[0.0], [1.0]]]), [0.0])
    expected = next(k for k in range(1, 1000) if beta ** (k + 1) / (2 * (1 - beta)) <= tol)
    res = value_iteration(arms, discount=beta, tol=tol)
    assert res.iterations == expected == 80
    np.testing.assert_allclose(res.values[0, 0], [0.0, 1.0 / (1.0 - beta)], atol=tol)


def test_value_iteration_stops_at_the_rounding_floor_of_a_periodic_chain():
    """A period-2 chain at β = 0.99: the span of the differences settled at rounding's floor
    above the stopping threshold, so value iteration ran its 100 000 sweeps and said it had not
    converged, with exact values (a values review). It now stops when the span stops
    shrinking and the policy step certifies the result."""
    import warnings

    T = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
    arms = MDPArms(T, np.array([[[10.0], [0.0]]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = value_iteration(arms, discount=0.99)
    assert res.converged and res.iterations < 10_000
    exact = np.linalg.solve(np.eye(2) - 0.99 * T[0, 0], [10.0, 0.0])
    np.testing.assert_allclose(res.values[0, 0], exact, rtol=0, atol=1e-9)


def test_a_price_sweep_past_float64_names_the_price():
    """price_sweep reports as the solve_pbvi calls it stands for: it named solve_pbvi.prices,
    a parameter solve_pbvi does not have (a diff review)."""
    from rmab.values.pbvi import price_sweep

    arm = POMDPArms(np.repeat(CHAIN, 2, axis=1), np.ones((1, 2, 2, 1)), np.zeros((1, 2, 2)),
                    [0.0, 1.0])
    with pytest.raises(InvalidParameterError, match=r"solve_pbvi\.price: must keep"):
        price_sweep(arm, [0.0, 1e308], discount=0.5, tol=1e-3, initial_belief=[0.5, 0.5],
                    grid=None, seed=np.random.default_rng(0))


@pytest.mark.parametrize("fn", [value_iteration, policy_iteration])
@pytest.mark.parametrize("reward, cost, price, beta, want", [
    # 2 F = 2 (S + 2) ε max(|r|, λ c) / (1 - β)²; S = 2 states, ε = 2⁻⁵²:
    (1e6, 0.0, 0.0, 0.95, 2 * 4 * 2.0**-52 * 1e6 / 0.05**2),       # 7.105e-7
    (1e3, 0.0, 0.0, 0.999, 2 * 4 * 2.0**-52 * 1e3 / 0.001**2),     # 1.776e-6
    (1.0, 1.0, 1e6, 0.95, 2 * 4 * 2.0**-52 * 1e6 / 0.05**2),       # the charge λ c sets it
])
def test_the_raised_tolerance_is_twice_the_documented_rounding(fn, reward, cost, price, beta,
                                                               want):
    """ExactResult.tol is max(tol, 2 F) with F = (S + 2) ε M' / (1 - β), M' = max(|r|, λ c) /
    (1 - β) (exact.py's docstring), worked by hand: the suite only bounded it loosely, so a
    floor (1 - β) times too small, half as large, or without the charge λ c passed."""
    arms = MDPArms(np.concatenate([CHAIN, CHAIN], axis=1),
                   np.array([[[0.0, 0.0], [reward, reward]]]), [0.0, cost])
    res = fn(arms, prices=price, discount=beta, tol=1e-15)
    assert res.tol == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("solve", [value_iteration, policy_iteration], ids=["vi", "pi"])
def test_finite_horizon_gives_a_gain_within_twice_tol_to_the_cheaper_action(solve):
    """The other side of the band: action 1 pays 1.5e-10 more per period, within 2 tol +
    1e-12 max(1, |V|) (2.015e-10 at period 0, where V = 1.5), so every period keeps the free
    action 0 and spends nothing; a band of tol alone (1.015e-10) took action 1."""
    horizon, g = 3, 1.5e-10
    arms = MDPArms(np.array([[[[1.0]], [[1.0]]]]), np.array([[[0.5, 0.5 + g]]]), [0.0, 1.0])
    res = solve(arms, discount=1.0, horizon=horizon, tol=1e-10, return_table=True)
    assert (res.period_policy == 0).all()
    assert res.resource[0, 0, 0] == 0.0
