"""Hidden-state arms by EM, against enumeration of the hidden paths, the Bayes filter, and
recovery of a known model."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rmab
from rmab.errors import InvalidParameterError, RmabWarning
from rmab.models.hidden import _Records

P = np.array([[[0.9, 0.1], [0.3, 0.7]], [[0.6, 0.4], [0.1, 0.9]]])     # (A, S, S)
O = np.array([[[0.8, 0.2], [0.3, 0.7]], [[0.9, 0.1], [0.2, 0.8]]])     # (A, S, O)


def simulate(transitions, observations, b0, n_arms, n_periods, rng, missing=0.0):
    """Records (arm_index, actions, signals) of arms acting at random, each in time order;
    a passive period's signal is lost with probability ``missing``."""
    a_n, s_n, o_n = observations.shape
    arm, act, sig = [], [], []
    for n in range(n_arms):
        s = rng.choice(s_n, p=b0)
        for _ in range(n_periods):
            a = int(rng.integers(a_n))
            s = rng.choice(s_n, p=transitions[a, s])
            o = rng.choice(o_n, p=observations[a, s])
            arm.append(n), act.append(a)
            sig.append(-1 if a == 0 and rng.random() < missing else o)
    return np.array(arm), np.array(act), np.array(sig)


def enumerate_paths(transitions, observations, b0, actions, signals):
    """Likelihood and expected counts of one arm's records by summing over every hidden
    path."""
    s_n, o_n = observations.shape[1:]
    like = 0.0
    trans, obs, first = np.zeros(transitions.shape), np.zeros(observations.shape), np.zeros(s_n)
    for path in itertools.product(range(s_n), repeat=len(actions) + 1):
        w = b0[path[0]]
        for t, (a, o) in enumerate(zip(actions, signals)):
            w *= transitions[a, path[t], path[t + 1]]
            w *= observations[a, path[t + 1], o] if o >= 0 else 1.0
        like += w
        first[path[0]] += w
        for t, (a, o) in enumerate(zip(actions, signals)):
            trans[a, path[t], path[t + 1]] += w
            if o >= 0:
                obs[a, path[t + 1], o] += w
    return like, trans / like, obs / like, first / like


def random_rows(rng, shape):
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2**31))
def test_e_step_is_the_sum_over_hidden_paths(n_arms, n_states, n_actions, n_obs, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 5, n_arms)
    arm = np.repeat(np.arange(n_arms), lengths)
    rng.shuffle(arm)                          # arms interleaved, each in its own time order
    act = rng.integers(0, n_actions, len(arm))
    sig = rng.integers(-1, n_obs, len(arm))
    p = random_rows(rng, (n_arms, n_actions, n_states, n_states))
    o = random_rows(rng, (n_arms, n_actions, n_states, n_obs))
    b0 = random_rows(rng, (n_states,))
    if not len(arm):
        return
    step = _Records.of("test", arm, act, sig, n_arms, n_actions, n_obs).expect(p, o, b0)
    for n in range(n_arms):
        mine = arm == n
        like, trans, obs, first = enumerate_paths(p[n], o[n], b0, act[mine], sig[mine])
        assert step.arm_log_likelihood[n] == pytest.approx(np.log(like), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(step.transitions[n], trans, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(step.observations[n], obs, rtol=1e-10, atol=1e-13)
        if mine.any():                        # an arm without records: no belief counts
            np.testing.assert_allclose(step.first[n], first, rtol=1e-10, atol=1e-13)
        else:
            np.testing.assert_array_equal(step.first[n], 0.0)
        belief = b0.copy()                    # the Bayes filter, a second algorithm
        arms = rmab.POMDPArms(p[n:n + 1], o[n:n + 1], np.zeros(n_states))
        for a, s in zip(act[mine], sig[mine]):
            if s >= 0:
                belief = rmab.update_beliefs(arms, belief[None], [a], [s])[0]
            else:
                belief = belief @ p[n, a]
        np.testing.assert_allclose(step.beliefs[n], belief, rtol=1e-10, atol=1e-13)


@pytest.mark.filterwarnings("ignore::rmab.errors.ConvergenceWarning")     # max_iter=60
@settings(max_examples=15, deadline=None)
@given(st.integers(2, 3), st.integers(1, 2), st.integers(2, 3), st.integers(0, 2**31),
       st.sampled_from([0.5, 3.0, np.inf]), st.booleans())
def test_each_iteration_raises_its_objective(n_states, n_actions, n_obs, seed, strength,
                                             accelerate):
    rng = np.random.default_rng(seed)
    truth_p = random_rows(rng, (n_actions, n_states, n_states))
    truth_o = random_rows(rng, (n_actions, n_states, n_obs))
    arm, act, sig = simulate(truth_p, truth_o, np.full(n_states, 1 / n_states), 6, 12, rng,
                             missing=0.3)
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=7, n_states=n_states,
                                    n_actions=n_actions, n_obs=n_obs, strength=strength,
                                    n_starts=2, max_iter=60, seed=seed, accelerate=accelerate)
    tol = 1e-9 * (1 + np.abs(est.history_pooled).max())
    assert (np.diff(est.history_pooled) >= -tol).all()
    assert (np.diff(est.history_arms) >= -tol).all()
    if strength == np.inf:
        assert len(est.history_arms) == 0
        np.testing.assert_allclose(est.transitions, est.transitions[[0] * 7])
    np.testing.assert_allclose(est.transitions.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(est.beliefs.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(est.beliefs[6], est.initial_belief)   # arm 6: no records


def test_a_known_model_is_recovered():
    rng = np.random.default_rng(5)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 1500, 40, rng, missing=0.5)
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=1500, n_states=2, n_actions=2,
                                    n_obs=2, strength=np.inf, seed=0, tol=1e-9)
    assert est.converged
    # states numbered by mean signal: state 1 answers (signal 1) more often
    np.testing.assert_allclose(est.transitions[0], P, atol=0.03)
    np.testing.assert_allclose(est.observations[0], O, atol=0.03)
    np.testing.assert_allclose(est.initial_belief, [0.5, 0.5], atol=0.06)
    truth = _Records.of("test", arm, act, sig, 1500, 2, 2).expect(P[None], O[None], np.full(2, 0.5))
    assert est.log_likelihood >= truth.log_likelihood     # the maximum beats the truth


def test_a_start_fixes_the_states_and_a_fixed_belief_stays():
    rng = np.random.default_rng(2)
    arm, act, sig = simulate(P, O, np.array([0.2, 0.8]), 300, 20, rng)
    swap = [1, 0]
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=300, n_states=2, n_actions=2, n_obs=2,
                                    transitions=P[:, swap][:, :, swap],
                                    observations=O[:, swap],   # state 0 is the engaged one now
                                    initial_belief=[0.8, 0.2], fixed=("initial_belief",))
    np.testing.assert_array_equal(est.initial_belief, [0.8, 0.2])
    assert est.observations[0, 1, 0, 1] > est.observations[0, 1, 1, 1]    # kept as given
    again = rmab.estimate_hidden_arms(arm, act, sig, n_arms=300, n_states=2, n_actions=2,
                                      n_obs=2, seed=4)
    assert again.observations[0, 1, 1, 1] > again.observations[0, 1, 0, 1]  # by mean signal


