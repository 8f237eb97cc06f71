"""The Lightning callback on a tiny network: schedules, loggers, checkpoints, run folder, DDP."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

pytest.importorskip("lightning", reason="Lightning (infoflow[lightning]) is not installed")
import lightning.pytorch as pl  # noqa: E402
from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from infoflow.integrations.lightning import InformationFlow, measured_module  # noqa: E402
from infoflow.monitor import InformationMonitor  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.fc1 = nn.Linear(3 * 6 * 6, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(torch.relu(self.conv1(x)).flatten(1))))


class Pair(nn.Module):
    """A block whose output is a tuple: (pre-activation, activation)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3 * 6 * 6, 8)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.lin(x)
        return h, torch.relu(h)


class Head(nn.Module):
    """A head whose output is a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.out = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.out(x)
        return {"logits": logits, "probabilities": logits.softmax(1)}


class RichNet(nn.Module):
    """Outputs that are not one tensor: a tuple block and a dict head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.block = Pair()
        self.head = Head()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.block(torch.relu(self.conv1(x)).flatten(1))[1])["logits"]


class Classifier(pl.LightningModule):
    def __init__(self, net: type[nn.Module] = Net) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = net()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def _data(n: int, seed: int) -> TensorDataset:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.normal(size=(n, 1, 8, 8)) + y[:, None, None, None]
    return TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))


class Data(pl.LightningDataModule):
    def train_dataloader(self):
        return DataLoader(_data(64, 0), batch_size=16)

    def val_dataloader(self):
        return DataLoader(_data(48, 1), batch_size=16)


def _trainer(tmp_path: Path, callback: InformationFlow, **options) -> pl.Trainer:
    settings = dict(max_epochs=2, accelerator="cpu", devices=1, logger=CSVLogger(tmp_path),
                    enable_checkpointing=False, enable_progress_bar=False,
                    enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0)
    settings.update(options)
    return pl.Trainer(callbacks=[callback], **settings)


def _steps(callback: InformationFlow) -> list[int]:
    return [c.step for c in callback.monitor.checkpoints]


def test_measures_logs_and_writes_a_run_folder(tmp_path):
    callback = InformationFlow(probe=40, layers=["conv1", "fc1"], every_n_steps=3,
                               out=tmp_path / "run")
    model = Classifier()
    trainer = _trainer(tmp_path, callback)
    trainer.fit(model, Data())
    assert _steps(callback) == [0, 3, 6, 8]  # 4 steps an epoch: every 3, and the last
    assert callback.monitor.layers == ["conv1", "fc1"]
    # the last checkpoint is what a monitor of the user's own network measures at the end
    probe_x, probe_y = _data(48, 1).tensors
    alone = InformationMonitor(model.net, probe_x[:40], probe_y[:40], layers=["conv1", "fc1"])
    assert alone.measure(8).values == callback.monitor.checkpoints[-1].values
    # every quantity reached the logger under infoflow/<layer>/<quantity>
    with open(Path(trainer.logger.log_dir) / "metrics.csv", newline="") as f:
        logged = [row for row in csv.DictReader(f) if row.get("infoflow/fc1/I(X;T)")]
    assert [int(row["step"]) for row in logged] == [0, 3, 6, 8]
    for row, checkpoint in zip(logged, callback.monitor.checkpoints):
        assert float(row["infoflow/fc1/I(X;T)"]) == pytest.approx(
            checkpoint.values[("fc1", "I(X;T)")], rel=1e-12)
        assert float(row["infoflow/DPI 1 holds"]) == float(checkpoint.verdict.dpi1)
    assert callback.run_folder == tmp_path / "run"
    for name in ("config.json", "measurements.csv", "timing.json", "report.html",
                 "plots/information_plane.png"):
        assert (tmp_path / "run" / name).exists(), name


@pytest.mark.parametrize("schedule, expected", [
    ({}, [0, 4, 8]),
    ({"every_n_epochs": 2}, [0, 8]),
    ({"steps": [1, 2, 5]}, [1, 2, 5]),
])
def test_schedules(tmp_path, schedule, expected):
    callback = InformationFlow(probe=30, layers=["fc1"], write_run=False, **schedule)
    _trainer(tmp_path, callback).fit(Classifier(), Data())
    assert _steps(callback) == expected


