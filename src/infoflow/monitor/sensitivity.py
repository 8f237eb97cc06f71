"""How the DPI verdicts depend on the kernel width rule and the layer-kernel mode (docs/method.md §4).

From one set of activations (the final checkpoint's), recompute every quantity

* under each width rule and both layer-kernel modes, and report whether DPI 1 and DPI 2 hold,
  with the share of the chain's links that hold (:func:`dpi_sensitivity`);
* under each rule with every width — of X and of every layer variable — multiplied by a common
  scale factor from 1/4 to 4 (:func:`width_curves`), so a reader sees where a verdict flips as
  the widths move together (docs/method.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from infoflow.kernels import RULES, gaussian_gram, label_gram
from infoflow.monitor.dpi import BROKEN, DPI_TOLERANCE, Chains, check_dpi
from infoflow.monitor.information_plane import INPUT, information_plane, probe_cache
from infoflow.monitor.layer_grams import (
    CONV_MODES,
    estimator_array,
    estimator_labels,
    gram_with_rule,
    layer_grams,
    layer_grams_of_widths,
    layer_widths,
    width_with_rule,
)
from infoflow.monitor.probe_inputs import input_matrix
from infoflow.options import ALPHA, DTYPE, METHOD

#: Common scale factors of the width curves: 1/4 to 4 in steps of sqrt(2).
SCALES = tuple(2.0 ** (k / 2) for k in range(-4, 5))


def _held(results: Sequence[Any]) -> float:
    """The share of links that hold (1 when there are none: nothing breaks)."""
    return 1 - sum(r.status == BROKEN for r in results) / max(len(results), 1)


def dpi_sensitivity(
    inputs: Any,
    labels: Any,
    activations: Mapping[str, torch.Tensor],
    *,
    rules: Sequence[str] = RULES,
    conv_modes: Sequence[str] = CONV_MODES,
    alpha: float = ALPHA.default,
    tolerance: float = DPI_TOLERANCE,
    dtype: str = DTYPE.default,
    method: Any = METHOD.default,
    chains: Chains | Sequence[str] | Sequence[Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """One row per (rule, conv_mode): DPI verdicts and link shares, from the same activations.

    ``activations`` maps layer names to their outputs on ``inputs``; ``chains`` are the Markov
    chains among them (default: one chain, the layers in the mapping's order). A share is over
    the Markov links of the inequality.
    """
    chains = Chains.of(list(activations) if chains is None else chains)
    device = next(iter(activations.values())).device  # every Gram where the activations are
    y_gram = label_gram(estimator_labels(labels, device))
    x = estimator_array(input_matrix(inputs), device)
    rows = []
    for rule in rules:
        probe = probe_cache(gram_with_rule(x, rule, y_gram), y_gram, alpha=alpha, dtype=dtype,
                            method=method)
        for mode in conv_modes:
            grams = {
                name: layer_grams(estimator_array(t, device), rule=rule, conv_mode=mode,
                                  target=y_gram)
                for name, t in activations.items()
            }
            verdict = check_dpi(information_plane(probe, grams), chains, tolerance=tolerance)
            rows.append({"rule": rule, "conv_mode": mode, "dpi1": verdict.dpi1,
                         "dpi2": verdict.dpi2,
                         "dpi1_links_held": _held(verdict.judged("DPI 1")),
                         "dpi2_links_held": _held(verdict.judged("DPI 2"))})
    return rows


def width_curves(
    inputs: torch.Tensor,
    labels: Any,
    activations: Mapping[str, torch.Tensor],
    *,
    rules: Sequence[str] = RULES,
    scales: Sequence[float] = SCALES,
    conv_mode: str = "tensor",
    alpha: float = 1.01,
    tolerance: float = DPI_TOLERANCE,
    dtype: str = "float64",
    method: Any = "exact",
    chains: Chains | Sequence[str] | Sequence[Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """Every quantity and the DPI verdicts with all widths scaled by a common factor.

    For each rule, the widths of X and of every layer variable are chosen once by the rule and
    then multiplied by each factor in ``scales``. Returns tidy rows ``rule``, ``conv_mode``,
    ``scale``, ``layer``, ``quantity``, ``value``: I(X;Y) (layer "input"), each layer's I(X;T),
    I(T;Y) and H(T), and per inequality the share of its Markov links that hold (layer "input",
    quantity "DPI 1 links held": 1 where the inequality holds). Verdicts are by point estimates.
    """
    if not scales or any(not (isinstance(f, (int, float)) and f > 0) for f in scales):
        raise ValueError(f"scales must be positive numbers, got {scales!r}")
    chains = Chains.of(list(activations) if chains is None else chains)
    device = next(iter(activations.values())).device
    y_gram = label_gram(estimator_labels(labels, device))
    x = estimator_array(inputs.reshape(len(inputs), -1), device)
    layers = {name: estimator_array(t, device) for name, t in activations.items()}
    rows = []
    for rule in rules:
        x_width = width_with_rule(x, rule, y_gram)
        widths = {name: layer_widths(t, rule=rule, conv_mode=conv_mode, target=y_gram)
                  for name, t in layers.items()}
        for scale in scales:
            probe = probe_cache(gaussian_gram(x, x_width * scale), y_gram, alpha=alpha,
                                dtype=dtype, method=method)
            grams = {name: layer_grams_of_widths(t, [w * scale for w in widths[name]],
                                                 conv_mode=conv_mode)
                     for name, t in layers.items()}
            values = information_plane(probe, grams)
            verdict = check_dpi(values, chains, tolerance=tolerance)
            row = {"rule": rule, "conv_mode": conv_mode, "scale": scale}
            rows.append({**row, "layer": INPUT, "quantity": "I(X;Y)",
                         "value": values[(INPUT, "I(X;Y)")]})
            rows += [{**row, "layer": name, "quantity": quantity, "value": values[(name, quantity)]}
                     for name in layers for quantity in ("I(X;T)", "I(T;Y)", "H(T)")]
            rows += [{**row, "layer": INPUT, "quantity": f"{inequality} links held",
                      "value": _held(verdict.judged(inequality))}
                     for inequality in ("DPI 1", "DPI 2")]
    return rows