def test_strength_moves_arms_between_their_own_and_the_pooled_rows():
    rng = np.random.default_rng(3)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 50, 30, rng)
    fits = [rmab.estimate_hidden_arms(arm, act, sig, n_arms=50, n_states=2, n_actions=2,
                                      n_obs=2, strength=k, seed=1) for k in (0.1, 10, 1e9)]
    spread = [f.transitions.std(axis=0).max() for f in fits]
    assert spread[0] > spread[1] > spread[2]
    assert spread[2] < 1e-6
    assert fits[0].log_likelihood > fits[1].log_likelihood > fits[2].log_likelihood


def test_the_same_seed_gives_the_same_arms_and_a_generator_works():
    rng = np.random.default_rng(0)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 20, 10, rng)
    kw = dict(n_arms=20, n_states=2, n_actions=2, n_obs=2, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # it converges: no warning
        a = rmab.estimate_hidden_arms(arm, act, sig, seed=11, **kw)
    assert a.converged
    with pytest.warns(rmab.ConvergenceWarning, match=r"stage stopped at max_iter=3 ") as caught:
        short = rmab.estimate_hidden_arms(arm, act, sig, seed=11, **{**kw, "max_iter": 3})
    assert [str(w.message).split(" stage")[0][-6:] for w in caught] == ["pooled", "er-arm"]
    assert {w.filename for w in caught} == {__file__}          # at the caller's line
    assert not short.converged and len(short.history_pooled) == 3 + 3   # the best start: 3 + 3
    b = rmab.estimate_hidden_arms(arm, act, sig, seed=11, **kw)
    np.testing.assert_array_equal(a.transitions, b.transitions)
    c = rmab.estimate_hidden_arms(arm, act, sig, seed=np.random.default_rng(11), **kw)
    assert c.transitions.shape == (20, 2, 2, 2)
    arms = a.arms([0.0, 1.0], costs=[0.0, 1.0])
    assert isinstance(arms, rmab.POMDPArms) and arms.n_arms == 20
    assert not a.beliefs.flags.writeable


KW = dict(n_arms=2, n_states=2, n_actions=2, n_obs=2)


@pytest.mark.parametrize("change, match", [
    (dict(signals=[0, 2, 1]), r"signals: must lie in \[0, 2\); got 2 \(record 1\) \(or -1"),
    (dict(signals=[0, -2, 1]), r"signals: .*got -2 \(record 1\) \(or -1 for no signal\)"),
    (dict(signals="abc"), r"signals: must have shape \(n_records=3,\); got \(\)$"),
    (dict(signals=[0, 1]), r"signals: must have shape \(n_records=3,\); got \(2,\)$"),
    (dict(actions=[0, 1, 0.5]), r"actions: must be integers; got 0.5 \(record 2\)"),
    (dict(arm_index=[0, 0, 2]), r"arm_index: must lie in \[0, 2\); got 2 \(record 2\)"),
    (dict(arm_index=[]), r"arm_index: must be a 1-D array .*at least one record"),
    (dict(arm_index=[[0, 0], [1]]), r"arm_index: must have shape \(n_records,\); got rows"),
    (dict(signals=[[0], [1, 1], 1]), r"signals: must have shape \(n_records=3,\); got rows of"),
    (dict(strength=0), r"strength: must be > 0 .*or inf"),
    (dict(strength=-np.inf), r"strength: must be finite"),
    (dict(n_starts=0), r"n_starts: must be"),
    (dict(observations=O[:, :, :1]),
     r"observations: must have shape \(2, 2, 2\) = \(n_actions, n_states, n_obs\); got"),
    (dict(transitions=P * 2), r"transitions: must be at most 1; got 1.8 at row 0, 0"),
    (dict(initial_belief=[0.5, 0.6]), r"initial_belief: rows must sum to 1 .*got 1.1 at the row"),
    (dict(observations=np.array([[[1.0, 0.0]] * 2] * 2)),
     r"signals: record 1 \(signal 1 after action 1\) has probability 0"),
    (dict(fixed="observations"), r"fixed: must be a tuple of names"),
    (dict(fixed=("signals",)), r"fixed: names must be among .*got 'signals'"),
    (dict(fixed=("observations",)), r"fixed: 'observations' is held at its given value; give"),
    (dict(accelerate="no"), r"estimate_hidden_arms\.accelerate: must be True or False; got 'no'"),
])
def test_bad_input_is_named(change, match):
    args = dict(arm_index=[0, 0, 1], actions=[0, 1, 0], signals=[0, 1, 1], **KW)
    args.update(change)
    with pytest.raises(InvalidParameterError, match=match):
        rmab.estimate_hidden_arms(args.pop("arm_index"), args.pop("actions"),
                                  args.pop("signals"), **args)


def test_a_known_signal_model_is_held_and_the_transitions_fitted_around_it():
    rng = np.random.default_rng(7)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 400, 30, rng, missing=0.5)
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=400, n_states=2, n_actions=2,
                                    n_obs=2, observations=O, fixed=("observations",),
                                    strength=np.inf, n_starts=3, seed=0)
    np.testing.assert_array_equal(est.observations, np.broadcast_to(O, (400, 2, 2, 2)))
    np.testing.assert_allclose(est.transitions[0], P, atol=0.05)
    free = rmab.estimate_hidden_arms(arm, act, sig, n_arms=400, n_states=2, n_actions=2,
                                     n_obs=2, strength=np.inf, n_starts=3, seed=0)
    assert free.log_likelihood >= est.log_likelihood - 1e-6     # more freedom, more likely


