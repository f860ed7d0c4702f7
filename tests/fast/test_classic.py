"""The compiled classic rules (mlplab.fast.classic, _classic.c) are the Python rules, bit for bit.

Each test fits the same estimator twice on the same data, once with the compiled epochs and
once with the Python rule (``mlplab.fast.use(False)``), and compares the final weights, every
trace (errors, E per epoch, the weight history, the updates) and the predictions with
``np.array_equal``. A counting wrapper around the compiled module checks that the compiled
loop ran in the first fit (and not in the second), so a silent fallback cannot pass for a match.
"""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from mlplab import (Adaline, AdalineRegressor, LinearNetwork, Madaline, Perceptron,
                    SingleLayerNetwork, fast)
from mlplab.fast import classic

# Where no C compiler built the module these skip; CI has one, so there they must run.
pytestmark = pytest.mark.skipif(not classic.available() and not os.environ.get("CI"),
                                reason="the compiled classic rules are off or not built")

TRACES = ("W_", "history_", "errors_", "weights_history_", "updates_", "n_epochs_",
          "converged_", "n_updates_")


class _Counting:
    """Stands in for the compiled module and counts the epochs it runs."""

    def __init__(self, module):
        self.module, self.calls = module, 0

    def __getattr__(self, name):
        fn = getattr(self.module, name)
        if not name.endswith("_epoch"):
            return fn

        def counted(*args):
            self.calls += 1
            return fn(*args)
        return counted


@pytest.fixture
def counting(monkeypatch):
    spy = _Counting(classic._c)
    monkeypatch.setattr(classic, "_c", spy)
    return spy


