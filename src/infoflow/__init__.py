"""infoflow: information flow in neural networks with the matrix-based Rényi α-entropy.

Layers, lowest first: :mod:`infoflow.measures` (pure estimators on Gram matrices) →
:mod:`infoflow.kernels` (Gram matrices and kernel widths from data).
"""

from infoflow._memory import MemoryBudgetError, set_memory_options
from infoflow._threads import available_cpus, thread_budget
from infoflow._validation import NotPositiveSemidefiniteError
from infoflow.kernels import gaussian_gram, joint_gaussian_gram, kernel_width, label_gram
from infoflow.measures import (
    EntropyCache,
    conditional_entropy,
    conditional_mutual_information,
    dual_total_correlation,
    joint_entropy,
    mutual_information,
    renyi_entropy,
    total_correlation,
)
from infoflow.measures.approximation import Exact, Lanczos, Nystrom

__version__ = "0.1.0"

__all__ = [
    "EntropyCache",
    "Exact",
    "Lanczos",
    "MemoryBudgetError",
    "NotPositiveSemidefiniteError",
    "Nystrom",
    "set_memory_options",
    "available_cpus",
    "thread_budget",
    "conditional_entropy",
    "conditional_mutual_information",
    "dual_total_correlation",
    "gaussian_gram",
    "joint_entropy",
    "joint_gaussian_gram",
    "kernel_width",
    "label_gram",
    "mutual_information",
    "renyi_entropy",
    "total_correlation",
]
