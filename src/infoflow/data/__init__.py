"""Datasets as (images, labels) arrays: scikit-learn's bundled digits by default."""

from infoflow.data.digits import load_digits

__all__ = ["load_digits"]
