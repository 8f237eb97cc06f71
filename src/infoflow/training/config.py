"""The configuration of a training run: every option of ``infoflow run``, validated."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from infoflow._array import PRECISIONS
from infoflow.data import DATASETS
from infoflow.kernels import RULES
from infoflow.measures.approximation import METHODS
from infoflow.models import MODELS
from infoflow.monitor import CONV_MODES, DPI_TOLERANCE

OPTIMIZERS = ("adam", "sgd")


@dataclass
class RunConfig:
    """Options of a run; the defaults are the README's main job (LeNet-5 on digits, < 3 min).

    ``conv_mode`` defaults to "tensor": with one width per feature map (the paper's
    "feature_maps") the C-fold Hadamard product of a conv layer saturates at log2 n on the
    digits under every data-driven width rule, which the sensitivity table of each report shows.
    """

    data: str = "digits"
    data_dir: str | None = None
    download: bool = False
    model: str = "lenet5"
    filters: list[int] | None = None
    epochs: int = 30
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-3
    probe_size: int = 500
    measure_every: int = 5
    layers: list[str] | None = None
    pid_layers: list[str] | None = None
    rule: str = "silverman"
    alpha: float = 1.01
    conv_mode: str = "tensor"
    method: str = "auto"
    dtype: str = "float64"
    dpi_tolerance: float = DPI_TOLERANCE
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        choices = {"data": DATASETS, "model": MODELS, "optimizer": OPTIMIZERS, "rule": RULES,
                   "conv_mode": CONV_MODES, "method": METHODS, "dtype": PRECISIONS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("epochs", "batch_size", "probe_size", "measure_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.probe_size < 2:
            raise ValueError(f"probe_size must be >= 2, got {self.probe_size}")
        for name in ("lr", "alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        if self.dpi_tolerance < 0:
            raise ValueError(f"dpi_tolerance must be >= 0, got {self.dpi_tolerance}")
        if self.filters is not None and (
            not self.filters or any(not isinstance(f, int) or f < 1 for f in self.filters)
        ):
            raise ValueError(f"filters must be positive integers, got {self.filters!r}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys {unknown}; known: {sorted(known)}")
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> RunConfig:
        """Read a JSON or TOML file (TOML needs Python >= 3.11 or the tomli package)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"config file {path} does not exist")
        if path.suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            values = tomllib.loads(path.read_text())
        elif path.suffix == ".json":
            values = json.loads(path.read_text())
        else:
            raise ValueError(f"config file must end in .json or .toml, got {path.name}")
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
