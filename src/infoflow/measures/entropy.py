r"""Matrix-based Rényi entropy of one variable and the joint entropy of several (docs/method.md §1–2).

References
----------
L. G. Sanchez Giraldo, M. Rao, J. C. Príncipe, "Measures of entropy from data using infinitely
divisible kernels", IEEE Trans. Inf. Theory 61(1), 2015.
S. Yu, L. G. Sanchez Giraldo, R. Jenssen, J. C. Príncipe, "Multivariate extension of matrix-based
Rényi's α-order entropy functional", IEEE TPAMI 42(11), 2020.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from infoflow._array import host_arrays, to_scalar
from infoflow._deferred import error_prefix
from infoflow._memory import check_fits
from infoflow._validation import (
    NotPositiveSemidefiniteError,
    check_alpha,
    check_precision,
    gram_list,
)
from infoflow.measures.approximation import resolve_method
from infoflow.measures.spectrum import entropy_of_normalized, normalized, unit_product
from infoflow.options import ALPHA, DTYPE, METHOD

GramInput = Any
"""A Gram matrix (n, n), a sequence of them, or a (L, n, n) stack — NumPy or torch."""


def needs_gradient(grams: Sequence[Any]) -> bool:
    """Whether any Gram matrix is a torch tensor that requires a gradient."""
    return any(getattr(k, "requires_grad", False) for k in grams)


def joint_entropy_of(grams: Sequence[Any], alpha: float, precision: str, method: Any,
                     name: str) -> Any:
    """Joint entropy in bits of already-validated Gram matrices named ``name``."""
    views = host_arrays(list(grams))
    if views is not None:  # NumPy on the same memory: faster on the CPU
        import torch

        value = joint_entropy_of(views, alpha, precision, method, name)
        return torch.from_numpy(np.array(value))
    n = grams[0].shape[0]
    # the product, its normalised copy and the solver's copy, besides the inputs
    check_fits(n, 3, 4 if precision == "float32" else 8, "an entropy",
               getattr(grams[0], "device", None))
    method = resolve_method(method, n, needs_gradient(grams))
    with error_prefix(name, NotPositiveSemidefiniteError):  # also a check read later
        product = unit_product(grams, precision)
        owned = not any(product is k for k in grams)  # a fresh array, not an input
        return entropy_of_normalized(normalized(product, n, owned), alpha, method)


def renyi_entropy(
    K: GramInput, *, alpha: float = ALPHA.default, dtype: str = DTYPE.default, method: Any = METHOD.default
) -> Any:
    r"""Matrix-based Rényi :math:`\alpha`-entropy of one variable, in bits.

    .. math:: S_\alpha(A) = \frac{1}{1-\alpha}\log_2\sum_i\lambda_i(A)^\alpha,
              \qquad A_{ij} = \frac{K_{ij}}{n\sqrt{K_{ii}K_{jj}}}

    with the von Neumann limit :math:`-\sum_i\lambda_i\log_2\lambda_i` at :math:`\alpha = 1`.

    Parameters
    ----------
    K : array or tensor of shape (n, n)
        A Gram matrix of n >= 2 samples: symmetric, finite, positive diagonal; it need not
        be normalised. A sequence of Gram matrices is joined as in :func:`joint_entropy`.
    alpha : float, default 1.01
        The order, > 0. 1 is the von Neumann limit, 2 needs no eigendecomposition, ``inf``
        gives the min-entropy. The default is the paper's (close to Shannon).
    dtype : {"float64", "float32"}, default "float64"
        Precision of the spectrum.
    method : {"exact", "lanczos", "nystrom", "auto"} or a method object, default "auto"
        Exact eigenvalues, or an approximation for large n
        (:mod:`~infoflow.measures.approximation`); "auto" is exact up to 2000 samples.

    Returns
    -------
    float or torch.Tensor
        A Python float for NumPy input; a differentiable 0-dim tensor on the input's device
        for torch input. Always in :math:`[0, \log_2 n]`.

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import renyi_entropy
    >>> round(renyi_entropy(np.eye(8)), 12)
    3.0
    """
    alpha = check_alpha(alpha)
    precision = check_precision(dtype)
    return to_scalar(joint_entropy_of(gram_list(K, "K"), alpha, precision, method, "K"))


def joint_entropy(
    Ks: GramInput, *, alpha: float = ALPHA.default, dtype: str = DTYPE.default, method: Any = METHOD.default
) -> Any:
    r"""Joint matrix-based Rényi entropy of several variables, in bits.

    .. math:: S_\alpha(A_1,\dots,A_L) = S_\alpha\!\left(
              \frac{A_1\circ\cdots\circ A_L}{\operatorname{tr}(A_1\circ\cdots\circ A_L)}\right)

    (:math:`\circ` is the Hadamard product.) It satisfies
    :math:`\max_l S_\alpha(A_l) \le S_\alpha(A_1,\dots,A_L) \le \sum_l S_\alpha(A_l)`, and with
    delta kernels on discrete variables equals the Rényi entropy of their empirical joint
    distribution.

    Parameters
    ----------
    Ks : sequence of arrays or tensors of shape (n, n), or one (L, n, n) stack
        Gram matrices of the L variables on the same n samples.
    alpha, dtype, method
        As in :func:`renyi_entropy`.

    Returns
    -------
    float or torch.Tensor
        The joint entropy in bits.
    """
    alpha = check_alpha(alpha)
    precision = check_precision(dtype)
    return to_scalar(joint_entropy_of(gram_list(Ks, "Ks"), alpha, precision, method, "Ks"))
