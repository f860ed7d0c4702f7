"""Madaline (Widrow and Hoff, 1962): Adalines feeding a fixed logic unit, trained by MRI."""
from __future__ import annotations

import numpy as np

from ..exceptions import ArgumentError
from .._validation import check_positive_float, check_positive_int
from ._base import _check_xy, _epoch_rule, _seed_renamed, _ClassifierMixin, _Estimator, \
    _with_bias


class Madaline(_ClassifierMixin, _Estimator):
    """Madaline I: a layer of Adalines with sign outputs s_j = sgn(x w_j), then a fixed logic
    unit that fires (+1) when at least m of the n Adalines do: OR (m = 1), AND (m = n) or
    majority (m = n // 2 + 1). Two classes only.

    Madaline Rule I (MRI), the minimal-disturbance principle: when the output is wrong, adapt
    the fewest Adalines that flip it, those whose net input xi_j is closest to zero, toward
    the opposite sign d_j = -s_j with the normalized LMS rule::

        w_j <- w_j + alpha * (d_j - xi_j) * x / |x|^2

    (alpha = 1 moves xi_j exactly to d_j.) Epochs run until none misclassifies a sample or
    ``max_epochs``; unlike the perceptron rule, MRI is a heuristic with no convergence
    guarantee, so a different ``random_state`` may help.

    Parameters
    ----------
    n_adalines : int, default=2
    logic : {"or", "and", "majority"}, default="or"
    learning_rate : float, default=1.0
        alpha of the normalized rule, 0 < alpha <= 1 flips to at most d_j.
    max_epochs : int, default=100
    shuffle : bool, default=True
    random_state : int, numpy Generator or RandomState, or None, default=None
        Seeds the initial weights and the shuffling (``seed``, its old name, is deprecated).
    init : {"random", "zeros"}, default="random"
        Random weights break the symmetry between the Adalines.

    Attributes
    ----------
    coef_ : (n_features, n_adalines), intercept_ : (n_adalines,)
    W_ : (n_features + 1, n_adalines), bias row first
    errors_, history_ : misclassified samples per epoch
    weights_history_ : W before training and after each epoch
    n_epochs_, converged_
    """

    _multi_class = False

    @_seed_renamed
    def __init__(self, n_adalines: int = 2, logic: str = "or", learning_rate: float = 1.0,
                 max_epochs: int = 100, shuffle: bool = True, random_state=None,
                 init: str = "random"):
        self._store(locals())

    def _needed(self) -> int:
        """m: how many Adalines must fire (+1) for the logic unit to fire."""
        n = self.n_adalines
        return {"or": 1, "and": n, "majority": n // 2 + 1}[self.logic]

    def _logic_unit(self, S: np.ndarray) -> np.ndarray:
        return np.where((S > 0).sum(axis=1) >= self._needed_, 1.0, -1.0)

    def fit(self, x, y) -> "Madaline":
        where = self._where("fit")
        n = check_positive_int(self.n_adalines, "n_adalines", where)
        self._check_choice("logic", ("or", "and", "majority"))
        self._check_bool("shuffle")
        alpha = check_positive_float(self.learning_rate, "learning_rate", where)
        max_epochs = check_positive_int(self.max_epochs, "max_epochs", where)
        x, y = _check_xy(x, y, where, labels=True)
        T, state = self._encode(y, -1.0, where)
        if T.shape[1] != 1:
            raise ArgumentError(f"{where}: Only binary classification is supported. Madaline has "
                                f"one logic output unit, so y must have two classes; received "
                                f"{T.shape[1]}. Use Adaline or SingleLayerNetwork for several "
                                f"classes.")
        X = _with_bias(x)
        rng = self._rng()
        W = self._initial_weights((X.shape[1], n), rng)
        m = self._needed()
        errors, weights = [], [W.copy()]
        converged = False
        epoch_rule = _epoch_rule("madaline", self._epoch, X=X, W=W, T=T)
        for epoch in range(max_epochs):
            order = rng.permutation(len(X)) if self.shuffle else range(len(X))
            n_wrong = epoch_rule(X, T, W, order, alpha, m)
            errors.append(n_wrong)
            weights.append(W.copy())
            if n_wrong == 0:
                converged = True
                break
        self._store_error_counts(state, W, x, errors, converged)
        self._single_output_, self._needed_ = False, m
        self.weights_history_ = np.array(weights)
        if not converged:
            self._warn_not_converged(
                max_epochs, f"{errors[-1]} samples were misclassified in the last epoch. MRI has "
                f"no convergence guarantee; try another random_state, more Adalines or a larger "
                f"max_epochs.")
        return self

    @staticmethod
    def _epoch(X, T, W, order, alpha, m) -> int:
        """One pass of MRI over the samples in ``order``, W updated in place; returns the
        number of misclassified samples."""
        n_wrong = 0
        for p in order:
            x_p, t = X[p], T[p, 0]
            xi = x_p @ W
            s = np.where(xi >= 0, 1.0, -1.0)
            n_plus = int((s > 0).sum())
            if (1.0 if n_plus >= m else -1.0) == t:
                continue
            n_wrong += 1
            # Minimal disturbance: flip the k Adalines on the wrong side closest to zero.
            wrong_side = np.flatnonzero(s != t)
            k = m - n_plus if t > 0 else n_plus - m + 1
            chosen = wrong_side[np.argsort(np.abs(xi[wrong_side]), kind="stable")[:k]]
            d = t  # the desired sign of each chosen Adaline
            W[:, chosen] += alpha * np.outer(x_p, d - xi[chosen]) / (x_p @ x_p)
        return n_wrong

    def transform(self, x) -> np.ndarray:
        """The Adalines' sign outputs s (n_samples, n_adalines), the logic unit's inputs."""
        xi = self._xi(x, "transform")
        return np.where(xi >= 0, 1.0, -1.0)

    def fit_transform(self, x, y) -> np.ndarray:
        """``fit(x, y)``, then the Adalines' sign outputs on x (scikit-learn's
        TransformerMixin)."""
        return self.fit(x, y).transform(x)

    def predict(self, x) -> np.ndarray:
        out = self._logic_unit(self.transform(x))
        return self.classes_[(out > 0).astype(np.intp)]
