"""MDPArms / POMDPArms / concat_arms / select: validation errors and the data contract."""

import numpy as np
import pytest

from rmab.errors import InvalidModelError
from rmab.models import MDPArms, POMDPArms, concat_arms


def _transitions(n_arms=3, n_actions=2, n_states=2):
    p = np.empty((n_arms, n_actions, n_states, n_states))
    p[...] = 1.0 / n_states
    p[:, :, 0, 0] += 0.2
    p[:, :, 0, -1] -= 0.2  # n_states >= 2: row 0 is (0.5 + 0.2, ..., 0.5 - 0.2) for 2 states
    return p


def _observations(n_arms=3, n_actions=2, n_states=2, n_obs=2):
    return np.full((n_arms, n_actions, n_states, n_obs), 1.0 / n_obs)


def _rewards(n_arms=3, n_states=2, n_actions=2):
    return np.arange(n_arms * n_states * n_actions, dtype=float).reshape(n_arms, n_states,
                                                                          n_actions)


def _mdp(**over):
    args = dict(transitions=_transitions(), rewards=_rewards(), costs=None)
    args.update(over)
    return MDPArms(**args)


def _pomdp(**over):
    args = dict(transitions=_transitions(), observations=_observations(), rewards=_rewards(),
                costs=None)
    args.update(over)
    return POMDPArms(**args)


def _with(arr, index, value):
    arr = np.array(arr, dtype=float)
    arr[index] = value
    return arr


# ---------------------------------------------------------------- error paths (bad inputs)

