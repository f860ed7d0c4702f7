"""Metrics reported by ``fit`` and ``evaluate``: streaming (reset / update / result).

``accuracy`` picks binary, categorical or sparse accuracy from the loss and the shapes, as
Keras does.
"""
from __future__ import annotations

import numpy as np

from .exceptions import ArgumentError
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

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Keras's form of ``update``: targets first."""
        if sample_weight is not None:
            raise ArgumentError(f"{type(self).__name__}.update_state(): sample_weight is not "
                                f"supported; pass sample_weight=None.")
        Y = np.asarray(y_pred, dtype=np.float64)
        self.update(Y.reshape(-1, 1) if Y.ndim == 1 else Y, np.asarray(y_true))

    def reset_state(self) -> None:
        self.reset()

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Stateless value on one batch, in Keras's order ``metric(y_true, y_pred)``."""
        self.reset()
        self.update_state(y_true, y_pred, sample_weight)
        value = self.result()
        self.reset()
        return value

    def get_config(self):
        return {"name": self.name}


#: Output activations whose range is symmetric about 0: their outputs code classes as -1/+1.
BIPOLAR_ACTIVATIONS = ("tanh", "sign", "softsign")
#: Losses that take -1/+1 targets.
BIPOLAR_LOSSES = ("hinge",)


def bipolar_coding(output_activation=None, loss=None) -> bool:
    """True when one output codes its two classes as -1/+1 (threshold 0), not 0/1 (0.5):
    the output activation is tanh, sign or softsign, or the loss is hinge."""
    return output_activation in BIPOLAR_ACTIVATIONS or getattr(loss, "name", None) in \
        BIPOLAR_LOSSES


