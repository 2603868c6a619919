"""coRMAB domains: combinatorial action sets over the paper's 4-state base arm.

Four domains from Xu et al., "Reinforcement learning with combinatorial actions for coupled
restless bandits" (ICLR 2025, arXiv 2503.01919): multiple interventions, capacity, scheduling
and path; each with a seeded generator, construction from arrays, ``.npz`` storage, a
simulator, a feasibility check and its MILP constraint block; plus the paper's baselines, its
evaluation protocol and an LP upper bound on any policy's reward (``docs/domains.md``).
"""

import inspect

from rmab.domains.arm import BaseArms, initial_states
from rmab.domains.base import ConstraintBlock, Domain, DomainStepResult
from rmab.domains.bound import hull_bound
from rmab.domains.capacity import CapacityDomain, make_capacity
from rmab.domains.graphs import read_edge_list, sparse_connected_graph, write_edge_list
from rmab.domains.interventions import InterventionsDomain, make_interventions
from rmab.domains.path import PathDomain, make_path, path_from_csv
from rmab.domains.scheduling import SchedulingDomain, make_scheduling
from rmab.domains.storage import DOMAIN_KINDS, load_domain, save_domain

__all__ = ["BaseArms", "initial_states", "Domain", "ConstraintBlock", "DomainStepResult",
           "InterventionsDomain", "CapacityDomain", "SchedulingDomain", "PathDomain",
           "make_interventions", "make_capacity", "make_scheduling", "make_path",
           "path_from_csv", "make_domain", "read_edge_list", "write_edge_list",
           "sparse_connected_graph", "save_domain", "load_domain", "DOMAIN_KINDS",
           "hull_bound"]

_MAKERS = {"interventions": make_interventions, "capacity": make_capacity,
           "scheduling": make_scheduling, "path": make_path}


def make_domain(kind: str, n_arms: int = 20, budget: int = 5, *, seed=None, **params) -> Domain:
    """The paper's generator for ``kind`` (one of :data:`DOMAIN_KINDS`); ``params`` are its
    other keywords (an unknown one is an InvalidParameterError naming those it takes)."""
    from rmab.errors import InvalidParameterError

    if not isinstance(kind, str) or kind not in _MAKERS:
        import difflib

        close = difflib.get_close_matches(str(kind), list(_MAKERS), n=2)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise InvalidParameterError(f"make_domain.kind: must be one of {sorted(_MAKERS)}; got "
                                    f"{kind!r}{hint}")
    maker = _MAKERS[kind]
    taken = list(inspect.signature(maker).parameters)
    unknown = [p for p in params if p not in taken]
    if unknown:
        raise InvalidParameterError(f"make_domain({kind!r}).{unknown[0]}: not a parameter of "
                                    f"this domain; it takes {', '.join(taken)}")
    return maker(n_arms=n_arms, budget=budget, seed=seed, **params)
