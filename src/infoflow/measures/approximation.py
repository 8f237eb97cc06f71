r"""Approximate spectra for large n: deflated stochastic Lanczos quadrature and Nyström.

Every method returns the spectrum of a trace-normalised Gram matrix A as *weighted nodes*
:math:`(\theta_j, w_j)` with :math:`\sum_i g(\lambda_i) \approx \sum_j w_j\, g(\theta_j)` for the
functions g the entropy needs (:math:`g(0) = 0`). The exact spectrum is the special case
:math:`\theta = \lambda`, :math:`w = 1`, so one entropy formula — the well-conditioned form of
docs/method.md §7 near α = 1 — serves every method, and α = 2 stays exact (:math:`\lVert A\rVert_F^2`,
no spectrum at all).

``Nystrom(rank)``
    Randomised range finder with ``power_iterations`` (Halko, Martinsson & Tropp 2011): the top
    ``rank`` Ritz values of A, plus the remaining trace :math:`\operatorname{tr}A - \sum\theta`
    spread evenly over the other n − rank eigenvalues. Accurate when the spectrum decays fast
    (Gaussian Grams of structured data); biased towards higher entropy when it does not.

``Lanczos(rank, probes, steps)``
    Deflated stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017, with the deflation of
    Hutch++, Meyer et al. 2021): the top ``rank`` Ritz values exactly as above, and the rest of
    the spectrum — A projected off their span — by ``probes`` Rademacher vectors and ``steps``
    Lanczos steps each (with full reorthogonalisation). The tail's weights are then adjusted so
    that the nodes reproduce its two known moments, the trace
    :math:`\operatorname{tr}A - \sum\theta` and :math:`\lVert PAP\rVert_F^2` with
    :math:`P = I - QQ^\top` (a regression estimator with the exact α = 2 value as control
    variate; the trace alone, a ratio estimator, where the adjustment would make a weight
    negative): the probes' error in :math:`\sum\lambda\log\lambda` is nearly explained by
    their error in these moments. The trace alone cut the error 3–10× near α = 1 (on
    10-dimensional random data at n = 2000 from 0.08 to 0.02 bits RMS over seeds). Its variance falls with ``probes`` and is
    small because the large eigenvalues are deflated. The default for large n.

Cost: O(n²·(rank·(1 + power_iterations) + probes·steps)) for matrix products, against O(n³)
for the exact eigendecomposition. The products run in the estimator's precision ("float32"
halves their cost); vectors and small dense problems are float64. Everything runs where the
matrix lives (NumPy, or torch on its device: products, QR, reorthogonalisation, the batched
tridiagonal solves), with no host round trip; the random probes are drawn on the host, so a seed
gives the same numbers on every device. The approximations are not differentiated: with torch input they return a tensor
without gradient (use the exact method to back-propagate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from infoflow._array import host_to_device, is_torch
from infoflow.measures.eigenproblems import Eigenproblem, Steps, run
from infoflow.options import APPROXIMATION_SEED, METHOD, POWER_ITERATIONS, PROBES, RANK, STEPS

#: Below or at this n, ``method="auto"`` computes exact spectra.
AUTO_EXACT_UP_TO = 2000

#: The method names the estimators accept.
METHODS = METHOD.choices


@dataclass(frozen=True)
class Exact:
    """The full eigendecomposition (eigenvalues only). Exact and differentiable."""

    name = "exact"


@dataclass(frozen=True)
class Nystrom:
    """Randomised top-``rank`` spectrum plus an even tail; see the module docs."""

    rank: int = 200
    power_iterations: int = 1
    seed: int = 0
    name = "nystrom"


@dataclass(frozen=True)
class Lanczos:
    """Deflated stochastic Lanczos quadrature; see the module docs."""

    rank: int = 64
    probes: int = 8
    steps: int = 15
    power_iterations: int = 1
    seed: int = 0
    name = "lanczos"


Method = Exact | Nystrom | Lanczos


def resolve_method(method: Any, n: int, differentiable: bool = False) -> Method:
    """The method object for a name or object; ``"auto"`` is exact up to
    :data:`AUTO_EXACT_UP_TO` samples, or when the result must be ``differentiable`` (the
    approximations carry no gradient), and ``Lanczos()`` above."""
    if isinstance(method, (Exact, Nystrom, Lanczos)):
        resolved = method
    else:
        if not isinstance(method, str):
            raise TypeError(f"method must be one of {METHODS} or an Exact/Nystrom/Lanczos "
                            f"object, got {type(method).__name__}")
        name = METHOD.check(method)
        if name == "auto":
            name = "exact" if n <= AUTO_EXACT_UP_TO or differentiable else "lanczos"
        resolved = {"exact": Exact, "lanczos": Lanczos, "nystrom": Nystrom}[name]()
    for option in (RANK, PROBES, STEPS, POWER_ITERATIONS, APPROXIMATION_SEED):
        if hasattr(resolved, option.name):
            option.check(getattr(resolved, option.name), f"{resolved.name} {option.name}")
    return resolved


#: From this many columns on, NumPy products are taken as A x rather than (x^T A)^T.
_WIDE = 16


def _backend(a: Any):
    """(xp, host_to_device, product) for ``a``: the array module, a function that puts a float64
    NumPy array where ``a`` lives (for torch: on its device, no sync back), and x ↦ a @ x
    computed in ``a``'s precision and returned in float64."""
    if is_torch(a):
        import torch

        a = a.detach()
        device = a.device

        def to_device(x: np.ndarray) -> Any:
            return host_to_device(x.astype(np.float64), device)

        def product(x: Any) -> Any:
            return (a @ x.to(a.dtype)).double()

        return torch, to_device, product

    def product(x: np.ndarray) -> np.ndarray:
        # A is symmetric, so A x = (x^T A)^T. NumPy's BLAS (OpenBLAS) is faster with the
        # row-major form x^T A for a few columns (8 columns at n = 4000 in float32: 8.5 against
        # 11.4 ms) and with A x for many (64 columns: 38 against 53 ms)
        if x.shape[1] >= _WIDE:
            return np.asarray(a @ x.astype(a.dtype), dtype=np.float64)
        left = np.ascontiguousarray(x.T, dtype=a.dtype)
        return np.asarray((left @ a).T, dtype=np.float64)

    return np, lambda x: x, product


