"""The knapsack under count limits (action caps, min/max active arms) against enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.errors import InfeasibleActionError, InvalidParameterError
import rmab.models.instance as instance_module
from rmab.models.arms import MDPArms
from rmab.models.instance import Instance, _cheapest_activation_lp, cheapest_activation
from rmab.relax.knapsack import fill_active, solve_knapsack


@st.composite
def limited_cases(draw):
    n_arms = draw(st.integers(1, 6))
    n_actions = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(size=(n_arms, n_actions))
    if draw(st.booleans()):
        values = np.round(values)
    costs = rng.uniform(0.0, 3.0, (n_arms, n_actions))
    places = draw(st.sampled_from([0, 2, None]))        # None: real costs (the MIP's case)
    if places is not None:
        costs = np.round(costs, places)
    costs[:, 0] = 0.0
    budget = draw(st.floats(0.0, 3.0 * n_arms))
    caps = np.r_[np.inf, [draw(st.sampled_from([np.inf, 0, 1, 2])) for _ in range(n_actions - 1)]]
    low = draw(st.integers(0, n_arms))
    high = draw(st.sampled_from([None, low, min(low + 1, n_arms), n_arms]))
    return values, costs, budget, caps, low, high


def _feasible(actions, costs, budget, caps, low, high):
    n = len(actions)
    counts = np.bincount(actions, minlength=costs.shape[1])
    active = n - counts[0]
    return (costs[np.arange(n), actions].sum() <= budget + 1e-9 * max(1.0, budget)
            and (counts <= caps).all() and active >= low and (high is None or active <= high))


def _brute(values, costs, budget, caps, low, high):
    n, a = values.shape
    best = None
    for joint in itertools.product(range(a), repeat=n):
        joint = np.array(joint)
        if _feasible(joint, costs, budget, caps, low, high):
            v = values[np.arange(n), joint].sum()
            best = v if best is None else max(best, v)
    return best


@settings(max_examples=300, deadline=None)
@given(limited_cases())
def test_mip_under_count_limits_equals_enumeration(case):
    values, costs, budget, caps, low, high = case
    best = _brute(values, costs, budget, caps, low, high)
    kw = dict(action_caps=caps, min_active=low, max_active=high)
    decimal = np.allclose(costs * 100, np.round(costs * 100), rtol=0, atol=1e-9)
    methods = ("auto", "mip", "greedy") + (("dp",) if decimal else ())
    for method in methods:
        if best is None:
            with pytest.raises(InfeasibleActionError, match="no joint action"):
                solve_knapsack(values, costs, budget, method=method, **kw)
            continue
        res = solve_knapsack(values, costs, budget, method=method, **kw)
        assert _feasible(res.actions, costs, budget, caps, low, high)
        assert res.value == pytest.approx(values[np.arange(len(values)), res.actions].sum())
        if method == "greedy":
            assert res.value <= best + 1e-9
        else:
            assert res.optimal
            assert res.value == pytest.approx(best, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(limited_cases())
def test_cheapest_activation_equals_enumeration(case):
    _, costs, _, caps, low, _ = case
    n, a = costs.shape
    costs_of = [costs[np.arange(n), j].sum() for j in map(np.array, itertools.product(
        range(a), repeat=n))
        if (np.bincount(j, minlength=a) <= caps).all() and (j > 0).sum() == low]
    got = cheapest_activation(costs, caps, low)
    if not costs_of:
        assert got is None
    else:
        assert got == pytest.approx(min(costs_of), abs=1e-9)


def test_cheapest_activation_is_exact_on_near_ties():
    """Costs 1e-6 apart and one dear action: the minimum exactly (HiGHS's LP, with costs
    scaled by the largest, stopped 1e-6 above it and an instance at that budget was refused);
    no 1e-7 where a free action is left."""
    c1 = np.array([1.000066, 1.000841, 1.000067, 1.000344, 1.00043, 1.000966])
    costs = np.stack([np.zeros(6), c1, np.full(6, 1000.0)], 1)
    assert cheapest_activation(costs, np.full(3, np.inf), 1) == 1.000066
    arms = MDPArms(np.broadcast_to(np.eye(2), (6, 3, 2, 2)), np.zeros((6, 2, 3)), costs)
    assert Instance(arms, budget=1.000066, min_active=1).min_active == 1
    capped = np.array([[0, 0, 1], [0, 0, 1e-7], [0, 0, 0]])
    assert cheapest_activation(capped, np.array([np.inf, 0, 1]), 1) == 0.0
    assert cheapest_activation(capped, np.array([np.inf, 0, 1]), 2) is None
    assert cheapest_activation(capped[:2], np.array([np.inf, 1, 1]), 2) == 1e-7


@pytest.mark.parametrize("k, cap, cells", [(40, 10, None), (400, 150, 10**7)])
def test_cheapest_activation_assignment_equals_flow_lp(k, cap, cells, monkeypatch):
    """The assignment equals the min-cost-flow LP it hands the largest cases to (the second
    case is beyond _ASSIGNMENT_CELLS at the default)."""
    if cells is not None:
        monkeypatch.setattr(instance_module, "_ASSIGNMENT_CELLS", cells)
    rng = np.random.default_rng(k)
    costs = np.sort(rng.random((1000, 4)), axis=1)
    costs[:, 0] = 0
    caps = np.array([np.inf, cap, np.inf, cap // 2])
    got = cheapest_activation(costs, caps, k)
    assert got == pytest.approx(_cheapest_activation_lp(costs, caps, k), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(limited_cases(), st.integers(0, 2**32 - 1))
def test_fill_active_reaches_min_active_from_any_feasible_start(case, seed):
    """From a feasible start with too few active arms, ``fill_active`` ends feasible (its
    greedy, or the MIP when the greedy misses) and keeps the start's arms when it can."""
    values, costs, budget, caps, low, high = case
    if _brute(values, costs, budget, caps, low, high) is None:
        return
    n = len(values)
    actions = np.zeros(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    for i in rng.permutation(n):         # a random start within budget and caps, below low
        a = int(rng.integers(1, costs.shape[1]))
        trial = actions.copy()
        trial[i] = a
        if (trial > 0).sum() < low and _feasible(trial, costs, budget, caps, 0, None):
            actions = trial
    fill_active(values, costs, budget, actions, action_caps=caps, min_active=low,
                max_active=high)
    assert _feasible(actions, costs, budget, caps, low, high)


def test_limits_are_validated_and_dp_refuses_them():
    v, c = np.ones((3, 3)), np.array([[0.0, 1.0, 2.0]] * 3)
    with pytest.raises(InvalidParameterError,
                       match=r"action_caps: entry 0 \(passive\) must be inf"):
        solve_knapsack(v, c, 3.0, action_caps=[1, 1, 1])
    with pytest.raises(InvalidParameterError,
                       match=r"action_caps: must have shape \(n_actions=3\)"):
        solve_knapsack(v, c, 3.0, action_caps=[np.inf, 1])
    with pytest.raises(InvalidParameterError, match=r"min_active: must be <= n_arms \(3\); got 4"):
        solve_knapsack(v, c, 3.0, min_active=4)
    with pytest.raises(InvalidParameterError,
                       match=r"max_active: must be >= min_active \(2\); got 1"):
        solve_knapsack(v, c, 3.0, min_active=2, max_active=1)
    with pytest.raises(InvalidParameterError, match=r"'dp' does not take count limits with a "
                                                    r"table of \d+ cells, more than "
                                                    r"dp_limit=20; use 'mip' or raise dp_limit"):
        solve_knapsack(v, c, 3.0, method="dp", action_caps=[np.inf, 1, np.inf], dp_limit=20)
    with pytest.raises(InvalidParameterError, match="with costs that are not decimals"):
        solve_knapsack(v, c + [0.0, 1e-4, 0.0], 3.0, method="dp", max_active=1)
    with pytest.raises(InvalidParameterError, match="cells, more than dp_limit=10"):
        solve_knapsack(v, c, 3.0, method="dp", max_active=2, dp_limit=10)
    with pytest.raises(InfeasibleActionError, match="no joint action gives 3 arms"):
        solve_knapsack(v, c, 2.0, min_active=3)


def test_exactly_k_takes_the_best_k_even_at_a_loss():
    """min_active = max_active = k: the k arms of highest value act, negative values too."""
    values = np.array([[0.0, -3.0], [0.0, -1.0], [0.0, 2.0], [0.0, -2.0]])
    costs = np.array([[0.0, 1.0]] * 4)
    res = solve_knapsack(values, costs, 4.0, min_active=2, max_active=2)
    assert res.actions.tolist() == [0, 1, 1, 0] and res.value == 1.0 and res.optimal
    assert solve_knapsack(values, costs, 4.0, max_active=2).actions.tolist() == [0, 0, 1, 0]


def test_limits_that_cannot_bind_take_the_unlimited_path():
    values = np.array([[0.0, 1.0], [0.0, 2.0]])
    costs = np.array([[0.0, 1.0], [0.0, 1.0]])
    res = solve_knapsack(values, costs, 1.0, action_caps=[np.inf, 5], max_active=2)
    assert res.method == "dp" and res.actions.tolist() == [0, 1]


@settings(max_examples=30, deadline=None)
@given(limited_cases())
def test_count_dp_kernel_equals_its_python_version(case):
    """Compiled and pure-Python (``py_func``, as under NUMBA_DISABLE_JIT) kernels agree."""
    from rmab.relax import _kernels as K

    values, costs, budget, caps, low, high = case
    gains = np.ascontiguousarray(values - values[:, :1])
    icosts = np.round(costs).astype(np.int64)
    top = len(values) if high is None else high
    icaps = np.where(np.isfinite(caps), caps, 0).astype(np.int64)
    stride = np.where(np.isfinite(caps), np.cumprod(np.r_[1, icaps[:-1] + 1]), 0)
    out = [np.zeros(len(values), np.int64) for _ in range(2)]
    v0 = K.mckp_count_dp_kernel(gains, icosts, int(budget), low, top, stride, icaps, out[0])
    kernel = K.mckp_count_dp_kernel           # itself under NUMBA_DISABLE_JIT=1
    v1 = getattr(kernel, "py_func", kernel)(gains, icosts, int(budget), low, top, stride, icaps,
                                            out[1])
    assert v0 == v1
    np.testing.assert_array_equal(out[0], out[1])


@settings(max_examples=300, deadline=None)
@given(limited_cases())
def test_dp_under_caps_equals_enumeration_and_says_so(case):
    """The DP with a count per capped action (costs on a decimal grid) is exact: its value is
    enumeration's, its answer feasible, and "auto" takes it."""
    values, costs, budget, caps, low, high = case
    costs = np.round(costs, 2)
    best = _brute(values, costs, budget, caps, low, high)
    kw = dict(action_caps=caps, min_active=low, max_active=high)
    if best is None:
        with pytest.raises(InfeasibleActionError, match="no joint action"):
            solve_knapsack(values, costs, budget, method="dp", **kw)
        return
    res = solve_knapsack(values, costs, budget, method="dp", **kw)
    assert res.method == "dp" and res.optimal
    assert _feasible(res.actions, costs, budget, caps, low, high)
    assert res.value == pytest.approx(best, abs=1e-9)
    assert solve_knapsack(values, costs, budget, **kw).method == "dp"


def test_tiny_costs_and_mixed_gain_scales_are_solved_exactly():
    """Cases a review found (HiGHS's absolute tolerances): costs of 1e-7 let the budget row
    overspend, and a gain of 1e7 scaled the others below the tolerance."""
    values = [[3, -2, -1], [-1, -2, -2], [-2, -2, -2], [3, -2, -2]]
    costs = [[0, 0, 9.140983022750618e-07], [0, 0, 5.363998912127454e-08],
             [0, 9.899033011412761e-08, 7.341418048983556e-07],
             [0, 9.560272676598676e-07, 6.206655383358171e-07]]
    res = solve_knapsack(values, costs, 9.140983022750618e-07, action_caps=[np.inf, 2, np.inf],
                         min_active=4)
    assert res.value == _brute(np.array(values, float), np.array(costs), 9.140983022750618e-07,
                               np.array([np.inf, 2, np.inf]), 4, None)
    res = solve_knapsack([[-0.3441, -0.3393, 0.9639, 0.1549]],
                         [[0, 8.238e-07, 5.508e-07, 2.6927e-07]], 2.6927e-07,
                         action_caps=[np.inf, 1, 0, 1], max_active=1)
    assert res.actions.tolist() == [3] and res.optimal
    values = [[0, 3, 0, 2], [0, -1, 3, 0], [0, 3, -1, 2], [0, 3, 1, 0], [0, -1, 1e7, 0],
              [0, -1, 2, 1]]
    costs = [[0, .2, 0, 0], [0, .3, .7, .2], [0, .3, .2, .2], [0, 0, .7, .2], [0, 1, 0, 1],
             [0, .3, 0, .7]]
    for method in ("mip", "auto"):
        res = solve_knapsack(values, costs, 1.4518191551357442, min_active=5, max_active=5,
                             method=method)
        assert res.value == 10000012.0 and res.optimal
    c = np.array([[0, 6.080983194572363e-07], [0, 6.289038794541151e-07],
                  [0, 8.623562657054478e-07]])
    assert cheapest_activation(c, np.full(2, np.inf), 1) == c[0, 1]


def test_fill_active_ranks_infinite_scores_first():
    """Whittle indices may be +inf: the MIP fallback must rank them first, not last."""
    costs = np.array([[0, 1.0, 2], [0, 1, 1], [0, 1, 1]])
    scores = np.array([[-np.inf, np.inf, -np.inf], [-np.inf, 1, -np.inf],
                       [-np.inf, 2, -np.inf]])
    actions = np.array([2, 0, 0])                   # its greedy cannot fit a second arm
    fill_active(scores, costs, 2.0, actions, min_active=2)
    assert actions.tolist() == [1, 0, 1]


def test_fill_active_fallback_keeps_the_arms_ranking_for_unscored_actions():
    """An index planner scores one action (here 2); when only action 1 fits, the MIP fallback
    must still prefer the arms of highest score (it picked by solver tie-break)."""
    costs = np.tile([0.0, 1.0, 3.0], (4, 1))
    scores = np.full((4, 3), -np.inf)
    scores[:, 2] = [0.1, 0.4, 0.3, 0.2]
    actions = np.zeros(4, dtype=np.int64)
    fill_active(scores, costs, 3.0, actions, min_active=2)
    assert actions.tolist() == [0, 1, 1, 0]


def test_many_capped_actions_do_not_overflow_the_dp_size():
    """22 actions capped at 7 make 8**22 codes, past int64: the size check once wrapped to 0
    and reported a solvable problem infeasible (a review); the MIP takes it now."""
    rng = np.random.default_rng(0)
    values, costs = rng.normal(size=(10, 23)), np.ones((10, 23))
    costs[:, 0] = 0.0
    caps = np.r_[np.inf, np.full(22, 7.0)]
    res = solve_knapsack(values, costs, 10.0, action_caps=caps)
    want = solve_knapsack(values, costs, 10.0, method="mip", action_caps=caps)
    assert res.method == "mip" and res.value == pytest.approx(want.value)
    with pytest.raises(InvalidParameterError, match=r"a table of 8\.12e\+21 cells, more than "
                                                    r"dp_limit=50000000; use 'mip' or raise"):
        solve_knapsack(values, costs, 10.0, method="dp", action_caps=caps)


def test_costs_just_off_the_grid_are_cut_off_to_the_proven_optimum(monkeypatch):
    """Costs 1e-9 above the decimal grid: the DP's answer overspends by rounding, and so do
    HiGHS's (any three arms); each is cut off and the MIP solved again until two arms, the
    optimum, come back proven. Should the cuts run out, the best action within the budget
    comes back with a warning that says so (it once read "HiGHS stopped early (status
    budget row)")."""
    from rmab.errors import SolverLimitWarning
    from rmab.relax import knapsack

    costs = np.array([[0, 1 + 9e-10]] * 3 + [[0, 1.0]])
    res = solve_knapsack(np.array([[0, 1.0]] * 4), costs, 3.0, method="dp", max_active=3)
    assert res.value == 2.0 and res.optimal
    monkeypatch.setattr(knapsack, "_CUTS", 1)
    with pytest.warns(SolverLimitWarning, match="overspent the budget by rounding"):
        res = solve_knapsack(np.array([[0, 1.0]] * 4), costs, 3.0, method="dp", max_active=3)
    assert res.value == 2.0 and not res.optimal
    assert costs[np.arange(4), res.actions].sum() <= 3.0


def test_an_explicit_dp_refuses_a_table_beyond_dp_limit():
    """Without count limits 'dp' built any table: a budget of 1e9 asked for gigabytes and the
    kernel was killed, taking a CSV run's other batches with it (a CSV review)."""
    values = np.array([[0.0, 1.0], [0.0, 2.0]])
    costs = np.array([[0.0, 1e9], [0.0, 1e9 - 1]])
    with pytest.raises(InvalidParameterError, match=r"solve_knapsack\.method: 'dp' needs a "
                                                    r"table of 2e\+09 cells, more than "
                                                    r"dp_limit=\d+; use 'mip' or raise"):
        solve_knapsack(values, costs, 1e9, method="dp")
    assert solve_knapsack(values, costs, 1e9, method="auto").value == 2.0


def test_a_budget_beyond_every_joint_action_solves_with_count_limits():
    """budget=1e21 ('only the count matters') with costs off the count DP's grid reached
    HiGHS as a row bound it reads as infinite: a raw SolverInputError (a review)."""
    from rmab.relax.knapsack import solve_knapsack

    rng = np.random.default_rng(0)
    values = np.c_[np.zeros(14), rng.normal(size=14)]
    costs = np.c_[np.zeros(14), rng.uniform(0.5, 1.5, 14)]
    res = solve_knapsack(values, costs, 1e21, max_active=3, method="mip")
    top3 = np.sort(np.maximum(values[:, 1], 0))[::-1][:3].sum()
    assert res.value == pytest.approx(top3) and (res.actions > 0).sum() <= 3


def test_the_helpers_for_user_planners_check_their_limits():
    """feasible_joint_actions took min_active=1.5 as 1 and returned nothing for caps of -1;
    fill_active took action_caps='abc' (a review)."""
    from rmab.relax.knapsack import feasible_joint_actions, fill_active

    costs = np.array([[0.0, 1.0, 2.0]] * 2)
    for kw, match in ((dict(min_active=1.5), r"feasible_joint_actions.min_active: must be an "
                                             r"integer; got 1.5"),
                      (dict(action_caps=[np.inf, -1, np.inf]), r"feasible_joint_actions."
                       r"action_caps: must be non-negative integers or inf; got -1")):
        with pytest.raises(InvalidParameterError, match=match):
            feasible_joint_actions(costs, 2.0, **kw)
    with pytest.raises(InvalidParameterError, match=r"fill_active.action_caps: must be an "
                                                    r"array of numbers; got 'abc'"):
        fill_active(np.zeros((2, 3)), costs, 2.0, np.zeros(2, dtype=np.int64),
                    action_caps="abc", min_active=1)


@pytest.mark.parametrize("change, error, match", [
    (dict(costs=[[0.0, 1.0, 2.0]] * 3), None, None),                  # a list is taken
    (dict(costs=[[0.0, -1.0, 2.0]] * 3), InvalidParameterError,
     r"fill_active\.costs: must be >= 0"),
    (dict(scores=np.zeros((1, 3))), InvalidParameterError,
     r"fill_active\.scores: must have the shape of the costs \(n_arms=3, n_actions=3\); got "
     r"\(1, 3\)"),
    (dict(scores=np.full((3, 3), np.nan)), InvalidParameterError,
     r"fill_active\.scores: must be a number; got nan"),
    (dict(actions=[0, 0, 0]), InvalidParameterError,
     r"fill_active\.actions: must be a writable int64 array of shape \(n_arms=3,\), filled in "
     r"place; got list"),
    (dict(actions=np.zeros(3, dtype=np.int32)), InvalidParameterError, r"got int32 array"),
    (dict(actions=np.array([0, 5, 0])), InvalidParameterError,
     r"fill_active\.actions: must be in 0\.\.2; got 0\.\.5"),
    (dict(actions=np.array([2, 2, 2])), InfeasibleActionError,
     r"fill_active\.actions: must be within the budget 2 before the fill; they cost 6"),
    (dict(budget=-1.0), InvalidParameterError, r"fill_active\.budget: must be >= 0"),
])
def test_fill_active_checks_what_a_user_planner_gives_it(change, error, match):
    """A fuzz review: lists gave AttributeError, a short score table IndexError, NaN scores
    were taken without a word (fill_active is the helper docs/planners.md offers)."""
    args = dict(scores=np.arange(9.0).reshape(3, 3), costs=np.array([[0.0, 1.0, 2.0]] * 3),
                budget=2.0, actions=np.zeros(3, dtype=np.int64))
    args.update(change)
    call = (lambda: fill_active(args["scores"], args["costs"], args["budget"], args["actions"],
                                min_active=1))
    if error is None:
        call()
        assert (args["actions"] > 0).sum() >= 1
    else:
        with pytest.raises(error, match=match):
            call()


def test_feasible_joint_actions_refuses_what_it_cannot_list():
    from rmab.relax.knapsack import feasible_joint_actions

    with pytest.raises(InvalidParameterError, match=r"feasible_joint_actions\.costs: enumerates "
                       r"n_actions \*\* n_arms joint actions, at most 1048576; got 5 \*\* 30"):
        feasible_joint_actions(np.zeros((30, 5)), 1.0)
    with pytest.raises(InvalidParameterError, match=r"feasible_joint_actions\.budget: must be "
                                                    r">= 0"):
        feasible_joint_actions(np.zeros((2, 2)), -1.0)
    assert feasible_joint_actions(np.zeros((10, 2)), 0.0).shape == (2**10, 10)


def test_the_mip_takes_tiny_gains_that_still_fit():
    """Gains are scaled by the largest, so a gain of 7e-6 beside one of 24 fell under HiGHS's
    tolerance: arm 1's action 2 (cost 1.14) was left out of room to spare, "optimal" (a
    review's stress run; the brute-force optimum is 71.85816046511)."""
    from rmab.relax.knapsack import solve_knapsack

    values = np.array([
        [0.057717704839834065, -0.021304974701352574, 0.020207234010742824],
        [-1.807728787373442e-05, -1.1094897459286742e-05, 8.511022031573838e-06],
        [-0.000856599475779747, 0.0010918337871151922, -0.0018494121577767413],
        [1.3094702357743925e-06, 1.4475243108970378e-05, 3.794366120869586e-06],
        [-10.95403488522587, 14.79669616999167, -13.92196163474172],
        [-0.0005935235689830219, 0.0005360193475895627, 0.0010328009967676029],
        [32.03511170719065, 55.9403655426173, -68.59940530496158],
        [-0.0859991322936583, -0.0479749446826771, -0.2037524527117805],
        [1.109241142990401, -0.0020926513110731968, -1.2715799141214823]])
    costs = np.array([
        [0.0, 0.8206195028149106, 0.9720603263494214],
        [0.0, 0.476082246921808, 1.1369059273843265],
        [0.0, 0.9787550443364079, 1.4449832998257732],
        [0.0, 1.058117228423271, 1.9108544849820295],
        [0.0, 0.7351205489209354, 1.116435671522052],
        [0.0, 1.1234253521654691, 1.2667432674632568],
        [0.0, 1.0951011843414045, 1.4628309105986887],
        [0.0, 0.7379316448760753, 1.7291620169243591],
        [0.0, 0.381897334044873, 1.3488998806829795]])
    budget = 5.523693368447788
    best = max(values[np.arange(9), a].sum() for a in itertools.product(range(3), repeat=9)
               if costs[np.arange(9), a].sum() <= budget)
    res = solve_knapsack(values, costs, budget, method="mip")
    assert res.value == pytest.approx(best, abs=1e-9) and res.cost <= budget + 1e-9
