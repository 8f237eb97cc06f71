"""Confidence intervals of a checkpoint's quantities, by a jackknife over the probe set.

The scheme (docs/method.md §8, 'How sure is each number'; :mod:`infoflow.measures.resampling`):
the probe is split once into G random groups (default 10); every quantity is computed again with
each group left out, from the principal submatrices of the Gram matrices the checkpoint already
built (the model is not run again, the kernel widths stay those of the whole probe), and the G
replicates give a bias-corrected interval. The same groups serve every checkpoint, and the
probe's own entropies on each replicate (S(X), S(Y), S(X,Y)) are computed once per monitor, like
the full probe's. A difference of two quantities — the excess of a DPI link — gets its interval
from the differences on the same replicates, so the strong correlation of neighbouring layers is
accounted for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from infoflow.measures import EntropyCache
from infoflow.measures.resampling import GroupJackknife, Interval, sub_grams
from infoflow.monitor.dpi import Chains, compared
from infoflow.monitor.information_plane import information_plane

Key = tuple[str, str]
"""A quantity's key: (layer, quantity)."""


def check_uncertainty(uncertainty: Any) -> GroupJackknife | None:
    """The scheme for the ``uncertainty`` option: False or None (off), True (the default
    scheme: 10 groups, 90 % intervals) or a :class:`~infoflow.measures.resampling.GroupJackknife`."""
    if uncertainty is None or uncertainty is False:
        return None
    if uncertainty is True:
        return GroupJackknife()
    if isinstance(uncertainty, GroupJackknife):
        return uncertainty
    raise TypeError(
        f"uncertainty must be True, False or a GroupJackknife scheme, got {uncertainty!r}"
    )


class PlaneReplicates:
    """The jackknife replicates of a probe set, for every checkpoint of a monitor.

    Parameters
    ----------
    probe : EntropyCache
        The probe's cache holding "X" and "Y" (:func:`~infoflow.monitor.probe_cache`).
    scheme : GroupJackknife
    """

    def __init__(self, probe: EntropyCache, scheme: GroupJackknife) -> None:
        self.scheme, self.n = scheme, probe.n
        self.subsets = scheme.subsets(probe.n)
        self.probes = [probe.subset(subset) for subset in self.subsets]

    def replicates(
        self, layer_grams: Mapping[str, Any], *, pid_layers: Sequence[str] = ()
    ) -> list[dict[Key, float]]:
        """Every quantity of :func:`~infoflow.monitor.information_plane` on each replicate."""
        return [
            information_plane(probe, sub_grams(layer_grams, subset), pid_layers=pid_layers)
            for probe, subset in zip(self.probes, self.subsets)
        ]

    def intervals(
        self, values: Mapping[Key, float], replicates: Sequence[Mapping[Key, float]]
    ) -> dict[Key, Interval]:
        """Each quantity's interval from its full-probe value and its replicates."""
        return {key: self.scheme.interval(value, [r[key] for r in replicates], self.n)
                for key, value in values.items()}

    def difference(
        self, values: Mapping[Key, float], replicates: Sequence[Mapping[Key, float]],
        later: Key, earlier: Key,
    ) -> Interval:
        """The interval of ``values[later] - values[earlier]``, paired on the same replicates."""
        return self.scheme.interval(
            values[later] - values[earlier], [r[later] - r[earlier] for r in replicates], self.n
        )

    def excess_intervals(
        self, chains: Chains, values: Mapping[Key, float],
        replicates: Sequence[Mapping[Key, float]],
    ) -> dict[tuple[str, str, str], Interval]:
        """The interval of every Markov link's excess, keyed by (inequality, earlier, later)."""
        return {
            (inequality, link.earlier, link.later): self.difference(values, replicates, later, earlier)
            for inequality, link, earlier, later in compared(chains) if link.markov
        }
