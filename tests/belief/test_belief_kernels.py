"""The Numba kernels of rmab.belief equal their numpy twins and their pure-Python versions.

``kernel.py_func`` is the undecorated Python function, so comparing with it covers what the
suite would see under ``NUMBA_DISABLE_JIT=1`` without starting a subprocess.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.belief import _kernels as K
from rmab.belief import _reference as R

SETTINGS = settings(max_examples=60, deadline=None)


def py(kernel):
    """The pure-Python version of a kernel (the kernel itself under NUMBA_DISABLE_JIT=1)."""
    return getattr(kernel, "py_func", kernel)


# update_kernel prefetches the arms' matrices from K._PREFETCH_MIN_ARMS arms on; both private
# paths are called directly here, compiled and as plain Python (where prefetch does nothing).
UPDATE_KERNELS = [K.update_kernel, py(K.update_kernel), K._update_in_order,
                  py(K._update_in_order), K._update_prefetched, py(K._update_prefetched)]


def _rows(rng, shape, sparse):
    """Random stochastic rows along the last axis; with ``sparse`` some entries are exact 0."""
    x = rng.random(shape)
    if sparse:
        x[rng.random(shape) < 0.4] = 0.0
        flat = x.reshape(-1, shape[-1])
        empty = flat.sum(axis=1) == 0.0
        flat[empty, rng.integers(0, shape[-1], empty.sum())] = 1.0
    return x / x.sum(axis=-1, keepdims=True)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 10))
    s = draw(st.integers(1, 4))
    a = draw(st.integers(1, 3))
    o = draw(st.integers(1, 3))
    sparse = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p = _rows(rng, (n, a, s, s), sparse)
    q = _rows(rng, (n, a, s, o), sparse)
    b = _rows(rng, (n, s), sparse)
    actions = rng.integers(0, a, n)
    states = rng.integers(0, s, n)
    u1, u2 = rng.random(n), rng.random(n)
    # uniforms at the edges of [0, 1): exercise rounding at the end of the CDF
    edge = np.array([0.0, np.nextafter(1.0, 0.0), 0.5])
    u1[rng.random(n) < 0.3] = edge[rng.integers(0, 3)]
    u2[rng.random(n) < 0.3] = edge[rng.integers(0, 3)]
    return dict(p=p, q=q, b=b, actions=actions, states=states, u1=u1, u2=u2, rng=rng)


def _possible_signals(x):
    """Signals drawn from each arm's predictive distribution (so every one is possible)."""
    probs = R.signal_probability_numpy(x["b"], x["actions"], x["p"], x["q"])
    return R.sample_states_numpy(probs / probs.sum(axis=1, keepdims=True), x["u2"])


@SETTINGS
@given(problems())
def test_update_kernel_equals_twin_and_py_func(x):
    signals = _possible_signals(x)
    args = (x["b"], x["actions"], signals, x["p"], x["q"])
    ref, norm = R.update_numpy(*args)
    assert np.all(norm > 0)
    for kernel in UPDATE_KERNELS:
        out = np.full_like(x["b"], np.nan)
        assert kernel(*args, out) == -1
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)
        # the posterior is on the simplex
        assert out.min() >= 0.0
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@SETTINGS
@given(problems())
def test_update_kernel_reports_first_impossible_signal(x):
    n_obs = x["q"].shape[3]
    signals = x["rng"].integers(0, n_obs, x["b"].shape[0])  # may be impossible
    args = (x["b"], x["actions"], signals, x["p"], x["q"])
    ref, norm = R.update_numpy(*args)
    zero = np.flatnonzero(norm <= 0.0)
    expected = int(zero[0]) if zero.size else -1
    for kernel in UPDATE_KERNELS:
        out = np.empty_like(x["b"])
        bad = kernel(*args, out)
        assert bad == expected
        done = x["b"].shape[0] if bad < 0 else bad
        np.testing.assert_allclose(out[:done], ref[:done], rtol=0, atol=1e-12)


@SETTINGS
@given(problems())
def test_signal_probability_kernel_equals_twin(x):
    ref = R.signal_probability_numpy(x["b"], x["actions"], x["p"], x["q"])
    np.testing.assert_allclose(ref.sum(axis=1), 1.0, atol=1e-12)
    for kernel in (K.signal_probability_kernel, py(K.signal_probability_kernel)):
        out = np.full_like(ref, np.nan)
        kernel(x["b"], x["actions"], x["p"], x["q"], out)
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)