def test_a_resumed_fit_continues_the_same_records(tmp_path):
    whole = InformationFlow(probe=30, layers=["conv1", "fc2"], every_n_steps=3, write_run=False)
    _trainer(tmp_path / "whole", whole, max_epochs=4).fit(Classifier(), Data())

    first = InformationFlow(probe=30, layers=["conv1", "fc2"], every_n_steps=3, write_run=False)
    trainer = _trainer(tmp_path / "first", first, max_epochs=2)
    trainer.fit(Classifier(), Data())
    trainer.save_checkpoint(tmp_path / "after2.ckpt")
    resumed = InformationFlow(probe=30, layers=["conv1", "fc2"], every_n_steps=3,
                              write_run=False)
    _trainer(tmp_path / "resumed", resumed, max_epochs=4).fit(
        Classifier(), Data(), ckpt_path=tmp_path / "after2.ckpt")

    assert _steps(whole) == [0, 3, 6, 9, 12, 15, 16]
    assert _steps(resumed) == [0, 3, 6, 8, 9, 12, 15, 16]  # the first fit ended at step 8
    by_step = {c.step: c for c in whole.monitor.checkpoints}
    for checkpoint in resumed.monitor.checkpoints:
        if checkpoint.step in by_step:
            expected = by_step[checkpoint.step].values
            assert checkpoint.values.keys() == expected.keys()
            assert max(abs(checkpoint.values[k] - expected[k]) for k in expected) < 1e-9


def test_probe_tensors_and_the_fit_validation_loader(tmp_path):
    x, y = _data(30, 2).tensors
    given = InformationFlow(probe=(x, y), layers=["fc1"], write_run=False)
    _trainer(tmp_path, given, max_epochs=1).fit(Classifier(), Data())
    assert given.monitor.n == 30
    loader = DataLoader(_data(48, 1), batch_size=16)
    taken = InformationFlow(probe=20, layers=["fc1"], write_run=False)
    before = torch.get_rng_state()
    _trainer(tmp_path, taken, max_epochs=1, limit_val_batches=1).fit(
        Classifier(), DataLoader(_data(64, 0), batch_size=16), val_dataloaders=loader)
    assert torch.equal(taken.monitor.inputs, _data(48, 1).tensors[0][:20])
    assert before.shape == torch.get_rng_state().shape


