"""Hostile and broken model files: each one refused with ModelFileError, nothing executed.

Every crafted file below (truncations, bit flips, missing members, wrong dtypes and shapes,
huge declared sizes, future versions, bad JSON, object arrays, a pickle payload) must make
``load_model`` raise exactly ``mlplab.ModelFileError`` (no other exception type escapes), with
a message naming the file; the pickle payload would create a marker file if it were ever
unpickled. Then the data files: a corrupted MNIST gzip is a DataFileError and a one-line
error of ``mlplab train``.
"""
import gzip
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import mlplab
from mlplab import ModelFileError
from mlplab.callbacks import BackupAndRestore
from mlplab.initializers import VarianceScaling
from mlplab.layers import Dense, Dropout, Input

MARKER = "pickle-payload-ran.txt"


def make_model():
    model = mlplab.Sequential([Input((4,)), Dense(5, activation="relu",
                                                  kernel_initializer=VarianceScaling(
                                                      2.0, "fan_avg", "uniform")),
                               Dropout(0.2), Dense(3, activation="softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(20, 4)), rng.integers(0, 3, 20), epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The bytes of a real model file and its members (name -> array)."""
    path = tmp_path_factory.mktemp("good") / "model.npz"
    make_model().save(path)
    with np.load(path, allow_pickle=False) as f:
        members = {k: f[k] for k in f.files}
    return path.read_bytes(), members


class Evil:
    """Unpickling this creates the marker file (in the current folder)."""

    def __reduce__(self):
        return (open, (MARKER, "w"))


def npz(members: dict, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, value in members.items():
            if isinstance(value, bytes):
                zf.writestr(name + ".npy", value)
            else:
                member = io.BytesIO()
                np.save(member, value, allow_pickle=allow_pickle)
                zf.writestr(name + ".npy", member.getvalue())
    return buf.getvalue()


def with_config(members, change):
    config = json.loads(str(members["config"]))
    change(config)
    return npz({**members, "config": np.array(json.dumps(config))})


def npy_header(descr, shape):
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - len(header) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def evil_array():
    a = np.empty(1, dtype=object)
    a[0] = Evil()
    return a


def flip(data: bytes, pos: int) -> bytes:
    b = bytearray(data)
    b[pos] ^= 0x10
    return bytes(b)


def member_data_offsets(data: bytes):
    """Positions inside each member's stored bytes (CRC-protected)."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            local = info.header_offset  # the local header's own name and extra lengths
            start = local + 30 + int.from_bytes(data[local + 26:local + 28], "little") + \
                int.from_bytes(data[local + 28:local + 30], "little")
            out += [start + 3, start + info.compress_size // 2, start + info.compress_size - 1]
    return out


def deep_json(depth):
    return "[" * depth + "]" * depth


def crafted(good) -> dict:
    """name -> bytes of a file load_model must refuse."""
    data, m = good
    n = len(data)
    cases = {}
    for cut in (0, 1, 4, 30, 64, 200, n // 8, n // 4, n // 3, n // 2, 2 * n // 3, n - 100, n - 23,
                n - 1):
        cases[f"truncated at {cut}"] = data[:cut]
    for i, pos in enumerate(member_data_offsets(data)[:15]):
        cases[f"bit flip {i} at {pos}"] = flip(data, pos)
    cases["no config"] = npz({k: v for k, v in m.items() if k != "config"})
    cases["missing weight_3"] = npz({k: v for k, v in m.items() if k != "weight_3"})
    cases["missing optimizer slot"] = npz({k: v for k, v in m.items() if k != "opt_momentum_1"})
    cases["weights only, in load_model"] = npz({
        "config": np.array(json.dumps({"format": "mlplab-model", "version": 1,
                                       "weights_only": True})),
        **{k: v for k, v in m.items() if k.startswith("weight_")}})
    for dtype in ("float16", "int32", "complex64", ">f4", "bool"):
        cases[f"weight_0 as {dtype}"] = npz({**m, "weight_0": m["weight_0"].astype(dtype)})
    cases["weight_0 as float64"] = npz({**m, "weight_0": m["weight_0"].astype("float64")})
    cases["weight_0 transposed"] = npz({**m, "weight_0": m["weight_0"].T.copy()})
    cases["bias one longer"] = npz({**m, "weight_1": np.zeros(6, np.float32)})
    cases["optimizer slot of the wrong shape"] = npz({**m, "opt_velocity_0": np.zeros(3,
                                                                                      np.float32)})
    cases["an extra weight"] = npz({**m, "weight_4": np.zeros(3, np.float32)})
    cases["units 10**9"] = with_config(m, lambda c: c["model"]["layers"][0]["config"].update(
        units=10 ** 9))
    cases["input shape 10**9"] = with_config(m, lambda c: c["model"].update(
        input_shape=[10 ** 9]))
    cases["declared shape 10**12, small data"] = npz({
        **m, "weight_0": npy_header("<f4", (10 ** 12,)) + b"\0" * 64})
    cases["declared config of 10**9 chars"] = npz({**m, "config": npy_header("<U1000000000", ())
                                                   + b"\0" * 64})
    cases["version 999"] = with_config(m, lambda c: c.update(version=999))
    cases["version '1'"] = with_config(m, lambda c: c.update(version="1"))
    cases["version 0"] = with_config(m, lambda c: c.update(version=0))
    cases["no version"] = with_config(m, lambda c: c.pop("version"))
    cases["another format"] = with_config(m, lambda c: c.update(format="keras"))
    cases["config not JSON"] = npz({**m, "config": np.array("{'model': not json")})
    cases["config is a float array"] = npz({**m, "config": np.zeros(3)})
    cases["config is a JSON list"] = npz({**m, "config": np.array("[1, 2, 3]")})
    cases["config nested 100000 deep"] = npz({**m, "config": np.array(deep_json(100_000))})
    cases["config nested 40 deep in a key"] = with_config(
        m, lambda c: c.update(extra=json.loads(deep_json(40))))
    cases["config holds a raw UTF-8 byte string"] = npz({**m, "config": np.array(b"\xff\xfe")})
    cases["layers is not a list"] = with_config(m, lambda c: c["model"].update(layers="Dense"))
    cases["unknown layer class"] = with_config(
        m, lambda c: c["model"]["layers"][0].update(class_name="Conv2D"))
    cases["Lambda layer"] = with_config(
        m, lambda c: c["model"]["layers"][1].update(class_name="Lambda"))
    cases["units is a string"] = with_config(m, lambda c: c["model"]["layers"][0]["config"]
                                             .update(units="5"))
    cases["unknown activation"] = with_config(m, lambda c: c["model"]["layers"][0]["config"]
                                              .update(activation="nope"))
    cases["initializer with a bad argument"] = with_config(
        m, lambda c: c["model"]["layers"][0]["config"]["kernel_initializer"].update(mode="x"))
    cases["initializer with an unknown argument"] = with_config(
        m, lambda c: c["model"]["layers"][0]["config"]["kernel_initializer"].update(evil=1))
    cases["dtype float16"] = with_config(m, lambda c: c["model"].update(dtype="float16"))
    cases["built is a string"] = with_config(m, lambda c: c.update(built="yes"))
    cases["unknown optimizer"] = with_config(m, lambda c: c["compile"]["optimizer"].update(
        name="evil"))
    cases["unknown loss"] = with_config(m, lambda c: c["compile"].update(loss="evil"))
    cases["optimizer scalar is a list"] = with_config(
        m, lambda c: c["optimizer_state"]["scalars"].update(iterations=[1]))
    cases["slot count mismatch"] = with_config(
        m, lambda c: c["optimizer_state"]["slots"].update(momentum=7))
    cases["rng state garbage"] = with_config(m, lambda c: c["rng"].update(
        shuffle_rng={"bit_generator": "evil", "state": 1}))
    cases["history malformed"] = with_config(m, lambda c: c.update(
        history={"history": {"loss": "x"}, "epoch": [0]}))
    cases["object array weight"] = npz({**m, "weight_0": np.array([1, "a"], dtype=object)},
                                       allow_pickle=True)
    cases["pickle payload as a weight"] = npz({**m, "weight_0": evil_array()}, allow_pickle=True)
    cases["pickle payload as the config"] = npz({**m, "config": evil_array()}, allow_pickle=True)
    cases["a bare pickle"] = pickle.dumps(Evil())
    cases["a .npy pickle"] = npy_header("|O", (1,)) + pickle.dumps(evil_array())
    cases["structured dtype"] = npz({**m, "weight_1": np.zeros(5, dtype=[("a", "<f4")])})
    cases["member outside the archive"] = npz({**m, "../../evil": np.zeros(2)})
    buf = io.BytesIO()
    np.savez_compressed(buf, **m)
    cases["compressed members"] = buf.getvalue()
    cases["empty file"] = b""
    cases["text file"] = b"W1 = [[1, 2], [3, 4]]\n"
    cases["gzip file"] = gzip.compress(data)
    return cases


def test_at_least_fifty_crafted_files(good):
    assert len(crafted(good)) >= 50


def test_every_crafted_file_is_refused_with_one_error_type(good, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the pickle payload would write its marker
    refused = 0
    for name, data in crafted(good).items():
        path = tmp_path / "crafted.npz"
        path.write_bytes(data)
        try:
            mlplab.load_model(path)
        except Exception as exc:  # noqa: BLE001 (the test is that only one type escapes)
            assert type(exc) is ModelFileError, (name, type(exc), exc)
            assert "crafted.npz" in str(exc), (name, str(exc))
            assert "allow_pickle" not in str(exc), name
            refused += 1
        else:
            pytest.fail(f"{name}: loaded without an error")
        assert not (tmp_path / MARKER).exists(), name
    print(f"\ncrafted model files: {refused} refused with ModelFileError, 0 other exceptions, "
          f"0 executed")
    assert refused == len(crafted(good))


def test_load_weights_refuses_them_too(good, tmp_path):
    model = make_model()
    before = model.get_weights()
    for name, data in crafted(good).items():
        if not name.startswith(("truncated", "bit flip", "version", "pickle", "weight_0",
                                "declared")):
            continue
        path = tmp_path / "crafted.npz"
        path.write_bytes(data)
        with pytest.raises(ModelFileError) as info:
            model.load_weights(path)
        assert type(info.value) is ModelFileError, name
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_future_version_says_so(good, tmp_path):
    path = tmp_path / "future.npz"
    path.write_bytes(crafted(good)["version 999"])
    with pytest.raises(ModelFileError, match=r"future.npz.*written by a newer mlplab \(format "
                                             r"version 999"):
        mlplab.load_model(path)


@pytest.mark.parametrize("case", ["units 10**9", "input shape 10**9",
                                  "declared shape 10**12, small data",
                                  "declared config of 10**9 chars"])
def test_huge_declared_sizes_are_refused_before_any_allocation(good, tmp_path, case):
    path = tmp_path / "huge.npz"
    path.write_bytes(crafted(good)[case])
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="huge.npz"):
            mlplab.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2 ** 20, f"{case}: {peak / 2 ** 20:.1f} MiB allocated"


def test_a_good_file_still_loads_exactly(good, tmp_path):
    data, members = good
    path = tmp_path / "good.npz"
    path.write_bytes(data)
    model = mlplab.load_model(path)
    assert isinstance(model.layers[0].kernel_initializer, VarianceScaling)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, members[f"weight_{i}"])


def test_a_crafted_backup_is_refused_and_changes_nothing(good, tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 4)), rng.integers(0, 3, 20)
    backup = tmp_path / "backup"
    backup.mkdir()
    model = make_model()
    model.save(backup / "latest.npz")  # a model file, but no training state
    with pytest.raises(ModelFileError, match="no training state"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(backup)])
    (backup / "latest.npz").write_bytes(crafted(good)["bit flip 3 at " + str(
        member_data_offsets(good[0])[3])])
    with pytest.raises(ModelFileError, match="latest.npz"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[BackupAndRestore(backup)])


# ------------------------------------------------------------------------------ data files
MNIST = os.environ.get("MLPLAB_DATA", os.path.join(os.path.dirname(__file__), "..", "..",
                                                   "shared", "data", "mnist"))
STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


def mnist_folder(tmp_path, damage):
    """A copy of the MNIST folder (links) whose test labels file is damaged by ``damage``."""
    source = MNIST if os.path.exists(os.path.join(MNIST, STEMS[0] + ".gz")) else \
        os.path.join(MNIST, "mnist")
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem in STEMS[:3]:
        os.symlink(os.path.abspath(os.path.join(source, stem + ".gz")), folder / (stem + ".gz"))
    data = open(os.path.join(source, STEMS[3] + ".gz"), "rb").read()
    (folder / (STEMS[3] + ".gz")).write_bytes(damage(data))
    return folder


DAMAGE = {
    "truncated gzip": lambda d: d[:len(d) // 2],
    "flipped byte in the stream": lambda d: flip(d, len(d) // 2),
    "not gzip at all": lambda d: b"hello" + d[5:],
    "valid gzip of a truncated IDX": lambda d: gzip.compress(gzip.decompress(d)[:5000]),
    "valid gzip of a bad IDX magic": lambda d: gzip.compress(b"\1\2\3\4" + gzip.decompress(d)[4:]),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_corrupted_mnist_is_a_data_file_error(tmp_path, damage):
    folder = mnist_folder(tmp_path, DAMAGE[damage])
    with pytest.raises(mlplab.DataFileError) as info:
        mlplab.datasets.load_mnist(folder, download_if_missing=False)
    message = str(info.value)
    assert type(info.value) is mlplab.DataFileError
    assert "t10k-labels-idx1-ubyte" in message and str(folder) in message
    assert "Delete it and load again" in message


def test_train_on_corrupted_mnist_is_one_line_and_status_2(tmp_path):
    folder = mnist_folder(tmp_path, DAMAGE["truncated gzip"])
    env = {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..", "src")}
    run = subprocess.run([sys.executable, "-m", "mlplab", "train", "--data", str(folder),
                          "--offline", "--epochs", "1"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlplab train: ") and \
        "t10k-labels-idx1-ubyte" in lines[0], run.stderr


def test_cleanup(tmp_path):
    shutil.rmtree(tmp_path, ignore_errors=True)
