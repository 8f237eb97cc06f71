"""Plots and the report take a monitor's records, a DataFrame or a run folder alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow.monitor import InformationMonitor
from infoflow.reporting import as_records, information_plane_figure, load_records, write_report
from infoflow.reporting.plots import FIGURES
from infoflow.storage import RunFolder
from tests.monitor.test_monitor import Tiny


@pytest.fixture(scope="module")
def monitor():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=60)
    x = torch.tensor(rng.normal(size=(60, 2)) + y[:, None], dtype=torch.float64)
    model = Tiny().double()
    monitor = InformationMonitor(model, x, y)
    monitor.measure(0, epoch=0)
    with torch.no_grad():
        model.scaled.weight.mul_(torch.tensor([[1.0], [0.0]]))  # the second coordinate is lost
    monitor.measure(7, epoch=1)
    return monitor


def test_rows_and_folder_give_the_same_records(monitor, tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.create({"alpha": 1.01})
    folder.append_measurements(monitor.records())
    from_folder, from_rows = load_records(folder), as_records(monitor.records())
    assert from_rows.layers == from_folder.layers == ["copy", "scaled", "clip"]
    np.testing.assert_array_equal(from_rows.steps, [0, 7])
    assert from_rows.series.keys() == from_folder.series.keys()
    for key, series in from_rows.series.items():
        np.testing.assert_allclose(series, from_folder.series[key], rtol=1e-15)
    assert from_rows.verdicts == from_folder.verdicts == [c.verdict for c in monitor.checkpoints]


def test_a_dataframe_gives_the_same_records(monitor):
    pytest.importorskip("pandas", reason="pandas (infoflow[pandas]) is not installed")
    records, frame_records = as_records(monitor.records()), as_records(monitor.to_dataframe())
    assert frame_records.layers == records.layers
    for key, series in records.series.items():
        np.testing.assert_array_equal(frame_records.series[key], series)


def test_every_figure_takes_the_monitor_records(monitor):
    for name, make in FIGURES.items():
        if name not in ("pid", "width_curves"):  # these need a PID layer, a run folder
            fig = make(monitor.records())
            assert fig.axes, name
    plane = information_plane_figure(monitor.records())
    assert [ax.get_title() for ax in plane.axes[:3]] == ["copy", "scaled", "clip"]
    points = plane.axes[1].collections[0].get_offsets()
    series = as_records(monitor.records()).series
    np.testing.assert_allclose(points[:, 0], series[("scaled", "I(X;T)")])
    np.testing.assert_allclose(points[:, 1], series[("scaled", "I(T;Y)")])


def test_write_report_from_records_needs_only_the_records(monitor, tmp_path):
    report = write_report(monitor.records(), out=tmp_path / "mine")
    page = report.read_text()
    assert report == tmp_path / "mine" / "report.html"
    assert (tmp_path / "mine" / "plots" / "information_plane.png").stat().st_size > 1000
    assert "2 checkpoints up to step 7" in page and ">scaled<" in page
    with pytest.raises(ValueError, match="out must name the folder"):
        write_report(monitor.records())


def test_bad_records_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="records hold no measurements"):
        as_records([])
    with pytest.raises(ValueError, match=r"lacks \['quantity'\]"):
        as_records([{"step": 0, "layer": "a", "value": 1.0}])
    with pytest.raises(TypeError, match="got int"):
        as_records(3)
