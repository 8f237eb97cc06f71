r"""Two-source partial information decomposition with the minimum-mutual-information redundancy.

Williams & Beer split the information that two sources :math:`T^a, T^b` carry about a target
:math:`Y` into redundant, unique and synergistic parts. For continuous high-dimensional sources
infoflow uses the MMI redundancy (Barrett 2015), as docs/method.md §6 does, defined once in
:mod:`~infoflow.pid.redundancy`; the other parts derive from it:

.. math::
    \mathrm{Red} &= I_\cap(T^a, T^b \to Y) \quad (= \min(I(T^a;Y),\, I(T^b;Y)) \text{ for MMI}) \\
    \mathrm{Unq}_a &= I(T^a;Y) - \mathrm{Red}, \qquad \mathrm{Unq}_b = I(T^b;Y) - \mathrm{Red} \\
    \mathrm{Syn} &= I(T^a,T^b;Y) - \mathrm{Red} - \mathrm{Unq}_a - \mathrm{Unq}_b

so that :math:`\mathrm{Red} + \mathrm{Unq}_a + \mathrm{Unq}_b + \mathrm{Syn} = I(T^a,T^b;Y)`.
Every term is in bits. Unq is never negative, nor is Red for α ≤ 1; Red (through a negative
I) and Syn can be negative only where the estimator's joint entropy is not subadditive
(α > 1, see docs/estimators.md). A known property of
MMI: for Y = (A, B) with independent bits it reports 1 bit redundant and 1 bit synergistic,
where other measures see 1 bit unique to each source.

References
----------
P. L. Williams, R. D. Beer, "Nonnegative decomposition of multivariate information", 2010.
A. B. Barrett, "Exploration of synergistic and redundant information sharing in static and
dynamical Gaussian systems", Phys. Rev. E 91, 2015.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infoflow._deferred import as_floats
from infoflow.measures import EntropyCache
from infoflow.options import ALPHA, DTYPE, METHOD
from infoflow.measures.entropy_cache import Names
from infoflow.pid.redundancy import MMI, MinimumMutualInformation


@dataclass(frozen=True)
class MMIDecomposition:
    """The two-source decomposition of I(sources; target), in bits."""

    redundancy: float
    unique: tuple[float, float]
    synergy: float
    mutual_information: float
    """I(T^a, T^b; Y), the sum of the four parts."""

    @property
    def total(self) -> float:
        """Red + Unq_a + Unq_b + Syn, which equals :attr:`mutual_information`."""
        return self.redundancy + sum(self.unique) + self.synergy


def joined(sources: Sequence[Names]) -> tuple[str, ...]:
    """The names of every variable of ``sources`` (each a name or a set of names), as one set."""
    return tuple(name for s in sources for name in ([s] if isinstance(s, str) else s))


def mmi_from_cache(
    cache: EntropyCache, sources: Sequence[Names], target: Names, *,
    measure: MinimumMutualInformation = MMI,
) -> MMIDecomposition:
    """The decomposition of two named sources of ``cache`` about ``target``, derived from
    ``measure``'s redundancy (:mod:`~infoflow.pid.redundancy`)."""
    sources = list(sources)
    if len(sources) != 2:
        raise ValueError(f"sources must hold exactly 2 sources, got {len(sources)}")
    *own, joint = as_floats([*(cache.mutual_information(s, target) for s in sources),
                             cache.mutual_information(joined(sources), target)])
    redundancy = measure.redundancy(cache, sources, target)
    unique = (own[0] - redundancy, own[1] - redundancy)
    return MMIDecomposition(
        redundancy=redundancy,
        unique=unique,
        synergy=joint - redundancy - sum(unique),
        mutual_information=joint,
    )


def mmi(
    sources: Sequence[Any], target: Any, *, alpha: float = ALPHA.default, dtype: str = DTYPE.default,
    method: Any = METHOD.default,
) -> MMIDecomposition:
    """MMI partial information decomposition of two sources about a target.

    Parameters
    ----------
    sources : sequence of two Gram matrices (n, n) — each may itself be a sequence of Grams
        The sources T^a and T^b (for example two feature maps).
    target : Gram matrix (n, n)
        The target Y, usually ``label_gram(y)``.
    alpha : float, default 1.01
    dtype : {"float64", "float32"}

    Returns
    -------
    MMIDecomposition
        ``redundancy``, ``unique`` (one value per source, in order), ``synergy`` and the joint
        ``mutual_information``, in bits.

    Examples
    --------
    >>> import numpy as np
    >>> from infoflow import label_gram
    >>> from infoflow.pid import mmi
    >>> a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    >>> parts = mmi([label_gram(a), label_gram(b)], label_gram(a ^ b), alpha=1)
    >>> round(parts.redundancy, 9), round(parts.synergy, 9)
    (0.0, 1.0)
    """
    sources = list(sources)
    if len(sources) != 2:
        raise ValueError(f"sources must hold exactly 2 sources, got {len(sources)}")
    cache = EntropyCache({"a": sources[0], "b": sources[1], "y": target}, alpha=alpha,
                         dtype=dtype, method=method)
    return mmi_from_cache(cache, ["a", "b"], "y")
