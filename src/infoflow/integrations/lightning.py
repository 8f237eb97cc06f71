"""InformationFlow: a Lightning callback that measures information flow during ``trainer.fit``.

::

    from infoflow.integrations.lightning import InformationFlow

    trainer = lightning.Trainer(callbacks=[InformationFlow(probe=500, layers=["conv1", "fc1"])])
    trainer.fit(model, datamodule)

It measures the layers on a fixed probe set (tensors, or the first N samples of the validation
data), on a schedule (every N steps, every N epochs, or a list of steps), logs every quantity to
every attached logger (``infoflow/<layer>/<quantity>``; the information plane as an image in a
TensorBoard logger), keeps its records in Lightning checkpoints so that a resumed fit continues
them, and at the end writes a run folder (records, plots, report) like ``infoflow run``.

Layers are given as to :class:`~infoflow.monitor.InformationMonitor` (names, types, module
objects, selectors, a mapping), as in the user's own network: ``"conv1"`` for ``self.net.conv1``
of the LightningModule (the one submodule holding every spec is found, or named by ``module``).
Under DDP rank zero alone measures; its outcome is broadcast at each scheduled step, so a
failure raises on every rank and no rank waits for another.

Needs Lightning: ``pip install 'infoflow[lightning]'``.
"""

from __future__ import annotations

import inspect
import operator
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

try:
    from lightning.pytorch import Callback
    from lightning.pytorch.loggers import TensorBoardLogger
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "infoflow.integrations.lightning needs Lightning, which is not installed; install it "
        "with: pip install 'infoflow[lightning]'"
    ) from error

from infoflow.integrations.metrics import checkpoint_metrics
from infoflow.monitor import InformationMonitor, dpi_sensitivity
from infoflow.monitor.layer_specs import (
    LayerSpec,
    describe_spec,
    layer_entries,
    matching_modules,
    resolve_layers,
)
from infoflow.storage.run_folder import SENSITIVITY_FIELDS, RunFolder, append_rows, versions

#: Options passed on to :class:`~infoflow.monitor.InformationMonitor`.
MONITOR_OPTIONS = tuple(
    name for name in inspect.signature(InformationMonitor).parameters
    if name not in ("model", "inputs", "labels", "layers", "distributed", "timeout")
)


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _spec(entry: tuple[str | None, Any, Any]) -> str:
    given, spec, select = entry
    shown = describe_spec(spec if select is None else (spec, select))
    return shown if given is None else f"{given!r} ({shown})"


def describe_layers(layers: Any) -> str:
    """``layers`` in one stable line (no memory addresses): the callback's state key, so that a
    resumed fit in another process finds its saved records; ``repr`` for names."""
    if layers is None:
        return "None"
    if isinstance(layers, Mapping):
        return "{" + ", ".join(f"{k!r}: {describe_spec(v)}" for k, v in layers.items()) + "}"
    if isinstance(layers, (str, type, nn.Module, tuple)):
        return describe_spec(layers)
    return "[" + ", ".join(describe_spec(spec) for spec in layers) + "]"


def measured_module(pl_module: nn.Module, layers: Any, module: str | None) -> nn.Module:
    """The submodule of a LightningModule in which ``layers`` are found, as the monitor would
    find them in it: ``module`` if given, else the one child holding every layer spec (a name,
    type or module object, with or without a selector; the specs of a mapping), else the
    LightningModule itself (names then start with the attribute, ``"net.conv1"``)."""
    owner = type(pl_module).__name__
    if module is not None:
        try:
            return pl_module.get_submodule(module)
        except AttributeError as error:
            raise ValueError(f"module names {module!r}, which is not a submodule of "
                             f"{owner}") from error
    children = list(pl_module.named_children())
    if layers is None:
        holding = [(name, child) for name, child in children if hasattr(child, "layer_names")]
        if len(holding) == 1:
            return holding[0][1]
        if not holding and hasattr(pl_module, "layer_names"):
            return pl_module
        raise ValueError(
            f"layers must name the modules to measure: {len(holding)} submodules of {owner} "
            f"have a layer_names attribute ({[n for n, _ in holding]}); pass layers= "
            "(and module= to choose among them)")
    entries = layer_entries(layers)

    def found_in(candidate: nn.Module) -> list[bool]:
        named = dict(candidate.named_modules())
        return [bool(matching_modules(spec, named)) for _, spec, _ in entries]

    found = {name: found_in(child) for name, child in children}
    holding = [name for name, hits in found.items() if all(hits)]
    shown = ", ".join(_spec(entry) for entry in entries)
    if len(holding) > 1:
        raise ValueError(f"layers {shown} match modules in several submodules of {owner}: "
                         f"{holding}; name the one to measure with module=")
    if holding:
        return pl_module.get_submodule(holding[0])
    whole = found_in(pl_module)
    if all(whole):
        return pl_module
    missing = [_spec(entry) for i, entry in enumerate(entries)
               if not whole[i] and not any(hits[i] for hits in found.values())]
    if missing:
        raise ValueError(
            f"layers: {', '.join(missing)} {'matches' if len(missing) == 1 else 'match'} no "
            f"module of {owner} or of its submodules {[n for n, _ in children]} "
            "(infoflow.monitor.list_layers(model, example_input) lists every module)")
    where = "; ".join(
        f"{_spec(entry)} in {[n for n, hits in found.items() if hits[i]] or [owner]}"
        for i, entry in enumerate(entries))
    raise ValueError(f"layers are spread over several submodules of {owner} ({where}); name "
                     f"them all from {owner} (its attribute first, e.g. 'net.conv1') or choose "
                     "one submodule with module=")


