"""``infoflow layers``: every module of a built-in model, and the Markov chains among layers."""

from __future__ import annotations

import argparse

from infoflow.cli.options import add_option
from infoflow.training.config import RUN_OPTIONS


def add_layers_parser(commands: argparse._SubParsersAction) -> None:
    layers = commands.add_parser(
        "layers", help="list a model's modules (name, type, output shape, parameters) and the "
                       "DPI chains among the layers measured",
        description="Every module of a built-in model with its type, output shape on one "
                    "example image of the dataset and parameter count; then the Markov chains "
                    "among the measured layers, checked on the model's autograd graph.",
    )
    # the same flags, checked the same way, as `infoflow run`'s (the run option table)
    add_option(layers, RUN_OPTIONS["model"], default=RUN_OPTIONS["model"].default)
    layers.add_argument("--data", default="digits",
                        help="the dataset whose image shape the model is built for (digits)")
    add_option(layers, RUN_OPTIONS["filters"])
    layers.add_argument("--layers", nargs="+", default=None,
                        help="module names to measure (default: the model's layers)")
    layers.set_defaults(handler=layers_command)


def layers_command(args: argparse.Namespace) -> int:
    import torch

    from infoflow.data import DATASETS, SHAPES
    from infoflow.models import build_model
    from infoflow.monitor import find_chains, format_layers, list_layers, resolve_layers

    if args.data not in SHAPES:
        raise ValueError(f"data must be one of {DATASETS}, got {args.data!r}")
    channels, size, classes = SHAPES[args.data]
    model = build_model(args.model, in_channels=channels, image_size=size, classes=classes,
                        filters=args.filters)
    example = torch.zeros(1, channels, size, size)
    print(f"{args.model} for {args.data} ({channels}x{size}x{size} images), output shapes "
          "for one image:\n")
    print(format_layers(list_layers(model, example)))
    measured = resolve_layers(model, args.layers)
    images = torch.randn(2, channels, size, size, generator=torch.Generator().manual_seed(0))
    chains = find_chains(model, images, measured)
    print(f"\nmeasured layers: {' '.join(layer.name for layer in measured)}")
    print("DPI chains (checked on the autograd graph):")
    for line in chains.describe():
        print(f"  {line}")
    return 0
