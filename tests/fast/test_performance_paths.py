"""The fast paths of the training step compute the same thing as the plain formulas.

Covered: the work arrays Dense reuses (float32 stays float32, nothing upcast), the in-place
activations and deltas, the sparse cross-entropy without a one-hot matrix, the compiled
kernels of SGD and Adam (bit for bit equal to the NumPy code; Adam's also zeroes subnormal m),
plain SGD folded into the gradient's matrix product, predict's compiled forward pass and its
quick check, and the memory of fit (no copy of x per epoch).
No timings here: see benchmarks/mnist_speed.py and docs/performance.md.
"""
import os
import tracemalloc

import numpy as np
import pytest

import mlplab
from mlplab import activations, fast, losses, optimizers
from mlplab.fast import blas, elementwise, kernels, table
from mlplab.fast.step import work_arrays
from mlplab.layers import Dense, Input

FAST_ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear", "softmax"]
RELU, SIGMOID, TANH = (table.CODES.get(c) for c in (activations.ReLU, activations.Sigmoid,
                                                     activations.Tanh))


@pytest.fixture(params=[True, False], ids=["accelerated", "pure_numpy"])
def accel(request):
    """Run a test with the accelerators (compiled kernels, BLAS gemm) on, then pure NumPy."""
    old = fast.use(request.param)
    yield request.param
    fast.use(old)


# Where no C compiler built them, the kernels' tests skip; CI has one, so there they must run.
needs_compiled = pytest.mark.skipif(
    not fast.compiled_available() and not os.environ.get("CI"),
    reason="the compiled kernels are off or not built (no C compiler)")


def test_compiled_kernels_are_built_in_ci():
    if os.environ.get("CI") and os.environ.get("MLPLAB_PURE_NUMPY", "0") in ("", "0"):
        assert fast.compiled_available(), "CI has a C compiler: pip install must build them"


def _mlp(activation="sigmoid", dtype="float32", seed=0, n_in=20, hidden=64, n_out=5):
    return mlplab.Sequential([Input((n_in,)), Dense(hidden, activation=activation),
                              Dense(n_out, activation="softmax")], seed=seed, dtype=dtype)


def _data(n=100, n_in=20, n_out=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in), dtype=np.float32), rng.integers(0, n_out, n)


# -- activations: in-place forms vs the plain formulas --------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", FAST_ACTIVATIONS + ["elu", "swish"])
def test_forward_into_and_backward_into_equal_the_formulas(name, dtype, accel):
    act = activations.get(name)
    rng = np.random.default_rng(1)
    xi = (rng.normal(size=(7, 6)) * 5).astype(dtype)
    dY = rng.normal(size=(7, 6)).astype(dtype)
    Y = act(xi)
    Y_fast = elementwise.forward_into(act, xi, np.empty_like(xi))
    assert Y_fast.dtype == dtype
    np.testing.assert_allclose(Y_fast, Y, rtol=4 * np.finfo(dtype).eps, atol=1e-30)
    delta = act.backward(xi, Y, dY)
    before = dY.copy()
    delta_fast = elementwise.backward_into(act, xi, Y, dY, np.empty_like(xi))
    assert delta_fast.dtype == dtype
    np.testing.assert_array_equal(dY, before)  # dE/dY is not overwritten
    np.testing.assert_allclose(delta_fast, delta, rtol=8 * np.finfo(dtype).eps, atol=1e-30)


def test_sigmoid_is_accurate_and_quiet_at_extremes():
    # Stable reference: e^z / (1 + e^z) for z < 0, 1 / (1 + e^-z) otherwise (no overflow).
    z = np.concatenate([np.linspace(-700, 700, 2001), [-500.0, 500.0, -36.5, 36.5, 0.0]])
    ez = np.exp(-np.abs(z))
    ref = np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))
    s = activations.get("sigmoid")
    np.testing.assert_allclose(s(z), ref, rtol=1e-15, atol=0)  # float64, relative
    z32 = np.array([-500.0, -100.0, -20.0, 0.0, 20.0, 100.0, 500.0], dtype=np.float32)
    y32 = s(z32)  # pytest turns the overflow warning into an error: there must be none
    assert y32.dtype == np.float32 and np.isfinite(y32).all()
    assert y32[0] == 0.0 and y32[-1] == 1.0 and y32[3] == 0.5


