"""The GPU path: Gram matrices, spectra and approximations on CUDA tensors (skipped without one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import gaussian_gram, label_gram, mutual_information, renyi_entropy

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("method", ["exact", "lanczos", "nystrom"])
def test_cuda_agrees_with_cpu(method):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 8)), rng.integers(0, 4, size=300)
    cpu = mutual_information(gaussian_gram(x, 2.0), label_gram(y), method=method)
    xc, yc = torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda")
    gpu = mutual_information(gaussian_gram(xc, 2.0), label_gram(yc), method=method)
    assert gpu.device.type == "cuda"
    assert gpu.item() == pytest.approx(cpu, abs=1e-8 if method == "exact" else 1e-6)


def test_cuda_gradients():
    x = torch.randn(50, 3, device="cuda", dtype=torch.float64, requires_grad=True)
    renyi_entropy(gaussian_gram(x, 1.0)).backward()
    assert torch.isfinite(x.grad).all()


def test_monitor_on_a_cuda_model_agrees_with_cpu():
    import warnings

    from infoflow.data import load_digits
    from infoflow.models import LeNet5
    from infoflow.monitor import InformationMonitor

    images, labels = load_digits()
    torch.manual_seed(0)
    model = LeNet5(1, 8, filters=(3, 4)).double()
    x = torch.tensor(images[:120], dtype=torch.float64)
    options = dict(conv_mode="feature_maps", pid_layers=["conv2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu = InformationMonitor(model, x, labels[:120], **options).measure(0).values
        gpu_monitor = InformationMonitor(model.cuda(), x, labels[:120], **options)
        gpu = gpu_monitor.measure(0).values
    assert gpu_monitor._y_gram.device.type == "cuda"
    for key, value in cpu.items():
        assert gpu[key] == pytest.approx(value, abs=1e-7, nan_ok=True), key
