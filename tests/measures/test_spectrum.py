"""The spectrum: block-by-block solving equals the full eigendecomposition."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infoflow import gaussian_gram, label_gram
from infoflow.measures.spectrum import block_eigvalsh, block_labels


def test_blocks_of_a_joint_with_labels_are_the_classes(rng):
    y = rng.integers(0, 4, size=50)
    joint = gaussian_gram(rng.normal(size=(50, 3)), 1.0) * label_gram(y)
    labels = block_labels(joint)
    blocks = [np.flatnonzero(labels == b).tolist() for b in np.unique(labels)]
    assert sorted(blocks) == sorted(np.flatnonzero(y == c).tolist() for c in np.unique(y))
    assert block_labels(gaussian_gram(rng.normal(size=(10, 2)), 1.0)) is None


def test_block_eigenvalues_equal_the_full_eigenvalues(rng):
    y = rng.integers(0, 5, size=80)
    joint = gaussian_gram(rng.normal(size=(80, 3)), 1.5) * label_gram(y) / 80
    np.testing.assert_allclose(
        np.sort(block_eigvalsh(joint)), np.linalg.eigvalsh(joint), atol=1e-15
    )
    t = torch.from_numpy(joint)
    np.testing.assert_allclose(
        np.sort(block_eigvalsh(t).numpy()), np.linalg.eigvalsh(joint), atol=1e-15
    )


def test_singleton_classes_are_one_by_one_blocks():
    k = label_gram(np.array([0, 1, 2, 2]))
    np.testing.assert_allclose(np.sort(block_eigvalsh(k)), [0, 1, 1, 2], atol=1e-15)


def test_float32_spectra_keep_small_eigenvalues_for_alpha_at_least_one(rng):
    """A smooth, low-dimensional kernel has most eigenvalues below n·eps32·lambda_max; dropping
    them (as is right for alpha < 1) biased float32 entropies at alpha = 1.01 by ~0.006 bits
    here."""
    from infoflow import renyi_entropy
    from infoflow.measures.spectrum import spectrum

    x = rng.normal(size=(600, 3))
    k = gaussian_gram(x, 1.5)
    a32 = (k / 600).astype(np.float32)
    lam = spectrum(a32, alpha=1.01)
    small = (lam > 0) & (lam < 600 * np.finfo(np.float32).eps * lam.max())
    assert small.sum() > 100  # the case the threshold would have hit
    for alpha in (1, 1.01, 1.2):
        assert renyi_entropy(k, alpha=alpha, dtype="float32") == pytest.approx(
            renyi_entropy(k, alpha=alpha), abs=1e-4
        )


def test_round_off_eigenvalues_are_dropped_below_alpha_one():
    a = np.diag([0.5, 0.5, 1e-18, -1e-18])
    np.testing.assert_array_equal(spectrum_of(a, 0.5), [0, 0, 0.5, 0.5])
    kept = spectrum_of(a, 1.01)
    assert kept[0] == 0  # negative round-off is always zeroed
    assert kept[1] > 0  # a tiny eigenvalue is kept for alpha >= 1


def spectrum_of(a, alpha):
    from infoflow.measures.spectrum import spectrum

    return np.sort(spectrum(a, alpha))


def test_common_blocks_are_the_blocks_of_the_product(rng):
    from infoflow.measures.spectrum import common_blocks

    y, z = rng.integers(0, 3, size=60), rng.integers(0, 4, size=60)
    ky, kz = label_gram(y), label_gram(z)
    same_block = lambda labels: labels[:, None] == labels[None, :]  # noqa: E731
    np.testing.assert_array_equal(
        same_block(common_blocks([block_labels(ky), None, block_labels(kz)])),
        same_block(block_labels(ky * kz)),
    )
    assert common_blocks([None, None]) is None
    labels = block_labels(ky)
    assert common_blocks([labels, None]) is labels


def test_entropy_cache_with_known_blocks_equals_detection(rng):
    from infoflow import EntropyCache, joint_entropy

    y, z = rng.integers(0, 3, size=70), rng.integers(0, 2, size=70)
    x = rng.normal(size=(70, 2))
    grams = {"x": gaussian_gram(x, 0.8), "y": label_gram(y), "z": label_gram(z)}
    cache = EntropyCache(grams, alpha=1.01)
    for names in (["x", "y"], ["y", "z"], ["x", "y", "z"], ["x"]):
        assert cache.entropy(*names) == pytest.approx(
            joint_entropy([grams[n] for n in names], alpha=1.01), abs=1e-12
        )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.01, 2.0, np.inf])
def test_label_entropies_are_the_closed_form_in_either_precision(rng, dtype, alpha):
    """The delta kernel's spectrum is the class proportions: computed from the counts, so float32
    is as exact as float64 (an eigensolver in float32 was 5e-5 bits off)."""
    from infoflow import EntropyCache, renyi_entropy

    from tests.conftest import proportions, renyi_of_distribution

    y, z = rng.integers(0, 7, size=900), rng.integers(0, 3, size=900)
    expected_y = renyi_of_distribution(proportions(y), alpha)
    expected_yz = renyi_of_distribution(proportions(y, z), alpha)
    assert renyi_entropy(label_gram(y), alpha=alpha, dtype=dtype) == pytest.approx(
        expected_y, abs=1e-12)
    assert renyi_entropy(torch.tensor(label_gram(y)), alpha=alpha, dtype=dtype).item() == (
        pytest.approx(expected_y, abs=1e-12))
    cache = EntropyCache({"y": label_gram(y), "z": label_gram(z)}, alpha=alpha, dtype=dtype)
    assert cache.entropy("y") == pytest.approx(expected_y, abs=1e-12)
    assert cache.entropy("y", "z") == pytest.approx(expected_yz, abs=1e-12)


def test_only_delta_kernels_take_the_closed_form(rng):
    from infoflow.measures.spectrum import is_delta

    y = rng.integers(0, 3, size=40)
    k = label_gram(y)
    assert is_delta(k, block_labels(k)) and is_delta(np.ones((5, 5)), None)
    scaled = k * 0.5  # a multiple of a delta kernel has the same normalised spectrum
    assert is_delta(scaled, block_labels(scaled))
    graded = k.copy()
    graded[0, np.flatnonzero(y == y[0])[1]] = graded[np.flatnonzero(y == y[0])[1], 0] = 0.5
    assert not is_delta(graded, block_labels(graded))
    assert not is_delta(k * gaussian_gram(rng.normal(size=(40, 2)), 1.0), block_labels(k))
    assert not is_delta(torch.tensor(k, requires_grad=True), block_labels(k))


def test_blocks_of_every_size_are_solved_in_batches_exactly(rng):
    """Many sizes (singletons, tiny, similar and very different blocks) give groups of several
    padded batches; the union of their spectra is the full spectrum."""
    from infoflow.measures.spectrum import _size_groups

    sizes = [1, 1, 2, 3, 5, 9, 30, 33, 36, 60, 61, 150]
    y = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    a = gaussian_gram(rng.normal(size=(len(y), 3)), 1.2) * label_gram(y) / len(y)
    groups = _size_groups(np.bincount(y))
    assert 1 < len(groups) < len(sizes)
    assert sorted(np.concatenate(groups).tolist()) == list(range(len(sizes)))
    full = np.linalg.eigvalsh(a)
    np.testing.assert_allclose(np.sort(block_eigvalsh(a)), full, atol=1e-15)
    np.testing.assert_allclose(np.sort(block_eigvalsh(a.astype(np.float32))), full, atol=1e-7)
    t = torch.tensor(a, requires_grad=True)  # the torch path, differentiable
    lam = block_eigvalsh(t)
    np.testing.assert_allclose(np.sort(lam.detach().numpy()), full, atol=1e-15)
    lam.sum().backward()  # d(trace)/dA = I on the diagonal
    np.testing.assert_allclose(t.grad.numpy(), np.eye(len(y)), atol=1e-12)


def test_blocks_found_on_the_tensors_device_equal_scipys(rng):
    """The torch search (label propagation with pointer jumping) finds the components SciPy
    finds, also for a chain, which takes it several rounds."""
    from infoflow.measures.spectrum import _components_on_device

    y = rng.integers(0, 6, size=60)
    chain = np.eye(12) + np.eye(12, k=1) + np.eye(12, k=-1)
    chain[5, 6] = chain[6, 5] = 0  # two chains: 0..5 and 6..11
    for mask in (label_gram(y) != 0, chain != 0):
        expected = block_labels(mask.astype(float))
        found = _components_on_device(torch.tensor(mask))
        same = lambda labels: labels[:, None] == labels[None, :]  # noqa: E731
        np.testing.assert_array_equal(same(found), same(expected))


@pytest.mark.parametrize("n", [40, 400])
def test_the_solvers_agree_on_both_sides_of_the_crossover(rng, monkeypatch, n):
    """SciPy and torch solve the same matrix to round-off, whichever the size rule picks, and the
    result keeps the input's kind."""
    from infoflow import _array

    a = gaussian_gram(rng.normal(size=(n, 3)), 1.0) / n
    expected = np.linalg.eigvalsh(a)
    for sizes in ((0, 10**9), (10**9, 10**9)):  # SciPy everywhere, then torch everywhere
        monkeypatch.setitem(_array.SCIPY_SOLVER_SIZES, "float64", sizes)
        lam = _array.eigvalsh(a)
        assert isinstance(lam, np.ndarray)
        np.testing.assert_allclose(lam, expected, atol=1e-15)
        lam_t = _array.eigvalsh(torch.tensor(a))
        assert isinstance(lam_t, torch.Tensor)
        np.testing.assert_allclose(lam_t.numpy(), expected, atol=1e-15)


