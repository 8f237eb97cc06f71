"""One thread budget for infoflow's numerical work, set in a scope and restored after it.

BLAS/LAPACK (NumPy's and SciPy's OpenBLAS, through ``threadpoolctl``) and torch's intra-op pool
each size themselves to every core of the machine. Two such pools in one process, or two
processes side by side, then spin against each other: two default ``infoflow run`` on 2 cores
took 285 s and over 300 s where each took 45–68 s alone. :func:`thread_budget` limits all of
them to the CPUs this process may use (:func:`available_cpus`) while infoflow computes, and
restores the caller's settings when it returns — never a global change.

Examples
--------
>>> from infoflow import thread_budget
>>> with thread_budget(1):
...     pass  # infoflow's BLAS, LAPACK and torch work here uses one thread
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

_state = threading.local()
_controller: list[Any] = []


def _cgroup_cpus(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (v2 ``cpu.max`` or v1 CFS), or None."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def available_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by its cgroup's CPU quota and by
    ``OMP_NUM_THREADS`` when set (a user's or scheduler's explicit choice); at least 1."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    count = count or 1
    quota = _cgroup_cpus()
    if quota is not None:
        count = min(count, max(1, math.floor(quota)))
    requested = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if requested.isdigit() and int(requested) > 0:
        count = min(count, int(requested))
    return max(1, count)


def _pools():
    """A ``threadpoolctl`` controller of the loaded BLAS/OpenMP libraries, remade only when
    modules were imported since (a new library may have come with them): making one costs
    ~30 ms, using it ~0.3 ms."""
    import sys

    if not _controller or _controller[1] != len(sys.modules):
        import scipy.linalg  # noqa: F401  (load SciPy's BLAS so that the controller sees it)
        from threadpoolctl import ThreadpoolController

        _controller[:] = [ThreadpoolController(), len(sys.modules)]
    return _controller[0]


@contextmanager
def thread_budget(threads: int | None = None) -> Iterator[int]:
    """Limit BLAS/LAPACK and torch intra-op threads to ``threads`` inside the scope.

    Parameters
    ----------
    threads : int, optional
        The budget, >= 1; by default :func:`available_cpus`, or fewer where the caller has
        already limited torch's or a BLAS library's threads (never raised above the caller's).

    Yields the budget. The caller's settings come back on exit, also after an exception.
    Scopes nest: an inner scope inside an outer one changes nothing (the outermost decides).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    depth = getattr(_state, "depth", 0)
    if depth:
        _state.depth = depth + 1
        try:
            yield _state.threads
        finally:
            _state.depth -= 1
        return
    import torch

    pools = _pools()
    previous = torch.get_num_threads()
    # never more than the caller allows: a lower limit set by the user (torch.set_num_threads,
    # threadpoolctl) is an explicit choice, and raising it oversubscribes the CPUs
    budget = threads or min([available_cpus(), previous]
                            + [pool.num_threads for pool in pools.lib_controllers])
    _state.depth, _state.threads = 1, budget
    try:
        with pools.limit(limits=budget):
            if previous != budget:
                torch.set_num_threads(budget)
            try:
                yield budget
            finally:
                if previous != budget:
                    torch.set_num_threads(previous)
    finally:
        _state.depth = 0


#: Work on fewer samples than this runs without entering a scope: its BLAS and LAPACK calls are
#: too small for the libraries to thread, and entering costs ~0.3 ms.
THREADED_FROM = 256


def budget_for(n: int) -> Any:
    """:func:`thread_budget` for work on ``n`` samples, or a no-op scope below
    :data:`THREADED_FROM`."""
    return thread_budget() if n >= THREADED_FROM else nullcontext()