def test_rows_that_reach_zero_raise_no_numpy_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # 0 * log 0 in the log prior: 'invalid value'
        warnings.filterwarnings("ignore", ".*cannot determine it", RmabWarning)   # 3 signals
        est = rmab.estimate_hidden_arms([0, 0, 0, 1, 1], [0, 1, 1, 1, 0], [-1, 1, 1, 0, -1],
                                        n_arms=2, n_states=2, n_actions=2, n_obs=2, seed=0,
                                        accelerate=False)      # plain EM reaches exact zeros
    assert np.isfinite(est.history_arms).all() and (est.transitions == 0).any()


def test_an_action_never_followed_by_a_signal_gets_an_uninformative_signal_model():
    rng = np.random.default_rng(9)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 100, 20, rng, missing=1.0)
    assert (sig[act == 0] == -1).all()
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=100, n_states=2, n_actions=2,
                                    n_obs=2, strength=np.inf, n_starts=2, seed=0)
    np.testing.assert_array_equal(est.observations[:, 0], 0.5)   # passive: no signal seen
    assert abs(est.observations[0, 1, 0, 1] - est.observations[0, 1, 1, 1]) > 0.2


@pytest.mark.filterwarnings("ignore:.*cannot determine it:rmab.errors.RmabWarning")
def test_a_log_without_any_signal_is_refused():
    """Every signal missing: EM has nothing to learn from and returned its start, with a
    log-likelihood of 2e-16 (an audit); the fit and the strength scores are refused."""
    arm, act = np.repeat(np.arange(3), 4), np.tile([0, 1], 6)
    sig = np.full(12, -1)
    kwargs = dict(n_arms=3, n_states=2, n_actions=2, n_obs=2, seed=0)
    with pytest.raises(InvalidParameterError, match=r"^estimate_hidden_arms\.signals: must "
                                                    r"hold at least one signal; every record"):
        rmab.estimate_hidden_arms(arm, act, sig, **kwargs)
    with pytest.raises(InvalidParameterError, match=r"\.signals: must hold at least one"):
        rmab.score_hidden_strengths(arm, act, sig, **kwargs)
    sig[5] = 1
    assert rmab.estimate_hidden_arms(arm, act, sig, n_starts=1, **kwargs).log_likelihood <= 1e-12


