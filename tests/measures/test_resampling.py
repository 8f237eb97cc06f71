"""Jackknife intervals: the groups, the formula, exact invariants, and coverage at fixed seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import t as student_t

from infoflow import EntropyCache, gaussian_gram, label_gram
from infoflow.measures.resampling import (
    GroupJackknife,
    Interval,
    jackknife_interval,
    sub_gram,
    with_intervals,
)


class MeanOf:
    """A stand-in for an entropy cache whose statistic is linear: the mean of numbers."""

    def __init__(self, x: np.ndarray) -> None:
        self.x, self.n = x, len(x)

    def subset(self, indices: np.ndarray) -> MeanOf:
        return MeanOf(self.x[indices])


def test_subsets_leave_out_each_group_once_and_are_reproducible():
    scheme = GroupJackknife(groups=4, seed=3)
    subsets = scheme.subsets(11)
    assert len(subsets) == 4
    left_out = [np.setdiff1d(np.arange(11), s) for s in subsets]
    assert sorted(np.concatenate(left_out).tolist()) == list(range(11))  # a partition
    assert [len(s) for s in subsets] == [8, 8, 8, 9]
    assert all((np.diff(s) > 0).all() for s in subsets)
    assert all((a == b).all() for a, b in zip(subsets, GroupJackknife(groups=4, seed=3).subsets(11)))
    assert any((a != b).any() for a, b in zip(subsets, GroupJackknife(groups=4, seed=4).subsets(11)))


def test_interval_formula_by_hand():
    """Equal groups: Tukey's pseudo-values G*theta - (G-1)*theta_(g)."""
    replicates = np.array([1.2, 0.8, 1.1, 1.0])
    interval = jackknife_interval(1.0, replicates, 8, [6, 6, 6, 6], level=0.8)
    pseudo = 4 * 1.0 - 3 * replicates
    half = student_t.ppf(0.9, df=3) * math.sqrt(pseudo.var(ddof=1) / 4)
    assert interval.center == pytest.approx(pseudo.mean(), abs=1e-14)
    assert (interval.low, interval.high) == pytest.approx(
        (pseudo.mean() - half, pseudo.mean() + half), abs=1e-14)
    assert interval.level == 0.8


def test_a_bias_of_b_over_m_is_removed_exactly():
    """theta_m = 2 + 3/m at every size (unequal groups): every pseudo-value is 2."""
    n, sizes = 23, [20, 20, 21]
    interval = jackknife_interval(2 + 3 / n, [2 + 3 / m for m in sizes], n, sizes)
    assert (interval.center, interval.low, interval.high) == pytest.approx((2, 2, 2), abs=1e-12)


def test_a_mean_gets_its_group_means_as_pseudo_values():
    """For a mean with equal groups each pseudo-value is its group's mean, so the estimate is
    unchanged and the spread is that of the group means."""
    x = np.random.default_rng(0).exponential(size=60)
    scheme = GroupJackknife(groups=6, level=0.9)
    value, interval = with_intervals(lambda c: {"mean": c.x.mean()}, MeanOf(x), scheme)["mean"]
    groups = [np.setdiff1d(np.arange(60), s) for s in scheme.subsets(60)]
    group_means = np.array([x[g].mean() for g in groups])
    assert interval.center == pytest.approx(value, abs=1e-12)
    half = student_t.ppf(0.95, df=5) * group_means.std(ddof=1) / math.sqrt(6)
    assert interval.high - interval.center == pytest.approx(half, rel=1e-10)


def test_nan_estimates_give_nan_intervals():
    interval = jackknife_interval(float("nan"), [1.0, 1.0], 8, [4, 4])
    assert math.isnan(interval.low) and math.isnan(interval.high)
    assert math.isnan(jackknife_interval(1.0, [1.0, np.nan], 8, [4, 4]).center)


@pytest.mark.parametrize("replicates, sizes", [([1.0], [4]), ([1.0, 1.0], [4]),
                                               ([[1.0, 1.0]] * 2, [4, 4])])
def test_bad_replicates_are_refused(replicates, sizes):
    with pytest.raises(ValueError, match="replicates must hold one estimate per group"):
        jackknife_interval(1.0, replicates, 8, sizes)


@pytest.mark.parametrize("options, message", [
    ({"groups": 1}, "groups must be an integer >= 2, got 1"),
    ({"groups": 2.5}, "groups must be an integer >= 2"),
    ({"level": 1.0}, r"level must be a number in \(0, 1\), got 1.0"),
    ({"level": float("nan")}, "level must be a number in"),
])
def test_bad_schemes_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        GroupJackknife(**options)


def test_too_few_samples_to_group():
    with pytest.raises(ValueError, match="10 groups needs at least 20 samples, got 19"):
        GroupJackknife().subsets(19)


def test_interval_excludes():
    interval = Interval(0.0, 1.0, 0.5, 0.9)
    assert interval.excludes(1.5) and interval.excludes(-0.1) and not interval.excludes(0.3)


def test_a_subset_cache_is_the_estimator_on_the_subsample():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 3, size=40)
    grams = {"x": gaussian_gram(x, 1.5), "y": label_gram(y)}
    idx = np.sort(rng.choice(40, size=17, replace=False))
    direct = EntropyCache({name: k[np.ix_(idx, idx)] for name, k in grams.items()}, alpha=1.01)
    subset = EntropyCache(grams, alpha=1.01).subset(idx)
    assert subset.n == 17
    for names in (["x"], ["y"], ["x", "y"]):
        assert subset.entropy(*names) == pytest.approx(direct.entropy(*names), abs=1e-12)
    # the delta kernel's classes restricted to the subsample: the plug-in entropy of its labels
    p = np.bincount(y[idx]) / 17
    p = p[p > 0]
    assert EntropyCache(grams, alpha=1).subset(idx).entropy("y") == pytest.approx(
        -(p * np.log2(p)).sum(), abs=1e-12)


def test_subset_of_torch_grams_stays_on_its_device():
    k = torch.as_tensor(gaussian_gram(np.random.default_rng(2).normal(size=(12, 2)), 1.0))
    sub = sub_gram(k, np.array([0, 3, 5]))
    assert isinstance(sub, torch.Tensor) and sub.shape == (3, 3)
    assert sub[1, 2] == k[3, 5]
    cache = EntropyCache({"k": k}).subset(np.array([0, 3, 5, 7]))
    assert isinstance(cache.entropy("k"), torch.Tensor)


@pytest.mark.parametrize("indices, message", [
    ([0, 0, 1], "distinct"), ([0], "at least 2"), ([0, 12], r"lie in \[0, 12\)"),
])
def test_bad_subsets_are_refused(indices, message):
    cache = EntropyCache({"y": label_gram(np.arange(12) % 3)})
    with pytest.raises(ValueError, match=message):
        cache.subset(np.array(indices))


def test_coverage_of_a_discrete_entropy_at_fixed_seeds():
    """The plug-in entropy of p = (.5, .3, .2) on n = 120: the population value 1.4855 bits
    lies in most 90 % intervals (bench_coverage.py measures the rate on 200 replicates)."""
    p = np.array([0.5, 0.3, 0.2])
    truth = float(-(p * np.log2(p)).sum())
    covered = 0
    for seed in range(30):
        y = np.random.default_rng(seed).choice(3, size=120, p=p)
        _, interval = with_intervals(lambda c: {"H": c.entropy("y")},
                                     EntropyCache({"y": label_gram(y)}, alpha=1))["H"]
        covered += interval.low <= truth <= interval.high
    assert 23 <= covered <= 30
