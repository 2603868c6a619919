"""Upper bounds: above the exact value by history enumeration (hypothesis), FIB <= QMDP (up to
FIB's tolerance), sawtooth backups tighten and stay valid, Tiger interval, error paths."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.errors import ConvergenceWarning, InvalidParameterError
from rmab.models import random_mdp_arms, random_pomdp_arms
from rmab.values.bounds import SawtoothBound, fib_bound, qmdp_bound, sawtooth_bound
from rmab.values.pbvi import simplex_grid, solve_pbvi

from test_pbvi import SARSOP_HIGH, SARSOP_LOW, TIGER_VALUE, exact_finite_value, tiger_arms


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_states=st.integers(2, 3), n_actions=st.integers(2, 3),
       n_obs=st.integers(2, 3), price=st.sampled_from([0.0, 0.3]))
def test_lower_exact_upper_sandwich(seed, n_states, n_actions, n_obs, price):
    """PBVI <= V* <= sawtooth <= FIB <= QMDP, with V* bracketed by the horizon-5 value plus
    the largest/smallest possible tail."""
    beta, horizon = 0.5, 5
    arms = random_pomdp_arms(1, n_states, n_actions, n_obs, seed=seed)
    b0 = np.random.default_rng(seed).dirichlet(np.ones(n_states))
    r = arms.rewards[0] - price * arms.costs[0][None, :]
    v_h = exact_finite_value(arms.transitions[0], arms.observations[0], r, beta, b0, horizon)
    tail = beta ** horizon / (1 - beta)
    v_low, v_high = v_h + tail * r.min(), v_h + tail * r.max()
    q = qmdp_bound(arms, price=price, discount=beta)
    f = fib_bound(arms, price=price, discount=beta)
    lower = solve_pbvi(arms, price=price, discount=beta, tol=1e-6, initial_belief=b0,
                       grid=6, seed=seed)
    saw = sawtooth_bound(f, lower[0].beliefs, backups=200)
    assert lower[0].value(b0) <= v_high + 1e-9
    assert v_low <= saw.value(b0) + 1e-9
    assert saw.value(b0) <= f.value(b0, arm=0) + 1e-9
    assert f.value(b0, arm=0) <= q.value(b0, arm=0) + 1e-6   # FIB stops within its tol
    assert lower[0].value(b0) <= saw.value(b0) + 1e-9


def test_tiger_interval_lies_in_sarsop_interval():
    """At tol 1e-5, PBVI's lower value and the sawtooth upper bound on its points satisfy
    19.3711 <= lower <= upper <= 19.3721, SARSOP's interval (spec, "Reference values")."""
    arms = tiger_arms()
    lower = solve_pbvi(arms, tol=1e-5, seed=0)
    f = fib_bound(arms)
    saw = sawtooth_bound(f, lower[0].beliefs, backups=2000, tol=1e-5)
    u = np.array([0.5, 0.5])
    lo, hi = lower[0].value(u), saw.value(u)
    assert SARSOP_LOW <= lo <= hi <= SARSOP_HIGH
    # QMDP and FIB are valid but loose for Tiger (listening has no value to them)
    assert q_loose(arms) >= f.value(u, arm=0) > hi


def q_loose(arms):
    return qmdp_bound(arms).value([0.5, 0.5], arm=0)


def test_fib_is_below_qmdp_up_to_its_tolerance():
    """docs/values.md: FIB <= QMDP at their fixed points, not as computed. Fully observed arms
    share the fixed point, and FIB, stopped within tol = 1e-6 above it, lies above QMDP."""
    from rmab.models import POMDPArms
    mdp = random_mdp_arms(3, 3, 2, seed=0)
    arms = POMDPArms(mdp.transitions, np.broadcast_to(np.eye(3), (3, 2, 3, 3)), mdp.rewards,
                     mdp.costs)
    f, q = fib_bound(arms).vectors, qmdp_bound(arms).vectors
    assert (f > q).any() and (f <= q + 1e-6).all()


