"""Loss functions E(Y, D): a value and the gradient dE/dY that starts backpropagation.

Y is the network's output (n_samples, n_outputs) and D the desired output (targets), as in
the lectures. Each loss defines a per-sample loss e_p(Y_p, D_p) and its derivative; the batch
loss is their mean (Keras's convention), except ``sse``, the lectures'
E = 1/2 sum_p sum_k (d_pk - y_pk)^2, which sums. The 1/N of the mean lives here and nowhere
else, so a layer's gradients are exactly dE/dW of the reported loss.

Fused pairs: softmax + categorical cross-entropy and sigmoid + binary cross-entropy give the
output delta dE/dXi_L = (Y - D) / N directly (the f'(Xi) of the output layer cancels the
division by Y (1 - Y) of the loss), and their value is computed from the logits Xi with
log-sum-exp, so neither overflows nor takes log(0).
"""
from __future__ import annotations

import numpy as np

from .exceptions import ArgumentError, ArgumentTypeError
from ._registry import Registry
from .activations import Sigmoid, Softmax
from .autodiff.tensor import Tensor

REGISTRY = Registry("loss")
EPSILON = 1e-7  # Keras's backend epsilon, used to clip probabilities away from 0 and 1.


class Loss:
    """Base class: define ``per_sample(Y, D)`` and ``per_sample_gradient(Y, D)``."""

    name = "loss"
    reduction = "mean"
    #: The output activation whose pairing gives delta_L = slope (Y - D) / N (exact class: a
    #: subclass may change the formula, so it gets the general delta f'(Xi_L) * dE/dY_L).
    fused_activation: type | None = None
    #: True for losses that take class labels (integers) rather than a target per output.
    sparse_targets = False
    #: True for the regression losses: one target column is broadcast over several outputs.
    broadcasts_targets = False

    def per_sample(self, Y: np.ndarray, D: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def per_sample_gradient(self, Y: np.ndarray, D: np.ndarray) -> np.ndarray:
        """d e_p / d Y_p, one row per sample."""
        raise NotImplementedError

    def scale(self, n: int) -> float:
        """The factor from a sum of n per-sample losses to the batch loss: 1/N for a mean,
        1 for a sum. The 1/N of the mean lives here and nowhere else."""
        return 1.0 / n if self.reduction == "mean" else 1.0

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """The batch loss, in Keras's order ``loss(y_true, y_pred)``: the mean (or sum, for
        ``sse``) of the per-sample losses. A 1-D y_pred is one sample, as in Keras. (The
        methods below take the lectures' order (Y, D) = (y_pred, y_true).)"""
        if sample_weight is not None:
            raise ArgumentError(f"{type(self).__name__}(): sample_weight is not supported; pass "
                                f"sample_weight=None.")
        Y = np.atleast_2d(np.asarray(y_pred, dtype=np.float64))
        D = np.asarray(y_true)
        if not self.sparse_targets:
            D = np.atleast_2d(D.astype(np.float64))
            if D.shape != Y.shape and D.size == Y.size:
                D = D.reshape(Y.shape)
        e = self.per_sample(Y, D)
        return float(e.sum(dtype=np.float64) * self.scale(len(e)))

    def gradient(self, Y, D) -> np.ndarray:
        """dE/dY for the batch."""
        return self.per_sample_gradient(Y, D) * Y.dtype.type(self.scale(len(Y)))

    def fuses_with(self, activation) -> bool:
        return self.fused_activation is not None and type(activation) is self.fused_activation

    def fused_delta(self, Y, D, activation) -> np.ndarray:
        """dE/dXi_L = slope (Y - D) / N, for the fused activation."""
        scale = Y.dtype.type(getattr(activation, "slope", 1.0) * self.scale(len(Y)))
        return (Y - self.dense_targets(D, Y.shape[-1], Y.dtype)) * scale

    def per_sample_from_logits(self, xi, D, activation) -> np.ndarray:
        """The per-sample loss computed from the output layer's Xi (fused pairs only)."""
        raise NotImplementedError

    def dense_targets(self, D, n_outputs, dtype) -> np.ndarray:
        """D in the same shape as Y (sparse labels become one-hot)."""
        return D

    def check_targets(self, D: np.ndarray, n_outputs: int, where: str) -> np.ndarray:
        """Validate D against the model's output width; return it shaped (n, n_outputs)."""
        if D.ndim == 1 and n_outputs == 1:
            D = D.reshape(-1, 1)
        if self.broadcasts_targets and n_outputs > 1 and (D.ndim == 1 or D.shape[1:] == (1,)):
            # Keras's rule: one target column counts for every output (mse(y, Y) broadcasts).
            D = np.repeat(D.reshape(-1, 1), n_outputs, axis=1)
        if D.ndim != 2 or D.shape[1] != n_outputs:
            hint = ""
            if D.ndim == 1 and n_outputs > 1:
                hint = (" For integer class labels use loss='sparse_categorical_crossentropy' "
                        "or one-hot encode them with mlplab.preprocessing.to_categorical.")
            raise ArgumentError(
                f"{where}: y must have shape (n_samples, {n_outputs}) to match the model's "
                f"{n_outputs} output units; received shape {D.shape}.{hint}"
            )
        return D

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self):
        return f"{type(self).__name__}()"


