"""Whittle indices of fully observed arms: closed form, bisection reference, markovianbandit,
Numba kernel vs numpy twin, indexability, error paths."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rmab.errors import IndexabilityWarning, InvalidParameterError
from rmab.models.arms import MDPArms
from rmab.models.generators import random_mdp_arms, random_pomdp_arms
from rmab.relax._whittle_kernels import homotopy_kernel, homotopy_numpy
from rmab.relax.whittle import _price_bracket, finite_whittle_indices, whittle_indices
from rmab.values.exact import policy_iteration


def two_state_closed_form(p0, p1, r, beta):
    """Index of each state of a binary two-state arm (cost of acting 1).

    At the index ``w`` of state ``s`` both actions are optimal in ``s``; with the other state
    ``t`` taking action ``b``, (V_s, V_t, w) solve three linear equations
    V_s = r(s,1) - w + β P1[s]·V,  V_s = r(s,0) + β P0[s]·V,  V_t = r(t,b) - w b + β Pb[t]·V.
    The right ``b`` is the one optimal in ``t`` at that ``w`` (checked)."""
    out = np.empty(2)
    p = (p0, p1)
    for s in (0, 1):
        t = 1 - s
        found = []
        for b in (0, 1):
            m = np.zeros((3, 3))
            rhs = np.zeros(3)
            m[0, :2] = -beta * p1[s, [s, t]]
            m[0, 0] += 1.0
            m[0, 2] = 1.0
            rhs[0] = r[s, 1]
            m[1, :2] = -beta * p0[s, [s, t]]
            m[1, 0] += 1.0
            rhs[1] = r[s, 0]
            m[2, :2] = -beta * p[b][t, [s, t]]
            m[2, 1] += 1.0
            m[2, 2] = b
            rhs[2] = r[t, b]
            vs, vt, w = np.linalg.solve(m, rhs)
            v = np.array([vs, vt]) if s == 0 else np.array([vt, vs])
            q = [r[t, a] - w * a + beta * p[a][t] @ v for a in (0, 1)]
            if q[b] >= q[1 - b] - 1e-9:
                found.append(w)
        assert found
        out[s] = found[0]
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000), st.sampled_from([0.5, 0.9, 0.99]))
def test_two_state_closed_form(seed, beta):
    arms = random_mdp_arms(1, 2, 2, seed=seed)
    res = whittle_indices(arms, discount=beta)
    if res.indexable[0]:
        expected = two_state_closed_form(arms.transitions[0, 0], arms.transitions[0, 1],
                                         arms.rewards[0], beta)
        np.testing.assert_allclose(res.binary[0], expected, rtol=1e-9, atol=1e-9)


def test_two_state_symmetric_example():
    # acting moves to the good state w.p. 1, resting stays put; reward 1 in state 1 only
    p0 = np.eye(2)
    p1 = np.array([[0.0, 1.0], [0.0, 1.0]])
    r = np.array([[0.0, 0.0], [1.0, 1.0]])
    beta = 0.9
    res = whittle_indices(MDPArms(np.stack([p0, p1])[None], r[None]), discount=beta)
    # state 0: act once (price w) then earn 1 forever from the next period, or rest and earn 0:
    # equal at w = β / (1 - β); state 1: acting changes nothing, so w = 0
    np.testing.assert_allclose(res.binary[0], two_state_closed_form(p0, p1, r, beta))
    np.testing.assert_allclose(res.binary[0], [beta / (1 - beta), 0.0], atol=1e-12)


@pytest.mark.parametrize("n_states,n_actions,beta", [(3, 2, 0.9), (5, 2, 0.95), (4, 3, 0.8)])
def test_bisection_reference_matches_homotopy(n_states, n_actions, beta):
    arms = random_mdp_arms(6, n_states, n_actions, seed=n_states * 10 + n_actions)
    fast = whittle_indices(arms, discount=beta)
    ref = whittle_indices(arms, discount=beta, method="bisection", tol=1e-11)
    ok = fast.indexable
    assert ok.sum() >= 3
    np.testing.assert_allclose(fast.indices[ok], ref.indices[ok], atol=1e-8)
    assert ref.method == "bisection" and ref.indexable.tolist() == ok.tolist()


def test_bisection_meets_its_tolerance_near_discount_one():
    """At β = 0.9999 the bisection read the action off a greedy policy that tied actions
    within 2 tol of value; the index of state 1 came out 248.299 against 248.850."""
    p = np.array([[[1, 0, 0], [0, 1, 0], [0, 1, 0]], [[0, 1, 0], [1, 0, 0], [0, 0, 1]]], float)
    r = np.array([[0.3421247828158679, 0.1604817747484818],
                  [0.31730062117034663, 0.9506407981887465],
                  [0.27746349793867775, 0.9730428331119245]])
    arms = MDPArms(p[None], r[None], [0, 1])
    fast = whittle_indices(arms, discount=0.9999)
    ref = whittle_indices(arms, discount=0.9999, method="bisection", tol=1e-9)
    np.testing.assert_allclose(ref.binary[0], fast.binary[0], atol=1e-6)
    np.testing.assert_allclose(fast.binary[0, 1], 248.850132, atol=1e-5)   # markovianbandit


def test_bisection_indices_do_not_depend_on_the_other_arms():
    """Bisection searched every arm over the stack's price bracket: an arm of rewards in
    ten-thousandths beside one in thousands met prices where its levels tie to float64 (here
    a level optimal at no price came out -1.1e11 price units, not -inf, and an index 0.5355
    units for 0.5229)."""
    base = random_mdp_arms(2, 3, 3, seed=3)
    costs = np.array([[0.0, 1.0, 2.0], [0.0, 100.0, 100.0]])
    arms = MDPArms(base.transitions, base.rewards * np.array([1e3, 1e-4])[:, None, None], costs)
    both = whittle_indices(arms, discount=0.99, method="bisection")
    fast = whittle_indices(arms, discount=0.99)
    for n in (1, 0):
        unit = np.ptp(arms.rewards[n]) / costs[n, 1]
        np.testing.assert_allclose(both.indices[n] / unit, fast.indices[n] / unit, atol=1e-8)
        alone = whittle_indices(arms.select([n]), discount=0.99, method="bisection")
        np.testing.assert_array_equal(both.indices[n], alone.indices[0])
    assert np.isneginf(both.indices[1, 0, 1])


@pytest.mark.parametrize("costs", [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.5, 2.0]])
def test_equal_and_uneven_costs_match_bisection(costs):
    base = random_mdp_arms(8, 3, 3, seed=17)
    arms = MDPArms(base.transitions, base.rewards, costs)
    fast = whittle_indices(arms, discount=0.9)
    ref = whittle_indices(arms, discount=0.9, method="bisection", tol=1e-11)
    ok = fast.indexable
    assert ok.sum() >= 4
    np.testing.assert_allclose(fast.indices[ok], ref.indices[ok], atol=1e-8)


def test_indices_make_both_levels_optimal():
    arms = random_mdp_arms(20, 4, 3, seed=11)
    res = whittle_indices(arms, discount=0.9)
    for n in np.flatnonzero(res.indexable)[:8]:
        prices = res.indices[n].ravel()
        q = policy_iteration(arms.select([n]), prices=prices, discount=0.9).q[:, 0]
        k = 0
        for s in range(4):
            for a in (1, 2):
                # at W(s, a) a level >= a and a level < a are both optimal
                best = q[k, s].max()
                assert q[k, s, a:].max() == pytest.approx(best, abs=1e-8)
                assert q[k, s, :a].max() == pytest.approx(best, abs=1e-8)
                k += 1
        assert np.all(np.diff(res.indices[n], axis=1) <= 1e-9)   # full indexability


def test_matches_markovianbandit():
    mb = pytest.importorskip("markovianbandit")
    arms = random_mdp_arms(30, 6, 2, seed=5)
    res = whittle_indices(arms, discount=0.9)
    for n in range(30):
        p, r = arms.transitions[n], arms.rewards[n]
        bandit = mb.restless_bandit_from_P0P1_R0R1(p[0], p[1], r[:, 0], r[:, 1])
        np.testing.assert_allclose(res.binary[n], bandit.whittle_indices(discount=0.9),
                                   atol=1e-9)


def test_non_indexable_arms_are_flagged_like_markovianbandit():
    mb = pytest.importorskip("markovianbandit")
    arms = random_mdp_arms(400, 3, 2, concentration=0.1, seed=3)
    with pytest.warns(IndexabilityWarning, match="not \\(fully\\) indexable"):
        res = whittle_indices(arms, discount=0.99)
    bad = np.flatnonzero(~res.indexable)
    assert 0 < len(bad) < 400
    for n in list(bad[:5]) + list(np.flatnonzero(res.indexable)[:5]):
        p, r = arms.transitions[n], arms.rewards[n]
        bandit = mb.restless_bandit_from_P0P1_R0R1(p[0], p[1], r[:, 0], r[:, 1])
        assert bandit.is_indexable(discount=0.99) == bool(res.indexable[n])
    assert np.isfinite(res.indices).all()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6), st.integers(2, 4))
def test_kernel_equals_numpy_twin(seed, n_states, n_actions):
    arms = random_mdp_arms(5, n_states, n_actions, concentration=0.3, seed=seed)
    steps = 4 * n_states * n_actions + 16
    ind = np.empty((5, n_states, n_actions - 1))
    flags = np.empty(5, dtype=np.int64)
    start, _ = _price_bracket(arms, 0.95)
    homotopy_kernel(arms.transitions, arms.rewards, arms.costs, 0.95, start, steps, ind, flags)
    ref, ref_flags = homotopy_numpy(arms.transitions, arms.rewards, arms.costs, 0.95, start,
                                    steps)
    np.testing.assert_array_equal(flags, ref_flags)
    np.testing.assert_allclose(ind, ref, atol=1e-8)


def test_errors():
    arms = random_mdp_arms(2, 3, 2, seed=0)
    with pytest.raises(InvalidParameterError, match=r"whittle_indices.arms: must be MDPArms"):
        whittle_indices(random_pomdp_arms(2, 3, seed=0))
    with pytest.raises(InvalidParameterError, match=r"whittle_indices.discount: must be < 1"):
        whittle_indices(arms, discount=1.0)
    with pytest.raises(InvalidParameterError, match=r"whittle_indices.method: must be one of"):
        whittle_indices(arms, method="lp")
    with pytest.raises(InvalidParameterError, match=r"whittle_indices.tol: must be > 0"):
        whittle_indices(arms, tol=0.0)
    flat = MDPArms(arms.transitions, arms.rewards, [0.0, 0.0])
    with pytest.raises(InvalidParameterError, match=r"costs: must have an action of positive"):
        whittle_indices(flat)
    one = MDPArms(arms.transitions[:, :1], arms.rewards[:, :, :1], [0.0])
    with pytest.raises(InvalidParameterError, match=r"at least 2 actions"):
        whittle_indices(one)


def test_equal_cost_levels_are_not_falsely_flagged():
    """Costs [0, 1, 1]: sorting out the two equal-cost levels at the start price once counted
    as a move up (arm 70 among others). The verdicts now agree with the optimal policies on a
    fine price grid (the level never rises with the price) on all 200 arms."""
    from rmab.values.exact import policy_iteration

    m = random_mdp_arms(200, 3, 3, concentration=0.2, seed=33)
    arms = MDPArms(m.transitions, m.rewards, np.array([0.0, 1.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        res = whittle_indices(arms, discount=0.95)
    assert res.indexable[70]
    fin = res.indices[np.isfinite(res.indices)]
    prices = np.linspace(fin.min() - 1, fin.max() + 1, 3001)
    policy = policy_iteration(arms, prices=prices, discount=0.95).policy       # (P, N, S)
    rises = (np.diff(policy, axis=0) > 0).any(axis=(0, 2))
    assert rises.tolist() == (~res.indexable).tolist()


# -- finite horizon ---------------------------------------------------------------------------

def _levels_by_hand(arm, price, horizon, discount, tie=1e-12):
    """Plain-Python backward induction: the optimal level (ties to the cheaper, within
    ``tie``) per periods to go (1..horizon) and state."""
    p, r, c = arm.transitions[0], arm.rewards[0], arm.costs[0]
    n_states, n_actions = r.shape
    value = [0.0] * n_states
    out = []
    for _ in range(horizon):
        q = [[r[s, a] - price * c[a] + discount * sum(p[a, s, u] * value[u]
                                                      for u in range(n_states))
              for a in range(n_actions)] for s in range(n_states)]
        out.append([min(a for a in range(n_actions) if q[s][a] >= max(q[s]) - tie)
                    for s in range(n_states)])
        value = [max(row) for row in q]
    return out


def test_finite_indices_of_one_period_are_the_reward_gain_per_cost():
    arms = random_mdp_arms(5, 3, 2, seed=1)
    res = finite_whittle_indices(arms, horizon=1)
    gain = (arms.rewards[:, :, 1] - arms.rewards[:, :, 0]) / arms.costs[:, 1][:, None]
    np.testing.assert_allclose(res.indices[0, :, :, 0], gain, atol=1e-8)


def test_finite_indices_over_a_long_horizon_are_the_discounted_ones():
    """Period 0 of a 150-period problem at discount 0.8 (0.8^150 ~ 3e-15): the stationary
    indices of the homotopy, an independent algorithm."""
    arms = random_mdp_arms(5, 3, 3, seed=4)
    res = finite_whittle_indices(arms, horizon=150, discount=0.8)
    exact = whittle_indices(arms, discount=0.8)
    ok = exact.indexable & res.indexable
    assert ok.any()
    np.testing.assert_allclose(res.indices[0][ok], exact.indices[ok], atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_finite_indices_separate_the_optimal_levels(seed):
    """Just below a finite index the level is reached, just above it is not (by hand)."""
    arms = random_mdp_arms(1, 3, 3, seed=seed)
    horizon = 4
    res = finite_whittle_indices(arms, horizon=horizon, discount=1.0)
    for t in range(horizon):
        for s in range(3):
            for a in (1, 2):
                w = res.indices[t, 0, s, a - 1]
                if not np.isfinite(w) or not res.indexable[0]:
                    continue
                below = _levels_by_hand(arms, w - 1e-6, horizon, 1.0)[horizon - t - 1][s]
                above = _levels_by_hand(arms, w + 1e-6, horizon, 1.0)[horizon - t - 1][s]
                assert below >= a > above


@pytest.mark.parametrize("factor", [1e-12, 1e-20, 1e12])
def test_finite_indices_of_tiny_or_huge_rewards(factor):
    """A review's arms: rewards times 1e-12 moved every index by -1.0 (in units of 1e-12), and
    times 1e-20 made every index -inf with both arms "indexable" (then the whittle-finite
    planner failed): the tie test had a fixed 1 in it. The scaled indices are the unscaled
    ones times the factor, and by hand the level is reached just below each, not above."""
    arms = random_mdp_arms(2, 3, 2, seed=0)
    scaled = MDPArms(arms.transitions, arms.rewards * factor, arms.costs)
    base, res = (finite_whittle_indices(x, horizon=5) for x in (arms, scaled))
    assert base.indexable.all() and res.indexable.all()
    assert np.isfinite(base.indices).all()
    np.testing.assert_allclose(res.indices, base.indices * factor, rtol=1e-8,
                               atol=1e-8 * factor)
    for n, t, s in np.ndindex(2, 5, 3):
        w, one = res.indices[t, n, s, 0], scaled.select([n])
        below, above = (_levels_by_hand(one, w + d * factor, 5, 1.0, tie=1e-9 * factor)
                        for d in (-1e-6, 1e-6))
        assert below[4 - t][s] == 1 and above[4 - t][s] == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1e-12, 1e-9, 1e-4, 1e4, 1e9, 1e12]),
       st.sampled_from([1.0, 1e-6, 1e3]), st.integers(1, 6), st.sampled_from([1.0, 0.9]),
       st.sampled_from([2, 3]))
def test_finite_indices_scale_with_the_rewards(seed, factor, cost_factor, horizon, discount,
                                               n_actions):
    """As the discounted indices: scaling the rewards by ``f`` and the costs by ``g`` scales
    every finite-horizon index by ``f / g`` and changes no verdict (arms ~ a third not
    indexable). The tie test and the indexability prices had fixed units in them."""
    arms = random_mdp_arms(4, 3, n_actions, concentration=0.3, seed=seed)
    scaled = MDPArms(arms.transitions, arms.rewards * factor, arms.costs * cost_factor)
    factor /= cost_factor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        a, b = (finite_whittle_indices(x, horizon=horizon, discount=discount)
                for x in (arms, scaled))
    np.testing.assert_array_equal(a.indexable, b.indexable)
    finite = np.isfinite(a.indices)
    np.testing.assert_array_equal(finite, np.isfinite(b.indices))
    np.testing.assert_array_equal(np.sign(a.indices[~finite]), np.sign(b.indices[~finite]))
    # the bisection's tolerance: 1e-9 of the bracket's half-width, (H + 1) price units
    np.testing.assert_allclose(b.indices[finite], a.indices[finite] * factor, rtol=1e-7,
                               atol=1e-8 * (horizon + 1) * factor)


def test_finite_indices_errors():
    arms = random_mdp_arms(2, 2, 2, seed=0)
    with pytest.raises(InvalidParameterError, match="finite_whittle_indices.horizon: must be "
                                                    ">= 1"):
        finite_whittle_indices(arms, horizon=0)
    with pytest.raises(InvalidParameterError, match="finite_whittle_indices.discount: must be"):
        finite_whittle_indices(arms, horizon=3, discount=0.0)
    with pytest.raises(InvalidParameterError, match="finite_whittle_indices.arms: must be "
                                                    "MDPArms"):
        finite_whittle_indices(random_pomdp_arms(2, 2, 2, 2, seed=0), horizon=3)


def test_finite_index_kernels_equal_their_python_versions():
    """Compiled and pure-Python (``py_func``, as under NUMBA_DISABLE_JIT) kernels agree."""
    from rmab.relax import _whittle_kernels as K

    arms = random_mdp_arms(2, 2, 3, seed=5)
    args = (arms.transitions, arms.rewards, arms.costs, 0.9)
    out = [np.empty((2, 3, 2, 2)) for _ in range(2)]
    ends = (np.full((2, 3, 2, 2), -50.0), np.full((2, 3, 2, 2), 50.0))
    tops = np.full(2, 50.0)
    K.finite_index_kernel(*args, 3, tops, 1e-9, *ends, out[0])
    getattr(K.finite_index_kernel, "py_func", K.finite_index_kernel)(*args, 3, tops, 1e-9, *ends,
                                                                     out[1])
    np.testing.assert_array_equal(out[0], out[1])
    flags = [np.empty(2, dtype=bool) for _ in range(2)]
    last = [np.empty((2, 3, 2, 2), dtype=np.int64) for _ in range(2)]
    prices = np.tile(np.linspace(-5, 5, 5), (2, 1))
    K.finite_indexable_kernel(*args, prices, 3, flags[0], last[0])
    indexable = K.finite_indexable_kernel     # itself under NUMBA_DISABLE_JIT=1
    getattr(indexable, "py_func", indexable)(*args, prices, 3, flags[1], last[1])
    np.testing.assert_array_equal(flags[0], flags[1])
    np.testing.assert_array_equal(last[0], last[1])


def _levels_rise(arms, n, prices, horizon, discount):
    """Reference: does arm ``n``'s optimal level (ties to the cheaper) rise with the price at
    some period and state? Plain backward induction per price."""
    p, r, c = arms.transitions[n], arms.rewards[n], arms.costs[n]
    table = []
    for lam in prices:
        v, levels = np.zeros(arms.n_states), []
        for _ in range(horizon):
            q = r - lam * c[None, :] + discount * np.einsum("asu,u->sa", p, v)
            best = q.max(axis=1)
            scale = np.abs(r).max() + np.abs(prices).max() * c.max()
            levels.append(np.argmax(q >= best[:, None] - 1e-12 * scale, axis=1))
            v = best
        table.append(levels)
    return bool((np.diff(np.array(table), axis=0) > 0).any())


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5), st.sampled_from([1.0, 0.9]))
def test_finite_indexability_kernel_equals_a_levels_table(seed, horizon, discount):
    """The streaming check (previous price's levels only) agrees with the full table of
    levels it replaced (0.8 GB at H = 2 000)."""
    from rmab.relax import _whittle_kernels as K

    arms = random_mdp_arms(8, 3, 3, concentration=0.1, seed=seed)   # ~9 % not indexable
    prices = np.tile(np.linspace(-3, 3, 40), (8, 1))
    flags = np.empty(8, dtype=bool)
    K.finite_indexable_kernel(arms.transitions, arms.rewards, arms.costs, discount, prices,
                              horizon, flags, np.empty((8, horizon, 3, 2), dtype=np.int64))
    for n in range(8):
        assert flags[n] == (not _levels_rise(arms, n, prices[n], horizon, discount))


@pytest.mark.parametrize("factor", [1.0, 1e-6, 1e-12])
def test_finite_indexability_catches_a_narrow_rise(factor):
    """A review's arm: with 3 periods to go state 2 turns active again near 0.438, inside a
    window that 64 prices over the whole bracket missed (it was flagged indexable). With the
    rewards in millionths it was missed again: the prices spanned the indices plus a fixed
    0.1 (and state 2's index, the sup, came out 0.262, not 0.447)."""
    arms = random_mdp_arms(1, 3, 2, seed=1490, concentration=0.5)
    scaled = MDPArms(arms.transitions, arms.rewards * factor, arms.costs)
    # one arm in the singular ("1 arm(s) not (fully) indexable; their indices" before)
    with pytest.warns(IndexabilityWarning, match=r"^finite_whittle_indices: 1 arm not \(fully\) "
                                                 r"indexable: 0; its indices are unreliable"):
        res = finite_whittle_indices(scaled, horizon=3, discount=1.0)
    assert not res.indexable[0]
    levels = [_levels_by_hand(arms, lam, 3, 1.0)[2][2] for lam in np.linspace(0.3, 0.6, 301)]
    assert np.diff(levels).max() > 0                                  # the rise, by hand
    w = res.indices[0, 0, 2, 0] / factor                              # the sup, by hand
    assert _levels_by_hand(arms, w - 1e-6, 3, 1.0)[2][2] == 1
    assert all(_levels_by_hand(arms, lam, 3, 1.0)[2][2] == 0
               for lam in np.linspace(w + 1e-6, w + 10.0, 200))


@pytest.mark.parametrize("scale", [1.0, 1e6, 1e12])
def test_large_equal_rewards_are_indexable_with_index_zero(scale):
    """A reward the same in every state and action: passive is optimal at every price > 0 and
    active at every price < 0, so the arm is indexable with index 0. Rewards of 1e6 were
    flagged non-indexable: the tie test did not grow with the values' round-off (a review)."""
    base = random_mdp_arms(3, 3, 3, seed=4)
    arms = MDPArms(base.transitions, np.full(base.rewards.shape, scale), base.costs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IndexabilityWarning)
        res = whittle_indices(arms, discount=0.99)
    assert res.indexable.all()
    np.testing.assert_allclose(res.indices, 0.0, atol=1e-12 * scale / (1 - 0.99))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1e-3, 1e3, 1e8, 1e-9, 1e-12]),
       st.sampled_from([1.0, 1e-9, 1e6]))
