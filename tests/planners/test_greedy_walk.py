"""The greedy index walk (``rmab.planners.index.index_walk``, a Numba kernel) that the index
planners and the ranked baselines (round-robin, belief-threshold) share, against the rule
written out in plain Python: arms in order, each taken while its cost fits in what is left of
the budget (one that does not is passed over, not a stop) and its action's cap allows; then,
with ``min_active``, passive arms made active in ranking order."""

import math

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from rmab._validation import budget_slack
from rmab.errors import InvalidModelError
from rmab.models import Instance, MDPArms
from rmab.planners import make_planner
from rmab.planners.baselines import _ranked_actions
from rmab.planners.index import index_walk

# cost steps between actions: integers, multiples of pi, decimals whose sums round (0.1 + 0.2)
STEPS = [0.0, 1.0, 2.0, math.pi, math.pi / 2, 0.1, 0.2, 0.3, 1 / 3]
# budgets below every cost are wanted here
pytestmark = pytest.mark.filterwarnings("ignore:Instance.budget.*so no arm can act")


def _cap(inst, action) -> float:
    """The most arms ``action`` may go to: its cap, and ``max_active``."""
    cap = math.inf if inst.action_caps is None else float(inst.action_caps[action])
    return cap if inst.max_active is None else min(cap, inst.max_active)


def reference_walk(inst, order, action):
    """The arms of ``order`` that take ``action``, in order, and the joint action."""
    costs = inst.arms.costs
    limit = inst.budget + 0.5 * budget_slack(inst.budget)   # the planners' rounding margin
    actions = np.zeros(inst.n_arms, dtype=np.int64)
    used, served = 0.0, []
    for arm in order:
        if len(served) < _cap(inst, action) and used + costs[arm, action] <= limit:
            actions[arm] = action
            used += costs[arm, action]
            served.append(int(arm))
    return actions, served


def reference_top_up(inst, ranking, action, actions):
    """``min_active``: passive arms in ranking order take ``action``, then (only if that is
    not enough) the other actions, arm by arm in ranking order, cheapest action first, while
    each fits and its cap allows. None when that greedy falls short (the MIP decides then)."""
    costs = inst.arms.costs
    caps = (np.full(inst.n_actions, math.inf) if inst.action_caps is None
            else inst.action_caps)
    need = inst.min_active - int((actions != 0).sum())
    left = (inst.budget + 0.5 * budget_slack(inst.budget)
            - costs[np.arange(inst.n_arms), actions].sum())
    counts = np.bincount(actions, minlength=inst.n_actions)
    others = [a for a in range(1, inst.n_actions) if a != action]
    for arm, a in [(arm, action) for arm in ranking] + [(arm, a) for arm in ranking
                                                        for a in others]:
        if need <= 0:
            break
        if actions[arm] == 0 and counts[a] + 1 <= caps[a] and costs[arm, a] <= left:
            actions[arm] = a
            counts[a] += 1
            left -= costs[arm, a]
            need -= 1
    return actions if need <= 0 else None