P = _transitions()
BAD_MDP = [
    # (field overrides, message pattern)
    pytest.param(dict(transitions=_with(P, (1, 0, 1, 0), P[1, 0, 1, 0] + 0.1)),
                 r"MDPArms\.transitions: rows must sum to 1.*arm 1, action 0, state 1",
                 id="row-sum"),
    pytest.param(dict(transitions=_with(_with(P, (0, 1, 0, 0), -0.1), (0, 1, 0, 1), 1.1)),
                 r"MDPArms\.transitions: must be non-negative; got \S*-0\.1\)? at arm 0, action 1, "
                 r"state 0, column 0", id="negative"),
    pytest.param(dict(transitions=_with(_with(P, (2, 1, 1, 0), 1.5), (2, 1, 1, 1), -0.5)),
                 r"MDPArms\.transitions: must be non-negative.*arm 2, action 1, state 1, column 1",
                 id="negative-and-over-1"),
    pytest.param(dict(transitions=_with(_with(P, (2, 0, 0, 0), 1.5), (2, 0, 0, 1), 0.0)),
                 r"MDPArms\.transitions: must be at most 1; got \S*1\.5\)? at arm 2, action 0, "
                 r"state 0",
                 id="over-1"),
    # percentages, and a row of zeros (a state and action the data never saw), were named
    # without their likely cause
    pytest.param(dict(transitions=P * 100),
                 r"must be at most 1; got 70\.0 at arm 0, action 0, state 0, column 0 "
                 r"\(percentages\? the row sums to 100: divide by 100\)$", id="percent"),
    pytest.param(dict(transitions=_with(_with(P, (2, 1, 1, 0), 0.0), (2, 1, 1, 1), 0.0)),
                 r"rows must sum to 1 \(within 1e-09\); got 0 at arm 2, action 1, state 1 "
                 r"\(all zero: every row needs a distribution, one with no data to estimate "
                 r"it from too; rmab\.estimate_probabilities fills such rows from a prior\)$",
                 id="zero-row"),
    # the action and state axes swapped (3 actions, 2 states): the shape asked for was read
    # from the wrong axes, '(n_arms=4, n_actions=2, n_states=3, n_states=3)' (a walkthrough)
    pytest.param(dict(transitions=np.full((4, 2, 3, 2), 0.5)),
                 r"MDPArms\.transitions: must have shape \(n_arms, n_actions, n_states, "
                 r"n_states\); got \(4, 2, 3, 2\): the action and state axes swapped\? "
                 r"np\.swapaxes\(transitions, 1, 2\)$", id="axes-swapped"),
    # rows rounded where they were written (0.6667 + 0.3334) got no way to mend them
    pytest.param(dict(transitions=_with(P, (1, 0, 1, 0), P[1, 0, 1, 0] + 2e-4)),
                 r"rows must sum to 1 \(within 1e-09\); got 1\.0002 at arm 1, action 0, state 1 "
                 r"\(rounded where it was written\? transitions / transitions\.sum\(axis=-1, "
                 r"keepdims=True\) makes every row sum to 1\)$", id="rounded"),
    pytest.param(dict(transitions=_with(P, (1, 1, 0, 1), np.nan)),
                 r"MDPArms\.transitions: must be finite; got nan at index \(1, 1, 0, 1\) \(arm 1\)",
                 id="nan"),
    pytest.param(dict(transitions=_with(P, (2, 0, 1, 0), np.inf)),
                 r"MDPArms\.transitions: must be finite; got inf .*\(arm 2\)", id="inf"),
    pytest.param(dict(transitions=P[:, 0]),
                 r"MDPArms\.transitions: must have 4 dimensions \(n_arms, n_actions, n_states, "
                 r"n_states\); got shape \(3, 2, 2\) \(one arm's \(n_actions, n_states, "
                 r"n_states\)\? transitions\[None\] is a stack of that one arm\)$",
                 id="transitions-3d"),
    pytest.param(dict(transitions=np.full((3, 2, 2, 3), 1 / 3)),
                 r"MDPArms\.transitions: must have shape \(n_arms=3, n_actions=2, n_states=2, "
                 r"n_states=2\); got \(3, 2, 2, 3\)", id="transitions-not-square"),
    pytest.param(dict(transitions=np.empty((0, 2, 2, 2)), rewards=np.empty((0, 2, 2))),
                 r"MDPArms\.transitions: must have at least one arm", id="no-arms"),
    pytest.param(dict(transitions=[[["a", "b"]]]),
                 r"MDPArms\.transitions: must be an array of numbers", id="transitions-strings"),
    pytest.param(dict(rewards=_rewards() + 0.5j),     # not cast, dropping the imaginary part
                 r"MDPArms\.rewards: must be an array of numbers; got an array of dtype "
                 r"complex128, shape \(3, 2, 2\)$", id="rewards-complex"),
    pytest.param(dict(transitions=_transitions().astype(str)),    # a repr of lines, cut mid-row
                 r"MDPArms\.transitions: must be an array of numbers; got an array of dtype "
                 r"<U\d+, shape \(3, 2, 2, 2\) \(numbers as text\? "
                 r"transitions\.astype\(float\)\)$",
                 id="transitions-text"),
    pytest.param(dict(transitions=_transitions().astype(bytes)),    # text read as bytes
                 r"MDPArms\.transitions: must be an array of numbers; got an array of dtype "
                 r"\|S\d+, shape \(3, 2, 2, 2\) \(numbers as text\? "
                 r"transitions\.astype\(float\)\)$",
                 id="transitions-bytes"),
    pytest.param(dict(transitions=np.full((2, 2, 3), 0.5)),     # not one arm's: not square
                 r"MDPArms\.transitions: must have 4 dimensions; got shape \(2, 2, 3\)$",
                 id="transitions-3d-not-square"),
    pytest.param(dict(transitions=np.tile([[0.5, 0.6], [0.5, 0.3]], (3, 2, 1, 1))),
                 r"MDPArms\.transitions: rows must sum to 1 .*; got 1\.1 at arm 0, action 0, "
                 r"state 0$", id="one-column-sums-to-1"),   # not all: no swap told
    pytest.param(dict(transitions=_transitions().swapaxes(-1, -2)),  # cols sum to 1
                 r"MDPArms\.transitions: rows must sum to 1 .* \(the columns sum to 1: rows and "
                 r"columns swapped\? np\.swapaxes\(transitions, -1, -2\)\)$",
                 id="transitions-columns"),
    pytest.param(dict(rewards=_rewards()[:2]),
                 r"MDPArms\.rewards: must have shape \(n_arms=3, n_states=2, n_actions=2\); "
                 r"got \(2, 2, 2\)", id="rewards-shape"),
    pytest.param(dict(rewards=np.zeros((3, 3))),
                 r"MDPArms\.rewards: must have shape \(n_arms=3, n_states=2\); got \(3, 3\)",
                 id="rewards-2d-shape"),
    pytest.param(dict(rewards=[0.0, 1.0, 2.0]),
                 r"MDPArms\.rewards: must have shape \(n_states=2\); got \(3,\)",
                 id="rewards-1d-shape"),
    pytest.param(dict(rewards=_with(_rewards(), (2, 1, 0), np.nan)),
                 r"MDPArms\.rewards: must be finite; got nan .*\(arm 2\)", id="rewards-nan"),
    pytest.param(dict(costs=[[0, 1], [0, -1], [0, 1]]),
                 r"MDPArms\.costs: must be >= 0; got -1\.0 for action 1 \(arm 1\)",
                 id="negative-cost"),
    pytest.param(dict(costs=[[0, 1], [0, 1], [0.5, 1]]),
                 r"MDPArms\.costs: passive action 0 must cost 0; got 0\.5 \(arm 2\)",
                 id="passive-cost"),
    pytest.param(dict(transitions=_transitions(n_actions=3), rewards=_rewards(n_actions=3),
                      costs=[[0, 1, 2], [0, 2, 1], [0, 1, 1]]),
                 r"MDPArms\.costs: must be non-decreasing in the action; got 2\.0 then 1\.0 for "
                 r"actions 1, 2 \(arm 1\)", id="decreasing-cost"),
    pytest.param(dict(costs=[0, 1, 2]),
                 r"MDPArms\.costs: must have shape \(n_actions=2\); got \(3,\)", id="costs-1d"),
    pytest.param(dict(costs=np.zeros((2, 2))),
                 r"MDPArms\.costs: must have shape \(n_arms=3, n_actions=2\); got \(2, 2\)",
                 id="costs-shape"),
    pytest.param(dict(costs=[[0, np.inf]] * 3),
                 r"MDPArms\.costs: must be finite; got inf", id="costs-inf"),
]


