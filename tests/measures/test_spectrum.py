"""The spectrum: block-by-block solving equals the full eigendecomposition."""

from __future__ import annotations

import numpy as np
import torch

from infoflow import gaussian_gram, label_gram
from infoflow.measures.spectrum import block_eigvalsh, diagonal_blocks


def test_blocks_of_a_joint_with_labels_are_the_classes(rng):
    y = rng.integers(0, 4, size=50)
    joint = gaussian_gram(rng.normal(size=(50, 3)), 1.0) * label_gram(y)
    blocks = diagonal_blocks(joint)
    assert sorted(sorted(b.tolist()) for b in blocks) == sorted(
        np.flatnonzero(y == c).tolist() for c in np.unique(y)
    )
    assert diagonal_blocks(gaussian_gram(rng.normal(size=(10, 2)), 1.0)) is None


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
