"""The compiled step's first layer skips the input's exact zeros (``table.MAX_INPUT_DENSITY``).

The kernel's sums have one documented order (``_ckernels.c``, before ``NONZERO_IMPL``):
Xi[r, j] adds X[r, i] W[i, j] over i ascending where X[r, i] != 0, and dE/dW[i, j] adds
X[r, i] delta[r, j] over r ascending, each from +0. The tests rebuild both sums with NumPy's
float operations one product at a time and compare bit for bit, over column counts that take
whole tiles, a partial tile and the last columns one by one, and batches of one and several
blocks of rows; then against BLAS's dense products (the layer step) to rounding.
"""
import copy
import os
import sys

import numpy as np
import pytest

import mlplab
from mlplab import fast
from mlplab.fast import table
from mlplab.fast.step import CompiledStep, LayerStep
from mlplab.layers import Dense, Input

pytestmark = pytest.mark.skipif(
    fast.kernels.load() is None and not os.environ.get("CI"),
    reason="the compiled kernels are off or not built (no C compiler)")


def products_skipping_zeros(X, W):
    """X W with the kernel's order of sums (see the module's doc)."""
    xi = np.zeros((len(X), W.shape[1]), W.dtype)
    for r in range(len(X)):
        acc = np.zeros(W.shape[1], W.dtype)
        for i in np.flatnonzero(X[r]):
            acc = acc + X[r, i] * W[i]
        xi[r] = acc
    return xi


def transposed_products_skipping_zeros(X, delta):
    """X^T delta with the kernel's order of sums."""
    g = np.zeros((X.shape[1], delta.shape[1]), delta.dtype)
    for i in range(X.shape[1]):
        acc = np.zeros(delta.shape[1], delta.dtype)
        for r in np.flatnonzero(X[:, i]):
            acc = acc + X[r, i] * delta[r]
        g[i] = acc
    return g


def _sparse(n, k, dtype, density=0.15, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, k)) * (rng.random((n, k)) < density)
    return x.astype(dtype), rng.integers(0, 3, n)


def _model(k, units, dtype, optimizer):
    model = mlplab.Sequential([Input((k,)), Dense(units, activation="sigmoid"),
                               Dense(3, activation="softmax")], seed=0, dtype=dtype)
    model.compile(optimizer, "sparse_categorical_crossentropy")
    return model


def _optimizer(name):
    return {"sgd": lambda: mlplab.SGD(0.1), "momentum": lambda: mlplab.SGD(0.05, momentum=0.9),
            "nesterov": lambda: mlplab.SGD(0.05, momentum=0.9, nesterov=True),
            "adam": lambda: mlplab.optimizers.Adam(1e-3)}[name]()


def _one_step(model, x, y):
    layer = model.layers[0]
    W, b = layer.W.copy(), layer.b.copy()
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    step = model._steps[len(x)]
    assert isinstance(step, CompiledStep) and step.zero_skipping_steps == 1
    return layer, W, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("units", [128, 85, 7])  # whole tiles; a partial one and 5 more; none
@pytest.mark.parametrize("n", [2, 70, 200])      # one block of rows; two (64 + 6); four
def test_forward_and_gradient_sum_in_the_documented_order(dtype, units, n):
    x, y = _sparse(n, 30, dtype)
    model = _model(30, units, dtype, mlplab.optimizers.Adam(1e-3))  # forms dE/dW
    layer, W, b = _one_step(model, x, y)
    np.testing.assert_array_equal(layer.xi, products_skipping_zeros(x, W) + b)
    np.testing.assert_array_equal(layer.dW, transposed_products_skipping_zeros(x, layer.delta))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("units", [128, 85])     # whole tiles; a partial one and 5 more
