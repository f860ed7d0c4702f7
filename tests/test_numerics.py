"""Activations and losses at extreme inputs: finite values, no overflow warnings, no log(0).

pytest turns every RuntimeWarning (overflow, divide by zero, invalid value) into an error.
"""
import math

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
    assert np.isfinite(loss(D, Y))
    assert np.isfinite(loss.gradient(Y, D)).all()
    assert np.isfinite(loss(D, np.zeros((2, 2))))
    assert np.isfinite(loss.gradient(np.zeros((2, 2)), D)).all()


def test_training_a_saturated_softmax_network_stays_finite():
    rng = np.random.default_rng(0)
    model = mlplab.Sequential([mlplab.Input((3,)), mlplab.Dense(4, activation="softmax")], seed=0)
    model.set_weights([rng.normal(0, 500, (3, 4)), np.zeros(4)])  # logits in the thousands
    model.compile(mlplab.SGD(0.01), "sparse_categorical_crossentropy")
    hist = model.fit(rng.normal(size=(16, 3)), rng.integers(0, 4, 16), epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


# ---------------------------------------------------------------- the notes' known errors
MODERATE = np.linspace(-4.0, 4.0, 17)


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("slope", [1.0, 0.5, 3.0])
def test_sigmoid_is_one_over_one_plus_e_minus_I_with_derivative_f_one_minus_f(slope):
    """Notes 002 write 1/(1 + e^I) and f(I)(1 - I); it is 1/(1 + e^-I) and f(I)(1 - f(I))."""
    act = activations.Sigmoid(slope=slope)
    ref = np.array([1.0 / (1.0 + math.exp(-slope * v)) for v in MODERATE])
    f = act(MODERATE)
    np.testing.assert_allclose(f, ref, rtol=1e-14)
    assert act(np.array([2.0]))[0] > 0.5 > act(np.array([-2.0]))[0]   # increasing
    d = act.derivative(MODERATE, f)
    np.testing.assert_allclose(d, slope * f * (1 - f), rtol=1e-14)
    np.testing.assert_allclose(d, central_difference(act, MODERATE), rtol=1e-7, atol=1e-10)
    assert not np.allclose(d, f * (1 - MODERATE))


@pytest.mark.parametrize("slope", [1.0, 0.5, 2.5])
def test_tanh_slope_derivative_is_lambda_one_minus_y_squared(slope):
    """Notes 003: y = tanh(lambda xi) has y' = lambda (1 - y^2), not lambda^2 (1 + y)(1 - y)."""
    act = activations.Tanh(slope=slope)
    y = act(MODERATE)
    np.testing.assert_allclose(y, np.tanh(slope * MODERATE), rtol=1e-14)
    d = act.derivative(MODERATE, y)
    np.testing.assert_allclose(d, central_difference(act, MODERATE), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(d, slope * (1 - y ** 2), rtol=1e-14)
    if slope != 1.0:
        assert not np.allclose(d, slope ** 2 * (1 + y) * (1 - y))


def test_tanh_range_is_open_minus_one_to_one():
    """Notes 001 give tanh's range as [0, 1]; it is (-1, 1), odd, negative for xi < 0."""
    y = activations.get("tanh")(MODERATE)
    assert np.all(np.abs(y) < 1)
    assert np.all(y[MODERATE < 0] < 0) and np.all(y[MODERATE > 0] > 0)
    np.testing.assert_allclose(y, -y[::-1], rtol=1e-15)
    assert activations.get("tanh")(np.array([-1.0]))[0] == pytest.approx(-0.7615941559557649)


@pytest.mark.parametrize("alpha", [0.01, 0.2, 0.3])
def test_leaky_relu_is_alpha_x_below_zero_with_derivative_alpha(alpha):
    """Notes 001 write -a x for x < 0 (positive outputs); it is a x with a small a > 0."""
    act = activations.LeakyReLU(alpha=alpha)
    xi = MODERATE[MODERATE != 0]
    y = act(xi)
    np.testing.assert_allclose(y, np.where(xi > 0, xi, alpha * xi), rtol=1e-15)
    assert np.all(y[xi < 0] < 0)
    np.testing.assert_allclose(act.derivative(xi, y), central_difference(act, xi), rtol=1e-8)
    np.testing.assert_array_equal(act.derivative(xi, y), np.where(xi > 0, 1.0, alpha))
    assert activations.get("leaky_relu").alpha == 0.2


def test_lecture_softmax_example_exactly():
    """Notes 001: softmax([1.60, 0.55, 0.98]) is [0.530, 0.185, 0.285], not [0.51, 0.18, 0.31]."""
    z = np.array([[1.60, 0.55, 0.98]])
    e = [math.exp(v) for v in z[0]]
    ref = np.array([v / sum(e) for v in e])
    y = activations.get("softmax")(z)[0]
    np.testing.assert_allclose(y, ref, rtol=1e-14)
    np.testing.assert_array_equal(y.round(3), [0.530, 0.185, 0.285])
    assert not np.allclose(y, [0.51, 0.18, 0.31], atol=5e-3)
    assert y.sum() == pytest.approx(1.0, abs=1e-15)


# ---------------------------------------------------------------- every function, every scale
# Each activation (its value, derivative and backward pass) and each loss (per sample, the
# gradient, and the fused forms from the logits) is finite and raises no floating-point
# warning at |x| = 1e4 and 1e30, in float32 and float64. Underflow to 0 (e^-1e4) is the right
# value and allowed; overflow, division by zero and invalid operations are errors here.
MAGNITUDES = [1e4, 1e30]
DTYPES = [np.float32, np.float64]
ACTIVATIONS = sorted({activations.get(n).name for n in activations.REGISTRY.names()}) + \
    ["gelu_tanh"]
LOSSES = sorted({losses.get(n).name for n in losses.REGISTRY.names()})


def _activation(name):
    return activations.GELU(approximate=True) if name == "gelu_tanh" else activations.get(name)


def _signed(m, dtype, k=4):
    """Rows of +-m, +-m/3 and 0 mixed: (3, k) of dtype."""
    row = np.array([m, -m, m / 3, -m / 3, 0.0, 1.0][:k], dtype=np.float64)
    return np.stack([row, -row, np.roll(row, 1)]).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("m", MAGNITUDES, ids=["1e4", "1e30"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_is_finite_and_silent_at_large_magnitudes(name, m, dtype):
    act = _activation(name)
    xi = _signed(m, dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        Y = act(xi)
        d = act.derivative(xi, Y)
        delta = act.backward(xi, Y, np.ones_like(Y))
    for out in (Y, d, delta):
        assert out.dtype == dtype and np.isfinite(out).all(), (name, out)


def _loss_case(name, m, dtype):
    """(Y, D, logits or None) in the loss's own domain at magnitude m."""
    k = 4
    if name in ("binary_crossentropy", "categorical_crossentropy", "kl_divergence",
                "sparse_categorical_crossentropy"):
        xi = _signed(m, dtype, k)
        act = activations.get("sigmoid" if name == "binary_crossentropy" else "softmax")
        if name == "sparse_categorical_crossentropy":
            D = np.array([0, 1, 3])
        elif name == "binary_crossentropy":
            D = np.array([[1, 0, 1, 0], [0, 1, 1, 0], [1, 1, 0, 0]], dtype=dtype)
        else:
            D = np.eye(k, dtype=dtype)[[0, 1, 3]]
        return act(xi), D, (xi, act)
    if name == "poisson":
        Y = np.abs(_signed(m, dtype, k)) + dtype(1)
        return Y, np.abs(_signed(m, dtype, k))[::-1].copy(), None
    if name == "hinge":
        return _signed(m, dtype, k), np.sign(_signed(1.0, dtype, k)) + (
            _signed(1.0, dtype, k) == 0), None
    return _signed(m, dtype, k), -_signed(m, dtype, k)[::-1], None  # regression targets


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("m", MAGNITUDES, ids=["1e4", "1e30"])
@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_is_finite_and_silent_at_large_magnitudes(name, m, dtype):
    loss = losses.get(name)
    Y, D, logits = _loss_case(name, m, dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        e = loss.per_sample(Y, D)
        g = loss.gradient(Y, D)
        value = loss(D, Y)
        results = [e, g, np.array(value)]
        if logits is not None and loss.fuses_with(logits[1]):
            xi, act = logits
            results += [loss.per_sample_from_logits(xi, D, act),
                        loss.fused_delta(act(xi), D, act)]
    for out in results:
        assert np.isfinite(out).all(), (name, out)
    assert g.dtype == dtype and np.asarray(e).shape == (len(Y),)
