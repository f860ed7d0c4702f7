"""predict's and evaluate's memory is bounded by the batch, not by the input.

NumPy reports its allocations to tracemalloc, so the peak traced while the call runs, less
what the outputs themselves take, is the temporary memory the call needed. Before, a batched
predict on float32 input made a boolean array of the input's size (the finiteness check,
a quarter of the input), a float64 input a float32 copy of it all, and predict without a
batch size ran all rows through the network at once.
"""
import tracemalloc

import numpy as np
import pytest

import mlplab
from mlplab import fast
from mlplab.layers import Dense, Dropout, Input

N = 100_000  # x is 100,000 x 784 float32 (314 MB): its tenth is the allowance below


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).random((N, 784), dtype=np.float32)


@pytest.fixture(params=["fast", "numpy"])
def model(request):
    old = fast.use(request.param == "fast")
    net = mlplab.Sequential([Input((784,)), Dense(64, activation="relu"), Dropout(0.2),
                             Dense(10, activation="softmax")], seed=0)
    net.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    yield net
    fast.use(old)


def temporary_peak(call):
    """(result, the peak bytes traced during ``call()`` beyond what was held before it and
    beyond the result's own arrays)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    kept = sum(a.nbytes for a in (result if isinstance(result, list) else [result])
               if isinstance(a, np.ndarray))
    return result, peak - kept


@pytest.mark.parametrize("batch_size", [1024, None])
def test_predict_needs_under_a_tenth_of_the_input_beyond_its_output(model, x, batch_size):
    Y, extra = temporary_peak(lambda: model.predict(x, batch_size=batch_size))
    assert Y.shape == (N, 10) and extra < x.nbytes / 10, f"{extra / 2**20:.1f} MiB"
    # the same outputs as a prediction in pieces
    for start in (0, N // 2, N - 3):
        assert np.allclose(Y[start:start + 3], model.predict(x[start:start + 3]), rtol=1e-5,
                           atol=1e-7)


def test_predict_converts_float64_input_by_batch(model, x):
    x64 = x[:N // 2].astype(np.float64)
    Y, extra = temporary_peak(lambda: model.predict(x64, batch_size=1024))
    assert extra < x64.nbytes / 10, f"{extra / 2**20:.1f} MiB"
    assert np.array_equal(Y, model.predict(x[:N // 2], batch_size=1024))


def test_evaluate_needs_under_a_tenth_of_the_input(model, x):
    y = (x[:, :10].argmax(axis=1)).astype(np.int64)
    logs, extra = temporary_peak(lambda: model.evaluate(x, y, batch_size=1024, verbose=0))
    assert extra < x.nbytes / 10, f"{extra / 2**20:.1f} MiB"
    assert logs[0] > 0 and 0 <= logs[1] <= 1


def test_a_non_finite_value_deep_in_a_large_input_is_still_found(model, x):
    kept = x[N - 1, 783]
    x[N - 1, 783] = np.nan  # (in place: a copy would take 314 MB more)
    try:
        with pytest.raises(ValueError, match=r"x contains NaN \(first at index \(99999, 783\)\)"):
            model.predict(x, batch_size=1024)
    finally:
        x[N - 1, 783] = kept
