"""Each bad input gets a clear error naming the argument, and leaves the model as it was."""
import os

import numpy as np
import pytest

import mlplab
from mlplab import Sequential
from mlplab.layers import Dense, Input


@pytest.fixture
def model():
    m = Sequential([Input((4,)), Dense(5, activation="relu"), Dense(3, activation="softmax")],
                   seed=0)
    m.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


X = np.random.default_rng(0).normal(size=(10, 4))
Y = np.arange(10) % 3


def unchanged(model, before):
    return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())) and \
        model.optimizer.iterations == 0


@pytest.mark.parametrize("x,y,match", [
    (X[:, :3], Y, "x has 3 features; the model expects 4"),
    (X[:, 0], Y, r"x must be 2-D \(n_samples, n_features\); received shape \(10,\)"),
    (np.where(np.eye(10, 4) > 0, np.nan, X), Y, r"x contains NaN \(first at index \(0, 0\)\)"),
    (np.where(np.eye(10, 4) > 0, np.inf, X), Y, "x contains infinity"),
    (X, np.where(Y == 1, np.nan, Y), "y contains NaN"),
    (X, Y + 1, r"integer class labels in \[0, 2\].*received values from 1 to 3"),
    (X, Y - 1, r"integer class labels in \[0, 2\]"),
    (X, Y + 0.5, "integer class labels"),
    (np.empty((0, 4)), np.empty(0), r"x is empty"),
    (X, Y[:9], "x has 10 samples but y has 9"),
    (X, np.eye(3)[Y], "1-D array of integer class labels.*categorical_crossentropy"),
    (np.full((10, 4), "a"), Y, "x must be numeric"),
])
def test_fit_rejects_bad_data_and_leaves_model(model, x, y, match):
    before = model.get_weights()
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(x, y, epochs=1, verbose=0)
    assert unchanged(model, before)


def test_regression_targets_must_match_output_width():
    m = Sequential([Input((4,)), Dense(2)], seed=0)
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples, 2\).*received shape "
                                         r"\(10, 3\)"):
        m.fit(X, np.zeros((10, 3)), verbose=0)
    # One target column is broadcast over the outputs (Keras's rule for mse), with a warning
    # that names the likely mistake (class labels meant for a softmax).
    with pytest.warns(mlplab.ConfigWarning, match="sparse_categorical_crossentropy"):
        m.fit(X, np.zeros(10), verbose=0)


@pytest.mark.parametrize("loss,y,match", [
    ("binary_crossentropy", np.array([[-1.0], [1.0]]), r"probabilities in \[0, 1\].*Recode -1/\+1"),
    ("hinge", np.array([[0.5], [1.0]]), r"-1/\+1 \(or 0/1\) labels"),
    ("poisson", np.array([[-1.0], [1.0]]), "non-negative counts"),
])
def test_targets_out_of_range_for_the_loss(loss, y, match):
    m = Sequential([Input((2,)), Dense(1, activation="sigmoid")], seed=0)
    m.compile("sgd", loss)
    with pytest.raises(ValueError, match=match):
        m.fit(np.zeros((2, 2)), y, verbose=0)


def test_predict_and_evaluate_check_their_input(model):
    with pytest.raises(ValueError, match="predict\\(\\): x has 5 features; the model expects 4"):
        model.predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="evaluate\\(\\): x has 10 samples but y has 3"):
        model.evaluate(X, Y[:3])
    with pytest.raises(ValueError, match="predict\\(\\): x contains NaN"):
        model.predict(np.full((1, 4), np.nan))


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
def test_non_positive_learning_rate(lr):
    with pytest.raises(ValueError, match=r"learning_rate must be a positive finite number; "
                                         r"received"):
        mlplab.SGD(learning_rate=lr)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmod'.*Available: .*sigmoid"):
        Dense(3, activation="sigmod")
    m = Sequential([Input((2,)), Dense(1)])
    with pytest.raises(ValueError, match=r"Unknown loss 'cross_entropy'. Available: .*"
                                         r"categorical_crossentropy"):
        m.compile("sgd", "cross_entropy")
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'"):
        m.compile("sgd", "mse", metrics=["acuracy"])
    assert not m.compiled


