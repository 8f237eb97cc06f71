"""Capture a model's layer outputs on a probe set with forward hooks scoped to the call.

Hooks are registered inside the ``try`` whose ``finally`` removes them; the model runs in eval
mode (dropout off; BatchNorm normalises with its running statistics and leaves them untouched)
and gets its own mode back, also when the forward pass raises. Every error about a
layer names it: a layer that never runs, one that runs more than once per forward pass, an
output that is not one tensor of one row per sample, NaN or infinite values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from infoflow._deferred import require
from infoflow.monitor.layer_specs import Layer
from infoflow.monitor.probe_inputs import ForwardFn, as_probe, batch_of, call_model, model_dtype


def check_model(model: Any) -> nn.Module:
    """``model`` if it is a torch module (forward hooks need one)."""
    if not isinstance(model, nn.Module):
        raise TypeError(
            "model must be a torch.nn.Module (its layers are measured with forward hooks), got "
            f"{type(model).__name__}"
        )
    return model


def check_forward_fn(forward_fn: Any) -> ForwardFn:
    if forward_fn is None:
        return call_model
    if not callable(forward_fn):
        raise TypeError(f"forward_fn must be a callable forward_fn(model, batch), got "
                        f"{type(forward_fn).__name__}")
    return forward_fn


@contextmanager
def hooked(
    model: nn.Module, layers: Sequence[Layer], record: Callable[[Layer, Any], None]
) -> Iterator[dict[str, int]]:
    """Forward hooks calling ``record(layer, raw_output)`` while the block runs, in eval mode.

    Yields the count of calls per module (reset it per forward pass). The hooks are removed
    and the model's mode restored on leaving, whatever happens inside.
    """
    named = dict(model.named_modules())
    by_module: dict[str, list[Layer]] = {}
    for layer in layers:
        by_module.setdefault(layer.module, []).append(layer)
    calls = dict.fromkeys(by_module, 0)
    was_training = model.training
    handles = []

    def hook_for(module_name: str):
        def hook(module: nn.Module, args: object, output: Any) -> None:
            calls[module_name] += 1
            for layer in by_module[module_name]:
                record(layer, output)

        return hook

    try:
        for module_name in by_module:
            handles.append(named[module_name].register_forward_hook(hook_for(module_name)))
        model.eval()
        yield calls
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)


def check_calls(calls: dict[str, int], layers: Sequence[Layer]) -> None:
    """Every measured module ran exactly once in the forward pass just made."""
    for layer in layers:
        count = calls[layer.module]
        if count == 0:
            raise RuntimeError(
                f"layer {layer.name!r} did not run in the forward pass: module "
                f"{layer.module!r} is not on the path the model computes for these inputs"
            )
        if count > 1:
            raise RuntimeError(
                f"layer {layer.name!r} ran {count} times in one forward pass: module "
                f"{layer.module!r} is reused, so no single output is its layer; measure a "
                "module that runs once (give each use its own module)"
            )


def _checked_rows(layer: Layer, t: torch.Tensor, rows: int) -> torch.Tensor:
    if t.ndim == 0 or t.shape[0] != rows:
        raise ValueError(
            f"layer {layer.name!r} gave shape {tuple(t.shape)} for a batch of {rows} samples; "
            "its first dimension must be the sample (select or permute it with a callable)"
        )
    return t.detach().clone()  # a copy: a later in-place operation must not change it


def capture_activations(
    model: nn.Module,
    inputs: Any,
    layers: Sequence[Layer | str],
    *,
    batch_size: int = 512,
    forward_fn: ForwardFn | None = None,
) -> dict[str, torch.Tensor]:
    """Outputs of the layers for ``inputs``, in batches, concatenated along samples.

    Parameters
    ----------
    model : torch.nn.Module
    inputs : tensor, NumPy array, or a dict, tuple or list of them, n rows each
    layers : :class:`~infoflow.monitor.layer_specs.Layer` objects or module names
    batch_size : int
    forward_fn : callable ``forward_fn(model, batch)``, default ``model(batch)``

    Returns tensors keyed by layer name, on the model's device, detached, in the model's
    dtype, each of shape (n, ...).
    """
    model = check_model(model)
    forward = check_forward_fn(forward_fn)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    _checked_layers(model, layers)
    probe, n = as_probe(inputs, model_dtype(model))
    return probe_activations(model, probe, n, layers, batch_size=batch_size, forward=forward)


def _checked_layers(model: nn.Module, layers: Sequence[Layer | str]) -> list[Layer]:
    layers = [Layer(x, x) if isinstance(x, str) else x for x in layers]
    named = dict(model.named_modules())
    for layer in layers:
        if layer.module not in named:
            raise ValueError(f"layer {layer.name!r} names module {layer.module!r}, which is not "
                             "a module of the model")
    return layers


def probe_activations(model: nn.Module, probe: Any, n: int, layers: Sequence[Layer | str], *,
                      batch_size: int, forward: ForwardFn) -> dict[str, torch.Tensor]:
    """:func:`capture_activations` of a probe of ``n`` samples that
    :func:`~infoflow.monitor.probe_inputs.as_probe` has checked already, with a checked model,
    batch size and forward function: the monitor's, at every checkpoint, whose probe values are
    not looked at again (on a device, one host round trip less)."""
    layers = _checked_layers(model, layers)
    parts: dict[str, list[torch.Tensor]] = {layer.name: [] for layer in layers}
    rows = 0

    def record(layer: Layer, output: Any) -> None:
        parts[layer.name].append(_checked_rows(layer, layer.output(output), rows))

    with hooked(model, layers, record) as calls, torch.no_grad():
        for start in range(0, n, batch_size):
            rows = min(batch_size, n - start)
            calls.update(dict.fromkeys(calls, 0))
            forward(model, batch_of(probe, start, start + batch_size))
            check_calls(calls, layers)
    outputs = {name: torch.cat(p) for name, p in parts.items()}

    def name_the_layer() -> None:
        for layer in layers:
            t = outputs[layer.name]
            if not bool(torch.isfinite(t).all()):
                bad = int((~torch.isfinite(t.reshape(n, -1))).any(1).sum())
                raise ValueError(f"layer {layer.name!r} gave NaN or infinite values for {bad} "
                                 f"of the {n} probe samples")

    flags = [torch.isfinite(outputs[layer.name]).all() for layer in layers]
    for device in {f.device for f in flags}:  # one flag per device, not per layer; inside
        # deferred_checks (the monitor's checkpoint) read with the checkpoint's other checks
        require(torch.stack([f for f in flags if f.device == device]).all(), name_the_layer)
    return outputs


@dataclass(frozen=True)
class LayerInfo:
    """One module of a model: its name, type, output on the example input, and parameters."""

    name: str
    type: str
    output: str
    calls: int
    parameters: int


def _describe(output: Any) -> str:
    if isinstance(output, torch.Tensor):
        return str(tuple(output.shape))
    if isinstance(output, (tuple, list)):
        inner = ", ".join(_describe(o) for o in output)
        return f"{type(output).__name__}[{inner}]"
    if isinstance(output, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in output.items()) + "}"
    return type(output).__name__


def list_layers(
    model: nn.Module, example_input: Any, *, forward_fn: ForwardFn | None = None
) -> list[LayerInfo]:
    """Every submodule's name, type, output shape on ``example_input`` and parameter count.

    The model runs once in eval mode without gradients (its mode is restored). ``calls`` is how
    often the module ran: 0 for a module the forward pass does not use, more than 1 for a
    reused one — neither can be measured as a layer. Output shapes are those of the first call.
    """
    model = check_model(model)
    forward = check_forward_fn(forward_fn)
    probe, _ = as_probe(example_input, model_dtype(model), minimum=1)
    named = [(n, m) for n, m in model.named_modules() if n]
    layers = [Layer(n, n) for n, _ in named]
    seen: dict[str, str] = {}

    def record(layer: Layer, output: Any) -> None:
        seen.setdefault(layer.name, _describe(output))

    with hooked(model, layers, record) as calls, torch.no_grad():
        forward(model, probe)
    return [
        LayerInfo(name, type(module).__name__, seen.get(name, "-"), calls[name],
                  sum(p.numel() for p in module.parameters()))
        for name, module in named
    ]


def format_layers(infos: Sequence[LayerInfo]) -> str:
    """The table :func:`list_layers` describes, one module per line."""
    header = ("name", "type", "output", "calls", "parameters")
    rows = [header] + [(i.name, i.type, i.output, str(i.calls), f"{i.parameters:,}")
                       for i in infos]
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if c < 3 else cell.rjust(w)
                       for c, (cell, w) in enumerate(zip(row, widths))).rstrip()
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
