"""The compiled step's large dense products in blocks (``gemm_blocks`` in ``_ckernels.c``).

A product of at least PARALLEL_FMAS multiply-adds (here 128 x 300 x 384 and 128 x 384 x 384)
runs as blocks of DENSE_BLOCK columns (rows for dE/dW), one single-threaded BLAS call each,
on the step's threads. The blocks follow the shape alone: one and three threads give the same
bits, and against the layer step's single calls only the rounding differs.
"""
import os
import sys

import numpy as np
import pytest

import mlplab
from mlplab import fast
from mlplab.fast.step import CompiledStep, LayerStep
from mlplab.layers import Dense, Input

pytestmark = pytest.mark.skipif(
    fast.kernels.load() is None and not os.environ.get("CI"),
    reason="the compiled kernels are off or not built (no C compiler)")

OPTIMIZERS = {"sgd": lambda: mlplab.SGD(0.05),  # folded: W <- W - lr Y^T delta in row blocks
              "rmsprop": lambda: mlplab.optimizers.RMSprop(1e-3),
              "adam": lambda: mlplab.optimizers.Adam(1e-3)}


def _data(dtype):
    rng = np.random.default_rng(4)
    return rng.normal(size=(384, 300)).astype(dtype), rng.integers(0, 10, 384)  # dense: no skip


def _fit(dtype, opt, threads=None, compiled=True, monkeypatch=None):
    if not compiled:
        monkeypatch.setattr(CompiledStep, "for_model", classmethod(lambda cls, m, n: None))
    mlplab.set_num_threads(threads)
    try:
        model = mlplab.Sequential([Input((300,)), Dense(384, activation="relu"),
                                   Dense(384, activation="tanh"),
                                   Dense(10, activation="softmax")], seed=0, dtype=dtype)
        model.compile(OPTIMIZERS[opt](), "sparse_categorical_crossentropy")
        x, y = _data(dtype)
        hist = model.fit(x, y, batch_size=128, epochs=2, verbose=0, shuffle=True)
        step = model._steps[128]
        assert isinstance(step, CompiledStep if compiled else LayerStep)
        assert not compiled or step.zero_skipping_steps == 0
        return model.get_weights(), hist.history["loss"]
    finally:
        mlplab.set_num_threads(None)


def _helpers_cpu_ns():
    """CPU time so far of this process's mlplab-worker threads (Linux /proc)."""
    total = 0
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as f:
            if f.read().strip() != "mlplab-worker":
                continue
        with open(f"/proc/self/task/{task}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_blocked_products_give_the_same_bits_on_any_thread_count(dtype, opt):
    one = _fit(dtype, opt, threads=1)
    before = _helpers_cpu_ns() if sys.platform == "linux" else None
    three = _fit(dtype, opt, threads=3)  # more threads than this machine's cores
    if before is not None:
        assert _helpers_cpu_ns() > before  # the helpers took blocks
    for a, b in zip(one[0], three[0]):
        np.testing.assert_array_equal(a, b)
    assert one[1] == three[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_blocked_products_follow_the_layer_step_to_rounding(dtype, opt, monkeypatch):
    blocked = _fit(dtype, opt, threads=2)
    single = _fit(dtype, opt, compiled=False, monkeypatch=monkeypatch)
    tol = 2e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(blocked[0], single[0]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_allclose(blocked[1], single[1], rtol=tol)
