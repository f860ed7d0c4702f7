"""The classic neurons: McCulloch-Pitts, Rosenblatt's perceptron, Adaline and single-layer networks.

Notation of the lectures: an input row ``x`` gets a constant first component x_0 = 1, so the
bias is the weight w_0 on it (``W[0]``); the net input (potential) is xi = x W, the output
y = f(xi), the target t (or d). Rules, in order of increasing complexity:

=====================  ==================================================================
McCulloch-Pitts        y = 1 if sum of excitatory inputs >= theta and no inhibitory input
                       is active, else 0 (no learning)
Perceptron             w <- w + alpha x (t - y),  y = U(x w) (0/1) or sgn(x w) (-1/+1)
Adaline (LMS, delta)   w <- w + alpha x (t - y),  y = x w (linear output)
normalized LMS         w <- w + beta x (t - y) / |x|^2
Madaline (MRI)         Adalines -> fixed OR / AND / majority unit; adapt the Adaline(s) with
                       the smallest |xi| (minimal disturbance)
linear network         W = (X^T X)^{-1} X^T D  (least squares), or gradient descent
single layer           W <- W + alpha X^T [f'(Xi) o (D - Y)]  (SSE),
                       W <- W + alpha X^T (D - Y)             (cross-entropy, sigmoid/softmax)
=====================  ==================================================================

The trainable models follow scikit-learn's estimator conventions: ``__init__`` stores the
hyperparameters, ``fit(x, y)`` validates, learns and returns ``self``, learned state ends in
``_`` (``coef_``, ``intercept_``, ``history_``, ``n_epochs_``, ``converged_``), ``predict`` and
``score`` (accuracy for classifiers, R^2 for regressors), ``get_params`` / ``set_params``.
Randomness comes from a ``seed`` (a ``np.random.Generator`` is made from it), never from
NumPy's global state.
"""
from __future__ import annotations

import inspect
import itertools
import numbers
import warnings

import numpy as np

from .. import activations
from .._validation import as_array, check_finite, check_positive_float, check_positive_int, \
    check_same_length, check_x

__all__ = ["ConvergenceWarning", "NotFittedError", "McCullochPitts", "McCullochPittsNetwork",
           "truth_table", "Perceptron", "Adaline", "AdalineRegressor", "Madaline",
           "LinearNetwork", "SingleLayerNetwork"]


class ConvergenceWarning(UserWarning):
    """Training stopped at ``max_epochs`` before its stopping condition was met."""


class NotFittedError(ValueError, AttributeError):
    """A learned attribute or ``predict`` was used before ``fit`` (as scikit-learn's)."""


# ------------------------------------------------------------------------------------------
# McCulloch-Pitts (1943)
# ------------------------------------------------------------------------------------------

def _check_binary_inputs(x, n_inputs: int, where: str) -> np.ndarray:
    arr = as_array(x, "x", where)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != n_inputs:
        raise ValueError(f"{where}: x must have shape (n_samples, {n_inputs}) (or ({n_inputs},) "
                         f"for one sample); received shape {np.shape(x)}.")
    if not np.isin(arr, (0, 1)).all():
        bad = arr[~np.isin(arr, (0, 1))].flat[0].item()
        raise ValueError(f"{where}: McCulloch-Pitts inputs must be binary (0 or 1); received "
                         f"{bad!r}. For -1/+1 data use (x + 1) / 2.")
    return arr.astype(np.int64)


