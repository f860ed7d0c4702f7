"""Data preparation on NumPy arrays with scikit-learn's conventions.

Every transformer learns its parameters in ``fit(x)`` (attributes ending in ``_``), applies
them in ``transform(x)``, undoes them in ``inverse_transform(z)``, and ``fit_transform`` does
the first two at once. Fit on the training set only, then transform the validation and test
sets with the same object.

- scalers: :class:`StandardScaler`, :class:`MinMaxScaler`, :class:`MeanNormalizer`,
  :class:`MaxAbsScaler`;
- encoders: :class:`OneHotEncoder` (0/1 or the lectures' bipolar -1/+1), :class:`OrdinalEncoder`,
  :class:`LabelEncoder`, :func:`to_categorical` / :func:`from_categorical`;
- :class:`ColumnTransformer`: one transformer per group of columns (numeric / categorical);
- splits: :func:`train_test_split`, :func:`train_val_test_split`;
- :class:`BatchIterator` / :func:`batches`: shuffled mini-batches in a reused buffer.
"""
from __future__ import annotations

import numbers
from math import ceil, floor

import numpy as np

from .._validation import as_array, check_finite, check_positive_int

FULL_BATCH = "full"  #: ``batch_size="full"``: one batch of all samples, one update per epoch.


# ---------------------------------------------------------------------------------- helpers
def _check_2d_numeric(x, where: str, name: str = "x") -> np.ndarray:
    """A finite float64 (n_samples, n_features) array, or a clear error."""
    arr = as_array(x, name, where)
    if arr.ndim != 2:
        hint = " Use x.reshape(-1, 1) for one feature, or x.reshape(1, -1) for one sample." \
            if arr.ndim == 1 else ""
        raise ValueError(f"{where}: {name} must be 2-D (n_samples, n_features); received shape "
                         f"{arr.shape}.{hint}")
    if arr.shape[0] == 0:
        raise ValueError(f"{where}: {name} is empty (shape {arr.shape}); pass at least one sample.")
    arr = np.asarray(arr, dtype=np.float64)
    check_finite(arr, name, where)
    return arr


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
        raise ValueError(f"{where}: {name} must be a rectangular array; could not convert it "
                         f"({exc}).") from None
    if arr.ndim != 2:
        hint = " Use x.reshape(-1, 1) for one feature (column)." if arr.ndim == 1 else ""
        raise ValueError(f"{where}: {name} must be 2-D (n_samples, n_features); received shape "
                         f"{arr.shape}.{hint}")
    if arr.shape[0] == 0:
        raise ValueError(f"{where}: {name} is empty (shape {arr.shape}); pass at least one sample.")
    if arr.dtype.kind in "US":
        arr = arr.astype(object)
    missing = _is_missing(arr)
    if missing.any():
        i, j = np.argwhere(missing)[0]
        raise ValueError(f"{where}: {name} has a missing value (None or NaN) at row {i}, column "
                         f"{j}. Fill it in or drop the row before encoding.")
    return arr


def _unique(values: np.ndarray, where: str, column) -> np.ndarray:
    try:
        return np.unique(values)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values})
        raise TypeError(f"{where}: column {column} mixes value types ({', '.join(kinds)}); "
                        f"convert it to one type first, e.g. x.astype(str).") from None


def _lookup(values: np.ndarray, categories: np.ndarray):
    """Index of each value in ``categories`` (any order) and a mask of the values found."""
    order = np.argsort(categories, kind="stable")
    ordered = categories[order]
    pos = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    found = np.asarray(ordered[pos] == values, dtype=bool)
    return np.where(found, order[pos], -1), found


def _rng(seed) -> np.random.Generator:
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
            raise RuntimeError(f"{name}.{method}() called before fit(). Call "
                               f"{name}.fit(x_train) first, then transform new data with it.")

    def _check_width(self, arr: np.ndarray, where: str, name: str = "x") -> None:
        if arr.shape[1] != self.n_features_in_:
            raise ValueError(f"{where}: {name} has {arr.shape[1]} features; {type(self).__name__}"
                             f" was fitted on {self.n_features_in_}.")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({args})"


def _constant_scale(scale: np.ndarray) -> np.ndarray:
    """Scales of constant columns (at rounding level) become 1: no division by zero."""
    scale = scale.copy()
    scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
    return scale


