"""InformationMonitor: measure every chosen layer of a model on a fixed probe set.

Use it from any training loop::

    monitor = InformationMonitor(model, probe_x, probe_y, layers=["conv1", "conv2", "fc1"])
    for step, (xb, yb) in enumerate(loader):
        ...                                   # your training step
        if step % 50 == 0:
            checkpoint = monitor.measure(step)
            print(checkpoint.verdict)          # DPI 1 and DPI 2 at this step
    rows = monitor.records()                   # tidy: step, epoch, layer, quantity, value

``measure`` registers forward hooks only for its own forward pass, runs the probe set in eval
mode without gradients, restores the model's mode, and removes every hook even when the
forward pass raises. H(X), H(Y) and I(X;Y) are computed once; each checkpoint costs one
Gram matrix per layer variable and two full eigendecompositions per layer.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from infoflow._deferred import deferred_checks, error_prefix
from infoflow.kernels import label_gram
from infoflow.kernels.gram import _as_label_vector as label_vector
from infoflow.measures.resampling import GroupJackknife, Interval
from infoflow.measures.spectrum import StructureAssumed
from infoflow.monitor.activations import check_forward_fn, check_model, probe_activations
from infoflow.monitor.chains import find_chains
from infoflow.monitor.distributed import measure_across_ranks, process_group, unwrap_model
from infoflow.monitor.dpi import EXCESS, Chains, DPIVerdict, check_dpi, link_name
from infoflow.monitor.information_plane import information_plane, probe_cache
from infoflow.monitor.layer_grams import (
    device_widths_of_layers,
    estimator_array,
    estimator_labels,
    feature_map_grams,
    gram_with_rule,
    layer_grams,
    layer_grams_of_widths,
    widths_of_layers,
)
from infoflow.monitor.layer_specs import LayerSpec, resolve_layers
from infoflow.monitor.probe_inputs import ForwardFn, as_probe, input_matrix, model_dtype, moved
from infoflow.monitor.uncertainty import PlaneReplicates, check_uncertainty
from infoflow.options import (
    ALPHA,
    CONV_MODE,
    DPI_TOLERANCE,
    DTYPE,
    EPOCH,
    METHOD,
    PROBE_BATCH_SIZE,
    RULE,
    SATURATION,
    STEP,
    UNCERTAINTY,
)

#: The columns of :meth:`InformationMonitor.records` and :meth:`InformationMonitor.to_dataframe`
#: (``low`` and ``high`` only with intervals).
_RECORD_COLUMNS = ("step", "epoch", "layer", "quantity", "value", "low", "high")


class SaturationWarning(UserWarning):
    """A layer's entropy is near log2 n or near 0: the kernel width is then meaningless."""


def is_saturated(entropy: float, n: int, fraction: float = SATURATION.default) -> bool:
    """Whether an entropy of ``entropy`` bits on n samples is within ``fraction`` of log2 n
    from 0 or from log2 n (docs/method.md §4)."""
    top = math.log2(n)
    return not fraction * top < entropy < (1 - fraction) * top


@dataclass(frozen=True)
class Checkpoint:
    """The measurements at one step: values keyed by (layer, quantity), in bits, and their
    confidence intervals when the monitor measures its uncertainty (else ``intervals`` is empty)."""

    step: int
    epoch: int | None
    values: dict[tuple[str, str], float]
    verdict: DPIVerdict
    saturated: tuple[str, ...]
    intervals: dict[tuple[str, str], Interval] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """Tidy rows: one per layer × quantity. With intervals, each row also has the
        interval's ``low`` and ``high``, and one more row per Markov link and inequality:
        layer ``"earlier->later"``, quantity ``"DPI 1 excess"`` or ``"DPI 2 excess"``, the excess
        and its interval (a link's three-valued status is read back from it)."""
        rows = []
        for (layer, q), v in self.values.items():
            row = {"step": self.step, "epoch": self.epoch, "layer": layer, "quantity": q,
                   "value": v}
            if self.intervals:
                interval = self.intervals[(layer, q)]
                row.update(low=interval.low, high=interval.high)
            rows.append(row)
        if self.intervals:
            rows += [{"step": self.step, "epoch": self.epoch,
                      "layer": link_name(r.earlier, r.later), "quantity": EXCESS.format(r.inequality),
                      "value": r.excess, "low": r.low, "high": r.high}
                     for r in self.verdict.links if r.markov]
        return rows


