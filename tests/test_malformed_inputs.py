"""Nothing silently wrong: malformed inputs through every public function.

Hypothesis draws shapes, dtypes, NaN/inf, degenerate data (constant, duplicated, tiny, huge)
and extreme options (α from 1e-300 to inf, NaN, negative; unknown names). Each call must
either return a finite value in its documented range (or the documented NaN) or raise a
documented exception: TypeError, ValueError (NotPositiveSemidefiniteError among them) or
MemoryBudgetError. Any other exception, a value out of range or an unexpected warning fails.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import infoflow
from infoflow import MemoryBudgetError
from infoflow.pid import layer_pid, mmi
from tests.malformed import SPECIAL, SPOILED_KINDS, spoiled

DOCUMENTED = (TypeError, ValueError, MemoryBudgetError)
ROUND_OFF = 1e-6  # bits: float32 spectra are within 1e-5 of float64, documented


alphas = st.one_of(
    st.sampled_from([1e-300, 1e-8, 0.5, 1.0, 1.01, 2.0, 3.0, 1e6, 1e300, math.inf, 0.0, -1.0,
                     math.nan, True, "2", None]),
    st.floats(min_value=1e-6, max_value=50.0),
)
dtypes = st.sampled_from(["float64", "float32", "float16", torch.float32, None, 3])
methods = st.sampled_from(["exact", "auto", "lanczos", "nystrom", "magic", None,
                           infoflow.Lanczos(rank=2, probes=2, steps=3),
                           infoflow.Nystrom(rank=2), infoflow.Nystrom(power_iterations=-1)])


@st.composite
def data(draw, min_rows: int = 0):
    """Samples of any shape, dtype and values: well-formed ones often, malformed ones too."""
    n = draw(st.integers(min_rows, 7))
    shape = draw(st.sampled_from([(n,), (n, 1), (n, 3), (n, 2, 2), ()]))
    kind = draw(st.sampled_from(["normal", "constant", "duplicated", "special", "int", "bool",
                                 "complex", "text", "tiny", "huge", "float32"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.normal(size=shape)
    if kind == "constant":
        x = np.full(shape, draw(st.sampled_from([0.0, 3.0, -1e10])))
    elif kind == "duplicated" and x.ndim and x.shape[0] > 1:
        x[1:] = x[:1]
    elif kind in SPOILED_KINDS:
        x = spoiled(draw, rng, x, kind)
    elif kind == "huge":
        x = x * 1e300
    elif kind == "float32":
        x = x.astype(np.float32)
    if draw(st.booleans()) and kind not in ("text",):
        x = torch.as_tensor(x)
    return x


@st.composite
def grams(draw, n: int | None = None):
    """A Gram matrix: a genuine one (Gaussian or delta kernel), or a malformed "Gram"."""
    n = n if n is not None else draw(st.integers(0, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["gaussian", "labels", "ones", "eye", "indefinite", "asymmetric",
                                 "special", "scaled", "complex", "noisy", "shape", "int"]))
    x = rng.normal(size=(n, 2))
    sq = ((x[:, None] - x[None]) ** 2).sum(-1)
    k = np.exp(-sq / (2 * draw(st.sampled_from([1e-3, 0.5, 1.0, 1e3])) ** 2))
    if kind == "labels":
        y = rng.integers(0, 3, size=n)
        k = (y[:, None] == y[None]).astype(float)
    elif kind == "ones":
        k = np.ones((n, n))
    elif kind == "eye":
        k = np.eye(n)
    elif kind == "indefinite":
        k = k - draw(st.sampled_from([0.1, 0.5, 2.0])) * (1 - np.eye(n))
    elif kind == "asymmetric" and n > 1:
        k[0, 1] += 0.3
    elif kind == "special" and n:
        i, j = rng.integers(0, n, size=2)
        k[i, j] = k[j, i] = draw(st.sampled_from(SPECIAL))
    elif kind == "scaled":
        k = k * draw(st.sampled_from([1e-300, 1e-10, 1e10, 1e300, -1.0]))
    elif kind == "complex":
        k = k.astype(complex)
    elif kind == "noisy":
        e = rng.normal(size=(n, n)) * draw(st.sampled_from([1e-12, 1e-3]))
        k = k + (e + e.T) / 2
    elif kind == "shape":
        k = k[:, : max(n - 1, 0)]
    elif kind == "int":
        k = np.rint(k).astype(int)
    if draw(st.booleans()):
        k = torch.as_tensor(k, dtype=torch.float32 if draw(st.booleans()) and not
                            np.iscomplexobj(k) else None)
    return k


def _value(v) -> float:
    return float(v.detach()) if isinstance(v, torch.Tensor) else float(v)


def _call(function, *args, **kwargs):
    """The result, or None when a documented exception was raised; anything else fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message="x is constant", category=RuntimeWarning)
        try:
            return function(*args, **kwargs)
        except DOCUMENTED:
            return None


