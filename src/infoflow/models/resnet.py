"""A small residual network in the style of He et al. (2016, §4.2) for 32×32 and smaller images."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class BasicBlock(nn.Module):
    """conv1 (3×3, BatchNorm, ReLU) → conv2 (3×3, BatchNorm), plus the shortcut, then ReLU.

    The shortcut is the identity, or a 1×1 convolution with BatchNorm (``shortcut``) where the
    stride or the channel count changes. The block's output is a function of its input alone;
    inside it, conv2 and the shortcut are parallel (neither depends on the other).
    """

    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels),
            )
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


class ResNet(nn.Module):
    """``stem`` (3×3 conv, BatchNorm, ReLU) → stages ``layer1 … layerS`` of basic blocks (the
    first block of each stage after the first halves the size) → ``pool`` (global average) →
    ``out`` (linear).

    ``layer_names`` — the default layers the monitor measures — are the stem, every block's
    output (``layer1.0``, …) and the pooled features: one Markov chain from the input.

    Parameters
    ----------
    in_channels : int, default 3
    image_size : int, default 32
        Must be at least 2**(stages - 1) (8×8 digits work with three stages).
    depth : int, optional
        2·S·k + 2 for k blocks in each of the S stages: with the default three stages 8
        (ResNet-8), 14, 20 (ResNet-20), …; with two stages 6, 10, …. Default: one block per
        stage (2·S + 2; 8 for three stages).
    filters : sequence of int, default (16, 32, 64)
        Channels of each stage.
    classes : int, default 10
    """

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        depth: int | None = None,
        filters: Sequence[int] = (16, 32, 64),
        classes: int = 10,
    ) -> None:
        super().__init__()
        if not filters or any(int(f) < 1 for f in filters):
            raise ValueError(f"filters must be one or more positive counts, got {filters}")
        stages = len(filters)
        if depth is None:
            depth = 2 * stages + 2
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2 * stages + 2 or (
            depth - 2
        ) % (2 * stages):
            raise ValueError(f"depth must be {2 * stages}k + 2 with k >= 1 for {stages} stages "
                             f"of filters, got {depth!r}")
        if image_size < 2 ** (stages - 1):
            raise ValueError(f"image_size must be >= {2 ** (stages - 1)} for {stages} stages, "
                             f"got {image_size}")
        blocks = (depth - 2) // (2 * stages)
        widths = [int(f) for f in filters]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        names = ["stem"]
        channels = widths[0]
        for s, width in enumerate(widths):
            stage = nn.Sequential(*(
                BasicBlock(channels if b == 0 else width, width, 2 if b == 0 and s > 0 else 1)
                for b in range(blocks)
            ))
            channels = width
            self.add_module(f"layer{s + 1}", stage)
            names += [f"layer{s + 1}.{b}" for b in range(blocks)]
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out = nn.Linear(channels, classes)
        self.layer_names = (*names, "pool")
        self._stages = [f"layer{s + 1}" for s in range(stages)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for name in self._stages:
            x = getattr(self, name)(x)
        return self.out(self.pool(x))
