"""Primitive operations: each computes its value and its local derivative, nothing else.

Every function here returns a compute node whose ``vjp(g)`` maps the upstream gradient
g = dL/d(out) to one contribution per parent, g * d(out)/d(parent) (summed over the axes
broadcasting added, so it has the parent's shape). Everything else (mean, min, logsumexp,
stack, every activation and loss in ``functional``) is built from these and has no
derivative code of its own.

Conventions at kinks (the same as PyTorch): |x|' = 0 at 0; maximum/minimum split the
gradient equally between tied operands; max/min reductions share it equally among tied
elements (``torch.amax``); sign has derivative 0.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from . import tensor as _tensor
from .tensor import Tensor, as_tensor

__all__ = ["add", "sub", "mul", "div", "neg", "power", "matmul", "exp", "log", "log1p",
           "expm1", "sqrt", "abs", "tanh", "erf", "sign", "maximum", "minimum", "where", "sum",
           "mean", "max", "min", "reshape", "transpose", "getitem", "concatenate", "stack",
           "logsumexp"]


def _unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum g over the axes that broadcasting added or stretched, back to ``shape``."""
    if g.shape == tuple(shape):
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)


def _pair(a, b):
    """Both operands as Tensors; a Python number takes the other operand's dtype."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    if not isinstance(b, Tensor):
        b = as_tensor(b, like=a)
    return a, b


def _elementwise(a, b, data, vjp_a, vjp_b, op):
    """A binary broadcasting op: vjp_a(g), vjp_b(g) are unbroadcast to the operand shapes."""
    sa, sb = a.shape, b.shape

    def vjp(g):
        return (_unbroadcast(vjp_a(g), sa) if a.requires_grad else None,
                _unbroadcast(vjp_b(g), sb) if b.requires_grad else None)

    return Tensor._make(data, (a, b), vjp, op)


# -- arithmetic -------------------------------------------------------------------------------
def add(a, b):
    a, b = _pair(a, b)
    return _elementwise(a, b, a.data + b.data, lambda g: g, lambda g: g, "+")


def sub(a, b):
    a, b = _pair(a, b)
    return _elementwise(a, b, a.data - b.data, lambda g: g, lambda g: -g, "-")


def mul(a, b):
    a, b = _pair(a, b)
    return _elementwise(a, b, a.data * b.data, lambda g: g * b.data, lambda g: g * a.data, "*")


def div(a, b):
    # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2. (A primitive rather than a * b**-1 so the graph shows
    # one node per operation written, as the lecture's graphs do.)
    a, b = _pair(a, b)
    return _elementwise(a, b, a.data / b.data, lambda g: g / b.data,
                        lambda g: -g * a.data / (b.data * b.data), "/")


def neg(a):
    return Tensor._make(-a.data, (a,), lambda g: (-g,), "neg")


def power(a, b):
    """a ** b. A constant exponent p gives p a^(p-1); a Tensor exponent also gets a^b ln a."""
    if not isinstance(b, Tensor) and np.ndim(b) == 0 and isinstance(a, Tensor):
        p = float(b)
        out = a.data ** a.data.dtype.type(p)

        def vjp(g):
            if p == 0.0:
                return (np.zeros_like(g),)
            return (g * p * a.data ** a.data.dtype.type(p - 1.0),)

        return Tensor._make(out, (a,), vjp, f"**{p:g}")
    a, b = _pair(a, b)
    out = a.data ** b.data

    def d_base(g):
        return g * b.data * a.data ** (b.data - 1)

    def d_exponent(g):
        # ln a where a > 0; 0 where a == 0 (out = 0 there for b > 0); NaN for a < 0.
        positive = a.data > 0
        ln_a = np.where(positive, np.log(np.where(positive, a.data, 1)),
                        np.where(a.data == 0, 0.0, np.nan))
        return g * out * ln_a

    return _elementwise(a, b, out, d_base, d_exponent, "**")


def matmul(a, b):
    """a @ b with NumPy's rules (1-D operands are promoted, leading axes broadcast)."""
    a, b = _pair(a, b)
    A, B = a.data, b.data
    out = A @ B

    def vjp(g):
        A2 = A.reshape(1, -1) if A.ndim == 1 else A
        B2 = B.reshape(-1, 1) if B.ndim == 1 else B
        batch = np.broadcast_shapes(A2.shape[:-2], B2.shape[:-2])
        G2 = np.reshape(g, batch + (A2.shape[-2], B2.shape[-1]))
        gA = gB = None
        if a.requires_grad:  # dL/dA = G B^T
            gA = _unbroadcast(G2 @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
        if b.requires_grad:  # dL/dB = A^T G
            gB = _unbroadcast(np.swapaxes(A2, -1, -2) @ G2, B2.shape).reshape(B.shape)
        return gA, gB

    return Tensor._make(out, (a, b), vjp, "@")


# -- elementwise functions --------------------------------------------------------------------
def _unary(a, data, local, op):
    """f(a) with f' given as ``local(out)`` -> array; the vjp is g * f'."""
    a = as_tensor(a)
    return Tensor._make(data, (a,), lambda g: (g * local(),), op)


def exp(a):
    a = as_tensor(a)
    out = np.exp(a.data)
    return _unary(a, out, lambda: out, "exp")


def log(a):
    a = as_tensor(a)
    return _unary(a, np.log(a.data), lambda: 1 / a.data, "log")


def log1p(a):
    """ln(1 + a), accurate for small a."""
    a = as_tensor(a)
    return _unary(a, np.log1p(a.data), lambda: 1 / (1 + a.data), "log1p")


def expm1(a):
    """e^a - 1, accurate for small a."""
    a = as_tensor(a)
    return _unary(a, np.expm1(a.data), lambda: np.exp(a.data), "expm1")


def sqrt(a):
    a = as_tensor(a)
    out = np.sqrt(a.data)
    return _unary(a, out, lambda: 0.5 / out, "sqrt")


def abs(a):  # noqa: A001 (the name users expect)
    a = as_tensor(a)
    return _unary(a, np.abs(a.data), lambda: np.sign(a.data), "abs")


def tanh(a):
    a = as_tensor(a)
    out = np.tanh(a.data)
    return _unary(a, out, lambda: 1 - out * out, "tanh")


_erf = np.vectorize(math.erf, otypes=[np.float64])
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erf(a):
    """The error function (2/sqrt(pi)) int_0^a e^(-t^2) dt; derivative 2/sqrt(pi) e^(-a^2)."""
    a = as_tensor(a)
    out = _erf(a.data).astype(a.data.dtype, copy=False)
    return _unary(a, out, lambda: _TWO_OVER_SQRT_PI * np.exp(-a.data * a.data), "erf")


def sign(a):
    """-1, 0 or +1; its derivative is 0 (it is constant almost everywhere)."""
    a = as_tensor(a)
    return _unary(a, np.sign(a.data), lambda: np.zeros_like(a.data), "sign")


def maximum(a, b):
    a, b = _pair(a, b)
    share = lambda first, second: np.where(first > second, 1.0, np.where(  # noqa: E731
        first == second, 0.5, 0.0))
    return _elementwise(a, b, np.maximum(a.data, b.data),
                        lambda g: g * share(a.data, b.data),
                        lambda g: g * share(b.data, a.data), "maximum")


def minimum(a, b):
    a, b = _pair(a, b)
    share = lambda first, second: np.where(first < second, 1.0, np.where(  # noqa: E731
        first == second, 0.5, 0.0))
    return _elementwise(a, b, np.minimum(a.data, b.data),
                        lambda g: g * share(a.data, b.data),
                        lambda g: g * share(b.data, a.data), "minimum")


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b``; the gradient goes to the chosen one."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _pair(a, b)
    return _elementwise(a, b, np.where(cond, a.data, b.data),
                        lambda g: np.where(cond, g, 0), lambda g: np.where(cond, 0, g), "where")


# -- reductions -------------------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(int(ax) % ndim for ax in axis) if ndim else ()


def _expand(g, shape, axes, keepdims):
    """Broadcast the gradient of a reduction back to the input's shape."""
    if not keepdims:
        g = np.expand_dims(g, axes) if axes else g
    return np.broadcast_to(g, shape).copy()


def sum(a, axis=None, keepdims=False):  # noqa: A001
    a = as_tensor(a)
    axes = _axes(axis, a.ndim)
    out = np.sum(a.data, axis=axes, keepdims=keepdims)
    return Tensor._make(np.asarray(out), (a,),
                        lambda g: (_expand(g, a.shape, axes, keepdims),), "sum")


def mean(a, axis=None, keepdims=False):
    a = as_tensor(a)
    axes = _axes(axis, a.ndim)
    n = math.prod(a.shape[ax] for ax in axes)
    return div(sum(a, axis, keepdims), n)


def _extreme(a, axis, keepdims, reduce, op):
    a = as_tensor(a)
    axes = _axes(axis, a.ndim)
    kept = reduce(a.data, axis=axes, keepdims=True)
    out = kept if keepdims else np.asarray(np.squeeze(kept, axis=axes))

    def vjp(g):
        hits = a.data == kept  # ties share the gradient equally
        return (_expand(g, a.shape, axes, keepdims) * hits / hits.sum(axis=axes, keepdims=True),)

    return Tensor._make(out, (a,), vjp, op)


def max(a, axis=None, keepdims=False):  # noqa: A001
    return _extreme(a, axis, keepdims, np.max, "max")


def min(a, axis=None, keepdims=False):  # noqa: A001
    return _extreme(a, axis, keepdims, np.min, "min")


def logsumexp(a, axis=None, keepdims=False):
    """log sum e^a, stable: m + log sum e^(a - m) with m = max a held constant.

    (The result does not depend on m, so treating it as a constant changes nothing but
    avoids overflow; its gradient is softmax(a).)
    """
    a = as_tensor(a)
    axes = _axes(axis, a.ndim)
    m = np.max(a.data, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(a.data.dtype)
    s = log(sum(exp(a - m), axes, keepdims=True)) + m
    return s if keepdims else reshape(s, np.squeeze(s.data, axis=axes).shape)


# -- shape ------------------------------------------------------------------------------------
def reshape(a, shape):
    a = as_tensor(a)
    return Tensor._make(a.data.reshape(shape), (a,), lambda g: (g.reshape(a.shape),), "reshape")


def transpose(a, axes=None):
    a = as_tensor(a)
    if axes is not None:  # negative axes count from the end; argsort needs them >= 0
        axes = tuple(int(ax) % a.ndim for ax in axes) if a.ndim else tuple(axes)
    inverse = None if axes is None else np.argsort(axes)
    return Tensor._make(np.transpose(a.data, axes), (a,),
                        lambda g: (np.transpose(g, inverse),), "transpose")


def getitem(a, index):
    """a[index]: basic slices and integer arrays; repeated indices add their gradients."""
    a = as_tensor(a)
    if isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, Tensor):
        index = index.data.astype(np.intp) if not index.data.dtype == bool else index.data

    def vjp(g):
        full = np.zeros_like(a.data)
        np.add.at(full, index, g)
        return (full,)

    return Tensor._make(np.asarray(a.data[index]), (a,), vjp, "getitem")


def concatenate(tensors, axis=0):
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate(): tensors must be a non-empty sequence; received none.")
    out = np.concatenate([t.data for t in tensors], axis=axis)
    cuts = np.cumsum([t.shape[axis] for t in tensors])[:-1]

    def vjp(g):
        return tuple(np.split(g, cuts, axis=axis))

    return Tensor._make(out, tuple(tensors), vjp, "concatenate")


def stack(tensors, axis=0):
    """Join along a new axis: concatenate of reshaped operands."""
    tensors = [as_tensor(t) for t in tensors]
    expanded = [reshape(t, np.expand_dims(t.data, axis).shape) for t in tensors]
    return concatenate(expanded, axis=axis)


_tensor._ops = sys.modules[__name__]  # Tensor's operators call these primitives
