"""Data sets: MNIST (IDX files from a folder), Iris, and the logic gates."""
from .mnist import load_mnist, parse_idx
from .small import IRIS_CLASSES, IRIS_FEATURES, load_iris, load_logic_gate, load_xor

__all__ = ["load_mnist", "parse_idx", "load_iris", "load_logic_gate", "load_xor",
           "IRIS_CLASSES", "IRIS_FEATURES"]