def get(identifier, loss=None, n_outputs=None, output_activation=None) -> Metric:
    """A Metric; ``"accuracy"``/``"acc"`` resolves against the loss, the output width and the
    output activation: sparse labels -> SparseCategoricalAccuracy, several outputs ->
    CategoricalAccuracy (argmax: right for 0/1 and -1/+1 rows alike), one output ->
    BinaryAccuracy with threshold 0 for -1/+1 coding (``bipolar_coding``), else 0.5.
    A metric named by a string reports under that string, as in Keras."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if loss is not None and getattr(loss, "sparse_targets", False):
            metric = SparseCategoricalAccuracy()
        elif n_outputs is not None and n_outputs > 1:
            metric = CategoricalAccuracy()
        else:
            metric = BinaryAccuracy(0.0 if bipolar_coding(output_activation, loss) else 0.5)
        metric.name = "accuracy"
        return metric
    metric = REGISTRY.get(identifier, base=Metric)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def _binary_accuracy(Y, D, threshold):
    return np.mean((Y > threshold) == (D > threshold), axis=-1)


@REGISTRY.register("binary_accuracy")
class BinaryAccuracy(Metric):
    """Fraction of outputs on the right side of ``threshold``: 0.5 for targets coded 0/1
    (Keras's default), 0 for -1/+1 (``"accuracy"`` picks it for tanh/sign outputs)."""

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
    name = "mean_squared_error"

    def per_sample(self, Y, D):
        return np.mean((Y - D.reshape(Y.shape)) ** 2, axis=-1)


@REGISTRY.register("mean_absolute_error", "mae")
class MeanAbsoluteError(Metric):
    name = "mean_absolute_error"

    def per_sample(self, Y, D):
        return np.mean(np.abs(Y - D.reshape(Y.shape)), axis=-1)


@REGISTRY.register("root_mean_squared_error", "rmse")
class RootMeanSquaredError(Metric):
    """sqrt(mean over samples and outputs of (y - d)^2), accumulated over batches."""

    name = "root_mean_squared_error"

    def per_sample(self, Y, D):
        return np.mean((Y - D.reshape(Y.shape)) ** 2, axis=-1)

    def result(self):
        return float(np.sqrt(super().result()))


@REGISTRY.register("top_k_categorical_accuracy")
class TopKCategoricalAccuracy(Metric):
    """1 if the target class is among the k largest outputs (one-hot targets; k=5 as Keras).

    Ties at the k-th largest output count as hits, as in Keras's ``in_top_k``.
    """

    name = "top_k_categorical_accuracy"

    def __init__(self, k: int = 5):
        self.k = int(k)
        super().__init__()

    def _labels(self, D):
        return D.argmax(axis=-1)

    def per_sample(self, Y, D):
        labels = self._labels(D)
        target = Y[np.arange(len(Y)), labels]
        # rank = how many outputs are strictly larger than the target's output
        return (Y > target[:, None]).sum(axis=-1) < self.k

    def get_config(self):
        return {"name": self.name, "k": self.k}


@REGISTRY.register("sparse_top_k_categorical_accuracy")
class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    name = "sparse_top_k_categorical_accuracy"

    def _labels(self, D):
        return D.reshape(-1).astype(np.intp)


# ---------------------------------------------------------------------- classification counts
def _predicted_and_true_labels(Y, D, threshold):
    """Class labels from outputs and targets: one output -> threshold, several -> argmax;
    targets as 0/1 column, one-hot rows or integer labels."""
    Y = np.asarray(Y)
    D = np.asarray(D)
    if Y.ndim == 1 or Y.shape[-1] == 1:
        pred = (Y.reshape(-1) > threshold).astype(np.intp)
        true = (D.reshape(-1) > threshold).astype(np.intp)
        return pred, true, 2
    k = Y.shape[-1]
    pred = Y.argmax(axis=-1)
    true = D.argmax(axis=-1) if D.ndim == 2 and D.shape[-1] == k else \
        D.reshape(-1).astype(np.intp)
    return pred, true, k


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of samples of true class i predicted as class j (rows: truth).

    Both arguments may be integer labels (n,), one-hot rows / class probabilities (n, K)
    (argmax is taken) or, for two classes, a single column of probabilities (thresholded at
    0.5). Same layout as ``sklearn.metrics.confusion_matrix``.
    """
    def labels(a):
        a = np.asarray(a)
        if a.ndim == 2 and a.shape[1] > 1:
            return a.argmax(axis=1)
        a = a.reshape(-1)
        if np.issubdtype(a.dtype, np.floating) and np.any(a != np.round(a)):
            return (a > 0.5).astype(np.intp)
        return a.astype(np.intp)

    t, p = labels(y_true), labels(y_pred)
    if len(t) != len(p):
        raise ArgumentError(f"confusion_matrix(): y_true has {len(t)} samples but y_pred has "
                            f"{len(p)}.")
    if len(t) and (t.min() < 0 or p.min() < 0):
        raise ArgumentError("confusion_matrix(): class labels must be non-negative integers.")
    k = num_classes if num_classes is not None else \
        int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


class _ConfusionMetric(Metric):
    """Accumulates a confusion matrix; binary for one output (threshold), else argmax classes.

    ``average`` for several classes: "macro" (mean over classes, sklearn's default for
    multiclass), "micro" (from the pooled counts) or "weighted" (by class support).
    """

    def __init__(self, threshold: float = 0.5, average: str = "macro"):
        if average not in ("macro", "micro", "weighted"):
            raise ArgumentError(f"{type(self).__name__}(average={average!r}): average must be "
                                f"'macro', 'micro' or 'weighted'.")
        self.threshold, self.average = float(threshold), average
        super().__init__()

    def reset(self):
        self.cm = None

    def update(self, Y, D):
        pred, true, k = _predicted_and_true_labels(Y, D, self.threshold)
        cm = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)
        self.cm = cm if self.cm is None else self.cm + cm

    def _scores(self):
        cm = self.cm.astype(np.float64)
        tp = np.diag(cm)
        predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
        return tp, predicted, actual

    def result(self):
        if self.cm is None:
            return float("nan")
        tp, predicted, actual = self._scores()
        if len(tp) == 2:  # binary: the positive class is 1
            return float(self._value(tp[1:], predicted[1:], actual[1:])[0])
        if self.average == "micro":
            return float(self._value(tp.sum(keepdims=True), predicted.sum(keepdims=True),
                                     actual.sum(keepdims=True))[0])
        values = self._value(tp, predicted, actual)
        if self.average == "weighted":
            return float(np.sum(values * actual) / actual.sum()) if actual.sum() else 0.0
        return float(values.mean())

    @staticmethod
    def _ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold, "average": self.average}


@REGISTRY.register("precision")
class Precision(_ConfusionMetric):
    """tp / (tp + fp): of the samples predicted positive, the fraction that are (0 if none)."""

    name = "precision"

    def _value(self, tp, predicted, actual):
        return self._ratio(tp, predicted)


@REGISTRY.register("recall")
class Recall(_ConfusionMetric):
    """tp / (tp + fn): of the positive samples, the fraction found (0 if none)."""

    name = "recall"

    def _value(self, tp, predicted, actual):
        return self._ratio(tp, actual)


@REGISTRY.register("f1_score", "f1")
class F1Score(_ConfusionMetric):
    """2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall (0 if undefined)."""

    name = "f1_score"

    def _value(self, tp, predicted, actual):
        return self._ratio(2 * tp, predicted + actual)


def _roc_auc(scores, labels):
    """Area under the ROC curve from the rank-sum (Mann-Whitney) statistic, ties averaged."""
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # average rank (1-based) within each run of equal scores
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


@REGISTRY.register("auc")
class AUC(Metric):
    """Exact area under the ROC curve of the scores Y against the 0/1 targets.

    One output: the usual binary AUC. Several outputs with one-hot (or integer) targets:
    every (sample, class) pair counts as one binary decision (micro average, what Keras's
    AUC computes on such outputs). Keras approximates the curve with 200 thresholds; this
    keeps the scores and computes it exactly.
    """

    name = "auc"

    def reset(self):
        self.scores, self.labels = [], []

    def update(self, Y, D):
        Y = np.asarray(Y)
        D = np.asarray(D)
        if Y.ndim == 2 and Y.shape[1] > 1 and (D.ndim == 1 or D.shape[1] == 1):
            onehot = np.zeros(Y.shape, dtype=np.intp)
            onehot[np.arange(len(Y)), D.reshape(-1).astype(np.intp)] = 1
            D = onehot
        self.scores.append(Y.reshape(-1).astype(np.float64))
        self.labels.append((D.reshape(-1) > 0.5).astype(np.intp))

    def result(self):
        if not self.scores:
            return float("nan")
        return _roc_auc(np.concatenate(self.scores), np.concatenate(self.labels))
