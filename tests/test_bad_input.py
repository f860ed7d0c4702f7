"""Each bad input gets a clear error naming the argument, and leaves the model as it was."""
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
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
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
    ({"verbose": 3}, "verbose must be 0, 1 or 2"),
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
