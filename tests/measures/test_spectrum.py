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
