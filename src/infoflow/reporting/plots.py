"""Figures of a run: the information plane, MI over training, DPI summary, training curves.

Each function takes the records in any form :func:`~infoflow.reporting.records.as_records`
accepts (a run folder, ``monitor.records()``, a DataFrame) and returns a
:class:`matplotlib.figure.Figure`. matplotlib is imported lazily and only through its
object-oriented API: no pyplot state, no backend switch, no rcParams change in the caller's
process (a figure is saved with ``fig.savefig`` or shown by embedding it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infoflow.monitor.dpi import BROKEN, HOLDS, INEQUALITIES, WITHIN_NOISE, status_shares
from infoflow.reporting.records import as_records


def _figure(**options: Any) -> Any:
    """A new figure outside pyplot's state (the caller's backend and figure list untouched)."""
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **options)


def information_plane_figure(
    records: Any, *, columns: int | None = None, share_axes: bool = False
) -> Any:
    """One panel per layer: I(X;T) against I(T;Y), points coloured by training step.

    Panels fill a grid of ``columns`` (default: all in one row up to 4 layers, else 4 per row,
    so 12 layers make 3 rows of 4); ``share_axes`` puts every panel on the same axes, which
    makes layers comparable at a glance. A saturated layer's title says so. Confidence
    intervals, where the records have them, are drawn as error bars.
    """
    from matplotlib.colors import Normalize

    records = as_records(records)
    count = len(records.layers)
    if columns is None:
        columns = count if count <= 4 else 4
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    columns = min(columns, count)
    rows = -(-count // columns)
    fig = _figure(figsize=(3.2 * columns + 1, 3.0 * rows + 0.4))
    axes = fig.subplots(rows, columns, squeeze=False, sharex=share_axes, sharey=share_axes)
    norm = Normalize(records.steps.min(), max(records.steps.max(), 1))
    saturated = {row["layer"] for row in records.saturation()}
    points = None
    for index, ax in enumerate(axes.flat):
        if index >= count:
            ax.set_visible(False)
            continue
        layer = records.layers[index]
        x, y = records.series[(layer, "I(X;T)")], records.series[(layer, "I(T;Y)")]
        ax.plot(x, y, color="0.8", linewidth=0.8, zorder=1)
        bx, by = records.bounds.get((layer, "I(X;T)")), records.bounds.get((layer, "I(T;Y)"))
        if bx is not None and by is not None:
            # bars from the point to each end (a bias-corrected interval need not contain it)
            ax.errorbar(x, y, xerr=[np.maximum(x - bx[0], 0), np.maximum(bx[1] - x, 0)],
                        yerr=[np.maximum(y - by[0], 0), np.maximum(by[1] - y, 0)],
                        fmt="none", ecolor="0.6", elinewidth=0.6, zorder=1)
        points = ax.scatter(x, y, c=records.steps, cmap="viridis", norm=norm, s=14, zorder=2)
        ax.set_title(layer + (" (saturated)" if layer in saturated else ""), fontsize=10)
        if index + columns >= count:  # the lowest panel of its column
            ax.set_xlabel("I(X;T) [bits]")
        if index % columns == 0:
            ax.set_ylabel("I(T;Y) [bits]")
        ax.grid(alpha=0.3)
    fig.colorbar(points, ax=axes.ravel().tolist(), label="training step")
    fig.suptitle("Information plane")
    return fig


def mutual_information_figure(records: Any) -> Any:
    """I(X;T) and I(T;Y) of every layer against training steps, with I(X;Y) for reference;
    the confidence intervals as bands when the records have them."""
    from matplotlib import colormaps

    records = as_records(records)
    fig = _figure(figsize=(10, 3.6))
    left, right = fig.subplots(1, 2)
    count = len(records.layers)
    # beyond matplotlib's 10 cycle colours, layers are shaded by depth (first dark, last light)
    colours = colormaps["viridis"](np.linspace(0, 0.9, count)) if count > 10 else [None] * count

    def curve(ax: Any, key: tuple[str, str], *style: str, **options: Any) -> None:
        (line,) = ax.plot(records.steps, records.series[key], *style, **options)
        band = records.bounds.get(key)
        if band is not None:
            ax.fill_between(records.steps, band[0], band[1], color=line.get_color(), alpha=0.2,
                            linewidth=0)

    for layer, colour in zip(records.layers, colours):
        curve(left, (layer, "I(X;T)"), label=layer, color=colour)
        curve(right, (layer, "I(T;Y)"), label=layer, color=colour)
    curve(right, ("input", "I(X;Y)"), "k--", label="I(X;Y)")
    for ax, title in ((left, "I(X;T)"), (right, "I(T;Y)")):
        ax.set_title(title)
        ax.set_xlabel("training step")
        ax.set_ylabel("bits")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8 if count <= 6 else 6, ncol=1 if count <= 6 else 2)
    return fig


#: A verdict's status as a number for the colour map: green holds, yellow within noise, red broken.
STATUS_LEVEL = {HOLDS: 1.0, WITHIN_NOISE: 0.5, BROKEN: 0.0}


def dpi_figure(records: Any) -> Any:
    """Each inequality's status at each checkpoint (holds, within noise, broken) and the share
    of checkpoints in each status."""
    records = as_records(records)
    fig = _figure(figsize=(10, 2.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    levels = np.array([[STATUS_LEVEL[v.status(inequality)] for v in records.verdicts]
                       for inequality in INEQUALITIES])
    left.imshow(levels, aspect="auto", cmap="RdYlGn", vmin=0, vmax=1, interpolation="nearest",
                extent=(records.steps.min(), records.steps.max(), 1.5, -0.5))
    left.set_yticks([0, 1], list(INEQUALITIES))
    left.set_xlabel("training step (green: holds, yellow: within noise, red: broken)")
    shares = status_shares(records.verdicts)
    bottom = np.zeros(len(shares))
    colors = {HOLDS: "tab:green", WITHIN_NOISE: "gold", BROKEN: "tab:red"}
    for status, color in colors.items():
        heights = np.array([100 * by_status[status] for by_status in shares.values()])
        right.bar(list(shares), heights, bottom=bottom, color=color, label=status)
        bottom += heights
    right.set_ylim(0, 100)
    right.set_ylabel("% of checkpoints")
    right.legend(fontsize=7, loc="lower right")
    return fig


def training_figure(records: Any) -> Any:
    """Training loss and train/test accuracy per epoch (a run folder's training.csv)."""
    records = as_records(records)
    fig = _figure(figsize=(10, 3.2))
    left, right = fig.subplots(1, 2)
    epochs = [e["epoch"] + 1 for e in records.epochs]
    left.plot(epochs, [e["train_loss"] for e in records.epochs])
    left.set_title("training loss")
    right.plot(epochs, [e["train_accuracy"] for e in records.epochs], label="train")
    right.plot(epochs, [e["test_accuracy"] for e in records.epochs], label="test")
    right.set_title("accuracy")
    right.legend()
    for ax in (left, right):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    return fig


def pid_figure(records: Any) -> Any:
    """Per decomposed layer: RST/I, WNI, MMI redundancy and synergy over training (top), and
    each feature map's I(T^c;Y) over training as a heat map (bottom)."""
    records = as_records(records)
    layers = records.pid_layers
    fig = _figure(figsize=(5 * len(layers), 6.4))
    axes = fig.subplots(2, len(layers), squeeze=False)
    for column, layer in enumerate(layers):
        top, bottom = axes[0][column], axes[1][column]
        for quantity in ("RST/I", "WNI", "MMI redundancy", "MMI synergy"):
            top.plot(records.steps, records.series[(layer, quantity)], label=quantity)
        top.axhline(0, color="0.6", linewidth=0.8)
        top.set_title(f"{layer}: redundancy and synergy")
        top.set_xlabel("training step")
        top.legend(fontsize=8)
        top.grid(alpha=0.3)
        maps = records.map_information(layer)
        image = bottom.imshow(maps, aspect="auto", cmap="magma", interpolation="nearest",
                              extent=(records.steps.min(), records.steps.max(),
                                      len(maps) - 0.5, -0.5))
        bottom.set_title(f"{layer}: I(T^c;Y) per feature map [bits]")
        bottom.set_xlabel("training step")
        bottom.set_ylabel("feature map c")
        fig.colorbar(image, ax=bottom)
    return fig


def width_curves_figure(records: Any) -> Any:
    """Per width rule (a column): I(X;Y) and each layer's I(T;Y) against the common scale factor
    of every width (top), and the share of each inequality's links that hold (bottom: green
    where it holds). Needs a run folder's width curves."""
    records = as_records(records)
    rows = records.width_curves
    if not rows:
        raise ValueError("these records have no width curves (a run folder's width_curves.csv)")
    rules = list(dict.fromkeys(r["rule"] for r in rows))
    fig = _figure(figsize=(3.2 * len(rules) + 1, 4.6))
    axes = fig.subplots(2, len(rules), squeeze=False, sharex=True,
                        gridspec_kw={"height_ratios": [4, 1]})

    def curve(rule: str, layer: str, quantity: str) -> np.ndarray:
        points = sorted((float(r["scale"]), float(r["value"])) for r in rows
                        if (r["rule"], r["layer"], r["quantity"]) == (rule, layer, quantity))
        return np.array(points).T

    for column, rule in enumerate(rules):
        top, bottom = axes[0][column], axes[1][column]
        top.plot(*curve(rule, "input", "I(X;Y)"), "k--", label="I(X;Y)")
        for layer in records.layers:
            top.plot(*curve(rule, layer, "I(T;Y)"), marker=".", label=f"I(T;Y) {layer}")
        top.axvline(1, color="0.6", linewidth=0.8)
        top.set_title(rule)
        top.grid(alpha=0.3)
        scales = curve(rule, "input", "DPI 1 links held")[0]
        held = np.array([curve(rule, "input", f"{q} links held")[1] for q in INEQUALITIES])
        edges = np.sqrt(scales[:-1] * scales[1:])
        edges = np.concatenate([[scales[0] ** 2 / edges[0]], edges, [scales[-1] ** 2 / edges[-1]]])
        bottom.pcolormesh(edges, [-0.5, 0.5, 1.5], held, cmap="RdYlGn", vmin=0, vmax=1)
        bottom.set_yticks([0, 1], list(INEQUALITIES))
        bottom.set_xscale("log", base=2)
        bottom.set_xlabel("common width scale")
    axes[0][0].set_ylabel("bits")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle("Width curves: every width times a common factor "
                 "(bottom: share of links holding, green = all)")
    return fig


FIGURES = {
    "information_plane": information_plane_figure,
    "mutual_information": mutual_information_figure,
    "dpi": dpi_figure,
    "training": training_figure,
    "pid": pid_figure,
    "width_curves": width_curves_figure,
}