@needs_compiled
@pytest.mark.parametrize("slope", [1.0, 2.5])
def test_compiled_float32_sigmoid_is_within_two_ulp_and_never_subnormal(slope):
    x = np.linspace(-120, 120, 200001).astype(np.float32)
    y = np.empty_like(x)
    assert kernels.activation_f32(table.CODES[activations.Sigmoid], x, y, slope)
    t = -(np.float32(slope) * x).astype(np.float64)
    ref = 1 / (1 + np.exp(t))                     # float64: exact to float32's precision
    normal = t <= 87                              # the sigmoid is above 1.6e-38 there
    assert np.max(np.abs(y - ref)[normal] / ref[normal]) <= 2 * np.finfo(np.float32).eps
    assert np.max(np.abs(y - ref)[~normal]) < 1.7e-38
    assert not np.any((y != 0) & (y < np.finfo(np.float32).tiny))   # no subnormal output
    plain = activations.get({"name": "sigmoid", "slope": slope})(x)   # the reference
    np.testing.assert_allclose(y[normal], plain[normal], rtol=4 * np.finfo(np.float32).eps)


@needs_compiled
@pytest.mark.parametrize("slope", [1.0, 2.5])
def test_compiled_float32_tanh_is_within_two_ulp_and_odd(slope):
    """Against float64's tanh, over small, middle and saturated inputs and both polynomial
    pieces (|z| <= 0.625 and above), with NaN, infinities and signed zeros."""
    mag = np.concatenate([np.geomspace(1e-38, 20, 400001), np.linspace(0.6, 0.65, 10001)])
    x = np.concatenate([mag, -mag]).astype(np.float32)
    y = np.empty_like(x)
    assert kernels.activation_f32(table.CODES[activations.Tanh], x, y, slope)
    ref = np.tanh((np.float32(slope) * x).astype(np.float64))
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(y - ref) / ulp) <= 2.0
    np.testing.assert_array_equal(y[:mag.size], -y[mag.size:])       # odd, exactly
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30], np.float32)
    out = np.empty_like(special)
    assert kernels.activation_f32(table.CODES[activations.Tanh], special, out, 1.0)
    np.testing.assert_array_equal(out, [0.0, -0.0, 1.0, -1.0, np.nan, 1.0, -1.0])
    assert list(np.signbit(out[:2])) == [False, True]
    plain = activations.get({"name": "tanh", "slope": slope})(x)      # the reference
    assert np.max(np.abs(y - plain) / ulp) <= 3.0                     # NumPy's own tanh


@needs_compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_relu_and_deltas_equal_the_numpy_lines_bit_for_bit(dtype):
    """relu, its delta and the sigmoid's and tanh's deltas (slope 1 and not) against the NumPy
    lines they replace: the same bits, NaN, signed zeros and infinities included."""
    rng = np.random.default_rng(3)
    special = np.array([np.nan, -np.nan, 0.0, -0.0, np.inf, -np.inf, 1e-40, -1e-40])
    xi = np.concatenate([special, rng.normal(size=1000) * 10]).astype(dtype)
    dY = np.concatenate([special[::-1], rng.normal(size=1000)]).astype(dtype)
    Y = rng.random(xi.size).astype(dtype)

    def bits(a):
        return a.view(np.uint32 if dtype == np.float32 else np.uint64)

    out = np.empty_like(xi)
    with np.errstate(invalid="ignore"):  # the references multiply inf by 0 on purpose
        _check_relu_and_deltas(xi, dY, Y, out, bits, dtype)
    assert not kernels.relu(xi, np.empty(xi.size, np.float16))  # another dtype: NumPy runs
    assert not kernels.delta(RELU, xi[::2], dY[::2], out[::2])  # strided: NumPy runs


