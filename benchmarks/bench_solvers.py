"""Which eigenvalue solver is faster at which size: SciPy's ?syevd against torch's LAPACK.

For each n and precision, times ``scipy.linalg.eigh(eigvals_only=True, driver="evd")`` and
``torch.linalg.eigvalsh`` on the same normalised Gaussian Gram matrix (10-dimensional normal
data), one thread, alternating the two solvers so that load on the machine hits both alike,
best of ``--repeats``. ``infoflow._array.SCIPY_SOLVER_SIZES`` records the crossovers this prints.

With ``--device cuda`` it times instead ``torch.linalg.eigvalsh`` on the GPU in float32 against
float64, for one n × n matrix and for a stack of ten (n/10) × (n/10) blocks (the class blocks of
S(T, Y)), with device synchronisation: ``infoflow._array.CUDA_FLOAT32_SOLVER_FROM`` records from
which n float32 is the faster.

Run: ``python benchmarks/bench_solvers.py [--sizes 500 1000 1500 2000 3000 4000] [--repeats 3]``;
``python benchmarks/bench_solvers.py --device cuda [--sizes 1000 2000 4000 6000 8000 10000 16000]``.
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


def cuda_table(sizes: list[int], repeats: int) -> None:
    """float32 against float64 for torch's CUDA solver, single matrices and stacks of 10 blocks."""
    device = torch.device("cuda")
    rng = np.random.default_rng(0)

    def timed(a: torch.Tensor) -> float:
        torch.linalg.eigvalsh(a)  # warm-up: workspaces, kernels
        best = np.inf
        for _ in range(repeats):
            torch.cuda.synchronize(device)
            start = time.perf_counter()
            torch.linalg.eigvalsh(a)
            torch.cuda.synchronize(device)
            best = min(best, time.perf_counter() - start)
        return best

    print(f"torch.linalg.eigvalsh on {torch.cuda.get_device_name(device)}, best of {repeats}")
    print(f"{'n':>6} {'shape':<16}{'float64 s':>11}{'float32 s':>11}{'f32/f64':>9}")
    for n in sizes:
        whole = torch.tensor(gram(n, rng), device=device)
        m = n // 10
        blocks = torch.stack([torch.tensor(gram(m, rng), device=device) for _ in range(10)])
        for label, a in ((f"{n}x{n}", whole), (f"10 x {m}x{m}", blocks)):
            t64, t32 = timed(a), timed(a.float())
            print(f"{n:>6} {label:<16}{t64:>11.4f}{t32:>11.4f}{t32 / t64:>9.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 1500, 2000, 3000, 4000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu (SciPy against torch) or cuda "
                        "(float32 against float64 on the GPU)")
    args = parser.parse_args()
    if args.device != "cpu":
        cuda_table(args.sizes, args.repeats)
        return
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
