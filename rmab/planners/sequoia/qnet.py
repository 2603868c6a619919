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
    global torch seed.
    """

    def __init__(self, n_inputs: int, hidden=(32, 32), *, generator: "torch.Generator"):
        super().__init__()
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

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        return self.layers(x).squeeze(-1)
