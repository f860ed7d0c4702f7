"""The compiled step beyond the softmax classifier: sigmoid + binary cross-entropy, MSE and SSE
after any output the kernels know, float64 as well as float32.

Each test trains the same model through ``_ckernels.train_step`` and through the layer step
(``fast.step.LayerStep``, the compiled step switched off), and compares the weights and losses:
bit for bit wherever both paths run the same float operations (every float32 model, float64
without sigmoid or tanh); float64 sigmoid and tanh take the kernels' vectorized exp and tanh
(Cephes' formulas) where the layer step takes NumPy's, so there the weights agree to a few
ulp, not bit for bit. The layer
step against the reference step: tests/fast/test_performance_paths.py; one check against the
reference step (fast path off) closes the loop here.
"""
import os

import numpy as np
import pytest

import mlplab
from mlplab import fast, optimizers
from mlplab.fast import step as step_module
from mlplab.fast.step import CompiledStep
from mlplab.layers import Dense, Dropout, Input

pytestmark = pytest.mark.skipif(
    fast.kernels.load() is None and not os.environ.get("CI"),
    reason="the compiled kernels are off or not built (no C compiler)")

OUTPUTS = {"sigmoid+bce": ("sigmoid", "binary_crossentropy"),
           "linear+mse": ("linear", "mse"), "sigmoid+mse": ("sigmoid", "mse"),
           "tanh+sse": ("tanh", "sse"), "relu+mse": ("relu", "mse"),
           "softmax+cce": ("softmax", "categorical_crossentropy")}
OPTIMIZERS = {"sgd": lambda: mlplab.SGD(0.1), "momentum": lambda: mlplab.SGD(0.05, momentum=0.9),
              "nesterov": lambda: mlplab.SGD(0.05, momentum=0.9, nesterov=True),
              "adam": lambda: optimizers.Adam(1e-2), "rmsprop": lambda: optimizers.RMSprop(1e-3)}


@pytest.fixture
def layer_step(monkeypatch):
    def off():
        monkeypatch.setattr(CompiledStep, "for_model", classmethod(lambda cls, model, n: None))
    return off


def _model(hidden, output, dtype, opt, n_in=12, width=9, n_out=3):
    act, loss = OUTPUTS[output]
    layers = [Input((n_in,))] + [Dense(width, activation=a) for a in hidden]
    model = mlplab.Sequential(layers + [Dense(n_out, activation=act)], seed=3, dtype=dtype)
    model.compile(OPTIMIZERS[opt](), loss)
    return model


def _data(dtype, n=150, n_in=12, n_out=3):
    rng = np.random.default_rng(5)
    x = rng.random((n, n_in)).astype(dtype)
    y = (rng.random((n, n_out)) < 0.4).astype(dtype)  # 0/1 targets: every loss takes them
    return x, y


def _train(model, x, y, batch_size, epochs=2):
    if type(model.layers[-1].activation).__name__ == "Tanh":
        y = 2 * y - 1                                     # tanh's targets: -1/+1
    hist = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model.get_weights(), hist.history["loss"]


def _exact(dtype, hidden, output):
    own_exp = {"sigmoid", "tanh"} & (set(hidden) | {OUTPUTS[output][0]})
    return dtype == "float32" or not own_exp


CASES = [  # (hidden, output, dtype, batch, optimizer): every value of each axis appears
    (("sigmoid",), "sigmoid+bce", "float32", 32, "momentum"),
    (("tanh",), "sigmoid+bce", "float32", 7, "sgd"),
    (("relu",), "linear+mse", "float32", 1, "adam"),
    (("relu",), "linear+mse", "float64", 32, "sgd"),
    (("sigmoid",), "sigmoid+mse", "float64", 7, "nesterov"),
    (("tanh", "relu"), "tanh+sse", "float32", 7, "momentum"),
    (("relu",), "relu+mse", "float64", 1, "momentum"),
    (("linear",), "sigmoid+bce", "float64", 32, "adam"),
    ((), "linear+mse", "float32", 7, "sgd"),
    (("relu",), "softmax+cce", "float64", 32, "sgd"),
    (("tanh",), "softmax+cce", "float64", 1, "adam"),
    (("sigmoid", "tanh"), "linear+mse", "float64", 32, "rmsprop"),
    (("relu",), "sigmoid+bce", "float32", 32, "rmsprop"),
]