def _check_relu_and_deltas(xi, dY, Y, out, bits, dtype):
    assert kernels.relu(xi, out)
    np.testing.assert_array_equal(bits(out), bits(np.maximum(xi, 0.0)))
    assert kernels.delta(RELU, xi, dY, out)
    np.testing.assert_array_equal(bits(out), bits(np.greater(xi, 0.0).astype(dtype) * dY))
    for slope in (1.0, 2.5):
        assert kernels.delta(SIGMOID, Y, dY, out, slope)
        expected = (1.0 - Y) * Y
        if slope != 1.0:
            expected *= dtype(slope)
        np.testing.assert_array_equal(bits(out), bits(expected * dY))
        assert kernels.delta(TANH, Y * 2 - 1, dY, out, slope)
        expected = 1.0 - (Y * 2 - 1) * (Y * 2 - 1)
        if slope != 1.0:
            expected *= dtype(slope)
        np.testing.assert_array_equal(bits(out), bits(expected * dY))


def test_a_subclass_that_changes_a_formula_is_not_bypassed():
    class Shifted(activations.Sigmoid):
        def derivative(self, xi, Y):
            return 1.0 - Y  # changed on purpose

    xi = np.linspace(-2, 2, 6).reshape(2, 3)
    dY = np.ones_like(xi)
    act = Shifted()
    Y = act(xi)
    np.testing.assert_allclose(elementwise.backward_into(act, xi, Y, dY, np.empty_like(xi)),
                               1.0 - Y)


# -- losses ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_cross_entropy_fast_paths_equal_the_one_hot_formulas(dtype, accel):
    rng = np.random.default_rng(2)
    xi = (rng.normal(size=(9, 4)) * 30).astype(dtype)
    labels = rng.integers(0, 4, 9)
    softmax = activations.get("softmax")
    sparse = losses.get("sparse_categorical_crossentropy")
    dense = losses.get("categorical_crossentropy")
    onehot = np.eye(4, dtype=dtype)[labels]
    Y = softmax(xi)
    np.testing.assert_array_equal(elementwise.fused_delta(sparse, Y, labels, softmax,
                                                          np.empty_like(Y)),
                                  dense.fused_delta(Y, onehot, softmax))  # bit for bit
    np.testing.assert_allclose(elementwise.per_sample_from_logits(sparse, xi, labels, softmax),
                               dense.per_sample_from_logits(xi, onehot, softmax),
                               rtol=10 * np.finfo(dtype).eps, atol=10 * np.finfo(dtype).eps)


@needs_compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_row_kernels_are_stable_and_equal_numpy(dtype):
    big = np.finfo(dtype).max / 4
    xi = np.array([[big, -big, 0.0], [-big, -big, -big], [1e-30, 0.0, -1e-30],
                   [80.0, 90.0, 100.0]], dtype=dtype)
    labels = np.array([1, 0, 2, 0])
    softmax = activations.get("softmax")
    sparse = losses.get("sparse_categorical_crossentropy")
    results = []
    for on in (True, False):
        old = fast.use(on)
        try:
            Y = elementwise.forward_into(softmax, xi, np.empty_like(xi))
            results.append((Y, elementwise.per_sample_from_logits(sparse, xi, labels, softmax),
                            elementwise.fused_delta(sparse, Y, labels, softmax,
                                                    np.empty_like(Y))))
        finally:
            fast.use(old)
    (Y, e, delta), (Y_np, e_np, delta_np) = results
    assert np.all(np.isfinite(Y)) and np.all(np.isfinite(e)) and np.all(np.isfinite(delta))
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(Y, Y_np, rtol=4 * eps, atol=1e-30)
    np.testing.assert_allclose(e, e_np, rtol=4 * eps)
    np.testing.assert_array_equal(delta, (Y - np.eye(3, dtype=dtype)[labels]) * dtype(1 / 4))
    assert e[0] == dtype(2 * big)                       # log sum e^(xi - m) = 0 there
    with pytest.raises(IndexError):                     # a label the check let through
        kernels.sparse_cross_entropy(xi, np.array([0, 3, 0, 0]), np.empty(4, dtype))


