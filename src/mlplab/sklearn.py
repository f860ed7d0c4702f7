"""scikit-learn estimators around ``Sequential``: ``MLPClassifier`` and ``MLPRegressor``.

They take scikit-learn's own MLP parameters, names and defaults
(``sklearn.neural_network.MLPClassifier``), so they drop into ``Pipeline``, ``GridSearchCV``,
``cross_val_score`` and ``clone``; the network is an ``mlplab.Sequential`` of Dense layers,
trained by mlplab's backpropagation and kept as ``model_``::

    hidden layers   Y_l = f(Y_{l-1} W_l + b_l),  f = activation
    output          softmax (several classes), logistic (two), identity (regression)
    loss            cross-entropy or squared error, plus alpha / (2 n_batch) sum ||W||^2

An epoch is one pass over the training data in mini-batches of ``batch_size``; training stops
after ``max_iter`` epochs (a ConvergenceWarning) or once the loss (with ``early_stopping``: the
validation score) has not improved by ``tol`` for ``n_iter_no_change`` epochs. Differences
from scikit-learn are listed in docs/interop.md. Requires scikit-learn
(``pip install mlplab[sklearn]``); it is imported by this module only.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

from .exceptions import ArgumentError
from . import optimizers, regularizers
from .exceptions import ConvergenceWarning, NotFittedError, sklearn_compatible
from .layers import Dense, Input
from .models import Sequential

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

__all__ = ["MLPClassifier", "MLPRegressor"]

#: scikit-learn's activation names -> mlplab's (any other mlplab activation name also works).
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: the network, its training loop, the
    stopping rules. Subclasses give the output layer and loss (``_output``) and the targets
    (``_targets``)."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 blas_threads=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.blas_threads = blas_threads

    # -- checks --------------------------------------------------------------------------
    def _fail(self, name: str, expected: str):
        raise ArgumentError(f"The '{name}' parameter of {type(self).__name__} must be {expected}. "
                            f"Got {getattr(self, name)!r} instead.")

    def _check_params(self) -> tuple:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)
        if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
               for s in sizes):
            self._fail("hidden_layer_sizes", "an int or a sequence of positive ints")
        from . import activations

        act = ACTIVATIONS.get(self.activation, self.activation)
        try:
            activations.get(act)
        except (ValueError, TypeError):
            self._fail("activation", f"one of {sorted(ACTIVATIONS)} or an mlplab activation")
        if self.solver not in ("sgd", "adam"):
            self._fail("solver", "a str among {'adam', 'sgd'} ('lbfgs' is not supported)")
        if self.learning_rate != "constant":
            self._fail("learning_rate", "'constant' (the schedules 'invscaling' and "
                                        "'adaptive' are not supported)")
        for name in ("learning_rate_init", "epsilon"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
                self._fail(name, "a float in the range (0.0, inf)")
        for name in ("alpha", "tol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                self._fail(name, "a float in the range [0.0, inf)")
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                self._fail(name, "an int in the range [1, inf)")
        bs = self.batch_size
        if bs != "auto" and (isinstance(bs, bool) or not isinstance(bs, numbers.Integral)
                             or bs < 1):
            self._fail("batch_size", "'auto' or an int in the range [1, inf)")
        threads = self.blas_threads
        if threads is not None and (isinstance(threads, bool) or
                                    not isinstance(threads, numbers.Integral) or threads < 1):
            self._fail("blas_threads", "None or an int in the range [1, inf)")
        if not 0 < self.validation_fraction < 1:
            self._fail("validation_fraction", "a float in the range (0.0, 1.0)")
        return sizes, act

    # -- the network ---------------------------------------------------------------------
    def _build(self, n_features: int, n_outputs: int, dtype, batch: int) -> Sequential:
        sizes, act = self._check_params()
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        out_activation, loss = self._output()
        # scikit-learn's penalty alpha / (2 n_batch) ||W||^2 on the batch's mean loss, as
        # mlplab's L2(l2) ||W||^2 with l2 = alpha / (2 batch_size).
        reg = regularizers.L2(self.alpha / (2.0 * batch)) if self.alpha else None
        layers = [Input((n_features,))]
        layers += [Dense(units, activation=act, kernel_regularizer=reg) for units in sizes]
        layers.append(Dense(n_outputs, activation=out_activation, kernel_regularizer=reg))
        model = Sequential(layers, seed=seed, dtype=dtype)
        if self.solver == "adam":
            opt = optimizers.Adam(learning_rate=self.learning_rate_init, beta_1=self.beta_1,
                                  beta_2=self.beta_2, epsilon=self.epsilon)
        else:
            opt = optimizers.SGD(learning_rate=self.learning_rate_init, momentum=self.momentum,
                                 nesterov=bool(self.nesterovs_momentum) and self.momentum > 0)
        model.compile(optimizer=opt, loss=loss, check_config=False)
        return model

    def _batch(self, n: int) -> int:
        return min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    def _fit(self, X, y, incremental: bool):
        first = not (incremental or self.warm_start) or not hasattr(self, "model_")
        regressor = self._kind == "regressor"
        X, y = validate_data(self, X, y, reset=first, dtype=(np.float64, np.float32),
                             multi_output=regressor, y_numeric=regressor)
        T = self._targets(y, first)
        self._check_params()
        dtype = X.dtype
        if first:
            self.model_ = self._build(X.shape[1], T.shape[1], dtype, self._batch(len(X)))
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
            self.best_loss_, self._no_improvement_count = np.inf, 0
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
            if self.early_stopping:
                self.best_loss_ = None
        model = self.model_
        X, T = X.astype(model.dtype, copy=False), T.astype(model.dtype, copy=False)
        val = None
        if self.early_stopping and not incremental:
            stratify = y if self._kind == "classifier" else None
            X, X_val, T, T_val, _, y_val = train_test_split(
                X, T, y, random_state=check_random_state(self.random_state),
                test_size=self.validation_fraction, stratify=stratify)
            val = (X_val, y_val)
        epochs = 1 if incremental else self.max_iter
        bs = self._batch(len(X))
        best = None
        for _ in range(epochs):
            history = model.fit(X, T, epochs=1, batch_size=bs, shuffle=bool(self.shuffle),
                                verbose=0)
            loss = history.history["loss"][-1]
            self.n_iter_ += 1
            self.t_ += len(X)
            self.loss_ = loss
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            if not np.isfinite(loss):
                break
            if incremental:
                continue
            if val is not None:
                score = self._score_arrays(*val)
                self.validation_scores_.append(score)
                improved = score >= self.best_validation_score_ + self.tol
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best = model.get_weights()
            else:
                improved = loss <= self.best_loss_ - self.tol
                self.best_loss_ = min(self.best_loss_, loss)
            self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
            if self._no_improvement_count > self.n_iter_no_change:
                break
        else:
            if not incremental:
                warnings.warn(sklearn_compatible(ConvergenceWarning)(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                    f"the optimization hasn't converged yet."), stacklevel=4)
        if best is not None:
            model.set_weights(best)
        dense = [layer for layer in model.layers if isinstance(layer, Dense)]
        self.coefs_ = [layer.W for layer in dense]
        self.intercepts_ = [layer.b for layer in dense]
        self.n_layers_ = len(dense) + 1
        self.n_outputs_ = T.shape[1]
        self.out_activation_ = {"sigmoid": "logistic", "linear": "identity",
                                "exponential": "exp"}.get(dense[-1].activation.name,
                                                           dense[-1].activation.name)
        return self

    def _run(self, X, y, incremental: bool):
        self._check_params()
        if self.blas_threads is None:
            return self._fit(X, y, incremental)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=int(self.blas_threads)):
            return self._fit(X, y, incremental)

    def fit(self, X, y):
        """Train on (X, y) for up to ``max_iter`` epochs (from the current weights with
        ``warm_start=True``); returns self."""
        return self._run(X, y, incremental=False)

    def _forward(self, X) -> np.ndarray:
        if "model_" not in self.__dict__:
            raise sklearn_compatible(NotFittedError)(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                f"appropriate arguments before using this estimator.")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self.model_.predict(X.astype(self.model_.dtype, copy=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (scikit-learn's MLPClassifier) trained by mlplab.

    Two classes: one logistic output unit and binary cross-entropy; k classes: k softmax
    units and categorical cross-entropy. Parameters as scikit-learn's, plus ``blas_threads``
    (None: leave BLAS as it is; 1 for parallel sweeps, so that fits on several processes do
    not fight for the cores).

    Attributes
    ----------
    classes_, n_features_in_, loss_, loss_curve_, best_loss_, validation_scores_,
    best_validation_score_, n_iter_, t_, coefs_, intercepts_, n_layers_, n_outputs_,
    out_activation_, model_ (the trained ``mlplab.Sequential``)

    >>> from mlplab.sklearn import MLPClassifier
    >>> x = [[0, 0], [0, 1], [1, 0], [1, 1]] * 10
    >>> clf = MLPClassifier((8,), max_iter=300, random_state=0, learning_rate_init=0.05)
    >>> clf.fit(x, [0, 1, 1, 1] * 10).predict([[0, 0], [1, 1]])
    array([0, 1])
    """

    _kind = "classifier"

    def _output(self):
        binary = len(self.classes_) == 2
        return ("sigmoid", "binary_crossentropy") if binary else \
            ("softmax", "categorical_crossentropy")

    def _targets(self, y, first: bool) -> np.ndarray:
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ArgumentError(f"{type(self).__name__}.fit(): Unknown label type: {kind!r}. y "
                                f"must hold class labels (n_samples,); multilabel and "
                                f"multi-output targets are not supported.")
        if first:
            binarizer = LabelBinarizer().fit(y)
            if len(binarizer.classes_) < 2:
                raise ArgumentError(f"{type(self).__name__}.fit(): y has one class "
                                    f"({binarizer.classes_[0]!r}); a classifier needs at least "
                                    f"two.")
            self._label_binarizer, self.classes_ = binarizer, binarizer.classes_
        elif not np.isin(y, self.classes_).all():
            raise ArgumentError(f"{type(self).__name__}: y holds labels not seen before "
                                f"{sorted(set(np.unique(y)) - set(self.classes_))}; the classes "
                                f"are {list(self.classes_)}.")
        return self._label_binarizer.transform(y).astype(np.float64)

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y). The first call needs ``classes``, all the labels y may
        hold (as scikit-learn's)."""
        if "model_" not in self.__dict__:
            if classes is None:
                raise ArgumentError(f"{type(self).__name__}.partial_fit(): classes must be "
                                    f"passed on the first call, e.g. classes=np.unique(y).")
            self._label_binarizer = LabelBinarizer().fit(np.asarray(classes))
            self.classes_ = self._label_binarizer.classes_
            return self._partial_first(X, y)
        if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ArgumentError(f"{type(self).__name__}.partial_fit(): classes={classes!r} "
                                f"differs from the first call's {list(self.classes_)}.")
        return self._run(X, y, incremental=True)

    def _partial_first(self, X, y):
        classes = self.classes_
        X, y_checked = validate_data(self, X, y, reset=True, dtype=(np.float64, np.float32))
        if not np.isin(np.ravel(y_checked), classes).all():
            raise ArgumentError(f"{type(self).__name__}.partial_fit(): y holds labels outside "
                                f"classes={list(classes)}.")
        T = self._label_binarizer.transform(np.ravel(y_checked))
        self._check_params()
        self.model_ = self._build(X.shape[1], T.shape[1], X.dtype, self._batch(len(X)))
        self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
        self.best_loss_, self._no_improvement_count = np.inf, 0
        self.validation_scores_ = self.best_validation_score_ = None
        return self._run(X, y_checked, incremental=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes)."""
        Y = self._forward(X).astype(np.float64)
        return np.hstack([1.0 - Y, Y]) if Y.shape[1] == 1 else Y

    def predict_log_proba(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _score_arrays(self, X, y) -> float:
        return float(np.mean(self.classes_[np.argmax(self._proba_arrays(X), axis=1)] == y))

    def _proba_arrays(self, X):
        Y = self.model_.predict(X).astype(np.float64)
        return np.hstack([1.0 - Y, Y]) if Y.shape[1] == 1 else Y


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor (scikit-learn's MLPRegressor) trained by mlplab.

    Identity output units and the squared error (``loss="squared_error"``), or exponential
    units and the Poisson deviance (``loss="poisson"``); y may have several columns. The
    other parameters and attributes are the classifier's (see :class:`MLPClassifier`).
    """

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 blas_threads=None):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, blas_threads=blas_threads)
        self.loss = loss

    _kind = "regressor"

    def _output(self):
        if self.loss not in ("squared_error", "poisson"):
            self._fail("loss", "a str among {'poisson', 'squared_error'}")
        return ("linear", "mse") if self.loss == "squared_error" else ("exponential", "poisson")

    def _targets(self, y, first: bool) -> np.ndarray:
        if first:
            self._y_1d = y.ndim == 1
        return np.asarray(y, dtype=np.float64).reshape(len(y), -1)

    def partial_fit(self, X, y):
        """One epoch over (X, y), from the current weights."""
        return self._run(X, y, incremental=True)

    def predict(self, X) -> np.ndarray:
        Y = self._forward(X)
        return Y[:, 0] if self._y_1d else Y

    def _score_arrays(self, X, y) -> float:
        from sklearn.metrics import r2_score

        Y = self.model_.predict(X)
        return float(r2_score(y, Y[:, 0] if self._y_1d else Y))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
