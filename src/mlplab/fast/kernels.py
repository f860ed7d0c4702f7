"""Thin wrappers of mlplab's compiled kernels (``_ckernels.c``), one decline protocol.

The kernels are built by ``pip install`` where a C compiler is present (no extra package, no
NumPy headers). Each one performs the same float operations in the same order as the NumPy
formula it replaces (no fast-math, no fused multiply-add), except the float32 sigmoid and tanh,
which have their own vectorized exp (tested within 2 ulp of the exact value).

Every function returns True when it did the work and False when the caller must run NumPy
(kernels missing or switched off, another dtype, an unusual layout). ``MLPLAB_PURE_NUMPY=1``
in the environment, or ``use(False)``, switches the whole fast path off.
"""
from __future__ import annotations

import os

import numpy as np

try:
    from . import _ckernels as _c
except ImportError:  # built without a C compiler: NumPy runs everything
    _c = None

_state = {"on": os.environ.get("MLPLAB_PURE_NUMPY", "0") in ("", "0")}


def use(enabled: bool) -> bool:
    """Switch the fast path on or off (for tests and comparisons); returns the old setting."""
    old, _state["on"] = _state["on"], bool(enabled)
    return old


def enabled() -> bool:
    """True unless the fast path is switched off."""
    return _state["on"]


def load():
    """The compiled module when it is built and the fast path is on, else None."""
    return _c if _state["on"] else None


def compiled_available() -> bool:
    """True when the compiled kernels are built and switched on."""
    return load() is not None


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def all_finite(arr, threads: int = 1):
    """True when arr has no NaN and no infinity, False when it has; None where NumPy must
    check (kernels off, another dtype, not C-contiguous). One pass in slices on up to
    ``threads`` threads; reference: ``np.isfinite(arr).all()``."""
    k = load()
    if k is None or arr.dtype not in _FLOATS or not arr.flags.c_contiguous:
        return None
    return k.all_finite(arr, threads)



def _flat(arrays, dtype) -> bool:
    """True if all arrays are C-contiguous, writeable and of one dtype."""
    return all(a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable for a in arrays)


def sgd_step(param, grad, lr) -> bool:
    """param -= lr * grad in one pass; lr of param's dtype.
    Reference: ``optimizers.SGD.update_step`` without momentum."""
    k = load()
    if k is None or not _flat((param, grad), param.dtype) or param.size != grad.size:
        return False
    k.sgd(param, grad, lr)
    return True


def sgd_outer(W, a, b, lr) -> bool:
    """W -= lr * outer(a, b) for rows a (1, K) and b (1, N): plain SGD's rank-1 step of one
    sample. Reference: ``W -= lr * (a.T @ b)``."""
    k = load()
    if k is None:
        return False
    try:  # it takes writeable C-order arrays of one float dtype only
        k.sgd_outer(W, a, b, float(lr))
    except TypeError:
        return False
    return True


def adam_step(param, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t) -> bool:
    """Adam's m, v and w updates (Keras's form) in one pass. Reference:
    ``optimizers.Adam.update_step``.

    One difference from the NumPy code: an entry of m that falls below the smallest normal
    float (1.2e-38 in float32) is set to zero. Where the gradient stays 0 (MNIST's blank border
    pixels), m decays by beta_1 each step into that subnormal range, where every operation
    takes a slow microcode path (this step ran 2.2x slower on MNIST's 784x512 kernel at
    epoch 2, with 1 % of m subnormal). The step such an m could make, alpha_t m / (sqrt(v) +
    eps), is below 1e-30 and moves no weight of magnitude above ~1e-22, so w and v stay bit
    for bit the NumPy result (tested); only those m entries differ, by less than 1.2e-38.
    """
    k = load()
    if k is None or not _flat((param, grad, m, v), param.dtype) or \
            not param.size == grad.size == m.size == v.size:
        return False
    k.adam(param, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t)
    return True


def sgd_momentum_step(param, grad, v, lr, momentum, nesterov) -> bool:
    """SGD's momentum step in one pass: v <- mu v - alpha g; w <- w + v, or with Nesterov
    w <- w + mu v - alpha g. Reference: ``optimizers.SGD.update_step`` with momentum."""
    k = load()
    if k is None or not _flat((param, grad, v), param.dtype) or \
            not param.size == grad.size == v.size:
        return False
    k.sgd_momentum(param, grad, v, lr, momentum, nesterov)
    return True


def rmsprop_step(param, grad, v, b, one_minus_rho, rho, epsilon, lr, momentum) -> bool:
    """RMSprop's v and w updates (not centered; b: the momentum buffer or None) in one pass.
    Reference: ``optimizers.RMSprop.update_step``."""
    k = load()
    arrays = (param, grad, v) if b is None else (param, grad, v, b)
    if k is None or not _flat(arrays, param.dtype) or len({a.size for a in arrays}) != 1:
        return False
    k.rmsprop(param, grad, v, b, one_minus_rho, rho, epsilon, lr, momentum)
    return True


