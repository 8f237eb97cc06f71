"""The torch path: NumPy agreement, devices, differentiability (gradcheck), repeated eigenvalues."""

from __future__ import annotations

import math

import pytest
import torch

from infoflow import (
    EntropyCache,
    conditional_entropy,
    conditional_mutual_information,
    dual_total_correlation,
    gaussian_gram,
    joint_entropy,
    label_gram,
    mutual_information,
    renyi_entropy,
    total_correlation,
)
from tests.conftest import ALPHAS

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("alpha", [*ALPHAS, math.inf])
def test_numpy_and_torch_agree_in_float64(rng, alpha):
    x = rng.normal(size=(40, 5))
    y = rng.integers(0, 4, size=40)
    z = rng.integers(0, 2, size=40)
    np_grams = [gaussian_gram(x, 2.0), gaussian_gram(x[:, :2], 1.0), label_gram(y), label_gram(z)]
    t_grams = [torch.from_numpy(k) for k in np_grams]
    calls = [
        lambda g: renyi_entropy(g[0], alpha=alpha),
        lambda g: joint_entropy(g[:3], alpha=alpha),
        lambda g: mutual_information(g[:2], g[2], alpha=alpha),
        lambda g: conditional_entropy(g[0], g[2], alpha=alpha),
        lambda g: conditional_mutual_information(g[0], g[2], g[3], alpha=alpha),
        lambda g: total_correlation(g, alpha=alpha),
        lambda g: dual_total_correlation(g, alpha=alpha),
    ]
    for call in calls:
        a, b = call(np_grams), call(t_grams)
        assert isinstance(a, float)
        assert isinstance(b, torch.Tensor) and b.ndim == 0 and b.dtype == torch.float64
        assert abs(a - b.item()) < 1e-10


@pytest.mark.parametrize("device", DEVICES)
def test_result_is_on_the_inputs_device(device, rng):
    x = torch.tensor(rng.normal(size=(10, 3)), device=device)
    y = torch.tensor(rng.integers(0, 2, size=10), device=device)
    value = mutual_information(gaussian_gram(x, 1.0), label_gram(y))
    assert value.device.type == device


def test_float32_tensors_are_computed_in_float64_by_default_and_float32_by_option(rng):
    k = gaussian_gram(torch.tensor(rng.normal(size=(30, 3)), dtype=torch.float32), 1.0)
    assert renyi_entropy(k).dtype == torch.float64
    assert renyi_entropy(k, dtype="float32").dtype == torch.float32


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.01, 2.0, 3.0])
def test_gradcheck_entropy_of_data(rng, alpha):
    x = torch.tensor(rng.normal(size=(6, 2)), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x: renyi_entropy(gaussian_gram(x, 1.0), alpha=alpha), (x,)
    )


@pytest.mark.parametrize("alpha", [1.0, 1.01, 2.0])
def test_gradcheck_mutual_information_with_labels(rng, alpha):
    x = torch.tensor(rng.normal(size=(8, 2)), requires_grad=True)
    ky = label_gram(torch.tensor([0, 0, 1, 1, 2, 2, 0, 1]))
    assert torch.autograd.gradcheck(
        lambda x: mutual_information(gaussian_gram(x, 1.0), ky, alpha=alpha), (x,)
    )


def _symmetric_points() -> torch.Tensor:
    """Two classes, each three points at the vertices of an equilateral triangle.

    Every eigenvalue of the Gaussian Gram is repeated: the two class blocks are
    identical and each 3×3 circulant block has a double eigenvalue.
    """
    angles = torch.arange(3, dtype=torch.float64) * 2 * math.pi / 3
    triangle = torch.stack([angles.cos(), angles.sin()], 1)
    return torch.cat([triangle, triangle + torch.tensor([5.0, 0.0], dtype=torch.float64)])


@pytest.mark.parametrize("alpha", [1.0, 1.01, 2.0, 3.0])
def test_gradients_are_finite_and_correct_when_eigenvalues_repeat(alpha):
    x = _symmetric_points().requires_grad_(True)
    ky = label_gram(torch.tensor([0, 0, 0, 1, 1, 1]))
    lam = torch.linalg.eigvalsh(gaussian_gram(x, 1.0) * ky).detach()
    assert (lam[1:] - lam[:-1]).abs().min() < 1e-12  # the case is degenerate
    joint = lambda x: joint_entropy([gaussian_gram(x, 1.0), ky], alpha=alpha)  # noqa: E731
    assert torch.autograd.gradcheck(joint, (x,))
    value = mutual_information(gaussian_gram(x, 1.0), ky, alpha=alpha)
    (grad,) = torch.autograd.grad(value, x)
    assert torch.isfinite(grad).all()


def test_gradient_of_a_label_gram_entropy_is_finite():
    t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    ky = label_gram(torch.tensor([0, 0, 1, 1, 1, 2]))
    x = torch.linspace(0, 1, 6, dtype=torch.float64)[:, None]
    value = joint_entropy([ky, gaussian_gram(x * (1 + t), 0.5)], alpha=1.01)
    (grad,) = torch.autograd.grad(value, t)
    assert torch.isfinite(grad)


def test_cache_keeps_gradients(rng):
    x = torch.tensor(rng.normal(size=(8, 2)), requires_grad=True)
    cache = EntropyCache({"x": gaussian_gram(x, 1.0), "y": label_gram(torch.arange(8) % 2)})
    cache.mutual_information("x", "y").backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
