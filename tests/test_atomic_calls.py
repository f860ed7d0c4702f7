"""A refused call changes nothing, and is refused with mlplab's own types (issue 16, part 1):
the failures the issue lists, one test each. The property suite (tests/property) generates the
general case."""
import copy

import numpy as np
import pytest

import mlplab
from mlplab import ArgumentError, ArgumentTypeError, MlplabError, NotFittedError
from mlplab import preprocessing as pp


def _trained(loss="categorical_crossentropy", n_out=3, metrics=("accuracy",), built=True):
    layers = [mlplab.Dense(4, activation="tanh"),
              mlplab.Dense(n_out, activation="sigmoid" if n_out == 1 else "softmax")]
    model = mlplab.Sequential(([mlplab.Input((2,))] if built else []) + layers, seed=0)
    model.compile(mlplab.optimizers.Adam(0.01), loss, list(metrics))
    return model


def _data(loss, n_out=3):
    x = np.random.default_rng(0).normal(size=(12, 2))
    labels = np.arange(12) % max(n_out, 2)
    if "sparse" in loss:
        return x, labels
    return x, (labels.reshape(-1, 1).astype(float) if n_out == 1 else np.eye(n_out)[labels])


def test_a_refused_compile_keeps_the_optimizer_and_its_state():
    model = _trained()
    model.fit(*_data("categorical_crossentropy"), epochs=1, verbose=0)
    optimizer, slots = model.optimizer, copy.deepcopy(model.optimizer.slots())
    iterations, loss = optimizer.iterations, model.loss
    with pytest.raises(ArgumentError, match="Unknown metric 'acuracy'"):
        model.compile("sgd", "mse", ["acuracy"])
    with pytest.raises(ArgumentError, match="needs integer labels"):
        model.compile("sgd", "categorical_crossentropy", ["sparse_categorical_accuracy"])
    assert model.optimizer is optimizer and optimizer.iterations == iterations > 0
    assert model.loss is loss
    for name, arrays in slots.items():
        for a, b in zip(arrays, optimizer.slots()[name]):
            np.testing.assert_array_equal(a, b)


def test_a_refused_compile_leaves_an_uncompiled_model_uncompiled():
    model = mlplab.Sequential([mlplab.Input((2,)), mlplab.Dense(1, activation="sigmoid")])
    with pytest.raises(ArgumentError, match="has 1 output"):
        model.compile("sgd", "binary_crossentropy", ["categorical_accuracy"])
    assert not model.compiled and model.optimizer is None and model.loss is None


@pytest.mark.parametrize("loss, n_out, metric, message", [
    ("sparse_categorical_crossentropy", 3, "top_k_categorical_accuracy", "needs one-hot"),
    ("sparse_categorical_crossentropy", 3, "categorical_accuracy", "needs one-hot"),
    ("sparse_categorical_crossentropy", 3, "mse", "one target per output"),
    ("sparse_categorical_crossentropy", 3, "binary_accuracy", "one target per output"),
    ("categorical_crossentropy", 3, "sparse_categorical_accuracy", "needs integer labels"),
    ("categorical_crossentropy", 3, "sparse_top_k_categorical_accuracy", "needs integer"),
    ("binary_crossentropy", 1, "categorical_accuracy", "has 1 output"),
    ("binary_crossentropy", 1, "top_k_categorical_accuracy", "has 1 output"),
])
def test_metrics_that_do_not_fit_are_refused_before_any_change(loss, n_out, metric, message):
    with pytest.raises(ArgumentError, match=message):     # built: at compile
        _trained(loss, n_out, [metric])
    model = _trained(loss, n_out, ["accuracy"], built=False)
    if n_out > 1 and "sparse" in loss or "sparse" in metric:
        with pytest.raises(ArgumentError, match=message):   # the loss alone tells: compile
            model.compile("adam", loss, [metric])
        return
    model.compile("adam", loss, [metric])   # unbuilt: the width is known only in fit
    with pytest.raises(ArgumentError, match=message):
        model.fit(*_data(loss, n_out), epochs=1, verbose=0)
    assert not model.built and model.optimizer.iterations == 0


@pytest.mark.parametrize("loss, n_out, metric", [
    ("sparse_categorical_crossentropy", 3, "sparse_top_k_categorical_accuracy"),
    ("sparse_categorical_crossentropy", 3, "accuracy"),
    ("categorical_crossentropy", 3, "top_k_categorical_accuracy"),
    ("binary_crossentropy", 1, "binary_accuracy"),
    ("binary_crossentropy", 1, "auc"),
    ("mse", 3, "mae"),
])
def test_metrics_that_fit_are_accepted(loss, n_out, metric):
    model = _trained(loss, n_out, [metric])
    logs = model.fit(*_data(loss, n_out), epochs=1, verbose=0).history
    assert np.isfinite(logs[metric][0])


@pytest.mark.parametrize("shape", ["784", b"784", 2.0, (3, "4"), (0,), (), None, True, (2, -1)])
def test_input_refuses_anything_but_positive_integers(shape):
    with pytest.raises(MlplabError, match="shape must be a tuple of positive integers"):
        mlplab.Input(shape)


def test_input_accepts_an_int_a_tuple_and_a_list():
    assert mlplab.Input(784).shape == mlplab.Input((784,)).shape == mlplab.Input([784]).shape


@pytest.mark.parametrize("kwargs, error", [
    (dict(units=0), ArgumentError), (dict(units=-1), ArgumentError),
    (dict(units=2.5), ArgumentError), (dict(units="a"), ArgumentError),
    (dict(units=True), ArgumentError), (dict(units=2, activation="nope"), ArgumentError),
    (dict(units=2, activation=3), ArgumentTypeError),
    (dict(units=2, kernel_initializer="nope"), ArgumentError),
    (dict(units=2, input_shape="3"), ArgumentTypeError),
    (dict(units=2, name=3), ArgumentTypeError)])
