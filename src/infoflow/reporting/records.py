"""A run's tidy records as per-step series, with DPI verdicts recomputed from them.

The records come from a run folder, from :meth:`InformationMonitor.records
<infoflow.monitor.InformationMonitor.records>` (a list of tidy rows) or from a pandas DataFrame
with the same columns (``step, epoch, layer, quantity, value``, and ``low, high`` where the
values have confidence intervals); :func:`as_records` takes any of them, and so does every
plotting and report function. Records without ``low`` and ``high`` (run folders written before
those columns) read as measured without uncertainty: their DPI verdicts are two-valued.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from infoflow.monitor import DPI_TOLERANCE, Chains, DPIVerdict, check_dpi, dpi_shares
from infoflow.monitor.dpi import EXCESS, compared, link_name
from infoflow.monitor.information_plane import map_quantity
from infoflow.monitor.monitor import is_saturated
from infoflow.storage.run_folder import MEASUREMENT_FIELDS, RunFolder, read_rows


@dataclass
class RunRecords:
    """Everything the report shows: the measurements, and what a run folder adds to them."""

    config: dict
    resolved: dict
    steps: np.ndarray
    layers: list[str]
    series: dict[tuple[str, str], np.ndarray]
    bounds: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Per quantity, the low and high ends of its confidence intervals over the checkpoints;
    only quantities measured with uncertainty."""
    epochs: list[dict[str, float]] = field(default_factory=list)
    verdicts: list[DPIVerdict] = field(default_factory=list)
    chains: Chains | None = None
    sensitivity: list[dict[str, str]] = field(default_factory=list)
    width_curves: list[dict[str, str]] = field(default_factory=list)
    """Rows of width_curves.csv (empty for runs recorded before width curves existed)."""
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def pid_layers(self) -> list[str]:
        """Layers measured with the partial information decomposition."""
        return [layer for layer in self.layers if (layer, "RST") in self.series]

    def map_information(self, layer: str) -> np.ndarray:
        """I(T^c;Y) of each feature map over the checkpoints, shape (C, checkpoints)."""
        count = sum(1 for key in self.series if key[0] == layer and key[1].startswith("I(T")
                    and key[1][3:4].isdigit())
        return np.array([self.series[(layer, map_quantity(c))] for c in range(count)])

    @property
    def shares(self) -> dict[str, float]:
        return dpi_shares(self.verdicts)

    def saturation(self) -> list[dict[str, object]]:
        """Per layer that saturated at some checkpoint: the first and last such step, the
        share of checkpoints, and whether it is saturated at the end (H(T) within 5 % of log2 n
        from 0 or from log2 n). Empty when the probe size is unknown (records without a run
        configuration)."""
        if "probe_size" not in self.config:
            return []
        n = int(self.config["probe_size"])
        rows = []
        for layer in self.layers:
            mask = np.array([is_saturated(h, n) for h in self.series[(layer, "H(T)")]])
            if mask.any():
                rows.append({"layer": layer, "first step": int(self.steps[mask][0]),
                             "last step": int(self.steps[mask][-1]),
                             "checkpoints": f"{mask.sum()} of {len(mask)}",
                             "at the end": "yes" if mask[-1] else "no"})
        return rows

    def values_at(self, index: int) -> dict[tuple[str, str], float]:
        return {key: float(v[index]) for key, v in self.series.items()}


#: The columns every row must have; ``epoch``, ``low`` and ``high`` may be missing.
REQUIRED_FIELDS = ("step", "layer", "quantity", "value")


def _number(value: Any) -> float:
    """A recorded bound; an empty or missing cell (no interval) is NaN."""
    return float(value) if value not in (None, "") else np.nan


