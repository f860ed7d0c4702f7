"""The lecture companions: one notebook per set of lecture notes, shipped with mlplab.

Each notebook is kept as a jupytext "percent" script (``notebooks/lecture_*.py``: plain
Python, ``# %%`` starts a cell, ``# %% [markdown]`` a text cell), which diffs as code and runs
as a script; :func:`notebook` converts it to a Jupyter notebook.

    mlplab tutorial                       # list them
    mlplab tutorial lecture_004           # write lecture_004_....ipynb into the working folder

Set ``MLPLAB_TUTORIAL_FAST=1`` to run the MNIST parts on a documented subset (the tests do).
Converting and executing need the ``tutorials`` extra (jupytext, nbclient, ipykernel).
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

FAST_ENV = "MLPLAB_TUTORIAL_FAST"


def _folder():
    return resources.files("mlplab.tutorials").joinpath("notebooks")


def names() -> list[str]:
    """The tutorials' names, in lecture order (``lecture_000_...`` to ``lecture_004_...``)."""
    return sorted(p.name[:-3] for p in _folder().iterdir()
                  if p.name.startswith("lecture_") and p.name.endswith(".py"))


def resolve(name: str) -> str:
    """The full name for ``name``, which may be a unique prefix such as ``lecture_004`` or ``4``."""
    all_names = names()
    if name in all_names:
        return name
    if name.isdigit():
        name = f"lecture_{int(name):03d}"
    matches = [n for n in all_names if n.startswith(name)]
    if len(matches) != 1:
        found = "matches " + ", ".join(matches) if matches else "matches none"
        raise ValueError(f"tutorial name {name!r} {found}; expected one of: "
                         f"{', '.join(all_names)} (or a unique prefix such as 'lecture_004').")
    return matches[0]


def source(name: str) -> str:
    """The percent script of tutorial ``name``."""
    return _folder().joinpath(resolve(name) + ".py").read_text(encoding="utf-8")


def title(name: str) -> str:
    """The notebook's first heading."""
    for line in source(name).splitlines():
        if line.startswith("# # "):
            return line[4:].strip()
    return resolve(name)


def notebook(name: str):
    """Tutorial ``name`` as an nbformat notebook (python3 kernel), without outputs."""
    import jupytext

    nb = jupytext.reads(source(name), fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb


def copy(name: str, dest=".", overwrite: bool = False) -> Path:
    """Write tutorial ``name`` as ``<dest>/<full name>.ipynb`` and return the path.

    An existing file is kept (``FileExistsError``) unless ``overwrite`` is true, so a
    student's edited copy is never replaced by accident.
    """
    import nbformat

    full = resolve(name)
    dest = Path(dest)
    if not dest.is_dir():
        raise ValueError(f"destination {str(dest)!r} is not a folder; create it or pass an "
                         f"existing folder.")
    path = dest / f"{full}.ipynb"
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; remove it or pass --force to replace it.")
    nbformat.write(notebook(full), path)
    return path


def execute(nb, timeout: int = 600, fast: bool | None = None, cwd=None):
    """Run every cell of notebook ``nb`` in a python3 kernel (nbclient); return ``nb``.

    A cell that raises stops the run with ``nbclient.exceptions.CellExecutionError``.
    ``fast=True`` sets ``MLPLAB_TUTORIAL_FAST=1`` in the kernel (MNIST on a subset).
    """
    from nbclient import NotebookClient

    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[2])     # the kernel imports this very mlplab
    env["PYTHONPATH"] = os.pathsep.join([here] + [p for p in [env.get("PYTHONPATH")] if p])
    if fast is not None:
        env[FAST_ENV] = "1" if fast else "0"
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or os.getcwd())}})
    client.execute(env=env)         # the kernel's environment (jupyter_client start_kernel)
    return nb


def main(name: str | None = None, dest=".", force: bool = False, out=None) -> int:
    """``mlplab tutorial [NAME]``: list the tutorials, or copy one into ``dest``."""
    import sys

    out = out or sys.stdout
    if name is None:
        for n in names():
            print(f"{n:<48} {title(n)}", file=out)
        print("\nmlplab tutorial NAME copies one into the working folder as NAME.ipynb "
              "(a prefix such as lecture_004 is enough).", file=out)
        return 0
    path = copy(name, dest, overwrite=force)
    print(f"wrote {path}; open it with `jupyter lab {path.name}` (or run it as a script: "
          f"the .py source is in mlplab/tutorials/notebooks/)", file=out)
    return 0