def get(identifier) -> Loss:
    """A Loss from a name, class, instance or config dict, or a Python function
    ``fn(y_true, y_pred) -> Tensor`` of mlplab.autodiff Tensors (differentiated by the graph)."""
    if callable(identifier) and not isinstance(identifier, (type, Loss)):
        return FunctionLoss(identifier)
    return REGISTRY.get(identifier, base=Loss)


def _check_range(D, low, high, where, what, hint=""):
    if D.size and (D.min() < low or D.max() > high):
        raise ArgumentError(
            f"{where}: y must hold {what} in [{low}, {high}] for this loss; received values from "
            f"{D.min():g} to {D.max():g}.{hint}"
        )


@REGISTRY.register("mean_squared_error", "mse", "meansquarederror")
class MeanSquaredError(Loss):
    """e_p = mean_k (y_pk - d_pk)^2; de_p/dy_pk = 2 (y_pk - d_pk) / K.

    The squares are taken in float64: a float32 residual of 1e20 squares beyond float32."""

    name = "mean_squared_error"
    broadcasts_targets = True

    def per_sample(self, Y, D):
        return np.mean(np.square(Y - D, dtype=np.float64), axis=-1)

    def per_sample_gradient(self, Y, D):
        return (Y - D) * Y.dtype.type(2.0 / Y.shape[-1])


@REGISTRY.register("sse", "sum_squared_error")
class SumSquaredError(Loss):
    """The lectures' E = 1/2 sum_p sum_k (d_pk - y_pk)^2, summed over the batch; dE/dy = y - d.

    Because it sums, the step of batch learning grows with the batch size, as in the notes.
    """

    name = "sse"
    broadcasts_targets = True
    reduction = "sum"

    def per_sample(self, Y, D):
        return 0.5 * np.sum(np.square(Y - D, dtype=np.float64), axis=-1)  # (as in MSE)

    def per_sample_gradient(self, Y, D):
        return Y - D


@REGISTRY.register("mean_absolute_error", "mae", "meanabsoluteerror")
class MeanAbsoluteError(Loss):
    """e_p = mean_k |y_pk - d_pk|; de_p/dy_pk = sign(y_pk - d_pk) / K (0 at the kink)."""

    name = "mean_absolute_error"
    broadcasts_targets = True

    def per_sample(self, Y, D):
        return np.mean(np.abs(Y - D), axis=-1)

    def per_sample_gradient(self, Y, D):
        return np.sign(Y - D) * Y.dtype.type(1.0 / Y.shape[-1])