class McCullochPitts:
    """A McCulloch-Pitts neuron: binary inputs, fixed integer weights and threshold theta.

    Absolute inhibition (the 1943 model, the default)::

        y = 1  if  sum_{i excitatory} w_i x_i >= theta  and  x_j = 0 for every inhibitory j
        y = 0  otherwise

    A positive weight marks an excitatory connection (a weight of 2 counts the input twice),
    a negative one an inhibitory connection, whose single active input vetoes firing.
    ``inhibition="weighted"`` is the later variant in which the negative weights are simply
    added: y = 1 if sum_i w_i x_i >= theta.

    Parameters
    ----------
    weights : sequence of int
        One integer per input: > 0 excitatory, < 0 inhibitory, 0 not connected.
    threshold : int
        theta, the number of active excitatory inputs needed to fire (may be 0).
    inhibition : {"absolute", "weighted"}, default="absolute"

    >>> McCullochPitts([1, 1], threshold=2).predict([[0, 0], [0, 1], [1, 0], [1, 1]])
    array([0, 0, 0, 1])
    """

    def __init__(self, weights, threshold: int, inhibition: str = "absolute"):
        where = "McCullochPitts()"
        w = as_array(weights, "weights", where)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"{where}: weights must be a non-empty 1-D sequence of integers; "
                             f"received shape {w.shape}.")
        if np.any(w != np.round(w)):
            raise ValueError(f"{where}: weights must be integers (+k excitatory, -k inhibitory);"
                             f" received {w.tolist()}.")
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
                or threshold != int(threshold):
            raise ValueError(f"{where}: threshold must be an integer; received {threshold!r}.")
        if inhibition not in ("absolute", "weighted"):
            raise ValueError(f"{where}: inhibition must be 'absolute' or 'weighted'; received "
                             f"{inhibition!r}.")
        self.weights = w.astype(np.int64)
        self.threshold = int(threshold)
        self.inhibition = inhibition

    @property
    def n_inputs(self) -> int:
        return len(self.weights)

    def predict(self, x) -> np.ndarray:
        """Outputs (n_samples,) of 0/1 for binary inputs x (n_samples, n_inputs)."""
        x = _check_binary_inputs(x, self.n_inputs, "McCullochPitts.predict()")
        w = self.weights
        if self.inhibition == "weighted":
            return (x @ w >= self.threshold).astype(np.int64)
        excitation = x @ np.where(w > 0, w, 0)
        inhibited = (x[:, w < 0] == 1).any(axis=1)
        return ((excitation >= self.threshold) & ~inhibited).astype(np.int64)

    __call__ = predict

    def truth_table(self):
        """(x, y): all 2^n binary inputs in counting order and the neuron's outputs."""
        return truth_table(self.predict, self.n_inputs)

    def __repr__(self) -> str:
        return (f"McCullochPitts(weights={self.weights.tolist()}, threshold={self.threshold}, "
                f"inhibition={self.inhibition!r})")

    # Ready-made gates (lecture 001): AND fires at theta = n, OR at theta = 1, NOT is one
    # inhibitory input with theta = 0 (fires unless inhibited).
    @classmethod
    def and_gate(cls, n_inputs: int = 2) -> "McCullochPitts":
        n = check_positive_int(n_inputs, "n_inputs", "McCullochPitts.and_gate()")
        return cls([1] * n, threshold=n)

    @classmethod
    def or_gate(cls, n_inputs: int = 2) -> "McCullochPitts":
        n = check_positive_int(n_inputs, "n_inputs", "McCullochPitts.or_gate()")
        return cls([1] * n, threshold=1)

    @classmethod
    def not_gate(cls) -> "McCullochPitts":
        return cls([-1], threshold=0)


class McCullochPittsNetwork:
    """Layers of McCulloch-Pitts neurons; each layer reads the previous layer's outputs.

    Parameters
    ----------
    layers : sequence of sequences of McCullochPitts
        ``layers[0]`` reads the network input, the last layer gives the output.

    >>> McCullochPittsNetwork.xor().predict([[0, 0], [0, 1], [1, 0], [1, 1]])
    array([0, 1, 1, 0])
    """

    def __init__(self, layers):
        layers = [list(layer) for layer in layers]
        if not layers or any(not layer for layer in layers):
            raise ValueError("McCullochPittsNetwork(): layers must be a non-empty list of "
                             "non-empty lists of McCullochPitts neurons.")
        for k, layer in enumerate(layers):
            for neuron in layer:
                if not isinstance(neuron, McCullochPitts):
                    raise TypeError(f"McCullochPittsNetwork(): layer {k} holds "
                                    f"{type(neuron).__name__}; expected McCullochPitts neurons.")
            if k > 0 and any(n.n_inputs != len(layers[k - 1]) for n in layer):
                raise ValueError(f"McCullochPittsNetwork(): every neuron of layer {k} must have "
                                 f"{len(layers[k - 1])} inputs (one per neuron of layer {k - 1}).")
        self.layers = layers

    @property
    def n_inputs(self) -> int:
        return self.layers[0][0].n_inputs

    def predict(self, x) -> np.ndarray:
        """Network output: (n_samples,) for one output neuron, else (n_samples, n_out)."""
        z = _check_binary_inputs(x, self.n_inputs, "McCullochPittsNetwork.predict()")
        for layer in self.layers:
            z = np.stack([neuron.predict(z) for neuron in layer], axis=1)
        return z[:, 0] if z.shape[1] == 1 else z

    __call__ = predict

    def truth_table(self):
        return truth_table(self.predict, self.n_inputs)

    @classmethod
    def xor(cls) -> "McCullochPittsNetwork":
        """x1 XOR x2 = (x1 AND NOT x2) OR (NOT x1 AND x2), with absolute inhibition."""
        hidden = [McCullochPitts([1, -1], threshold=1), McCullochPitts([-1, 1], threshold=1)]
        return cls([hidden, [McCullochPitts.or_gate(2)]])