@st.composite
def instances(draw):
    n = draw(st.integers(1, 9))
    n_actions = draw(st.integers(2, 4))
    steps = draw(st.lists(st.lists(st.sampled_from(STEPS), min_size=n_actions - 1,
                                   max_size=n_actions - 1), min_size=n, max_size=n))
    costs = np.concatenate([np.zeros((n, 1)), np.cumsum(steps, axis=1)], axis=1)
    kind = draw(st.sampled_from(["subset", "pi", "tenths", "float", "zero", "all"]))
    if kind == "subset":                         # an exact fit, up to rounding
        pick = draw(st.lists(st.integers(0, n_actions - 1), min_size=n, max_size=n))
        budget = float(costs[np.arange(n), pick].sum())
    elif kind == "tenths":                       # 0.3: below 0.1 + 0.2 in floats
        budget = draw(st.integers(0, 6 * n)) / 10
    elif kind == "pi":
        budget = draw(st.integers(0, 3 * n)) * math.pi / draw(st.integers(1, 3))
    elif kind == "float":
        budget = draw(st.floats(0.0, float(costs.sum()) + 1.0))
    else:
        budget = 0.0 if kind == "zero" else float(costs[:, -1].sum())
    caps = draw(st.none() | st.lists(st.none() | st.integers(0, n), min_size=n_actions - 1,
                                     max_size=n_actions - 1))
    if caps is not None:
        caps = [math.inf] + [math.inf if c is None else c for c in caps]
    low = draw(st.just(0) | st.integers(1, n))
    high = draw(st.none() | st.integers(low, n))
    p = np.full((n, n_actions, 2, 2), 0.5)
    try:
        return Instance(MDPArms(p, np.zeros((n, 2, n_actions)), costs), budget,
                        action_caps=caps, min_active=low, max_active=high)
    except InvalidModelError:            # min_active out of reach: the planners never see it
        assume(False)


@settings(max_examples=250, deadline=None)
@given(inst=instances(), data=st.data())
def test_the_ranked_walk_follows_the_rule(inst, data):
    n = inst.n_arms
    ranking = np.array(data.draw(st.permutations(range(n))), dtype=np.int64)
    eligible = data.draw(st.integers(0, n))
    action = data.draw(st.integers(1, inst.n_actions - 1))
    actions, served = _ranked_actions(inst, ranking, eligible, action)
    expected, expected_served = reference_walk(inst, ranking[:eligible], action)
    assert served.tolist() == expected_served
    if inst.min_active:
        event("min_active")
        expected = reference_top_up(inst, ranking, action, expected)
    if len(expected_served) < eligible and len(expected_served) < _cap(inst, action):
        event("an arm passed over for its cost")
    if expected is None:                 # the greedy top-up fell short: the MIP's answer
        event("the top-up's MIP")
        assert inst.violation(actions) is None
    else:
        assert actions.tolist() == expected.tolist()


@settings(max_examples=150, deadline=None)
@given(inst=instances(), data=st.data())
def test_the_index_walk_takes_the_highest_indices_first(inst, data):
    """One level per arm (the whittle planner's walk): indices with ties, any threshold."""
    n = inst.n_arms
    action = data.draw(st.integers(1, inst.n_actions - 1))
    index = np.array(data.draw(st.lists(st.sampled_from([-1.0, 0.0, 0.5, math.pi, np.inf]),
                                        min_size=n, max_size=n)))
    threshold = data.draw(st.sampled_from([-np.inf, 0.0, 0.5]))
    order = sorted((arm for arm in range(n) if index[arm] > threshold),
                   key=lambda arm: (-index[arm], arm))          # ties: the lower arm first
    actions = index_walk(inst, index[:, None], [(0, action)], threshold)
    assert actions.tolist() == reference_walk(inst, order, action)[0].tolist()


@pytest.mark.parametrize("name", ["round-robin", "belief-threshold"])
@pytest.mark.parametrize("costs, budget, expected", [
    # pi fits, 2 pi is passed over, pi fills the budget to the last bit, pi/2 no longer fits
    ([math.pi, 2 * math.pi, math.pi, math.pi / 2], 2 * math.pi, [1, 0, 1, 0]),
    # 0.1 + 0.2 is 0.30000000000000004 in floats: within the rounding margin of 0.3
    ([0.1, 0.5, 0.2, 0.1], 0.3, [1, 0, 1, 0])])
def test_a_pass_over_and_float_costs_that_sum_to_the_budget(name, costs, budget, expected):
    n = len(costs)
    costs = np.stack([np.zeros(n), costs], axis=1)
    inst = Instance(MDPArms(np.full((n, 2, 2, 2), 0.5), np.zeros((n, 2, 2)), costs), budget)
    actions = make_planner(name).fit(inst).plan(np.tile([1.0, 0.0], (n, 1)))
    assert actions.tolist() == expected
