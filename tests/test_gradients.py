"""Backprop gradients against central finite differences and torch.autograd (float64).

Every differentiable activation is used in all three layers of a random network, paired with
each loss it can meet at the output.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import mlplab
from mlplab import Sequential
from mlplab.layers import Dense, Input

DIFFERENTIABLE = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax",
                  "softplus", "gelu", "swish", "exponential"]
ANY_OUTPUT = ["mean_squared_error", "sse", "mean_absolute_error", "cosine_similarity", "hinge"]
POSITIVE_OUTPUT = {"sigmoid", "softmax", "softplus", "exponential"}
PROBABILITY_OUTPUT = {"sigmoid", "softmax"}


def compatible(act, loss):
    if loss in ANY_OUTPUT:
        return True
    if loss in ("binary_crossentropy", "kl_divergence"):
        return act in PROBABILITY_OUTPUT
    return act in POSITIVE_OUTPUT  # categorical (sparse) cross-entropy, poisson


CASES = [(a, l) for a in DIFFERENTIABLE for l in mlplab.losses.REGISTRY.names()
         if l in {"mean_squared_error", "sse", "mean_absolute_error", "binary_crossentropy",
                  "categorical_crossentropy", "sparse_categorical_crossentropy", "poisson",
                  "kl_divergence", "cosine_similarity", "hinge"} and compatible(a, l)]


def make_case(act, loss, seed=0, n=6, n_in=3, k=3):
    rng = np.random.default_rng(seed)
    model = Sequential([Input((n_in,)), Dense(4, activation=act), Dense(3, activation=act),
                        Dense(k, activation=act)], seed=seed, dtype="float64")
    # Small weights keep exponential / softplus outputs moderate.
    model.set_weights([w * 0.7 + rng.normal(0, 0.1, w.shape) for w in model.get_weights()])
    model.compile(optimizer="sgd", loss=loss, check_config=False)  # odd pairs on purpose
    x = rng.normal(size=(n, n_in))
    labels = rng.integers(0, k, size=n)
    if loss == "sparse_categorical_crossentropy":
        y = labels
    elif loss in ("categorical_crossentropy", "kl_divergence"):
        y = np.eye(k)[labels]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(n, k)).astype(float)
    elif loss == "hinge":
        y = rng.choice([-1.0, 1.0], size=(n, k))
    elif loss == "poisson":
        y = rng.poisson(1.0, size=(n, k)).astype(float)
    else:
        y = rng.normal(size=(n, k))
    return model, x, y


def test_cases_cover_every_loss_and_activation():
    assert {a for a, _ in CASES} == set(DIFFERENTIABLE)
    assert {l for _, l in CASES} | {"mse", "mae", "bce", "cce", "scce", "kld", "kullback_leibler_divergence", "sum_squared_error", "binarycrossentropy", "categoricalcrossentropy", "sparsecategoricalcrossentropy", "meansquarederror", "meanabsoluteerror"} >= set(mlplab.losses.REGISTRY.names())
    non_diff = {n for n in mlplab.activations.REGISTRY.names()
                if not mlplab.activations.get(n).differentiable}
    aliases = {"identity", "logistic", "silu", "exp"}
    assert set(mlplab.activations.REGISTRY.names()) - non_diff - aliases == set(DIFFERENTIABLE)


@pytest.mark.parametrize("act,loss", CASES)
def test_gradcheck_against_finite_differences(act, loss):
    model, x, y = make_case(act, loss)
    errors = mlplab.gradcheck(model, x, y)
    assert len(errors) == 6
    assert max(errors.values()) < 1e-6, errors


TORCH_ACT = {
    "linear": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.2),
    "elu": F.elu,
    "softmax": lambda z: torch.softmax(z, dim=1),
    "softplus": F.softplus,
    "gelu": F.gelu,
    "swish": F.silu,
    "exponential": torch.exp,
}
EPS = 1e-7


def torch_loss(name, Y, D, logits, act):
    """The losses written directly in torch (Keras's definitions)."""
    if name == "mean_squared_error":
        return F.mse_loss(Y, D)
    if name == "sse":
        return 0.5 * ((Y - D) ** 2).sum()
    if name == "mean_absolute_error":
        return F.l1_loss(Y, D)
    if name == "binary_crossentropy":
        if act == "sigmoid":
            return F.binary_cross_entropy_with_logits(logits, D)
        Yc = Y.clamp(EPS, 1 - EPS)
        return -(D * Yc.log() + (1 - D) * (1 - Yc).log()).mean()
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        if name.startswith("sparse"):
            D = F.one_hot(D.long(), Y.shape[1]).double()
        if act == "softmax":
            return F.cross_entropy(logits, D)
        Yn = (Y / Y.sum(1, keepdim=True)).clamp(EPS, 1 - EPS)
        return -(D * Yn.log()).sum(1).mean()
    if name == "poisson":
        return (Y - D * (Y + EPS).log()).mean()
    if name == "kl_divergence":
        Dc = D.clamp(EPS, 1)
        return (Dc * (Dc / Y.clamp(EPS, 1)).log()).sum(1).mean()
    if name == "cosine_similarity":
        return -F.cosine_similarity(Y, D, dim=1, eps=0).mean()
    if name == "hinge":
        return (1 - D * Y).clamp(min=0).mean()
    raise KeyError(name)


@pytest.mark.parametrize("act,loss", CASES)
def test_gradients_match_torch_autograd(act, loss):
    model, x, y = make_case(act, loss, seed=1)
    ours_loss, ours = model.compute_gradients(x, y)
    params = [torch.tensor(w, requires_grad=True) for w in model.get_weights()]
    h = torch.tensor(x)
    f = TORCH_ACT[act]
    for i in range(0, len(params), 2):
        logits = h @ params[i] + params[i + 1]
        h = f(logits)
    D = torch.tensor(y, dtype=torch.float64)
    value = torch_loss(loss, h, D, logits, act)
    value.backward()
    assert ours_loss == pytest.approx(value.item(), rel=1e-12, abs=1e-14)
    for g, p in zip(ours, params):
        ref = p.grad.numpy()
        np.testing.assert_allclose(g, ref, rtol=1e-9, atol=1e-13)


def test_gelu_approximate_matches_torch_tanh():
    xi = np.linspace(-6, 6, 101)
    act = mlplab.activations.get({"name": "gelu", "approximate": True})
    t = torch.tensor(xi, requires_grad=True)
    out = F.gelu(t, approximate="tanh")
    out.sum().backward()
    np.testing.assert_allclose(act(xi), out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(act.derivative(xi, act(xi)), t.grad.numpy(), rtol=1e-10,
                               atol=1e-13)


@pytest.mark.parametrize("slope", [0.5, 2.0])
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_slope_lambda_gradients(name, slope):
    rng = np.random.default_rng(3)
    model = Sequential([Input((2,)), Dense(3, activation={"name": name, "slope": slope}),
                        Dense(1, activation={"name": name, "slope": slope})], seed=3,
                       dtype="float64")
    model.compile("sgd", "binary_crossentropy" if name == "sigmoid" else "mse")
    x = rng.normal(size=(5, 2))
    y = rng.integers(0, 2, size=(5, 1)).astype(float)
    assert max(mlplab.gradcheck(model, x, y).values()) < 1e-6


def test_gradcheck_with_regularizers_and_float32_model():
    rng = np.random.default_rng(4)
    model = Sequential([Input((3,)), Dense(4, activation="tanh", kernel_regularizer="l2",
                                            bias_regularizer=mlplab.regularizers.L1(0.02)),
                        Dense(2, activation="softmax")], seed=4)  # float32 model
    model.compile("sgd", "categorical_crossentropy")
    x = rng.normal(size=(7, 3))
    y = np.eye(2)[rng.integers(0, 2, 7)]
    before = model.get_weights()
    errors = mlplab.gradcheck(model, x, y)
    assert max(errors.values()) < 1e-6
    for a, b in zip(before, model.get_weights()):  # the model itself is untouched
        assert a.dtype == np.float32 and np.array_equal(a, b)


def test_gradcheck_detects_a_wrong_derivative():
    class BrokenTanh(mlplab.activations.Tanh):
        def derivative(self, xi, Y):
            return 1.0 - Y  # wrong on purpose

    rng = np.random.default_rng(5)
    model = Sequential([Input((2,)), Dense(3, activation=BrokenTanh()),
                        Dense(1)], seed=5, dtype="float64")
    model.compile("sgd", "mse")
    errors = mlplab.gradcheck(model, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)))
    assert errors["dense/kernel" if "dense/kernel" in errors else
                  [k for k in errors if k.endswith("kernel")][0]] > 1e-3


