"""A small VGG-style CNN for colour images (CIFAR-10)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class SmallVGG(nn.Module):
    """Blocks ``conv1 … convK`` of (3×3 conv, ReLU) each followed by 2×2 max-pooling, then
    ``fc1`` (ReLU) and ``out``.

    Parameters
    ----------
    in_channels : int, default 3
    image_size : int, default 32
        Must be divisible by 2**len(filters).
    filters : sequence of int, default (16, 32, 64)
    classes : int, default 10
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        filters: Sequence[int] = (16, 32, 64),
        classes: int = 10,
    ) -> None:
        super().__init__()
        if not filters or any(int(f) < 1 for f in filters):
            raise ValueError(f"filters must be one or more positive counts, got {filters}")
        if image_size % 2 ** len(filters):
            raise ValueError(
                f"image_size must be divisible by 2**{len(filters)}, got {image_size}"
            )
        channels = [in_channels, *(int(f) for f in filters)]
        names = [f"conv{i + 1}" for i in range(len(filters))]
        for name, (a, b) in zip(names, zip(channels, channels[1:])):
            self.add_module(name, nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.ReLU()))
        self.pool = nn.MaxPool2d(2)
        size = image_size // 2 ** len(filters)
        self.fc1 = nn.Sequential(nn.Flatten(), nn.Linear(channels[-1] * size * size, 128), nn.ReLU())
        self.out = nn.Linear(128, classes)
        self.layer_names = (*names, "fc1")
        self._convs = names

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in self._convs:
            x = self.pool(getattr(self, name)(x))
        return self.out(self.fc1(x))
