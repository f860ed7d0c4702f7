"""Shared machinery of the classic neurons: the scikit-learn-style estimator base, target
coding for classifiers and regressors, input validation, and the warning and error classes.

Notation of the lectures: an input row ``x`` gets a constant first component x_0 = 1, so the
bias is the weight w_0 on it (``W[0]``); the net input (potential) is xi = x W.
"""
from __future__ import annotations

import functools
import inspect
import numbers
import warnings

import numpy as np

from ..exceptions import ArgumentError
from .._validation import as_array, check_feature_matrix, check_finite, check_same_length
from ..exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError, \
    sklearn_compatible

__all__ = ["ConvergenceWarning", "NotFittedError"]


_UNSET = object()
_accelerator = None


def set_accelerator(accelerator) -> None:
    """Install what the training loops ask for compiled epochs (``mlplab.fast.classic``, by
    ``mlplab/__init__.py``); None leaves the Python rules alone."""
    global _accelerator
    _accelerator = accelerator


def _epoch_rule(rule: str, python_epoch, **config):
    """The epoch function a fit trains with: the accelerator's compiled loop for ``rule`` in
    this configuration (same arguments, same weights bit for bit), else ``python_epoch``, the
    readable reference."""
    compiled = None if _accelerator is None else _accelerator.epoch(rule, **config)
    return compiled or python_epoch


def _seed_renamed(init):
    """``__init__`` decorator: ``seed``, the old name of ``random_state``, is still accepted
    with a FutureWarning. The signature (what get_params, clone and scikit-learn read, through
    ``__wrapped__``) shows ``random_state`` only."""
    @functools.wraps(init)
    def __init__(self, *args, seed=_UNSET, **kwargs):
        if seed is not _UNSET:
            if kwargs.get("random_state") is not None:
                raise ArgumentError(f"{type(self).__name__}(): seed is the old name of "
                                    f"random_state; pass random_state only.")
            warnings.warn(f"{type(self).__name__}(seed=...) is deprecated; use "
                          f"random_state={seed!r} (scikit-learn's name).", FutureWarning,
                          stacklevel=2)
            kwargs["random_state"] = seed
        init(self, *args, **kwargs)
    return __init__


