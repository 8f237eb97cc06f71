"""One thread budget for infoflow's numerical work, set in a scope and restored after it.

BLAS/LAPACK (NumPy's and SciPy's OpenBLAS, through ``threadpoolctl``) and torch's intra-op pool
each size themselves to every core of the machine. Two such pools in one process, or two
processes side by side, then spin against each other: two default ``infoflow run`` on 2 cores
took 285 s and over 300 s where each took 45–68 s alone. :func:`thread_budget` limits all of
them to the CPUs this process may use (:func:`available_cpus`) while infoflow computes, and
restores the caller's settings when it returns — never a global change.

Examples
--------
Within the budget, work smaller than :data:`PARALLEL_FROM` samples runs on one thread: there a
second thread gains little on an idle machine and loses badly on a busy one (every parallel
region ends in a barrier that waits for a descheduled thread). And infoflow runs side by side
share the CPUs: each running :class:`~infoflow.training.Trainer` registers itself
(:func:`registered_run`), and :func:`fair_share` gives each of k runs ``available_cpus() // k``
threads, re-read at every epoch and checkpoint.

>>> from infoflow import thread_budget
>>> with thread_budget(1):
...     pass  # infoflow's BLAS, LAPACK and torch work here uses one thread
"""

from __future__ import annotations

import math
import os
import tempfile
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
    Scopes nest: an inner scope may lower the budget for its own work, never raise it (an inner
    scope asking for more, or for the default, keeps the outer budget).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    outer = getattr(_state, "threads", None)
    if outer is not None and (threads is None or threads >= outer):
        yield outer  # inside a scope that already allows no more than this
        return
    import torch

    pools = _pools()
    previous = torch.get_num_threads()
    current = [pool.num_threads for pool in pools.lib_controllers]
    # never more than the caller allows: a lower limit set by the user (torch.set_num_threads,
    # threadpoolctl) is an explicit choice, and raising it oversubscribes the CPUs
    budget = threads or min([available_cpus(), previous] + current)
    _state.threads = budget
    try:
        if previous == budget and all(c == budget for c in current):
            yield budget  # already so: entering threadpoolctl's scope would cost ~0.3 ms
            return
        with pools.limit(limits=budget):
            if previous != budget:
                torch.set_num_threads(budget)
            try:
                yield budget
            finally:
                if previous != budget:
                    torch.set_num_threads(previous)
    finally:
        _state.threads = outer


#: Work on fewer samples than this (a Gram product, an eigendecomposition) runs on one thread.
#: On the 2-core machine beside other work (load average 5) a second thread made this work 2-40x
#: *slower* (best of 3-5, SciPy's solver and a Gram product, 1 against 2 threads: 0.08 against
#: 3.7 s at n = 500, 0.32/0.71 s at 1000, 2.5/8.5 s at 2000, 7.8/15 s at 3000), and a default
#: ``infoflow run`` (probe n = 500) took 70 s with one thread and 375 s with two beside the same
#: load; the gain on an idle machine is small at these sizes.
PARALLEL_FROM = 2000


#: Work on fewer samples than this runs without entering a scope: its BLAS and LAPACK calls are
#: too small for the libraries to thread, and entering costs ~0.3 ms.
THREADED_FROM = 256


def budget_for(n: int) -> Any:
    """:func:`thread_budget` for work on ``n`` samples: none below :data:`THREADED_FROM`, one
    thread below :data:`PARALLEL_FROM`, the scope's (or the process's) budget from it on."""
    if n < THREADED_FROM:
        return nullcontext()
    return thread_budget(None if n >= PARALLEL_FROM else 1)


# --- infoflow runs side by side share the CPUs -------------------------------------------------

def _runs_folder() -> Path:
    """Where running infoflow runs of this user register (one file each, locked while alive)."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"infoflow-runs-{uid}"


def _is_held(path: Path) -> bool:
    """Whether a live process holds ``path``'s lock (the OS releases it when a process dies)."""
    import fcntl

    try:
        with open(path, "rb") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def running_runs() -> int:
    """How many registered runs (:func:`registered_run`) of this user are alive now, at least 1.
    Files left by runs that died are removed."""
    try:
        entries = list(_runs_folder().iterdir())
    except OSError:
        return 1
    alive = 0
    for path in entries:
        if _is_held(path):
            alive += 1
        else:
            try:
                path.unlink()
            except OSError:
                pass
    return max(1, alive)


@contextmanager
def registered_run() -> Iterator[None]:
    """Register this process as a running infoflow run for the scope (a file in the system's
    temporary folder, locked while the run is alive): :func:`fair_share` in every run sees it.
    Where files cannot be locked (no ``fcntl``, a read-only temporary folder) nothing is
    registered and each run keeps its whole budget."""
    try:
        import fcntl

        folder = _runs_folder()
        folder.mkdir(mode=0o700, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (held open for the whole run)
            dir=folder, prefix=f"{os.getpid()}-", delete=False)
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        yield
        return
    try:
        yield
    finally:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        handle.close()  # closing releases the lock


def fair_share() -> int:
    """This run's share of the CPUs: :func:`available_cpus` divided among the registered runs
    alive now (:func:`running_runs`), at least 1."""
    return max(1, available_cpus() // running_runs())
