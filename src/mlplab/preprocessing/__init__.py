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

One module per concept: ``scalers``, ``encoders``, ``columns``, ``splits``, ``batches``; the
shared checks and the ``_Transformer`` base are in ``_base``.
"""
from .batches import FULL_BATCH, BatchIterator, batches
from .columns import ColumnTransformer
from .encoders import LabelEncoder, OneHotEncoder, OrdinalEncoder, from_categorical, \
    to_categorical
from .scalers import MaxAbsScaler, MeanNormalizer, MinMaxScaler, StandardScaler
from .splits import class_labels, train_test_split, train_val_test_split

__all__ = ["StandardScaler", "MinMaxScaler", "MeanNormalizer", "MaxAbsScaler", "OneHotEncoder",
           "OrdinalEncoder", "LabelEncoder", "to_categorical", "from_categorical",
           "ColumnTransformer", "train_test_split", "train_val_test_split", "class_labels",
           "BatchIterator",
           "batches", "FULL_BATCH"]
