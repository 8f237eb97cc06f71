"""Information-plane workload of a LeNet-5: infoflow against a naive paper-style reference.

Prints, measured in one run, the time to compute I(X;T) and I(T;Y) for the four layers of a
LeNet-5-shaped set of activations (n = 1000; X 784-d, conv1 6x28x28, conv2 16x10x10, fc 120,
fc 84; 10 classes), conv layers as their C feature maps (one sigma per map):

* naive — written from the definitions the way paper code does it: every MI call rebuilds
  both Gram matrices and runs three full eigendecompositions with eigenvectors, computing
  log2(sum lambda^alpha) / (1 - alpha);
* infoflow — Gram matrices built once (a conv layer's C maps joined in one
  ``joint_gaussian_gram``: their Hadamard product as one Gram), EntropyCache shares S(X), S(Y)
  and each S(T), eigenvalues only, joints with the labels solved per class.

Run: ``make bench`` or ``python benchmarks/bench_estimators.py [--n 1000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from infoflow import EntropyCache, gaussian_gram, joint_gaussian_gram, kernel_width, label_gram

SHAPES = {"conv1": (6, 28, 28), "conv2": (16, 10, 10), "fc1": (120,), "fc2": (84,)}
ALPHA = 1.01


def lenet_activations(n: int, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Inputs, class labels and ReLU activations of the LeNet-5 shapes, from random weights."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n)
    prototypes = rng.uniform(size=(10, 784))
    x = np.clip(prototypes[y] + 0.3 * rng.normal(size=(n, 784)), 0, 1)
    layers, h = {}, x
    for name, shape in SHAPES.items():
        width = int(np.prod(shape))
        w = rng.normal(size=(h.shape[1], width)) / np.sqrt(h.shape[1])
        h = np.maximum(h @ w, 0)
        layers[name] = h.reshape(n, *shape)
    return x, layers, y


def split_maps(t: np.ndarray) -> list[np.ndarray]:
    """A layer as its variables: C feature maps for a conv layer, itself for a dense one."""
    return [t[:, c] for c in range(t.shape[1])] if t.ndim == 4 else [t]


def layer_variables(t):
    """A layer as ``joint_gaussian_gram`` takes its variables: a conv layer whole (its C maps
    along axis 1, not split), a dense layer as a one-item list."""
    return t if t.ndim == 4 else [t]


def naive_entropy(k: np.ndarray, alpha: float) -> float:
    a = k / np.trace(k)
    lam, _ = np.linalg.eigh(a)
    lam = np.clip(lam, 0, None)
    return float(np.log2((lam**alpha).sum()) / (1 - alpha))


def naive_gram(variables: list[np.ndarray], sigmas: list[float]) -> np.ndarray:
    k = np.ones((len(variables[0]),) * 2)
    for v, s in zip(variables, sigmas):
        flat = v.reshape(len(v), -1)
        d2 = ((flat[:, None, :] - flat[None, :, :]) ** 2).sum(-1) if flat.shape[1] < 8 else (
            (flat**2).sum(1)[:, None] + (flat**2).sum(1)[None, :] - 2 * flat @ flat.T
        )
        k = k * np.exp(-np.clip(d2, 0, None) / (2 * s**2))
    return k


def naive_mi(a_vars, a_sigmas, b_vars, b_sigmas, alpha: float) -> float:
    ka, kb = naive_gram(a_vars, a_sigmas), naive_gram(b_vars, b_sigmas)
    return naive_entropy(ka, alpha) + naive_entropy(kb, alpha) - naive_entropy(ka * kb, alpha)


def run_naive(x, layers, y, sigmas, alpha):
    one_hot = np.eye(10)[y]
    out = {}
    for name, t in layers.items():
        maps = split_maps(t)
        out[(name, "I(X;T)")] = naive_mi([x], [sigmas["x"]], maps, sigmas[name], alpha)
        # the paper codes labels as one-hot with a tiny width: the delta kernel
        out[(name, "I(T;Y)")] = naive_mi(maps, sigmas[name], [one_hot], [0.1], alpha)
    return out


def run_infoflow(x, layers, y, sigmas, alpha, **options):
    grams = {"x": gaussian_gram(x, sigmas["x"]), "y": label_gram(y)}
    for name, t in layers.items():
        grams[name] = joint_gaussian_gram(layer_variables(t), sigmas[name])
    cache = EntropyCache(grams, alpha=alpha, **options)
    out = {}
    for name in layers:
        out[(name, "I(X;T)")] = cache.mutual_information("x", name)
        out[(name, "I(T;Y)")] = cache.mutual_information(name, "y")
    return out


def timed(fn, repeats: int):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    x, layers, y = lenet_activations(args.n)
    sigmas = {"x": kernel_width(x)}
    for name, t in layers.items():
        sigmas[name] = [kernel_width(m) for m in split_maps(t)]

    t_naive, naive = timed(lambda: run_naive(x, layers, y, sigmas, ALPHA), args.repeats)
    t_fast, fast = timed(lambda: run_infoflow(x, layers, y, sigmas, ALPHA), args.repeats)

    print(f"LeNet-5 information plane, n = {args.n}, alpha = {ALPHA}, float64, "
          f"best of {args.repeats}")
    print(f"{'layer':<7}{'quantity':<9}{'naive':>14}{'infoflow':>14}{'|diff| bits':>14}")
    for key in naive:
        print(f"{key[0]:<7}{key[1]:<9}{naive[key]:>14.9f}{fast[key]:>14.9f}"
              f"{abs(naive[key] - fast[key]):>14.2e}")
    diff = max(abs(naive[k] - fast[k]) for k in naive)
    print(f"naive reference : {t_naive:8.3f} s")
    print(f"infoflow        : {t_fast:8.3f} s")
    print(f"speed-up        : {t_naive / t_fast:8.2f}x   (target >= 3.5x)")
    print(f"largest |diff|  : {diff:8.2e} bits (target < 1e-9)")


if __name__ == "__main__":
    main()
