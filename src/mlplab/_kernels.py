"""Optional fast kernels for the elementwise work of a training step.

Two accelerators, each beside a NumPy path that stays the reference and passes the same tests:

- numba (``pip install mlplab[fast]``): the SGD and Adam updates as one fused pass over the
  arrays instead of one NumPy pass per operation. Each kernel performs the same float
  operations in the same order as the NumPy code (no fast-math, no fused multiply-add), so
  both paths give identical weights, which the tests check bit for bit (Adam's kernel also
  zeroes subnormal entries of m: see ``adam_step``).
- the BLAS that NumPy itself ships (OpenBLAS, called through ctypes; no extra package):
  ``gemm_update`` computes C <- C + alpha A^T B in one matrix product, which lets plain SGD
  fold W <- W - alpha Y_prev^T delta into the product that computes the gradient.

``MLPLAB_PURE_NUMPY=1`` in the environment (or ``use(False)``) turns both off.

Each function returns True when it did the work and False when the caller must run the
NumPy code (accelerator missing or off, an array too small to gain, or an unusual layout).
"""
from __future__ import annotations

import os

import numpy as np

#: Below this many elements the NumPy code is as fast (a numba call costs ~1 us).
MIN_SIZE = 1 << 12

_state = {"on": os.environ.get("MLPLAB_PURE_NUMPY", "0") in ("", "0"), "kernels": None,
          "gemm": None}


def use(enabled: bool) -> bool:
    """Switch the accelerators on or off (for tests and comparisons); returns the old setting."""
    old, _state["on"] = _state["on"], bool(enabled)
    return old


def backend() -> str:
    """What the training step uses: e.g. ``"numba + OpenBLAS gemm"`` or ``"numpy"``."""
    parts = (["numba"] if _load() else []) + (["OpenBLAS gemm"] if _gemm() else [])
    return " + ".join(parts) or "numpy"


def _load():
    if not _state["on"]:
        return None
    if _state["kernels"] is None:
        _state["kernels"] = False
        try:
            _state["kernels"] = _compile()
        except Exception:  # numba missing, or unable to compile here: the NumPy code runs
            pass
    return _state["kernels"] or None


def _compile():
    import numba

    # Serial on purpose: a numba thread pool beside OpenBLAS's (whose idle workers spin for a
    # while after each matrix product) made a training step ~10x slower here. The loops are
    # vectorized (error_model="numpy" drops the per-division zero check that blocks SIMD).
    # Compiled now (from numba's cache after the first run) for float32 and float64 arrays in
    # C order, so a failure shows here, where it falls back to NumPy, not in the middle of fit.
    opts = dict(cache=True, nogil=True, error_model="numpy")
    vec = [numba.types.Array(t, 1, "C") for t in (numba.float32, numba.float64)]
    mat = [numba.types.Array(t, 2, "C") for t in (numba.float32, numba.float64)]
    scalar = [numba.float32, numba.float64]

    @numba.njit([numba.void(v, v, f) for v, f in zip(vec, scalar)], **opts)
    def sgd(param, grad, lr):  # w -= alpha g
        for i in range(param.size):
            param[i] -= lr * grad[i]

    @numba.njit([numba.void(m, m, m, f) for m, f in zip(mat, scalar)], **opts)
    def sgd_outer(W, a, b, lr):  # W -= alpha (a^T b) for one sample: a (1, M), b (1, N)
        for i in range(W.shape[0]):
            ai = a[0, i]
            for j in range(W.shape[1]):
                W[i, j] -= lr * (ai * b[0, j])

    @numba.njit([numba.void(v, v, v, v, f, f, f, f, f) for v, f in zip(vec, scalar)], **opts)
    def adam(param, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t, tiny):
        zero = tiny - tiny  # 0 in the arrays' float type (a literal 0 would promote to float64)
        for i in range(param.size):
            g = grad[i]
            mi = m[i] + one_minus_beta_1 * (g - m[i])        # m += (1 - beta_1)(g - m)
            vi = v[i] + one_minus_beta_2 * (g * g - v[i])    # v += (1 - beta_2)(g^2 - v)
            mi = mi if abs(mi) >= tiny else mi * zero        # subnormal m -> 0 (adam_step)
            m[i] = mi
            v[i] = vi
            param[i] -= alpha_t * (mi / (np.sqrt(vi) + epsilon))

    return {"sgd": sgd, "adam": adam, "sgd_outer": sgd_outer}


