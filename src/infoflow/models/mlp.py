"""A multilayer perceptron on flattened images."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """Fully connected ReLU layers ``fc1 … fcK`` on the flattened input, then ``out``.

    Parameters
    ----------
    in_features : int
        Values per input (channels × height × width).
    hidden : sequence of int, default (64, 32, 16)
    classes : int, default 10
    """

    def __init__(
        self, in_features: int, hidden: Sequence[int] = (64, 32, 16), classes: int = 10
    ) -> None:
        super().__init__()
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden must be one or more positive widths, got {hidden}")
        self.flatten = nn.Flatten()
        self.layer_names = tuple(f"fc{i + 1}" for i in range(len(hidden)))
        widths = [in_features, *(int(h) for h in hidden)]
        for name, (a, b) in zip(self.layer_names, zip(widths, widths[1:])):
            self.add_module(name, nn.Sequential(nn.Linear(a, b), nn.ReLU()))
        self.out = nn.Linear(widths[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(x)
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return self.out(x)
