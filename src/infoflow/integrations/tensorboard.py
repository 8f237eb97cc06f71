"""TensorBoard: every quantity as a scalar, the DPI verdicts, the information plane as an image.

Written through :mod:`torch.utils.tensorboard` (the ``tensorboard`` package, extra
``infoflow[tensorboard]``). Scalars are named ``infoflow/<layer>/<quantity>`` (``infoflow/fc1/I(X;T)``,
``infoflow/input/I(X;Y)``, ...) and ``infoflow/DPI 1 holds`` / ``infoflow/DPI 2 holds`` (1 or 0),
at the checkpoint's training step; the figure is the image ``infoflow/information plane``.

From a monitor::

    with TensorBoardLog("tb/run1") as log:
        for step ...:
            log.log_checkpoint(monitor.measure(step))
        log.log_information_plane(monitor.records())
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from infoflow.integrations.metrics import PREFIX, checkpoint_metrics
from infoflow.monitor import Checkpoint

#: The image tag of the information-plane figure.
PLANE_TAG = f"{PREFIX}/information plane"


def summary_writer(log_dir: str | os.PathLike) -> Any:
    """A :class:`torch.utils.tensorboard.SummaryWriter` writing to ``log_dir``."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(
            "writing TensorBoard logs needs the tensorboard package, which is not installed; "
            "install it with: pip install 'infoflow[tensorboard]'"
        ) from error
    return SummaryWriter(log_dir=os.fspath(log_dir))


def figure_pixels(fig: Any) -> np.ndarray:
    """A matplotlib figure rendered off-screen as RGB pixels, shape (height, width, 3), uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class TensorBoardLog:
    """Write checkpoints and the information plane to TensorBoard.

    Parameters
    ----------
    target : log folder or writer
        A folder (a :class:`~torch.utils.tensorboard.SummaryWriter` is opened there and closed by
        :meth:`close`), or an open writer with ``add_scalar``/``add_image`` (a Lightning
        ``TensorBoardLogger``'s ``experiment``), which stays open.
    """

    def __init__(self, target: Any) -> None:
        if isinstance(target, (str, os.PathLike)):
            self.writer, self._owned = summary_writer(target), True
        elif hasattr(target, "add_scalar") and hasattr(target, "add_image"):
            self.writer, self._owned = target, False
        else:
            raise TypeError("target must be a log folder or a SummaryWriter, got "
                            f"{type(target).__name__}")

    def log_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Every quantity and both DPI verdicts at the checkpoint's step."""
        for tag, value in checkpoint_metrics(checkpoint).items():
            self.writer.add_scalar(tag, value, global_step=checkpoint.step)

    def log_information_plane(self, records: Any, *, step: int | None = None) -> None:
        """The information-plane figure of ``records`` (``monitor.records()``, a DataFrame or a
        run folder), at ``step`` (default: the last measured step)."""
        from infoflow.reporting.plots import information_plane_figure
        from infoflow.reporting.records import as_records

        records = as_records(records)
        step = int(records.steps[-1]) if step is None else step
        self.writer.add_image(PLANE_TAG, figure_pixels(information_plane_figure(records)),
                              global_step=step, dataformats="HWC")

    def log_monitor(self, monitor: Any) -> None:
        """Every checkpoint of an :class:`~infoflow.monitor.InformationMonitor` so far, then the
        information plane."""
        for checkpoint in monitor.checkpoints:
            self.log_checkpoint(checkpoint)
        self.log_information_plane(monitor.records())

    def close(self) -> None:
        """Flush; close the writer if this log opened it."""
        self.writer.flush()
        if self._owned:
            self.writer.close()

    def __enter__(self) -> TensorBoardLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
