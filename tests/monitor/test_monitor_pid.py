"""The monitor's partial information decomposition of conv layers."""

from __future__ import annotations

import warnings

import pytest
import torch

from infoflow import label_gram
from infoflow.data import load_digits
from infoflow.models import LeNet5
from infoflow.monitor import InformationMonitor, SaturationWarning
from infoflow.monitor.layer_grams import feature_map_grams
from infoflow.pid import layer_pid


@pytest.fixture(scope="module")
def setup():
    images, labels = load_digits()
    torch.manual_seed(0)
    model = LeNet5(1, 8, filters=(3, 4)).double()
    return model, torch.tensor(images[:80], dtype=torch.float64), labels[:80]


@pytest.mark.parametrize("mode", ["feature_maps", "tensor"])
def test_recorded_decomposition_equals_a_direct_computation(setup, mode):
    model, x, y = setup
    monitor = InformationMonitor(model, x, y, conv_mode=mode, pid_layers=["conv2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        values = monitor.measure(0).values
    grams = feature_map_grams(monitor.activations()["conv2"], rule="silverman", conv_mode=mode)
    pid = layer_pid(grams, label_gram(y))
    assert values[("conv2", "I(T;Y)")] == pytest.approx(pid.mutual_information, abs=1e-10)
    for quantity, value in pid.as_dict().items():
        assert values[("conv2", quantity)] == pytest.approx(value, abs=1e-10, nan_ok=True)
    for c in range(4):
        assert values[("conv2", f"I(T{c};Y)")] == pytest.approx(pid.per_map[c], abs=1e-10)
        assert values[("conv2", f"I(T-{c};Y)")] == pytest.approx(pid.leave_one_out[c], abs=1e-10)


def test_tensor_mode_decomposition_keeps_the_layers_information(setup):
    """In tensor mode the maps share the layer's width: their product is the layer's Gram."""
    model, x, y = setup
    plain = InformationMonitor(model, x, y, conv_mode="tensor").measure(0).values
    with_pid = InformationMonitor(model, x, y, conv_mode="tensor", pid_layers=["conv1"]).measure(0)
    for quantity in ("I(X;T)", "I(T;Y)", "H(T)"):
        assert with_pid.values[("conv1", quantity)] == pytest.approx(
            plain[("conv1", quantity)], abs=1e-9)


def test_pid_layers_must_be_measured_conv_layers(setup):
    model, x, y = setup
    with pytest.raises(ValueError, match="pid_layers must be among the measured layers"):
        InformationMonitor(model, x, y, layers=["conv1"], pid_layers=["conv2"])
    monitor = InformationMonitor(model, x, y, pid_layers=["fc1"])
    with pytest.raises(ValueError, match=r"conv layer output \(n, C, H, W\)"):
        monitor.measure(0)



def test_feature_map_mode_layer_gram_is_the_product_of_the_map_grams(setup):
    """The information plane joins the maps in one Gram; the decomposition keeps them apart.
    Both must describe the same layer."""
    import numpy as np

    from infoflow.monitor.layer_grams import layer_grams

    model, x, y = setup
    t = InformationMonitor(model, x, y).activations()["conv2"]
    (joint,) = layer_grams(t, rule="silverman", conv_mode="feature_maps")
    maps = feature_map_grams(t, rule="silverman", conv_mode="feature_maps")
    np.testing.assert_allclose(joint, np.prod(maps, axis=0), rtol=1e-12, atol=1e-300)
    plain = InformationMonitor(model, x, y, conv_mode="feature_maps").measure(0).values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        with_pid = InformationMonitor(model, x, y, conv_mode="feature_maps",
                                      pid_layers=["conv2"]).measure(0).values
    for quantity in ("I(X;T)", "I(T;Y)", "H(T)"):
        assert with_pid[("conv2", quantity)] == pytest.approx(plain[("conv2", quantity)], abs=1e-9)


@pytest.mark.parametrize("mode", ["feature_maps", "tensor"])
def test_accelerator_path_keeps_every_gram_in_torch_and_agrees(setup, mode, monkeypatch):
    """On an accelerator the estimators run in torch on the model's device. Forcing that path on
    the CPU checks that the label, input and layer Grams are all of one kind (no NumPy/torch mix)
    and give the NumPy path's numbers; tests/test_gpu.py runs it on CUDA where one exists."""
    import importlib

    from infoflow.monitor import dpi_sensitivity

    lg = importlib.import_module("infoflow.monitor.layer_grams")  # the module, not the function

    model, x, y = setup
    options = dict(conv_mode=mode, rule="alignment", pid_layers=["conv2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        numpy_values = InformationMonitor(model, x, y, **options).measure(0).values
        numpy_rows = dpi_sensitivity(x, y, InformationMonitor(model, x, y).activations())
        monkeypatch.setattr(lg, "uses_numpy", lambda device: False)
        monitor = InformationMonitor(model, x, y, **options)
        torch_values = monitor.measure(0).values
        torch_rows = dpi_sensitivity(x, y, monitor.activations())
    assert isinstance(monitor._y_gram, torch.Tensor)
    assert torch_values.keys() == numpy_values.keys()
    for key, value in numpy_values.items():
        assert torch_values[key] == pytest.approx(value, abs=1e-8, nan_ok=True), key
    assert torch_rows == numpy_rows
