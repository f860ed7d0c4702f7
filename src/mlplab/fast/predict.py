"""predict's fast forward pass: one compiled call for a few samples, the kernels for more.

Both use the training step's float32 sigmoid and tanh, so predict gives what the training
step's forward pass gives on the same rows (the products may round differently for different
numbers of rows, as NumPy's own matmul does).
"""
from __future__ import annotations

import numpy as np

from ..layers import Dense
from . import elementwise, kernels, table, threads


def compiled(model, x):
    """Y_L for a few samples in one compiled call (``kernels.forward``), or None when the
    model or x does not suit it: a stack of Dense layers whose activations the table knows,
    and x a C-ordered array of the model's dtype and input shape (its values are checked in
    the call). A call of ``predict`` on one sample is dominated by per-operation overhead;
    this makes it one."""
    if x.ndim != 2 or not 0 < len(x) <= table.SMALL_BATCH or x.dtype != model.dtype or \
            x.shape[1:] != model.input_shape or not x.flags.c_contiguous or \
            not 0 < len(model.layers) <= table.MAX_LAYERS:
        return None
    specs, widest = [], 0
    for layer in model.layers:
        code = type(layer) is Dense and table.code(layer.activation)
        if not code:
            return None
        specs.append((layer.W, layer.b, *code))
        widest = max(widest, layer.units)
    n = len(x)
    out = np.empty((n, model.layers[-1].units), dtype=model.dtype)
    done = kernels.forward(x, tuple(specs), out, np.empty(2 * n * widest, model.dtype))
    return out if done else None  # not done: NaN or infinity in x, for check_x to report


def forward(model, x, checked: bool):
    """Y_L = the stack's forward pass on x, or None where the reference must run.

    ``checked=False``: x is the user's array, unchecked: only the compiled call for a few
    samples runs (it declines non-finite values). ``checked=True``: x is validated.
    """
    if not kernels.enabled():
        return None
    Y = compiled(model, x)
    if Y is not None or not checked:
        return Y
    with threads.for_pass(model, len(x)):
        return _layers_forward(model, x)


def _layers_forward(model, x):
    """The forward pass layer by layer, Dense layers through the table's kernels."""
    for layer in model.layers:
        if type(layer) is Dense and table.code(layer.activation) is not None:
            xi = layer.logits(x)                                       # Xi = Y_prev W + b
            x = elementwise.forward_into(layer.activation, xi, xi)     # Y = f(Xi), in place
        else:
            x = layer.forward(x, training=False)
    return x
