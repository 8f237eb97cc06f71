"""Capture a model's layer outputs on a probe set with forward hooks scoped to the call.

Hooks are registered only while :func:`capture_activations` runs and removed in ``finally``;
the model runs in eval mode without gradients and gets its own mode back, also when the
forward pass raises.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

LayerSpec = str | type[nn.Module]
"""A module's name in ``model.named_modules()``, or a module type (every module of it)."""


def resolve_layers(model: nn.Module, layers: Sequence[LayerSpec] | None) -> list[str]:
    """Module names for a list of names and types, in the model's order for types.

    ``None`` takes the model's ``layer_names`` (infoflow's models define them).
    """
    named = dict(model.named_modules())
    if layers is None:
        if not hasattr(model, "layer_names"):
            raise ValueError(
                "layers must name the modules to measure (names or types); this model has no "
                "layer_names attribute"
            )
        layers = list(model.layer_names)
    if isinstance(layers, (str, type)):
        layers = [layers]
    names: list[str] = []
    for spec in layers:
        if isinstance(spec, str):
            if spec not in named or spec == "":
                raise ValueError(
                    f"layers names {spec!r}, which is not a module of the model; "
                    f"modules: {[n for n in named if n][:20]}"
                )
            found = [spec]
        elif isinstance(spec, type) and issubclass(spec, nn.Module):
            found = [n for n, m in named.items() if n and type(m) is spec]
            if not found:
                raise ValueError(f"layers names type {spec.__name__}, which the model does not use")
        else:
            raise TypeError(f"layers must hold module names or nn.Module types, got {spec!r}")
        names.extend(n for n in found if n not in names)
    if not names:
        raise ValueError("layers must name at least one module")
    return names


def capture_activations(
    model: nn.Module, inputs: torch.Tensor, layers: Sequence[str], *, batch_size: int = 512
) -> dict[str, torch.Tensor]:
    """Outputs of the named modules for ``inputs``, in batches, concatenated along samples.

    Returns tensors on the model's device, detached, in the model's dtype.
    """
    named = dict(model.named_modules())
    outputs: dict[str, list[torch.Tensor]] = {name: [] for name in layers}

    def hook_for(name: str):
        def hook(module: nn.Module, args: object, output: torch.Tensor) -> None:
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"layer {name!r} returned {type(output).__name__}, not a tensor")
            outputs[name].append(output.detach())

        return hook

    was_training = model.training
    handles = [named[name].register_forward_hook(hook_for(name)) for name in layers]
    try:
        model.eval()
        with torch.no_grad():
            for start in range(0, len(inputs), batch_size):
                model(inputs[start : start + batch_size])
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {name: torch.cat(parts) for name, parts in outputs.items()}
