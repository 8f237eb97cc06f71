"""A layer's Gram matrices: one per feature map, or one for the whole layer (docs/method.md §3).

``"feature_maps"`` (the paper's way) treats a conv layer of C channels as C variables, each
with its own width σ_c; their joint is the Hadamard product. ``"tensor"`` uses one σ for the
whole layer, which equals the product of C Grams sharing that σ (the tensor-kernel view of
Wickstrøm et al. 2023). Dense layers are one variable in both modes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from infoflow.kernels import gaussian_gram, joint_gaussian_gram, kernel_width, kernel_widths
from infoflow.kernels.gram import (
    gaussian_gram_of_device_width,
    joint_gaussian_gram_of_device_widths,
)
from infoflow.kernels.width import silverman_widths_on_device
from infoflow.options import CONV_MODE

#: Layer-kernel modes.
CONV_MODES = CONV_MODE.choices


def uses_numpy(device: torch.device) -> bool:
    """Whether the estimators run in NumPy for data on ``device``: on the CPU, where SciPy's
    eigensolver is faster than torch's; on an accelerator they run in torch, on the device."""
    return device.type == "cpu"


def estimator_array(t: torch.Tensor, device: Any = None) -> Any:
    """float64 data for the estimators on ``device`` (default: ``t``'s own): a NumPy array on
    the CPU, a torch tensor on an accelerator (:func:`uses_numpy`)."""
    device = t.device if device is None else torch.device(device)
    t = t.detach().to(device=device, dtype=torch.float64)
    return t.cpu().numpy() if uses_numpy(device) else t


def estimator_labels(labels: Any, device: Any) -> Any:
    """Integer labels in the kind :func:`estimator_array` gives for ``device``, so that the label
    Gram and the layers' Grams can be multiplied."""
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    device = torch.device(device)
    return y if uses_numpy(device) else torch.as_tensor(y, device=device)


def variables_of(t: Any, conv_mode: str) -> list[Any]:
    """The variables of a layer output of shape (n, C, H, W) or (n, d)."""
    if CONV_MODE.check(conv_mode) == "feature_maps" and t.ndim == 4:
        return [t[:, c] for c in range(t.shape[1])]
    return [t]


