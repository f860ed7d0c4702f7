"""The compiled training step (mlplab.fast.step.CompiledStep) is the layer step, bit for bit.

Each test trains the same model twice, once through ``_ckernels.train_step`` and once through
the Python path (``fast.step.LayerStep``: the same kernels, called one by one, with the
compiled step switched off), and compares the weights, losses and the layers' stored arrays
bit for bit. The layer step against the reference step: tests/fast/test_performance_paths.py.
"""
import copy
import os

import numpy as np
import pytest

import mlplab
from mlplab import constraints, fast, optimizers, regularizers
from mlplab.fast.step import CompiledStep
from mlplab.layers import Dense, Input

# Where no C compiler built the kernels these skip; CI has one, so there they must run.
pytestmark = pytest.mark.skipif(
    fast.kernels.load() is None and not os.environ.get("CI"),
    reason="the compiled kernels are off or not built (no C compiler)")


@pytest.fixture
def python_step(monkeypatch):
    """A context in which Sequential takes the Python path for every step."""
    def off():
        monkeypatch.setattr(CompiledStep, "for_model",
                            classmethod(lambda cls, model, n: None))
    return off


def _model(hidden=("sigmoid",), n_in=20, width=16, n_out=4, opt="sgd", **dense):
    layers = [Input((n_in,))] + [Dense(width, activation=a, **dense) for a in hidden]
    model = mlplab.Sequential(layers + [Dense(n_out, activation="softmax")], seed=0)
    make = {"sgd": lambda: mlplab.SGD(0.1), "momentum": lambda: mlplab.SGD(0.1, momentum=0.9),
            "adam": lambda: optimizers.Adam(1e-2)}[opt]
    model.compile(make(), "sparse_categorical_crossentropy")
    return model


def _data(n=200, n_in=20, n_out=4, labels=np.int64):
    rng = np.random.default_rng(1)
    return rng.random((n, n_in), dtype=np.float32), rng.integers(0, n_out, n).astype(labels)


def _train(model, x, y, batch_size, epochs=2):
    hist = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model.get_weights(), hist.history["loss"], model.optimizer.iterations


def _assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("hidden", [("sigmoid",), ("relu",), ("tanh",), ("linear",),
                                    ("sigmoid", "relu"), ("linear", "tanh"), ()])
@pytest.mark.parametrize("batch_size", [1, 7, 32])  # 200 = 28 * 7 + 4: a short last batch
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
# momentum 0.9 online through a linear hidden layer diverges: both paths stop alike
@pytest.mark.filterwarnings("ignore:.*training diverged:RuntimeWarning")
def test_compiled_step_equals_the_python_step_bit_for_bit(hidden, batch_size, opt,
                                                          python_step):
    x, y = _data()
    model = _model(hidden, opt=opt)
    compiled = _train(model, x, y, batch_size)
    assert isinstance(model._steps[batch_size], CompiledStep)
    python_step()
    plain = _train(_model(hidden, opt=opt), x, y, batch_size)
    for a, b in zip(compiled[0], plain[0]):
        _assert_same_bits(a, b)
    assert compiled[1:] == plain[1:]  # the losses of each epoch, the optimizer's step count


@pytest.mark.parametrize("opt", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [1, 16])
def test_layers_hold_the_same_arrays_after_a_compiled_step(opt, batch_size, python_step):
    """Y_prev, Xi, Y, delta, dW and db: what a lecture reads off the layers after a step."""
    x, y = _data(n=batch_size)
    fast = _model(("sigmoid", "tanh", "relu"), opt=opt)
    fast.train_on_batch(x, y)
    assert isinstance(fast._steps[batch_size], CompiledStep)
    python_step()
    slow = _model(("sigmoid", "tanh", "relu"), opt=opt)
    slow.train_on_batch(x, y)
    for a, b in zip(fast.layers, slow.layers):
        for name in ("Y_prev", "xi", "Y", "delta", "dW", "db", "W", "b"):
            _assert_same_bits(getattr(a, name), getattr(b, name))


def test_uint8_labels_train_as_int64_labels():
    x, y = _data()
    a = _train(_model(), x, y, 32)
    b = _train(_model(), x, y.astype(np.uint8), 32)
    for wa, wb in zip(a[0], b[0]):
        _assert_same_bits(wa, wb)


@pytest.mark.parametrize("make, why", [
    (lambda: _model(("elu",)), "elu: no kernel"),
    (lambda: _model(kernel_regularizer=regularizers.L2(1e-3)), "a weight penalty"),
    (lambda: _model(kernel_constraint=constraints.MaxNorm(3.0)), "a constraint"),
    (lambda: _model(width=1), "a one-unit layer (NumPy takes gemv and dot)"),
])
def test_other_models_take_the_python_path(make, why):
    model = make()
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert not isinstance(model._steps[32], CompiledStep), why


