"""Properties of the file readers on generated bad files: ``load_model`` (truncated, flipped,
random, with members replaced, dropped or added, a config rewritten, a pickle payload),
``load_mnist`` (random, truncated and mis-declared IDX/gzip files) and ``load_csv``.

A bad file is refused with one of mlplab's types (``ModelFileError``, ``DataFileError``,
``ArgumentError``); a missing file or a folder with the built-in ``FileNotFoundError`` /
``IsADirectoryError`` (Keras's and NumPy's, and what callers catch). Nothing in a file is ever
executed: a pickle payload that would create a marker file never does.
"""
import gzip
import io
import json
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import mlplab
from mlplab.datasets import load_csv, load_mnist

from .harness import attempt, property_settings, small_model

FILE_ERRORS = (FileNotFoundError, IsADirectoryError)
WORK = Path(tempfile.mkdtemp(prefix="mlplab-property-"))
MARKER = WORK / "executed-marker"


def _valid_model_bytes() -> bytes:
    path = WORK / "valid.npz"
    small_model().save(path)
    return path.read_bytes()


VALID = _valid_model_bytes()
MEMBERS = zipfile.ZipFile(io.BytesIO(VALID)).namelist()


class _Payload:
    """Unpickling this would create MARKER (it must never happen)."""

    def __reduce__(self):
        return (open, (str(MARKER), "w"))


def _rezip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _members():
    with zipfile.ZipFile(io.BytesIO(VALID)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _config():
    with np.load(io.BytesIO(VALID)) as data:
        return json.loads(str(data["config"]))


def _mutate(kind, a, b, blob):
    if kind == "truncate":
        return VALID[:a % (len(VALID) + 1)]
    if kind == "flip":
        data = bytearray(VALID)
        data[a % len(data)] ^= (b % 255) + 1
        return bytes(data)
    if kind == "random":
        return blob
    if kind == "drop member":
        members = _members()
        members.pop(MEMBERS[a % len(MEMBERS)])
        return _rezip(members)
    if kind == "replace member":
        members = _members()
        members[MEMBERS[a % len(MEMBERS)]] = blob
        return _rezip(members)
    if kind == "pickle member":
        members = _members()
        members[MEMBERS[a % len(MEMBERS)]] = _npy(np.array([_Payload()], dtype=object))
        return _rezip(members)
    if kind == "wrong shape member":
        members = _members()
        name = MEMBERS[a % len(MEMBERS)]
        members[name] = _npy(np.zeros((b % 5, 3), dtype=np.float32))
        return _rezip(members)
    config = _config()   # "config": one entry of the JSON config rewritten
    path = [("format",), ("layers",), ("layers", 0), ("layers", 1, "config", "units"),
            ("layers", 1, "config", "activation"), ("dtype",)][a % 6]
    values = [999, -1, 10 ** 12, "x" * 3, None, [], {}, 1e308, {"class_name": "Nope"},
              {"class_name": "Dense", "config": {"units": 10 ** 12}}, float("nan")]
    node = config
    try:
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = values[b % len(values)]
    except (KeyError, IndexError, TypeError):
        config["extra"] = values[b % len(values)]
    members = _members()
    members["config.npy"] = _npy(np.array(json.dumps(config)))
    return _rezip(members)


KINDS = ["truncate", "flip", "random", "drop member", "replace member", "pickle member",
         "wrong shape member", "config"]


@property_settings(6)
@given(kind=st.sampled_from(KINDS), a=st.integers(0, 10 ** 6), b=st.integers(0, 10 ** 6),
       blob=st.binary(max_size=200))
def test_load_model_on_bad_files(kind, a, b, blob):
    path = WORK / "bad.npz"
    path.write_bytes(_mutate(kind, a, b, blob))
    attempt("load_model", lambda: mlplab.load_model(path), label=kind, also=FILE_ERRORS)
    assert not MARKER.exists(), "a pickle payload in a model file was executed"


@property_settings()
@given(name=st.sampled_from(["missing.npz", "", "."]))
def test_load_model_on_missing_paths(name):
    attempt("load_model", lambda: mlplab.load_model(WORK / name if name else name),
            label="path", also=FILE_ERRORS)


def _idx(dims, code=0x08, extra=b""):
    header = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + bytes(int(np.prod(dims))) + extra


STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte"]


@property_settings(4)
@given(kind=st.sampled_from(["random", "truncated gzip", "bad magic", "short", "long",
                             "wrong dims", "plain random", "folder", "mismatched counts"]),
       which=st.integers(0, 3), blob=st.binary(max_size=64), n=st.integers(0, 3),
       flatten=st.one_of(st.booleans(), st.sampled_from([None, "yes", 2])),
       normalize=st.booleans())
def test_load_mnist_on_bad_files(kind, which, blob, n, flatten, normalize):
    folder = Path(tempfile.mkdtemp(dir=WORK))
    good = {"train-images-idx3-ubyte": _idx((2, 28, 28)), "train-labels-idx1-ubyte": _idx((2,)),
            "t10k-images-idx3-ubyte": _idx((1, 28, 28)), "t10k-labels-idx1-ubyte": _idx((1,))}
    stem = STEMS[which]
    data = good[stem]
    bad = {"random": gzip.compress(blob), "truncated gzip": gzip.compress(data)[:10 + n * 7],
           "bad magic": gzip.compress(b"\x01\x02" + data[2:]),
           "short": gzip.compress(data[:-1 - n]), "long": gzip.compress(data + b"\x00" * (n + 1)),
           "wrong dims": gzip.compress(_idx((2, 27 + n, 28)) if "images" in stem else
                                       _idx((2, n + 1))),
           "mismatched counts": gzip.compress(_idx((3 + n, 28, 28)) if "images" in stem else
                                              _idx((3 + n,))),
           "plain random": None, "folder": None}[kind]
    for s, content in good.items():
        if s != stem:
            (folder / (s + ".gz")).write_bytes(gzip.compress(content))
    if kind == "plain random":
        (folder / stem).write_bytes(blob)
    elif kind == "folder":
        (folder / (stem + ".gz")).mkdir()
    else:
        (folder / (stem + ".gz")).write_bytes(bad)
    attempt("loaders", lambda: load_mnist(folder, flatten=flatten, normalize=normalize,
                                          download_if_missing=False),
            label="load_mnist " + kind, also=FILE_ERRORS)


@property_settings(3)
@given(text=st.one_of(st.text(max_size=60), st.binary(max_size=60)),
       delimiter=st.one_of(st.sampled_from([",", ";", "\t"]), st.text(max_size=2), st.none()))
def test_load_csv_on_generated_files(text, delimiter):
    path = WORK / "table.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    attempt("loaders", lambda: load_csv(path, delimiter=delimiter), label="load_csv",
            also=FILE_ERRORS)
    attempt("loaders", lambda: load_csv(io.StringIO(text if isinstance(text, str) else
                                                    text.decode("latin-1")),
                                        delimiter=delimiter), label="load_csv text",
            also=FILE_ERRORS)


def teardown_module():
    import shutil
    shutil.rmtree(WORK, ignore_errors=True)
    assert not MARKER.exists()

