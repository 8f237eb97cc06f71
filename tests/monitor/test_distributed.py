"""The monitor in a process group: 2 gloo processes on the CPU, each join under a timeout."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from infoflow.monitor import InformationMonitor
from infoflow.monitor.distributed import (
    DistributedMeasurementError,
    unwrap_model,
)
from infoflow.monitor.information_plane import information_plane

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is unavailable")

LAYERS = ["conv", "fc"]
JOIN_SECONDS = 120


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.fc = nn.Linear(3 * 4 * 4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).flatten(1))


class FailsOnThisRank(Small):
    broken = False  # set after construction, whose one forward pass checks the DPI chains

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.broken:
            raise ValueError("broken forward on purpose")
        return super().forward(x)


def _probe() -> tuple[torch.Tensor, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=40)
    x = torch.tensor(rng.normal(size=(40, 1, 6, 6)) + y[:, None, None, None])
    return x.float(), y


def _model(kind: type[nn.Module] = Small) -> nn.Module:
    torch.manual_seed(0)
    return kind()


def _equal(rank: int, x: torch.Tensor, y: np.ndarray, out: Path) -> dict:
    wrapped = nn.parallel.DistributedDataParallel(_model())
    spread = InformationMonitor(wrapped, x, y, layers=LAYERS, distributed=True,
                                pid_layers=["conv"], timeout=30)
    alone = InformationMonitor(_model(), x, y, layers=LAYERS, pid_layers=["conv"])
    result = {}
    for step in (0, 1):
        a, b = spread.measure(step).values, alone.measure(step).values
        result[f"keys{step}"] = sorted(a) == sorted(b)
        result[f"diff{step}"] = max(abs(a[k] - b[k]) for k in b)
    return result


def _raise(rank: int, x: torch.Tensor, y: np.ndarray, out: Path) -> dict:
    model = _model(FailsOnThisRank if rank == 1 else Small)
    monitor = InformationMonitor(model, x, y, layers=LAYERS, distributed=True, timeout=30)
    model.broken = True
    try:
        monitor.measure(3)
    except DistributedMeasurementError as error:
        return {"error": str(error)}
    return {}


def _absent(rank: int, x: torch.Tensor, y: np.ndarray, out: Path) -> dict:
    """Rank 1 never measures: it waits until rank 0 has given up (the group is broken after)."""
    done = out / "rank0-done"
    result = {}
    if rank == 0:
        monitor = InformationMonitor(_model(), x, y, layers=LAYERS, distributed=True,
                                     timeout=1.0)
        start = time.perf_counter()
        try:
            monitor.measure(7)
        except DistributedMeasurementError as error:
            result["error"] = str(error)
        result["seconds"] = time.perf_counter() - start
        done.touch()
    else:
        deadline = time.monotonic() + 60
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    return result


def _worker(rank: int, world: int, init_file: str, out: str) -> None:
    """Every scenario in one process group, the one that breaks the group last (one start-up)."""
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=60))
    x, y = _probe()
    results = {}
    try:
        for scenario in (_equal, _raise, _absent):
            results[scenario.__name__] = scenario(rank, x, y, Path(out))
    finally:
        (Path(out) / f"rank{rank}.json").write_text(json.dumps(results))


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    """Each rank's results of every scenario; the join has a deadline."""
    folder = tmp_path_factory.mktemp("ranks")
    context = mp.start_processes(_worker, args=(2, str(folder / "init"), str(folder)),
                                 nprocs=2, join=False, start_method="spawn")
    deadline = time.monotonic() + JOIN_SECONDS
    while not context.join(timeout=max(deadline - time.monotonic(), 0.1)):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the processes did not end within {JOIN_SECONDS} s")
    return [json.loads((folder / f"rank{r}.json").read_text()) for r in range(2)]


def test_spread_measurement_equals_one_process_on_every_rank(ranks):
    for result in ranks:
        for step in (0, 1):
            assert result["_equal"][f"keys{step}"]
            assert result["_equal"][f"diff{step}"] <= 1e-9


def test_a_rank_that_raises_makes_every_rank_raise_naming_it(ranks):
    for result in ranks:
        assert "measuring step 3 failed on rank 1: ValueError: broken forward on purpose" \
            in result["_raise"]["error"]


def test_a_rank_that_never_arrives_times_out_with_a_clear_error(ranks):
    first = ranks[0]["_absent"]
    assert "measuring step 7: the ranks did not all arrive within 1 s" in first["error"]
    assert first["seconds"] < 30


def test_the_plan_is_exactly_the_entropies_the_values_compute():
    x, y = _probe()
    monitor = InformationMonitor(_model(), x, y, layers=LAYERS, pid_layers=["conv"])
    seen = {}

    def precompute(cache, compute):
        seen["plan"] = cache.pending(compute)
        seen["before"] = cache.computed
        seen["cache"], seen["compute"] = cache, compute

    monitor._values(precompute)
    cache = seen["cache"]
    assert len(seen["plan"]) == len(set(seen["plan"])) == cache.computed - seen["before"] > 10
    assert cache.pending(seen["compute"]) == []  # computing them left nothing pending


def test_without_a_process_group_distributed_is_refused():
    x, y = _probe()
    with pytest.raises(ValueError, match="init_process_group"):
        InformationMonitor(_model(), x, y, layers=LAYERS, distributed=True)


def test_wrapped_models_are_measured_by_the_names_of_the_module_inside():
    x, y = _probe()
    model = _model()
    wrapped = nn.DataParallel(model)
    assert unwrap_model(wrapped) is model
    a = InformationMonitor(wrapped, x, y, layers=LAYERS).measure(0).values
    b = InformationMonitor(model, x, y, layers=LAYERS).measure(0).values
    assert a == b


def test_information_plane_without_precompute_is_unchanged():
    x, y = _probe()
    monitor = InformationMonitor(_model(), x, y, layers=LAYERS)
    assert monitor._values() == monitor._values(lambda cache, compute: None)
    assert callable(information_plane)
