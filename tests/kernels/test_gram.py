"""gaussian_gram and label_gram: values, shapes, kinds, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infoflow import gaussian_gram, joint_gaussian_gram, label_gram, renyi_entropy


def test_gaussian_gram_against_the_definition(rng):
    x = rng.normal(size=(7, 2, 3))
    sigma = 1.7
    k = gaussian_gram(x, sigma)
    flat = x.reshape(7, -1)
    expected = np.exp(
        -((flat[:, None, :] - flat[None, :, :]) ** 2).sum(-1) / (2 * sigma**2)
    )
    np.testing.assert_allclose(k, expected, rtol=0, atol=1e-14)
    assert (np.diag(k) == 1).all() and (k == k.T).all()


def test_gaussian_gram_keeps_kind_dtype_and_accepts_a_rule(rng):
    x = rng.normal(size=(6, 3))
    assert isinstance(gaussian_gram(x, 1.0), np.ndarray)
    t = gaussian_gram(torch.tensor(x, dtype=torch.float32), 1.0)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    assert gaussian_gram(np.arange(6).reshape(3, 2), 1.0).dtype == np.float64
    np.testing.assert_allclose(gaussian_gram(x, "median"), gaussian_gram(x, float(
        np.median([np.linalg.norm(a - b) for i, a in enumerate(x) for b in x[i + 1 :]])
    )))


def test_label_gram_integer_and_one_hot_agree():
    y = np.array([2, 0, 2, 1])
    k = label_gram(y)
    np.testing.assert_array_equal(k, (y[:, None] == y[None, :]).astype(float))
    np.testing.assert_array_equal(label_gram(np.eye(3, dtype=int)[y]), k)
    t = label_gram(torch.tensor(y))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_array_equal(t.numpy(), k)


def test_gaussian_on_one_hot_tends_to_the_delta_kernel():
    y = np.array([0, 1, 1, 2, 2, 2])
    one_hot = np.eye(3)[y]
    assert renyi_entropy(gaussian_gram(one_hot, 0.05), alpha=1) == pytest.approx(
        renyi_entropy(label_gram(y), alpha=1), abs=1e-12
    )


@pytest.mark.parametrize(
    ("y", "error", "match"),
    [
        (np.array([0.0, 1.0]), TypeError, "integer class labels"),
        (np.array([[0.5, 0.5], [1, 0]]), ValueError, "one-hot"),
        (np.array([[1, 1], [1, 0]]), ValueError, "one-hot"),
        (np.zeros((2, 2, 2), dtype=int), ValueError, "1-D integer labels"),
        (np.array([3]), ValueError, "at least 2 samples"),
        ("abc", TypeError, "NumPy array or a torch tensor"),
    ],
)
def test_label_gram_bad_input(y, error, match):
    with pytest.raises(error, match=match):
        label_gram(y)


@pytest.mark.parametrize(
    ("x", "sigma", "error", "match"),
    [
        (np.zeros((1, 3)), 1.0, ValueError, "at least 2 samples"),
        (np.array([[0.0], [np.nan]]), 1.0, ValueError, "finite"),
        (np.array([[0.0], [np.inf]]), 1.0, ValueError, "finite"),
        (np.zeros((3, 2)), 0.0, ValueError, "sigma must be > 0, got 0.0"),
        (np.zeros((3, 2)), -1.0, ValueError, "sigma must be > 0, got -1.0"),
        (np.zeros((3, 2)), math.inf, ValueError, "sigma must be finite"),
        (np.zeros((3, 2)), math.nan, ValueError, "sigma must be > 0, got nan"),
        (np.zeros((3, 2)), "widest", ValueError, "rule must be one of"),
        (np.array(["a", "b"]), 1.0, TypeError, "real-valued"),
    ],
)
def test_gaussian_gram_bad_input(x, sigma, error, match):
    with pytest.raises(error, match=match):
        gaussian_gram(x, sigma)


def test_joint_gaussian_gram_is_the_product_of_the_grams(rng):
    maps = [rng.normal(size=(40, 3, 3)) for _ in range(5)]
    sigmas = [0.7, 1.0, 2.5, 3.0, 1.3]
    product = np.ones((40, 40))
    for m, s in zip(maps, sigmas):
        product *= gaussian_gram(m, s)
    joint = joint_gaussian_gram(maps, sigmas)
    np.testing.assert_allclose(joint, product, rtol=1e-13, atol=1e-300)
    assert (joint == joint.T).all() and (np.diag(joint) == 1).all()
    single = joint_gaussian_gram(maps[:1], sigmas[:1])
    assert single.tolist() == gaussian_gram(maps[0], 0.7).tolist()


def test_joint_gaussian_gram_in_torch_is_differentiable_and_float32_stays(rng):
    maps = [torch.tensor(rng.normal(size=(12, 4)), requires_grad=True) for _ in range(3)]
    joint = joint_gaussian_gram(maps, [1.0, 2.0, 0.5])
    product = gaussian_gram(maps[0], 1.0) * gaussian_gram(maps[1], 2.0)
    product = product * gaussian_gram(maps[2], 0.5)
    torch.testing.assert_close(joint, product, rtol=1e-12, atol=1e-300)
    (grad,) = torch.autograd.grad(joint.sum(), maps[1])
    (expected,) = torch.autograd.grad(product.sum(), maps[1])
    torch.testing.assert_close(grad, expected)
    single = joint_gaussian_gram([m.detach().float() for m in maps], [1.0, 2.0, 0.5])
    assert single.dtype == torch.float32


@pytest.mark.parametrize("whole", [False, True], ids=["list", "whole layer"])
def test_joint_gaussian_gram_falls_back_where_scaling_overflows_or_is_too_big(rng, whole):
    from infoflow import set_memory_options
    from infoflow._memory import block_bytes

    t = rng.normal(size=(10, 2, 2))  # two variables of 2 values each
    variables = t if whole else [t[:, 0], t[:, 1]]
    tiny = joint_gaussian_gram(variables, [1e-310, 1.0])  # x / sigma overflows
    np.testing.assert_array_equal(tiny, np.eye(10))
    expected = gaussian_gram(t[:, 0], 1.0) * gaussian_gram(t[:, 1], 2.0)
    old = block_bytes()
    set_memory_options(block_bytes=100)  # the scaled data (10 x 4 x 8 bytes) no longer fits
    try:
        np.testing.assert_allclose(joint_gaussian_gram(variables, [1.0, 2.0]), expected,
                                   rtol=1e-14)
    finally:
        set_memory_options(block_bytes=old)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_layer_given_whole_is_the_joint_of_its_maps(rng, monkeypatch, dtype):
    """One array (n, C, H, W) stands for its C maps along axis 1: bit for bit the Gram of the
    list of maps, for NumPy, plain CPU tensors, tensors with a gradient and the device's path."""
    from infoflow import _array

    t = rng.normal(size=(30, 4, 3, 3)).astype(dtype)
    sigmas = [1.0, 2.5, 0.7, 3.0]
    expected = joint_gaussian_gram([t[:, c] for c in range(4)], sigmas)
    whole = joint_gaussian_gram(t, sigmas)
    assert whole.dtype == dtype
    np.testing.assert_array_equal(whole, expected)
    tensor = torch.from_numpy(t)
    np.testing.assert_array_equal(joint_gaussian_gram(tensor, sigmas).numpy(), expected)
    leaf = tensor.clone().requires_grad_(True)
    joint = joint_gaussian_gram(leaf, sigmas)
    listed = joint_gaussian_gram([leaf[:, c] for c in range(4)], sigmas)
    torch.testing.assert_close(joint, listed, rtol=0, atol=0)
    (grad,) = torch.autograd.grad(joint.sum(), leaf)
    (expected_grad,) = torch.autograd.grad(listed.sum(), leaf)
    torch.testing.assert_close(grad, expected_grad)
    monkeypatch.setattr(_array, "CPU_TENSORS_AS_NUMPY", False)  # the accelerator's path
    on_device = joint_gaussian_gram(tensor, sigmas)
    assert on_device.dtype == tensor.dtype
    tolerance = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(on_device.numpy(), expected, rtol=0, atol=tolerance)
    monkeypatch.undo()
    assert joint_gaussian_gram(t[:, :1], [2.0]).tolist() == gaussian_gram(t[:, 0], 2.0).tolist()


