"""Activation functions f(xi), each beside its derivative f'(xi).

A layer computes Y = f(Xi); on the way back it needs delta = dE/dXi = dE/dY * f'(Xi)
(elementwise), which is what :meth:`Activation.backward` returns. Softmax is the one
non-elementwise function: its backward is the Jacobian-vector product
delta = Y * (dE/dY - sum_k dE/dY_k Y_k).

Use a name (``"sigmoid"``), a class or an instance wherever an activation is asked for::

    >>> from mlplab import activations
    >>> activations.get("sigmoid")(np.array([0.0]))
    array([0.5])
"""
from __future__ import annotations

import math

import numpy as np

from ._registry import Registry

REGISTRY = Registry("activation")


class Activation:
    """Base class: ``__call__(xi) -> Y`` and ``derivative(xi, Y) -> f'(xi)``.

    ``derivative`` receives the output ``Y`` too, because for most functions the derivative
    is cheapest written with it (sigmoid: lambda * Y * (1 - Y)).
    """

    name = "activation"
    #: False for step and sign: f' = 0 almost everywhere, so gradient training cannot work.
    differentiable = True

    def __call__(self, xi: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, xi: np.ndarray, Y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, xi: np.ndarray, Y: np.ndarray, dY: np.ndarray) -> np.ndarray:
        """delta = dE/dY * f'(xi), elementwise."""
        return dY * self.derivative(xi, Y)

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


def get(identifier) -> Activation:
    """An Activation from a name, class, instance, config dict, or None (linear)."""
    if identifier is None:
        return Linear()
    return REGISTRY.get(identifier, base=Activation)


def _log_max(dtype) -> float:
    """ln of the largest finite number of a float dtype (rounded down: e^it stays finite)."""
    dtype = np.dtype(dtype) if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)
    return float(np.nextafter(np.log(np.finfo(dtype).max), dtype.type(0)))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow: e^-|z| never exceeds 1."""
    e = np.exp(-np.abs(z))
    r = 1.0 / (1.0 + e)
    return np.where(z >= 0, r, e * r)


@REGISTRY.register("linear", "identity")
class Linear(Activation):
    """f(xi) = xi, f'(xi) = 1."""

    name = "linear"

    def __call__(self, xi):
        return xi

    def derivative(self, xi, Y):
        return np.ones_like(xi)

    def backward(self, xi, Y, dY):
        return dY


@REGISTRY.register("step", "heaviside")
class Step(Activation):
    """Heaviside threshold U(xi) = 1 for xi > 0, else 0. f' = 0 almost everywhere."""

    name = "step"
    differentiable = False

    def __call__(self, xi):
        return (xi > 0).astype(xi.dtype)

    def derivative(self, xi, Y):
        return np.zeros_like(xi)


@REGISTRY.register("sign", "bipolar_step")
class Sign(Activation):
    """Bipolar threshold: +1 for xi >= 0, else -1 (never 0). f' = 0 almost everywhere."""

    name = "sign"
    differentiable = False

    def __call__(self, xi):
        return np.where(xi >= 0, 1.0, -1.0).astype(xi.dtype)

    def derivative(self, xi, Y):
        return np.zeros_like(xi)


@REGISTRY.register("sigmoid", "logistic")
class Sigmoid(Activation):
    """f(xi) = 1 / (1 + e^(-lambda xi)), f'(xi) = lambda Y (1 - Y). Range (0, 1).

    Parameters
    ----------
    slope : float, default=1.0
        The lectures' lambda; larger values make the sigmoid steeper.
    """

    name = "sigmoid"

    def __init__(self, slope: float = 1.0):
        self.slope = float(slope)

    def __call__(self, xi):
        # One transcendental. For xi << 0, e^(-lambda xi) overflows to inf and 1 / inf = 0, the
        # right limit: the overflow is expected.
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-self.slope * xi))

    def derivative(self, xi, Y):
        return self.slope * Y * (1.0 - Y)

    def get_config(self):
        return {"name": self.name, "slope": self.slope}


@REGISTRY.register("tanh")
class Tanh(Activation):
    """f(xi) = tanh(lambda xi), f'(xi) = lambda (1 - Y^2). Range (-1, 1).

    (The notes of lecture 003 write the derivative as lambda^2 (1 + y)(1 - y); the chain rule
    gives one factor lambda.)

    Parameters
    ----------
    slope : float, default=1.0
        The lectures' lambda.
    """

    name = "tanh"

    def __init__(self, slope: float = 1.0):
        self.slope = float(slope)

    def __call__(self, xi):
        return np.tanh(self.slope * xi)

    def derivative(self, xi, Y):
        return self.slope * (1.0 - Y * Y)

    def get_config(self):
        return {"name": self.name, "slope": self.slope}


@REGISTRY.register("relu")
class ReLU(Activation):
    """f(xi) = max(0, xi), f'(xi) = 1 for xi > 0, else 0 (0 at the kink, as TF and PyTorch)."""

    name = "relu"

    def __call__(self, xi):
        return np.maximum(xi, 0.0)

    def derivative(self, xi, Y):
        return (xi > 0).astype(xi.dtype)

    def backward(self, xi, Y, dY):
        return np.where(xi > 0, dY, 0.0).astype(dY.dtype, copy=False)