def test_fewer_signals_than_free_parameters_are_warned_of_once():
    """A 6-record log gave near-certain beliefs (6.7e-18; 1) without a word (a walkthrough):
    4 signals cannot determine the pooled model's 7 free parameters (2 actions' transition
    rows, action 1's signal rows, the starting belief; action 0 is never heard)."""
    arm, act, sig = [0, 0, 0, 1, 1, 1], [1, 0, 1, 1, 1, 0], [1, -1, 0, 1, 1, -1]
    kw = dict(n_arms=2, n_states=2, n_actions=2, n_obs=2, seed=0)
    with pytest.warns(RmabWarning) as caught:
        rmab.estimate_hidden_arms(arm, act, sig, **kw)
    assert [str(w.message) for w in caught] == [
        "estimate_hidden_arms: the records hold 4 signals, fewer than the pooled model's 7 free "
        "parameters, so they cannot determine it: many models explain them alike, and EM's pick "
        "typically has probabilities of 0 or 1 and near-certain beliefs that the data do not "
        "support; log more signals, or hold a signal model you know fixed (fixed=; "
        "--known-signals on the command line)"]
    with pytest.warns(RmabWarning, match=r"hold 4 signals, fewer than the pooled model's 5 free"):
        rmab.estimate_hidden_arms(arm, act, sig, observations=O, fixed=("observations",), **kw)
    with warnings.catch_warnings():           # as many signals as free parameters: no warning
        warnings.simplefilter("error")
        rmab.estimate_hidden_arms(arm + [1] * 3, act + [1] * 3, sig + [0] * 3, **kw)


def test_squarem_reaches_plain_em_s_fixed_point_in_fewer_e_steps():
    rng = np.random.default_rng(5)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 600, 40, rng, missing=0.5)
    start = dict(transitions=[[[0.7, 0.3], [0.4, 0.6]]] * 2,
                 observations=[[[0.6, 0.4], [0.4, 0.6]]] * 2)
    fits = [rmab.estimate_hidden_arms(arm, act, sig, n_arms=600, n_states=2, n_actions=2,
                                      n_obs=2, strength=np.inf, tol=1e-11, max_iter=20000,
                                      accelerate=accelerate, **start)
            for accelerate in (False, True)]
    plain, fast = fits
    assert plain.converged and fast.converged
    np.testing.assert_allclose(fast.transitions, plain.transitions, atol=2e-4)
    np.testing.assert_allclose(fast.observations, plain.observations, atol=2e-4)
    assert fast.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-8)
    assert 3 * len(fast.history_pooled) < len(plain.history_pooled) / 2    # E-steps


def test_arms_without_records_do_not_change_the_pooled_fit():
    rng = np.random.default_rng(0)
    arm, act, sig = simulate(P, O, np.array([0.9, 0.1]), 200, 10, rng)
    fits = [rmab.estimate_hidden_arms(arm, act, sig, n_arms=n, n_states=2, n_actions=2, n_obs=2,
                                      transitions=P, observations=O, strength=np.inf)
            for n in (200, 20000)]             # 19 800 arms without records: the same data
    assert fits[1].converged
    np.testing.assert_allclose(fits[1].initial_belief, fits[0].initial_belief, atol=1e-6)
    np.testing.assert_allclose(fits[1].transitions[0], fits[0].transitions[0], atol=1e-6)
    assert fits[1].log_likelihood == pytest.approx(fits[0].log_likelihood, abs=1e-6)


@pytest.mark.filterwarnings("ignore:.*cannot determine it:rmab.errors.RmabWarning")
def test_rows_without_data_are_uniform_not_a_random_start():
    # the docs' example: no signal after action 0 (no call); action 2 never taken
    fits = [rmab.estimate_hidden_arms([0, 0, 0, 1, 1], [0, 1, 1, 1, 0], [-1, 1, 1, 0, -1],
                                      n_arms=2, n_states=2, n_actions=3, n_obs=2, seed=seed)
            for seed in (0, 1)]
    for est in fits:
        np.testing.assert_array_equal(est.observations[:, 0], 0.5)   # no information
        np.testing.assert_array_equal(est.observations[:, 2], 0.5)
        np.testing.assert_array_equal(est.transitions[:, 2], 0.5)
    given = rmab.estimate_hidden_arms([0, 0, 1], [0, 0, 0], [0, 1, 1], n_arms=2, n_states=2,
                                      n_actions=2, n_obs=2, transitions=P, observations=O)
    np.testing.assert_array_equal(given.observations[0, 1], O[1])     # a given row stays
    np.testing.assert_allclose(given.transitions[:, 1], P[[1, 1]])


