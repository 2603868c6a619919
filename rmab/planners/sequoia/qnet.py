"""SEQUOIA's Q-network: a ReLU MLP ``Q(action, state, time-to-go)`` (torch).

Input layout: :mod:`rmab.planners.sequoia.features`. Hidden layers are ``Linear -> ReLU`` and the
output is one linear unit, so the network is exactly MIP-representable
(:class:`solvers.nn.ReLUNetwork`). Imported only for training; the planner uses the numpy export.
"""

from __future__ import annotations

from rmab.errors import MissingDependencyError

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise MissingDependencyError("SEQUOIA training needs torch: pip install 'rmab[torch]'") \
        from exc

__all__ = ["QNetwork"]


class QNetwork(nn.Module):
    """ReLU MLP ``[n_inputs, *hidden, 1]``; ``forward`` maps (k, n_inputs) to (k,).

    Weights are initialised from ``generator`` (a :class:`torch.Generator`), never from the
    global torch seed. ``levels_map`` (n_arms, action_size) and ``n_states``/``n_levels``
    add a learnable gain table ``gains`` (n_arms, n_states, n_levels), zero at level 0, or
    with ``n_periods > 0`` one per time-to-go (n_periods, n_arms, n_states, n_levels):
    ``forward = body + table_term`` (:mod:`rmab.planners.sequoia.gains`).
    """

    def __init__(self, n_inputs: int, hidden=(32, 32), *, generator: "torch.Generator",
                 levels_map=None, n_states: int = 0, n_levels: int = 0, n_periods: int = 0):
        super().__init__()
        self.gains = None
        if levels_map is not None:
            lm = torch.as_tensor(levels_map, dtype=torch.float32)
            self.register_buffer("levels_map", lm)
            shape = (lm.shape[0], int(n_states), int(n_levels))
            self.gains = nn.Parameter(torch.zeros(((int(n_periods),) if n_periods else ())
                                                  + shape))
        sizes = [int(n_inputs), *(int(h) for h in hidden), 1]
        layers = []
        for i in range(len(sizes) - 1):
            # skip_init: no draw from torch's global generator; initialise from ours instead
            lin = nn.utils.skip_init(nn.Linear, sizes[i], sizes[i + 1])
            bound = 1.0 / sizes[i] ** 0.5          # torch's default range for Linear
            with torch.no_grad():
                lin.weight.uniform_(-bound, bound, generator=generator)
                lin.bias.uniform_(-bound, bound, generator=generator)
            layers.append(lin)
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.layers = nn.Sequential(*layers)
        self.sizes = tuple(sizes)

    @property
    def linears(self) -> list:
        """The ``nn.Linear`` layers in order."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]

    def body(self, x: "torch.Tensor") -> "torch.Tensor":
        """The ReLU network's output (k,)."""
        return self.layers(x).squeeze(-1)

    def table_term(self, x: "torch.Tensor", gains=None) -> "torch.Tensor":
        """``Σ_j G[j, s_j, ℓ_j(a)]`` (k,) with ``G = gains`` (default ``self.gains``);
        states, and a per-period table's time-to-go, are decoded from their normalised
        inputs."""
        G = self.gains if gains is None else gains
        n, n_states, n_levels = G.shape[-3:]
        n_action = self.levels_map.shape[1]
        s = torch.round(x[:, n_action:n_action + n] * (n_states - 1)).long()
        lv = torch.round(x[:, :n_action] @ self.levels_map.T.to(x.dtype)).long()
        lv = lv.clamp(0, n_levels - 1)
        s = s.clamp(0, n_states - 1)
        arms = torch.arange(n)[None, :]
        if G.dim() == 3:
            picked = G[arms, s, lv]
        else:                                       # row τ - 1 at τ periods to go
            tau = (torch.round(x[:, -1] * G.shape[0]).long() - 1).clamp(0, G.shape[0] - 1)
            picked = G[tau[:, None], arms, s, lv]
        return (picked * (lv > 0)).sum(-1)          # level 0: no gain

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        if self.gains is None:
            return self.body(x)
        return self.body(x) + self.table_term(x)
