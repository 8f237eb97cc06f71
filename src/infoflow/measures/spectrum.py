r"""From Gram matrices to the Rényi entropy of their normalised spectrum (docs/method.md §1, §2, §7).

The pieces every estimator shares:

* :func:`unit_diagonal` — :math:`K_{ij}/\sqrt{K_{ii}K_{jj}}`; divided by ``n`` it is the
  normalised :math:`A` with :math:`\operatorname{tr} A = 1` (for a Gaussian kernel, :math:`K/\operatorname{tr}K`);
* :func:`unit_product` — the Hadamard product of several Gram matrices (÷ n: the joint Gram);
* :func:`spectrum` — the eigenvalues of :math:`A`, eigenvalues only, round-off cleaned;
* :func:`entropy_of_spectrum` and :func:`entropy_of_normalized` — :math:`S_\alpha` in bits.

Numerics (docs/method.md §7). Near :math:`\alpha = 1` the textbook form
:math:`\log_2(\sum\lambda^\alpha)/(1-\alpha)` multiplies the relative error of
:math:`\sum\lambda^\alpha` by :math:`1/(|1-\alpha|\ln 2)` (144 bits per unit at
:math:`\alpha = 1.01`). We therefore compute

.. math::  T_\alpha = \sum_i \lambda_i\,\frac{\lambda_i^{\alpha-1} - 1}{\alpha - 1}
           = \sum_i \lambda_i\,\frac{\operatorname{expm1}((\alpha-1)\ln\lambda_i)}{\alpha-1},
           \qquad S_\alpha = \frac{\operatorname{log1p}((\alpha-1)T_\alpha)}{(1-\alpha)\ln 2},

which tends to the von Neumann entropy :math:`-\sum\lambda\log_2\lambda` as
:math:`\alpha\to 1` without cancellation, and equals it at :math:`\alpha = 1`. For
:math:`\alpha \ge 1.5`, where :math:`\sum\lambda^\alpha` is small and ``log1p`` would cancel,
we take :math:`\log\sum\lambda^\alpha` by a stable log-sum-exp. :math:`\alpha = 2` needs no
eigenvalues: :math:`\sum\lambda^2 = \lVert A\rVert_F^2`. :math:`\alpha = \infty` is the
min-entropy :math:`-\log_2\lambda_{\max}`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from infoflow._array import (
    as_float,
    host_to_device,
    is_torch,
    logsumexp,
    namespace,
    numpy_view,
    plain_cpu_tensor,
)
from infoflow._deferred import require
from infoflow._memory import block_bytes
from infoflow._threads import budget_for
from infoflow._validation import (
    NotPositiveSemidefiniteError,
    check_psd_entries,
    check_psd_spectrum,
)
from infoflow.measures.approximation import (
    AUTO_EXACT_UP_TO,
    Exact,
    Method,
    approximate_spectrum_steps,
)
from infoflow.measures.eigenproblems import Eigenproblem, Steps, run

EXACT = Exact()

#: Above this order (and below ``inf``) the entropy is computed by log-sum-exp.
_LOGSUMEXP_FROM = 1.5

#: From this order on the entropy is the min-entropy: they differ by at most
#: 2·log2(n)/(α − 1) bits, 4e-15 bits for n up to 10^6, and α·log λ could overflow beyond it.
_MIN_ENTROPY_FROM = 2.0**53


def unit_diagonal(k: Any) -> Any:
    r"""Scale a Gram matrix to a unit diagonal: :math:`K_{ij}/\sqrt{K_{ii}K_{jj}}`."""
    xp = namespace(k)
    diagonal = xp.diagonal(k)
    if not is_torch(k) and (diagonal == 1).all():  # Gaussian and delta kernels: nothing to do
        return k
    # a tensor is scaled without asking (a unit diagonal divides by exactly 1): reading the
    # answer would be a host round trip on a device
    d = xp.sqrt(diagonal)
    return k / (d[:, None] * d[None, :])


def unit_product(grams: Sequence[Any], precision: str = "float64") -> Any:
    r"""The Hadamard product of Gram matrices each scaled to a unit diagonal, symmetrised.

    Dividing it by ``n`` gives the normalised joint Gram matrix of docs/method.md §2,
    :math:`(A_1\circ\cdots\circ A_L)/\operatorname{tr}(A_1\circ\cdots\circ A_L)`. Scaling each
    factor first means the product never underflows by :math:`n^{-L}`. Torch products are
    symmetrised so that gradients flow through both triangles. A product of unit
    products is again a unit product, so a variable's factor can be formed once and reused in
    every joint it takes part in.
    """
    product = _unit_factor(grams[0], precision)
    for k in grams[1:]:
        product = product * _unit_factor(k, precision)
    if is_torch(product) and product.requires_grad:  # the solver reads one triangle:
        return (product + product.T) / 2  # symmetrise so that gradients see both
    return product  # validated symmetric to round-off; the solver reads one triangle


def _unit_factor(k: Any, precision: str) -> Any:
    """``k`` scaled to a unit diagonal, in ``precision``. Widening (or keeping) the precision
    casts first; narrowing float64 to float32 scales first, in float64, so that a Gram matrix of
    any scale (1e300·K, 1e-300·K) fits float32 once scaled. An entry that still does not fit
    exceeds the geometric mean of its diagonal entries (a 2 × 2 principal minor is negative):
    the matrix is not positive semi-definite and is refused."""
    if not (precision == "float32" and str(k.dtype).removeprefix("torch.") == "float64"):
        return unit_diagonal(as_float(k, precision))
    k = unit_diagonal(k)
    if is_torch(k):
        factor = k.to(getattr(namespace(k), precision))
    else:
        with np.errstate(over="ignore"):
            factor = k.astype(precision)

    def fail() -> None:
        if not bool(namespace(factor).isfinite(factor).all()):
            raise NotPositiveSemidefiniteError(
                f"is not positive semi-definite: an entry exceeds the geometric mean of its "
                f"diagonal entries beyond {precision}'s range")

    plain = factor.detach() if is_torch(factor) else factor
    require(namespace(plain).isfinite(plain.sum()), fail)
    return factor


def normalized(product: Any, n: int, owned: bool) -> Any:
    """``product / n``, the trace-1 matrix of a unit product; computed in place when the caller
    ``owned`` the product (a fresh array, not an input or a cached factor) and no gradient flows
    through it, which saves an n × n allocation (8 against 18 ms at n = 4000 in float32)."""
    if owned and not getattr(product, "requires_grad", False):
        product /= n
        return product
    return product / n


#: ``blocks=DETECT``: find a matrix's diagonal blocks from its zero pattern.
DETECT = "detect"


def block_labels(a: Any) -> np.ndarray | None:
    """Each sample's diagonal block of ``a`` up to a permutation (0, 1, ...), or None for one block.

    Two samples share a block when a chain of non-zero entries links them. A Gram matrix with a
    delta kernel among its factors (a label Gram) has one block per class. Torch tensors are
    searched on their device (label propagation with pointer jumping); only the n labels
    come back to the host, where the blocks' index sets are formed.
    """
    if not is_torch(a) and a.min() > 0:  # no zero entry (a Gaussian Gram): no temporary mask
        return None
    mask = a != 0
    if bool(mask.all()):
        return None
    return _labels_of_mask(mask)


def _labels_of_mask(mask: Any) -> np.ndarray | None:
    """:func:`block_labels` of a matrix with a zero entry, from its non-zero pattern ``mask``."""
    if is_torch(mask):
        labels = _components_on_device(mask)
    else:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(csr_matrix(mask), directed=False)
    return None if labels.max() == 0 else labels


def _components_on_device(mask: Any) -> np.ndarray:
    """Connected components of a symmetric boolean torch matrix with a true diagonal, on its
    device: every node takes the smallest label among its neighbours, then its label's label
    (pointer jumping), until nothing changes — one round for an equivalence relation."""
    import torch

    n = mask.shape[0]
    labels = torch.arange(n, device=mask.device)
    rows = max(1, block_bytes() // (8 * n))
    while True:
        smallest = torch.cat([
            torch.where(mask[start:start + rows], labels[None, :], n).amin(1)
            for start in range(0, n, rows)
        ])
        smallest = smallest[smallest]
        if torch.equal(smallest, labels):
            break
        labels = smallest
    return torch.unique(labels, return_inverse=True)[1].cpu().numpy()


def block_structures(factors: Sequence[Any]) -> list[tuple[np.ndarray | None, bool]]:
    """Each factor's block labels (:func:`block_labels`) and whether it is a delta kernel's Gram
    (:func:`is_delta`), as those find them. The first look at each factor asks whether it has a
    zero entry and whether all its entries are equal; for device tensors that is one host read
    for all of them, not two per factor. Only factors with zero entries (label Grams) are then
    searched for their blocks (:func:`_zero_pattern_structure`)."""
    if factors and all(is_torch(f) and not plain_cpu_tensor(f) for f in factors):
        import torch

        flags = torch.stack([_first_look_on_device(f) for f in factors]).tolist()
    else:
        flags = [_first_look(f) for f in factors]
    return [(None, constant and not getattr(f, "requires_grad", False)) if no_zero
            else _zero_pattern_structure(f) for f, (no_zero, constant) in zip(factors, flags)]


class StructureAssumed(RuntimeError):
    """A variable taken as having no block structure (:func:`assume_no_structure`) had some:
    the computation that assumed it is to be redone with its structure looked at. ``name``
    names the variable."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} was taken as unstructured, but its Gram matrix has a zero "
                         "entry or all entries equal")
        self.name = name


