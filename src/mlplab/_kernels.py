"""Optional fast kernels for the elementwise work of a training step and for small predictions.

Two accelerators, each beside a NumPy path that stays the reference and passes the same tests:

- mlplab's own compiled kernels (``_ckernels.c``, built by ``pip install`` where a C compiler
  is present; no extra package, no NumPy headers): the SGD and Adam updates as one fused pass
  over the arrays instead of one NumPy pass per operation, the rank-1 SGD update of online
  learning, and the whole forward pass of a small dense network for ``predict``. The update
  kernels perform the same float operations in the same order as the NumPy code (no
  fast-math, no fused multiply-add), so both paths give identical weights, which the tests
  check bit for bit (Adam's kernel also zeroes subnormal entries of m: see ``adam_step``).
- the BLAS that NumPy itself ships (OpenBLAS, called through ctypes; no extra package):
  ``gemm_update`` computes C <- C + alpha A^T B in one matrix product, which lets plain SGD
  fold W <- W - alpha Y_prev^T delta into the product that computes the gradient.

``MLPLAB_PURE_NUMPY=1`` in the environment (or ``use(False)``) turns both off.

Each function returns True when it did the work and False when the caller must run the
NumPy code (accelerator missing or off, or an unusual layout).
"""
from __future__ import annotations

import os

import numpy as np

_state = {"on": os.environ.get("MLPLAB_PURE_NUMPY", "0") in ("", "0"), "kernels": None,
          "gemm": None}


def use(enabled: bool) -> bool:
    """Switch the accelerators on or off (for tests and comparisons); returns the old setting."""
    old, _state["on"] = _state["on"], bool(enabled)
    return old


def backend() -> str:
    """What the training step uses: e.g. ``"C kernels + OpenBLAS gemm"`` or ``"numpy"``."""
    parts = (["C kernels"] if _load() else []) + (["OpenBLAS gemm"] if _gemm() else [])
    return " + ".join(parts) or "numpy"


def compiled_available() -> bool:
    """True when the compiled kernels are built and switched on."""
    return _load() is not None


def _load():
    if not _state["on"]:
        return None
    if _state["kernels"] is None:
        try:
            from . import _ckernels
        except ImportError:  # built without a C compiler: the NumPy code runs
            _ckernels = False
        _state["kernels"] = _ckernels
    return _state["kernels"] or None


def _flat(arrays, dtype):
    """The arrays if all are C-contiguous, writeable and of one dtype, else None."""
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous or not a.flags.writeable:
            return None
    return arrays


def sgd_step(param, grad, lr) -> bool:
    """param -= lr * grad in one pass; lr of param's dtype."""
    kernels = _load()
    if kernels is None or not _flat((param, grad), param.dtype) or param.size != grad.size:
        return False
    kernels.sgd(param, grad, lr)
    return True


def adam_step(param, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t) -> bool:
    """Adam's m, v and w updates (Keras's form, see ``optimizers.Adam``) in one pass.

    One difference from the NumPy code: an entry of m that falls below the smallest normal
    float (1.2e-38 in float32) is set to zero. Where the gradient stays 0 (MNIST's blank border
    pixels), m decays by beta_1 each step into that subnormal range, where every operation
    takes a slow microcode path (this step ran 2.2x slower on MNIST's 784x512 kernel at
    epoch 2, with 1 % of m subnormal). The step such an m could make, alpha_t m / (sqrt(v) +
    eps), is below 1e-30 and moves no weight of magnitude above ~1e-22, so w and v stay bit
    for bit the NumPy result (tested); only those m entries differ, by less than 1.2e-38.
    """
    kernels = _load()
    if kernels is None or not _flat((param, grad, m, v), param.dtype) or \
            not param.size == grad.size == m.size == v.size:
        return False
    kernels.adam(param, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t)
    return True


def _activation_f32(code, xi, out, slope) -> bool:
    kernels = _load()
    if kernels is None or xi.dtype != np.float32 or xi.shape != out.shape or \
            _flat((xi, out), xi.dtype) is None:
        return False
    kernels.activation_f32(code, xi, out, slope)
    return True


def sigmoid(xi, out, slope) -> bool:
    """out = 1 / (1 + e^(-slope xi)) for float32 arrays, in one vectorized pass (NumPy makes
    four); within 1.2 ulp of the exact value, and 0 where it is below 1.7e-38."""
    return _activation_f32(DELTA_CODES["sigmoid"], xi, out, slope)