@pytest.mark.parametrize("hidden, output, dtype, batch_size, opt", CASES)
def test_wide_compiled_step_equals_the_layer_step(hidden, output, dtype, batch_size, opt,
                                                  layer_step):
    x, y = _data(dtype)
    model = _model(hidden, output, dtype, opt)
    compiled = _train(model, x, y, batch_size)
    assert isinstance(model._steps[batch_size], CompiledStep)
    assert model._steps[batch_size].update_step is step_module._applied  # updated in the call
    layer_step()
    plain = _train(_model(hidden, output, dtype, opt), x, y, batch_size)
    for a, b in zip(compiled[0], plain[0]):
        assert a.dtype == b.dtype == np.dtype(dtype)
        if _exact(dtype, hidden, output):
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    if _exact(dtype, hidden, output):
        assert compiled[1] == plain[1]
    else:
        np.testing.assert_allclose(compiled[1], plain[1], rtol=1e-12)


@pytest.mark.parametrize("output", ["sigmoid+bce", "linear+mse", "tanh+sse"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_wide_compiled_step_follows_the_reference_step(output, dtype):
    """Against the teaching layers' own formulas (the fast path off): the same training."""
    x, y = _data(dtype)
    model = _model(("relu",), output, dtype, "momentum")
    fast_run = _train(model, x, y, 16)
    assert isinstance(model._steps[16], CompiledStep)
    old = fast.use(False)
    try:
        ref = _train(_model(("relu",), output, dtype, "momentum"), x, y, 16)
    finally:
        fast.use(old)
    tol = 2e-4 if dtype == "float32" else 1e-11
    for a, b in zip(fast_run[0], ref[0]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_allclose(fast_run[1], ref[1], rtol=tol)


def test_clipping_or_a_frozen_layer_leaves_the_update_to_the_optimizer(layer_step):
    """The call takes the update only where apply() would add nothing to it."""
    x, y = _data("float32")
    runs = []
    for use_compiled in (True, False):
        if not use_compiled:
            layer_step()
        model = _model(("relu", "tanh"), "linear+mse", "float32", "adam")
        model.optimizer.clipnorm = 0.5
        model.layers[0].trainable = False
        runs.append(_train(model, x, y, 16))
        if use_compiled:
            assert isinstance(model._steps[16], CompiledStep)
            assert model._steps[16].update_step is not step_module._applied
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_hold_the_reference_arrays_after_a_wide_step(dtype, layer_step):
    """Y_prev, Xi, Y, delta, dW, db after one step: what a lecture reads off the layers."""
    x, y = _data(dtype, n=10)
    fast_model = _model(("relu", "linear"), "sigmoid+mse", dtype, "adam")
    fast_model.train_on_batch(x, y)
    assert isinstance(fast_model._steps[10], CompiledStep)
    layer_step()
    slow = _model(("relu", "linear"), "sigmoid+mse", dtype, "adam")
    slow.train_on_batch(x, y)
    for a, b in zip(fast_model.layers, slow.layers):
        for name in ("Y_prev", "xi", "Y", "delta", "dW", "db", "W", "b"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-6,
                                       atol=1e-7)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_float64_activations_of_the_compiled_step_at_extreme_inputs(act):
    """The step's float64 sigmoid and tanh against NumPy's from -800 to 800: within 4 ulp where
    the value is a normal number, 0 or +-1 in saturation, the sign kept, never a subnormal."""
    xi = np.concatenate([np.linspace(-800, 800, 4001), np.geomspace(1e-300, 30, 1500),
                         -np.geomspace(1e-300, 30, 1500), [0.0, -0.0, 708.5, -708.5, 745]])
    model = mlplab.Sequential([Input((2,)), Dense(len(xi), activation=act, use_bias=False),
                               Dense(2, activation="linear")], seed=0, dtype="float64")
    model.layers[0].W[0] = xi               # the input (1, 0) makes Xi = W's first row
    model.compile(mlplab.SGD(0.1), "mse")   # Y is computed before the update
    model.train_on_batch(np.array([[1.0, 0.0]] * 2), np.zeros((2, 2)))
    assert isinstance(model._steps[2], CompiledStep)
    xi = model.layers[0].xi[0]              # BLAS's sums: -0 + 0 is +0
    with np.errstate(over="ignore"):        # e^800 is inf, and the sigmoid 0
        want = np.tanh(xi) if act == "tanh" else 1 / (1 + np.exp(-xi))
    got = model.layers[0].Y[0]
    normal = np.abs(want) >= np.finfo(np.float64).tiny
    assert normal.sum() > 6000
    np.testing.assert_array_max_ulp(got[normal], want[normal], maxulp=4)
    assert np.all(got[~normal] == 0) and np.all((got == 0) | (np.abs(got) >= 2.2e-308))
    assert np.array_equal(np.signbit(got), np.signbit(want))


def _dropout_model(dtype, opt="rmsprop", rate=0.2):
    layers = [Input((12,)), Dense(10, activation="relu"), Dropout(rate),
              Dense(8, activation="sigmoid"), Dropout(0.5), Dense(3, activation="softmax")]
    model = mlplab.Sequential(layers, seed=4, dtype=dtype)
    model.compile(OPTIMIZERS[opt](), "categorical_crossentropy")
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_size", [1, 16])
def test_dropout_takes_the_compiled_step_with_the_same_masks(dtype, batch_size, layer_step):
    """Keras's MNIST MLP shape: Dense, Dropout, Dense, Dropout, softmax. The masks come from
    each Dropout layer's own generator, drawn as Dropout.forward draws them."""
    x, y = _data(dtype, n=64)
    fast_model = _dropout_model(dtype)
    compiled = _train(fast_model, x, y, batch_size)
    assert isinstance(fast_model._steps[batch_size], CompiledStep)
    layer_step()
    slow = _dropout_model(dtype)
    plain = _train(slow, x, y, batch_size)
    exact = dtype == "float32"
    for a, b in zip(compiled[0], plain[0]):
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for a, b in zip(fast_model.layers, slow.layers):
        if type(a).__name__ == "Dropout":
            np.testing.assert_array_equal(a.mask, b.mask)  # the last step's masks
            assert set(np.unique(a.mask)) <= {0, a.mask.dtype.type(1 / (1 - a.rate))}
        else:
            np.testing.assert_allclose(a.Y_prev, b.Y_prev, rtol=1e-6)


def test_dropout_where_the_compiled_step_cannot_take_it(layer_step):
    """Dropout first, last, twice in a row or after a linear layer: the layer step runs."""
    x, y = _data("float32", n=32)
    for layers in ([Dropout(0.2), Dense(5, activation="relu"), Dense(3, activation="softmax")],
                   [Dense(5, activation="linear"), Dropout(0.2), Dense(3, activation="softmax")],
                   [Dense(5, activation="relu"), Dropout(0.2), Dropout(0.1),
                    Dense(3, activation="softmax")]):
        model = mlplab.Sequential([Input((12,))] + layers, seed=0)
        model.compile("sgd", "categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        assert not isinstance(model._steps[16], CompiledStep)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["binary_crossentropy", "mse", "sse"])
def test_per_sample_loss_kernel_equals_the_loss_formulas(name, dtype):
    rng = np.random.default_rng(7)
    a = (rng.normal(size=(40, 10)) * 6).astype(dtype)    # logits out to saturation
    D = (rng.random((40, 10)) < 0.5).astype(dtype)
    loss = mlplab.losses.get(name)
    act = mlplab.activations.Sigmoid(slope=1.5)
    e = np.empty(40, dtype=dtype)
    if name == "binary_crossentropy":
        expected = loss.per_sample_from_logits(a, D, act)
        assert fast.kernels.per_sample_loss(fast.table.loss_code(loss), a, D, e, act.slope)
    else:
        expected = loss.per_sample(a, D)
        assert fast.kernels.per_sample_loss(fast.table.loss_code(loss), a, D, e)
    np.testing.assert_allclose(e, expected, rtol=16 * np.finfo(dtype).eps, atol=0)
    assert not fast.kernels.per_sample_loss(fast.table.loss_code(loss), a, D[:, :5], e)