def assume_no_structure(factors: Sequence[Any], names: Sequence[str]) -> list[tuple[None, bool]]:
    """:func:`block_structures` of device tensors taken as having no zero entry and not all
    entries equal — Gaussian Grams of data that is not constant, as a monitor's layers almost
    always are — without looking: a check per factor, queued with the others (:func:`require`),
    verifies it and, where it fails, raises :class:`StructureAssumed` naming the variable when
    the checks are read, so that the caller redoes the work with :func:`block_structures`.
    Saves a checkpoint its one host read for structures; the values are the same either way."""
    for f, name in zip(factors, names):
        no_zero, constant = _first_look_on_device(f)

        def fail(name: str = name) -> None:
            raise StructureAssumed(name)

        require(no_zero & (~constant | bool(f.requires_grad)), fail)
    return [(None, False) for _ in factors]


def _first_look_on_device(f: Any) -> Any:
    """(no zero entry, all entries equal) of a device tensor, as a 2-element bool tensor there."""
    import torch

    plain = f.detach()
    return torch.stack([(plain != 0).all(), (plain == plain[0, 0]).all()])


def _plain(f: Any) -> Any:
    """``f`` without autograd: a CPU tensor that needs none as the NumPy array on its memory."""
    view = numpy_view(f)
    return view if view is not None else f.detach() if is_torch(f) else f