def test_tensors_of_dtypes_numpy_lacks_take_torchs_path(rng):
    """bfloat16 has no NumPy dtype: such a CPU tensor is computed by torch, not refused with
    torch's conversion error."""
    x = torch.from_numpy(rng.normal(size=(8, 3))).to(torch.bfloat16)
    expected = gaussian_gram(x.double(), 1.5)
    torch.testing.assert_close(gaussian_gram(x, 1.5), expected)
    torch.testing.assert_close(joint_gaussian_gram([x, x], [1.5, 1.5]), expected * expected)
    with pytest.raises(TypeError, match="integer class labels, got dtype bfloat16"):
        label_gram(torch.tensor([0, 1, 0]).to(torch.bfloat16))


@pytest.mark.parametrize(
    ("variables", "sigmas", "error", "match"),
    [
        ([], [], ValueError, "non-empty sequence"),
        ("ab", [1.0], ValueError, "non-empty sequence"),
        (np.zeros((3, 2)), [1.0], ValueError, r"axis 1 of variables\): got 1 for 2"),
        (np.zeros(3), [1.0], ValueError, r"shape \(n, L, \.\.\.\).*got shape \(3,\)"),
        (np.zeros((1, 2, 3)), [1.0, 1.0], ValueError, "at least 2 samples"),
        (np.zeros((3, 0, 2)), [], ValueError, "at least one variable along axis 1"),
        (np.zeros((3, 2, 2)), [1.0, -1.0], ValueError, r"sigmas\[1\] must be"),
        (np.array(["a", "b"] * 3).reshape(3, 2), [1.0, 1.0], TypeError, "real-valued"),
        # a conv layer given whole: the faulty map is named by its index on axis 1
        (np.stack([np.zeros((3, 2)), np.array([[0.0, 1], [np.inf, 1], [1, 1]])], 1), [1.0, 1.0],
         ValueError, r"variables\[:, 1\] must hold only finite"),
        ([np.zeros((3, 2))], 1.0, TypeError, "sequence of widths"),
        ([np.zeros((3, 2))], [1.0, 2.0], ValueError, "one width per variable: got 2 for 1"),
        ([np.zeros((3, 2)), np.zeros((4, 2))], [1.0, 1.0], ValueError, r"same number .* \[3, 4\]"),
        ([np.zeros((3, 2)), np.zeros((3, 2))], [1.0, 0.0], ValueError, r"sigmas\[1\] must be"),
        ([np.zeros((3, 2)), torch.zeros(3, 2)], [1.0, 1.0], TypeError, "not a mix"),
        ([np.array([[0.0], [np.nan], [1.0]])], [1.0], ValueError, r"variables\[0\].*finite"),
        # several variables are checked side by side, and the faulty one named
        ([np.zeros((3, 2)), np.array([[0.0], [np.inf], [1.0]])], [1.0, 1.0], ValueError,
         r"variables\[1\] must hold only finite"),
        ([np.zeros((3, 2)), np.array([[0.0], [np.nan], [1.0]]), np.ones((3, 1))], [1.0] * 3,
         ValueError, r"variables\[1\] must hold only finite"),
        ([torch.zeros(3, 2), torch.tensor([[0.0], [np.nan], [1.0]], requires_grad=True)],
         [1.0, 1.0], ValueError, r"variables\[1\] must hold only finite"),
    ],
)
def test_joint_gaussian_gram_bad_input(variables, sigmas, error, match):
    with pytest.raises(error, match=match):
        joint_gaussian_gram(variables, sigmas)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_widths_give_the_limits_not_an_exception(rng, dtype):
    x = np.concatenate([rng.normal(size=(5, 2)), np.zeros((2, 2))]).astype(dtype)
    # sigma -> 0: only equal samples (the two zero rows, and each with itself) are similar
    expected = (np.abs(x[:, None] - x[None]).sum(-1) == 0).astype(dtype)
    np.testing.assert_array_equal(gaussian_gram(x, 1e-300), expected)
    np.testing.assert_array_equal(gaussian_gram(torch.from_numpy(x), 1e-300).numpy(), expected)
    # sigma -> infinity: every pair is similar
    np.testing.assert_array_equal(gaussian_gram(x, 1e300), np.ones((7, 7), dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", ["tiny", "ordinary", "huge"])
@pytest.mark.parametrize("width", ["vanishing", "silverman", "endless"])
def test_the_device_path_scales_where_the_data_live_and_agrees_with_numpy(
        rng, monkeypatch, dtype, size, width):
    """The accelerator's path (CPU tensors through torch) scales data and width on the device,
    with no host round trip, and gives NumPy's Gram: data near either end of the float range,
    widths so small or so large that the kernel takes its limits."""
    from infoflow import _array, kernel_width

    monkeypatch.setattr(_array, "CPU_TENSORS_AS_NUMPY", False)
    info = np.finfo(dtype)
    factor = {"tiny": float(info.tiny) ** 0.5 / 4, "ordinary": 1.0,
              "huge": float(info.max) ** 0.5 * 4}[size]
    x = (rng.normal(size=(20, 3)) * factor).astype(dtype)
    x[5] = x[2]  # two equal samples: their kernel value as NumPy's in every limit
    sigma = {"vanishing": 1e-300, "silverman": kernel_width(x), "endless": 1e300}[width]
    tensor = torch.from_numpy(x)
    assert kernel_width(tensor) == pytest.approx(kernel_width(x), rel=1e-12)
    expected = gaussian_gram(x, sigma)
    got = gaussian_gram(tensor, sigma).numpy()
    assert got.dtype == dtype and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-30)
    assert (np.diagonal(got) == 1).all() and (got == got.T).all()