def truth_table(fn, n_inputs: int):
    """All 2^n binary input rows (counting order, x_1 most significant) and ``fn`` on them.

    Returns ``(x, y)`` with x (2^n, n) int64 and y = fn(x).
    """
    n = check_positive_int(n_inputs, "n_inputs", "truth_table()")
    x = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int64)
    return x, np.asarray(fn(x))


# ------------------------------------------------------------------------------------------
# Shared estimator machinery
# ------------------------------------------------------------------------------------------

class _Estimator:
    """get_params / set_params / repr from the ``__init__`` signature (scikit-learn style)."""

    _estimator_type = "classifier"

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{type(self).__name__}.set_params(): unknown parameter "
                                 f"{key!r}. Valid parameters: {', '.join(valid)}.")
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6 (clone, cross_val_score, GridSearchCV); only
        scikit-learn calls this, so importing it here adds no dependency."""
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        classifier = self._estimator_type == "classifier"
        return Tags(estimator_type=self._estimator_type,
                    target_tags=TargetTags(required=True, multi_output=not classifier),
                    classifier_tags=ClassifierTags() if classifier else None,
                    regressor_tags=None if classifier else RegressorTags())

    def __repr__(self) -> str:
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__)
                    .parameters.items()}
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if not (isinstance(v, (str, int, float, type(None)))
                                 and v == defaults.get(k) and type(v) is type(defaults.get(k))))
        return f"{type(self).__name__}({args})"

    # -- validation helpers -------------------------------------------------------------
    def _where(self, method: str) -> str:
        return f"{type(self).__name__}.{method}()"

    def _check_choice(self, name: str, options) -> str:
        value = getattr(self, name)
        if value not in options:
            raise ValueError(f"{type(self).__name__}: {name} must be one of "
                             f"{', '.join(repr(o) for o in options)}; received {value!r}.")
        return value

    def _check_fitted(self, method: str) -> None:
        if "W_" not in self.__dict__:
            what = f"{type(self).__name__}.{method}" if method.endswith("_") \
                else self._where(method)
            raise NotFittedError(f"{what} used before fit(). Call fit(x, y) first.")

    def _check_predict_x(self, x, method: str) -> np.ndarray:
        self._check_fitted(method)
        return check_x(x, self._where(method), (self.n_features_in_,), np.float64)

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def _initial_weights(self, shape, rng) -> np.ndarray:
        init = self._check_choice("init", ("zeros", "random"))
        if init == "zeros":
            return np.zeros(shape)
        return rng.uniform(-0.1, 0.1, size=shape)  # lecture: "small random real values"

    # -- learned weights in the user's shape ----------------------------------------------
    @property
    def coef_(self) -> np.ndarray:
        """Weights w_1..w_n: (n_features,) for one output unit, else (n_features, n_outputs)."""
        self._check_fitted("coef_")
        return self.W_[1:, 0].copy() if self._single_output_ else self.W_[1:].copy()

    @property
    def intercept_(self):
        """Bias w_0 (the weight on x_0 = 1): a float for one output unit, else (n_outputs,)."""
        self._check_fitted("intercept_")
        return float(self.W_[0, 0]) if self._single_output_ else self.W_[0].copy()

    def net_input(self, x) -> np.ndarray:
        """xi = x w + w_0 (n_samples, n_outputs), or (n_samples,) for one output unit."""
        x = self._check_predict_x(x, "net_input")
        xi = _with_bias(x) @ self.W_
        return xi[:, 0] if self._single_output_ else xi


def _with_bias(x: np.ndarray) -> np.ndarray:
    """Prepend the constant input x_0 = 1 whose weight w_0 is the bias."""
    return np.hstack([np.ones((len(x), 1)), x])


def _as_labels_or_array(y, where: str) -> np.ndarray:
    """y as an array; string class labels (e.g. "setosa") are allowed besides numbers."""
    arr = np.asarray(y) if not isinstance(y, np.ndarray) else y
    if arr.dtype.kind in "US" and arr.ndim in (1, 2) and (arr.ndim == 1 or arr.shape[1] == 1):
        return arr
    return as_array(y, "y", where)


def _check_xy(x, y, where: str, labels: bool = False):
    x = check_x(x, where, None, np.float64)
    y = _as_labels_or_array(y, where) if labels else as_array(y, "y", where)
    if y.dtype.kind in "US":
        check_same_length(x, y, where)
        return x, y
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"{where}: y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); "
                         f"received shape {y.shape}.")
    check_same_length(x, y, where)
    check_finite(y.astype(np.float64) if y.dtype.kind in "iub" else y, "y", where)
    return x, y


class _ClassifierMixin:
    """Targets for a layer of threshold-like units with outputs low/high (0/1 or -1/+1).

    ``y`` may be
    - 1-D labels (or a single column) with two classes: one unit, t = high for ``classes_[1]``;
    - 1-D labels with k > 2 classes: one unit per class (one-vs-rest), the winner by argmax;
    - a 2-D one-hot matrix (0/1) or the lectures' bipolar one-hot (-1/+1): one unit per column;
      ``predict`` answers in the same coding.
    """

    _estimator_type = "classifier"

    def _encode(self, y: np.ndarray, low: float, where: str, force_units: bool = False):
        """Targets T (n_samples, n_units) and the state ``predict`` needs to answer in y's form.

        The state is returned, not set, so that a fit that fails leaves the model as it was.
        """
        # A single column (as load_logic_gate gives) holds labels; predict answers in a column.
        column = y.ndim == 2 and y.shape[1] == 1
        if column:
            y = y[:, 0]
        if y.ndim == 1:
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError(f"{where}: y has a single class ({classes[0]}); a classifier "
                                 f"needs at least two.")
            index = np.searchsorted(classes, y)
            if len(classes) == 2 and not force_units:
                T = np.where(index == 1, 1.0, low).reshape(-1, 1)
            else:
                T = np.full((len(y), len(classes)), low)
                T[np.arange(len(y)), index] = 1.0
            return T, {"classes_": classes, "_target_kind_": "labels", "_y_column_": column}
        values = np.unique(y)
        if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {-1, 1}):
            raise ValueError(f"{where}: a 2-D y must be one-hot coded with 0/1 or -1/+1 "
                             f"(bipolar one-hot); received values {values[:6].tolist()}. For "
                             f"integer class labels pass a 1-D y.")
        y_low = -1.0 if values.min() < 0 else 0.0
        if np.any((y > y_low).sum(axis=1) != 1):
            raise ValueError(f"{where}: each row of a 2-D y must mark exactly one class (one-hot);"
                             f" for independent outputs fit one model per column.")
        return np.where(y > y_low, 1.0, low), {"classes_": np.arange(y.shape[1]),
                                               "_target_kind_": "onehot", "_y_low_": y_low,
                                               "_y_column_": False}

    def _decode(self, xi: np.ndarray, threshold: float, inclusive: bool = False) -> np.ndarray:
        """Labels from the net inputs / outputs (n_samples, n_units).

        One unit: the high class where xi > threshold (xi >= threshold if ``inclusive``, as
        sgn(0) = +1); several: the unit with the largest value wins.
        """
        if xi.shape[1] == 1:
            high = xi[:, 0] >= threshold if inclusive else xi[:, 0] > threshold
            labels = self.classes_[high.astype(np.intp)]
        elif self._target_kind_ == "labels":
            labels = self.classes_[np.argmax(xi, axis=1)]
        else:
            out = np.full(xi.shape, self._y_low_)
            out[np.arange(len(xi)), np.argmax(xi, axis=1)] = 1.0
            return out
        return labels.reshape(-1, 1) if self._y_column_ else labels

    def score(self, x, y) -> float:
        """Accuracy: the fraction of samples whose predicted class (or one-hot row) is right."""
        where = self._where("score")
        y = _as_labels_or_array(y, where)
        pred = self.predict(x)
        check_same_length(pred, y, where, "x", "y")
        if pred.ndim == 2 and pred.shape[1] > 1:
            return float(np.mean(np.all(pred == y, axis=1)))
        return float(np.mean(pred.ravel() == y.ravel()))


def _r2_score(y, pred) -> float:
    """R^2 = 1 - SS_res / SS_tot, averaged over the outputs (scikit-learn's default)."""
    y = y.reshape(len(y), -1)
    pred = pred.reshape(len(pred), -1)
    ss_res = ((y - pred) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
                      np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))


