"""The BLAS that NumPy itself ships (OpenBLAS, called through ctypes; no extra package).

``gemm_update`` computes C <- C + alpha A^T B in one matrix product, which lets plain SGD fold
W <- W - alpha Y_prev^T delta into the product that computes the gradient (the rule for when
it pays is ``table.folds_update``). ``blas_addresses`` hands the same functions to the
compiled training step.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

from . import kernels

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_found: dict = {}


def _openblas():
    """The OpenBLAS that NumPy ships (already loaded by NumPy: the same library and thread
    pool), or None."""
    libs = sorted(glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs",
                                         "*openblas*.so*")))
    return ctypes.CDLL(libs[0]) if len(libs) == 1 else None


def _cblas(lib, stem):
    """(function, index type) of cblas_<stem> in lib (e.g. stem "sgemm"), or None."""
    for name, index in ((f"scipy_cblas_{stem}64_", ctypes.c_int64),
                        (f"cblas_{stem}64_", ctypes.c_int64), (f"cblas_{stem}", ctypes.c_int)):
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn, index
    return None


def _call(fn, C, A, B, alpha):  # C <- C + alpha A^T B
    K, M = A.shape
    N = B.shape[1]
    fn(_ROW_MAJOR, _TRANS, _NO_TRANS, M, N, K, alpha, A.ctypes.data, M, B.ctypes.data, N, 1.0,
       C.ctypes.data, N)


def _find_gemm():
    """{dtype: cblas_?gemm} when both are found and give NumPy's answer on a test product."""
    try:
        lib = _openblas()
    except OSError:
        return None
    if lib is None:
        return None
    found = {}
    for dtype, letter, ctype in ((np.float32, "s", ctypes.c_float),
                                 (np.float64, "d", ctypes.c_double)):
        hit = _cblas(lib, letter + "gemm")
        if hit is None:
            return None
        fn, index = hit
        p = ctypes.c_void_p
        fn.argtypes = [ctypes.c_int] * 3 + [index] * 3 + [ctype, p, index, p, index, ctype, p,
                                                           index]
        fn.restype = None
        found[np.dtype(dtype)] = fn
    rng = np.random.default_rng(0)  # checked against NumPy before it is trusted
    for dtype, fn in found.items():
        A, B, C = (rng.random(shape).astype(dtype) for shape in ((3, 5), (3, 4), (5, 4)))
        expected = C - 0.5 * (A.T @ B)
        _call(fn, C, A, B, -0.5)
        if not np.allclose(C, expected, rtol=1e-5, atol=1e-6):
            return None
    return found


def gemm():
    """{dtype: cblas_?gemm} of NumPy's OpenBLAS, checked once, or None (or switched off)."""
    if not kernels.enabled():
        return None
    if "gemm" not in _found:
        _found["gemm"] = _find_gemm()
    return _found["gemm"]


def gemm_available() -> bool:
    return gemm() is not None


def gemm_update(C, A, B, alpha) -> bool:
    """C <- C + alpha A^T B in place: one BLAS product (for one row, one compiled pass).

    A is (K, M), B is (K, N), C is (M, N), all C-contiguous of one float dtype. Plain SGD calls
    it with alpha = -learning rate, A = Y_prev and B = delta. Reference: ``C -= lr * A.T @ B``.
    """
    fns = gemm()
    if fns is None or C.shape != (A.shape[1], B.shape[1]) or len(A) != len(B):
        return False
    if len(A) == 1 and kernels.sgd_outer(C, A, B, -float(alpha)):  # rank 1: no thread start-up
        return True
    if C.dtype not in fns or A.dtype != C.dtype or B.dtype != C.dtype or not (
            C.flags.c_contiguous and C.flags.writeable and A.flags.c_contiguous and
            B.flags.c_contiguous):
        return False
    _call(fns[C.dtype], C, A, B, alpha)
    return True


def blas_addresses(dtype=np.float32):
    """(?gemm, ?gemv, 64-bit indices) of NumPy's OpenBLAS for ``dtype`` (float32 or float64)
    as addresses, for the compiled training step, which calls them directly; or None."""
    fns = gemm()
    dtype = np.dtype(dtype)
    if fns is None or dtype not in fns:
        return None
    key = ("addresses", dtype.char)
    if key not in _found:  # the ?gemm _find_gemm checked, and its ?gemv
        fn = fns[dtype]
        index = fn.argtypes[3]
        gemv = _cblas(_openblas(), ("s" if dtype.char == "f" else "d") + "gemv")
        _found[key] = None if gemv is None or gemv[1] is not index else (
            ctypes.cast(fn, ctypes.c_void_p).value,
            ctypes.cast(gemv[0], ctypes.c_void_p).value, index is ctypes.c_int64)
    return _found[key]
