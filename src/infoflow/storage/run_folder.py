"""A run's folder: configuration, tidy records appended as they are measured, checkpoints.

Layout::

    config.json        configuration, what "auto" resolved to (spectrum method), versions
    measurements.csv   step, epoch, layer, quantity, value — appended at every checkpoint
    training.csv       epoch, train_loss, train_accuracy, test_accuracy — appended per epoch
    timing.json        seconds spent training and measuring
    state.pt           model, optimizer and loop position after the last record (for --resume)
    sensitivity.csv    DPI verdicts per width rule and layer-kernel mode, at the end
    plots/*.png, report.html

Rows are flushed and synced as they are written, and ``state.pt`` is replaced atomically
after them, so a run killed at any moment keeps every record already measured; rows written
after the last state are dropped on resume and measured again, identically.
"""

from __future__ import annotations

import csv
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

MEASUREMENT_FIELDS = ("step", "epoch", "layer", "quantity", "value")
TRAINING_FIELDS = ("epoch", "train_loss", "train_accuracy", "test_accuracy")
SENSITIVITY_FIELDS = ("rule", "conv_mode", "dpi1", "dpi2", "dpi1_links_held", "dpi2_links_held")


def versions() -> dict[str, str]:
    from infoflow import __version__

    return {"infoflow": __version__, "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__, "platform": platform.platform()}


def append_rows(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Append rows to a CSV file (header first if new), flushed and synced."""
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def keep_rows(path: Path, fields: tuple[str, ...], keep) -> None:
    """Rewrite a CSV file with only the rows ``keep(row)`` accepts (atomically)."""
    rows = [r for r in read_rows(path) if keep(r)]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


class RunFolder:
    """Read and write one run's folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.plots = self.path / "plots"

    def file(self, name: str) -> Path:
        return self.path / name

    def create(self, config: dict[str, Any], resolved: dict[str, Any] | None = None) -> None:
        """Start a run: write config.json with the options, what "auto" options resolved to
        (the spectrum method actually used) and the library versions."""
        if self.file("config.json").exists():
            raise FileExistsError(
                f"{self.path} already holds a run; resume it with --resume {self.path} or choose "
                "another --out"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.write_json("config.json", {"config": config, "resolved": resolved or {},
                                        "versions": versions()})

    def resolved(self) -> dict[str, Any]:
        return json.loads(self.file("config.json").read_text()).get("resolved", {})

    def config(self) -> dict[str, Any]:
        if not self.file("config.json").exists():
            raise FileNotFoundError(f"{self.path} is not a run folder: it has no config.json")
        return json.loads(self.file("config.json").read_text())["config"]

    def write_json(self, name: str, value: Any) -> None:
        tmp = self.file(name + ".tmp")
        tmp.write_text(json.dumps(value, indent=2))
        tmp.replace(self.file(name))

    def read_json(self, name: str, default: Any = None) -> Any:
        path = self.file(name)
        return json.loads(path.read_text()) if path.exists() else default

    def append_measurements(self, rows: list[dict[str, Any]]) -> None:
        append_rows(self.file("measurements.csv"), MEASUREMENT_FIELDS, rows)

    def append_training(self, row: dict[str, Any]) -> None:
        append_rows(self.file("training.csv"), TRAINING_FIELDS, [row])

    def measurements(self) -> list[dict[str, str]]:
        return read_rows(self.file("measurements.csv"))

    def training(self) -> list[dict[str, str]]:
        return read_rows(self.file("training.csv"))

    def last_measured_step(self) -> int | None:
        """The step of the last checkpoint in the records, or None before the first."""
        rows = self.measurements()
        return max(int(r["step"]) for r in rows) if rows else None

    def save_state(self, state: dict[str, Any]) -> None:
        tmp = self.file("state.pt.tmp")
        torch.save(state, tmp)
        tmp.replace(self.file("state.pt"))

    def load_state(self) -> dict[str, Any] | None:
        path = self.file("state.pt")
        return torch.load(path, weights_only=False) if path.exists() else None

    def truncate_after(self, step: int, epoch: int) -> None:
        """Drop records written after the saved state (measured again on resume)."""
        if self.file("measurements.csv").exists():
            keep_rows(self.file("measurements.csv"), MEASUREMENT_FIELDS,
                      lambda r: int(r["step"]) <= step)
        if self.file("training.csv").exists():
            keep_rows(self.file("training.csv"), TRAINING_FIELDS,
                      lambda r: int(r["epoch"]) < epoch)
