"""The filter study's figure: final quantities against the filter count, mean ± std over seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from infoflow.storage.run_folder import read_rows

PANELS = (
    ("test_accuracy", "final test accuracy"),
    ("I(T;Y)", "I(T;Y) [bits]"),
    ("RST/I", "redundancy–synergy trade-off / I"),
    ("WNI", "weighted non-redundant information"),
    ("MMI synergy", "MMI synergy [bits]"),
    ("MMI redundancy", "MMI redundancy [bits]"),
)


def study_table(path: Path) -> dict[str, dict[int, np.ndarray]]:
    """quantity -> count -> values over seeds."""
    rows = read_rows(path / "results.csv")
    table: dict[str, dict[int, list[float]]] = {q: {} for q, _ in PANELS}
    for row in rows:
        for quantity, _ in PANELS:
            table[quantity].setdefault(int(row["count"]), []).append(float(row[quantity]))
    return {q: {c: np.array(v) for c, v in by.items()} for q, by in table.items()}


def filter_study_figure(path: Path) -> Any:
    from matplotlib.figure import Figure

    study = json.loads((path / "study.json").read_text())
    table = study_table(path)
    fig = Figure(figsize=(12, 6.4), layout="constrained")
    axes = fig.subplots(2, 3)
    for ax, (quantity, label) in zip(axes.flat, PANELS):
        counts = sorted(table[quantity])
        values = [table[quantity][c] for c in counts]
        mean = np.array([v.mean() for v in values])
        spread = np.array([v.std() for v in values])
        ax.fill_between(counts, mean - spread, mean + spread, alpha=0.25)
        ax.plot(counts, mean, "o-")
        for c, v in zip(counts, values):
            ax.scatter([c] * len(v), v, s=8, color="0.4", zorder=3)
        ax.set_xscale("log", base=2)
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.set_xlabel(f"filters in {study['layer']}")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    base = study["base"]
    fig.suptitle(f"{base['model']} on {base['data']}: filter study of {study['layer']} "
                 f"({len(study['seeds'])} seeds, mean ± std; {base['conv_mode']}, {base['rule']})")
    return fig


def write_study_plot(path: str | Path) -> Path:
    path = Path(path)
    (path / "plots").mkdir(exist_ok=True)
    target = path / "plots" / "filter_study.png"
    filter_study_figure(path).savefig(target, dpi=110)
    return target