@pytest.mark.parametrize("opt", ["momentum", "nesterov", "adam", "rmsprop"])
def test_the_steps_update_is_the_optimizers_own(dtype, units, opt):
    """An optimizer with slots updates the weights inside the step (the first layer's W in
    chunks of rows after its zero-skipping dE/dW): they are the optimizer's NumPy update of
    the step's own gradients, bit for bit."""
    x, y = _sparse(70, 30, dtype)
    optimizer = {"rmsprop": lambda: mlplab.optimizers.RMSprop(1e-3)}.get(opt, lambda: None)()
    model = _model(30, units, dtype, optimizer or _optimizer(opt))
    twin = copy.deepcopy(model)
    _one_step(model, x, y)
    twin.optimizer.apply(twin.trainable_params, [g.copy() for g in model.trainable_grads])
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore:The inputs are not scaled")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_folded_sgd_steps_only_the_rows_of_nonzero_inputs(dtype):
    x, y = _sparse(40, 300, dtype, density=0.05)  # W: 300 x 128 entries, so SGD folds
    x[:, :10] = 0                                  # ten inputs zero in the whole batch
    model = _model(300, 128, dtype, mlplab.SGD(0.1))
    layer, W, b = _one_step(model, x, y)
    assert table.folds_update(40, layer.W)
    lr = dtype(model.optimizer.learning_rate)
    expected = W - lr * transposed_products_skipping_zeros(x, layer.delta)
    unused = ~x.any(axis=0)
    expected[unused] = W[unused]                   # not W - lr * 0: untouched, bit for bit
    np.testing.assert_array_equal(layer.W, expected)
    np.testing.assert_array_equal(layer.W[:10], W[:10])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_training_on_sparse_inputs_follows_the_dense_products(dtype, opt, monkeypatch):
    """Three epochs of MNIST-like inputs: the compiled step (skipping zeros) against the
    layer step (BLAS's dense products): the same to rounding."""
    x, y = _sparse(256, 200, dtype, density=0.2, seed=3)
    runs = []
    for compiled in (True, False):
        if not compiled:
            monkeypatch.setattr(CompiledStep, "for_model", classmethod(lambda cls, m, n: None))
        model = _model(200, 64, dtype, _optimizer(opt))
        hist = model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
        step = model._steps[32]
        assert isinstance(step, CompiledStep if compiled else LayerStep)
        if compiled:
            assert step.zero_skipping_steps == 3 * 8
        runs.append((model.get_weights(), hist.history["loss"]))
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=tol)


def test_a_dense_batch_takes_the_dense_products():
    rng = np.random.default_rng(0)
    x = rng.random((32, 30)).astype(np.float32)
    x[:, : int(30 * (1 - table.MAX_INPUT_DENSITY)) - 2] = 0   # just over the limit
    assert np.count_nonzero(x) > table.MAX_INPUT_DENSITY * x.size
    model = _model(30, 16, np.float32, mlplab.SGD(0.1))
    model.fit(x, rng.integers(0, 3, 32), batch_size=32, epochs=1, verbose=0)
    assert model._steps[32].zero_skipping_steps == 0


def test_an_all_zero_batch_leaves_xi_the_bias_and_the_gradient_zero():
    x = np.zeros((16, 30), np.float32)
    model = _model(30, 20, np.float32, mlplab.optimizers.Adam(1e-3))
    layer, W, b = _one_step(model, x, np.zeros(16, np.int64))
    np.testing.assert_array_equal(layer.xi, np.broadcast_to(b, (16, 20)))
    assert not layer.dW.any()


def test_a_nan_input_is_not_skipped():
    """NaN != 0: it enters the sums as the dense product takes it (fit refuses NaN first;
    the step itself is called here)."""
    x, y = _sparse(8, 30, np.float32)
    model = _model(30, 16, np.float32, mlplab.optimizers.Adam(1e-3))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    step = model._steps[8]
    x[3, 5] = np.nan
    step(x, y.astype(np.int64))
    assert step.zero_skipping_steps == 2
    xi = model.layers[0].xi
    assert np.isnan(xi[3]).all() and np.isfinite(np.delete(xi, 3, axis=0)).all()


def _threads_run(n_threads, dtype, opt, x, y, batch=256):
    mlplab.set_num_threads(n_threads)
    try:
        model = _model(x.shape[1], 256, dtype, _optimizer(opt))
        hist = model.fit(x, y, batch_size=batch, epochs=2, verbose=0, shuffle=True)
        assert model._steps[batch].zero_skipping_steps == 2 * len(x) // batch
        return model.get_weights(), hist.history["loss"]
    finally:
        mlplab.set_num_threads(None)