def _first_look(f: Any) -> tuple[bool, bool]:
    """(no zero entry, all entries equal) of one factor, read on the host; the second only
    where the first holds (a NumPy array's minimum answers the first for a Gaussian Gram)."""
    plain = _plain(f)
    no_zero = bool(plain.min() > 0) if not is_torch(plain) else bool((plain != 0).all())
    return no_zero, no_zero and is_delta(plain, None)


def _zero_pattern_structure(f: Any) -> tuple[np.ndarray | None, bool]:
    """(block labels, is a delta kernel's Gram) of a factor with a zero entry: from one round
    of label propagation where its pattern is an equivalence (:func:`_equivalence_blocks`),
    else by the step-by-step search of :func:`block_labels`."""
    plain = _plain(f)
    found = _equivalence_blocks(plain)
    if found is None:
        labels = _labels_of_mask(plain != 0)
        return labels, is_delta(f, labels)
    return found[0], found[1] and not getattr(f, "requires_grad", False)


def _equivalence_blocks(a: Any) -> tuple[np.ndarray | None, bool] | None:
    """The blocks of a matrix whose non-zero pattern is an equivalence relation (every sample
    linked to exactly the samples of its block: a label Gram, or a product of them), and whether
    it is a delta kernel's Gram; None where the pattern is not one. A tensor is searched on its
    device, with one host read.

    One round of label propagation gives every sample its block's smallest index when the
    pattern is an equivalence; that the pattern then equals "same label" is checked in row
    blocks (for a tensor, on the device and read together with the labels)."""
    xp = namespace(a)
    n = a.shape[0]
    index = xp.arange(n, device=a.device) if is_torch(a) else np.arange(n)
    rows = max(1, block_bytes() // (8 * n))
    starts = range(0, n, rows)
    join, least = (xp.cat, xp.amin) if is_torch(a) else (np.concatenate, np.min)
    smallest = join([least(xp.where(a[start:start + rows] != 0, index[None, :], n), 1)
                     for start in starts])
    blocks = [((a[start:start + rows] != 0)
               == (smallest[start:start + rows, None] == smallest[None, :])).all()
              for start in starts]
    if is_torch(a):
        equivalence = xp.stack(blocks).all()
        delta = equivalence & ((a == 0) | (a == a[0, 0])).all()
        read = xp.cat([smallest, xp.stack([equivalence, delta]).to(smallest.dtype)]
                      ).cpu().numpy()  # the one transfer
        smallest, equivalent, delta = read[:n], bool(read[n]), bool(read[n + 1])
    else:
        equivalent = all(blocks)
        delta = equivalent and bool(((a == 0) | (a == a[0, 0])).all())
    if not equivalent:
        return None
    labels = np.unique(smallest, return_inverse=True)[1].reshape(-1)
    return (None if labels.max() == 0 else labels), delta


def common_blocks(labelings: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """Block labels of a Hadamard product from its factors' block labels (None: one block).

    A product is zero wherever a factor is, so it is block-diagonal on the blocks that all its
    factors share — the common refinement of their partitions. Solving on these blocks is exact
    even where the product happens to split further.
    """
    present = [labels for labels in labelings if labels is not None]
    if len(present) <= 1:
        return present[0] if present else None
    _, labels = np.unique(np.stack(present, axis=1), axis=0, return_inverse=True)
    return labels.reshape(-1)


def is_delta(a: Any, labels: np.ndarray | None) -> bool:
    """Whether ``a`` is a multiple of a delta kernel's Gram on its blocks ``labels``: every entry
    inside a block equal to the first diagonal entry, every entry outside zero.

    Its normalised spectrum is then known in closed form (:func:`delta_spectrum`). A torch
    tensor that requires grad is never treated as one (its entropy must stay differentiable).
    """
    if is_torch(a):
        if a.requires_grad:
            return False
        if a.device.type == "cpu":
            return is_delta(a.numpy(), labels)
    value = a[0, 0]
    if labels is None:
        if not is_torch(a) and not (a[0] == value).all():  # the first row decides most cases
            return False
        return bool((a == value).all())
    inside = int(np.square(np.bincount(labels)).sum())
    return bool((((a == 0) | (a == value)).all()) & ((a != 0).sum() == inside))


def delta_spectrum(labels: np.ndarray | None, n: int, like: Any) -> Any:
    r"""The normalised spectrum of a delta kernel's Gram on blocks ``labels``, in closed form.

    The Gram is, up to a permutation, block-diagonal with all-ones blocks of sizes
    :math:`m_c`; each block has the single non-zero eigenvalue :math:`m_c`, so
    :math:`\lambda = m_c / n` — the empirical distribution of the blocks (docs/method.md §1).
    Computed in float64 from the counts whatever the precision, so it is exact in float32 too; the
    result is of ``like``'s kind and device.
    """
    counts = np.bincount(labels) if labels is not None else np.array([n])
    lam = counts[counts > 0] / n
    if is_torch(like):
        return host_to_device(lam.astype(np.float64), like.device)
    return lam


#: Blocks whose sizes lie within this ratio share one padded, batched eigendecomposition: a
#: block then costs at most 1.2³ ≈ 1.7× its own solve, and there are few calls.
_PAD_RATIO = 1.2

#: Blocks up to this size are all solved in one batched call, whatever their sizes: a call's
#: fixed cost (~0.2 ms) outweighs the padding.
_BATCH_ALL_UP_TO = 48


def _size_groups(sizes: np.ndarray) -> list[np.ndarray]:
    """Block ids grouped for batched solving: each group holds blocks of sizes in
    (m / :data:`_PAD_RATIO`, m], m the group's largest, or every block when m is at most
    :data:`_BATCH_ALL_UP_TO`."""
    order = np.argsort(-sizes, kind="stable")
    groups, start = [], 0
    while start < len(order):
        largest = sizes[order[start]]
        smallest = 1 if largest <= _BATCH_ALL_UP_TO else largest / _PAD_RATIO
        stop = start + int(np.searchsorted(-sizes[order[start:]], -smallest, side="right"))
        stop = max(stop, start + 1)
        groups.append(order[start:stop])
        start = stop
    return groups


def _check_nothing_below(dropped: Any, pad: Any) -> None:
    """The values dropped as pads are the pad, up to round-off: none is a block's eigenvalue
    below it."""
    plain = dropped.detach() if is_torch(dropped) else dropped
    eps = float(np.finfo(str(plain.dtype).removeprefix("torch.")).eps)
    floor = pad * (1 + 64 * eps)

    def fail() -> None:
        smallest = float(plain.min())
        if smallest < float(floor):
            raise NotPositiveSemidefiniteError(
                f"is not positive semi-definite: a diagonal block of its normalised matrix has "
                f"the eigenvalue {smallest:.3g}, below -max A_ii = {float(pad):.3g}; a Gram "
                "matrix K_ij = kappa(x_i, x_j) of a positive-definite kernel has none"
            )

    require(plain.min() >= floor, fail)


def _masked(values: Any, mask: np.ndarray) -> Any:
    """``values[mask]`` for a host boolean ``mask``, flattened in row-major order. A tensor is
    indexed by the mask's positions: a boolean mask on a device would have the host wait to
    learn the result's size."""
    if not is_torch(values):
        return values[mask]
    return values.reshape(-1)[host_to_device(np.flatnonzero(mask), values.device)]


def block_eigvalsh(a: Any, blocks: Any = DETECT) -> Any:
    r"""Eigenvalues of a symmetric matrix, solved block by block where it is block-diagonal.

    Exact: a block-diagonal matrix's spectrum is the union of its blocks' spectra. ``blocks``
    is :data:`DETECT` (from the zero pattern, :func:`block_labels`), block labels known in
    advance (:func:`common_blocks`), or None for one block. Blocks of similar size (the classes
    of a label Gram) are solved in one batched call: each is padded to the group's largest
    size with a diagonal of ``-max|diag|``, whose eigenvalues lie below the block's own
    (a positive semi-definite block's eigenvalues are >= 0 up to round-off) and are dropped by
    position; the pad is decoupled from the block, so this is exact. A block with an eigenvalue
    below the pad (below :math:`-1/n` of a trace-1 matrix: far beyond round-off, whatever n)
    would lose it to a pad value, so a dropped value below the pad raises
    :class:`~infoflow._validation.NotPositiveSemidefiniteError` (a device flag, read as
    :func:`~infoflow._deferred.require` reads checks). 1×1 blocks are their entry.
    """
    return run(block_eigvalsh_steps(a, blocks))


def block_eigvalsh_steps(a: Any, blocks: Any = DETECT) -> Steps[Any]:
    """:func:`block_eigvalsh` as steps (:mod:`~infoflow.measures.eigenproblems`): every
    group's stack is yielded at once."""
    labels = block_labels(a) if isinstance(blocks, str) and blocks == DETECT else blocks
    if labels is None:
        (values,) = yield [Eigenproblem(a)]
        return values
    xp = namespace(a)
    labels = np.asarray(labels)
    sizes = np.bincount(labels)
    members = np.argsort(labels, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    diagonal = xp.diagonal(a)
    pad = -abs(diagonal).max()
    if is_torch(pad):
        pad = pad.detach()
    parts: list[Any] = []
    stacks = []  # (position in parts, stack, which values to keep): blocks larger than 1 × 1
    for group in _size_groups(sizes):
        m = int(sizes[group[0]])
        if m == 1:
            index = members[offsets[group]]
            parts.append(diagonal[host_to_device(index, a.device)] if is_torch(a)
                         else diagonal[index])
            continue
        # (g, m) member indices, padded with the block's first member; invalid entries masked
        position = np.arange(m)
        valid = position[None, :] < sizes[group][:, None]
        index = members[np.where(valid, offsets[group][:, None] + position, 0)]
        both = valid[:, :, None] & valid[:, None, :]
        padding = (~valid)[:, :, None] & np.eye(m, dtype=bool)[None]
        if is_torch(a):
            index, both, padding = (host_to_device(v, a.device) for v in (index, both, padding))
        stack = a[index[:, :, None], index[:, None, :]]
        stack = xp.where(both, stack, xp.zeros_like(stack)) + padding * pad
        keep = position[None, :] >= (m - sizes[group])[:, None]
        stacks.append((len(parts), stack, keep))
        parts.append(None)
    if stacks:
        solved = yield [Eigenproblem(stack) for _, stack, _ in stacks]
        for (at, _, keep), values in zip(stacks, solved):  # ascending: m - size pads come first
            if not keep.all():
                _check_nothing_below(_masked(values, ~keep), pad)
            parts[at] = _masked(values, keep)
    return xp.cat(parts) if is_torch(a) else xp.concatenate(parts)


def spectrum(a: Any, alpha: float = 1.0, blocks: Any = DETECT) -> Any:
    r"""Eigenvalues of a trace-normalised Gram matrix, cleaned of round-off.

    Uses an eigenvalues-only symmetric solver, block by block where the matrix is
    block-diagonal up to a permutation (:func:`block_eigvalsh`; ``blocks`` as there). Negative
    round-off is set to zero. For ``alpha < 1`` so are the eigenvalues below
    :math:`n\,\varepsilon\,\lambda_{\max}` (docs/method.md §1): there :math:`\lambda^\alpha \gg \lambda`
    and round-off would dominate :math:`\sum\lambda^\alpha`. For ``alpha >= 1`` a round-off
    eigenvalue contributes at most its own size, so the small eigenvalues are kept — zeroing
    them would bias float32 spectra by up to a tenth of a bit near α = 1, where ε = 1.2e-7 puts
    the threshold at 1e-4·λmax for n = 1000. The eigenvalues are then rescaled to sum to one.
    """
    return run(spectrum_steps(a, alpha, blocks))


def spectrum_steps(a: Any, alpha: float = 1.0, blocks: Any = DETECT) -> Steps[Any]:
    """:func:`spectrum` as steps (:mod:`~infoflow.measures.eigenproblems`)."""
    xp = namespace(a)
    lam = yield from block_eigvalsh_steps(a, blocks)
    check_psd_spectrum(lam, a.shape[0])
    floor = 0.0
    if alpha < 1:
        eps = float(np.finfo(str(lam.dtype).removeprefix("torch.")).eps)
        floor = a.shape[0] * eps * lam.max()
        if is_torch(lam):
            floor = floor.detach()
    lam = xp.where(lam > floor, lam, xp.zeros_like(lam))
    return lam / lam.sum()


def _expm1_ratio(t: Any, c: float) -> Any:
    """``expm1(c * t) / c``, and its limit ``t`` at ``c = 0``."""
    if c == 0.0:
        return t
    return namespace(t).expm1(c * t) / c


def entropy_of_spectrum(lam: Any, alpha: float, weights: Any = None) -> Any:
    r"""Rényi :math:`\alpha`-entropy in bits of a spectrum ``lam`` of a trace-1 matrix.

    Parameters
    ----------
    lam : array of shape (m,)
        Non-negative eigenvalues (as returned by :func:`spectrum`), or the nodes of an
        approximate spectrum.
    alpha : float
        The order, > 0; 1 gives the Shannon/von Neumann limit, ``inf`` the min-entropy.
    weights : array of shape (m,), optional
        Node weights of an approximate spectrum (:mod:`~infoflow.measures.approximation`):
        :math:`\sum_i g(\lambda_i) \approx \sum_j w_j g(\theta_j)`. The trace is taken as exactly 1,
        so only the well-conditioned sum :math:`T_\alpha` is estimated near α = 1.
    """
    xp = namespace(lam)
    positive = lam > 0 if weights is None else (lam > 0) & (weights > 0)
    safe = xp.where(positive, lam, xp.ones_like(lam))
    log_lam = xp.log(safe)
    if alpha >= _MIN_ENTROPY_FROM:
        return -xp.log(xp.where(positive, lam, xp.zeros_like(lam)).max()) / math.log(2)
    if alpha >= _LOGSUMEXP_FROM:
        exponents = alpha * log_lam if weights is None else alpha * log_lam + xp.log(
            xp.where(positive, weights, xp.ones_like(weights)))
        log_power_sum = logsumexp(xp.where(positive, exponents, xp.full_like(lam, -math.inf)))
        return log_power_sum / ((1 - alpha) * math.log(2))
    c = alpha - 1
    terms = xp.where(positive, safe * _expm1_ratio(log_lam, c), xp.zeros_like(lam))
    t = terms.sum() if weights is None else (weights * terms).sum()
    if c == 0.0:
        return -t / math.log(2)
    return xp.log1p(c * t) / ((1 - alpha) * math.log(2))


def entropy_of_normalized(a: Any, alpha: float, method: Method = EXACT,
                          blocks: Any = DETECT) -> Any:
    r"""Rényi :math:`\alpha`-entropy in bits of a trace-normalised Gram matrix ``a``.

    A delta kernel's Gram (:func:`is_delta`, found when ``blocks`` is :data:`DETECT`) has its
    closed form (:func:`delta_spectrum`). Otherwise :math:`\alpha = 2` uses
    :math:`-\log_2\lVert A\rVert_F^2` and no spectrum, whatever the method. Positive
    semi-definiteness is checked on the exact spectrum (:func:`spectrum`); at α = 2 on the
    2 × 2 principal minors, and for the approximations on the minors and the eigenvalue bound
    their Ritz values give (:func:`~infoflow._validation.check_psd_entries`).
    Other orders use the exact spectrum (solved on ``blocks``, see :func:`block_eigvalsh`) or an
    approximation (:mod:`~infoflow.measures.approximation`). A CPU tensor that needs no
    gradient is computed as a NumPy array on the same memory (no copy): NumPy's BLAS and the
    solver choice of :func:`~infoflow._array.eigvalsh` make that path the faster one, so torch
    input is as fast as NumPy input (the same work, and one crossing each way). Runs within
    the process's thread budget (:func:`~infoflow.thread_budget`).
    """
    with budget_for(a.shape[0]):
        return run(entropy_of_normalized_steps(a, alpha, method, blocks))


def entropy_of_normalized_steps(a: Any, alpha: float, method: Method = EXACT,
                                blocks: Any = DETECT) -> Steps[Any]:
    """:func:`entropy_of_normalized` as steps (:mod:`~infoflow.measures.eigenproblems`), to be
    run within the thread budget by the caller."""
    view = numpy_view(a)
    if view is not None:
        import torch

        value = yield from entropy_of_normalized_steps(view, alpha, method, blocks)
        return torch.from_numpy(np.array(value))
    if isinstance(blocks, str) and blocks == DETECT:
        blocks = block_labels(a)
        if is_delta(a, blocks):  # a delta kernel: the closed form, exact in any precision
            return entropy_of_spectrum(delta_spectrum(blocks, a.shape[0], a), alpha)
    if alpha == 2.0:
        check_psd_entries(a)
        return -namespace(a).log((a * a).sum()) / math.log(2)
    if isinstance(method, Exact) or (
            blocks is not None and int(np.bincount(blocks).max()) <= AUTO_EXACT_UP_TO):
        # small diagonal blocks (a joint with the labels): exact costs less than approximating
        lam = yield from spectrum_steps(a, alpha, blocks)
        return entropy_of_spectrum(lam, alpha)
    estimate = yield from approximate_spectrum_steps(a, method)
    check_psd_entries(a, estimate.lowest)  # one flag with the minors, after the device work
    return entropy_of_spectrum(estimate.nodes, alpha, estimate.weights)
