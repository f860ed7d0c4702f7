"""Gradient descent on one layer: the delta-rule training loop shared by Adaline, the linear
network and the single-layer network, their training error E, and their shared docstring
parts."""
from __future__ import annotations

import numbers

import numpy as np

from ..exceptions import ArgumentError
from .. import activations, losses
from .._validation import check_positive_float, check_positive_int
from ._base import _epoch_rule, _Estimator, _with_bias


def _cost(loss: str, f, Xi: np.ndarray, Y: np.ndarray, D: np.ndarray) -> float:
    """The lectures' training error E over all samples (a sum, not a mean), by
    ``mlplab.losses``: SSE, or the cross-entropy from the logits for sigmoid and softmax; tanh
    units are read as p = (1 + y) / 2 = sigmoid(2 lambda xi) against d' = (1 + d) / 2."""
    if loss == "sse":
        return float(losses.SumSquaredError().per_sample(Y, D).sum())
    if f.name == "softmax":  # -sum d log softmax(xi)
        return float(losses.CategoricalCrossentropy().per_sample_from_logits(Xi, D, f).sum())
    slope = getattr(f, "slope", 1.0)
    if f.name == "tanh":
        f, D = activations.Sigmoid(slope=2.0 * slope), (1.0 + D) / 2.0
    # -sum [d log y + (1 - d) log(1 - y)]; the loss averages over the K outputs
    per_sample = losses.BinaryCrossentropy().per_sample_from_logits(Xi, D, f)
    return float(per_sample.sum()) * D.shape[1]


class _DeltaRule(_Estimator):
    """The training loop shared by Adaline and the single-layer networks.

    For a batch (X, D) of ``batch_size`` rows (1 = online, None = the whole set)::

        Xi = X W,  Y = f(Xi),  W <- W + alpha X^T delta,
        delta = f'(Xi) o (D - Y)            (SSE, E = 1/2 sum (d - y)^2)
        delta = lambda (D - Y)              (cross-entropy with sigmoid, tanh or softmax)
        delta = (D - Y) / |x|^2 per row     (normalized LMS, linear units)

    ``history_[e]`` is E over the whole training set after epoch e. Training stops when E
    falls by less than ``tol`` per sample over an epoch (``converged_`` = True), or at
    ``max_epochs`` (a :class:`ConvergenceWarning`). With ``decay`` the rate of epoch e is
    alpha / (1 + decay e), which lets online training settle on the minimum.
    """

    _normalized = False

    def _check_hyperparameters(self, where: str) -> dict:
        self._check_bool("shuffle")
        if "normalized" in self._param_names():
            self._check_bool("normalized")
        p = {"alpha": check_positive_float(self.learning_rate, "learning_rate", where),
             "max_epochs": check_positive_int(self.max_epochs, "max_epochs", where),
             "batch_size": None if self.batch_size is None
             else check_positive_int(self.batch_size, "batch_size", where),
             "tol": self.tol, "decay": self.decay}
        for name, allow_none in (("tol", True), ("decay", False)):
            value = p[name]
            if value is None and allow_none:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not 0 <= value < np.inf:
                kind = "a non-negative number or None" if allow_none else "a non-negative number"
                raise ArgumentError(f"{where}: {name} must be {kind}; received {value!r}.")
        if self._normalized and p["batch_size"] != 1:
            raise ArgumentError(f"{where}: normalized=True is the online rule "
                                f"w <- w + beta x (t - y) / |x|^2; set batch_size=1 (received "
                                f"{self.batch_size!r}).")
        return p

    def _train(self, x: np.ndarray, D: np.ndarray, f, loss: str, where: str) -> None:
        p = self._check_hyperparameters(where)
        X = _with_bias(x)
        N = len(X)
        rng = self._rng()
        W = self._initial_weights((X.shape[1], D.shape[1]), rng)
        bs = N if p["batch_size"] is None else min(p["batch_size"], N)
        sq_norm = (X * X).sum(axis=1, keepdims=True) if self._normalized else None  # |x|^2 >= 1

        def error(W):
            Xi = X @ W
            return _cost(loss, f, Xi, f(Xi), D)

        E = error(W)
        history, weights = [], [W.copy()]
        converged = False
        epoch_rule = _epoch_rule("delta_rule", self._epoch, X=X, W=W, D=D, f=f, loss=loss,
                                 batch_size=bs, normalized=self._normalized)
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(p["max_epochs"]):
                alpha = p["alpha"] / (1.0 + p["decay"] * epoch)
                order = rng.permutation(N) if self.shuffle else np.arange(N)
                epoch_rule(X, D, W, order, bs, alpha, f, loss, sq_norm)
                E_prev, E = E, error(W)
                if not (np.isfinite(E) and np.isfinite(W).all()):
                    batch = (f" (the rule sums over the {bs} samples of a batch, so alpha must "
                             f"shrink as the batch grows)") if bs > 1 else ""
                    raise ArgumentError(
                        f"{where}: training diverged at epoch {epoch + 1} (the error became "
                        f"{E}). Try a smaller learning_rate (now {p['alpha']:g}){batch}, or "
                        f"scale the inputs.")
                history.append(E)
                weights.append(W.copy())
                # A plateau: E fell by less than tol per sample (a rise, as online training
                # can give, is no plateau).
                if p["tol"] is not None and 0.0 <= E_prev - E <= p["tol"] * N:
                    converged = True
                    break
        self.W_ = W
        self.n_features_in_ = x.shape[1]
        self.history_ = np.array(history)
        self.weights_history_ = np.array(weights)
        self.n_epochs_ = len(history)
        self.converged_ = converged
        if not converged and p["tol"] is not None:
            self._warn_not_converged(
                p["max_epochs"], f"the error E fell by {(E_prev - E) / N:.3g} per sample in the "
                f"last epoch (tol={p['tol']:g}). Raise max_epochs, tune learning_rate, or set "
                f"decay.", stacklevel=4)

    def _epoch(self, X, D, W, order, bs, alpha, f, loss, sq_norm) -> None:
        """One pass over the samples in ``order``, in batches of ``bs``; W updated in place."""
        fused = loss == "cross_entropy"  # delta = lambda (D - Y): f'(Xi) cancels in dE/dXi
        linear = f.name == "linear"
        for start in range(0, len(X), bs):
            idx = order[start:start + bs]
            x_b, d_b = X[idx], D[idx]
            xi = x_b @ W
            y = xi if linear else f(xi)
            if fused:
                delta = getattr(f, "slope", 1.0) * (d_b - y)
            elif linear:
                delta = d_b - y
            else:
                delta = f.derivative(xi, y) * (d_b - y)
            if self._normalized:
                delta = delta / sq_norm[idx]
            W += alpha * (x_b.T @ delta)