@REGISTRY.register("binary_crossentropy", "bce", "binarycrossentropy")
class BinaryCrossentropy(Loss):
    """e_p = -mean_k [d log y + (1 - d) log(1 - y)], y clipped to [eps, 1 - eps].

    With a sigmoid output it is computed from the logits z = lambda xi as
    max(z, 0) - z d + log(1 + e^-|z|), and delta_L = lambda (Y - D) / (N K).
    """

    name = "binary_crossentropy"
    fused_activation = Sigmoid

    def per_sample(self, Y, D):
        Yc = np.clip(Y, EPSILON, 1.0 - EPSILON)
        return -np.mean(D * np.log(Yc) + (1.0 - D) * np.log(1.0 - Yc), axis=-1)

    def per_sample_gradient(self, Y, D):
        Yc = np.clip(Y, EPSILON, 1.0 - EPSILON)
        inside = (Y > EPSILON) & (Y < 1.0 - EPSILON)
        g = (Yc - D) / (Yc * (1.0 - Yc)) / Y.shape[-1]
        return np.where(inside, g, 0.0).astype(Y.dtype, copy=False)

    def fused_delta(self, Y, D, activation):
        # The per-sample loss is a mean over the K outputs, hence one more factor 1/K.
        return super().fused_delta(Y, D, activation) * Y.dtype.type(1.0 / Y.shape[-1])

    def per_sample_from_logits(self, xi, D, activation):
        z = xi * activation.slope
        return np.mean(np.maximum(z, 0.0) - z * D + np.log1p(np.exp(-np.abs(z))), axis=-1)

    def check_targets(self, D, n_outputs, where):
        D = super().check_targets(D, n_outputs, where)
        _check_range(D, 0, 1, where, "probabilities",
                     " Recode -1/+1 targets as 0/1, e.g. (y + 1) / 2.")
        return D


@REGISTRY.register("categorical_crossentropy", "cce", "categoricalcrossentropy")
class CategoricalCrossentropy(Loss):
    """e_p = -sum_k d_pk log y_pk, with y normalized to sum 1 (a sum below eps counts as eps)
    and clipped to [eps, 1 - eps].

    With a softmax output it is computed from the logits as logsumexp(xi) sum_k d_k -
    sum_k d_k xi_k, and delta_L = (Y - D) / N.
    """

    name = "categorical_crossentropy"
    fused_activation = Softmax

    def per_sample(self, Y, D):
        Yn = Y / np.maximum(Y.sum(axis=-1, keepdims=True), EPSILON)
        return -np.sum(D * np.log(np.clip(Yn, EPSILON, 1.0 - EPSILON)), axis=-1)

    def per_sample_gradient(self, Y, D):
        # Gradient of -sum d log(y / s) with s = sum y: -d / y + sum(d) / s.
        s = np.maximum(Y.sum(axis=-1, keepdims=True), EPSILON)
        Yn = Y / s
        inside = (Yn > EPSILON) & (Yn < 1.0 - EPSILON)
        g = np.where(inside, -D / np.where(inside, Y, 1.0), 0.0)
        return (g + (D * inside).sum(axis=-1, keepdims=True) / s).astype(Y.dtype, copy=False)

    def per_sample_from_logits(self, xi, D, activation):
        m = xi.max(axis=-1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(xi - m).sum(axis=-1))
        D = self.dense_targets(D, xi.shape[-1], xi.dtype)
        return lse * D.sum(axis=-1) - (D * xi).sum(axis=-1)

    def check_targets(self, D, n_outputs, where):
        D = super().check_targets(D, n_outputs, where)
        _check_range(D, 0, 1, where, "one-hot rows or class probabilities",
                     " For integer labels use loss='sparse_categorical_crossentropy'.")
        return D


