"""How many BLAS threads mlplab's products run on: one, unless a second thread clearly pays.

OpenBLAS's second thread gains little on the products of a training step (about 6% on an R1
epoch, 784-256-10 at batch 32, on an idle 2-core machine) and loses a lot under load: each
product waits for the second thread to get a core, and its waiting threads spin. With one
other CPU-bound process on two cores, the R1 epoch went from 0.62 s to 1.2-2.0 s on two
threads and stayed at 0.68 s on one. So the fast path chooses the threads per product size:

- ``set_num_threads(n)`` (or ``mlplab train --threads N``): exactly n threads for every product
  of mlplab's training steps and predict's fast forward pass; ``set_num_threads(None)``
  restores the automatic choice;
- automatic (the default): 1 thread for a product below ``THRESHOLD_FLOPS``; at or above it,
  the count NumPy's OpenBLAS has when mlplab's call starts, that is ``OPENBLAS_NUM_THREADS``
  (else ``OMP_NUM_THREADS``, else one per core) or whatever threadpoolctl set: mlplab never
  uses more threads than the user's setting allows.

The compiled step's zero-skipping first layer (X W and X^T delta over the input's nonzeros,
mlplab's own loops, not BLAS's) and its optimizer update take ``workers()`` threads: the same
count (``set_num_threads``, else the BLAS setting), used from ``PARALLEL_FMAS`` multiply-adds
in ``_ckernels.c`` (784-256 at batch 256, 784-512 at batch 128) or, for an optimizer with slots,
from a W of ``PARALLEL_UPDATE`` bytes (784-256 float64 at batch 32); below them it lost.
Their chunks go to whichever thread is free, so a helper without a core costs one chunk, not a
time slice. Sweep workers, which run on one BLAS thread, get one.

The count is OpenBLAS's process-wide setting (``openblas_set_num_threads``, a cheap call); it is
set when mlplab's step starts and put back when it returns, so NumPy's own operations between
the steps run with the user's setting. The count is process-wide: models trained at the same
time in several Python threads may run a step on each other's count (the products are right
on any count; their last bits may differ). Without NumPy's bundled OpenBLAS (an MKL or
Accelerate build of NumPy) nothing is changed.
"""
from __future__ import annotations

import contextlib
import ctypes
import numbers
import os

from ..exceptions import ArgumentError, ArgumentTypeError
from . import blas

#: A product of at least this many floating-point operations (2 M N K) may use more than one
#: thread. Measured (benchmarks/thread_threshold.py, float32 on 2 cores): the second thread
#: gains 0.9-1.3x below 2e7 flops (batch 32 at widths up to 512, the R1 products), 1.5-2x at
#: 3e7-1e8 on an idle machine, and any product of a few milliseconds or less can lose a
#: scheduler time slice (4-16 ms) under load. 2**28 (2.7e8 flops, about 4 ms on one core)
#: keeps the threads for products where a lost slice costs at most about one product.
THRESHOLD_FLOPS = 1 << 28

_state: dict = {"n": None}  # set_num_threads' count, None: automatic
_found: dict = {}


def _functions():
    """(get, set) of NumPy's OpenBLAS thread count, or None."""
    if "threads" not in _found:
        found = None
        try:
            lib = blas._openblas()
        except OSError:
            lib = None
        for suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            get = lib and getattr(lib, f"{suffix[0]}_get_num_threads{suffix[1]}", None)
            put = lib and getattr(lib, f"{suffix[0]}_set_num_threads{suffix[1]}", None)
            if get and put:
                get.restype, get.argtypes = ctypes.c_int, []
                put.restype, put.argtypes = None, [ctypes.c_int]
                found = (get, put)
                break
        _found["threads"] = found
    return _found["threads"]


def available() -> bool:
    """True when mlplab can set the thread count of NumPy's OpenBLAS."""
    return _functions() is not None


def blas_threads() -> int | None:
    """The thread count NumPy's OpenBLAS has now, or None where it is not found."""
    fns = _functions()
    return None if fns is None else fns[0]()


def set_num_threads(n: int | None) -> None:
    """Run mlplab's products on exactly ``n`` BLAS threads; ``None`` restores the automatic
    choice (one thread below ``THRESHOLD_FLOPS``, the BLAS setting above). Like
    ``torch.set_num_threads``, for users who know their machine; it does not change the count
    NumPy's own operations use."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral)):
        raise ArgumentTypeError(f"set_num_threads(): n must be an int >= 1 or None, got "
                                f"{type(n).__name__} {n!r}; pass e.g. 1, or None for the "
                                f"automatic choice.")
    if n is not None and n < 1:
        raise ArgumentError(f"set_num_threads(): n must be >= 1 or None, got {n}; pass e.g. 1, "
                            f"or None for the automatic choice.")
    _state["n"] = None if n is None else int(n)


def get_num_threads() -> int | None:
    """The count ``set_num_threads`` set, or None when mlplab chooses automatically."""
    return _state["n"]


def choose(flops: float, allowed: int) -> int:
    """The threads for a product of ``flops`` when the BLAS setting is ``allowed`` threads:
    ``set_num_threads``' count if set, else 1 below ``THRESHOLD_FLOPS`` and ``allowed``
    at or above it."""
    if _state["n"] is not None:
        return _state["n"]
    return allowed if flops >= THRESHOLD_FLOPS else 1


def workers() -> int:
    """The threads the compiled step's zero-skipping first layer may take (its own chunks, not
    BLAS's: ``run_chunks`` in ``_ckernels.c``, which uses them from a size on):
    ``set_num_threads``' count if set, else the count the BLAS setting allows (one per core
    where NumPy's OpenBLAS is not found)."""
    if _state["n"] is not None:
        return _state["n"]
    found = blas_threads()
    if found is not None:
        return found
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1


def dense_flops(layers, n: int) -> int:
    """The largest product of a step on n samples through ``layers``: 2 n k u for a layer with
    a (k, u) weight matrix W (Y W, Y^T delta and delta W^T all have that size)."""
    sizes = [getattr(layer, "W", None) for layer in layers]
    return max([2 * n * W.size for W in sizes if W is not None and W.ndim == 2], default=0)


def enter(flops: float) -> int:
    """Set OpenBLAS's count for a product (or a step whose largest product has) ``flops``;
    returns the count to put back with ``leave`` (0: nothing was changed)."""
    fns = _functions()
    if fns is None:
        return 0
    allowed = fns[0]()
    wanted = choose(flops, allowed)
    if wanted == allowed:
        return 0
    fns[1](wanted)
    return allowed


def leave(previous: int) -> None:
    """Put back the count ``enter`` returned."""
    if previous:
        _functions()[1](previous)


@contextlib.contextmanager
def chosen(flops: float):
    """OpenBLAS's count for a product (or a pass whose largest product has) ``flops`` inside
    the block, the user's setting after it (``enter`` and ``leave``)."""
    previous = enter(flops)
    try:
        yield
    finally:
        leave(previous)


def for_pass(model, n: int):
    """``chosen`` for a pass of n samples through ``model``'s layers: the trainer's own forward
    passes (its first loss, evaluation) take the threads its steps take. Besides the
    product's own time this keeps OpenBLAS's threads from spinning on after a small product
    (for about 0.1 s, ``OPENBLAS_THREAD_TIMEOUT``), which took the core the step's helper
    threads (``run_chunks``) then ran on: fit's batch-256 epochs were 6-22% slower."""
    return chosen(dense_flops(model.layers, n))
