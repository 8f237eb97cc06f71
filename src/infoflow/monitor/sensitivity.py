"""How the DPI verdicts depend on the kernel width rule and the layer-kernel mode (docs/method.md §4).

From one set of activations (the final checkpoint's), recompute every quantity under each
width rule and both layer-kernel modes and report whether DPI 1 and DPI 2 hold, with the share
of the chain's links that hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from infoflow.kernels import RULES, label_gram
from infoflow.monitor.dpi import BROKEN, DPI_TOLERANCE, Chains, check_dpi
from infoflow.monitor.information_plane import information_plane, probe_cache
from infoflow.monitor.layer_grams import (
    CONV_MODES,
    estimator_array,
    estimator_labels,
    gram_with_rule,
    layer_grams,
)
from infoflow.monitor.probe_inputs import input_matrix
from infoflow.options import ALPHA, DTYPE, METHOD


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