def test_a_fixed_belief_is_not_renumbered():
    rng = np.random.default_rng(1)
    arm = np.repeat(np.arange(3), 6)
    act, sig = rng.integers(0, 2, 18), rng.integers(0, 2, 18)
    for seed in range(4):
        est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=3, n_states=2, n_actions=2,
                                        n_obs=2, initial_belief=[0.9, 0.1], seed=seed,
                                        fixed=("initial_belief",))
        np.testing.assert_array_equal(est.initial_belief, [0.9, 0.1])
    uniform = rmab.estimate_hidden_arms(arm, act, sig, n_arms=3, n_states=2, n_actions=2,
                                        n_obs=2, initial_belief=[0.5, 0.5], seed=1,
                                        fixed=("initial_belief",))
    weight = np.bincount(act, minlength=2)
    score = np.einsum("a,aso,o->s", weight, uniform.observations[0], np.arange(2.0))
    assert score[0] <= score[1]               # a uniform belief: still numbered by mean signal


def test_a_huge_strength_gives_finite_objectives_without_warnings():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", ".*cannot determine it", RmabWarning)   # 5 signals
        est = rmab.estimate_hidden_arms([0, 0, 1, 1, 1], [0, 1, 0, 1, 1], [0, 1, 1, 0, 1],
                                        n_arms=2, n_states=2, n_actions=2, n_obs=2,
                                        strength=1e308, seed=0)
    assert np.isfinite(est.history_arms).all() and est.converged


def test_sizes_too_big_are_refused():
    with pytest.raises(InvalidParameterError, match=r"n_arms \* n_actions \* n_states"):
        rmab.estimate_hidden_arms([0], [0], [0], n_arms=1, n_states=2**30, n_actions=2, n_obs=2)


def two_kinds_of_arms(rng, n_each=50, periods=120):
    """Records of n_each arms moving by P and n_each by a stickier model."""
    sticky = np.array([[[0.6, 0.4], [0.05, 0.95]], [[0.3, 0.7], [0.02, 0.98]]])
    parts = []
    for k, p in enumerate((P, sticky)):
        arm, act, sig = simulate(p, O, np.array([0.5, 0.5]), n_each, periods, rng, missing=0.3)
        parts.append((arm + n_each * k, act, sig))
    return [np.concatenate(x) for x in zip(*parts)]


def test_held_out_scores_prefer_pooling_alike_arms_and_shrinking_unlike_ones():
    alike = simulate(P, O, np.array([0.5, 0.5]), 200, 40, np.random.default_rng(3),
                     missing=0.5)
    kw = dict(n_arms=200, n_states=2, n_actions=2, n_obs=2, seed=0)
    scores = rmab.score_hidden_strengths(*alike, **kw)
    assert list(scores) == [0.3, 1.0, 3.0, 10.0, 30.0, 100.0, np.inf]
    assert np.all(np.diff(list(scores.values())) > 0)        # the arms are one: pool them
    unlike = two_kinds_of_arms(np.random.default_rng(3))
    scores = rmab.score_hidden_strengths(*unlike, **{**kw, "n_arms": 100})
    best = max(scores, key=scores.get)
    assert 0.3 < best < np.inf and scores[best] > scores[np.inf] + 0.005


def test_a_held_out_score_is_the_filter_s_predictive_likelihood():
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 5, 9, np.random.default_rng(8),
                             missing=0.3)
    kw = dict(n_arms=5, n_states=2, n_actions=2, n_obs=2, seed=0)
    score = rmab.score_hidden_strengths(arm, act, sig, strengths=[2.0], holdout=0.34, **kw)
    held = np.tile(np.arange(9) >= 6, 5)                    # 3 of 9 (0.34 * 9 rounded down)
    fit = rmab.estimate_hidden_arms(arm[~held], act[~held], sig[~held], strength=np.inf, **kw)
    fit = rmab.estimate_hidden_arms(arm[~held], act[~held], sig[~held], strength=2.0,
                                    transitions=fit.transitions[0],
                                    observations=fit.observations[0],
                                    initial_belief=fit.initial_belief, **kw)
    total = 0.0
    for n in range(5):                     # each arm's head filtered, its tail predicted
        belief = fit.initial_belief
        for k in np.flatnonzero(arm == n):
            ahead = belief @ fit.transitions[n, act[k]]
            if sig[k] >= 0:
                chance = ahead @ fit.observations[n, act[k], :, sig[k]]
                total += np.log(chance) if held[k] else 0.0
                ahead = ahead * fit.observations[n, act[k], :, sig[k]] / chance
            belief = ahead
    assert score[2.0] == pytest.approx(total / (held & (sig >= 0)).sum(), rel=1e-10)


@pytest.mark.parametrize("change, match", [
    (dict(holdout=1.0), r"score_hidden_strengths\.holdout: must be < 1"),
    (dict(holdout=0.01), r"holdout: holds out no record"),
    (dict(strengths=[1, 0]), r"score_hidden_strengths\.strengths: must be > 0"),
    (dict(strengths=[]), r"strengths: must be numbers > 0 \(or inf\), at least one"),
    (dict(strength=2.0), r"score_hidden_strengths\.strength: set by the scoring"),
    (dict(transitions=P), r"score_hidden_strengths\.transitions: set by the scoring"),
    (dict(n_arms=None), r"score_hidden_strengths\.n_arms: must be an integer|give n_arms"),
    (dict(n_arms="2"), r"score_hidden_strengths\.n_arms: must be an integer; got '2'"),
    (dict(accelerate=None), r"score_hidden_strengths\.accelerate: must be True or False"),
])
def test_bad_scoring_input_is_named(change, match):
    args = dict(n_arms=2, n_states=2, n_actions=2, n_obs=2, seed=0)
    args.update(change)
    if args["n_arms"] is None:
        del args["n_arms"]
    with pytest.raises(InvalidParameterError, match=match):
        rmab.score_hidden_strengths([0, 0, 0, 1, 1, 1], [0, 1, 1, 1, 0, 1], [0, 1, 1, 0, 1, 1],
                                    **args)


