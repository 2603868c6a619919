"""Knapsack: set up once from the costs, budget and limits, then solved for any values, with
the answers of solve_knapsack called afresh; its own error paths; the planners build it in fit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.errors import InfeasibleActionError, InvalidParameterError
from rmab.models import random_instance
from rmab.planners.base import make_planner
from rmab.relax import Knapsack, solve_knapsack


@st.composite
def problems(draw):
    """Costs on the decimal grid or off it, a budget, optional count limits, a method and three
    value arrays (a planner's periods)."""
    n_arms = draw(st.integers(1, 6))
    n_actions = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    costs = rng.uniform(0.0, 3.0, (n_arms, n_actions))
    places = draw(st.sampled_from([0, 1, 3, None]))
    if places is not None:
        costs = np.round(costs, places)
    costs[:, 0] = 0.0
    budget = draw(st.floats(0.0, 3.0 * n_arms))
    limits = {}
    if n_actions > 1 and draw(st.booleans()):
        limits["action_caps"] = np.r_[np.inf, [draw(st.sampled_from([np.inf, 0, 1, 2]))
                                               for _ in range(n_actions - 1)]]
        limits["max_active"] = draw(st.sampled_from([None, 1, n_arms]))
    method = draw(st.sampled_from(["auto", "greedy", "mip"] + (["dp"] if places is not None
                                                               and not limits else [])))
    values = [rng.normal(size=(n_arms, n_actions)) for _ in range(3)]
    return costs, budget, limits, method, values


@settings(max_examples=150, deadline=None)
@given(problems())
def test_solving_a_set_up_knapsack_equals_solving_afresh(problem):
    costs, budget, limits, method, values = problem
    knapsack = Knapsack(costs, budget, method=method, **limits)
    for v in values:
        once = knapsack.solve(v)
        fresh = solve_knapsack(v, costs, budget, method=method, **limits)
        np.testing.assert_array_equal(once.actions, fresh.actions)
        assert (once.value, once.cost, once.method, once.optimal) == \
            (fresh.value, fresh.cost, fresh.method, fresh.optimal)
        assert once.method in (knapsack.method, "mip")      # the MIP takes what fails
    assert knapsack.method in ("dp", "greedy", "mip", "enumeration")


@pytest.mark.parametrize("n_arms, places, dp_limit, method", [
    (4, 0, 10**6, "dp"),                # the count DP
    (4, None, 10**6, "enumeration"),    # off the grid, 3**4 joint actions
    (12, None, 10**6, "mip"),           # off the grid, 3**12 joint actions
    (12, 0, 10, "mip"),                 # the count DP's table past dp_limit
])
def test_the_method_under_count_limits_is_known_before_solving(n_arms, places, dp_limit,
                                                               method):
    rng = np.random.default_rng(n_arms)
    costs = rng.uniform(0.0, 3.0, (n_arms, 3))
    costs = costs if places is None else np.round(costs, places)
    costs[:, 0] = 0.0
    knapsack = Knapsack(costs, 4.0, dp_limit=dp_limit, action_caps=[np.inf, 1, np.inf])
    assert knapsack.method == method
    assert knapsack.solve(rng.normal(size=(n_arms, 3))).method == method


def test_the_costs_are_copied():
    costs = np.tile([0.0, 1.0], (4, 1))
    knapsack = Knapsack(costs, 2.0)
    costs[:, 1] = 100.0                     # the caller's array, changed after set-up
    res = knapsack.solve(np.tile([0.0, 1.0], (4, 1)))
    assert res.cost == 2.0 and res.value == 2.0
    assert not knapsack.costs.flags.writeable


@pytest.mark.parametrize("args, kwargs, match", [
    (([[0.0, 1.0], [0.5, 1.0]], 1.0), {},
     r"Knapsack\.costs: passive action 0 must cost 0; got 0\.5 \(arm 1\)"),
    (([[0.0, 1.0]], -1.0), {}, r"Knapsack\.budget: must be >= 0\.0; got -1\.0"),
    (([[0.0, 1.0]], 1.0), dict(method="simplex"), r"Knapsack\.method: must be one of"),
    (([[0.0, 1.0 / 3.0]], 1.0), dict(method="dp"),
     r"Knapsack\.costs: must be integers or decimals of at most three places"),
    (([[0.0, 1.0]] * 3, 1.0), dict(action_caps=[np.inf, 1], min_active=2, method="dp"),
     r"Knapsack: no joint action gives 2 arms an active action within the caps"),
    (([[0.0, 1.0 / 3.0, 1.0]] * 3, 1.0), dict(action_caps=[np.inf, 1, np.inf], method="dp"),
     r"Knapsack\.method: 'dp' does not take count limits with costs that are not decimals"),
    (([[0.0, 1.0]] * 3, 1e6), dict(method="dp", dp_limit=10),
     r"Knapsack\.method: 'dp' needs a table of .* more than dp_limit=10"),
])
def test_set_up_errors_name_the_knapsack_and_the_field(args, kwargs, match):
    with pytest.raises((InvalidParameterError, InfeasibleActionError), match=match):
        Knapsack(*args, **kwargs)


def test_values_are_checked_against_the_costs():
    knapsack = Knapsack([[0.0, 1.0], [0.0, 2.0]], 2.0)
    with pytest.raises(InvalidParameterError, match=r"Knapsack\.solve\.values: must have the "
                                                     r"shape of the costs \(2, 2\); got \(3, 2\)"):
        knapsack.solve(np.zeros((3, 2)))
    with pytest.raises(InvalidParameterError, match=r"Knapsack\.solve\.values: must be finite; "):
        knapsack.solve([[0.0, np.nan], [0.0, 1.0]])
    with pytest.raises(InfeasibleActionError, match="no joint action gives 2 arms"):
        Knapsack([[0.0, 1.0], [0.0, 2.0]], 2.0, min_active=2).solve(np.zeros((2, 2)))


@pytest.mark.parametrize("name", ["myopic", "lagrangian"])
def test_planners_set_their_knapsack_up_in_fit(name):
    """An exact DP whose table is too large is refused by fit, not at the first plan."""
    inst = random_instance(3, n_states=2, n_actions=2, n_obs=None, budget=1.0, seed=0)
    planner = make_planner(name, knapsack="dp", dp_limit=1)
    with pytest.raises(InvalidParameterError, match=r"Knapsack\.method: 'dp' needs a table"):
        planner.fit(inst)
    assert not planner.fitted
    fitted = make_planner(name, knapsack="dp").fit(inst)
    actions = fitted.plan(inst.initial_belief)
    assert fitted.last_stats.info["knapsack"] == "dp"
    assert inst.violation(actions) is None


@pytest.mark.parametrize("limits", [{}, {"max_active": 50}])
def test_time_limit_warnings_name_the_entry_and_the_callers_line(limits):
    """The MIP's time-limit warning names the function or class the caller used and points at
    the caller's line (through Knapsack it pointed into knapsack.py, and a Knapsack's
    errors said 'solve_knapsack': a review)."""
    import warnings

    from rmab.errors import SolverLimitWarning

    rng = np.random.default_rng(0)
    values = rng.random((300, 3))
    costs = rng.uniform(0.0, 3.0, (300, 3))
    costs[:, 0] = 0.0
    for name, solve in (
            ("solve_knapsack", lambda: solve_knapsack(values, costs, 30.0, method="mip",
                                                      time_limit=1e-6, **limits)),
            ("Knapsack.solve", lambda: Knapsack(costs, 30.0, method="mip", time_limit=1e-6,
                                                **limits).solve(values))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = solve()
        assert not res.optimal and inst_cost(costs, res.actions) <= 30.0 + 1e-9
        assert [(w.category, w.filename) for w in caught] == [(SolverLimitWarning, __file__)]
        assert str(caught[0].message).startswith(f"{name}: ")
    with pytest.raises(InfeasibleActionError, match=r"^Knapsack\.solve: no joint action gives "
                                                     r"3 arms an active action within the "
                                                     r"budget 0\.5$"):
        Knapsack(np.tile([0.0, 1.0], (3, 1)), 0.5, min_active=3, method="greedy").solve(
            np.ones((3, 2)))


def inst_cost(costs, actions):
    return costs[np.arange(len(actions)), actions].sum()
