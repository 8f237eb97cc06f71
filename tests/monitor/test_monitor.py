"""InformationMonitor on tiny hand-weighted models with known activations; hooks; DPI."""

from __future__ import annotations

import math
import warnings
from contextlib import nullcontext

import numpy as np
import pytest
import torch
from torch import nn

from infoflow import EntropyCache, gaussian_gram, kernel_width, label_gram
from infoflow.monitor import (
    InformationMonitor,
    SaturationWarning,
    capture_activations,
    check_dpi,
    dpi_shares,
    resolve_layers,
)


class Tiny(nn.Module):
    """x -> copy (identity) -> scaled (x / 2, a rescaled copy) -> clip (ReLU of x[:, :1])."""

    layer_names = ("copy", "scaled", "clip")

    def __init__(self) -> None:
        super().__init__()
        self.copy = nn.Linear(2, 2, bias=False)
        self.scaled = nn.Linear(2, 2, bias=False)
        self.clip = nn.Sequential(nn.Linear(2, 1, bias=False), nn.ReLU())
        with torch.no_grad():
            self.copy.weight.copy_(torch.eye(2))
            self.scaled.weight.copy_(torch.eye(2) / 2)
            self.clip[0].weight.copy_(torch.tensor([[1.0, 0.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.clip(self.scaled(self.copy(x)))


@pytest.fixture
def probe():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=60)
    x = torch.tensor(rng.normal(size=(60, 2)) + y[:, None], dtype=torch.float64)
    return x, y


def test_known_activations_give_known_values(probe):
    x, y = probe
    model = Tiny().double()
    checkpoint = InformationMonitor(model, x, y, rule="silverman").measure(0)
    v = checkpoint.values
    # a copy of X (and a rescaled copy, with the scale-aware rule) has X's Gram matrix A, so
    # I(X;T) = 2 S(A) - S(A∘A) — below H(X): A∘A is the Gram of width sigma/sqrt(2)
    kx = gaussian_gram(x.numpy(), kernel_width(x.numpy()))
    copy_mi = EntropyCache({"a": kx, "b": kx.copy()}).mutual_information("a", "b")
    for layer in ("copy", "scaled"):
        assert v[(layer, "I(X;T)")] == pytest.approx(copy_mi, abs=1e-10)
        assert v[(layer, "H(T)")] == pytest.approx(v[("input", "H(X)")], abs=1e-10)
        assert v[(layer, "I(T;Y)")] == pytest.approx(v[("input", "I(X;Y)")], abs=1e-10)
    assert copy_mi < v[("input", "H(X)")]
    # the ReLU of the first coordinate, computed independently
    t = np.maximum(x.numpy()[:, :1] / 2, 0)
    cache = EntropyCache({"x": gaussian_gram(x.numpy(), kernel_width(x.numpy())),
                          "t": gaussian_gram(t, kernel_width(t)), "y": label_gram(y)})
    assert v[("clip", "I(X;T)")] == pytest.approx(cache.mutual_information("x", "t"), abs=1e-10)
    assert v[("clip", "I(T;Y)")] == pytest.approx(cache.mutual_information("t", "y"), abs=1e-10)
    assert checkpoint.verdict.dpi1 and checkpoint.verdict.dpi2


def test_feature_map_and_tensor_modes(probe):
    x, y = probe
    conv = nn.Sequential(nn.Unflatten(1, (1, 1, 2)), nn.Conv2d(1, 3, (1, 1)), nn.ReLU())
    images = x.float()
    act = conv(images).detach().double().numpy()
    maps = InformationMonitor(conv, images, y, layers=["2"], conv_mode="feature_maps").measure(0)
    tensor = InformationMonitor(conv, images, y, layers=["2"], conv_mode="tensor").measure(0)
    with pytest.warns(RuntimeWarning) if (act.std(axis=0) == 0).any() else nullcontext():
        per_map = [gaussian_gram(act[:, c], kernel_width(act[:, c])) for c in range(3)]
    ky = label_gram(y)
    expected = EntropyCache({"t": per_map, "y": ky}).mutual_information("t", "y")
    assert maps.values[("2", "I(T;Y)")] == pytest.approx(expected, abs=1e-10)
    whole = gaussian_gram(act, kernel_width(act))
    expected = EntropyCache({"t": whole, "y": ky}).mutual_information("t", "y")
    assert tensor.values[("2", "I(T;Y)")] == pytest.approx(expected, abs=1e-10)


def test_hooks_are_removed_and_mode_restored_when_the_forward_pass_raises(probe):
    x, y = probe

    class Boom(Tiny):
        boom = False

        def forward(self, x):
            if self.boom:
                self.copy(x)
                raise RuntimeError("boom")
            return super().forward(x)

    model = Boom().double().train()
    monitor = InformationMonitor(model, x, y)
    model.boom = True
    for attempt in (lambda: monitor.measure(0), lambda: InformationMonitor(model, x, y)):
        with pytest.raises(RuntimeError, match="boom"):
            attempt()
        assert model.training
        assert all(not m._forward_hooks for m in model.modules())


def test_hooks_only_while_measuring_and_eval_mode_inside(probe):
    x, y = probe
    model = Tiny().double().train()
    seen = []
    model.copy.register_forward_pre_hook(lambda m, a: seen.append(m.training))
    before = {id(m): len(m._forward_hooks) for m in model.modules()}
    monitor = InformationMonitor(model, x, y)  # one forward pass checks the chains
    assert seen == [False] and model.training
    monitor.measure(0)
    assert seen == [False, False] and model.training
    assert {id(m): len(m._forward_hooks) for m in model.modules()} == before


def test_layers_by_name_and_type(probe):
    model = Tiny()
    names = lambda layers: [layer.name for layer in resolve_layers(model, layers)]  # noqa: E731
    assert names(None) == ["copy", "scaled", "clip"]
    assert names([nn.Linear]) == ["copy", "scaled", "clip.0"]
    assert names(["scaled", nn.ReLU]) == ["scaled", "clip.1"]
    assert names([model.clip[1], ("clip", lambda out: out * 2)]) == ["clip.1", "clip:<lambda>"]
    with pytest.raises(ValueError, match="not a module"):
        resolve_layers(model, ["conv9"])
    with pytest.raises(ValueError, match="does not use"):
        resolve_layers(model, [nn.Conv2d])
    with pytest.raises(TypeError, match="module names, nn.Module types or modules"):
        resolve_layers(model, [3])


def test_capture_batches_equal_one_pass(probe):
    x, _ = probe
    model = Tiny().double()
    a = capture_activations(model, x, ["clip"], batch_size=7)["clip"]
    assert torch.equal(a, model(x).detach())


def test_saturation_warns_once_per_layer(probe):
    x, y = probe
    monitor = InformationMonitor(Tiny().double(), x * 1000, y, rule="scott")  # sigma << distances
    with pytest.warns(SaturationWarning, match="saturated"):
        checkpoint = monitor.measure(0)
    assert set(checkpoint.saturated) == {"copy", "scaled"}  # clip is half zeros: not saturated
    assert checkpoint.values[("copy", "H(T)")] == pytest.approx(math.log2(60), abs=1e-6)


def test_dpi_verdicts_and_tolerance():
    values = {("input", "I(X;Y)"): 2.0, ("a", "I(X;T)"): 5.0, ("b", "I(X;T)"): 5.0 + 1e-9,
              ("a", "I(T;Y)"): 1.5, ("b", "I(T;Y)"): 1.7}
    verdict = check_dpi(values, ["a", "b"])
    assert verdict.dpi1 and not verdict.dpi2
    (brk,) = verdict.breaks
    assert (brk.inequality, brk.earlier, brk.later) == ("DPI 2", "a", "b")
    assert brk.excess == pytest.approx(0.2)
    assert not check_dpi(values, ["a", "b"], tolerance=0).dpi1
    assert dpi_shares([verdict, check_dpi(values, ["a", "b"], tolerance=1)]) == {
        "DPI 1": 1.0, "DPI 2": 0.5}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"rule": "wide"}, "rule must be one of"), ({"conv_mode": "maps"}, "conv_mode must be"),
     ({"alpha": 0}, "alpha must be > 0"), ({"saturation": 0.7}, "saturation must be")],
)
def test_bad_options(probe, kwargs, match):
    x, y = probe
    with pytest.raises(ValueError, match=match):
        InformationMonitor(Tiny().double(), x, y, **kwargs)


