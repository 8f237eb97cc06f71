"""Many-layer plots and the saturation summary, from records built by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infoflow.monitor import Chains
from infoflow.reporting.plots import information_plane_figure, mutual_information_figure
from infoflow.reporting.records import RunRecords

N = 64  # log2 n = 6 bits: saturated below 0.3 or above 5.7


def records(layers: int = 12) -> RunRecords:
    rng = np.random.default_rng(0)
    steps = np.array([0, 10, 20, 30])
    names = [f"block{k}" for k in range(layers)]
    series = {("input", "I(X;Y)"): np.full(4, 3.0), ("input", "H(X)"): np.full(4, 5.0)}
    for name in names:
        series[(name, "I(X;T)")] = rng.uniform(1, 5, 4)
        series[(name, "I(T;Y)")] = rng.uniform(0, 3, 4)
        series[(name, "H(T)")] = np.full(4, 3.0)
    series[("block0", "H(T)")] = np.array([3.0, 5.8, 5.9, 4.0])  # saturated at steps 10, 20
    series[("block5", "H(T)")] = np.array([0.1, 3.0, 3.0, 0.2])  # near 0 at 0 and 30
    return RunRecords(config={"probe_size": N}, resolved={}, steps=steps, layers=names,
                      series=series, epochs=[], verdicts=[], chains=Chains.of(names),
                      sensitivity=[], timing={})


def test_saturated_layers_and_when():
    assert math.log2(N) == 6
    assert records().saturation() == [
        {"layer": "block0", "first step": 10, "last step": 20, "checkpoints": "2 of 4",
         "at the end": "no"},
        {"layer": "block5", "first step": 0, "last step": 30, "checkpoints": "2 of 4",
         "at the end": "yes"},
    ]


def test_twelve_layers_make_a_grid_of_four_columns():
    fig = information_plane_figure(records())
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(panels) == 12
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in panels} == {(3, 4)}
    assert panels[0].get_title() == "block0 (saturated)" and panels[1].get_title() == "block1"
    assert [ax.get_ylabel() for ax in panels[:5]] == ["I(T;Y) [bits]", "", "", "", "I(T;Y) [bits]"]
    shared = information_plane_figure(records(), share_axes=True)
    limits = {ax.get_xlim() for ax in shared.axes if ax.get_title()}
    assert len(limits) == 1  # one x range for every panel
    separate = {ax.get_xlim() for ax in fig.axes if ax.get_title()}
    assert len(separate) > 1


def test_few_layers_stay_in_one_row_and_unused_panels_are_hidden():
    fig = information_plane_figure(records(3))
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes if ax.get_title()} == {
        (1, 3)}
    seven = information_plane_figure(records(7), columns=4)
    hidden = [ax for ax in seven.axes if not ax.get_visible()]
    assert len(hidden) == 1
    with pytest.raises(ValueError, match="columns must be a positive integer"):
        information_plane_figure(records(3), columns=0)


def test_many_layers_are_shaded_by_depth():
    fig = mutual_information_figure(records())
    lines = fig.axes[0].get_lines()
    assert len(lines) == 12
    assert len({tuple(line.get_color()) for line in lines}) == 12