def test_a_held_out_signal_the_fit_rules_out_scores_minus_inf():
    # signal 2 only in the arms' held-out tails: the pooled signal model gives it 0
    arm, act, sig = np.repeat([0, 1], 8), np.ones(16, int), np.tile([0, 1] * 3 + [1, 2], 2)
    scores = rmab.score_hidden_strengths(arm, act, sig, strengths=[1.0, np.inf], n_arms=2,
                                         n_states=2, n_actions=2, n_obs=3, seed=0)
    assert scores == {1.0: -np.inf, np.inf: -np.inf}


def test_scoring_without_n_states_is_named():
    with pytest.raises(InvalidParameterError, match=r"score_hidden_strengths: give n_arms, "
                                                    r"n_states"):
        rmab.score_hidden_strengths([0, 0, 0, 0], [0, 1, 1, 1], [0, 1, 1, 0], n_arms=1,
                                    n_actions=2, n_obs=2)


def test_a_scoring_error_names_the_caller_s_record_and_function():
    arm = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])      # records 3, 10, 11 held out
    act = np.ones(12, int)
    sig = np.zeros(12, int)
    sig[5] = 1                              # a signal the fixed model rules out, kept
    never = np.array([[[1.0, 0.0], [1.0, 0.0]]] * 2)
    with pytest.raises(InvalidParameterError, match=r"^score_hidden_strengths\.signals: "
                                                    r"record 5 \(signal 1 after action 1\)"):
        rmab.score_hidden_strengths(arm, act, sig, n_arms=2, n_states=2, n_actions=2, n_obs=2,
                                    observations=never, fixed=("observations",), seed=0)
    with pytest.raises(InvalidParameterError, match=r"^score_hidden_strengths\.arm_index: must "
                                                    r"lie in \[0, 2\); got 7 \(record 0\)"):
        rmab.score_hidden_strengths([7], [0], [0], n_arms=2, n_states=2, n_actions=2, n_obs=2)


def test_the_free_parameters_count_signal_0_and_leave_out_what_is_fixed():
    """Counted by hand: 2 actions taken (2 * 2 * 1 transition parameters), action 1 heard,
    only ever as signal 0 (2 * 1 signal parameters), the belief (1): 7; 6 with the belief
    fixed; 4 with the signals fixed too, as many as the 4 signals: no warning."""
    arm, act, sig = [0, 0, 0, 1, 1, 1], [1, 0, 1, 1, 1, 0], [0, -1, 0, 0, 0, -1]
    kw = dict(n_arms=2, n_states=2, n_actions=2, n_obs=2, seed=0, n_starts=1)
    with pytest.warns(RmabWarning, match=r"hold 4 signals, fewer than the pooled model's 7 free"):
        rmab.estimate_hidden_arms(arm, act, sig, **kw)
    belief = dict(initial_belief=[0.5, 0.5], fixed=("initial_belief",))
    with pytest.warns(RmabWarning, match=r"hold 4 signals, fewer than the pooled model's 6 free"):
        rmab.estimate_hidden_arms(arm, act, sig, **belief, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rmab.estimate_hidden_arms(arm, act, sig, initial_belief=[0.5, 0.5], observations=O,
                                  fixed=("initial_belief", "observations"), **kw)


def test_sizes_at_the_limit_are_taken():
    # 1 * 2 * 2**15 * max(2**15, 1) = 2**31 probabilities, the most the docs allow: the sizes
    # pass, and the records are checked next
    with pytest.raises(InvalidParameterError, match=r"arm_index: must lie in \[0, 1\); got 5"):
        rmab.estimate_hidden_arms([5], [0], [0], n_arms=1, n_states=2**15, n_actions=2, n_obs=1)


def test_a_pooled_stage_stopped_by_max_iter_is_not_converged_without_a_per_arm_stage():
    rng = np.random.default_rng(0)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 20, 10, rng)
    with pytest.warns(rmab.ConvergenceWarning, match=r"the pooled stage stopped") as caught:
        est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=20, n_states=2, n_actions=2,
                                        n_obs=2, strength=np.inf, max_iter=2, seed=0)
    assert len(caught) == 1 and len(est.history_arms) == 0     # no per-arm stage ran
    assert not est.converged


def test_an_impossible_first_record_is_named_by_the_caller_s_number():
    # record 1 is arm 0's first (sorted first of all); the model never gives signal 1
    never = np.array([[[1.0, 0.0], [1.0, 0.0]]] * 2)
    with pytest.raises(InvalidParameterError, match=r"^estimate_hidden_arms\.signals: record 1 "
                                                    r"\(signal 1 after action 1\) has prob"):
        rmab.estimate_hidden_arms([1, 0, 0], [0, 1, 0], [0, 1, 0], **KW, observations=never)