def _qr(xp, y: Any) -> Any:
    """The orthonormal factor of a tall n × k matrix, computed where ``y`` lives.

    NumPy: shifted Cholesky QR (:func:`_cholesky_qr`), 8 against 24 ms for Householder QR at
    4000 × 64, falling back to Householder QR where ``y`` is numerically rank-deficient; both
    NumPy's own, not SciPy's: SciPy's OpenBLAS is a second thread pool whose idle threads spin
    for about 0.1 s after each call and halve the speed of NumPy's products with A that follow
    (8 columns at n = 4000: 6.7 ms alone, 12–98 ms right after a SciPy QR). torch: Householder
    QR on the device (no host round trip).
    """
    if xp is np:
        q = _cholesky_qr(y)
        return q if q is not None else np.linalg.qr(y)[0]
    return xp.linalg.qr(y)[0]


def _cholesky_qr(y: np.ndarray) -> np.ndarray | None:
    r"""Shifted CholeskyQR3 (Fukaya, Kannan, Nakatsukasa, Zhang & Yamamoto, SIAM J. Sci.
    Comput. 42(1), 2020): one Cholesky QR of :math:`Y^\top Y + sI` with the shift
    :math:`s = 11(nk + k(k + 1))\,u\,\lVert Y\rVert_F^2` brings the condition number down to
    about :math:`u^{-1/2}`, two plain ones make Q orthonormal to round-off — all matrix
    products, no Householder reflections. None where Y is numerically rank-deficient (a
    Cholesky factorisation fails, or Q comes out not orthonormal)."""
    n, k = y.shape
    eps = np.finfo(np.float64).eps
    gram = y.T @ y
    gram[np.diag_indices(k)] += 11 * (n * k + k * (k + 1)) * eps * np.trace(gram)
    q = y
    try:
        for _ in range(3):
            q = q @ np.linalg.inv(np.linalg.cholesky(gram)).T
            gram = q.T @ q
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(gram)) or abs(gram - np.eye(k)).max() > 1e-10:
        return None
    return q


class ApproximateSpectrum(NamedTuple):
    r"""Weighted nodes approximating the spectrum of a trace-1 matrix A, and an eigenvalue of A
    proved by what was computed.

    ``lowest`` (0-dim, where A lives) bounds the smallest eigenvalue from above,
    :math:`\lambda_{\min}(A) \le` ``lowest`` up to round-off: it is the least of the Ritz
    values of A on the top subspace (:math:`Q^\top AQ`, by Cauchy's interlacing), of the tail's
    Lanczos tridiagonals (Ritz values of A on vectors orthogonal to Q) and of the tail's mean
    :math:`(\operatorname{tr}A - \sum\theta)/(n - k)` (Ky Fan: the top k Ritz values sum to at
    most the top k eigenvalues). A positive semi-definite A has ``lowest`` >= 0 up to round-off;
    a negative eigenvalue the computation does not see leaves it unaffected.
    """

    nodes: Any
    weights: Any
    lowest: Any


