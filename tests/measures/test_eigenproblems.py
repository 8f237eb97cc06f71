"""Eigenvalue problems solved one by one or batched across computations: the same solutions,
one solver call per size, and an entropy cache on an accelerator that batches a checkpoint.

The accelerator's path is taken on the CPU (torch throughout, batching on), as in
tests/measures/test_device_path.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import (
    EntropyCache,
    Lanczos,
    NotPositiveSemidefiniteError,
    _array,
    gaussian_gram,
    label_gram,
    set_memory_options,
)
from infoflow._deferred import deferred_checks, error_prefix
from infoflow.measures import eigenproblems
from infoflow.measures.eigenproblems import Eigenproblem, run, run_together


@pytest.fixture
def solver_calls(monkeypatch):
    """The shapes of the matrices each solver call received, in order."""
    calls: list[tuple[int, ...]] = []
    solve = eigenproblems.solve

    def counted(problem):
        calls.append(tuple(problem.matrix.shape))
        return solve(problem)

    monkeypatch.setattr(eigenproblems, "solve", counted)
    return calls


@pytest.fixture
def device_path(monkeypatch):
    """CPU tensors take the accelerator's path: torch throughout, problems batched."""
    monkeypatch.setattr(_array, "CPU_TENSORS_AS_NUMPY", False)
    monkeypatch.setattr(eigenproblems, "BATCH_ON_CPU", True)


def _symmetric(rng, *shape):
    a = rng.normal(size=shape)
    return torch.tensor(a + np.swapaxes(a, -1, -2))


def _values_then_vectors(a, b):
    """Two steps: the eigenvalues of ``a``, then (with vectors) of ``b`` and ``a`` again."""
    (values,) = yield [Eigenproblem(a)]
    (vb, wb), (va, _) = yield [Eigenproblem(b, vectors=True), Eigenproblem(a, vectors=True)]
    return values, vb, wb, va


def test_batched_solutions_are_each_computations_own(rng, solver_calls):
    shapes = [((5, 5), (3, 4, 4)), ((5, 5), (4, 4)), ((6, 6), (2, 4, 4))]
    inputs = [(_symmetric(rng, *sa), _symmetric(rng, *sb)) for sa, sb in shapes]
    alone = [run(_values_then_vectors(a, b)) for a, b in inputs]
    solver_calls.clear()
    together = run_together([_values_then_vectors(a, b) for a, b in inputs])
    # round one: the 5 × 5 pair and the 6 × 6;
    # round two: the 4 × 4 stacks, the 5 × 5, the 6 × 6
    assert solver_calls == [(2, 5, 5), (6, 6), (6, 4, 4), (2, 5, 5), (6, 6)]
    for one, other in zip(alone, together):
        for x, y in zip(one, other):
            assert x.shape == y.shape
            torch.testing.assert_close(x, y, rtol=0, atol=1e-12)


def test_numpy_problems_and_finished_computations_need_no_batch(rng, solver_calls):
    def closed_form():
        return 1.0
        yield  # a computation that needs no solver: a generator all the same

    a = rng.normal(size=(4, 4))
    a = a + a.T
    results = run_together([closed_form(), _values_then_vectors(a, a), closed_form()])
    assert results[0] == results[2] == 1.0
    np.testing.assert_allclose(results[1][0], np.linalg.eigvalsh(a), atol=1e-12)
    assert solver_calls == [(4, 4)] * 3  # NumPy arrays are solved one by one


def test_gradients_flow_through_a_batch(rng):
    a = _symmetric(rng, 5, 5).requires_grad_()
    b = _symmetric(rng, 5, 5).requires_grad_()

    def largest(m):
        (values,) = yield [Eigenproblem(m)]
        return values[-1]

    together = sum(run_together([largest(a), largest(b)]))
    together.backward()
    grads = a.grad.clone(), b.grad.clone()
    a.grad = b.grad = None
    (run(largest(a)) + run(largest(b))).backward()
    torch.testing.assert_close(grads, (a.grad, b.grad))


def test_each_computation_runs_in_its_own_scope():
    def failing(name):
        yield [Eigenproblem(torch.eye(3))]
        if name == "b":
            raise NotPositiveSemidefiniteError("is not positive semi-definite")
        return name

    with pytest.raises(NotPositiveSemidefiniteError, match=r"^b is not positive"):
        run_together([failing(name) for name in "abc"],
                     [lambda name=name: error_prefix(name, ValueError) for name in "abc"])


def _grams(rng, n=90, layers=3):
    x = rng.normal(size=(n, 4))
    grams = {"x": gaussian_gram(x, 1.5), "y": label_gram(rng.integers(0, 3, size=n))}
    for i in range(layers):
        grams[f"t{i}"] = gaussian_gram(np.tanh(x @ rng.normal(size=(4, 3))), 1.0)
    return grams


