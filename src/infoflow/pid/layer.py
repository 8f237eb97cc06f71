r"""Redundancy and synergy among the C feature maps of a layer about the labels (docs/method.md §6).

With :math:`I = I(T^1,\dots,T^C;Y)` the layer's label information, :math:`I_c = I(T^c;Y)` each
map's own, and :math:`I_{-c} = I(T^{\text{all but }c};Y)` the layer's without map c:

================================  =========================================================  =======================================
quantity                          formula                                                    sign / meaning
================================  =========================================================  =======================================
``rst`` (redundancy–synergy       :math:`I - \sum_c I_c`                                     > 0 synergy dominates, < 0 redundancy
trade-off; Chechik et al. 2001)                                                              dominates
``rst_normalized``                :math:`(I - \sum_c I_c) / I`                               the same, per bit of layer information
``wni`` (weighted non-redundant   :math:`\sum_c (I - I_{-c}) / I`                            share of I lost by dropping single maps;
information)                                                                                 near 0: every map is redundant
``redundancy`` (MMI)              :math:`I_\cap = \min_c I_c`                               ≥ 0: what every map alone carries
``synergy`` (MMI)                 :math:`I - I_\cup = I - \max_c I_c`                        what only maps together carry
================================  =========================================================  =======================================

These are our definitions — standard measures applied to the C maps — since the paper's full text
was not available (docs/method.md §6). The redundancy :math:`I_\cap` and its union information
:math:`I_\cup` come from the measure of :mod:`~infoflow.pid.redundancy`, defined there once.
Computing them costs 2C full eigendecompositions beyond the
layer's own (each :math:`S(T^c)` and each :math:`S(T^{-c})`); the joints with Y are solved per class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from infoflow._deferred import as_floats
from infoflow.measures import EntropyCache
from infoflow.options import ALPHA, DTYPE, METHOD
from infoflow.pid.redundancy import MMI, MinimumMutualInformation


@dataclass(frozen=True)
class LayerPID:
    """Redundancy and synergy among a layer's maps about the target, in bits (ratios unitless)."""

    mutual_information: float
    per_map: tuple[float, ...]
    leave_one_out: tuple[float, ...]
    rst: float
    rst_normalized: float
    wni: float
    redundancy: float
    synergy: float

    def as_dict(self) -> dict[str, float]:
        """The scalar quantities by their record names."""
        return {"I(T;Y)": self.mutual_information, "RST": self.rst,
                "RST/I": self.rst_normalized, "WNI": self.wni,
                "MMI redundancy": self.redundancy, "MMI synergy": self.synergy}


def _ratio(a: float, b: float, precision: str) -> float:
    """a / b, or NaN where b (an information in bits) cannot be told from 0: below the square
    root of the precision's machine epsilon (1.5e-8 bits in float64, 3.5e-4 in float32)."""
    return a / b if b > float(np.finfo(precision).eps) ** 0.5 else float("nan")


def layer_pid_from_cache(
    cache: EntropyCache, maps: Sequence[str], target: str, *,
    measure: MinimumMutualInformation = MMI,
) -> LayerPID:
    """:class:`LayerPID` of the named map variables of ``cache`` about ``target``; the
    redundancy and synergy derive from ``measure``."""
    maps = list(maps)
    if len(maps) < 2:
        raise ValueError(f"a layer decomposition needs at least 2 feature maps, got {len(maps)}")
    read = as_floats([  # on a device: one read for all of them, not one per value
        cache.mutual_information(tuple(maps), target),
        *(cache.mutual_information(m, target) for m in maps),
        *(cache.mutual_information(tuple(maps[:c] + maps[c + 1 :]), target)
          for c in range(len(maps))),
    ])
    joint, per_map = read[0], tuple(read[1:len(maps) + 1])
    leave_one_out = tuple(read[len(maps) + 1:])
    rst = joint - sum(per_map)
    return LayerPID(
        mutual_information=joint,
        per_map=per_map,
        leave_one_out=leave_one_out,
        rst=rst,
        rst_normalized=_ratio(rst, joint, cache.precision),
        wni=_ratio(sum(joint - loo for loo in leave_one_out), joint, cache.precision),
        redundancy=measure.redundancy(cache, maps, target),
        synergy=joint - measure.union(cache, maps, target),
    )


def layer_pid(
    maps: Sequence[Any], target: Any, *, alpha: float = ALPHA.default, dtype: str = DTYPE.default,
    method: Any = METHOD.default,
) -> LayerPID:
    """Redundancy and synergy of C >= 2 feature maps (one Gram matrix each) about a target Gram.

    Ratios (``rst_normalized``, ``wni``) are NaN when the layer carries no information: I = 0
    to round-off, below the square root of the machine epsilon of ``dtype`` (1.5e-8 bits in
    float64, 3.5e-4 bits in float32) — a one-class target, for example.
    """
    maps = list(maps)
    names = [f"T{c}" for c in range(len(maps))]
    cache = EntropyCache({**dict(zip(names, maps)), "Y": target}, alpha=alpha, dtype=dtype, method=method)
    return layer_pid_from_cache(cache, names, "Y")
