"""infoflow against its peers' formulations, at n = 100 … 4000, one thread, exact float64.

The workload of ``bench_estimators.py``: I(X;T) and I(T;Y) for the four layers of LeNet-5-shaped
activations (X 784-d, conv1 6x28x28, conv2 16x10x10, fc1 120, fc2 84; 10 classes), conv layers
as their C feature maps (a width each), alpha = 1.01, widths fixed in advance.

The peers are written here from their papers' formulas, not from their code. Each computes a
mutual information as the papers define it, a function of two samples:
I(A;B) = S(A) + S(B) - S(A,B), with S(A) = log2(sum lambda^alpha) / (1 - alpha) of the
eigenvalues of A = K / tr K, the joint as the Hadamard product renormalised to trace 1, and the
labels as one-hot vectors under a Gaussian kernel of tiny width (the delta kernel). So every
quantity builds its Gram matrices and recomputes its marginals. Each peer uses an
eigenvalues-only solver (faster than the eigenvector-returning ``eigh`` papers' listings use):

* ``paper, SciPy``   — Yu et al. 2021 (TNNLS) and Sanchez Giraldo et al. 2015: a Gram per
  feature map, the layer as their Hadamard product; NumPy, SciPy's ``?syevd``;
* ``paper, torch``   — the same formulas on torch tensors, ``torch.linalg.eigvalsh``;
* ``tensor kernel``  — Wickstrøm et al. 2023 (Entropy): the layer's Gram as one kernel of the
  scaled, flattened maps (one matrix product); torch.

The fastest of the three at each n is the reference. infoflow runs with NumPy and with torch
input (float64, ``method="exact"``); "largest |diff|" is against the ``paper, SciPy`` values.
Each contender is given the inputs in its own kind (NumPy arrays, or CPU tensors on the same
memory), made before the timing: what is timed is the estimator, not the making of its input.

Run: ``python benchmarks/bench_peers.py [--sizes 100 1000 2000 4000] [--repeats 3]`` (n = 4000
takes several minutes on one thread). The contenders take turns, the order reversed every
round, and each one's best time counts.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.linalg import eigh
from threadpoolctl import threadpool_limits

from infoflow import EntropyCache, gaussian_gram, joint_gaussian_gram, kernel_width, label_gram

sys.path.insert(0, str(Path(__file__).parent))
import bench_estimators as ip  # noqa: E402

ALPHA = ip.ALPHA
LABEL_WIDTH = 0.1  # one-hot labels: distances are 0 or sqrt(2), so this is the delta kernel


def _gram(flat, sigma):
    sq = (flat * flat).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * flat @ flat.T
    d2 = d2.clamp(min=0) if isinstance(d2, torch.Tensor) else np.maximum(d2, 0)
    return (-d2 / (2 * sigma**2)).exp() if isinstance(d2, torch.Tensor) else np.exp(
        -d2 / (2 * sigma**2))


def _entropy(k, solver):
    a = k / k.trace()
    lam = solver(a)
    lam = lam.clamp(min=0) if isinstance(lam, torch.Tensor) else np.clip(lam, 0, None)
    return float(np.log2(float((lam**ALPHA).sum())) / (1 - ALPHA))


def _scipy_eigvalsh(a):
    return eigh(a, eigvals_only=True, driver="evd", check_finite=False)


def _per_map_gram(maps, sigmas):
    k = None
    for m, s in zip(maps, sigmas):
        g = _gram(m.reshape(len(m), -1), s)
        k = g if k is None else k * g
    return k


def _tensor_gram(maps, sigmas):
    if isinstance(maps[0], torch.Tensor):
        z = torch.cat([m.reshape(len(m), -1) / s for m, s in zip(maps, sigmas)], 1)
    else:
        z = np.concatenate([m.reshape(len(m), -1) / s for m, s in zip(maps, sigmas)], 1)
    return _gram(z, 1.0)


def peer(gram, solver):
    """A peer's workload: every I(A;B) from the two samples, as the papers define it."""

    def mi(a_maps, a_sigmas, b_maps, b_sigmas):
        ka, kb = gram(a_maps, a_sigmas), gram(b_maps, b_sigmas)
        return _entropy(ka, solver) + _entropy(kb, solver) - _entropy(ka * kb, solver)

    def run(data, sigmas):
        xs, one_hot = [data["x"]], [data["one_hot"]]
        out = {}
        for name, t in data["layers"].items():
            maps = ip.split_maps(t)
            out[(name, "I(X;T)")] = mi(xs, [sigmas["x"]], maps, sigmas[name])
            out[(name, "I(T;Y)")] = mi(maps, sigmas[name], one_hot, [LABEL_WIDTH])
        return out

    return run