class _Estimator:
    """get_params / set_params / repr from the ``__init__`` signature (scikit-learn style)."""

    _estimator_type = "classifier"
    #: False where one output unit serves two classes only (Madaline).
    _multi_class = True

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def _store(self, arguments: dict) -> None:
        """``__init__``: ``self._store(locals())`` keeps every argument as given, under its own
        name (``fit`` validates them, as scikit-learn's estimators do)."""
        for name, value in arguments.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ArgumentError(f"{type(self).__name__}.set_params(): unknown parameter "
                                    f"{key!r}. Valid parameters: {', '.join(valid)}.")
            setattr(self, key, value)
        return self

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6 (clone, cross_val_score, GridSearchCV); only
        scikit-learn calls this, so importing it here adds no dependency."""
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags, \
            TransformerTags

        classifier = self._estimator_type == "classifier"
        return Tags(estimator_type=self._estimator_type,
                    target_tags=TargetTags(required=True, multi_output=not classifier),
                    transformer_tags=TransformerTags() if hasattr(self, "transform") else None,
                    classifier_tags=ClassifierTags(multi_class=self._multi_class)
                    if classifier else None,
                    regressor_tags=None if classifier else RegressorTags())

    def __sklearn_is_fitted__(self) -> bool:
        return "W_" in self.__dict__

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
            raise ArgumentError(f"{type(self).__name__}: {name} must be one of "
                                f"{', '.join(repr(o) for o in options)}; received {value!r}.")
        return value

    def _check_fitted(self, method: str) -> None:
        if "W_" not in self.__dict__:
            what = f"{type(self).__name__}.{method}" if method.endswith("_") \
                else self._where(method)
            raise sklearn_compatible(NotFittedError)(
                f"{what} used before fit(). Call fit(x, y) first.")

    def _check_predict_x(self, x, method: str) -> np.ndarray:
        self._check_fitted(method)
        return check_feature_matrix(x, self._where(method), self.n_features_in_,
                                    type(self).__name__)

    def _rng(self) -> np.random.Generator:
        """A Generator from ``random_state``: None (fresh entropy), a non-negative integer, a
        numpy Generator, or a legacy RandomState (as scikit-learn's tools pass), which
        seeds a Generator with one draw."""
        state = self.random_state
        if isinstance(state, np.random.RandomState):
            return np.random.default_rng(state.randint(2 ** 31))
        if isinstance(state, bool) or not (state is None or isinstance(state, numbers.Integral)
                                           and state >= 0
                                           or isinstance(state, np.random.Generator)):
            raise ArgumentError(f"{type(self).__name__}: random_state must be None, a "
                                f"non-negative integer, a numpy Generator or RandomState; "
                                f"received {state!r}.")
        return np.random.default_rng(state)

    def _check_bool(self, name: str) -> bool:
        value = getattr(self, name)
        if not isinstance(value, (bool, np.bool_)):
            raise ArgumentError(f"{type(self).__name__}: {name} must be True or False; received "
                                f"{value!r}.")
        return bool(value)

    def _initial_weights(self, shape, rng) -> np.ndarray:
        init = self._check_choice("init", ("zeros", "random"))
        if init == "zeros":
            return np.zeros(shape)
        return rng.uniform(-0.1, 0.1, size=shape)  # lecture: "small random real values"

    # -- the end of fit ---------------------------------------------------------------------
    def _store_error_counts(self, state: dict, W: np.ndarray, x: np.ndarray, errors: list,
                            converged: bool) -> None:
        """The learned state of a rule that counts misclassified samples per epoch (the
        perceptron rule, MRI); it has converged after an epoch with none."""
        self.__dict__.update(state)
        self.W_ = W
        self.n_features_in_ = x.shape[1]
        self.errors_ = self.history_ = np.array(errors)
        self.n_epochs_, self.converged_ = len(errors), converged

    def _warn_not_converged(self, max_epochs: int, detail: str, stacklevel: int = 3) -> None:
        """A ConvergenceWarning pointing at the user's ``fit`` call (``stacklevel`` counts
        this method, then its callers)."""
        warnings.warn(f"{type(self).__name__} did not converge in max_epochs={max_epochs}: "
                      f"{detail}", ConvergenceWarning, stacklevel=stacklevel)

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

    def net_input(self, x, _method: str = "net_input") -> np.ndarray:
        """xi = x w + w_0 (n_samples, n_outputs), or (n_samples,) for one output unit."""
        xi = self._xi(x, _method)
        return xi[:, 0] if self._single_output_ else xi

    def _xi(self, x, method: str) -> np.ndarray:
        """Xi = X W (n_samples, n_units) for ``method``'s x, checked."""
        return _with_bias(self._check_predict_x(x, method)) @ self.W_


def _with_bias(x: np.ndarray) -> np.ndarray:
    """Prepend the constant input x_0 = 1 whose weight w_0 is the bias."""
    return np.hstack([np.ones((len(x), 1)), x])


def _as_labels_or_array(y, where: str) -> np.ndarray:
    """y as an array; string class labels (e.g. "setosa") are allowed besides numbers, also
    in an object array (as ``load_csv``, ``load_animals`` and pandas give them)."""
    arr = np.asarray(y) if not isinstance(y, np.ndarray) else y
    if arr.dtype == object and arr.size:
        flat = arr.ravel()
        is_str = np.array([isinstance(v, str) for v in flat])
        if is_str.all():
            arr = arr.astype(str)
        elif not is_str.any() and all(isinstance(v, numbers.Real) for v in flat):
            arr = arr.astype(np.float64)
        else:
            i = int(np.flatnonzero(~is_str)[0]) if is_str.any() else \
                next(i for i, v in enumerate(flat) if not isinstance(v, numbers.Real))
            raise ArgumentError(f"{where}: y must hold class labels that are all strings or all "
                                f"numbers; received {flat[i]!r} at flat index {i}. Remove or "
                                f"fill missing labels (None) before fit.")
    if arr.dtype.kind in "US":
        if arr.ndim in (1, 2) and (arr.ndim == 1 or arr.shape[1] == 1):
            return arr
        raise ArgumentError(f"{where}: string class labels must be 1-D (n_samples,); received "
                            f"shape {arr.shape}. For several outputs pass a one-hot matrix of "
                            f"0/1 or -1/+1.")
    return as_array(arr, "y", where)


