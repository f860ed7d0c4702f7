"""``ColumnTransformer``: one transformer per group of columns of a table."""
from __future__ import annotations

import copy
import numbers

import numpy as np

from ..exceptions import ArgumentError, ArgumentTypeError
from ._base import _check_2d_numeric, _Transformer


def _is_keyword(transformer) -> bool:
    """scikit-learn's two transformer strings: 'passthrough' (keep) and 'drop'."""
    return isinstance(transformer, str) and transformer in ("passthrough", "drop")


def _column_kind(values: np.ndarray) -> str:
    if values.dtype.kind in "biuf":
        return "numeric"
    try:
        values.astype(np.float64)
        return "numeric"
    except (TypeError, ValueError):
        return "categorical"


def _named(where, name, picked, method, block):
    """``method(block)``; an error of the inner transformer says which entry and which table
    columns it was given (its own "column 0" is the first of ``picked``)."""
    try:
        return method(block)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{where}: transformer {name!r} (columns {picked!r}): {exc}") from None


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

    >>> from mlplab.preprocessing import MinMaxScaler, OneHotEncoder
    >>> ct = ColumnTransformer([("num", MinMaxScaler(), "numeric"),
    ...                         ("cat", OneHotEncoder(), "categorical")])
    >>> ct.fit_transform({"w": [1.0, 3.0], "fur": ["long", "none"]})
    array([[0., 1., 0.],
           [1., 0., 1.]])
    """

    _fitted_attr = "columns_"

    def __init__(self, transformers, remainder: str = "drop"):
        if not isinstance(remainder, str) or remainder not in ("drop", "passthrough"):
            raise ArgumentError(f"ColumnTransformer(): remainder must be 'drop' or 'passthrough'; "
                                f"received {remainder!r}.")
        if not isinstance(transformers, (list, tuple)):
            raise ArgumentTypeError(f"ColumnTransformer(): transformers must be a list of "
                                    f"(name, transformer, columns); received {transformers!r}.")
        for entry in transformers:
            if not (isinstance(entry, tuple) and len(entry) == 3 and (
                    hasattr(entry[1], "fit") or _is_keyword(entry[1]))):
                raise ArgumentError(f"ColumnTransformer(): each transformer must be a tuple "
                                    f"(name, transformer, columns), the transformer an object "
                                    f"with fit/transform or 'passthrough' or 'drop'; received "
                                    f"{entry!r}.")
        self.transformers = list(transformers)
        self.remainder = remainder

    @staticmethod
    def _as_columns(x, where):
        """(names, list of 1-D arrays) from a dict of columns or a 2-D array."""
        if isinstance(x, dict):
            names = list(x)
            cols = [np.asarray(x[k]) for k in names]
            if not cols or any(c.ndim != 1 for c in cols) or len({len(c) for c in cols}) != 1:
                raise ArgumentError(f"{where}: a dict x must map names to 1-D columns of one "
                                    f"length; received lengths "
                                    f"{ {k: np.shape(v) for k, v in x.items()} }.")
            return names, cols
        arr = np.asarray(x)
        if arr.ndim != 2:
            raise ArgumentError(f"{where}: x must be 2-D (n_samples, n_columns) or a dict of "
                                f"columns; received shape {arr.shape}.")
        return list(range(arr.shape[1])), [arr[:, j] for j in range(arr.shape[1])]

    def _select(self, spec, names, cols, where):
        if isinstance(spec, str) and spec in ("numeric", "categorical"):
            return [n for n, c in zip(names, cols) if _column_kind(c) == spec]
        spec = [spec] if isinstance(spec, (str, numbers.Integral)) else spec
        if not isinstance(spec, (list, tuple)) or not all(
                isinstance(s, (str, numbers.Integral)) for s in spec):
            raise ArgumentTypeError(f"{where}: columns must be 'numeric', 'categorical', or a "
                                    f"list of column indices or names; received {spec!r}.")
        missing = [s for s in spec if s not in names]
        if missing:
            raise ArgumentError(f"{where}: columns {missing!r} not found; x has {names!r}.")
        return spec

    def fit(self, x, y=None):
        self.fit_transform(x)
        return self

    def fit_transform(self, x, y=None):
        """Fit copies of the transformers (as scikit-learn's ``transformers_``; the given
        objects stay unfitted) and transform x; a refused call leaves the ColumnTransformer
        as it was."""
        where = "ColumnTransformer.fit()"
        names, cols = self._as_columns(x, where)
        columns = [(name, t if _is_keyword(t) else copy.deepcopy(t),
                    self._select(spec, names, cols, where))
                   for name, t, spec in self.transformers]
        used = {c for _, _, picked in columns for c in picked}
        remainder = [n for n in names if n not in used] if self.remainder == "passthrough" \
            else []
        if not any(picked for t, picked in ((t, p) for _, t, p in columns)
                   if not (isinstance(t, str) and t == "drop")) and not remainder:
            raise ArgumentError(f"{where}: no transformer picked any of the columns {names!r}.")
        parts = []
        for name, transformer, picked in columns:
            if picked and not _is_keyword(transformer):
                block = self._stack(picked, names, cols)
                parts.append(_named(where, name, picked, transformer.fit_transform, block))
        out = self._join(parts, columns, remainder, names, cols, where)
        self.columns_, self.remainder_ = columns, remainder
        self.n_features_in_, self.feature_names_in_ = len(names), names
        return out

    def _join(self, parts, columns, remainder, names, cols, where):
        """The transformed blocks, then the passed-through columns, side by side (float64)."""
        parts = [np.asarray(p, dtype=np.float64) for p in parts]
        for name, transformer, picked in columns:
            if picked and isinstance(transformer, str) and transformer == "passthrough":
                parts.append(_check_2d_numeric(self._stack(picked, names, cols), where,
                                               f"the columns {picked!r} of {name!r}"))
        if remainder:
            parts.append(_check_2d_numeric(self._stack(remainder, names, cols), where,
                                           f"the remainder columns {remainder!r}"))
        return np.hstack(parts)

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
            raise ArgumentError(f"{where}: x lacks the columns {missing!r} seen in fit(); it has "
                                f"{names!r}.")
        parts = [_named(where, name, picked, t.transform, self._stack(picked, names, cols))
                 for name, t, picked in self.columns_ if picked and not _is_keyword(t)]
        return self._join(parts, self.columns_, self.remainder_, names, cols, where)

    def get_feature_names_out(self) -> list[str]:
        """Names of the output columns, e.g. ``["size", "fur_long", "fur_none", ...]``."""
        self._check_fitted("get_feature_names_out")
        out, passed = [], []
        for _, t, picked in self.columns_:
            labels = [str(c) for c in picked]
            if not picked or isinstance(t, str) and t == "drop":
                continue
            if isinstance(t, str):   # "passthrough": after the transformed blocks, as in _join
                passed += labels
                continue
            out += t.get_feature_names_out(labels) if hasattr(t, "get_feature_names_out") \
                else labels
        return out + passed + [str(c) for c in self.remainder_]
