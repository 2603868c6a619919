"""ReLU-stability regulariser for SEQUOIA's Q-network (torch).

The MIP argmax is fast when few neurons are *unstable* -- their pre-activation can take both
signs over the feasible actions of the current state -- because every stable neuron is fixed
(no binary, no big-M) before the solve. Training can make neurons stable without giving up
accuracy (Xiao, Tjeng, Shafiullah, Madry, "Training for faster adversarial robustness
verification via inducing ReLU stability", ICLR 2019). The bounds penalised here are the ones
the MIP uses (:mod:`solvers.nn.bounds`), for actions in ``{0, 1}^n`` with at most ``k`` ones:

- layer 1, exact: ``z = W_a a + d`` with ``d = W_s context + b``; over ``|a| <= k`` its range is
  ``d + [sum of the k most negative entries of W_a, sum of the k largest]``;
- layer 2, back-substitution: each layer-1 ReLU replaced by its upper / lower line, the
  resulting linear function of ``a`` bounded the same way.

The penalty of a neuron with bounds ``[l, u]`` is ``max(0, min(u, -l)) / (u - l)``, in
``[0, 1/2]``: zero when stable, largest when the interval is centred on zero; dividing by the
width makes it invariant to rescaling the layer. The loss is the mean over neurons and states.
"""

from __future__ import annotations

from rmab.planners.sequoia.qnet import torch

__all__ = ["layer_bounds", "instability"]

_EPS = 1e-6


def _top_k_sum(g: "torch.Tensor", k: int) -> "torch.Tensor":
    """Sum of the ``k`` largest positive entries along the last axis (0 if none)."""
    g = torch.clamp(g, min=0.0)
    k = min(int(k), g.shape[-1])
    return torch.topk(g, k, dim=-1).values.sum(-1) if k > 0 else g.sum(-1) * 0.0


def layer_bounds(linears, context: "torch.Tensor", n_action: int, k: int):
    """Bounds ``[(l1, u1), (l2, u2)]`` (each (batch, width)) of the first two hidden layers'
    pre-activations over binary actions with at most ``k`` ones, for each row of ``context``
    (batch, n_inputs - n_action). ``linears``: the network's ``nn.Linear`` layers in order."""
    W1, b1 = linears[0].weight, linears[0].bias
    Wa = W1[:, :n_action]
    d = context @ W1[:, n_action:].T + b1                       # (batch, h1)
    l1 = d - _top_k_sum(-Wa, k)
    u1 = d + _top_k_sum(Wa, k)
    out = [(l1, u1)]
    if len(linears) < 3:                                        # no second hidden layer
        return out
    W2, b2 = linears[1].weight, linears[1].bias
    unstable = (l1 < 0) & (u1 > 0)
    on = (l1 >= 0).to(d.dtype)
    width = torch.where(unstable, u1 - l1, torch.ones_like(u1))
    su = torch.where(unstable, u1 / width, on)                  # upper line: su z + tu
    tu = torch.where(unstable, -l1 * u1 / width, torch.zeros_like(u1))
    sl = torch.where(unstable, (u1 > -l1).to(d.dtype), on)      # lower line: sl z
    pos, neg = torch.clamp(W2, min=0.0), torch.clamp(W2, max=0.0)
    c_up = pos[None] * su[:, None, :] + neg[None] * sl[:, None, :]     # (batch, h2, h1)
    c_lo = pos[None] * sl[:, None, :] + neg[None] * su[:, None, :]
    u2 = (_top_k_sum(c_up @ Wa, k) + (c_up * d[:, None, :]).sum(-1)
          + (pos[None] * tu[:, None, :]).sum(-1) + b2)
    l2 = (-_top_k_sum(-(c_lo @ Wa), k) + (c_lo * d[:, None, :]).sum(-1)
          + (neg[None] * tu[:, None, :]).sum(-1) + b2)
    out.append((l2, u2))
    return out


def instability(linears, context: "torch.Tensor", n_action: int, k: int) -> "torch.Tensor":
    """Mean normalised instability ``max(0, min(u, -l)) / (u - l)`` of the first two hidden
    layers' neurons over the rows of ``context`` (a scalar tensor, differentiable)."""
    terms = [torch.clamp(torch.minimum(u, -l), min=0.0) / (u - l + _EPS)
             for l, u in layer_bounds(linears, context, n_action, k)]
    return torch.cat([t.reshape(-1) for t in terms]).mean()
