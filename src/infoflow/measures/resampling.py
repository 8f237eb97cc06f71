r"""Confidence intervals by the delete-a-group jackknife, from sub-blocks of the Gram matrices.

The scheme, and why it fits this estimator, is set out in docs/method.md §8, 'How sure is each
number'. In short:

* The matrix-based entropy of n samples is a smooth function of the empirical kernel covariance
  operator (a mean of n independent terms) with a bias of order 1/n; it is at most
  :math:`\log_2 n`. Resampling *with* replacement duplicates samples, which a Gram matrix sees as
  identical points, and so changes the spectrum it measures. We resample *without* replacement:
  every replicate is the estimator itself on a subsample, computed from the principal
  submatrices of the Gram matrices already built (the kernel widths stay those of the full
  sample, so the interval is for the quantity at those widths).
* The samples are split at random into G groups; replicate g leaves group g out
  (:math:`m_g = n - n/G` samples). With :math:`\hat\theta` the full estimate and
  :math:`\hat\theta_{(g)}` the replicates, a bias :math:`b/m` at size m is estimated from each
  replicate as :math:`\hat b_g = (\hat\theta_{(g)} - \hat\theta)/(1/m_g - 1/n)`, and the
  pseudo-values :math:`p_g = \hat\theta - \hat b_g/n` (for equal groups, Tukey's
  :math:`G\hat\theta - (G-1)\hat\theta_{(g)}`) are bias-corrected estimates that behave like G
  independent ones (Quenouille 1956; Tukey 1958).
* The interval is :math:`\bar p \pm t_{G-1,(1+\text{level})/2}\,s_p/\sqrt G`, with
  :math:`s_p` the pseudo-values' standard deviation: the jackknife variance, consistent for smooth
  statistics (Shao & Wu 1989) and, by the Efron–Stein inequality, biased upward rather than down.

Leaving out a tenth of the samples keeps every replicate close to the full size, so the spread
and the bias are extrapolated over a short distance; half-samples (a third of the cost) were
measured to under-cover on continuous data at n = 200 (84 %), because the estimator's variance
there shrinks more slowly than 1/n. It is calibrated in ``benchmarks/bench_coverage.py``
against population values known in closed form (docs/method.md §8, 'How sure is each number').

References
----------
M. H. Quenouille, "Notes on bias in estimation", Biometrika 43, 1956.
J. W. Tukey, "Bias and confidence in not-quite large samples", Ann. Math. Statist. 29, 1958.
B. Efron, C. Stein, "The jackknife estimate of variance", Ann. Statist. 9(3), 1981.
J. Shao, C. F. J. Wu, "A general theory for jackknife variance estimation", Ann. Statist. 17(3), 1989.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from infoflow._array import host_to_device, is_torch

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Interval:
    """A confidence interval in the quantity's units; ``center`` is the bias-corrected estimate.

    The interval is for the estimator's large-sample value, so it need not contain the plain
    estimate when the bias is large against the spread (an entropy near its maximum, say).
    """

    low: float
    high: float
    center: float
    level: float

    def excludes(self, value: float) -> bool:
        """Whether ``value`` lies outside the interval."""
        return not self.low <= value <= self.high


@dataclass(frozen=True)
class GroupJackknife:
    """The resampling scheme: ``groups`` random groups of samples, each left out once.

    Parameters
    ----------
    groups : int, default 10
        Number of groups G (G replicates of n - n/G samples); the interval has G - 1 degrees of
        freedom. Costs G estimates on 0.9 n samples: about 7 times the full estimate's
        eigendecompositions for G = 10.
    level : float, default 0.9
        Two-sided confidence level, in (0, 1).
    seed : int, default 0
        Seed of the grouping; the same seed gives the same groups of the same n.
    """

    groups: int = 10
    level: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.groups, bool) or not isinstance(self.groups, (int, np.integer)) \
                or self.groups < 2:
            raise ValueError(f"groups must be an integer >= 2, got {self.groups!r}")
        if isinstance(self.level, bool) or not isinstance(self.level, (int, float)) \
                or not 0 < self.level < 1:
            raise ValueError(f"level must be a number in (0, 1), got {self.level!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer, got {type(self.seed).__name__}")

    def subsets(self, n: int) -> list[np.ndarray]:
        """The G sorted index arrays: replicate g holds every sample outside group g."""
        if n < 2 * self.groups:
            raise ValueError(
                f"a jackknife of {self.groups} groups needs at least {2 * self.groups} samples, "
                f"got {n}"
            )
        order = np.random.default_rng([self.seed, n]).permutation(n)
        everything = np.arange(n)
        return [np.setdiff1d(everything, group) for group in np.array_split(order, self.groups)]

    def interval(self, estimate: float, replicates: Sequence[float], n: int) -> Interval:
        """The interval from the full-sample ``estimate`` and the replicates (in the order of
        :meth:`subsets`) of ``n`` samples."""
        # np.array_split: the first n % G groups hold one sample more
        group = [n // self.groups + (g < n % self.groups) for g in range(self.groups)]
        return jackknife_interval(estimate, replicates, n, [n - size for size in group],
                                  level=self.level)


def jackknife_interval(
    estimate: float, replicates: Sequence[float], n: int, sizes: Sequence[int], *,
    level: float = 0.9,
) -> Interval:
    r"""Bias-corrected delete-a-group jackknife interval (the scheme of this module's docstring).

    Parameters
    ----------
    estimate : float
        The estimate on all n samples.
    replicates : sequence of G floats
        The estimates with each group left out.
    n : int
        The full sample size.
    sizes : sequence of G ints
        The replicates' sample sizes, each < n.
    level : float
        Two-sided confidence level.

    Returns
    -------
    Interval
        NaN bounds where the estimate or a replicate is NaN.
    """
    from scipy.stats import t as student_t

    values = np.asarray(replicates, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    if values.ndim != 1 or len(values) < 2 or values.shape != sizes.shape:
        raise ValueError(
            f"replicates must hold one estimate per group (>= 2), got {values.shape} for "
            f"{sizes.shape} groups"
        )
    if not np.isfinite(estimate) or not np.isfinite(values).all():
        nan = float("nan")
        return Interval(nan, nan, nan, level)
    bias_per_sample = (values - estimate) / (1 / sizes - 1 / n)  # b in a bias of b/m at size m
    pseudo = estimate - bias_per_sample / n
    groups = len(pseudo)
    center = float(pseudo.mean())
    half_width = float(student_t.ppf((1 + level) / 2, df=groups - 1)) * math.sqrt(
        pseudo.var(ddof=1) / groups)
    return Interval(center - half_width, center + half_width, center, level)


def sub_gram(k: Any, indices: np.ndarray) -> Any:
    """The principal submatrix ``k[indices][:, indices]`` of a Gram matrix (NumPy or torch)."""
    if is_torch(k):
        index = host_to_device(np.asarray(indices, dtype=np.int64), k.device)
        return k.index_select(0, index).index_select(1, index)
    return k[np.ix_(indices, indices)]


def sub_grams(grams: Mapping[str, Any], indices: np.ndarray) -> dict[str, Any]:
    """Every variable's Gram matrix (or list of them) restricted to the samples ``indices``."""
    return {
        name: [sub_gram(k, indices) for k in g] if isinstance(g, (list, tuple)) else sub_gram(g, indices)
        for name, g in grams.items()
    }


def with_intervals(
    statistic: Callable[[Any], Mapping[Key, float]], cache: Any,
    scheme: GroupJackknife | None = None,
) -> dict[Key, tuple[float, Interval]]:
    """Quantities of an :class:`~infoflow.EntropyCache` with their confidence intervals.

    ``statistic`` maps a cache to named values (bits); it is applied to ``cache`` and to the
    cache restricted to each replicate's samples (:meth:`EntropyCache.subset`). Returns each
    name's full-sample value and interval.

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import EntropyCache, label_gram
    >>> y = np.random.default_rng(0).choice(3, size=400, p=[0.6, 0.3, 0.1])
    >>> cache = EntropyCache({"y": label_gram(y)}, alpha=1)
    >>> value, interval = with_intervals(lambda c: {"H": c.entropy("y")}, cache)["H"]
    >>> bool(interval.low < 1.2955 < interval.high)   # the population entropy, in bits
    True
    """
    scheme = GroupJackknife() if scheme is None else scheme
    full = {key: float(v) for key, v in statistic(cache).items()}
    replicates = [statistic(cache.subset(subset)) for subset in scheme.subsets(cache.n)]
    return {
        key: (value, scheme.interval(value, [float(r[key]) for r in replicates], cache.n))
        for key, value in full.items()
    }
