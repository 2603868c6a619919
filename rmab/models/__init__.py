"""Arm and instance models, generators and file formats."""

from rmab.models.arms import Arms, MDPArms, POMDPArms, concat_arms
from rmab.models.estimate import (count_transitions, estimate_probabilities,
                                  score_strengths)
from rmab.models.generators import (budget_from_fraction, collapsing_arms, health_intervention,
                                    random_instance, random_mdp_arms, random_pomdp_arms)
from rmab.models.hidden import (HiddenArmsEstimate, estimate_hidden_arms,
                               score_hidden_strengths)
from rmab.models.instance import Instance
from rmab.models.storage import load_instance, save_instance

__all__ = ["Arms", "MDPArms", "POMDPArms", "concat_arms", "Instance", "health_intervention",
           "random_mdp_arms", "random_pomdp_arms", "collapsing_arms", "random_instance",
           "budget_from_fraction", "save_instance", "load_instance", "count_transitions",
           "estimate_probabilities", "estimate_hidden_arms", "HiddenArmsEstimate",
           "score_strengths", "score_hidden_strengths"]