@pytest.mark.parametrize("kwargs,match", [
    ({"epochs": 0}, "epochs must be a positive integer; received 0"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"batch_size": "all"}, "batch_size must be a positive integer"),
    ({"validation_split": 1.0}, r"validation_split must be a number in \[0, 1\)"),
    ({"verbose": 3}, "verbose must be 'auto', 0, 1 or 2"),
    ({"validation_data": (X,)}, r"validation_data must be a tuple \(x_val, y_val\)"),
])
def test_fit_arguments(model, kwargs, match):
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(X, Y, **{"verbose": 0, **kwargs})
    assert unchanged(model, before)


def test_validation_data_is_checked_before_training(model):
    before = model.get_weights()
    with pytest.raises(ValueError, match="validation_data.*x has 2 features"):
        model.fit(X, Y, validation_data=(np.zeros((3, 2)), Y[:3]), verbose=0)
    assert unchanged(model, before)


def test_fit_before_compile_and_summary_before_build():
    m = Sequential([Dense(2)])
    with pytest.raises(RuntimeError, match=r"fit\(\) called before compile\(\)"):
        m.fit(X, Y)
    with pytest.raises(ValueError, match="not built yet"):
        m.summary()


@pytest.mark.parametrize("make,match", [
    (lambda: Dense(0), r"Dense\(units=0\): units must be a positive integer; received 0"),
    (lambda: Dense(2.5), "units must be a positive integer"),
    (lambda: mlplab.layers.Dropout(1.0), r"rate must be a number in \[0, 1\)"),
    (lambda: Sequential(dtype="int32"), "dtype must be 'float32' or 'float64'"),
    (lambda: Sequential(seed=-1), "seed must be a non-negative integer"),
    (lambda: Sequential([np.zeros(3)]), "expected a Layer"),
    (lambda: mlplab.layers.Input((0,)), "shape must be a tuple of positive integers"),
])
def test_constructors_validate(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


@pytest.mark.parametrize("x,y,match", [
    (X, np.where(Y == 1, np.inf, Y), r"y contains infinity \(first at index \(1,\)\)"),
    (X, np.where(Y == 1, -np.inf, Y).astype(float), "y contains infinity"),
    (np.full((10, 4), 1e39), Y, r"x must hold values within float32's range \(\|value\| <= "
                                r"3\.403e\+38\); received 1e\+39 at index \(0, 0\)"),
    (X + 1j, Y, r"x must hold real numbers; received dtype complex128"),
    (X, Y + 0j, r"y must hold real numbers"),
])
def test_fit_rejects_infinite_complex_and_unrepresentable_values(model, x, y, match):
    before = model.get_weights()
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(x, y, epochs=1, verbose=0)
    assert unchanged(model, before)
    with pytest.raises((ValueError, TypeError), match=match):
        model.evaluate(x, y)


def test_regression_targets_with_infinity_leave_model():
    m = Sequential([Input((4,)), Dense(2)], seed=0)
    m.compile(mlplab.SGD(0.1), "mse")
    before = m.get_weights()
    y = np.zeros((10, 2))
    y[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"fit\(\): y contains infinity \(first at index "
                                         r"\(3, 1\)\)"):
        m.fit(X, y, verbose=0)
    assert unchanged(m, before)


def test_float64_model_accepts_what_float32_cannot_hold():
    m = Sequential([Input((4,)), Dense(1)], seed=0, dtype="float64")
    m.set_weights([np.zeros((4, 1)), np.zeros(1)])
    np.testing.assert_array_equal(m.predict(np.full((1, 4), 1e39)), [[0.0]])
    m32 = Sequential([Input((4,)), Dense(1)], seed=0)
    with pytest.raises(ValueError, match=r"predict\(\): x must hold values within float32"):
        m32.predict(np.full((1, 4), -1e39))


@pytest.mark.parametrize("loss,units,activation,y,match", [
    ("binary_crossentropy", 1, "sigmoid", np.array([[-1.0], [1.0]] * 5),
     r"probabilities in \[0, 1\] for this loss; received values from -1 to 1"),
    ("categorical_crossentropy", 3, "softmax", 2 * np.eye(3)[Y],
     r"one-hot rows or class probabilities in \[0, 1\].*received values from 0 to 2"),
    ("kl_divergence", 3, "softmax", -np.eye(3)[Y], r"probabilities in \[0, 1\]"),
    ("hinge", 1, "tanh", np.full((10, 1), 0.5), r"-1/\+1 \(or 0/1\) labels.*such as 0\.5"),
    ("poisson", 1, "softplus", np.full((10, 1), -2.0), r"non-negative counts.*from -2"),
    ("sparse_categorical_crossentropy", 3, "softmax", Y + 3,
     r"integer class labels in \[0, 2\] for a model with 3 output units; received values "
     r"from 3 to 5"),
])
def test_labels_out_of_range_for_the_loss_leave_model(loss, units, activation, y, match):
    m = Sequential([Input((4,)), Dense(units, activation=activation)], seed=0)
    m.compile(mlplab.SGD(0.1), loss)
    before = m.get_weights()
    with pytest.raises(ValueError, match=r"fit\(\): y must hold " + match):
        m.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match=match):
        m.train_on_batch(X, y)
    assert unchanged(m, before)


