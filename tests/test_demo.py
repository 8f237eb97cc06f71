"""The digits demo: its numbers obey the closed forms and bounds they must."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infoflow import gaussian_gram, joint_entropy, kernel_width
from infoflow.data import load_digits
from infoflow.demo import digits_demo
from tests.conftest import renyi_of_distribution


def test_digits_loader_shapes_and_range():
    images, labels = load_digits()
    assert images.shape == (1797, 1, 8, 8) and labels.shape == (1797,)
    assert images.min() >= 0 and images.max() <= 1 and set(labels) == set(range(10))


def test_demo_values_are_checked_against_independent_computations():
    n, rows = digits_demo(alphas=(1.01, 2.0), rules=("silverman", "median"), n=200)
    images, labels = load_digits()
    x = images[:200].reshape(200, -1).astype(float)
    for row in rows:
        assert row.entropy_y == pytest.approx(
            renyi_of_distribution(np.bincount(labels[:200]) / 200, row.alpha), abs=1e-10
        )
        assert 0 <= row.entropy_x <= math.log2(n)
        assert row.mutual_information_xy <= min(row.entropy_x, row.entropy_y) + 1e-9
        # the halves' Hadamard product is X's Gram, so TC = S(top) + S(bottom) - S(X)
        top, bottom = gaussian_gram(x[:, :32], row.sigma), gaussian_gram(x[:, 32:], row.sigma)
        assert row.total_correlation_halves == pytest.approx(
            joint_entropy([top], alpha=row.alpha) + joint_entropy([bottom], alpha=row.alpha)
            - joint_entropy([top, bottom], alpha=row.alpha), abs=1e-9
        )
    assert rows[0].sigma == pytest.approx(kernel_width(x))
