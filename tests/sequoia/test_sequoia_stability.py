"""ReLU-stability penalty: its bounds against brute force and solvers.nn, and its effect."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmab.domains import make_capacity

torch = pytest.importorskip("torch")

from rmab.errors import InvalidParameterError  # noqa: E402
from rmab.planners.sequoia.argmax import MIPArgmax  # noqa: E402
from rmab.planners.sequoia.features import context_features, input_size  # noqa: E402
from rmab.planners.sequoia.qnet import QNetwork  # noqa: E402
from rmab.planners.sequoia.stability import instability, layer_bounds  # noqa: E402
from rmab.planners.sequoia.train import SequoiaConfig, to_relu_network, warm_start  # noqa: E402
from solvers.nn.bounds import Knapsack, network_bounds  # noqa: E402

pytestmark = pytest.mark.torch


def _pre_activations(qnet, x):
    """Pre-activations of the first two hidden layers, (k, h1) and (k, h2)."""
    lin = qnet.linears
    z1 = lin[0](x)
    return z1, lin[1](torch.relu(z1))


@settings(max_examples=25, deadline=None)
@given(n_action=st.integers(1, 7), k=st.integers(0, 7), seed=st.integers(0, 10**6))
def test_bounds_contain_every_action_and_layer_one_is_exact(n_action, k, seed):
    k = min(k, n_action)
    q = QNetwork(n_action + 3, (6, 5), generator=torch.Generator().manual_seed(seed))
    ctx = torch.rand(2, 3, generator=torch.Generator().manual_seed(seed + 1))
    acts = torch.tensor([a for a in itertools.product((0.0, 1.0), repeat=n_action)
                         if sum(a) <= k])
    with torch.no_grad():
        (l1, u1), (l2, u2) = layer_bounds(q.linears, ctx, n_action, k)
        for row in range(2):
            x = torch.cat([acts, ctx[row].expand(len(acts), 3)], dim=1)
            z1, z2 = _pre_activations(q, x)
            assert (z1 >= l1[row] - 1e-5).all() and (z1 <= u1[row] + 1e-5).all()
            assert (z2 >= l2[row] - 1e-5).all() and (z2 <= u2[row] + 1e-5).all()
            # layer 1 is exact: both ends are reached by some action
            torch.testing.assert_close(z1.max(0).values, u1[row], atol=1e-5, rtol=0)
            torch.testing.assert_close(z1.min(0).values, l1[row], atol=1e-5, rtol=0)


def test_bounds_agree_with_the_mip_bounds_of_solvers_nn():
    """Second implementation: solvers.nn.network_bounds (numpy) with a cardinality knapsack is
    at least as tight (it also intersects with intervals) and equal on layer 1."""
    n_action, k = 12, 4
    q = QNetwork(n_action + 5, (8, 8), generator=torch.Generator().manual_seed(3))
    ctx = np.random.default_rng(0).random(5)
    with torch.no_grad():
        (l1, u1), (l2, u2) = layer_bounds(q.linears, torch.tensor(ctx[None]).float(),
                                          n_action, k)
    ref = network_bounds(to_relu_network(q), n_action, ctx, action_lower=np.zeros(n_action),
                         action_upper=np.ones(n_action),
                         knapsacks=[Knapsack(np.ones(n_action), k)])
    np.testing.assert_allclose(l1[0].numpy(), ref.lower[0], atol=1e-5)
    np.testing.assert_allclose(u1[0].numpy(), ref.upper[0], atol=1e-5)
    assert (l2[0].numpy() <= ref.lower[1] + 1e-5).all()
    assert (u2[0].numpy() >= ref.upper[1] - 1e-5).all()
    # the back-substitution, not the interval, is what the MIP keeps on most neurons
    assert np.isclose(u2[0].numpy(), ref.upper[1], atol=1e-5).mean() >= 0.5


def test_penalty_is_zero_when_stable_and_falls_under_gradient_steps():
    q = QNetwork(10, (6, 6), generator=torch.Generator().manual_seed(0))
    ctx = torch.rand(16, 5, generator=torch.Generator().manual_seed(1))
    start = instability(q.linears, ctx, 5, 2).item()
    assert 0.0 < start <= 0.5
    opt = torch.optim.Adam(q.parameters(), lr=1e-2)
    for _ in range(200):
        loss = instability(q.linears, ctx, 5, 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert instability(q.linears, ctx, 5, 2).item() < 0.1 * start
    with torch.no_grad():                  # every neuron pushed on: stable, penalty 0
        for lin in q.linears[:2]:
            lin.weight.zero_()
            lin.bias.fill_(1.0)
    assert instability(q.linears, ctx, 5, 2).item() == 0.0


@pytest.mark.parametrize("target, offset", [("myopic", "none"), ("lagrangian", "lagrangian")])
def test_warm_start_with_the_penalty_leaves_the_mip_few_unstable_neurons(target, offset):
    """The point of the penalty: after a penalised warm start, neurons that can change sign
    over the feasible actions of a state are rare (without it, most are unstable)."""
    torch.set_num_threads(1)
    d = make_capacity(10, 3, seed=0)
    k = MIPArgmax(d, 20).max_ones
    states = np.random.default_rng(2).integers(0, 4, size=(20, 10))
    ctx = torch.from_numpy(context_features(states, np.full(20, 7), 20, 4)).float()
    counts = {}
    for weight in (0.0, 1.0):
        q = QNetwork(input_size(d.action_size, d.n_arms), (16, 16),
                     generator=torch.Generator().manual_seed(0))
        cfg = SequoiaConfig(warm_start_samples=1000, warm_start_epochs=20, stability=weight,
                            warm_start=target, offset=offset)
        fit = warm_start(q, d, cfg, np.random.default_rng(0), 0.1, max_ones=k)
        assert fit.loss_after < fit.loss_before
        with torch.no_grad():
            b = layer_bounds(q.linears, ctx, d.action_size, k)
        counts[weight] = sum(int(((lo < 0) & (hi > 0)).sum()) for lo, hi in b) / (20 * 32)
    assert counts[1.0] < counts[0.0] / 4 and counts[0.0] > 0.3, counts


def test_stability_weight_is_validated():
    with pytest.raises(InvalidParameterError, match="SequoiaConfig.stability: must be >= 0"):
        SequoiaConfig(stability=-1.0)