def test_bad_probe(probe):
    x, y = probe
    with pytest.raises(ValueError, match="labels must have shape"):
        InformationMonitor(Tiny().double(), x, y[:10])
    with pytest.raises(TypeError, match="labels must hold integer class labels"):
        InformationMonitor(Tiny().double(), x, y.astype(float))
    with pytest.raises(TypeError, match="inputs must be a torch tensor or NumPy array"):
        InformationMonitor(Tiny().double(), "images", y)
    with pytest.raises(ValueError, match="n >= 2"):
        InformationMonitor(Tiny().double(), x[:1], y[:1])


def test_probe_entropies_are_computed_once_per_monitor(probe, monkeypatch):
    import infoflow.measures.entropy_cache as entropy_cache

    x, y = probe
    monitor = InformationMonitor(Tiny().double(), x, y, method="exact")
    solved: list[int] = []
    original = entropy_cache.entropy_of_normalized_steps
    monkeypatch.setattr(entropy_cache, "entropy_of_normalized_steps",
                        lambda a, *args: solved.append(1) or original(a, *args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        first = monitor.measure(0)
        per_checkpoint = len(solved)
        monitor.measure(1)
    # Per checkpoint: S(T), S(X, T) and S(T, Y) of each of the 3 layers — never S(X) or S(X, Y)
    # again (S(Y) is a delta kernel's closed form).
    assert per_checkpoint == len(solved) - per_checkpoint == 3 * 3
    assert first.values[("input", "I(X;Y)")] == pytest.approx(
        EntropyCache({"X": gaussian_gram(x.numpy(), kernel_width(x.numpy())),
                      "Y": label_gram(y)}, alpha=1.01).mutual_information("X", "Y"), abs=1e-9)