@REGISTRY.register("sparse_categorical_crossentropy", "scce", "sparsecategoricalcrossentropy")
class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels d_p in {0, ..., K-1}."""

    name = "sparse_categorical_crossentropy"
    sparse_targets = True

    def dense_targets(self, D, n_outputs, dtype):
        onehot = np.zeros((len(D), n_outputs), dtype=dtype)
        onehot[np.arange(len(D)), D.reshape(-1).astype(np.intp)] = 1
        return onehot

    def per_sample(self, Y, D):
        return super().per_sample(Y, self.dense_targets(D, Y.shape[-1], Y.dtype))

    def per_sample_gradient(self, Y, D):
        return super().per_sample_gradient(Y, self.dense_targets(D, Y.shape[-1], Y.dtype))

    # The two per-batch formulas of training, without building the one-hot matrix D:
    def fused_delta(self, Y, D, activation):
        """delta_L = (Y - D) / N: subtract 1 at each sample's label (bit for bit the same)."""
        scale = Y.dtype.type(getattr(activation, "slope", 1.0) * self.scale(len(Y)))
        delta = Y.copy()
        labels = D.reshape(-1).astype(np.intp, copy=False)
        delta[np.arange(len(Y)), labels] -= 1
        delta *= scale
        return delta

    def per_sample_from_logits(self, xi, D, activation):
        """e_p = logsumexp(xi_p) - xi_p[d_p], with the row maximum m taken out first."""
        labels = D.reshape(-1).astype(np.intp, copy=False)
        z = xi - np.maximum.reduce(xi, axis=-1, keepdims=True)
        lse = np.log(np.add.reduce(np.exp(z), axis=-1))
        return lse - z[np.arange(len(z)), labels]

    def check_targets(self, D, n_outputs, where):
        if D.ndim == 2 and D.shape[1] == 1:
            D = D[:, 0]
        if D.ndim != 1:
            raise ArgumentError(
                f"{where}: y must be a 1-D array of integer class labels for "
                f"sparse_categorical_crossentropy; received shape {D.shape}. For one-hot rows "
                f"use loss='categorical_crossentropy'."
            )
        if D.size and (np.any(D != np.round(D)) or D.min() < 0 or D.max() >= n_outputs):
            raise ArgumentError(
                f"{where}: y must hold integer class labels in [0, {n_outputs - 1}] for a model "
                f"with {n_outputs} output units; received values from {D.min():g} to "
                f"{D.max():g}. Give the output layer one unit per class."
            )
        return D.astype(np.intp)


@REGISTRY.register("poisson")
class Poisson(Loss):
    """e_p = mean_k [y - d log(y + eps)]; de/dy = (1 - d / (y + eps)) / K. Needs y > 0."""

    name = "poisson"

    def per_sample(self, Y, D):
        return np.mean(Y - D * np.log(Y + EPSILON), axis=-1)

    def per_sample_gradient(self, Y, D):
        return (1.0 - D / (Y + EPSILON)) / Y.dtype.type(Y.shape[-1])

    def check_targets(self, D, n_outputs, where):
        D = super().check_targets(D, n_outputs, where)
        _check_range(D, 0, np.inf, where, "non-negative counts")
        return D


@REGISTRY.register("kl_divergence", "kld", "kullback_leibler_divergence")
class KLDivergence(Loss):
    """e_p = sum_k d log(d / y), with d and y clipped to [eps, 1]; de/dy = -d / y."""

    name = "kl_divergence"

    def per_sample(self, Y, D):
        Dc = np.clip(D, EPSILON, 1.0)
        return np.sum(Dc * np.log(Dc / np.clip(Y, EPSILON, 1.0)), axis=-1)

    def per_sample_gradient(self, Y, D):
        inside = (Y > EPSILON) & (Y < 1.0)
        g = -np.clip(D, EPSILON, 1.0) / np.where(inside, Y, 1.0)
        return np.where(inside, g, 0.0).astype(Y.dtype, copy=False)

    def check_targets(self, D, n_outputs, where):
        D = super().check_targets(D, n_outputs, where)
        _check_range(D, 0, 1, where, "probabilities")
        return D


def _l2_normalize(V):
    """(V / |V|, |V|) per row, |V| at least 1e-6; the squares in float64 (no overflow)."""
    squares = np.square(V, dtype=np.float64).sum(axis=-1, keepdims=True)
    norm = np.sqrt(np.maximum(squares, 1e-12)).astype(V.dtype, copy=False)
    return V / norm, norm


@REGISTRY.register("cosine_similarity")
class CosineSimilarity(Loss):
    """e_p = -cos(y_p, d_p) = -(y . d) / (|y| |d|), in [-1, 1] (Keras's sign convention).

    de/dy = -(d_hat - (y_hat . d_hat) y_hat) / |y|, with x_hat = x / |x|.
    """

    name = "cosine_similarity"

    def per_sample(self, Y, D):
        return -np.sum(_l2_normalize(Y)[0] * _l2_normalize(D)[0], axis=-1)

    def per_sample_gradient(self, Y, D):
        Yh, ny = _l2_normalize(Y)
        Dh = _l2_normalize(D)[0]
        cos = (Yh * Dh).sum(axis=-1, keepdims=True)
        return -(Dh - cos * Yh) / ny


