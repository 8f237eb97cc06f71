"""Checks of tensors read once per scope: same errors, one synchronisation, nothing missed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import EntropyCache, NotPositiveSemidefiniteError, gaussian_gram, renyi_entropy
from infoflow._deferred import deferred_checks, error_prefix, read_with_checks, require


def test_a_queued_check_raises_its_own_error_when_the_scope_ends():
    reached = []
    with pytest.raises(ValueError, match="x must hold only finite values"), deferred_checks():
        gaussian_gram(torch.tensor([[0.0], [float("nan")]], requires_grad=True), 1.0)
        reached.append("after")  # the work goes on until the scope reads the flags
    assert reached == ["after"]


def test_outside_a_scope_and_for_numpy_checks_are_immediate():
    with pytest.raises(ValueError, match="finite"):
        gaussian_gram(torch.tensor([[0.0], [float("nan")]], requires_grad=True), 1.0)
    reached = []
    with pytest.raises(ValueError, match="finite"), deferred_checks():
        gaussian_gram(np.array([[0.0], [np.nan]]), 1.0)
        reached.append("after")
    assert reached == []


def test_every_flag_is_read_with_one_transfer(monkeypatch):
    reads = []
    original = torch.Tensor.__bool__
    monkeypatch.setattr(torch.Tensor, "__bool__",
                        lambda self: reads.append(1) or original(self))
    with deferred_checks():
        for _ in range(5):
            require(torch.tensor(True), lambda: pytest.fail("must not be called"))
        assert reads == []
    assert len(reads) == 1


def test_a_failure_inside_the_scope_gives_way_to_the_failed_check():
    """A solver failing on data a queued check refuses: the user sees the check's message,
    the solver's error as its cause."""
    def refuse():
        raise ValueError("K must be symmetric")

    with pytest.raises(ValueError, match="K must be symmetric") as caught, deferred_checks():
        require(torch.tensor(False), refuse)
        raise RuntimeError("linalg.eigvalsh: the algorithm failed to converge")
    assert isinstance(caught.value.__cause__, RuntimeError)
    with pytest.raises(RuntimeError, match="converge"), deferred_checks():
        require(torch.tensor(True), refuse)  # nothing failed: the original error stands
        raise RuntimeError("converge")


def test_a_check_that_finds_nothing_wrong_on_a_closer_look_passes():
    with deferred_checks():
        require(torch.tensor(False), lambda: None)  # e.g. a sum that overflowed, values finite


def test_nested_scopes_read_once_at_the_outermost():
    with pytest.raises(ValueError, match="late"), deferred_checks():
        with deferred_checks():
            require(torch.tensor(False), lambda: (_ for _ in ()).throw(ValueError("late")))
        reached = True
    assert reached


def test_a_queued_error_is_named_once_by_the_prefixes_open_when_it_was_queued():
    def refuse():
        raise NotPositiveSemidefiniteError("is not positive semi-definite")

    with pytest.raises(NotPositiveSemidefiniteError,
                       match=r"^outer inner is not positive semi-definite$"), deferred_checks():
        with error_prefix("outer", NotPositiveSemidefiniteError), \
                error_prefix("inner", NotPositiveSemidefiniteError):
            require(torch.tensor(False), refuse)
    with pytest.raises(NotPositiveSemidefiniteError,
                       match=r"^outer inner is not positive semi-definite$"):
        with error_prefix("outer", NotPositiveSemidefiniteError), deferred_checks(), \
                error_prefix("inner", NotPositiveSemidefiniteError):
            require(torch.tensor(False), refuse)


def test_an_indefinite_joint_in_a_cache_is_refused_with_its_name_at_the_end_of_the_scope():
    """The device's path on the CPU (tensors that need a gradient take it): a matrix with
    valid entries but a negative eigenvalue, joined with a Gaussian Gram."""
    rng = np.random.default_rng(0)
    v = rng.normal(size=(40, 3))
    bad = np.eye(40) - 0.5 * (np.ones((40, 40)) - np.eye(40))  # eigenvalue 1 - 0.5 * 39 < 0
    grams = {"a": torch.tensor(gaussian_gram(v, 50.0), requires_grad=True),
             "b": torch.tensor(bad, requires_grad=True)}
    with pytest.raises(NotPositiveSemidefiniteError, match=r"^\(a, b\) joined is not positive"):
        with deferred_checks():
            EntropyCache(grams, alpha=1.01).entropy("a", "b")
    with pytest.raises(NotPositiveSemidefiniteError, match="is not positive"):
        renyi_entropy(grams["b"], alpha=1.01)  # and at once outside a scope


@pytest.mark.parametrize("deferred", [False, True])
def test_a_prefix_keeps_the_errors_own_type(deferred):
    """A subclass of the prefix's kind stays itself, at once and when read at the scope's end."""
    def refuse():
        raise NotPositiveSemidefiniteError("is not positive semi-definite")

    with pytest.raises(NotPositiveSemidefiniteError, match=r"^layer 'fc': is not positive"):
        with deferred_checks(), error_prefix("layer 'fc':", ValueError):
            if deferred:
                require(torch.tensor(False), refuse)
            else:
                refuse()


def test_values_are_read_with_the_queued_checks_in_one_transfer(monkeypatch):
    from tests.host_reads import count_host_reads

    reads = count_host_reads(monkeypatch)
    with deferred_checks():
        for _ in range(3):
            require(torch.tensor(True), lambda: pytest.fail("must not be called"))
        values = read_with_checks([torch.tensor(1.5), torch.tensor(2, dtype=torch.float32)])
    assert values == [1.5, 2.0] and reads == ["tolist"]  # the scope had nothing left to read


def test_a_check_read_with_the_values_raises_its_error_there():
    def refuse():
        raise NotPositiveSemidefiniteError("is not positive semi-definite")

    reached = []
    with pytest.raises(NotPositiveSemidefiniteError, match=r"^inner is not positive"), \
            deferred_checks():
        require(torch.tensor(True), lambda: pytest.fail("must not be called"))
        with error_prefix("inner", NotPositiveSemidefiniteError):
            require(torch.tensor(False), refuse)
        read_with_checks([torch.tensor(0.0)])
        reached.append("after")
    assert reached == []
    assert read_with_checks([torch.tensor(3.0)]) == [3.0]  # outside a scope: only the values
