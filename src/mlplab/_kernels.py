"""Optional compiled kernels for the elementwise work of a training step (numba).

The optimizers' NumPy code is the reference and stays the default everywhere; when numba is
installed (``pip install mlplab[fast]``) the hottest updates also have a fused kernel: one
pass over the arrays instead of one NumPy pass per operation. Each
kernel performs the same float operations in the same order as the NumPy code (no fast-math,
no fused multiply-add), so both paths give identical results, which the tests check bit for
bit. ``MLPLAB_NUMBA=0`` in the environment turns the kernels off.

Each function returns True when it did the update and False when the caller must run the
NumPy code (numba missing or off, an array too small to gain, or an unusual layout).
"""
from __future__ import annotations

import os

import numpy as np

#: Below this many elements the NumPy code is as fast (a numba call costs ~1 us).
MIN_SIZE = 1 << 12

_state = {"kernels": None}


def enabled() -> bool:
    """True when the numba kernels are switched on (not necessarily compiled yet)."""
    return _load() is not None


def backend() -> str:
    return "numba" if enabled() else "numpy"


def _load():
    if _state["kernels"] is None:
        _state["kernels"] = False
        if os.environ.get("MLPLAB_NUMBA", "1") != "0":
            try:
                _state["kernels"] = _compile()
            except ImportError:
                pass
    return _state["kernels"] or None


def _compile():
    import numba

    # Serial on purpose: a numba thread pool beside OpenBLAS's (whose idle workers spin for a
    # while after each matrix product) made a training step ~10x slower here. The loops are
    # vectorized (error_model="numpy" drops the per-division zero check that blocks SIMD).
    opts = dict(cache=True, nogil=True, error_model="numpy")

    @numba.njit(**opts)
    def sgd(param, grad, lr):  # w -= alpha g
        for i in range(param.size):
            param[i] -= lr * grad[i]

    @numba.njit(**opts)
    def adam(param, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t):
        for i in range(param.size):
            g = grad[i]
            mi = m[i] + one_minus_beta_1 * (g - m[i])        # m += (1 - beta_1)(g - m)
            vi = v[i] + one_minus_beta_2 * (g * g - v[i])    # v += (1 - beta_2)(g^2 - v)
            m[i] = mi
            v[i] = vi
            param[i] -= alpha_t * (mi / (np.sqrt(vi) + epsilon))

    return {"sgd": sgd, "adam": adam}


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
    """Adam's m, v and w updates (Keras's form, see ``optimizers.Adam``) in one pass."""
    kernels = _load() if param.size >= MIN_SIZE else None
    flat = kernels and _flat((param, grad, m, v), param.dtype)
    if not flat:
        return False
    kernels["adam"](*flat, one_minus_beta_1, one_minus_beta_2, epsilon, alpha_t)
    return True
