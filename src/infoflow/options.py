"""The options of infoflow, each declared once: kind, range, finiteness, integrality, default.

Every function, :class:`~infoflow.monitor.InformationMonitor`,
:class:`~infoflow.training.RunConfig` and the ``infoflow`` command take their defaults from
this table and check their values with it, as scikit-learn's ``validate_params`` does. A
mistake gets one message style naming the argument, what was expected and what was got::

    alpha must be > 0, got -1.0
    batch_size must be an integer >= 1, got 1.5
    rule must be one of ('silverman', 'scott', 'median', 'knn', 'alignment'), got 'mean'

``TypeError`` for the wrong kind of value (a string for a number, 1.5 for a count, ``True``
for a number), ``ValueError`` for a value of the right kind out of range (NaN included).
The table is printed, as in docs/options.md, by ``python -m infoflow.options``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("real", "integer", "choice", "text", "flag")


@dataclass(frozen=True)
class Option:
    """One option: its kind and constraints, its default and a line of help.

    ``kind`` is "real" (an int or float; finite unless ``infinite``), "integer" (an int, not a
    float or bool), "choice" (one of ``choices``), "text" (any string) or "flag" (a bool).
    ``low``/``high`` bound numbers (``low_open``/``high_open`` exclude the bound); ``optional``
    admits None; ``many`` makes the option a non-empty list of such values; ``normalize`` maps
    accepted spellings to the canonical one before checking (``torch.float32`` → "float32").
    """

    name: str
    default: Any
    kind: str
    help: str = ""
    choices: tuple[str, ...] = ()
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False
    infinite: bool = False
    optional: bool = False
    many: bool = False
    normalize: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    # --- what is expected, in words -------------------------------------------------------
    def bounds(self) -> str:
        """The range in words: "> 0", ">= 0 and < 0.5", "" for no bound."""
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {_number(self.low)}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {_number(self.high)}")
        return " and ".join(parts)

    def expected(self) -> str:
        """What a valid value is, as the messages and the docs say it."""
        if self.kind == "choice":
            text = f"one of {self.choices}"
        elif self.kind == "flag":
            text = "True or False"
        elif self.kind == "text":
            text = "a string"
        else:
            text = "an integer" if self.kind == "integer" else "a real number"
            if self.kind == "real" and not self.infinite:
                text = "a finite real number"
            if self.bounds():
                text += " " + self.bounds()
            if self.kind == "real" and self.infinite:
                text += " (inf allowed)"
        if self.many:
            text = f"a non-empty list, each {text}"
        return text + (", or None" if self.optional else "")

    # --- checking ------------------------------------------------------------------------
    def check(self, value: Any, name: str | None = None) -> Any:
        """``value`` checked and in canonical form (floats as float, integers as int);
        raises ``TypeError`` or ``ValueError`` naming ``name`` (default: the option's name)."""
        name = name or self.name
        if value is None:
            if self.optional:
                return None
            raise TypeError(f"{name} must be {self.expected()}, got None")
        if self.many:
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise TypeError(f"{name} must be {self.expected()}, got {type(value).__name__}")
            if not value:
                raise ValueError(f"{name} must be {self.expected()}, got an empty list")
            return [self._check_one(v, f"{name}[{i}]") for i, v in enumerate(value)]
        return self._check_one(value, name)

    def _check_one(self, value: Any, name: str) -> Any:
        if self.normalize is not None:
            value = self.normalize(value)
        if self.kind == "flag":
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {value!r}")
            return bool(value)
        if self.kind in ("choice", "text"):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be {self._one()}, got {type(value).__name__} "
                                f"{value!r}")
            if self.kind == "choice" and value not in self.choices:
                raise ValueError(f"{name} must be one of {self.choices}, got {value!r}")
            return value
        return self._check_number(value, name)

    def _one(self) -> str:
        return "one of " + str(self.choices) if self.kind == "choice" else "a string"

    def _check_number(self, value: Any, name: str) -> Any:
        integral = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if self.kind == "integer":
            if not integral:
                raise TypeError(f"{name} must be an integer{self._bounds_suffix()}, got "
                                f"{_shown(value)}")
            value = int(value)
        else:
            if not (integral or isinstance(value, (float, np.floating))):
                raise TypeError(f"{name} must be a real number{self._bounds_suffix()}, got "
                                f"{_shown(value)}")
            value = float(value)
            if math.isnan(value):
                raise ValueError(f"{name} must be {self._range_words()}, got nan")
            if math.isinf(value) and not self.infinite:
                raise ValueError(f"{name} must be finite{self._bounds_suffix(' and')}, got "
                                 f"{value}")
        if not self._in_range(value):
            raise ValueError(f"{name} must be {self._range_words()}, got {value!r}")
        return value

    def _in_range(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else
                                      value > self.high):
            return False
        return True

    def _bounds_suffix(self, joiner: str = "") -> str:
        return f"{joiner} {self.bounds()}" if self.bounds() else ""

    def _range_words(self) -> str:
        return self.bounds() or ("a real number" if self.kind == "real" else "an integer")

    # --- the command line ----------------------------------------------------------------
    def parse(self, text: str, name: str | None = None) -> Any:
        """One command-line word as a checked value (a list option parses each element)."""
        name = name or self.name
        if self.kind == "real":
            try:
                value: Any = float(text)
            except ValueError:
                raise ValueError(f"{name} must be {self._element()}, got {text!r}") from None
        elif self.kind == "integer":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"{name} must be {self._element()}, got {text!r}") from None
        else:
            value = text
        return self._check_one(value, name)

    def _element(self) -> str:
        return Option(**{**self.__dict__, "many": False, "optional": False}).expected()


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _shown(value: Any) -> str:
    if isinstance(value, (float, np.floating, bool, np.bool_)):
        return repr(value)
    return f"{type(value).__name__} {value!r}" if isinstance(value, str) else \
        type(value).__name__


