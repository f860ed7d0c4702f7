"""Data sets: MNIST and Fashion-MNIST (IDX files from a folder), Iris, the logic gates, the
lectures' animals table, seeded generators, and a registry of them all by name."""
from . import generators, registry
from .generators import (make_blobs, make_circle, make_circles, make_gauss, make_moons,
                         make_reg_gauss, make_reg_plane, make_spiral, make_xor)
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist, parse_idx
from .registry import list_datasets, load
from .small import IRIS_CLASSES, IRIS_FEATURES, load_iris, load_logic_gate, load_xor
from .tabular import ANIMAL_CLASSES, ANIMAL_ORDERS, load_animals, load_csv

__all__ = ["load_mnist", "parse_idx", "load_iris", "load_logic_gate", "load_xor",
           "IRIS_CLASSES", "IRIS_FEATURES", "load_fashion_mnist", "FASHION_MNIST_CLASSES",
           "load_csv", "load_animals", "ANIMAL_CLASSES", "ANIMAL_ORDERS", "list_datasets", "load",
           "make_circle", "make_xor", "make_gauss", "make_spiral", "make_reg_plane",
           "make_reg_gauss", "make_moons", "make_circles", "make_blobs", "generators", "registry"]
