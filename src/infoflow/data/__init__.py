"""Datasets as (images, labels) arrays: scikit-learn's bundled digits by default, and the
standard datasets from local copies in their published formats."""

from infoflow.data.datasets import CHECKSUMS, DATASETS, SHAPES, Dataset, load_dataset
from infoflow.data.digits import load_digits

__all__ = ["CHECKSUMS", "DATASETS", "SHAPES", "Dataset", "load_dataset", "load_digits"]
