"""Bayes filter over many arms (Numba hot path) and samplers of states and signals."""

from rmab.belief.update import (check_actions, check_beliefs, sample_next, sample_states,
                                signal_probabilities, update_beliefs)

__all__ = ["update_beliefs", "signal_probabilities", "sample_next", "sample_states",
           "check_beliefs", "check_actions"]