# -- optimizers: the compiled kernels are the NumPy code, bit for bit ------------------------------
@needs_compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1), lambda: optimizers.SGD(0.1, momentum=0.9),
    lambda: optimizers.SGD(0.1, momentum=0.8, nesterov=True), lambda: optimizers.Adam(1e-2),
    lambda: optimizers.AdamW(1e-2), lambda: optimizers.RMSprop(1e-2),
    lambda: optimizers.RMSprop(1e-2, momentum=0.5, rho=0.8)],
    ids=["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "rmsprop-momentum"])
def test_compiled_optimizer_steps_equal_numpy_bit_for_bit(make, dtype):
    assert mlplab.fast.optimizers.update_step_for(make()) is not None  # a kernel takes it
    rng = np.random.default_rng(3)
    shapes = [(100, 70), (70,), (3,)]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    first_grads = [rng.normal(size=s).astype(dtype) for s in shapes]
    runs = []
    for on in (True, False):
        old = mlplab.fast.use(on)
        try:
            opt, ps = make(), [p.copy() for p in params]
            for step in range(5):
                grads = first_grads if step == 0 else \
                    [np.sin(p * (step + 1)).astype(dtype) for p in ps]
                opt.apply(ps, grads, update_step=on and mlplab.fast.optimizers.update_step_for(opt))
            runs.append((ps, opt.get_state()))
        finally:
            mlplab.fast.use(old)
    (fast, state_fast), (plain, state_plain) = runs
    for a, b in zip(fast, plain):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    for key in state_plain:
        if key != "iterations":
            for a, b in zip(state_fast[key], state_plain[key]):
                np.testing.assert_array_equal(a, b)


@needs_compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_adam_zeroes_subnormal_m_and_leaves_w_and_v_as_numpy(dtype):
    """Weights whose gradient stays 0 (MNIST's blank pixels): m decays into subnormals."""
    rng = np.random.default_rng(5)
    tiny = np.finfo(dtype).tiny
    W = rng.normal(size=(100, 70)).astype(dtype)
    g = rng.normal(size=W.shape).astype(dtype)
    g[:10] = 0                                       # ten rows that never get a gradient
    runs = []
    for on in (True, False):
        old = fast.use(on)
        try:
            opt, w = optimizers.Adam(1e-3), W.copy()
            hook = on and fast.optimizers.update_step_for(opt)
            opt.apply([w], [g], update_step=hook)
            opt.momentums[0][:10] = tiny * 3         # about to decay below tiny
            for _ in range(30):
                opt.apply([w], [g], update_step=hook)
            runs.append((w, opt.momentums[0], opt.velocities[0]))
        finally:
            fast.use(old)
    (w_fast, m_fast, v_fast), (w_plain, m_plain, v_plain) = runs
    np.testing.assert_array_equal(w_fast, w_plain)
    np.testing.assert_array_equal(v_fast, v_plain)
    np.testing.assert_allclose(m_fast, m_plain, rtol=0, atol=tiny)
    assert np.all(m_fast[:10] == 0) and np.any((m_plain[:10] != 0) & (abs(m_plain[:10]) < tiny))


# -- the training step ----------------------------------------------------------------------------
@pytest.mark.skipif(not blas.gemm_available(), reason="no OpenBLAS gemm next to NumPy")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K, M, N", [(1, 300, 128), (5, 300, 128), (32, 200, 200),
                                     (3, 7, 5)])
