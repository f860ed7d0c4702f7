"""The one table of what the fast path computes, and its limits.

The activation codes and ``MAX_LAYERS`` come from the compiled module, by name, so Python and
C cannot disagree. Activations are matched by exact class: a subclass may change the formula,
so it keeps the reference path, which calls its own methods.
"""
from __future__ import annotations

from ..activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from ..losses import BinaryCrossentropy, MeanSquaredError, SumSquaredError
from .kernels import _c

_C_NAMES = {Linear: "ACT_LINEAR", Sigmoid: "ACT_SIGMOID", Tanh: "ACT_TANH", ReLU: "ACT_RELU",
            Softmax: "ACT_SOFTMAX"}
#: {activation class: its code in _ckernels.c}; empty without the compiled module.
CODES = {} if _c is None else {cls: getattr(_c, name) for cls, name in _C_NAMES.items()}
_LOSS_NAMES = {BinaryCrossentropy: "LOSS_BCE_LOGITS", MeanSquaredError: "LOSS_MSE",
               SumSquaredError: "LOSS_SSE"}
#: {loss class: its per-sample kernel's code in _ckernels.c} (binary cross-entropy: from the
#: logits of a sigmoid output); empty without the compiled module.
LOSS_CODES = {} if _c is None else {cls: getattr(_c, name) for cls, name in _LOSS_NAMES.items()}
#: The compiled forward pass and training step take at most this many layers.
MAX_LAYERS = 0 if _c is None else _c.MAX_LAYERS
#: predict() on at most this many samples runs the whole forward pass in one compiled call.
SMALL_BATCH = 16
#: Below this many weights, a BLAS call through ctypes costs more than a separate update pass.
MIN_GEMM_SIZE = 1 << 15


def code(activation):
    """(code, slope) of ``activation`` for the compiled kernels, or None (exact classes only)."""
    c = CODES.get(type(activation))
    return None if c is None else (c, float(getattr(activation, "slope", 1.0)))


def loss_code(loss) -> int:
    """The per-sample kernel's code of ``loss`` (exact class), or 0 (none: NumPy's)."""
    return LOSS_CODES.get(type(loss), 0)


def folds_update(n: int, W) -> bool:
    """True where plain SGD's W <- W - alpha Y_prev^T delta should be one BLAS product
    C <- C + alpha A^T B (no dE/dW stored): one sample (a rank-1 pass), or a large W."""
    return n == 1 or W.size >= MIN_GEMM_SIZE


#: The compiled step's first layer skips the input's zeros on a batch with at most this share
#: of nonzeros (MNIST: 19%); above it the dense products are faster (benchmarks/zero_skipping.py).
MAX_INPUT_DENSITY = 0.3


def nonzero_limit(n: int, W) -> int:
    """The most nonzeros a batch of n inputs to W may have for the first layer to skip zeros
    (0: never; batches of one sample take NumPy's gemv)."""
    return int(MAX_INPUT_DENSITY * n * W.shape[0]) if n > 1 else 0
