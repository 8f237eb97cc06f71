"""Closed forms and facts of docs/method.md §1–2 for renyi_entropy and joint_entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infoflow import gaussian_gram, joint_entropy, label_gram, renyi_entropy
from tests.conftest import ALPHAS, SUBADDITIVE_UP_TO, data_and_sigma, labels, proportions, renyi_of_distribution

ALL_ALPHAS = [*ALPHAS, 0.2, 1.0 + 1e-9, 10.0, math.inf]


@pytest.mark.parametrize("alpha", ALL_ALPHAS)
@pytest.mark.parametrize("n", [2, 7, 64])
def test_identity_gives_log2_n_for_every_alpha(n, alpha):
    assert renyi_entropy(np.eye(n), alpha=alpha) == pytest.approx(math.log2(n), abs=1e-12)


@pytest.mark.parametrize("alpha", ALL_ALPHAS)
def test_all_ones_gives_zero(alpha):
    assert renyi_entropy(np.ones((9, 9)), alpha=alpha) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("alpha", [*ALPHAS, math.inf])
@given(y=labels())
def test_delta_kernel_gives_renyi_entropy_of_class_proportions(alpha, y):
    expected = renyi_of_distribution(proportions(y), alpha)
    assert renyi_entropy(label_gram(y), alpha=alpha) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("alpha", ALPHAS)
@given(a=labels(min_n=6, max_n=6), b=labels(min_n=6, max_n=6), c=labels(min_n=6, max_n=6))
def test_joint_of_delta_kernels_gives_joint_empirical_entropy(alpha, a, b, c):
    expected = renyi_of_distribution(proportions(a, b, c), alpha)
    grams = [label_gram(a), label_gram(b), label_gram(c)]
    assert joint_entropy(grams, alpha=alpha) == pytest.approx(expected, abs=1e-10)
    assert joint_entropy(np.stack(grams), alpha=alpha) == pytest.approx(expected, abs=1e-10)


def test_unnormalised_and_scaled_grams_give_the_same_entropy(rng):
    k = gaussian_gram(rng.normal(size=(20, 3)), 1.0)
    assert renyi_entropy(5.0 * k) == pytest.approx(renyi_entropy(k / 20), abs=1e-12)


def test_von_neumann_at_alpha_one_against_an_eigendecomposition(rng):
    k = gaussian_gram(rng.normal(size=(30, 2)), 0.8)
    lam = np.linalg.eigvalsh(k / np.trace(k))
    lam = lam[lam > 1e-15]
    assert renyi_entropy(k, alpha=1) == pytest.approx(-(lam * np.log2(lam)).sum(), abs=1e-12)


def test_alpha_two_without_eigenvalues_matches_the_spectrum(rng):
    k = gaussian_gram(rng.normal(size=(30, 2)), 0.8)
    lam = np.linalg.eigvalsh(k / np.trace(k))
    assert renyi_entropy(k, alpha=2) == pytest.approx(-np.log2((lam**2).sum()), abs=1e-12)


@pytest.mark.parametrize("alpha", [0.5, 1.01, 3.0])
def test_generic_order_against_textbook_formula(rng, alpha):
    k = gaussian_gram(rng.normal(size=(40, 3)), 1.3)
    lam = np.clip(np.linalg.eigvalsh(k / np.trace(k)), 0, None)
    lam = lam[lam > 1e-13]
    expected = np.log2((lam**alpha).sum()) / (1 - alpha)
    assert renyi_entropy(k, alpha=alpha) == pytest.approx(expected, abs=1e-9)


def test_continuous_as_alpha_tends_to_one(rng):
    k = gaussian_gram(rng.normal(size=(25, 2)), 1.0)
    at_one = renyi_entropy(k, alpha=1)
    for delta in [1e-3, 1e-6, 1e-10, 1e-14]:
        below, above = renyi_entropy(k, alpha=1 - delta), renyi_entropy(k, alpha=1 + delta)
        assert below >= at_one - 1e-12 >= above - 2e-12
        assert abs(below - at_one) < 10 * delta + 1e-12
        assert abs(above - at_one) < 10 * delta + 1e-12


def test_entropy_is_non_increasing_in_alpha(rng):
    k = gaussian_gram(rng.normal(size=(25, 2)), 0.7)
    values = [renyi_entropy(k, alpha=a) for a in [0.2, 0.5, 0.9, 1, 1.01, 1.5, 2, 3, 10, math.inf]]
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))


def test_float32_is_close_to_float64(rng):
    k = gaussian_gram(rng.normal(size=(100, 5)), 2.0)
    assert renyi_entropy(k, dtype="float32") == pytest.approx(renyi_entropy(k), abs=1e-3)


@pytest.mark.parametrize("alpha", ALPHAS)
@given(case=data_and_sigma())
def test_bounds_zero_to_log2_n(alpha, case):
    x, sigma = case
    s = renyi_entropy(gaussian_gram(x, sigma), alpha=alpha)
    assert -1e-12 <= s <= math.log2(len(x)) + 1e-12


@pytest.mark.parametrize("alpha", ALPHAS)
@given(case=data_and_sigma(), seed=st.integers(0, 2**32 - 1))
def test_permuting_samples_changes_nothing(alpha, case, seed):
    x, sigma = case
    perm = np.random.default_rng(seed).permutation(len(x))
    a = renyi_entropy(gaussian_gram(x, sigma), alpha=alpha)
    # For alpha < 1 an eigenvalue at the round-off floor (~n·eps) adds ~(n·eps)^alpha to
    # sum(lambda^alpha), whether it is kept or dropped: ~1e-8 at alpha = 0.5.
    tol = 1e-10 if alpha >= 1 else 1e-7
    assert renyi_entropy(gaussian_gram(x[perm], sigma), alpha=alpha) == pytest.approx(a, abs=tol)


@pytest.mark.parametrize("alpha", ALPHAS)
@given(case=data_and_sigma(), y=labels(min_n=14, max_n=14), s2=st.floats(0.3, 3.0))
def test_joint_lies_between_max_and_sum(alpha, case, y, s2):
    x, sigma = case
    n = len(x)
    grams = [gaussian_gram(x, sigma), gaussian_gram(x[:, :1] ** 2, s2), label_gram(y[:n])]
    marginals = [renyi_entropy(k, alpha=alpha) for k in grams]
    joint = joint_entropy(grams, alpha=alpha)
    assert max(marginals) - 1e-9 <= joint
    if alpha <= SUBADDITIVE_UP_TO:
        assert joint <= sum(marginals) + 1e-9


def test_subadditivity_fails_for_alpha_above_one():
    """A pinned counterexample to joint <= sum for alpha = 2 and 3 (docs/estimators.md).

    Like the classical Rényi entropy of order > 1, the matrix-based joint entropy is not
    subadditive: three samples, one in its own class, give S(A, B) > S(A) + S(B).
    """
    x = np.array([[0.12573022], [-0.13210486], [0.64042265]])
    grams = [gaussian_gram(x, 1.0), label_gram(np.array([1, 0, 0]))]
    for alpha, excess in [(2.0, 0.02423), (3.0, 0.05092)]:
        marginals = sum(renyi_entropy(k, alpha=alpha) for k in grams)
        assert joint_entropy(grams, alpha=alpha) - marginals == pytest.approx(excess, abs=1e-5)
    assert joint_entropy(grams, alpha=1.01) < sum(renyi_entropy(k, alpha=1.01) for k in grams)
