"""Input checks at the library's boundary: the one home of error wording.

Every message says which argument is wrong, what was expected, what was received, and how to
fix it. The maths modules trust their inputs; ``fit``, ``predict``, constructors and the CLI
validate them here first, so a bad call leaves the model as it was.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .exceptions import ArgumentError, ArgumentTypeError


def check_positive_int(value, name: str, where: str, allow_zero: bool = False) -> int:
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_int or not (value >= 0 if allow_zero else value > 0):
        kind = "non-negative" if allow_zero else "positive"
        raise ArgumentError(f"{where}: {name} must be a {kind} integer; received "
                            f"{_short(value)}.")
    return int(value)


def check_positive_float(value, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 \
            or not finite_number(value):
        raise ArgumentError(
            f"{where}: {name} must be a positive finite number; received {_short(value)}. "
            f"Typical values lie between 1e-4 and 1."
        )
    return float(value)


def finite_number(value) -> bool:
    """math.isfinite for any real, a huge int included (np.isfinite refuses it)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def check_fraction(value, name: str, where: str, allow_one: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value \
        and (value <= 1 if allow_one else value < 1)
    if not ok:
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise ArgumentError(f"{where}: {name} must be a number in {bound}; received "
                            f"{_short(value)}.")
    return float(value)


def as_array(x, name: str, where: str, dtype=None) -> np.ndarray:
    """Convert ``x`` to an ndarray; non-numeric input gets a TypeError naming the argument."""
    try:
        arr = np.asarray(x, dtype=dtype) if dtype is not None else np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(
            f"{where}: {name} must be a numeric array; could not convert it ({exc}).") \
            from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or np.issubdtype(arr.dtype, np.bool_)):
        raise ArgumentTypeError(f"{where}: {name} must be numeric; received dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):  # a cast would drop the imaginary part
        raise ArgumentTypeError(
            f"{where}: {name} must hold real numbers; received dtype {arr.dtype}. "
            f"Pass the real part (x.real) or the magnitude (abs(x)) explicitly.")
    return arr


#: Values per dot product of all_finite. OpenBLAS runs a dot product of up to 10,000 values
#: on one thread; a longer one takes its other threads, which then spin for about 0.1 s and
#: take the core the training step's own helper threads run on.
_SLICE = 8192

#: mlplab.fast's compiled check (``fast.all_finite``: True, False, or None to decline),
#: installed by ``mlplab/__init__.py``; None: NumPy's dot products alone.
_compiled_check = None


def set_accelerator(check) -> None:
    """Install the compiled finiteness check, or None."""
    global _compiled_check
    _compiled_check = check


def all_finite(arr: np.ndarray) -> bool:
    """``np.isfinite(arr).all()``: the compiled check where it takes arr, else one dot
    product with zeros per slice of ``_SLICE`` values: ``x . 0`` is exactly 0 when every x_i is
    finite (x_i 0 = +-0) and NaN when one is NaN or infinite (inf 0 = NaN); no boolean array."""
    if not np.issubdtype(arr.dtype, np.floating):
        return True
    if arr.ndim == 0 or arr.size == 0:
        return bool(np.isfinite(arr).all())
    found = None if _compiled_check is None else _compiled_check(arr)
    if found is not None:
        return found
    rows = max(1, _SLICE // max(1, arr[0].size))
    zeros = np.zeros(min(_SLICE, min(len(arr), rows) * arr[0].size), arr.dtype)
    with np.errstate(invalid="ignore"):  # inf 0 is the answer here, not a mistake
        for i in range(0, len(arr), rows):
            part = arr[i:i + rows].reshape(-1)
            for j in range(0, part.size, _SLICE):
                piece = part[j:j + _SLICE]
                if np.dot(piece, zeros[:piece.size]) != 0:
                    return False
    return True


def check_finite(arr: np.ndarray, name: str, where: str) -> None:
    if np.issubdtype(arr.dtype, np.floating) and not all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        kind = "NaN" if np.isnan(arr[tuple(bad)]) else "infinity"
        raise ArgumentError(
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
        raise ArgumentError(f"{where}: {name} must be an array of samples; received a scalar.")
    if arr.ndim == 1 and (input_shape is None or len(input_shape) == 1):
        hint = "x.reshape(-1, 1) for one feature, or x.reshape(1, -1) for one sample"
        raise ArgumentError(
            f"{where}: {name} must be 2-D (n_samples, n_features); received shape {arr.shape}. "
            f"Use {hint}."
        )
    if arr.shape[0] == 0:
        raise ArgumentError(
            f"{where}: {name} is empty (shape {arr.shape}); pass at least one sample.")
    if input_shape is not None and tuple(arr.shape[1:]) != tuple(input_shape):
        if len(input_shape) == 1 and arr.ndim == 2:
            raise ArgumentError(
                f"{where}: {name} has {arr.shape[1]} features; the model expects {input_shape[0]}."
            )
        raise ArgumentError(
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
        raise ArgumentError(
            f"{where}: {name} must hold values within {dtype}'s range (|value| <= {limit:.4g}); "
            f"received {float(arr[bad]):g} at index {bad}. Scale the inputs, or build the "
            f"model with dtype='float64'."
        )


def check_same_length(x: np.ndarray, y: np.ndarray, where: str, xname="x", yname="y") -> None:
    for arr, name in ((x, xname), (y, yname)):
        if np.ndim(arr) == 0:
            raise ArgumentError(f"{where}: {name} must be an array with one row per sample; "
                                f"received a scalar ({_short(arr)}).")
    if len(x) != len(y):
        raise ArgumentError(
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
        raise ArgumentTypeError(f"{where}: x is a sparse {type(x).__name__}; sparse input is not "
                                f"supported. Pass a dense array, x.toarray().")
    arr = x if type(x) is np.ndarray else None
    if arr is None or arr.dtype == object:
        try:
            arr = np.asarray(x)
            if arr.dtype == object:
                arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ArgumentTypeError(f"{where}: x must be numeric; could not convert it ({exc}).") \
                from None
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ArgumentError(f"{where}: x holds complex numbers (dtype {arr.dtype}). Complex data "
                            f"not supported: pass the real part (x.real) or the magnitude "
                            f"(abs(x)) explicitly.")
    arr = as_array(arr, "x", where)
    if arr.ndim != 2:
        hint = (" Reshape your data: x.reshape(-1, 1) for one feature, or x.reshape(1, -1) for "
                "one sample." if arr.ndim == 1 else "")
        raise ArgumentError(f"{where}: x must be 2-D (n_samples, n_features); received shape "
                            f"{arr.shape}.{hint}")
    for axis, what in ((0, "sample"), (1, "feature")):
        if arr.shape[axis] == 0:
            raise ArgumentError(f"{where}: x has 0 {what}(s) (shape={arr.shape}) while a minimum "
                                f"of 1 is required.")
    if n_features is not None and arr.shape[1] != n_features:
        raise ArgumentError(f"{where}: X has {arr.shape[1]} features, but {estimator} is "
                            f"expecting {n_features} features as input. Pass the same columns "
                            f"as in fit.")
    check_finite(arr, "x", where)
    return np.asarray(arr, dtype=np.float64)


def check_metrics(metrics, loss, n_outputs: int | None, where: str) -> None:
    """Refuse metrics that cannot read the targets the loss takes, or the model's output.

    Categorical metrics take one-hot rows and several outputs; the sparse ones take integer
    labels (a sparse loss); element-wise metrics (binary accuracy, MSE, ...) take one target
    per output, which integer labels are not. ``n_outputs`` is None before the model is built
    (``fit`` checks again, with the width, before it changes anything)."""
    from . import metrics as m   # metrics are above this module; imported when needed

    sparse = bool(getattr(loss, "sparse_targets", False))
    loss_name = getattr(loss, "name", type(loss).__name__)
    for metric in metrics:
        name = getattr(metric, "name", type(metric).__name__)
        if isinstance(metric, (m.SparseCategoricalAccuracy, m.SparseTopKCategoricalAccuracy)):
            needs, fix = ("integer labels" if not sparse else None), \
                "use 'categorical_accuracy' (or 'accuracy') with one-hot targets"
        elif isinstance(metric, (m.CategoricalAccuracy, m.TopKCategoricalAccuracy)):
            needs, fix = ("one-hot targets" if sparse else None), \
                "use the 'sparse_' variant (or 'accuracy') with integer labels"
        elif isinstance(metric, (m.BinaryAccuracy, m.MeanSquaredError, m.MeanAbsoluteError,
                                 m.RootMeanSquaredError)):
            needs, fix = ("one target per output" if sparse else None), \
                "use 'accuracy' or 'sparse_categorical_accuracy' with integer labels"
        else:
            continue
        if needs is not None:
            raise ArgumentError(
                f"{where}: metric '{name}' needs {needs}, but loss '{loss_name}' takes "
                f"{'integer labels' if sparse else 'one target per output'}; {fix}.")
        categorical = isinstance(metric, (m.CategoricalAccuracy, m.TopKCategoricalAccuracy,
                                          m.SparseCategoricalAccuracy))
        if categorical and n_outputs == 1:
            raise ArgumentError(
                f"{where}: metric '{name}' compares the argmax of several outputs, but the "
                f"model has 1 output (its argmax is always 0, so the metric would always read "
                f"1.0); use 'binary_accuracy' (or 'accuracy') for one output.")


def check_shape(shape, name: str, where: str) -> tuple:
    """A sample shape: a positive integer or a tuple/list of them (a string is refused:
    ``tuple('784')`` would read as (7, 8, 4))."""
    items = (shape,) if isinstance(shape, numbers.Integral) and not isinstance(shape, bool) \
        else shape
    ok = isinstance(items, (tuple, list)) and len(items) > 0 and all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in items)
    if not ok:
        raise (ArgumentError if isinstance(items, (tuple, list)) else ArgumentTypeError)(
            f"{where}: {name} must be a tuple of positive integers (or one positive integer), "
            f"e.g. {name}=(784,); received {shape!r}.")
    return tuple(int(s) for s in items)


def check_optional_name(value, name: str, where: str) -> None:
    if value is not None and not isinstance(value, str):
        raise ArgumentTypeError(f"{where}: {name} must be a string or None; received "
                                f"{value!r}.")


def check_real(value, name: str, where: str, low=None, high=None, low_open=False,
               high_open=False) -> float:
    """A finite real number (not a bool) in the interval given by ``low``/``high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{where}: {name} must be a number; received {value!r}.")
    ok = finite_number(value) and (low is None or (value > low if low_open else value >= low)) \
        and (high is None or (value < high if high_open else value <= high))
    if not ok:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ArgumentError(f"{where}: {name} must be a finite number in {lo}, {hi}; "
                            f"received {value!r}.")
    return float(value)


def check_choice(value, name: str, where: str, choices) -> str:
    """One of the strings in ``choices`` (exact match)."""
    if not isinstance(value, str) or value not in choices:
        kind = ArgumentError if isinstance(value, str) else ArgumentTypeError
        raise kind(f"{where}: {name} must be one of {', '.join(map(repr, choices))}; "
                   f"received {value!r}.")
    return value


def check_sequence(value, name: str, where: str) -> list:
    """A list or tuple (of arrays, layers...), as a list."""
    if not isinstance(value, (list, tuple)):
        raise ArgumentTypeError(f"{where}: {name} must be a list; received "
                                f"{type(value).__name__} {_short(value)}.")
    return list(value)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_verbose(verbose, where: str, auto: int) -> int:
    """Keras's verbose: "auto" (here ``auto``), 0, 1 or 2 (False and True count as 0, 1)."""
    if isinstance(verbose, str) and verbose == "auto":
        return auto
    if not isinstance(verbose, numbers.Integral) or verbose not in (0, 1, 2):
        raise ArgumentError(f"{where}: verbose must be 'auto', 0, 1 or 2; received "
                            f"{_short(verbose)}.")
    return int(verbose)


def check_bool(value, name: str, where: str) -> bool:
    """True or False (NumPy's bool too); 0/1 and strings are refused, as scikit-learn does."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{where}: {name} must be True or False; received "
                                f"{_short(value)}.")
    return bool(value)


def check_seed(seed, name: str, where: str):
    """None, a non-negative integer, or a NumPy Generator (used as it is)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ArgumentError(f"{where}: {name} must be None, a non-negative integer or a "
                            f"numpy.random.Generator; received {_short(seed)}.")
    return int(seed)
