"""EntropyCache: each joint entropy once, equal to the functional results."""

from __future__ import annotations

import numpy as np
import pytest

from infoflow import EntropyCache, gaussian_gram, joint_entropy, label_gram, mutual_information


@pytest.fixture
def grams(rng):
    x = rng.normal(size=(30, 6))
    maps = [gaussian_gram(x[:, i : i + 2], 1.0) for i in range(3)]
    return {
        "x": gaussian_gram(x, 2.0),
        "t": maps,
        "y": label_gram(rng.integers(0, 3, size=30)),
    }


def test_cache_matches_functions_and_counts_each_entropy_once(grams):
    cache = EntropyCache(grams)
    assert cache.mutual_information("x", "t") == pytest.approx(
        mutual_information(grams["x"], grams["t"]), abs=1e-12
    )
    assert cache.computed == 3
    assert cache.mutual_information("t", "y") == pytest.approx(
        mutual_information(grams["t"], grams["y"]), abs=1e-12
    )
    assert cache.computed == 5  # S(t) is shared; S(y), S(t,y) are new
    assert cache.entropy("y", "t", "x") == pytest.approx(
        joint_entropy([grams["x"], *grams["t"], grams["y"]]), abs=1e-12
    )


def test_sets_of_names_are_unions(grams):
    cache = EntropyCache(grams)
    assert cache.mutual_information(("x", "t"), "y") == pytest.approx(
        mutual_information([grams["x"], *grams["t"]], grams["y"]), abs=1e-12
    )
    assert cache.entropy(("x", "y"), "x") == cache.entropy("x", "y")


def test_unknown_names_and_bad_grams_are_refused(grams):
    cache = EntropyCache(grams)
    with pytest.raises(KeyError, match="unknown variable"):
        cache.entropy("z")
    with pytest.raises(ValueError, match="same n samples"):
        EntropyCache({"a": np.eye(3), "b": np.eye(4)})
    with pytest.raises(ValueError, match="empty"):
        EntropyCache({})


def test_extended_cache_shares_computed_entropies(grams):
    base = EntropyCache({"x": grams["x"], "y": grams["y"]})
    s_x = base.entropy("x")
    child = base.extended({"t": grams["t"]})
    assert child.computed == 1 and child.entropy("x") == s_x
    assert child.mutual_information("x", "t") == pytest.approx(
        mutual_information(grams["x"], grams["t"]), abs=1e-12
    )
    assert base.computed == 1  # the parent is unchanged
    with pytest.raises(ValueError, match="already holds"):
        base.extended({"x": grams["x"]})
    with pytest.raises(ValueError, match="same n samples"):
        base.extended({"z": np.eye(3)})


def test_pending_lists_what_a_computation_needs_and_add_entropies_fills_it(grams):
    cache = EntropyCache(grams)
    s_x = cache.entropy("x")
    pending = cache.pending(lambda c: (c.mutual_information("x", "t"), c.entropy("t", "x")))
    assert pending == [frozenset({"t"}), frozenset({"x", "t"})]  # S(x) is held; S(x,t) once
    assert cache.computed == 1  # the dry run computed nothing
    # entropies computed elsewhere (a fresh cache: another process) make the values exact
    elsewhere = EntropyCache(grams)
    cache.add_entropies({key: elsewhere.entropy(key) for key in pending})
    assert cache.computed == 3 and cache.pending(lambda c: c.mutual_information("x", "t")) == []
    assert cache.mutual_information("x", "t") == elsewhere.mutual_information("x", "t")
    cache.add_entropies({"x": s_x + 1.0})  # a held entropy keeps its value
    assert cache.entropy("x") == s_x
    with pytest.raises(KeyError, match="unknown variable"):
        cache.add_entropies({("t", "z"): 1.0, "y": 0.5})
    assert cache.computed == 3  # nothing added when a name is unknown
