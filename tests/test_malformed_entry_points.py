"""Nothing silently wrong, continued: malformed inputs through the monitor and the command line.

Hypothesis malforms one argument at a time — probe inputs, labels, layer specs, chains, the
forward function, the model, every option of :class:`~infoflow.monitor.InformationMonitor`
and of :meth:`~infoflow.monitor.InformationMonitor.measure`, every option of every ``infoflow``
command — keeping the others well-formed. The monitor must then either measure finite values
in their documented ranges or raise a documented exception whose message names the argument;
the command line must exit with status 2 (or 130 where a valid command reached training,
which is stopped there to keep this fast) and one line on stderr naming the option, never a
traceback.
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from infoflow import Lanczos, MemoryBudgetError, Nystrom
from infoflow.cli import main
from infoflow.measures.resampling import GroupJackknife
from infoflow.monitor import InformationMonitor, SaturationWarning
from infoflow.options import Option
from infoflow.training.config import RUN_OPTIONS
from tests.malformed import SPOILED_KINDS, spoiled

#: The monitor's documented exceptions: TypeError and ValueError for a malformed argument,
#: MemoryBudgetError, IndexError for a selector out of range, RuntimeError for a layer that did
#: not run or ran twice in one forward pass (each names the layer).
MONITOR_ERRORS = (TypeError, ValueError, IndexError, RuntimeError, MemoryBudgetError)
ROUND_OFF = 1e-6  # bits


class Tiny(nn.Module):
    """Fixed weights; takes any (n, ...) input of numbers (flattened, averaged to one feature)."""

    layer_names = ("hidden", "out")

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(1, 4)
        self.act = nn.Tanh()
        self.out = nn.Linear(4, 2)
        with torch.no_grad():
            self.hidden.weight.copy_(torch.tensor([[1.0], [-1.0], [0.5], [2.0]]))
            self.hidden.bias.copy_(torch.tensor([0.0, 0.1, -0.1, 0.3]))
            self.out.weight.copy_(torch.tensor([[1.0, 0.5, -1.0, 0.2], [0.3, -0.4, 1.0, 0.0]]))
            self.out.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), -1).to(self.hidden.weight.dtype).mean(1, keepdim=True)
        return self.out(self.act(self.hidden(x)))


SPECIAL = [math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300]


@st.composite
def probes(draw, n: int):
    """Probe inputs of n rows: well-formed often, malformed too."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = draw(st.sampled_from([(n, 3), (n,), (n, 2, 2)]))
    kind = draw(st.sampled_from(["normal", "normal", "constant", "special", "int", "bool",
                                 "complex", "text", "tiny", "scalar", "mismatched", "none",
                                 "list", "dict"]))
    x = rng.normal(size=shape)
    if kind == "constant":
        x = np.full(shape, 3.0)
    elif kind == "text":
        return spoiled(draw, rng, x, kind)
    elif kind in SPOILED_KINDS:
        x = spoiled(draw, rng, x, kind, special=SPECIAL)
    elif kind == "scalar":
        return np.float64(1.0)
    elif kind == "mismatched":
        return (torch.as_tensor(x), torch.zeros(n + 1, 2))
    elif kind == "none":
        return None
    elif kind == "list":
        return x.tolist()
    elif kind == "dict":
        return {"x": torch.as_tensor(x)}  # the model is called with a dict: its own TypeError
    return torch.as_tensor(x) if draw(st.booleans()) else x


@st.composite
def labels(draw, n: int):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    y = rng.integers(0, 3, size=n)
    kind = draw(st.sampled_from(["ints", "ints", "one class", "one-hot", "floats", "nan", "text",
                                 "short", "3-d", "none", "bool", "negative", "list", "torch",
                                 "bad one-hot"]))
    return {
        "ints": y, "one class": np.zeros(n, dtype=int), "one-hot": np.eye(3, dtype=int)[y],
        "floats": y + 0.5, "nan": np.where(y > 0, np.nan, 0.0), "text": y.astype(str),
        "short": y[: max(n - 1, 0)], "3-d": y.reshape(n, 1, 1), "none": None,
        "bool": y > 0, "negative": -y, "list": y.tolist(), "torch": torch.as_tensor(y),
        "bad one-hot": np.full((n, 2), 0.5),
    }[kind]


def _twice(model, batch):
    model(batch)
    return model(batch)


