"""Mutual information, conditional entropies and correlations: closed forms and bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

from infoflow import (
    conditional_entropy,
    conditional_mutual_information,
    dual_total_correlation,
    gaussian_gram,
    joint_entropy,
    label_gram,
    mutual_information,
    renyi_entropy,
    total_correlation,
)
from tests.conftest import ALPHAS, SUBADDITIVE_UP_TO, data_and_sigma, labels, proportions, renyi_of_distribution


def h(alpha, *columns):
    return renyi_of_distribution(proportions(*columns), alpha)


@pytest.mark.parametrize("alpha", ALPHAS)
@given(a=labels(min_n=8, max_n=8), b=labels(min_n=8, max_n=8), c=labels(min_n=8, max_n=8))
def test_discrete_closed_forms(alpha, a, b, c):
    ka, kb, kc = label_gram(a), label_gram(b), label_gram(c)
    tol = 1e-9
    assert mutual_information(ka, kb, alpha=alpha) == pytest.approx(
        h(alpha, a) + h(alpha, b) - h(alpha, a, b), abs=tol
    )
    assert conditional_entropy(ka, kb, alpha=alpha) == pytest.approx(
        h(alpha, a, b) - h(alpha, b), abs=tol
    )
    assert conditional_mutual_information(ka, kb, kc, alpha=alpha) == pytest.approx(
        h(alpha, a, c) + h(alpha, b, c) - h(alpha, a, b, c) - h(alpha, c), abs=tol
    )
    assert total_correlation([ka, kb, kc], alpha=alpha) == pytest.approx(
        h(alpha, a) + h(alpha, b) + h(alpha, c) - h(alpha, a, b, c), abs=tol
    )
    assert dual_total_correlation([ka, kb, kc], alpha=alpha) == pytest.approx(
        h(alpha, b, c) + h(alpha, a, c) + h(alpha, a, b) - 2 * h(alpha, a, b, c), abs=tol
    )


def test_mi_of_a_variable_with_itself_is_its_entropy():
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    assert mutual_information(label_gram(y), label_gram(y), alpha=1) == pytest.approx(2.0)


def test_mi_of_independent_uniform_bits_is_zero():
    a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    assert mutual_information(label_gram(a), label_gram(b), alpha=1) == pytest.approx(0, abs=1e-12)


def test_xor_pairwise_zero_jointly_one_bit():
    a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    y = a ^ b
    ka, kb, ky = label_gram(a), label_gram(b), label_gram(y)
    assert mutual_information(ka, ky, alpha=1) == pytest.approx(0, abs=1e-12)
    assert mutual_information([ka, kb], ky, alpha=1) == pytest.approx(1.0, abs=1e-12)
    assert conditional_mutual_information(ka, ky, kb, alpha=1) == pytest.approx(1.0, abs=1e-12)


def test_set_argument_equals_its_hadamard_product(rng):
    x = rng.normal(size=(20, 4))
    k1, k2, k3 = (gaussian_gram(x[:, i : i + 2], 1.0) for i in range(3))
    assert mutual_information([k1, k2], k3) == pytest.approx(
        mutual_information(k1 * k2, k3), abs=1e-12
    )


@pytest.mark.parametrize("alpha", ALPHAS)
@given(case=data_and_sigma(max_n=12), y=labels(min_n=12, max_n=12))
def test_mi_bounds_and_symmetry(alpha, case, y):
    x, sigma = case
    kx, ky = gaussian_gram(x, sigma), label_gram(y[: len(x)])
    i_xy = mutual_information(kx, ky, alpha=alpha)
    assert i_xy == pytest.approx(mutual_information(ky, kx, alpha=alpha), abs=1e-12)
    smallest = min(renyi_entropy(kx, alpha=alpha), renyi_entropy(ky, alpha=alpha))
    assert i_xy <= smallest + 1e-9
    if alpha <= SUBADDITIVE_UP_TO:
        assert i_xy >= -1e-9


@pytest.mark.parametrize("alpha", ALPHAS)
@given(case=data_and_sigma(max_n=12))
def test_chain_rule_and_non_negative_conditional_entropy(alpha, case):
    x, sigma = case
    ka, kb = gaussian_gram(x[:, :1], sigma), gaussian_gram(x ** 2, sigma)
    s_ab = joint_entropy([ka, kb], alpha=alpha)
    cond = conditional_entropy(ka, kb, alpha=alpha)
    assert cond == pytest.approx(s_ab - renyi_entropy(kb, alpha=alpha), abs=1e-12)
    assert cond >= -1e-9  # joint >= max holds for every alpha


def test_total_correlation_of_independent_bits_is_zero_and_of_copies_positive():
    a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    assert total_correlation([label_gram(a), label_gram(b)], alpha=1) == pytest.approx(0, abs=1e-12)
    assert total_correlation([label_gram(a)] * 3, alpha=1) == pytest.approx(2.0)
    assert dual_total_correlation([label_gram(a)] * 3, alpha=1) == pytest.approx(1.0)
    assert math.isclose(
        dual_total_correlation([label_gram(a), label_gram(b), label_gram(a ^ b)], alpha=1), 2.0
    )
