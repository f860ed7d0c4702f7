"""Single layers of neurons: linear units (least squares or gradient descent) and sigmoid,
tanh or softmax units trained by the delta rule."""
from __future__ import annotations

import numpy as np

from ..exceptions import ArgumentError
from .. import activations
from ._base import _check_xy, _seed_renamed, _ClassifierMixin, _RegressorMixin, _with_bias
from ._delta_rule import _GD_ATTRS, _GD_DOC, _cost, _DeltaRule


class LinearNetwork(_RegressorMixin, _DeltaRule):
    __doc__ = """A single layer of linear neurons: multivariate linear regression, Y = X W.

    ``solver="lstsq"`` (default) solves the least-squares problem in closed form,

        W = (X^T X)^{-1} X^T D,

    with the bias column x_0 = 1 included, computed stably by ``numpy.linalg.lstsq`` (an SVD,
    never forming the inverse, so it also gives the minimum-norm solution when X^T X is
    singular). ``solver="gd"`` trains the same network by gradient descent on
    E = 1/2 sum (D - Y)^2: W <- W + alpha X^T (D - Y), online or in batches.

    Parameters
    ----------
    solver : {"lstsq", "gd"}, default="lstsq"
        The remaining parameters are used by "gd" only.""" + _GD_DOC.format(
        lr=0.001, epochs=1000, bs=None, tol=1e-10, shuffle=False) + _GD_ATTRS + """
    rank_, singular_values_ : from lstsq (solver="lstsq")
"""

    @_seed_renamed
    def __init__(self, solver: str = "lstsq", learning_rate: float = 0.001,
                 max_epochs: int = 1000, batch_size=None, tol=1e-10, decay: float = 0.0,
                 shuffle: bool = False, random_state=None, init: str = "zeros"):
        self._store(locals())

    def fit(self, x, y) -> "LinearNetwork":
        where = self._where("fit")
        solver = self._check_choice("solver", ("lstsq", "gd"))
        if solver == "gd":
            self._check_hyperparameters(where)
        x, y = _check_xy(x, y, where)
        D = self._targets(y)
        if solver == "gd":
            self._train(x, D, activations.get("linear"), "sse", where)
            return self
        X = _with_bias(x)
        W, _, rank, sv = np.linalg.lstsq(X, D, rcond=None)
        self.W_, self.rank_, self.singular_values_ = W, int(rank), sv
        self.n_features_in_ = x.shape[1]
        self.history_ = np.array([_cost("sse", None, None, X @ W, D)])
        self.weights_history_ = W[None].copy()
        self.n_epochs_, self.converged_ = 0, True
        return self


class SingleLayerNetwork(_ClassifierMixin, _DeltaRule):
    __doc__ = """A single layer of sigmoid, tanh or softmax units: multi-class linear classifier.

    One unit per class (one unit for two classes, except softmax), Xi = X W, Y = f(Xi),
    trained by the lectures' rule (lecture 003)::

        SSE, E = 1/2 sum (d - y)^2:     W <- W + alpha X^T [f'(Xi) o (D - Y)]
        cross-entropy:                  W <- W + alpha lambda X^T (D - Y)

    The cross-entropy rule holds for sigmoid units with 0/1 targets
    (E = -sum [d log y + (1 - d) log(1 - y)]), softmax with one-hot targets
    (E = -sum d log y), and tanh units with bipolar targets, whose cross-entropy is that of
    p = (1 + y) / 2 against (1 + d) / 2: f'(Xi) cancels against dE/dY in each case. Targets
    are coded 0/1 for sigmoid and softmax, -1/+1 for tanh (the lectures' bipolar one-hot);
    ``y`` may be labels or a one-hot matrix in either coding. The winning class is the
    argmax of the outputs.

    Parameters
    ----------
    activation : str or Activation, default="sigmoid"
        "sigmoid", "tanh" or "softmax" (or a Sigmoid / Tanh instance with a slope lambda).
    loss : {"cross_entropy", "sse"}, default="cross_entropy"
""" + _GD_DOC.format(lr=0.1, epochs=200, bs=None, tol=1e-4, shuffle=False) + _GD_ATTRS

    @_seed_renamed
    def __init__(self, activation="sigmoid", loss: str = "cross_entropy",
                 learning_rate: float = 0.1, max_epochs: int = 200, batch_size=None, tol=1e-4,
                 decay: float = 0.0, shuffle: bool = False, random_state=None, init: str = "zeros"):
        self._store(locals())

    def _f(self):
        f = activations.get(self.activation)
        if f.name not in ("sigmoid", "tanh", "softmax"):
            raise ArgumentError(f"{type(self).__name__}: activation must be 'sigmoid', 'tanh' or "
                                f"'softmax'; received {self.activation!r}. For linear units use "
                                f"Adaline or LinearNetwork.")
        return f

    def fit(self, x, y) -> "SingleLayerNetwork":
        where = self._where("fit")
        f = self._f()
        loss = self._check_choice("loss", ("cross_entropy", "sse"))
        if f.name == "softmax" and loss == "sse":
            raise ArgumentError(f"{type(self).__name__}: softmax is trained with "
                                f"loss='cross_entropy' here (its SSE rule is not elementwise); "
                                f"received loss='sse'. Use activation='sigmoid' for SSE.")
        self._check_hyperparameters(where)
        x, y = _check_xy(x, y, where, labels=True)
        low = -1.0 if f.name == "tanh" else 0.0
        D, state = self._encode(y, low, where, force_units=f.name == "softmax")
        self._train(x, D, f, loss, where)
        self.__dict__.update(state)
        self._single_output_ = D.shape[1] == 1
        return self

    def output(self, x) -> np.ndarray:
        """The unit outputs Y = f(X W), the lectures' Y: (n_samples, n_units)."""
        return self._f()(self._xi(x, "output"))

    def decision_function(self, x) -> np.ndarray:
        """The net inputs Xi = X W: (n_samples, n_units), or (n_samples,) for two classes
        (softmax's two units: xi_1 - xi_0, whose sign decides as its argmax does)."""
        xi = self._xi(x, "decision_function")
        if xi.shape[1] == 1:
            return xi[:, 0]
        return xi[:, 1] - xi[:, 0] if len(self.classes_) == 2 else xi

    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), rows summing to 1, as scikit-learn's.

        Softmax gives them directly. A sigmoid unit's output is p = P(class 1), so one unit
        gives [1 - p, p] and one unit per class gives p normalized over the row (scikit-learn's
        one-vs-rest rule); a tanh unit is read as p = (1 + y) / 2.
        """
        f = self._f()
        Y = f(self._xi(x, "predict_proba"))
        if f.name == "softmax":
            return Y
        p = (1.0 + Y) / 2.0 if f.name == "tanh" else Y
        if p.shape[1] == 1:
            return np.hstack([1.0 - p, p])
        total = p.sum(axis=1, keepdims=True)
        return np.divide(p, total, out=np.full_like(p, 1.0 / p.shape[1]), where=total > 0)

    def predict(self, x) -> np.ndarray:
        """Class labels (or one-hot rows in y's coding): argmax of the outputs."""
        Y = self._f()(self._xi(x, "predict"))
        return self._decode(Y, 0.0 if self._f().name == "tanh" else 0.5)
