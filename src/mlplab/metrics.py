"""Metrics reported by ``fit`` and ``evaluate``: streaming (reset / update / result).

``accuracy`` picks binary, categorical or sparse accuracy from the loss and the shapes, as
Keras does.
"""
from __future__ import annotations

import numpy as np

from ._registry import Registry

REGISTRY = Registry("metric")


class Metric:
    """Base class: accumulate over batches with ``update(Y, D)``, read with ``result()``."""

    name = "metric"

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, Y: np.ndarray, D: np.ndarray) -> None:
        values = self.per_sample(Y, D)
        self.total += float(np.sum(values, dtype=np.float64))
        self.count += len(values)

    def per_sample(self, Y, D) -> np.ndarray:
        raise NotImplementedError

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def __call__(self, Y, D) -> float:
        """Stateless value on one batch."""
        self.reset()
        self.update(Y, D)
        value = self.result()
        self.reset()
        return value

    def get_config(self):
        return {"name": self.name}


def get(identifier, loss=None, n_outputs=None) -> Metric:
    """A Metric; ``"accuracy"``/``"acc"`` resolves against the loss and output width."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if loss is not None and getattr(loss, "sparse_targets", False):
            metric = SparseCategoricalAccuracy()
        elif n_outputs is not None and n_outputs > 1:
            metric = CategoricalAccuracy()
        else:
            metric = BinaryAccuracy()
        metric.name = "accuracy"
        return metric
    return REGISTRY.get(identifier, base=Metric)


def _binary_accuracy(Y, D, threshold):
    return np.mean((Y > threshold) == (D > threshold), axis=-1)


@REGISTRY.register("binary_accuracy")
class BinaryAccuracy(Metric):
    """Fraction of outputs on the right side of ``threshold`` (0.5; targets coded 0/1)."""

    name = "binary_accuracy"

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold
        super().__init__()

    def per_sample(self, Y, D):
        return _binary_accuracy(Y, D.reshape(Y.shape), self.threshold)


@REGISTRY.register("categorical_accuracy")
class CategoricalAccuracy(Metric):
    """argmax(Y) == argmax(D) per sample (one-hot targets)."""

    name = "categorical_accuracy"

    def per_sample(self, Y, D):
        return Y.argmax(axis=-1) == D.argmax(axis=-1)


@REGISTRY.register("sparse_categorical_accuracy")
class SparseCategoricalAccuracy(Metric):
    """argmax(Y) == d per sample (integer labels)."""

    name = "sparse_categorical_accuracy"

    def per_sample(self, Y, D):
        return Y.argmax(axis=-1) == D.reshape(-1)


@REGISTRY.register("mean_squared_error", "mse")
class MeanSquaredError(Metric):
    name = "mse"

    def per_sample(self, Y, D):
        return np.mean((Y - D.reshape(Y.shape)) ** 2, axis=-1)


@REGISTRY.register("mean_absolute_error", "mae")
class MeanAbsoluteError(Metric):
    name = "mae"

    def per_sample(self, Y, D):
        return np.mean(np.abs(Y - D.reshape(Y.shape)), axis=-1)