def test_a_scoring_error_names_the_record_of_interleaved_arms():
    arm, act, sig = np.tile([0, 1], 6), np.ones(12, int), np.zeros(12, int)
    sig[3] = 1                      # arm 1's second record, kept (records 10, 11 held out)
    never = np.array([[[1.0, 0.0], [1.0, 0.0]]] * 2)
    with pytest.raises(InvalidParameterError, match=r"^score_hidden_strengths\.signals: "
                                                    r"record 3 \(signal 1 after action 1\)"):
        rmab.score_hidden_strengths(arm, act, sig, n_arms=2, n_states=2, n_actions=2, n_obs=2,
                                    observations=never, fixed=("observations",), seed=0)


@pytest.mark.filterwarnings("ignore:.*cannot determine it:rmab.errors.RmabWarning")
def test_a_belief_is_taken_within_1e_6_of_summing_to_1_and_model_rows_within_1e_9():
    kw = dict(**KW, transitions=P, observations=O, strength=np.inf)
    est = rmab.estimate_hidden_arms([0, 0, 1], [0, 1, 0], [0, 1, 1],
                                    initial_belief=[0.3333333, 0.6666666], **kw)  # 7 digits
    assert est.initial_belief.sum() == pytest.approx(1.0, abs=1e-12)
    rows = P.copy()
    rows[0, 0] = [0.9, 0.1000001]
    with pytest.raises(InvalidParameterError, match=r"transitions: rows must sum to 1"):
        rmab.estimate_hidden_arms([0, 0, 1], [0, 1, 0], [0, 1, 1], **{**kw, "transitions": rows})


@pytest.mark.parametrize("strength", [np.inf, 2.0])
def test_each_stage_stops_at_its_first_small_step_per_record(strength):
    rng = np.random.default_rng(6)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 30, 10, rng)
    tol = 1e-4
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=30, n_states=2, n_actions=2,
                                    n_obs=2, transitions=[[[0.7, 0.3], [0.4, 0.6]]] * 2,
                                    observations=[[[0.6, 0.4], [0.4, 0.6]]] * 2, tol=tol,
                                    strength=strength, accelerate=False)
    assert est.converged
    for history in (est.history_pooled, est.history_arms):
        if len(history):
            steps = np.diff(history)
            assert (steps[:-1] > tol * 300).all() and steps[-1] <= tol * 300
    assert len(est.history_pooled) > 3 and (strength == np.inf or len(est.history_arms) > 2)


def test_the_per_arm_history_is_the_log_likelihood_plus_the_log_prior():
    """``history_arms`` at convergence against its definition: the log-likelihood (by the
    forward filter) plus ``Σ strength * pooled * log(rows / pooled)``, the pooled rows those
    of ``strength=inf`` (the same pooled stage)."""
    rng = np.random.default_rng(3)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 8, 15, rng)
    kw = dict(n_arms=8, n_states=2, n_actions=2, n_obs=2, seed=0, tol=1e-9)
    pooled = rmab.estimate_hidden_arms(arm, act, sig, strength=np.inf, **kw).transitions[0]
    est = rmab.estimate_hidden_arms(arm, act, sig, strength=2.0, **kw)
    like, beliefs = 0.0, {}
    for n, a, s in zip(arm, act, sig):          # each arm's records in time order
        ahead = beliefs.get(n, est.initial_belief) @ est.transitions[n, a]
        chance = ahead @ est.observations[n, a, :, s]
        like += np.log(chance)
        beliefs[n] = ahead * est.observations[n, a, :, s] / chance
    prior = (2.0 * pooled * np.log(est.transitions / pooled)).sum()
    assert prior < -0.01                                  # the arms' rows are their own
    assert est.history_arms[-1] == pytest.approx(like + prior, abs=1e-5)


def test_held_out_scores_do_not_depend_on_how_the_arms_records_interleave():
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 6, 12, np.random.default_rng(2),
                             missing=0.3)
    mixed = np.argsort(np.tile(np.arange(12), 6), kind="stable")   # period by period
    kw = dict(n_arms=6, n_states=2, n_actions=2, n_obs=2, strengths=[1.0, np.inf], seed=0)
    by_arm = rmab.score_hidden_strengths(arm, act, sig, **kw)
    by_period = rmab.score_hidden_strengths(arm[mixed], act[mixed], sig[mixed], **kw)
    assert by_period == pytest.approx(by_arm, rel=1e-9)


