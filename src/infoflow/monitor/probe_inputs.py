"""Probe inputs: one tensor, or a dict, tuple or list of them, sliced and moved as one.

A model whose forward takes several inputs is fed by ``forward_fn(model, batch)``; ``batch``
has the structure of the probe inputs, with every tensor of n rows cut to the batch's rows
(other values — flags, constants — pass unchanged). NumPy arrays become tensors; floating ones
take the model's floating dtype. The input variable X of the information plane is every
tensor of the probe, flattened per sample and concatenated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

ForwardFn = Callable[[nn.Module, Any], Any]


def call_model(model: nn.Module, batch: Any) -> Any:
    """The default forward: ``model(batch)``."""
    return model(batch)


def map_tensors(inputs: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    """``inputs`` with ``fn`` applied to every tensor in it (dicts, tuples and lists rebuilt)."""
    if isinstance(inputs, torch.Tensor):
        return fn(inputs)
    if isinstance(inputs, Mapping):
        return {k: map_tensors(v, fn) for k, v in inputs.items()}
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(map_tensors(v, fn) for v in inputs)
    return inputs


def tensors(inputs: Any) -> list[torch.Tensor]:
    """Every tensor in the structure, in order."""
    found: list[torch.Tensor] = []
    map_tensors(inputs, found.append)
    return found


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the model's first floating parameter (torch's default for none)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def as_probe(inputs: Any, dtype: torch.dtype, *, minimum: int = 2) -> tuple[Any, int]:
    """Tensors for every array in ``inputs``, and the probe size n they share (n >= minimum)."""

    def convert(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            if x.dtype.kind not in "biufc":
                raise TypeError(f"inputs must hold numbers, got a NumPy array of dtype {x.dtype}")
            t = torch.from_numpy(np.ascontiguousarray(x))
            return t.to(dtype) if t.is_floating_point() else t
        if isinstance(x, Mapping):
            return {k: convert(v) for k, v in x.items()}
        if isinstance(x, (tuple, list)):
            return type(x)(convert(v) for v in x)
        return x

    probe = convert(inputs)
    found = tensors(probe)
    if not found:
        raise TypeError(
            "inputs must be a torch tensor or NumPy array of shape (n, ...), or a dict, tuple "
            f"or list of them, got {type(inputs).__name__}"
        )
    sizes = {tuple(t.shape[:1]) for t in found}
    if len(sizes) != 1 or () in sizes:
        raise ValueError(
            "inputs must hold tensors with one row per probe sample (the same first "
            f"dimension n), got shapes {[tuple(t.shape) for t in found]}"
        )
    (n,), = sizes
    if n < minimum:
        raise ValueError(f"inputs must hold n >= {minimum} probe samples, got {n}")
    for t in found:
        if t.is_complex():
            raise TypeError(f"inputs must be real-valued, got dtype {t.dtype}")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"inputs must hold only finite values (in dtype {t.dtype}, the "
                             "model's for NumPy input), got NaN or infinity")
    return probe, n


def batch_of(inputs: Any, start: int, stop: int) -> Any:
    """Rows start:stop of every tensor in ``inputs``."""
    return map_tensors(inputs, lambda t: t[start:stop])


def moved(inputs: Any, device: torch.device) -> Any:
    """``inputs`` with every tensor on ``device``."""
    return map_tensors(inputs, lambda t: t.to(device))


def input_matrix(inputs: Any) -> torch.Tensor:
    """X as one (n, d) matrix: every tensor flattened per sample, concatenated, float64."""
    found = tensors(inputs)
    return torch.cat([t.detach().reshape(len(t), -1).to(torch.float64) for t in found], dim=1)
