"""Model semantics pinned against independent references (numpy's indexing, the format
definitions): tests added by a hand-made mutation review; each names the mutant it kills."""

import numpy as np
import pytest

from rmab.models import random_mdp_arms, random_pomdp_arms


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
