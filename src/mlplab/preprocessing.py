"""Data preparation: scalers, encoders, splits (scikit-learn's fit / transform conventions)."""
from __future__ import annotations

import numpy as np

from ._validation import as_array


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """One-hot rows from integer class labels: 2 -> [0, 0, 1, ...] (Keras's name).

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
    out = np.zeros((len(labels), k), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out