def _plane(cache):
    return [value for name in cache.names if name.startswith("t")
            for value in (cache.mutual_information("x", name), cache.mutual_information(name, "y"))]


@pytest.mark.parametrize("method", ["exact", Lanczos(rank=20, probes=4, steps=8)])
def test_a_cache_on_the_device_solves_a_checkpoint_in_one_call_per_size(
        rng, device_path, solver_calls, method):
    grams = _grams(rng)
    expected = _plane(EntropyCache(grams, method=method))  # NumPy, one entropy at a time
    cache = EntropyCache({k: torch.tensor(v) for k, v in grams.items()}, method=method)
    solver_calls.clear()
    cache.precompute(_plane)
    # S(x), S(t_i) and S(x, t_i) in one batch of 7; the class blocks of S(t_i, y) in one more
    # (Lanczos: the top subspace's Ritz values, then the tridiagonals of all of them)
    assert len(solver_calls) == (2 if method == "exact" else 3), solver_calls
    assert (7, 90, 90) in solver_calls or method != "exact"
    computed = cache.computed
    values = _plane(cache)
    assert cache.computed == computed  # everything was precomputed
    np.testing.assert_allclose([float(v) for v in values], expected, atol=1e-9)


def test_entropies_run_together_as_memory_allows(rng, device_path, solver_calls):
    grams = {k: torch.tensor(v) for k, v in _grams(rng).items()}
    names = ["x", "t0", "t1", "t2"]
    one_by_one = [float(EntropyCache(grams).entropy(name)) for name in names]
    set_memory_options(memory_limit=2 * 4 * 90 * 90 * 8)  # two entropies' worth at a time
    try:
        solver_calls.clear()
        values = EntropyCache(grams).entropies(names)
    finally:
        set_memory_options(memory_limit=0)
    assert solver_calls == [(2, 90, 90), (2, 90, 90)]
    np.testing.assert_allclose([float(v) for v in values], one_by_one, atol=1e-12)


def test_a_failed_check_in_a_batch_names_its_entropy(rng, device_path):
    v = rng.normal(size=(40, 3))
    bad = np.eye(40) - 0.5 * (np.ones((40, 40)) - np.eye(40))  # eigenvalue 1 - 0.5 * 39 < 0
    grams = {"a": torch.tensor(gaussian_gram(v, 50.0)), "b": torch.tensor(bad),
             "c": torch.tensor(gaussian_gram(v, 2.0))}
    cache = EntropyCache(grams, alpha=1.01)
    with pytest.raises(NotPositiveSemidefiniteError,
                       match=r"^\(a, b\) joined is not positive"), deferred_checks():
        cache.entropies(["c", ("a", "c"), ("a", "b")])


def test_precompute_does_nothing_on_the_host(rng, solver_calls):
    cache = EntropyCache(_grams(rng))
    cache.precompute(_plane)
    assert solver_calls == [] and cache.computed == 0
    assert cache.entropies(["x", ("x", "y")]) == [cache.entropy("x"), cache.entropy("x", "y")]


def test_a_variable_taken_as_unstructured_is_checked_by_a_queued_check(rng, device_path,
                                                                       monkeypatch):
    from infoflow._deferred import as_floats
    from infoflow.measures.spectrum import StructureAssumed
    from tests.host_reads import count_host_reads

    grams = {k: torch.tensor(v) for k, v in _grams(rng).items()}
    probe = EntropyCache({"x": grams["x"], "y": grams["y"]})
    expected = as_floats([probe.extended({"t": grams["t0"]}).mutual_information("t", "y")])
    with monkeypatch.context() as patch:
        reads = count_host_reads(patch)
        with deferred_checks():  # nothing read to take t as unstructured; checked with values
            cache = probe.extended({"t": grams["t0"]}, assume_unstructured=["t"])
            value = as_floats([cache.mutual_information("t", "y")])
    assert reads == ["tolist"] and value == pytest.approx(expected, abs=1e-12)
    dead = torch.ones(90, 90, dtype=torch.float64)  # a dead layer's Gram: all entries equal
    with pytest.raises(StructureAssumed, match="'t' was taken as unstructured") as found, \
            deferred_checks():
        cache = probe.extended({"t": dead}, assume_unstructured=["t"])
        as_floats([cache.mutual_information("t", "y")])
    assert found.value.name == "t"
    looked = probe.extended({"t": dead})  # looked at: the closed form, exactly 0 bits
    assert float(looked.entropy("t")) == 0.0
