"""The data set registry (behind `mlplab datasets`) and the Fashion-MNIST loader."""
import gzip
import hashlib
import struct

import numpy as np
import pytest

from mlplab import cli
from mlplab.datasets import (FASHION_MNIST_CLASSES, list_datasets, load, load_fashion_mnist,
                             load_iris, make_circle, registry)
from mlplab.datasets import mnist as mnist_module


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file written independently of the reader: magic, big-endian dims, values."""
    code = {np.dtype(np.uint8): 0x08}[arr.dtype]
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + \
        arr.tobytes()


@pytest.fixture
def fashion_dir(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, 12, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, 5, dtype=np.uint8)}
    for stem, arr in arrays.items():
        (tmp_path / (stem + ".gz")).write_bytes(gzip.compress(idx_bytes(arr)))
    return tmp_path, arrays


def test_fashion_mnist_reads_idx_files(fashion_dir):
    folder, arrays = fashion_dir
    (x, y), (xt, yt) = load_fashion_mnist(folder, verify=False)
    np.testing.assert_array_equal(x, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(xt, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(yt, arrays["t10k-labels-idx1-ubyte"])
    assert y.dtype == np.int64 and len(FASHION_MNIST_CLASSES) == 10
    (xf, _), _ = load_fashion_mnist(folder, flatten=True, normalize=True, verify=False)
    assert xf.shape == (12, 784) and xf.dtype == np.float32
    np.testing.assert_allclose(xf * 255, x.reshape(12, -1), rtol=1e-6)



def test_fashion_mnist_uses_the_mnist_idx_reader(fashion_dir, monkeypatch):
    folder, _ = fashion_dir
    calls = []
    reader = mnist_module.parse_idx

    def spy(data, source="IDX data"):
        calls.append(source)
        return reader(data, source)

    monkeypatch.setattr(mnist_module, "parse_idx", spy)
    load_fashion_mnist(folder, verify=False)
    assert sorted(c.rsplit("/", 1)[-1] for c in calls) == sorted(mnist_module.FILES.values())
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x01\x00\x08\x03" +
                                                                      bytes(12)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte is not an IDX file \(bad "
                                         r"magic number 01000803\)"):  # the reader's own check
        load_fashion_mnist(folder, verify=False)

def test_fashion_mnist_uncompressed_and_env(fashion_dir, monkeypatch, tmp_path_factory):
    folder, arrays = fashion_dir
    root = tmp_path_factory.mktemp("data")
    (root / "fashion_mnist").mkdir()
    for stem, arr in arrays.items():
        (root / "fashion_mnist" / stem).write_bytes(idx_bytes(arr))
    monkeypatch.setenv("MLPLAB_DATA", str(root))
    (x, _), _ = load_fashion_mnist()  # no published checksum for uncompressed files
    np.testing.assert_array_equal(x, arrays["train-images-idx3-ubyte"])


def test_fashion_mnist_checks_published_md5(fashion_dir, monkeypatch):
    folder, _ = fashion_dir
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz has the wrong MD5.*"
                                         r"verify=False"):
        load_fashion_mnist(folder)
    # with the published MD5 of our files, verification passes
    digests = {s: hashlib.md5((folder / (s + ".gz")).read_bytes()).hexdigest()
               for s in mnist_module.FILES.values()}
    monkeypatch.setattr(mnist_module, "FASHION_MD5_GZ", digests)
    (x, _), _ = load_fashion_mnist(folder)
    assert x.shape == (12, 28, 28)


def test_fashion_mnist_errors(fashion_dir, tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(FileNotFoundError, match=r"Fashion-MNIST files not found in .*empty.*"
                                                r"zalandoresearch/fashion-mnist"):
        load_fashion_mnist(empty)
    folder, arrays = fashion_dir
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(4, dtype=np.uint8))))
    with pytest.raises(ValueError, match=r"5 test images but 4 labels"):
        load_fashion_mnist(folder, verify=False)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00"))
    with pytest.raises(ValueError, match=r"truncated or corrupt"):
        load_fashion_mnist(folder, verify=False)


def test_registry_rows_and_cli(capsys):
    rows = list_datasets()
    names = [r["name"] for r in rows]
    for name in ("mnist", "fashion-mnist", "iris", "animals", "logic-xor", "circle", "xor",
                 "gauss", "spiral", "reg-plane", "reg-gauss", "moons", "circles", "blobs"):
        assert name in names
    assert all(set(r) == {"name", "kind", "size", "description"} and r["description"]
               for r in rows)
    assert cli.main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in names)



def test_registry_sizes_are_what_the_loaders_return(capsys):
    # "150 x 4", "generated, default 500 x 2": the stated size of every set loadable offline
    for row in list_datasets():
        if "mnist" in row["name"]:
            assert row["size"] == "70,000 x 28x28"  # 60,000 + 10,000 images (not shipped)
            continue
        n, d = (int(v) for v in row["size"].split("default ")[-1].split(" x "))
        data = load(row["name"], seed=0) if "generated" in row["size"] else load(row["name"])
        x, y = data
        if isinstance(x, dict):  # the animals table: named columns
            assert len(x) == d and all(len(c) == n for c in x.values())
        else:
            assert x.shape == (n, d), row["name"]
        assert len(y) == n
    assert cli.main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for row in list_datasets():  # the CLI prints each row's size and description
        assert any(row["name"] in ln and row["size"] in ln and row["description"] in ln
                   for ln in lines), row["name"]

def test_registry_load_matches_the_loaders():
    x, y = load("circle", n_samples=50, noise=0.1, seed=4)
    xc, yc = make_circle(50, noise=0.1, seed=4)
    np.testing.assert_array_equal(x, xc)
    np.testing.assert_array_equal(y, yc)
    np.testing.assert_array_equal(load("iris")[0], load_iris()[0])
    _, y = load("logic-xor", bipolar=True)
    assert y.ravel().tolist() == [-1, 1, 1, -1]
    for row in list_datasets():
        if row["kind"] != "classification" or "generated" not in row["size"]:
            continue
        x, y = load(row["name"], seed=0)
        assert x.ndim == 2 and len(x) == len(y)


def test_registry_errors():
    with pytest.raises(ValueError, match=r"Unknown data set 'spirall'\. Available: .*"
                                         r"Did you mean 'spiral'\?"):
        load("spirall")
    with pytest.raises(TypeError, match=r"load\('iris'\): .*unexpected keyword.*its loader "
                                        r"takes: \."):
        load("iris", noise=0.1)
    assert registry.get("Fashion_MNIST").name == "fashion-mnist"
