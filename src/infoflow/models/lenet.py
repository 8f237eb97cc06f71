"""LeNet-5 (LeCun et al. 1998), built for the data's image size and channels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _conv_out(size: int, kernel: int, padding: int) -> int:
    return size + 2 * padding - kernel + 1


class LeNet5(nn.Module):
    """LeNet-5: conv1 → pool → conv2 → pool → fc1 (120) → fc2 (84) → out.

    Parameters
    ----------
    in_channels : int
        Channels of the input images (1 for digits/MNIST, 3 for CIFAR-10).
    image_size : int
        Height (= width) of the input images. Kernels are 5×5 where the image is large enough
        (28×28 and 32×32 give the classic 16×5×5 before fc1) and 3×3 for small images such as
        the 8×8 digits, so every size from 8 up gives a valid network.
    filters : (int, int), default (6, 16)
        Filters of conv1 and conv2 — the counts the filter study varies.
    classes : int, default 10
    """

    layer_names = ("conv1", "conv2", "fc1", "fc2")

    def __init__(
        self,
        in_channels: int = 1,
        image_size: int = 28,
        filters: Sequence[int] = (6, 16),
        classes: int = 10,
    ) -> None:
        super().__init__()
        if image_size < 8:
            raise ValueError(f"image_size must be >= 8 for LeNet-5, got {image_size}")
        if len(filters) != 2 or any(int(f) < 1 for f in filters):
            raise ValueError(f"filters must be two positive counts (conv1, conv2), got {filters}")
        c1, c2 = (int(f) for f in filters)
        large = image_size >= 28
        k, pad1 = (5, 2) if large else (3, 1)
        size = _conv_out(image_size, k, pad1) // 2
        pad2 = 0 if large else 1
        size = _conv_out(size, k, pad2) // 2
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, c1, k, padding=pad1), nn.ReLU())
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Sequential(nn.Conv2d(c1, c2, k, padding=pad2), nn.ReLU())
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Sequential(nn.Flatten(), nn.Linear(c2 * size * size, 120), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(120, 84), nn.ReLU())
        self.out = nn.Linear(84, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        return self.out(self.fc2(self.fc1(x)))