def records_from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    config: Mapping[str, Any] | None = None,
    resolved: Mapping[str, Any] | None = None,
    epochs: list[dict[str, float]] | None = None,
    sensitivity: list[dict[str, str]] | None = None,
    width_curves: list[dict[str, str]] | None = None,
    timing: Mapping[str, float] | None = None,
) -> RunRecords:
    """:class:`RunRecords` from tidy rows (``step, epoch, layer, quantity, value``; numbers or
    the strings a CSV file holds). Layers are taken in the order their I(X;T) first appears;
    the DPI chains are ``resolved["chains"]`` if recorded, else one chain of the layers in order."""
    config = dict(config or {})
    by_step: dict[int, dict[tuple[str, str], float]] = defaultdict(dict)
    intervals: dict[int, dict[tuple[str, str], tuple[float, float]]] = defaultdict(dict)
    layers: list[str] = []
    for row in rows:
        missing = [name for name in REQUIRED_FIELDS if name not in row]
        if missing:
            raise ValueError(
                f"records must be tidy rows with columns {list(MEASUREMENT_FIELDS)}; a row lacks "
                f"{missing}: {dict(row)}"
            )
        key = (str(row["layer"]), str(row["quantity"]))
        by_step[int(row["step"])][key] = float(row["value"])
        low, high = _number(row.get("low")), _number(row.get("high"))
        if not (np.isnan(low) and np.isnan(high)):
            intervals[int(row["step"])][key] = (low, high)
        if row["quantity"] == "I(X;T)" and row["layer"] not in layers:
            layers.append(str(row["layer"]))
    if not by_step:
        raise ValueError("records hold no measurements yet")
    steps = np.array(sorted(by_step))
    keys = sorted({key for values in by_step.values() for key in values})
    series = {key: np.array([by_step[s].get(key, np.nan) for s in steps]) for key in keys}
    bounds = {
        key: tuple(np.array([intervals[s].get(key, (np.nan, np.nan))[end] for s in steps])
                   for end in (0, 1))
        for key in keys if any(key in intervals[s] for s in steps)
    }
    tolerance = float(config.get("dpi_tolerance", DPI_TOLERANCE))
    resolved = dict(resolved or {})
    # runs recorded before chains were checked measured one chain, the layers in order
    chains = Chains.from_dict(resolved["chains"]) if "chains" in resolved else Chains.of(layers)
    verdicts = [
        check_dpi(by_step[s], chains, tolerance=tolerance, excess_intervals={
            (inequality, link.earlier, link.later): interval
            for inequality, link, _, _ in compared(chains)
            if (interval := intervals[s].get((link_name(link.earlier, link.later),
                                              EXCESS.format(inequality)))) is not None
        })
        for s in steps
    ]
    return RunRecords(
        config=config, resolved=resolved, steps=steps, layers=layers, series=series,
        bounds=bounds, epochs=list(epochs or []), verdicts=verdicts, chains=chains,
        sensitivity=list(sensitivity or []), width_curves=list(width_curves or []),
        timing=dict(timing or {}),
    )


def load_records(folder: RunFolder | str | os.PathLike) -> RunRecords:
    """Read a run folder's records (as much as has been measured)."""
    folder = folder if isinstance(folder, RunFolder) else RunFolder(folder)
    config = folder.config()
    rows = folder.measurements()
    if not rows:
        raise ValueError(f"{folder.path} holds no measurements yet")
    return records_from_rows(
        rows, config=config, resolved=folder.resolved(),
        epochs=[{k: float(v) for k, v in row.items()} for row in folder.training()],
        sensitivity=read_rows(folder.file("sensitivity.csv")),
        width_curves=read_rows(folder.file("width_curves.csv")),
        timing=folder.read_json("timing.json", {}),
    )


def _is_dataframe(data: Any) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "to_dict")


def as_records(data: Any) -> RunRecords:
    """:class:`RunRecords` from any form of a run's records.

    Parameters
    ----------
    data : RunRecords, run folder (path or :class:`~infoflow.storage.RunFolder`), list of tidy
        rows (``monitor.records()``) or pandas DataFrame (``monitor.to_dataframe()``)
    """
    if isinstance(data, RunRecords):
        return data
    if isinstance(data, (RunFolder, str, os.PathLike)):
        return load_records(data)
    if _is_dataframe(data):
        return records_from_rows(data.to_dict("records"))
    if isinstance(data, Iterable) and not isinstance(data, (Mapping, bytes)):
        return records_from_rows(list(data))
    raise TypeError(
        "records must be a run folder, RunRecords, a list of tidy rows (monitor.records()) or a "
        f"pandas DataFrame, got {type(data).__name__}"
    )
