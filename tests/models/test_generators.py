"""Instance generators: parameter errors, determinism, documented ranges and structure."""

import math

import numpy as np
import pytest

from rmab.errors import InvalidModelError, InvalidParameterError
import rmab
from rmab.models import (Instance, MDPArms, POMDPArms, budget_from_fraction, collapsing_arms,
                         health_intervention, random_instance, random_mdp_arms, random_pomdp_arms)

BAD = [
    pytest.param(health_intervention, (0,), {}, r"health_intervention\.n_arms: must be >= 1; got 0",
                 id="health-n_arms-0"),
    pytest.param(health_intervention, (2.5,), {},
                 r"health_intervention\.n_arms: must be an integer; got 2\.5", id="health-n_arms"),
    pytest.param(health_intervention, (5,), dict(n_states=4),
                 r"health_intervention\.n_states: must be <= 3; got 4", id="health-n_states"),
    pytest.param(health_intervention, (5,), dict(budget_fraction=-0.1),
                 r"health_intervention\.budget_fraction: must be >= 0\.0; got -0\.1",
                 id="health-budget_fraction"),
    pytest.param(health_intervention, (5,), dict(n_clusters=0),
                 r"health_intervention\.n_clusters: must be >= 1; got 0", id="health-clusters"),
    pytest.param(health_intervention, (5,), dict(noise=0.3),
                 r"health_intervention\.noise: must be <= 0\.2; got 0\.3", id="health-noise"),
    pytest.param(health_intervention, (5,), dict(seed=-1),
                 r"health_intervention\.seed: must be a non-negative integer; got -1",
                 id="health-seed-negative"),
    pytest.param(health_intervention, (5,), dict(seed="abc"),
                 r"health_intervention\.seed: must be an integer, numpy SeedSequence or "
                 r"Generator; got 'abc'", id="health-seed-str"),
    pytest.param(health_intervention, (5,), dict(seed=4.0),
                 r"health_intervention\.seed: must be an integer, numpy SeedSequence or "
                 r"Generator; got 4\.0 \(seeds are integers: pass 4\)$", id="health-seed-float"),
    pytest.param(random_mdp_arms, (3, 0), {}, r"random_mdp_arms\.n_states: must be >= 1; got 0",
                 id="mdp-n_states"),
    pytest.param(random_mdp_arms, (3, 2, 0), {},
                 r"random_mdp_arms\.n_actions: must be >= 1; got 0", id="mdp-n_actions"),
    pytest.param(random_mdp_arms, (3, 2), dict(concentration=0.0),
                 r"random_mdp_arms\.concentration: must be > 0\.0; got 0\.0",
                 id="mdp-concentration"),
    pytest.param(random_pomdp_arms, (3, 2, 2, 0), {},
                 r"random_pomdp_arms\.n_obs: must be >= 1; got 0", id="pomdp-n_obs"),
    pytest.param(random_pomdp_arms, (-1, 2), {},
                 r"random_pomdp_arms\.n_arms: must be >= 1; got -1", id="pomdp-n_arms"),
    pytest.param(random_pomdp_arms, (3, 2), dict(seed=1.5),
                 r"random_pomdp_arms\.seed: must be an integer", id="pomdp-seed"),
    pytest.param(collapsing_arms, (3, 1), {}, r"collapsing_arms\.n_states: must be >= 2; got 1",
                 id="collapsing-n_states"),
    pytest.param(collapsing_arms, (3, 0), {}, r"collapsing_arms\.n_states: must be >= 2; got 0",
                 id="collapsing-n_states-0"),        # said ">= 1", then refused 1
    pytest.param(collapsing_arms, (3,), dict(concentration=-1.0),
                 r"collapsing_arms\.concentration: must be > 0\.0; got -1\.0",
                 id="collapsing-concentration"),
    pytest.param(random_instance, (0,), {}, r"random_mdp_arms\.n_arms|random_pomdp_arms\.n_arms",
                 id="instance-n_arms"),
    pytest.param(random_instance, (4,), dict(seed=True),
                 r"random_instance\.seed: must be an integer or Generator; got True",
                 id="instance-seed-bool"),
]


