"""Instance: validation errors, defaults and the derived quantities."""

import numpy as np
import pytest

from rmab.errors import InvalidModelError, RmabWarning
from rmab.models import Instance, MDPArms, POMDPArms


@pytest.fixture(scope="module")
def arms():
    p = np.full((3, 2, 2, 2), 0.5)
    o = np.full((3, 2, 2, 2), 0.5)
    return POMDPArms(p, o, np.zeros((3, 2)))


BAD = [
    pytest.param(dict(budget=-1.0), r"Instance\.budget: must be >= 0\.0; got -1\.0", id="budget<0"),
    pytest.param(dict(budget="3"), r"Instance\.budget: must be a number; got '3'", id="budget-str"),
    pytest.param(dict(budget=True), r"Instance\.budget: must be a number; got True",
                 id="budget-bool"),
    pytest.param(dict(budget=np.nan), r"Instance\.budget: must be finite; got nan",
                 id="budget-nan"),
    pytest.param(dict(discount=0.0), r"Instance\.discount: must be > 0\.0; got 0\.0",
                 id="discount-0"),
    pytest.param(dict(discount=1.5), r"Instance\.discount: must be <= 1\.0; got 1\.5",
                 id="discount>1"),
    pytest.param(dict(discount=1.0),
                 r"Instance\.horizon: must be set when discount is 1; got None",
                 id="discount-1-no-horizon"),
    pytest.param(dict(horizon=0), r"Instance\.horizon: must be >= 1; got 0", id="horizon-0"),
    pytest.param(dict(horizon=2.5), r"Instance\.horizon: must be an integer; got 2\.5",
                 id="horizon-frac"),
    pytest.param(dict(initial_belief=[[0.5, 0.5], [0.6, 0.6], [1.0, 0.0]]),
                 r"Instance\.initial_belief: rows must sum to 1 .*got .*1\.2.* at arm 1",
                 id="belief-sum"),
    pytest.param(dict(initial_belief=[[0.5, 0.5], [0.5, 0.5], [1.5, -0.5]]),
                 r"Instance\.initial_belief: must be non-negative; got .*-0\.5.* at arm 2, "
                 r"column 1", id="belief-negative"),
    pytest.param(dict(initial_belief=[[0.5, 0.5], [np.nan, 0.5], [1.0, 0.0]]),
                 r"Instance\.initial_belief: must be finite; got nan .*\(arm 1\)",
                 id="belief-nan"),
    pytest.param(dict(initial_belief=np.full((2, 2), 0.5)),
                 r"Instance\.initial_belief: must have shape \(n_arms=3, n_states=2\); "
                 r"got \(2, 2\)", id="belief-shape"),
    pytest.param(dict(initial_belief=[1 / 3] * 3),
                 r"Instance\.initial_belief: must have shape \(n_states=2\); got \(3,\)",
                 id="belief-1d-shape"),
    pytest.param(dict(name=7), r"Instance\.name: must be a string; got 7", id="name"),
]


def test_rewards_whose_values_overflow_float64_are_refused(arms):
    """Rewards of 1e308 passed 'rmab solve --check'; then myopic overflowed with a raw
    RuntimeWarning and whittle wrote a score of inf (a CLI review)."""
    half = np.full((3, 2, 2, 2), 0.5)
    big = POMDPArms(half, half, np.full((3, 2, 2), 1e298))
    with pytest.raises(InvalidModelError, match=r"Instance.rewards: must keep max\|r\| "
                                                r"Σ_t discount\^t .* <= 1e\+300 .*got max\|r\| "
                                                r"= 1e\+298 with discount 0.999"):
        Instance(arms=big, budget=1.0, discount=0.999)          # 1e298 x 1000 > 1e300
    Instance(arms=big, budget=1.0, discount=0.95)               # x 20: within
    Instance(arms=big, budget=1.0, discount=1.0, horizon=100)   # x 100
    with pytest.raises(InvalidModelError, match=r"discount 1 over 101 periods"):
        Instance(arms=big, budget=1.0, discount=1.0, horizon=101)
    costly = POMDPArms(half, half, np.ones((3, 2, 2)), [0.0, 1e299])   # the Lagrangian's to
    Instance(arms=costly, budget=2e299, discount=0.95)                  # check, when priced
    with pytest.raises(InvalidModelError, match=r"Instance.costs: must keep n_arms · max c "
                                                r"<= 1e\+300 .* got inf"):
        Instance(arms=POMDPArms(half, half, np.ones((3, 2, 2)), [0.0, 1.5e308]), budget=1.0)


@pytest.mark.parametrize("over, match", BAD)
def test_instance_rejects(arms, over, match):
    args = dict(arms=arms, budget=1.0)
    args.update(over)
    with pytest.raises(InvalidModelError, match=match):
        Instance(**args)


@pytest.mark.parametrize("bad", [{"transitions": 1}, None, np.zeros((2, 2, 2, 2))])
def test_instance_rejects_wrong_arms_type(bad):
    with pytest.raises(InvalidModelError,
                       match=r"Instance\.arms: must be MDPArms or POMDPArms; got "
                             + type(bad).__name__):
        Instance(bad, 1.0)