_GD_DOC = """
    learning_rate : float, default={lr}
        alpha (beta for the normalized rule). The batch rule sums over the batch, so alpha
        must shrink as the batch grows: gradient descent is stable for
        alpha < 2 / (largest eigenvalue of X^T X).
    max_epochs : int, default={epochs}
    batch_size : int or None, default={bs}
        1 = online (sample by sample), None = batch (the whole set per update), k = mini-batch.
    tol : float or None, default={tol}
        Stop when the error E falls by less than tol * n_samples over an epoch (a plateau);
        None runs all max_epochs.
    decay : float, default=0.0
        Learning-rate decay: epoch e uses alpha / (1 + decay e).
    shuffle : bool, default={shuffle}
        Present the samples in a new random order each epoch.
    random_state : int, numpy Generator or RandomState, or None, default=None
        Seeds the shuffling and the "random" initialization (``seed``, its old name, is
        deprecated).
    init : {{"zeros", "random"}}, default="zeros"
        Initial weights: zeros, or uniform in [-0.1, 0.1].
"""

_GD_ATTRS = """
    Attributes
    ----------
    coef_, intercept_ : learned weights w_1..w_n and bias w_0; (n_features,) and a float for
        one output, (n_features, n_outputs) and (n_outputs,) for several
    W_ : ndarray (n_features + 1, n_outputs), the bias row first (the lectures' W)
    history_ : ndarray (n_epochs_,), the error E on the training set after each epoch
    weights_history_ : ndarray (n_epochs_ + 1, n_features + 1, n_outputs), W before training
        and after each epoch
    n_epochs_, converged_
"""
