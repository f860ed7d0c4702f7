"""Regularization (L1/L2 penalties, dropout, MaxNorm) and initializers."""
import math

import numpy as np
import pytest

import mlplab
from mlplab import constraints, initializers, regularizers
from mlplab.layers import Dense, Dropout, Input


# ------------------------------------------------------------------ penalties
def _model(reg_kernel, reg_bias=None):
    model = mlplab.Sequential([Input((3,)), Dense(4, activation="tanh",
                                                  kernel_regularizer=reg_kernel,
                                                  bias_regularizer=reg_bias),
                               Dense(2, kernel_regularizer=reg_kernel)],
                              seed=3, dtype="float64")
    W = model.get_weights()
    model.set_weights([w + 0.1 for w in W])  # non-zero biases
    model.compile("sgd", "mse")
    return model


def _numeric_gradients(model, x, y, eps=1e-6):
    params = model.trainable_params
    out = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = model.compute_gradients(x, y)[0]
            p[idx] = old - eps
            down = model.compute_gradients(x, y)[0]
            p[idx] = old
            g[idx] = (up - down) / (2 * eps)
        out.append(g)
    return out


@pytest.mark.parametrize("kernel, bias", [
    (regularizers.L2(0.05), None),
    (regularizers.L2(0.05), regularizers.L2(0.2)),
    (regularizers.L1L2(l1=0.01, l2=0.03), regularizers.L1(0.02)),
])
def test_penalty_gradients_match_finite_differences(rng, kernel, bias):
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    model = _model(kernel, bias)
    _, grads = model.compute_gradients(x, y)
    for g, n in zip(grads, _numeric_gradients(model, x, y)):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)


def test_l2_adds_exactly_the_differentiated_penalty(rng):
    """Regularized minus plain gradients equal d/dW (l2 sum W^2) by finite differences."""
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    with_reg, plain = _model(regularizers.L2(0.05)), _model(None)
    _, g_reg = with_reg.compute_gradients(x, y)
    _, g_plain = plain.compute_gradients(x, y)
    W = with_reg.get_weights()[0]
    eps = 1e-6
    penalty = lambda A: 0.05 * np.sum(A ** 2)  # noqa: E731
    numeric = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += eps
        Wm[idx] -= eps
        numeric[idx] = (penalty(Wp) - penalty(Wm)) / (2 * eps)
    np.testing.assert_allclose(g_reg[0] - g_plain[0], numeric, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(g_reg[1], g_plain[1], rtol=1e-12)  # bias not regularized


def test_penalty_is_added_to_reported_loss(rng):
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    model = _model(regularizers.L1L2(l1=0.01, l2=0.03))
    W1, _, W2, _ = model.get_weights()
    data_loss = np.mean((model.predict(x) - y) ** 2)
    penalty = sum(0.01 * np.abs(W).sum() + 0.03 * (W ** 2).sum() for W in (W1, W2))
    assert model.evaluate(x, y) == pytest.approx(data_loss + penalty, rel=1e-12)


def test_regularizers_by_name():
    layer = Dense(2, kernel_regularizer="l2", bias_regularizer="l1")
    assert layer.kernel_regularizer.l2 == 0.01 and layer.bias_regularizer.l1 == 0.01


# ------------------------------------------------------------------ dropout
def test_dropout_keeps_expected_activation():
    layer = Dropout(0.3, seed=0)
    layer.build((50,), np.random.default_rng(0), np.float64)
    X = np.linspace(0.5, 2.0, 50)[None, :]
    Y = np.stack([layer.forward(X, training=True)[0] for _ in range(4000)])
    np.testing.assert_allclose(Y.mean(axis=0), X[0], rtol=0.05)  # each unit
    assert abs(Y.mean() / X.mean() - 1) < 0.01                   # the mean activation
    assert abs((Y == 0).mean() - 0.3) < 0.01                     # the drop rate
    kept = Y[Y != 0] / np.broadcast_to(X, Y.shape)[Y != 0]
    np.testing.assert_allclose(kept, 1 / 0.7)                    # inverted scaling


def test_dropout_backward_uses_the_same_mask():
    layer = Dropout(0.5, seed=1)
    layer.build((20,), np.random.default_rng(0), np.float64)
    X = np.ones((3, 20))
    Y = layer.forward(X, training=True)
    np.testing.assert_array_equal(layer.backward(np.ones_like(X)), Y)


def _dropout_model(seed=0):
    model = mlplab.Sequential([Input((4,)), Dense(16, activation="relu"), Dropout(0.5),
                               Dense(1)], seed=seed, dtype="float64")
    model.compile("sgd", "mse")
    return model


def test_dropout_off_in_predict_and_evaluate(rng):
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 1))
    model = _dropout_model()
    p1, p2 = model.predict(x), model.predict(x)
    np.testing.assert_array_equal(p1, p2)
    W1, b1, W2, b2 = model.get_weights()
    np.testing.assert_allclose(p1, np.maximum(x @ W1 + b1, 0) @ W2 + b2, rtol=1e-12)
    assert model.evaluate(x, y) == pytest.approx(np.mean((p1 - y) ** 2), rel=1e-12)
    # in training the masks do change the output
    assert not np.allclose(model.forward(x, training=True), p1)


