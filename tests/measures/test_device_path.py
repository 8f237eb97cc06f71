"""The accelerator's path, checked on the CPU: torch throughout, no value leaves torch.

CPU tensors that need a gradient take the path a CUDA tensor takes (CPU tensors without one are
computed by NumPy on the same memory, which is faster there). Counting the tensor methods that
bring values to the host shows what a device would synchronise on.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import Lanczos, Nystrom, gaussian_gram, kernel_width, label_gram, renyi_entropy
from infoflow.measures.approximation import approximate_spectrum
from tests.host_reads import count_data_sized_results, count_host_reads


@pytest.fixture
def host_transfers(monkeypatch):
    """A list that grows by one for every call that takes a tensor's value to the host."""
    return count_host_reads(monkeypatch)


@pytest.mark.parametrize("method", [Lanczos(rank=20, probes=4, steps=8), Nystrom(rank=30)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_approximations_stay_in_torch_and_agree_with_numpy(rng, method, dtype, host_transfers):
    x = rng.normal(size=(300, 4))
    a = gaussian_gram(x, 1.5) / 300
    expected = approximate_spectrum(a.astype(np.float32) if dtype == torch.float32 else a,
                                    method)
    tensor = torch.tensor(a, dtype=dtype, requires_grad=True)
    host_transfers.clear()
    nodes, weights, _ = approximate_spectrum(tensor, method)
    assert host_transfers == []
    assert isinstance(nodes, torch.Tensor) and nodes.dtype == torch.float64
    order = np.argsort(expected[0])
    got = nodes.numpy()
    tolerance = 1e-9 if dtype == torch.float64 else 1e-7
    np.testing.assert_allclose(np.sort(got), expected[0][order], atol=tolerance)
    assert float((weights * nodes).sum()) == pytest.approx(float(expected[1] @ expected[0]),
                                                          abs=tolerance)


def test_lanczos_entropy_of_a_tensor_is_a_tensor_without_host_transfers(rng, host_transfers):
    x = torch.tensor(rng.normal(size=(300, 3)), requires_grad=True)
    k = gaussian_gram(x, 1.0)
    host_transfers.clear()
    value = renyi_entropy(k, method="lanczos")
    assert isinstance(value, torch.Tensor)
    # validation of the Gram (finite, symmetric, positive diagonal) and the block search
    # (is it one block?) take a few booleans to the host; the approximation takes none
    assert len(host_transfers) <= 6, host_transfers
    assert float(value) == pytest.approx(renyi_entropy(k.detach().numpy(), method="lanczos"),
                                         abs=1e-9)


def test_silverman_width_of_a_tensor_copies_only_the_scalar(rng, host_transfers):
    x = torch.tensor(rng.normal(size=(200, 5)) * 3, requires_grad=True)
    host_transfers.clear()
    sigma = kernel_width(x)
    assert host_transfers.count("numpy") == 0 and host_transfers.count("cpu") == 0
    assert sigma == pytest.approx(kernel_width(x.detach().numpy()), rel=1e-12)


def test_label_blocks_are_found_on_the_tensors_device(rng, host_transfers):
    from infoflow.measures.spectrum import _components_on_device, block_labels

    y = rng.integers(0, 5, size=100)
    mask = torch.tensor(label_gram(y)) != 0
    host_transfers.clear()
    labels = _components_on_device(mask)
    assert host_transfers.count("cpu") == 1  # the labels, once, at the end
    same = labels[:, None] == labels[None, :]
    np.testing.assert_array_equal(same, y[:, None] == y[None, :])
    assert block_labels(torch.tensor(label_gram(y))) is not None


def test_structure_of_every_variable_is_read_once_and_as_block_labels_finds_it(
        rng, host_transfers, monkeypatch):
    from infoflow import EntropyCache, _array
    from infoflow._deferred import deferred_checks
    from infoflow.measures.spectrum import block_labels, block_structures, is_delta

    labels = np.repeat(np.arange(3), 10)
    grams = [torch.tensor(gaussian_gram(rng.normal(size=(30, 2)), s), requires_grad=True)
             for s in (0.5, 1.0, 2.0, 4.0)]
    constant = torch.ones(30, 30, dtype=torch.float64)
    monkeypatch.setattr(_array, "CPU_TENSORS_AS_NUMPY", False)  # every tensor as on a device
    host_transfers.clear()
    structures = block_structures(grams + [constant])
    assert len(host_transfers) == 1  # one read for five variables without zero entries
    assert structures == [(None, False)] * 4 + [(None, True)]
    host_transfers.clear()
    with deferred_checks():  # as in the monitor: the validation flags are read together
        EntropyCache({f"t{i}": k for i, k in enumerate(grams)}, alpha=1.01)
    assert len(host_transfers) == 2, host_transfers  # the structures and the checks
    # a label Gram (zero entries) is searched for its blocks: the same answer as one by one
    label = label_gram(torch.tensor(labels))
    (found, delta), = block_structures([label])
    np.testing.assert_array_equal(found, block_labels(label))
    assert delta and is_delta(label, found)


def test_blocks_of_an_equivalence_pattern_come_in_one_read_and_others_are_searched(
        rng, host_transfers, monkeypatch):
    from infoflow import _array
    from infoflow.measures.spectrum import _labels_of_mask, block_structures, is_delta

    monkeypatch.setattr(_array, "CPU_TENSORS_AS_NUMPY", False)  # every tensor as on a device
    y, z = rng.integers(0, 4, 40), rng.integers(0, 3, 40)
    labels = label_gram(torch.tensor(y))
    joint = labels * label_gram(torch.tensor(z))  # a product of delta kernels: an equivalence
    scaled = 3.0 * labels  # a multiple of a delta kernel's Gram is one too
    spoiled = labels.clone()
    first = int(np.flatnonzero(y == y[0])[1])
    spoiled[0, first] = spoiled[first, 0] = 0.5  # same pattern, not a delta kernel
    band = torch.tensor(np.triu(np.tril(np.ones((40, 40)), 2), -2))  # a chain: no equivalence
    cases = [labels, joint, scaled, spoiled, band]
    found = block_structures(cases)
    for f, (blocks, delta) in zip(cases, found):
        expected = _labels_of_mask(f != 0)
        if expected is None:
            assert blocks is None
        else:  # the same partition
            assert len(np.unique(np.stack([blocks, expected], 1), axis=0)) == expected.max() + 1
            assert blocks.max() == expected.max()
        assert delta == is_delta(f, expected)
    assert [delta for _, delta in found] == [True, True, True, False, False]
    assert found[4][0] is None  # the band is one block, found by the step-by-step search
    host_transfers.clear()
    block_structures([labels, joint])
    # the structures' read, then one transfer (.cpu().numpy()) per equivalence pattern
    assert host_transfers == ["tolist", "cpu", "numpy", "cpu", "numpy"]


def test_what_goes_to_the_device_goes_without_a_blocking_copy(rng, monkeypatch):
    """The probes of an approximation and the class blocks' index arrays go to the device by
    ``host_to_device`` (an asynchronous copy from page-locked memory on CUDA), never by
    ``torch.as_tensor(array, device=...)``, which on CUDA makes the host wait for queued work."""
    copies = []
    original = torch.as_tensor
    monkeypatch.setattr(torch, "as_tensor", lambda *args, **kwargs: copies.append(kwargs)
                        or original(*args, **kwargs))
    x = rng.normal(size=(200, 3))
    y = np.repeat(np.arange(4), 50)
    grams = [torch.tensor(gaussian_gram(x, 1.0), requires_grad=True),
             torch.tensor(label_gram(y))]
    from infoflow import EntropyCache

    cache = EntropyCache({"x": grams[0], "y": grams[1]}, method=Lanczos(rank=20, probes=4,
                                                                          steps=8))
    copies.clear()
    sized = count_data_sized_results(monkeypatch)
    cache.mutual_information("x", "y")
    assert [c for c in copies if c.get("device") is not None] == []
    assert sized == []  # nor a result whose size the host would wait to learn


def test_host_to_device_on_the_cpu_shares_memory_or_converts():
    from infoflow._array import host_to_device

    a = np.arange(6, dtype=np.int64)
    t = host_to_device(a, "cpu")
    assert t.dtype == torch.int64 and np.shares_memory(t.numpy(), a)
    f = host_to_device(a, torch.device("cpu"), torch.float64)
    assert f.dtype == torch.float64 and f.tolist() == list(map(float, range(6)))
    assert host_to_device(np.array([True, False]), "cpu").tolist() == [True, False]
