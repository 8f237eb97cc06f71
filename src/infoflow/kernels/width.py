r"""Kernel width rules: how σ of the Gaussian kernel is chosen (docs/method.md §4).

Every matrix-based quantity depends on σ, and the literature uses several rules; whether the
data-processing inequalities hold on real activations depends on the choice. infoflow never
picks silently: :func:`kernel_width` takes the rule by name, and the monitor records it.

========== ========================================================================== ==========
rule       σ                                                                          reference
========== ========================================================================== ==========
scott      :math:`\gamma\,n^{-1/(4+d)}`, γ = 5 by default (data in [0, 1])            Yu et al. 2021 (the paper's)
silverman  :math:`\gamma\,s\sqrt{d}\,n^{-1/(4+d)}`, γ = 1, s = pooled std of x         Tapia & Estévez 2020
median     median pairwise distance                                                   common heuristic
knn        mean distance to the k nearest neighbours, k = 10                          Wickstrøm et al.
alignment  argmax of :math:`\langle K_\sigma, K_Y\rangle_F/(\lVert K_\sigma\rVert\lVert K_Y\rVert)` Wickstrøm et al.
========== ========================================================================== ==========

Here n is the number of samples and d the dimension of one flattened sample.

**The default is "silverman"**: it is the paper's :math:`n^{-1/(4+d)}` rule made
scale-aware. Multiplying the data by c multiplies σ by c, so the entropy of a layer does not
change when its activations grow during training, and the :math:`\sqrt d` factor keeps
high-dimensional layers (a flattened feature map) from saturating at :math:`S \approx \log_2 n`.
It costs O(n·d) with no pairwise distances. "scott" reproduces the paper but is not
scale-invariant: its γ only makes sense for data in [0, 1].

The pooled standard deviation is :math:`s = \sqrt{\tfrac1d\sum_j \operatorname{var}(x_{\cdot j})}`,
so applying "silverman" to raw data equals applying it to data divided by s.

Constant data (all pairwise distances zero) gives the all-ones Gram for every σ; the
scale-aware rules then return 1.0 with a :class:`RuntimeWarning` instead of dividing by zero.
When more than half of the pairs coincide, "median" and "knn" use the positive distances only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from infoflow._array import flatten_samples, is_torch
from infoflow._memory import check_fits
from infoflow._validation import check_gram, check_samples
from infoflow.kernels.gram import (
    device_scale,
    largest_magnitude,
    safe_scale,
    scale_of_largest,
    squared_distances,
)
from infoflow.options import GAMMA, NEIGHBOURS, RULE

#: The rule names :func:`kernel_width` accepts.
RULES = RULE.choices

#: The rule used when none is named.
DEFAULT_RULE = RULE.default


def _as_numpy(x: Any) -> np.ndarray:
    if is_torch(x):
        x = x.detach().to("cpu").double().numpy()
    return np.asarray(flatten_samples(x), dtype=np.float64)


def _variance(plain: Any) -> Any:
    """The mean of the columns' variances of a tensor (0-dim float64, where it lives)."""
    return plain.double().var(0, unbiased=False).mean()


def _stacked(*scalars: Any) -> list[float]:
    """0-dim tensors on one device as floats, read together (one host round trip)."""
    import torch

    return torch.stack(scalars).tolist()


def _pooled_spread(x: Any) -> float:
    r""":math:`\sqrt{\tfrac1d\sum_j \operatorname{var}(x_{\cdot j})}`, computed where ``x`` lives
    (a tensor stays on its device; only the scalar comes to the host)."""
    flat = flatten_samples(x)
    if is_torch(flat):
        return math.sqrt(float(_variance(flat.detach())))
    return math.sqrt(float(np.asarray(flat, dtype=np.float64).var(axis=0).mean()))


def _constant_fallback() -> float:
    warnings.warn(
        "x is constant (all pairwise distances are zero): every kernel width gives the same "
        "all-ones Gram matrix; returning sigma = 1.0",
        RuntimeWarning,
        stacklevel=4,
    )
    return 1.0