def test_replace_validates_and_rejects_unknown_fields(arms):
    inst = Instance(arms, 1.0)
    with pytest.raises(InvalidModelError, match=r"Instance\.replace: unknown fields \['bugdet'\]"):
        inst.replace(bugdet=2.0)
    # the typo alone was named, neither the field meant nor the fields there are
    with pytest.raises(InvalidModelError, match=r"unknown fields \['bugdet', 'zz'\] \('bugdet': "
                       r"did you mean 'budget'\?\); the fields are arms, budget, discount, "):
        inst.replace(bugdet=2.0, zz=1)
    with pytest.raises(InvalidModelError, match=r"Instance\.budget: must be >= 0"):
        inst.replace(budget=-2)
    other = inst.replace(budget=2, horizon=5, discount=1.0)
    assert (other.budget, other.horizon, other.discount) == (2.0, 5, 1.0)
    assert inst.budget == 1.0 and inst.horizon is None  # the original is untouched


def test_defaults_and_coercion(arms):
    inst = Instance(arms, np.int64(2), horizon=np.int64(4))
    assert isinstance(inst.budget, float) and inst.budget == 2.0
    assert type(inst.horizon) is int and inst.horizon == 4
    assert inst.discount == 0.95 and inst.name == "instance" and inst.metadata == {}
    np.testing.assert_array_equal(inst.initial_belief, np.full((3, 2), 0.5))
    assert inst.initial_belief.dtype == np.float64 and not inst.initial_belief.flags.writeable
    assert (inst.n_arms, inst.n_states, inst.n_actions, inst.n_obs) == (3, 2, 2, 2)
    assert inst.fully_observed is False


def test_belief_broadcast_and_metadata_copy(arms):
    meta = {"source": "test"}
    inst = Instance(arms, 1.0, initial_belief=[0.25, 0.75], metadata=meta)
    np.testing.assert_array_equal(inst.initial_belief, [[0.25, 0.75]] * 3)
    meta["source"] = "changed"
    assert inst.metadata == {"source": "test"}


def test_fully_observed_instance():
    mdp = MDPArms(np.full((2, 2, 3, 3), 1 / 3), np.zeros((2, 3)))
    inst = Instance(mdp, 0.0, initial_belief=[1.0, 0.0, 0.0])
    assert inst.fully_observed and inst.n_obs == 3 and inst.budget == 0.0


@pytest.mark.parametrize("discount", [0.5, 0.9, 0.95, 0.99])
def test_episode_length_truncates_tail_to_one_percent(arms, discount):
    length = Instance(arms, 1.0, discount=discount).episode_length
    assert discount ** length <= 1e-2 < discount ** (length - 1)
    assert Instance(arms, 1.0, discount=discount, horizon=7).episode_length == 7


@pytest.mark.parametrize("bad", [[1, 2], "text", 5])
def test_metadata_must_be_a_mapping(arms, bad):
    with pytest.raises(InvalidModelError,
                       match=rf"Instance\.metadata: must be a mapping; got {type(bad).__name__}"):
        Instance(arms, 1.0, metadata=bad)


def test_non_finite_integer_fields_are_typed_errors():
    import rmab
    with pytest.raises(rmab.InvalidParameterError, match="n_arms: must be finite"):
        rmab.health_intervention(float("nan"))
    arms = rmab.random_mdp_arms(2, 2, seed=0)
    with pytest.raises(rmab.InvalidModelError, match="horizon: must be finite"):
        rmab.Instance(arms, 1.0, horizon=float("inf"))


def test_select_rejects_float_indices():
    import rmab
    arms = rmab.random_mdp_arms(3, 2, seed=0)
    with pytest.raises(rmab.InvalidModelError, match="select.index: must be integers"):
        arms.select([0.0, 1.5])


def test_repr_is_a_summary_not_the_arrays():
    from rmab.models import health_intervention

    inst = health_intervention(50, seed=0)
    assert repr(inst) == ("Instance(name='health-50', arms=POMDPArms(n_arms=50, n_states=2, "
                          "n_actions=3, n_obs=2), budget=5, discount=0.95, horizon=None)")
    assert repr(inst.arms.select([0, 1])) == "POMDPArms(n_arms=2, n_states=2, n_actions=3, n_obs=2)"


def test_violation_checks_the_actions_it_is_given():
    """-1 was read as the last action (and found feasible), 0 as a whole action vector, and
    wrong shapes or fractions raised IndexError (a practitioner's review)."""
    from rmab.errors import InvalidParameterError
    from rmab.models import health_intervention

    inst = health_intervention(10, seed=0, budget_fraction=0.5)
    for bad, match in ((np.array([-1] + [0] * 9), r"must lie in \[0, 3\); got -1 \(arm 0\)"),
                       (0, r"must have shape \(n_arms=10,\); got \(\)"),
                       (np.zeros(3, int), r"must have shape \(n_arms=10,\); got \(3,\)"),
                       (np.array([1.5] + [0] * 9), r"must be integers; got 1.5 \(arm 0\)")):
        with pytest.raises(InvalidParameterError, match=r"Instance.violation.actions: " + match):
            inst.violation(bad)
    assert inst.violation(np.zeros(10, int)) is None
    assert "must cost at most budget" in inst.violation(np.full(10, 2))


