"""The two data-processing inequalities along the Markov chains of a network (docs/method.md §5).

For a Markov chain Y → X → T_1 → … → T_K, in which each layer is a function of the previous
one alone:

* DPI 1: I(X;T_1) ≥ I(X;T_2) ≥ … ≥ I(X;T_K)
* DPI 2: I(X;Y) ≥ I(T_1;Y) ≥ … ≥ I(T_K;Y)

A network may hold several such chains (a residual block's main path and its shortcut, two
branches merged later): :class:`Chains` holds them, each starting at the input X, and the pairs
of measured layers that are *not* Markov links (:class:`Link` with ``markov=False``, such as a
shortcut parallel to the convolution beside it), which have no DPI and are reported as such.

A verdict is the set of per-link results (:class:`LinkResult`), one for every Markov link and
each inequality, in one of three statuses when the link's excess (later − earlier) has a
confidence interval (docs/method.md §8, 'How sure is each number'):

* "holds": the later value does not exceed the earlier one by more than ``tolerance`` bits;
* "broken": the whole interval of the excess lies above ``tolerance`` — it breaks significantly;
* "within noise": the later value exceeds the earlier one, but the interval reaches
  ``tolerance`` or below: the excess could be noise.

Without an interval a link holds or is broken, by its point excess. Non-Markov links appear with
the status "no DPI" and never enter the verdict. The default tolerance, 1e-6 bits, is far above
the estimator's round-off (~1e-12) and far below any effect worth reporting, so a verdict is
never an artefact of floating point.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from infoflow.monitor.information_plane import INPUT
from infoflow.options import DPI_TOLERANCE as TOLERANCE

#: Default tolerance in bits.
DPI_TOLERANCE = TOLERANCE.default

#: The inequalities, and the quantity each compares along a link.
INEQUALITIES = {"DPI 1": "I(X;T)", "DPI 2": "I(T;Y)"}

#: Statuses of a link's result.
HOLDS, BROKEN, WITHIN_NOISE, NO_DPI = "holds", "broken", "within noise", "no DPI"

#: The record name of a link's excess of an inequality ("DPI 1 excess"); its layer is
#: :func:`link_name`.
EXCESS = "{} excess"


@dataclass(frozen=True)
class Link:
    """A pair of variables, ``earlier`` before ``later`` in the network (``earlier`` may be the
    input, :data:`~infoflow.monitor.information_plane.INPUT`).

    ``markov`` says whether ``later`` depends on the input only through ``earlier``; if not,
    ``reason`` says why ("parallel", …) and no DPI relates the two.
    """

    earlier: str
    later: str
    markov: bool = True
    reason: str = ""

    def describe(self) -> str:
        """One line: the link, or why it is not one."""
        if self.markov:
            return f"{self.earlier} → {self.later}"
        return f"{self.reason}: no DPI between them"


@dataclass(frozen=True)
class Chains:
    """Markov chains of measured layers, each starting at the input X, and the non-links.

    Parameters
    ----------
    chains : sequence of sequences of layer names
        Each a chain X → T_1 → … → T_K in network order; chains may share a prefix (a branch
        leaving the main path).
    non_links : sequence of :class:`Link` with ``markov=False``
        Pairs a user might take for links that are not (reported, never judged).
    checked : bool
        Whether the chains were checked against the model's computation (False: assumed).
    """

    chains: tuple[tuple[str, ...], ...]
    non_links: tuple[Link, ...] = ()
    checked: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "chains", tuple(tuple(c) for c in self.chains))
        object.__setattr__(self, "non_links", tuple(self.non_links))
        for chain in self.chains:
            if not chain or any(not isinstance(name, str) for name in chain):
                raise ValueError(f"chains must be non-empty sequences of layer names, got {chain!r}")
            if len(set(chain)) != len(chain):
                raise ValueError(f"a chain must name each layer once, got {list(chain)}")

    @classmethod
    def of(cls, chains: Chains | Sequence[str] | Sequence[Sequence[str]]) -> Chains:
        """``chains`` itself, one chain given as a sequence of names, or several chains."""
        if isinstance(chains, Chains):
            return chains
        if isinstance(chains, str):
            raise TypeError(f"chains must be a sequence of layer names, got the string {chains!r}")
        chains = list(chains)
        if chains and all(isinstance(c, str) for c in chains):
            return cls((tuple(chains),), checked=False)
        if not chains or any(isinstance(c, str) for c in chains):
            raise TypeError(
                "chains must be a sequence of layer names (one chain) or of such sequences, got "
                f"{chains!r}"
            )
        return cls(tuple(tuple(c) for c in chains), checked=False)

    @property
    def layers(self) -> list[str]:
        """Every layer on some chain, each once, in chain order."""
        seen: dict[str, None] = {}
        for chain in self.chains:
            seen.update(dict.fromkeys(chain))
        return list(seen)

    def links(self) -> list[Link]:
        """The Markov links of every chain, each once: (X, T_1), (T_1, T_2), …"""
        found: dict[tuple[str, str], None] = {}
        for chain in self.chains:
            for pair in zip((INPUT, *chain), chain):
                found[pair] = None
        return [Link(a, b) for a, b in found]

    def describe(self) -> list[str]:
        """One line per chain ("input → conv1 → conv2") and per non-link."""
        return [" → ".join((INPUT, *chain)) for chain in self.chains] + [
            link.describe() for link in self.non_links
        ]

    def to_dict(self) -> dict:
        """A JSON-able form (:meth:`from_dict` reads it back)."""
        return {
            "chains": [list(c) for c in self.chains],
            "non_links": [[link.earlier, link.later, link.reason] for link in self.non_links],
            "checked": self.checked,
        }

    @classmethod
    def from_dict(cls, value: Mapping) -> Chains:
        return cls(
            tuple(tuple(c) for c in value["chains"]),
            tuple(Link(a, b, False, reason) for a, b, reason in value.get("non_links", ())),
            bool(value.get("checked", True)),
        )


@dataclass(frozen=True)
class LinkResult:
    """One inequality on one link: ``earlier_value`` ≥ ``later_value`` should hold (bits).

    ``low`` and ``high`` bound the confidence interval of the excess (NaN without one).
    """

    inequality: str
    earlier: str
    later: str
    earlier_value: float
    later_value: float
    markov: bool
    status: str
    low: float = math.nan
    high: float = math.nan

    @property
    def excess(self) -> float:
        """Bits by which the later value exceeds the earlier one (negative when it holds)."""
        return self.later_value - self.earlier_value


@dataclass(frozen=True)
class DPIVerdict:
    """The per-link results of one checkpoint; DPI k holds when none of its links breaks."""

    links: tuple[LinkResult, ...] = ()

    def _holds(self, inequality: str) -> bool:
        return not any(r.status == BROKEN for r in self.links if r.inequality == inequality)

    @property
    def dpi1(self) -> bool:
        """Whether no link of DPI 1 breaks (a link within noise does not break it)."""
        return self._holds("DPI 1")

    @property
    def dpi2(self) -> bool:
        """Whether no link of DPI 2 breaks (a link within noise does not break it)."""
        return self._holds("DPI 2")

    def status(self, inequality: str) -> str:
        """The inequality's three-valued status: "broken" if a link breaks, else "within noise"
        if a link's excess is within noise, else "holds"."""
        statuses = {r.status for r in self.judged(inequality)}
        return BROKEN if BROKEN in statuses else WITHIN_NOISE if WITHIN_NOISE in statuses else HOLDS

    @property
    def breaks(self) -> tuple[LinkResult, ...]:
        """The broken links."""
        return tuple(r for r in self.links if r.status == BROKEN)

    def judged(self, inequality: str) -> list[LinkResult]:
        """The Markov links of one inequality (those that enter its verdict)."""
        return [r for r in self.links if r.inequality == inequality and r.markov]