@REGISTRY.register("leaky_relu")
class LeakyReLU(Activation):
    """f(xi) = xi for xi > 0, alpha xi otherwise; f' = 1 or alpha.

    Parameters
    ----------
    alpha : float, default=0.2
        Slope for negative inputs, a small positive number (Keras's ``negative_slope``
        default of the activation function).
    """

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.2):
        self.alpha = float(alpha)

    def __call__(self, xi):
        return np.where(xi > 0, xi, self.alpha * xi).astype(xi.dtype, copy=False)

    def derivative(self, xi, Y):
        return np.where(xi > 0, 1.0, self.alpha).astype(xi.dtype)

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}


@REGISTRY.register("elu")
class ELU(Activation):
    """f(xi) = xi for xi > 0, alpha (e^xi - 1) otherwise; f' = 1 or Y + alpha."""

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def __call__(self, xi):
        return np.where(xi > 0, xi, self.alpha * np.expm1(np.minimum(xi, 0.0))).astype(
            xi.dtype, copy=False)

    def derivative(self, xi, Y):
        return np.where(xi > 0, 1.0, Y + self.alpha).astype(xi.dtype, copy=False)

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}


@REGISTRY.register("softplus")
class Softplus(Activation):
    """f(xi) = ln(1 + e^xi), computed as logaddexp(0, xi); f'(xi) = sigmoid(xi)."""

    name = "softplus"

    def __call__(self, xi):
        return np.logaddexp(0.0, xi).astype(xi.dtype, copy=False)

    def derivative(self, xi, Y):
        return _sigmoid(xi)


@REGISTRY.register("swish", "silu")
class Swish(Activation):
    """f(xi) = xi sigmoid(xi), f'(xi) = s + xi s (1 - s) with s = sigmoid(xi)."""

    name = "swish"

    def __call__(self, xi):
        return xi * _sigmoid(xi)

    def derivative(self, xi, Y):
        s = _sigmoid(xi)
        return s + xi * s * (1.0 - s)


_erf = np.vectorize(math.erf, otypes=[np.float64])
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_SATURATES = 10.0


@REGISTRY.register("gelu")
class GELU(Activation):
    """f(xi) = xi Phi(xi) with Phi the standard normal CDF; f' = Phi(xi) + xi phi(xi).

    ``approximate=True`` uses 0.5 xi (1 + tanh(sqrt(2/pi) (xi + 0.044715 xi^3))), as Keras
    and PyTorch do under that option. The exact form calls ``math.erf`` per element (NumPy has
    no vectorized erf), so it is slower.
    """

    name = "gelu"

    def __init__(self, approximate: bool = False):
        self.approximate = bool(approximate)

    def __call__(self, xi):
        if self.approximate:
            inner = self._inner(xi)
            return (0.5 * xi * (1.0 + np.tanh(inner))).astype(xi.dtype, copy=False)
        return (xi * 0.5 * (1.0 + _erf(xi / math.sqrt(2.0)))).astype(xi.dtype, copy=False)

    def derivative(self, xi, Y):
        if self.approximate:
            t = np.tanh(self._inner(xi))
            xc = np.clip(xi, -_GELU_SATURATES, _GELU_SATURATES)
            d_inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * xc ** 2)  # (times 1 - t^2 = 0)
            return (0.5 * (1.0 + t) + 0.5 * xi * (1.0 - t * t) * d_inner).astype(xi.dtype,
                                                                                copy=False)
        cdf = 0.5 * (1.0 + _erf(xi / math.sqrt(2.0)))
        xc = np.clip(xi, -40.0, 40.0)  # phi(40) = e^-800 / sqrt(2 pi) is 0 in float64 already
        pdf = np.exp(-0.5 * xc * xc) / math.sqrt(2.0 * math.pi)
        return (cdf + xi * pdf).astype(xi.dtype, copy=False)

    @staticmethod
    def _inner(xi):
        """sqrt(2/pi) (xi + 0.044715 xi^3), xi clipped to +-10 first: tanh of it is +-1
        exactly there already (tanh(43.7) = 1 in float64), and xi^3 cannot overflow."""
        xc = np.clip(xi, -_GELU_SATURATES, _GELU_SATURATES)
        return _SQRT_2_OVER_PI * (xc + 0.044715 * xc ** 3)

    def get_config(self):
        return {"name": self.name, "approximate": self.approximate}


@REGISTRY.register("exponential", "exp")
class Exponential(Activation):
    """f(xi) = e^xi, f'(xi) = e^xi = Y.

    Clipped: xi above ln(largest float of its dtype) (88.7 in float32, 709.8 in float64) is
    taken as that, so Y saturates at the largest finite number instead of overflowing to inf
    (Keras returns inf there)."""

    name = "exponential"

    def __call__(self, xi):
        return np.exp(np.minimum(xi, _log_max(xi.dtype)))

    def derivative(self, xi, Y):
        return Y


@REGISTRY.register("softmax")
class Softmax(Activation):
    """Y_k = e^(xi_k) / sum_j e^(xi_j) over the last axis, computed after subtracting the row max.

    Its Jacobian is dY_k/dxi_j = Y_k (1[k=j] - Y_j), so the backward pass is
    delta = Y * (dE/dY - sum_k dE/dY_k Y_k). ``derivative`` returns the diagonal Y (1 - Y).
    """

    name = "softmax"

    def __call__(self, xi):
        z = xi - xi.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def derivative(self, xi, Y):
        return Y * (1.0 - Y)

    def backward(self, xi, Y, dY):
        return Y * (dY - (dY * Y).sum(axis=-1, keepdims=True))