def test_initial_beliefs_take_the_tolerance_plan_takes(arms):
    """Beliefs rounded to 7 decimals planned fine but were refused as an instance's
    initial_belief (within 1e-9), breaking the README's weekly replace (a practitioner's
    review)."""
    rounded = np.array([[0.3333334, 0.6666667]] * 3)
    inst = Instance(arms=arms, budget=1.0, initial_belief=rounded)
    np.testing.assert_array_equal(inst.initial_belief, rounded)
    with pytest.raises(InvalidModelError, match=r"rows must sum to 1 \(within 1e-06\); got "
                                                r"1.01 at arm 0"):
        Instance(arms=arms, budget=1.0, initial_belief=[[0.34, 0.67]] * 3)
    with pytest.raises(InvalidModelError, match=r"got 0\.9 at arm 0$"):   # 0.8999999999999999
        Instance(arms=arms, budget=1.0, initial_belief=[[0.3, 0.6]] * 3)


def test_a_budget_below_every_active_cost_is_warned_of(arms):
    """A budget of 0.5 with calls costing 1 planned nothing for anyone, silently (a
    walkthrough); 0 is a deliberate "no action", and one affordable action is enough."""
    import warnings

    with pytest.warns(RmabWarning, match=r"^Instance\.budget: 0\.5 is below every active "
                                         r"action's cost \(the cheapest costs 1\), so no arm "
                                         r"can act$") as caught:
        Instance(arms, budget=0.5)
    assert caught[0].filename == __file__                      # the caller's line
    cheap = MDPArms(np.full((3, 2, 2, 2), 0.5), np.zeros((3, 2)), costs=[[0, 2], [0, 0.4],
                                                                         [0, 3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for inst_arms, budget in ((arms, 0.0), (arms, 1.0), (cheap, 0.5)):
            Instance(inst_arms, budget=budget)


def test_replace_warns_of_an_unusable_budget_only_when_budget_or_costs_change(arms):
    """Warned once when the instance is made: ``replace`` with the same budget and costs
    (another horizon, other rewards) said it again, at every re-solve of the Lagrangian
    planner and twice in every count-limited bound."""
    import warnings
    from dataclasses import replace

    from rmab.relax.lagrangian import lagrangian_bound

    with pytest.warns(RmabWarning, match="no arm can act"):
        inst = Instance(arms, budget=0.5, max_active=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inst.replace(horizon=3, discount=1.0)
        inst.replace(arms=replace(arms, rewards=2 * arms.rewards), max_active=2)
        lagrangian_bound(inst, price_limits=True)
    with pytest.warns(RmabWarning, match="0.7 is below every") as caught:
        inst.replace(budget=0.7)
    with pytest.warns(RmabWarning, match="the cheapest costs 2") as again:
        inst.replace(arms=replace(arms, costs=2 * arms.costs))
    # at the caller's line, not instance.py's (a walkthrough: replace is a frame deeper)
    assert caught[0].filename == again[0].filename == __file__


def test_violation_allows_rounding_relative_to_a_large_budget():
    """The slack a joint action may overspend is 1e-9 of the budget (at least 1e-9): at a
    budget of about 1e6 it is about 1e-3, so 5e-4 over is within it and 2e-3 over is not
    (hand-worked; an absolute 1e-9 refused float sums of large costs)."""
    half = np.full((2, 2, 2, 2), 0.5)
    arms = MDPArms(half, np.zeros((2, 2)), [0.0, 5e5])
    both = np.array([1, 1])                                   # costs 1e6 in all
    assert Instance(arms, budget=1e6 - 5e-4).violation(both) is None
    assert "overspend 0.002" in Instance(arms, budget=1e6 - 2e-3).violation(both)


def test_the_reward_scale_check_sums_the_discount_over_the_horizon():
    """With a horizon the bound on the values is max|r| Σ_{t<H} β^t: 1.5 max|r| for β = 0.5
    and H = 2 (summed by hand below), so 6e299 fits under 1e300 and 7e299 does not."""
    periods = sum(0.5 ** t for t in range(2))
    assert periods == 1.5 and 6e299 * periods <= 1e300 < 7e299 * periods
    half = np.full((1, 2, 2, 2), 0.5)

    def make(r):
        return Instance(MDPArms(half, np.full((1, 2), r)), 0.0, discount=0.5, horizon=2)

    assert make(6e299).horizon == 2
    with pytest.raises(InvalidModelError, match=r"got max\|r\| = 7e\+299 with discount 0\.5 "
                                                r"over 2 periods"):
        make(7e299)
