"""The MNIST loader on the real files, and its errors."""
import gzip
import hashlib

import numpy as np
import pytest

from mlplab.datasets import load_mnist, parse_idx
from mlplab.datasets import mnist as mnist_module

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_load_real_mnist(mnist_dir):
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist_dir)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert x_train.max() == 255 and x_train.min() == 0


def test_flat_normalized_inputs(mnist_dir):
    (x, _), (xt, _) = load_mnist(mnist_dir, flatten=True, normalize=True)
    assert x.shape == (60000, 784) and x.dtype == np.float32 and xt.shape == (10000, 784)
    assert 0.0 <= x.min() and x.max() == 1.0


def test_environment_variable_is_used(mnist_dir, monkeypatch):
    monkeypatch.setenv("MLPLAB_DATA", str(mnist_dir))
    (_, y), _ = load_mnist()
    assert len(y) == 60000


def test_raw_files_and_checksum_errors(tmp_path, mnist_dir):
    for stem in mnist_module.FILES.values():
        with gzip.open(mnist_dir / (stem + ".gz"), "rb") as fh:
            (tmp_path / stem).write_bytes(fh.read())  # uncompressed copies
    (_, y), _ = load_mnist(tmp_path)
    assert len(y) == 60000
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    data = bytearray(labels.read_bytes())
    data[-1] ^= 1
    labels.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="wrong SHA-256"):
        load_mnist(tmp_path)


def test_missing_files_offline_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"MNIST files not found in .*train-images-idx3"
                                                r"-ubyte.gz.*MLPLAB_DATA"):
        load_mnist(tmp_path / "nowhere", download_if_missing=False)


def test_parse_idx_round_trip_and_errors():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    data = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape) + \
        arr.tobytes()
    np.testing.assert_array_equal(parse_idx(data), arr)
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(data[:-1])
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x01\x02\x03\x04")


def test_published_checksums_match_the_shared_files(mnist_dir):
    sums = dict(line.split()[::-1] for line in (mnist_dir / "SHA256SUMS").read_text().splitlines()
                if line.strip())
    assert sums == mnist_module.SHA256
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz", "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == sums["t10k-labels-idx1-ubyte"]


def test_missing_files_are_downloaded_atomically_and_verified(tmp_path, mnist_dir, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for stem in mnist_module.FILES.values():
        (mirror / (stem + ".gz")).write_bytes((mnist_dir / (stem + ".gz")).read_bytes())
    monkeypatch.setattr(mnist_module, "MIRRORS", ("file:///nonexistent/", mirror.as_uri() + "/"))
    target = tmp_path / "cache"
    (_, y), (_, yt) = load_mnist(target)
    assert np.bincount(yt).tolist() == TEST_COUNTS and len(y) == 60000
    assert sorted(p.name for p in target.iterdir()) == sorted(
        s + ".gz" for s in mnist_module.FILES.values())  # no .part files left behind


def test_a_corrupt_download_is_rejected_and_not_kept(tmp_path, mnist_dir, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for stem in mnist_module.FILES.values():
        (mirror / (stem + ".gz")).write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setattr(mnist_module, "MIRRORS", (mirror.as_uri() + "/",))
    target = tmp_path / "cache"
    with pytest.raises(FileNotFoundError, match="Download failed: .*checksum mismatch"):
        load_mnist(target)
    assert list(target.iterdir()) == []
