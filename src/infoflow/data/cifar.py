"""CIFAR-10 in its published "python version": pickled batches in ``cifar-10-batches-py``.

Each of ``data_batch_1`` … ``data_batch_5`` and ``test_batch`` is a pickled dict with
``b"data"`` (N × 3072 uint8: 1024 red, 1024 green, 1024 blue values of a 32×32 image) and
``b"labels"`` (N ints). The archive ``cifar-10-python.tar.gz`` holds that folder.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"


def _read_batch(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = pickle.loads(raw, encoding="bytes")  # noqa: S301 - the published format
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as error:  # noqa: BLE001 - any failure means a corrupt batch
        raise ValueError(f"CIFAR-10 batch {name} is corrupt: {error}") from error
    if len(data) != len(labels):
        raise ValueError(f"CIFAR-10 batch {name} has {len(data)} images but {len(labels)} labels")
    return data, labels


def read_cifar10(archive: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (images, labels), "test": (images, labels)}`` from the tar.gz archive."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            missing = [b for b in (*TRAIN_BATCHES, TEST_BATCH) if b not in members]
            if missing:
                raise ValueError(f"{archive} lacks the CIFAR-10 batches {missing}")
            parts = {name: _read_batch(tar.extractfile(members[name]).read(), name)
                     for name in (*TRAIN_BATCHES, TEST_BATCH)}
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"{archive} is not a readable tar.gz archive ({error}); is it corrupt?") from error
    train = [parts[name] for name in TRAIN_BATCHES]
    return {
        "train": (np.concatenate([p[0] for p in train]), np.concatenate([p[1] for p in train])),
        "test": parts[TEST_BATCH],
    }


def write_cifar10(archive: Path, parts: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write images (N, 3, 32, 32) uint8 and labels in the published layout (for tests)."""
    import io

    train_x, train_y = parts["train"]
    chunks = np.array_split(np.arange(len(train_x)), len(TRAIN_BATCHES))
    batches = {name: (train_x[idx], train_y[idx]) for name, idx in zip(TRAIN_BATCHES, chunks)}
    batches[TEST_BATCH] = parts["test"]
    with tarfile.open(archive, "w:gz") as tar:
        for name, (x, y) in batches.items():
            raw = pickle.dumps({b"data": x.reshape(len(x), -1), b"labels": [int(v) for v in y]})
            info = tarfile.TarInfo(f"{FOLDER}/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
