"""Finite-horizon PBVI and the finite-horizon QMDP/FIB bounds: exact against the enumeration
of observation histories when the point set holds every reachable belief, a lower bound
otherwise, equal to finite-horizon value iteration when signals reveal the state, the upper
bounds above the exact value, error paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pbvi import exact_finite_value, tiger_arms

from rmab.errors import InvalidParameterError
from rmab.models import POMDPArms, health_intervention, random_mdp_arms, random_pomdp_arms
from rmab.values import fib_bound, qmdp_bound, sawtooth_bound, value_iteration
from rmab.values.finite_pbvi import FiniteAlphaVectors, FinitePBVIResult, solve_finite_pbvi


def reachable(t, o, b0, depth):
    """b0 and every belief reachable from it in at most ``depth`` steps (with probability
    > 0), by enumeration of the action/signal tree."""
    level, out = b0[None], [b0[None]]
    for _ in range(depth):
        joint = np.einsum("ls,ast,ato->laot", level, t, o)
        pr = joint.sum(axis=3)
        nxt = (joint / np.where(pr > 0, pr, 1.0)[..., None]).reshape(-1, t.shape[1])
        level = nxt[pr.reshape(-1) > 0]
        out.append(level)
    return np.vstack(out)


def _priced(arms, price):
    return arms.rewards[0] - price * arms.costs[0][None, :]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_states=st.integers(2, 3), n_actions=st.integers(2, 3),
       n_obs=st.integers(2, 3), horizon=st.integers(1, 4), price=st.sampled_from([0.0, 0.3]),
       discount=st.sampled_from([1.0, 0.9]))
def test_exact_with_every_reachable_belief_in_the_set(seed, n_states, n_actions, n_obs,
                                                      horizon, price, discount):
    arms = random_pomdp_arms(1, n_states, n_actions, n_obs, seed=seed)
    t, o = arms.transitions[0], arms.observations[0]
    b0 = np.random.default_rng(seed).dirichlet(np.ones(n_states))
    res = solve_finite_pbvi(arms, horizon=horizon, price=price, discount=discount,
                            initial_belief=b0, points=reachable(t, o, b0, horizon - 1), seed=0)
    want = exact_finite_value(t, o, _priced(arms, price), discount, b0, horizon)
    assert res[0].value(b0) == pytest.approx(want, abs=1e-9)
    assert res.q(b0[None])[0].max() == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("discount", [1.0, 0.8])
def test_a_lower_bound_at_every_period_and_belief(seed, discount):
    """On the default (sampled) point set: below the exact value with ``H - t`` periods
    left at random beliefs, for every ``t``; at or below max q (the backup) everywhere."""
    horizon, price = 5, 0.2
    arms = random_pomdp_arms(1, 3, 3, 2, seed=seed)
    t, o = arms.transitions[0], arms.observations[0]
    res = solve_finite_pbvi(arms, horizon=horizon, price=price, discount=discount,
                            n_beliefs=8, seed=seed)
    av = res[0]
    beliefs = np.random.default_rng(seed).dirichlet(np.ones(3), 4)
    for period in range(horizon):
        lower = av.value(beliefs, t=period)
        for b, v in zip(beliefs, lower):
            want = exact_finite_value(t, o, _priced(arms, price), discount, b, horizon - period)
            assert v <= want + 1e-9
        assert (av.q(beliefs, t=period).max(axis=1) >= lower - 1e-9).all()
    # on the point set the backup is the vector: max q equals the value there
    np.testing.assert_allclose(av.q(av.beliefs, t=1).max(axis=1), av.value(av.beliefs, t=1),
                               atol=1e-9)


def test_tight_at_longer_horizons_on_tiger_and_health_arms():
    """Tiger over 8 undiscounted periods (6^7 histories) and health arms over 6, priced:
    within 1e-6 of the enumeration on the default sampled set plus a grid."""
    arms = tiger_arms()
    b0 = np.array([0.5, 0.5])
    res = solve_finite_pbvi(arms, horizon=8, discount=1.0, initial_belief=b0, grid=100, seed=0)
    want = exact_finite_value(arms.transitions[0], arms.observations[0], arms.rewards[0], 1.0,
                              b0, 8)
    assert want - 1e-6 <= res[0].value(b0) <= want + 1e-9
    health = health_intervention(3, discount=1.0, horizon=6, seed=0)
    res = solve_finite_pbvi(health.arms, horizon=6, price=0.3, discount=1.0,
                            initial_belief=health.initial_belief, grid=20, seed=0)
    for n in range(3):
        one = health.arms.select([n])
        b = health.initial_belief[n]
        want = exact_finite_value(one.transitions[0], one.observations[0], _priced(one, 0.3),
                                  1.0, b, 6)
        assert want - 1e-6 <= res[n].value(b) <= want + 1e-9


@pytest.mark.parametrize("discount", [1.0, 0.9])
def test_revealing_signals_match_finite_value_iteration(discount):
    horizon, price = 6, 0.25
    mdp = random_mdp_arms(3, 3, 2, seed=4)
    eye = np.broadcast_to(np.eye(3), (3, 2, 3, 3))
    arms = POMDPArms(mdp.transitions, eye, mdp.rewards, mdp.costs)
    exact = value_iteration(mdp, prices=price, discount=discount, horizon=horizon,
                            return_table=True)
    res = solve_finite_pbvi(arms, horizon=horizon, price=price, discount=discount, grid=1,
                            seed=0)
    assert isinstance(res, FinitePBVIResult) and res.horizon == horizon
    corners = np.eye(3)
    b0 = np.full(3, 1 / 3)
    for n in range(3):
        av = res[n]
        assert isinstance(av, FiniteAlphaVectors)
        for period in range(horizon):
            np.testing.assert_allclose(av.value(corners, t=period),
                                       exact.period_values[period, 0, n], atol=1e-9)
        np.testing.assert_allclose(av.q(corners), exact.q[0, n], atol=1e-9)
        np.testing.assert_allclose(av.resource(corners), exact.resource[0, n], atol=1e-9)
        # acting before seeing the state, then seeing it: max_a b0 · Q_0(., a)
        assert av.value(b0) == pytest.approx((b0 @ exact.q[0, n]).max(), abs=1e-9)
        # revealing signals: FIB is exact too
        up = fib_bound(arms, price=price, discount=discount, horizon=horizon)
        assert up.value(b0, arm=n) == pytest.approx(av.value(b0), abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_states=st.integers(2, 3), horizon=st.integers(1, 5),
       discount=st.sampled_from([1.0, 0.9]))
def test_finite_fib_and_qmdp_lie_above_the_exact_value(seed, n_states, horizon, discount):
    arms = random_pomdp_arms(1, n_states, 2, 2, seed=seed)
    b0 = np.random.default_rng(seed).dirichlet(np.ones(n_states))
    want = exact_finite_value(arms.transitions[0], arms.observations[0], _priced(arms, 0.3),
                              discount, b0, horizon)
    fib = fib_bound(arms, price=0.3, discount=discount, horizon=horizon)
    qmdp = qmdp_bound(arms, price=0.3, discount=discount, horizon=horizon)
    assert fib.horizon == qmdp.horizon == horizon and fib.converged
    assert fib.value(b0, arm=0) >= want - 1e-9
    assert qmdp.value(b0, arm=0) >= fib.value(b0, arm=0) - 1e-9
    lower = solve_finite_pbvi(arms, horizon=horizon, price=0.3, discount=discount,
                              initial_belief=b0, seed=0)[0].value(b0)
    assert lower <= want + 1e-9
    pts = np.vstack([b0, np.full(n_states, 1 / n_states)])
    saw = sawtooth_bound(fib, pts)
    assert saw.value(b0) >= want - 1e-9
    backed = sawtooth_bound(fib, pts, backups=1)            # H periods backward from 0
    assert backed.sweeps == horizon
    assert want - 1e-9 <= backed.value(b0) <= saw.value(b0) + 1e-12


def test_backward_sawtooth_closes_tiger_over_eight_periods():
    """FIB alone leaves Tiger's 8-period value (7.10 undiscounted) 29 above (36.0); one
    sawtooth per period on the PBVI points meets the PBVI value."""
    arms = tiger_arms()
    b0 = np.array([0.5, 0.5])
    lower = solve_finite_pbvi(arms, horizon=8, discount=1.0, initial_belief=b0, seed=0)[0]
    want = exact_finite_value(arms.transitions[0], arms.observations[0], arms.rewards[0], 1.0,
                              b0, 8)
    fib = fib_bound(arms, discount=1.0, horizon=8)
    assert fib.value(b0, arm=0) == pytest.approx(36.0, abs=0.05)
    upper = sawtooth_bound(fib, lower.beliefs, backups=1)
    assert upper.value(b0) == pytest.approx(want, abs=1e-9)
    assert lower.value(b0) == pytest.approx(want, abs=1e-9)


def test_tiger_three_periods():
    """Tiger, three periods undiscounted: listen twice, then open the door the two
    concordant listenings point away from (2.72 by enumeration)."""
    arms = tiger_arms()
    res = solve_finite_pbvi(arms, horizon=3, discount=1.0, initial_belief=[0.5, 0.5],
                            points=reachable(arms.transitions[0], arms.observations[0],
                                             np.array([0.5, 0.5]), 2))
    want = exact_finite_value(arms.transitions[0], arms.observations[0], arms.rewards[0], 1.0,
                              np.array([0.5, 0.5]), 3)
    assert res[0].value([0.5, 0.5]) == pytest.approx(want, abs=1e-9)
    assert res[0].action([0.5, 0.5]) == 0 and res[0].action([0.5, 0.5], t=2) == 0
    assert res[0].action([0.97, 0.03], t=2) == 2          # last period: open if sure enough


def test_repricing_and_shared_solves():
    one = random_pomdp_arms(2, 2, 3, 2, seed=1)
    arms = POMDPArms(one.transitions[[0, 1, 0]], one.observations[[0, 1, 0]],
                     one.rewards[[0, 1, 0]], one.costs[[0, 1, 0]])
    hi = solve_finite_pbvi(arms, horizon=4, price=0.5, grid=10, seed=0)
    lo = solve_finite_pbvi(arms, horizon=4, price=0.1, grid=10, seed=0)
    assert len(hi.solves) == 2 and hi[2] is hi[0] and hi.converged and hi.tol == 0.0
    b = np.full((3, 2), 0.5)
    # the price-0.5 plans re-priced to 0.1 are plans at 0.1: below the 0.1 solve (its lower
    # envelope holds the best plan at each point), and exactly alpha + 0.4 kappa
    for n in range(3):
        rep = hi[n].repriced(0.1)
        np.testing.assert_allclose(rep, hi[n].alphas + 0.4 * hi[n].costs)
        grid = hi[n].beliefs
        assert ((grid @ rep.T).max(axis=1) <= lo[n].value(grid) + 1e-9).all()
    assert hi.values(b).shape == (3,) and hi.q(b, t=3).shape == (3, 3)
    assert hi.actions(b, t=1).dtype == np.int64
    np.testing.assert_allclose(hi.resource(b, t=3), arms.costs[np.arange(3),
                                                                hi.actions(b, t=3)])


@pytest.mark.parametrize("kwargs, match", [
    (dict(horizon=0), r"solve_finite_pbvi\.horizon: must be >= 1; got 0"),
    (dict(horizon=2.5), r"solve_finite_pbvi\.horizon: must be an integer"),
    (dict(horizon=None), r"solve_finite_pbvi\.horizon: must be an integer; got None"),
    (dict(discount=1.5), r"solve_finite_pbvi\.discount: must be <= 1.0"),
    (dict(discount=0.0), r"solve_finite_pbvi\.discount: must be > 0.0"),
    (dict(arms="x"), r"solve_finite_pbvi\.arms: must be POMDPArms; got str"),
    (dict(points=[[0.5, 0.6]]), r"solve_finite_pbvi\.points: rows must sum to 1"),
    (dict(points=np.ones((2, 3)) / 3), r"solve_finite_pbvi\.points: must have shape"),
    (dict(initial_belief=np.full((3, 2), 0.5)),
     r"solve_finite_pbvi\.initial_belief: must have shape"),
    (dict(grid=0), r"solve_finite_pbvi\.grid: must be >= 1"),
    (dict(grid=20_000),              # was named simplex_grid.resolution, not the caller's grid
     r"^solve_finite_pbvi\.grid: must give at most 20000 points; got 20001 for 2 states$"),
    (dict(n_beliefs=0), r"solve_finite_pbvi\.n_beliefs: must be >= 1"),
    (dict(seed=-1), r"solve_finite_pbvi\.seed: must be a non-negative integer"),
])
def test_solve_finite_pbvi_error_paths(kwargs, match):
    args = dict(arms=random_pomdp_arms(2, 2, 2, 2, seed=0), horizon=3)
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        solve_finite_pbvi(args.pop("arms"), **args)


def test_query_and_bound_error_paths():
    arms = random_pomdp_arms(2, 2, 2, 2, seed=0)
    res = solve_finite_pbvi(arms, horizon=3, seed=0)
    with pytest.raises(InvalidParameterError, match=r"FiniteAlphaVectors\.t: must be <= 2; got 3"):
        res[0].value([0.5, 0.5], t=3)
    with pytest.raises(InvalidParameterError, match=r"FiniteAlphaVectors\.t: must be >= 0"):
        res[0].q([0.5, 0.5], t=-1)
    with pytest.raises(InvalidParameterError, match=r"FinitePBVIResult\.t: must be <= 2; got 5"):
        res.q(np.full((2, 2), 0.5), t=5)
    with pytest.raises(InvalidParameterError, match=r"^FinitePBVIResult\.beliefs: must have "
                                                    r"shape \(n_arms=2, n_states=2\)"):
        res.values(np.full((3, 2), 0.5))            # it was named PBVIResult (a fuzz review)
    with pytest.raises(InvalidParameterError, match=r"FiniteAlphaVectors\.q\.b: rows must sum"):
        res[0].q([0.2, 0.2])
    with pytest.raises(InvalidParameterError, match=r"fib_bound\.horizon: must be >= 1; got 0"):
        fib_bound(arms, horizon=0)
    with pytest.raises(InvalidParameterError, match=r"fib_bound\.discount: must be < 1.0"):
        fib_bound(arms, discount=1.0)               # an infinite horizon needs β < 1
    with pytest.raises(InvalidParameterError, match=r"qmdp_bound\.discount: must be <= 1.0"):
        qmdp_bound(arms, discount=1.5, horizon=3)


def test_a_finite_solve_is_no_warm_start_for_a_discounted_one():
    """A period's vectors bound a value of so many periods, not V*: as a warm start they put
    PBVI's "lower bound" at -2.88 above the FIB upper bound -27.16 (a values review)."""
    from rmab.values import solve_pbvi

    arms = random_pomdp_arms(1, 2, 2, 2, seed=3)
    fin = solve_finite_pbvi(arms, horizon=2, discount=0.95, seed=0)
    assert fin.iterations.tolist() == [2]
    for warm in (fin, fin[0], fin[0].periods[0], fin[0].periods[1]):
        with pytest.raises(InvalidParameterError, match=r"solve_pbvi\.warm_start: must come "
                                                        r"from a discounted solve"):
            solve_pbvi(arms, discount=0.95, warm_start=warm, seed=0)
    assert [p.periods_left for p in fin[0].periods] == [2, 1]