@SETTINGS
@given(problems())
def test_sample_kernel_equals_twin_exactly(x):
    args = (x["states"], x["actions"], x["p"], x["q"], x["u1"], x["u2"])
    ref_next, ref_sig = R.sample_numpy(*args)
    n = x["states"].shape[0]
    for kernel in (K.sample_kernel, py(K.sample_kernel)):
        nxt, sig = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
        kernel(*args, nxt, sig)
        np.testing.assert_array_equal(nxt, ref_next)
        np.testing.assert_array_equal(sig, ref_sig)
    # the drawn outcomes have positive probability
    idx = np.arange(n)
    assert np.all(x["p"][idx, x["actions"], x["states"], ref_next] > 0)
    assert np.all(x["q"][idx, x["actions"], ref_next, ref_sig] > 0)


@SETTINGS
@given(problems())
def test_sample_states_kernel_and_draw_equal_twin_exactly(x):
    ref = R.sample_states_numpy(x["b"], x["u1"])
    for kernel in (K.sample_states_kernel, py(K.sample_states_kernel)):
        out = np.full(ref.shape, -1, np.int64)
        kernel(x["b"], x["u1"], out)
        np.testing.assert_array_equal(out, ref)
    draws = [py(K._draw)(row, u) for row, u in zip(x["b"], x["u1"])]
    np.testing.assert_array_equal(draws, ref)
    assert np.all(x["b"][np.arange(len(ref)), ref] > 0)


@SETTINGS
@given(problems())
def test_reward_kernel_equals_numpy(x):
    rng = x["rng"]
    n, s = x["b"].shape
    a = x["p"].shape[1]
    r = rng.normal(size=(n, s, a))
    realised = r[np.arange(n), x["states"], x["actions"]]
    for kernel in (K.realised_reward_kernel, py(K.realised_reward_kernel)):
        out = np.full(n, np.nan)
        total = kernel(x["states"], x["actions"], r, out)
        np.testing.assert_array_equal(out, realised)
        assert total == pytest.approx(realised.sum(), abs=1e-12)


@pytest.mark.parametrize("bad_arms", [[], [7_001, 15_000], [19_999], [4, 19_998]])
@pytest.mark.parametrize("n_states, n_obs", [(3, 2), (5, 3)])     # blocks across cache lines
def test_update_kernel_prefetched_path_on_many_arms(bad_arms, n_states, n_obs):
    """Above the prefetching threshold: the same posteriors, and the *first* impossible arm
    (the last arms, with nothing left to prefetch, included)."""
    n = 20_003
    assert n >= K._PREFETCH_MIN_ARMS
    rng = np.random.default_rng(5)
    p, q = _rows(rng, (n, 2, n_states, n_states), False), _rows(rng, (n, 2, n_states, n_obs),
                                                                False)
    b = _rows(rng, (n, n_states), False)
    actions, signals = rng.integers(0, 2, n), rng.integers(0, n_obs, n)
    for arm in bad_arms:  # signal 1 impossible from every next state
        q[arm, actions[arm], :, :] = 0.0
        q[arm, actions[arm], :, 0] = 1.0
        signals[arm] = 1
    ref, norm = R.update_numpy(b, actions, signals, p, q)
    out = np.full_like(b, np.nan)
    bad = K.update_kernel(b, actions, signals, p, q, out)
    assert bad == (min(bad_arms) if bad_arms else -1)
    done = n if bad < 0 else bad
    np.testing.assert_allclose(out[:done], ref[:done], rtol=0, atol=1e-12)
    if bad >= 0:
        np.testing.assert_array_equal(out[bad], 0.0)  # left unnormalised: all zero here


