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
    module = type(x).__module__
    return module == "torch" or module.startswith("torch.")


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
    dtype = x.dtype
    if isinstance(dtype, np.dtype):  # a dictionary lookup: str(dtype) costs microseconds
        return _NUMPY_PRECISIONS.get(dtype, "float64")
    name = str(dtype).removeprefix("torch.")
    return name if name in PRECISIONS else "float64"


_NUMPY_PRECISIONS = {np.dtype(name): name for name in PRECISIONS}


def to_scalar(value: Any) -> Any:
    """An estimator's result as the user expects it: a float for NumPy, a 0-dim tensor for torch."""
    if is_torch(value):
        return value if value.ndim == 0 else value.reshape(())
    return float(value) + 0.0  # + 0.0 turns -0.0 into 0.0


#: Whether CPU tensors that need no gradient are computed on as NumPy arrays
#: (:func:`plain_cpu_tensor`). The benchmarks turn it off to make the CPU take an
#: accelerator's path (torch throughout) and count what that path transfers.
CPU_TENSORS_AS_NUMPY = True


def plain_cpu_tensor(x: Any) -> bool:
    """Whether ``x`` is a CPU tensor that needs no gradient, of a dtype NumPy has: one that
    infoflow computes on as a NumPy array sharing its memory (:func:`numpy_view`)."""
    return numpy_view(x) is not None


def numpy_view(x: Any) -> Any:
    """The NumPy array on the memory of ``x`` (``x.numpy()``, no copy) where ``x`` is a CPU
    tensor that needs no gradient, of a dtype NumPy has; else None (arrays, device tensors,
    tensors that need a gradient, ``bfloat16`` and the float8 kinds take torch's path).

    infoflow computes on such tensors as NumPy arrays, since NumPy's BLAS and SciPy's solvers
    are faster on the CPU than torch's for this work (``benchmarks/bench_peers.py``).
    ``x.numpy()`` itself refuses a tensor with a conjugate or negative bit, or of a dtype NumPy
    lacks.
    """
    if not (CPU_TENSORS_AS_NUMPY and is_torch(x) and x.is_cpu and not x.requires_grad):
        return None
    try:
        return x.numpy()
    except (TypeError, RuntimeError):
        return None


def host_arrays(grams: Any) -> Any:
    """The NumPy arrays on the memory of a plain CPU tensor (:func:`numpy_view`), or of a
    non-empty list or tuple of them; None for anything else (arrays included)."""
    view = numpy_view(grams)
    if view is not None or not isinstance(grams, (list, tuple)) or not grams:
        return view
    views = [numpy_view(k) for k in grams]
    return None if any(v is None for v in views) else views


def host_to_device(values: Any, device: Any, dtype: Any = None) -> Any:
    """A NumPy array (or what ``np.asarray`` takes) as a torch tensor on ``device``, of the torch
    ``dtype`` (default: the array's own), without making the host wait.

    A plain ``torch.as_tensor(array, device="cuda")`` copies from pageable memory, which
    synchronises the stream: the host waits for every queued kernel first. Here the values are
    put in page-locked memory and copied asynchronously (torch keeps that memory until the copy
    is done), so the queued work goes on. On the CPU: the array's memory, no copy.
    """
    import torch

    host = torch.from_numpy(np.ascontiguousarray(values))
    if dtype is not None:
        host = host.to(dtype)
    device = torch.device(device)
    if device.type == "cpu":
        return host
    if device.type != "cuda":  # page-locked memory is CUDA's
        return host.to(device)
    return host.pin_memory().to(device, non_blocking=True)


def flatten_samples(x: Any) -> Any:
    """``x`` of shape (n, ...) as (n, d), each sample flattened."""
    return x.reshape(x.shape[0], -1)


