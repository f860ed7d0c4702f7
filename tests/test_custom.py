"""Custom losses (Python functions of Tensors) and custom layers (forward only) in Sequential.

References: the hand-written engine (a built-in loss or layer computing the same function),
central finite differences (``mlplab.gradcheck``), and learning on Iris to a stated accuracy.
"""
import numpy as np
import pytest

from mlplab import Sequential, autodiff as ad, gradcheck
from mlplab.autodiff import functional as F
from mlplab.losses import FunctionLoss
from mlplab.datasets import load_iris
from mlplab.layers import Activation, CustomLayer, Dense, Input, Lambda
from mlplab.optimizers import Adam
from mlplab.preprocessing import to_categorical


class Scale(CustomLayer):
    """Y = X * s: one learned factor per feature."""

    def build(self, input_shape):
        self.s = self.add_weight(input_shape, initializer="ones", name="scale")

    def forward(self, x):
        return x * self.s


class TanhDense(CustomLayer):
    """Dense with tanh, written as its forward pass only."""

    def __init__(self, units, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_regularizer = kernel_regularizer

    def build(self, input_shape):
        self.W = self.add_weight((input_shape[0], self.units), name="kernel",
                                 regularizer=self.kernel_regularizer)
        self.b = self.add_weight((self.units,), initializer="zeros", name="bias")
        super().build(input_shape)  # Keras habit; allowed

    def forward(self, x, training=False):
        return ad.tanh(x @ self.W + self.b)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def huber(y_true, y_pred, delta=1.0):
    """Huber loss per sample: 1/2 r^2 for |r| <= delta, else delta (|r| - delta / 2)."""
    r = ad.abs(y_pred - y_true)
    return ad.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).mean(axis=-1)


def iris_split():
    x, y = load_iris()
    idx = np.random.default_rng(0).permutation(len(x))
    train, test = idx[:120], idx[120:]
    return x, to_categorical(y, 3), train, test


def data(seed=0, n=8):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 2))


