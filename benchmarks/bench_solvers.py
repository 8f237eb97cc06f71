"""Which eigenvalue solver is faster at which size: SciPy's ?syevd against torch's LAPACK.

For each n and precision, times ``scipy.linalg.eigh(eigvals_only=True, driver="evd")`` and
``torch.linalg.eigvalsh`` on the same normalised Gaussian Gram matrix (10-dimensional normal
data), one thread, alternating the two solvers so that load on the machine hits both alike,
best of ``--repeats``. ``infoflow._array.SCIPY_SOLVER_SIZES`` records the crossovers this prints.

Run: ``python benchmarks/bench_solvers.py [--sizes 500 1000 1500 2000 3000 4000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.linalg import eigh
from threadpoolctl import threadpool_limits


def gram(n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.normal(size=(n, 10))
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)
    k = np.exp(-d2 / 8.0)
    return (k + k.T) / (2 * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 1500, 2000, 3000, 4000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            print(f"{'n':>6} {'dtype':<8}{'scipy evd s':>12}{'torch s':>10}{'faster':>8}")
            for n in args.sizes:
                for dtype in ("float64", "float32"):
                    a = gram(n, rng).astype(dtype)
                    t = torch.from_numpy(a)
                    best = {"scipy": np.inf, "torch": np.inf}
                    for _ in range(args.repeats):
                        start = time.perf_counter()
                        eigh(a, eigvals_only=True, driver="evd", check_finite=False)
                        best["scipy"] = min(best["scipy"], time.perf_counter() - start)
                        start = time.perf_counter()
                        torch.linalg.eigvalsh(t)
                        best["torch"] = min(best["torch"], time.perf_counter() - start)
                    faster = min(best, key=best.get)
                    print(f"{n:>6} {dtype:<8}{best['scipy']:>12.4f}{best['torch']:>10.4f}"
                          f"{faster:>8}", flush=True)
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
