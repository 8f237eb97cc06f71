"""Coverage of infoflow's confidence intervals where the population value is known.

For each case below, ``--replicates`` independent samples of size ``--n`` are drawn; each gets
the jackknife interval of :mod:`infoflow.measures.resampling` (nominal level 90 %, 10 groups),
and the script counts how often the interval covers the population value. A
calibrated interval covers 90 %; with 200 replicates the binomial standard error is 2.1 points,
so 85-95 % is the acceptance band (docs/method.md §8, 'How sure is each number').

Population values, all in closed form:

* discrete (delta kernel): the matrix-based entropy of a delta Gram is the plug-in Rényi
  entropy of the sample, so its population value is the Rényi entropy of the distribution;
  the mutual information and the MMI decomposition follow from the Rényi entropies of the
  marginal and joint distributions.
* continuous (Gaussian kernel with a fixed width σ on Gaussian data): the Gram matrix divided by
  n converges to the kernel's integral operator, whose eigenvalues for a 1-D Gaussian kernel
  under a normal law are geometric (Rasmussen & Williams 2006, §4.3.1): λ_k = sqrt(2a/A)·B^k,
  a = 1/(4s²), b = 1/(2σ²), A = a + b + sqrt(a² + 2ab), B = b/A. A product kernel on a
  correlated normal vector is, after whitening and a rotation, a product of such 1-D operators,
  so its Rényi entropy is a sum of 1-D ones.

Two limits are reported as well, outside the acceptance band: a uniform distribution (the
entropy at its maximum, where the estimator's spread is of order 1/n and its distribution is
not normal) and independent variables (mutual information 0, at the boundary).

Run: ``python benchmarks/bench_coverage.py [--replicates 200] [--n 200]`` (about two minutes
on 2 cores with the defaults; one thread).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from infoflow import EntropyCache, gaussian_gram, label_gram
from infoflow.measures.resampling import GroupJackknife, with_intervals
from infoflow.pid import mmi_from_cache

ALPHA = 1.01


def renyi(p: np.ndarray, alpha: float = ALPHA) -> float:
    """Rényi entropy in bits of a probability vector (any shape)."""
    p = p[p > 0]
    if alpha == 1:
        return float(-(p * np.log2(p)).sum())
    return float(np.log2((p**alpha).sum()) / (1 - alpha))


def gaussian_operator_entropy(length: float, spread: float = 1.0, alpha: float = ALPHA) -> float:
    """Rényi entropy in bits of the operator of exp(-(x-x')²/(2 length²)) under N(0, spread²)."""
    a, b = 1 / (4 * spread**2), 1 / (2 * length**2)
    big_a = a + b + math.sqrt(a * a + 2 * a * b)
    first, ratio = math.sqrt(2 * a / big_a), b / big_a
    if alpha == 1:
        return (-math.log(first) - math.log(ratio) * ratio / (1 - ratio)) / math.log(2)
    return math.log2(first**alpha / (1 - ratio**alpha)) / (1 - alpha)


def product_kernel_entropy(covariance: np.ndarray, sigmas: np.ndarray,
                           alpha: float = ALPHA) -> float:
    """Rényi entropy of the product Gaussian kernel with widths ``sigmas`` under N(0, covariance)."""
    root = np.linalg.cholesky(covariance)
    metric = root.T @ np.diag(1 / np.asarray(sigmas) ** 2) @ root
    return sum(gaussian_operator_entropy(1 / math.sqrt(mu), 1.0, alpha)
               for mu in np.linalg.eigvalsh(metric))


@dataclass(frozen=True)
class Case:
    name: str
    draw: Callable[[np.random.Generator, int], dict[str, np.ndarray]]  # variables' Grams
    statistic: Callable[[EntropyCache], dict[str, float]]
    truth: dict[str, float]
    calibrated: bool = True


def discrete_entropy_case(p: np.ndarray, name: str, calibrated: bool = True) -> Case:
    return Case(
        name,
        lambda rng, n: {"y": label_gram(rng.choice(len(p), size=n, p=p))},
        lambda c: {"H(Y)": c.entropy("y")},
        {"H(Y)": renyi(p)},
        calibrated,
    )


def discrete_pair_case(joint: np.ndarray, name: str, calibrated: bool = True) -> Case:
    """X, Y with a known joint distribution (rows: X, columns: Y)."""

    def draw(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        cells = rng.choice(joint.size, size=n, p=joint.ravel())
        x, y = np.unravel_index(cells, joint.shape)
        return {"x": label_gram(x), "y": label_gram(y)}

    truth = renyi(joint.sum(1)) + renyi(joint.sum(0)) - renyi(joint)
    return Case(name, draw, lambda c: {"I(X;Y)": c.mutual_information("x", "y")},
                {"I(X;Y)": truth}, calibrated)


def discrete_pid_case() -> Case:
    """Two independent bits A (p = 1/2), B (p = 0.3); Y = A and B, flipped with probability 0.1."""
    pa, pb, flip = 0.5, 0.3, 0.1
    joint = np.zeros((2, 2, 2))
    for a in (0, 1):
        for b in (0, 1):
            weight = (pa if a else 1 - pa) * (pb if b else 1 - pb)
            joint[a, b, a & b] += weight * (1 - flip)
            joint[a, b, 1 - (a & b)] += weight * flip

    def mi(axes_source: tuple[int, ...]) -> float:
        marginal_source = joint.sum(axis=tuple(i for i in (0, 1) if i not in axes_source) + (2,))
        keep = tuple(i for i in (0, 1) if i not in axes_source)
        marginal_joint = joint.sum(axis=keep) if keep else joint
        return renyi(marginal_source) + renyi(joint.sum((0, 1))) - renyi(marginal_joint)

    i_a, i_b, i_ab = mi((0,)), mi((1,)), mi((0, 1))

    def draw(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        cells = rng.choice(joint.size, size=n, p=joint.ravel())
        a, b, y = np.unravel_index(cells, joint.shape)
        return {"a": label_gram(a), "b": label_gram(b), "y": label_gram(y)}

    def statistic(c: EntropyCache) -> dict[str, float]:
        parts = mmi_from_cache(c, ["a", "b"], "y")
        return {"MMI synergy": parts.synergy,
                "RST": parts.mutual_information - c.mutual_information("a", "y")
                - c.mutual_information("b", "y")}

    return Case("discrete PID: Y = A and B, 10 % flipped", draw, statistic,
                {"MMI synergy": i_ab - max(i_a, i_b), "RST": i_ab - i_a - i_b})


def gaussian_entropy_case(d: int, sigma: float) -> Case:
    return Case(
        f"continuous entropy: N(0, I_{d}), Gaussian kernel sigma = {sigma}",
        lambda rng, n: {"x": gaussian_gram(rng.normal(size=(n, d)), sigma)},
        lambda c: {"H(X)": c.entropy("x")},
        {"H(X)": product_kernel_entropy(np.eye(d), np.full(d, sigma))},
    )


def gaussian_mi_case(rho: float, sigma: float) -> Case:
    covariance = np.array([[1.0, rho], [rho, 1.0]])

    def draw(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        z = rng.multivariate_normal(np.zeros(2), covariance, size=n)
        return {"x": gaussian_gram(z[:, :1], sigma), "y": gaussian_gram(z[:, 1:], sigma)}

    truth = (2 * gaussian_operator_entropy(sigma)
             - product_kernel_entropy(covariance, np.array([sigma, sigma])))
    return Case(f"continuous MI: correlation {rho}, Gaussian kernels sigma = {sigma}", draw,
                lambda c: {"I(X;Y)": c.mutual_information("x", "y")}, {"I(X;Y)": truth})


CASES = (
    discrete_entropy_case(np.array([0.5, 0.25, 0.15, 0.1]), "discrete entropy: p = (.5, .25, .15, .1)"),
    discrete_pair_case(np.array([[0.3, 0.05, 0.05], [0.05, 0.2, 0.05], [0.05, 0.05, 0.2]]),
                       "discrete MI: 3 x 3 joint"),
    discrete_pid_case(),
    gaussian_entropy_case(2, 1.0),
    gaussian_mi_case(0.8, 0.5),
    discrete_entropy_case(np.full(4, 0.25), "limit: uniform over 4 (entropy at its maximum)",
                          calibrated=False),
    discrete_pair_case(np.full((3, 3), 1 / 9), "limit: independent X, Y (MI = 0)",
                       calibrated=False),
)


def coverage(case: Case, n: int, replicates: int, scheme: GroupJackknife) -> dict[str, dict]:
    """Per quantity: share covered, mean bias of the plain and of the corrected estimate, width."""
    hits: dict[str, list] = {key: [] for key in case.truth}
    for seed in range(replicates):
        rng = np.random.default_rng([seed, n])
        cache = EntropyCache(case.draw(rng, n), alpha=ALPHA)
        for key, (value, interval) in with_intervals(case.statistic, cache, scheme).items():
            hits[key].append((interval.low <= case.truth[key] <= interval.high, value,
                              interval.center, interval.high - interval.low))
    result = {}
    for key, rows in hits.items():
        covered, value, center, width = (np.array(column) for column in zip(*rows))
        result[key] = {"coverage": covered.mean(), "bias": value.mean() - case.truth[key],
                       "corrected_bias": center.mean() - case.truth[key],
                       "width": width.mean(), "truth": case.truth[key]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="samples per replicate (200)")
    parser.add_argument("--replicates", type=int, default=200, help="replicates per case (200)")
    parser.add_argument("--groups", type=int, default=10, help="jackknife groups (10)")
    args = parser.parse_args()
    scheme = GroupJackknife(groups=args.groups, level=0.9)
    print(f"nominal 90 % intervals, {args.groups} jackknife groups, n = {args.n}, "
          f"{args.replicates} replicates, alpha = {ALPHA}")
    print(f"{'case':62} {'quantity':12} {'truth':>7} {'bias':>8} {'corr.':>8} {'width':>6} "
          f"{'cover':>6}")
    failures = 0
    with threadpool_limits(1):
        for case in CASES:
            start = time.perf_counter()
            for key, r in coverage(case, args.n, args.replicates, scheme).items():
                ok = 0.85 <= r["coverage"] <= 0.95
                failures += case.calibrated and not ok
                mark = ("ok" if ok else "OUT") if case.calibrated else "(limit)"
                print(f"{case.name:62} {key:12} {r['truth']:7.4f} {r['bias']:+8.4f} "
                      f"{r['corrected_bias']:+8.4f} {r['width']:6.3f} {100 * r['coverage']:5.1f}% "
                      f"{mark}  [{time.perf_counter() - start:.0f} s]")
    print("all calibrated cases within 85-95 %" if not failures
          else f"{failures} calibrated quantities outside 85-95 %")


if __name__ == "__main__":
    main()
