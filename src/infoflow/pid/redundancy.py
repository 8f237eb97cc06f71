r"""Redundancy measures: the one definition each decomposition derives from (docs/method.md §6).

As in dit, a partial information decomposition is fixed by its redundancy function
:math:`I_\cap(S_1,\dots,S_k \to Y)`, the information that every source carries about the
target; the rest of the lattice follows. For two sources

.. math:: \mathrm{Unq}_a = I(S_a;Y) - I_\cap, \qquad
          \mathrm{Syn} = I(S_a,S_b;Y) - I_\cap - \mathrm{Unq}_a - \mathrm{Unq}_b,

and for any number of sources the *union information* :math:`I_\cup`, the part of the joint
information that some single source carries, is the inclusion–exclusion sum of the redundancies
of every non-empty set of sources (Williams & Beer 2010):

.. math:: I_\cup(S_1,\dots,S_k \to Y) = \sum_{\emptyset \ne J \subseteq \{1..k\}}
          (-1)^{|J|+1}\, I_\cap(\{S_j\}_{j \in J} \to Y),

so that the synergy of the whole set is :math:`I(S_1,\dots,S_k;Y) - I_\cup`.

Each measure is a small class whose :meth:`redundancy` reads the sources' information about the
target from an :class:`~infoflow.EntropyCache` (so a replicate cache on a subsample gives the
measure on the subsample), and whose :meth:`union` gives :math:`I_\cup` in closed form where
one exists; the tests check it against the inclusion–exclusion sum.
"""

from __future__ import annotations

from collections.abc import Sequence

from infoflow._deferred import as_floats
from infoflow.measures import EntropyCache
from infoflow.measures.entropy_cache import Names


class MinimumMutualInformation:
    r"""The minimum-mutual-information redundancy (Barrett 2015):
    :math:`I_\cap = \min_j I(S_j;Y)`.

    Its union information is :math:`\max_j I(S_j;Y)`: the inclusion–exclusion sum of the minima
    of every non-empty subset is the maximum (the max–min identity).

    References
    ----------
    A. B. Barrett, "Exploration of synergistic and redundant information sharing in static and
    dynamical Gaussian systems", Phys. Rev. E 91, 2015.
    """

    name = "MMI"

    @staticmethod
    def redundancy(cache: EntropyCache, sources: Sequence[Names], target: Names) -> float:
        """:math:`I_\\cap` of ``sources`` (names or sets of names in ``cache``) about ``target``."""
        return min(as_floats([cache.mutual_information(s, target) for s in _checked(sources)]))

    @staticmethod
    def union(cache: EntropyCache, sources: Sequence[Names], target: Names) -> float:
        """:math:`I_\\cup` of ``sources`` about ``target``."""
        return max(as_floats([cache.mutual_information(s, target) for s in _checked(sources)]))


def _checked(sources: Sequence[Names]) -> list[Names]:
    sources = list(sources)
    if not sources:
        raise ValueError("sources must name at least one source")
    return sources


#: The redundancy measure infoflow decomposes with.
MMI = MinimumMutualInformation()