def _skipping_hidden(model, batch):
    return model.out(torch.zeros(len(batch), 4))


LAYERS = [None, ["hidden"], ["act"], [nn.Linear], {"h": "hidden"}, "out", ["nope"], [], [3],
          [("hidden", 0)], [("out", "logits")], [("hidden", 1.5)], [nn.Conv2d], {"": "hidden"},
          [("act", lambda out: out * 2)], ("hidden", 0, 1), ["hidden", "out", "hidden"]]
CHAINS = [None, [["hidden", "out"]], [["out", "hidden"]], [["nope", "out"]], "hidden", [[]],
          [["hidden"]], [[3, 4]]]
OPTIONS = {
    "rule": ["silverman", "scott", "median", "knn", "alignment", "mean", 3, None],
    "alpha": [1e-300, 0.5, 1.0, 1.01, 2.0, 1e300, math.inf, 0, -1.0, math.nan, True, "2", None],
    "conv_mode": ["tensor", "feature_maps", "maps", None],
    "dtype": ["float64", "float32", torch.float32, "float16", 3],
    "dpi_tolerance": [0.0, 1e-6, 1e300, -1e-6, math.nan, math.inf, "0"],
    "saturation": [0.0, 0.05, 0.49, 0.5, -0.1, math.nan],
    "batch_size": [1, 2, 512, 0, -1, 1.5, True, "8"],
    "pid_layers": [(), ["hidden"], ["nope"], "hidden", [3]],
    "method": ["exact", "auto", "lanczos", "nystrom", "magic", None, Lanczos(rank=2, probes=2,
               steps=3), Nystrom(rank=2), Nystrom(power_iterations=-1), Lanczos(probes=0)],
    "timeout": [1.0, 600, 0, -1, math.nan, True, "10"],
    "uncertainty": [False, True, "yes", GroupJackknife(groups=2), 1],
    "forward_fn": [None, 3, _twice, _skipping_hidden],
}
#: What an error about each argument must name (any of these words): a layer that computes
#: infinity from huge finite inputs is named itself.
NAMES = {"inputs": ("inputs", "layer "), "labels": ("labels",), "layers": ("layers", "layer "),
         "chains": ("chains",), "model": ("model", "layers"),
         "forward_fn": ("forward_fn", "layer "), "pid_layers": ("pid_layers", "layer "),
         "method": ("method", "lanczos", "nystrom"), "step": ("step",), "epoch": ("epoch",),
         "none": ()}


@st.composite
def monitor_calls(draw):
    """(argument malformed, constructor keywords, measure's step and epoch)."""
    n = draw(st.sampled_from([0, 1, 2, 5, 9, 24]))
    argument = draw(st.sampled_from(["none", "inputs", "labels", "layers", "chains", "model",
                                     "step", "epoch", *OPTIONS]))
    rng = np.random.default_rng(0)
    kwargs = {"model": Tiny(), "inputs": rng.normal(size=(max(n, 2), 3)),
              "labels": np.arange(max(n, 2)) % 2}
    step, epoch = 3, None
    if argument == "inputs":
        kwargs["inputs"] = draw(probes(n))
        kwargs["labels"] = np.arange(n) % 2
    elif argument == "labels":
        kwargs["inputs"] = rng.normal(size=(max(n, 2), 3))
        kwargs["labels"] = draw(labels(max(n, 2)))
    elif argument == "layers":
        kwargs["layers"] = draw(st.sampled_from(LAYERS))
    elif argument == "chains":
        kwargs["chains"] = draw(st.sampled_from(CHAINS))
    elif argument == "model":
        kwargs["model"] = draw(st.sampled_from([lambda x: x, nn.Sequential(nn.Flatten()), None]))
    elif argument == "step":
        step = draw(st.sampled_from([0, 10**12, np.int64(4), -1, 1.5, "3", None, True]))
    elif argument == "epoch":
        epoch = draw(st.sampled_from([None, 0, 7, -2, 1.5, "1"]))
    elif argument != "none":
        kwargs[argument] = draw(st.sampled_from(OPTIONS[argument]))
    return argument, kwargs, step, epoch


def _in_range(value: float, low: float, high: float) -> None:
    assert math.isfinite(value), value
    assert low - ROUND_OFF <= value <= high + ROUND_OFF, (value, low, high)


