"""Dataset loaders on small files generated in the published formats."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from infoflow.data import datasets, load_dataset
from infoflow.data.cifar import write_cifar10
from infoflow.data.datasets import md5
from infoflow.data.idx import read_idx, write_idx

IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def make_mnist(folder, rng):
    folder.mkdir(parents=True)
    arrays = (rng.integers(0, 256, (20, 28, 28)), rng.integers(0, 10, 20),
              rng.integers(0, 256, (8, 28, 28)), rng.integers(0, 10, 8))
    for name, array in zip(IDX, arrays):
        write_idx(folder / name, array)
    return arrays


def trust_files(monkeypatch, name, folder):
    """Make the generated files the 'published' ones, so checksum verification passes."""
    table = {f: md5(folder / f) for f in datasets.CHECKSUMS[name]}
    monkeypatch.setitem(datasets.CHECKSUMS, name, table)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_datasets_round_trip(tmp_path, rng, monkeypatch, name):
    train_x, train_y, test_x, test_y = make_mnist(tmp_path / name, rng)
    trust_files(monkeypatch, name, tmp_path / name)
    data = load_dataset(name, root=tmp_path)
    assert data.train_x.shape == (20, 1, 28, 28) and data.train_x.dtype == np.float32
    np.testing.assert_allclose(data.train_x[:, 0] * 255, train_x, atol=1e-4)
    np.testing.assert_array_equal(data.test_y, test_y)
    assert (data.channels, data.image_size) == (1, 28)


def test_cifar10_round_trip(tmp_path, rng, monkeypatch):
    parts = {"train": (rng.integers(0, 256, (10, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 10)),
             "test": (rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 4))}
    (tmp_path / "cifar10").mkdir()
    write_cifar10(tmp_path / "cifar10" / "cifar-10-python.tar.gz", parts)
    trust_files(monkeypatch, "cifar10", tmp_path / "cifar10")
    data = load_dataset("cifar10", root=tmp_path)
    np.testing.assert_allclose(data.train_x * 255, parts["train"][0], atol=1e-3)
    np.testing.assert_array_equal(data.test_y, parts["test"][1])
    assert (data.channels, data.image_size) == (3, 32)


def test_published_checksums_reject_other_files(tmp_path, rng):
    make_mnist(tmp_path / "mnist", rng)
    with pytest.raises(ValueError, match="corrupt or not the published file: MD5"):
        load_dataset("mnist", root=tmp_path)
    assert load_dataset("mnist", root=tmp_path, verify=False).train_x.shape[0] == 20


def test_missing_files_name_the_path_and_the_download_option(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz is missing.*download=True"):
        load_dataset("mnist", root=tmp_path)


def test_download_fetches_then_verifies(tmp_path, rng, monkeypatch):
    source = tmp_path / "published"
    make_mnist(source, rng)
    trust_files(monkeypatch, "mnist", source)
    fetched = []

    def fake_retrieve(url, target):
        fetched.append(url)
        target.write_bytes((source / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(datasets.urllib.request, "urlretrieve", fake_retrieve)
    data = load_dataset("mnist", root=tmp_path / "cache", download=True)
    assert len(fetched) == 4 and data.test_x.shape == (8, 1, 28, 28)


def test_corrupt_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="not a readable IDX file"):
        read_idx(bad)
    short = tmp_path / "short.gz"
    with gzip.open(short, "wb") as f:
        f.write((2051).to_bytes(4, "big") + (5).to_bytes(4, "big") * 3 + b"\x00" * 7)
    with pytest.raises(ValueError, match="header promises"):
        read_idx(short)
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-python.tar.gz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable tar.gz"):
        load_dataset("cifar10", root=tmp_path, verify=False)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="data must be one of"):
        load_dataset("imagenet")
