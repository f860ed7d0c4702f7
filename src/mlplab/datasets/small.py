"""Small classic data sets: Iris (shipped with the package) and the two-input logic gates."""
from __future__ import annotations

from importlib import resources

import numpy as np

IRIS_FEATURES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                 "petal width (cm)")
IRIS_CLASSES = ("setosa", "versicolor", "virginica")

_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xnor": (1, 0, 0, 1),
}


def load_iris():
    """Fisher's Iris: x (150, 4) float64 measurements, y (150,) labels 0..2.

    Class names are ``IRIS_CLASSES`` and feature names ``IRIS_FEATURES``. The rows are sorted by
    class, so shuffle (or stratify) before splitting.
    """
    text = resources.files("mlplab.datasets").joinpath("data/iris.csv").read_text()
    rows = np.loadtxt(text.splitlines()[1:], delimiter=",")
    return rows[:, :4], rows[:, 4].astype(np.int64)


def load_logic_gate(name: str, bipolar: bool = False, dtype="float32"):
    """Truth table of a two-input gate: x (4, 2), y (4, 1).

    Parameters
    ----------
    name : {"and", "or", "xor", "nand", "nor", "xnor"}
    bipolar : bool, default=False
        Code false/true as -1/+1 instead of 0/1 (inputs and outputs).
    """
    key = name.lower()
    if key not in _GATES:
        raise ValueError(f"Unknown logic gate '{name}'. Available: {', '.join(sorted(_GATES))}.")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array(_GATES[key], dtype=dtype).reshape(-1, 1)
    if bipolar:
        x, y = 2 * x - 1, 2 * y - 1
    return x, y


def load_xor(bipolar: bool = False, dtype="float32"):
    """The XOR truth table: x (4, 2), y (4, 1). See :func:`load_logic_gate`."""
    return load_logic_gate("xor", bipolar=bipolar, dtype=dtype)