def _indefinite_block_beside_a_larger_one(n: int) -> np.ndarray:
    """I, except a 4-block with off-diagonal -1 (eigenvalue -2, all 2 x 2 minors valid) and an
    all-ones 5-block: the batched solver pads the 4-block to size 5."""
    k = np.eye(n)
    k[:4, :4] = 2 * np.eye(4) - np.ones((4, 4))
    k[4:9, 4:9] = 1.0
    return k


@pytest.mark.parametrize("as_torch", [False, True])
def test_a_block_eigenvalue_below_the_pad_is_refused(as_torch):
    """Dropping the pads by position would drop the 4-block's -2 (below the pad -1) and keep a
    pad value in its place; the dropped values are checked to be the pad."""
    from infoflow import NotPositiveSemidefiniteError

    k = _indefinite_block_beside_a_larger_one(12)
    k = torch.tensor(k, requires_grad=True) if as_torch else k
    with pytest.raises(NotPositiveSemidefiniteError, match="eigenvalue -2, below -max A_ii = -1"):
        block_eigvalsh(k)
    fine = _indefinite_block_beside_a_larger_one(12)
    fine[:4, :4] = np.eye(4) + 0.1  # the same blocks, positive definite: pads dropped exactly
    np.testing.assert_allclose(np.sort(block_eigvalsh(fine)), np.linalg.eigvalsh(fine),
                               atol=1e-12)