def _workers():
    """The names of this process's threads that are mlplab's helpers (Linux)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as f:
            names.append(f.read().strip())
    return names.count("mlplab-worker")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", ["sgd", "nesterov", "adam"])
def test_the_products_and_update_on_several_threads_give_the_same_bits(dtype, opt):
    """Above PARALLEL_FMAS multiply-adds (here 256 rows x ~80 nonzeros x 256 units) the first
    layer's products and update run in chunks on the step's threads; every entry is still
    one chunk's, summed in the documented order, so any thread count gives the same bits."""
    x, y = _sparse(768, 400, dtype, density=0.2, seed=5)
    one = _threads_run(1, dtype, opt, x, y)
    three = _threads_run(3, dtype, opt, x, y)  # more threads than this machine's cores
    if sys.platform == "linux":
        assert _workers() >= 2
    for a, b in zip(one[0], three[0]):
        np.testing.assert_array_equal(a, b)
    assert one[1] == three[1]


@pytest.mark.parametrize("opt", ["nesterov", "adam"])
def test_a_small_batch_with_a_large_unfolded_update_gives_the_same_bits_on_threads(opt):
    """Batch 32 stays below PARALLEL_FMAS, but an optimizer with slots on a W of 1 MiB or more
    (520 x 256 float64) takes the threads for the products and the update."""
    x, y = _sparse(96, 520, np.float64, density=0.2, seed=8)
    one = _threads_run(1, np.float64, opt, x, y, batch=32)
    two = _threads_run(2, np.float64, opt, x, y, batch=32)
    for a, b in zip(one[0], two[0]):
        np.testing.assert_array_equal(a, b)
    assert one[1] == two[1]


def test_several_threads_sum_in_the_documented_order():
    x, y = _sparse(256, 400, np.float64, density=0.2, seed=6)
    mlplab.set_num_threads(2)
    try:
        model = _model(400, 256, np.float64, mlplab.optimizers.Adam(1e-3))
        layer, W, b = _one_step(model, x, y)
    finally:
        mlplab.set_num_threads(None)
    np.testing.assert_array_equal(layer.xi, products_skipping_zeros(x, W) + b)
    np.testing.assert_array_equal(layer.dW, transposed_products_skipping_zeros(x, layer.delta))


def _child(conn, x, y):
    conn.send(_threads_run(2, np.float32, "nesterov", x, y))
    conn.close()


@pytest.mark.skipif(sys.platform != "linux", reason="fork() is Linux's default start here")
def test_a_forked_process_trains_on_threads_after_its_parent_did():
    """The helpers do not survive fork(): the child starts its own and gets the same bits."""
    import multiprocessing

    x, y = _sparse(512, 400, np.float32, density=0.2, seed=7)
    parent = _threads_run(2, np.float32, "nesterov", x, y)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, x, y))
    proc.start()
    assert receive.poll(120), "the forked child did not finish its training (a deadlock?)"
    child = receive.recv()
    proc.join(30)
    assert proc.exitcode == 0
    for a, b in zip(parent[0], child[0]):
        np.testing.assert_array_equal(a, b)


def test_two_models_training_at_once_in_python_threads_get_their_own_bits():
    """The step releases the GIL: two fits in two Python threads reach run_chunks together,
    and the one that finds the helpers busy runs its chunks alone. Each gets the bits it gets
    by itself."""
    import threading

    x, y = _sparse(512, 400, np.float32, density=0.2, seed=9)
    alone = [_threads_run(2, np.float32, opt, x, y) for opt in ("sgd", "adam")]
    mlplab.set_num_threads(2)
    try:
        results = {}

        def train(opt):
            model = _model(400, 256, np.float32, _optimizer(opt))
            hist = model.fit(x, y, batch_size=256, epochs=2, verbose=0, shuffle=True)
            results[opt] = (model.get_weights(), hist.history["loss"])

        workers = [threading.Thread(target=train, args=(opt,)) for opt in ("sgd", "adam")]
        for t in workers:
            t.start()
        for t in workers:
            t.join(120)
    finally:
        mlplab.set_num_threads(None)
    for opt, (weights, losses) in zip(("sgd", "adam"), alone):
        for a, b in zip(weights, results[opt][0]):
            np.testing.assert_array_equal(a, b)
        assert losses == results[opt][1]