def test_first_plans_count_each_active_action_s_discounted_uses():
    """A fully observed arm whose action 2 pays 100 more: every period-0 plan takes action 2
    in all H periods, so its discounted uses are 0 for action 1 and Σ_{t<H} β^t =
    (1 - β^H) / (1 - β) for action 2 in every state. An indicator cost of 2 instead of 1
    doubled the counts the limit prices are built from."""
    from rmab.values.finite_pbvi import first_plans_with_uses

    beta, horizon = 0.9, 4
    m = random_mdp_arms(1, 2, 3, seed=1)
    trans = np.ascontiguousarray(m.transitions[0])
    obs = np.ascontiguousarray(np.broadcast_to(np.eye(2), (3, 2, 2)))
    r = np.array(m.rewards[0])
    r[:, 2] += 100.0
    beliefs = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    alphas, uses, actions = first_plans_with_uses(trans, obs, r, beta, beliefs, horizon)
    assert (actions == 2).all() and uses.shape == (len(alphas), 2, 2)
    np.testing.assert_allclose(uses[:, :, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(uses[:, :, 1], (1 - beta ** horizon) / (1 - beta), rtol=1e-12)


@pytest.mark.parametrize("gain, action", [(5e-12, 1), (5e-13, 0)])
def test_backups_break_ties_within_1e12_relative_to_the_cheaper_action(gain, action):
    """One state, one period: action 1 pays 1 + gain against action 0's 1. A gain of 5e-12
    (relative) lies above the backup's tie band of 1e-12 |best| and is taken, with its value;
    5e-13 lies within it and goes to the cheaper action 0 (a band of 1e-11 gave action 0 for
    both)."""
    arms = POMDPArms(np.ones((1, 2, 1, 1)), np.ones((1, 2, 1, 1)),
                     np.array([[[1.0, 1.0 + gain]]]), [0.0, 1.0])
    res = solve_finite_pbvi(arms, horizon=1, seed=0)
    assert res[0].action([1.0]) == action
    assert res[0].value([1.0]) == (1.0 + gain if action else 1.0)
    assert res[0].resource([1.0]) == action


def test_finite_sawtooth_backups_keep_the_values_given():
    """sawtooth_bound(values=...) keeps the smaller of the upper values given and its own, with
    backups over a finite horizon too: given Tiger's exact three-period values (enumeration),
    the points keep exactly those, where the backed-up sawtooth alone lies above."""
    arms = tiger_arms()
    t, o, r = arms.transitions[0], arms.observations[0], arms.rewards[0]
    pts = np.array([[0.5, 0.5], [0.85, 0.15], [0.3, 0.7]])
    exact = np.array([exact_finite_value(t, o, r, 1.0, b, 3) for b in pts])
    fib = fib_bound(arms, discount=1.0, horizon=3)
    alone = sawtooth_bound(fib, pts, backups=1)
    assert (alone.values > exact + 1e-6).any()
    given = sawtooth_bound(fib, pts, values=exact, backups=1)
    np.testing.assert_array_equal(given.values, exact)