@pytest.mark.parametrize("fn, args, kwargs, match", BAD)
def test_generators_reject_bad_parameters(fn, args, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        fn(*args, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(budget=-1.0), r"Instance\.budget: must be >= 0\.0; got -1\.0"),
    (dict(discount=0.0), r"Instance\.discount: must be > 0\.0"),
    (dict(discount=1.0), r"Instance\.horizon: must be set when discount is 1"),
    (dict(horizon=0), r"Instance\.horizon: must be >= 1; got 0"),
])
def test_random_instance_passes_instance_errors_through(kwargs, match):
    with pytest.raises(InvalidModelError, match=match):
        random_instance(4, seed=0, **kwargs)


def test_health_discount_is_validated():
    with pytest.raises(InvalidModelError, match=r"Instance\.discount: must be <= 1\.0; got 2\.0"):
        health_intervention(4, discount=2.0, seed=0)


# ---------------------------------------------------------------- determinism

GENERATORS = [
    pytest.param(lambda seed: health_intervention(20, seed=seed).arms, id="health"),
    pytest.param(lambda seed: health_intervention(20, n_states=3, seed=seed).arms, id="health3"),
    pytest.param(lambda seed: random_mdp_arms(6, 3, 2, seed=seed), id="mdp"),
    pytest.param(lambda seed: random_pomdp_arms(6, 3, 3, 4, seed=seed), id="pomdp"),
    pytest.param(lambda seed: collapsing_arms(6, 3, seed=seed), id="collapsing"),
    pytest.param(lambda seed: random_instance(6, 3, 2, 2, seed=seed).arms, id="instance"),
]


def _arrays(arms):
    names = ["transitions", "rewards", "costs"]
    if not arms.fully_observed:
        names.append("observations")
    return {k: getattr(arms, k) for k in names}


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_arrays_different_seed_different(make):
    a, b, c = _arrays(make(7)), _arrays(make(7)), _arrays(make(8))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["transitions"], c["transitions"])
    gen = _arrays(make(np.random.default_rng(7)))  # a Generator seeded alike gives the same
    np.testing.assert_array_equal(gen["transitions"], a["transitions"])


def test_health_instance_is_deterministic_in_beliefs_and_clusters():
    a, b = health_intervention(30, seed=11), health_intervention(30, seed=11)
    np.testing.assert_array_equal(a.initial_belief, b.initial_belief)
    assert a.metadata == b.metadata
    assert a.metadata["cluster"] != health_intervention(30, seed=12).metadata["cluster"]


# ---------------------------------------------------------------- documented ranges