#: The sizes, per precision, where SciPy's LAPACK ``?syevd`` beats ``torch.linalg.eigvalsh`` on
#: the CPU: from the first number up to (not including) the second. Below, SciPy's per-call
#: overhead (argument checks, workspace query) dominates; above, torch's LAPACK build is faster.
#: Measured with one thread on the idle 2-core machine with ``python
#: benchmarks/bench_solvers.py --sizes 100 200 300 400 700 1000 1250 1500 1750 2000 2500``, best
#: of 3, SciPy/torch: float64 0.7/0.5 ms at n = 100, 6.4/6.9 ms at 300, 0.13/0.19 s at 1000,
#: 0.486/0.489 s at 1500, 0.83/0.75 s at 1750; float32 0.6/0.4 ms at 100, 4.4/4.9 ms at 300,
#: 0.41/0.43 s at 1750, 0.66/0.60 s at 2000, 1.3/1.0 s at 2500. From 2000 samples the work
#: runs on two threads (``infoflow._threads.PARALLEL_FROM``), where SciPy's would be a second
#: BLAS thread pool beside NumPy's (its idle threads spin and slow NumPy's work after it): torch
#: is the solver there in both precisions.
SCIPY_SOLVER_SIZES = {"float64": (300, 1500), "float32": (300, 2000)}

#: On CUDA, float32 matrices (and stacks of them) of fewer rows than this are solved in float64
#: and their eigenvalues cast back: cuSOLVER's float32 solvers were *slower* than its float64
#: ones there. ``python benchmarks/bench_solvers.py --device cuda`` on one H200 (torch
#: 2.11, CUDA 13), best of 3, float32/float64 time: one matrix 1.08 at n = 1000, 1.17 at 2000,
#: 1.05 at 4000, 0.98 at 6000, 0.95 at 8000, 0.83 at 10,000, 0.63 at 16,000; ten blocks
#: (the class blocks of S(T, Y)) 2.58 at 10 × 100², 3.07 at 10 × 400², 1.01 at 10 × 600², 1.14
#: at 10 × 1600². On one H100, whole float32 checkpoints of ``bench_scale.py --device cuda``
#: took 1.3x the float64 time at n = 1000 and 4000 before this rule.
CUDA_FLOAT32_SOLVER_FROM = 6000

def eigvalsh(a: Any) -> Any:
    """Eigenvalues of a symmetric matrix (or a (b, m, m) stack), ascending; never eigenvectors.

    The solver is chosen by the measured speed (:data:`SCIPY_SOLVER_SIZES`), not by the kind of
    the input: on the CPU, LAPACK's ``?syevd`` through SciPy in the measured middle range and
    ``torch.linalg.eigvalsh`` elsewhere, for NumPy arrays and torch tensors alike (both share
    memory with the input: no copy). Stacks go to torch's batched solver. CUDA tensors and
    tensors that need a gradient always use torch; on CUDA, float32 matrices and stacks below
    :data:`CUDA_FLOAT32_SOLVER_FROM` rows are solved in float64 (faster there, and never less
    accurate). Both solvers read the lower triangle.
    """
    n = a.shape[-1]
    low, high = SCIPY_SOLVER_SIZES["float32" if a.dtype.itemsize == 4 else "float64"]
    use_scipy = a.ndim == 2 and low <= n < high
    if is_torch(a):
        import torch

        if use_scipy and a.device.type == "cpu" and not a.requires_grad:
            return torch.from_numpy(_scipy_eigvalsh(a.numpy()))
        if a.device.type == "cuda" and a.dtype == torch.float32 and n < CUDA_FLOAT32_SOLVER_FROM:
            return torch.linalg.eigvalsh(a.double()).to(a.dtype)
        return torch.linalg.eigvalsh(a)
    if use_scipy:
        return _scipy_eigvalsh(a)
    import torch

    return torch.linalg.eigvalsh(torch.from_numpy(np.ascontiguousarray(a))).numpy()


def _scipy_eigvalsh(a: np.ndarray) -> np.ndarray:
    from scipy.linalg import eigh

    return eigh(a, eigvals_only=True, driver="evd", check_finite=False)


def logsumexp(v: Any) -> Any:
    """``log(sum(exp(v)))`` for a 1-D array, stable for large or tiny entries."""
    xp = namespace(v)
    m = v.max()
    if is_torch(v):
        m = m.detach()
    return m + xp.log(xp.exp(v - m).sum())
