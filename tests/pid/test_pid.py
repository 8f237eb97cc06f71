"""PID with known answers (delta kernels, alpha = 1) and its identities on random data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infoflow import gaussian_gram, label_gram, mutual_information
from infoflow.pid import layer_pid, mmi

BITS = np.array(list(itertools.product([0, 1], repeat=2)))
A, B = BITS[:, 0], BITS[:, 1]


def grams(*columns):
    return [label_gram(c) for c in columns]


def test_xor_is_pure_synergy():
    parts = mmi(grams(A, B), label_gram(A ^ B), alpha=1)
    assert parts.redundancy == pytest.approx(0, abs=1e-12)
    assert parts.unique == pytest.approx((0, 0), abs=1e-12)
    assert parts.synergy == pytest.approx(1, abs=1e-12)


def test_copy_is_pure_redundancy():
    parts = mmi(grams(A, A), label_gram(A), alpha=1)
    assert parts.redundancy == pytest.approx(1, abs=1e-12)
    assert parts.unique == pytest.approx((0, 0), abs=1e-12)
    assert parts.synergy == pytest.approx(0, abs=1e-12)


def test_and_gate():
    parts = mmi(grams(A, B), label_gram(A & B), alpha=1)
    assert parts.redundancy == pytest.approx(0.311278, abs=1e-6)
    assert parts.unique == pytest.approx((0, 0), abs=1e-12)
    assert parts.synergy == pytest.approx(0.5, abs=1e-12)
    assert parts.mutual_information == pytest.approx(0.811278, abs=1e-6)


def test_unique_information():
    """Y = A with B independent noise: all of A's bit is unique to A."""
    parts = mmi(grams(A, B), label_gram(A), alpha=1)
    assert parts.unique == pytest.approx((1, 0), abs=1e-12)
    assert parts.redundancy == pytest.approx(0, abs=1e-12)
    assert parts.synergy == pytest.approx(0, abs=1e-12)


def test_two_bit_copy_shows_the_known_mmi_property():
    """Y = (A, B): MMI reports 1 bit redundant and 1 synergistic, none unique."""
    parts = mmi(grams(A, B), label_gram(2 * A + B), alpha=1)
    assert (parts.redundancy, parts.synergy) == pytest.approx((1, 1), abs=1e-12)
    assert parts.unique == pytest.approx((0, 0), abs=1e-12)


@given(seed=st.integers(0, 2**32 - 1), alpha=st.sampled_from([0.5, 1.0, 1.01, 2.0]))
def test_parts_sum_to_the_joint_information(seed, alpha):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=12)
    x = rng.normal(size=(12, 2)) + y[:, None]
    sources = [gaussian_gram(x[:, :1], 1.0), gaussian_gram(x[:, 1:], 0.7)]
    parts = mmi(sources, label_gram(y), alpha=alpha)
    assert parts.total == pytest.approx(parts.mutual_information, abs=1e-10)
    assert parts.mutual_information == pytest.approx(
        mutual_information(sources, label_gram(y), alpha=alpha), abs=1e-10
    )
    assert parts.redundancy >= -1e-9 and min(parts.unique) >= -1e-12
    assert min(parts.unique) == pytest.approx(0, abs=1e-12)


def test_layer_quantities_on_xor_and_copies():
    xor = layer_pid(grams(A, B), label_gram(A ^ B), alpha=1)
    assert xor.per_map == pytest.approx((0, 0), abs=1e-12)
    assert xor.leave_one_out == pytest.approx((0, 0), abs=1e-12)
    assert xor.rst == pytest.approx(1) and xor.rst_normalized == pytest.approx(1)
    assert xor.wni == pytest.approx(2)  # dropping either map loses the whole bit
    assert (xor.redundancy, xor.synergy) == pytest.approx((0, 1), abs=1e-12)

    copies = layer_pid(grams(A, A, A), label_gram(A), alpha=1)
    assert copies.rst == pytest.approx(-2) and copies.rst_normalized == pytest.approx(-2)
    assert copies.wni == pytest.approx(0, abs=1e-12)
    assert (copies.redundancy, copies.synergy) == pytest.approx((1, 0), abs=1e-12)


@given(seed=st.integers(0, 2**32 - 1))
def test_layer_quantities_against_direct_computation(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=15)
    maps = [gaussian_gram(rng.normal(size=(15, 2)) + y[:, None] * (c % 2), 1.0) for c in range(3)]
    ky = label_gram(y)
    pid = layer_pid(maps, ky)
    joint = mutual_information(maps, ky)
    singles = [mutual_information(m, ky) for m in maps]
    loo = [mutual_information(maps[:c] + maps[c + 1 :], ky) for c in range(3)]
    assert pid.mutual_information == pytest.approx(joint, abs=1e-10)
    assert pid.per_map == pytest.approx(singles, abs=1e-10)
    assert pid.leave_one_out == pytest.approx(loo, abs=1e-10)
    assert pid.rst == pytest.approx(joint - sum(singles), abs=1e-10)
    assert pid.wni == pytest.approx(sum(joint - v for v in loo) / joint, abs=1e-9)
    assert pid.synergy == pytest.approx(joint - max(singles), abs=1e-10)


def test_bad_input():
    with pytest.raises(ValueError, match="exactly 2 sources"):
        mmi(grams(A), label_gram(A))
    with pytest.raises(ValueError, match="at least 2 feature maps"):
        layer_pid(grams(A), label_gram(A))
    with pytest.raises(ValueError, match="same n samples"):
        mmi(grams(A, B), label_gram(np.arange(3)))