def activation_f32(code, xi, out, slope) -> bool:
    """out = sigmoid or tanh of slope * xi (``code``: ``table.CODES``) for float32 arrays, in one
    vectorized pass (NumPy makes four). Sigmoid: within 1.2 ulp of the exact value, and 0 where
    it is below 1.7e-38 (never subnormal). Tanh: Cephes' tanhf, within 2 ulp, odd.
    Reference: ``activations.Sigmoid.__call__``, ``activations.Tanh.__call__``."""
    k = load()
    if k is None or xi.dtype.char != "f" or xi.shape != out.shape or \
            not _flat((xi, out), xi.dtype):
        return False
    k.activation_f32(code, xi, out, slope)
    return True


def relu(xi, out) -> bool:
    """out = max(xi, 0) in one pass (NumPy's maximum checks for NaN, ~4x slower).
    Reference: ``activations.ReLU.__call__``."""
    k = load()
    if k is None or xi.shape != out.shape or not _flat((xi, out), xi.dtype):
        return False
    k.relu(xi, out)
    return True


def delta(code, a, dY, out, slope=1.0) -> bool:
    """delta = f'(xi) * dE/dY in one pass, the same float operations as NumPy's three: relu
    takes a = Xi (1[xi > 0] dY), sigmoid a = Y (((1 - Y) Y slope) dY), tanh a = Y
    (((1 - Y Y) slope) dY). Reference: each activation's ``backward``."""
    k = load()
    if k is None or not a.shape == dY.shape == out.shape or not _flat((a, dY, out), a.dtype):
        return False
    k.delta(code, a, dY, out, slope)
    return True


#: The row kernels (softmax, its cross-entropy and delta) take arrays up to this size: a
#: training batch. Above it NumPy's vectorized exp is faster than the kernels' scalar one.
MAX_ROWS_SIZE = 1 << 12


def _rows_ok(*arrays) -> bool:
    a = arrays[0]
    return a.size <= MAX_ROWS_SIZE and a.ndim == 2 and _flat(arrays, a.dtype)


def softmax(xi, out) -> bool:
    """out = softmax of each row of xi, the row maximum subtracted first.
    Reference: ``activations.Softmax.__call__``."""
    k = load()
    if k is None or not _rows_ok(xi, out) or xi.shape != out.shape:
        return False
    k.softmax(xi, out)
    return True


def sparse_cross_entropy(xi, labels, out) -> bool:
    """out_p = logsumexp(xi_p) - xi_p[labels_p] for the logits xi of a softmax layer.
    Reference: ``losses.SparseCategoricalCrossentropy.per_sample_from_logits``."""
    k = load()
    if k is None or not _rows_ok(xi) or labels.dtype != "int64" or out.dtype != xi.dtype or \
            not labels.flags.c_contiguous:
        return False
    k.sparse_ce(xi, labels, out)
    return True


def sparse_cross_entropy_delta(Y, labels, scale, out) -> bool:
    """out = (Y - D) * scale with D the one-hot rows of the integer labels.
    Reference: ``losses.SparseCategoricalCrossentropy.fused_delta``."""
    k = load()
    if k is None or not _rows_ok(Y, out) or Y.shape != out.shape or labels.dtype != "int64" \
            or not labels.flags.c_contiguous:
        return False
    k.sparse_ce_delta(Y, labels, scale, out)
    return True


def per_sample_loss(code, a, D, out, slope=1.0) -> bool:
    """out_p = the per-sample loss of ``code`` (``table.LOSS_CODES``) in one pass: binary
    cross-entropy from a sigmoid output's Xi (a = Xi), MSE or SSE (a = Y). Each row is summed
    in order (NumPy sums in 8 lanes: the two agree to a few ulp). Reference:
    ``BinaryCrossentropy.per_sample_from_logits``, ``MeanSquaredError.per_sample``,
    ``SumSquaredError.per_sample``."""
    k = load()
    if k is None or a.ndim != 2 or a.shape != D.shape or out.shape != (len(a),) or \
            not _flat((a, D, out), a.dtype):
        return False
    k.per_sample(code, a, D, out, slope)
    return True


def forward(X, layers, out, scratch) -> bool | None:
    """Y_L of a stack of dense layers for a few samples, in one compiled pass.

    ``layers`` is a tuple of ``(W, b or None, code, slope)``; ``scratch`` has room for two
    (n, widest hidden width) arrays. Returns True when ``out`` holds the result, False when X
    holds a NaN or an infinity, None when the caller must run NumPy.
    Reference: ``Sequential.forward(X, training=False)``.
    """
    k = load()
    if k is None:
        return None
    try:
        return k.forward(X, out, scratch, layers)
    except TypeError:  # a weight array of another dtype or layout (set by hand): NumPy's turn
        return None