def _key(layer: str, quantity: str) -> tuple[str, str]:
    """The record key of ``quantity`` for a layer; the input's I(X;X) is H(X)."""
    if layer == INPUT:
        return (INPUT, "H(X)" if quantity == "I(X;T)" else "I(X;Y)")
    return (layer, quantity)


def link_name(earlier: str, later: str) -> str:
    """The record layer name of a link's excess: ``"earlier->later"``."""
    return f"{earlier}->{later}"


def compared(
    chains: Chains | Sequence[str] | Sequence[Sequence[str]],
) -> Iterator[tuple[str, Link, tuple[str, str], tuple[str, str]]]:
    """Every (inequality, link, earlier key, later key) that a verdict compares, non-links
    included: the one place that says which recorded values a link of an inequality compares."""
    chains = Chains.of(chains)
    for link in [*chains.links(), *chains.non_links]:
        for inequality, quantity in INEQUALITIES.items():
            if link.earlier == INPUT and inequality == "DPI 1":
                continue  # I(X;X) = H(X) >= I(X;T_1) holds for any estimator: no information
            yield inequality, link, _key(link.earlier, quantity), _key(link.later, quantity)


def _status(excess: float, interval: tuple[float, float] | None, tolerance: float) -> str:
    if interval is not None and math.isfinite(interval[0]):
        if interval[0] > tolerance:
            return BROKEN
        return WITHIN_NOISE if excess > tolerance else HOLDS
    return BROKEN if excess > tolerance else HOLDS


