"""scikit-learn's bundled 8×8 handwritten digits: 1797 images, 10 classes, no download."""

from __future__ import annotations

import numpy as np


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits as images in [0, 1] and integer labels.

    Returns
    -------
    images : ndarray of shape (1797, 1, 8, 8), float32
        Pixel intensities scaled from 0..16 to [0, 1], one channel.
    labels : ndarray of shape (1797,), int64
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    return images, bunch.target.astype(np.int64)
