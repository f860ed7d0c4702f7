"""Categories to numbers: one-hot (0/1 or bipolar -1/+1), ordinal and label codes, and
``to_categorical`` / ``from_categorical`` for class labels."""
from __future__ import annotations

import numbers

import numpy as np

from ..exceptions import ArgumentError, ArgumentTypeError
from .._validation import as_array, check_finite, check_positive_int
from ._base import _as_objects, _check_2d_categorical, _check_2d_numeric, _check_range, \
    _lookup, _Transformer, _unique


def _fit_categories(X: np.ndarray, categories, where: str, check_seen: bool) -> list:
    """categories_ per column: sorted unique values ("auto") or the given lists, in order."""
    if isinstance(categories, str):
        if categories != "auto":
            raise ArgumentError(f"{where}: categories must be 'auto' or a list with one list of "
                                f"categories per column; received {categories!r}.")
        return [_unique(X[:, j], where, j) for j in range(X.shape[1])]
    if len(categories) != X.shape[1]:
        raise ArgumentError(f"{where}: categories has {len(categories)} lists but x has "
                            f"{X.shape[1]} columns; give one list per column.")
    out = []
    for j, given in enumerate(categories):
        cats = np.asarray(given)
        cats = cats.astype(object) if cats.dtype.kind in "US" else cats
        if cats.ndim != 1 or len(cats) == 0:
            raise ArgumentError(f"{where}: categories[{j}] must be a non-empty list of values; "
                                f"received {given!r}.")
        if len(_unique(cats, where, j)) != len(cats):
            raise ArgumentError(f"{where}: categories[{j}] lists a value twice: {list(given)!r}.")
        if check_seen:
            _, found = _lookup(X[:, j], cats)
            if not found.all():
                unknown = list(dict.fromkeys(X[~found, j].tolist()))
                raise ArgumentError(f"{where}: column {j} holds {unknown!r}, which categories[{j}] "
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
            raise ArgumentTypeError(f"{where}: column {j} holds values of another type than the "
                                    f"categories seen in fit() ({cats.dtype}).") from None
        if not found.all() and not allow_unknown:
            unknown = list(dict.fromkeys(X[~found, j].tolist()))
            option = "handle_unknown='ignore'" if isinstance(encoder, OneHotEncoder) else \
                "handle_unknown='use_encoded_value' with an unknown_value"
            raise ArgumentError(
                f"{where}: column {j} has categories not seen in fit(): {unknown!r} (known: "
                f"{cats.tolist()!r}). Refit on data that includes them, list them in "
                f"categories=..., or pass {option}.")
    return codes


def _inverse_dtype(categories) -> np.dtype:
    return np.result_type(*[c.dtype for c in categories]) if all(
        c.dtype != object for c in categories) else np.dtype(object)


class _CategoricalEncoder(_Transformer):
    """``fit`` of the feature encoders: the categories of each column (``categories_``)."""

    _fitted_attr = "categories_"

    def fit(self, x, y=None):
        where = f"{type(self).__name__}.fit()"
        X = _check_2d_categorical(x, where)
        self.categories_ = _fit_categories(X, self.categories, where,
                                           check_seen=self.handle_unknown == "error")
        self.n_features_in_ = X.shape[1]
        return self


class OneHotEncoder(_CategoricalEncoder):
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

    def __init__(self, categories="auto", handle_unknown: str = "error", bipolar: bool = False,
                 dtype=np.float64):
        if not isinstance(handle_unknown, str) or handle_unknown not in ("error", "ignore"):
            raise ArgumentError(f"OneHotEncoder(): handle_unknown must be 'error' or 'ignore'; "
                                f"received {handle_unknown!r}.")
        self.categories = categories
        self.handle_unknown = handle_unknown
        self.bipolar = bipolar
        self.dtype = dtype

    @property
    def _off(self) -> float:
        return -1.0 if self.bipolar else 0.0

    def transform(self, x):
        where = "OneHotEncoder.transform()"
        X = self._check_input(x, "transform", categorical=True)
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
            raise ArgumentError(f"{where}: z has {Z.shape[1]} columns; the encoder produces "
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
                    raise ArgumentError(
                        f"{where}: row {int(np.argmax(off))} has no category set in "
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


class OrdinalEncoder(_CategoricalEncoder):
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

    def __init__(self, categories="auto", feature_range=None, handle_unknown: str = "error",
                 unknown_value=None, dtype=np.float64):
        if not isinstance(handle_unknown, str) or \
                handle_unknown not in ("error", "use_encoded_value"):
            raise ArgumentError(f"OrdinalEncoder(): handle_unknown must be 'error' or "
                                f"'use_encoded_value'; received {handle_unknown!r}.")
        if handle_unknown == "use_encoded_value" and not isinstance(unknown_value, numbers.Real):
            raise ArgumentError(f"OrdinalEncoder(): handle_unknown='use_encoded_value' needs a "
                                f"number as unknown_value (e.g. -1 or np.nan); received "
                                f"{unknown_value!r}.")
        if feature_range is not None:
            _check_range(feature_range, "OrdinalEncoder()")
        self.categories = categories
        self.feature_range = feature_range
        self.handle_unknown = handle_unknown
        self.unknown_value = unknown_value
        self.dtype = dtype

    def _step(self, j):
        lo, hi = self.feature_range
        return (hi - lo) / max(len(self.categories_[j]) - 1, 1)

    def transform(self, x):
        where = "OrdinalEncoder.transform()"
        X = self._check_input(x, "transform", categorical=True)
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
            raise ArgumentError(f"{where}: z must have shape (n_samples, {self.n_features_in_}); "
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
                raise ArgumentError(f"{where}: z[{int(np.argmax(bad))}, {j}] = "
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
            raise ArgumentError(f"{where}: {name} must be 1-D (n_samples,); received shape "
                                f"{arr.shape}. For one-hot rows use from_categorical(y) first.")
        arr, missing = _as_objects(arr)
        if missing.any():
            raise ArgumentError(f"{where}: {name} has a missing value (None or NaN) at index "
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
            raise ArgumentError(f"{where}: y contains labels not seen in fit(): {unknown!r} "
                                f"(known: {self.classes_.tolist()!r}).")
        return codes.astype(np.int64)

    def inverse_transform(self, z):
        where = "LabelEncoder.inverse_transform()"
        self._check_fitted("inverse_transform")
        codes = self._as_1d(z, where, "z")
        k = len(self.classes_)
        if codes.dtype.kind not in "iu":
            raise ArgumentError(f"{where}: z must hold integer codes in [0, {k - 1}]; received "
                                f"dtype {codes.dtype}.")
        bad = (codes < 0) | (codes >= k)
        if bad.any():
            i = int(np.argmax(bad))
            raise ArgumentError(f"{where}: z must hold integer codes in [0, {k - 1}]; z[{i}] = "
                                f"{codes[i].item()!r}.")
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
        raise ArgumentError(f"to_categorical(): y must be 1-D integer labels; received shape "
                            f"{labels.shape}.")
    check_finite(labels, "y", "to_categorical()")
    bad = (labels != np.round(labels)) | (labels < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ArgumentError(f"to_categorical(): y must hold non-negative integer labels; y[{i}] "
                            f"= {labels[i].item()!r}.")
    labels = labels.astype(np.intp)
    if not labels.size and num_classes is None:
        raise ArgumentError("to_categorical(): y is empty; pass num_classes to get an empty "
                            "(0, num_classes) array.")
    k = int(labels.max()) + 1 if num_classes is None else check_positive_int(
        num_classes, "num_classes", "to_categorical()")
    if labels.size and labels.max() >= k:
        raise ArgumentError(f"to_categorical(): label {labels.max()} does not fit num_classes={k}; "
                            f"labels must be in [0, {k - 1}].")
    out = np.full((len(labels), k), -1 if bipolar else 0, dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def from_categorical(Y) -> np.ndarray:
    """Integer labels from one-hot (0/1 or -1/+1) rows or class scores: the argmax per row."""
    arr = as_array(Y, "Y", "from_categorical()")
    if arr.ndim != 2:
        raise ArgumentError(f"from_categorical(): Y must be 2-D (n_samples, n_classes); received "
                            f"shape {arr.shape}.")
    if 0 in arr.shape:
        raise ArgumentError(f"from_categorical(): Y is empty (shape {arr.shape}); pass at least "
                            f"one row of at least one class.")
    return arr.argmax(axis=1).astype(np.int64)
