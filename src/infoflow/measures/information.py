r"""Mutual information, conditional entropy and multivariate correlations (docs/method.md §2).

Every function takes Gram matrices (need not be normalised) and returns bits. An argument that
is a sequence of Gram matrices (or a (L, n, n) stack) is a *set* of variables, joined by the
Hadamard product. NumPy input gives a Python float; torch input a differentiable 0-dim tensor.
Each is a thin call into :class:`~infoflow.EntropyCache`, which computes every joint entropy
once; use the cache directly when several quantities share variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infoflow.measures.entropy import GramInput
from infoflow.measures.entropy_cache import EntropyCache
from infoflow.options import ALPHA, DTYPE, METHOD


def mutual_information(
    A: GramInput, B: GramInput, *, alpha: float = ALPHA.default, dtype: str = DTYPE.default,
    method: Any = METHOD.default,
) -> Any:
    r"""Matrix-based Rényi mutual information :math:`I_\alpha(A;B) = S(A) + S(B) - S(A,B)`, in bits.

    Lies in :math:`[0, \min(S(A), S(B))]` and is symmetric in ``A`` and ``B``.

    Parameters
    ----------
    A, B : Gram matrix (n, n), or a sequence of them (a set of variables)
    alpha : float, default 1.01
        Rényi order, > 0.
    dtype : {"float64", "float32"}, default "float64"
    method : {"exact", "lanczos", "nystrom", "auto"} or a method object, default "auto"
        See :func:`~infoflow.renyi_entropy`. Every function here takes ``alpha``, ``dtype`` and
        ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import label_gram, mutual_information
    >>> y = np.array([0, 1, 0, 1])
    >>> round(mutual_information(label_gram(y), label_gram(y), alpha=1), 12)
    1.0
    """
    cache = EntropyCache({"A": A, "B": B}, alpha=alpha, dtype=dtype, method=method)
    return cache.mutual_information("A", "B")


def conditional_entropy(
    A: GramInput, B: GramInput, *, alpha: float = ALPHA.default, dtype: str = DTYPE.default,
    method: Any = METHOD.default,
) -> Any:
    r"""Conditional entropy :math:`S_\alpha(A \mid B) = S(A, B) - S(B)`, in bits."""
    cache = EntropyCache({"A": A, "B": B}, alpha=alpha, dtype=dtype, method=method)
    return cache.conditional_entropy("A", "B")


def conditional_mutual_information(
    A: GramInput, B: GramInput, C: GramInput, *, alpha: float = ALPHA.default, dtype: str = DTYPE.default,
    method: Any = METHOD.default,
) -> Any:
    r"""Conditional mutual information, in bits.

    .. math:: I_\alpha(A;B\mid C) = S(A,C) + S(B,C) - S(A,B,C) - S(C)
    """
    cache = EntropyCache({"A": A, "B": B, "C": C}, alpha=alpha, dtype=dtype, method=method)
    return cache.conditional_mutual_information("A", "B", "C")


def _variables(Ks: Sequence[GramInput] | Any) -> dict[str, Any]:
    items = list(Ks)
    if len(items) < 2:
        raise ValueError(f"Ks must hold at least 2 variables, got {len(items)}")
    return {f"Ks[{i}]": k for i, k in enumerate(items)}


def total_correlation(
    Ks: Sequence[GramInput], *, alpha: float = ALPHA.default, dtype: str = DTYPE.default,
    method: Any = METHOD.default,
) -> Any:
    r"""Total correlation :math:`TC = \sum_l S(A_l) - S(A_1,\dots,A_L)`, in bits (>= 0)."""
    variables = _variables(Ks)
    return EntropyCache(variables, alpha=alpha, dtype=dtype, method=method).total_correlation(variables)


def dual_total_correlation(
    Ks: Sequence[GramInput], *, alpha: float = ALPHA.default, dtype: str = DTYPE.default,
    method: Any = METHOD.default,
) -> Any:
    r"""Dual total correlation, in bits.

    .. math:: DTC = \sum_l S(A_{\text{all but } l}) - (L-1)\,S(A_1,\dots,A_L)
    """
    variables = _variables(Ks)
    return EntropyCache(variables, alpha=alpha, dtype=dtype, method=method).dual_total_correlation(variables)
