"""fit's shuffled batches are gathered by the compiled step itself (``CompiledStep.gathers``).

The trainer hands the step the batch buffer, the data and the batch's rows; the step's scan of
the input's nonzeros reads each row once and writes it into the buffer (a step without the
scan copies the rows first). It must train exactly as the step fed with NumPy's gathered
batches (``take``), leave the buffer holding the batch (``layers[0].Y_prev``, for inspection),
and refuse rows outside the data.
"""
import os

import numpy as np
import pytest

import mlplab
from mlplab import fast
from mlplab.fast.step import CompiledStep
from mlplab.layers import Dense, Input

pytestmark = pytest.mark.skipif(
    fast.kernels.load() is None and not os.environ.get("CI"),
    reason="the compiled kernels are off or not built (no C compiler)")


def _data(n, k, density, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, k)) * (rng.random((n, k)) < density)
    return x.astype(dtype), rng.integers(0, 4, n)


def _fit(x, y, batch, dtype, gathers, monkeypatch, epochs=2):
    monkeypatch.setattr(CompiledStep, "gathers", gathers)
    model = mlplab.Sequential([Input((x.shape[1],)), Dense(48, activation="tanh"),
                               Dense(4, activation="softmax")], seed=0, dtype=dtype)
    model.compile(mlplab.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy")
    hist = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=True)
    assert isinstance(model._steps[batch], CompiledStep)
    return model, hist.history["loss"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch, density", [(64, 0.15),   # the scan gathers (zero-skipping)
                                            (64, 0.9),    # too dense: the scan gathers, gemm
                                            (1, 0.15)])   # one sample: no scan, a copy
def test_the_step_gathers_the_batches_numpy_would(dtype, batch, density, monkeypatch):
    x, y = _data(200 if batch > 1 else 40, 70, density, dtype)
    own, own_loss = _fit(x, y, batch, dtype, True, monkeypatch)
    ref, ref_loss = _fit(x, y, batch, dtype, False, monkeypatch)
    for a, b in zip(own.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert own_loss == ref_loss
    assert (own._steps[batch].zero_skipping_steps > 0) == (batch > 1 and density < 0.5)
    last = own._fit_order[-(len(x) % batch or batch):]  # the last batch's rows, as drawn
    np.testing.assert_array_equal(own.layers[0].Y_prev, x[last])


def test_rows_outside_the_data_are_refused_and_nothing_is_trained(monkeypatch):
    x, y = _data(64, 70, 0.15, np.float32)
    model, _ = _fit(x, y, 64, np.float32, True, monkeypatch, epochs=1)
    step, before = model._steps[64], model.get_weights()
    buffer = np.empty_like(x)
    for rows in (np.arange(64) + 1, np.arange(64) - 1):  # 64 and -1 are outside
        with pytest.raises(IndexError):
            step(buffer, y, x, rows)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