def test_batches_past_the_row_kernels_take_the_python_path(python_step):
    """Above MAX_ROWS_SIZE output entries the Python path takes NumPy's softmax; so does the
    step, and the two paths still agree bit for bit."""
    n = mlplab.fast.kernels.MAX_ROWS_SIZE // 4 + 1                 # 4 outputs: one entry past the limit
    x, y = _data(n=n)
    model = _model()
    fast = _train(model, x, y, "full")
    assert not isinstance(model._steps[n], CompiledStep)
    model = _model()
    small = _train(model, x, y, n - 1)                  # at the limit and below: compiled
    assert isinstance(model._steps[n - 1], CompiledStep)
    python_step()
    for a, b in zip(fast[0] + small[0], _train(_model(), x, y, "full")[0] +
                    _train(_model(), x, y, n - 1)[0]):
        _assert_same_bits(a, b)


@pytest.mark.parametrize("loss, dtype", [("mse", "float32"), ("mae", "float64"),
                                         ("poisson", "float32")])
def test_other_losses_and_dtypes_take_the_python_path(loss, dtype):
    """MSE after a softmax (its Jacobian is no elementwise kernel), losses without a kernel."""
    model = mlplab.Sequential([Input((20,)), Dense(8, activation="relu"),
                               Dense(4, activation="softmax")], seed=0, dtype=dtype)
    model.compile(mlplab.SGD(0.1), loss)
    x, y = _data()
    if loss != "sparse_categorical_crossentropy":
        y = mlplab.preprocessing.to_categorical(y, 4)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert not isinstance(model._steps[32], CompiledStep)


@pytest.mark.parametrize("hidden", [("sigmoid",), ("tanh", "relu")])
@pytest.mark.parametrize("batch_size", [1, 7, 32])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
@pytest.mark.parametrize("soft", [False, True], ids=["one_hot", "probabilities"])
def test_categorical_crossentropy_takes_the_compiled_step_bit_for_bit(hidden, batch_size, opt,
                                                                     soft, python_step):
    """One-hot rows (to_categorical) or class probabilities: the step's delta (Y - D) scale,
    and the loss's own formula for the per-sample loss, on both paths."""
    x, labels = _data()
    y = mlplab.preprocessing.to_categorical(labels, 4)
    if soft:
        y = y * 0.9 + 0.025                            # smoothed labels, rows still sum to 1

    def run():
        model = _model(hidden, opt=opt)
        model.compile(model.optimizer, "categorical_crossentropy")
        return model, _train(model, x, y, batch_size)

    model, fast = run()
    assert isinstance(model._steps[batch_size], CompiledStep)
    python_step()
    _, plain = run()
    for a, b in zip(fast[0], plain[0]):
        _assert_same_bits(a, b)
    assert fast[1:] == plain[1:]


def _changes(model, x, y, seen):
    """Train through set_weights, a new compile and an epoch with the accelerators off."""
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    seen.append(model._steps[32])
    model.set_weights([w * 0.5 for w in model.get_weights()])  # into the same arrays
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    seen.append(model._steps[32])
    model.compile(mlplab.SGD(0.05), "sparse_categorical_crossentropy")
    seen.append(dict(model._steps))
    old = fast.use(False)
    try:
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        seen.append(model._steps[32])
    finally:
        fast.use(old)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    seen.append(model._steps[32])
    return model.get_weights()


def test_compiled_step_follows_changes_to_the_model(python_step):
    x, y = _data()
    seen = []
    weights = _changes(_model(), x, y, seen)
    first, kept, after_compile, off, on_again = seen
    assert all(isinstance(s, CompiledStep) for s in (first, kept))
    assert after_compile == {}           # compile drops the plans
    assert off is None                   # MLPLAB_PURE_NUMPY's path
    assert isinstance(on_again, CompiledStep)  # each fit plans again
    python_step()
    for a, b in zip(weights, _changes(_model(), x, y, [])):
        _assert_same_bits(a, b)


def test_a_copy_of_a_trained_model_trains_as_the_original():
    x, y = _data()
    model = _model(opt="adam")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for twin in (model.clone(), copy.deepcopy(model)):
        assert twin._steps == {}
        twin.fit(x, y, epochs=1, batch_size=32, verbose=0)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        _assert_same_bits(a, b)


def test_train_on_batch_keeps_its_plan_while_the_model_stays():
    x, y = _data(n=16)
    model = _model()
    model.train_on_batch(x, y)
    plan = model._steps[16]
    model.set_weights(model.get_weights())
    model.train_on_batch(x, y)
    assert model._steps[16] is plan
    model.add(Dense(4, activation="softmax"))          # another stack: planned again
    model.layers[-2].activation = mlplab.activations.get("relu")
    model.build(model.input_shape)
    model.train_on_batch(x, y)
    assert model._steps[16] is not plan


def test_a_flatten_first_model_takes_the_compiled_step(python_step):
    """Keras's MNIST model: Flatten(28, 28), Dense, Dense(softmax), on image-shaped x."""
    rng = np.random.default_rng(2)
    x, y = rng.random((64, 6, 5), dtype=np.float32), rng.integers(0, 3, 64)

    def run():
        model = mlplab.Sequential([Input((6, 5)), mlplab.layers.Flatten(),
                                   Dense(12, activation="relu"),
                                   Dense(3, activation="softmax")], seed=0)
        model.compile(optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model

    fast = run()
    assert isinstance(fast._steps[16], CompiledStep)
    assert fast.layers[1].Y_prev.shape == (16, 30)
    python_step()
    slow = run()
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        _assert_same_bits(a, b)
