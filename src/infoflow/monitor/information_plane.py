"""The information-plane quantities of a checkpoint, from Gram matrices (pure functions).

For layers T_1..T_K of a network fed the probe inputs X with labels Y (method.md §3, §5):
I(X;T_k), I(T_k;Y) and H(T_k) per layer, and H(X), H(Y), I(X;Y) once. Every marginal entropy
is computed once through :class:`~infoflow.EntropyCache`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infoflow.measures import EntropyCache

INPUT = "input"
"""The pseudo-layer under which the records hold H(X), H(Y) and I(X;Y)."""

#: The quantities recorded per layer, and for the input.
LAYER_QUANTITIES = ("I(X;T)", "I(T;Y)", "H(T)")
INPUT_QUANTITIES = ("H(X)", "H(Y)", "I(X;Y)")


def probe_cache(x_grams: Any, y_gram: Any, *, alpha: float, dtype: str = "float64") -> EntropyCache:
    """The cache of the fixed probe variables "X" and "Y", to be extended per checkpoint."""
    return EntropyCache({"X": x_grams, "Y": y_gram}, alpha=alpha, dtype=dtype)


def information_plane(
    probe: EntropyCache, layer_grams: Mapping[str, Any]
) -> dict[tuple[str, str], float]:
    """Every quantity of one checkpoint, keyed by (layer, quantity), in bits.

    Parameters
    ----------
    probe : EntropyCache
        Holds "X" and "Y" (see :func:`probe_cache`); its entropies are reused.
    layer_grams : mapping of layer name to a Gram matrix or a list of them (feature maps)
    """
    cache = probe.extended(layer_grams)
    values = {
        (INPUT, "H(X)"): cache.entropy("X"),
        (INPUT, "H(Y)"): cache.entropy("Y"),
        (INPUT, "I(X;Y)"): cache.mutual_information("X", "Y"),
    }
    for layer in layer_grams:
        values[(layer, "I(X;T)")] = cache.mutual_information("X", layer)
        values[(layer, "I(T;Y)")] = cache.mutual_information(layer, "Y")
        values[(layer, "H(T)")] = cache.entropy(layer)
    return {key: float(v) for key, v in values.items()}