def _n(k) -> int:
    return k.shape[0]


def _in_range(value, low: float, high: float) -> None:
    value = _value(value)
    assert math.isfinite(value), value
    assert low - ROUND_OFF <= value <= high + ROUND_OFF * max(1.0, abs(high)), (value, low, high)


@given(grams(), alphas, dtypes, methods)
@settings(max_examples=300)
def test_entropy_of_anything(k, alpha, dtype, method):
    value = _call(infoflow.renyi_entropy, k, alpha=alpha, dtype=dtype, method=method)
    if value is not None:
        _in_range(value, 0.0, math.log2(_n(k)))


@given(st.integers(2, 6).flatmap(lambda n: st.tuples(grams(n), grams(n), grams(n))), alphas,
       methods)
@settings(max_examples=200)
def test_information_of_anything(ks, alpha, method):
    a, b, c = ks
    top = math.log2(_n(a))
    mi = _call(infoflow.mutual_information, a, b, alpha=alpha, method=method)
    if mi is not None:
        low = 0.0 if float(alpha) <= 1.01 and isinstance(method, str) and method in (
            "exact", "auto") else -top
        _in_range(mi, low, top)
    for function, args, low in (
        (infoflow.joint_entropy, ([a, b],), 0.0),
        (infoflow.conditional_entropy, (a, b), 0.0),
        (infoflow.conditional_mutual_information, (a, b, c), -top),
        (infoflow.total_correlation, ([a, b, c],), -2 * top),
        (infoflow.dual_total_correlation, ([a, b, c],), -2 * top),
    ):
        value = _call(function, *args, alpha=alpha, method=method)
        if value is not None:
            _in_range(value, low, 3 * top)


@given(data(), st.one_of(st.sampled_from([1e-300, 1e-3, 1.0, 1e300, 0.0, -1.0, math.nan,
                                          math.inf, "silverman", "median", "knn", "nope"]),
                         st.floats(1e-3, 1e3)))
@settings(max_examples=200)
def test_gaussian_gram_of_anything(x, sigma):
    k = _call(infoflow.gaussian_gram, x, sigma)
    if k is not None:
        k = np.asarray(k.detach() if isinstance(k, torch.Tensor) else k, dtype=float)
        assert k.shape == (x.shape[0], x.shape[0])
        assert np.isfinite(k).all() and (k >= 0).all() and (k <= 1).all()
        assert np.array_equal(k, k.T) and (np.diagonal(k) == 1).all()


@given(st.lists(data(min_rows=2), min_size=0, max_size=3),
       st.lists(st.sampled_from([1e-300, 0.5, 1.0, 1e300, 0.0, math.nan]), max_size=3))
@settings(max_examples=150)
def test_joint_gaussian_gram_of_anything(xs, sigmas):
    k = _call(infoflow.joint_gaussian_gram, xs, sigmas)
    if k is not None:
        k = np.asarray(k.detach() if isinstance(k, torch.Tensor) else k, dtype=float)
        assert np.isfinite(k).all() and (k >= 0).all() and (k <= 1 + 1e-12).all()


@given(data(), st.sampled_from(["silverman", "scott", "median", "knn", "alignment", "nope", 3]),
       st.sampled_from([None, 1.0, 0.0, -2.0, math.nan, math.inf, "5"]),
       st.sampled_from([10, 1, 0, 2.5, True]), st.booleans())
@settings(max_examples=200)
def test_kernel_width_of_anything(x, rule, gamma, k, with_target):
    target = None
    if with_target and getattr(x, "ndim", 0) >= 1 and x.shape[0] >= 2:
        target = infoflow.label_gram(np.arange(x.shape[0]) % 2)
    sigma = _call(infoflow.kernel_width, x, rule, gamma=gamma, k=k, target=target)
    if sigma is not None:
        assert math.isfinite(sigma) and sigma > 0