# ------------------------------------------------------------------------------------------
# Rosenblatt's perceptron (1958)
# ------------------------------------------------------------------------------------------

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
    seed : int or None, default=None
        Seeds the shuffling and the "random" initialization.
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
    >>> p = Perceptron().fit(x, y)
    >>> p.predict(x).ravel(), p.converged_, p.n_epochs_
    (array([0., 0., 0., 1.], dtype=float32), True, 6)
    """

    def __init__(self, learning_rate: float = 1.0, max_epochs: int = 100, coding: str = "binary",
                 shuffle: bool = False, seed=None, init: str = "zeros", record="updates"):
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.coding = coding
        self.shuffle = shuffle
        self.seed = seed
        self.init = init
        self.record = record

    def fit(self, x, y) -> "Perceptron":
        where = self._where("fit")
        alpha = check_positive_float(self.learning_rate, "learning_rate", where)
        max_epochs = check_positive_int(self.max_epochs, "max_epochs", where)
        coding = self._check_choice("coding", ("binary", "bipolar"))
        record = self._check_choice("record", ("updates", "epochs", None))
        x, y = _check_xy(x, y, where, labels=True)
        low = 0.0 if coding == "binary" else -1.0
        T, state = self._encode(y, low, where)
        f = activations.get("step" if coding == "binary" else "sign")
        X = _with_bias(x)
        rng = self._rng()
        W = self._initial_weights((X.shape[1], T.shape[1]), rng)
        history, updates, errors = [W.copy()], [], []
        converged = False
        for epoch in range(max_epochs):
            order = rng.permutation(len(X)) if self.shuffle else range(len(X))
            n_wrong = 0
            for p in order:
                x_p, t_p = X[p], T[p]
                y_p = f(x_p @ W)
                if np.any(y_p != t_p):
                    W += alpha * np.outer(x_p, t_p - y_p)
                    n_wrong += 1
                    updates.append((epoch, p))
                    if record == "updates":
                        history.append(W.copy())
            errors.append(n_wrong)
            if record == "epochs":
                history.append(W.copy())
            if n_wrong == 0:
                converged = True
                break
        self.__dict__.update(state)
        self.W_ = W
        self._single_output_ = T.shape[1] == 1
        self.n_features_in_ = x.shape[1]
        self.errors_ = self.history_ = np.array(errors)
        self.n_epochs_ = len(errors)
        self.converged_ = converged
        if record is not None:
            self.weights_history_ = np.array(history)
        else:
            self.__dict__.pop("weights_history_", None)
        self.updates_ = np.array(updates, dtype=np.int64).reshape(-1, 2)
        self.n_updates_ = len(updates)
        if not converged:
            warnings.warn(
                f"Perceptron did not converge in max_epochs={max_epochs}: {errors[-1]} samples "
                f"were still misclassified in the last epoch. The data may not be linearly "
                f"separable (like XOR); otherwise raise max_epochs.",
                ConvergenceWarning, stacklevel=2)
        return self

    def predict(self, x) -> np.ndarray:
        """Class labels: the unit's threshold output, or the unit with the largest net input."""
        xi = _with_bias(self._check_predict_x(x, "predict")) @ self.W_
        return self._decode(xi, 0.0, inclusive=self.coding == "bipolar")

    def decision_function(self, x) -> np.ndarray:
        """The net input xi = x w + w_0 (its sign decides the class)."""
        return self.net_input(x)