@REGISTRY.register("hinge")
class Hinge(Loss):
    """e_p = mean_k max(0, 1 - d y) with d in {-1, +1} (0/1 targets are mapped to -1/+1).

    de/dy = -d / K where 1 - d y > 0, else 0.
    """

    name = "hinge"

    @staticmethod
    def _bipolar(D):
        return np.where(D == 0, -1.0, D).astype(D.dtype, copy=False)

    def per_sample(self, Y, D):
        return np.mean(np.maximum(1.0 - self._bipolar(D) * Y, 0.0), axis=-1)

    def per_sample_gradient(self, Y, D):
        Db = self._bipolar(D)
        return np.where(1.0 - Db * Y > 0, -Db, 0.0).astype(Y.dtype) / Y.dtype.type(Y.shape[-1])

    def check_targets(self, D, n_outputs, where):
        D = super().check_targets(D, n_outputs, where)
        if D.size and not np.isin(D, (-1, 0, 1)).all():
            raise ArgumentError(
                f"{where}: y must hold -1/+1 (or 0/1) labels for the hinge loss; received "
                f"values such as {D[~np.isin(D, (-1, 0, 1))][0]:g}."
            )
        return D


class FunctionLoss(Loss):
    """Wraps ``fn(y_true, y_pred) -> Tensor`` (Keras's argument order) as a Loss.

    ``fn`` is written with Tensor operations (``mlplab.autodiff``); dE/dY comes from the
    graph. It may return

    * the per-sample losses, shape (N,): the batch loss is their mean (Keras's convention);
    * one value per output, shape (N, K, ...): averaged over all but the first axis first;
    * a scalar: taken as the batch loss itself (then every sample is reported with it).

    Example, a Huber loss::

        def huber(y_true, y_pred, delta=1.0):
            r = autodiff.abs(y_pred - y_true)
            return autodiff.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).mean(-1)
        model.compile(optimizer="adam", loss=huber)
    """

    reduction = "mean"

    def __init__(self, fn):
        if not callable(fn):
            raise ArgumentTypeError(f"FunctionLoss(fn={fn!r}): fn must be a function "
                                    f"(y_true, y_pred) -> Tensor; received {type(fn).__name__}.")
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self._cache = None

    def _evaluate(self, Y, D):
        """(per-sample losses, dE/dY of the batch loss), one graph per batch."""
        # The model asks for the gradient and the per-sample values of the same batch; build
        # the graph once. Compared by value, since fit may refill the same buffers.
        cache = self._cache  # read once: another thread may replace it (never changes it)
        if cache is not None and np.array_equal(cache[0], Y) and np.array_equal(cache[1], D):
            return cache[2], cache[3]
        y_pred = Tensor(Y, requires_grad=True, kind="input", name="y_pred")
        out = self.fn(Tensor(D, kind="input", name="y_true"), y_pred)
        if not isinstance(out, Tensor):
            raise ArgumentTypeError(
                f"loss function {self.name}: must return a Tensor built with mlplab.autodiff "
                f"operations from (y_true, y_pred); received {type(out).__name__}.")
        n = len(Y)
        if out.ndim == 0 or out.size == 1 and out.ndim <= 1 and n != 1:
            batch = out.reshape(())
            per_sample = np.full(n, float(batch.data), dtype=np.float64)
        elif out.shape[0] == n:
            e = out.mean(axis=tuple(range(1, out.ndim))) if out.ndim > 1 else out
            batch = e.mean()
            per_sample = e.data
        else:
            raise ArgumentError(
                f"loss function {self.name}: must return a scalar or one value per sample "
                f"(shape ({n},)); received shape {out.shape} for a batch of {n}.")
        if batch.requires_grad:
            batch.backward()
        dY = np.zeros_like(Y) if y_pred.grad is None else y_pred.grad
        self._cache = (np.array(Y), np.array(D), per_sample, dY)
        return per_sample, dY

    def per_sample(self, Y, D):
        return self._evaluate(Y, D)[0]

    def gradient(self, Y, D):
        return self._evaluate(Y, D)[1].astype(Y.dtype, copy=False)

    def per_sample_gradient(self, Y, D):
        """n dE/dY: the derivative of each sample's own loss (its rows are independent)."""
        return self.gradient(Y, D) * Y.dtype.type(len(Y))

    def get_config(self):
        return {"name": self.name, "fn": self.fn}

    def __repr__(self):
        return f"FunctionLoss({self.name})"
