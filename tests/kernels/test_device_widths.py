"""Widths that stay on the device: the "silverman" σ as a 0-dim tensor, and Gram matrices built
from it, equal to the host's results and with nothing read on the host."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import gaussian_gram, joint_gaussian_gram, kernel_width
from infoflow._deferred import deferred_checks
from infoflow.kernels.gram import (
    gaussian_gram_of_device_width,
    joint_gaussian_gram_of_device_widths,
)
from infoflow.kernels.width import silverman_widths_on_device
from tests.host_reads import count_host_reads


# ordinary data, and data near the ends of the float range
@pytest.mark.parametrize("factor", [1.0, 1e-170, 1e170])
def test_silverman_on_the_device_is_the_hosts_width(rng, factor, monkeypatch):
    xs = [rng.normal(size=(50, 3)) * factor, rng.normal(size=(50, 2, 4)) * factor,
          np.full((50, 2), 3.0)]  # a constant variable: sigma = 1, as on the host
    tensors = [torch.tensor(x, requires_grad=True) for x in xs]  # the device's path
    reads = count_host_reads(monkeypatch)
    widths = silverman_widths_on_device(tensors)
    assert reads == []
    monkeypatch.undo()
    with pytest.warns(RuntimeWarning, match="x is constant"):
        expected = [kernel_width(t) for t in tensors]  # the host reads the device's scalars
    assert all(w.dtype == torch.float64 and w.shape == () for w in widths)
    assert [w.item() for w in widths] == expected  # the same float64 operations: bit for bit
    np.testing.assert_allclose(expected, [kernel_width(x) for x in xs[:2]] + [1.0], rtol=1e-14)


def test_grams_of_device_widths_equal_the_hosts(rng, monkeypatch):
    maps = [rng.normal(size=(40, 5, 5)) for _ in range(3)]
    tensors = [torch.tensor(m, requires_grad=True) for m in maps]
    reads = count_host_reads(monkeypatch)
    with deferred_checks():  # as in the monitor: the checks are queued
        widths = silverman_widths_on_device(tensors)
        single = gaussian_gram_of_device_width(tensors[0], widths[0])
        joint = joint_gaussian_gram_of_device_widths(tensors, widths)
        assert reads == []
    monkeypatch.undo()
    sigmas = [kernel_width(m) for m in maps]
    np.testing.assert_allclose(single.detach().numpy(), gaussian_gram(maps[0], sigmas[0]),
                               rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(joint.detach().numpy(), joint_gaussian_gram(maps, sigmas),
                               rtol=1e-13, atol=1e-300)
    joint.sum().backward()  # differentiable, as the host's tensors are
    assert all(torch.isfinite(t.grad).all() for t in tensors)


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), float("inf")])
def test_a_bad_device_width_is_refused_by_its_check(sigma):
    x = torch.tensor(np.random.default_rng(0).normal(size=(10, 2)), requires_grad=True)
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"), deferred_checks():
        gaussian_gram_of_device_width(x, torch.tensor(sigma, dtype=torch.float64))
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        gaussian_gram_of_device_width(x, torch.tensor(sigma, dtype=torch.float64))
