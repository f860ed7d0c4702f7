"""The fast path: the one part of mlplab that knows about speed.

The teaching modules (``activations``, ``losses``, ``optimizers``, ``layers``, the trainer)
compute the lectures' formulas with NumPy and never import this package. ``mlplab/__init__.py``
installs it as the trainer's accelerator (``training.set_accelerator``), which asks it

- ``plan(model, n)``: a replacement of the reference training step for batches of n samples
  (``step.CompiledStep`` or ``step.LayerStep``), with its optimizer update, or None;
- ``forward(model, x, checked)``: predict's forward pass, or None;
- ``threads_for(model, n)``: a context in which the trainer's own forward passes on n samples
  (its first loss, evaluation) run their products on the threads its steps would;
- ``all_finite(arr)``: the data checks' finiteness test in one pass (``_validation``).

What it uses: compiled C kernels (``_ckernels.c``: the optimizer updates, the activations and
their deltas, the softmax rows, the whole step of a stack of dense layers) and the BLAS
NumPy ships (``blas``), on the threads ``threads`` chooses by product size. The table of what it computes, by exact class, is ``table``.
``mlplab/__init__.py`` also installs ``classic`` as the accelerator of the classic neurons
(``neurons._base.set_accelerator``): the perceptron, LMS and MRI epochs in one compiled loop
each (``_classic.c``).
``MLPLAB_PURE_NUMPY=1`` in the environment, or ``use(False)``, switches it off; without a C
compiler the kernels are not built and the BLAS fold alone remains.
"""
from __future__ import annotations

from . import blas, classic, elementwise, kernels, optimizers, predict, step, table, threads
from .kernels import compiled_available, enabled, use
from .predict import forward
from .step import plan
from .threads import for_pass as threads_for

__all__ = ["use", "enabled", "backend", "compiled_available", "plan", "forward", "threads_for",
           "all_finite", "blas",
           "classic", "elementwise", "kernels", "optimizers", "predict", "step", "table", "threads"]


def all_finite(arr):
    """``np.isfinite(arr).all()`` in one compiled pass on the step's threads (``workers()``),
    or None where NumPy must check: the data check of ``_validation``, which installs it."""
    return kernels.all_finite(arr, threads.workers())


def backend() -> str:
    """What the training step uses: e.g. ``"C kernels + OpenBLAS gemm"`` or ``"numpy"``."""
    parts = (["C kernels"] if compiled_available() else []) + \
        (["OpenBLAS gemm"] if blas.gemm_available() else [])
    return " + ".join(parts) or "numpy"
