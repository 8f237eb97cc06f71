"""A run's tidy records read back as per-step series, with DPI verdicts recomputed from them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from infoflow.monitor import Chains, DPIVerdict, check_dpi, dpi_shares
from infoflow.monitor.information_plane import map_quantity
from infoflow.storage.run_folder import RunFolder, read_rows


@dataclass
class RunRecords:
    """Everything the report shows, read from a run folder."""

    config: dict
    resolved: dict
    steps: np.ndarray
    layers: list[str]
    series: dict[tuple[str, str], np.ndarray]
    epochs: list[dict[str, float]]
    verdicts: list[DPIVerdict]
    chains: Chains
    sensitivity: list[dict[str, str]]
    timing: dict[str, float]

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

    def values_at(self, index: int) -> dict[tuple[str, str], float]:
        return {key: float(v[index]) for key, v in self.series.items()}


def load_records(folder: RunFolder) -> RunRecords:
    """Read a run folder's records (as much as has been measured)."""
    config = folder.config()
    rows = folder.measurements()
    if not rows:
        raise ValueError(f"{folder.path} holds no measurements yet")
    by_step: dict[int, dict[tuple[str, str], float]] = defaultdict(dict)
    layers: list[str] = []
    for row in rows:
        by_step[int(row["step"])][(row["layer"], row["quantity"])] = float(row["value"])
        if row["quantity"] == "I(X;T)" and row["layer"] not in layers:
            layers.append(row["layer"])
    steps = np.array(sorted(by_step))
    keys = sorted({key for values in by_step.values() for key in values})
    series = {key: np.array([by_step[s].get(key, np.nan) for s in steps]) for key in keys}
    tolerance = float(config.get("dpi_tolerance", 1e-6))
    resolved = folder.resolved()
    # runs recorded before chains were checked measured one chain, the layers in order
    chains = Chains.from_dict(resolved["chains"]) if "chains" in resolved else Chains.of(layers)
    verdicts = [check_dpi(by_step[s], chains, tolerance=tolerance) for s in steps]
    epochs = [{k: float(v) for k, v in row.items()} for row in folder.training()]
    return RunRecords(
        config=config, resolved=resolved, steps=steps, layers=layers, series=series,
        epochs=epochs, verdicts=verdicts, chains=chains, sensitivity=read_rows(folder.file("sensitivity.csv")),
        timing=folder.read_json("timing.json", {}),
    )