def _median_width(dist: np.ndarray) -> float:
    pairs = dist[np.triu_indices_from(dist, k=1)]
    sigma = float(np.median(pairs))
    if sigma == 0.0:
        positive = pairs[pairs > 0]
        return float(np.median(positive)) if positive.size else _constant_fallback()
    return sigma


def _knn_width(dist: np.ndarray, k: int) -> float:
    k = min(k, dist.shape[0] - 1)
    neighbours = np.sort(dist, axis=1)[:, 1 : k + 1]
    sigma = float(neighbours.mean())
    if sigma == 0.0:
        positive = dist[dist > 0]
        return float(positive.min()) if positive.size else _constant_fallback()
    return sigma


def alignment(dist2: np.ndarray, target: np.ndarray, sigma: float) -> float:
    r"""Kernel alignment :math:`\langle K_\sigma, K_Y\rangle_F / (\lVert K_\sigma\rVert_F\lVert K_Y\rVert_F)`."""
    k = np.exp(-dist2 / (2 * sigma**2))
    return float((k * target).sum() / (np.linalg.norm(k) * np.linalg.norm(target)))


def _alignment_width(dist: np.ndarray, target: Any) -> float:
    from scipy.optimize import minimize_scalar

    if target is None:
        raise ValueError('rule="alignment" needs target=, the label Gram matrix (n, n)')
    target = _as_numpy(check_gram(target, "target"))
    if target.shape[0] != dist.shape[0]:
        raise ValueError(
            f"target must be ({dist.shape[0]}, {dist.shape[0]}) like x's samples, "
            f"got {target.shape}"
        )
    positive = dist[dist > 0]
    if not positive.size:
        return _constant_fallback()
    dist2 = dist**2
    grid = np.geomspace(positive.min() / 4, positive.max() * 4, 33)
    scores = [alignment(dist2, target, s) for s in grid]
    best = int(np.argmax(scores))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    refined = minimize_scalar(
        lambda log_s: -alignment(dist2, target, math.exp(log_s)),
        bounds=(math.log(lo), math.log(hi)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(math.exp(refined.x)) if -refined.fun >= scores[best] else float(grid[best])


def kernel_width(
    x: Any,
    rule: str = DEFAULT_RULE,
    *,
    gamma: float | None = None,
    k: int = NEIGHBOURS.default,
    target: Any = None,
) -> float:
    r"""The Gaussian kernel width σ for samples ``x`` by a named rule.

    Parameters
    ----------
    x : array or tensor of shape (n, ...)
        n >= 2 samples, each flattened to d values.
    rule : {"silverman", "scott", "median", "knn", "alignment"}, default "silverman"
        See the module documentation for each rule and why "silverman" is the default.
    gamma : float, optional
        The constant of "scott" (default 5.0) and "silverman" (default 1.0).
    k : int, default 10
        Neighbours for "knn" (at most n − 1 are used).
    target : Gram matrix (n, n), optional
        The label Gram matrix whose alignment "alignment" maximises (required for that rule).

    Returns
    -------
    float
        σ > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import kernel_width
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> round(kernel_width(10 * x) / kernel_width(x), 12)  # scale-aware
    10.0
    """
    return _width(check_samples(x, "x"), rule, gamma, k, target)


def kernel_widths(xs: Sequence[Any], rule: str = DEFAULT_RULE, *, gamma: float | None = None,
                  k: int = NEIGHBOURS.default, target: Any = None) -> list[float]:
    """:func:`kernel_width` of each of several variables, with the same options. For tensors
    on one device under "silverman", every variable's scalars (its largest magnitude and its
    spread) come to the host in one read, not one per variable: a conv layer's C feature maps
    cost one host round trip."""
    checked = [check_samples(x, f"xs[{i}]") for i, x in enumerate(xs)]
    flats = [flatten_samples(x) for x in checked]
    if (RULE.check(rule) != "silverman" or len(flats) < 2
            or not all(is_torch(f) and f.shape[1] > 0 for f in flats)
            or len({f.device for f in flats}) > 1):
        return [_width(x, rule, gamma, k, target) for x in checked]
    plains = [f.detach() for f in flats]
    read = _stacked(*[v for p in plains for v in (largest_magnitude(p).double(), _variance(p))])
    return [_width(x, rule, gamma, k, target, scalars=(read[2 * i], read[2 * i + 1]))
            for i, x in enumerate(checked)]


def _bandwidth(n: int, d: int, gamma: float) -> float:
    r"""The rules' :math:`\gamma\,n^{-1/(4+d)}`."""
    return gamma * n ** (-1.0 / (4 + d))


def _silverman(spread: Any, n: int, d: int, gamma: float | None) -> Any:
    r"""The "silverman" σ of data with pooled standard deviation ``spread`` (a float, or a 0-dim
    tensor where the data lives): :math:`\gamma\,s\sqrt d\,n^{-1/(4+d)}`, γ = 1 by default."""
    return spread * math.sqrt(d) * _bandwidth(n, d, gamma if gamma is not None else 1.0)


def silverman_widths_on_device(xs: Sequence[Any], *, gamma: float | None = None) -> list[Any]:
    """The "silverman" σ of each of several tensors as a 0-dim float64 tensor where it lives:
    the scalars :func:`kernel_widths` reads stay on the device, so nothing is read on the host.
    The same float64 operations as :func:`kernel_width` (the data scaled by the same power of
    two where it is near the ends of the float range); a constant variable gets σ = 1.0, as
    there, without the warning. For validated tensors of at least one value per sample (a
    Gram from these widths: :func:`~infoflow.kernels.gram.gaussian_gram_of_device_width`)."""
    import torch

    gamma = GAMMA.check(gamma)
    widths = []
    for x in xs:
        plain = flatten_samples(x).detach()
        n, d = plain.shape
        scale = device_scale(plain)
        spread = _variance(plain / scale.to(plain.dtype)).sqrt()
        sigma = scale * _silverman(spread, n, d, gamma)
        widths.append(torch.where(spread > 0, sigma, torch.ones_like(sigma)))
    return widths


def _width(x: Any, rule: str, gamma: Any, k: Any, target: Any,
           scalars: tuple[float, float] | None = None) -> float:
    """:func:`kernel_width` of validated samples; ``scalars`` are a tensor's largest magnitude
    and pooled variance under "silverman" when they have been read already."""
    rule = RULE.check(rule)
    gamma, k = GAMMA.check(gamma), NEIGHBOURS.check(k)
    n, d = x.shape[0], math.prod(x.shape[1:])
    flat, variance = flatten_samples(x), None
    if rule == "silverman" and is_torch(flat) and d > 0:  # one host read for both scalars
        plain = flat.detach()
        largest, variance = scalars if scalars is not None else _stacked(
            largest_magnitude(plain).double(), _variance(plain))
        scale = scale_of_largest(largest, flat)
    else:
        scale = safe_scale(flat)  # equivariant rules: sigma(x) = s * sigma(x / s)
    if scale != 1.0 and rule != "scott":
        return scale * kernel_width(x / scale, rule, gamma=gamma, k=k, target=target)
    if rule == "scott":
        return _bandwidth(n, d, gamma if gamma is not None else 5.0)
    if rule == "silverman":
        spread = _pooled_spread(x) if variance is None else math.sqrt(variance)
        return _silverman(spread, n, d, gamma) if spread > 0 else _constant_fallback()
    # float64 distances, their square roots, and the sort (knn) or kernel (alignment) copies
    check_fits(n, 3 if rule != "alignment" else 5, 8, f"the {rule!r} width rule")
    dist = np.sqrt(squared_distances(_as_numpy(x)))
    if rule == "median":
        return _median_width(dist)
    if rule == "knn":
        return _knn_width(dist, k)
    return _alignment_width(dist, target)