def check_dpi(
    values: Mapping[tuple[str, str], float],
    chains: Chains | Sequence[str] | Sequence[Sequence[str]],
    *,
    tolerance: float = DPI_TOLERANCE,
    excess_intervals: Mapping[tuple[str, str, str], tuple[float, float]] | None = None,
) -> DPIVerdict:
    """DPI verdicts for one checkpoint's values (keyed as by
    :func:`~infoflow.monitor.information_plane.information_plane`).

    ``chains`` is a :class:`Chains`, one chain given as layer names in network order, or several
    chains; each Markov link is judged, each non-link reported with status "no DPI".
    ``excess_intervals`` maps (inequality, earlier, later) to the (low, high) confidence
    interval of that link's excess; links with one get three-valued statuses (module docstring).
    """
    tolerance = TOLERANCE.check(tolerance, "tolerance")  # NaN would let every link pass
    excess_intervals = excess_intervals or {}
    results = []
    for inequality, link, earlier_key, later_key in compared(chains):
        a, b = values[earlier_key], values[later_key]
        interval = excess_intervals.get((inequality, link.earlier, link.later))
        status = _status(b - a, interval, tolerance) if link.markov else NO_DPI
        low, high = interval if interval is not None else (math.nan, math.nan)
        results.append(LinkResult(inequality, link.earlier, link.later, a, b, link.markov,
                                  status, float(low), float(high)))
    return DPIVerdict(tuple(results))


def status_shares(verdicts: Sequence[DPIVerdict]) -> dict[str, dict[str, float]]:
    """Per inequality, the share of checkpoints at which it holds, is within noise, is broken."""
    count = max(len(verdicts), 1)
    return {
        inequality: {status: sum(v.status(inequality) == status for v in verdicts) / count
                     for status in (HOLDS, WITHIN_NOISE, BROKEN)}
        for inequality in INEQUALITIES
    }


def dpi_shares(verdicts: Sequence[DPIVerdict]) -> dict[str, float]:
    """The share of checkpoints at which each inequality holds (NaN for no checkpoints)."""
    count = len(verdicts)
    if not count:
        return {"DPI 1": float("nan"), "DPI 2": float("nan")}
    return {
        "DPI 1": sum(v.dpi1 for v in verdicts) / count,
        "DPI 2": sum(v.dpi2 for v in verdicts) / count,
    }