@pytest.mark.parametrize("noise", [0.0, 0.05, 0.2])
def test_health_two_state_ranges_and_monotonicity(noise):
    n = 400
    inst = health_intervention(n, noise=noise, budget_fraction=0.15, n_clusters=4, seed=5)
    arms = inst.arms
    assert isinstance(arms, POMDPArms)
    assert arms.transitions.shape == (n, 3, 2, 2) and arms.observations.shape == (n, 3, 2, 2)
    engage = arms.transitions[:, :, 0, 1]  # (N, A)
    stay = arms.transitions[:, :, 1, 1]
    lo, hi = 0.01, 0.99
    assert engage.min() >= lo and engage.max() <= hi and stay.min() >= lo and stay.max() <= hi
    # cluster centre ranges widened by the per-arm noise
    assert engage[:, 0].min() >= max(lo, 0.05 - noise) - 1e-12
    assert engage[:, 0].max() <= 0.25 + noise + 1e-12
    assert engage[:, 1].max() <= 0.25 + 0.30 + noise + 1e-12
    assert engage[:, 2].max() <= 0.25 + 0.30 + 0.25 + noise + 1e-12
    assert stay[:, 0].min() >= 0.55 - noise - 1e-12 and stay[:, 0].max() <= 0.85 + noise + 1e-12
    # more effort never lowers the chance to engage or to stay engaged
    assert np.all(np.diff(engage, axis=1) >= 0) and np.all(np.diff(stay, axis=1) >= 0)
    if noise == 0.0:  # without noise the steps are the documented positive increments
        assert np.diff(engage, axis=1).min() >= 0.10 - 1e-12
        assert np.diff(stay, axis=1).min() >= 0.02 - 1e-12
    # signals: response accuracy none < call < visit, within the documented ranges
    acc = arms.observations[:, :, 1, 1]
    np.testing.assert_allclose(arms.observations[:, :, 0, 0], acc)
    assert np.all((0.55 <= acc[:, 0]) & (acc[:, 0] <= 0.65))
    assert np.all((0.80 <= acc[:, 1]) & (acc[:, 1] <= 0.90))
    assert np.all((0.90 <= acc[:, 2]) & (acc[:, 2] <= 0.98))
    assert np.all(acc[:, 0] < acc[:, 1]) and np.all(acc[:, 1] < acc[:, 2])
    # rewards, costs, beliefs, budget, metadata
    np.testing.assert_array_equal(arms.rewards, np.broadcast_to([[0.0], [1.0]], (n, 2, 3)))
    np.testing.assert_array_equal(arms.costs, np.tile([0.0, 1.0, 2.0], (n, 1)))
    b1 = inst.initial_belief[:, 1]
    assert b1.min() >= 0.3 and b1.max() <= 0.7
    assert inst.budget == max(1, math.floor(0.15 * n + 0.5))
    cluster = np.array(inst.metadata["cluster"])
    assert cluster.shape == (n,) and set(cluster.tolist()) == {0, 1, 2, 3}
    assert inst.metadata["actions"] == ["none", "call", "visit"]
    assert inst.metadata["seed"] == 5 and inst.metadata["params"]["n_arms"] == n
    if noise == 0.0:  # arms of one cluster share its centre exactly
        for k in range(4):
            rows = engage[cluster == k]
            np.testing.assert_allclose(rows, np.broadcast_to(rows[0], rows.shape))


def test_health_three_state_dropout_structure():
    n = 300
    inst = health_intervention(n, n_states=3, seed=9)
    p, o = inst.arms.transitions, inst.arms.observations
    assert p.shape == (n, 3, 3, 3)
    drop = p[:, :, 0, 2]  # from disengaged
    np.testing.assert_allclose(p[:, :, 1, 2], drop)  # the same from engaged
    assert np.all((0.02 <= drop[:, 0]) & (drop[:, 0] <= 0.06))
    np.testing.assert_allclose(drop[:, 1], drop[:, 0] / 2)
    np.testing.assert_allclose(drop[:, 2], drop[:, 0] / 4)
    np.testing.assert_array_equal(p[:, 0, 2], np.tile([0.0, 0.0, 1.0], (n, 1)))  # absorbing
    np.testing.assert_array_equal(p[:, 1, 2], np.tile([0.0, 0.0, 1.0], (n, 1)))
    back = p[:, 2, 2, 0]
    assert np.all((0.2 <= back) & (back <= 0.5)) and np.all(p[:, 2, 2, 1] == 0.0)
    np.testing.assert_array_equal(o[:, :, 2], o[:, :, 0])  # responds like disengaged
    assert np.all(np.diff(p[:, :, 0, 1], axis=1) >= 0)
    assert np.all(np.diff(p[:, :, 1, 1], axis=1) >= 0)
    np.testing.assert_allclose(inst.initial_belief[:, 2], 0.05)
    engaged0 = inst.initial_belief[:, 1]
    assert engaged0.min() >= 0.3 * 0.95 and engaged0.max() <= 0.7 * 0.95
    np.testing.assert_array_equal(inst.arms.rewards[:, :, 0], np.tile([0.0, 1.0, 0.0], (n, 1)))