@pytest.mark.parametrize("over, match", BAD_MDP)
def test_mdp_arms_rejects(over, match):
    with pytest.raises(InvalidModelError, match=match):
        _mdp(**over)


O = _observations()
BAD_POMDP = [
    pytest.param(dict(observations=_with(O, (0, 1, 1, 0), 0.7)),
                 r"POMDPArms\.observations: rows must sum to 1.*arm 0, action 1, next state 1",
                 id="obs-row-sum"),
    pytest.param(dict(observations=_with(_with(O, (2, 0, 1, 1), -0.25), (2, 0, 1, 0), 1.25)),
                 r"POMDPArms\.observations: must be non-negative; got \S*-0\.25\)? at arm 2, "
                 r"action 0, next state 1, column 1", id="obs-negative"),
    pytest.param(dict(observations=_with(O, (1, 0, 0, 1), np.nan)),
                 r"POMDPArms\.observations: must be finite; got nan .*\(arm 1\)", id="obs-nan"),
    pytest.param(dict(observations=np.full((3, 2, 3, 2), 0.5)),
                 r"POMDPArms\.observations: must have shape \(n_arms=3, n_actions=2, n_states=2, "
                 r"n_obs\); got \(3, 2, 3, 2\)", id="obs-states-mismatch"),
    pytest.param(dict(observations=np.empty((3, 2, 2, 0))),
                 r"POMDPArms\.observations: must have shape .*got \(3, 2, 2, 0\)", id="obs-none"),
    pytest.param(dict(observations=O[0]),
                 r"POMDPArms\.observations: must have shape \(n_arms=3, n_actions=2, n_states=2, "
                 r"n_obs\); got \(2, 2, 2\) \(POMDPArms\(transitions \(n_arms, ", id="obs-3d"),
    pytest.param(dict(transitions=_with(P, (0, 0, 0, 0), 2.0)),
                 r"POMDPArms\.transitions: must be at most 1; got \S*2\.0\)? at arm 0, action 0",
                 id="pomdp-transitions"),
    pytest.param(dict(costs=[[0, 1], [0, 1], [1, 1]]),
                 r"POMDPArms\.costs: passive action 0 must cost 0; got 1\.0 \(arm 2\)",
                 id="pomdp-passive-cost"),
]


@pytest.mark.parametrize("over, match", BAD_POMDP)
def test_pomdp_arms_rejects(over, match):
    with pytest.raises(InvalidModelError, match=match):
        _pomdp(**over)


SIGNATURE = ("POMDPArms(transitions (n_arms, n_actions, n_states, n_states), observations "
             "(n_arms, n_actions, n_states, n_obs), rewards (n_arms, n_states, n_actions), costs "
             "(n_arms, n_actions), optional); arms seen fully: MDPArms(transitions, rewards, "
             "costs))")


@pytest.mark.parametrize("rewards", [_rewards(), _rewards()[:, :, 0], _rewards()[0, :, 0]],
                         ids=["per-action", "per-state", "shared"])
