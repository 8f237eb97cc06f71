"""A monitor checkpoint on the accelerator's path, checked on the CPU: few host reads, none per
layer or per value, and NumPy's numbers.

CPU tensors are made to take the device's path (torch throughout, as on CUDA); counting the
tensor methods that bring values to the host shows what a device would synchronise on.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from infoflow import _array
from infoflow._deferred import as_floats
from infoflow.data import load_digits
from infoflow.measures import eigenproblems
from infoflow.models.lenet import LeNet5
from infoflow.monitor import InformationMonitor
from tests.host_reads import count_data_sized_results, count_host_reads


def _take_the_device_path(patch):
    """CPU tensors take an accelerator's path: torch throughout, the spectra batched."""
    patch.setattr(_array, "CPU_TENSORS_AS_NUMPY", False)
    patch.setattr(eigenproblems, "BATCH_ON_CPU", True)
    patch.setattr(sys.modules["infoflow.monitor.layer_grams"], "uses_numpy",
                  lambda device: False)


def _count_blocking_copies(patch, copies):
    """Grow ``copies`` at every ``torch.as_tensor`` or ``torch.tensor`` given a device: on CUDA a
    copy from the host's pageable memory, which makes the host wait for the queued work."""
    for name in ("as_tensor", "tensor"):
        original = getattr(torch, name)

        def counting(*args, _original=original, _name=name, **kwargs):
            if kwargs.get("device") is not None:
                copies.append(_name)
            return _original(*args, **kwargs)

        patch.setattr(torch, name, counting)


def _measured(layers, conv_mode, device_path, monkeypatch, reads=None, solves=None,
              copies=None, pid_layers=()):
    images, labels = load_digits()
    torch.manual_seed(0)
    model = LeNet5(image_size=8)
    with monkeypatch.context() as patch:
        if device_path:
            _take_the_device_path(patch)
        monitor = InformationMonitor(model, torch.tensor(images[:120]),
                                     torch.tensor(labels[:120]), layers=layers,
                                     conv_mode=conv_mode, pid_layers=list(pid_layers))
        monitor.measure(0)  # the first checkpoint: counted from the second on
        if solves is not None:
            solve = eigenproblems.solve
            patch.setattr(eigenproblems, "solve",
                          lambda problem: solves.append(problem.matrix.shape) or solve(problem))
        if copies is not None:
            _count_blocking_copies(patch, copies)
            sized = count_data_sized_results(patch)
        if reads is not None:
            counted = count_host_reads(patch)
        values = monitor.measure(1).values
        if reads is not None:
            reads.extend(counted)
        if copies is not None:
            copies.extend(sized)
        return values


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("conv_mode", ["tensor", "feature_maps"])
def test_a_checkpoint_reads_the_same_few_times_whatever_the_layers(monkeypatch, conv_mode):
    counts, solver_calls = {}, {}
    for layers in (["conv1", "fc2"], ["conv1", "conv2", "fc1", "fc2"]):
        reads: list[str] = []
        solves: list[tuple[int, ...]] = []
        copies: list[str] = []
        device = _measured(layers, conv_mode, True, monkeypatch, reads, solves, copies)
        # what goes to the device goes without making the host wait, and no result's size
        # depends on the data (a boolean index would have the host wait to learn it)
        assert copies == []
        counts[len(layers)], solver_calls[len(layers)] = reads, solves
        host = _measured(layers, conv_mode, False, monkeypatch)
        assert device.keys() == host.keys()
        for key in host:  # the device's path gives NumPy's numbers
            assert device[key] == pytest.approx(host[key], abs=1e-9), key
    # the values with every queued check (the activations' finiteness among them, and that
    # the layers' Grams have no block structure); widths and structures stay on the device
    assert counts[2] == counts[4], counts
    assert len(counts[4]) <= 1, counts[4]
    # every solver call reads its error flag on a device: one batched call per size, S(T) and
    # S(X, T) of every layer in one, the class blocks of every S(T, Y) in another
    assert len(solver_calls[2]) == len(solver_calls[4]) <= 2, solver_calls


def test_values_of_one_device_are_read_together(monkeypatch):
    reads = count_host_reads(monkeypatch, ("tolist",))
    values = [torch.tensor(1.5), 2, np.float32(0.25), torch.tensor(-3.0, dtype=torch.float32)]
    assert as_floats(values) == [1.5, 2.0, 0.25, -3.0]
    assert len(reads) == 1
    assert all(type(v) is float for v in as_floats(values))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_non_finite_activations_on_the_device_path_name_their_layer(monkeypatch):
    """The activations' finiteness is queued with the checkpoint's other checks: the error that
    the work after it would raise on NaN data is replaced by the one that names the layer."""
    images, labels = load_digits()
    torch.manual_seed(0)
    model = LeNet5(image_size=8)
    _take_the_device_path(monkeypatch)
    monitor = InformationMonitor(model, torch.tensor(images[:60]), torch.tensor(labels[:60]),
                                 layers=["conv1", "fc2"])
    with torch.no_grad():
        model.fc2[0].bias[0] = float("nan")
    with pytest.raises(ValueError, match="layer 'fc2' gave NaN or infinite values for 60 of"):
        monitor.measure(0)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("conv_mode", ["tensor", "feature_maps"])
def test_a_decomposed_layer_reads_a_few_times_whatever_its_maps(monkeypatch, conv_mode):
    """A layer's partial information decomposition on the device's path: its maps' widths stay
    on the device and its values are read together (3 reads: the quantities, the redundancy,
    the union), not one per map; NumPy's numbers."""
    reads: list[str] = []
    device = _measured(["conv1", "conv2"], conv_mode, True, monkeypatch, reads,
                       pid_layers=["conv2"])
    host = _measured(["conv1", "conv2"], conv_mode, False, monkeypatch, pid_layers=["conv2"])
    assert device.keys() == host.keys()
    for key in host:
        assert device[key] == pytest.approx(host[key], abs=1e-9, nan_ok=True), key
    assert len(reads) <= 5, reads  # 16 maps: 83 reads in feature-map mode before
    # (the maps' structures, looked at: single maps are often dead; the decomposition's values,
    # redundancy and union; the checkpoint's values)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_dead_layer_on_the_device_path_is_computed_again_with_its_structure(monkeypatch):
    """A layer taken as unstructured whose Gram is all ones (a dead layer) fails the queued
    check: the checkpoint is computed again with that layer's structure looked at (and looked at
    from then on), and its values are NumPy's, the dead layer's entropy the closed form's
    exact 0."""
    def dead(model):
        with torch.no_grad():
            model.fc2[0].weight.zero_()
            model.fc2[0].bias.fill_(-1.0)  # ReLU(-1) = 0 for every sample

    values, reads = {}, []
    for device_path in (True, False):
        images, labels = load_digits()
        torch.manual_seed(0)
        model = LeNet5(image_size=8)
        dead(model)
        with monkeypatch.context() as patch:
            if device_path:
                _take_the_device_path(patch)
            monitor = InformationMonitor(model, torch.tensor(images[:80]),
                                         torch.tensor(labels[:80]), layers=["conv1", "fc2"])
            values[device_path] = monitor.measure(0).values
            if device_path:  # found dead once: looked at from then on, no second computation
                counted = count_host_reads(patch)
                monitor.measure(1)
                reads.extend(counted)
    assert values[True][("fc2", "H(T)")] == 0.0 == values[False][("fc2", "H(T)")]
    assert len(reads) == 2, reads  # fc2's structure, then the values
    for key, value in values[False].items():
        assert values[True][key] == pytest.approx(value, abs=1e-9), key
