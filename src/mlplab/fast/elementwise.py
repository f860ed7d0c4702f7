"""The fast versions of the activations' and the fused losses' formulas, by exact class.

Each function computes what the reference method named in its docstring computes, into a work
array the caller keeps from step to step; where the table has no kernel for the object's exact
class (or the kernel declines), it calls the object's own method, so a subclass that changes a
formula is never bypassed.
"""
from __future__ import annotations

import numpy as np

from ..activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from ..losses import BinaryCrossentropy, SparseCategoricalCrossentropy
from . import kernels
from .table import code, loss_code


def forward_into(act, xi, out):
    """Y = f(xi), written into ``out``; returns the array holding Y (xi itself for linear).
    Reference: ``act(xi)``."""
    kind = type(act)
    if kind is Linear:
        return xi
    if kind in (Sigmoid, Tanh) and kernels.activation_f32(code(act)[0], xi, out, act.slope):
        return out
    if (kind is ReLU and kernels.relu(xi, out)) or (kind is Softmax and kernels.softmax(xi, out)):
        return out
    out[...] = act(xi)
    return out


def backward_into(act, xi, Y, dY, out):
    """delta = f'(xi) * dE/dY written into ``out`` (dY is left as it is); returns the array
    holding delta (dY itself for linear). Reference: ``act.backward(xi, Y, dY)``."""
    kind = type(act)
    if kind is Linear:
        return dY
    if kind in (Sigmoid, Tanh, ReLU):
        c, slope = code(act)
        if kernels.delta(c, xi if kind is ReLU else Y, dY, out, slope):
            return out
    out[...] = act.backward(xi, Y, dY)
    return out


def _labels(loss, act, D):
    """D as int64 labels where the sparse cross-entropy's kernels apply, else None."""
    if type(loss) is SparseCategoricalCrossentropy and type(act) is Softmax:
        return np.ascontiguousarray(D.reshape(-1), dtype=np.int64)
    return None


def fused_delta(loss, Y, D, act, out):
    """delta_L = slope (Y - D) / N. Reference: ``loss.fused_delta(Y, D, act)``."""
    labels = _labels(loss, act, D)
    if labels is not None and kernels.sparse_cross_entropy_delta(
            Y, labels, Y.dtype.type(loss.scale(len(Y))), out):
        return out
    return loss.fused_delta(Y, D, act)


def per_sample_from_logits(loss, xi, D, act):
    """The per-sample losses from the output layer's Xi.
    Reference: ``loss.per_sample_from_logits(xi, D, act)``."""
    labels = _labels(loss, act, D)
    if labels is not None:
        e = np.empty(len(xi), dtype=xi.dtype)
        if kernels.sparse_cross_entropy(xi, labels, e):
            return e
    if type(loss) is BinaryCrossentropy and type(act) is Sigmoid:
        e = np.empty(len(xi), dtype=xi.dtype)
        if kernels.per_sample_loss(loss_code(loss), xi, D, e, act.slope):
            return e
    return loss.per_sample_from_logits(xi, D, act)


def per_sample(loss, Y, D):
    """The per-sample losses from the outputs Y (MSE and SSE: one compiled pass).
    Reference: ``loss.per_sample(Y, D)``."""
    c = loss_code(loss)
    if c and type(loss) is not BinaryCrossentropy:
        e = np.empty(len(Y), dtype=Y.dtype)
        if kernels.per_sample_loss(c, Y, D, e):
            return e
    return loss.per_sample(Y, D)
