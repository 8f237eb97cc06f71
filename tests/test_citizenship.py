"""infoflow is a guest: measuring, plotting and reporting leave the caller's global state alone
(matplotlib backend and rcParams, pyplot's figures, torch's default dtype, every RNG)."""

from __future__ import annotations

import random

import matplotlib
import numpy as np
import torch

from infoflow.monitor import InformationMonitor
from infoflow.reporting import write_report
from infoflow.reporting.plots import FIGURES
from tests.monitor.test_monitor import Tiny


def _global_state() -> dict:
    import matplotlib.pyplot as plt

    return {
        "rcParams": dict(matplotlib.rcParams),
        "figures": plt.get_fignums(),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state()[1].copy(),
        "python_rng": random.getstate(),
        "dtype": torch.get_default_dtype(),
    }


def _assert_same(before: dict, after: dict) -> None:
    assert after["rcParams"] == before["rcParams"]
    assert after["figures"] == before["figures"]
    assert torch.equal(after["torch_rng"], before["torch_rng"])
    np.testing.assert_array_equal(after["numpy_rng"], before["numpy_rng"])
    assert after["python_rng"] == before["python_rng"]
    assert after["dtype"] == before["dtype"]


def test_measuring_plotting_and_reporting_leave_global_state_alone(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("infoflow switched the matplotlib backend")

    monkeypatch.setattr(matplotlib, "use", refuse)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=60)
    x = torch.tensor(rng.normal(size=(60, 2)) + y[:, None], dtype=torch.float64)
    model = Tiny().double()  # initialising a model draws from torch's RNG; measuring must not
    before = _global_state()
    for method in ("lanczos", "nystrom"):  # the randomised spectra draw from their own generator
        InformationMonitor(model, x, y, method=method).measure(0)
    monitor = InformationMonitor(model, x, y)
    monitor.measure(0)
    monitor.measure(1)
    FIGURES["information_plane"](monitor.records()).savefig(tmp_path / "plane.png")
    write_report(monitor.records(), out=tmp_path / "report")
    _assert_same(before, _global_state())
