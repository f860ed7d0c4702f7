"""Every mlplab activation and loss, written with the primitives of ``ops`` only.

Nothing here has derivative code: the gradients come from the graph. That makes this module
an independent second implementation of ``mlplab.activations`` and ``mlplab.losses``, whose
hand-written derivatives the tests compare against it (STYLE.md section 5).

Losses take Keras's argument order ``(y_true, y_pred)`` and return the per-sample loss e_p
(shape (N,)); :func:`loss` applies the batch reduction (the mean, or the sum for ``sse``).
Traps written down where they occur: relu is ``where(x > 0, x, 0)`` (``maximum(x, 0)`` would
pass half a gradient at 0); elu's exponential branch is fed ``where(x > 0, 0, x)`` so it
neither overflows nor takes half a gradient at 0; clipping is a ``where`` on the strict
interior, as the hand-written losses do.
"""
from __future__ import annotations

import math

import numpy as np

from .. import activations as _activations
from .. import losses as _losses
from . import ops
from .tensor import Tensor, as_tensor

EPSILON = 1e-7  # The clipping constant of mlplab.losses (Keras's backend epsilon).


# -- activations ------------------------------------------------------------------------------
def linear(x):
    return as_tensor(x)


def step(x):
    """1 for x > 0, else 0: max(sign(x), 0), whose derivative is 0 everywhere."""
    return ops.maximum(ops.sign(x), 0.0)


def sign(x):
    """+1 for x >= 0, else -1 (never 0): 1 - 2 step(-x)."""
    return 1.0 - 2.0 * step(-as_tensor(x))


def softplus(x):
    """ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): no overflow for large |x|."""
    x = as_tensor(x)
    return ops.maximum(x, 0.0) + ops.log1p(ops.exp(-ops.abs(x)))


def sigmoid(x, slope=1.0):
    """1 / (1 + e^(-slope x)) = e^(-softplus(-slope x)), which neither overflows nor loses the
    tiny values of the left tail."""
    z = as_tensor(x) * slope if slope != 1.0 else as_tensor(x)
    return ops.exp(-softplus(-z))


def tanh(x, slope=1.0):
    z = as_tensor(x) * slope if slope != 1.0 else as_tensor(x)
    return ops.tanh(z)


def relu(x):
    x = as_tensor(x)
    return ops.where(x > 0, x, 0.0)


def leaky_relu(x, alpha=0.2):
    x = as_tensor(x)
    return ops.where(x > 0, x, alpha * x)


def elu(x, alpha=1.0):
    x = as_tensor(x)
    return ops.where(x > 0, x, alpha * ops.expm1(ops.where(x > 0, 0.0, x)))


def swish(x):
    x = as_tensor(x)
    return x * sigmoid(x)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x, approximate=False):
    """x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, or the tanh approximation."""
    x = as_tensor(x)
    if approximate:
        return 0.5 * x * (1.0 + ops.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + ops.erf(x / math.sqrt(2.0)))


def exponential(x):
    return ops.exp(x)


def softmax(x, axis=-1):
    """e^x / sum e^x over ``axis``, after subtracting the (constant) row maximum."""
    x = as_tensor(x)
    e = ops.exp(x - np.max(x.data, axis=axis, keepdims=True))
    return e / ops.sum(e, axis=axis, keepdims=True)


ACTIVATIONS = {"linear": linear, "step": step, "sign": sign, "sigmoid": sigmoid, "tanh": tanh,
               "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "softplus": softplus,
               "swish": swish, "gelu": gelu, "exponential": exponential, "softmax": softmax}


def activation(identifier):
    """The graph version of an mlplab activation: a name, or an Activation (its config's
    arguments, e.g. ``slope``, are passed on). Returns a function Tensor -> Tensor."""
    config = _activations.get(identifier).get_config()
    name = config.pop("name")
    if name not in ACTIVATIONS:
        raise ValueError(f"activation({identifier!r}): mlplab.autodiff.functional has no graph "
                         f"version of '{name}'. Add one to ACTIVATIONS.")
    fn = ACTIVATIONS[name]
    return (lambda x: fn(x, **config)) if config else fn


# -- losses: per-sample, Keras order (y_true, y_pred) ------------------------------------------
def _clip(Y, low, high):
    """Y inside (low, high), else the bound; gradient 1 strictly inside, 0 at or beyond it."""
    Y = as_tensor(Y)
    inside = (Y.data > low) & (Y.data < high)
    return ops.where(inside, Y, np.clip(Y.data, low, high))


def _const(D):
    return D.data if isinstance(D, Tensor) else np.asarray(D)


def mean_squared_error(D, Y):
    return ops.mean((Y - D) ** 2, axis=-1)


def sum_squared_error(D, Y):
    return 0.5 * ops.sum((Y - D) ** 2, axis=-1)


def mean_absolute_error(D, Y):
    return ops.mean(ops.abs(Y - D), axis=-1)


def binary_crossentropy(D, Y):
    Yc = _clip(Y, EPSILON, 1.0 - EPSILON)
    return -ops.mean(D * ops.log(Yc) + (1.0 - D) * ops.log(1.0 - Yc), axis=-1)


