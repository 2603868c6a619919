"""One conformance suite over every registered planner (ARCHITECTURE.md §4)."""

import itertools

import numpy as np
import pytest

from rmab.errors import InvalidParameterError, NotFittedError
from rmab.models import POMDPArms, health_intervention, random_instance
from rmab.planners import available_planners, make_planner

# Small but real settings so the suite stays fast for planners with a costly fit.
FAST_PARAMS = {
    "rollout": {"horizon": 3, "n_trajectories": 4},
    "whittle": {"resolution": 4, "n_prices": 6},
    "whittle-multi": {"resolution": 4, "n_prices": 6},
}

pytestmark = pytest.mark.filterwarnings("ignore::rmab.errors.IndexabilityWarning")

SPECS = [s for s in available_planners() if s.available]
NAMES = [s.name for s in SPECS]


def _instances():
    pomdp = random_instance(6, n_states=3, n_actions=3, n_obs=2, budget=3.0, seed=11)
    mdp = random_instance(5, n_states=3, n_actions=2, n_obs=None, budget=2.0, seed=12)
    health = health_intervention(8, budget_fraction=0.25, seed=13)
    # fractional, heterogeneous costs
    arms = pomdp.arms
    costs = np.tile([0.0, 1.5, 2.5], (arms.n_arms, 1)) * np.linspace(0.5, 1.5, arms.n_arms)[:, None]
    frac = pomdp.replace(arms=POMDPArms(arms.transitions, arms.observations, arms.rewards, costs),
                         budget=3.7, name="fractional")
    # a finite-horizon POMDP instance: the Lagrangian planner plans it by finite-horizon PBVI,
    # the index planners with the discounted indices (a heuristic)
    finite = random_instance(6, n_states=3, n_actions=3, n_obs=2, budget=3.0, discount=0.95,
                             horizon=5, seed=14)
    # count limits (PORMAB §1): caps per action and at most 3 active; exactly 2 active arms
    capped = frac.replace(action_caps=[np.inf, 2, 1], max_active=3, name="capped")
    exactly = mdp.replace(min_active=2, max_active=2, name="exactly-2")
    health_k = health.replace(budget=3.0, action_caps=[np.inf, np.inf, 1], min_active=2,
                              max_active=2, name="health-exactly-2")
    # undiscounted fully observed: the index planners use the finite-horizon indices
    finite_mdp = random_instance(5, n_states=3, n_actions=3, n_obs=None, budget=2.0,
                                 discount=1.0, horizon=6, seed=16)
    return {"pomdp": pomdp, "mdp": mdp, "health": health, "fractional": frac,
            "finite-pomdp": finite, "capped": capped, "exactly-2": exactly,
            "health-exactly-2": health_k, "finite-mdp": finite_mdp}


INSTANCES = _instances()


def _make(name):
    return make_planner(name, **FAST_PARAMS.get(name, {}))


def _beliefs(inst, rng, k=3):
    out = [inst.initial_belief.copy()]
    for _ in range(k - 1):
        if inst.fully_observed:
            s = rng.integers(0, inst.n_states, inst.n_arms)
            out.append(np.eye(inst.n_states)[s])
        else:
            b = rng.dirichlet(np.ones(inst.n_states), inst.n_arms)
            out.append(b)
    if inst.fully_observed:
        out[0] = np.eye(inst.n_states)[np.zeros(inst.n_arms, dtype=int)]
    return out


def _check_feasible(inst, actions):
    assert isinstance(actions, np.ndarray)
    assert actions.shape == (inst.n_arms,)
    assert np.issubdtype(actions.dtype, np.integer)
    assert actions.min() >= 0 and actions.max() < inst.n_actions
    cost = inst.arms.costs[np.arange(inst.n_arms), actions].sum()
    assert cost <= inst.budget + 1e-9, f"cost {cost} > budget {inst.budget}"
    counts = np.bincount(actions, minlength=inst.n_actions)
    if inst.action_caps is not None:
        assert (counts <= inst.action_caps).all(), f"counts {counts} > caps {inst.action_caps}"
    active = inst.n_arms - counts[0]
    assert inst.min_active <= active <= (inst.max_active or inst.n_arms), active


def test_unknown_parameter_names_it_and_the_taken_ones():
    with pytest.raises(InvalidParameterError, match=r"make_planner\('myopic'\)\.horizon: not a "
                       r"parameter of this planner; it takes knapsack, dp_limit$"):
        make_planner("myopic", horizon=3)


@pytest.mark.parametrize("name", ["round-robin", "belief-threshold", "whittle"])
def test_arms_with_only_the_passive_action_say_so(name):
    """Refused with a pointer to the planners that answer (the message named only the
    missing action 1)."""
    from rmab.models import Instance, MDPArms

    T = np.tile([[[[0.9, 0.1], [0.2, 0.8]]]], (3, 1, 1, 1))
    arms = MDPArms(T, np.tile([[[0.0], [1.0]]], (3, 1, 1)), np.zeros((3, 1)))
    inst = Instance(arms, budget=1.0, discount=0.9, initial_belief=np.full((3, 2), 0.5))
    with pytest.raises(InvalidParameterError, match=r"action: must be < n_actions=1; got 1 "
                                                    r"\(these arms have only the passive"):
        make_planner(name).fit(inst)
    assert make_planner("myopic").fit(inst).plan(inst.initial_belief).tolist() == [0, 0, 0]


