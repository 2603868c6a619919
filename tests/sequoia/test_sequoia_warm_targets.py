"""The warm-start targets: the Lagrangian target is an upper bound on the optimal action value
and the Lagrangian state bound on the optimal value and on every feasible action's target (weak
duality), checked against exact backward induction over every state and feasible action of tiny
domains; at one period to go the target is the one-step reward (the myopic target)."""

import itertools

import numpy as np
import pytest

from rmab.domains import make_capacity, make_interventions, make_path, make_scheduling
from rmab.domains.capacity import CapacityDomain
from rmab.planners.sequoia.warm_targets import LagrangianBound, warm_start_dataset

DOMAINS = {
    "capacity": lambda: make_capacity(4, 2, seed=3),
    "scheduling": lambda: make_scheduling(4, 2, seed=1),
    "path": lambda: make_path(4, 2, seed=2),
    "interventions": lambda: make_interventions(3, 3, 1, seed=0),
}


def optimal_q(domain, horizon: int, discount: float):
    """``Q*[τ][state index, action index]`` for τ = 1..horizon over all states and feasible
    actions (exact backward induction)."""
    n, n_s = domain.n_arms, domain.n_states
    states = np.array(list(itertools.product(range(n_s), repeat=n)))
    index = {tuple(s): i for i, s in enumerate(states)}
    actions = [np.array(a) for a in itertools.product((0, 1), repeat=domain.action_size)
               if domain.is_feasible(np.array(a))]
    moves = np.array(list(itertools.product((0, 1), repeat=n)))
    v = np.zeros(len(states))
    q = {}
    for tau in range(1, horizon + 1):
        qt = np.empty((len(states), len(actions)))
        for i, s in enumerate(states):
            nxt = np.clip(np.where(moves == 1, s + 1, s - 1), 0, n_s - 1)
            nxt_idx = [index[tuple(x)] for x in nxt]
            for k, a in enumerate(actions):
                levels = domain.arm_levels(a)
                p = domain.arms.up_prob[np.arange(n), levels]
                prob = np.prod(np.where(moves == 1, p, 1 - p), axis=1)
                qt[i, k] = domain.arms.expected_reward(s, levels) + discount * prob @ v[nxt_idx]
        q[tau] = qt
        v = qt.max(axis=1)
    return states, actions, q


@pytest.mark.parametrize("kind", sorted(DOMAINS))
def test_lagrangian_target_bounds_the_optimal_action_value(kind):
    domain = DOMAINS[kind]()
    horizon, discount = 4, 0.9
    states, actions, q = optimal_q(domain, horizon, discount)
    levels = np.stack([domain.arm_levels(a) for a in actions])
    bound = LagrangianBound(domain, horizon, discount)
    gaps, state_gaps = [], []
    for tau in range(1, horizon + 1):
        s = np.repeat(states, len(actions), axis=0)
        lv = np.tile(levels, (len(states), 1))
        y = bound.action_values(s, lv, np.full(len(s), tau))
        exact = q[tau].ravel()
        assert (y >= exact - 1e-9).all(), (tau, float((exact - y).max()))
        gaps.append(float((y - exact).mean()))
        if tau == 1:                 # nothing to come: the target is the one-step reward
            np.testing.assert_allclose(y, exact, atol=1e-12)
        d = bound.state_values(states, np.full(len(states), tau))
        best = y.reshape(len(states), len(actions)).max(axis=1)
        assert (d >= best - 1e-9).all(), (tau, float((best - d).max()))
        assert (d >= q[tau].max(axis=1) - 1e-9).all()
        state_gaps.append(float((d - q[tau].max(axis=1)).mean()))
    assert gaps[-1] > 0              # the relaxation is not free further out (a real bound)
    assert state_gaps[-1] > 0


def test_offset_subtracts_the_state_bound():
    """``offset=True``: the same inputs, targets less ``scale * D(s, τ)``; a feasible action's
    offset Lagrangian target is <= 0 (the state bound dominates it)."""
    domain = make_capacity(6, 2, seed=1)
    args = dict(n_samples=400, horizon=6, scale=0.5, target="lagrangian", discount=0.95)
    x, y = warm_start_dataset(domain, rng=np.random.default_rng(3), **args)
    xo, yo = warm_start_dataset(domain, rng=np.random.default_rng(3), offset=True, **args)
    np.testing.assert_array_equal(x, xo)
    states = np.rint(x[:, domain.action_size:-1] * (domain.n_states - 1)).astype(np.int64)
    ttg = np.rint(x[:, -1] * 6).astype(np.int64)
    d = LagrangianBound(domain, 6, 0.95).state_values(states, ttg)
    np.testing.assert_allclose(yo, y - 0.5 * d, atol=1e-9)
    feasible = np.array([domain.is_feasible(a) for a in x[:, :domain.action_size].astype(int)])
    assert feasible.any() and (yo[feasible] <= 1e-9).all()