@given(monitor_calls())
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_monitor_of_anything(call):
    argument, kwargs, step, epoch = call
    names = NAMES.get(argument, (argument,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=SaturationWarning)
        warnings.filterwarnings("ignore", message="x is constant", category=RuntimeWarning)
        try:
            monitor = InformationMonitor(kwargs.pop("model"), kwargs.pop("inputs"),
                                         kwargs.pop("labels"), **kwargs)
            checkpoint = monitor.measure(step, epoch=epoch)
        except MONITOR_ERRORS as error:
            assert any(name in str(error) for name in names), (argument, repr(error))
            return
    top = math.log2(monitor.n)
    for (layer, quantity), value in checkpoint.values.items():
        if quantity.startswith(("H(", "S(")):
            _in_range(value, 0.0, top)
        elif quantity.startswith("I("):
            _in_range(value, -top, top)
        else:
            assert math.isnan(value) or math.isfinite(value), (layer, quantity, value)
    assert checkpoint.step == int(step) and monitor.records()


# --- the command line ----------------------------------------------------------------------

TINY = ["--epochs", "1", "--batch-size", "256", "--probe-size", "40", "--measure-every", "4",
        "--filters", "2", "2", "--no-progress"]
WORDS = ["0", "-1", "1", "3", "40", "1.5", "nan", "inf", "-inf", "1e309", "x", "", "True",
         "cuda", "gpu", "conv1", "mean", "float16", "10000000"]


class _Stopped(BaseException):
    pass


@pytest.fixture
def no_training(monkeypatch):
    """Valid commands stop where the work starts (training, the study, the demo's entropies):
    as if interrupted, status 130."""
    import infoflow.demo
    import infoflow.training
    import infoflow.training.filter_study

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(infoflow.training.Trainer, "run", interrupted)
    monkeypatch.setattr(infoflow.training.filter_study, "run_filter_study", interrupted)
    monkeypatch.setattr(infoflow.demo, "digits_demo", interrupted)


DEMO_OPTIONS = {"--alpha": Option("alpha", 1.0, "real", low=0, low_open=True, infinite=True,
                                   many=True),
                "--n": Option("n", None, "integer", low=2)}


@st.composite
def command_lines(draw):
    """(argv, the option table's Option its drawn words are for or None, the words)."""
    command = draw(st.sampled_from(["run", "run", "demo", "layers", "study", "report"]))
    word = st.sampled_from(WORDS)
    if command == "run":
        option = draw(st.sampled_from([o for o in RUN_OPTIONS.values() if o.kind != "flag"]))
        words = draw(st.lists(word, min_size=1, max_size=2 if option.many else 1))
        return ["run", *TINY, "--" + option.name.replace("_", "-"), *words], option, words
    if command == "demo":
        flag = draw(st.sampled_from(sorted(DEMO_OPTIONS)))
        option = DEMO_OPTIONS[flag]
        words = draw(st.lists(word, min_size=1, max_size=2 if option.many else 1))
        return ["demo", flag, *words], option, words
    if command == "layers":
        flag = draw(st.sampled_from(["--model", "--data", "--filters", "--layers"]))
        return ["layers", flag, draw(word)], None, []
    if command == "study":
        flag = draw(st.sampled_from(["--counts", "--seeds", "--jobs", "--layer", "--epochs",
                                     "--probe-size", "--alpha", "--rule"]))
        return ["study", "filters", flag, draw(word)], None, []
    return ["report", draw(st.sampled_from(["", "nothing", "a-file", "empty", "x"]))], None, []


def _valid(option: Option, words: list[str]) -> bool:
    try:
        for word in words:
            option.parse(word)
    except (TypeError, ValueError):
        return False
    return True


@given(command_lines())
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_command_line_of_anything(no_training, call):
    argv, option, words = call
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a-file").write_text("not a run")
        (folder / "empty").mkdir()
        if argv[0] == "report":
            argv = ["report", str(folder / argv[1])]
        elif argv[0] in ("run", "study"):
            argv = [*argv, "--out", str(folder / "out")]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = main(argv)
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert status in (0, 2, 130), (argv, status, lines)
    if status == 2:  # a mistake: one line naming it
        assert len(lines) == 1 and lines[0].startswith("infoflow"), (argv, lines)
        assert "error:" in lines[0], lines
    if option is not None and not _valid(option, words):
        assert status == 2, (argv, status, lines)
        assert "--" + option.name.replace("_", "-") in lines[0], (argv, lines)