def test_bounds_on_fully_observed_arms_equal_the_mdp_values():
    """With identity signals FIB is exact at the corners; QMDP is exact there too."""
    from rmab.models import POMDPArms
    from rmab.values.exact import value_iteration
    mdp = random_mdp_arms(2, 3, 2, seed=1)
    arms = POMDPArms(mdp.transitions, np.broadcast_to(np.eye(3), (2, 2, 3, 3)), mdp.rewards,
                     mdp.costs)
    exact = value_iteration(mdp, prices=0.1, discount=0.9)
    f = fib_bound(arms, price=0.1, discount=0.9, tol=1e-9)
    q = qmdp_bound(arms, price=0.1, discount=0.9)
    corners = np.eye(3)
    for n in range(2):
        np.testing.assert_allclose(f.value(corners, arm=n), exact.values[0, n], atol=1e-8)
        np.testing.assert_allclose(q.value(corners, arm=n), exact.values[0, n], atol=1e-8)
    both = q.value(np.full((2, 3), 1 / 3))
    assert both.shape == (2,) and q.q(np.full((2, 3), 1 / 3)).shape == (2, 2)


def test_sawtooth_interpolates_and_backups_tighten():
    arms = random_pomdp_arms(1, 2, 2, 2, seed=3)
    f = fib_bound(arms, discount=0.9)
    pts = simplex_grid(2, 4)[1:-1]
    loose = sawtooth_bound(f, pts)
    tight = sawtooth_bound(f, pts, backups=500)
    grid = simplex_grid(2, 50)
    assert isinstance(tight, SawtoothBound) and tight.sweeps >= 1
    assert (tight.value(grid) <= loose.value(grid) + 1e-12).all()
    np.testing.assert_allclose(loose.value(pts), f.value(pts, arm=0), atol=1e-12)
    # a point's own value is reproduced exactly
    given_v = loose.values - 0.01
    s = sawtooth_bound(f, pts, given_v)
    np.testing.assert_allclose(s.value(pts), given_v, atol=1e-12)
    lower = solve_pbvi(arms, discount=0.9, tol=1e-7, grid=50, seed=0)
    assert (lower[0].value(grid) <= tight.value(grid) + 1e-9).all()


def test_fib_max_iter_warns():
    with pytest.warns(ConvergenceWarning, match="fib_bound: stopped after max_iter=2"):
        f = fib_bound(tiger_arms(), max_iter=2)
    assert not f.converged and f.value([0.5, 0.5], arm=0) >= TIGER_VALUE


@pytest.mark.parametrize("fn", [qmdp_bound, fib_bound])
@pytest.mark.parametrize("kwargs, match", [
    (dict(arms=1), r"arms: must be POMDPArms; got int"),
    (dict(discount=1.0), r"discount: must be < 1.0"),
    (dict(price="a"), r"price: must be a number"),
    (dict(tol=0.0), r"tol: must be > 0.0"),
    (dict(max_iter=0), r"max_iter: must be >= 1"),
])
def test_bound_error_paths(fn, kwargs, match):
    args = dict(arms=random_pomdp_arms(1, 2, 2, 2, seed=0))
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=fn.__name__ + r"\." + match):
        fn(args.pop("arms"), **args)