def test_indices_scale_with_the_rewards(seed, factor, cost_factor):
    """Indices are in reward units per unit cost: scaling the rewards or the costs scales
    them, and the verdicts do not change. The homotopy's guards had a fixed 1 in them: at
    rewards of 1e-12 all of 30 random stacks came out wrong (1e-9: 3)."""
    arms = random_mdp_arms(4, 4, 3, seed=seed)
    scaled = MDPArms(arms.transitions, arms.rewards * factor, arms.costs * cost_factor)
    factor /= cost_factor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        a, b = whittle_indices(arms), whittle_indices(scaled)
    np.testing.assert_array_equal(a.indexable, b.indexable)
    finite = np.isfinite(a.indices)
    np.testing.assert_array_equal(finite, np.isfinite(b.indices))
    np.testing.assert_allclose(b.indices[finite], a.indices[finite] * factor, rtol=1e-7,
                               atol=1e-9 * factor)


def test_a_level_regained_for_good_after_a_drop_gets_plus_inf():
    """State 1 drops from level 2 to 0 at λ ≈ -1.40, climbs back to the free level 1 at
    λ ≈ -1.07 and keeps it at every higher price: sup{λ : a*(1) >= 1} = +inf. The trace kept
    the stale -1.40 of the undone drop (a numerical review; bisection and policy iteration
    agree on +inf)."""
    p = np.array([[[0.2129952361655928, 0.7870047638344071],
                   [0.6926182092371016, 0.30738179076289845]],
                  [[0.9901136451694108, 0.009886354830589108],
                   [0.39066758931927065, 0.6093324106807294]],
                  [[0.2452697555521739, 0.7547302444478261],
                   [0.9075190580580343, 0.09248094194196572]]])
    r = np.array([[0.5343913175808348, 0.8153599290018628, 0.42267216345462155],
                  [0.9685769748358859, 0.9662631224861886, 0.2450670213470324]])
    arms = MDPArms(p[None], r[None], np.array([[0.0, 0.0, 0.5]]))
    for lam in (-1.0, 0.0, 10.0, 1e3):          # level 1 optimal in state 1 from -1.07 on
        assert policy_iteration(arms, prices=lam, discount=0.9).policy[0, 0, 1] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        res = whittle_indices(arms, discount=0.9)
        ref = whittle_indices(arms, discount=0.9, method="bisection")
    assert not res.indexable[0]
    assert res.indices[0, 1, 0] == np.inf == ref.indices[0, 1, 0]
    start, _ = _price_bracket(arms, 0.9)
    twin, _ = homotopy_numpy(arms.transitions, arms.rewards, arms.costs, 0.9, start, 40)
    assert np.isnan(twin[0, 1, 0])                  # NaN: made +inf by whittle_indices