@given(st.one_of(data(), st.lists(st.integers(-2, 2), max_size=6)))
@settings(max_examples=150)
def test_label_gram_of_anything(y):
    k = _call(infoflow.label_gram, y)
    if k is not None:
        k = np.asarray(k.detach() if isinstance(k, torch.Tensor) else k)
        assert set(np.unique(k)) <= {0.0, 1.0} and (np.diagonal(k) == 1).all()


@given(st.integers(2, 6).flatmap(lambda n: st.tuples(grams(n), grams(n), grams(n))), alphas)
@settings(max_examples=150)
def test_pid_of_anything(ks, alpha):
    a, b, y = ks
    parts = _call(mmi, [a, b], y, alpha=alpha)
    if parts is not None:  # I >= 0, hence Red >= 0, holds for alpha <= 1 (docs/estimators.md)
        low = 0.0 if float(alpha) <= 1.01 else -math.log2(_n(a))
        for v in (parts.redundancy, *parts.unique):
            _in_range(v, low, math.log2(_n(a)))
        assert math.isfinite(parts.synergy) and math.isfinite(parts.mutual_information)
    layer = _call(layer_pid, [a, b], y, alpha=alpha)
    if layer is not None:
        for v in (layer.rst_normalized, layer.wni):
            assert math.isnan(v) or math.isfinite(v)
        assert all(math.isfinite(v) for v in (layer.rst, layer.redundancy, layer.synergy))


def test_a_one_class_target_gives_the_documented_nan():
    rng = np.random.default_rng(0)
    maps = [infoflow.gaussian_gram(rng.normal(size=(8, 2)), 1.0) for _ in range(3)]
    result = layer_pid(maps, infoflow.label_gram(np.zeros(8, dtype=int)))
    assert abs(result.mutual_information) < 1e-12
    assert math.isnan(result.rst_normalized) and math.isnan(result.wni)


@pytest.mark.parametrize("as_torch", [False, True])
def test_not_positive_semidefinite_is_refused(as_torch):
    """The issue's cases: 0 bits, or -1.32 bits at alpha = 2, from an indefinite "Gram"."""
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    bad = torch.as_tensor(bad) if as_torch else bad
    for alpha in (0.5, 1.01, 2.0, math.inf):
        with pytest.raises(infoflow.NotPositiveSemidefiniteError, match="K is not positive"):
            infoflow.renyi_entropy(bad, alpha=alpha)
    eye = torch.eye(2, dtype=torch.float64) if as_torch else np.eye(2)
    with pytest.raises(infoflow.NotPositiveSemidefiniteError, match="B is not positive"):
        infoflow.mutual_information(eye, bad)
    for method in ("lanczos", "nystrom"):  # no spectrum: the 2 x 2 principal minors are checked
        with pytest.raises(infoflow.NotPositiveSemidefiniteError, match="an entry exceeds"):
            infoflow.renyi_entropy(bad, method=method)


def _indefinite_with_valid_minors(n: int = 60) -> np.ndarray:
    """Unit diagonal, no zero entry, every |K_ij| <= 1 (all 2 x 2 principal minors valid), and
    a normalised eigenvalue of -0.045: half a Gaussian Gram plus half of I with a clique of 8
    samples whose off-diagonal entries are -1."""
    x = np.linspace(0, 1, n)
    clique = np.eye(n)
    members = np.arange(0, n, 8)[:8]
    clique[np.ix_(members, members)] = 2 * np.eye(8) - 1
    k = 0.5 * np.exp(-(x[:, None] - x[None]) ** 2 / 0.02) + 0.5 * clique
    assert (k != 0).all() and np.abs(k).max() <= 1
    assert np.linalg.eigvalsh(k / n).min() < -0.04
    return k


@pytest.mark.parametrize("as_torch", [False, True])
@pytest.mark.parametrize("method", [infoflow.Lanczos(rank=5, probes=2, steps=5),
                                    infoflow.Lanczos(rank=1, probes=2, steps=5),
                                    infoflow.Nystrom(rank=60), "lanczos", "nystrom"])
def test_the_approximations_refuse_what_their_ritz_values_prove_indefinite(method, as_torch):
    """The 2 x 2 minors pass; the Ritz values of Q^T A Q or of the tail's Lanczos tridiagonals
    (computed anyway) show the negative eigenvalue."""
    k = _indefinite_with_valid_minors()
    k = torch.tensor(k, requires_grad=True) if as_torch else k
    with pytest.raises(infoflow.NotPositiveSemidefiniteError, match="Ritz values prove an eigen"):
        infoflow.renyi_entropy(k, method=method)


