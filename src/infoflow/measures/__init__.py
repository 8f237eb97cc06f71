"""Pure estimators on Gram matrices: entropies, joint entropies and information measures."""

from infoflow.measures.entropy import joint_entropy, renyi_entropy
from infoflow.measures.entropy_cache import EntropyCache
from infoflow.measures.information import (
    conditional_entropy,
    conditional_mutual_information,
    dual_total_correlation,
    mutual_information,
    total_correlation,
)

__all__ = [
    "EntropyCache",
    "conditional_entropy",
    "conditional_mutual_information",
    "dual_total_correlation",
    "joint_entropy",
    "mutual_information",
    "renyi_entropy",
    "total_correlation",
]