def test_health_budget_fraction_edges():
    assert health_intervention(10, budget_fraction=0.0, seed=0).budget == 0.0
    assert health_intervention(10, budget_fraction=2.0, seed=0).budget == 20.0
    # 10 meant as 10 calls (a walkthrough): said with the way to give a budget
    with pytest.raises(InvalidParameterError, match=r"^health_intervention\.budget_fraction: "
                                                    r"must be <= 2 \(a share of the arms: 2 "
                                                    r"visits them all\); got 10, a budget of 10 "
                                                    r"calls\? health_intervention\(\.\.\.\)"
                                                    r"\.replace\(budget=10\)$"):
        health_intervention(50, budget_fraction=10, seed=0)
    assert health_intervention(1, seed=0).n_arms == 1


@pytest.mark.parametrize("n, fraction, budget", [
    (10, 0.05, 1.0),     # the spec's N = 10, B = 5 %: round() gave 0, and nothing acted
    (5, 0.1, 1.0), (25, 0.1, 3.0), (15, 0.1, 2.0), (45, 0.1, 5.0),   # halves go up
    (100, 0.1, 10.0), (1000, 0.05, 50.0), (10, 0.0, 0.0), (3, 0.001, 1.0),
    (100, 0.145, 15.0),  # 0.145 * 100 is 14.499999999999998 in floating point
])
def test_budget_from_fraction_rounds_half_up_and_acts(n, fraction, budget):
    assert budget_from_fraction(fraction, n) == budget
    assert health_intervention(n, budget_fraction=fraction, seed=0).budget == budget


def test_budget_from_fraction_is_public():
    """docs/instances.md names it with the generators: rmab and rmab.models export it."""
    assert rmab.budget_from_fraction is budget_from_fraction
    assert "budget_from_fraction" in rmab.__all__ and "budget_from_fraction" in rmab.models.__all__


def test_random_mdp_and_pomdp_arms_contract():
    mdp = random_mdp_arms(8, 4, 3, concentration=0.3, seed=1)
    assert isinstance(mdp, MDPArms) and mdp.transitions.shape == (8, 3, 4, 4)
    assert mdp.rewards.shape == (8, 4, 3)
    assert mdp.rewards.min() >= 0.0 and mdp.rewards.max() < 1.0
    np.testing.assert_array_equal(mdp.costs, np.tile([0.0, 1.0, 2.0], (8, 1)))
    pomdp = random_pomdp_arms(8, 4, 2, 5, seed=1)
    assert isinstance(pomdp, POMDPArms) and pomdp.observations.shape == (8, 2, 4, 5)
    np.testing.assert_allclose(pomdp.observations.sum(axis=-1), 1.0, atol=1e-12)
    assert pomdp.transitions.min() > 0.0  # Dirichlet rows are strictly positive
    # a low concentration gives sparser rows than a high one
    sparse = random_mdp_arms(50, 6, 1, concentration=0.1, seed=2).transitions.max(axis=-1).mean()
    dense = random_mdp_arms(50, 6, 1, concentration=10.0, seed=2).transitions.max(axis=-1).mean()
    assert sparse > dense + 0.2


def test_small_concentrations_give_sparse_rows():
    """Below c = 0.1 most Gamma(c) draws fell under the 1e-12 floor added before normalising,
    so rows came out nearly uniform (mean largest entry 0.72 at c = 0.01; Dirichlet: 0.98)."""
    from rmab.models import random_mdp_arms

    for c, at_least in ((0.01, 0.95), (1e-300, 0.99), (5e-324, 0.99)):   # 5e-324: NaN rows
        T = random_mdp_arms(300, 3, 2, concentration=c, seed=0).transitions
        assert T.max(axis=-1).mean() > at_least and T.min() > 0
        np.testing.assert_allclose(T.sum(axis=-1), 1.0, atol=1e-12)
    # from 0.1 on, the same draws as before (seeded instances unchanged)
    rng = np.random.default_rng(0)
    rows = rng.gamma(0.5, 1.0, (4, 2, 3, 3)) + 1e-12
    T = random_mdp_arms(4, 3, 2, concentration=0.5, seed=0).transitions
    np.testing.assert_array_equal(T, rows / rows.sum(axis=-1, keepdims=True))