def test_pomdp_arms_without_observations_are_told_the_arguments(rewards):
    """``POMDPArms(T, R, C)``, the observations left out, complained that the observations
    (the rewards) had 3 dimensions: a user's walkthrough."""
    with pytest.raises(InvalidModelError) as info:
        POMDPArms(_transitions(), rewards, [0.0, 1.0])
    assert str(info.value) == (
        f"POMDPArms.observations: must have shape (n_arms=3, n_actions=2, n_states=2, n_obs); "
        f"got {rewards.shape}, the shape of rewards (the observations left out? {SIGNATURE}")


def test_pomdp_arms_with_observations_of_another_shape_are_told_the_arguments():
    with pytest.raises(InvalidModelError) as info:
        POMDPArms(_transitions(), np.full((3, 2, 2, 2, 1), 0.5), _rewards())
    assert str(info.value) == (
        "POMDPArms.observations: must have shape (n_arms=3, n_actions=2, n_states=2, n_obs); "
        f"got (3, 2, 2, 2, 1) ({SIGNATURE}")


def test_concat_rejects_empty_mixed_and_mismatched():
    with pytest.raises(InvalidModelError, match=r"concat_arms\.stacks: must hold at least one"):
        concat_arms([])
    with pytest.raises(InvalidModelError,
                       match=r"concat_arms\.stacks: must all be MDPArms or all POMDPArms; got "
                             r"MDPArms, POMDPArms"):
        concat_arms([_mdp(), _pomdp()])
    three = MDPArms(np.full((1, 2, 3, 3), 1 / 3), np.zeros((1, 3)))
    with pytest.raises(InvalidModelError, match=r"^concat_arms\.stacks: must share \(n_states, "
                                                 r"n_actions, n_obs\); got \(2, 2, 2\) for stack "
                                                 r"0 and \(3, 2, 3\) for stack 2$"):
        concat_arms([_mdp(), _mdp(), three])
    more_obs = _pomdp(observations=_observations(n_obs=3))
    with pytest.raises(InvalidModelError, match=r"must share .*; got \(2, 2, 2\) for stack 0 "
                                                 r"and \(2, 2, 3\) for stack 1$"):
        concat_arms([_pomdp(), more_obs])


def test_select_rejects_bad_index():
    arms = _pomdp()
    with pytest.raises(InvalidModelError,
                       match=r"select\.index: must lie in \[-3, 3\) .*; got \[0, 3\]"):
        arms.select([0, 3])
    with pytest.raises(InvalidModelError, match=r"select\.index: must lie in \[-3, 3\)"):
        arms.select([-4])
    for big in (2**64 - 1, 2**64 - 3):             # wrapped to -1 and -3 by a cast (a review)
        with pytest.raises(InvalidModelError, match=r"select\.index: must lie in \[-3, 3\)"):
            arms.select(np.array([big], dtype=np.uint64))
    np.testing.assert_array_equal(arms.select(np.array([2], np.uint64)).rewards, arms.rewards[2:])
    np.testing.assert_array_equal(arms.select([-1]).rewards, arms.rewards[2:])   # as numpy
    with pytest.raises(InvalidModelError,
                       match=r"select\.index: boolean mask must have shape \(3,\); got \(2,\)"):
        arms.select(np.array([True, False]))


# ---------------------------------------------------------------- the data contract


@pytest.mark.parametrize("make", [_mdp, _pomdp], ids=["mdp", "pomdp"])
def test_arrays_are_readonly_float64_c_contiguous_copies(make):
    p = _transitions().astype(np.float32)
    arms = make(transitions=p, rewards=_rewards().astype(int))
    names = ["transitions", "rewards", "costs"] + ([] if arms.fully_observed else
                                                   ["observations"])
    for name in names:
        arr = getattr(arms, name)
        assert arr.dtype == np.float64, name
        assert arr.flags.c_contiguous, name
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr[(0,) * arr.ndim] = 1.0
    p[0, 0, 0, 0] = 0.0  # the caller's array is not aliased
    assert arms.transitions[0, 0, 0, 0] == pytest.approx(0.7)