def _check_xy(x, y, where: str, labels: bool = False):
    x = check_feature_matrix(x, where)
    if y is None:
        raise ArgumentError(f"{where}: requires y to be passed, but the target y is None. Pass "
                            f"the targets, (n_samples,) or (n_samples, n_outputs).")
    if labels:
        y = _as_labels_or_array(y, where)
    else:  # real targets; numbers in an object array (as pandas gives) are converted
        y = np.asarray(y)
        y = as_array(y.astype(np.float64) if y.dtype == object else y, "y", where)
    if y.dtype.kind in "US":
        check_same_length(x, y, where)
        return x, y
    if y.ndim == 0 or y.ndim > 2:
        raise ArgumentError(f"{where}: y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); "
                            f"received shape {y.shape}.")
    check_same_length(x, y, where)
    check_finite(y.astype(np.float64) if y.dtype.kind in "iub" else y, "y", where)
    return x, y


class _ClassifierMixin:
    """Targets for a layer of threshold-like units with outputs low/high (0/1 or -1/+1).

    ``y`` may be
    - 1-D labels with two classes: one unit, t = high for ``classes_[1]``; a single column
      is taken as 1-D labels with a DataConversionWarning (as scikit-learn does);
    - 1-D labels with k > 2 classes: one unit per class (one-vs-rest), the winner by argmax;
    - a 2-D one-hot matrix (0/1) or the lectures' bipolar one-hot (-1/+1): one unit per column;
      ``predict`` answers in the same coding.
    """

    _estimator_type = "classifier"

    def _encode(self, y: np.ndarray, low: float, where: str, force_units: bool = False):
        """Targets T (n_samples, n_units) and the state ``predict`` needs to answer in y's form.

        The state is returned, not set, so that a fit that fails leaves the model as it was.
        """
        if y.ndim == 2 and y.shape[1] == 1:  # labels in a column, as load_logic_gate gives
            warnings.warn(sklearn_compatible(DataConversionWarning)(
                "A column-vector y was passed when a 1d array was expected. Please change the "
                "shape of y to (n_samples, ), for example using ravel()."), stacklevel=3)
            y = y[:, 0]
        if y.ndim == 1:
            if y.dtype.kind == "f" and np.any(y != np.round(y)):
                bad = y[y != np.round(y)][0]
                raise ArgumentError(f"{where}: y looks continuous (received {float(bad):g}, not a "
                                    f"whole number); a classifier needs class labels. For "
                                    f"real-valued targets use AdalineRegressor or LinearNetwork; "
                                    f"to classify by a threshold pass labels such as "
                                    f"(y > 0).astype(int).")
            classes = np.unique(y)
            if len(classes) < 2:
                raise ArgumentError(f"{where}: y has one class ({classes[0]}); a classifier "
                                    f"needs at least two.")
            index = np.searchsorted(classes, y)
            if len(classes) == 2 and not force_units:
                T = np.where(index == 1, 1.0, low).reshape(-1, 1)
            else:
                T = np.full((len(y), len(classes)), low)
                T[np.arange(len(y)), index] = 1.0
            return T, {"classes_": classes, "_target_kind_": "labels"}
        values = np.unique(y)
        if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {-1, 1}):
            raise ArgumentError(f"{where}: a 2-D y must be one-hot coded with 0/1 or -1/+1 "
                                f"(bipolar one-hot); received values {values[:6].tolist()}. For "
                                f"integer class labels pass a 1-D y.")
        y_low = -1.0 if values.min() < 0 else 0.0
        if np.any((y > y_low).sum(axis=1) != 1):
            raise ArgumentError(
                f"{where}: each row of a 2-D y must mark exactly one class (one-hot);"
                f" for independent outputs fit one model per column.")
        return np.where(y > y_low, 1.0, low), {"classes_": np.arange(y.shape[1]),
                                               "_target_kind_": "onehot", "_y_low_": y_low}

    def _decode(self, xi: np.ndarray, threshold: float, inclusive: bool = False) -> np.ndarray:
        """Labels from the net inputs / outputs (n_samples, n_units).

        One unit: the high class where xi > threshold (xi >= threshold if ``inclusive``, as
        sgn(0) = +1); several: the unit with the largest value wins.
        """
        if xi.shape[1] == 1:
            high = xi[:, 0] >= threshold if inclusive else xi[:, 0] > threshold
            return self.classes_[high.astype(np.intp)]
        if self._target_kind_ == "labels":
            return self.classes_[np.argmax(xi, axis=1)]
        out = np.full(xi.shape, self._y_low_)
        out[np.arange(len(xi)), np.argmax(xi, axis=1)] = 1.0
        return out

    def score(self, x, y, sample_weight=None) -> float:
        """Accuracy: the (weighted) fraction of samples whose predicted class (or one-hot row)
        is right."""
        where = self._where("score")
        y = _as_labels_or_array(y, where)
        pred = self.predict(x)
        check_same_length(pred, y, where, "x", "y")
        if pred.ndim == 2 and pred.shape[1] > 1:
            right = np.all(pred == y, axis=1)
        else:
            right = pred.ravel() == y.ravel()
        return _weighted_mean(right, sample_weight, where)