def probe_from_loader(loader: Any, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``size`` samples of a loader of (inputs, labels, ...) batches, drawn without
    touching the global torch generator (a DataLoader's iterator draws a seed from it)."""
    inputs, labels, count = [], [], 0
    with torch.random.fork_rng(devices=[]):
        for batch in loader:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise TypeError(
                    f"probe={size} takes samples from validation batches of (inputs, labels, "
                    f"...), got a batch of type {type(batch).__name__}; pass probe=(inputs, "
                    "labels) instead"
                )
            inputs.append(batch[0].detach().cpu())
            labels.append(torch.as_tensor(batch[1]).detach().cpu())
            count += len(batch[0])
            if count >= size:
                break
    if count < size:
        raise ValueError(f"probe asks for {size} validation samples, but the validation data "
                         f"holds {count}")
    return torch.cat(inputs)[:size], torch.cat(labels)[:size]


class InformationFlow(Callback):
    """Measure information flow through a LightningModule's layers while it trains.

    Parameters
    ----------
    probe : int or (inputs, labels), default 500
        The fixed probe set: that many samples from the start of the validation data
        (``datamodule.val_dataloader()``, else the fit's validation loader), or tensors.
    layers : layer specs, optional
        Every form :class:`~infoflow.monitor.InformationMonitor` takes (module names, module
        types, module objects, each optionally with a selector such as ``("block", 0)``, a dict
        key or a callable; or a mapping of names to specs), as in the user's own network
        (without the LightningModule's attribute prefix); default the network's
        ``layer_names``.
    module : str, optional
        The LightningModule's attribute holding the network, when it cannot be found.
    every_n_steps, every_n_epochs : int, optional
        Measure at step 0, every N optimizer steps (or at the end of every N-th epoch) and after
        the last step. The default is every epoch.
    steps : sequence of int, optional
        Measure exactly at these optimizer steps (e.g. log-spaced:
        ``numpy.unique(numpy.geomspace(1, 1000, 20).astype(int))``), instead of the above.
    out : folder, optional
        The run folder written at the end; default ``<trainer.log_dir>/infoflow``. ``None``
        with ``write_run=False`` writes nothing.
    write_run : bool, default True
        Write the run folder (records, plots, report) at the end of the fit.
    sensitivity : bool, default False
        Add the DPI verdicts under every width rule at the final weights to the run folder
        (costs about ten measurements).
    **options
        Passed on to :class:`~infoflow.monitor.InformationMonitor` (``rule``, ``alpha``,
        ``conv_mode``, ``dtype``, ``method``, ``pid_layers``, ...).
    """

    def __init__(
        self,
        probe: int | tuple[Any, Any] = 500,
        *,
        layers: Sequence[LayerSpec] | Mapping[str, LayerSpec] | LayerSpec | None = None,
        module: str | None = None,
        every_n_steps: int | None = None,
        every_n_epochs: int | None = None,
        steps: Sequence[int] | None = None,
        out: str | os.PathLike | None = None,
        write_run: bool = True,
        sensitivity: bool = False,
        **options: Any,
    ) -> None:
        unknown = sorted(set(options) - set(MONITOR_OPTIONS))
        if unknown:
            raise TypeError(f"InformationFlow got unknown options {unknown}; monitor options: "
                            f"{list(MONITOR_OPTIONS)}")
        if isinstance(probe, bool) or not (isinstance(probe, int) or (
                isinstance(probe, (tuple, list)) and len(probe) == 2)):
            raise TypeError(f"probe must be a number of validation samples or (inputs, labels), "
                            f"got {type(probe).__name__}")
        if isinstance(probe, int) and probe < 2:
            raise ValueError(f"probe must take at least 2 samples, got {probe}")
        given = [name for name, v in (("every_n_steps", every_n_steps),
                                      ("every_n_epochs", every_n_epochs), ("steps", steps))
                 if v is not None]
        if len(given) > 1:
            raise ValueError(f"give one schedule, got {given}")
        self.every_n_steps = None if every_n_steps is None else _positive("every_n_steps",
                                                                          every_n_steps)
        self.every_n_epochs = None if every_n_epochs is None else _positive("every_n_epochs",
                                                                            every_n_epochs)
        if not given:
            self.every_n_epochs = 1
        self.steps = None
        if steps is not None:
            try:
                self.steps = sorted({operator.index(s) for s in steps})
            except TypeError:
                self.steps = None
            if not self.steps or self.steps[0] < 0:
                raise ValueError(f"steps must be optimizer steps (integers >= 0), got {steps!r}")
        self.probe, self.layers, self.module = probe, layers, module
        self.out, self.write_run, self.sensitivity = out, write_run, sensitivity
        self.options = options
        self.monitor: InformationMonitor | None = None
        self._network: nn.Module | None = None
        self.measure_seconds = 0.0
        self.train_seconds = 0.0
        self._saved: dict[str, Any] | None = None
        self._measured: set[int] = set()
        self._started = 0.0
        self._epoch = 0
        self._data = "probe tensors"
        #: The run folder written at the end of the fit (rank zero), or None.
        self.run_folder: Path | None = None

    @property
    def state_key(self) -> str:
        return self._generate_state_key(layers=describe_layers(self.layers), module=self.module,
                                        schedule=repr(self.schedule))

    @property
    def schedule(self) -> str:
        """The schedule in words."""
        if self.steps is not None:
            return f"at steps {self.steps}"
        if self.every_n_steps is not None:
            return f"every {self.every_n_steps} steps"
        return f"every {self.every_n_epochs} epochs"

    # --- rank zero does the work; its outcome reaches every rank -----------------------------

    def _on_rank_zero(self, trainer: Any, what: str, work: Callable[[], None]) -> None:
        failure: BaseException | None = None
        message = None
        if trainer.is_global_zero:
            try:
                work()
            except Exception as error:
                failure, message = error, f"{type(error).__name__}: {error}"
        if trainer.world_size > 1:
            message = trainer.strategy.broadcast(message, src=0)
        if message is not None:
            raise RuntimeError(f"infoflow: {what} failed on rank 0: {message}") from failure

    def _measure(self, trainer: Any, step: int) -> None:
        # every rank keeps the measured steps, so that all take part in the same broadcasts
        if step in self._measured:
            return
        self._measured.add(step)

        def measure() -> None:
            start = time.perf_counter()
            checkpoint = self.monitor.measure(step, epoch=self._epoch)
            self.measure_seconds += time.perf_counter() - start
            metrics = checkpoint_metrics(checkpoint)
            for logger in trainer.loggers:
                logger.log_metrics(metrics, step=step)

        self._on_rank_zero(trainer, f"measuring step {step}", measure)

    # --- Lightning hooks -----------------------------------------------------------------------

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        """Find the measured network and its layers on every rank, before any training: a spec
        that matches nothing raises the monitor's own error everywhere."""
        self._network = measured_module(pl_module, self.layers, self.module)
        resolve_layers(self._network, self.layers)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._started = time.perf_counter()
        self._on_rank_zero(trainer, "setting up the probe set",
                           lambda: self._set_up(trainer, pl_module))
        if self.steps is None or 0 in self.steps:
            self._measure(trainer, trainer.global_step)

    def _set_up(self, trainer: Any, pl_module: Any) -> None:
        if isinstance(self.probe, int):
            inputs, labels = probe_from_loader(self._validation_loader(trainer), self.probe)
        else:
            inputs, labels = self.probe
        self.monitor = InformationMonitor(self._network, inputs, labels, layers=self.layers,
                                          **self.options)
        if self._saved is not None and self._saved.get("monitor") is not None:
            self.monitor.load_state_dict(self._saved["monitor"])

    def _validation_loader(self, trainer: Any) -> Any:
        if trainer.datamodule is not None:
            self._data = type(trainer.datamodule).__name__
            return trainer.datamodule.val_dataloader()
        if not trainer.val_dataloaders:
            trainer.fit_loop.epoch_loop.val_loop.setup_data()
        loaders = trainer.val_dataloaders
        if not loaders:
            raise ValueError(f"probe={self.probe} takes samples from the validation data, but "
                             "this fit has none; pass probe=(inputs, labels)")
        self._data = "validation data"
        return loaders[0] if isinstance(loaders, (list, tuple)) else loaders

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        self._epoch = trainer.current_epoch
        step = trainer.global_step
        due = (step in self.steps) if self.steps is not None else (
            self.every_n_steps is not None and step % self.every_n_steps == 0)
        if due:
            self._measure(trainer, step)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.every_n_epochs is not None and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._measure(trainer, trainer.global_step)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self.steps is None:
            self._measure(trainer, trainer.global_step)
        self.train_seconds += time.perf_counter() - self._started
        self._on_rank_zero(trainer, "logging the information plane",
                           lambda: self._log_plane(trainer))
        if self.write_run:
            self._on_rank_zero(trainer, "writing the run folder",
                               lambda: self._write(trainer))

    def _log_plane(self, trainer: Any) -> None:
        """The information plane as an image in every TensorBoard logger."""
        loggers = [logger for logger in trainer.loggers if isinstance(logger, TensorBoardLogger)]
        if loggers and self.monitor.checkpoints:
            from infoflow.integrations.tensorboard import TensorBoardLog

            for logger in loggers:
                log = TensorBoardLog(logger.experiment)
                log.log_information_plane(self.monitor.records())
                log.close()

    def _write(self, trainer: Any) -> None:
        monitor = self.monitor
        if not monitor.checkpoints:
            return
        from infoflow.reporting import write_report

        out = Path(self.out) if self.out is not None else Path(
            trainer.log_dir or trainer.default_root_dir) / "infoflow"
        folder = RunFolder(out)
        folder.path.mkdir(parents=True, exist_ok=True)
        config = {"model": type(monitor.model).__name__, "data": self._data,
                  "probe_size": monitor.n, "layers": monitor.layers, "schedule": self.schedule,
                  "rule": monitor.rule, "alpha": monitor.alpha, "conv_mode": monitor.conv_mode,
                  "dtype": monitor.dtype, "dpi_tolerance": monitor.dpi_tolerance,
                  "pid_layers": monitor.pid_layers, "max_epochs": trainer.max_epochs}
        folder.write_json("config.json", {"config": config,
                                          "resolved": {"method": repr(monitor.method)},
                                          "versions": versions()})
        folder.file("measurements.csv").unlink(missing_ok=True)
        folder.append_measurements(monitor.records())
        folder.write_json("timing.json", {
            "train_seconds": self.train_seconds - self.measure_seconds,
            "measure_seconds": self.measure_seconds,
        })
        if self.sensitivity:
            sensitivity = folder.file("sensitivity.csv")
            sensitivity.unlink(missing_ok=True)
            append_rows(sensitivity, SENSITIVITY_FIELDS, dpi_sensitivity(
                monitor.inputs, monitor.labels, monitor.activations(), alpha=monitor.alpha,
                tolerance=monitor.dpi_tolerance, dtype=monitor.dtype, method=monitor.method,
            ))
        write_report(folder.path)
        self.run_folder = folder.path

    # --- checkpoints -----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The records so far (rank zero's) and the time spent, for Lightning's checkpoints."""
        return {
            "monitor": self.monitor.state_dict() if self.monitor is not None else (
                self._saved or {}).get("monitor"),
            "measure_seconds": self.measure_seconds,
            "train_seconds": self.train_seconds + (
                time.perf_counter() - self._started if self._started else 0.0),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue the records of a checkpoint (applied when the fit starts)."""
        self._saved = state_dict
        saved = state_dict.get("monitor") or {"checkpoints": []}
        self._measured = {int(c["step"]) for c in saved["checkpoints"]}
        self.measure_seconds = float(state_dict.get("measure_seconds", 0.0))
        self.train_seconds = float(state_dict.get("train_seconds", 0.0))
        if self.monitor is not None and state_dict.get("monitor") is not None:
            self.monitor.load_state_dict(state_dict["monitor"])
