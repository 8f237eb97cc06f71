"""MNIST and Fashion-MNIST in their published IDX format (gzip-compressed).

An IDX file starts with a big-endian magic number — 0x00000803 for uint8 images, 0x00000801
for uint8 labels — then one big-endian uint32 per dimension, then the data.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def read_idx(path: Path) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or plain)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable IDX file ({error}); is it corrupt?") from error
    if len(raw) < 8:
        raise ValueError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise ValueError(f"{path} has IDX magic {magic}, expected {IMAGES_MAGIC} or {LABELS_MAGIC}")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {data.size} values, its header promises {shape}")
    return data.reshape(shape)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array (1-D labels or 3-D images) as a gzip IDX file (for tests and tools)."""
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x08 << 8) | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())
