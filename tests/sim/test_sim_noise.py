"""Seeds and noise streams of the simulator (common random numbers)."""

import numpy as np
import pytest

from rmab.errors import InvalidParameterError
from rmab.sim.noise import (NoiseStream, child, episode_noise, episode_seeds, fit_seed,
                            root_sequence)


def test_child_equals_spawn_and_does_not_consume():
    root = np.random.SeedSequence(7)
    spawned = np.random.SeedSequence(7).spawn(2)[1].spawn(5)[3]
    assert np.array_equal(child(root, 1, 3).generate_state(4), spawned.generate_state(4))
    # asking twice gives the same child (SeedSequence.spawn would not)
    assert np.array_equal(child(root, 0).generate_state(2), child(root, 0).generate_state(2))


def test_episode_seeds_depend_only_on_seed_and_index():
    a = episode_seeds(root_sequence("s", 3), 4)
    b = episode_seeds(root_sequence("s", 3), 2)
    for x, y in zip(a, b):
        assert x.index == y.index and x.planner_seed == y.planner_seed
        assert np.array_equal(x.noise.generate_state(2), y.noise.generate_state(2))
    assert len({s.planner_seed for s in a}) == 4
    other = episode_seeds(root_sequence("s", 4), 1)[0]
    assert other.planner_seed != a[0].planner_seed
    assert fit_seed(root_sequence("s", 3)) not in {s.planner_seed for s in a}


def test_stream_matches_whole_arrays():
    seq = np.random.SeedSequence(11)
    whole = episode_noise(seq, 5, 4)
    stream = NoiseStream(seq, 5)
    assert np.array_equal(stream.initial, whole.initial)
    for t in range(4):
        stream.advance()
        assert np.array_equal(stream.u_state, whole.u_state[t])
        assert np.array_equal(stream.u_signal, whole.u_signal[t])
    # the three streams are not copies of one another
    assert not np.allclose(whole.u_state, whole.u_signal)


def test_root_sequence_accepts_generator_reproducibly():
    a = root_sequence("s", np.random.default_rng(5)).generate_state(2)
    b = root_sequence("s", np.random.default_rng(5)).generate_state(2)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_root_sequence_rejects_bad_seed(bad):
    with pytest.raises(InvalidParameterError, match=r"owner: must be a non-negative integer"):
        root_sequence("owner", bad)


def test_the_seed_tree_is_the_documented_one():
    """The tree of the module docstring, built with numpy's own SeedSequence.spawn: the fit
    seed from child 0, episode k's noise and planners' reset seed from children 0 and 1 of
    child 1's k-th. The reset seed drawn from the noise sequence itself (a stream reused)
    tied the planners' randomness to the environment's."""
    seed, episodes = 12, 5
    fit, eps = np.random.SeedSequence(seed).spawn(2)
    seeds = episode_seeds(root_sequence("s", seed), episodes)
    assert fit_seed(root_sequence("s", seed)) == int(fit.generate_state(1, np.uint64)[0])
    for k, ep in enumerate(eps.spawn(episodes)):
        noise, planner = ep.spawn(2)
        assert np.array_equal(seeds[k].noise.generate_state(4), noise.generate_state(4))
        assert seeds[k].planner_seed == int(planner.generate_state(1, np.uint64)[0])
        assert seeds[k].planner_seed != int(noise.generate_state(1, np.uint64)[0])


def test_a_generator_seed_takes_two_63_bit_draws():
    """A Generator seed is the entropy ``a << 64 | b`` of its next two draws below 2**63 (the
    docstring), and leaves the Generator just past them: replayed on a twin Generator."""
    rng, twin = np.random.default_rng(5), np.random.default_rng(5)
    seq = root_sequence("s", rng)
    a, b = (int(twin.integers(2**63)) for _ in range(2))
    assert seq.entropy == a << 64 | b and seq.entropy >= 2**64
    assert rng.integers(2**63) == twin.integers(2**63)


def test_child_keeps_the_parents_pool_size():
    """A root of another pool size: its children are still numpy's spawned ones."""
    root = np.random.SeedSequence(7, pool_size=8)
    spawned = np.random.SeedSequence(7, pool_size=8).spawn(2)[1].spawn(3)[2]
    assert child(root, 1, 2).pool_size == 8
    assert np.array_equal(child(root, 1, 2).generate_state(4), spawned.generate_state(4))
