"""Train a model while measuring its information flow; resumable, reproducible.

The loop is deterministic given the seed: the model is initialised from it, and the order of
the training samples in epoch e is a permutation drawn from (seed, e). Together with the state
saved after every record (model, optimizer, epoch, batch, step, running sums), a run resumed
after a kill continues exactly where it stopped, and the same seed gives the same records.

A run is a guest in its caller's process: it seeds and draws from the global generators (torch's
CPU one and its CUDA device's, NumPy's legacy global one, Python's ``random``) only inside its
own scope, which holds the run's generator states between calls, and gives the caller's states
back when it leaves — the caller's draws and the run's do not interleave.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from infoflow._threads import fair_share, registered_run, thread_budget
from infoflow.data import Dataset, load_dataset
from infoflow.models import build_model
from infoflow.monitor import Checkpoint, InformationMonitor, dpi_sensitivity, width_curves
from infoflow.storage.run_folder import (
    SENSITIVITY_FIELDS,
    WIDTH_CURVE_FIELDS,
    RunFolder,
    RunFolderError,
    append_rows,
)
from infoflow.training.config import RunConfig


def _device(name: str) -> torch.device:
    """The run's torch device, refused with one line where this machine has none."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"device must be a torch device such as cpu, cuda, cuda:0 or mps, got "
                         f"{name!r}") from None
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": torch.backends.mps.is_available()}.get(device.type, True)
    if not available:
        raise ValueError(f"device {name!r} is not available on this machine (this torch build "
                         f"or its drivers have no {device.type}); use --device cpu")
    if device.type == "cuda" and device.index is not None and \
            device.index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} does not exist: this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s)")
    return device


def _generator_states(device: torch.device) -> dict[str, Any]:
    """The states of the global generators a run on ``device`` may draw from."""
    states = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
              "python": random.getstate()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _set_generator_states(states: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)


def _seeded_states(seed: int, device: torch.device) -> dict[str, Any]:
    """The states of :func:`_generator_states` once seeded with ``seed`` (as
    ``torch.manual_seed``, ``numpy.random.seed`` and ``random.seed`` leave them), made without
    touching the global generators."""
    states = {"torch": torch.Generator().manual_seed(seed).get_state(),
              "numpy": np.random.RandomState(seed).get_state(),
              "python": random.Random(seed).getstate()}
    if device.type == "cuda":
        states["cuda"] = torch.Generator(device).manual_seed(seed).get_state()
    return states


