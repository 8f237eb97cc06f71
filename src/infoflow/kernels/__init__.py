"""Gram matrices from data (Gaussian and delta kernels) and the rules for the kernel width."""

from infoflow.kernels.gram import (
    gaussian_gram,
    joint_gaussian_gram,
    label_gram,
    squared_distances,
)
from infoflow.kernels.width import DEFAULT_RULE, RULES, kernel_width, kernel_widths

__all__ = ["DEFAULT_RULE", "RULES", "gaussian_gram", "joint_gaussian_gram",
           "kernel_width", "kernel_widths", "label_gram", "squared_distances"]