def _top_ritz(xp, to_device, product, n: int, rank: int, power_iterations: int,
              rng: np.random.Generator) -> Steps[tuple[Any, Any, Any, Any]]:
    """Orthonormal basis Q (n × k) of the dominant range, the Ritz values of A on it (not
    clamped at zero), AQ and QᵀAQ (for the tail's exact second moment)."""
    k = min(rank, n)
    y = product(to_device(rng.standard_normal((n, k))))
    for _ in range(power_iterations):
        y = product(_qr(xp, y))
    q = _qr(xp, y)
    aq = product(q)
    h = q.T @ aq
    ritz = yield [Eigenproblem((h + h.T) / 2)]
    return q, ritz[0], aq, h


def _clamped(xp, values: Any) -> Any:
    return values.clamp(min=0) if xp is not np else np.clip(values, 0, None)


def _lanczos_nodes(xp, to_device, product, q: Any, n: int, probes: int, steps: int,
                   rng: np.random.Generator) -> Steps[tuple[Any, Any, Any]]:
    """Quadrature nodes and weights for the spectrum of A projected off span(q), and the least
    node before it is clamped at zero, computed where A lives: the probes are drawn on the host
    (the same numbers on every device) and copied over once; every step, the
    reorthogonalisation and the tridiagonal solves run with ``xp``."""

    def deflated(x: Any) -> Any:  # P A P x for rows x orthogonal to span(q): P A x, as rows
        y = product(x.T).T
        return y - (y @ q) @ q.T

    # every vector is a row (probe, n), so that each probe's reorthogonalisation is one
    # matrix-vector product with its basis (4x faster than an einsum over all probes)
    z = to_device(rng.choice([-1.0, 1.0], size=(n, probes))).T
    z = z - (z @ q) @ q.T
    norms2 = (z * z).sum(1)
    steps = min(steps, n - q.shape[1])
    shape = (probes, steps + 1, n)  # (probe, step, n), allocated where the probes live
    basis = np.zeros(shape) if xp is np else z.new_zeros(shape)
    basis[:, 0] = z / xp.sqrt(norms2)[:, None]
    alphas, betas = [], []
    previous, beta = xp.zeros_like(z), xp.zeros_like(norms2)
    for j in range(steps):
        current = basis[:, j]
        w = deflated(current) - previous * beta[:, None]
        alpha = (w * current).sum(1)
        w = w - current * alpha[:, None]
        done = basis[:, :j + 1]
        for _ in range(2):  # full reorthogonalisation, twice (Gram–Schmidt, "twice is enough")
            w = w - (done.swapaxes(1, 2) @ (done @ w[:, :, None]))[:, :, 0]
        beta = xp.sqrt((w * w).sum(1))
        alphas.append(alpha)
        betas.append(beta)
        previous = current
        basis[:, j + 1] = w / xp.where(beta > 0, beta, xp.ones_like(beta))[:, None]
    a_diag, b_diag = xp.stack(alphas).T, xp.stack(betas).T[:, :-1]  # (probes, steps)
    if xp is np:
        tridiagonal = np.zeros((probes, steps, steps))
        index = np.arange(steps)
        tridiagonal[:, index, index] = a_diag
        tridiagonal[:, index[:-1], index[1:]] = b_diag
        tridiagonal[:, index[1:], index[:-1]] = b_diag
    else:
        tridiagonal = (xp.diag_embed(a_diag) + xp.diag_embed(b_diag, 1)
                       + xp.diag_embed(b_diag, -1))
    (theta, vectors), = yield [Eigenproblem(tridiagonal, vectors=True)]  # all probes at once
    weights = norms2[:, None] * vectors[:, 0, :] ** 2 / probes
    return _clamped(xp, theta).reshape(-1), weights.reshape(-1), theta.min()