def _optimizer(config: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            correct = sum(
                int((model(x[i : i + 1024]).argmax(1) == y[i : i + 1024]).sum())
                for i in range(0, len(x), 1024)
            )
    finally:
        model.train(was_training)
    return correct / len(x)


class Trainer:
    """One run: data, model, optimizer, monitor and the run folder.

    Parameters
    ----------
    config : RunConfig
    folder : path
        The run folder; created for a new run, read back for ``resume=True``.
    resume : bool
        Continue the run in ``folder`` from its last saved state, with its saved configuration.
    on_checkpoint : callable, optional
        Called with every :class:`~infoflow.monitor.Checkpoint` (progress display).
    """

    def __init__(
        self,
        config: RunConfig | None,
        folder: str | Path,
        *,
        resume: bool = False,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
    ) -> None:
        self.folder = RunFolder(folder)
        self.status = self.folder.status()
        if resume:
            if self.status == "new":
                raise RunFolderError(f"{self.folder.path} holds no run to resume")
            if self.status == "running":
                raise RunFolderError(f"{self.folder.path} is being written by process "
                                     f"{self.folder.locked_by()}; wait for it or stop it first")
            config = RunConfig.from_dict(self.folder.config())
        elif config is None:
            raise ValueError("config is required for a new run")
        elif self.status != "new":
            raise RunFolderError(
                f"{self.folder.path} already holds a {self.status} run; resume it with "
                f"--resume {self.folder.path} or choose another --out"
            )
        self.config = config
        self.on_checkpoint = on_checkpoint
        self.device = _device(config.device)
        self._generators = _seeded_states(config.seed, self.device)
        with self._own_generators():
            self._set_up(config, resume)

    @contextmanager
    def _own_generators(self) -> Iterator[None]:
        """The run's generator states in the global generators while it trains; the caller's
        states are given back after, and the run's kept for its next call."""
        caller = _generator_states(self.device)
        _set_generator_states(self._generators, self.device)
        try:
            yield
        finally:
            self._generators = _generator_states(self.device)
            _set_generator_states(caller, self.device)

    def _set_up(self, config: RunConfig, resume: bool) -> None:
        """Data, model (initialised from the seeded generators), optimizer, monitor, folder."""
        self.data: Dataset = load_dataset(config.data, root=config.data_dir,
                                          download=config.download)
        device = self.device
        self.model = build_model(
            config.model, in_channels=self.data.channels, image_size=self.data.image_size,
            classes=self.data.classes, filters=config.filters,
        ).to(device)
        self.optimizer = _optimizer(config, self.model)
        self.train_x = torch.tensor(self.data.train_x, device=device)
        self.train_y = torch.tensor(self.data.train_y, device=device)
        self.test_x = torch.tensor(self.data.test_x, device=device)
        self.test_y = torch.tensor(self.data.test_y, device=device)
        if config.probe_size > len(self.test_x):
            raise ValueError(
                f"probe_size must be at most the {len(self.test_x)} test samples of "
                f"{config.data}, got {config.probe_size}"
            )
        self.monitor = InformationMonitor(
            self.model, self.test_x[: config.probe_size], self.data.test_y[: config.probe_size],
            layers=config.layers, chains=[c.split() for c in config.chains or ()] or None,
            rule=config.rule, alpha=config.alpha,
            conv_mode=config.conv_mode, dpi_tolerance=config.dpi_tolerance,
            pid_layers=config.pid_layers or (), method=config.method, dtype=config.dtype,
            uncertainty=config.uncertainty,
        )
        self.state: dict[str, Any] = {"epoch": 0, "batch": 0, "step": 0, "loss_sum": 0.0,
                                      "correct": 0, "seen": 0, "train_seconds": 0.0,
                                      "measure_seconds": 0.0}
        if resume:
            saved = self.folder.load_state()
            if saved is None:  # killed before its first saved state: start again from the seed
                self.folder.truncate_after(-1, 0)
            else:
                self.model.load_state_dict(saved.pop("model"))
                self.optimizer.load_state_dict(saved.pop("optimizer"))
                self.state.update(saved)
                if not self.state.get("finished"):  # a finished run is left as it is
                    self.folder.truncate_after(self.state["step"], self.state["epoch"])
        else:
            self.folder.create(config.to_dict(), resolved={
                "method": repr(self.monitor.method), "chains": self.monitor.chains.to_dict()})

    @property
    def batches_per_epoch(self) -> int:
        return -(-len(self.train_x) // self.config.batch_size)

    @property
    def total_steps(self) -> int:
        return self.batches_per_epoch * self.config.epochs

    @property
    def finished(self) -> bool:
        return self.state["epoch"] >= self.config.epochs

    def _save(self) -> None:
        self.folder.save_state({**self.state, "model": self.model.state_dict(),
                                "optimizer": self.optimizer.state_dict()})
        self.folder.write_json("timing.json", {
            "train_seconds": self.state["train_seconds"],
            "measure_seconds": self.state["measure_seconds"],
        })

    def _measure(self) -> None:
        start = time.perf_counter()
        # the epoch the weights were trained in: a checkpoint after the last epoch belongs to it
        epoch = min(self.state["epoch"], self.config.epochs - 1)
        checkpoint = self.monitor.measure(self.state["step"], epoch=epoch)
        self.state["measure_seconds"] += time.perf_counter() - start
        self.folder.append_measurements(checkpoint.rows())
        self._save()
        if self.on_checkpoint is not None:
            self.on_checkpoint(checkpoint)

    def _train_batch(self, idx: torch.Tensor) -> None:
        start = time.perf_counter()
        self.model.train()
        xb, yb = self.train_x[idx], self.train_y[idx]
        self.optimizer.zero_grad()
        logits = self.model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        loss.backward()
        self.optimizer.step()
        self.state["loss_sum"] += loss.item() * len(idx)
        self.state["correct"] += int((logits.argmax(1) == yb).sum())
        self.state["seen"] += len(idx)
        self.state["batch"] += 1
        self.state["step"] += 1
        self.state["train_seconds"] += time.perf_counter() - start

    def _end_epoch(self) -> None:
        seen = max(self.state["seen"], 1)
        self.folder.append_training({
            "epoch": self.state["epoch"],
            "train_loss": self.state["loss_sum"] / seen,
            "train_accuracy": self.state["correct"] / seen,
            "test_accuracy": _accuracy(self.model, self.test_x, self.test_y),
        })
        self.state.update(epoch=self.state["epoch"] + 1, batch=0, loss_sum=0.0, correct=0, seen=0)
        self._save()

    def run(
        self, *, progress: Callable[[int], None] | None = None, sensitivity: bool = True
    ) -> RunFolder:
        """Train to the end, measuring every ``measure_every`` steps, at step 0 and at the end.

        ``progress`` is called with the number of steps just taken (for a progress bar);
        ``sensitivity`` adds the width-rule sensitivity table at the final weights.
        """
        if self.state.get("finished"):
            return self.folder  # a finished run: resuming it changes nothing
        self.folder.lock()
        try:
            # the CPUs shared with runs side by side (fair_share); the run's own generators
            with registered_run(), self._own_generators():
                self._run(progress, sensitivity)
        finally:
            self.folder.unlock()
        return self.folder

    def _run(self, progress: Callable[[int], None] | None, sensitivity: bool) -> None:
        config = self.config
        if self.folder.last_measured_step() is None:
            with thread_budget(fair_share()):
                self._measure()
        while not self.finished:
            order = np.random.default_rng([config.seed, self.state["epoch"]]).permutation(
                len(self.train_x)
            )
            with thread_budget(fair_share()):  # re-read every epoch: runs come and go
                while self.state["batch"] < self.batches_per_epoch:
                    b = self.state["batch"]
                    idx = torch.as_tensor(
                        order[b * config.batch_size : (b + 1) * config.batch_size],
                        device=self.train_x.device)
                    self._train_batch(idx)
                    if progress is not None:
                        progress(1)
                    if self.state["step"] % config.measure_every == 0:
                        self._measure()
            self._end_epoch()
        with thread_budget(fair_share()):
            if self.folder.last_measured_step() != self.state["step"]:
                self._measure()
            if sensitivity:
                self.write_sensitivity()
                self.state["finished"] = True
                self._save()

    def write_sensitivity(self) -> None:
        """DPI verdicts at the final weights for every width rule and both layer-kernel modes,
        and the width curves (every width scaled by a common factor) in the run's mode."""
        activations = self.monitor.activations()
        options = dict(alpha=self.config.alpha, tolerance=self.config.dpi_tolerance,
                       dtype=self.config.dtype, method=self.monitor.method,
                       chains=self.monitor.chains)
        tables = {
            "sensitivity.csv": (SENSITIVITY_FIELDS, dpi_sensitivity(
                self.monitor.inputs, self.monitor.labels, activations, **options)),
            "width_curves.csv": (WIDTH_CURVE_FIELDS, width_curves(
                self.monitor.inputs, self.monitor.labels, activations,
                conv_mode=self.config.conv_mode, **options)),
        }
        for name, (fields, rows) in tables.items():
            path = self.folder.file(name)
            path.unlink(missing_ok=True)
            append_rows(path, fields, rows)