@pytest.mark.parametrize("as_torch", [False, True])
def test_a_non_psd_class_block_at_large_n_is_refused(as_torch):
    """At n > 2900 the round-off tolerance n * eps32 exceeds 1/n: a pad value -max|diag| = -1/n
    kept in place of a dropped eigenvalue -2/n used to pass the spectrum's check."""
    from infoflow import NotPositiveSemidefiniteError, renyi_entropy

    k = _indefinite_block_beside_a_larger_one(3000)
    k = torch.tensor(k, requires_grad=True) if as_torch else k
    with pytest.raises(NotPositiveSemidefiniteError, match="eigenvalue -0.000667"):
        renyi_entropy(k, method="exact")


def test_block_structures_of_numpy_factors_agree_with_block_labels_and_is_delta(rng):
    from infoflow import label_gram
    from infoflow.measures.spectrum import block_labels, block_structures, is_delta

    y, z = rng.integers(0, 4, 60), rng.integers(0, 3, 60)
    labels = label_gram(y)
    spoiled = labels.copy()
    first = int(np.flatnonzero(y == y[0])[1])
    spoiled[0, first] = spoiled[first, 0] = 0.5  # the same pattern, not a delta kernel
    band = np.triu(np.tril(np.ones((60, 60)), 2), -2)  # zeros, but one chained block
    gaussian = np.exp(-np.subtract.outer(np.arange(60.0), np.arange(60.0)) ** 2 / 50)
    cases = [labels, labels * label_gram(z), 3.0 * labels, spoiled, band, gaussian,
             np.ones((60, 60))]
    found = block_structures(cases)
    for f, (blocks, delta) in zip(cases, found):
        expected = block_labels(f)
        if expected is None:
            assert blocks is None
        else:  # the same partition
            pairs = np.unique(np.stack([blocks, expected], 1), axis=0)
            assert len(pairs) == expected.max() + 1 == blocks.max() + 1
        assert delta == is_delta(f, expected)
    assert [d for _, d in found] == [True, True, True, False, False, False, True]