# -- learning ----------------------------------------------------------------------------------
def test_huber_loss_function_trains_iris():
    x, Y, train, test = iris_split()
    xs = (x - x[train].mean(0)) / x[train].std(0)
    model = Sequential([Input((4,)), Dense(8, activation="tanh"),
                        Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.01), loss=huber, metrics=["accuracy"])
    history = model.fit(xs[train], Y[train], epochs=150, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.25 * history.history["loss"][0]
    assert model.evaluate(xs[train], Y[train])[1] >= 0.95
    assert model.evaluate(xs[test], Y[test])[1] >= 0.9  # 27 of the 30 held-out flowers


def test_learned_scale_layer_trains_iris():
    x, Y, train, test = iris_split()
    x = x / 10.0  # unstandardized: the Scale layer has something to learn
    model = Sequential([Input((4,)), Scale(), Dense(8, activation="tanh"),
                        Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[train], Y[train], epochs=150, batch_size=16, verbose=0)
    assert not np.allclose(model.layers[0].s.data, 1.0)  # the scale did learn
    assert model.evaluate(x[train], Y[train])[1] >= 0.95
    assert model.evaluate(x[test], Y[test])[1] >= 0.9


# -- gradients of custom pieces against the hand-written engine and finite differences ---------
def two_models(first, second, loss_a="mse", loss_b="mse", seed=0):
    ma = Sequential([Input((3,)), first, Dense(2, activation="sigmoid")], seed=seed,
                    dtype="float64")
    mb = Sequential([Input((3,)), second, Dense(2, activation="sigmoid")], seed=seed,
                    dtype="float64")
    ma.compile(optimizer="sgd", loss=loss_a)
    mb.compile(optimizer="sgd", loss=loss_b)
    return ma, mb


def assert_same_gradients(ma, mb, x, y, tol=1e-12):
    la, ga = ma.compute_gradients(x, y)
    lb, gb = mb.compute_gradients(x, y)
    assert abs(la - lb) <= tol * abs(lb)
    assert len(ga) == len(gb)
    for a, b in zip(ga, gb):
        np.testing.assert_allclose(a, b, rtol=tol, atol=1e-15)


def test_custom_dense_equals_dense():
    x, y = data()
    ma, mb = two_models(TanhDense(4), Dense(4, activation="tanh"))
    mb.set_weights(ma.get_weights())
    assert [w.shape for w in ma.get_weights()] == [(3, 4), (4,), (4, 2), (2,)]
    np.testing.assert_allclose(ma.predict(x), mb.predict(x), rtol=1e-14)
    assert_same_gradients(ma, mb, x, y)


def test_lambda_equals_activation_layer():
    x, y = data()
    ma, mb = two_models(Lambda(F.tanh), Activation("tanh"))
    ma.layers.insert(0, Dense(4, activation="linear"))
    mb.layers.insert(0, Dense(4, activation="linear"))
    ma.build((3,))
    mb.build((3,))
    mb.set_weights(ma.get_weights())
    assert_same_gradients(ma, mb, x, y)


@pytest.mark.parametrize("style", ["per_sample", "per_output", "scalar"])
def test_function_loss_equals_builtin_mse(style):
    def my_mse(y_true, y_pred):
        sq = (y_pred - y_true) ** 2
        return {"per_sample": sq.mean(axis=-1), "per_output": sq, "scalar": sq.mean()}[style]

    x, y = data()
    ma, mb = two_models(Dense(4, activation="tanh"), Dense(4, activation="tanh"),
                        loss_a=my_mse, loss_b="mse")
    mb.set_weights(ma.get_weights())
    assert_same_gradients(ma, mb, x, y)
    assert abs(ma.evaluate(x, y) - mb.evaluate(x, y)) < 1e-14


def test_gradcheck_of_custom_layers_and_loss():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    model = Sequential([Input((3,)), Scale(), TanhDense(4, kernel_regularizer="l2"),
                        Lambda(lambda h: h * F.sigmoid(h)),
                        Dense(2)], seed=1)
    model.compile(optimizer="sgd", loss=huber)
    errors = gradcheck(model, x, y)
    assert len(errors) == 5  # scale, kernel, bias, Dense kernel, Dense bias
    assert max(errors.values()) < 1e-6


# -- the Layer interface -----------------------------------------------------------------------
def test_weights_summary_and_fit_interface():
    model = Sequential([Input((3,)), Scale(name="scale"), TanhDense(5, name="hidden"), Dense(2)],
                       seed=0)
    assert model.count_params() == 3 + (3 * 5 + 5) + (5 * 2 + 2)
    lines = []
    model.summary(print_fn=lines.append)
    assert "scale (Scale)" in lines[0] and "hidden (TanhDense)" in lines[0]
    assert "(None, 5)" in lines[0]
    weights = model.get_weights()
    new = [w + 1.0 for w in weights]
    model.set_weights(new)
    for w, n in zip(model.get_weights(), new):
        np.testing.assert_array_equal(w, n)
    assert model.layers[1].param_names == ["kernel", "bias"]
    x, y = data(n=20)
    model.compile(optimizer="sgd", loss="mse")
    before = model.evaluate(x, y)
    model.fit(x, y, epochs=20, batch_size=5, verbose=0)
    assert model.evaluate(x, y) < before
    twin = model.clone(dtype="float64")
    np.testing.assert_allclose(twin.predict(x), model.predict(x), rtol=1e-5)


def test_lambda_output_shape_inferred_and_declared():
    widen = Lambda(lambda x: ad.concatenate([x, x ** 2], axis=1))
    model = Sequential([Input((3,)), widen, Dense(1)], seed=0)
    assert widen.output_shape == (6,) and model.layers[1].W.shape == (6, 1)
    declared = Lambda(lambda x: x[:, :2], output_shape=(2,))
    assert Sequential([Input((3,)), declared], seed=0).output_shape == (2,)
    assert declared.get_config()["output_shape"] == [2]


def test_forward_only_subclass_without_weights():
    class Square(CustomLayer):
        def forward(self, x):
            return x * x

    x, y = data()
    model = Sequential([Input((3,)), Dense(3), Square(), Dense(2)], seed=0, dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    assert model.count_params() == 12 + 8
    assert max(gradcheck(model, x, y).values()) < 1e-6


# -- errors ------------------------------------------------------------------------------------
def test_errors_name_the_problem():
    with pytest.raises(TypeError, match=r"Lambda\(function=3\): function must be callable.*int"):
        Lambda(3)
    with pytest.raises(TypeError, match=r"Lambda layer 'numpy_fn': its function must return a "
                                        r"Tensor.*received ndarray"):
        Sequential([Input((3,)), Lambda(lambda x: np.ones((2, 3)), name="numpy_fn")])
    with pytest.raises(ValueError, match=r"must keep the batch axis first.*output shape \(3,\)"):
        Sequential([Input((3,)), Lambda(lambda x: x.sum(axis=0), name="drop_batch")])
    with pytest.raises(RuntimeError, match=r"Scale.add_weight\(\): call it inside build\(\)"):
        Scale().add_weight((3,))

    class NoForward(CustomLayer):
        pass

    with pytest.raises(NotImplementedError, match=r"NoForward: define forward\(self, x\)"):
        Sequential([Input((3,)), NoForward()])


@pytest.mark.parametrize("fn, match", [
    (lambda t, p: p.sum(axis=0), r"loss function <lambda>: must return a scalar or one value "
                                 r"per sample \(shape \(8,\)\); received shape \(2,\)"),
    (lambda t, p: 1.0, r"loss function <lambda>: must return a Tensor.*received float"),
])
def test_bad_loss_functions(fn, match):
    x, y = data()
    model = Sequential([Input((3,)), Dense(2)], seed=0)
    model.compile(optimizer="sgd", loss=fn)
    with pytest.raises((ValueError, TypeError), match=match):
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)


def test_function_loss_sees_refilled_buffers():
    """fit refills the same batch buffers; a loss must not reuse the previous batch's graph."""
    loss = FunctionLoss(lambda t, p: ((p - t) ** 2).mean(axis=-1))
    Y, D = np.ones((2, 2)), np.zeros((2, 2))
    np.testing.assert_array_equal(loss.per_sample(Y, D), [1.0, 1.0])
    Y[...] = 2.0
    np.testing.assert_array_equal(loss.per_sample(Y, D), [4.0, 4.0])
    np.testing.assert_array_equal(loss.gradient(Y, D), np.full((2, 2), 1.0))  # 2 (y - d) / (NK)