def test_a_held_out_record_without_a_signal_changes_no_score():
    """Scores are per held-out signal, and a last record without one has probability 1: each
    arm's 8 records with 2 held out score as the same 8 and a 9th without a signal (3 of 9
    held out, the same 6 fitted)."""
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 5, 8, np.random.default_rng(8))
    kw = dict(n_arms=5, n_states=2, n_actions=2, n_obs=2, strengths=[2.0, np.inf],
              holdout=0.34, seed=0)
    longer = [np.insert(x, np.arange(8, 41, 8), extra).astype(int)
              for x, extra in ((arm, np.arange(5)), (act, 0), (sig, -1))]
    assert (np.bincount(longer[0]) == 9).all() and (longer[2][8::9] == -1).all()
    assert rmab.score_hidden_strengths(*longer, **kw) == pytest.approx(
        rmab.score_hidden_strengths(arm, act, sig, **kw), rel=1e-9)


def test_given_transitions_alone_start_from_random_signal_models():
    rng = np.random.default_rng(2)
    arm, act, sig = simulate(P, O, np.array([0.5, 0.5]), 60, 20, rng)
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=60, n_states=2, n_actions=2, n_obs=2,
                                    transitions=P, strength=np.inf, n_starts=3, seed=0)
    truth = _Records.of("test", arm, act, sig, 60, 2, 2).expect(P[None], O[None], np.full(2, 0.5))
    assert est.log_likelihood >= truth.log_likelihood     # the maximum beats the truth
    score = np.einsum("a,aso,o->s", np.bincount(act, minlength=2), est.observations[0],
                      np.arange(2.0))
    assert score[0] < score[1]                            # numbered by mean signal


def test_signal_strength_keeps_a_signal_never_logged_possible():
    """A signal no record shows after an action got probability 0 in every state (the maximum
    likelihood), so that rmab update refused it; ``signal_strength`` adds ``w / n_obs``
    pseudo-observations to each signal's count. One state (EM exact in one step): action 1 is
    followed by signals 0, 0, 1, 0, so (3, 1, 0) + 1.5 / 3 over 4 + 1.5; action 0 by none:
    uniform. The same from a given model (no random starts)."""
    kw = dict(n_arms=2, n_states=1, n_actions=2, n_obs=3, seed=0)
    records = ([0, 0, 0, 1, 1], [1, 1, 1, 0, 1], [0, 0, 1, -1, 0])
    np.testing.assert_allclose(rmab.estimate_hidden_arms(*records, **kw).observations[0, 1, 0],
                               [0.75, 0.25, 0.0])
    est = rmab.estimate_hidden_arms(*records, signal_strength=1.5, **kw)
    np.testing.assert_allclose(est.observations[:, 1, 0], [[3.5 / 5.5, 1.5 / 5.5, 0.5 / 5.5]] * 2)
    np.testing.assert_allclose(est.observations[:, 0, 0], 1 / 3)
    assert est.log_likelihood == pytest.approx(3 * np.log(3.5 / 5.5) + np.log(1.5 / 5.5))
    given = rmab.estimate_hidden_arms(*records, signal_strength=1.5, transitions=np.ones((2, 1, 1)),
                                      observations=np.full((2, 1, 3), 1 / 3), **kw)
    np.testing.assert_allclose(given.observations[0, 1, 0], [3.5 / 5.5, 1.5 / 5.5, 0.5 / 5.5])


@pytest.mark.parametrize("accelerate", [True, False])
def test_the_pooled_history_with_signal_strength_is_the_log_posterior(accelerate):
    """Two states, signal 2 never logged: the pooled objective rises at each iteration and
    ends at the log-likelihood (the forward filter, here) plus ``Σ w / n_obs * log o``."""
    rng = np.random.default_rng(5)
    o = np.concatenate([O, np.zeros((2, 2, 1))], axis=2)        # signal 2: never
    arm, act, sig = simulate(P, o, np.array([0.5, 0.5]), 6, 20, rng)
    est = rmab.estimate_hidden_arms(arm, act, sig, n_arms=6, n_states=2, n_actions=2, n_obs=3,
                                    strength=np.inf, signal_strength=2.0, seed=0, tol=1e-10,
                                    accelerate=accelerate)
    assert (np.diff(est.history_pooled) >= -1e-9).all()
    assert (est.observations[0, :, :, 2] > 0).all()
    like, beliefs = 0.0, {}
    for n, a, s in zip(arm, act, sig):
        ahead = beliefs.get(n, est.initial_belief) @ est.transitions[n, a]
        chance = ahead @ est.observations[n, a, :, s]
        like += np.log(chance)
        beliefs[n] = ahead * est.observations[n, a, :, s] / chance
    prior = (2.0 / 3 * np.log(est.observations[0])).sum()
    assert est.history_pooled[-1] == pytest.approx(like + prior, abs=1e-6)


@pytest.mark.parametrize("change, match", [
    (dict(signal_strength=-1.0), r"estimate_hidden_arms\.signal_strength: must be >= 0"),
    (dict(signal_strength=1.0, observations=[O[0], O[1]], fixed=("observations",)),
     r"estimate_hidden_arms\.signal_strength: weighs the estimated signal model, not a fixed "
     r"one; got 1 with fixed observations"),
])
def test_a_bad_signal_strength_is_named(change, match):
    with pytest.raises(InvalidParameterError, match=match):
        rmab.estimate_hidden_arms([0, 0, 1], [0, 1, 0], [0, 1, 1], **KW, **change)
