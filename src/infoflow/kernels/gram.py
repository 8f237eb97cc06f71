r"""Gram matrices from data: the Gaussian kernel and the delta kernel on class labels.

Both return the same kind of array as their input (NumPy or torch, on the input's device);
the Gaussian Gram is differentiable in torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from infoflow._array import (
    as_float,
    flatten_samples,
    float_dtype_of,
    host_arrays,
    host_to_device,
    is_torch,
    namespace,
    numpy_view,
)
from infoflow._deferred import require
from infoflow._memory import block_bytes, check_fits
from infoflow._threads import budget_for
from infoflow._validation import check_array, check_finite, check_samples, check_sigma


def squared_distances(x: Any, rows: slice | None = None) -> Any:
    r"""Squared Euclidean distances :math:`\lVert x_i - x_j\rVert^2`, shape (n, n), or (rows, n).

    ``x`` has shape (n, d). Computed as :math:`\lVert x_i\rVert^2 + \lVert x_j\rVert^2 - 2x_i^\top x_j`
    (one matrix product), clipped at zero. The full matrix is exactly symmetric with a zero
    diagonal; a block of ``rows`` is not symmetrised (see :func:`gaussian_gram`). A CPU tensor
    that needs no gradient is computed by NumPy on the same memory: torch's CPU matrix product
    is 2–3× slower than NumPy's BLAS on one thread (100 × 4704 float64: 10 ms against 3.4 ms).
    The product runs within the process's thread budget (:func:`~infoflow.thread_budget`).
    """
    view = numpy_view(x)
    if view is not None:
        import torch

        return torch.from_numpy(squared_distances(view, rows))
    with budget_for(x.shape[0]):
        return _squared_distances(x, rows)


def _squared_distances(x: Any, rows: slice | None) -> Any:
    sq = (x * x).sum(1)
    if rows is not None:
        d2 = (sq[rows][:, None] + sq[None, :]) - 2 * (x[rows] @ x.T)
        return d2.clamp(min=0) if is_torch(d2) else np.maximum(d2, 0, out=d2)
    if is_torch(x):
        d2 = (sq[:, None] + sq[None, :]) - 2 * (x @ x.T)
        d2 = ((d2 + d2.T) / 2).clamp(min=0)
        return d2 - d2.diagonal().diag()
    d2 = x @ x.T
    d2 *= -1  # -2 x_i.x_j, halved by the symmetrising sum below
    d2 += sq[:, None]
    np.add(d2, d2.T, out=d2)  # NumPy buffers the overlapping operand; the result is exactly symmetric
    np.maximum(d2, 0, out=d2)
    np.fill_diagonal(d2, 0)
    return d2


def safe_scale(flat: Any) -> float:
    """A power of two s such that the squared distances of ``flat / s`` (n, d) neither overflow
    nor underflow in its precision: 1.0 for data of ordinary size, so nothing changes there.

    Dividing by a power of two is exact, and every width rule and the Gaussian kernel are
    unchanged when the data and σ are divided by the same s.
    """
    plain = flat.detach() if is_torch(flat) else flat
    if not math.prod(plain.shape):
        return 1.0
    return scale_of_largest(float(largest_magnitude(plain)), flat)


def largest_magnitude(plain: Any) -> Any:
    """max |x| of an array or tensor (0-dim, where it lives), without a temporary |x|."""
    return namespace(plain).maximum(plain.max(), -plain.min())


def _scale_limits(flat: Any) -> tuple[float, float]:
    info = np.finfo(float_dtype_of(flat))
    high = math.sqrt(float(info.max)) / (4 * math.sqrt(max(flat.shape[1], 1)))
    return math.sqrt(float(info.tiny)) / float(info.eps), high


def scale_of_largest(largest: float, flat: Any) -> float:
    """:func:`safe_scale` of data ``flat`` whose largest magnitude is ``largest``."""
    low, high = _scale_limits(flat)
    if largest == 0.0 or low <= largest <= high:
        return 1.0
    return math.ldexp(1.0, math.frexp(largest)[1])


def device_scale(plain: Any) -> Any:
    """:func:`safe_scale` as a float64 0-dim tensor where ``plain`` lives: no host round trip."""
    import torch

    low, high = _scale_limits(plain)
    largest = largest_magnitude(plain).double()
    ordinary = (largest == 0) | ((largest >= low) & (largest <= high))
    power = torch.ldexp(torch.ones_like(largest), torch.frexp(largest).exponent)
    return torch.where(ordinary, torch.ones_like(largest), power)


def _exponent_factor(sigma: float, precision: str) -> float | None:
    r""":math:`-1/(2\sigma^2)`, computed without overflow, or None when it exceeds the range of
    ``precision`` (a width so small that only equal samples keep a non-zero kernel value)."""
    if sigma == 0.0:  # a vanishing width that scaling the data with it took below the range
        return None
    factor = -(0.5 / sigma) / sigma  # sigma**2 would overflow (or underflow) for extreme widths
    return factor if abs(factor) <= float(np.finfo(precision).max) else None


def _kernel_of_distances(d2: Any, factor: Any) -> Any:
    """``exp(factor * d2)`` (in place for NumPy); for ``factor`` None the limit σ → 0:
    1 where the distance is 0, else 0. A tensor ``factor`` (0-dim, on the device) may be
    -inf, that same limit."""
    if factor is None:
        equal = d2 == 0
        return equal.to(d2.dtype) if is_torch(d2) else equal.astype(d2.dtype)
    if is_torch(factor):
        import torch

        return torch.where(d2 == 0, torch.ones_like(d2), (d2 * factor).exp())
    if is_torch(d2):
        return (d2 * factor).exp()
    d2 *= factor
    return np.exp(d2, out=d2)


def _blocked_gaussian(flat: Any, factor: float | None, rows_per_block: int) -> Any:
    """The Gaussian Gram built in row blocks: each block computes its columns from its own
    first row on, and the lower triangle is mirrored from the upper, so the result is exactly
    symmetric while temporaries stay at ``rows_per_block`` × n."""
    n = flat.shape[0]
    if is_torch(flat):
        import torch

        out = torch.empty((n, n), dtype=flat.dtype, device=flat.device)
    else:
        out = np.empty((n, n), dtype=flat.dtype)
    for start in range(0, n, rows_per_block):
        block = slice(start, min(start + rows_per_block, n))
        d2 = squared_distances(flat, rows=block)[:, start:]
        values = _kernel_of_distances(d2, factor)
        size = block.stop - start
        if is_torch(values):
            square = values[:, :size]
            values = torch.cat([(square + square.T) / 2, values[:, size:]], 1)
        else:
            square = values[:, :size]
            values[:, :size] = (square + square.T) / 2
        out[block, start:] = values
        out[block, :start] = out[:start, block].T
    diagonal = out.diagonal()
    if is_torch(out):
        out = out - diagonal.diag() + torch.eye(n, dtype=out.dtype, device=out.device)
    else:
        np.fill_diagonal(out, 1.0)
    return out


def gaussian_gram(x: Any, sigma: float | str) -> Any:
    r"""Gaussian Gram matrix :math:`K_{ij} = \exp(-\lVert x_i - x_j\rVert^2 / (2\sigma^2))`.

    Parameters
    ----------
    x : array or tensor of shape (n, ...)
        n >= 2 samples; each sample is flattened.
    sigma : float or str
        The kernel width, finite and > 0; or the name of a width rule (see
        :func:`~infoflow.kernel_width`), applied to ``x`` with its default settings.

    Returns
    -------
    array or tensor of shape (n, n)
        Same kind and device as ``x``; in ``x``'s floating precision (float64 for integers).
        Built in row blocks when it is larger than the block size, and refused up front with
        :class:`~infoflow.MemoryBudgetError` when it cannot fit (see
        :func:`~infoflow.set_memory_options`).

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import gaussian_gram
    >>> gaussian_gram(np.array([[0.0], [1.0]]), sigma=1.0).round(4)
    array([[1.    , 0.6065],
           [0.6065, 1.    ]])
    """
    view = numpy_view(x)
    if view is not None:  # NumPy on the same memory: faster on the CPU, same result
        import torch

        return torch.from_numpy(gaussian_gram(view, sigma))
    x = check_samples(x, "x")
    if isinstance(sigma, str):
        from infoflow.kernels.width import kernel_width

        sigma = kernel_width(x, rule=sigma)
    return _gaussian_of_checked(as_float(flatten_samples(x), float_dtype_of(x)), check_sigma(sigma))


def gaussian_gram_of_device_width(x: Any, sigma: Any) -> Any:
    """:func:`gaussian_gram` of a tensor ``x`` whose width is a 0-dim tensor where ``x`` lives
    (:func:`~infoflow.kernels.width.silverman_widths_on_device`): nothing is read on the host.
    σ must be finite and > 0, a check queued like every device check
    (:func:`~infoflow._deferred.require`)."""
    x = check_samples(x, "x")
    plain = sigma.detach()

    def fail() -> None:
        value = float(plain)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"sigma must be a finite number > 0, got {value!r}")

    require((plain > 0) & (plain < math.inf), fail)
    return _gaussian_of_checked(as_float(flatten_samples(x), float_dtype_of(x)), sigma)


def joint_gaussian_gram_of_device_widths(variables: Sequence[Any], sigmas: Sequence[Any]) -> Any:
    """:func:`joint_gaussian_gram` of tensors whose widths are 0-dim tensors where they live:
    the product of each variable's :func:`gaussian_gram_of_device_width`, so that no host
    decision is needed (the side-by-side form falls back to this product where scaling by the
    widths would overflow, which only the host could decide). The same matrix products in all;
    C exponentials instead of one."""
    n = variables[0].shape[0]
    check_fits(n, 3, variables[0].element_size(), "a joint Gram matrix", variables[0].device)
    k = gaussian_gram_of_device_width(variables[0], sigmas[0])
    for x, sigma in zip(variables[1:], sigmas[1:]):
        k = k * gaussian_gram_of_device_width(x, sigma)
    return k


def _gaussian_of_checked(flat: Any, sigma: Any) -> Any:
    """:func:`gaussian_gram` of validated (n, d) floating data and a validated width. Tensors
    are scaled where they live, by a power of two that is 1 for data of ordinary size (no host
    round trip: the scale and the exponent factor stay 0-dim tensors on the device)."""
    n, itemsize = flat.shape[0], flat.element_size() if is_torch(flat) else flat.itemsize
    check_fits(n, 2, itemsize, "a Gram matrix", getattr(flat, "device", None))
    if is_torch(flat):
        scale = device_scale(flat.detach())
        flat, sigma = flat / scale, sigma / scale  # exact: a power of two
        factor = -(0.5 / sigma) / sigma  # -inf for a vanishing width: the limit, see below
    else:
        scale = safe_scale(flat)
        if scale != 1.0:  # data near the ends of the float range: scale data and width alike
            flat, sigma = flat / scale, sigma / scale
        factor = _exponent_factor(sigma, float_dtype_of(flat))
    if n * n * itemsize > block_bytes():
        return _blocked_gaussian(flat, factor, max(1, block_bytes() // (n * itemsize)))
    return _kernel_of_distances(squared_distances(flat), factor)


def joint_gaussian_gram(variables: Any, sigmas: Sequence[float]) -> Any:
    r"""The Hadamard product :math:`K_1 \circ \cdots \circ K_L` of several variables' Gaussians.

    Since :math:`\prod_l \exp(-d_l^2/2\sigma_l^2) = \exp(-\sum_l d_l^2/2\sigma_l^2)`, the product is
    one Gaussian Gram (width 1) of the variables scaled by :math:`1/\sigma_l` and set side by side:
    one matrix product and one exponential instead of L of each and L − 1 products. This is the
    joint Gram of a conv layer as its C feature maps, each with its own width (docs/method.md §2–3),
    and is what :class:`~infoflow.EntropyCache` would form from the L Grams, to round-off.

    Parameters
    ----------
    variables : sequence of arrays or tensors of shape (n, ...), or one of shape (n, L, ...)
        The variables, same n, all NumPy or all torch. One array stands for the L variables
        along its axis 1: a conv layer's output (n, C, H, W) is its C feature maps, the same
        Gram as ``[t[:, c] for c in range(C)]`` without splitting the layer (faster: the maps
        are scaled in one operation).
    sigmas : sequence of float
        One width per variable, finite and > 0.

    Returns
    -------
    array or tensor of shape (n, n)
        As :func:`gaussian_gram` returns (kind, device, precision — the widest of the
        variables' — differentiable in torch, blocked and memory-checked). When the scaled
        variables would not fit in one block, or overflow (a width near the smallest float),
        the L Grams are built one at a time and multiplied instead.

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import gaussian_gram, joint_gaussian_gram
    >>> a, b = np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]])
    >>> bool(np.allclose(joint_gaussian_gram([a, b], [1.0, 2.0]),
    ...                  gaussian_gram(a, 1.0) * gaussian_gram(b, 2.0)))
    True
    >>> t = np.random.default_rng(0).normal(size=(5, 3, 4, 4))  # a conv layer: 3 maps
    >>> bool(np.allclose(joint_gaussian_gram(t, [1.0, 2.0, 3.0]),
    ...                  joint_gaussian_gram([t[:, 0], t[:, 1], t[:, 2]], [1.0, 2.0, 3.0])))
    True
    """
    stacked = is_torch(variables) or isinstance(variables, np.ndarray)
    if not stacked and (isinstance(variables, (str, bytes))
                        or not isinstance(variables, Sequence) or not variables):
        raise ValueError("variables must be a non-empty sequence of arrays of shape (n, ...), "
                         "or one array of shape (n, L, ...)")
    if isinstance(sigmas, (str, bytes)) or not isinstance(sigmas, Sequence):
        raise TypeError(f"sigmas must be a sequence of widths, got {type(sigmas).__name__}")
    if stacked:
        return _joint_of_stacked(variables, sigmas)
    if len(sigmas) != len(variables):
        raise ValueError(
            f"sigmas must give one width per variable: got {len(sigmas)} for {len(variables)}"
        )
    views = host_arrays(variables)
    if views is not None:
        import torch

        return torch.from_numpy(joint_gaussian_gram(views, sigmas))
    # finiteness is checked once on the scaled variables side by side, and named per variable
    # only where that check fails (_joint_of_scaled)
    xs = [check_samples(v, f"variables[{i}]", finite=False) for i, v in enumerate(variables)]
    widths = [check_sigma(s, f"sigmas[{i}]") for i, s in enumerate(sigmas)]
    if len({is_torch(x) for x in xs}) > 1:
        raise TypeError("variables must be all NumPy arrays or all torch tensors, not a mix")
    sizes = {x.shape[0] for x in xs}
    if len(sizes) > 1:
        raise ValueError(f"variables must have the same number of samples n, got {sorted(sizes)}")
    precision = "float64" if "float64" in {float_dtype_of(x) for x in xs} else "float32"
    flats = [as_float(flatten_samples(x), precision) for x in xs]
    n, itemsize = flats[0].shape[0], 8 if precision == "float64" else 4
    width = sum(f.shape[1] for f in flats)
    z = None
    if len(flats) > 1 and n * width * itemsize <= block_bytes():
        if is_torch(flats[0]):
            z = namespace(flats[0]).cat([f / s for f, s in zip(flats, widths)], 1)
        else:  # each variable divided straight into its columns: no copy in between
            z = np.empty((n, width), dtype=precision)
            stops = np.cumsum([f.shape[1] for f in flats])
            with np.errstate(over="ignore", invalid="ignore"):
                for f, s, stop in zip(flats, widths, stops):
                    np.divide(f, s, out=z[:, stop - f.shape[1]:stop])
    return _joint_of_scaled(z, lambda: flats, widths,
                            lambda: [(x, f"variables[{i}]") for i, x in enumerate(xs)])


def _joint_of_stacked(t: Any, sigmas: Sequence[Any]) -> Any:
    """:func:`joint_gaussian_gram` of one array (n, L, ...) whose axis 1 holds the variables."""
    view = numpy_view(t)
    if view is not None:
        import torch

        return torch.from_numpy(_joint_of_stacked(view, sigmas))
    t = check_samples(t, "variables", finite=False)
    if t.ndim < 2:
        raise ValueError(f"variables given as one array must have shape (n, L, ...), its axis 1 "
                         f"holding the L variables; got shape {tuple(t.shape)}")
    n, count = t.shape[0], t.shape[1]
    if count == 0:
        raise ValueError(f"variables must hold at least one variable along axis 1, got shape "
                         f"{tuple(t.shape)}")
    if len(sigmas) != count:
        raise ValueError(f"sigmas must give one width per variable (axis 1 of variables): got "
                         f"{len(sigmas)} for {count}")
    widths = [check_sigma(s, f"sigmas[{i}]") for i, s in enumerate(sigmas)]
    precision = float_dtype_of(t)
    flat = as_float(t.reshape(n, count, -1), precision)
    z = None
    if count > 1 and n * count * flat.shape[2] * (8 if precision == "float64" else 4) <= (
            block_bytes()):
        if is_torch(flat):
            z = (flat / host_to_device(widths, flat.device, flat.dtype)[:, None]).reshape(n, -1)
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                z = np.divide(flat, np.asarray(widths, dtype=precision)[:, None]).reshape(n, -1)
    return _joint_of_scaled(z, lambda: [flat[:, i] for i in range(count)], widths,
                            lambda: [(t[:, i], f"variables[:, {i}]") for i in range(count)])


def _joint_of_scaled(z: Any, flats: Any, widths: list[float], named: Any) -> Any:
    """The joint Gram from the variables scaled by their widths side by side (``z``, None where
    they do not fit in one block): its Gaussian of width 1 where ``z`` is finite. Else a NaN or
    infinity is named (``named()``: each variable with its name), or the scaling overflowed and
    the variables' Grams (``flats()``: each variable as (n, d) in the Gram's precision) are
    built one at a time and multiplied."""
    if z is not None:
        plain = z.detach() if is_torch(z) else z
        with np.errstate(over="ignore", invalid="ignore"):
            finite = bool(namespace(plain).isfinite(plain.sum()))
        if finite:  # so is every variable
            return _gaussian_of_checked(z, 1.0)
    for x, name in named():
        if is_torch(x) and x.is_floating_point() or not is_torch(x) and x.dtype.kind == "f":
            check_finite(x, name)
    flats = flats()
    n, itemsize = flats[0].shape[0], flats[0].element_size() if is_torch(flats[0]) else (
        flats[0].itemsize)
    # the product, and each factor's Gram with its distance temporaries
    check_fits(n, 3, itemsize, "a joint Gram matrix", getattr(flats[0], "device", None))
    k = gaussian_gram(flats[0], widths[0])
    for f, s in zip(flats[1:], widths[1:]):
        if is_torch(k):
            k = k * gaussian_gram(f, s)
        else:
            k *= gaussian_gram(f, s)
    return k


def _as_label_vector(y: Any) -> Any:
    """1-D integer labels from integer labels or a one-hot (n, classes) matrix."""
    y = check_array(y, "y")
    if y.ndim == 2:
        values = np.asarray(y.detach().cpu() if is_torch(y) else y)
        if values.dtype.kind not in "biuf" or not np.isin(values, (0, 1)).all() or not (
            values.sum(1) == 1
        ).all():
            raise ValueError(
                "y given as a 2-D array must be one-hot: 0/1 entries, exactly one 1 per row"
            )
        labels = values.argmax(1)
        return namespace(y).as_tensor(labels, device=y.device) if is_torch(y) else labels
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-D integer labels of shape (n,) or one-hot (n, classes), "
            f"got shape {tuple(y.shape)}"
        )
    kind = str(y.dtype).removeprefix("torch.")
    if not (kind.startswith(("int", "uint")) or kind == "bool"):
        raise TypeError(f"y must hold integer class labels, got dtype {kind}")
    return y


def label_gram(y: Any) -> Any:
    r"""Delta-kernel Gram matrix of class labels: :math:`K_{ij} = 1` if :math:`y_i = y_j`, else 0.

    The eigenvalues of its normalised form are exactly the class proportions, so its
    matrix-based entropy is the Rényi entropy of the empirical label distribution
    (docs/method.md §1). A Gaussian kernel on one-hot labels tends to it as :math:`\sigma\to 0`.

    Parameters
    ----------
    y : array or tensor of shape (n,) with integer labels, or one-hot of shape (n, classes)

    Returns
    -------
    array or tensor of shape (n, n), float64, same kind and device as ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import label_gram
    >>> label_gram(np.array([0, 1, 0]))
    array([[1., 0., 1.],
           [0., 1., 0.],
           [1., 0., 1.]])
    """
    view = numpy_view(y)
    if view is not None:  # NumPy on the same memory, as gaussian_gram does
        import torch

        return torch.from_numpy(label_gram(view))
    labels = _as_label_vector(y)
    if labels.shape[0] < 2:
        raise ValueError(f"y must hold at least 2 samples, got {labels.shape[0]}")
    # the n × n comparison (1 byte per entry) and the float64 Gram (8)
    check_fits(labels.shape[0], 1, 9, "a label Gram matrix", getattr(labels, "device", None))
    return as_float(labels[:, None] == labels[None, :], "float64")