def test_untrainable_activation_raises():
    model = Sequential([Input((2,)), Dense(1, activation="step")])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="'step' activation.*derivative is zero"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="'step' activation"):
        mlplab.gradcheck(model, np.zeros((4, 2)), np.zeros((4, 1)))


@pytest.mark.parametrize("output,loss", [("sigmoid", "binary_crossentropy"),
                                         ("sigmoid", "mean_squared_error"),
                                         ("tanh", "sse"), ("softmax", "categorical_crossentropy")])
def test_slopes_alphas_and_no_bias_match_torch(output, loss):
    """Parameterized activations (slope lambda, alpha), use_bias=False, and the fused output
    delta lambda (Y - D) / (N K) of a sloped sigmoid, against torch.autograd."""
    rng = np.random.default_rng(8)
    out_act = {"name": output, "slope": 1.8} if output != "softmax" else "softmax"
    model = Sequential([Input((3,)), Dense(4, activation={"name": "tanh", "slope": 0.6}),
                        Dense(4, activation={"name": "leaky_relu", "alpha": 0.05},
                              use_bias=False),
                        Dense(3, activation={"name": "elu", "alpha": 0.7}),
                        Dense(2, activation=out_act)], seed=8, dtype="float64")
    model.compile("sgd", loss, check_config=False)
    x = rng.normal(size=(7, 3))
    if loss in ("binary_crossentropy", "categorical_crossentropy"):
        y = np.eye(2)[rng.integers(0, 2, 7)]
    else:
        y = rng.normal(size=(7, 2))
    value, grads = model.compute_gradients(x, y)
    W1, b1, W2, W3, b3, W4, b4 = (torch.tensor(w, requires_grad=True)
                                  for w in model.get_weights())
    h = torch.tanh(0.6 * (torch.tensor(x) @ W1 + b1))
    h = F.leaky_relu(h @ W2, 0.05)
    h = F.elu(h @ W3 + b3, alpha=0.7)
    z = h @ W4 + b4
    D = torch.tensor(y)
    if output == "softmax":
        ref = F.cross_entropy(z, D)
    elif loss == "binary_crossentropy":
        ref = F.binary_cross_entropy_with_logits(1.8 * z, D)
    else:
        Y = torch.sigmoid(1.8 * z) if output == "sigmoid" else torch.tanh(1.8 * z)
        ref = F.mse_loss(Y, D) if loss == "mean_squared_error" else 0.5 * ((Y - D) ** 2).sum()
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    assert len(grads) == 7
    for g, p in zip(grads, (W1, b1, W2, W3, b3, W4, b4)):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-9, atol=1e-13)
    assert max(mlplab.gradcheck(model, x, y).values()) < 1e-6