def _fit_both(make, x, y, spy, compiled=True):
    """(compiled fit, Python fit), after checking that only the first ran compiled loops."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on the non-separable data
        fast_model = make().fit(x, y)
        ran = spy.calls
        old = fast.use(False)
        try:
            python_model = make().fit(x, y)
        finally:
            fast.use(old)
    assert (ran > 0) == compiled, f"compiled epochs ran: {ran}"
    assert spy.calls == ran, "the Python fit called the compiled loop"
    return fast_model, python_model


def _assert_identical(a, b, x):
    for name in TRACES:
        if name in b.__dict__:
            assert name in a.__dict__, name
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        else:
            assert name not in a.__dict__, name
    assert np.array_equal(a.predict(x), b.predict(x))
    assert a.W_.dtype == b.W_.dtype == np.float64


def _classification(seed, n=120, n_features=5, classes=2, separable=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    if separable:
        scores = x @ rng.normal(size=(n_features, classes)) + rng.normal(size=classes)
        y = scores.argmax(axis=1) if classes > 2 else (scores[:, 0] > 0).astype(int)
    else:  # labels at random: no hyperplane separates them
        y = rng.integers(0, classes, n)
        y[:classes] = np.arange(classes)
    return x, y


def _regression(seed, n=120, n_features=5, outputs=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    y = x @ rng.normal(size=(n_features, outputs)) + 0.3 + 0.2 * rng.normal(size=(n, outputs))
    return x, (y[:, 0] if outputs == 1 else y)


# ---------------------------------------------------------------------- the perceptron rule
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("coding", ["binary", "bipolar"])
@pytest.mark.parametrize("classes,separable", [(2, True), (2, False), (3, True), (4, False)])
def test_perceptron(counting, seed, coding, classes, separable):
    x, y = _classification(seed, classes=classes, separable=separable)
    for options in ({}, {"shuffle": True, "random_state": seed, "learning_rate": 0.3},
                    {"init": "random", "random_state": seed, "record": "epochs"},
                    {"shuffle": True, "random_state": seed + 7, "record": None}):
        a, b = _fit_both(lambda: Perceptron(coding=coding, max_epochs=15, **options), x, y,
                         counting)
        _assert_identical(a, b, x)


def test_perceptron_one_feature_and_one_hot(counting):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 1))
    a, b = _fit_both(lambda: Perceptron(shuffle=True, random_state=1), x,
                     (x[:, 0] > 0.2).astype(int), counting)
    _assert_identical(a, b, x)
    x, y = _classification(6, classes=3)
    one_hot = np.where(np.eye(3)[y] > 0, 1, -1)  # the lectures' bipolar one-hot
    a, b = _fit_both(lambda: Perceptron(coding="bipolar", shuffle=True, random_state=2,
                                        max_epochs=10), x, one_hot, counting)
    _assert_identical(a, b, x)


def test_perceptron_converges_to_the_same_epoch(counting):
    x, y = _classification(3, n=60, n_features=2)
    a, b = _fit_both(lambda: Perceptron(max_epochs=500, shuffle=True, random_state=0), x, y,
                     counting)
    assert a.converged_ and b.converged_
    _assert_identical(a, b, x)


# ---------------------------------------------------------------------- the LMS / delta rule
DELTA_OPTIONS = [
    {"batch_size": 1},
    {"batch_size": 1, "shuffle": True},
    {"batch_size": 1, "normalized": True, "learning_rate": 0.5, "shuffle": True},
    {"batch_size": 1, "decay": 0.5, "init": "random"},
    {"batch_size": 7, "shuffle": True},
    {"batch_size": 32, "learning_rate": 0.002},
    {"batch_size": None, "learning_rate": 0.001},
    {"batch_size": None, "learning_rate": 0.001, "shuffle": True},
    {"batch_size": 500, "learning_rate": 0.001},  # larger than the data: the batch rule
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("options", DELTA_OPTIONS)
@pytest.mark.parametrize("outputs", [1, 3])
def test_adaline_regressor(counting, seed, options, outputs):
    x, y = _regression(seed, outputs=outputs)
    a, b = _fit_both(lambda: AdalineRegressor(max_epochs=12, random_state=seed, **options),
                     x, y, counting)
    _assert_identical(a, b, x)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("options", DELTA_OPTIONS)
@pytest.mark.parametrize("classes,separable", [(2, True), (2, False), (3, False)])
def test_adaline_classifier(counting, seed, options, classes, separable):
    x, y = _classification(seed, classes=classes, separable=separable)
    a, b = _fit_both(lambda: Adaline(max_epochs=12, random_state=seed, tol=1e-3, **options),
                     x, y, counting)
    _assert_identical(a, b, x)


@pytest.mark.parametrize("options", [opt for opt in DELTA_OPTIONS if "normalized" not in opt])
@pytest.mark.parametrize("outputs", [1, 2])
def test_linear_network_gradient_descent(counting, options, outputs):
    x, y = _regression(4, n=90, n_features=1 if outputs == 1 else 6, outputs=outputs)
    a, b = _fit_both(lambda: LinearNetwork(solver="gd", max_epochs=20, random_state=1,
                                           **{"learning_rate": 0.003, **options}),
                     x, y, counting)
    _assert_identical(a, b, x)


def test_delta_rule_stops_and_diverges_alike(counting):
    x, y = _regression(2)
    a, b = _fit_both(lambda: AdalineRegressor(max_epochs=500, tol=1e-3), x, y, counting)
    assert a.converged_ and a.n_epochs_ < 500
    _assert_identical(a, b, x)
    messages = []
    for fast_on in (True, False):  # alpha far too large: both raise at the same epoch
        old = fast.use(fast_on)
        try:
            with pytest.raises(ValueError, match="diverged at epoch") as error:
                AdalineRegressor(learning_rate=5.0, batch_size=None).fit(x, y)
        finally:
            fast.use(old)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


# ---------------------------------------------------------------------- Madaline Rule I
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_adalines,logic", [(1, "or"), (2, "or"), (2, "and"), (3, "majority"),
                                              (5, "majority"), (4, "and")])
@pytest.mark.parametrize("separable", [True, False])
def test_madaline(counting, seed, n_adalines, logic, separable):
    x, y = _classification(seed, n=80, n_features=3, separable=separable)
    for options in ({"random_state": seed}, {"shuffle": False, "random_state": seed,
                                             "learning_rate": 0.4}):
        a, b = _fit_both(lambda: Madaline(n_adalines=n_adalines, logic=logic, max_epochs=15,
                                          **options), x, y, counting)
        _assert_identical(a, b, x)


def test_madaline_xor_and_zero_weights(counting):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5, dtype=float)
    y = np.array([0, 1, 1, 0] * 5)
    for init in ("random", "zeros"):  # zeros: ties in |xi| everywhere (the stable sort)
        a, b = _fit_both(lambda: Madaline(n_adalines=3, init=init, random_state=3,
                                          max_epochs=40), x, y, counting)
        _assert_identical(a, b, x)


# ---------------------------------------------------------------------- where it falls back
@pytest.mark.parametrize("activation,loss", [("sigmoid", "cross_entropy"), ("tanh", "sse"),
                                             ("softmax", "cross_entropy")])
def test_single_layer_network_keeps_the_python_rule(counting, activation, loss):
    x, y = _classification(1, classes=3)
    a, b = _fit_both(lambda: SingleLayerNetwork(activation=activation, loss=loss, max_epochs=5,
                                                batch_size=4, tol=None), x, y, counting,
                     compiled=False)
    _assert_identical(a, b, x)


def test_switched_off_or_unbuilt_runs_python(counting, monkeypatch):
    x, y = _classification(0)
    old = fast.use(False)
    try:
        assert not classic.available()
        Perceptron(max_epochs=30).fit(x, y)
    finally:
        fast.use(old)
    assert counting.calls == 0
    monkeypatch.setattr(classic, "_c", None)  # built without a C compiler
    assert not classic.available()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MRI in 3 epochs need not converge
        Madaline(max_epochs=3, random_state=0).fit(x, y)
    assert counting.calls == 0


def test_unusual_arrays_are_declined():
    X, W, T = np.ones((5, 3)), np.zeros((3, 1)), np.ones((5, 1))
    options = {"coding": "binary", "record": True}
    assert classic.epoch("perceptron", X=X, W=W, T=T, **options) is not None
    assert classic.epoch("perceptron", X=X.astype(np.float32), W=W, T=T, **options) is None
    assert classic.epoch("perceptron", X=np.asfortranarray(X), W=W, T=T, **options) is None
    assert classic.epoch("perceptron", X=X, W=W[:2], T=T, **options) is None
    assert classic.epoch("delta_rule", X=X, W=W, D=T, f=None, loss="sse", batch_size=1,
                         normalized=False) is None  # not a linear unit


def test_perceptron_too_large_a_history_keeps_the_python_rule(counting, monkeypatch):
    x, y = _classification(2)
    monkeypatch.setattr(classic, "MAX_SNAPSHOT_BYTES", 1000)  # W after each sample: too much
    a, b = _fit_both(lambda: Perceptron(max_epochs=4), x, y, counting, compiled=False)
    _assert_identical(a, b, x)
    a, b = _fit_both(lambda: Perceptron(max_epochs=4, record="epochs"), x, y, counting)
    _assert_identical(a, b, x)


def test_pure_numpy_environment_switch():
    code = ("import mlplab; from mlplab.fast import classic; "
            "print(classic.available(), mlplab.neurons._base._accelerator is classic)")
    env = {**os.environ, "MLPLAB_PURE_NUMPY": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]


def test_compiled_products_are_numpys():
    """The one BLAS dispatch the loops use gives NumPy's @ on every shape they take: x_b @ W
    and x_b.T @ delta (x_b C-ordered, so x_b.T is a transposed view, as in the Python rule)."""
    rng = np.random.default_rng(9)
    for m, n, k in [(1, 51, 1), (1, 51, 4), (1, 2, 1), (40, 51, 1), (40, 51, 3), (7, 1, 5),
                    (300, 17, 2), (1, 300, 300)]:
        A, B = rng.normal(size=(m, n)), rng.normal(size=(n, k))
        out = np.empty((m, k))
        classic._c.product((m, n, k), False, A, B, out)
        assert np.array_equal(out, A @ B)
        x_b = rng.normal(size=(n, m))
        classic._c.product((m, n, k), True, x_b, B, out)
        assert np.array_equal(out, x_b.T @ B)
