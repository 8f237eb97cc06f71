"""The monitor on the architectures people train: residual blocks, branches merged by
concatenation, tuple outputs, dict inputs, BatchNorm and dropout; chains checked on the graph."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from infoflow.models import ResNet
from infoflow.monitor import (
    ChainWarning,
    InformationMonitor,
    capture_activations,
    find_chains,
    format_layers,
    list_layers,
    resolve_layers,
)
from infoflow.monitor.dpi import NO_DPI


class Residual(nn.Module):
    """stem → block(conv1 → conv2 ∥ shortcut, summed) → head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.conv1 = nn.Linear(4, 4)
        self.conv2 = nn.Linear(4, 4)
        self.shortcut = nn.Linear(4, 4)
        self.block = nn.ReLU()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        s = self.stem(x)
        return self.head(self.block(self.conv2(torch.relu(self.conv1(s))) + self.shortcut(s)))


class Branches(nn.Module):
    """Two branches of x merged by concatenation."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
        self.right = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
        self.merged = nn.Linear(4, 2)

    def forward(self, x):
        return self.merged(torch.cat([self.left(x), self.right(x)], dim=1))


class Pair(nn.Module):
    def forward(self, x):
        return x.chunk(2, dim=1)  # a tuple: the halves are parallel


class TupleOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(4, 4)
        self.pair = Pair()
        self.head = nn.Linear(2, 2)

    def forward(self, x):
        first, second = self.pair(self.enc(x))
        return self.head(first), second


class DictIn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.image = nn.Linear(4, 3)
        self.fuse = nn.Linear(5, 2)

    def forward(self, batch, scale=1.0):
        return self.fuse(torch.cat([self.image(batch["image"]), batch["extra"] * scale], 1))


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=40)
    x = rng.normal(size=(40, 4)) + y[:, None]
    return x, y


def chains_of(model, x, layers, **kwargs):
    return find_chains(model, x, resolve_layers(model, layers), **kwargs)


def test_residual_block_chain_and_its_non_links():
    model = Residual()
    x = torch.randn(8, 3)
    chains = chains_of(model, x, ["stem", "conv1", "conv2", "shortcut", "block", "head"])
    assert set(chains.chains) == {("stem", "block", "head"), ("stem", "conv1", "conv2"),
                                  ("stem", "shortcut")}
    assert chains.chains[0] == ("stem", "block", "head")  # the main path first
    reasons = {(link.earlier, link.later): link.reason for link in chains.non_links}
    assert reasons == {
        ("conv2", "shortcut"): "shortcut is parallel to conv2",
        ("shortcut", "block"): "block depends on the input also through paths that bypass shortcut",
    }
    declared = chains_of(model, x, ["stem", "conv1", "conv2", "block"],
                         chains=[["stem", "conv1", "conv2", "block"]])
    assert declared.chains == (("stem", "conv1", "conv2"), ("block",))
    (link,) = declared.non_links
    assert (link.earlier, link.later, link.markov) == ("conv2", "block", False)


def test_branches_merged_by_concatenation(data):
    x, y = data
    model = Branches().double()
    x3 = x[:, :3]
    chains = chains_of(model, x3, ["left", "right", "merged"])
    assert set(chains.chains) == {("left",), ("right",), ("merged",)}
    assert [link.describe() for link in chains.non_links] == [
        "right is parallel to left: no DPI between them",
        "merged depends on the input also through paths that bypass right: no DPI between them",
    ]
    monitor = InformationMonitor(model, x3, y, layers=["left", "right", "merged"])
    verdict = monitor.measure(0).verdict
    judged = {(r.earlier, r.later) for r in verdict.links if r.status != NO_DPI}
    assert judged == {("input", "left"), ("input", "right"), ("input", "merged")}
    assert {(r.earlier, r.later) for r in verdict.links if r.status == NO_DPI} == {
        ("left", "right"), ("right", "merged")}


def test_tuple_output_selected_by_index_key_or_callable(data):
    x, y = data
    model = TupleOut().double()
    xt = torch.tensor(x)
    with pytest.raises(TypeError, match=r"layer 'pair' returned tuple, not a tensor.*\('pair', 0\)"):
        capture_activations(model, xt, resolve_layers(model, ["pair"]))
    layers = resolve_layers(model, [("pair", 0), ("pair", 1), ("pair", lambda out: out[1] * 2)])
    assert [layer.name for layer in layers] == ["pair[0]", "pair[1]", "pair:<lambda>"]
    acts = capture_activations(model, xt, layers, batch_size=16)
    enc = model.enc(xt).detach()
    assert torch.equal(acts["pair[0]"], enc[:, :2]) and torch.equal(acts["pair[1]"], enc[:, 2:])
    assert torch.equal(acts["pair:<lambda>"], 2 * enc[:, 2:])
    chains = chains_of(model, xt, {"first": ("pair", 0), "second": ("pair", 1)})
    assert set(chains.chains) == {("first",), ("second",)}
    assert chains.non_links[0].reason == "second is parallel to first"
    monitor = InformationMonitor(model, xt, y, layers={"first": ("pair", 0), "head": "head"})
    assert monitor.chains.chains == (("first", "head"),)
    with pytest.raises(IndexError, match="layer 'pair\\[5\\]': index 5 is out of range"):
        InformationMonitor(model, xt, y, layers=[("pair", 5)])


def test_dict_input_and_forward_fn(data):
    x, y = data
    model = DictIn().double()
    probe = {"image": x, "extra": x[:, :2] ** 2}  # NumPy arrays, float64 like the model
    monitor = InformationMonitor(model, probe, y, layers=["image", "fuse"])
    values = monitor.measure(0).values
    # fuse also sees "extra" around "image": no Markov link from image to fuse
    assert set(monitor.chains.chains) == {("image",), ("fuse",)}
    doubled = InformationMonitor(model, probe, y, layers=["image", "fuse"],
                                 forward_fn=lambda m, b: m(b, scale=2.0))
    acts = doubled.activations()
    expected = model({k: torch.tensor(v) for k, v in probe.items()}, scale=2.0)
    assert torch.allclose(acts["fuse"], expected.detach())
    # X is every input tensor, flattened and concatenated: H(X) is the same for either order
    swapped = InformationMonitor(model, {"extra": probe["extra"], "image": x}, y, layers=["fuse"])
    assert swapped.measure(0).values[("input", "H(X)")] == pytest.approx(
        values[("input", "H(X)")], abs=1e-9)


def test_batchnorm_and_dropout_mode_restored_and_statistics_untouched(data):
    x, y = data
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(6, 2)).double().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    monitor = InformationMonitor(model, x, y, layers=["2", "3", "4"])
    first, second = monitor.measure(0), monitor.measure(1)
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # running stats, batch count
    assert first.values == second.values  # dropout off: the same values every time
    # dropout in eval mode is the identity: same vertex, a Markov link in both directions
    assert monitor.chains.chains == (("2", "3", "4"),)
    model.eval()
    assert torch.equal(monitor.activations()["4"], model(torch.tensor(x)).detach())


def test_small_resnet_runs_with_default_layers(data):
    _, y = data
    model = ResNet(1, 8, filters=(4, 4, 4)).train()
    images = np.random.default_rng(2).normal(size=(40, 1, 8, 8)).astype(np.float32)
    monitor = InformationMonitor(model, images, y, conv_mode="tensor")
    assert monitor.layers == ["stem", "layer1.0", "layer2.0", "layer3.0", "pool"]
    assert monitor.chains.chains == (tuple(monitor.layers),) and not monitor.chains.non_links
    checkpoint = monitor.measure(0)
    assert len(checkpoint.verdict.judged("DPI 2")) == 5 and model.training
    convs = chains_of(model, images[:2], [nn.Conv2d])
    assert ("layer2.0.shortcut.0", "layer2.0.conv2") not in {
        (a, b) for c in convs.chains for a, b in zip(c, c[1:])}
    assert any(link.reason == "layer2.0.shortcut.0 is parallel to layer2.0.conv2"
               for link in convs.non_links)
    with pytest.raises(ValueError, match="depth must be 6k"):
        ResNet(1, 8, depth=9)
    # by default one block per stage, for any number of stages
    two = ResNet(1, 8, filters=(2, 2))
    assert two.layer_names == ("stem", "layer1.0", "layer2.0", "pool")
    assert ResNet(1, 8, depth=10, filters=(2, 2)).layer_names[1:5] == (
        "layer1.0", "layer1.1", "layer2.0", "layer2.1")


def test_errors_name_the_layer(data):
    x, y = data
    xt = torch.tensor(x)

    class Skips(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.used, self.unused, self.twice = nn.Linear(4, 4), nn.Linear(4, 4), nn.Tanh()

        def forward(self, x):
            return self.twice(self.twice(self.used(x)))

    model = Skips().double()
    with pytest.raises(RuntimeError, match="layer 'unused' did not run"):
        InformationMonitor(model, xt, y, layers=["used", "unused"])
    with pytest.raises(RuntimeError, match="layer 'twice' ran 2 times in one forward pass"):
        InformationMonitor(model, xt, y, layers=["twice"])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module.*got function"):
        InformationMonitor(lambda t: t, xt, y, layers=["x"])
    with pytest.raises(ValueError, match="layers names 'use', which is not a module"):
        InformationMonitor(model, xt, y, layers=["use"])
    monitor = InformationMonitor(model, xt, y, layers=["used"])
    with torch.no_grad():
        model.used.bias[0] = float("nan")
    with pytest.raises(ValueError, match="layer 'used' gave NaN or infinite values for 40 of"):
        monitor.measure(0)
    assert all(not m._forward_hooks for m in model.modules())

    def bad(out):
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        capture_activations(model, xt, resolve_layers(model, [("used", bad)]))
    assert all(not m._forward_hooks for m in model.modules())


def test_numpy_probe_and_one_hot_labels_give_the_same_values(data):
    x, y = data
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).double()
    reference = InformationMonitor(model, torch.tensor(x), torch.tensor(y), layers=["1"])
    one_hot = np.eye(2, dtype=np.int64)[y]
    other = InformationMonitor(model, x, one_hot, layers=["1"])
    assert other.measure(0).values == reference.measure(0).values
    assert InformationMonitor(model, x, list(y), layers=["1"]).measure(0).values == (
        reference.checkpoints[0].values)
    with pytest.raises(ValueError, match="labels given as a 2-D array must be one-hot"):
        InformationMonitor(model, x, one_hot * 2, layers=["1"])


def test_integer_inputs_cannot_be_checked_and_warn():
    model = nn.Sequential(nn.Embedding(5, 3), nn.Flatten(), nn.Linear(6, 2))
    tokens = torch.randint(0, 5, (10, 2))
    with pytest.warns(ChainWarning, match="cannot be checked"):
        chains = chains_of(model, tokens, ["1", "2"])
    assert chains.chains == (("1", "2"),) and not chains.checked


def test_list_layers_names_types_shapes_and_calls():
    model = TupleOut()
    infos = {i.name: i for i in list_layers(model, torch.zeros(3, 4))}
    assert list(infos) == ["enc", "pair", "head"]
    assert (infos["enc"].type, infos["enc"].output, infos["enc"].parameters) == ("Linear",
                                                                                 "(3, 4)", 20)
    assert infos["pair"].output == "tuple[(3, 2), (3, 2)]" and infos["pair"].calls == 1
    table = format_layers(list(infos.values())).splitlines()
    assert table[0].split() == ["name", "type", "output", "calls", "parameters"]
    assert table[2].split() == ["enc", "Linear", "(3,", "4)", "1", "20"]
    skips = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.Linear(2, 2)})
    unused = list_layers(skips, torch.zeros(1, 2), forward_fn=lambda m, b: m["a"](b))
    assert [(i.name, i.calls, i.output) for i in unused] == [("a", 1, "(1, 2)"), ("b", 0, "-")]


def test_in_place_activation_after_a_measured_layer(data):
    """ReLU(inplace=True) after a linear layer changes that layer's output tensor in place: the
    captured values and the graph vertex are those the layer produced."""
    x, y = data
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(inplace=True), nn.Linear(3, 2)).double()
    xt = torch.tensor(x)
    acts = capture_activations(model, xt, resolve_layers(model, ["0", "2"]))
    assert torch.equal(acts["0"], nn.functional.linear(xt, model[0].weight, model[0].bias))
    assert (acts["0"] < 0).any()
    chains = chains_of(model, xt, ["0", "1", "2"])
    assert chains.chains == (("0", "1", "2"),) and not chains.non_links


def test_a_bad_name_leaves_no_hook_behind(data):
    x, _ = data
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).double()
    with pytest.raises(ValueError, match="layer 'gone' names module 'gone', which is not"):
        capture_activations(model, torch.tensor(x), ["0", "gone"])
    assert all(not m._forward_hooks for m in model.modules())


def test_resnet20_for_cifar_sized_images():
    model = ResNet(3, 32, depth=20)
    assert len(model.layer_names) == 11  # stem, 3 stages of 3 blocks, pool
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    chains = chains_of(model, torch.randn(2, 3, 32, 32), None)
    assert chains.chains == (model.layer_names,) and not chains.non_links


def test_dict_output_selected_by_key(data):
    x, _ = data

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, t):
            return {"logits": self.fc(t), "features": t}

    model = nn.Sequential(Head()).double()
    xt = torch.tensor(x)
    acts = capture_activations(model, xt, resolve_layers(model, [("0", "logits")]))
    assert torch.equal(acts["0['logits']"], model[0].fc(xt).detach())
    with pytest.raises(ValueError, match=r"layer \"0\['probs'\]\": the output has no key 'probs'"):
        capture_activations(model, xt, resolve_layers(model, [("0", "probs")]))
    with pytest.raises(TypeError, match="index 0 selects from a tuple or list output, got dict"):
        capture_activations(model, xt, resolve_layers(model, [("0", 0)]))
