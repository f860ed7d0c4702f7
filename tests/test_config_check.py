"""The configuration check: each common mistake warns, correct set-ups stay silent."""
import warnings

import numpy as np
import pytest

import mlplab
from mlplab import ConfigWarning
from mlplab.layers import Dense, Input


def net(out_units, out_act, hidden_act="relu", n_in=2):
    return mlplab.Sequential([Input((n_in,)), Dense(4, activation=hidden_act),
                              Dense(out_units, activation=out_act)], seed=0)


@pytest.fixture
def x(rng):
    return rng.normal(size=(40, 2))


def fit_messages(model, x, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=1, verbose=0)
    return [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]


def compile_messages(model, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(*args, **kwargs)
    return [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]


def test_bipolar_targets_with_sigmoid(x):
    model = net(1, "sigmoid")
    model.compile("sgd", "mse")
    y = np.where(x[:, :1] > 0, 1.0, -1.0)
    msgs = fit_messages(model, x, y)
    assert len(msgs) == 1 and "coded -1/+1 but the output activation is sigmoid" in msgs[0]
    assert "(y + 1) / 2" in msgs[0]
    assert fit_messages(model, x, (y + 1) / 2) == []


def test_binary_targets_with_tanh(x):
    model = net(1, "tanh")
    model.compile("sgd", "mse")
    y = (x[:, :1] > 0).astype(float)
    msgs = fit_messages(model, x, y)
    assert len(msgs) == 1 and "coded 0/1 but the output activation is tanh" in msgs[0]
    assert fit_messages(model, x, 2 * y - 1) == []


def test_softmax_with_binary_crossentropy():
    with pytest.warns(ConfigWarning, match=r"softmax with loss='binary_crossentropy'.*"
                                           r"categorical_crossentropy"):
        net(3, "softmax").compile("adam", "binary_crossentropy")
    assert compile_messages(net(3, "softmax"), "adam", "categorical_crossentropy") == []


def test_softmax_on_one_unit():
    with pytest.warns(ConfigWarning, match=r"softmax on a single unit: its output is always 1"):
        net(1, "softmax").compile("adam", "mse")


def test_class_labels_to_regression_loss(x, rng):
    model = net(1, None)
    model.compile("adam", "mse")
    labels = rng.integers(0, 4, size=(40, 1)).astype(float)
    msgs = fit_messages(model, x, labels)
    assert len(msgs) == 1 and "look like class labels 0..3" in msgs[0]
    assert "sparse_categorical_crossentropy" in msgs[0]
    assert fit_messages(model, x, rng.normal(size=(40, 1))) == []


def test_unscaled_inputs_into_sigmoid(rng):
    model = net(1, "sigmoid", hidden_act="sigmoid", n_in=3)
    model.compile("adam", "binary_crossentropy")
    x = np.c_[rng.normal(size=40) * 1000, rng.normal(size=40), rng.normal(size=40) * 0.001]
    y = (x[:, :1] > 0).astype(float)
    msgs = fit_messages(model, x, y)
    assert len(msgs) == 1 and "The inputs are not scaled" in msgs[0]
    scaled = (x - x.mean(0)) / x.std(0)
    assert fit_messages(model, scaled, y) == []
    relu = net(1, "sigmoid", hidden_act="relu", n_in=3)   # relu units do not saturate
    relu.compile("adam", "binary_crossentropy")
    assert fit_messages(relu, x, y) == []


@pytest.mark.parametrize("optimizer, bad", [
    (mlplab.SGD(10.0), True), (mlplab.SGD(0.5), False), (mlplab.SGD(1e-7), True),
    (mlplab.Adam(1.0), True), (mlplab.Adam(0.003), False), (mlplab.RMSprop(0.5), True),
])
def test_learning_rate_range(optimizer, bad):
    msgs = compile_messages(net(1, None), optimizer, "mse")
    assert bool(msgs) == bad
    if bad:
        assert f"learning_rate={optimizer.learning_rate:g} is very" in msgs[0]


def test_silenceable(x):
    y = np.where(x[:, :1] > 0, 1.0, -1.0)
    model = net(1, "sigmoid")
    assert compile_messages(model, mlplab.SGD(10.0), "mse", check_config=False) == []
    assert fit_messages(model, x, y) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=ConfigWarning)
        model.compile(mlplab.SGD(10.0), "mse")
        model.fit(x, y, epochs=1, verbose=0)


def test_warnings_point_at_the_callers_line(x):
    with pytest.warns(ConfigWarning) as record:
        net(1, "softmax").compile("adam", "mse")
    assert record[0].filename == __file__


@pytest.mark.parametrize("name", sorted(mlplab.config_check.USUAL_LEARNING_RATES))
def test_learning_rate_range_every_optimizer(name):
    """Keras's default rate is silent; ten times above or below the usual range warns."""
    cls = type(mlplab.optimizers.get(name))
    low, high = mlplab.config_check.USUAL_LEARNING_RATES[name]
    assert compile_messages(net(1, None), cls(), "mse") == []
    big, small = compile_messages(net(1, None), cls(high * 10), "mse"), \
        compile_messages(net(1, None), cls(low / 10), "mse")
    assert len(big) == 1 and "is very large" in big[0] and "diverge" in big[0]
    assert len(small) == 1 and "is very small" in small[0]
    assert f"Keras's default for it is {cls().learning_rate:g}" in big[0]


def test_unscaled_inputs_into_tanh(rng):
    model = net(1, "tanh", hidden_act="tanh", n_in=2)
    model.compile("sgd", "mse")
    x = np.c_[rng.normal(size=40) * 500 + 2000, rng.normal(size=40)]   # e.g. raw areas
    y = np.where(x[:, 1:] > 0, 1.0, -1.0)
    msgs = fit_messages(model, x, y)
    assert len(msgs) == 1 and "not scaled" in msgs[0] and "'tanh' units" in msgs[0]
    assert fit_messages(model, (x - x.mean(0)) / x.std(0), y) == []
