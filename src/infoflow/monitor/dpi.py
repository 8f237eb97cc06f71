"""The two data-processing inequalities along the Markov chains of a network (docs/method.md §5).

For a Markov chain Y → X → T_1 → … → T_K, in which each layer is a function of the previous
one alone:

* DPI 1: I(X;T_1) ≥ I(X;T_2) ≥ … ≥ I(X;T_K)
* DPI 2: I(X;Y) ≥ I(T_1;Y) ≥ … ≥ I(T_K;Y)

A network may hold several such chains (a residual block's main path and its shortcut, two
branches merged later): :class:`Chains` holds them, each starting at the input X, and the pairs
of measured layers that are *not* Markov links (:class:`Link` with ``markov=False``, such as a
shortcut parallel to the convolution beside it), which have no DPI and are reported as such.

A verdict is the set of per-link results (:class:`LinkResult`): for every Markov link and each
inequality, whether the later quantity exceeds the earlier one by more than ``tolerance`` bits
("broken") or not ("holds"); non-Markov links appear with the status "no DPI" and never enter
the verdict. The default tolerance, 1e-6 bits, is far above the estimator's round-off (~1e-12)
and far below any effect worth reporting, so a verdict is never an artefact of floating point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from infoflow.monitor.information_plane import INPUT
from infoflow.options import DPI_TOLERANCE as TOLERANCE

#: Default tolerance in bits.
DPI_TOLERANCE = TOLERANCE.default

#: The inequalities, and the quantity each compares along a link.
INEQUALITIES = {"DPI 1": "I(X;T)", "DPI 2": "I(T;Y)"}

#: Statuses of a link's result.
HOLDS, BROKEN, NO_DPI = "holds", "broken", "no DPI"


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
    """One inequality on one link: ``earlier_value`` ≥ ``later_value`` should hold (bits)."""

    inequality: str
    earlier: str
    later: str
    earlier_value: float
    later_value: float
    markov: bool
    status: str

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
        return self._holds("DPI 1")

    @property
    def dpi2(self) -> bool:
        return self._holds("DPI 2")

    @property
    def breaks(self) -> tuple[LinkResult, ...]:
        """The broken links."""
        return tuple(r for r in self.links if r.status == BROKEN)

    def judged(self, inequality: str) -> list[LinkResult]:
        """The Markov links of one inequality (those that enter its verdict)."""
        return [r for r in self.links if r.inequality == inequality and r.markov]


def _value(values: Mapping[tuple[str, str], float], layer: str, quantity: str) -> float:
    if layer == INPUT:
        return values[(INPUT, "H(X)" if quantity == "I(X;T)" else "I(X;Y)")]
    return values[(layer, quantity)]


def _results(
    values: Mapping[tuple[str, str], float], links: Iterable[Link], tolerance: float
) -> list[LinkResult]:
    results = []
    for link in links:
        for inequality, quantity in INEQUALITIES.items():
            if link.earlier == INPUT and inequality == "DPI 1":
                continue  # I(X;X) = H(X) >= I(X;T_1) holds for any estimator: no information
            a = _value(values, link.earlier, quantity)
            b = _value(values, link.later, quantity)
            status = NO_DPI if not link.markov else BROKEN if b > a + tolerance else HOLDS
            results.append(LinkResult(inequality, link.earlier, link.later, a, b, link.markov,
                                      status))
    return results


def check_dpi(
    values: Mapping[tuple[str, str], float],
    chains: Chains | Sequence[str] | Sequence[Sequence[str]],
    *,
    tolerance: float = DPI_TOLERANCE,
) -> DPIVerdict:
    """DPI verdicts for one checkpoint's values (keyed as by
    :func:`~infoflow.monitor.information_plane.information_plane`).

    ``chains`` is a :class:`Chains`, one chain given as layer names in network order, or several
    chains; each Markov link is judged, each non-link reported with status "no DPI".
    """
    tolerance = TOLERANCE.check(tolerance, "tolerance")  # NaN would let every link pass
    chains = Chains.of(chains)
    return DPIVerdict(tuple(_results(values, [*chains.links(), *chains.non_links], tolerance)))


def dpi_shares(verdicts: Sequence[DPIVerdict]) -> dict[str, float]:
    """The share of checkpoints at which each inequality holds (NaN for no checkpoints)."""
    count = len(verdicts)
    if not count:
        return {"DPI 1": float("nan"), "DPI 2": float("nan")}
    return {
        "DPI 1": sum(v.dpi1 for v in verdicts) / count,
        "DPI 2": sum(v.dpi2 for v in verdicts) / count,
    }
