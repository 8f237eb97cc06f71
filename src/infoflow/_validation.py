"""Validation of arrays at the public boundary, with one message style.

Every message names the argument, says what was expected and what was got, for example
``alpha must be > 0, got -1.0``. Checks raise ``TypeError`` for the wrong kind of value and
``ValueError`` for a value of the right kind that is out of range. Scalar options are
declared, with their defaults, in :mod:`infoflow.options`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from infoflow._array import is_torch, namespace, numpy_view
from infoflow._deferred import require
from infoflow.options import ALPHA, DTYPE, SIGMA


def check_alpha(alpha: Any) -> float:
    """The Rényi order as a float: > 0, possibly ``inf`` (:data:`infoflow.options.ALPHA`)."""
    return ALPHA.check(alpha)


def check_precision(dtype: Any) -> str:
    """The precision of a spectrum, "float64" or "float32" (:data:`infoflow.options.DTYPE`)."""
    return DTYPE.check(dtype)


def check_sigma(sigma: Any, name: str = "sigma") -> float:
    """A kernel width: a finite number > 0 (:data:`infoflow.options.SIGMA`)."""
    return SIGMA.check(sigma, name)


def check_array(x: Any, name: str) -> Any:
    """A NumPy array or torch tensor; lists and tuples become NumPy arrays."""
    if is_torch(x):
        return x
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"{name} must be a NumPy array or a torch tensor, got {type(x).__name__}")


def check_finite(x: Any, name: str) -> None:
    """Refuse NaN and infinity; one pass without a temporary array when all is well."""
    xp = namespace(x)
    plain = x.detach() if is_torch(x) else x

    def fail() -> None:  # the sum can also overflow: look at every value before refusing
        if not bool(xp.isfinite(plain).all()):
            raise ValueError(f"{name} must hold only finite values, got NaN or infinity")

    # a NaN or an infinity anywhere makes the sum non-finite; a device tensor's flag is read
    # with the others at the end of a deferred_checks scope
    require(xp.isfinite(plain.sum()), fail)


def check_samples(x: Any, name: str = "x", finite: bool = True) -> Any:
    """Data of shape (n, ...) with n >= 2 samples, numeric and (unless ``finite`` is False, for
    a caller that checks finiteness itself) finite."""
    x = check_array(x, name)
    if x.ndim < 1:
        raise ValueError(f"{name} must have shape (n, ...) with one row per sample, got a scalar")
    if x.shape[0] < 2:
        raise ValueError(f"{name} must hold at least 2 samples, got {x.shape[0]}")
    if is_torch(x):
        if x.is_complex() or x.dtype == namespace(x).bool:
            raise TypeError(f"{name} must be real-valued, got dtype {x.dtype}")
        floating = x.is_floating_point()
    else:
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be real-valued, got dtype {x.dtype}")
        floating = x.dtype.kind == "f"
    if floating and finite:
        check_finite(x, name)
    return x


def _finite_and_exactly_symmetric(k: np.ndarray, tile: int = 512) -> bool:
    """``k == k.T`` everywhere and a finite sum of the upper triangle's tiles (hence of every
    entry), in one pass: each tile of the upper triangle is compared with the transpose of its
    mirror tile while both are in cache (25 ms at n = 4000 in float64, against 96 ms comparing
    row blocks with strided column blocks, and 9 ms more for a separate finiteness pass). False
    leaves it to the caller to find which fails: NaN breaks the equality, and a sum can overflow."""
    n = k.shape[0]
    total = 0.0
    for i in range(0, n, tile):
        rows = k[i:i + tile]
        for j in range(i, n, tile):
            upper = rows[:, j:j + tile]
            if not np.array_equal(upper, k[j:j + tile, i:i + tile].T):
                return False
            total += upper.sum()
    return bool(np.isfinite(total))


def check_gram(k: Any, name: str = "K") -> Any:
    """A square, symmetric, finite Gram matrix with a positive diagonal and n >= 2."""
    k = check_array(k, name)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) Gram matrix, got shape {tuple(k.shape)}")
    if k.shape[0] < 2:
        raise ValueError(f"{name} must describe at least 2 samples, got {k.shape[0]}")
    if is_torch(k) and k.is_complex():
        raise TypeError(f"{name} must be real-valued, got dtype {k.dtype}")
    if is_torch(k) and not k.is_floating_point():
        k = k.double()
    elif not is_torch(k) and k.dtype.kind not in "f":
        if k.dtype.kind not in "biu":
            raise TypeError(f"{name} must be real-valued, got dtype {k.dtype}")
        k = k.astype(np.float64)
    # a CPU tensor without a gradient is checked as the NumPy array on its memory (blockwise,
    # cache-friendly: torch's full k == k.T comparison was the slower)
    view = numpy_view(k)
    plain = view if view is not None else k.detach() if is_torch(k) else k
    xp = namespace(plain)

    def asymmetric() -> None:
        scale = max(float(plain.max()), -float(plain.min()), 1.0)
        eps = float(np.finfo(str(k.dtype).removeprefix("torch.")).eps)
        asym = float(abs(plain - plain.T).max())
        if asym > 100 * eps * scale:
            raise ValueError(f"{name} must be symmetric, got max |K - K.T| = {asym:.3g}")

    def not_positive() -> None:
        raise ValueError(f"{name} must have a positive diagonal (K_ii = kappa(x_i, x_i) > 0)")

    if is_torch(plain):  # flags that a deferred_checks scope reads together
        check_finite(plain, name)
        require((plain == plain.T).all(), asymmetric)
    elif not _finite_and_exactly_symmetric(plain):  # else: find which check fails
        check_finite(plain, name)
        asymmetric()
    require((xp.diagonal(plain) > 0).all(), not_positive)
    return k


def gram_list(grams: Any, name: str) -> list[Any]:
    """One Gram matrix or a set of them (sequence, or a (L, n, n) stack) as a checked list."""
    if isinstance(grams, Sequence) and not isinstance(grams, (str, bytes)):
        items = list(grams)
        if not items:
            raise ValueError(f"{name} must hold at least one Gram matrix, got an empty sequence")
    elif (is_torch(grams) or isinstance(grams, np.ndarray)) and grams.ndim == 3:
        items = list(grams)
    else:
        items = [grams]
    checked = [check_gram(k, f"{name}[{i}]" if len(items) > 1 else name) for i, k in enumerate(items)]
    sizes = {k.shape[0] for k in checked}
    if len(sizes) > 1:
        raise ValueError(
            f"{name} must hold Gram matrices of the same size n, got sizes {sorted(sizes)}"
        )
    kinds = {is_torch(k) for k in checked}
    if len(kinds) > 1:
        raise TypeError(f"{name} mixes NumPy arrays and torch tensors; use one kind")
    return checked


def check_same_samples(groups: dict[str, list[Any]]) -> None:
    """All Gram matrices across the named arguments describe the same n samples, of one kind."""
    sizes = {name: ks[0].shape[0] for name, ks in groups.items()}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{name}: n={n}" for name, n in sizes.items())
        raise ValueError(f"all Gram matrices must describe the same n samples, got {listed}")
    kinds = {is_torch(ks[0]) for ks in groups.values()}
    if len(kinds) > 1:
        raise TypeError("the Gram matrices mix NumPy arrays and torch tensors; use one kind")


#: Round-off a Gram matrix may carry: float32's machine epsilon, the coarsest precision infoflow
#: computes in (a float32 Gram's normalised spectrum reaches -3.4e-7 at n = 1000, measured).
ROUND_OFF = float(np.finfo(np.float32).eps)


class NotPositiveSemidefiniteError(ValueError):
    """A "Gram matrix" that is not symmetric positive semi-definite beyond round-off."""


def check_psd_spectrum(lam: Any, n: int) -> None:
    r"""Refuse a spectrum of a trace-normalised Gram matrix with an eigenvalue below
    :math:`-n\,\varepsilon_{32}\operatorname{tr}A` (:data:`ROUND_OFF`).

    Costs a minimum and a sum over eigenvalues that were computed anyway. A Gram matrix of a
    positive-definite kernel has no negative eigenvalue; round-off gives it some of size
    about :math:`\varepsilon\,\lambda_{\max}` (measured: −3.4e-7 of the trace for a float32
    Gram at n = 1000, 350 times inside the tolerance there).
    """
    plain = lam.detach() if is_torch(lam) else lam

    def fail() -> None:
        smallest, trace = float(plain.min()), float(plain.sum())
        if smallest < -n * ROUND_OFF * max(trace, 0.0):
            raise NotPositiveSemidefiniteError(
                f"is not positive semi-definite: its normalised spectrum has the eigenvalue "
                f"{smallest / trace if trace > 0 else smallest:.3g} (allowed round-off: "
                f"{-n * ROUND_OFF:.2g}); a Gram matrix K_ij = kappa(x_i, x_j) of a "
                f"positive-definite kernel has none"
            )

    if is_torch(plain):  # no synchronisation: a deferred_checks scope reads the flag
        require(plain.min() >= -n * ROUND_OFF * plain.sum().clamp(min=0), fail)
    else:
        fail()


def check_psd_entries(a: Any, lowest: Any = None) -> None:
    r"""Where no full spectrum is computed (α = 2, the approximations): the 2 × 2 principal
    minors, :math:`|A_{ij}| \le \sqrt{A_{ii}A_{jj}} = 1/n` for the trace-normalised product of
    unit-diagonal Gram matrices, to :data:`ROUND_OFF` times 16; and for the approximations the
    bound ``lowest`` on the smallest eigenvalue that their Ritz values prove
    (:class:`~infoflow.measures.approximation.ApproximateSpectrum`), to the tolerance of
    :func:`check_psd_spectrum`.

    Necessary conditions for positive semi-definiteness, not sufficient: an indefinite matrix
    that passes them is not detected. One pass over the matrix; for torch both come to one
    flag (:func:`~infoflow._deferred.require`): one synchronisation per call, none inside a
    :func:`~infoflow._deferred.deferred_checks` scope. The minors imply
    :math:`\lVert A\rVert_F^2 \le 1`, and
    :math:`\lVert A\rVert_F^2 = \sum\lambda^2 \ge (\sum\lambda)^2/n = 1/n` holds for every
    symmetric trace-1 matrix, so the α = 2 entropy lies in :math:`[0, \log_2 n]` whenever they
    hold: a range check of the result would refuse nothing more.
    """
    plain = a.detach() if is_torch(a) else a
    n = a.shape[0]
    xp = namespace(plain)
    largest = xp.maximum(plain.max(), -plain.min()) * n  # two passes without a temporary

    def fail() -> None:
        if float(largest) > 1 + 16 * ROUND_OFF:
            raise NotPositiveSemidefiniteError(
                f"is not positive semi-definite: an entry exceeds the geometric mean of its "
                f"diagonal entries (|K_ij| / sqrt(K_ii K_jj) = {float(largest):.6g} > 1)"
            )
        if lowest is not None and float(lowest) < -n * ROUND_OFF:
            raise NotPositiveSemidefiniteError(
                f"is not positive semi-definite: the approximation's Ritz values prove an "
                f"eigenvalue <= {float(lowest):.3g} of its normalised spectrum (allowed round-off: "
                f"{-n * ROUND_OFF:.2g}); a Gram matrix K_ij = kappa(x_i, x_j) of a "
                "positive-definite kernel has none"
            )

    if is_torch(plain):  # one flag for both, read by require (or by a deferred_checks scope)
        ok = largest <= 1 + 16 * ROUND_OFF
        if lowest is not None:
            ok = ok & (lowest >= -n * ROUND_OFF)
        require(ok, fail)
    else:
        fail()
