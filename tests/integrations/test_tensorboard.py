"""TensorBoard logs read back with tensorboard's own reader: scalars, verdicts, the figure."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("tensorboard", reason="tensorboard (infoflow[tensorboard]) is not installed")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from infoflow.cli.main import main  # noqa: E402
from infoflow.integrations.metrics import checkpoint_metrics  # noqa: E402
from infoflow.integrations.tensorboard import PLANE_TAG, TensorBoardLog, figure_pixels  # noqa: E402
from infoflow.monitor import InformationMonitor  # noqa: E402
from infoflow.reporting import information_plane_figure, load_records  # noqa: E402
from tests.monitor.test_monitor import Tiny  # noqa: E402


def _events(folder) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def test_monitor_checkpoints_read_back_from_the_event_file(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=60)
    x = torch.tensor(rng.normal(size=(60, 2)) + y[:, None], dtype=torch.float64)
    model = Tiny().double()
    monitor = InformationMonitor(model, x, y)
    with TensorBoardLog(tmp_path / "tb") as log:
        for step in (0, 10):
            log.log_checkpoint(monitor.measure(step))
            with torch.no_grad():
                model.scaled.weight.mul_(0.5)
        log.log_information_plane(monitor.records())
    events = _events(tmp_path / "tb")
    expected = [checkpoint_metrics(c) for c in monitor.checkpoints]
    tags = set(events.Tags()["scalars"])
    assert tags == set(expected[0]) and "infoflow/scaled/I(X;T)" in tags
    assert "infoflow/DPI 1 holds" in tags and "infoflow/input/I(X;Y)" in tags
    for tag in tags:
        logged = events.Scalars(tag)
        assert [e.step for e in logged] == [0, 10]
        for event, metrics in zip(logged, expected):
            assert event.value == pytest.approx(metrics[tag], rel=1e-6, abs=1e-6)
    image = events.Images(PLANE_TAG)[0]
    pixels = figure_pixels(information_plane_figure(monitor.records()))
    assert image.step == 10 and (image.height, image.width) == pixels.shape[:2]


def test_a_writer_given_stays_open_and_bad_targets_are_refused(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "own"))
    log = TensorBoardLog(writer)
    log.close()
    writer.add_scalar("still/open", 1.0, 0)  # the caller's writer was not closed
    writer.close()
    with pytest.raises(TypeError, match="target must be a log folder or a SummaryWriter"):
        TensorBoardLog(3)


def test_infoflow_run_tensorboard_writes_what_the_run_folder_records(tmp_path, capsys):
    code = main(["run", "--epochs", "1", "--probe-size", "40", "--measure-every", "10",
                 "--out", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "tb"),
                 "--no-progress"])
    assert code == 0
    assert f"TensorBoard logs: {tmp_path / 'tb'}" in capsys.readouterr().out
    records = load_records(tmp_path / "run")
    events = _events(tmp_path / "tb")
    logged = events.Scalars("infoflow/fc1/I(T;Y)")
    assert [e.step for e in logged] == list(records.steps)
    np.testing.assert_allclose([e.value for e in logged], records.series[("fc1", "I(T;Y)")],
                               rtol=1e-6)
    assert events.Images(PLANE_TAG)[-1].step == records.steps[-1]