def hidden(out: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    return out[1]


SPEC_FORMS = {
    "names": ["conv1", "block.lin"],
    "a type": nn.Linear,
    "types and names": [nn.Conv2d, "head.out"],
    "a module object": lambda net: [net.block.lin],
    "an index selector": [("block", 0), ("block", 1)],
    "a dict key selector": [("head", "logits")],
    "a callable selector": [("block", hidden), "conv1"],
    "a mapping": lambda net: {"first": nn.Conv2d, "hidden": ("block", -1),
                              "out": (net.head, "probabilities")},
}


@pytest.mark.parametrize("form", SPEC_FORMS)
def test_every_layer_spec_form_works_as_in_the_monitor(tmp_path, form):
    model = Classifier(RichNet)
    spec = SPEC_FORMS[form]
    layers = spec(model.net) if callable(spec) and not isinstance(spec, type) else spec
    callback = InformationFlow(probe=20, layers=layers, write_run=False, steps=[0, 4])
    _trainer(tmp_path, callback, max_epochs=1).fit(model, Data())
    probe_x, probe_y = _data(48, 1).tensors
    alone = InformationMonitor(model.net, probe_x[:20], probe_y[:20], layers=layers)
    assert callback.monitor.model is model.net
    assert callback.monitor.layers == alone.layers
    assert alone.measure(4).values == callback.monitor.checkpoints[-1].values
    assert _steps(callback) == [0, 4]
    assert "0x" not in callback.state_key  # stable across processes: a resumed fit finds it


def test_layers_are_found_in_the_users_network_or_named():
    model = Classifier()
    assert measured_module(model, ["conv1", nn.Linear], None) is model.net
    assert measured_module(model, ["net.conv1"], None) is model
    assert measured_module(model, [model.net.fc1, ("fc2", hidden)], None) is model.net
    assert measured_module(model, {"a": "fc1", "b": (nn.Conv2d, 0)}, None) is model.net
    assert measured_module(model, model.net, None) is model  # the network itself, by its name
    model.twin = Net()
    with pytest.raises(ValueError, match=r"several submodules .*\['net', 'twin'\].*module="):
        measured_module(model, ["conv1"], None)
    with pytest.raises(ValueError, match=r"^layers type Conv2d, \('fc1', 0\) match modules in "
                                         r"several submodules of Classifier: \['net', 'twin'\]"):
        measured_module(model, [nn.Conv2d, ("fc1", 0)], None)
    assert measured_module(model, ["conv1"], "twin") is model.twin
    assert measured_module(model, [model.twin.fc1], None) is model.twin  # an object is unique


@pytest.mark.parametrize("layers, named", [
    (["conv9"], "'conv9' matches"),
    ([nn.LSTM, "fc1"], "type LSTM matches"),
    ([nn.Linear(2, 5)], r"a Linear\(in_features=2, out_features=5, bias=True\) object matches"),
    ([("fc3", 0), ("fc4", hidden)], r"\('fc3', 0\), \('fc4', hidden\) match"),
    ({"out": ("fc9", "logits")}, r"'out' \(\('fc9', 'logits'\)\) matches"),
])
def test_a_spec_that_matches_nothing_is_named_in_one_line(layers, named):
    with pytest.raises(ValueError, match=rf"^layers: {named} no module of Classifier or of its "
                                         r"submodules \['net'\] \(infoflow.monitor.list_layers"
                       ) as error:
        measured_module(Classifier(), layers, None)
    assert "\n" not in str(error.value)


def test_layers_spread_over_submodules_are_refused_naming_where_each_is():
    model = Classifier()
    model.extra = nn.Linear(3, 3)
    with pytest.raises(ValueError, match=r"^layers are spread over several submodules of "
                                         r"Classifier \('conv1' in \['net'\]; type Linear in "
                                         r"\['net'\]; 'extra' in \['Classifier'\]\)"):
        measured_module(model, ["conv1", nn.Linear, "extra"], None)


def test_a_bad_spec_fails_the_fit_before_training_with_the_monitors_error(tmp_path):
    model = Classifier(RichNet)
    before = [p.detach().clone() for p in model.parameters()]
    ambiguous = InformationFlow(probe=20, layers={"lin": nn.Linear}, write_run=False)
    with pytest.raises(ValueError, match=r"'lin' must name one module, but Linear matches 2"):
        _trainer(tmp_path, ambiguous, max_epochs=1).fit(model, Data())
    nothing = InformationFlow(probe=20, layers=[("block", 0), nn.GRU], write_run=False)
    with pytest.raises(ValueError, match=r"^layers: type GRU matches no module of Classifier"):
        _trainer(tmp_path, nothing, max_epochs=1).fit(model, Data())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # never trained


def test_bad_options_are_refused_at_construction():
    with pytest.raises(TypeError, match=r"unknown options \['alhpa'\]"):
        InformationFlow(alhpa=2)
    with pytest.raises(ValueError, match="give one schedule"):
        InformationFlow(every_n_steps=2, every_n_epochs=1)
    with pytest.raises(ValueError, match="every_n_steps must be a positive integer, got 0"):
        InformationFlow(every_n_steps=0)
    with pytest.raises(ValueError, match="steps must be optimizer steps"):
        InformationFlow(steps=[-1, 3])
    with pytest.raises(TypeError, match="probe must be"):
        InformationFlow(probe="all")


def test_tensorboard_logger_gets_scalars_and_the_information_plane(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard (infoflow[tensorboard]) is not installed")
    from lightning.pytorch.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    callback = InformationFlow(probe=30, layers=["fc1", "fc2"], write_run=False)
    logger = TensorBoardLogger(tmp_path / "tb", name="run")
    _trainer(tmp_path, callback, logger=logger).fit(Classifier(), Data())
    events = EventAccumulator(logger.log_dir, size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    logged = events.Scalars("infoflow/fc2/I(T;Y)")
    assert [e.step for e in logged] == [0, 4, 8]
    for event, checkpoint in zip(logged, callback.monitor.checkpoints):
        assert event.value == pytest.approx(checkpoint.values[("fc2", "I(T;Y)")], rel=1e-6)
    image = events.Images("infoflow/information plane")[-1]
    assert image.step == 8 and image.encoded_image_string[:4] == b"\x89PNG"


@pytest.mark.parametrize("case", ["working", "broken"])
def test_under_ddp_rank_zero_measures_and_every_rank_ends(tmp_path, case):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "integrations" / "ddp_fit.py"),
         str(tmp_path / "run"), case], cwd=ROOT,
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
    )
    if case == "working":
        assert result.returncode == 0, result.stderr[-3000:]
        assert "fit ended" in result.stdout
        with open(tmp_path / "run" / "measurements.csv", newline="") as f:
            steps = sorted({int(row["step"]) for row in csv.DictReader(f)})
        assert steps == [0, 2, 4]  # 64 samples on 2 ranks, batches of 16: 2 steps an epoch
    else:
        assert result.returncode != 0
        # the monitor's construction runs the network once, so the failure may come there
        assert re.search(r"infoflow: (setting up the probe set|measuring step 0) failed on "
                         r"rank 0: ValueError: cannot measure this layer", result.stderr)