def tanh(xi, out, slope) -> bool:
    """out = tanh(slope xi) for float32 arrays in one vectorized pass (Cephes' tanhf: a
    polynomial for |slope xi| <= 0.625, which keeps the relative precision near 0, else
    1 - 2 / (e^(2|z|) + 1)); within 2 ulp of the exact value (tested)."""
    return _activation_f32(DELTA_CODES["tanh"], xi, out, slope)


def relu(xi, out) -> bool:
    """out = max(xi, 0) in one compiled pass (NumPy's maximum checks for NaN, ~4x slower)."""
    kernels = _load()
    if kernels is None or xi.shape != out.shape or _flat((xi, out), xi.dtype) is None:
        return False
    kernels.relu(xi, out)
    return True


#: Codes of the activations whose delta has a compiled pass (as in ``activations.kernel_code``).
DELTA_CODES = {"sigmoid": 1, "tanh": 2, "relu": 3}


def delta(name, a, dY, out, slope=1.0) -> bool:
    """delta = f'(xi) * dE/dY in one compiled pass, the same float operations as NumPy's three:
    relu takes a = Xi (1[xi > 0] dY), sigmoid a = Y (((1 - Y) Y slope) dY), tanh a = Y
    (((1 - Y Y) slope) dY)."""
    kernels = _load()
    if kernels is None or not a.shape == dY.shape == out.shape or \
            _flat((a, dY, out), a.dtype) is None:
        return False
    kernels.delta(DELTA_CODES[name], a, dY, out, slope)
    return True


#: Row kernels (softmax, its cross-entropy and delta) take arrays up to this size: a training
#: batch. Above it NumPy's vectorized exp is faster than the kernels' scalar one.
MAX_ROWS_SIZE = 1 << 12


def _rows_ok(*arrays):
    a = arrays[0]
    return a.size <= MAX_ROWS_SIZE and a.ndim == 2 and _flat(arrays, a.dtype) is not None


def softmax(xi, out) -> bool:
    """out = softmax of each row of xi, the row maximum subtracted first."""
    kernels = _load()
    if kernels is None or not _rows_ok(xi, out) or xi.shape != out.shape:
        return False
    kernels.softmax(xi, out)
    return True


def sparse_cross_entropy(xi, labels, out) -> bool:
    """out_p = logsumexp(xi_p) - xi_p[labels_p] for the logits xi of a softmax layer."""
    kernels = _load()
    if kernels is None or not _rows_ok(xi) or labels.dtype != np.int64 or \
            out.dtype != xi.dtype or not labels.flags.c_contiguous:
        return False
    kernels.sparse_ce(xi, labels, out)
    return True


def sparse_cross_entropy_delta(Y, labels, scale, out) -> bool:
    """out = (Y - D) * scale with D the one-hot rows of the integer labels."""
    kernels = _load()
    if kernels is None or not _rows_ok(Y, out) or Y.shape != out.shape or \
            labels.dtype != np.int64 or not labels.flags.c_contiguous:
        return False
    kernels.sparse_ce_delta(Y, labels, scale, out)
    return True


#: predict() on at most this many samples runs the whole forward pass in one compiled call.
SMALL_BATCH = 16
#: ... of a network of at most this many layers (``MAX_LAYERS`` in ``_ckernels.c``).
MAX_LAYERS = 16


def forward(X, layers, out, scratch) -> bool | None:
    """Y_L of a stack of dense layers for a few samples, in one compiled pass.

    ``layers`` is a tuple of ``(W, b or None, code, parameter)`` (codes in ``_ckernels.c``:
    0 linear, 1 sigmoid, 2 tanh, 3 relu, 4 softmax; the parameter is the slope); ``scratch``
    has room for two (n, widest hidden width) arrays. Returns True when ``out`` holds the
    result, False when X holds a NaN or an infinity, None when the caller must run NumPy.
    """
    kernels = _load()
    if kernels is None:
        return None
    try:
        return kernels.forward(X, out, scratch, layers)
    except TypeError:  # a weight array of another dtype or layout (set by hand): NumPy's turn
        return None


# ---------------------------------------------------------------------------- BLAS
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _gemm():
    """{dtype: cblas_?gemm} of the OpenBLAS bundled with NumPy, checked once, or None."""
    if not _state["on"]:
        return None
    if _state["gemm"] is None:
        _state["gemm"] = False
        try:
            _state["gemm"] = _find_gemm() or False
        except Exception:  # no such library or symbol, or a wrong answer: NumPy it is
            pass
    return _state["gemm"] or None


