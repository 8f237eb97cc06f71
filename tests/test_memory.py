"""Memory bounds: blocked Gram matrices equal unblocked ones; oversized work is refused early."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import EntropyCache, MemoryBudgetError, gaussian_gram, set_memory_options
from infoflow import _memory


@pytest.fixture(autouse=True)
def restore_options():
    saved = dict(_memory._options)
    yield
    _memory._options.update(saved)


@pytest.mark.parametrize("rows", [1, 7, 64])
def test_blocked_gram_equals_the_unblocked_one(rng, rows):
    x = rng.normal(size=(101, 4))
    full = gaussian_gram(x, 1.3)
    set_memory_options(block_bytes=rows * 101 * 8)
    blocked = gaussian_gram(x, 1.3)
    np.testing.assert_allclose(blocked, full, rtol=0, atol=1e-15)
    assert (blocked == blocked.T).all() and (np.diag(blocked) == 1).all()
    t = gaussian_gram(torch.tensor(x, requires_grad=True), 1.3)
    np.testing.assert_allclose(t.detach().numpy(), full, atol=1e-15)
    t.sum().backward()  # blocked torch Grams stay differentiable


def test_oversized_work_is_refused_up_front_naming_n_and_memory(rng):
    set_memory_options(memory_limit=100_000)
    with pytest.raises(MemoryBudgetError, match=r"n = 200 samples needs about 625.00 KiB"):
        gaussian_gram(rng.normal(size=(200, 2)), 1.0)
    set_memory_options(memory_limit=10**9)
    grams = {f"v{i}": np.eye(100) for i in range(3)}
    set_memory_options(memory_limit=300_000)
    with pytest.raises(MemoryBudgetError, match="an entropy cache for n = 100"):
        EntropyCache(grams)


def test_bad_options():
    with pytest.raises(ValueError, match="block_bytes must be a number of bytes"):
        set_memory_options(block_bytes=-1)
    with pytest.raises(ValueError, match="memory_limit must be"):
        set_memory_options(memory_limit=1.5)


def test_every_n_by_n_path_is_refused_before_it_allocates():
    """label_gram, the distance-based width rules, joint Grams and direct entropies check the
    budget first: a 50 MiB limit at n = 6000 is refused with almost nothing allocated."""
    import tracemalloc

    import infoflow
    from infoflow import MemoryBudgetError, set_memory_options

    n = 6000
    x = np.arange(2 * n, dtype=float).reshape(n, 2)
    calls = [
        lambda: infoflow.label_gram(np.zeros(n, dtype=int)),
        lambda: infoflow.label_gram(np.zeros(300_000, dtype=int)),  # was 671 GiB from NumPy
        lambda: infoflow.kernel_width(x, "median"),
        lambda: infoflow.kernel_width(x, "knn"),
        lambda: infoflow.joint_gaussian_gram([x, x], [1.0, 2.0]),
    ]
    set_memory_options(memory_limit=50 * 1024**2)
    try:
        for call in calls:
            tracemalloc.start()
            try:
                with pytest.raises(MemoryBudgetError, match=f"n = {n}|n = 300000"):
                    call()
                assert tracemalloc.get_traced_memory()[1] < 5 * 1024**2
            finally:
                tracemalloc.stop()
        small = np.eye(200)
        set_memory_options(memory_limit=200 * 200 * 8 * 2)
        with pytest.raises(MemoryBudgetError, match="an entropy for n = 200"):
            infoflow.renyi_entropy(small)
    finally:
        set_memory_options(memory_limit=0)