def test_gemm_update_is_c_plus_alpha_at_b(K, M, N, dtype):
    rng = np.random.default_rng(4)
    A, B, C = (rng.normal(size=s).astype(dtype) for s in ((K, M), (K, N), (M, N)))
    expected = C - dtype(0.25) * (A.T @ B)
    done = blas.gemm_update(C, A, B, dtype(-0.25))
    assert done  # whether it pays is table.folds_update's decision, not gemm_update's:
    assert table.folds_update(K, C) == (K == 1 or C.size >= table.MIN_GEMM_SIZE)  # small C: no
    if done:
        assert C.dtype == dtype
        np.testing.assert_allclose(C, expected, rtol=10 * np.finfo(dtype).eps, atol=1e-6)
    assert not blas.gemm_update(C, A[:, ::2], B, dtype(-0.25))  # wrong shape: refused
    assert not blas.gemm_update(np.asfortranarray(C), A, B, dtype(-0.25))  # F order


@pytest.mark.parametrize("batch_size", [1, 7, 32])
@pytest.mark.parametrize("n_in, hidden", [(20, 64), (300, 128)])  # the second: one BLAS call
def test_fused_sgd_step_equals_the_plain_step(batch_size, n_in, hidden):
    """Plain SGD folded into the gradient's product == optimizer.apply on stored gradients."""
    x, y = _data(n_in=n_in)
    results = []
    for on in (True, False):
        old = fast.use(on)
        try:
            model = _mlp(n_in=n_in, hidden=hidden)
            model.compile(mlplab.SGD(0.5), "sparse_categorical_crossentropy")
            hist = model.fit(x, y, epochs=3, batch_size=batch_size, verbose=0)
            assert (model._steps.get(batch_size) is not None) == (on and blas.gemm_available())
            results.append((model.get_weights(), hist.history["loss"]))
        finally:
            fast.use(old)
    (w_fast, loss_fast), (w_plain, loss_plain) = results
    for a, b in zip(w_fast, w_plain):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(loss_fast, loss_plain, rtol=1e-4)


def test_gradients_are_readable_after_a_fused_step(accel):
    """Dense.dW after a step is Y_prev^T delta of that step, however the step was taken."""
    model = _mlp(dtype="float64")
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = _data(n=16)
    model.train_on_batch(x, y)
    hidden, out = model.layers
    for layer, inputs in ((hidden, x), (out, hidden.Y)):
        np.testing.assert_allclose(layer.dW, inputs.T @ layer.delta, rtol=1e-12)
        assert layer.grads[0] is layer.dW


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_float32_stays_float32_in_every_intermediate(activation, opt, accel):
    model = _mlp(activation)
    model.compile(mlplab.SGD(0.1) if opt == "sgd" else optimizers.Adam(1e-3),
                  "sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for layer in model.layers:
        for name in ("Y_prev", "xi", "Y", "delta", "W", "b", "dW", "db"):
            assert getattr(layer, name).dtype == np.float32, (layer.name, name)
        for buf in work_arrays(layer).values():
            assert buf.dtype == np.float32
    assert model.predict(x).dtype == np.float32
    for slot in model.optimizer.slots().values():
        assert all(a.dtype == np.float32 for a in slot)


def test_training_reuses_its_work_arrays():
    model = _mlp()
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = _data(n=96)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    ids = {(layer.name, k): id(v) for layer in model.layers for k, v in work_arrays(layer).items()}
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert ids == {(layer.name, k): id(v) for layer in model.layers
                   for k, v in work_arrays(layer).items()}


def test_predict_returns_fresh_arrays_not_work_arrays():
    model = _mlp()
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = _data(n=40)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    p1 = model.predict(x[:8])
    kept = p1.copy()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.predict(x[8:16])
    np.testing.assert_array_equal(p1, kept)


def test_first_layer_computes_no_input_gradient():
    model = _mlp()
    model.compile(optimizers.Adam(), "sparse_categorical_crossentropy")
    x, y = _data(n=32)
    model.train_on_batch(x, y)
    first, second = model.layers
    assert not first.need_input_grad and second.need_input_grad
    assert "dX" not in work_arrays(first) and "dX" in work_arrays(second)


def test_fit_makes_no_copy_of_the_training_set_per_epoch():
    rng = np.random.default_rng(0)
    x = rng.random((4000, 100), dtype=np.float32)  # 1.6 MB
    y = rng.integers(0, 5, 4000)
    model = _mlp(n_in=100, hidden=16)
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)  # warm-up: buffers, caches
    peaks = []
    for epochs in (1, 4):
        tracemalloc.start()
        try:
            model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    # A shuffled copy would cost x.nbytes; the input check's boolean mask costs x.nbytes / 4.
    assert max(peaks) < x.nbytes / 2, f"fit's peak extra memory {peaks} B vs x {x.nbytes} B"
    assert peaks[1] < peaks[0] + x.nbytes / 20  # more epochs, no more memory