@pytest.mark.parametrize("n_states, n_actions, n_obs", [(2, 3, 2), (4, 3, 2), (9, 2, 3)])
def test_sample_kernel_on_many_arms_equals_twin(n_states, n_actions, n_obs):
    """From K._PREFETCH_MIN_ARMS arms on, models of at least K._PREFETCH_MIN_BYTES are
    prefetched while sampling (the first case is not, the others are): the same draws."""
    n = 20_003
    rng = np.random.default_rng(n_states)
    p = _rows(rng, (n, n_actions, n_states, n_states), True)
    q = _rows(rng, (n, n_actions, n_states, n_obs), True)
    args = (rng.integers(0, n_states, n), rng.integers(0, n_actions, n), p, q, rng.random(n),
            rng.random(n))
    ref = R.sample_numpy(*args)
    nxt, sig = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    K.sample_kernel(*args, nxt, sig)
    np.testing.assert_array_equal(nxt, ref[0])
    np.testing.assert_array_equal(sig, ref[1])


@pytest.mark.parametrize("n_states, n_actions, n_obs", [(2, 2, 2), (3, 2, 2), (4, 3, 2),
                                                      (5, 1, 3)])
def test_the_kernels_prefetch_the_next_arms_own_matrices(monkeypatch, n_states, n_actions,
                                                         n_obs):
    """A broken prefetch changes no result, so the equality tests cannot see one (a review
    mutated it to fetch nothing, and every test passed): the plain-Python kernels' requests,
    recorded, are arm n + _AHEAD's blocks for its action, first and last entry included, and
    sampling asks only where an arm's model takes _PREFETCH_MIN_BYTES."""
    n = K._PREFETCH_MIN_ARMS + 3
    rng = np.random.default_rng(n_states)
    p = _rows(rng, (n, n_actions, n_states, n_states), False)
    q = _rows(rng, (n, n_actions, n_states, n_obs), False)
    b = _rows(rng, (n, n_states), False)
    states, actions = rng.integers(0, n_states, n), rng.integers(0, n_actions, n)
    asked = []
    monkeypatch.setattr(K, "prefetch", lambda arr, flat: asked.append((arr is p, flat)))
    t_size, o_size = n_states * n_states, n_states * n_obs
    block = np.arange(K._AHEAD, n) * n_actions + actions[K._AHEAD:]     # arms m = n + _AHEAD

    def covered(is_t, spans):
        """Every span [start, end] is asked for from its first entry to its last, at most a
        cache line (8 entries) apart, and nothing else of that array is."""
        got = np.unique([flat for t, flat in asked if t == is_t])
        inside = 0
        for start, end in spans:
            mine = got[np.searchsorted(got, start):np.searchsorted(got, end, side="right")]
            assert mine[0] == start and mine[-1] == end and np.diff(mine).max(initial=0) <= 8
            inside += mine.size
        assert inside == got.size

    assert py(K._update_prefetched)(b, actions, rng.integers(0, n_obs, n), p, q,
                                    np.empty_like(b)) == -1
    covered(True, [(k * t_size, (k + 1) * t_size - 1) for k in block])
    covered(False, [(k * o_size, (k + 1) * o_size - 1) for k in block])

    asked.clear()
    py(K.sample_kernel)(states, actions, p, q, rng.random(n), rng.random(n),
                        np.empty(n, np.int64), np.empty(n, np.int64))
    if 8 * n_actions * (t_size + o_size) < K._PREFETCH_MIN_BYTES:
        assert asked == []
        return
    rows = (block * n_states + states[K._AHEAD:]) * n_states
    covered(True, [(r, r + n_states - 1) for r in rows])
    covered(False, [(k * o_size, (k + 1) * o_size - 1) for k in block])


def test_draw_steps_back_over_trailing_zeros():
    """A uniform past the rounded end of the CDF lands on the last positive entry."""
    row = np.array([0.3, 0.7 - 1e-16, 0.0, 0.0])  # sums to just under 1
    u = np.array([np.nextafter(1.0, 0.0)])
    assert K._draw(row, u[0]) == 1 and py(K._draw)(row, u[0]) == 1
    assert R.sample_states_numpy(row[None, :], u)[0] == 1
    row = np.array([0.0, 1.0])
    assert K._draw(row, 0.0) == 1 and R.sample_states_numpy(row[None, :], np.zeros(1))[0] == 1


def test_kernels_accept_readonly_model_arrays():
    """The models hand the kernels read-only arrays; the compiled code takes them as they are."""
    rng = np.random.default_rng(0)
    p, q, b = _rows(rng, (3, 2, 2, 2), False), _rows(rng, (3, 2, 2, 2), False), _rows(
        rng, (3, 2), False)
    for arr in (p, q, b):
        arr.setflags(write=False)
    a = np.array([0, 1, 1])
    o = np.array([1, 0, 1])
    out = np.empty((3, 2))
    assert K.update_kernel(b, a, o, p, q, out) == -1
    np.testing.assert_allclose(out, R.update_numpy(b, a, o, p, q)[0], atol=1e-12)