# ---------------------------------------------------------------------------------- scalers
class StandardScaler(_Transformer):
    """Standardization: z = (x - mean) / std per column (population std, ``ddof=0``).

    A constant column has std 0; its scale is set to 1, so it becomes all zeros.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the column mean.
    with_std : bool, default=True
        Divide by the column standard deviation.

    Attributes: ``mean_``, ``var_``, ``scale_`` (shape (n_features,)), ``n_features_in_``.

    >>> StandardScaler().fit_transform([[1.0], [3.0]]).ravel()
    array([-1.,  1.])
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, x, y=None):
        X = _check_2d_numeric(x, f"{type(self).__name__}.fit()")
        n = len(X)
        mean = X.mean(axis=0)
        var = X.var(axis=0)
        self.n_features_in_ = X.shape[1]
        self.mean_ = mean if self.with_mean else None
        self.var_ = var if self.with_std else None
        if self.with_std:
            # Rounding-level variance counts as constant (the bound scikit-learn uses).
            eps = np.finfo(np.float64).eps
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.scale_ = np.where(constant, 1.0, np.sqrt(var))
        else:
            self.scale_ = None
        return self

    def transform(self, x):
        self._check_fitted("transform")
        X = _check_2d_numeric(x, f"{type(self).__name__}.transform()")
        self._check_width(X, f"{type(self).__name__}.transform()")
        if self.with_mean:
            X = X - self.mean_
        if self.with_std:
            X = X / self.scale_
        return X

    def inverse_transform(self, z):
        self._check_fitted("inverse_transform")
        Z = _check_2d_numeric(z, f"{type(self).__name__}.inverse_transform()", "z")
        self._check_width(Z, f"{type(self).__name__}.inverse_transform()", "z")
        if self.with_std:
            Z = Z * self.scale_
        if self.with_mean:
            Z = Z + self.mean_
        return Z


def _check_range(feature_range, where: str) -> tuple[float, float]:
    ok = isinstance(feature_range, (tuple, list)) and len(feature_range) == 2 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
        for v in feature_range)
    if not ok or not feature_range[0] < feature_range[1]:
        raise ValueError(f"{where}: feature_range must be a pair (min, max) with min < max, "
                         f"e.g. (0, 1) or (-1, 1); received {feature_range!r}.")
    return float(feature_range[0]), float(feature_range[1])


class MinMaxScaler(_Transformer):
    """Feature scaling to a range: z = lo + (x - min) (hi - lo) / (max - min) per column.

    Computed as ``z = x * scale_ + min_`` with ``scale_ = (hi - lo) / (max - min)``. A constant
    column (max = min) maps to ``lo``.

    Parameters
    ----------
    feature_range : (lo, hi), default=(0, 1)
        (0, 1) for sigmoid units, (-1, 1) for tanh and the bipolar codes of the lectures.

    Attributes: ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``, ``min_``.

    >>> MinMaxScaler((-1, 1)).fit_transform([[2.0], [4.0], [6.0]]).ravel()
    array([-1.,  0.,  1.])
    """

    def __init__(self, feature_range=(0, 1)):
        self.feature_range = feature_range
        _check_range(feature_range, "MinMaxScaler()")

    def fit(self, x, y=None):
        lo, hi = _check_range(self.feature_range, "MinMaxScaler.fit()")
        X = _check_2d_numeric(x, "MinMaxScaler.fit()")
        self.n_features_in_ = X.shape[1]
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / _constant_scale(self.data_range_)
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, x):
        self._check_fitted("transform")
        X = _check_2d_numeric(x, "MinMaxScaler.transform()")
        self._check_width(X, "MinMaxScaler.transform()")
        return X * self.scale_ + self.min_

    def inverse_transform(self, z):
        self._check_fitted("inverse_transform")
        Z = _check_2d_numeric(z, "MinMaxScaler.inverse_transform()", "z")
        self._check_width(Z, "MinMaxScaler.inverse_transform()", "z")
        return (Z - self.min_) / self.scale_


class MeanNormalizer(_Transformer):
    """Mean normalization (column-wise): z = (x - mean) / (max - min), values in [-1, 1].

    Not scikit-learn's ``Normalizer``, which scales each *row* to unit norm. A constant column
    becomes all zeros.

    Attributes: ``mean_``, ``data_range_``, ``scale_`` (the range, 1 for constant columns).

    >>> MeanNormalizer().fit_transform([[0.0], [1.0], [5.0]]).ravel()
    array([-0.4, -0.2,  0.6])
    """

    def fit(self, x, y=None):
        X = _check_2d_numeric(x, "MeanNormalizer.fit()")
        self.n_features_in_ = X.shape[1]
        self.mean_ = X.mean(axis=0)
        self.data_range_ = X.max(axis=0) - X.min(axis=0)
        self.scale_ = _constant_scale(self.data_range_)
        return self

    def transform(self, x):
        self._check_fitted("transform")
        X = _check_2d_numeric(x, "MeanNormalizer.transform()")
        self._check_width(X, "MeanNormalizer.transform()")
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, z):
        self._check_fitted("inverse_transform")
        Z = _check_2d_numeric(z, "MeanNormalizer.inverse_transform()", "z")
        self._check_width(Z, "MeanNormalizer.inverse_transform()", "z")
        return Z * self.scale_ + self.mean_


class MaxAbsScaler(_Transformer):
    """z = x / max|x| per column: values in [-1, 1], zeros stay zeros (sparse-friendly).

    Attributes: ``max_abs_``, ``scale_`` (``max_abs_`` with 0 replaced by 1).

    >>> MaxAbsScaler().fit_transform([[-4.0], [2.0]]).ravel()
    array([-1. ,  0.5])
    """

    def fit(self, x, y=None):
        X = _check_2d_numeric(x, "MaxAbsScaler.fit()")
        self.n_features_in_ = X.shape[1]
        self.max_abs_ = np.abs(X).max(axis=0)
        self.scale_ = _constant_scale(self.max_abs_)
        return self

    def transform(self, x):
        self._check_fitted("transform")
        X = _check_2d_numeric(x, "MaxAbsScaler.transform()")
        self._check_width(X, "MaxAbsScaler.transform()")
        return X / self.scale_

    def inverse_transform(self, z):
        self._check_fitted("inverse_transform")
        Z = _check_2d_numeric(z, "MaxAbsScaler.inverse_transform()", "z")
        self._check_width(Z, "MaxAbsScaler.inverse_transform()", "z")
        return Z * self.scale_


# ---------------------------------------------------------------------------------- encoders
def _fit_categories(X: np.ndarray, categories, where: str, check_seen: bool) -> list:
    """categories_ per column: sorted unique values ("auto") or the given lists, in order."""
    if isinstance(categories, str):
        if categories != "auto":
            raise ValueError(f"{where}: categories must be 'auto' or a list with one list of "
                             f"categories per column; received {categories!r}.")
        return [_unique(X[:, j], where, j) for j in range(X.shape[1])]
    if len(categories) != X.shape[1]:
        raise ValueError(f"{where}: categories has {len(categories)} lists but x has "
                         f"{X.shape[1]} columns; give one list per column.")
    out = []
    for j, given in enumerate(categories):
        cats = np.asarray(given)
        cats = cats.astype(object) if cats.dtype.kind in "US" else cats
        if cats.ndim != 1 or len(cats) == 0:
            raise ValueError(f"{where}: categories[{j}] must be a non-empty list of values; "
                             f"received {given!r}.")
        if len(_unique(cats, where, j)) != len(cats):
            raise ValueError(f"{where}: categories[{j}] lists a value twice: {list(given)!r}.")
        if check_seen:
            _, found = _lookup(X[:, j], cats)
            if not found.all():
                unknown = list(dict.fromkeys(X[~found, j].tolist()))
                raise ValueError(f"{where}: column {j} holds {unknown!r}, which categories[{j}] "
                                 f"= {list(given)!r} does not list. Add them to the list.")
        out.append(cats)
    return out


def _codes(encoder, X: np.ndarray, where: str, allow_unknown: bool):
    """Integer code per cell (-1 where unknown), or an error naming the unseen categories."""
    codes = np.empty(X.shape, dtype=np.intp)
    for j, cats in enumerate(encoder.categories_):
        try:
            codes[:, j], found = _lookup(X[:, j], cats)
        except TypeError:
            raise TypeError(f"{where}: column {j} holds values of another type than the "
                            f"categories seen in fit() ({cats.dtype}).") from None
        if not found.all() and not allow_unknown:
            unknown = list(dict.fromkeys(X[~found, j].tolist()))
            raise ValueError(
                f"{where}: column {j} has categories not seen in fit(): {unknown!r} (known: "
                f"{cats.tolist()!r}). Refit on data that includes them, list them in "
                f"categories=..., or pass handle_unknown='ignore'.")
    return codes


def _inverse_dtype(categories) -> np.dtype:
    return np.result_type(*[c.dtype for c in categories]) if all(
        c.dtype != object for c in categories) else np.dtype(object)


class OneHotEncoder(_Transformer):
    """One column per category: ``Red -> [1, 0, 0]``, or bipolar ``Red -> [1, -1, -1]``.

    For nominal (unordered) categories. Each input column j becomes ``len(categories_[j])``
    output columns, in the order of ``categories_[j]`` (sorted for "auto").

    Parameters
    ----------
    categories : "auto" or list of lists, default="auto"
        "auto" takes the sorted distinct values of each column seen in ``fit``.
    handle_unknown : {"error", "ignore"}, default="error"
        A category not seen in ``fit``: raise, or code it as all "off" (zeros, or -1s when
        bipolar); ``inverse_transform`` returns None for such rows.
    bipolar : bool, default=False
        Code "on" as +1 and "off" as -1 (the lectures' form for tanh units) instead of 1 / 0.
    dtype : default=np.float64

    Attributes: ``categories_`` (list of arrays), ``n_features_in_``.

    >>> OneHotEncoder(bipolar=True).fit_transform([["red"], ["blue"]])
    array([[-1.,  1.],
           [ 1., -1.]])
    """

    _fitted_attr = "categories_"

    def __init__(self, categories="auto", handle_unknown: str = "error", bipolar: bool = False,
                 dtype=np.float64):
        if handle_unknown not in ("error", "ignore"):
            raise ValueError(f"OneHotEncoder(): handle_unknown must be 'error' or 'ignore'; "
                             f"received {handle_unknown!r}.")
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.bipolar = bipolar
        self.dtype = dtype

    @property
    def _off(self) -> float:
        return -1.0 if self.bipolar else 0.0

    def fit(self, x, y=None):
        where = "OneHotEncoder.fit()"
        X = _check_2d_categorical(x, where)
        self.categories_ = _fit_categories(X, self.categories, where,
                                           check_seen=self.handle_unknown == "error")
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, x):
        where = "OneHotEncoder.transform()"
        self._check_fitted("transform")
        X = _check_2d_categorical(x, where)
        self._check_width(X, where)
        codes = _codes(self, X, where, allow_unknown=self.handle_unknown == "ignore")
        sizes = [len(c) for c in self.categories_]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        out = np.full((len(X), sum(sizes)), self._off, dtype=self.dtype)
        rows, cols = np.nonzero(codes >= 0)
        out[rows, offsets[cols] + codes[rows, cols]] = 1
        return out

    def inverse_transform(self, z):
        """Back to categories: the largest entry of each block wins (works for 0/1 and -1/+1
        codes, and for network outputs); an all-"off" block (an ignored unknown) gives None."""
        where = "OneHotEncoder.inverse_transform()"
        self._check_fitted("inverse_transform")
        Z = _check_2d_numeric(z, where, "z")
        sizes = [len(c) for c in self.categories_]
        if Z.shape[1] != sum(sizes):
            raise ValueError(f"{where}: z has {Z.shape[1]} columns; the encoder produces "
                             f"{sum(sizes)} ({' + '.join(map(str, sizes))}).")
        out = np.empty((len(Z), len(sizes)), dtype=_inverse_dtype(self.categories_))
        start = 0
        for j, cats in enumerate(self.categories_):
            block = Z[:, start:start + len(cats)]
            start += len(cats)
            out[:, j] = cats[block.argmax(axis=1)]
            off = np.all(block == self._off, axis=1)
            if off.any():
                if self.handle_unknown != "ignore":
                    raise ValueError(f"{where}: row {int(np.argmax(off))} has no category set in "
                                     f"column block {j}; only handle_unknown='ignore' produces "
                                     f"such rows.")
                out = out.astype(object)
                out[off, j] = None
        return out

    def get_feature_names_out(self, input_features=None) -> list[str]:
        """Output column names: ``"fur_short"`` for category "short" of column "fur"."""
        self._check_fitted("get_feature_names_out")
        names = input_features or [f"x{j}" for j in range(self.n_features_in_)]
        return [f"{n}_{c}" for n, cats in zip(names, self.categories_) for c in cats]


class OrdinalEncoder(_Transformer):
    """Ordered categories to numbers: ``small, medium, large -> 0, 1, 2`` (or -1, 0, 1).

    Parameters
    ----------
    categories : "auto" or list of lists, default="auto"
        The order of each column's categories (code 0 first). "auto" sorts them, which is
        alphabetical for strings: give the order for real ordinal data.
    feature_range : (lo, hi), optional
        Spread the codes evenly over [lo, hi] (``(-1, 1)``: small -1, medium 0, large 1, as in
        the lectures' animals table). Default: the integer codes 0 .. k-1.
    handle_unknown : {"error", "use_encoded_value"}, default="error"
    unknown_value : number, optional
        The code of unseen categories when ``handle_unknown="use_encoded_value"``.
    dtype : default=np.float64

    >>> enc = OrdinalEncoder([["small", "medium", "large"]], feature_range=(-1, 1))
    >>> enc.fit_transform([["large"], ["small"], ["medium"]]).ravel()
    array([ 1., -1.,  0.])
    """

    _fitted_attr = "categories_"

    def __init__(self, categories="auto", feature_range=None, handle_unknown: str = "error",
                 unknown_value=None, dtype=np.float64):
        if handle_unknown not in ("error", "use_encoded_value"):
            raise ValueError(f"OrdinalEncoder(): handle_unknown must be 'error' or "
                             f"'use_encoded_value'; received {handle_unknown!r}.")
        if handle_unknown == "use_encoded_value" and not isinstance(unknown_value, numbers.Real):
            raise ValueError(f"OrdinalEncoder(): handle_unknown='use_encoded_value' needs a "
                             f"number as unknown_value (e.g. -1 or np.nan); received "
                             f"{unknown_value!r}.")
        if feature_range is not None:
            _check_range(feature_range, "OrdinalEncoder()")
        self.categories = categories
        self.feature_range = feature_range
        self.handle_unknown = handle_unknown
        self.unknown_value = unknown_value
        self.dtype = dtype

    def fit(self, x, y=None):
        where = "OrdinalEncoder.fit()"
        X = _check_2d_categorical(x, where)
        self.categories_ = _fit_categories(X, self.categories, where,
                                           check_seen=self.handle_unknown == "error")
        self.n_features_in_ = X.shape[1]
        return self

    def _step(self, j):
        lo, hi = self.feature_range
        return (hi - lo) / max(len(self.categories_[j]) - 1, 1)

    def transform(self, x):
        where = "OrdinalEncoder.transform()"
        self._check_fitted("transform")
        X = _check_2d_categorical(x, where)
        self._check_width(X, where)
        codes = _codes(self, X, where, allow_unknown=self.handle_unknown != "error")
        out = codes.astype(self.dtype)
        if self.feature_range is not None:
            out = self.feature_range[0] + out * np.array(
                [self._step(j) for j in range(X.shape[1])], dtype=self.dtype)
        if self.handle_unknown == "use_encoded_value":
            out[codes < 0] = self.unknown_value
        return out

    def inverse_transform(self, z):
        """Codes back to categories (nearest code; ``unknown_value`` gives None)."""
        where = "OrdinalEncoder.inverse_transform()"
        self._check_fitted("inverse_transform")
        Z = np.asarray(as_array(z, "z", where), dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.n_features_in_:
            raise ValueError(f"{where}: z must have shape (n_samples, {self.n_features_in_}); "
                             f"received {Z.shape}.")
        out = np.empty(Z.shape, dtype=_inverse_dtype(self.categories_))
        for j, cats in enumerate(self.categories_):
            col = Z[:, j]
            unknown = np.zeros(len(col), dtype=bool)
            if self.handle_unknown == "use_encoded_value":
                unknown = np.isnan(col) if np.isnan(self.unknown_value) \
                    else col == self.unknown_value
            if self.feature_range is not None:
                col = (col - self.feature_range[0]) / self._step(j)
            code = np.rint(np.where(unknown, 0, col))
            bad = ~unknown & ~((code >= 0) & (code < len(cats)))
            if bad.any():
                raise ValueError(f"{where}: z[{int(np.argmax(bad))}, {j}] = "
                                 f"{float(Z[np.argmax(bad), j])!r} is not a code of column {j}.")
            out[:, j] = cats[code.astype(np.intp)]
            if unknown.any():
                out = out.astype(object)
                out[unknown, j] = None
        return out


class LabelEncoder(_Transformer):
    """Class labels (any values) to integers 0 .. k-1 in sorted order, and back.

    For targets y (1-D), unlike :class:`OrdinalEncoder` for feature columns.

    >>> enc = LabelEncoder().fit(["dog", "cat", "dog"])
    >>> enc.classes_.tolist(), enc.transform(["dog", "cat"]).tolist()
    (['cat', 'dog'], [1, 0])
    """

    _fitted_attr = "classes_"

    @staticmethod
    def _as_1d(y, where, name="y"):
        arr = np.asarray(y)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"{where}: {name} must be 1-D (n_samples,); received shape "
                             f"{arr.shape}. For one-hot rows use from_categorical(y) first.")
        if arr.dtype.kind in "US":
            arr = arr.astype(object)
        missing = _is_missing(arr)
        if missing.any():
            raise ValueError(f"{where}: {name} has a missing value (None or NaN) at index "
                             f"{int(np.argmax(missing))}.")
        return arr

    def fit(self, y):
        y = self._as_1d(y, "LabelEncoder.fit()")
        self.classes_ = _unique(y, "LabelEncoder.fit()", "y")
        return self

    def fit_transform(self, y, _=None):
        return self.fit(y).transform(y)

    def transform(self, y):
        where = "LabelEncoder.transform()"
        self._check_fitted("transform")
        y = self._as_1d(y, where)
        codes, found = _lookup(y, self.classes_)
        if not found.all():
            unknown = list(dict.fromkeys(y[~found].tolist()))
            raise ValueError(f"{where}: y contains labels not seen in fit(): {unknown!r} "
                             f"(known: {self.classes_.tolist()!r}).")
        return codes.astype(np.int64)

    def inverse_transform(self, z):
        where = "LabelEncoder.inverse_transform()"
        self._check_fitted("inverse_transform")
        codes = self._as_1d(z, where, "z")
        k = len(self.classes_)
        if codes.dtype.kind not in "iu" or (codes.size and (codes.min() < 0 or codes.max() >= k)):
            raise ValueError(f"{where}: z must hold integer codes in [0, {k - 1}].")
        return self.classes_[codes]


def to_categorical(y, num_classes: int | None = None, dtype="float32",
                   bipolar: bool = False) -> np.ndarray:
    """One-hot rows from integer class labels: 2 -> [0, 0, 1, ...] (Keras's name).

    ``bipolar=True`` gives the lectures' -1/+1 form: 2 -> [-1, -1, 1]. The inverse is
    :func:`from_categorical`.

    >>> to_categorical([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    labels = as_array(y, "y", "to_categorical()")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"to_categorical(): y must be 1-D integer labels; received shape "
                         f"{labels.shape}.")
    if labels.size and (np.any(labels != np.round(labels)) or labels.min() < 0):
        raise ValueError("to_categorical(): y must hold non-negative integer labels.")
    labels = labels.astype(np.intp)
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.size and labels.max() >= k:
        raise ValueError(f"to_categorical(): label {labels.max()} does not fit num_classes={k}; "
                         f"labels must be in [0, {k - 1}].")
    out = np.full((len(labels), k), -1 if bipolar else 0, dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def from_categorical(Y) -> np.ndarray:
    """Integer labels from one-hot (0/1 or -1/+1) rows or class scores: the argmax per row."""
    arr = as_array(Y, "Y", "from_categorical()")
    if arr.ndim != 2:
        raise ValueError(f"from_categorical(): Y must be 2-D (n_samples, n_classes); received "
                         f"shape {arr.shape}.")
    return arr.argmax(axis=1).astype(np.int64)


# ---------------------------------------------------------------------------------- columns
def _column_kind(values: np.ndarray) -> str:
    if values.dtype.kind in "biuf":
        return "numeric"
    try:
        values.astype(np.float64)
        return "numeric"
    except (TypeError, ValueError):
        return "categorical"


class ColumnTransformer(_Transformer):
    """One transformer per group of columns; the outputs side by side, in the given order.

    Input is a 2-D array (columns picked by index) or a dict of named 1-D columns, the form
    :func:`mlplab.datasets.load_csv` returns (columns picked by name). ``"numeric"`` and
    ``"categorical"`` pick the columns of that kind (numbers vs anything else) at fit time.
    The fitted transformers remember everything, so ``transform`` codes new data the same way.

    Parameters
    ----------
    transformers : list of (name, transformer, columns)
        ``columns``: a list of indices or names, or "numeric" / "categorical".
    remainder : {"drop", "passthrough"}, default="drop"
        What happens to columns no transformer picks ("passthrough" keeps numeric ones).

    >>> ct = ColumnTransformer([("num", MinMaxScaler(), "numeric"),
    ...                         ("cat", OneHotEncoder(), "categorical")])
    >>> ct.fit_transform({"w": [1.0, 3.0], "fur": ["long", "none"]})
    array([[0., 1., 0.],
           [1., 0., 1.]])
    """

    _fitted_attr = "columns_"

    def __init__(self, transformers, remainder: str = "drop"):
        if remainder not in ("drop", "passthrough"):
            raise ValueError(f"ColumnTransformer(): remainder must be 'drop' or 'passthrough'; "
                             f"received {remainder!r}.")
        for entry in transformers:
            if not (isinstance(entry, tuple) and len(entry) == 3 and hasattr(entry[1], "fit")):
                raise ValueError(f"ColumnTransformer(): each transformer must be a tuple "
                                 f"(name, transformer, columns); received {entry!r}.")
        self.transformers = list(transformers)
        self.remainder = remainder

    @staticmethod
    def _as_columns(x, where):
        """(names, list of 1-D arrays) from a dict of columns or a 2-D array."""
        if isinstance(x, dict):
            names = list(x)
            cols = [np.asarray(x[k]) for k in names]
            if not cols or any(c.ndim != 1 for c in cols) or len({len(c) for c in cols}) != 1:
                raise ValueError(f"{where}: a dict x must map names to 1-D columns of one "
                                 f"length; received lengths "
                                 f"{ {k: np.shape(v) for k, v in x.items()} }.")
            return names, cols
        arr = np.asarray(x)
        if arr.ndim != 2:
            raise ValueError(f"{where}: x must be 2-D (n_samples, n_columns) or a dict of "
                             f"columns; received shape {arr.shape}.")
        return list(range(arr.shape[1])), [arr[:, j] for j in range(arr.shape[1])]

    def _select(self, spec, names, cols, where):
        if isinstance(spec, str) and spec in ("numeric", "categorical"):
            return [n for n, c in zip(names, cols) if _column_kind(c) == spec]
        spec = [spec] if isinstance(spec, (str, numbers.Integral)) else list(spec)
        missing = [s for s in spec if s not in names]
        if missing:
            raise ValueError(f"{where}: columns {missing!r} not found; x has {names!r}.")
        return spec

    def fit(self, x, y=None):
        self.fit_transform(x)
        return self

    def fit_transform(self, x, y=None):
        where = "ColumnTransformer.fit()"
        names, cols = self._as_columns(x, where)
        self.columns_ = []
        for name, transformer, spec in self.transformers:
            self.columns_.append((name, transformer, self._select(spec, names, cols, where)))
        used = {c for _, _, picked in self.columns_ for c in picked}
        self.remainder_ = [n for n, c in zip(names, cols) if n not in used] \
            if self.remainder == "passthrough" else []
        self.n_features_in_ = len(names)
        self.feature_names_in_ = names
        for _, transformer, picked in self.columns_:
            if picked:  # "categorical" may pick nothing in an all-numeric table
                transformer.fit(self._stack(picked, names, cols))
        if not any(picked for _, _, picked in self.columns_) and not self.remainder_:
            raise ValueError(f"{where}: no transformer picked any of the columns {names!r}.")
        return self.transform(x)

    @staticmethod
    def _stack(picked, names, cols):
        block = [cols[names.index(c)] for c in picked]
        if all(c.dtype.kind in "biuf" for c in block):
            return np.column_stack(block)
        if all(_column_kind(c) == "numeric" for c in block):
            return np.column_stack(block).astype(np.float64)
        return np.column_stack([c.astype(object) for c in block])

    def transform(self, x):
        where = "ColumnTransformer.transform()"
        self._check_fitted("transform")
        names, cols = self._as_columns(x, where)
        needed = [c for _, _, picked in self.columns_ for c in picked] + self.remainder_
        missing = [c for c in needed if c not in names]
        if missing:
            raise ValueError(f"{where}: x lacks the columns {missing!r} seen in fit(); it has "
                             f"{names!r}.")
        parts = [t.transform(self._stack(picked, names, cols)) for _, t, picked in self.columns_
                 if picked]
        if self.remainder_:
            parts.append(_check_2d_numeric(self._stack(self.remainder_, names, cols), where))
        return np.hstack(parts)

    def get_feature_names_out(self) -> list[str]:
        """Names of the output columns, e.g. ``["size", "fur_long", "fur_none", ...]``."""
        self._check_fitted("get_feature_names_out")
        out = []
        for _, t, picked in self.columns_:
            if not picked:
                continue
            labels = [str(c) for c in picked]
            out += t.get_feature_names_out(labels) if hasattr(t, "get_feature_names_out") \
                else labels
        return out + [str(c) for c in self.remainder_]


# ---------------------------------------------------------------------------------- splits
def _count(n: int, value, name: str, where: str, round_up: bool) -> int:
    """Samples meant by a fraction (rounded up or down) or a count, checked against n."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a fraction in (0, 1) or a count of samples; "
                        f"received {value!r}.")
    if isinstance(value, numbers.Integral):
        if not 0 < value < n:
            raise ValueError(f"{where}: {name}={value} must be a count between 1 and {n - 1} "
                             f"for {n} samples, or a fraction in (0, 1).")
        return int(value)
    if not 0 < value < 1:
        raise ValueError(f"{where}: {name}={value} must be a fraction in (0, 1) or a count "
                         f"of samples.")
    return ceil(value * n) if round_up else floor(value * n)


def _split_sizes(n: int, test_size, train_size, where: str) -> tuple[int, int]:
    """(n_train, n_test) with scikit-learn's rules: a float test fraction rounds up
    (ceil), a float train fraction down (floor); an int is a count."""
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = None if test_size is None else _count(n, test_size, "test_size", where, True)
    n_train = None if train_size is None else _count(n, train_size, "train_size", where, False)
    n_train = n - n_test if n_train is None else n_train
    n_test = n - n_train if n_test is None else n_test
    if n_train + n_test > n:
        raise ValueError(f"{where}: train_size + test_size = {n_train} + {n_test} samples is "
                         f"more than the {n} there are; make them smaller.")
    if n_train == 0 or n_test == 0:
        raise ValueError(f"{where}: with {n} samples, test_size={test_size!r} and "
                         f"train_size={train_size!r} leave {n_train} for training and {n_test} "
                         f"for testing; both need at least 1.")
    return n_train, n_test


def _approximate_mode(counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """Per-class counts of n_draws in proportion to ``counts``: floors, then +1 to the largest
    remainders (ties broken at random), as scikit-learn's StratifiedShuffleSplit."""
    exact = counts / counts.sum() * n_draws
    take = np.floor(exact)
    need = int(n_draws - take.sum())
    remainder = exact - take
    for value in np.unique(remainder)[::-1]:
        if need <= 0:
            break
        tied = np.flatnonzero(remainder == value)
        chosen = rng.choice(tied, size=min(len(tied), need), replace=False)
        take[chosen] += 1
        need -= len(chosen)
    return take.astype(np.intp)


def _split_indices(n, n_train, n_test, shuffle, stratify, rng, where):
    if not shuffle:
        if stratify is not None:
            raise ValueError(f"{where}: stratify needs shuffle=True (a stratified split draws "
                             f"rows at random from each class).")
        return np.arange(n_train), np.arange(n_train, n_train + n_test)
    if stratify is None:
        order = rng.permutation(n)
        return order[n_test:n_test + n_train], order[:n_test]
    labels = np.asarray(stratify)
    if labels.ndim == 2:  # one-hot or multi-output rows: one class per distinct row
        labels = np.array([" ".join(map(str, row)) for row in labels])
    if len(labels) != n:
        raise ValueError(f"{where}: stratify has {len(labels)} labels but the arrays have {n} "
                         f"samples; pass the class labels of the rows, e.g. stratify=y.")
    classes, y_idx, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(f"{where}: stratify: classes {classes[counts < 2].tolist()!r} have a "
                         f"single sample; each class needs at least 2 to appear on both sides.")
    for name, size in (("train", n_train), ("test", n_test)):
        if size < len(classes):
            raise ValueError(f"{where}: the {name} part has {size} samples, fewer than the "
                             f"{len(classes)} classes to stratify; make it larger.")
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train, test = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y_idx == c))
        train.append(members[:n_i[c]])
        test.append(members[n_i[c]:n_i[c] + t_i[c]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _check_arrays(arrays, where):
    if not arrays:
        raise ValueError(f"{where}: pass at least one array, e.g. {where[:-2]}(x, y).")
    out = [np.asarray(a) for a in arrays]
    for a in out:
        if a.ndim == 0:
            raise ValueError(f"{where}: each array needs one row per sample; received a scalar.")
    n = len(out[0])
    for i, a in enumerate(out[1:], start=2):
        if len(a) != n:
            raise ValueError(f"{where}: array 1 has {n} samples but array {i} has {len(a)}; "
                             f"they must have one row per sample.")
    return out, n


def train_test_split(*arrays, test_size=None, train_size=None, shuffle: bool = True,
                     stratify=None, seed=None):
    """Split arrays into random train and test parts (scikit-learn's semantics).

    Parameters
    ----------
    *arrays : arrays with the same number of rows (x, y, ...)
    test_size : float in (0, 1) or int, optional
        Fraction (rounded up: ``ceil(test_size * n)``) or count of test samples. Default 0.25
        when ``train_size`` is not given either, else the complement of ``train_size``.
    train_size : float in (0, 1) or int, optional
        Fraction (rounded down) or count of training samples. Default: the complement.
    shuffle : bool, default=True
        ``False`` takes the first rows for training and the next ones for testing.
    stratify : array of labels, optional
        Keep the class proportions of these labels in both parts (largest-remainder rounding);
        one-hot rows count as labels too.
    seed : int or np.random.Generator, optional

    Returns
    -------
    list: ``x_train, x_test, y_train, y_test, ...`` (train then test for each array).

    >>> x_tr, x_te = train_test_split(np.arange(10), test_size=0.3, seed=0)
    >>> len(x_tr), len(x_te)
    (7, 3)
    """
    where = "train_test_split()"
    arrays, n = _check_arrays(arrays, where)
    n_train, n_test = _split_sizes(n, test_size, train_size, where)
    train, test = _split_indices(n, n_train, n_test, shuffle, stratify, _rng(seed), where)
    return [part for a in arrays for part in (a[train], a[test])]


def train_val_test_split(*arrays, val_size=0.15, test_size=0.15, shuffle: bool = True,
                         stratify=None, seed=None):
    """Three-way split: train / validation / test, e.g. 70 / 15 / 15 %.

    Fractions are of the whole data set and round up (``ceil(val_size * n)``); ints are
    counts; training gets the rest. Drawn as two :func:`train_test_split` calls (test first,
    then validation from the remainder), each stratified when ``stratify`` is given.

    Returns
    -------
    list: ``x_train, x_val, x_test, y_train, y_val, y_test, ...``.

    >>> parts = train_val_test_split(np.arange(20), val_size=0.2, test_size=0.1, seed=0)
    >>> [len(p) for p in parts]
    [14, 4, 2]
    """
    where = "train_val_test_split()"
    arrays, n = _check_arrays(arrays, where)
    n_test = _count(n, test_size, "test_size", where, True)
    n_val = _count(n, val_size, "val_size", where, True)
    if n_val + n_test >= n:
        raise ValueError(f"{where}: val_size and test_size take {n_val} + {n_test} of the {n} "
                         f"samples, leaving none for training; make them smaller.")
    rng = _rng(seed)
    rest, test = _split_indices(n, n - n_test, n_test, shuffle, stratify, rng, where)
    sub = None if stratify is None else np.asarray(stratify)[rest]
    train, val = _split_indices(len(rest), len(rest) - n_val, n_val, shuffle, sub, rng, where)
    train, val = rest[train], rest[val]
    return [part for a in arrays for part in (a[train], a[val], a[test])]


# ---------------------------------------------------------------------------------- batches
class BatchIterator:
    """Mini-batches of (x, y) for a training loop, one epoch per ``iter()``.

    With ``shuffle=True`` each epoch draws a new order and gathers each batch into one buffer
    allocated once (``np.take(..., out=...)``): no shuffled copy of the data set per epoch.
    The yielded arrays are views of that buffer, so **they are overwritten by the next
    batch**: copy one to keep it. With ``shuffle=False`` the batches are slices of x and y.
    The last batch is smaller when ``batch_size`` does not divide n.

    Parameters
    ----------
    x, y : arrays with the same number of rows (y may be None)
    batch_size : int or "full", default=32
        1 is online learning, k a mini-batch, "full" one batch of all samples per epoch.
    shuffle : bool, default=True
    seed : int or np.random.Generator, optional
        The order of epoch e depends on the seed and on e (the order array is reshuffled in
        place each epoch, as ``Sequential.fit`` does).

    >>> it = BatchIterator(np.arange(5).reshape(5, 1), batch_size=2, shuffle=False)
    >>> len(it), [xb.ravel().tolist() for xb, _ in it]
    (3, [[0, 1], [2, 3], [4]])
    """

    def __init__(self, x, y=None, batch_size=32, shuffle: bool = True, seed=None):
        where = "BatchIterator()"
        self.x = np.asarray(x)
        self.y = None if y is None else np.asarray(y)
        if self.x.ndim == 0 or len(self.x) == 0:
            raise ValueError(f"{where}: x must hold at least one sample; received shape "
                             f"{self.x.shape}.")
        if self.y is not None and len(self.y) != len(self.x):
            raise ValueError(f"{where}: x has {len(self.x)} samples but y has {len(self.y)}; "
                             f"they must have one row per sample.")
        n = len(self.x)
        if batch_size == FULL_BATCH:
            self.batch_size = n
        else:
            self.batch_size = min(check_positive_int(batch_size, "batch_size",
                                                     where + " (or 'full')"), n)
        self.shuffle = shuffle
        self.rng = _rng(seed)
        self.order = np.arange(n)
        self._xbuf = self._ybuf = None
        if shuffle:
            self._xbuf = np.empty((self.batch_size,) + self.x.shape[1:], dtype=self.x.dtype)
            if self.y is not None:
                self._ybuf = np.empty((self.batch_size,) + self.y.shape[1:], dtype=self.y.dtype)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        n, bs = len(self.x), self.batch_size
        if self.shuffle:
            self.rng.shuffle(self.order)
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            if self.shuffle:
                idx = self.order[start:stop]
                xb = np.take(self.x, idx, axis=0, out=self._xbuf[:stop - start])
                yb = None if self.y is None else np.take(self.y, idx, axis=0,
                                                         out=self._ybuf[:stop - start])
            else:
                xb = self.x[start:stop]
                yb = None if self.y is None else self.y[start:stop]
            yield xb, yb


def batches(x, y=None, batch_size=32, shuffle: bool = True, seed=None):
    """One epoch of mini-batches ``(xb, yb)``; see :class:`BatchIterator` (reused buffer)."""
    return iter(BatchIterator(x, y, batch_size, shuffle, seed))
