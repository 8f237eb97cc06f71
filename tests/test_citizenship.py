"""infoflow is a guest: measuring, plotting, reporting and training runs leave the caller's
global state alone (matplotlib backend and rcParams, pyplot's figures, torch's default dtype,
every RNG)."""

from __future__ import annotations

import random

import matplotlib
import numpy as np
import pytest
import torch

from infoflow.monitor import InformationMonitor
from infoflow.reporting import write_report
from infoflow.reporting.plots import FIGURES
from infoflow.training import RunConfig, Trainer
from tests.monitor.test_monitor import Tiny


def _global_state() -> dict:
    import matplotlib.pyplot as plt

    return {
        "rcParams": dict(matplotlib.rcParams),
        "figures": plt.get_fignums(),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),
        "python_rng": random.getstate(),
        "dtype": torch.get_default_dtype(),
    }


def _assert_same(before: dict, after: dict) -> None:
    assert after["rcParams"] == before["rcParams"]
    assert after["figures"] == before["figures"]
    assert torch.equal(after["torch_rng"], before["torch_rng"])
    assert after["numpy_rng"][0] == before["numpy_rng"][0]
    np.testing.assert_array_equal(after["numpy_rng"][1], before["numpy_rng"][1])
    assert after["numpy_rng"][2:] == before["numpy_rng"][2:]  # position and cached Gaussian
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


def test_a_training_run_leaves_the_callers_generators_alone(tmp_path):
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    np.random.standard_normal()  # a cached Gaussian is part of NumPy's state
    before = _global_state()
    trainer = Trainer(RunConfig(epochs=1, batch_size=256, probe_size=40, measure_every=3,
                                filters=[2, 3], seed=7), tmp_path / "run")
    _assert_same(before, _global_state())  # seeding and building the model are the run's own
    trainer.run(sensitivity=False)
    _assert_same(before, _global_state())


def test_a_lightning_fit_with_the_callback_draws_what_the_fit_alone_draws(tmp_path):
    pytest.importorskip("lightning", reason="Lightning (infoflow[lightning]) is not installed")
    import lightning.pytorch as pl

    from infoflow.integrations.lightning import InformationFlow
    from tests.integrations.test_lightning import Classifier, Data

    ends = {}
    for name, callbacks in (("alone", []), ("measured", [
            InformationFlow(probe=30, layers=["conv1", "fc1"], every_n_steps=3,
                            sensitivity=True, out=tmp_path / "run")])):
        model = Classifier()
        torch.manual_seed(5)
        np.random.seed(5)
        random.seed(5)
        trainer = pl.Trainer(callbacks=callbacks, max_epochs=1, accelerator="cpu", devices=1,
                             logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False,
                             num_sanity_val_steps=0, limit_val_batches=0,
                             default_root_dir=tmp_path / name)
        trainer.fit(model, Data())  # a fit draws its loaders' base seeds from torch's generator
        ends[name] = _global_state()
    assert (tmp_path / "run" / "report.html").exists()
    _assert_same(ends["alone"], ends["measured"])
