"""The redundancy measure is the one definition: its union information is the inclusion–exclusion
sum of its redundancies, and the decompositions derive from it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infoflow import EntropyCache, label_gram
from infoflow.pid import MMI, layer_pid_from_cache, mmi, mmi_from_cache


def random_cache(seed: int, sources: int) -> EntropyCache:
    rng = np.random.default_rng(seed)
    columns = rng.integers(0, 3, size=(sources, 24))
    y = (columns.sum(0) + rng.integers(0, 2, size=24)) % 3
    grams = {f"s{i}": label_gram(c) for i, c in enumerate(columns)}
    return EntropyCache({**grams, "y": label_gram(y)}, alpha=1)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sources=st.integers(1, 4))
def test_union_is_the_inclusion_exclusion_of_redundancies(seed, sources):
    cache = random_cache(seed, sources)
    names = [f"s{i}" for i in range(sources)]
    by_subsets = sum(
        (-1) ** (size + 1) * MMI.redundancy(cache, list(subset), "y")
        for size in range(1, sources + 1) for subset in itertools.combinations(names, size)
    )
    assert MMI.union(cache, names, "y") == pytest.approx(by_subsets, abs=1e-12)
    assert MMI.redundancy(cache, names, "y") <= MMI.union(cache, names, "y")


def test_the_decompositions_derive_from_the_measure():
    """A measure with another redundancy changes every derived part, and only through it."""

    class Half:
        name = "half of MMI"

        @staticmethod
        def redundancy(cache, sources, target):
            return MMI.redundancy(cache, sources, target) / 2

        @staticmethod
        def union(cache, sources, target):
            return MMI.union(cache, sources, target) / 2

    cache = random_cache(5, 3)
    plain = mmi_from_cache(cache, ["s0", "s1"], "y")
    halved = mmi_from_cache(cache, ["s0", "s1"], "y", measure=Half())
    assert halved.redundancy == pytest.approx(plain.redundancy / 2, abs=1e-12)
    assert halved.total == pytest.approx(plain.mutual_information, abs=1e-12)
    assert halved.synergy == pytest.approx(plain.synergy - plain.redundancy / 2, abs=1e-12)
    layer = layer_pid_from_cache(cache, ["s0", "s1", "s2"], "y", measure=Half())
    assert layer.redundancy == pytest.approx(min(layer.per_map) / 2, abs=1e-12)
    assert layer.synergy == pytest.approx(layer.mutual_information - max(layer.per_map) / 2,
                                          abs=1e-12)


def test_sources_may_be_sets_of_variables():
    cache = random_cache(7, 3)
    parts = mmi_from_cache(cache, [("s0", "s1"), "s2"], "y")
    assert parts.mutual_information == pytest.approx(
        float(cache.mutual_information(("s0", "s1", "s2"), "y")), abs=1e-12)
    assert parts.redundancy == pytest.approx(
        min(float(cache.mutual_information(("s0", "s1"), "y")),
            float(cache.mutual_information("s2", "y"))), abs=1e-12)


def test_mmi_from_grams_equals_mmi_from_a_cache():
    a, b = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 1, 0, 1])
    y = (a + b) % 2
    direct = mmi([label_gram(a), label_gram(b)], label_gram(y), alpha=1)
    cache = EntropyCache({"a": label_gram(a), "b": label_gram(b), "y": label_gram(y)}, alpha=1)
    assert direct == mmi_from_cache(cache, ["a", "b"], "y")


def test_no_sources_is_refused():
    with pytest.raises(ValueError, match="sources must name at least one source"):
        MMI.redundancy(random_cache(0, 1), [], "y")
