"""Load a dataset by name as train and test arrays: digits, MNIST, Fashion-MNIST, CIFAR-10.

The digits ship with scikit-learn. The others are read from the user's local copies in their
published file formats, under ``root`` (default ``~/.cache/infoflow``, or the environment
variable ``INFOFLOW_DATA``)::

    root/mnist/train-images-idx3-ubyte.gz …       (the four IDX files)
    root/fashion-mnist/train-images-idx3-ubyte.gz …
    root/cifar10/cifar-10-python.tar.gz

Each file's MD5 is checked against the published value (``verify=False`` skips it). Missing
files are downloaded only when asked (``download=True``), then verified.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infoflow.data.cifar import read_cifar10
from infoflow.data.digits import load_digits
from infoflow.data.idx import read_idx

#: Names :func:`load_dataset` accepts.
DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")

#: (channels, image size, classes) of each dataset's images, known without loading them.
SHAPES = {"digits": (1, 8, 10), "mnist": (1, 28, 10), "fashion-mnist": (1, 28, 10),
          "cifar10": (3, 32, 10)}

_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

#: Published MD5 checksums of every file, and where each dataset is published.
CHECKSUMS: dict[str, dict[str, str]] = {
    "mnist": dict(zip(_IDX_FILES, (
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "d53e105ee54ea40749a09fcbcd1e9432",
        "9fb629c4189551a2d022fa330f9573f3",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ))),
    "fashion-mnist": dict(zip(_IDX_FILES, (
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "25c81989df183df01b3e8a0aad5dffbe",
        "bef4ecab320f06d8554ea6380940ec79",
        "bb300cfdad3c16e7a12a480ee83cd310",
    ))),
    "cifar10": {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"},
}
URLS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
}


@dataclass(frozen=True)
class Dataset:
    """Images in [0, 1] of shape (N, C, H, W), float32, and int64 labels."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    @property
    def channels(self) -> int:
        return self.train_x.shape[1]

    @property
    def image_size(self) -> int:
        return self.train_x.shape[2]

    @property
    def classes(self) -> int:
        return int(max(self.train_y.max(), self.test_y.max())) + 1


def default_root() -> Path:
    return Path(os.environ.get("INFOFLOW_DATA", Path.home() / ".cache" / "infoflow"))


def md5(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - the published checksums are MD5
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(name: str, folder: Path, *, download: bool, verify: bool) -> dict[str, Path]:
    paths = {}
    for filename, expected in CHECKSUMS[name].items():
        path = folder / filename
        if not path.exists():
            if not download:
                raise FileNotFoundError(
                    f"{name}: {path} is missing. Put the published file there, or pass "
                    f"download=True (CLI: --download) to fetch it from {URLS[name]}"
                )
            folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(path.suffix + ".part")
            urllib.request.urlretrieve(URLS[name] + filename, partial)  # noqa: S310
            partial.replace(path)
        if verify and md5(path) != expected:
            raise ValueError(
                f"{name}: {path} is corrupt or not the published file: MD5 {md5(path)}, "
                f"expected {expected}. Delete it and fetch it again (download=True)"
            )
        paths[filename] = path
    return paths


def _digits(test_fraction: float = 0.3, seed: int = 0) -> Dataset:
    images, labels = load_digits()
    order = np.random.default_rng(seed).permutation(len(images))
    cut = int(round(len(images) * (1 - test_fraction)))
    train, test = order[:cut], order[cut:]
    return Dataset("digits", images[train], labels[train], images[test], labels[test])


def load_dataset(
    name: str = "digits", *, root: str | Path | None = None, download: bool = False,
    verify: bool = True,
) -> Dataset:
    """A dataset's train and test splits as arrays (images scaled to [0, 1]).

    Parameters
    ----------
    name : {"digits", "mnist", "fashion-mnist", "cifar10"}
        "digits" is scikit-learn's bundled set, split 70/30 with a fixed seed.
    root : path, optional
        Folder holding the published files (see the module docs).
    download : bool, default False
        Fetch missing files from the publisher's address, then verify them.
    verify : bool, default True
        Check every file's MD5 against the published value.
    """
    if name not in DATASETS:
        raise ValueError(f"data must be one of {DATASETS}, got {name!r}")
    if name == "digits":
        return _digits()
    folder = Path(root) if root is not None else default_root()
    folder = folder / name
    paths = _fetch(name, folder, download=download, verify=verify)
    if name == "cifar10":
        parts = read_cifar10(paths["cifar-10-python.tar.gz"])
        (train_x, train_y), (test_x, test_y) = parts["train"], parts["test"]
    else:
        train_x, train_y, test_x, test_y = (read_idx(paths[f]) for f in _IDX_FILES)
        train_x, test_x = train_x[:, None], test_x[:, None]
    for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        if len(x) != len(y):
            raise ValueError(f"{name}: the {split} split has {len(x)} images but {len(y)} labels")
    scale = lambda a: (a.astype(np.float32) / 255.0)  # noqa: E731
    return Dataset(name, scale(train_x), train_y.astype(np.int64), scale(test_x),
                   test_y.astype(np.int64))