def test_sawtooth_and_query_error_paths():
    arms = random_pomdp_arms(2, 2, 2, 2, seed=0)
    f = fib_bound(arms)
    with pytest.raises(InvalidParameterError, match=r"sawtooth_bound\.upper: must be an Upper"):
        sawtooth_bound("x", [[0.5, 0.5]])
    with pytest.raises(InvalidParameterError, match=r"sawtooth_bound\.arm: must be <= 1"):
        sawtooth_bound(f, [[0.5, 0.5]], arm=2)
    with pytest.raises(InvalidParameterError, match=r"sawtooth_bound\.values: must have shape "
                                                    r"\(1,\), a value for each belief; got "
                                                    r"shape \(2,\)"):        # '1 finite numbers'
        sawtooth_bound(f, [[0.5, 0.5]], [1.0, 2.0])
    with pytest.raises(InvalidParameterError, match=r"sawtooth_bound\.backups: must be >= 0"):
        sawtooth_bound(f, [[0.5, 0.5]], backups=-1)
    with pytest.raises(InvalidParameterError, match=r"sawtooth_bound\.beliefs: rows must sum"):
        sawtooth_bound(f, [[0.5, 0.6]])
    with pytest.raises(InvalidParameterError, match=r"UpperBound\.beliefs: must have shape"):
        f.value(np.full((3, 2), 0.5))
    with pytest.raises(InvalidParameterError, match=r"UpperBound\.arm: must be <= 1"):
        f.value([0.5, 0.5], arm=5)
    saw = sawtooth_bound(f, [[0.5, 0.5]])
    with pytest.raises(InvalidParameterError, match=r"SawtoothBound\.b: must have shape"):
        saw.value([1.0, 0.0, 0.0])
    with pytest.raises(InvalidParameterError, match=r"UpperBound\.beliefs: must have shape"):
        f.value([0.5, 0.5])                         # two arms: which one is meant?
    # one arm: a belief (S,) as AlphaVectors.value takes it (a walkthrough's read_pomdp model)
    one = fib_bound(arms.select([1]))
    assert one.value([0.3, 0.7]) == one.value([0.3, 0.7], arm=0)
    with pytest.raises(InvalidParameterError, match=r"UpperBound\.beliefs: must be an array of "
                                                    r"numbers"):
        one.value([[0.5, 0.5], [1.0]])              # ragged: numpy's ValueError (a review)
    lower = solve_pbvi(arms.select([1]), seed=0)     # and PBVI's stacked result alike
    assert lower.values([0.3, 0.7]) == lower[0].value([0.3, 0.7]) <= one.value([0.3, 0.7])
    np.testing.assert_allclose(lower.q([0.3, 0.7]), lower[0].q([0.3, 0.7]), rtol=0, atol=1e-12)
    with pytest.raises(InvalidParameterError, match=r"PBVIResult\.beliefs: must have shape"):
        solve_pbvi(arms, seed=0).values([0.3, 0.7])
    assert one.value([0.3, 0.7]) == pytest.approx(f.value([0.3, 0.7], arm=1), abs=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_qmdp_stays_an_upper_bound_when_stopped_early(seed, max_iter):
    """With max_iter too small, the QMDP vectors once fell below V* (value iteration starts
    from below); the Bellman-residual correction keeps them above. (Since the improvement
    after the sweeps certifies, most such solves converge: both paths are checked.)"""
    from rmab.models import POMDPArms
    from rmab.values.exact import value_iteration

    base = random_pomdp_arms(3, 3, 2, 2, seed=seed)
    rewards = np.random.default_rng(seed).normal(size=(3, 3, 2)) * 3
    full = POMDPArms(base.transitions, np.broadcast_to(np.eye(3), (3, 2, 3, 3)), rewards,
                     base.costs)                       # fully observed: QMDP's V is V*
    exact = value_iteration(full, discount=0.9).values[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bound = qmdp_bound(full, discount=0.9, max_iter=max_iter)
    for n in range(3):
        assert np.all(bound.value(np.eye(3), arm=n) >= exact[n] - 1e-9)


def test_qmdp_stopped_unconverged_stays_an_upper_bound():
    """One sweep and one evaluation leave these policies unsettled: the residual correction."""
    from rmab.models import POMDPArms
    from rmab.values.exact import value_iteration

    base = random_mdp_arms(5, 6, 3, seed=4)
    full = POMDPArms(base.transitions, np.broadcast_to(np.eye(6), (5, 3, 6, 6)), base.rewards,
                     base.costs)
    with pytest.warns(ConvergenceWarning):
        bound = qmdp_bound(full, discount=0.999, max_iter=1)
    assert not bound.converged
    exact = value_iteration(full, discount=0.999).values[0]
    for n in range(5):
        assert np.all(bound.value(np.eye(6), arm=n) >= exact[n] - 1e-9)


def test_hostile_inputs_give_typed_errors():
    arms = random_pomdp_arms(2, 2, 2, 2, seed=0)
    upper = fib_bound(arms, discount=0.9)
    with pytest.raises(InvalidParameterError, match=r"UpperBound\.beliefs: must be an array"):
        upper.value([["a", "b"], ["c", "d"]])
    with pytest.raises(InvalidParameterError, match=r"UpperBound\.beliefs: must be an array"):
        upper.value([[1.0, 0.0], [1.0]])             # ragged: was numpy's ValueError
    with pytest.raises(InvalidParameterError, match=r"sawtooth_bound\.values: must be"):
        sawtooth_bound(upper, [[0.5, 0.5]], values=["a"])


def test_a_bad_price_is_not_called_an_arm():
    from rmab.values.exact import value_iteration

    with pytest.raises(InvalidParameterError) as info:
        value_iteration(random_mdp_arms(2, 2, 2, seed=0), prices=[0.0, np.inf])
    assert "must be finite; got inf at index (1,)" in str(info.value)
    assert "arm" not in str(info.value)


def test_one_default_discount_with_a_horizon():
    """fib_bound(horizon=10) discounted by 0.95 while solve_finite_pbvi(horizon=10) did not:
    the default 'upper bound' lay below the default 'lower bound' (a practitioner's review).
    With a horizon every value function now takes the plain total by default."""
    from rmab import health_intervention
    from rmab.values import fib_bound, qmdp_bound, solve_finite_pbvi, value_iteration

    arms = health_intervention(2, seed=0).arms
    b = np.full((2, 2), 0.5)
    lower = solve_finite_pbvi(arms, horizon=10, seed=0).values(b)
    for bound in (fib_bound, qmdp_bound):
        upper = bound(arms, horizon=10).value(b)
        assert (upper >= lower - 1e-9).all()
        np.testing.assert_array_equal(upper, bound(arms, horizon=10, discount=1.0).value(b))
    assert value_iteration(arms, horizon=3).discount == 1.0
    assert value_iteration(arms).discount == 0.95


def test_the_sawtooth_is_capped_by_the_bound_it_was_built_from():
    """Between its points the sawtooth alone lay above the FIB it started from: on a fully
    observed arm with the corners for points, 6.2468 against the exact 6.12125 (a review)."""
    from rmab.models import POMDPArms

    m = random_mdp_arms(1, 2, 2, seed=3)
    arms = POMDPArms(m.transitions, np.broadcast_to(np.eye(2), (1, 2, 2, 2)), m.rewards,
                     m.costs)
    fib = fib_bound(arms, discount=0.9)
    saw = sawtooth_bound(fib, np.eye(2), backups=100)
    b = np.array([[0.3, 0.7], [0.5, 0.5], [0.9, 0.1]])
    exact = qmdp_bound(arms, discount=0.9).value(b, arm=0)   # exact: the next state is seen
    np.testing.assert_allclose(saw.value(b), exact, atol=1e-5)
    assert (saw.value(b) <= fib.value(b, arm=0) + 1e-12).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 3), st.integers(0, 30))
