"""The classic rules compiled: which configurations run in C (``_classic.c``), and the dispatch.

``mlplab/__init__.py`` installs this module as the accelerator of the classic neurons
(``neurons._base.set_accelerator``). A rule's ``fit`` asks ``epoch(rule, **config)`` once; the
answer is a function with the arguments of the Python rule's epoch (``Perceptron._epoch``,
``_DeltaRule._epoch``, ``Madaline._epoch``) that runs the whole epoch in one compiled loop,
or None, and then the Python rule runs. Compiled are

- ``"perceptron"``: the perceptron rule, binary or bipolar, any number of units;
- ``"delta_rule"``: linear units with the SSE rule (Adaline, AdalineRegressor, LinearNetwork
  with solver="gd"): online, normalized, mini-batch and batch;
- ``"madaline"``: Madaline Rule I.

SingleLayerNetwork's sigmoid, tanh and softmax units keep the Python rule (NumPy's exp is its
own SIMD code, which C's exp does not round alike). Each compiled epoch gives the Python rule's
weights bit for bit: the shuffled order is still drawn in Python by the rule, and the products
are the same OpenBLAS calls NumPy's matmul makes (found in NumPy's own OpenBLAS and checked
against NumPy's ``@`` before they are used); without that BLAS, or with
``MLPLAB_PURE_NUMPY=1`` / ``mlplab.fast.use(False)``, the Python rules run.
"""
from __future__ import annotations

import ctypes

import numpy as np

from ..activations import Linear
from . import blas, kernels

try:
    from . import _classic as _c
except ImportError:  # built without a C compiler: the Python rules run
    _c = None

_ready: dict = {}


def _blas_ok() -> bool:
    """True once NumPy's OpenBLAS ddot, dgemv and dgemm are handed to the C loops and give
    NumPy's ``@`` bit for bit on every shape the loops use."""
    if "ok" not in _ready:
        _ready["ok"] = _set_blas()
    return _ready["ok"]


def _set_blas() -> bool:
    try:
        lib = blas._openblas()
    except OSError:
        return False
    found = [blas._cblas(lib, stem) for stem in ("ddot", "dgemv", "dgemm")] if lib else [None]
    if None in found or len({index for _, index in found}) != 1:
        return False
    _c.set_blas(*(ctypes.cast(fn, ctypes.c_void_p).value for fn, _ in found),
                found[0][1] is ctypes.c_int64)
    rng = np.random.default_rng(0)
    for m, n, k in ((1, 37, 1), (1, 37, 3), (5, 37, 1), (5, 37, 3), (3, 1, 4)):
        A, B = rng.normal(size=(m, n)), rng.normal(size=(n, k))
        for transposed, a in ((False, A), (True, np.ascontiguousarray(A.T))):
            out = np.empty((m, k))
            _c.product((m, n, k), transposed, a, B, out)
            if not np.array_equal(out, a.T @ B if transposed else a @ B):
                return False
    return True


def available() -> bool:
    """True when the compiled rules are built, switched on and have their BLAS."""
    return _c is not None and kernels.enabled() and _blas_ok()


def _arrays_ok(*arrays) -> bool:
    return all(type(a) is np.ndarray and a.dtype == np.float64 and a.flags.c_contiguous
               and a.size > 0 for a in arrays)


def _order(order):
    """The sample order for C: None for the unshuffled range, else int64 indices."""
    if isinstance(order, range):
        return None
    return np.ascontiguousarray(order, dtype=np.int64)


#: The compiled perceptron keeps room for W after every sample of an epoch (record="updates");
#: above this many bytes the Python rule, which stores only the updates, runs instead.
MAX_SNAPSHOT_BYTES = 1 << 30


def _perceptron(X, T, W, coding, record):
    N, F = X.shape
    K = T.shape[1]
    if record and N * F * K * 8 > MAX_SNAPSHOT_BYTES:
        return None
    updated = np.empty(N, dtype=np.int64)
    snapshots = []  # allocated at the first epoch that records them

    def epoch(X, T, W, order, alpha, f, record):
        if record and not snapshots:
            snapshots.append(np.empty((N, F, K)))
        n = _c.perceptron_epoch((N, F, K), X, T, W, _order(order), float(alpha),
                                coding == "bipolar", updated, snapshots[0] if record else None)
        return updated[:n].copy(), (snapshots[0][:n].copy() if record else [])
    return epoch


def _delta_rule(X, D, W, f, loss, batch_size, normalized):
    if type(f) is not Linear or loss != "sse":
        return None
    N, F = X.shape
    K = D.shape[1]
    bs = batch_size
    x_b, d_b, xi, dW = np.empty((bs, F)), np.empty((bs, K)), np.empty((bs, K)), np.empty((F, K))

    def epoch(X, D, W, order, bs, alpha, f, loss, sq_norm):
        _c.lms_epoch((N, F, K), X, D, W, _order(order), bs, float(alpha),
                     np.ascontiguousarray(sq_norm[:, 0]) if normalized else None, x_b, d_b, xi, dW)
    return epoch


def _madaline(X, T, W):
    N, F = X.shape
    K = W.shape[1]

    def epoch(X, T, W, order, alpha, m):
        return _c.madaline_epoch((N, F, K), X, np.ascontiguousarray(T[:, 0]), W, _order(order),
                                 float(alpha), int(m))
    return epoch


_RULES = {"perceptron": _perceptron, "delta_rule": _delta_rule, "madaline": _madaline}


def epoch(rule: str, X, W, **config):
    """The compiled epoch of ``rule`` for this fit (X the inputs with the bias column, W the
    initial weights, updated in place; ``config`` the rule's other arrays and options), or
    None where it is not compiled: the caller then runs its Python epoch."""
    targets = config.get("T", config.get("D"))
    if not available() or not _arrays_ok(X, W, targets) or not W.flags.writeable \
            or X.ndim != 2 or W.ndim != 2 or targets.ndim != 2 or W.shape[0] != X.shape[1] \
            or len(targets) != len(X):
        return None
    return _RULES[rule](X=X, W=W, **config)
