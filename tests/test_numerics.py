"""Activations and losses at extreme inputs: finite values, no overflow warnings, no log(0).

pytest turns every RuntimeWarning (overflow, divide by zero, invalid value) into an error.
"""
import numpy as np
import pytest

import mlplab
from mlplab import activations, losses

EXTREME = np.array([[-1000.0, -500.0, -50.0, -1e-8, 0.0, 1e-8, 50.0, 500.0, 1000.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [n for n in activations.REGISTRY.names() if n not in
                                  ("exponential", "exp")])
def test_activations_are_finite_at_extremes(name, dtype):
    act = activations.get(name)
    xi = EXTREME.astype(dtype)
    y = act(xi)
    assert y.dtype == dtype and np.isfinite(y).all()
    d = act.derivative(xi, y)
    assert np.isfinite(d).all()


def test_sigmoid_and_softmax_values_at_extremes():
    s = activations.get("sigmoid")(np.array([-800.0, 0.0, 800.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])
    tiny = activations.get("sigmoid")(np.array([-700.0]))
    assert 0 < tiny[0] < 1e-300  # e^-700, not rounded to 0
    sm = activations.get("softmax")(np.array([[1000.0, 0.0, -1000.0], [1.6, 0.55, 0.98]]))
    np.testing.assert_allclose(sm[0], [1.0, 0.0, 0.0])
    # The lecture's example (notes 001 print [0.51, 0.18, 0.31]; the right values are these).
    np.testing.assert_allclose(sm[1], [0.530, 0.185, 0.285], atol=5e-4)


def test_step_sign_and_leaky_relu_follow_the_corrected_definitions():
    xi = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(activations.get("step")(xi), [0, 0, 1])   # U(0) = 0
    np.testing.assert_array_equal(activations.get("sign")(xi), [-1, 1, 1])  # never 0
    lr = activations.LeakyReLU(alpha=0.1)
    np.testing.assert_allclose(lr(xi), [-0.2, 0.0, 3.0])
    np.testing.assert_allclose(lr.derivative(xi, lr(xi)), [0.1, 0.1, 1.0])
    t = activations.Tanh(slope=2.0)
    y = t(xi)
    np.testing.assert_allclose(t.derivative(xi, y), 2.0 * (1 - np.tanh(2 * xi) ** 2))
    assert np.all(np.abs(activations.get("tanh")(EXTREME)) <= 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_cross_entropies_are_exact_at_extreme_logits(dtype):
    xi = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]], dtype=dtype)
    D = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)
    cce = losses.get("categorical_crossentropy")
    e = cce.per_sample_from_logits(xi, D, activations.get("softmax"))
    np.testing.assert_allclose(e, [0.0, 2000.0], rtol=1e-6)
    bce = losses.get("binary_crossentropy")
    z = np.array([[800.0], [-800.0], [0.0]], dtype=dtype)
    e = bce.per_sample_from_logits(z, np.array([[0.0], [0.0], [1.0]], dtype=dtype),
                                   activations.get("sigmoid"))
    np.testing.assert_allclose(e, [800.0, 0.0, np.log(2.0)], rtol=1e-6)


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "kl_divergence", "poisson", "cosine_similarity"])
def test_losses_on_saturated_probabilities_are_finite(name):
    loss = losses.get(name)
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    D = np.array([[0.0, 1.0], [0.0, 1.0]])
    assert np.isfinite(loss(Y, D))
    assert np.isfinite(loss.gradient(Y, D)).all()
    assert np.isfinite(loss(np.zeros((2, 2)), D))
    assert np.isfinite(loss.gradient(np.zeros((2, 2)), D)).all()


def test_training_a_saturated_softmax_network_stays_finite():
    rng = np.random.default_rng(0)
    model = mlplab.Sequential([mlplab.Input((3,)), mlplab.Dense(4, activation="softmax")], seed=0)
    model.set_weights([rng.normal(0, 500, (3, 4)), np.zeros(4)])  # logits in the thousands
    model.compile(mlplab.SGD(0.01), "sparse_categorical_crossentropy")
    hist = model.fit(rng.normal(size=(16, 3)), rng.integers(0, 4, 16), epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
