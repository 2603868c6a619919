"""Public Bayes filter and samplers: hand-computed values, frequencies, properties, error paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from rmab.belief import (check_actions, check_beliefs, sample_next, sample_states,
                         signal_probabilities, update_beliefs)
from rmab.errors import ImpossibleSignalError, InvalidParameterError
from rmab.models import MDPArms, POMDPArms, collapsing_arms, random_pomdp_arms

P2 = np.array([[[0.9, 0.1], [0.2, 0.8]],    # action 0
               [[0.5, 0.5], [0.0, 1.0]]])   # action 1
O2 = np.array([[[0.7, 0.3], [0.1, 0.9]],    # action 0: Pr(o | s')
               [[1.0, 0.0], [0.25, 0.75]]])  # action 1


@pytest.fixture(scope="module")
def two_state():
    """Three copies of one hand-specified 2-state, 2-action, 2-signal arm."""
    return POMDPArms(np.stack([P2] * 3), np.stack([O2] * 3), np.zeros((3, 2)))


def test_bayes_filter_matches_hand_computation(two_state):
    b = np.array([[0.6, 0.4], [0.6, 0.4], [1.0, 0.0]])
    # arm 0, action 0, signal 1: prior (0.62, 0.38); joint (0.186, 0.342); posterior (31, 57)/88
    # arm 1, action 0, signal 0: joint (0.434, 0.038); posterior (217, 19)/236
    # arm 2, action 1, signal 1: prior (0.5, 0.5); joint (0, 0.375): surely state 1
    post = update_beliefs(two_state, b, [0, 0, 1], [1, 0, 1])
    np.testing.assert_allclose(post, [[31 / 88, 57 / 88], [217 / 236, 19 / 236], [0.0, 1.0]],
                               rtol=0, atol=1e-15)
    probs = signal_probabilities(two_state, b, [0, 0, 1])
    np.testing.assert_allclose(probs, [[0.472, 0.528], [0.472, 0.528], [0.625, 0.375]],
                               rtol=0, atol=1e-15)


def test_two_step_filter_equals_enumeration_over_hidden_paths(two_state):
    """Two updates in a row equal the posterior of the last state from the joint over paths."""
    b0 = np.array([0.3, 0.7])
    acts, sigs = (1, 0), (1, 0)
    joint = np.zeros(2)
    for s0 in range(2):
        for s1 in range(2):
            for s2 in range(2):
                joint[s2] += (b0[s0] * P2[acts[0], s0, s1] * O2[acts[0], s1, sigs[0]]
                              * P2[acts[1], s1, s2] * O2[acts[1], s2, sigs[1]])
    b = np.tile(b0, (3, 1))
    for a, o in zip(acts, sigs):
        b = update_beliefs(two_state, b, [a] * 3, [o] * 3)
    np.testing.assert_allclose(b, np.tile(joint / joint.sum(), (3, 1)), rtol=0, atol=1e-14)


def test_fully_observed_and_collapsing_special_cases():
    rng = np.random.default_rng(1)
    mdp = MDPArms(rng.dirichlet(np.ones(3), (4, 2, 3)), np.zeros((4, 3)))
    b = rng.dirichlet(np.ones(3), 4)
    post = update_beliefs(mdp, b, [0, 1, 1, 0], [2, 0, 1, 2])
    np.testing.assert_array_equal(post, np.eye(3)[[2, 0, 1, 2]])  # the signal is the state
    arms = collapsing_arms(4, 3, seed=0)
    nothing = np.full(4, 3)  # resting: the uninformative signal; belief just propagates
    post = update_beliefs(arms, b, np.zeros(4, np.int64), nothing)
    expected = np.einsum("ns,nst->nt", b, arms.transitions[:, 0])
    np.testing.assert_allclose(post, expected, rtol=0, atol=1e-14)


def test_out_is_written_and_inputs_are_not_mutated(two_state):
    b = np.array([[0.6, 0.4], [0.5, 0.5], [0.1, 0.9]])
    b_copy = b.copy()
    out = np.empty((3, 2))
    res = update_beliefs(two_state, b, np.array([0, 1, 0]), np.array([1, 1, 0]), out=out)
    assert res is out
    np.testing.assert_array_equal(b, b_copy)
    np.testing.assert_array_equal(out, update_beliefs(two_state, b, [0, 1, 0], [1, 1, 0]))


def test_float_actions_with_integer_values_are_accepted(two_state):
    b = np.full((3, 2), 0.5)
    np.testing.assert_array_equal(update_beliefs(two_state, b, [0.0, 1.0, 0.0], [1, 1, 0]),
                                  update_beliefs(two_state, b, [0, 1, 0], [1, 1, 0]))


def test_impossible_signal_names_the_arm():
    # collapsing arms: resting always emits the "nothing seen" signal 2, acting reveals the
    # next state (signal 0 or 1) and never emits signal 2
    arms = collapsing_arms(3, 2, seed=0)
    b = np.full((3, 2), 0.5)
    with pytest.raises(ImpossibleSignalError,
                       match=r"update_beliefs\.signals: must have positive probability under the "
                             r"model and belief; got signal 0 after action 0, which has "
                             r"probability 0 \(arm 1\)"):
        update_beliefs(arms, b, [1, 0, 0], [0, 0, 2])
    with pytest.raises(ImpossibleSignalError, match=r"got signal 2 after action 1.*\(arm 2\)"):
        update_beliefs(arms, b, [0, 1, 1], [2, 1, 2])
    # a signal that is impossible only because of the belief: action 1 keeps the state and
    # state 0 never emits signal 1 under it
    p = np.stack([np.stack([P2[0], np.eye(2)])] * 2)
    arms = POMDPArms(p, np.stack([O2] * 2), np.zeros((2, 2)))
    certain = np.array([[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(update_beliefs(arms, certain, [1, 0], [1, 1])[0], [0.0, 1.0])
    with pytest.raises(ImpossibleSignalError, match=r"got signal 1 after action 1.*\(arm 1\)"):
        update_beliefs(arms, certain, [1, 1], [1, 1])


def test_impossible_signal_at_the_first_arm_is_refused():
    """The kernel returns the failing arm's number: arm 0 is a failure too, not success (its
    row would be left all zero, off the simplex)."""
    arms = collapsing_arms(3, 2, seed=0)     # resting (action 0) never emits signal 0
    with pytest.raises(ImpossibleSignalError, match=r"after action 0.*\(arm 0\)"):
        update_beliefs(arms, np.full((3, 2), 0.5), [0, 1, 1], [0, 0, 1])


# ---------------------------------------------------------------- sampling


def test_sampling_frequencies_match_probabilities():
    """Next states and signals of many copies of one arm follow the model (chi-square)."""
    n = 40_000
    arms = random_pomdp_arms(1, 3, 2, 3, seed=4).select(np.zeros(n, np.int64))
    states = np.full(n, 1)
    actions = np.ones(n, np.int64)
    nxt, sig = sample_next(arms, states, actions, seed=123)
    p = arms.transitions[0, 1, 1]
    q = arms.observations[0, 1]
    counts = np.bincount(nxt, minlength=3)
    assert stats.chisquare(counts, n * p).pvalue > 1e-3
    joint = np.bincount(nxt * 3 + sig, minlength=9)  # (s', o) pairs
    assert stats.chisquare(joint, n * (p[:, None] * q).ravel()).pvalue > 1e-3
    b = np.tile([0.1, 0.0, 0.6, 0.3], (n, 1))
    drawn = np.bincount(sample_states(b, seed=7), minlength=4)
    assert drawn[1] == 0
    assert stats.chisquare(drawn[[0, 2, 3]], n * np.array([0.1, 0.6, 0.3])).pvalue > 1e-3


def test_sampling_is_seeded_and_uses_common_random_numbers():
    arms = random_pomdp_arms(50, 4, 3, 2, seed=0)
    states = np.arange(50) % 4
    actions = np.arange(50) % 3
    a = sample_next(arms, states, actions, seed=9)
    b = sample_next(arms, states, actions, seed=np.random.default_rng(9))
    c = sample_next(arms, states, actions, seed=10)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))
    u1, u2 = np.random.default_rng(1).random((2, 50))
    d = sample_next(arms, states, actions, u_state=u1, u_signal=u2)
    e = sample_next(arms, states, actions, u_state=u1.tolist(), u_signal=u2, seed=99)
    for x, y in zip(d, e):  # the uniforms win over the seed
        assert x.dtype == np.int64
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(sample_states(np.full((6, 2), 0.5), seed=3),
                                  sample_states(np.full((6, 2), 0.5), seed=3))
    # one uniform array alone was silently replaced by the seed's draws
    with pytest.raises(InvalidParameterError, match="u_state: must be given with u_signal.*"
                                                    "got only u_state"):
        sample_next(arms, states, actions, u_state=u1, seed=1)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2**32 - 1))
def test_beliefs_stay_on_simplex_along_simulated_paths(n, s, a, o, seed):
    """Filtering the signals of a simulated path keeps every belief on the simplex, and the
    true state always keeps positive belief."""
    rng = np.random.default_rng(seed)
    arms = random_pomdp_arms(n, s, a, o, concentration=0.3, seed=rng)
    belief = np.full((n, s), 1.0 / s)
    state = sample_states(belief, seed=rng)
    for _ in range(8):
        actions = rng.integers(0, a, n)
        state, signals = sample_next(arms, state, actions, seed=rng)
        belief = update_beliefs(arms, belief, actions, signals)
        assert belief.min() >= 0.0
        np.testing.assert_allclose(belief.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        assert np.all(belief[np.arange(n), state] > 0.0)


# ---------------------------------------------------------------- error paths


@pytest.fixture(scope="module")
def arms3():
    return random_pomdp_arms(3, 2, 2, 3, seed=0)


B = np.full((3, 2), 0.5)
A = np.array([0, 1, 0])
S = np.array([0, 2, 1])

UPDATE_BAD = [
    pytest.param(dict(arms="arms"), r"update_beliefs\.arms: must be MDPArms or POMDPArms; got str",
                 id="arms-type"),
    pytest.param(dict(beliefs=np.full((3, 3), 1 / 3)),
                 r"update_beliefs\.beliefs: must have shape \(n_arms=3, n_states=2\); got \(3, 3\)",
                 id="belief-shape"),
    pytest.param(dict(beliefs=[[0.5, 0.5], [1.5, -0.5], [0.5, 0.5]]),
                 r"update_beliefs\.beliefs: must be finite and >= 0; got -0\.5 \(arm 1, state 1\)",
                 id="belief-negative"),
    pytest.param(dict(beliefs=[[0.5, 0.5], [0.5, 0.5], [np.nan, 0.5]]),
                 r"update_beliefs\.beliefs: must be finite; got nan at index \(2, 0\) \(arm 2\)",
                 id="belief-nan"),
    # a float64 C-contiguous array skips the copy (the simulator's hot path), not the check
    pytest.param(dict(beliefs=np.array([[0.5, 0.5], [0.5, 0.5], [np.nan, 0.5]])),
                 r"update_beliefs\.beliefs: must be finite; got nan at index \(2, 0\) \(arm 2\)",
                 id="belief-nan-float64-array"),
    pytest.param(dict(beliefs=[[0.5, 0.5], [0.5, 0.6], [0.5, 0.5]]),
                 r"update_beliefs\.beliefs: rows must sum to 1 \(within 1e-6\); got 1\.1 \(arm 1\)",
                 id="belief-off-simplex"),
    pytest.param(dict(beliefs=[[0.5, 0.5], [0.3, 0.6], [0.5, 0.5]]),     # 0.8999999999999999
                 r"update_beliefs\.beliefs: rows must sum to 1 \(within 1e-6\); got 0\.9 \(arm 1\)",
                 id="belief-sum-shown-plainly"),
    pytest.param(dict(beliefs=[["a", "b"]] * 3), r"update_beliefs\.beliefs: must be an array of "
                 r"numbers", id="belief-strings"),
    # numbers written as strings and complex numbers were converted (with a ComplexWarning)
    pytest.param(dict(beliefs=[["0.5", "0.5"]] * 3), r"update_beliefs\.beliefs: must be an array "
                 r"of numbers; got \[\['0\.5'", id="belief-numeric-strings"),
    pytest.param(dict(beliefs=np.full((3, 2), 0.5 + 0j)), r"update_beliefs\.beliefs: must be an "
                 r"array of numbers", id="belief-complex"),
    pytest.param(dict(actions=[0, 1]),
                 r"update_beliefs\.actions: must have shape \(n_arms=3,\); got \(2,\)",
                 id="actions-shape"),
    pytest.param(dict(actions=[0, 2, 0]),
                 r"update_beliefs\.actions: must lie in \[0, 2\); got 2 \(arm 1\)",
                 id="action-too-large"),
    pytest.param(dict(actions=[0, 0, -1]),
                 r"update_beliefs\.actions: must lie in \[0, 2\); got -1 \(arm 2\)",
                 id="action-negative"),
    pytest.param(dict(actions=[0, 0.5, 1]),
                 r"update_beliefs\.actions: must be integers; got 0\.5 \(arm 1\)",
                 id="action-fraction"),
    pytest.param(dict(actions=[True, False, True]),
                 r"update_beliefs\.actions: must be integers; got dtype bool", id="action-bool"),
    pytest.param(dict(signals=[0, 3, 0]),
                 r"update_beliefs\.signals: must lie in \[0, 3\) or be -1 \(no signal: the "
                 r"prediction alone\); got 3 \(arm 1\)", id="signal-out-of-range"),
    pytest.param(dict(signals=[0, -2, 0]), r"update_beliefs\.signals: must lie in \[0, 3\) "
                                           r"or be -1 .*; got -2 \(arm 1\)", id="signal-below"),
    pytest.param(dict(signals=[[0, 1, 2]]),
                 r"update_beliefs\.signals: must have shape \(n_arms=3,\); got \(1, 3\)",
                 id="signals-shape"),
    pytest.param(dict(out=np.empty((3, 3))), r"update_beliefs\.out: must be a writeable "
                 r"C-contiguous float64 array of shape \(3, 2\) not sharing memory with beliefs",
                 id="out-shape"),
    pytest.param(dict(out=np.empty((3, 2), np.float32)), r"update_beliefs\.out: must be",
                 id="out-dtype"),
    pytest.param(dict(out=np.empty((2, 3)).T),
                 r"update_beliefs\.out: must be a writeable C-contiguous",
                 id="out-fortran"),
    pytest.param(dict(out=[[0.0, 0.0]] * 3), r"update_beliefs\.out: must be", id="out-list"),
]


@pytest.mark.parametrize("over, match", UPDATE_BAD)
def test_update_beliefs_rejects(arms3, over, match):
    args = dict(arms=arms3, beliefs=B, actions=A, signals=S)
    args.update(over)
    out = args.pop("out", None)
    with pytest.raises(InvalidParameterError, match=match):
        update_beliefs(args["arms"], args["beliefs"], args["actions"], args["signals"], out=out)


def test_update_beliefs_rejects_readonly_out(arms3):
    out = np.empty((3, 2))
    out.setflags(write=False)
    with pytest.raises(InvalidParameterError, match=r"update_beliefs\.out: must be a writeable"):
        update_beliefs(arms3, B, A, S, out=out)


def test_update_beliefs_rejects_out_sharing_memory(arms3):
    b = B.copy()
    with pytest.raises(InvalidParameterError, match=r"update_beliefs\.out: .*not sharing memory"):
        update_beliefs(arms3, b, A, S, out=b)
    big = np.zeros((6, 2))
    big[:3] = B
    with pytest.raises(InvalidParameterError, match=r"not sharing memory"):
        update_beliefs(arms3, big[:3], A, S, out=big[:3])
    np.testing.assert_array_equal(b, B)  # nothing was written before the check


@pytest.mark.parametrize("call, match", [
    (lambda arms: signal_probabilities(None, B, A),
     r"signal_probabilities\.arms: must be MDPArms or POMDPArms; got NoneType"),
    (lambda arms: signal_probabilities(arms, B[:2], A),
     r"signal_probabilities\.beliefs: must have shape \(n_arms=3, n_states=2\); got \(2, 2\)"),
    (lambda arms: signal_probabilities(arms, B, [0, 0, 5]),
     r"signal_probabilities\.actions: must lie in \[0, 2\); got 5 \(arm 2\)"),
    (lambda arms: sample_next([], [0, 0, 0], A, seed=0),
     r"sample_next\.arms: must be MDPArms or POMDPArms; got list"),
    (lambda arms: sample_next(arms, [0, 2, 0], A, seed=0),
     r"sample_next\.states: must lie in \[0, 2\); got 2 \(arm 1\)"),
    (lambda arms: sample_next(arms, [0, 1, 0], [0, 1, 3], seed=0),
     r"sample_next\.actions: must lie in \[0, 2\); got 3 \(arm 2\)"),
    (lambda arms: sample_next(arms, [0, 1, 0], A, seed=-3),
     r"sample_next\.seed: must be a non-negative integer; got -3"),
    (lambda arms: sample_next(arms, [0, 1, 0], A, u_state=[0.1, 0.2, 1.0], u_signal=[0.5] * 3),
     r"sample_next\.u_state: must be numbers in \[0, 1\); got 1\.0 \(arm 2\)"),
    # numbers written as strings were converted
    (lambda arms: sample_next(arms, [0, 1, 0], A, u_state=["0.1"] * 3, u_signal=[0.5] * 3),
     r"sample_next\.u_state: must be 3 numbers in \[0, 1\)"),
    (lambda arms: sample_states([[1.0, 0.0]], u_state=np.array([0.5 + 0j])),
     r"sample_states\.u_state: must be 1 numbers in \[0, 1\)"),
    (lambda arms: sample_next(arms, [0, 1, 0], A, u_state=[0.1] * 3, u_signal=[0.5, -0.1, 0.2]),
     r"sample_next\.u_signal: must be numbers in \[0, 1\); got -0\.1 \(arm 1\)"),
    (lambda arms: sample_next(arms, [0, 1, 0], A, u_state=[0.1] * 2, u_signal=[0.5] * 3),
     r"sample_next\.u_state: must have shape \(n_arms=3,\); got \(2,\)"),
    (lambda arms: sample_next(arms, [0, 1, 0], A, u_state=[0.1, np.nan, 0.2], u_signal=[0.5] * 3),
     r"sample_next\.u_state: must be numbers in \[0, 1\); got nan \(arm 1\)"),
    (lambda arms: sample_next(arms, [0, 1, 0], A, u_state=["x"] * 3, u_signal=[0.5] * 3),
     r"sample_next\.u_state: must be 3 numbers in \[0, 1\)"),
    (lambda arms: sample_states([["a", "b"]], seed=0),
     r"sample_states\.beliefs: must be an array of numbers"),
    (lambda arms: sample_states([["1", "0"]], seed=0),
     r"sample_states\.beliefs: must be an array of numbers"),
    (lambda arms: sample_states(np.full(4, 0.25), seed=0),
     r"sample_states\.beliefs: must be 2-dimensional; got \(4,\)"),
    (lambda arms: sample_states([[0.5, 0.6]], seed=0),
     r"sample_states\.beliefs: rows must sum to 1 \(within 1e-6\); got .*1\.1.* \(arm 0\)"),
    (lambda arms: sample_states(B, u_state=[0.0, 0.5, 1.5]),
     r"sample_states\.u_state: must be numbers in \[0, 1\); got 1\.5 \(arm 2\)"),
    (lambda arms: update_beliefs(arms, B, [0, 0.5, 1], S),
     r"update_beliefs\.actions: must be integers; got 0\.5 \(arm 1\)"),
    (lambda arms: update_beliefs(arms, B, [0, 1, np.nan], S),
     r"update_beliefs\.actions: must be integers; got nan \(arm 2\)"),
    (lambda arms: sample_states(B, seed="x"),
     r"sample_states\.seed: must be an integer, numpy SeedSequence or Generator; got 'x'"),
    (lambda arms: check_beliefs("owner", [[0.2, 0.2]], 1, 2),
     r"owner\.beliefs: rows must sum to 1 \(within 1e-6\); got .*0\.4.* \(arm 0\)"),
    (lambda arms: check_actions("owner", np.array([0, 1]), 2, 1, field="picks"),
     r"owner\.picks: must lie in \[0, 1\); got 1 \(arm 1\)"),
])
def test_public_functions_reject(arms3, call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call(arms3)


def test_belief_tolerance_is_loose_enough_for_accumulated_rounding(arms3):
    b = B + np.array([[1e-8, 0.0], [0.0, -1e-8], [0.0, 0.0]])
    post = update_beliefs(arms3, b, A, S)  # within 1e-6 of the simplex: accepted
    np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_belief_tolerance_is_1e6_on_both_sides_of_it(arms3):
    """The documented row-sum tolerance is 1e-6 (the error says so): 5e-7 off is accepted,
    3e-6 off is refused (a tolerance ten times looser took both)."""
    inside = B + np.array([[5e-7, 0.0], [0.0, -5e-7], [0.0, 0.0]])
    update_beliefs(arms3, inside, A, S)
    for off in (3e-6, -3e-6):
        outside = B + np.array([[0.0, 0.0], [off, 0.0], [0.0, 0.0]])
        with pytest.raises(InvalidParameterError, match=r"rows must sum to 1 .*\(arm 1\)"):
            update_beliefs(arms3, outside, A, S)


def test_rounding_below_zero_counts_as_zero_as_in_instances(arms3):
    """``1 - 0.9 - 0.1`` is -2.8e-17: Instance takes such an initial belief as 0, while
    update_beliefs refused it (a models review). Entries in [-1e-9, 0) are 0 now, in a copy;
    below that they are still refused."""
    b = np.array(B, dtype=float)
    b[0] = [1.0, 1 - 0.9 - 0.1]
    assert b[0, 1] < 0
    given = b.copy()
    post = update_beliefs(arms3, b, A, S)
    np.testing.assert_array_equal(b, given)
    np.testing.assert_allclose(post, update_beliefs(arms3, np.clip(b, 0, None), A, S),
                               rtol=0, atol=0)
    assert check_beliefs("x", b, 3, 2)[0, 1] == 0.0
    b[0] = [1.0 + 2e-9, -2e-9]
    with pytest.raises(InvalidParameterError, match=r"must be finite and >= 0; got -2e-09"):
        update_beliefs(arms3, b, A, S)
    # the error names the entry below -1e-9, not an allowed one before it (a diff review)
    b[0], b[1] = [1 + 1e-10, -1e-10], [1.5, -0.5]
    with pytest.raises(InvalidParameterError, match=r"got -0\.5 \(arm 1, state 1\)"):
        update_beliefs(arms3, b, A, S)
    # and the other places a belief is given take it too: PBVI's and the index's beliefs, a
    # .POMDP model's start
    from rmab.models.pomdp_format import PomdpModel
    from rmab.values.pbvi import check_belief_rows

    rows, _ = check_belief_rows("x", [[1.0, 1 - 0.9 - 0.1]], 2)
    assert rows.tolist() == [[1.0, 0.0]]
    with pytest.raises(InvalidParameterError, match=r"x\.b: must be finite and >= 0; got "
                                                    r"-0\.25 \(row 1, state 0\)"):
        check_belief_rows("x", [[1.0, 0.0], [-0.25, 1.25]], 2)
    one = random_pomdp_arms(1, 2, 2, 2, seed=0)
    assert PomdpModel(one, 0.9, [1.0, 1 - 0.9 - 0.1]).start.tolist() == [1.0, 0.0]
    from rmab.errors import InvalidModelError            # shown as given, not rounded
    with pytest.raises(InvalidModelError, match=r"got \[1\.000000001, -1e-09\] \(sum 1\.0\)"):
        PomdpModel(one, 0.9, [1 + 1e-9, -1e-9])


@pytest.mark.parametrize("actions, shown", [
    (np.array([np.inf, 0.0, 0.0]), "inf"),
    (np.array([2**64 - 1, 0, 0], dtype=np.uint64), "18446744073709551615"),
    (np.array([0, 0, 2.0**70]), r"1\.1805916207174113e\+21"),
])
def test_out_of_range_actions_are_reported_as_given(actions, shown):
    """They were cast to int64 first and reported as -9223372036854775808 or -1."""
    with pytest.raises(InvalidParameterError, match=rf"must lie in \[0, 2\); got {shown} "):
        check_actions("owner", actions, 3, 2)


def test_a_signal_of_minus_one_is_the_prediction_alone():
    """-1 is 'no signal' for estimate_hidden_arms, and field data of arms not called carries
    it: update_beliefs refused it (a walkthrough). Such an arm's belief is the prediction
    belief @ transitions[action] (numpy, the reference); the others' are updated as without
    it; an impossible signal still names its own arm."""
    arms = random_pomdp_arms(6, 3, 2, 3, seed=5)
    rng = np.random.default_rng(0)
    b = rng.dirichlet(np.ones(3), size=6)
    a = rng.integers(0, 2, 6)
    o = np.array([1, -1, 0, -1, 2, -1])
    got = update_beliefs(arms, b, a, o)
    none = o < 0
    want = np.einsum("ns,nst->nt", b[none], arms.transitions[np.flatnonzero(none), a[none]])
    np.testing.assert_allclose(got[none], want, rtol=0, atol=1e-14)
    seen = np.flatnonzero(~none)
    alone = update_beliefs(arms.select(seen), b[seen], a[seen], o[seen])
    np.testing.assert_array_equal(got[seen], alone)
    np.testing.assert_array_equal(update_beliefs(arms, b, a, np.full(6, -1))[none], got[none])
    obs = arms.observations.copy()
    obs[4, a[4], :, 2] = 0.0                         # signal 2 impossible for arm 4
    obs[4, a[4], :, 0] += arms.observations[4, a[4], :, 2]
    with pytest.raises(ImpossibleSignalError, match=r"\(arm 4\)$"):
        update_beliefs(POMDPArms(arms.transitions, obs, arms.rewards, arms.costs), b, a, o)


def test_value_queries_take_the_same_belief_tolerance():
    """check_belief_rows (AlphaVectors, bounds) holds the rows to the same 1e-6 as
    check_beliefs: 5e-7 off is taken, 3e-6 off refused (a tolerance ten times looser took
    both)."""
    from rmab.values.pbvi import check_belief_rows

    rows, _ = check_belief_rows("x", [[0.5, 0.5 + 5e-7]], 2)
    assert rows.shape == (1, 2)
    for off in (3e-6, -3e-6):
        with pytest.raises(InvalidParameterError, match=r"x\.b: rows must sum to 1; got "):
            check_belief_rows("x", [[0.5, 0.5], [0.5, 0.5 + off]], 2)
