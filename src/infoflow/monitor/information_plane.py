"""The information-plane quantities of a checkpoint, from Gram matrices (pure functions).

For layers T_1..T_K of a network fed the probe inputs X with labels Y (docs/method.md §3, §5):
I(X;T_k), I(T_k;Y) and H(T_k) per layer, and H(X), H(Y), I(X;Y) once. Every marginal entropy
is computed once through :class:`~infoflow.EntropyCache`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from infoflow._deferred import as_floats
from infoflow.measures import EntropyCache
from infoflow.options import DTYPE, METHOD
from infoflow.pid import layer_pid_from_cache

INPUT = "input"
"""The pseudo-layer under which the records hold H(X), H(Y) and I(X;Y)."""

#: The decomposition's layer quantities (docs/method.md §6), recorded for layers measured with PID;
#: per map c also "I(T{c};Y)" (its own label information) and "I(T-{c};Y)" (the layer without it).
PID_QUANTITIES = ("RST", "RST/I", "WNI", "MMI redundancy", "MMI synergy")


def map_quantity(c: int) -> str:
    return f"I(T{c};Y)"


def leave_one_out_quantity(c: int) -> str:
    return f"I(T-{c};Y)"


def probe_cache(
    x_grams: Any, y_gram: Any, *, alpha: float, dtype: str = DTYPE.default, method: Any = METHOD.default
) -> EntropyCache:
    """The cache of the fixed probe variables "X" and "Y", to be extended per checkpoint.

    S(X), S(Y) and S(X, Y) are computed here, once: every checkpoint's
    :meth:`~infoflow.measures.EntropyCache.extended` cache starts with them.
    """
    cache = EntropyCache({"X": x_grams, "Y": y_gram}, alpha=alpha, dtype=dtype, method=method)
    cache.mutual_information("X", "Y")
    return cache


def information_plane(
    probe: EntropyCache,
    layer_grams: Mapping[str, Any],
    *,
    pid_layers: Sequence[str] = (),
    precompute: Callable[[EntropyCache, Callable[[EntropyCache], Any]], None] | None = None,
    assume_unstructured: Sequence[str] = (),
) -> dict[tuple[str, str], float]:
    """Every quantity of one checkpoint, keyed by (layer, quantity), in bits.

    Parameters
    ----------
    probe : EntropyCache
        Holds "X" and "Y" (see :func:`probe_cache`); its entropies are reused.
    layer_grams : mapping of layer name to a Gram matrix or a list of them (feature maps)
    pid_layers : names of layers in ``layer_grams`` (each a list of >= 2 feature-map Grams) for
        which the partial information decomposition about Y is added (:data:`PID_QUANTITIES`).
        Their maps enter the cache as separate variables and the layer as their set, so S(T)
        is shared between the information plane and the decomposition.
    precompute : callable, optional
        Called as ``precompute(cache, compute)`` with the checkpoint's cache before the values
        are computed by ``compute(cache)``: a distributed monitor spreads the entropies that
        ``compute`` needs across ranks (:mod:`infoflow.monitor.distributed`).
    assume_unstructured : sequence of layer names, default ()
        Layers outside ``pid_layers`` whose Grams (on an accelerator) are taken as having no
        block structure, without the host read that looks
        (:meth:`~infoflow.measures.EntropyCache.extended`); where that is wrong, reading the
        values raises :class:`~infoflow.measures.spectrum.StructureAssumed` naming the layer,
        and the caller computes again without assuming it.
    """
    variables: dict[str, Any] = {}
    members: dict[str, str | tuple[str, ...]] = {}
    for layer, grams in layer_grams.items():
        if layer in pid_layers:
            names = tuple(f"{layer}[{c}]" for c in range(len(grams)))
            variables.update(zip(names, grams))
            members[layer] = names
        else:
            variables[layer] = grams
            members[layer] = layer
    cache = probe.extended(variables, assume_unstructured=[
        layer for layer in assume_unstructured if layer not in pid_layers])

    def compute(cache: EntropyCache) -> dict[tuple[str, str], float]:
        return _values(cache, members, pid_layers)

    if precompute is not None:
        precompute(cache, compute)
    else:
        cache.precompute(compute)  # on an accelerator: the spectra solved in batches
    return compute(cache)


def _values(
    cache: EntropyCache, members: Mapping[str, str | tuple[str, ...]], pid_layers: Sequence[str]
) -> dict[tuple[str, str], float]:
    values = {
        (INPUT, "H(X)"): cache.entropy("X"),
        (INPUT, "H(Y)"): cache.entropy("Y"),
        (INPUT, "I(X;Y)"): cache.mutual_information("X", "Y"),
    }
    for layer, names in members.items():
        values[(layer, "I(X;T)")] = cache.mutual_information("X", names)
        values[(layer, "I(T;Y)")] = cache.mutual_information(names, "Y")
        values[(layer, "H(T)")] = cache.entropy(names)
    for layer in pid_layers:
        pid = layer_pid_from_cache(cache, members[layer], "Y")
        for quantity, value in pid.as_dict().items():
            if quantity != "I(T;Y)":
                values[(layer, quantity)] = value
        for c, (own, without) in enumerate(zip(pid.per_map, pid.leave_one_out)):
            values[(layer, map_quantity(c))] = own
            values[(layer, leave_one_out_quantity(c))] = without
    return dict(zip(values, as_floats(list(values.values()))))
