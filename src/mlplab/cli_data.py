"""The data behind ``mlplab train``: a registered data set or a CSV table, as arrays.

A CSV's numeric columns are standardized (mlplab.preprocessing.StandardScaler) and its other
columns one-hot encoded (OneHotEncoder); the target column gives class labels (text, or
up to 20 distinct integers) or regression values. ``TableCoding`` remembers all of it as
JSON (saved beside the model as ``MODEL.columns.json``) so ``evaluate`` and ``predict`` code
new rows the same way.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .datasets import load_csv, registry
from .preprocessing import OneHotEncoder, StandardScaler, to_categorical

MAX_INTEGER_CLASSES = 20


@dataclass
class TableCoding:
    """How a table's columns become the network's inputs, and its target the outputs."""
    target: str
    numeric: dict = field(default_factory=dict)      # column -> [mean, scale]
    categorical: dict = field(default_factory=dict)  # column -> [categories]
    classes: list | None = None                      # target classes; None: regression

    @classmethod
    def fit(cls, table: dict, target: str) -> "TableCoding":
        coding = cls(target=target)
        for name, column in table.items():
            if name == target:
                continue
            if column.dtype.kind == "f":
                scaler = StandardScaler().fit(column.reshape(-1, 1))
                coding.numeric[name] = [float(scaler.mean_[0]), float(scaler.scale_[0])]
            else:
                encoder = OneHotEncoder().fit(column.reshape(-1, 1).astype(str))
                coding.categorical[name] = [str(c) for c in encoder.categories_[0]]
        y = table[target]
        if y.dtype.kind != "f":
            coding.classes = sorted({str(v) for v in y})
        else:
            values = np.unique(y[~np.isnan(y)])
            if values.size <= MAX_INTEGER_CLASSES and np.all(values == np.round(values)):
                coding.classes = [_number(v) for v in values]
        return coding

    def inputs(self, table: dict, where: str) -> np.ndarray:
        parts = []
        for name, (mean, scale) in self.numeric.items():
            column = _column(table, name, where)
            parts.append(((column.astype(np.float64) - mean) / (scale or 1.0))[:, None])
        for name, categories in self.categorical.items():
            column = _column(table, name, where).astype(str)
            index = {c: i for i, c in enumerate(categories)}
            unknown = [v for v in column if v not in index]
            if unknown:
                raise ValueError(f"{where}: column {name!r} holds {unknown[0]!r}, a value not "
                                 f"seen in training (known: {', '.join(categories)}).")
            parts.append(to_categorical([index[v] for v in column], len(categories),
                                        dtype="float64"))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def targets(self, table: dict, where: str) -> np.ndarray:
        y = _column(table, self.target, where)
        if self.classes is None:
            return y.astype(np.float32)
        index = {str(c): i for i, c in enumerate(self.classes)}
        keys = [str(_number(v)) if not isinstance(v, str) else v for v in y]
        bad = [k for k in keys if k not in index]
        if bad:
            raise ValueError(f"{where}: target {self.target!r} holds {bad[0]!r}, not one of "
                             f"the classes {self.classes}.")
        return np.array([index[k] for k in keys], dtype=np.int64)

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path) -> "TableCoding":
        return cls(**json.loads(Path(path).read_text()))


@dataclass
class Standardization:
    """The per-feature mean and scale a registered data set's inputs were standardized with
    (fitted on the training rows), saved beside the model as ``MODEL.inputs.json``."""
    mean: list
    scale: list

    @classmethod
    def fit(cls, x) -> "Standardization":
        scaler = StandardScaler().fit(x)
        return cls([float(v) for v in scaler.mean_], [float(v) for v in scaler.scale_])

    def apply(self, x) -> np.ndarray:
        scale = np.where(np.asarray(self.scale) == 0, 1.0, self.scale)
        return ((np.asarray(x, dtype=np.float64) - self.mean) / scale).astype(np.float32)

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path) -> "Standardization":
        return cls(**json.loads(Path(path).read_text()))


def inputs_path(model_path) -> Path:
    """Where the standardization of a model trained on a registered set is kept."""
    return Path(str(model_path) + ".inputs.json")


def _number(v):
    v = float(v)
    return int(v) if v == int(v) else v


def _column(table, name, where):
    if name not in table:
        import difflib

        close = difflib.get_close_matches(name, list(table), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{where}: the CSV has no column {name!r}; its columns are "
                         f"{', '.join(table)}.{hint}")
    return table[name]


def coding_path(model_path) -> Path:
    """Where the table coding of a model trained on a CSV is kept: MODEL.columns.json."""
    return Path(str(model_path) + ".columns.json")


def read_csv(path, target: str | None, coding: TableCoding | None = None):
    """(x, y or None, coding) from a CSV; ``coding`` from training, else fitted here."""
    table = load_csv(path)
    where = f"--csv {path}"
    if coding is None:
        if target is None:
            raise ValueError(f"{where}: name the target column with --target COLUMN.")
        _column(table, target, where)
        coding = TableCoding.fit(table, target)
    x = coding.inputs(table, where)
    y = coding.targets(table, where) if coding.target in table else None
    return x, y, coding


def load_registered(name: str, data=None, offline=False):
    """((x_train, y_train), (x_test, y_test) or None) for a registered data set; the MNIST
    sets read ``data`` (a folder), the others are shipped or generated."""
    entry = registry.get(name)
    kwargs = {}
    if entry.name in ("mnist", "fashion-mnist"):
        kwargs = {"path": data, "flatten": True, "normalize": True}
        if entry.name == "mnist":
            kwargs["download_if_missing"] = not offline and data is None
    elif entry.name == "animals":
        kwargs = {"encoded": True}
    out = registry.load(entry.name, **kwargs)
    if isinstance(out[0], tuple):
        return out[0], out[1]
    x, y = out
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if entry.kind == "classification" and y.ndim == 1:
        y = y.astype(np.int64)
    return (x, y), None
