"""Every bad input of issue point 5 gets a clear error naming the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infoflow import (
    joint_entropy,
    mutual_information,
    renyi_entropy,
    total_correlation,
)


@pytest.mark.parametrize(
    ("k", "error", "match"),
    [
        (np.ones((3, 4)), ValueError, r"K must be a square \(n, n\) Gram matrix, got shape \(3, 4\)"),
        (np.ones(3), ValueError, "square"),
        (np.array([[1.0, 0.2], [0.5, 1.0]]), ValueError, "K must be symmetric"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), ValueError, "K must hold only finite values"),
        (np.array([[np.inf, 0.0], [0.0, 1.0]]), ValueError, "finite"),
        (np.ones((1, 1)), ValueError, "at least 2 samples"),
        (np.array([[0.0, 0.0], [0.0, 1.0]]), ValueError, "positive diagonal"),
        (np.array([["a", "b"], ["b", "a"]]), TypeError, "real-valued"),
        ({"K": 1}, TypeError, "NumPy array or a torch tensor"),
        ([], ValueError, "at least one Gram matrix"),
    ],
)
def test_bad_gram(k, error, match):
    with pytest.raises(error, match=match):
        renyi_entropy(k)


@pytest.mark.parametrize("alpha", [0, -1.0, math.nan])
def test_alpha_must_be_positive(alpha):
    with pytest.raises(ValueError, match="alpha must be > 0"):
        renyi_entropy(np.eye(3), alpha=alpha)


@pytest.mark.parametrize("alpha", ["2", None, True])
def test_alpha_must_be_a_number(alpha):
    with pytest.raises(TypeError, match="alpha must be a real number"):
        renyi_entropy(np.eye(3), alpha=alpha)


def test_dtype_must_be_a_known_precision():
    with pytest.raises(ValueError, match="dtype must be one of"):
        renyi_entropy(np.eye(3), dtype="float16")


def test_grams_of_different_sizes_in_one_call():
    with pytest.raises(ValueError, match=r"Ks must hold Gram matrices of the same size n, got sizes \[3, 4\]"):
        joint_entropy([np.eye(3), np.eye(4)])
    with pytest.raises(ValueError, match="same n samples, got A: n=3, B: n=4"):
        mutual_information(np.eye(3), np.eye(4))
    with pytest.raises(ValueError, match="same size"):
        mutual_information([np.eye(3), np.eye(4)], np.eye(3))


def test_mixed_kinds_are_refused():
    with pytest.raises(TypeError, match="mix"):
        mutual_information(np.eye(3), torch.eye(3))


def test_total_correlation_needs_two_variables():
    with pytest.raises(ValueError, match="at least 2 variables"):
        total_correlation([np.eye(3)])


@pytest.mark.parametrize("kind", [np.asarray, torch.tensor])
def test_float32_spectra_of_grams_beyond_float32s_range(kind):
    """A Gram of any scale is scaled to a unit diagonal before the cast to float32, so 1e300·K
    gives K's entropy; an entry that still overflows exceeds its diagonal's geometric mean (not
    PSD) and is refused, not turned into infinities or a warning."""
    import warnings

    from infoflow import NotPositiveSemidefiniteError, gaussian_gram, renyi_entropy

    k = gaussian_gram(np.random.default_rng(0).normal(size=(30, 2)), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(renyi_entropy(kind(1e300 * k), dtype="float32")) == pytest.approx(
            float(renyi_entropy(k, dtype="float32")), abs=1e-5)
        with pytest.raises(NotPositiveSemidefiniteError, match="geometric mean"):
            renyi_entropy(kind(np.array([[1.0, 1e300], [1e300, 1.0]])), dtype="float32",
                          alpha=1e-300)


@pytest.mark.parametrize("where", [(0, 1099), (1099, 0), (600, 100), (511, 512), (512, 511)])
def test_exact_symmetry_and_finiteness_are_checked_across_tile_boundaries(where):
    from infoflow._validation import _finite_and_exactly_symmetric as checked

    a = np.random.default_rng(1).normal(size=(1100, 1100))
    a = a + a.T
    assert checked(a)
    changed = a.copy()
    changed[where] += 1.0
    assert not checked(changed)
    for value in (np.inf, np.nan):  # in both mirrored entries: symmetric, not finite
        changed = a.copy()
        changed[where] = changed[where[::-1]] = value
        assert not checked(changed)


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_a_non_finite_gram_is_named_as_such_not_as_asymmetric(value):
    a = np.eye(600)
    a[3, 550] = a[550, 3] = value
    with pytest.raises(ValueError, match="K must hold only finite values"):
        renyi_entropy(a)