def test_unknown_names_at_compile_leave_the_earlier_compile(model):
    optimizer, loss = model.optimizer, model.loss
    with pytest.raises(ValueError, match=r"Unknown loss 'nope'\. Available: .*mse.*sse"):
        model.compile("sgd", "nope")
    with pytest.raises(ValueError, match=r"Unknown optimizer 'sgdd'\. Available: adadelta.*sgd"
                                         r".*Did you mean 'sgd'\?"):
        model.compile("sgdd", "mse")
    with pytest.raises(ValueError, match=r"SGD\(learning_rate=-1\.0\): learning_rate must be a "
                                         r"positive finite number; received -1\.0"):
        model.compile({"name": "sgd", "learning_rate": -1.0}, "mse")
    assert model.optimizer is optimizer and model.loss is loss and model.compiled
    with pytest.raises(ValueError, match=r"Unknown activation 'nope'\. Available: .*relu"):
        mlplab.layers.Activation("nope")


def test_cli_rejects_a_non_positive_learning_rate(mnist_dir, capsys):
    from mlplab.cli import main

    code = main(["train", "--data", str(mnist_dir), "--samples", "50", "--epochs", "1",
                 "--learning-rate", "0", "--verbose", "0"])
    assert code == 2
    assert "learning_rate must be a positive finite number; received 0.0" in \
        capsys.readouterr().err


def test_targets_and_weights_beyond_float32_are_refused_by_name():
    model = mlplab.Sequential([Input((2,)), Dense(1)], seed=0)
    model.compile("sgd", "mse")
    before = [w.copy() for w in model.get_weights()]
    x = np.ones((3, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"fit\(\): y must hold values within float32's range"):
        model.fit(x, np.full((3, 1), 1e39), verbose=0)
    with pytest.raises(ValueError, match=r"set_weights\(\): weights\[0\] must hold values"):
        model.set_weights([np.full((2, 1), 1e39), np.zeros(1)])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_compute_gradients_checks_its_input():
    model = mlplab.Sequential([Input((2,)), Dense(1)], seed=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.compute_gradients(np.ones((3, 2)), np.ones((3, 1)))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"compute_gradients\(\): x contains NaN"):
        model.compute_gradients(np.array([[np.nan, 1.0]]), np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"compute_gradients\(\): x has 3 features"):
        model.compute_gradients(np.ones((2, 3)), np.ones((2, 1)))
    loss, grads = model.compute_gradients(np.ones((3, 2)), np.ones(3))  # 1-D y, one output
    assert np.isfinite(loss) and [g.shape for g in grads] == [(2, 1), (1,)]


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (300_000,), (1200, 784), (40, 3, 1100)])
def test_all_finite_agrees_with_isfinite_for_every_bad_value_and_place(dtype, shape, compiled,
                                                                       monkeypatch):
    """all_finite sums x * 0 in the compiled check (float32/float64, C order, slices on
    threads) or one dot product with zeros per slice in NumPy; it must say what isfinite
    says, with the bad value in the first, a middle and the last slice."""
    from mlplab import _validation
    from mlplab._validation import all_finite

    if compiled and mlplab.fast.kernels.load() is None and not os.environ.get("CI"):
        pytest.skip("the compiled kernels are not built (no C compiler)")
    if not compiled:
        monkeypatch.setattr(_validation, "_compiled_check", None)

    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 1e3).astype(dtype)
    x.flat[::97] = np.finfo(dtype).max    # the largest finite values: products with 0 stay 0
    x.flat[1::89] = -np.finfo(dtype).max
    assert all_finite(x)
    assert all_finite(x[::2]) and all_finite(np.asfortranarray(x))   # views, other layouts
    for bad in (np.nan, np.inf, -np.inf):
        for at in (0, x.size // 2, x.size - 1):
            y = x.copy()
            y.flat[at] = bad
            assert not all_finite(y) and not np.isfinite(y).all()
