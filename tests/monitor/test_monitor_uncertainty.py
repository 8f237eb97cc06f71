"""The monitor's confidence intervals: each one recomputed independently from jackknife replicates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from infoflow import EntropyCache, gaussian_gram, kernel_width, label_gram
from infoflow.measures.resampling import GroupJackknife, jackknife_interval
from infoflow.monitor import InformationMonitor


def model() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    return net.double()


@pytest.fixture
def probe():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=48)
    x = torch.tensor(rng.normal(size=(48, 3)) + y[:, None], dtype=torch.float64)
    return x, y


def test_intervals_are_the_jackknife_intervals_of_independent_estimates(probe):
    x, y = probe
    net = model()
    scheme = GroupJackknife(groups=4, level=0.8, seed=5)
    monitor = InformationMonitor(net, x, y, layers=["1", "2"], rule="silverman",
                                 uncertainty=scheme)
    checkpoint = monitor.measure(0)
    acts = {name: t.numpy() for name, t in monitor.activations().items()}
    xs = x.numpy()
    widths = {name: kernel_width(t) for name, t in acts.items()}  # the whole probe's widths
    replicates = {"1": [], "2": []}
    subsets = scheme.subsets(len(xs))
    sizes = [len(s) for s in subsets]
    for subset in subsets:
        for name, t in acts.items():
            cache = EntropyCache({"t": gaussian_gram(t[subset], widths[name]),
                                  "y": label_gram(y[subset])})
            replicates[name].append(cache.mutual_information("t", "y"))
    expected = jackknife_interval(checkpoint.values[("1", "I(T;Y)")], replicates["1"], len(xs),
                                  sizes, level=0.8)
    got = checkpoint.intervals[("1", "I(T;Y)")]
    assert (got.low, got.high, got.center) == pytest.approx(
        (expected.low, expected.high, expected.center), abs=1e-10)
    # a link's excess is judged by the interval of the paired differences on the same halves
    link = next(r for r in checkpoint.verdict.links if (r.inequality, r.later) == ("DPI 2", "2"))
    paired = jackknife_interval(
        link.excess, np.subtract(replicates["2"], replicates["1"]), len(xs), sizes, level=0.8)
    assert (link.low, link.high) == pytest.approx((paired.low, paired.high), abs=1e-10)
    excess_row = next(r for r in checkpoint.rows() if r["quantity"] == "DPI 2 excess"
                      and r["layer"] == "1->2")
    assert (excess_row["value"], excess_row["low"]) == (link.excess, link.low)
    assert set(checkpoint.intervals) == set(checkpoint.values)
    row = next(r for r in checkpoint.rows() if (r["layer"], r["quantity"]) == ("1", "I(T;Y)"))
    assert (row["low"], row["high"]) == (got.low, got.high)


def test_without_uncertainty_rows_carry_no_bounds(probe):
    x, y = probe
    checkpoint = InformationMonitor(model(), x, y, layers=["1"]).measure(0)
    assert not checkpoint.intervals
    assert all("low" not in r and "high" not in r for r in checkpoint.rows())


def test_intervals_survive_the_state_dict(probe):
    import json

    x, y = probe
    monitor = InformationMonitor(model(), x, y, layers=["1", "2"], uncertainty=True)
    monitor.measure(0)
    restored = InformationMonitor(model(), x, y, layers=["1", "2"], uncertainty=True)
    restored.load_state_dict(json.loads(json.dumps(monitor.state_dict())))
    assert restored.records() == monitor.records()
    assert restored.checkpoints[0].verdict == monitor.checkpoints[0].verdict


def test_uncertainty_true_is_the_default_scheme(probe):
    x, y = probe
    monitor = InformationMonitor(model(), x, y, layers=["1"], uncertainty=True)
    assert monitor.uncertainty == GroupJackknife()
    interval = monitor.measure(0).intervals[("input", "H(Y)")]
    assert interval.low < interval.high and interval.level == 0.9


@pytest.mark.parametrize("bad", ["yes", 10, 0.9])
def test_bad_uncertainty_is_refused(probe, bad):
    x, y = probe
    with pytest.raises(TypeError, match="uncertainty must be True, False or a GroupJackknife"):
        InformationMonitor(model(), x, y, layers=["1"], uncertainty=bad)