def _model_device(model: torch.nn.Module) -> torch.device:
    """Where the model computes (its first parameter's device; the CPU for a parameterless one)."""
    return next(iter(model.parameters()), torch.empty(0)).device


def _probe_labels(labels: Any, n: int) -> np.ndarray:
    """Integer labels from integer labels or one-hot rows (NumPy, torch or a list)."""
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) or ({n}, classes) like the probe "
                         f"inputs, got {y.shape}")
    try:
        return np.asarray(label_vector(y))
    except (TypeError, ValueError) as error:
        raise type(error)(str(error).replace("y ", "labels ", 1)) from error


class InformationMonitor:
    """Measure I(X;T), I(T;Y) and H(T) of chosen layers on a fixed probe set.

    Parameters
    ----------
    model : torch.nn.Module
        The model, or its DistributedDataParallel / DataParallel wrapper: the monitor measures
        the module inside (layer names as in the user's module) and never starts collective
        communication through the wrapper's forward.
    inputs : tensor or NumPy array of shape (n, ...), or a dict, tuple or list of them
        The probe inputs X, n >= 2; moved to the model's device when measuring. NumPy floats take
        the model's dtype. X's Gram is of every tensor flattened per sample and concatenated.
    labels : integer labels of shape (n,) or one-hot rows (n, classes), NumPy, torch or a list
        The probe labels Y (delta kernel).
    layers : sequence of layer specs, or a mapping of names to specs, optional
        Module names, types or objects, each optionally with an output selector, as in
        :mod:`infoflow.monitor.layer_specs`; default the model's ``layer_names``.
    chains : sequence of sequences of layer names, optional
        Markov chains to judge the DPIs on, each checked on the model's graph; default: derived
        from the graph (:func:`~infoflow.monitor.chains.find_chains`). The result is
        :attr:`chains`.
    forward_fn : callable ``forward_fn(model, batch)``, optional
        How to call the model on a batch of the probe inputs (default ``model(batch)``): for
        keyword inputs, ``lambda m, b: m(**b)``; for extra arguments, ``lambda m, b: m(b, mask)``.
    rule : str, default "silverman"
        Kernel width rule for X and every layer variable (see :func:`infoflow.kernel_width`).
    alpha : float, default 1.01
    conv_mode : {"tensor", "feature_maps"}, default "tensor"
        A conv layer as one tensor with one σ, or as C feature maps with one σ each (the
        paper's, which saturates at log2 n on small images: docs/information_flow.md).
    dtype : {"float64", "float32"}, default "float64"
    dpi_tolerance : float, default 1e-6
        Bits by which a later link may exceed an earlier one before a DPI counts as broken.
    saturation : float, default 0.05
        A layer is saturated when H(T) is within this fraction of log2 n from 0 or from log2 n.
    batch_size : int, default 512
        Probe batch size for the forward pass.
    pid_layers : sequence of str, optional
        Conv layers (among ``layers``) whose feature maps are also decomposed into redundancy
        and synergy about the labels (:mod:`infoflow.pid`); costs 2C extra eigendecompositions
        per layer and checkpoint.
    method : {"exact", "lanczos", "nystrom", "auto"} or a method object, default "auto"
        How spectra are computed; the resolved method is :attr:`method` ("auto" is exact up to
        2000 probe samples).
    distributed : bool or process group, default False
        Spread each checkpoint's entropies (eigendecompositions) across the ranks of the
        initialised ``torch.distributed`` process group (True: the default group); every rank
        must call :meth:`measure` at the same steps and gets the same values
        (:mod:`infoflow.monitor.distributed`).
    timeout : float, default 600
        Seconds a rank of a distributed measurement waits for the others before raising
        :class:`~infoflow.monitor.distributed.DistributedMeasurementError` (gloo; other backends
        use the process group's timeout).
    uncertainty : bool or GroupJackknife, default False
        Also give every quantity a confidence interval and the DPI links three-valued verdicts
        (:mod:`infoflow.monitor.uncertainty`; docs/method.md §8, 'How sure is each number'):
        ``True`` for 90 % intervals from a jackknife over 10 random groups of the probe, or a
        :class:`~infoflow.measures.resampling.GroupJackknife` scheme. The replicates reuse the
        checkpoint's Gram matrices; they cost 10 more estimates on 0.9 n samples per
        checkpoint, about 8 times the checkpoint (docs/uncertainty.md). Not with ``distributed``.

    Raises
    ------
    TypeError, ValueError
        A malformed argument, named in the message: probe inputs that are not real numbers,
        not finite in the dtype they are computed in, or fewer than 2; labels of another
        length or not integer classes; an option out of its range (:mod:`infoflow.options`),
        also ``step`` and ``epoch`` of :meth:`measure` (integers >= 0).
    TypeError, ValueError, IndexError, RuntimeError
        A layer that cannot be measured, named in the message: a spec that matches no module,
        a selector that does not fit its output, NaN or infinite activations, a layer that did
        not run or ran more than once in one forward pass.
    MemoryBudgetError
        A Gram matrix that would exceed the memory budget (:func:`infoflow.set_memory_options`).

    Errors raised by the model's own forward pass propagate unchanged.
    """

    def __init__(
        self,
        model: nn.Module,
        inputs: Any,
        labels: Any,
        *,
        layers: Sequence[LayerSpec] | Mapping[str, LayerSpec] | None = None,
        chains: Sequence[Sequence[str]] | None = None,
        forward_fn: ForwardFn | None = None,
        rule: str = RULE.default,
        alpha: float = ALPHA.default,
        conv_mode: str = CONV_MODE.default,
        dtype: str = DTYPE.default,
        dpi_tolerance: float = DPI_TOLERANCE.default,
        saturation: float = SATURATION.default,
        batch_size: int = PROBE_BATCH_SIZE.default,
        pid_layers: Sequence[str] = (),
        method: Any = METHOD.default,
        distributed: Any = False,
        timeout: float = 600.0,
        uncertainty: bool | GroupJackknife = UNCERTAINTY.default,
    ) -> None:
        self.model = check_model(model)
        self.forward_fn = check_forward_fn(forward_fn)
        self.inputs, n = as_probe(inputs, model_dtype(model))
        rule, conv_mode = RULE.check(rule), CONV_MODE.check(conv_mode)
        alpha, dtype = ALPHA.check(alpha), DTYPE.check(dtype)
        dpi_tolerance, saturation = DPI_TOLERANCE.check(dpi_tolerance), SATURATION.check(saturation)
        batch_size = PROBE_BATCH_SIZE.check(batch_size)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        self._group = process_group(distributed)
        self.timeout = float(timeout)
        model = unwrap_model(model)
        self.model = model
        self.labels = _probe_labels(labels, n)
        self._layers = resolve_layers(model, layers)
        self.layers = [layer.name for layer in self._layers]
        if isinstance(pid_layers, str):
            raise TypeError(f"pid_layers must be a sequence of layer names, got the string "
                            f"{pid_layers!r}")
        self.pid_layers = list(pid_layers or ())
        outside = [name for name in self.pid_layers if name not in self.layers]
        if outside:
            raise ValueError(
                f"pid_layers must be among the measured layers {self.layers}, got {outside}"
            )
        self.rule, self.conv_mode = rule, conv_mode
        self.alpha, self.dtype = alpha, dtype
        self.dpi_tolerance, self.saturation, self.batch_size = dpi_tolerance, saturation, batch_size
        self.checkpoints: list[Checkpoint] = []
        self._warned: set[str] = set()
        # every Gram lives where the activations are computed: the model's device at the start
        self._device = _model_device(model)
        self._y_gram = label_gram(estimator_labels(self.labels, self._device))
        #: The Markov chains the DPIs are judged on, and the pairs of layers that are not links.
        self.chains: Chains = find_chains(model, self.inputs, self._layers, chains=chains,
                                          forward_fn=self.forward_fn)
        x_gram = gram_with_rule(estimator_array(input_matrix(self.inputs), self._device), rule,
                                self._y_gram)
        self._probe = probe_cache(x_gram, self._y_gram, alpha=self.alpha, dtype=self.dtype,
                                  method=method)
        self.method = self._probe.method
        self._structured: set[str] = set()  # layers found to have a block structure (dead)
        self.uncertainty = check_uncertainty(uncertainty)
        if self.uncertainty is not None and self._group is not None:
            raise ValueError("uncertainty is not available with distributed measurement; "
                             "measure with distributed=False for confidence intervals")
        try:
            self._replicates = (None if self.uncertainty is None
                                else PlaneReplicates(self._probe, self.uncertainty))
        except ValueError as error:
            raise ValueError(f"uncertainty: {error}") from None

    @property
    def n(self) -> int:
        """Probe size."""
        return len(self.labels)

    def activations(self) -> dict[str, torch.Tensor]:
        """The chosen layers' outputs on the probe set, with hooks scoped to this call."""
        # the probe was checked when the monitor was made: its values are not read again
        return probe_activations(
            self.model, moved(self.inputs, _model_device(self.model)), self.n, self._layers,
            batch_size=self.batch_size, forward=self.forward_fn,
        )

    def measure(self, step: int, *, epoch: int | None = None) -> Checkpoint:
        """Measure every chosen layer now; returns (and keeps) the checkpoint.

        With ``distributed`` every rank must call it at the same step; each rank computes a
        share of the entropies and keeps the same checkpoint.
        """
        step, epoch = STEP.check(step), EPOCH.check(epoch)
        intervals, excess = {}, {}
        if self._group is not None:
            values = measure_across_ranks(self._values, group=self._group, timeout=self.timeout,
                                          what=f"measuring step {step}")
        elif self._replicates is None:
            values = self._values()
        else:
            grams = self._layer_grams()
            values = self._values(grams=grams)
            replicates = self._replicates.replicates(grams, pid_layers=self.pid_layers)
            intervals = self._replicates.intervals(values, replicates)
            excess = {link: (i.low, i.high) for link, i in
                      self._replicates.excess_intervals(self.chains, values, replicates).items()}
        checkpoint = Checkpoint(step, epoch, values, self._verdict(values, excess),
                                self._saturated(values), intervals)
        self.checkpoints.append(checkpoint)
        return checkpoint

    def _layer_grams(self) -> dict[str, list[Any]]:
        acts = {name: estimator_array(a, self._device) for name, a in self.activations().items()}
        widths = self._widths(acts)
        with deferred_checks():  # on a device: one read of every layer's checks, each named
            return {name: self._grams(name, acts[name], widths.get(name))
                    for name in self.layers}

    def _widths(self, acts: dict[str, Any]) -> dict[str, list[Any]]:
        """The widths of every layer outside ``pid_layers``: on a device under "silverman" as
        tensors there (no host read), else read from a device together; empty where that
        fails, so that each layer finds its own and an error names the layer."""
        plain = {name: acts[name] for name in self.layers if name not in self.pid_layers}
        if self.rule == "silverman":
            on_device = device_widths_of_layers(plain, conv_mode=self.conv_mode)
            if on_device is not None:
                return on_device
        try:
            return widths_of_layers(plain, rule=self.rule, conv_mode=self.conv_mode,
                                    target=self._y_gram)
        except (TypeError, ValueError):
            return {}

    def _values(self, precompute: Any = None, grams: dict[str, list[Any]] | None = None,
                ) -> dict[tuple[str, str], float]:
        with deferred_checks():  # on a device: every check of the checkpoint read once
            grams = self._layer_grams() if grams is None else grams
            while precompute is None:  # on a device the layers' Grams are taken as
                # unstructured (one host read less); a layer found otherwise (a dead layer,
                # say) is looked at from then on, and the checkpoint computed again
                assumed = [name for name in self.layers if name not in self._structured]
                try:
                    return information_plane(self._probe, grams, pid_layers=self.pid_layers,
                                             assume_unstructured=assumed)
                except StructureAssumed as found:
                    if found.name not in assumed:
                        raise
                    self._structured.add(found.name)
            return information_plane(self._probe, grams, pid_layers=self.pid_layers,
                                     precompute=precompute)

    def _verdict(self, values: dict[tuple[str, str], float],
                 excess: dict[tuple[str, str, str], tuple[float, float]] | None = None,
                 ) -> DPIVerdict:
        return check_dpi(values, self.chains, tolerance=self.dpi_tolerance,
                         excess_intervals=excess)

    def _grams(self, name: str, activation: Any, widths: list[float] | None = None,
               ) -> list[Any]:
        """The layer's Gram matrices (with its ``widths`` where they are known); an error, at
        once or from a check read later, names the layer."""
        try:
            with error_prefix(f"layer {name!r}:", ValueError):
                if name in self.pid_layers:
                    return feature_map_grams(activation, rule=self.rule,
                                             conv_mode=self.conv_mode, target=self._y_gram)
                if widths is None:
                    return layer_grams(activation, rule=self.rule, conv_mode=self.conv_mode,
                                       target=self._y_gram)
                return layer_grams_of_widths(activation, widths, conv_mode=self.conv_mode)
        except TypeError as error:  # raised at once (never queued): named here
            raise type(error)(f"layer {name!r}: {error}") from error

    def _saturated(self, values: dict[tuple[str, str], float]) -> tuple[str, ...]:
        top = math.log2(self.n)
        saturated = tuple(
            name for name in self.layers
            if is_saturated(values[(name, "H(T)")], self.n, self.saturation)
        )
        for name in saturated:
            if name not in self._warned:
                self._warned.add(name)
                warnings.warn(
                    f"layer {name!r} is saturated: H(T) = {values[(name, 'H(T)')]:.3f} bits with "
                    f"log2 n = {top:.3f}; with rule {self.rule!r} its kernel width makes the "
                    "entropy uninformative (docs/method.md §4)",
                    SaturationWarning,
                    stacklevel=3,
                )
        return saturated

    def records(self) -> list[dict[str, Any]]:
        """Tidy rows of every checkpoint so far."""
        return [row for checkpoint in self.checkpoints for row in checkpoint.rows()]

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame with columns step, epoch, layer, quantity, value
        (epoch a nullable integer); needs pandas (``pip install 'infoflow[pandas]'``)."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError(
                "InformationMonitor.to_dataframe needs pandas, which is not installed; install "
                "it with: pip install 'infoflow[pandas]'"
            ) from error
        columns = _RECORD_COLUMNS if self.uncertainty is not None else _RECORD_COLUMNS[:5]
        frame = pandas.DataFrame(self.records(), columns=list(columns))
        return frame.astype({"step": "int64", "epoch": "Int64", "value": "float64"})

    def state_dict(self) -> dict[str, Any]:
        """The checkpoints so far and the settings they were measured with, as plain data
        (lists, numbers, strings): ``torch.save``, JSON and Lightning checkpoints hold it."""
        return {
            "settings": self._settings(),
            "checkpoints": [
                {"step": c.step, "epoch": c.epoch, "saturated": list(c.saturated),
                 "values": [[layer, quantity, value] for (layer, quantity), value
                            in c.values.items()],
                 "intervals": [[layer, quantity, i.low, i.high, i.center, i.level]
                               for (layer, quantity), i in c.intervals.items()],
                 "excess": [[r.inequality, r.earlier, r.later, r.low, r.high]
                            for r in c.verdict.links if r.markov and c.intervals]}
                for c in self.checkpoints
            ],
            "warned": sorted(self._warned),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the records of :meth:`state_dict`: its checkpoints replace this monitor's.

        Raises ValueError when the state was measured with other settings (layers, probe size,
        alpha, width rule, layer-kernel mode, precision), whose values would not continue these.
        """
        if not isinstance(state, dict) or "checkpoints" not in state:
            raise TypeError(f"state must be a dict from InformationMonitor.state_dict(), got "
                            f"{type(state).__name__}")
        ours = self._settings()
        differ = {k: (v, ours.get(k)) for k, v in state.get("settings", {}).items()
                  if ours.get(k) != v}
        if differ:
            raise ValueError(
                "state was measured with other settings than this monitor's: "
                + ", ".join(f"{k} {saved!r} (this monitor: {mine!r})"
                            for k, (saved, mine) in differ.items())
            )
        checkpoints = []
        for saved in state["checkpoints"]:
            values = {(layer, quantity): float(value) for layer, quantity, value in saved["values"]}
            intervals = {(layer, quantity): Interval(low, high, center, level)
                         for layer, quantity, low, high, center, level in saved.get("intervals", ())}
            excess = {(inequality, earlier, later): (low, high)
                      for inequality, earlier, later, low, high in saved.get("excess", ())}
            checkpoints.append(Checkpoint(int(saved["step"]), saved["epoch"], values,
                                          self._verdict(values, excess),
                                          tuple(saved["saturated"]), intervals))
        self.checkpoints = checkpoints
        self._warned = set(state.get("warned", ()))

    def _settings(self) -> dict[str, Any]:
        return {"layers": list(self.layers), "n": self.n, "alpha": self.alpha, "rule": self.rule,
                "conv_mode": self.conv_mode, "dtype": self.dtype,
                "pid_layers": list(self.pid_layers)}
