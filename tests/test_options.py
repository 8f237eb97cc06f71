"""One table of options: every entry point takes its defaults from it and checks with it."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import infoflow
from infoflow.cli.main import build_parser
from infoflow.monitor import InformationMonitor, check_dpi, dpi_sensitivity, probe_cache
from infoflow.options import OPTIONS, Option, markdown_table
from infoflow.pid import layer_pid, mmi
from infoflow.training import RunConfig
from infoflow.training.config import RUN_OPTIONS

ROOT = Path(__file__).resolve().parents[1]

#: Every public callable taking an option, and the table entry each parameter is.
ENTRY_POINTS = [
    infoflow.renyi_entropy, infoflow.joint_entropy, infoflow.mutual_information,
    infoflow.conditional_entropy, infoflow.conditional_mutual_information,
    infoflow.total_correlation, infoflow.dual_total_correlation, infoflow.EntropyCache,
    infoflow.kernel_width, InformationMonitor, layer_pid, mmi, probe_cache, dpi_sensitivity,
]
SAME_AS = {"tolerance": "dpi_tolerance"}


@pytest.mark.parametrize("function", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_every_default_is_the_tables(function):
    checked = 0
    for name, parameter in inspect.signature(function).parameters.items():
        option = OPTIONS.get(SAME_AS.get(name, name))
        if option is None or parameter.default is inspect.Parameter.empty:
            continue
        if function is infoflow.kernel_width and name == "gamma":
            assert parameter.default is None
        else:
            assert parameter.default == option.default, (function.__name__, name)
        checked += 1
    assert checked >= 1


def test_check_dpi_and_run_config_defaults_are_the_tables():
    assert inspect.signature(check_dpi).parameters["tolerance"].default == \
        OPTIONS["dpi_tolerance"].default
    config = RunConfig()
    for name, option in RUN_OPTIONS.items():
        assert getattr(config, name) == option.default
        if name in OPTIONS and name != "batch_size":
            assert option is OPTIONS[name]  # one declaration, not a copy


def test_the_cli_leaves_unset_flags_to_the_table():
    run = build_parser().parse_args(["run"])
    assert all(getattr(run, name) is None or getattr(run, name) is False
               for name in RUN_OPTIONS)


def test_the_monitor_and_the_run_agree():
    """The defaults issue 9 found split: the monitor's conv_mode and method are the run's."""
    monitor = inspect.signature(InformationMonitor).parameters
    for name in ("conv_mode", "method", "rule", "alpha", "dtype", "dpi_tolerance"):
        assert monitor[name].default == getattr(RunConfig(), name)
    assert RunConfig().conv_mode == "tensor" and RunConfig().method == "auto"


@pytest.mark.parametrize(("option", "value", "error", "message"), [
    ("alpha", -1.0, ValueError, "alpha must be > 0, got -1.0"),
    ("alpha", math.nan, ValueError, "alpha must be > 0, got nan"),
    ("alpha", "2", TypeError, "alpha must be a real number > 0, got str '2'"),
    ("alpha", True, TypeError, "alpha must be a real number > 0, got True"),
    ("dpi_tolerance", math.nan, ValueError, "dpi_tolerance must be >= 0, got nan"),
    ("dpi_tolerance", math.inf, ValueError, "dpi_tolerance must be finite and >= 0, got inf"),
    ("saturation", 0.5, ValueError, "saturation must be >= 0 and < 0.5, got 0.5"),
    ("batch_size", 1.5, TypeError, "batch_size must be an integer >= 1, got 1.5"),
    ("batch_size", 0, ValueError, "batch_size must be >= 1, got 0"),
    ("rule", "mean", ValueError, "rule must be one of ('silverman', 'scott', 'median', 'knn', "
                                 "'alignment'), got 'mean'"),
    ("dtype", "float16", ValueError, "dtype must be one of ('float64', 'float32')"),
    ("conv_mode", None, TypeError, "conv_mode must be one of ('feature_maps', 'tensor'), got None"),
])
def test_one_message_style(option, value, error, message):
    with pytest.raises(error) as caught:
        OPTIONS[option].check(value)
    assert str(caught.value).startswith(message)


def test_a_seed_fits_every_generator_the_run_seeds():
    """NumPy's RandomState takes seeds below 2**32: a larger one is refused as the run's option,
    by RunConfig and by the command line, not deep in the trainer."""
    with pytest.raises(ValueError, match=r"seed must be >= 0 and <= 4294967295, got 4294967296"):
        RunConfig(seed=2**32)
    assert RunConfig(seed=2**32 - 1).seed == 2**32 - 1


def test_accepted_spellings_become_canonical():
    assert OPTIONS["alpha"].check(np.int64(2)) == 2.0 and OPTIONS["alpha"].check(math.inf) == math.inf
    for spelling in ("float32", torch.float32, np.float32, np.dtype("float32")):
        assert OPTIONS["dtype"].check(spelling) == "float32"
    assert OPTIONS["batch_size"].check(np.int32(3)) == 3
    assert RUN_OPTIONS["device"].check(torch.device("cpu")) == "cpu"


def test_parse_reads_command_line_words():
    assert RUN_OPTIONS["lr"].parse("1e-2") == 0.01
    with pytest.raises(ValueError, match="lr must be finite and > 0, got inf"):
        RUN_OPTIONS["lr"].parse("inf")
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 'three'"):
        RUN_OPTIONS["epochs"].parse("three")
    with pytest.raises(ValueError, match="filters must be an integer >= 1, got '0.5'"):
        RUN_OPTIONS["filters"].parse("0.5")


def test_list_options():
    filters = RUN_OPTIONS["filters"]
    assert filters.check([8, 16]) == [8, 16] and filters.check(None) is None
    with pytest.raises(ValueError, match="filters must be a non-empty list"):
        filters.check([])
    with pytest.raises(TypeError, match=r"filters\[1\] must be an integer >= 1, got 2.5"):
        filters.check([8, 2.5])


def test_a_bad_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        Option("x", 1, "number")


def test_docs_hold_the_tables():
    """docs/options.md is the tables as printed: a changed default must change the docs."""
    text = (ROOT / "docs" / "options.md").read_text()
    assert markdown_table(list(OPTIONS.values())) in text
    assert markdown_table(list(RUN_OPTIONS.values())) in text


def test_auto_keeps_gradients():
    """"auto" (the default) never drops a gradient: with a torch input that needs one it is exact."""
    from infoflow.measures.approximation import Exact, Lanczos, resolve_method

    assert resolve_method("auto", 5000) == Lanczos()
    assert resolve_method("auto", 5000, differentiable=True) == Exact()
    k = torch.eye(3, dtype=torch.float64, requires_grad=True)
    assert infoflow.EntropyCache({"k": k}).method == Exact()


def test_check_dpi_refuses_a_nan_tolerance():
    """NaN made every comparison pass: every DPI 'held' on values that break it."""
    values = {("input", "I(X;Y)"): 1.0, ("a", "I(X;T)"): 1.0, ("a", "I(T;Y)"): 2.0}
    with pytest.raises(ValueError, match="tolerance must be >= 0, got nan"):
        check_dpi(values, ["a"], tolerance=math.nan)