def test_lagrangian_target_at_one_period_is_the_myopic_target():
    domain = make_scheduling(6, 2, seed=4)
    rng_args = dict(n_samples=200, horizon=1, scale=0.5)
    xm, ym = warm_start_dataset(domain, rng=np.random.default_rng(7), target="myopic",
                                **rng_args)
    xl, yl = warm_start_dataset(domain, rng=np.random.default_rng(7), target="lagrangian",
                                **rng_args)
    np.testing.assert_array_equal(xm, xl)
    np.testing.assert_allclose(yl, ym, atol=1e-12)


def test_dataset_is_reproducible_and_covers_infeasible_actions():
    domain = make_capacity(8, 2, seed=0)
    a = warm_start_dataset(domain, 300, 5, np.random.default_rng(1), target="lagrangian")
    b = warm_start_dataset(domain, 300, 5, np.random.default_rng(1), target="lagrangian")
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    acts = a[0][:, :domain.action_size].astype(int)
    feasible = [domain.is_feasible(x) for x in acts]
    assert 0 < np.mean(feasible) < 1
    ttg = np.rint(a[0][:, -1] * 5)
    assert set(ttg) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("kind", list(DOMAINS))
def test_next_correction_has_mean_zero_and_cancels_the_successor_noise(kind):
    """Over every successor (all up/down moves, probabilities from the domain's up_prob), the
    control variate averages to zero, and D(s') plus it varies far less than D(s')."""
    d = DOMAINS[kind]()
    bound = LagrangianBound(d, 6, 0.95)
    rng = np.random.default_rng(4)
    n = d.n_arms
    moves = np.array(list(itertools.product((0, 1), repeat=n)))
    spread = []
    for _ in range(10):
        s = rng.integers(0, d.n_states, n)
        levels = d.arm_levels(d.sample_action(rng))
        tau = int(rng.integers(2, 7))
        p_up = d.arms.up_prob[np.arange(n), levels]
        prob = np.prod(np.where(moves == 1, p_up, 1 - p_up), axis=1)
        nxt = np.stack([d.arms.next_states(s, levels, np.where(m == 1, 0.0, 1 - 1e-12))
                        for m in moves])
        rows = len(moves)
        corr = bound.next_correction(np.tile(s, (rows, 1)), np.tile(levels, (rows, 1)),
                                     np.full(rows, tau), nxt)
        assert prob @ corr == pytest.approx(0.0, abs=1e-9)
        d_next = bound.state_values(nxt, np.full(rows, tau - 1))
        var = lambda x: prob @ (x - prob @ x) ** 2          # noqa: E731
        spread.append((var(d_next + corr), var(d_next)))
    with_cv, without = np.array(spread).sum(axis=0)
    assert with_cv < 0.1 * without


def test_a_budget_that_never_binds_makes_the_bounds_exact():
    """One worker of capacity 100 serves every action (all 2^3 are feasible): the relaxation
    loses nothing and its best price is 0, so the Lagrangian target is Q* and the state bound
    V*, both by exact backward induction (a grid without the price 0 stays above them)."""
    base = make_capacity(3, 1, seed=3)
    domain = CapacityDomain.from_arrays(up_prob=base.arms.up_prob, rewards=base.arms.rewards,
                                        costs=[1.0, 1.0, 1.0], capacities=[100.0])
    horizon, discount = 4, 0.9
    states, actions, q = optimal_q(domain, horizon, discount)
    assert len(actions) == 2 ** domain.action_size
    levels = np.stack([domain.arm_levels(a) for a in actions])
    bound = LagrangianBound(domain, horizon, discount)
    for tau in range(1, horizon + 1):
        s = np.repeat(states, len(actions), axis=0)
        lv = np.tile(levels, (len(states), 1))
        y = bound.action_values(s, lv, np.full(len(s), tau))
        np.testing.assert_allclose(y, q[tau].ravel(), atol=1e-9)
        d = bound.state_values(states, np.full(len(states), tau))
        np.testing.assert_allclose(d, q[tau].max(axis=1), atol=1e-9)