# ------------------------------------------------------------------------------------------
# Gradient descent on one layer: Adaline (LMS / delta rule) and its relatives
# ------------------------------------------------------------------------------------------

def _cost(loss: str, f, Xi: np.ndarray, Y: np.ndarray, D: np.ndarray) -> float:
    """The lectures' training error E over all samples (a sum, not a mean)."""
    if loss == "sse":
        return 0.5 * float(((D - Y) ** 2).sum())
    slope = getattr(f, "slope", 1.0)
    if f.name == "softmax":  # -sum d log softmax(xi), from the logits
        m = Xi.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(Xi - m).sum(axis=1))
        return float((lse * D.sum(axis=1) - (D * Xi).sum(axis=1)).sum())
    if f.name == "sigmoid":  # -sum [d log y + (1 - d) log(1 - y)] with y = sigmoid(z)
        z, d = slope * Xi, D
    else:  # tanh: the same on p = (1 + y) / 2 = sigmoid(2 lambda xi), d' = (1 + d) / 2
        z, d = 2.0 * slope * Xi, (1.0 + D) / 2.0
    return float((np.logaddexp(0.0, z) - d * z).sum())


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
                raise ValueError(f"{where}: {name} must be {kind}; received {value!r}.")
        if self._normalized and p["batch_size"] != 1:
            raise ValueError(f"{where}: normalized=True is the online rule "
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
        fused = loss == "cross_entropy"  # delta = lambda (D - Y): f'(Xi) cancels in dE/dXi
        slope = getattr(f, "slope", 1.0)
        linear = f.name == "linear"
        sq_norm = (X * X).sum(axis=1, keepdims=True)  # |x|^2 >= 1 thanks to x_0 = 1

        def error(W):
            Xi = X @ W
            return _cost(loss, f, Xi, f(Xi), D)

        E = error(W)
        history, weights = [], [W.copy()]
        converged = False
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(p["max_epochs"]):
                alpha = p["alpha"] / (1.0 + p["decay"] * epoch)
                order = rng.permutation(N) if self.shuffle else np.arange(N)
                for start in range(0, N, bs):
                    idx = order[start:start + bs]
                    x_b, d_b = X[idx], D[idx]
                    xi = x_b @ W
                    y = xi if linear else f(xi)
                    if fused:
                        delta = slope * (d_b - y)
                    elif linear:
                        delta = d_b - y
                    else:
                        delta = f.derivative(xi, y) * (d_b - y)
                    if self._normalized:
                        delta = delta / sq_norm[idx]
                    W += alpha * (x_b.T @ delta)
                E_prev, E = E, error(W)
                if not (np.isfinite(E) and np.isfinite(W).all()):
                    batch = (f" (the rule sums over the {bs} samples of a batch, so alpha must "
                             f"shrink as the batch grows)") if bs > 1 else ""
                    raise ValueError(
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
            warnings.warn(
                f"{type(self).__name__} did not converge in max_epochs={p['max_epochs']}: the "
                f"error E fell by {(E_prev - E) / N:.3g} per sample in the last epoch "
                f"(tol={p['tol']:g}). Raise max_epochs, tune learning_rate, or set decay.",
                ConvergenceWarning, stacklevel=3)


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
    seed : int or None, default=None
        Seeds the shuffling and the "random" initialization.
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


class Adaline(_ClassifierMixin, _DeltaRule):
    __doc__ = """Adaline (Widrow and Hoff, 1960): a linear unit trained by the LMS / delta rule,
    classifying by the sign of its linear output.

        y = x w,   w <- w + alpha * x * (t - y)                (t = -1 or +1)
        normalized:  w <- w + beta * (t - y) * x / |x|^2     (0 < beta < 2)

    with x_0 = 1. It minimizes E = 1/2 sum (t - y)^2, so its weights approach the least-squares
    fit of the bipolar targets (see :class:`AdalineRegressor` for real-valued targets). The
    class is the sign of y; several classes get one unit per class on bipolar one-hot targets
    (as in lecture 003) and the largest y wins.

    Parameters
    ----------""" + _GD_DOC.format(lr=0.01, epochs=100, bs=1, tol=1e-6, shuffle=False) + """    normalized : bool, default=False
        Use the normalized rule (online only).
""" + _GD_ATTRS

    def __init__(self, learning_rate: float = 0.01, max_epochs: int = 100, batch_size=1,
                 normalized: bool = False, tol=1e-6, decay: float = 0.0, shuffle: bool = False,
                 seed=None, init: str = "zeros"):
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.normalized = normalized
        self.tol = tol
        self.decay = decay
        self.shuffle = shuffle
        self.seed = seed
        self.init = init

    @property
    def _normalized(self) -> bool:
        return bool(self.normalized)

    def fit(self, x, y) -> "Adaline":
        where = self._where("fit")
        self._check_hyperparameters(where)
        x, y = _check_xy(x, y, where, labels=True)
        D, state = self._encode(y, -1.0, where)
        self._train(x, D, activations.get("linear"), "sse", where)
        self.__dict__.update(state)
        self._single_output_ = D.shape[1] == 1
        return self

    def decision_function(self, x) -> np.ndarray:
        """The linear output y = x w + w_0."""
        return self.net_input(x)

    def predict(self, x) -> np.ndarray:
        """Class labels: the sign of the linear output, or the unit with the largest output."""
        xi = _with_bias(self._check_predict_x(x, "predict")) @ self.W_
        return self._decode(xi, 0.0, inclusive=True)


class _RegressorMixin:
    _estimator_type = "regressor"

    def _targets(self, y: np.ndarray) -> np.ndarray:
        y = y.astype(np.float64)
        self._single_output_ = y.ndim == 1
        return y.reshape(len(y), -1)

    def predict(self, x) -> np.ndarray:
        """The linear output Y = X W + w_0: (n_samples,) or (n_samples, n_outputs)."""
        return self.net_input(x)

    def score(self, x, y) -> float:
        """R^2 = 1 - sum (d - y)^2 / sum (d - mean d)^2, averaged over outputs."""
        where = self._where("score")
        y = as_array(y, "y", where, dtype=np.float64)
        pred = self.predict(x)
        check_same_length(pred, y, where, "x", "y")
        return _r2_score(y, pred)


class AdalineRegressor(_RegressorMixin, _DeltaRule):
    __doc__ = """Adaline as a regressor: the LMS / delta rule on real-valued targets.

        y = x w,   w <- w + alpha * x * (t - y)
        normalized:  w <- w + beta * (t - y) * x / |x|^2     (0 < beta < 2)

    This is stochastic gradient descent for linear regression; with a small or decaying
    alpha (or batch_size=None) the weights approach the least-squares solution. The
    normalized rule with a small beta settles on the least-squares fit of the rows scaled by
    1 / |x| (each sample weighted by 1 / |x|^2), the same as least squares when the data fit
    exactly. Several target columns train one unit each.

    Parameters
    ----------""" + _GD_DOC.format(lr=0.01, epochs=100, bs=1, tol=1e-6, shuffle=False) + """    normalized : bool, default=False
        Use the normalized rule (online only).
""" + _GD_ATTRS

    def __init__(self, learning_rate: float = 0.01, max_epochs: int = 100, batch_size=1,
                 normalized: bool = False, tol=1e-6, decay: float = 0.0, shuffle: bool = False,
                 seed=None, init: str = "zeros"):
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.normalized = normalized
        self.tol = tol
        self.decay = decay
        self.shuffle = shuffle
        self.seed = seed
        self.init = init

    @property
    def _normalized(self) -> bool:
        return bool(self.normalized)

    def fit(self, x, y) -> "AdalineRegressor":
        where = self._where("fit")
        self._check_hyperparameters(where)
        x, y = _check_xy(x, y, where)
        self._train(x, self._targets(y), activations.get("linear"), "sse", where)
        return self


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

    def __init__(self, solver: str = "lstsq", learning_rate: float = 0.001,
                 max_epochs: int = 1000, batch_size=None, tol=1e-10, decay: float = 0.0,
                 shuffle: bool = False, seed=None, init: str = "zeros"):
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.tol = tol
        self.decay = decay
        self.shuffle = shuffle
        self.seed = seed
        self.init = init

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

    def __init__(self, activation="sigmoid", loss: str = "cross_entropy",
                 learning_rate: float = 0.1, max_epochs: int = 200, batch_size=None, tol=1e-4,
                 decay: float = 0.0, shuffle: bool = False, seed=None, init: str = "zeros"):
        self.activation = activation
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.tol = tol
        self.decay = decay
        self.shuffle = shuffle
        self.seed = seed
        self.init = init

    def _f(self):
        f = activations.get(self.activation)
        if f.name not in ("sigmoid", "tanh", "softmax"):
            raise ValueError(f"{type(self).__name__}: activation must be 'sigmoid', 'tanh' or "
                             f"'softmax'; received {self.activation!r}. For linear units use "
                             f"Adaline or LinearNetwork.")
        return f

    def fit(self, x, y) -> "SingleLayerNetwork":
        where = self._where("fit")
        f = self._f()
        loss = self._check_choice("loss", ("cross_entropy", "sse"))
        if f.name == "softmax" and loss == "sse":
            raise ValueError(f"{type(self).__name__}: softmax is trained with "
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

    def predict_proba(self, x) -> np.ndarray:
        """The unit outputs Y = f(X W): (n_samples, n_units)."""
        xi = _with_bias(self._check_predict_x(x, "predict_proba")) @ self.W_
        return self._f()(xi)

    def predict(self, x) -> np.ndarray:
        """Class labels (or one-hot rows in y's coding): argmax of the outputs."""
        Y = self.predict_proba(x)
        return self._decode(Y, 0.0 if self._f().name == "tanh" else 0.5)


# ------------------------------------------------------------------------------------------
# Madaline (Widrow and Hoff, 1962): Adalines feeding a fixed logic unit, trained by MRI
# ------------------------------------------------------------------------------------------

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
    guarantee, so a different ``seed`` may help.

    Parameters
    ----------
    n_adalines : int, default=2
    logic : {"or", "and", "majority"}, default="or"
    learning_rate : float, default=1.0
        alpha of the normalized rule, 0 < alpha <= 1 flips to at most d_j.
    max_epochs : int, default=100
    shuffle : bool, default=True
    seed : int or None, default=None
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

    def __init__(self, n_adalines: int = 2, logic: str = "or", learning_rate: float = 1.0,
                 max_epochs: int = 100, shuffle: bool = True, seed=None, init: str = "random"):
        self.n_adalines = n_adalines
        self.logic = logic
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.shuffle = shuffle
        self.seed = seed
        self.init = init

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
        alpha = check_positive_float(self.learning_rate, "learning_rate", where)
        max_epochs = check_positive_int(self.max_epochs, "max_epochs", where)
        x, y = _check_xy(x, y, where, labels=True)
        T, state = self._encode(y, -1.0, where)
        if T.shape[1] != 1:
            raise ValueError(f"{where}: Madaline has one logic output unit, so y must have two "
                             f"classes; received {T.shape[1]}. Use Adaline or "
                             f"SingleLayerNetwork for several classes.")
        X = _with_bias(x)
        rng = self._rng()
        W = self._initial_weights((X.shape[1], n), rng)
        m = self._needed()
        errors, weights = [], [W.copy()]
        converged = False
        for epoch in range(max_epochs):
            order = rng.permutation(len(X)) if self.shuffle else range(len(X))
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
            errors.append(n_wrong)
            weights.append(W.copy())
            if n_wrong == 0:
                converged = True
                break
        self.__dict__.update(state)
        self.W_, self._single_output_, self._needed_ = W, False, m
        self.n_features_in_ = x.shape[1]
        self.errors_ = self.history_ = np.array(errors)
        self.weights_history_ = np.array(weights)
        self.n_epochs_, self.converged_ = len(errors), converged
        if not converged:
            warnings.warn(
                f"Madaline did not converge in max_epochs={max_epochs}: {errors[-1]} samples "
                f"were misclassified in the last epoch. MRI has no convergence guarantee; try "
                f"another seed, more Adalines or a larger max_epochs.",
                ConvergenceWarning, stacklevel=2)
        return self

    def transform(self, x) -> np.ndarray:
        """The Adalines' sign outputs s (n_samples, n_adalines), the logic unit's inputs."""
        xi = _with_bias(self._check_predict_x(x, "transform")) @ self.W_
        return np.where(xi >= 0, 1.0, -1.0)

    def predict(self, x) -> np.ndarray:
        out = self._logic_unit(self.transform(x))
        return self.classes_[(out > 0).astype(np.intp)]
