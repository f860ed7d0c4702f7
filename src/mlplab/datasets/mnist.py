"""MNIST (and any data set in the same IDX format): read, verify, and fetch if missing.

The folder is found in this order: the ``path`` argument, the ``MLPLAB_DATA`` environment
variable (the folder itself or one holding ``mnist/``), then the cache ``~/.cache/mlplab/mnist``.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import tempfile
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ..exceptions import DataFileError

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the uncompressed files, as published with the data set.
SHA256 = {
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlplab"


_FIX = "Delete it and load again (mlplab downloads it when online), or put a fresh copy there."


def parse_idx(data: bytes, source: str = "IDX data") -> np.ndarray:
    """Decode an IDX file: magic 0x0000 | type code | ndim, big-endian dims, then the values.

    A malformed file raises ``mlplab.DataFileError`` (a ValueError) naming ``source``."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise DataFileError(f"{source} is not an IDX file (bad magic number "
                            f"{data[:4].hex()}). {_FIX}")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataFileError(f"{source} is truncated or corrupt: {len(data)} bytes, too short "
                            f"for the {ndim} dimensions its header announces. {_FIX}")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dtype = np.dtype(_DTYPES[data[2]])
    expected = 4 + 4 * ndim + math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        raise DataFileError(f"{source} is truncated or corrupt: {len(data)} bytes, expected "
                            f"{expected} for shape {dims}. {_FIX}")
    return np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim).reshape(dims).copy()


def _read(folder: Path, stem: str) -> bytes | None:
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = folder / name
        if path.exists():
            return _read_file(path, opener)
    return None


def _read_file(path: Path, opener) -> bytes:
    """The (decompressed) bytes of ``path``; DataFileError if it is not readable."""
    try:
        with opener(path, "rb") as fh:
            return fh.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataFileError(f"{path} is corrupted or truncated (not a complete gzip file: "
                            f"{exc}). {_FIX}") from None
    except IsADirectoryError:
        raise DataFileError(f"{path} is a folder; expected a data file. Remove or rename "
                            f"it.") from None


def _candidates(path) -> list[Path]:
    if path is not None:
        return [Path(path)]
    out = []
    env = os.environ.get("MLPLAB_DATA")
    if env:
        out += [Path(env), Path(env) / "mnist"]
    out.append(cache_dir() / "mnist")
    return out


def download(folder: Path, files=None, quiet: bool = False) -> None:
    """Fetch the gzipped IDX files into ``folder``, each written atomically (temp + rename)."""
    from tqdm.auto import tqdm

    folder.mkdir(parents=True, exist_ok=True)
    for stem in files or FILES.values():
        target = folder / (stem + ".gz")
        if target.exists():
            continue
        last_error = None
        for mirror in MIRRORS:
            try:
                with urllib.request.urlopen(mirror + stem + ".gz", timeout=30) as resp:
                    total = int(resp.headers.get("Content-Length") or 0) or None
                    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
                    try:
                        with os.fdopen(fd, "wb") as out, tqdm(total=total, unit="B",
                                                               unit_scale=True, desc=stem,
                                                               disable=quiet) as bar:
                            while chunk := resp.read(1 << 16):
                                out.write(chunk)
                                bar.update(len(chunk))
                        content = gzip.decompress(Path(tmp).read_bytes())
                        if hashlib.sha256(content).hexdigest() != SHA256[stem]:
                            raise ValueError(f"checksum mismatch for {stem} from {mirror}")
                        os.replace(tmp, target)
                    finally:
                        if os.path.exists(tmp):
                            os.unlink(tmp)
                break
            except (OSError, ValueError) as exc:
                last_error = exc
        else:
            raise OSError(f"could not download {stem}: {last_error}")


def load_mnist(path=None, flatten: bool = False, normalize: bool = False,
               download_if_missing: bool = True):
    """Load MNIST: ``(x_train, y_train), (x_test, y_test)``.

    Parameters
    ----------
    path : str or Path, optional
        Folder with the four IDX files (``train-images-idx3-ubyte[.gz]`` ...). Default: the
        ``MLPLAB_DATA`` environment variable, then ``~/.cache/mlplab/mnist``.
    flatten : bool, default=False
        Images as (n, 784) rows instead of (n, 28, 28).
    normalize : bool, default=False
        Pixels as float32 in [0, 1] instead of uint8 0..255. ``flatten=True, normalize=True``
        gives the inputs of a 784-512-10 network.
    download_if_missing : bool, default=True
        When the files are nowhere, fetch them into the cache (needs internet).

    Every file's content is checked against its published SHA-256.
    """
    arrays = None
    for folder in _candidates(path):
        raw = {key: _read(folder, stem) for key, stem in FILES.items()}
        if all(v is not None for v in raw.values()):
            arrays = (folder, raw)
            break
    if arrays is None:
        target = Path(path) if path is not None else cache_dir() / "mnist"
        if not download_if_missing:
            raise FileNotFoundError(_missing_message(path))
        try:
            download(target)
        except OSError as exc:
            raise FileNotFoundError(_missing_message(path) + f" (Download failed: {exc})") \
                from None
        arrays = (target, {key: _read(target, stem) for key, stem in FILES.items()})
    folder, raw = arrays
    out = {}
    for key, stem in FILES.items():
        if hashlib.sha256(raw[key]).hexdigest() != SHA256[stem]:
            raise DataFileError(f"MNIST file {folder / stem} has the wrong SHA-256: it is "
                                f"corrupt or not the original. {_FIX}")
        out[key] = parse_idx(raw.pop(key), str(folder / stem))  # pop: free the bytes now
    return _split_arrays(out, flatten, normalize)


