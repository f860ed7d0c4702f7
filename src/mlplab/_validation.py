"""Input checks at the library's boundary: the one home of error wording.

Every message says which argument is wrong, what was expected, what was received, and how to
fix it. The maths modules trust their inputs; ``fit``, ``predict``, constructors and the CLI
validate them here first, so a bad call leaves the model as it was.
"""
from __future__ import annotations

import numbers

import numpy as np


def check_positive_int(value, name: str, where: str, allow_zero: bool = False) -> int:
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_int or not (value >= 0 if allow_zero else value > 0):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{where}: {name} must be a {kind} integer; received {value!r}.")
    return int(value)


def check_positive_float(value, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 \
            or not np.isfinite(value):
        raise ValueError(
            f"{where}: {name} must be a positive finite number; received {value!r}. "
            f"Typical values lie between 1e-4 and 1."
        )
    return float(value)


def check_fraction(value, name: str, where: str, allow_one: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value \
        and (value <= 1 if allow_one else value < 1)
    if not ok:
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{where}: {name} must be a number in {bound}; received {value!r}.")
    return float(value)


def as_array(x, name: str, where: str, dtype=None) -> np.ndarray:
    """Convert ``x`` to an ndarray; non-numeric input gets a TypeError naming the argument."""
    try:
        arr = np.asarray(x, dtype=dtype) if dtype is not None else np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: {name} must be a numeric array; could not convert it ({exc}).") \
            from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or np.issubdtype(arr.dtype, np.bool_)):
        raise TypeError(f"{where}: {name} must be numeric; received dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):  # a cast would drop the imaginary part
        raise TypeError(f"{where}: {name} must hold real numbers; received dtype {arr.dtype}. "
                        f"Pass the real part (x.real) or the magnitude (abs(x)) explicitly.")
    return arr


_CHUNK = 1 << 20  # values per slice of all_finite: memory bounded by it, not by the array


def all_finite(arr: np.ndarray) -> bool:
    """``np.isfinite(arr).all()``, in slices of rows: no boolean array the size of arr."""
    if not np.issubdtype(arr.dtype, np.floating):
        return True
    if arr.size <= _CHUNK:
        return bool(np.isfinite(arr).all())
    rows = max(1, _CHUNK // max(1, arr[0].size))
    return all(np.isfinite(arr[i:i + rows]).all() for i in range(0, len(arr), rows))


def check_finite(arr: np.ndarray, name: str, where: str) -> None:
    if np.issubdtype(arr.dtype, np.floating) and not all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        kind = "NaN" if np.isnan(arr[tuple(bad)]) else "infinity"
        raise ValueError(
            f"{where}: {name} contains {kind} (first at index {tuple(int(i) for i in bad)}). "
            f"Remove or impute missing values before training."
        )


def check_x(x, where: str, input_shape: tuple | None, dtype, name: str = "x",
            convert: bool = True) -> np.ndarray:
    """Samples-first numeric array of finite values that matches the model's input shape,
    converted to ``dtype`` (``convert=False``: as given, for the caller to convert by batch)."""
    if type(x) is np.ndarray and x.dtype == dtype and input_shape is not None and \
            x.shape[1:] == tuple(input_shape) and len(x) and x.ndim > 1:
        # The common case, an array of the model's dtype and shape: the same checks in ~1 us.
        if not all_finite(x):
            check_finite(x, name, where)
        return x
    arr = as_array(x, name, where)
    if arr.ndim == 0:
        raise ValueError(f"{where}: {name} must be an array of samples; received a scalar.")
    if arr.ndim == 1 and (input_shape is None or len(input_shape) == 1):
        hint = "x.reshape(-1, 1) for one feature, or x.reshape(1, -1) for one sample"
        raise ValueError(
            f"{where}: {name} must be 2-D (n_samples, n_features); received shape {arr.shape}. "
            f"Use {hint}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{where}: {name} is empty (shape {arr.shape}); pass at least one sample.")
    if input_shape is not None and tuple(arr.shape[1:]) != tuple(input_shape):
        if len(input_shape) == 1 and arr.ndim == 2:
            raise ValueError(
                f"{where}: {name} has {arr.shape[1]} features; the model expects {input_shape[0]}."
            )
        raise ValueError(
            f"{where}: {name} has sample shape {tuple(arr.shape[1:])}; the model expects "
            f"{tuple(input_shape)}."
        )
    check_finite(arr, name, where)      # on the values as given, before any cast
    check_fits_dtype(arr, name, where, dtype)
    return np.asarray(arr, dtype=dtype) if convert else arr


def check_fits_dtype(arr: np.ndarray, name: str, where: str, dtype) -> None:
    """Finite values too large for ``dtype`` (1e39 for float32) would become infinity in the
    cast: say so, instead of an overflow warning and a loss of inf later."""
    dtype = np.dtype(dtype)
    if not (np.issubdtype(arr.dtype, np.floating) and np.issubdtype(dtype, np.floating)) or \
            np.finfo(arr.dtype).max <= np.finfo(dtype).max or not arr.size:
        return
    limit = np.finfo(dtype).max
    if not (arr.max() > limit or arr.min() < -limit):  # (reductions: no temporary array)
        return
    big = np.abs(arr) > limit
    if big.any():
        bad = tuple(int(i) for i in np.argwhere(big)[0])
        raise ValueError(
            f"{where}: {name} must hold values within {dtype}'s range (|value| <= {limit:.4g}); "
            f"received {float(arr[bad]):g} at index {bad}. Scale the inputs, or build the "
            f"model with dtype='float64'."
        )


def check_same_length(x: np.ndarray, y: np.ndarray, where: str, xname="x", yname="y") -> None:
    if len(x) != len(y):
        raise ValueError(
            f"{where}: {xname} has {len(x)} samples but {yname} has {len(y)}; "
            f"they must have one row per sample."
        )


def _is_sparse(x) -> bool:
    """A SciPy sparse matrix or array, recognized without importing SciPy."""
    return type(x).__module__.startswith("scipy.sparse") and hasattr(x, "toarray")


def check_feature_matrix(x, where: str, n_features: int | None = None,
                         estimator: str | None = None) -> np.ndarray:
    """x as a float64 array (n_samples, n_features), for the scikit-learn-style estimators.

    The wording follows scikit-learn's ``check_array`` / ``validate_data`` where its tools
    match on it ("Reshape your data", "0 feature(s) (shape=...)", "X has 1 features, but
    ... is expecting 4 features as input", "Complex data not supported"), so that
    ``sklearn.utils.estimator_checks`` accepts these estimators. An object array of numbers
    (as pandas gives) is converted; ``n_features`` is the count seen in ``fit``.
    """
    if _is_sparse(x):
        raise TypeError(f"{where}: x is a sparse {type(x).__name__}; sparse input is not "
                        f"supported. Pass a dense array, x.toarray().")
    arr = x if type(x) is np.ndarray else None
    if arr is None or arr.dtype == object:
        try:
            arr = np.asarray(x)
            if arr.dtype == object:
                arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where}: x must be numeric; could not convert it ({exc}).") \
                from None
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{where}: x holds complex numbers (dtype {arr.dtype}). Complex data "
                         f"not supported: pass the real part (x.real) or the magnitude "
                         f"(abs(x)) explicitly.")
    arr = as_array(arr, "x", where)
    if arr.ndim != 2:
        hint = (" Reshape your data: x.reshape(-1, 1) for one feature, or x.reshape(1, -1) for "
                "one sample." if arr.ndim == 1 else "")
        raise ValueError(f"{where}: x must be 2-D (n_samples, n_features); received shape "
                         f"{arr.shape}.{hint}")
    for axis, what in ((0, "sample"), (1, "feature")):
        if arr.shape[axis] == 0:
            raise ValueError(f"{where}: x has 0 {what}(s) (shape={arr.shape}) while a minimum "
                             f"of 1 is required.")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{where}: X has {arr.shape[1]} features, but {estimator} is "
                         f"expecting {n_features} features as input. Pass the same columns "
                         f"as in fit.")
    check_finite(arr, "x", where)
    return np.asarray(arr, dtype=np.float64)
