"""Runs compared bit for bit need one thread count: a run's thread budget is its share of the
CPUs among the infoflow runs alive on the machine (``infoflow._threads.fair_share``), which
other test processes change at any moment. ``OMP_NUM_THREADS=1`` fixes it at one thread, also in
the study's spawned runs (README, "Reproducibility")."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        yield