def _calibrated(xp, nodes: Any, weights: Any, first: Any, second: Any) -> Any:
    r"""Weights adjusted so that the nodes reproduce the tail's two known moments.

    The tail's trace :math:`\sum\lambda` and its :math:`\sum\lambda^2 = \lVert PAP\rVert_F^2`
    (:math:`P = I - QQ^\top`) are known exactly. The weights become
    :math:`w_j(1 + c_1 t_j + c_2 t_j^2)`, :math:`t = \theta/\max\theta`, with
    :math:`c` solving the two moment equations (a regression estimator: the probes' error in
    :math:`\sum\lambda\log\lambda` is mostly explained by their error in the two moments, and is
    removed with it). Where that would make a weight negative, the weights are instead scaled to
    the trace alone (the ratio estimator). No host round trip: the choice is an ``xp.where``.
    """
    scale = nodes.max()
    scale = xp.where(scale > 0, scale, xp.ones_like(scale))
    t = nodes / scale
    moments = [(weights * t**p).sum() for p in range(1, 5)]
    target_1 = first / scale - moments[0]
    target_2 = second / scale**2 - moments[1]
    det = moments[1] * moments[3] - moments[2] * moments[2]
    safe = xp.where(det > 0, det, xp.ones_like(det))
    c1 = (target_1 * moments[3] - target_2 * moments[2]) / safe
    c2 = (moments[1] * target_2 - moments[2] * target_1) / safe
    both = weights * (1 + c1 * t + c2 * t * t)
    estimated = moments[0] * scale
    ratio = weights * xp.where(estimated > 0, first / xp.where(estimated > 0, estimated,
                                                                 xp.ones_like(estimated)),
                               xp.ones_like(estimated))
    usable = (det > 0) & (both >= 0).all()
    return xp.where(usable, both, ratio)


def approximate_spectrum(a: Any, method: Nystrom | Lanczos) -> ApproximateSpectrum:
    """Weighted nodes (theta, w) approximating the spectrum of trace-1 ``a``, and the bound
    ``lowest`` on its smallest eigenvalue (:class:`ApproximateSpectrum`): float64, of ``a``'s
    kind and on its device, with no host round trip."""
    return run(approximate_spectrum_steps(a, method))


def approximate_spectrum_steps(a: Any, method: Nystrom | Lanczos
                               ) -> Steps[ApproximateSpectrum]:
    """:func:`approximate_spectrum` as steps (:mod:`~infoflow.measures.eigenproblems`): the
    Ritz values of the top subspace, then the tail's tridiagonals (Lanczos)."""
    n = a.shape[0]
    xp, to_device, product = _backend(a)
    rng = np.random.default_rng(method.seed)
    q, ritz, aq, h = yield from _top_ritz(xp, to_device, product, n, method.rank,
                                          method.power_iterations, rng)
    lowest = ritz.min()
    weights = xp.ones_like(ritz)
    rest = n - len(ritz)
    if rest == 0:
        return ApproximateSpectrum(_clamped(xp, ritz), weights, lowest)
    plain = a.detach() if is_torch(a) else a
    trace = xp.diagonal(plain).sum(dtype=xp.float64)
    lowest = xp.minimum(lowest, (trace - ritz.sum()) / rest)
    ritz = _clamped(xp, ritz)
    tail_trace = _clamped(xp, trace - ritz.sum())
    if isinstance(method, Nystrom):
        return ApproximateSpectrum(
            xp.cat([ritz, (tail_trace / rest).reshape(1)]) if xp is not np
            else np.append(ritz, tail_trace / rest),
            xp.cat([weights, xp.full_like(weights[:1], rest)]) if xp is not np
            else np.append(weights, rest),
            lowest,
        )
    nodes, node_weights, tail_lowest = yield from _lanczos_nodes(
        xp, to_device, product, q, n, method.probes, method.steps, rng)
    # the tail's exact second moment: ||PAP||_F^2 = ||A||_F^2 - 2 ||AQ||_F^2 + ||Q^T A Q||_F^2
    frobenius = (np.einsum("ij,ij->", plain, plain, dtype=np.float64) if xp is np  # exact
                 else (plain * plain).sum(dtype=xp.float64))  # products, no n x n temporary
    tail_square = _clamped(xp, frobenius - 2 * (aq * aq).sum() + (h * h).sum())
    node_weights = _calibrated(xp, nodes, node_weights, tail_trace, tail_square)
    join = xp.cat if xp is not np else np.concatenate
    return ApproximateSpectrum(join([ritz, nodes]), join([weights, node_weights]),
                               xp.minimum(lowest, tail_lowest))