def test_a_subnormal_normaliser_gives_the_twins_posterior():
    """1 / a subnormal total is inf: the kernel returned [nan, inf] where the twin gives
    [0, 1] (an identity arm, belief [1 - 1e-308, 1e-308], a signal only state 1 can send)."""
    T = np.tile(np.eye(2), (1, 1, 1, 1))
    O = np.array([[[[1.0, 0.0], [0.5, 0.5]]]])
    b = np.array([[1 - 1e-308, 1e-308]])
    a, o = np.zeros(1, np.int64), np.ones(1, np.int64)
    out = np.empty_like(b)
    assert K.update_kernel(b, a, o, T, O, out) == -1
    np.testing.assert_array_equal(out, R.update_numpy(b, a, o, T, O)[0])
    np.testing.assert_array_equal(out, [[0.0, 1.0]])


@pytest.mark.parametrize("like, prior_1, possible", [
    ([1e-321, 3e-321], 0.5, True),     # subnormal: [0.24938, 0.75062] before, not 0.24969...
    ([1e-200, 0.0], 1e-200, True),     # 1e-400 underflowed: "impossible" before
    ([0.0, 0.0], 0.5, False),
])
def test_tiny_normalisers_give_the_exact_posterior(like, prior_1, possible):
    """Prior and likelihood scaled where their product is subnormal or underflows (a review:
    [0.24938, 0.75062] for [0.25, 0.75], and a possible signal reported impossible)."""
    from fractions import Fraction

    T = np.tile(np.eye(2), (1, 1, 1, 1))
    O = np.zeros((1, 1, 2, 2))
    O[0, 0, :, 0] = like
    O[0, 0, :, 1] = 1.0 - np.array(like)
    b = np.array([[1.0 - prior_1, prior_1]]) if like[1] else np.array([[prior_1, 1.0 - prior_1]])
    a, o = np.zeros(1, np.int64), np.zeros(1, np.int64)
    exact = [Fraction(float(x)) * Fraction(float(y)) for x, y in zip(b[0], like)]
    for kernel in UPDATE_KERNELS:
        out = np.empty_like(b)
        got = kernel(b, a, o, T, O, out)
        ref, norm = R.update_numpy(b, a, o, T, O)
        if not possible:
            assert got == 0 and norm[0] == 0.0
            continue
        assert got == -1 and norm[0] > 0
        want_exact = [float(x / sum(exact)) for x in exact]
        np.testing.assert_allclose(out[0], want_exact, rtol=1e-12, atol=0)
        np.testing.assert_allclose(ref[0], want_exact, rtol=1e-12, atol=0)


def test_a_normaliser_between_1e300_and_1e290_is_scaled_too():
    """Normaliser 2e-300, above 1e-300 yet below the kernel's 1e-290: state 1's product
    0.5 * (8 000 000 001 * 2⁻¹⁰⁷⁴) is subnormal and rounds to an even count of 2⁻¹⁰⁷⁴ (a relative
    error of 1.25e-10), so only the scaled path gives its posterior to 1e-12 (exact reference:
    fractions). A threshold of 1e-300 divided the rounded products."""
    from fractions import Fraction

    T = np.tile(np.eye(2), (1, 1, 1, 1))
    like = [4e-300, 8_000_000_001 * 5e-324]
    O = np.zeros((1, 1, 2, 2))
    O[0, 0, :, 0] = like
    O[0, 0, :, 1] = 1.0 - np.array(like)
    b = np.array([[0.5, 0.5]])
    a, o = np.zeros(1, np.int64), np.zeros(1, np.int64)
    exact = [Fraction(float(x)) * Fraction(float(y)) for x, y in zip(b[0], like)]
    want = [float(x / sum(exact)) for x in exact]
    for kernel in UPDATE_KERNELS:
        out = np.empty_like(b)
        assert kernel(b, a, o, T, O, out) == -1
        np.testing.assert_allclose(out[0], want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(R.update_numpy(b, a, o, T, O)[0][0], want, rtol=1e-12, atol=0)
