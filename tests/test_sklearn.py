"""scikit-learn compatibility: every estimator passes sklearn's estimator checks with none
skipped; the MLP wrappers work in Pipeline, GridSearchCV, cross_val_score and clone and
follow sklearn's MLP semantics; mlplab's NotFittedError is sklearn's once sklearn is loaded."""
import pickle
import subprocess
import sys
import unittest
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlplab
from mlplab import exceptions
from mlplab.neurons import (Adaline, AdalineRegressor, LinearNetwork, Madaline, Perceptron,
                            SingleLayerNetwork)
from mlplab.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::mlplab.ConvergenceWarning")

# The defaults, except where the checks' data would make a default rule diverge: they fit
# unscaled x near 100 (|x|^2 ~ 2e4), on which the LMS rule is stable only for alpha <
# 2 / |x|^2, so Adaline there uses the normalized rule (stable for any scale) and the
# gradient-descent LinearNetwork an online rate below that bound (docs/interop.md).
ESTIMATORS = [
    Perceptron(),
    Adaline(normalized=True), AdalineRegressor(normalized=True),
    LinearNetwork(), LinearNetwork(solver="gd", batch_size=1, learning_rate=5e-5),
    SingleLayerNetwork(), SingleLayerNetwork(activation="softmax"),
    Madaline(),
    MLPClassifier(), MLPRegressor(),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    """Each check passes; a check that skips itself (a missing optional package) fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mlplab.ConvergenceWarning)
            check(estimator)
    except unittest.SkipTest as skip:
        pytest.fail(f"the check skipped itself: {skip}")


def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    x = rng.normal(size=(n, 2)) * 0.5 + np.array([[-2, 0], [2, 0], [0, 2]])[y]
    return x, y


def test_wrappers_in_pipeline_grid_search_cross_val_and_clone():
    x, y = blobs()
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=200, random_state=0,
                                                         learning_rate_init=0.02))
    scores = cross_val_score(pipe, x, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(2,), (8,)]}, cv=3)
    grid.fit(x, y)
    assert set(grid.cv_results_["param_mlpclassifier__hidden_layer_sizes"]) == {(2,), (8,)}
    twin = clone(pipe)
    assert twin.get_params()["mlpclassifier__learning_rate_init"] == 0.02
    assert not hasattr(twin[-1], "model_")


def test_classifier_follows_sklearn_mlp_semantics():
    x, y = blobs()
    names = np.array(["a", "b", "c"])[y]
    clf = MLPClassifier((16,), max_iter=300, random_state=0, learning_rate_init=0.02)
    clf.fit(x, names)
    assert list(clf.classes_) == ["a", "b", "c"] and clf.n_features_in_ == 2
    assert clf.n_iter_ == len(clf.loss_curve_) and clf.loss_ == clf.loss_curve_[-1]
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    P = clf.predict_proba(x)
    assert P.shape == (120, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    assert np.array_equal(clf.predict(x), clf.classes_[P.argmax(axis=1)])
    assert clf.score(x, names) > 0.95
    assert [W.shape for W in clf.coefs_] == [(2, 16), (16, 3)] and clf.out_activation_ == \
        "softmax"
    # the network is the mlplab model: its predictions are the probabilities
    np.testing.assert_allclose(clf.model_.predict(x.astype(clf.model_.dtype)), P, rtol=1e-6)
    binary = MLPClassifier((4,), max_iter=50, random_state=0).fit(x, y == 0)
    assert binary.out_activation_ == "logistic" and binary.predict_proba(x).shape == (120, 2)


def test_same_random_state_same_model_and_warm_start_continues():
    x, y = blobs()
    a = MLPClassifier((8,), max_iter=20, random_state=3).fit(x, y)
    b = MLPClassifier((8,), max_iter=20, random_state=3).fit(x, y)
    assert a.loss_curve_ == b.loss_curve_
    c = MLPClassifier((8,), max_iter=20, random_state=4).fit(x, y)
    assert a.loss_curve_ != c.loss_curve_
    warm = MLPClassifier((8,), max_iter=10, random_state=3, warm_start=True)
    warm.fit(x, y).fit(x, y)  # 10 + 10 epochs from the same start: the 20-epoch run
    assert warm.n_iter_ == 20
    np.testing.assert_allclose(warm.loss_curve_, a.loss_curve_, rtol=1e-6)


def test_partial_fit_is_one_epoch_per_call():
    x, y = blobs()
    fit20 = MLPClassifier((8,), max_iter=5, random_state=0, shuffle=False).fit(x, y)
    part = MLPClassifier((8,), random_state=0, shuffle=False)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        part.partial_fit(x, y)
    for _ in range(5):
        part.partial_fit(x, y, classes=[0, 1, 2])
    assert part.n_iter_ == 5
    np.testing.assert_allclose(part.loss_curve_, fit20.loss_curve_, rtol=1e-6)
    reg = MLPRegressor(hidden_layer_sizes=(4,), random_state=0)
    reg.partial_fit(x, x[:, 0]).partial_fit(x, x[:, 0])
    assert reg.n_iter_ == 2 and reg.predict(x).shape == (120,)


def test_early_stopping_and_tol_stop_training():
    x, y = blobs(300)
    es = MLPClassifier((8,), max_iter=500, random_state=0, early_stopping=True,
                       n_iter_no_change=5, learning_rate_init=0.05).fit(x, y)
    assert es.n_iter_ < 500 and len(es.validation_scores_) == es.n_iter_
    assert es.best_validation_score_ == max(es.validation_scores_) > 0.9
    assert es.best_loss_ is None
    with pytest.warns(mlplab.ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier((8,), max_iter=3, random_state=0).fit(x, y)


def test_regressor_matches_least_squares_with_identity_activation():
    """A linear network trained to convergence finds the least-squares solution."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = x @ [1.5, -2.0, 0.5] + 0.3 + 0.01 * rng.normal(size=200)
    reg = MLPRegressor(hidden_layer_sizes=(4,), activation="identity", alpha=0.0, max_iter=600,
                       tol=1e-9, learning_rate_init=0.01, random_state=0, n_iter_no_change=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mlplab.ConvergenceWarning)
        reg.fit(x, y)
    coef, *_ = np.linalg.lstsq(np.hstack([x, np.ones((200, 1))]), y, rcond=None)
    np.testing.assert_allclose(reg.predict(x), np.hstack([x, np.ones((200, 1))]) @ coef,
                               atol=0.02)
    assert reg.score(x, y) > 0.999


def test_wrapper_errors_name_the_parameter():
    x, y = blobs()
    with pytest.raises(ValueError, match="The 'solver' parameter of MLPClassifier must be a "
                                         "str among .* Got 'lbfgs' instead"):
        MLPClassifier(solver="lbfgs").fit(x, y)
    with pytest.raises(ValueError, match="The 'hidden_layer_sizes' parameter"):
        MLPRegressor(hidden_layer_sizes=(0,)).fit(x, y)
    with pytest.raises(ValueError, match=r"y should be a 1d array, got an array of shape "
                                         r"\(120, 3\)"):
        MLPClassifier().fit(x, np.eye(3)[y])


def test_not_fitted_error_is_sklearns_and_mlplabs():
    for estimator in (Perceptron(), SingleLayerNetwork(), MLPClassifier(), MLPRegressor()):
        with pytest.raises(SklearnNotFittedError) as info:
            estimator.predict(np.ones((2, 2)))
        assert isinstance(info.value, mlplab.NotFittedError)
        assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
        again = pickle.loads(pickle.dumps(info.value))
        assert type(again) is type(info.value)


def test_without_sklearn_imported_nothing_imports_it():
    """mlplab does not import scikit-learn; its errors are then mlplab's own classes."""
    code = ("import sys, mlplab\n"
            "try:\n    mlplab.Perceptron().predict([[0.0]])\n"
            "except mlplab.NotFittedError as e:\n"
            "    assert type(e) is mlplab.NotFittedError, type(e)\n"
            "    assert isinstance(e, ValueError) and isinstance(e, AttributeError)\n"
            "assert 'sklearn' not in sys.modules\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ})
    assert out.stdout.strip() == "ok", out.stderr
    assert exceptions.sklearn_compatible(mlplab.ConvergenceWarning) is not \
        mlplab.ConvergenceWarning  # here sklearn is loaded


def test_seed_is_a_deprecated_alias_of_random_state():
    with pytest.warns(FutureWarning, match=r"Perceptron\(seed=...\) is deprecated; use "
                                           r"random_state=3"):
        p = Perceptron(seed=3, shuffle=True)
    assert p.random_state == 3 and "seed" not in p.get_params()
    with pytest.raises(ValueError, match="pass random_state only"):
        Perceptron(seed=3, random_state=4)


def test_blas_threads_limits_blas_inside_fit(monkeypatch):
    from threadpoolctl import threadpool_info

    seen = []
    fit = mlplab.Sequential.fit

    def recording_fit(self, *args, **kwargs):
        seen.append({i["user_api"]: i["num_threads"] for i in threadpool_info()})
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(mlplab.Sequential, "fit", recording_fit)
    x, y = blobs()
    MLPClassifier((4,), max_iter=2, blas_threads=1, random_state=0).fit(x, y)
    assert seen and all(threads["blas"] == 1 for threads in seen)  # 2 cores otherwise
    with pytest.raises(ValueError, match="The 'blas_threads' parameter of MLPClassifier"):
        MLPClassifier(blas_threads=0).fit(x, y)


def test_regressor_with_several_outputs():
    x, _ = blobs()
    Y = np.column_stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]])
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01,
                       random_state=0).fit(x, Y)
    assert reg.predict(x).shape == (120, 2) and reg.n_outputs_ == 2 and reg.score(x, Y) > 0.9