def binary_crossentropy_from_logits(D, xi, slope=1.0):
    """The same loss from the sigmoid's input: max(z, 0) - z d + ln(1 + e^-|z|), z = slope xi."""
    z = as_tensor(xi) * slope
    return ops.mean(ops.maximum(z, 0.0) - z * D + ops.log1p(ops.exp(-ops.abs(z))), axis=-1)


def categorical_crossentropy(D, Y):
    Yn = Y / ops.sum(Y, axis=-1, keepdims=True)
    return -ops.sum(D * ops.log(_clip(Yn, EPSILON, 1.0 - EPSILON)), axis=-1)


def categorical_crossentropy_from_logits(D, xi):
    """logsumexp(xi) sum_k d_k - sum_k d_k xi_k, from the softmax's input."""
    return ops.logsumexp(xi, axis=-1) * ops.sum(D, axis=-1) - ops.sum(D * xi, axis=-1)


def one_hot(labels, n_classes, dtype=np.float64):
    labels = np.asarray(_const(labels)).reshape(-1).astype(np.intp)
    return np.eye(n_classes, dtype=dtype)[labels]


def sparse_categorical_crossentropy(labels, Y):
    Y = as_tensor(Y)
    return categorical_crossentropy(one_hot(labels, Y.shape[-1], Y.dtype), Y)


def sparse_categorical_crossentropy_from_logits(labels, xi):
    xi = as_tensor(xi)
    return categorical_crossentropy_from_logits(one_hot(labels, xi.shape[-1], xi.dtype), xi)


def poisson(D, Y):
    return ops.mean(Y - D * ops.log(Y + EPSILON), axis=-1)


def kl_divergence(D, Y):
    Dc = np.clip(_const(D), EPSILON, 1.0)
    return ops.sum(Dc * ops.log(Dc / _clip(Y, EPSILON, 1.0)), axis=-1)


def l2_normalize(V, axis=-1):
    """V / |V| with |V| = sqrt(max(sum V^2, 1e-12))."""
    V = as_tensor(V)
    return V / ops.sqrt(ops.maximum(ops.sum(V * V, axis=axis, keepdims=True), 1e-12))


def cosine_similarity(D, Y):
    return -ops.sum(l2_normalize(Y) * l2_normalize(D), axis=-1)


def hinge(D, Y):
    D = _const(D)
    Db = np.where(D == 0, -1.0, D).astype(D.dtype)  # 0/1 targets become -1/+1
    margin = 1.0 - Db * Y
    return ops.mean(ops.where(margin > 0, margin, 0.0), axis=-1)


LOSSES = {"mean_squared_error": mean_squared_error, "sse": sum_squared_error,
          "mean_absolute_error": mean_absolute_error, "binary_crossentropy": binary_crossentropy,
          "categorical_crossentropy": categorical_crossentropy,
          "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
          "poisson": poisson, "kl_divergence": kl_divergence,
          "cosine_similarity": cosine_similarity, "hinge": hinge}
#: Losses whose batch value is the sum of the per-sample losses; the others take the mean.
SUMMED = {"sse"}
#: The from-logits forms of the fused pairs (output activation, per-sample loss).
FROM_LOGITS = {"binary_crossentropy": ("sigmoid", binary_crossentropy_from_logits),
               "categorical_crossentropy": ("softmax", categorical_crossentropy_from_logits),
               "sparse_categorical_crossentropy": ("softmax",
                                                   sparse_categorical_crossentropy_from_logits)}


def _loss_name(identifier):
    name = _losses.get(identifier).name
    if name not in LOSSES:
        raise ValueError(f"loss({identifier!r}): mlplab.autodiff.functional has no graph "
                         f"version of '{name}'. Add one to LOSSES.")
    return name


def per_sample_loss(identifier, y_true, y_pred):
    """The per-sample losses e_p (shape (N,)) of an mlplab loss, as a Tensor."""
    return LOSSES[_loss_name(identifier)](y_true, as_tensor(y_pred))


def loss(identifier, y_true, y_pred):
    """The batch loss E of an mlplab loss (name or Loss): mean of e_p, or the sum for sse."""
    name = _loss_name(identifier)
    e = LOSSES[name](y_true, as_tensor(y_pred))
    return ops.sum(e) if name in SUMMED else ops.mean(e)


def loss_from_logits(identifier, y_true, xi, activation_obj):
    """The batch loss of a fused pair computed from the output layer's Xi."""
    name = _loss_name(identifier)
    if name not in FROM_LOGITS:
        raise ValueError(f"loss_from_logits({identifier!r}): '{name}' has no from-logits form; "
                         f"those are {', '.join(FROM_LOGITS)}.")
    _, fn = FROM_LOGITS[name]
    slope = getattr(activation_obj, "slope", 1.0)
    e = fn(y_true, xi, slope) if name == "binary_crossentropy" else fn(y_true, xi)
    return ops.sum(e) if name in SUMMED else ops.mean(e)
