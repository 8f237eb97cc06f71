"""gaussian_gram and label_gram: values, shapes, kinds, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infoflow import gaussian_gram, label_gram, renyi_entropy


def test_gaussian_gram_against_the_definition(rng):
    x = rng.normal(size=(7, 2, 3))
    sigma = 1.7
    k = gaussian_gram(x, sigma)
    flat = x.reshape(7, -1)
    expected = np.exp(
        -((flat[:, None, :] - flat[None, :, :]) ** 2).sum(-1) / (2 * sigma**2)
    )
    np.testing.assert_allclose(k, expected, rtol=0, atol=1e-14)
    assert (np.diag(k) == 1).all() and (k == k.T).all()


def test_gaussian_gram_keeps_kind_dtype_and_accepts_a_rule(rng):
    x = rng.normal(size=(6, 3))
    assert isinstance(gaussian_gram(x, 1.0), np.ndarray)
    t = gaussian_gram(torch.tensor(x, dtype=torch.float32), 1.0)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    assert gaussian_gram(np.arange(6).reshape(3, 2), 1.0).dtype == np.float64
    np.testing.assert_allclose(gaussian_gram(x, "median"), gaussian_gram(x, float(
        np.median([np.linalg.norm(a - b) for i, a in enumerate(x) for b in x[i + 1 :]])
    )))


def test_label_gram_integer_and_one_hot_agree():
    y = np.array([2, 0, 2, 1])
    k = label_gram(y)
    np.testing.assert_array_equal(k, (y[:, None] == y[None, :]).astype(float))
    np.testing.assert_array_equal(label_gram(np.eye(3, dtype=int)[y]), k)
    t = label_gram(torch.tensor(y))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_array_equal(t.numpy(), k)


def test_gaussian_on_one_hot_tends_to_the_delta_kernel():
    y = np.array([0, 1, 1, 2, 2, 2])
    one_hot = np.eye(3)[y]
    assert renyi_entropy(gaussian_gram(one_hot, 0.05), alpha=1) == pytest.approx(
        renyi_entropy(label_gram(y), alpha=1), abs=1e-12
    )


@pytest.mark.parametrize(
    ("y", "error", "match"),
    [
        (np.array([0.0, 1.0]), TypeError, "integer class labels"),
        (np.array([[0.5, 0.5], [1, 0]]), ValueError, "one-hot"),
        (np.array([[1, 1], [1, 0]]), ValueError, "one-hot"),
        (np.zeros((2, 2, 2), dtype=int), ValueError, "1-D integer labels"),
        (np.array([3]), ValueError, "at least 2 samples"),
        ("abc", TypeError, "NumPy array or a torch tensor"),
    ],
)
def test_label_gram_bad_input(y, error, match):
    with pytest.raises(error, match=match):
        label_gram(y)


@pytest.mark.parametrize(
    ("x", "sigma", "error", "match"),
    [
        (np.zeros((1, 3)), 1.0, ValueError, "at least 2 samples"),
        (np.array([[0.0], [np.nan]]), 1.0, ValueError, "finite"),
        (np.array([[0.0], [np.inf]]), 1.0, ValueError, "finite"),
        (np.zeros((3, 2)), 0.0, ValueError, "sigma must be finite and > 0, got 0.0"),
        (np.zeros((3, 2)), -1.0, ValueError, "sigma must be finite and > 0"),
        (np.zeros((3, 2)), math.inf, ValueError, "sigma must be finite"),
        (np.zeros((3, 2)), math.nan, ValueError, "sigma must be finite"),
        (np.zeros((3, 2)), "widest", ValueError, "rule must be one of"),
        (np.array(["a", "b"]), 1.0, TypeError, "real-valued"),
    ],
)
def test_gaussian_gram_bad_input(x, sigma, error, match):
    with pytest.raises(error, match=match):
        gaussian_gram(x, sigma)
