"""The data sets mlplab can load by name: ``list_datasets()`` for ``mlplab datasets``,
``load(name, **kwargs)`` for code.

>>> x, y = load("circle", n_samples=100, noise=0.1, seed=0)
>>> x.shape, y.shape
((100, 2), (100,))
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable

from . import generators, mnist, small, tabular


@dataclass(frozen=True)
class Dataset:
    name: str
    kind: str  # "classification" or "regression"
    size: str  # samples x features, as text
    description: str
    loader: Callable


def _gate(name):
    def load(bipolar: bool = False, dtype="float32"):
        return small.load_logic_gate(name, bipolar=bipolar, dtype=dtype)
    load.__doc__ = small.load_logic_gate.__doc__
    return load


_GENERATED = "generated, default "
DATASETS = {d.name: d for d in [
    Dataset("mnist", "classification", "70,000 x 28x28", "handwritten digits 0-9 (IDX files "
            "from a folder, downloaded if missing)", mnist.load_mnist),
    Dataset("fashion-mnist", "classification", "70,000 x 28x28", "Zalando's clothing images, "
            "10 classes (IDX files from a folder, offline)", mnist.load_fashion_mnist),
    Dataset("iris", "classification", "150 x 4", "Fisher's iris flowers, 3 species (shipped)",
            small.load_iris),
    Dataset("animals", "classification", "8 x 3", "the lectures' animals table: size, fur, "
            "talks -> cat/dog/parrot/carp (shipped CSV)", tabular.load_animals),
    *[Dataset(f"logic-{g}", "classification", "4 x 2", f"truth table of {g.upper()} (0/1 or "
              f"bipolar -1/+1)", _gate(g)) for g in ("and", "or", "xor", "nand", "nor", "xnor")],
    Dataset("circle", "classification", _GENERATED + "500 x 2", "playground: disc inside a "
            "ring, radius 5, label noise", generators.make_circle),
    Dataset("xor", "classification", _GENERATED + "500 x 2", "playground: exclusive or of the "
            "quadrants, label noise", generators.make_xor),
    Dataset("gauss", "classification", _GENERATED + "500 x 2", "playground: two Gaussian "
            "clouds at (2, 2) and (-2, -2)", generators.make_gauss),
    Dataset("spiral", "classification", _GENERATED + "500 x 2", "playground: two interleaved "
            "spiral arms", generators.make_spiral),
    Dataset("reg-plane", "regression", _GENERATED + "500 x 2", "playground: target (x1 + x2) "
            "/ 10 on [-6, 6]^2", generators.make_reg_plane),
    Dataset("reg-gauss", "regression", _GENERATED + "500 x 2", "playground: six signed "
            "Gaussian-like bumps", generators.make_reg_gauss),
    Dataset("moons", "classification", _GENERATED + "100 x 2", "two interleaving half circles "
            "(sklearn's make_moons)", generators.make_moons),
    Dataset("circles", "classification", _GENERATED + "100 x 2", "two concentric circles, "
            "inner radius `factor` (sklearn's make_circles)", generators.make_circles),
    Dataset("blobs", "classification", _GENERATED + "100 x 2", "Gaussian clusters, 3 by "
            "default (sklearn's make_blobs)", generators.make_blobs),
]}


def list_datasets() -> list[dict]:
    """One row per data set: ``{"name", "kind", "size", "description"}``, in display order."""
    return [{"name": d.name, "kind": d.kind, "size": d.size, "description": d.description}
            for d in DATASETS.values()]


def get(name: str) -> Dataset:
    """The registry entry for ``name``; unknown names list the known ones."""
    key = name.lower().replace("_", "-") if isinstance(name, str) else name
    if key not in DATASETS:
        close = difflib.get_close_matches(str(key), DATASETS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"Unknown data set {name!r}. Available: {', '.join(DATASETS)}.{hint}")
    return DATASETS[key]


def load(name: str, **kwargs):
    """Load a data set by name; ``kwargs`` go to its loader (``n_samples``, ``noise``,
    ``seed`` for the generators, ``path`` for the MNIST sets...)."""
    entry = get(name)
    try:
        return entry.loader(**kwargs)
    except TypeError as exc:
        if "unexpected keyword" not in str(exc):
            raise
        import inspect

        params = ", ".join(inspect.signature(entry.loader).parameters)
        raise TypeError(f"load({name!r}): {exc}; its loader takes: {params}.") from None
