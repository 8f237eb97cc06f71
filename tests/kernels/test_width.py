"""Kernel width rules: formulas, scale behaviour, constant data, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from infoflow import kernel_width, label_gram
from infoflow.kernels.width import RULES, alignment
from tests.host_reads import count_host_reads


def test_scott_is_the_papers_formula(rng):
    x = rng.uniform(size=(100, 8))
    assert kernel_width(x, "scott") == pytest.approx(5.0 * 100 ** (-1 / 12))
    assert kernel_width(x, "scott", gamma=2.0) == pytest.approx(2.0 * 100 ** (-1 / 12))


def test_silverman_is_scale_aware_and_follows_the_formula(rng):
    x = rng.normal(size=(200, 4)) * 3.0
    s = math.sqrt(x.var(axis=0).mean())
    assert kernel_width(x) == pytest.approx(s * 2.0 * 200 ** (-1 / 8))
    assert kernel_width(10 * x) == pytest.approx(10 * kernel_width(x))


def test_median_and_knn_against_brute_force(rng):
    x = rng.normal(size=(15, 3))
    d = np.linalg.norm(x[:, None] - x[None, :], axis=-1)
    assert kernel_width(x, "median") == pytest.approx(np.median(d[np.triu_indices(15, 1)]))
    assert kernel_width(x, "knn", k=3) == pytest.approx(np.sort(d, 1)[:, 1:4].mean())
    assert kernel_width(x, "knn", k=100) == pytest.approx(np.sort(d, 1)[:, 1:].mean())


def test_alignment_finds_the_maximum_of_a_grid(rng):
    y = rng.integers(0, 3, size=60)
    x = rng.normal(size=(60, 2)) + 3 * y[:, None]
    ky = label_gram(y)
    sigma = kernel_width(x, "alignment", target=ky)
    d2 = ((x[:, None] - x[None, :]) ** 2).sum(-1)
    grid = np.geomspace(sigma / 3, sigma * 3, 41)
    assert alignment(d2, ky, sigma) >= max(alignment(d2, ky, s) for s in grid) - 1e-6


@pytest.mark.parametrize("rule", RULES)
def test_constant_data_never_divides_by_zero(rule):
    x = np.ones((10, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sigma = kernel_width(x, rule, target=label_gram(np.arange(10) % 2))
    assert math.isfinite(sigma) and sigma > 0


def test_mostly_duplicated_data_uses_positive_distances():
    x = np.zeros((10, 1))
    x[0] = 1.0
    assert kernel_width(x, "median") == pytest.approx(1.0)
    assert kernel_width(x, "knn", k=2) == pytest.approx(0.1)
    pairs = np.repeat([[0.0], [2.0]], 5, axis=0)  # every point has 4 duplicates
    assert kernel_width(pairs, "knn", k=2) == pytest.approx(2.0)


def test_torch_input_gives_the_same_width(rng):
    x = rng.normal(size=(20, 3))
    for rule in ("silverman", "median", "knn"):
        assert kernel_width(torch.tensor(x), rule) == pytest.approx(kernel_width(x, rule))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rule": "nope"}, ValueError, "rule must be one of"),
        ({"rule": "alignment"}, ValueError, "needs target="),
        ({"rule": "alignment", "target": np.eye(3)}, ValueError, "target must be"),
        ({"rule": "knn", "k": 0}, ValueError, "k must be >= 1, got 0"),
        ({"rule": "scott", "gamma": -1.0}, ValueError, "gamma must be > 0, got -1.0"),
    ],
)
def test_bad_options(rng, kwargs, error, match):
    with pytest.raises(error, match=match):
        kernel_width(rng.normal(size=(5, 2)), **kwargs)


@pytest.mark.parametrize("rule", ["silverman", "scott", "median"])
def test_kernel_widths_is_kernel_width_of_each_with_one_host_read_for_tensors(
        rng, monkeypatch, rule):
    from infoflow import _array
    from infoflow.kernels import kernel_widths

    maps = [rng.normal(size=(40, 3, 3)) * scale for scale in (1e-3, 1.0, 1e3, 1e200)]
    maps.append(np.zeros((40, 3, 3)))  # a dead map: the constant fallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the dead map's warning (not under scott)
        expected = [kernel_width(m, rule) for m in maps]
        assert kernel_widths(maps, rule) == pytest.approx(expected, rel=1e-12)
    monkeypatch.setattr(_array, "CPU_TENSORS_AS_NUMPY", False)  # as on a device
    tensors = [torch.tensor(m, requires_grad=True) for m in maps[:3]]
    reads = count_host_reads(monkeypatch, ("tolist",))
    got = kernel_widths(tensors, rule)
    assert got == pytest.approx(expected[:3], rel=1e-12)
    if rule == "silverman":
        assert len(reads) == 1  # every map's scalars in one read


def test_kernel_widths_names_the_faulty_variable():
    from infoflow.kernels import kernel_widths

    with pytest.raises(ValueError, match=r"xs\[1\] must hold only finite"):
        kernel_widths([np.ones((4, 2)), np.array([[0.0], [np.nan], [1.0], [2.0]])])