def _weighted_mean(values: np.ndarray, sample_weight, where: str) -> float:
    if sample_weight is None:
        return float(np.mean(values))
    w = as_array(sample_weight, "sample_weight", where, dtype=np.float64).ravel()
    check_same_length(values, w, where, "x", "sample_weight")
    return float(np.average(values, weights=w))


def _r2_score(y, pred, w=None) -> float:
    """R^2 = 1 - SS_res / SS_tot, averaged over the outputs (scikit-learn's default); ``w``
    weights the samples."""
    y = y.reshape(len(y), -1)
    pred = pred.reshape(len(pred), -1)
    w = np.ones((len(y), 1)) if w is None else w.reshape(-1, 1)
    ss_res = (w * (y - pred) ** 2).sum(axis=0)
    ss_tot = (w * (y - np.average(y, axis=0, weights=w[:, 0])) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0),
                      np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))


class _RegressorMixin:
    """Real-valued targets: linear outputs, ``score`` is R^2."""

    _estimator_type = "regressor"

    def _targets(self, y: np.ndarray) -> np.ndarray:
        y = y.astype(np.float64)
        self._single_output_ = y.ndim == 1
        return y.reshape(len(y), -1)

    def predict(self, x) -> np.ndarray:
        """The linear output Y = X W + w_0: (n_samples,) or (n_samples, n_outputs)."""
        return self.net_input(x, "predict")

    def score(self, x, y, sample_weight=None) -> float:
        """R^2 = 1 - sum (d - y)^2 / sum (d - mean d)^2, averaged over outputs (each sum
        weighted by ``sample_weight`` if given)."""
        where = self._where("score")
        y = as_array(y, "y", where, dtype=np.float64)
        pred = self.predict(x)
        check_same_length(pred, y, where, "x", "y")
        w = None
        if sample_weight is not None:
            w = as_array(sample_weight, "sample_weight", where, dtype=np.float64).ravel()
            check_same_length(y, w, where, "y", "sample_weight")
        return _r2_score(y, pred, w)
