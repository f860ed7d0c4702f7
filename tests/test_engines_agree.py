"""One source of truth for gradients: the hand-written backprop equals the autodiff gradient.

The layer engine (``mlplab.activations``/``losses``/``layers``, derivatives written by hand)
and the autodiff engine (``mlplab.autodiff.functional``, built from primitives, no derivative
code) share nothing but the forward definitions. Every registered activation and loss
(parametrized over the registries, so new entries are covered) must agree between them to
1e-10 in float64, in value and gradient; so must a Dense layer and whole small networks.
The activations also meet torch's where torch has them.
"""
import warnings

import numpy as np
import pytest
import torch

from mlplab import Sequential, activations, layers, losses
from mlplab.autodiff import Tensor, functional as F
from mlplab.layers import Dense, Input

TOL = 1e-10


def rel_err(a, b, floor=1e-12):
    """max_i |a_i - b_i| / max(|a_i|, |b_i|, floor)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)))


ACTIVATION_NAMES = activations.REGISTRY.names()
CANONICAL_ACTIVATIONS = sorted({activations.get(n).name for n in ACTIVATION_NAMES})
# Non-default arguments, so slopes and alphas are exercised too.
VARIANTS = [activations.Sigmoid(slope=2.5), activations.Tanh(slope=0.5),
            activations.LeakyReLU(alpha=0.05), activations.ELU(alpha=0.7),
            activations.GELU(approximate=True)]


def activation_inputs():
    """Random values (|xi| up to about 9), the kink 0, and tiny values."""
    rng = np.random.default_rng(0)
    xi = rng.normal(scale=3.0, size=(6, 5))
    xi[0] = [0.0, 1e-9, -1e-9, 1e-3, -1e-3]
    return xi


EXTREMES = np.array([[20.0, -20.0, 30.0, -30.0, 88.0], [-88.0, 500.0, -500.0, 700.0, -700.0]])


def autodiff_activation(act, xi, G):
    x = Tensor(xi, requires_grad=True)
    out = F.activation(act)(x)
    out.backward(G)
    return out.data, (np.zeros_like(xi) if x.grad is None else x.grad)


@pytest.mark.parametrize("act", [activations.get(n) for n in ACTIVATION_NAMES] + VARIANTS,
                         ids=ACTIVATION_NAMES + [repr(v) for v in VARIANTS])
def test_activation_backward_equals_autodiff(act):
    xi = activation_inputs()
    G = np.random.default_rng(1).normal(size=xi.shape)
    Y = act(xi)
    delta = act.backward(xi, Y, G)
    Y_ad, delta_ad = autodiff_activation(act, xi, G)
    assert np.isfinite(Y).all() and np.isfinite(Y_ad).all()
    assert rel_err(Y, Y_ad) < TOL, "forward values differ"
    assert rel_err(delta, delta_ad) < TOL, "hand-written backward != autodiff"


@pytest.mark.parametrize("act", [activations.get(n) for n in ACTIVATION_NAMES] + VARIANTS,
                         ids=ACTIVATION_NAMES + [repr(v) for v in VARIANTS])
def test_activation_extremes_do_not_overflow_and_agree(act):
    """Both engines stay finite at |xi| up to 700 and agree to 1e-10 relative or 1e-15 absolute.

    The absolute part is needed, not slack: for xi >= 20 the hand-written sigmoid derivative
    lambda Y (1 - Y) (and elu's Y + alpha for xi <= -20) subtracts two numbers within 1e-9 of
    each other, so its result is right to ~1e-16 absolutely but not relatively (sigmoid'(30)
    is 9.4e-14 with about 1e-3 relative error); autodiff takes e^-30 / (1 + e^-30) directly.
    """
    xi = EXTREMES
    G = np.random.default_rng(1).normal(size=xi.shape)
    Y = act(xi)
    delta = act.backward(xi, Y, G)
    Y_ad, delta_ad = autodiff_activation(act, xi, G)
    for hand, auto in ((Y, Y_ad), (delta, delta_ad)):
        assert np.isfinite(hand).all() and np.isfinite(auto).all()
        assert np.all(np.abs(hand - auto) <= 1e-10 * np.abs(auto) + 1e-15)


TORCH_ACTIVATIONS = {
    "linear": lambda x: x, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
    "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.2),
    "elu": torch.nn.functional.elu, "softplus": torch.nn.functional.softplus,
    "swish": torch.nn.functional.silu, "gelu": torch.nn.functional.gelu,
    "exponential": torch.exp, "softmax": lambda x: torch.softmax(x, dim=-1),
}


@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
def test_autodiff_activation_matches_torch(name):
    """A third opinion, so both mlplab engines cannot be wrong in the same way."""
    xi = activation_inputs()[2:]  # torch's softplus switches to x above 20; keep to moderate x
    G = np.random.default_rng(2).normal(size=xi.shape)
    Y_ad, d_ad = autodiff_activation(activations.get(name), xi, G)
    tx = torch.tensor(xi, requires_grad=True)
    ty = TORCH_ACTIVATIONS[name](tx)
    ty.backward(torch.tensor(G))
    assert rel_err(Y_ad, ty.detach().numpy()) < TOL
    assert rel_err(d_ad, tx.grad.numpy()) < TOL


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_dense_layer_backward_equals_autodiff(name):
    """Dense: dW, db and dX by hand vs autodiff of Y = f(X W + b)."""
    rng = np.random.default_rng(3)
    layer = Dense(3, activation=name)
    layer.build((4,), rng, np.float64)
    layer.b[...] = rng.normal(size=3)
    X = rng.normal(size=(5, 4))
    G = rng.normal(size=(5, 3))
    Y = layer.forward(X, training=True)
    dX = layer.backward(G)

    x = Tensor(X, requires_grad=True)
    W = Tensor(layer.W.copy(), requires_grad=True)
    b = Tensor(layer.b.copy(), requires_grad=True)
    out = F.activation(layer.activation)(x @ W + b)
    out.backward(G)
    zeros = np.zeros_like
    assert rel_err(Y, out.data) < TOL
    assert rel_err(layer.dW, zeros(layer.W) if W.grad is None else W.grad) < TOL
    assert rel_err(layer.db, zeros(layer.b) if b.grad is None else b.grad) < TOL
    assert rel_err(dX, zeros(X) if x.grad is None else x.grad) < TOL


# Every registered layer class: how to make one, and its forward pass in autodiff.
LAYER_CASES = {
    "Dense": (lambda: Dense(3, activation="elu"),
              lambda layer, x: F.elu(x @ Tensor(layer.W) + Tensor(layer.b))),
    "Activation": (lambda: layers.Activation("swish"), lambda layer, x: F.swish(x)),
    "Flatten": (lambda: layers.Flatten(), lambda layer, x: x.reshape(len(x.data), -1)),
    "Dropout": (lambda: layers.Dropout(0.4, seed=0), lambda layer, x: x * layer.mask),
    "Lambda": (lambda: layers.Lambda(lambda x: x * F.sigmoid(x)),
               lambda layer, x: x * F.sigmoid(x)),
}


@pytest.mark.parametrize("class_name", sorted(layers.REGISTRY))
def test_every_layer_input_gradient_equals_autodiff(class_name):
    """dE/dX of each registered layer's backward vs autodiff of its forward pass."""
    assert class_name in LAYER_CASES, f"add {class_name} to LAYER_CASES"
    make, forward = LAYER_CASES[class_name]
    rng = np.random.default_rng(7)
    layer = make()
    shape = (2, 2) if class_name == "Flatten" else (4,)
    layer.build(shape, rng, np.float64)
    X = rng.normal(size=(5,) + shape)
    Y = layer.forward(X, training=True)
    G = rng.normal(size=Y.shape)
    dX = layer.backward(G)
    x = Tensor(X, requires_grad=True)
    out = forward(layer, x)
    out.backward(G)
    assert rel_err(Y, out.data) < TOL
    assert rel_err(dX, x.grad) < TOL


# -- losses ------------------------------------------------------------------------------------
LOSS_NAMES = losses.REGISTRY.names()
CANONICAL_LOSSES = sorted({losses.get(n).name for n in LOSS_NAMES})


def loss_data(loss, rng, n=6, k=3):
    """(Y, D) inside the loss's domain: Y in (0, 1) and D probabilities for the
    cross-entropies and KL, counts for Poisson, -1/+1 labels for hinge, labels for sparse."""
    name = loss.name
    Y = rng.uniform(0.05, 0.95, size=(n, k))
    if name in ("binary_crossentropy", "kl_divergence"):
        D = rng.uniform(0, 1, size=(n, k))
        if name == "kl_divergence":
            D /= D.sum(axis=1, keepdims=True)
    elif name == "categorical_crossentropy":
        D = np.eye(k)[rng.integers(0, k, size=n)]
    elif name == "sparse_categorical_crossentropy":
        D = rng.integers(0, k, size=n)
    elif name == "poisson":
        Y = rng.uniform(0.2, 3.0, size=(n, k))
        D = rng.poisson(1.5, size=(n, k)).astype(np.float64)
    elif name == "hinge":
        Y = rng.normal(size=(n, k))
        D = rng.choice([-1.0, 1.0], size=(n, k))
        Y[0, 0] = 1.0 * D[0, 0]  # margin exactly 0: the kink, gradient 0 in both engines
    else:
        Y = rng.normal(size=(n, k))
        D = rng.normal(size=(n, k))
    return Y, D


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_gradient_equals_autodiff(name):
    loss = losses.get(name)
    Y, D = loss_data(loss, np.random.default_rng(4))
    y = Tensor(Y, requires_grad=True)
    E = F.loss(loss, D, y)
    E.backward()
    assert rel_err(loss(D, Y), E.data) < TOL, "batch value"
    assert rel_err(loss.per_sample(Y, D), F.per_sample_loss(loss, D, Y).data) < TOL
    assert rel_err(loss.gradient(Y, D), y.grad) < TOL, "hand-written dE/dY != autodiff"


FUSED = [(n, slope) for n in LOSS_NAMES if losses.get(n).fused_activation
         for slope in ([1.0, 2.0] if hasattr(activations.get(losses.get(n).fused_activation),
                                             "slope") else [1.0])]


@pytest.mark.parametrize("name, slope", FUSED)
def test_fused_delta_equals_autodiff_from_logits(name, slope):
    """The fused pairs' delta_L = slope (Y - D) / (N [K]) is dE/dXi of the loss from logits."""
    loss = losses.get(name)
    act = activations.get(loss.fused_activation)
    if slope != 1.0:
        act.slope = slope
    rng = np.random.default_rng(5)
    xi = rng.normal(scale=2.0, size=(6, 3))
    _, D = loss_data(loss, rng)
    Y = act(xi)
    x = Tensor(xi, requires_grad=True)
    E = F.loss_from_logits(loss, D, x, act)
    E.backward()
    e = loss.per_sample_from_logits(xi, D, act)
    assert rel_err(e.mean(), E.data) < TOL
    assert rel_err(loss.fused_delta(Y, D, act), x.grad) < TOL
    # and the from-logits value is the probability-form value (away from the clipping)
    assert rel_err(F.loss(loss, D, F.activation(act)(Tensor(xi))).data, E.data) < 1e-9


# -- whole networks ----------------------------------------------------------------------------
UNIT = {"sigmoid", "softmax"}
POSITIVE = UNIT | {"softplus", "exponential"}
NEEDS = {"binary_crossentropy": UNIT, "kl_divergence": UNIT,
         "categorical_crossentropy": POSITIVE, "sparse_categorical_crossentropy": POSITIVE,
         "poisson": POSITIVE}
PAIRS = [(lo, act) for lo in CANONICAL_LOSSES for act in CANONICAL_ACTIVATIONS
         if act in NEEDS.get(lo, CANONICAL_ACTIVATIONS)]


def network_check(loss_name, hidden, output, seed=6):
    """model.compute_gradients (the layer engine) vs autodiff of the same forward pass."""
    rng = np.random.default_rng(seed)
    model = Sequential([Input((3,)), Dense(4, activation=hidden),
                        Dense(3, activation=output)], seed=seed, dtype="float64")
    for layer in model.layers:  # non-zero biases
        layer.b[...] = rng.normal(scale=0.5, size=layer.b.shape)
    with warnings.catch_warnings():  # e.g. the advice against softmax + binary cross-entropy
        warnings.simplefilter("ignore", UserWarning)
        model.compile(optimizer="sgd", loss=loss_name)
    x = rng.normal(size=(6, 3))
    _, y = loss_data(model.loss, rng)
    y = model.loss.check_targets(y, 3, "test")
    loss_value, grads = model.compute_gradients(x, y)

    params = [Tensor(w, requires_grad=True) for w in model.get_weights()]
    W1, b1, W2, b2 = params
    h = F.activation(model.layers[0].activation)(Tensor(x) @ W1 + b1)
    xi = h @ W2 + b2
    act = model.layers[1].activation
    if model.loss.fuses_with(act):
        E = F.loss_from_logits(model.loss, y, xi, act)
    else:
        E = F.loss(model.loss, y, F.activation(act)(xi))
    E.backward()
    assert rel_err(loss_value, E.data) < TOL, "loss value"
    for i, (g, p) in enumerate(zip(grads, params)):
        assert rel_err(g, np.zeros_like(g) if p.grad is None else p.grad) < TOL, \
            f"gradient {i} ({['W1', 'b1', 'W2', 'b2'][i]})"


@pytest.mark.parametrize("loss_name, output", PAIRS, ids=[f"{lo}-{a}" for lo, a in PAIRS])
def test_network_gradients_each_loss_and_output_activation(loss_name, output):
    network_check(loss_name, "tanh", output)


@pytest.mark.parametrize("hidden", CANONICAL_ACTIVATIONS)
def test_network_gradients_each_hidden_activation(hidden):
    network_check("mse", hidden, "linear")