#: Each contender's input kind and workload.
PEERS = {
    "paper, SciPy": ("numpy", peer(_per_map_gram, _scipy_eigvalsh)),
    "paper, torch": ("torch", peer(_per_map_gram, torch.linalg.eigvalsh)),
    "tensor kernel": ("torch", peer(_tensor_gram, torch.linalg.eigvalsh)),
}


def inputs(kind, x, layers, y):
    """The workload's inputs as NumPy arrays, or as CPU tensors on the same memory."""
    convert = torch.from_numpy if kind == "torch" else (lambda v: v)
    return {"x": convert(x), "layers": {name: convert(t) for name, t in layers.items()},
            "y": convert(y), "one_hot": convert(np.eye(10)[y])}


def infoflow_workload(data, sigmas):
    """infoflow: Grams once (a conv layer's maps as one ``joint_gaussian_gram`` of the whole
    layer, its maps along axis 1), one EntropyCache sharing every marginal, the label
    entropies in closed form."""
    grams = {"x": gaussian_gram(data["x"], sigmas["x"]), "y": label_gram(data["y"])}
    for name, t in data["layers"].items():
        grams[name] = joint_gaussian_gram(ip.layer_variables(t), sigmas[name])
    cache = EntropyCache(grams, alpha=ALPHA, method="exact")  # "auto" is Lanczos above 2000
    out = {}
    for name in data["layers"]:
        out[(name, "I(X;T)")] = cache.mutual_information("x", name)
        out[(name, "I(T;Y)")] = cache.mutual_information(name, "y")
    return out  # as the library returns them: floats, or 0-dim tensors for tensor input


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 2000, 4000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            for n in args.sizes:
                compare(n, args.repeats if n <= 2000 else 1)
    finally:
        torch.set_num_threads(threads)


def compare(n: int, repeats: int) -> None:
    x, layers, y = ip.lenet_activations(n)
    sigmas = {"x": kernel_width(x)}
    for name, t in layers.items():
        sigmas[name] = [kernel_width(m) for m in ip.split_maps(t)]
    contenders = {**PEERS, "infoflow, NumPy": ("numpy", infoflow_workload),
                  "infoflow, torch": ("torch", infoflow_workload)}
    data = {kind: inputs(kind, x, layers, y) for kind in ("numpy", "torch")}  # before timing
    times = dict.fromkeys(contenders, math.inf)
    values = {}
    # round robin, the order reversed every round: a burst of load on the shared machine
    # falls on every contender's repeats alike, not on one contender's
    order = list(contenders)
    for round_ in range(repeats):
        for label in order if round_ % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            kind, run = contenders[label]
            result = run(data[kind], sigmas)
            times[label] = min(times[label], time.perf_counter() - start)
            values[label] = {key: float(value) for key, value in result.items()}
    fastest = min(PEERS, key=times.get)
    reference = values["paper, SciPy"]
    print(f"\nn = {n}, alpha = {ALPHA}, float64, one thread, best of {repeats}")
    print(f"  {'':<17}{'time s':>9}{'vs fastest peer':>17}{'largest |diff| bits':>21}")
    for label in contenders:
        diff = max(abs(values[label][key] - reference[key]) for key in reference)
        print(f"  {label:<17}{times[label]:>9.4f}{times[fastest] / times[label]:>16.2f}x"
              f"{diff:>21.1e}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