def _openblas():
    """The OpenBLAS that NumPy ships (already loaded by NumPy: the same library and thread
    pool), or None."""
    import ctypes
    import glob

    libs = sorted(glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs",
                                         "*openblas*.so*")))
    return ctypes.CDLL(libs[0]) if len(libs) == 1 else None


def _cblas(lib, stem):
    """(function, index type) of cblas_<stem> in lib (e.g. stem "sgemm"), or None."""
    import ctypes

    for name, index in ((f"scipy_cblas_{stem}64_", ctypes.c_int64),
                        (f"cblas_{stem}64_", ctypes.c_int64), (f"cblas_{stem}", ctypes.c_int)):
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn, index
    return None


def _find_gemm():
    import ctypes

    lib = _openblas()
    if lib is None:
        return None
    found = {}
    for dtype, letter, ctype in ((np.float32, "s", ctypes.c_float),
                                 (np.float64, "d", ctypes.c_double)):
        hit = _cblas(lib, letter + "gemm")
        if hit is not None:
            fn, index = hit
            p = ctypes.c_void_p
            fn.argtypes = [ctypes.c_int] * 3 + [index] * 3 + [ctype, p, index, p, index, ctype,
                                                               p, index]
            fn.restype = None
            found[np.dtype(dtype)] = fn
    if len(found) != 2:
        return None
    rng = np.random.default_rng(0)  # check it against NumPy before trusting it
    for dtype in found:
        A, B, C = (rng.random(shape).astype(dtype) for shape in ((3, 5), (3, 4), (5, 4)))
        expected = C - 0.5 * (A.T @ B)
        _call(found[dtype], C, A, B, -0.5)
        assert np.allclose(C, expected, rtol=1e-5, atol=1e-6)
    return found


def blas_addresses():
    """(sgemm, sgemv, 64-bit indices) of NumPy's OpenBLAS as addresses, for compiled code that
    calls them directly (``_compiled_step``), or None."""
    import ctypes

    gemm = _gemm()
    if gemm is None:
        return None
    if "addresses" not in _state:  # the sgemm _find_gemm checked, and its sgemv
        sgemm = gemm[np.dtype(np.float32)]
        index = sgemm.argtypes[3]
        gemv = _cblas(_openblas(), "sgemv")
        _state["addresses"] = None if gemv is None or gemv[1] is not index \
            else (ctypes.cast(sgemm, ctypes.c_void_p).value,
                  ctypes.cast(gemv[0], ctypes.c_void_p).value, index is ctypes.c_int64)
    return _state["addresses"]


#: Below this many elements of C, a ctypes call costs more than the separate update pass.
MIN_GEMM_SIZE = 1 << 15


def _call(fn, C, A, B, alpha):  # C <- C + alpha A^T B
    K, M = A.shape
    N = B.shape[1]
    fn(_ROW_MAJOR, _TRANS, _NO_TRANS, M, N, K, alpha, A.ctypes.data, M, B.ctypes.data, N, 1.0,
       C.ctypes.data, N)


def gemm_available() -> bool:
    return _gemm() is not None


def gemm_update(C, A, B, alpha) -> bool:
    """C <- C + alpha A^T B in place: one BLAS product (or, for one row, one compiled pass).

    A is (K, M), B is (K, N), C is (M, N), all C-contiguous of one float dtype. Used by plain
    SGD with alpha = -learning rate, A = Y_prev and B = delta.
    """
    gemm, dtype = _gemm(), C.dtype
    if gemm is None or C.shape != (A.shape[1], B.shape[1]) or len(A) != len(B):
        return False
    if len(A) == 1:  # rank 1: one compiled pass, no thread start-up
        kernels = _load()
        if kernels is not None:
            try:  # it takes writeable C-order arrays of one float dtype only
                kernels.sgd_outer(C, A, B, -float(alpha))
                return True
            except TypeError:
                pass
    if dtype not in gemm or A.dtype != dtype or B.dtype != dtype or C.size < MIN_GEMM_SIZE:
        return False  # small C: NumPy's product and a separate step are faster
    if not (C.flags.c_contiguous and C.flags.writeable and A.flags.c_contiguous
            and B.flags.c_contiguous):
        return False
    _call(gemm[C.dtype], C, A, B, alpha)
    return True
