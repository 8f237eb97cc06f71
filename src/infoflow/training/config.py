"""The configuration of a training run: every option of ``infoflow run``, validated."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from infoflow.data import DATASETS
from infoflow.models import MODELS
from infoflow.options import (
    ALPHA,
    CONV_MODE,
    DPI_TOLERANCE,
    DTYPE,
    METHOD,
    RULE,
    UNCERTAINTY,
    Option,
)

OPTIMIZERS = ("adam", "sgd")


def _device_name(device: Any) -> Any:
    """A torch device spelled as text ("cpu", "cuda", "cuda:1", "mps")."""
    return str(device) if type(device).__module__.split(".")[0] == "torch" else device


#: Every option of a run, in the order ``infoflow run --help`` lists them. The estimator
#: options are the library's own (:mod:`infoflow.options`), so their defaults agree everywhere.
RUN_OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("data", "digits", "choice", choices=DATASETS,
           help="dataset: digits (bundled), mnist, fashion-mnist, cifar10"),
    Option("data_dir", None, "text", optional=True,
           help="folder with the published dataset files (unset: ~/.cache/infoflow)"),
    Option("download", False, "flag",
           help="fetch missing dataset files, then verify their checksums"),
    Option("model", "lenet5", "choice", choices=MODELS,
           help="lenet5, mlp, vgg or resnet (ResNet-8)"),
    Option("filters", None, "integer", low=1, optional=True, many=True,
           help="filters per conv layer (LeNet-5: conv1 conv2) or stage (VGG, ResNet), or "
                "MLP hidden widths"),
    Option("epochs", 30, "integer", low=1, help="training epochs"),
    Option("batch_size", 64, "integer", low=1, help="training mini-batch size"),
    Option("optimizer", "adam", "choice", choices=OPTIMIZERS,
           help="adam or sgd (momentum 0.9)"),
    Option("lr", 1e-3, "real", low=0, low_open=True, help="learning rate"),
    Option("probe_size", 500, "integer", low=2,
           help="probe samples from the test split used for every measurement"),
    Option("measure_every", 5, "integer", low=1, help="measure every N training steps"),
    Option("layers", None, "text", optional=True, many=True,
           help="module names to measure, in network order (default: the model's layers)"),
    Option("pid_layers", None, "text", optional=True, many=True,
           help="conv layers whose feature maps are decomposed into redundancy and synergy"),
    Option("chains", None, "text", optional=True, many=True,
           help="DPI chains to judge, each a quoted list of measured layers in order, e.g. "
                "'stem layer1.0 pool'; each link is checked (default: derived from the graph)"),
    RULE,
    ALPHA,
    CONV_MODE,
    METHOD,
    DTYPE,
    DPI_TOLERANCE,
    UNCERTAINTY,
    Option("seed", 0, "integer", low=0, high=2**32 - 1,  # NumPy's RandomState takes no more
           help="random seed; the same seed gives the same records"),
    Option("device", "cpu", "text", normalize=_device_name,
           help="torch device: cpu, cuda, cuda:N or mps (checked when the run starts)"),
)}


@dataclass
class RunConfig:
    """Options of a run; the defaults are the README's main job (LeNet-5 on digits, < 3 min).

    Each field's default and constraints are those of :data:`RUN_OPTIONS`; values are checked
    when the configuration is made, with messages naming the option. ``conv_mode`` defaults to
    "tensor": with one width per feature map (the paper's "feature_maps") the C-fold Hadamard
    product of a conv layer saturates at log2 n on the digits under every data-driven width
    rule, which the sensitivity table of each report shows.
    """

    data: str = RUN_OPTIONS["data"].default
    data_dir: str | None = RUN_OPTIONS["data_dir"].default
    download: bool = RUN_OPTIONS["download"].default
    model: str = RUN_OPTIONS["model"].default
    filters: list[int] | None = RUN_OPTIONS["filters"].default
    epochs: int = RUN_OPTIONS["epochs"].default
    batch_size: int = RUN_OPTIONS["batch_size"].default
    optimizer: str = RUN_OPTIONS["optimizer"].default
    lr: float = RUN_OPTIONS["lr"].default
    probe_size: int = RUN_OPTIONS["probe_size"].default
    measure_every: int = RUN_OPTIONS["measure_every"].default
    layers: list[str] | None = RUN_OPTIONS["layers"].default
    pid_layers: list[str] | None = RUN_OPTIONS["pid_layers"].default
    chains: list[str] | None = RUN_OPTIONS["chains"].default
    rule: str = RUN_OPTIONS["rule"].default
    alpha: float = RUN_OPTIONS["alpha"].default
    conv_mode: str = RUN_OPTIONS["conv_mode"].default
    method: str = RUN_OPTIONS["method"].default
    dtype: str = RUN_OPTIONS["dtype"].default
    dpi_tolerance: float = RUN_OPTIONS["dpi_tolerance"].default
    uncertainty: bool = RUN_OPTIONS["uncertainty"].default
    seed: int = RUN_OPTIONS["seed"].default
    device: str = RUN_OPTIONS["device"].default

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, RUN_OPTIONS[f.name].check(getattr(self, f.name)))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunConfig:
        known = {f.name for f in fields(cls)}
        if not isinstance(values, dict):
            raise TypeError(f"a run configuration must be a mapping of option names to values, "
                            f"got {type(values).__name__}")
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
        if path.suffix not in (".json", ".toml"):
            raise ValueError(f"config file must end in .json or .toml, got {path.name}")
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".toml":
                if sys.version_info >= (3, 11):
                    import tomllib
                else:  # pragma: no cover
                    import tomli as tomllib
                values = tomllib.loads(text)
            else:
                values = json.loads(text)
        except ValueError as error:  # JSON, TOML and UTF-8 decoding errors
            raise ValueError(f"config file {path} is not valid {path.suffix[1:].upper()}: "
                             f"{error}") from None
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