def test_gradcheck_reports_the_largest_relative_error_per_array():
    rng = np.random.default_rng(9)
    model = Sequential([Input((2,)), Dense(3, activation="sigmoid"), Dense(1)], seed=9,
                       dtype="float64")
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    errors = mlplab.gradcheck(model, x, y)
    names = [f"{layer.name}/{p}" for layer in model.layers for p in ("kernel", "bias")]
    assert list(errors) == names
    # The same numbers by hand: central differences of the loss, entry by entry.
    _, analytic = model.compute_gradients(x, y)
    weights = model.get_weights()

    def loss_at(ws):
        m = model.clone()
        m.set_weights(ws)
        return m.evaluate(x, y)

    for (name, err), a, i in zip(errors.items(), analytic, range(len(weights))):
        num = np.zeros_like(weights[i])
        for j in np.ndindex(num.shape):
            up = [w.copy() for w in weights]
            down = [w.copy() for w in weights]
            up[i][j] += 1e-6
            down[i][j] -= 1e-6
            num[j] = (loss_at(up) - loss_at(down)) / 2e-6
        scale = max(np.abs(a).max(), np.abs(num).max())
        assert err < 1e-6
        assert err == pytest.approx(np.abs(a - num).max() / scale, abs=1e-8)


@pytest.mark.parametrize("make", [
    lambda: [Input((2,)), Dense(3, activation="sign"), Dense(1)],
    lambda: [Input((2,)), Dense(3), mlplab.layers.Activation("sign"), Dense(1)],
    lambda: [Input((2,)), Dense(3, activation="tanh"), Dense(1, activation="heaviside")],
])
def test_sign_and_step_anywhere_refuse_gradient_training_and_leave_model(make):
    model = Sequential(make(), seed=0)
    model.compile(mlplab.SGD(0.1), "mse")
    before = model.get_weights()
    x, y = np.ones((4, 2)), np.ones((4, 1))
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.train_on_batch(x, y),
                 lambda: mlplab.gradcheck(model, x, y)):
        with pytest.raises(ValueError, match=r"uses the '(sign|step)' activation, whose "
                                             r"derivative is zero almost everywhere"):
            call()
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 0
    assert model.predict(x).shape == (4, 1)   # prediction still works