def test_whittle_multi_on_arms_with_only_the_passive_action_says_so():
    """As its siblings above: whittle-multi named only 'whittle_indices.arms' (a review)."""
    from rmab.models import Instance, MDPArms

    T = np.tile([[[[0.9, 0.1], [0.2, 0.8]]]], (3, 1, 1, 1))
    arms = MDPArms(T, np.tile([[[0.0], [1.0]]], (3, 1, 1)), np.zeros((3, 1)))
    inst = Instance(arms, budget=1.0, discount=0.9, initial_belief=np.full((3, 2), 0.5))
    with pytest.raises(InvalidParameterError, match=r"^WhittleMultiPlanner\.fit\.instance\."
                                                    r"n_actions: must be >= 2 .*; got 1 \(these "
                                                    r"arms have only the passive"):
        make_planner("whittle-multi").fit(inst)


def test_registry_lists_planners():
    assert {"no-action", "random", "round-robin", "myopic", "belief-threshold"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_not_fitted(name):
    p = _make(name)
    inst = INSTANCES["pomdp"]
    with pytest.raises(NotFittedError):
        p.plan(inst.initial_belief)
    with pytest.raises(NotFittedError):
        p.reset(seed=0)


def test_a_refused_fit_leaves_the_planner_unfitted():
    """fit stored the instance before _fit refused it: no-action then planned for a
    min_active it cannot meet, and a refused refit kept the old fit's indices (a review)."""
    from rmab.models import Instance, random_mdp_arms

    inst = Instance(random_mdp_arms(3, 2, 2, seed=0), budget=2.0, discount=0.9, min_active=2)
    p = make_planner("no-action")
    with pytest.raises(InvalidParameterError, match="min_active"):
        p.fit(inst, seed=0)
    assert not p.fitted
    with pytest.raises(NotFittedError):
        p.plan(inst.initial_belief)
    three = Instance(random_mdp_arms(3, 2, 3, seed=1), budget=2.0, discount=0.9)
    two = Instance(random_mdp_arms(3, 2, 2, seed=1), budget=2.0, discount=0.9)
    w = make_planner("whittle", action=2).fit(three, seed=0)
    with pytest.raises(InvalidParameterError):
        w.fit(two, seed=0)
    with pytest.raises(NotFittedError):
        w.plan(two.initial_belief)


@pytest.mark.parametrize("name,kind", list(itertools.product(NAMES, INSTANCES)))
def test_feasible_and_pure(name, kind):
    inst = INSTANCES[kind]
    if name == "no-action" and inst.min_active:
        with pytest.raises(InvalidParameterError, match=r"min_active: must be 0 .* never acts"):
            _make(name).fit(inst)
        return
    p = _make(name).fit(inst, seed=0)
    assert p.name == name
    p.reset(seed=1)
    before = {f: getattr(inst.arms, f).copy() for f in ("transitions", "rewards", "costs")}
    for t, b in enumerate(_beliefs(inst, np.random.default_rng(3))):
        b_copy = b.copy()
        actions = p.plan(b, t=t)
        _check_feasible(inst, actions)
        np.testing.assert_array_equal(b, b_copy)  # plan never mutates the belief
        assert b.flags.writeable
    for f, arr in before.items():
        np.testing.assert_array_equal(getattr(inst.arms, f), arr)


@pytest.mark.parametrize("name", NAMES)
def test_budget_zero_is_passive(name):
    inst = INSTANCES["pomdp"].replace(budget=0.0)
    p = _make(name).fit(inst, seed=0)
    actions = p.plan(inst.initial_belief)
    np.testing.assert_array_equal(actions, 0)


@pytest.mark.parametrize("name", NAMES)
def test_budget_covers_everything(name):
    base = INSTANCES["health"]
    inst = base.replace(budget=float(base.arms.costs.sum()))
    p = _make(name).fit(inst, seed=0)
    for b in _beliefs(inst, np.random.default_rng(5)):
        _check_feasible(inst, p.plan(b))


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_seed(name):
    inst = INSTANCES["health"]
    beliefs = _beliefs(inst, np.random.default_rng(7), k=4)

    def run():
        p = _make(name).fit(inst, seed=42)
        p.reset(seed=43)
        return [p.plan(b, t=t) for t, b in enumerate(beliefs)]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_bad_belief_shape(name):
    inst = INSTANCES["pomdp"]
    p = _make(name).fit(inst, seed=0)
    with pytest.raises(InvalidParameterError, match="belief"):
        p.plan(inst.initial_belief[:-1])
    with pytest.raises(InvalidParameterError, match=r"got \(\d+,\); states known exactly are "
                                                    r"one-hot beliefs: np.eye\(n_states\)"):
        p.plan(np.zeros(inst.n_arms, dtype=np.int64))               # states, not beliefs
    with pytest.raises(InvalidParameterError, match="sum to 1"):
        p.plan(inst.initial_belief * 2)


@pytest.mark.parametrize("name", NAMES)
def test_fit_rejects_non_instance(name):
    with pytest.raises(InvalidParameterError, match="Instance"):
        _make(name).fit("not an instance")


@pytest.mark.parametrize("name", NAMES)
def test_undiscounted_finite_horizon_pomdp(name):
    """Discount 1, horizon 4: every planner plans a feasible action at every period (the
    index planners with the finite-horizon belief indices)."""
    inst = health_intervention(6, budget_fraction=0.34, discount=1.0, horizon=4, seed=15)
    p = _make(name)
    p.fit(inst, seed=0)
    p.reset(seed=1)
    b = inst.initial_belief
    for t in range(inst.horizon):
        _check_feasible(inst, p.plan(b, t=t))
        b = np.random.default_rng(t).dirichlet(np.ones(inst.n_states), inst.n_arms)
