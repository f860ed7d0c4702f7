"""Rosenblatt's perceptron (1958): threshold units trained by the perceptron rule."""
from __future__ import annotations

import numpy as np

from .. import activations
from .._validation import check_positive_float, check_positive_int
from ._base import _check_xy, _epoch_rule, _seed_renamed, _ClassifierMixin, _Estimator, \
    _with_bias


class Perceptron(_ClassifierMixin, _Estimator):
    """Rosenblatt's perceptron: threshold units trained sample by sample with

        w <- w + alpha * x * (t - y),    y = U(x w)  (coding="binary", outputs 0/1)
                                         y = sgn(x w) (coding="bipolar", outputs -1/+1)

    with x_0 = 1 so that w_0 is the bias, U(xi) = 1 for xi > 0 else 0, and sgn(xi) = +1 for
    xi >= 0 else -1. Epochs run until one passes with no misclassified sample (``converged_``
    is True) or ``max_epochs`` is reached (a :class:`ConvergenceWarning`). The perceptron
    convergence theorem guarantees the first for linearly separable data; for XOR it never
    happens. Several classes give one unit per class, each trained by the same rule on its
    one-vs-rest target; ``predict`` picks the unit with the largest net input.

    Parameters
    ----------
    learning_rate : float, default=1.0
        alpha. With zero initial weights it only scales w, so it does not change the result.
    max_epochs : int, default=100
    coding : {"binary", "bipolar"}, default="binary"
        Unit outputs and internal targets 0/1 or -1/+1 (any two labels are accepted in y).
    shuffle : bool, default=False
        Present the samples in a new random order each epoch.
    random_state : int, numpy Generator or RandomState, or None, default=None
        Seeds the shuffling and the "random" initialization (``seed``, its old name, is
        deprecated).
    init : {"zeros", "random"}, default="zeros"
        Initial weights: zeros, or uniform in [-0.1, 0.1].
    record : {"updates", "epochs", None}, default="updates"
        What ``weights_history_`` keeps: W after every update, after every epoch, or
        nothing (for large data, where a copy per update would not fit in memory).

    Attributes
    ----------
    coef_, intercept_ : learned w_1..w_n and w_0 (see ``net_input``)
    W_ : ndarray (n_features + 1, n_units), bias row first
    errors_, history_ : ndarray (n_epochs_,), misclassified samples in each epoch
    n_epochs_, converged_, n_updates_
    weights_history_ : ndarray (n_updates_ + 1, n_features + 1, n_units): W before training
        and after every update, to replay or plot the learning (record="updates"; with
        "epochs", (n_epochs_ + 1, ...); None: absent)
    updates_ : ndarray (n_updates_, 2): (epoch, sample index) of each update

    >>> from mlplab.datasets import load_logic_gate
    >>> x, y = load_logic_gate("and")
    >>> p = Perceptron().fit(x, y.ravel())
    >>> p.predict(x), p.converged_, p.n_epochs_
    (array([0., 0., 0., 1.], dtype=float32), True, 6)
    """

    @_seed_renamed
    def __init__(self, learning_rate: float = 1.0, max_epochs: int = 100, coding: str = "binary",
                 shuffle: bool = False, random_state=None, init: str = "zeros", record="updates"):
        self._store(locals())

    def fit(self, x, y) -> "Perceptron":
        where = self._where("fit")
        alpha = check_positive_float(self.learning_rate, "learning_rate", where)
        max_epochs = check_positive_int(self.max_epochs, "max_epochs", where)
        coding = self._check_choice("coding", ("binary", "bipolar"))
        record = self._check_choice("record", ("updates", "epochs", None))
        self._check_bool("shuffle")
        x, y = _check_xy(x, y, where, labels=True)
        low = 0.0 if coding == "binary" else -1.0
        T, state = self._encode(y, low, where)
        f = activations.get("step" if coding == "binary" else "sign")
        X = _with_bias(x)
        rng = self._rng()
        W = self._initial_weights((X.shape[1], T.shape[1]), rng)
        history, updates, errors = [W[None].copy()], [], []  # blocks of W's and (epoch, p)'s
        converged = False
        epoch_rule = _epoch_rule("perceptron", self._epoch, X=X, W=W, T=T, coding=coding,
                                 record=record == "updates")
        for epoch in range(max_epochs):
            order = rng.permutation(len(X)) if self.shuffle else range(len(X))
            updated, after = epoch_rule(X, T, W, order, alpha, f, record == "updates")
            updated = np.asarray(updated, dtype=np.int64)
            updates.append(np.stack([np.full_like(updated, epoch), updated], axis=1))
            history.append(np.reshape(after, (-1,) + W.shape))
            errors.append(len(updated))
            if record == "epochs":
                history.append(W[None].copy())
            if len(updated) == 0:
                converged = True
                break
        self._store_error_counts(state, W, x, errors, converged)
        self._single_output_ = T.shape[1] == 1
        if record is not None:
            self.weights_history_ = np.concatenate(history)
        else:
            self.__dict__.pop("weights_history_", None)
        self.updates_ = np.concatenate(updates)
        self.n_updates_ = len(self.updates_)
        if not converged:
            self._warn_not_converged(
                max_epochs, f"{errors[-1]} samples were still misclassified in the last epoch. "
                f"The data may not be linearly separable (like XOR); otherwise raise max_epochs.")
        return self

    @staticmethod
    def _epoch(X, T, W, order, alpha, f, record):
        """One pass of the perceptron rule over the samples in ``order``, W updated in place.
        Returns the samples p that changed W, and W after each change (if ``record``)."""
        updated, after = [], []
        for p in order:
            x_p, t_p = X[p], T[p]
            y_p = f(x_p @ W)
            if np.any(y_p != t_p):
                W += alpha * np.outer(x_p, t_p - y_p)
                updated.append(p)
                if record:
                    after.append(W.copy())
        return updated, after

    def predict(self, x) -> np.ndarray:
        """Class labels: the unit's threshold output, or the unit with the largest net input."""
        xi = self._xi(x, "predict")
        return self._decode(xi, 0.0, inclusive=self.coding == "bipolar")

    def decision_function(self, x) -> np.ndarray:
        """The net input xi = x w + w_0 (its sign decides the class)."""
        return self.net_input(x, "decision_function")
