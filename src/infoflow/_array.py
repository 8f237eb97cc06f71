"""Dispatch on the array's type: NumPy or PyTorch, without importing torch for NumPy callers.

Every estimator works on either kind of array. The functions here return the module that
holds the array's operations (``numpy`` or ``torch``; both spell ``sqrt``, ``log``,
``expm1``, ``log1p``, ``where``, ``linalg.eigvalsh`` the same way) and smooth over the
few places where the two libraries differ.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from infoflow.options import DTYPE

#: The precisions a spectrum may be computed in.
PRECISIONS = DTYPE.choices


def is_torch(x: Any) -> bool:
    """Whether ``x`` is a ``torch.Tensor``, decided without importing torch."""
    return type(x).__module__.split(".")[0] == "torch"


def namespace(x: Any) -> ModuleType:
    """The module with the operations for ``x``: ``torch`` for tensors, else ``numpy``."""
    if is_torch(x):
        import torch

        return torch
    return np


def as_float(x: Any, precision: str) -> Any:
    """``x`` as a floating array of the named precision, same kind and device."""
    xp = namespace(x)
    dtype = getattr(xp, precision)
    if is_torch(x):
        return x.to(dtype)
    return np.asarray(x, dtype=dtype)


def float_dtype_of(x: Any) -> str:
    """The precision a Gram matrix of ``x`` is built in: its own if floating, else float64."""
    name = str(x.dtype).removeprefix("torch.")
    return name if name in PRECISIONS else "float64"


def to_scalar(value: Any) -> Any:
    """An estimator's result as the user expects it: a float for NumPy, a 0-dim tensor for torch."""
    if is_torch(value):
        return value.reshape(())
    return float(value) + 0.0  # + 0.0 turns -0.0 into 0.0


def flatten_samples(x: Any) -> Any:
    """``x`` of shape (n, ...) as (n, d), each sample flattened."""
    return x.reshape(x.shape[0], -1)


def eigvalsh(a: Any) -> Any:
    """Eigenvalues of a symmetric matrix, ascending; never the eigenvectors.

    NumPy arrays go to LAPACK's ``?syevd`` through SciPy: the solver ``numpy.linalg.eigvalsh``
    uses (identical float64 results), but SciPy's build runs float32 about 1.5x faster at
    n = 1000. Torch tensors use ``torch.linalg.eigvalsh`` (differentiable, on their device).
    """
    if is_torch(a):
        return namespace(a).linalg.eigvalsh(a)
    from scipy.linalg import eigh

    return eigh(a, eigvals_only=True, driver="evd", check_finite=False)


def logsumexp(v: Any) -> Any:
    """``log(sum(exp(v)))`` for a 1-D array, stable for large or tiny entries."""
    xp = namespace(v)
    m = v.max()
    if is_torch(v):
        m = m.detach()
    return m + xp.log(xp.exp(v - m).sum())
