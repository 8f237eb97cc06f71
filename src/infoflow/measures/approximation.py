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
    Lanczos steps each (with full reorthogonalisation). The tail's weights are then scaled so
    that its trace is the known :math:`\operatorname{tr}A - \sum\theta` (a ratio estimator:
    the probes' error in the trace and in :math:`\sum\lambda\log\lambda` are nearly
    proportional, so near α = 1 this cuts the error 3–10× — on 10-dimensional random data at
    n = 2000 from 0.08 to 0.02 bits RMS over seeds). Its variance falls with ``probes`` and is
    small because the large eigenvalues are deflated. The default for large n.

Cost: O(n²·(rank·(1 + power_iterations) + probes·steps)) for matrix products, against O(n³)
for the exact eigendecomposition. The products run in the estimator's precision ("float32"
halves their cost); small dense problems are solved in float64. Seeds make results
reproducible. The approximations are not differentiated: with torch input they return a tensor
without gradient (use the exact method to back-propagate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from infoflow._array import is_torch
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


def _products(a: Any):
    """x (numpy float64, n × k) -> a @ x as numpy float64, computed in a's own kind and dtype."""
    if is_torch(a):
        import torch

        a = a.detach()

        def product(x: np.ndarray) -> np.ndarray:
            return (a @ torch.as_tensor(x, dtype=a.dtype, device=a.device)).double().cpu().numpy()
    else:

        def product(x: np.ndarray) -> np.ndarray:
            return np.asarray(a @ x.astype(a.dtype, copy=False), dtype=np.float64)

    return product


def _top_ritz(product, n: int, rank: int, power_iterations: int, rng: np.random.Generator):
    """Orthonormal basis Q (n × k) of the dominant range and the Ritz values of A on it."""
    k = min(rank, n)
    y = product(rng.standard_normal((n, k)))
    for _ in range(power_iterations):
        y = product(np.linalg.qr(y)[0])
    q = np.linalg.qr(y)[0]
    ritz = np.linalg.eigvalsh(q.T @ product(q))
    return q, np.clip(ritz, 0, None)


def _lanczos_nodes(product, q: np.ndarray, n: int, probes: int, steps: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights for the spectrum of A projected off span(q)."""

    def deflated(x: np.ndarray) -> np.ndarray:
        x = x - q @ (q.T @ x)
        y = product(x)
        return y - q @ (q.T @ y)

    z = rng.choice([-1.0, 1.0], size=(n, probes))
    z -= q @ (q.T @ z)
    norms2 = (z * z).sum(0)
    v = z / np.sqrt(norms2)
    steps = min(steps, n - q.shape[1])
    alphas, betas = np.zeros((steps, probes)), np.zeros((steps, probes))
    basis, previous, beta = [v], np.zeros_like(v), np.zeros(probes)
    for j in range(steps):
        w = deflated(basis[-1]) - previous * beta
        alphas[j] = (w * basis[-1]).sum(0)
        w -= basis[-1] * alphas[j]
        for p in basis:  # full reorthogonalisation: steps are few, stability matters
            w -= p * (w * p).sum(0)
        beta = np.linalg.norm(w, axis=0)
        betas[j] = beta
        previous = basis[-1]
        basis.append(w / np.where(beta > 0, beta, 1.0))
    nodes, weights = [], []
    for i in range(probes):
        tridiagonal = np.diag(alphas[:, i]) + np.diag(betas[:-1, i], 1) + np.diag(betas[:-1, i], -1)
        theta, vectors = np.linalg.eigh(tridiagonal)
        nodes.append(np.clip(theta, 0, None))
        weights.append(norms2[i] * vectors[0] ** 2 / probes)
    return np.concatenate(nodes), np.concatenate(weights)


def approximate_spectrum(a: Any, method: Nystrom | Lanczos) -> tuple[np.ndarray, np.ndarray]:
    """Weighted nodes (theta, w), float64 NumPy, approximating the spectrum of trace-1 ``a``."""
    n = a.shape[0]
    rng = np.random.default_rng(method.seed)
    product = _products(a)
    q, ritz = _top_ritz(product, n, method.rank, method.power_iterations, rng)
    weights = np.ones_like(ritz)
    rest = n - len(ritz)
    if rest == 0:
        return ritz, weights
    if isinstance(method, Nystrom):
        tail = max(_trace(a) - float(ritz.sum()), 0.0)
        return np.append(ritz, tail / rest), np.append(weights, rest)
    nodes, node_weights = _lanczos_nodes(product, q, n, method.probes, method.steps, rng)
    # ratio estimator: the tail's trace is known exactly, tr(A) - tr(Q^T A Q)
    tail_trace = max(_trace(a) - float(ritz.sum()), 0.0)
    estimated = float((node_weights * nodes).sum())
    if estimated > 0:
        node_weights = node_weights * (tail_trace / estimated)
    return np.concatenate([ritz, nodes]), np.concatenate([weights, node_weights])


def _trace(a: Any) -> float:
    """tr(a), accumulated in float64."""
    diagonal = a.detach().diagonal().double().sum() if is_torch(a) else a.diagonal().sum(
        dtype=np.float64)
    return float(diagonal)
