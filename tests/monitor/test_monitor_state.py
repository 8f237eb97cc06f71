"""The monitor's records as data: state_dict round trips, DataFrame, settings checked on load."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest
import torch

from infoflow.monitor import InformationMonitor
from tests.monitor.test_monitor import Tiny


@pytest.fixture
def probe():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=60)
    return torch.tensor(rng.normal(size=(60, 2)) + y[:, None], dtype=torch.float64), y


def _measured(probe, steps=(0, 5)):
    monitor = InformationMonitor(Tiny().double(), *probe)
    for step in steps:
        monitor.measure(step, epoch=step // 5)
    return monitor


def test_state_dict_round_trips_through_torch_save_and_json(probe):
    monitor = _measured(probe)
    buffer = io.BytesIO()
    torch.save(monitor.state_dict(), buffer)
    for state in (torch.load(io.BytesIO(buffer.getvalue()), weights_only=True),
                  json.loads(json.dumps(monitor.state_dict()))):
        restored = InformationMonitor(Tiny().double(), *probe)
        restored.load_state_dict(state)
        assert restored.records() == monitor.records()
        assert [c.verdict for c in restored.checkpoints] == [c.verdict for c in monitor.checkpoints]
        assert [c.saturated for c in restored.checkpoints] == \
            [c.saturated for c in monitor.checkpoints]


def test_a_restored_monitor_continues_the_same_records(probe):
    whole = _measured(probe, steps=(0, 5, 10))
    first = _measured(probe, steps=(0, 5))
    resumed = InformationMonitor(Tiny().double(), *probe)
    resumed.load_state_dict(first.state_dict())
    resumed.measure(10, epoch=2)
    assert resumed.records() == whole.records()


def test_state_from_other_settings_is_refused(probe):
    state = _measured(probe).state_dict()
    other = InformationMonitor(Tiny().double(), *probe, alpha=2.0, layers=["copy", "clip"])
    with pytest.raises(ValueError, match=r"layers .*alpha 1.01 \(this monitor: 2.0\)"):
        other.load_state_dict(state)
    with pytest.raises(TypeError, match="state must be a dict"):
        other.load_state_dict([1, 2])


def test_to_dataframe_holds_the_records(probe):
    pandas = pytest.importorskip("pandas", reason="pandas (infoflow[pandas]) is not installed")
    monitor = _measured(probe)
    frame = monitor.to_dataframe()
    assert list(frame.columns) == ["step", "epoch", "layer", "quantity", "value"]
    assert frame.to_dict("records") == monitor.records()
    assert str(frame["epoch"].dtype) == "Int64"
    empty = InformationMonitor(Tiny().double(), *probe).to_dataframe()
    assert isinstance(empty, pandas.DataFrame) and len(empty) == 0


def test_to_dataframe_without_pandas_names_the_extra(probe, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'infoflow\[pandas\]'"):
        _measured(probe, steps=(0,)).to_dataframe()
