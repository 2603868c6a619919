"""Model semantics pinned against independent references (numpy's indexing, the format
definitions): tests added by a hand-made mutation review; each names the mutant it kills."""

import itertools

import numpy as np
import pytest

from rmab.models import Instance, load_instance, random_mdp_arms, random_pomdp_arms, save_instance


@pytest.mark.parametrize("make", [lambda: random_mdp_arms(4, 2, 2, seed=1),
                                  lambda: random_pomdp_arms(4, 3, 2, 2, seed=2)])
def test_select_takes_every_index_numpy_takes(make):
    # numpy takes -n .. n-1 on an axis of length n; -n is the first arm (kills `< -n_arms`
    # -> `<= -n_arms` in _as_index, which refused it)
    arms = make()
    n = arms.n_arms
    for i in range(-n, n):
        part = arms.select([i])
        np.testing.assert_array_equal(part.transitions, arms.transitions[[i]])
        np.testing.assert_array_equal(part.rewards, arms.rewards[[i]])
        np.testing.assert_array_equal(part.costs, arms.costs[[i]])
    np.testing.assert_array_equal(arms.select([-n, n - 1]).rewards, arms.rewards[[0, -1]])


def test_saved_count_limits_read_back(tmp_path):
    # every joint action of 4 two-action arms: the loaded instance admits exactly the ones the
    # saved one does (kills load_instance reading max_active as None: a file would lose it)
    arms = random_mdp_arms(4, 2, 2, seed=3)
    inst = Instance(arms, 3.0, discount=0.9, min_active=1, max_active=2)
    back = load_instance(save_instance(inst, tmp_path / "limits.npz"))
    assert (back.min_active, back.max_active) == (1, 2)
    for joint in itertools.product(range(2), repeat=4):
        joint = np.array(joint)
        active = int(joint.sum())
        assert (back.violation(joint) is None) == (1 <= active <= 2)
        assert (back.violation(joint) is None) == (inst.violation(joint) is None)


@pytest.mark.parametrize("discount, horizon", [(0.9, 7), (1.0, 5), (0.95, None)])
def test_saved_horizon_reads_back(tmp_path, discount, horizon):
    # a finite horizon with discount < 1 is a field of its own: Instance.episode_length is
    # the horizon when set, else the smallest T with discount**T <= 1e-2 (kills load_instance
    # dropping the horizon when discount < 1)
    inst = Instance(random_pomdp_arms(2, 2, 2, 2, seed=4), 1.0, discount=discount,
                    horizon=horizon)
    back = load_instance(save_instance(inst, tmp_path / "h.npz"))
    assert back.horizon == horizon and back.discount == discount
    want = horizon if horizon is not None else next(
        t for t in itertools.count(1) if discount ** t <= 1e-2)
    assert back.episode_length == want
