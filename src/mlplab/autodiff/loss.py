"""A loss given as a Python function of Tensors, for ``compile(loss=fn)``."""
from __future__ import annotations

import numpy as np

from ..losses import Loss
from .tensor import Tensor


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
            raise TypeError(f"FunctionLoss(fn={fn!r}): fn must be a function "
                            f"(y_true, y_pred) -> Tensor; received {type(fn).__name__}.")
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self._cache = None

    def _evaluate(self, Y, D):
        """(per-sample losses, dE/dY of the batch loss), one graph per batch."""
        # The model asks for the gradient and the per-sample values of the same batch; build
        # the graph once. Compared by value, since fit may refill the same buffers.
        if self._cache is not None and np.array_equal(self._cache[0], Y) \
                and np.array_equal(self._cache[1], D):
            return self._cache[2], self._cache[3]
        y_pred = Tensor(Y, requires_grad=True, kind="input", name="y_pred")
        out = self.fn(Tensor(D, kind="input", name="y_true"), y_pred)
        if not isinstance(out, Tensor):
            raise TypeError(
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
            raise ValueError(
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
