"""The two data-processing inequalities along a chain of layers (docs/method.md §5).

For the Markov chain Y → X → T_1 → … → T_K:

* DPI 1: I(X;T_1) ≥ I(X;T_2) ≥ … ≥ I(X;T_K)
* DPI 2: I(X;Y) ≥ I(T_1;Y) ≥ … ≥ I(T_K;Y)

A link *breaks* when the later quantity exceeds the earlier one by more than ``tolerance``
bits. The default tolerance, 1e-6 bits, is far above the estimator's round-off (~1e-12) and
far below any effect worth reporting, so a verdict is never an artefact of floating point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from infoflow.monitor.information_plane import INPUT

#: Default tolerance in bits.
DPI_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Break:
    """One broken link: ``later`` exceeds ``earlier`` by ``excess`` bits."""

    inequality: str
    earlier: str
    later: str
    excess: float


@dataclass(frozen=True)
class DPIVerdict:
    """Whether DPI 1 and DPI 2 hold at one checkpoint, and which links break."""

    dpi1: bool
    dpi2: bool
    breaks: tuple[Break, ...] = field(default=())


def _chain(name: str, links: Sequence[tuple[str, float]], tolerance: float) -> list[Break]:
    return [
        Break(name, a, b, vb - va)
        for (a, va), (b, vb) in zip(links, links[1:])
        if vb > va + tolerance
    ]


def check_dpi(
    values: Mapping[tuple[str, str], float],
    layers: Sequence[str],
    *,
    tolerance: float = DPI_TOLERANCE,
) -> DPIVerdict:
    """DPI verdicts for one checkpoint's values (keyed as by
    :func:`~infoflow.monitor.information_plane.information_plane`), layers in network order."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    dpi1 = _chain("DPI 1", [(t, values[(t, "I(X;T)")]) for t in layers], tolerance)
    dpi2 = _chain(
        "DPI 2",
        [("X", values[(INPUT, "I(X;Y)")])] + [(t, values[(t, "I(T;Y)")]) for t in layers],
        tolerance,
    )
    return DPIVerdict(dpi1=not dpi1, dpi2=not dpi2, breaks=tuple(dpi1 + dpi2))


def dpi_shares(verdicts: Sequence[DPIVerdict]) -> dict[str, float]:
    """The share of checkpoints at which each inequality holds (NaN for no checkpoints)."""
    count = len(verdicts)
    if not count:
        return {"DPI 1": float("nan"), "DPI 2": float("nan")}
    return {
        "DPI 1": sum(v.dpi1 for v in verdicts) / count,
        "DPI 2": sum(v.dpi2 for v in verdicts) / count,
    }
