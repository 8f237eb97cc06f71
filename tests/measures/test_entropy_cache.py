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


def test_plain_cpu_tensors_give_tensors_equal_to_numpy_and_mix_with_gradient_tensors():
    """CPU tensors without a gradient are computed as NumPy views: the same values, handed back
    as 0-dim tensors; a variable that needs a gradient added later still gets one."""
    import torch

    from infoflow import gaussian_gram, label_gram

    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(60, 3)), rng.integers(0, 3, 60)
    grams = {"x": gaussian_gram(x, 1.0), "y": label_gram(y)}
    numpy_cache = EntropyCache(grams)
    torch_cache = EntropyCache({k: torch.from_numpy(v) for k, v in grams.items()})
    for names in (("x",), ("y",), ("x", "y")):
        value = torch_cache.entropy(*names)
        assert isinstance(value, torch.Tensor) and value.shape == ()
        assert float(value) == numpy_cache.entropy(*names)
    t = torch.tensor(rng.normal(size=(60, 2)), requires_grad=True)
    child = torch_cache.extended({"t": gaussian_gram(t, 1.0)})
    mi = child.mutual_information("t", "x")
    mi.backward()
    assert torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0
    assert float(mi) == pytest.approx(
        numpy_cache.extended({"t": gaussian_gram(t.detach().numpy(), 1.0)})
        .mutual_information("t", "x"), abs=1e-12)
