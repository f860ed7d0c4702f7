import os
from pathlib import Path

# scikit-learn's estimator checks run check_array_api_input only when SciPy's array API mode is
# on, which SciPy reads once, at its import (tests/test_sklearn.py runs every check).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST_DIR = Path(os.environ.get("MLPLAB_DATA") or ROOT.parent / "shared" / "data" / "mnist")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def mnist_dir():
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists() and \
            not (MNIST_DIR / "train-images-idx3-ubyte").exists():
        pytest.fail(f"MNIST files not found in {MNIST_DIR}; set MLPLAB_DATA to their folder.")
    return MNIST_DIR


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory, mnist_dir):
    """Run each lecture notebook once per session in fast mode (MNIST on the documented
    subset): a function name -> executed notebook, written also as <dir>/<name>.ipynb for the
    docs build (``executed_notebooks.folder``)."""
    pytest.importorskip("nbclient")          # the dev extra installs it; CI never skips
    import nbformat

    from mlplab import tutorials

    folder = tmp_path_factory.mktemp("executed_notebooks")
    cache = {}

    def get(name):
        if name not in cache:
            nb = tutorials.execute(tutorials.notebook(name), fast=True, cwd=folder)
            nbformat.write(nb, folder / f"{name}.ipynb")
            cache[name] = nb
        return cache[name]

    def all_of_them():
        for name in tutorials.names():
            get(name)
        return folder

    get.folder = all_of_them
    return get