def test_rounding_negatives_in_probabilities_are_zeroed():
    """1 - 0.9 - 0.1 is -2.8e-17: such entries (down to -PROB_TOL) were refused while row sums
    off by 1e-9 were taken; they are set to 0 in the arms' copy, the caller's array kept."""
    from rmab.models import Instance

    p = _transitions()
    p[0, 1, 0] = [1.0, 1 - 0.9 - 0.1]                     # -2.8e-17
    assert p[0, 1, 0, 1] < 0
    for make in (_mdp, _pomdp):
        arms = make(transitions=p)
        assert arms.transitions[0, 1, 0, 1] == 0.0 and p[0, 1, 0, 1] < 0
    obs = _observations()
    obs[1, 0, 1] = [1.0, -1e-12]
    assert _pomdp(observations=obs).observations[1, 0, 1, 1] == 0.0
    arms = _mdp()
    belief = np.tile([1.0, -1e-10], (arms.n_arms, 1))
    assert Instance(arms, 1.0, initial_belief=belief).initial_belief.min() == 0.0
    with pytest.raises(InvalidModelError, match=r"must be non-negative; got -1\.1e-09"):
        Instance(arms, 1.0, initial_belief=np.tile([1.0 + 1.1e-9, -1.1e-9], (arms.n_arms, 1)))


def test_sizes_and_len():
    arms = _pomdp(transitions=_transitions(4, 3, 5), observations=_observations(4, 3, 5, 6),
                  rewards=np.zeros((4, 5, 3)))
    assert (arms.n_arms, arms.n_actions, arms.n_states, arms.n_obs) == (4, 3, 5, 6)
    assert len(arms) == 4
    mdp = _mdp(transitions=_transitions(4, 3, 5), rewards=np.zeros((4, 5, 3)))
    assert (mdp.n_arms, mdp.n_actions, mdp.n_states, mdp.n_obs) == (4, 3, 5, 5)


def test_state_only_rewards_broadcast_over_actions():
    r2 = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    arms = _mdp(rewards=r2)
    assert arms.rewards.shape == (3, 2, 2)
    for a in range(2):
        np.testing.assert_array_equal(arms.rewards[:, :, a], r2)
    shared = POMDPArms(_transitions(), np.full((3, 2, 2, 2), 0.5), rewards=[0.0, 1.0],
                       costs=[0, 1])              # per state, as costs per action
    np.testing.assert_array_equal(shared.rewards, np.broadcast_to([[0.0], [1.0]], (3, 2, 2)))
    assert shared.rewards.flags.c_contiguous and not shared.rewards.flags.writeable


def test_costs_default_and_broadcast():
    arms = _mdp(transitions=_transitions(n_actions=3), rewards=_rewards(n_actions=3))
    np.testing.assert_array_equal(arms.costs, np.tile([0.0, 1.0, 2.0], (3, 1)))
    arms = _mdp(costs=[0.0, 2.5])
    np.testing.assert_array_equal(arms.costs, [[0.0, 2.5]] * 3)
    assert not arms.costs.flags.writeable


def test_mdp_observations_are_identity():
    arms = _mdp(transitions=_transitions(2, 3, 4), rewards=np.zeros((2, 4)))
    obs = arms.observations
    assert obs.shape == (2, 3, 4, 4) and obs.dtype == np.float64
    assert not obs.flags.writeable
    for n in range(2):
        for a in range(3):
            np.testing.assert_array_equal(obs[n, a], np.eye(4))
    assert arms.observations is obs  # computed once


def test_select_and_concat_round_trip():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(3), (5, 2, 3))
    o = rng.dirichlet(np.ones(2), (5, 2, 3))
    r = rng.random((5, 3, 2))
    c = np.array([[0.0, k] for k in range(1, 6)])
    arms = POMDPArms(p, o, r, c)
    part = arms.select([4, 1])
    np.testing.assert_array_equal(part.transitions, p[[4, 1]])
    np.testing.assert_array_equal(part.observations, o[[4, 1]])
    np.testing.assert_array_equal(part.costs, c[[4, 1]])
    mask = np.array([True, False, True, False, False])
    np.testing.assert_array_equal(arms.select(mask).rewards, r[mask])
    np.testing.assert_array_equal(arms.select(slice(1, 3)).transitions, p[1:3])
    np.testing.assert_array_equal(arms.select(-1).transitions, p[[-1]])
    back = concat_arms([arms.select(slice(0, 2)), arms.select(slice(2, 5))])
    assert isinstance(back, POMDPArms)
    for name in ("transitions", "observations", "rewards", "costs"):
        np.testing.assert_array_equal(getattr(back, name), getattr(arms, name))
    mdp = MDPArms(p, r, c)
    both = concat_arms([mdp, mdp.select([0])])
    assert isinstance(both, MDPArms) and both.n_arms == 6