def load_data(path=None):
    """Keras's form, ``keras.datasets.mnist.load_data()``: ``(x_train, y_train), (x_test,
    y_test)`` with images uint8 (n, 28, 28) and labels uint8 (n,).

    ``path`` is the folder of the IDX files (Keras's is a file name in its cache); by default
    ``MLPLAB_DATA``, then ``~/.cache/mlplab/mnist``, as :func:`load_mnist`.
    """
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    return (x_train, y_train.astype(np.uint8)), (x_test, y_test.astype(np.uint8))


def _split_arrays(out: dict, flatten: bool, normalize: bool):
    """((x_train, y_train), (x_test, y_test)) from the four parsed IDX arrays."""
    x_train, x_test = out["train_images"], out["test_images"]
    if flatten:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    if normalize:  # divided in place: no second float32 copy of the images at the peak
        x_train = x_train.astype(np.float32)
        x_train /= np.float32(255)
        x_test = x_test.astype(np.float32)
        x_test /= np.float32(255)
    return (x_train, out["train_labels"].astype(np.int64)), \
        (x_test, out["test_labels"].astype(np.int64))


def _missing_message(path) -> str:
    where = Path(path) if path is not None else cache_dir() / "mnist"
    names = ", ".join(s + ".gz" for s in FILES.values())
    return (f"MNIST files not found in {where}. Put the four IDX files ({names}; gzipped or "
            f"not) there, pass load_mnist(path=FOLDER), or set MLPLAB_DATA=FOLDER.")


# ---------------------------------------------------------------------------------- Fashion-MNIST
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
# MD5 of the gzipped files, as published by Zalando Research (the uncompressed files have none).
FASHION_MD5_GZ = {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}


def _fashion_folders(path) -> list[Path]:
    if path is not None:
        return [Path(path)]
    env = os.environ.get("MLPLAB_DATA")
    out = [Path(env) / name for name in ("fashion_mnist", "fashion-mnist")] if env else []
    return out + [cache_dir() / "fashion_mnist"]


def load_fashion_mnist(path=None, flatten: bool = False, normalize: bool = False,
                       verify: bool = True):
    """Load Fashion-MNIST from a folder: ``(x_train, y_train), (x_test, y_test)``.

    Zalando's 70,000 28x28 grey images of 10 kinds of clothing (``FASHION_MNIST_CLASSES``), in
    the same four IDX files as MNIST and read with the same reader. Offline only: download the
    files from https://github.com/zalandoresearch/fashion-mnist (``data/fashion``) yourself.

    Parameters
    ----------
    path : str or Path, optional
        Folder with ``train-images-idx3-ubyte[.gz]`` and the three others. Default:
        ``$MLPLAB_DATA/fashion_mnist`` (or ``fashion-mnist``), then
        ``~/.cache/mlplab/fashion_mnist``.
    flatten, normalize : bool, default=False
        As in :func:`load_mnist`: (n, 784) rows; float32 pixels in [0, 1].
    verify : bool, default=True
        Check each gzipped file against its published MD5 (uncompressed files have no
        published checksum and are only checked for a valid IDX structure).
    """
    for folder in _fashion_folders(path):
        if all((folder / (s + ".gz")).exists() or (folder / s).exists() for s in FILES.values()):
            break
    else:
        where = ", ".join(str(f) for f in _fashion_folders(path))
        names = ", ".join(s + ".gz" for s in FILES.values())
        raise FileNotFoundError(
            f"Fashion-MNIST files not found in {where}. Download the four IDX files ({names}) "
            f"from https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder "
            f"and pass load_fashion_mnist(path=FOLDER), or put them in $MLPLAB_DATA/fashion_mnist.")
    out = {}
    for key, stem in FILES.items():
        gz = folder / (stem + ".gz")
        if gz.exists():
            packed = gz.read_bytes()
            if verify and hashlib.md5(packed).hexdigest() != FASHION_MD5_GZ[stem]:
                raise DataFileError(f"Fashion-MNIST file {gz} has the wrong MD5: it is corrupt "
                                    f"or not the original. Download it again, or pass "
                                    f"verify=False for your own files in this format.")
            try:
                data = gzip.decompress(packed)
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise DataFileError(f"{gz} is corrupted or truncated (not a complete gzip "
                                    f"file: {exc}). Download it again.") from None
        else:
            data = (folder / stem).read_bytes()
        out[key] = parse_idx(data, str(folder / stem))
    for part in ("train", "test"):
        if len(out[part + "_images"]) != len(out[part + "_labels"]):
            raise DataFileError(f"Fashion-MNIST in {folder}: {len(out[part + '_images'])} "
                                f"{part} images but {len(out[part + '_labels'])} labels; the "
                                f"files do not belong together.")
    return _split_arrays(out, flatten, normalize)
