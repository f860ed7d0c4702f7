"""Feature scaling per column: standardization, min-max, mean normalization, max-abs."""
from __future__ import annotations

import numpy as np

from .._validation import check_bool
from ._base import _check_2d_numeric, _check_range, _constant_scale, _Transformer


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
        where = f"{type(self).__name__}.fit()"
        for name in ("with_mean", "with_std"):
            check_bool(getattr(self, name), name, where)
        X = _check_2d_numeric(x, where)
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
        X = self._check_input(x, "transform")
        if self.with_mean:
            X = X - self.mean_
        if self.with_std:
            X = X / self.scale_
        return X

    def inverse_transform(self, z):
        Z = self._check_input(z, "inverse_transform", "z")
        if self.with_std:
            Z = Z * self.scale_
        if self.with_mean:
            Z = Z + self.mean_
        return Z



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
        X = self._check_input(x, "transform")
        return X * self.scale_ + self.min_

    def inverse_transform(self, z):
        Z = self._check_input(z, "inverse_transform", "z")
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
        X = self._check_input(x, "transform")
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, z):
        Z = self._check_input(z, "inverse_transform", "z")
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
        X = self._check_input(x, "transform")
        return X / self.scale_

    def inverse_transform(self, z):
        Z = self._check_input(z, "inverse_transform", "z")
        return Z * self.scale_
