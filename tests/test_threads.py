"""The thread budget: sized to the CPUs the process may use, scoped, restored, nested."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  (load every BLAS before the first snapshot)
import torch
from threadpoolctl import threadpool_info

from infoflow import _threads, gaussian_gram, renyi_entropy, thread_budget


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_the_budget_is_set_inside_and_restored_after(monkeypatch):
    before_torch, before_blas = torch.get_num_threads(), blas_threads()
    with thread_budget(1) as budget:
        assert budget == 1
        assert torch.get_num_threads() == 1 and set(blas_threads()) == {1}
    assert torch.get_num_threads() == before_torch and blas_threads() == before_blas
    with pytest.raises(RuntimeError, match="inside"), thread_budget(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before_torch and blas_threads() == before_blas


def test_an_inner_scope_keeps_the_outer_budget():
    with thread_budget(1):
        with thread_budget(2) as inner:
            assert inner == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_a_bad_budget_is_refused(bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"), thread_budget(bad):
        pass


def test_the_cpus_are_capped_by_affinity_quota_and_omp(monkeypatch, tmp_path):
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_threads, "_cgroup_cpus", lambda: None)
    assert _threads.available_cpus() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads.available_cpus() == 3
    monkeypatch.setattr(_threads, "_cgroup_cpus", lambda: 1.5)
    assert _threads.available_cpus() == 1


def test_cgroup_quotas_are_read_from_v2_and_v1_files(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _threads._cgroup_cpus(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _threads._cgroup_cpus(tmp_path) is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("300000")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert _threads._cgroup_cpus(tmp_path) == 3.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    assert _threads._cgroup_cpus(tmp_path) is None


def test_entropies_and_grams_run_within_the_budget(monkeypatch, rng):
    """Large enough work enters the scope with the process's budget; the caller's settings are
    untouched afterwards."""
    from infoflow.measures import eigenproblems

    monkeypatch.setattr(_threads, "available_cpus", lambda: 1)
    seen = []
    solve = eigenproblems.solve
    monkeypatch.setattr(
        eigenproblems, "solve",
        lambda problem: seen.append((torch.get_num_threads(), blas_threads())) or solve(problem))
    before = torch.get_num_threads()
    x = rng.normal(size=(_threads.THREADED_FROM, 3))
    renyi_entropy(gaussian_gram(x, 1.0))
    assert seen and all(t == 1 and set(b) == {1} for t, b in seen)
    assert torch.get_num_threads() == before
    assert np.isfinite(renyi_entropy(gaussian_gram(x[:10], 1.0)))


def test_the_default_budget_never_raises_the_callers_limit(monkeypatch):
    """A caller who runs infoflow with one thread keeps one thread: raising it to the machine's
    CPUs oversubscribed them (the peer benchmark at one thread ran 4x slower)."""
    from threadpoolctl import threadpool_limits

    monkeypatch.setattr(_threads, "available_cpus", lambda: 4)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with thread_budget() as budget:
            assert budget == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
    with threadpool_limits(1), thread_budget() as budget:
        assert budget == 1 and set(blas_threads()) == {1}