def _precision_name(dtype: Any) -> Any:
    """"float32", torch.float32 and numpy.float32 all name the precision "float32"."""
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        return np.dtype(dtype).name
    text = str(dtype)
    return text.removeprefix("torch.") if text.startswith(("torch.", "float")) else dtype


# --- the table ----------------------------------------------------------------------------

ALPHA = Option(
    "alpha", 1.01, "real", low=0, low_open=True, infinite=True,
    help="Rényi order: 1 is the von Neumann (Shannon) limit, 2 needs no eigendecomposition, "
         "inf is the min-entropy; 1.01 is the paper's",
)
DTYPE = Option(
    "dtype", "float64", "choice", choices=("float64", "float32"), normalize=_precision_name,
    help="precision of the spectra (float32: faster, about 1e-5 bits from float64 at α >= 1)",
)
METHOD = Option(
    "method", "auto", "choice", choices=("exact", "lanczos", "nystrom", "auto"),
    help="spectra: auto (exact up to 2000 samples or for a torch input that needs gradients, "
         "else lanczos), exact, lanczos, nystrom "
         "(the functions also take an Exact, Lanczos or Nystrom object)",
)
RULE = Option(
    "rule", "silverman", "choice",
    choices=("silverman", "scott", "median", "knn", "alignment"),
    help="kernel width rule (docs/estimators.md)",
)
CONV_MODE = Option(
    "conv_mode", "tensor", "choice", choices=("feature_maps", "tensor"),
    help="a conv layer as one tensor with one width, or as feature_maps with a width each "
         "(the paper's; saturates at log2 n on the digits, docs/information_flow.md)",
)
DPI_TOLERANCE = Option(
    "dpi_tolerance", 1e-6, "real", low=0,
    help="bits a DPI link may be exceeded by before it counts as broken",
)
UNCERTAINTY = Option(
    "uncertainty", False, "flag",
    help="confidence intervals (level 0.9) for every quantity by a jackknife over 10 groups of "
         "the probe; DPI links then hold, break significantly or are within noise "
         "(about 8x the measuring time; docs/uncertainty.md)",
)
SATURATION = Option(
    "saturation", 0.05, "real", low=0, high=0.5, high_open=True,
    help="a layer is saturated when H(T) is within this fraction of log2 n from 0 or log2 n",
)
PROBE_BATCH_SIZE = Option(
    "batch_size", 512, "integer", low=1,
    help="the monitor's batch size for the probe forward pass",
)
SIGMA = Option("sigma", None, "real", low=0, low_open=True, help="a Gaussian kernel width")
GAMMA = Option(
    "gamma", None, "real", low=0, low_open=True, optional=True,
    help="constant of the scott (default 5) and silverman (default 1) width rules",
)
NEIGHBOURS = Option("k", 10, "integer", low=1, help="neighbours of the knn width rule")
RANK = Option("rank", None, "integer", low=1, help="top eigenvalues an approximation computes")
PROBES = Option("probes", 8, "integer", low=1, help="Lanczos probe vectors")
STEPS = Option("steps", 15, "integer", low=1, help="Lanczos steps per probe")
POWER_ITERATIONS = Option("power_iterations", 1, "integer", low=0,
                          help="power iterations of the randomised range finder")
APPROXIMATION_SEED = Option("seed", 0, "integer", low=0, help="seed of an approximation")
STEP = Option("step", None, "integer", low=0, help="the training step a checkpoint is taken at")
EPOCH = Option("epoch", None, "integer", low=0, optional=True,
               help="the epoch a checkpoint is taken in")

#: The library's options by name (the run's own options are in infoflow.training.config).
OPTIONS: dict[str, Option] = {
    o.name: o for o in (ALPHA, DTYPE, METHOD, RULE, CONV_MODE, DPI_TOLERANCE, UNCERTAINTY,
                        SATURATION, PROBE_BATCH_SIZE, SIGMA, GAMMA, NEIGHBOURS)
}


def check_option(name: str, value: Any, label: str | None = None) -> Any:
    """``value`` of the library option ``name`` checked (see :data:`OPTIONS`)."""
    return OPTIONS[name].check(value, label)


def markdown_table(options: Sequence[Option]) -> str:
    """The options as a Markdown table: name, default, valid values, meaning."""
    lines = ["| option | default | valid values | meaning |", "| --- | --- | --- | --- |"]
    for o in options:
        default = "—" if o.default is None else f"`{o.default!r}`"
        lines.append(f"| `{o.name}` | {default} | {o.expected()} | {o.help} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table(list(OPTIONS.values())))
