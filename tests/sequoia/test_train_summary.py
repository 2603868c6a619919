"""``rmab train``'s summary line on the kept network, in its four cases (no torch needed)."""

from types import SimpleNamespace

import numpy as np
import pytest

from rmab.commands.train import _gain_text


def _res(rewards, best, n_updates=10):
    """One training validated after 0 (the warm start), 2 and 4 episodes."""
    return SimpleNamespace(validated_at=np.array([0, 2, 4]), validated_restart=np.zeros(3, int),
                           restart=0, best_episode=best, n_updates=n_updates,
                           validation_rewards=np.array(rewards, float))


@pytest.mark.parametrize("res, text", [
    (_res([1.0, 1.5, 1.2], 2), "+0.5000 over the warm start's"),
    (_res([1.0, 1.0, 1.0], 0, n_updates=0), "the same as the warm start's (DQN made no "
                                            "gradient step)"),
    (_res([1.0, 1.0, 0.9], 2), "the same as the warm start's (DQN did not improve on it; of "
                               "equal rewards the later network is kept)"),
    # it said "of equal rewards the later network is kept" here too (a review)
    (_res([1.0, 0.8, 0.9], 0), "the same as the warm start's: it is the warm start (DQN did "
                               "not improve on it)"),
])
def test_the_kept_network_is_described_as_what_it_is(res, text):
    assert _gain_text(res) == text