# -- predict's quick check keeps every check ------------------------------------------------------
@pytest.mark.parametrize("bad, message", [
    (np.array([[np.nan, 1.0]], dtype=np.float32), "NaN"),
    (np.array([[np.inf, 1.0]], dtype=np.float32), "infinity"),
    (np.array([[1.0, 2.0, 3.0]], dtype=np.float32), "features"),
    (np.array([1.0, 2.0], dtype=np.float32), "2-D"),
    (np.zeros((0, 2), dtype=np.float32), "empty"),
])
def test_predict_still_rejects_bad_input(bad, message):
    model = mlplab.Sequential([Input((2,)), Dense(4, activation="sigmoid"),
                               Dense(1, activation="sigmoid")], seed=0)
    with pytest.raises(ValueError, match=message):
        model.predict(bad)


def test_predict_quick_path_equals_the_converting_path():
    model = mlplab.Sequential([Input((2,)), Dense(4, activation="sigmoid"),
                               Dense(1, activation="sigmoid")], seed=0)
    x = np.array([[0.3, 0.7], [-1.0, 2.0]])
    fast = model.predict(x.astype(np.float32))        # ready: float32, right shape
    slow = model.predict(x.tolist())                  # a list: converted first
    assert fast.dtype == slow.dtype == np.float32
    np.testing.assert_array_equal(fast, slow)


# -- predict's compiled forward pass --------------------------------------------------------------
@needs_compiled
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden,output", [("sigmoid", "sigmoid"), ("tanh", "softmax"),
                                           ("relu", "linear"), ("linear", "softmax")])
def test_compiled_predict_equals_the_numpy_forward_pass(hidden, output, dtype):
    rng = np.random.default_rng(1)
    model = mlplab.Sequential([Input((6,)), Dense(9, activation=hidden),
                               Dense(8, activation=activations.get({"name": hidden,
                                                                    "slope": 2.0})
                                     if hidden in ("sigmoid", "tanh") else hidden),
                               Dense(3, activation=output, use_bias=False)], seed=2, dtype=dtype)
    x = (rng.normal(size=(table.SMALL_BATCH, 6)) * 4).astype(dtype)
    eps = np.finfo(dtype).eps
    for n in (1, 2, table.SMALL_BATCH):
        fast = model.predict(x[:n])
        assert fast.dtype == np.dtype(dtype) and fast.shape == (n, 3)
        assert mlplab.fast.predict.compiled(model, x[:n]) is not None   # the compiled path did run
        old = mlplab.fast.use(False)
        try:
            plain = model.predict(x[:n])
        finally:
            mlplab.fast.use(old)
        np.testing.assert_allclose(fast, plain, rtol=50 * eps, atol=50 * eps)
    assert mlplab.fast.predict.compiled(model, x[:, :5]) is None                  # wrong width: declined
    assert mlplab.fast.predict.compiled(model, np.asfortranarray(x[:4])) is None  # F order: declined
    assert mlplab.fast.predict.compiled(model, np.concatenate([x, x])) is None    # many samples: BLAS