def test_collapsing_arms_structure():
    arms = collapsing_arms(5, 3, seed=4)
    o = arms.observations
    assert o.shape == (5, 2, 3, 4)
    np.testing.assert_array_equal(o[:, 0], np.broadcast_to([0, 0, 0, 1.0], (5, 3, 4)))
    np.testing.assert_array_equal(o[:, 1, :, :3], np.broadcast_to(np.eye(3), (5, 3, 3)))
    np.testing.assert_array_equal(o[:, 1, :, 3], 0.0)
    np.testing.assert_array_equal(arms.rewards[:, :, 1], np.tile([0.0, 0.5, 1.0], (5, 1)))
    np.testing.assert_array_equal(arms.costs, np.tile([0.0, 1.0], (5, 1)))


def test_random_instance_defaults():
    inst = random_instance(12, 3, 2, 4, seed=3)
    assert isinstance(inst, Instance) and isinstance(inst.arms, POMDPArms)
    assert inst.budget == 2.0 and inst.n_obs == 4 and inst.discount == 0.95
    np.testing.assert_array_equal(inst.initial_belief, np.full((12, 3), 1 / 3))
    assert inst.metadata == {"generator": "random_instance", "seed": 3, "params": {
        "n_arms": 12, "n_states": 3, "n_actions": 2, "n_obs": 4}}
    mdp = random_instance(2, n_obs=None, seed=3)
    assert isinstance(mdp.arms, MDPArms) and mdp.budget == 1.0  # max(1, round(0.4))
    custom = random_instance(5, budget=0.0, discount=1.0, horizon=3, seed=3)
    assert (custom.budget, custom.discount, custom.horizon) == (0.0, 1.0, 3)


@pytest.mark.parametrize("make", [health_intervention, random_instance,
                                  lambda n, seed: random_instance(n, 3, n_obs=None, seed=seed)])
def test_an_unseeded_instance_records_the_seed_that_makes_it_again(make):
    first = make(4, seed=None)
    seed = first.metadata["seed"]
    assert isinstance(seed, int) and seed != make(4, seed=None).metadata["seed"]
    again = make(4, seed=seed)
    np.testing.assert_array_equal(again.arms.transitions, first.arms.transitions)
    np.testing.assert_array_equal(again.initial_belief, first.initial_belief)
    assert again.metadata == first.metadata


def test_metadata_records_a_numpy_integer_seed_and_no_generator():
    assert health_intervention(4, seed=np.int64(3)).metadata["seed"] == 3
    assert random_instance(3, seed=np.uint8(2)).metadata["seed"] == 2
    assert random_instance(3, seed=np.random.default_rng(2)).metadata["seed"] is None


def test_the_shipped_example_is_the_seeded_generators_instance():
    """Spec §2: a saved example instance ships in data/: ``health_example.npz`` is
    ``health_intervention(100, seed=0)`` bit for bit (data/make_examples.py), budget 10 % of
    the arms, and the CSV batch beside it runs on it."""
    from pathlib import Path

    from rmab.models import load_instance

    data = Path(__file__).resolve().parents[2] / "data"
    saved, made = load_instance(data / "health_example.npz"), health_intervention(100, seed=0)
    for name in ("transitions", "observations", "rewards", "costs"):
        np.testing.assert_array_equal(getattr(saved.arms, name), getattr(made.arms, name))
    np.testing.assert_array_equal(saved.initial_belief, made.initial_belief)
    assert (saved.budget, saved.discount, saved.metadata) == (10.0, 0.95, made.metadata)
    assert "health_example.npz" in (data / "batch_example.csv").read_text()