def test_the_capped_sawtooth_stays_between_pbvi_and_the_fib(seed, n_states, sweeps):
    arms = random_pomdp_arms(1, n_states, 2, 2, seed=seed)
    lower = solve_pbvi(arms, discount=0.9, seed=seed)[0]
    fib = fib_bound(arms, discount=0.9)
    saw = sawtooth_bound(fib, lower.beliefs, backups=sweeps)
    b = np.random.default_rng(seed).dirichlet(np.ones(n_states), size=40)
    up = saw.value(b)
    assert (up <= fib.value(b, arm=0) + 1e-12).all()
    assert (up >= lower.value(b) - 1e-6).all()


def test_several_beliefs_of_one_arm_are_pointed_to_arm():
    """(500, S) beliefs of a one-arm bound were refused with only the (n_arms, n_states) shape
    (a walkthrough); the error says to pass arm=, which takes them."""
    arms = random_pomdp_arms(1, 3, 2, 2, seed=0)
    fib = fib_bound(arms, discount=0.9)
    b = np.full((5, 3), 1 / 3)
    with pytest.raises(InvalidParameterError, match=r"\(several beliefs of one arm: pass arm=\); "
                                                    r"got \(5, 3\)"):
        fib.value(b)
    assert fib.value(b, arm=0).shape == (5,)


