"""One conformance suite over every entry of DOMAIN_PLANNERS (the domain planners' table).

Planners that need a trained network get a small random one of the right input size.
"""

import numpy as np
import pytest

from rmab.domains import ConstraintBlock, make_domain
from rmab.domains.baselines import DOMAIN_PLANNERS, make_domain_planner
from rmab.errors import NotFittedError
from rmab.planners.sequoia.features import input_size
from solvers.nn import ReLUNetwork

pytestmark = pytest.mark.mip

KINDS = ["interventions", "capacity", "scheduling", "path"]
HORIZON = 4
N_ARMS = 12  # the interventions domain needs 3 * ceil(N_I / 3) arms (N_I = 10)


def _network(domain, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [input_size(domain.action_size, domain.n_arms), 6, 1]
    return ReLUNetwork(tuple(rng.normal(0, 0.5, (o, i)) for i, o in zip(sizes, sizes[1:])),
                       tuple(rng.normal(0, 0.1, o) for o in sizes[1:]))


def _make(name, domain):
    params = {}
    if "network" in DOMAIN_PLANNERS[name].requires:
        params = {"network": _network(domain), "horizon": HORIZON}
    return make_domain_planner(name, **params)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(DOMAIN_PLANNERS))
def test_domain_planner_conformance(kind, name):
    domain = make_domain(kind, N_ARMS, 2, seed=3)
    planner = _make(name, domain)
    with pytest.raises(NotFittedError):
        planner.plan(np.zeros(N_ARMS, dtype=np.int64), t=0)
    planner.fit(domain, seed=1)
    rng = np.random.default_rng(5)
    states_seq = [rng.integers(0, 4, N_ARMS) for _ in range(HORIZON)]
    runs = []
    for _ in range(2):
        planner.reset(seed=2)
        actions = []
        for t, states in enumerate(states_seq):
            before = states.copy()
            a = planner.plan(states, t=t)
            np.testing.assert_array_equal(states, before)  # never mutates the state
            assert domain.is_feasible(a), f"{name} on {kind}: infeasible action {a}"
            actions.append(a)
        runs.append(actions)
    for a, b in zip(*runs):  # deterministic for a seed
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_cached_domain_data_cannot_be_edited(kind):
    """The cached constraint block and path distances were writable: zeroing pull_vars made a
    fresh myopic planner pull nothing, zeroed distances made a refused route feasible (a
    fuzzing review)."""
    d = make_domain(kind, 8, 2, seed=0)
    block = d.constraint_block()
    arrays = [block.action, block.pull_vars, block.level_vars, *block.index.values()]
    arrays += [d.distances] if kind == "path" else []
    for arr in arrays:
        if isinstance(arr, np.ndarray):
            with pytest.raises(ValueError, match="read-only"):
                arr[...] = 0


def test_a_constraint_block_freezes_copies_not_the_callers_arrays():
    block = make_domain("capacity", 6, 2, seed=0).constraint_block()
    mine = np.arange(6)
    ConstraintBlock(block.milp, action=mine, pull_vars=mine)
    mine[0] = 1                                      # still the caller's, still writable