def test_an_approximation_sees_only_what_its_subspaces_reach():
    """Necessary, not sufficient (docs/estimators.md): the top 5 Ritz values of this matrix are
    positive, and Nyström has no other nodes, so the negative eigenvalue goes unseen."""
    value = infoflow.renyi_entropy(_indefinite_with_valid_minors(), method=infoflow.Nystrom(rank=5))
    assert 0 <= value <= math.log2(60)


@given(st.integers(2, 12), st.integers(0, 2**16))
@settings(max_examples=100, deadline=None)
def test_alpha_two_stays_in_range_whenever_the_minors_hold(n, seed):
    """Symmetric, unit diagonal, |K_ij| <= 1: ||A||_F^2 lies in [1/n, 1] (Cauchy–Schwarz on a
    trace-1 spectrum below, the minors above), so S_2 lies in [0, log2 n] — a range check of
    the result would refuse nothing the minors let through."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(-1, 1, size=(n, n))
    k = np.triu(k, 1) + np.triu(k, 1).T + np.eye(n)
    _in_range(infoflow.renyi_entropy(k, alpha=2.0), 0.0, math.log2(n))
    assert 0 <= infoflow.renyi_entropy(_indefinite_with_valid_minors(), alpha=2.0) <= math.log2(60)


@pytest.mark.parametrize("sigma", [0.01, 0.3, 100.0])
@pytest.mark.parametrize("method", [infoflow.Lanczos(rank=20, probes=4, steps=8),
                                    infoflow.Nystrom(rank=20)])
def test_the_ritz_check_refuses_no_round_off(sigma, method):
    """Float32 Gaussian Grams, from nearly the identity to nearly all ones: their Ritz values'
    round-off stays inside the tolerance."""
    x = np.random.default_rng(0).normal(size=(400, 3)).astype(np.float32)
    k = infoflow.gaussian_gram(x, sigma)
    for dtype in ("float32", "float64"):
        _in_range(infoflow.renyi_entropy(k, method=method, dtype=dtype), 0.0, math.log2(400))


def test_round_off_is_not_refused():
    """A float32 Gaussian Gram's negative round-off eigenvalues are inside the tolerance."""
    rng = np.random.default_rng(0)
    for sigma in (0.05, 1.0, 100.0):
        k = infoflow.gaussian_gram(rng.normal(size=(300, 1)).astype(np.float32), sigma)
        assert 0 <= infoflow.renyi_entropy(k) <= math.log2(300)
        assert 0 <= infoflow.renyi_entropy(k, dtype="float32", alpha=0.5) <= math.log2(300)


def test_complex_torch_gram_is_refused_like_numpy():
    for k in (np.eye(3, dtype=complex), torch.eye(3, dtype=torch.complex128)):
        with pytest.raises(TypeError, match="K must be real-valued, got dtype"):
            infoflow.renyi_entropy(k)


@pytest.mark.parametrize("as_torch", [False, True])
def test_huge_alpha_is_the_min_entropy(as_torch):
    k = infoflow.label_gram(np.array([0, 0, 0, 1, 2]))
    k = torch.as_tensor(k) if as_torch else k
    limit = -math.log2(3 / 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for alpha in (1e6, 1e15, 1e16, 1e300, math.inf):
            assert _value(infoflow.renyi_entropy(k, alpha=alpha)) == pytest.approx(limit, abs=1e-5)


@pytest.mark.parametrize("as_torch", [False, True])
def test_a_gram_near_the_float_range_keeps_its_diagonal_in_float32(as_torch):
    """A float64 Gram with a diagonal of 1e-300 is scaled to a unit diagonal before it is
    narrowed to float32 (where 1e-300 is 0): the entropy is the one of the scaled matrix."""
    k = np.array([[1.0, 0.5], [0.5, 1.0]])
    expected = infoflow.renyi_entropy(k, alpha=2.0)
    assert expected == pytest.approx(-math.log2(0.625))
    tiny = torch.as_tensor(k * 1e-300) if as_torch else k * 1e-300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for alpha in (2.0, 1.01, 1e-300):
            value = _value(infoflow.renyi_entropy(tiny, alpha=alpha, dtype="float32"))
            assert value == pytest.approx(_value(infoflow.renyi_entropy(k, alpha=alpha)),
                                          abs=1e-5)
