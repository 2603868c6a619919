"""A discount of 1 (the plain total) refused for want of a finite horizon is told, in one
wording everywhere, the finite-horizon way to ask for it; and that way is taken."""

import re
import warnings

import numpy as np
import pytest

import rmab
from rmab.domains.baselines import make_domain_planner
from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.relax import finite_whittle_indices

ARMS = rmab.random_mdp_arms(3, n_states=2, seed=0)
HIDDEN = rmab.random_pomdp_arms(3, n_states=2, seed=0)
HINT = " (discount 1, the plain total, needs a finite horizon: "

# (refused call, the message's start, how to give a horizon, that way's call with H = 3)
CASES = [
    (lambda: rmab.whittle_indices(ARMS, discount=1), "whittle_indices.discount: must be < 1.0; "
     "got 1.0", "rmab.relax.finite_whittle_indices(arms, horizon=H) gives the H-period indices",
     lambda: finite_whittle_indices(ARMS, horizon=3)),
    (lambda: rmab.belief_whittle_indices(HIDDEN, discount=1), "belief_whittle_indices.discount: "
     "must be < 1.0; got 1.0", "pass horizon=H",
     lambda: rmab.belief_whittle_indices(HIDDEN, discount=1, horizon=3, seed=0)),
    (lambda: rmab.solve_pbvi(HIDDEN, discount=1), "solve_pbvi.discount: must be < 1.0; got 1.0",
     "rmab.solve_finite_pbvi(arms, horizon=H)",
     lambda: rmab.solve_finite_pbvi(HIDDEN, horizon=3, seed=0)),
    (lambda: rmab.qmdp_bound(HIDDEN, discount=1), "qmdp_bound.discount: must be < 1.0; got 1.0",
     "pass horizon=H", lambda: rmab.qmdp_bound(HIDDEN, discount=1, horizon=3)),
    (lambda: rmab.fib_bound(HIDDEN, discount=1), "fib_bound.discount: must be < 1.0; got 1.0",
     "pass horizon=H", lambda: rmab.fib_bound(HIDDEN, discount=1, horizon=3)),
    (lambda: rmab.value_iteration(ARMS, discount=1), "value_iteration.horizon: must be set when "
     "discount is 1; got None", "pass horizon=H",
     lambda: rmab.value_iteration(ARMS, discount=1, horizon=3)),
    (lambda: rmab.policy_iteration(ARMS, discount=1), "policy_iteration.horizon: must be set "
     "when discount is 1; got None", "pass horizon=H",
     lambda: rmab.policy_iteration(ARMS, discount=1, horizon=3)),
    (lambda: rmab.Instance(ARMS, 1.0, discount=1), "Instance.horizon: must be set when discount "
     "is 1; got None", "pass horizon=H", lambda: rmab.Instance(ARMS, 1.0, discount=1, horizon=3)),
    (lambda: rmab.health_intervention(4, discount=1, seed=0), "Instance.horizon: must be set when "
     "discount is 1; got None", "pass horizon=H",
     lambda: rmab.health_intervention(4, discount=1, horizon=3, seed=0)),
    (lambda: make_domain_planner("whittle", discount=1), "WhittleDomainPlanner.discount: must be "
     "< 1.0; got 1.0", "pass horizon=H instead, whose indices are undiscounted",
     lambda: make_domain_planner("whittle", horizon=3)),
    # horizon given too: 'pass horizon=H' was told to a call that had passed it
    (lambda: make_domain_planner("whittle", discount=1, horizon=3), "WhittleDomainPlanner."
     "discount: must be < 1.0; got 1.0", "horizon=3 is given, whose indices are undiscounted "
     "already: leave the discount out", lambda: make_domain_planner("whittle", horizon=3)),
]


@pytest.mark.parametrize("refused, start, how, finite", CASES)
def test_discount_one_is_told_the_finite_horizon_way(refused, start, how, finite):
    with pytest.raises((InvalidParameterError, InvalidModelError)) as info:
        refused()
    assert str(info.value) == start + HINT + how + ")"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finite()                                    # the way told is taken


def test_discount_one_where_no_horizon_is_taken_says_so():
    with pytest.raises(InvalidParameterError, match="^" + re.escape(
            "LagrangianDomainPlanner.discount: must be < 1.0; got 1.0 (discount 1, the plain "
            "total, needs a finite horizon, which LagrangianDomainPlanner does not take)") + "$"):
        make_domain_planner("lagrangian", discount=1)



@pytest.mark.parametrize("discount, got", [(1.5, "must be < 1.0; got 1.5"),
                                           (True, "must be a number; got True"),
                                           (np.True_, "must be a number; got np.True_")])
def test_only_a_discount_of_one_is_told_the_finite_horizon_way(discount, got):
    """1.5 is no plain total, nor is True (a flag, not the number 1)."""
    with pytest.raises(InvalidParameterError) as info:
        rmab.whittle_indices(ARMS, discount=discount)
    assert str(info.value) == "whittle_indices.discount: " + got
