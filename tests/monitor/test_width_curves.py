"""Width curves: every width of a rule times a common factor, checked against direct estimates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from infoflow import EntropyCache, gaussian_gram, kernel_width, label_gram
from infoflow.monitor import width_curves
from infoflow.monitor.sensitivity import SCALES


@pytest.fixture
def run():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=40)
    x = torch.tensor(rng.normal(size=(40, 3)) + y[:, None], dtype=torch.float64)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    with torch.no_grad():
        first = net[1](net[0](x))
        activations = {"1": first, "2": net[2](first)}
    return x, y, activations


def test_values_are_the_estimates_with_scaled_widths(run):
    x, y, activations = run
    rows = width_curves(x, y, activations, rules=["median"], scales=[0.5, 2.0])
    by_key = {(r["scale"], r["layer"], r["quantity"]): r["value"] for r in rows}
    xs, t = x.numpy(), activations["2"].numpy()
    for scale in (0.5, 2.0):
        cache = EntropyCache({
            "x": gaussian_gram(xs, scale * kernel_width(xs, "median")),
            "t": gaussian_gram(t, scale * kernel_width(t, "median")),
            "y": label_gram(y)}, alpha=1.01)
        assert by_key[(scale, "input", "I(X;Y)")] == pytest.approx(
            cache.mutual_information("x", "y"), abs=1e-10)
        assert by_key[(scale, "2", "I(T;Y)")] == pytest.approx(
            cache.mutual_information("t", "y"), abs=1e-10)
        assert by_key[(scale, "2", "I(X;T)")] == pytest.approx(
            cache.mutual_information("x", "t"), abs=1e-10)
        assert 0 <= by_key[(scale, "input", "DPI 2 links held")] <= 1


def test_rows_cover_every_rule_scale_and_quantity(run):
    x, y, activations = run
    rows = width_curves(x, y, activations, rules=["silverman", "median"])
    assert SCALES[0] == pytest.approx(0.25) and SCALES[-1] == pytest.approx(4)
    assert len(rows) == 2 * len(SCALES) * (1 + 2 * 3 + 2)
    # widths far too small make every variable's Gram the identity: I(X;Y) = H(Y), and every
    # layer keeps all of X (I(X;T) = log2 n); at scale 1 they are the rule's own estimates
    tiny = width_curves(x, y, activations, rules=["median"], scales=[1e-6])
    values = {(r["layer"], r["quantity"]): r["value"] for r in tiny}
    assert values[("1", "I(X;T)")] == pytest.approx(np.log2(40), abs=1e-9)


def test_bad_scales_are_refused(run):
    x, y, activations = run
    with pytest.raises(ValueError, match="scales must be positive numbers"):
        width_curves(x, y, activations, scales=[1.0, 0.0])