def test_dense_checks_its_arguments(kwargs, error):
    with pytest.raises(error):
        mlplab.Dense(**kwargs)


@pytest.mark.parametrize("make", [
    lambda: mlplab.Dropout(1.0), lambda: mlplab.Dropout(-0.1), lambda: mlplab.Dropout("0.5"),
    lambda: mlplab.Dropout(0.5, seed=-1), lambda: mlplab.optimizers.SGD(-0.1),
    lambda: mlplab.optimizers.SGD(float("nan")), lambda: mlplab.optimizers.Adam(beta_1=1.0),
    lambda: mlplab.initializers.RandomUniform(1.0, 0.0),
    lambda: mlplab.initializers.RandomNormal(stddev=-1),
    lambda: mlplab.initializers.VarianceScaling(mode="fan"),
    lambda: mlplab.initializers.Constant(10 ** 400),
    lambda: mlplab.schedules.PiecewiseConstantDecay(3, [0.1])])
def test_constructors_refuse_bad_values_with_mlplab_errors(make):
    with pytest.raises(MlplabError):
        make()


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "a", True, np.ones(2)])
def test_evaluate_and_predict_check_batch_size(batch_size):
    model = _trained()
    x, y = _data("categorical_crossentropy")
    with pytest.raises(ArgumentError, match="batch_size must be a positive integer"):
        model.evaluate(x, y, batch_size=batch_size, verbose=0)
    with pytest.raises(ArgumentError, match="batch_size must be a positive integer"):
        model.predict(x, batch_size=batch_size)


@pytest.mark.parametrize("kwargs", [dict(epochs=0), dict(epochs=2.0), dict(batch_size=0),
                                    dict(validation_split=1.0), dict(validation_split="0.2"),
                                    dict(verbose=3), dict(verbose=np.zeros(2)),
                                    dict(shuffle="yes"), dict(initial_epoch=-1)])
def test_a_refused_fit_changes_nothing(kwargs):
    model = _trained(built=False)
    with pytest.raises(MlplabError):
        model.fit(*_data("categorical_crossentropy"), **kwargs)
    assert not model.built and model.history is None


def test_a_refused_build_changes_nothing():
    model = mlplab.Sequential([mlplab.Dense(2), mlplab.Dense(1)])
    with pytest.raises(ArgumentTypeError):
        model.build("3")
    with pytest.raises(ArgumentError):
        model.build((2, 2))   # Dense needs flat samples
    assert not model.built and model.input_shape is None


def test_set_weights_refuses_a_non_list_and_keeps_the_weights():
    model = _trained()
    before = model.get_weights()
    for bad in (None, 3, np.ones(3), before[:-1], [np.ones((9, 9))] * len(before)):
        with pytest.raises(MlplabError):
            model.set_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


TABLE = {"w": np.array([1.0, 3.0, 2.0]), "n": np.array([5.0, 6.0, 9.0]),
         "fur": np.array(["long", "none", "long"], dtype=object)}


def test_column_transformer_passthrough_entry_as_scikit_learn():
    from sklearn.compose import ColumnTransformer as SkColumnTransformer
    from sklearn.preprocessing import OneHotEncoder as SkOneHotEncoder

    ours = pp.ColumnTransformer([("cat", pp.OneHotEncoder(), ["fur"]),
                                 ("keep", "passthrough", ["w"]), ("gone", "drop", ["n"])])
    x = np.column_stack([TABLE["w"], TABLE["n"], TABLE["fur"]]).astype(object)
    theirs = SkColumnTransformer([("cat", SkOneHotEncoder(), [2]), ("keep", "passthrough", [0]),
                                  ("gone", "drop", [1])])
    np.testing.assert_array_equal(ours.fit_transform(TABLE),
                                  theirs.fit_transform(x).astype(float))
    assert ours.get_feature_names_out() == ["fur_long", "fur_none", "w"]


def test_a_refused_column_transformer_fit_leaves_it_as_it_was():
    encoder = pp.OneHotEncoder()
    ct = pp.ColumnTransformer([("cat", encoder, ["fur"])], remainder="passthrough")
    bad = dict(TABLE, n=np.array(["a", "b", "c"], dtype=object))   # a non-numeric remainder
    with pytest.raises(ArgumentTypeError, match="remainder columns"):
        ct.fit(bad)
    assert not hasattr(ct, "columns_") and not hasattr(encoder, "categories_")
    ct.fit(TABLE)
    fitted = copy.deepcopy(ct.__dict__)
    with pytest.raises(ArgumentTypeError):
        ct.fit(bad)
    assert ct.columns_[0][1].categories_[0].tolist() == \
        fitted["columns_"][0][1].categories_[0].tolist()
    assert ct.remainder_ == fitted["remainder_"] == ["w", "n"]


def test_transformers_raise_not_fitted_error_as_scikit_learn():
    from sklearn.exceptions import NotFittedError as SkNotFittedError

    for transformer in (pp.StandardScaler(), pp.OneHotEncoder(), pp.LabelEncoder()):
        with pytest.raises(NotFittedError):
            transformer.transform([[1.0]])
        with pytest.raises(SkNotFittedError):
            transformer.transform([[1.0]])


def test_argument_errors_are_still_value_and_type_errors():
    with pytest.raises(ValueError):
        mlplab.Dense(0)
    with pytest.raises(TypeError):
        mlplab.Input("784")
