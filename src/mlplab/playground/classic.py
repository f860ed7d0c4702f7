"""The classic neurons in the playground: mlplab's ``Perceptron`` and ``Adaline``.

They are scikit-learn-style estimators that train in one ``fit``; the playground fits once
for up to ``CLASSIC_EPOCHS`` epochs with the weights recorded after every epoch
(``weights_history_``), then plays that record back one epoch per frame, so the page shows
the decision line moving as it learns. ``fit(max_epochs=k)`` makes the very same first k
epochs (zero initial weights, one shuffle per epoch from the seed), which is what the
exported snippet runs.

    perceptron:  y = sign(x w + w_0);  w <- w + alpha x (t - y) for each misclassified x
    adaline:     y = x w + w_0;        w <- w + alpha x_b^T (t - y) per batch (LMS)

Loss shown: the fraction misclassified (perceptron), the mean squared error of the linear
output against the -1/+1 targets (Adaline).
"""
from __future__ import annotations

import warnings

import numpy as np

from .errors import SetupError

CLASSIC_EPOCHS = 300


def _estimator(s: dict, max_epochs: int):
    import mlplab

    if s["model"] == "perceptron":
        return mlplab.Perceptron(learning_rate=s["learningRate"], max_epochs=max_epochs,
                                 coding="bipolar", shuffle=True, random_state=s["seed"],
                                 record="epochs")
    return mlplab.Adaline(learning_rate=s["learningRate"], max_epochs=max_epochs,
                          batch_size=s["batchSize"], tol=None, shuffle=True,
                          random_state=s["seed"])


def estimator_code(s: dict, epochs: int) -> list[str]:
    """The snippet's lines that make and fit the estimator for ``epochs`` epochs."""
    if s["model"] == "perceptron":
        make = (f"model = mlplab.Perceptron(learning_rate={s['learningRate']!r}, "
                f"max_epochs={epochs}, coding='bipolar', shuffle=True, random_state={s['seed']}, "
                f"record='epochs')")
        loss = "np.mean(model.predict(x) != y)  # the fraction misclassified"
    else:
        make = (f"model = mlplab.Adaline(learning_rate={s['learningRate']!r}, "
                f"max_epochs={epochs}, batch_size={s['batchSize']}, tol=None, shuffle=True, "
                f"random_state={s['seed']})")
        loss = "np.mean((model.decision_function(x) - np.where(y > 0, 1.0, -1.0)) ** 2)"
    return [make, "model.fit(x_train, y_train)", "", "def loss(x, y):", f"    return {loss}",
            "", "print(f'Epoch {model.n_epochs_}')",
            "print(f'Training loss {loss(x_train, y_train):.6f}')",
            "print(f'Test loss {loss(x_test, y_test):.6f}')", ""]


class ClassicRun:
    """A recorded run of a Perceptron or an Adaline, replayed epoch by epoch."""

    def __init__(self, s: dict, X: np.ndarray, y: np.ndarray, n_classes: int):
        if n_classes != 2:
            raise SetupError(f"model {s['model']} takes two classes here (it draws one "
                             f"decision line); this data has "
                             f"{n_classes or 'real-valued targets, not'} classes. Choose mlp.")
        self.kind = s["model"]
        est = _estimator(s, CLASSIC_EPOCHS)  # maxEpochs, a live key, stops the playback
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "not converged" is the page's stop reason
                est.fit(X, y)
        except ValueError as exc:
            raise SetupError(str(exc)) from None
        self.history = est.weights_history_  # (epochs + 1, n_in + 1, 1), the bias row first
        self.epochs = len(self.history) - 1
        self.converged = bool(est.converged_)

    def layer(self, epoch: int):
        """(W (n_in, 1), b (1,), activation) after ``epoch`` epochs."""
        W = self.history[min(epoch, self.epochs)]
        act = np.sign if self.kind == "perceptron" else (lambda xi: xi)
        return W[1:], W[0], act

    def losses(self, epoch, X, y):
        W, b, act = self.layer(epoch)
        xi = (X @ W + b)[:, 0]
        t = np.where(y > 0, 1.0, -1.0)
        if self.kind == "perceptron":
            return float(np.mean(np.where(xi >= 0, 1.0, -1.0) != t))
        return float(np.mean((xi - t) ** 2))

    def stop_reason(self, epoch: int) -> str | None:
        if epoch < self.epochs:
            return None
        if self.converged:
            return f"converged: epoch {self.epochs} misclassified no training sample"
        return f"the recorded run ends at epoch {self.epochs}"