def test_finite_horizon_sawtooth_bounds_the_enumerated_value():
    """A finite-horizon sawtooth runs H backups from U_H = 0: on a fully observed arm its
    corners are then the H-period MDP values (backward induction); on a POMDP it stays above
    the H-period value found by enumerating every history. H - 1 backups fell below both."""
    from rmab.models import POMDPArms
    from rmab.values.exact import value_iteration

    horizon = 4
    m = random_mdp_arms(1, 3, 2, seed=6)
    full = POMDPArms(m.transitions, np.broadcast_to(np.eye(3), (1, 2, 3, 3)), m.rewards,
                     m.costs)
    saw = sawtooth_bound(fib_bound(full, horizon=horizon), simplex_grid(3, 3), backups=1)
    exact = value_iteration(m, horizon=horizon).values[0, 0]
    np.testing.assert_allclose(saw.corners, exact, atol=1e-12)
    arms = random_pomdp_arms(1, 2, 2, 2, seed=8)
    saw = sawtooth_bound(fib_bound(arms, horizon=horizon), simplex_grid(2, 5), backups=1)
    beliefs = np.random.default_rng(0).dirichlet(np.ones(2), size=12)
    r = arms.rewards[0] - 0.0 * arms.costs[0][None, :]
    for b in beliefs:
        v = exact_finite_value(arms.transitions[0], arms.observations[0], r, 1.0, b, horizon)
        assert saw.value(b) >= v - 1e-9


def test_sawtooth_backups_stop_within_tol_of_the_fixed_point():
    """Started from a loose FIB (tol 1), backups of a fully observed arm at its corners are
    value iteration from above; stopping once no value moves by more than tol (1 - β) / β
    leaves the corners within tol of the MDP values (value iteration to 1e-12). A stopping
    rule ten times looser left them further off."""
    from rmab.models import POMDPArms
    from rmab.values.exact import value_iteration

    beta, tol = 0.9, 1e-4
    m = random_mdp_arms(1, 3, 2, seed=2)
    full = POMDPArms(m.transitions, np.broadcast_to(np.eye(3), (1, 2, 3, 3)), m.rewards,
                     m.costs)
    loose = fib_bound(full, discount=beta, tol=1.0)
    saw = sawtooth_bound(loose, np.full((1, 3), 1 / 3), backups=10_000, tol=tol)
    exact = value_iteration(m, discount=beta, tol=1e-12).values[0, 0]
    assert saw.sweeps < 10_000
    assert saw.gap_change <= tol * (1 - beta) / beta
    assert (saw.corners >= exact - 1e-9).all()
    assert np.abs(saw.corners - exact).max() <= tol


def test_qmdp_adds_the_tolerance_a_near_tie_leaves_below_the_optimum():
    """One state, action 1 paying g = tol (1 - β) / 2 more than action 0 per period: the
    solver keeps the cheaper action 0 (within its tie band) and its Q values fall β g / (1 - β)
    below the optimal ones; QMDP stays above V* = (1 + g) / (1 - β) only by adding the
    tolerance the values met."""
    from rmab.models import POMDPArms

    beta, tol = 0.9, 1e-6
    g = tol * (1 - beta) / 2
    arms = POMDPArms(np.ones((1, 2, 1, 1)), np.ones((1, 2, 1, 1)), np.array([[[1.0, 1.0 + g]]]),
                     [0.0, 0.0])
    upper = qmdp_bound(arms, discount=beta, tol=tol)
    assert upper.value(np.ones((1, 1)))[0] >= (1 + g) / (1 - beta)


@pytest.mark.parametrize("backups", [0, 3])
def test_sawtooth_values_given_above_the_bound_are_lowered_to_it(backups):
    """Upper values given at the points count only where below the bound's own
    (max_a vectors[a] · b, plain numpy): values 1 000 above it leave the bound's, with or
    without backups (which only lower them further)."""
    arms = tiger_arms()
    fib = fib_bound(arms, discount=0.95)
    pts = np.array([[0.5, 0.5], [0.85, 0.15], [0.3, 0.7]])
    own = (pts @ fib.vectors[0].T).max(axis=1)
    res = sawtooth_bound(fib, pts, values=own + 1000.0, backups=backups)
    assert (res.values <= own + 1e-12).all()
    if not backups:
        np.testing.assert_allclose(res.values, own, rtol=1e-12)