def _flat(arrays, dtype):
    """1-D views of C-contiguous arrays of one dtype, or None."""
    out = []
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous or not a.flags.writeable:
            return None
        out.append(a.reshape(-1))
    return out


def sgd_step(param, grad, lr) -> bool:
    """param -= lr * grad in one pass; lr of param's dtype."""
    kernels = _load() if param.size >= MIN_SIZE else None
    flat = kernels and _flat((param, grad), param.dtype)
    if not flat:
        return False
    kernels["sgd"](flat[0], flat[1], lr)
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
    kernels = _load() if param.size >= MIN_SIZE else None
    flat = kernels and _flat((param, grad, m, v), param.dtype)
    if not flat:
        return False
    kernels["adam"](*flat, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t,
                    param.dtype.type(np.finfo(param.dtype).tiny))
    return True


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


def _find_gemm():
    import ctypes
    import glob

    libs = sorted(glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs",
                                         "*openblas*.so*")))
    if len(libs) != 1:
        return None
    lib = ctypes.CDLL(libs[0])  # already loaded by NumPy: the same library and thread pool
    found = {}
    for dtype, letter, ctype in ((np.float32, "s", ctypes.c_float),
                                 (np.float64, "d", ctypes.c_double)):
        for name, index in ((f"scipy_cblas_{letter}gemm64_", ctypes.c_int64),
                            (f"cblas_{letter}gemm64_", ctypes.c_int64),
                            (f"cblas_{letter}gemm", ctypes.c_int)):
            fn = getattr(lib, name, None)
            if fn is not None:
                p = ctypes.c_void_p
                fn.argtypes = [ctypes.c_int] * 3 + [index] * 3 + [ctype, p, index, p, index,
                                                                   ctype, p, index]
                fn.restype = None
                found[np.dtype(dtype)] = fn
                break
    if len(found) != 2:
        return None
    rng = np.random.default_rng(0)  # check it against NumPy before trusting it
    for dtype in found:
        A, B, C = (rng.random(shape).astype(dtype) for shape in ((3, 5), (3, 4), (5, 4)))
        expected = C - 0.5 * (A.T @ B)
        _call(found[dtype], C, A, B, -0.5)
        assert np.allclose(C, expected, rtol=1e-5, atol=1e-6)
    return found


#: C with at least this many rows is updated in two calls, one per half of its rows: measured
#: on 2 cores with OpenBLAS 0.3.31, the next forward product (which reads W) ran ~0.1 s per
#: MNIST epoch faster than after one call (the halves then stay in the caches that read them).
SPLIT_ROWS = 256
#: Below this many elements of C, a ctypes call costs more than the separate update pass.
MIN_GEMM_SIZE = 1 << 15


def _call(fn, C, A, B, alpha):
    K, M = A.shape
    N = B.shape[1]
    a, b, c, size = A.ctypes.data, B.ctypes.data, C.ctypes.data, C.itemsize
    halves = ((0, M // 2), (M // 2, M)) if M >= SPLIT_ROWS and K > 1 else ((0, M),)
    for r0, r1 in halves:  # C[r0:r1] += alpha A[:, r0:r1]^T B
        fn(_ROW_MAJOR, _TRANS, _NO_TRANS, r1 - r0, N, K, alpha, a + r0 * size, M, b, N,
           1.0, c + r0 * N * size, N)


def gemm_available() -> bool:
    return _gemm() is not None


def gemm_update(C, A, B, alpha) -> bool:
    """C <- C + alpha A^T B in place: one BLAS product (or, for one row, one numba pass).

    A is (K, M), B is (K, N), C is (M, N), all C-contiguous of one float dtype. Used by plain
    SGD with alpha = -learning rate, A = Y_prev and B = delta.
    """
    gemm, dtype = _gemm(), C.dtype
    if gemm is None or C.shape != (A.shape[1], B.shape[1]) or len(A) != len(B):
        return False
    if len(A) == 1:  # rank 1: one numba pass, no thread start-up
        kernels = _load()
        if kernels is not None:
            try:  # its signatures take writeable C-order arrays of one float dtype only
                kernels["sgd_outer"](C, A, B, dtype.type(-alpha))
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