def test_dropout_is_seeded(rng):
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 1))
    a, b, c = _dropout_model(5), _dropout_model(5), _dropout_model(6)
    for m in (a, b, c):
        m.fit(x, y, epochs=3, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_dropout_rate_validation():
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\); received 1"):
        Dropout(1)


# ------------------------------------------------------------------ MaxNorm
def test_max_norm_constraint_after_training(rng):
    x = rng.normal(size=(40, 5)) * 3
    y = rng.normal(size=(40, 1)) * 3
    model = mlplab.Sequential([Input((5,)), Dense(8, activation="tanh",
                                                  kernel_constraint=constraints.MaxNorm(0.5)),
                               Dense(1)], seed=0)
    model.compile(mlplab.SGD(0.1), "mse", check_config=False)
    model.fit(x, y, epochs=5, verbose=0)
    norms = np.linalg.norm(model.get_weights()[0], axis=0)
    assert norms.max() <= 0.5 * (1 + 1e-6)
    assert norms.max() > 0.45  # the constraint was active, not a no-op


def test_max_norm_formula():
    W = np.array([[3.0, 0.1], [4.0, 0.1]])  # column norms 5 and 0.141
    out = constraints.MaxNorm(2.0)(W)
    np.testing.assert_allclose(out[:, 0], W[:, 0] * 2 / (5 + 1e-7))
    np.testing.assert_allclose(out[:, 1], W[:, 1] * 0.1414213562 / (0.1414213562 + 1e-7),
                               rtol=1e-9)


# ------------------------------------------------------------------ initializers
FAN_IN, FAN_OUT = 400, 300
SHAPE = (FAN_IN, FAN_OUT)


def _draw(name, seed=0, dtype=np.float64, shape=SHAPE):
    return initializers.get(name)(shape, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize("name, limit", [
    ("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("he_uniform", math.sqrt(6 / FAN_IN)),
    ("lecun_uniform", math.sqrt(3 / FAN_IN)),
    ("random_uniform", 0.05),
])
def test_uniform_initializers(name, limit):
    W = _draw(name)
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit
    assert W.std() == pytest.approx(limit / math.sqrt(3), rel=0.01)
    assert abs(W.mean()) < 0.01 * limit


@pytest.mark.parametrize("name, std", [
    ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("he_normal", math.sqrt(2 / FAN_IN)),
    ("lecun_normal", math.sqrt(1 / FAN_IN)),
])
def test_truncated_normal_variance_scaling(name, std):
    """Keras's variance scaling: the truncated draws keep the target standard deviation, and
    nothing lies beyond two standard deviations of the untruncated normal."""
    W = _draw(name)
    assert W.std() == pytest.approx(std, rel=0.01)
    assert np.abs(W).max() <= 2 * std / 0.87962566103423978


def test_random_normal_and_truncated_normal():
    W = _draw("random_normal")
    assert W.std() == pytest.approx(0.05, rel=0.01) and abs(W.mean()) < 1e-3
    T = _draw("truncated_normal")
    assert np.abs(T).max() <= 0.1
    # a N(0, 1) truncated to [-2, 2] has standard deviation 0.8796
    assert T.std() == pytest.approx(0.05 * 0.87962566103423978, rel=0.01)


def test_constant_zeros_ones():
    assert np.all(_draw("zeros") == 0) and np.all(_draw("ones") == 1)
    init = initializers.Constant(0.7)
    assert np.all(init((3, 2), np.random.default_rng(0), np.float32) == np.float32(0.7))


@pytest.mark.parametrize("shape", [(50, 20), (20, 50)])
def test_orthogonal(shape):
    W = _draw("orthogonal", shape=shape)
    small = min(shape)
    gram = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


@pytest.mark.parametrize("name", ["random_uniform", "random_normal", "truncated_normal",
                                  "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                                  "lecun_uniform", "lecun_normal", "orthogonal"])
def test_initializers_are_seeded_and_typed(name):
    a, b, c = _draw(name, 1, np.float32, (20, 10)), _draw(name, 1, np.float32, (20, 10)), \
        _draw(name, 2, np.float32, (20, 10))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and a.dtype == np.float32


def test_dense_default_is_glorot_uniform_and_model_seed_fixes_weights():
    layer = Dense(3)
    assert layer.kernel_initializer.name == "glorot_uniform"
    make = lambda s: mlplab.Sequential([Input((4,)), Dense(3)], seed=s).get_weights()[0]  # noqa
    np.testing.assert_array_equal(make(9), make(9))
    assert not np.array_equal(make(9), make(10))


@pytest.mark.parametrize("call, match", [
    (lambda: regularizers.L2(-0.01), r"L2\(-0.01\): l2 must be a non-negative finite number"),
    (lambda: regularizers.L1(float("inf")), r"L1\(inf\): l1 must be a non-negative"),
    (lambda: regularizers.L1L2(l1=0.1, l2="big"), r"L1L2\(l1=0.1, l2='big'\): l2 must be"),
])
def test_regularizer_factors_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_regularizer_repr_and_config_round_trip():
    for reg in (regularizers.L1(0.1), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.3)):
        twin = regularizers.get(reg.get_config())
        assert type(twin) is type(reg) and repr(twin) == repr(reg)
    assert repr(regularizers.L2(0.2)) == "L2(l2=0.2)"