def width_with_rule(v: Any, rule: str, target: Any = None) -> float:
    """σ of one variable from ``rule`` (dead, constant maps allowed)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="x is constant", category=RuntimeWarning)
        return kernel_width(v, rule, target=target if rule == "alignment" else None)


def gram_with_rule(v: Any, rule: str, target: Any = None) -> Any:
    """Gaussian Gram of one variable with σ from ``rule`` (dead, constant maps allowed)."""
    return gaussian_gram(v, width_with_rule(v, rule, target))


def feature_map_grams(t: Any, *, rule: str, conv_mode: str, target: Any = None) -> list[Any]:
    """One Gram matrix per feature map of a conv layer output (n, C, H, W), C >= 2.

    Widths follow the mode: one per map ("feature_maps"), or the whole layer's width shared by
    every map ("tensor"), whose product is then the whole layer's Gram. Used for the layer's
    partial information decomposition.
    """
    if isinstance(t, torch.Tensor):
        t = estimator_array(t)
    if t.ndim != 4 or t.shape[1] < 2:
        raise ValueError(
            f"a decomposition needs a conv layer output (n, C, H, W) with C >= 2, "
            f"got shape {tuple(t.shape)}"
        )
    if isinstance(target, torch.Tensor) and isinstance(t, np.ndarray):
        target = target.cpu().numpy()
    if rule == "silverman" and isinstance(t, torch.Tensor) and t[0].numel() > 0:
        # on a device the widths stay there (silverman_widths_on_device): no host read
        maps = variables_of(t, conv_mode) if conv_mode == "feature_maps" else [t]
        widths = silverman_widths_on_device(maps)
        if conv_mode != "feature_maps":
            widths = widths * t.shape[1]
        return [gaussian_gram_of_device_width(t[:, c], sigma) for c, sigma in enumerate(widths)]
    if conv_mode == "feature_maps":
        return [gram_with_rule(v, rule, target) for v in variables_of(t, conv_mode)]
    sigma = width_with_rule(t, rule, target)
    return [gaussian_gram(t[:, c], sigma) for c in range(t.shape[1])]


def _estimator_inputs(t: Any, target: Any) -> tuple[Any, Any]:
    if isinstance(t, torch.Tensor):
        t = estimator_array(t)
    if isinstance(target, torch.Tensor) and isinstance(t, np.ndarray):
        target = target.cpu().numpy()
    return t, target


def layer_widths(t: Any, *, rule: str, conv_mode: str, target: Any = None) -> list[float]:
    """σ of each variable of the layer under ``rule``: one for a dense layer or in ``"tensor"``
    mode, one per feature map in ``"feature_maps"`` mode (dead, constant maps allowed)."""
    return widths_of_layers({"t": t}, rule=rule, conv_mode=conv_mode, target=target)["t"]


def widths_of_layers(outputs: Mapping[str, Any], *, rule: str, conv_mode: str,
                     target: Any = None) -> dict[str, list[float]]:
    """:func:`layer_widths` of several layers at once: on a device under "silverman", every
    variable's scalars come to the host in one read, not one per layer."""
    variables: dict[str, list[Any]] = {}
    for name, t in outputs.items():
        t, target_like_t = _estimator_inputs(t, target)
        variables[name] = variables_of(t, conv_mode)
    flat = [v for vs in variables.values() for v in vs]
    if not flat:
        return {}
    with warnings.catch_warnings():  # dead, constant maps allowed
        warnings.filterwarnings("ignore", message="x is constant", category=RuntimeWarning)
        widths = kernel_widths(flat, rule, target=target_like_t if rule == "alignment" else None)
    found, start = {}, 0
    for name, vs in variables.items():
        found[name], start = widths[start:start + len(vs)], start + len(vs)
    return found


def device_widths_of_layers(outputs: Mapping[str, Any], *, conv_mode: str,
                            ) -> dict[str, list[Any]] | None:
    """The "silverman" width of every variable of several layers, as 0-dim tensors where the
    layers' tensors live (:func:`~infoflow.kernels.width.silverman_widths_on_device`): no host
    read. None unless every layer is a tensor with at least one value per sample."""
    variables = {name: variables_of(t, conv_mode) for name, t in outputs.items()}
    if not all(isinstance(v, torch.Tensor) and v[0].numel() > 0
               for vs in variables.values() for v in vs):
        return None
    return {name: silverman_widths_on_device(vs) for name, vs in variables.items()}


def layer_grams_of_widths(t: Any, widths: list[Any], *, conv_mode: str) -> list[Any]:
    """The layer's Gram matrix (n, n) with the given widths — floats (:func:`layer_widths`), or
    0-dim tensors on the layer's device (:func:`device_widths_of_layers`) — as a one-item
    list."""
    t, _ = _estimator_inputs(t, None)
    variables = variables_of(t, conv_mode)
    on_device = isinstance(widths[0], torch.Tensor)
    if len(variables) == 1:
        return [gaussian_gram_of_device_width(variables[0], widths[0]) if on_device
                else gaussian_gram(variables[0], widths[0])]
    # on the host a conv layer's maps are scaled side by side in one operation
    return [joint_gaussian_gram_of_device_widths(variables, widths) if on_device
            else joint_gaussian_gram(t, widths)]


def layer_grams(t: Any, *, rule: str, conv_mode: str, target: Any = None) -> list[Any]:
    """The layer's Gram matrix (n, n) under a width rule and a mode, as a one-item list.

    In ``"feature_maps"`` mode a conv layer's C maps, each with its own width, are joined in
    one :func:`~infoflow.joint_gaussian_gram` — their Hadamard product, built as one Gram.
    ``target`` is the label Gram, needed by the ``"alignment"`` rule.
    """
    t, target = _estimator_inputs(t, target)
    return layer_grams_of_widths(t, layer_widths(t, rule=rule, conv_mode=conv_mode,
                                                 target=target), conv_mode=conv_mode)
