"""Build a model by name for data of a given shape."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

#: Model names :func:`build_model` knows.
MODELS = ("lenet5", "mlp", "vgg", "resnet")


def build_model(
    name: str,
    *,
    in_channels: int,
    image_size: int,
    classes: int,
    filters: Sequence[int] | None = None,
) -> nn.Module:
    """A freshly initialised model for images of shape (in_channels, image_size, image_size).

    ``filters`` sets LeNet-5's (conv1, conv2) and the VGG's conv counts, the ResNet's stage
    widths and the MLP's hidden widths; None keeps each model's default. "resnet" is ResNet-8.
    """
    from infoflow.models.lenet import LeNet5
    from infoflow.models.mlp import MLP
    from infoflow.models.resnet import ResNet
    from infoflow.models.vgg import SmallVGG

    extra = {} if filters is None else {"filters": tuple(filters)}
    if name == "lenet5":
        return LeNet5(in_channels, image_size, classes=classes, **extra)
    if name == "vgg":
        return SmallVGG(in_channels, image_size, classes=classes, **extra)
    if name == "resnet":
        return ResNet(in_channels, image_size, classes=classes, **extra)
    if name == "mlp":
        hidden = {} if filters is None else {"hidden": tuple(filters)}
        return MLP(in_channels * image_size * image_size, classes=classes, **hidden)
    raise ValueError(f"model must be one of {MODELS}, got {name!r}")
