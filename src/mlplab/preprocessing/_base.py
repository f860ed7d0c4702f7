"""What the transformers share: input checks, category look-up, the seed rule and the
``_Transformer`` base (fit / transform / fit_transform / inverse_transform)."""
from __future__ import annotations

import numbers

import numpy as np

from ..exceptions import ArgumentError, ArgumentTypeError, NotFittedError, \
    sklearn_compatible
from .._validation import as_array, check_finite, check_seed, finite_number


def _check_table_shape(arr: np.ndarray, where: str, name: str, hint_1d: str) -> None:
    """(n_samples, n_features) with at least one sample; ``hint_1d`` follows a 1-D shape."""
    if arr.ndim != 2:
        hint = hint_1d if arr.ndim == 1 else ""
        raise ArgumentError(f"{where}: {name} must be 2-D (n_samples, n_features); received shape "
                            f"{arr.shape}.{hint}")
    if arr.shape[0] == 0:
        raise ArgumentError(
            f"{where}: {name} is empty (shape {arr.shape}); pass at least one sample.")


def _check_2d_numeric(x, where: str, name: str = "x") -> np.ndarray:
    """A finite float64 (n_samples, n_features) array, or a clear error."""
    arr = as_array(x, name, where)
    _check_table_shape(arr, where, name, " Use x.reshape(-1, 1) for one feature, or "
                                         "x.reshape(1, -1) for one sample.")
    arr = np.asarray(arr, dtype=np.float64)
    check_finite(arr, name, where)
    return arr


def _as_objects(arr: np.ndarray):
    """Strings become Python objects (no fixed width); returns them and the missing mask."""
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    return arr, _is_missing(arr)


def _is_missing(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    if arr.dtype == object:
        return np.frompyfunc(lambda v: v is None or (isinstance(v, float) and v != v), 1, 1)(
            arr).astype(bool)
    return np.zeros(arr.shape, dtype=bool)


def _check_2d_categorical(x, where: str, name: str = "x") -> np.ndarray:
    """A (n_samples, n_features) array of categories (strings become objects), no missing."""
    try:
        arr = np.asarray(x)
    except ValueError as exc:
        raise ArgumentError(f"{where}: {name} must be a rectangular array; could not convert it "
                            f"({exc}).") from None
    _check_table_shape(arr, where, name, " Use x.reshape(-1, 1) for one feature (column).")
    arr, missing = _as_objects(arr)
    if missing.any():
        i, j = np.argwhere(missing)[0]
        raise ArgumentError(f"{where}: {name} has a missing value (None or NaN) at row {i}, column "
                            f"{j}. Fill it in or drop the row before encoding.")
    return arr


def _unique(values: np.ndarray, where: str, column) -> np.ndarray:
    try:
        return np.unique(values)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values})
        raise ArgumentTypeError(f"{where}: column {column} mixes value types ({', '.join(kinds)}); "
                                f"convert it to one type first, e.g. x.astype(str).") from None


def _lookup(values: np.ndarray, categories: np.ndarray):
    """Index of each value in ``categories`` (any order) and a mask of the values found."""
    try:
        order = np.argsort(categories, kind="stable")
        ordered = categories[order]
        pos = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
        found = np.asarray(ordered[pos] == values, dtype=bool)
        return np.where(found, order[pos], -1), found
    except TypeError:  # values of another type than the categories (1 among strings): unknown
        index = {}
        for i, c in enumerate(categories.tolist()):
            index.setdefault(c, i)
        codes = np.array([index.get(v, -1) if _hashable(v) else -1 for v in values.tolist()],
                         dtype=np.intp)
        return codes, codes >= 0


def _hashable(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False


def _rng(seed, where: str = "seed") -> np.random.Generator:
    seed = check_seed(seed, "seed", where)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


class _Transformer:
    """fit / transform / fit_transform / inverse_transform, and the fitted-state checks."""

    _fitted_attr = "n_features_in_"

    def fit_transform(self, x, y=None):
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, self._fitted_attr):
            name = type(self).__name__
            raise sklearn_compatible(NotFittedError)(
                f"{name}.{method}() called before fit(). Call {name}.fit(x_train) first, "
                f"then transform new data with it.")

    def _check_input(self, x, method: str, name: str = "x", categorical: bool = False):
        """The input of ``transform`` / ``inverse_transform``: fitted first, then a 2-D array
        (finite numbers, or categories) as wide as the one seen in ``fit``."""
        where = f"{type(self).__name__}.{method}()"
        self._check_fitted(method)
        X = (_check_2d_categorical if categorical else _check_2d_numeric)(x, where, name)
        self._check_width(X, where, name)
        return X

    def _check_width(self, arr: np.ndarray, where: str, name: str = "x") -> None:
        if arr.shape[1] != self.n_features_in_:
            raise ArgumentError(
                f"{where}: {name} has {arr.shape[1]} features; {type(self).__name__}"
                f" was fitted on {self.n_features_in_}.")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({args})"


def _constant_scale(scale: np.ndarray) -> np.ndarray:
    """Scales of constant columns (at rounding level) become 1: no division by zero."""
    scale = scale.copy()
    scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
    return scale



def _check_range(feature_range, where: str) -> tuple[float, float]:
    ok = isinstance(feature_range, (tuple, list)) and len(feature_range) == 2 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and finite_number(v)
        for v in feature_range)
    if not ok or not feature_range[0] < feature_range[1]:
        raise ArgumentError(f"{where}: feature_range must be a pair (min, max) with min < max, "
                            f"e.g. (0, 1) or (-1, 1); received {feature_range!r}.")
    return float(feature_range[0]), float(feature_range[1])