@needs_compiled
def test_compiled_predict_declines_what_it_does_not_know():
    class Doubled(activations.Sigmoid):     # a subclass may change the formula: NumPy runs it
        def __call__(self, xi):
            return 2 * super().__call__(xi)

    x = np.array([[0.3, -0.7]], dtype=np.float32)
    model = mlplab.Sequential([Input((2,)), Dense(4, activation=Doubled()), Dense(1)], seed=0)
    assert fast.predict.compiled(model, x) is None
    W1, b1, W2, b2 = model.get_weights()
    hidden = 2 / (1 + np.exp(-(x @ W1 + b1)))
    np.testing.assert_allclose(model.predict(x), hidden @ W2 + b2, rtol=1e-5)
    model = mlplab.Sequential([Input((2,)), Dense(4, activation="elu"), Dense(1)], seed=0)
    assert fast.predict.compiled(model, x) is None
    model = mlplab.Sequential([Input((2,)), Dense(4), mlplab.layers.Activation("relu"),
                               Dense(1)], seed=0)
    assert fast.predict.compiled(model, x) is None
    for bad in (np.array([[np.nan, 1.0]], np.float32), np.array([[1.0, -np.inf]], np.float32)):
        assert fast.predict.compiled(model, bad) is None
    model = mlplab.Sequential([Input((2,)), Dense(4, activation="tanh"), Dense(1)], seed=0)
    expected = model.predict(x)
    model.layers[0].W = np.asfortranarray(model.layers[0].W)   # replaced by hand, F order
    assert fast.predict.compiled(model, x) is None
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6)


@needs_compiled
def test_compiled_predict_sees_weight_updates():
    model = mlplab.Sequential([Input((2,)), Dense(4, activation="sigmoid"),
                               Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=mlplab.SGD(1.0), loss="binary_crossentropy")
    x, y = mlplab.datasets.load_xor()
    before = model.predict(x[:1].astype(np.float32))
    model.fit(x, y, epochs=5, batch_size=4, verbose=0)
    after = model.predict(x[:1].astype(np.float32))
    np.testing.assert_allclose(after, model.predict(np.repeat(x[:1], 40, axis=0))[:1],
                               rtol=1e-6)
    assert not np.array_equal(before, after)


@needs_compiled
@pytest.mark.parametrize("hidden, output, bound", [
    ("sigmoid", "sigmoid", 4), ("tanh", "softmax", 4), ("sigmoid", "softmax", 4),
    ("relu", "sigmoid", 4),
    ("tanh", "tanh", 6)])  # three tanh layers: the compiled 2-ulp tanh against NumPy's, thrice
def test_predict_is_within_four_ulp_of_the_reference_forward_pass_at_every_n(hidden, output,
                                                                            bound):
    """One float32 sigmoid and tanh for training and predict, at every batch size: predict on
    n rows (one compiled call up to SMALL_BATCH rows, the kernels beyond) against the NumPy
    forward pass of the teaching layers on the same n rows, in ulp of each row's largest
    output (the products may round differently, as NumPy's own matmul does for different n)."""
    rng = np.random.default_rng(1)
    model = mlplab.Sequential([Input((6,)), Dense(9, activation=hidden),
                               Dense(8, activation=hidden), Dense(3, activation=output)], seed=2)
    x = (rng.normal(size=(40, 6)) * 4).astype(np.float32)
    for n in range(1, len(x) + 1):
        fast_y, ref = model.predict(x[:n]), model.forward(x[:n])
        ulp = np.spacing(np.abs(ref).max(axis=1, keepdims=True))
        assert np.max(np.abs(fast_y - ref) / ulp) <= bound, n
