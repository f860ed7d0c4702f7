"""Metrics against scikit-learn on random data, streamed over batches."""
import functools

import numpy as np
import pytest
from sklearn import metrics as skm

import mlplab
from mlplab import metrics as M
from mlplab.layers import Dense, Input

# the same counts, so the same values up to rounding
approx = functools.partial(pytest.approx, rel=1e-12)


def streamed(metric, Y, D, batch=7):
    metric.reset()
    for i in range(0, len(Y), batch):
        metric.update(Y[i:i + batch], D[i:i + batch])
    return metric.result()


@pytest.fixture
def binary(rng):
    scores = rng.random((200, 1))
    labels = (rng.random((200, 1)) < 0.4).astype(float)
    return scores, labels


@pytest.fixture
def multiclass(rng):
    logits = rng.normal(size=(300, 4))
    Y = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, size=300)
    return Y, labels, np.eye(4)[labels]


def test_binary_accuracy_precision_recall_f1_auc(binary):
    Y, D = binary
    pred, true = (Y[:, 0] > 0.5).astype(int), D[:, 0].astype(int)
    assert streamed(M.BinaryAccuracy(), Y, D) == approx(skm.accuracy_score(true, pred))
    assert streamed(M.Precision(), Y, D) == approx(skm.precision_score(true, pred))
    assert streamed(M.Recall(), Y, D) == approx(skm.recall_score(true, pred))
    assert streamed(M.F1Score(), Y, D) == approx(skm.f1_score(true, pred))
    assert streamed(M.AUC(), Y, D) == approx(skm.roc_auc_score(true, Y[:, 0]),
                                                    rel=1e-12)


def test_auc_with_ties(rng):
    Y = np.round(rng.random((150, 1)), 1)  # many tied scores
    D = (rng.random((150, 1)) < 0.5).astype(float)
    assert streamed(M.AUC(), Y, D) == approx(skm.roc_auc_score(D[:, 0], Y[:, 0]),
                                                    rel=1e-12)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_multiclass_precision_recall_f1(multiclass, average):
    Y, labels, onehot = multiclass
    pred = Y.argmax(1)
    for cls, ref in ((M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                     (M.F1Score, skm.f1_score)):
        expected = ref(labels, pred, average=average)
        assert streamed(cls(average=average), Y, onehot) == approx(expected)
        assert streamed(cls(average=average), Y, labels) == approx(expected)


def test_multiclass_accuracies_and_auc(multiclass):
    Y, labels, onehot = multiclass
    acc = skm.accuracy_score(labels, Y.argmax(1))
    assert streamed(M.CategoricalAccuracy(), Y, onehot) == approx(acc)
    assert streamed(M.SparseCategoricalAccuracy(), Y, labels) == approx(acc)
    for k in (1, 2, 3):
        ref = skm.top_k_accuracy_score(labels, Y, k=k, labels=range(4))
        assert streamed(M.TopKCategoricalAccuracy(k), Y, onehot) == approx(ref)
        assert streamed(M.SparseTopKCategoricalAccuracy(k), Y, labels) == approx(ref)
    ref = skm.roc_auc_score(onehot, Y, average="micro")
    assert streamed(M.AUC(), Y, onehot) == approx(ref, rel=1e-12)
    assert streamed(M.AUC(), Y, labels) == approx(ref, rel=1e-12)


def test_regression_metrics(rng):
    Y, D = rng.normal(size=(90, 2)), rng.normal(size=(90, 2))
    assert streamed(M.MeanSquaredError(), Y, D) == approx(skm.mean_squared_error(D, Y))
    assert streamed(M.MeanAbsoluteError(), Y, D) == approx(
        skm.mean_absolute_error(D, Y))
    assert streamed(M.RootMeanSquaredError(), Y, D) == approx(
        np.sqrt(skm.mean_squared_error(D, Y)))


def test_confusion_matrix_matches_sklearn(multiclass, binary):
    Y, labels, onehot = multiclass
    ref = skm.confusion_matrix(labels, Y.argmax(1), labels=range(4))
    np.testing.assert_array_equal(M.confusion_matrix(labels, Y.argmax(1)), ref)
    np.testing.assert_array_equal(M.confusion_matrix(onehot, Y), ref)
    scores, d = binary
    ref = skm.confusion_matrix(d[:, 0].astype(int), (scores[:, 0] > 0.5).astype(int))
    np.testing.assert_array_equal(M.confusion_matrix(d, scores), ref)
    assert M.confusion_matrix([0, 1], [1, 1], num_classes=3).shape == (3, 3)
    with pytest.raises(ValueError, match=r"y_true has 2 samples but y_pred has 3"):
        M.confusion_matrix([0, 1], [0, 1, 1])


@pytest.mark.parametrize("loss, units, expected", [
    ("binary_crossentropy", 1, M.BinaryAccuracy),
    ("mse", 1, M.BinaryAccuracy),
    ("categorical_crossentropy", 3, M.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", 3, M.SparseCategoricalAccuracy),
])
def test_accuracy_resolves_from_loss_and_shape(loss, units, expected):
    act = "sigmoid" if units == 1 else "softmax"
    model = mlplab.Sequential([Input((2,)), Dense(units, activation=act)])
    model.compile("sgd", loss, metrics=["accuracy"])
    assert type(model.metrics[0]) is expected and model.metrics[0].name == "accuracy"


def test_metrics_by_name_in_compile_and_fit(rng):
    x = rng.normal(size=(60, 3))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    model = mlplab.Sequential([Input((3,)), Dense(3, activation="softmax")], seed=0)
    names = ["accuracy", "precision", "recall", "f1_score", "auc", "top_k_categorical_accuracy",
             "mse", "mae", "rmse"]
    model.compile("adam", "categorical_crossentropy", metrics=names)
    D = np.eye(3)[labels]
    h = model.fit(x, D, epochs=2, verbose=0)
    logs = model.evaluate(x, D, return_dict=True)
    Y = model.predict(x)
    assert logs["accuracy"] == approx(skm.accuracy_score(labels, Y.argmax(1)))
    assert logs["f1_score"] == approx(skm.f1_score(labels, Y.argmax(1), average="macro"))
    # float32 model: the squared errors are summed in float32
    assert logs["rmse"] == approx(np.sqrt(skm.mean_squared_error(D, Y)), rel=1e-6)
    assert set(names) <= set(h.history)


def test_unknown_metric_name():
    model = mlplab.Sequential([Input((2,)), Dense(1)])
    with pytest.raises(ValueError, match=r"Unknown metric 'precison'.*Did you mean 'precision'"):
        model.compile("sgd", "mse", metrics=["precison"])


def test_bad_average():
    with pytest.raises(ValueError, match=r"average must be 'macro', 'micro' or 'weighted'"):
        M.F1Score(average="binary")


def test_undefined_ratios_are_zero_as_sklearn_zero_division_0(rng):
    """No sample predicted positive (precision 0/0), no positive target (recall 0/0), and a
    class that is never predicted in the multiclass macro average."""
    Y = rng.random((50, 1)) * 0.4                      # all below the threshold
    D = (rng.random((50, 1)) < 0.5).astype(float)
    pred, true = np.zeros(50, int), D[:, 0].astype(int)
    for cls, ref in ((M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                     (M.F1Score, skm.f1_score)):
        assert streamed(cls(), Y, D) == approx(ref(true, pred, zero_division=0))
        assert streamed(cls(), Y, np.zeros_like(D)) == \
            approx(ref(np.zeros(50, int), pred, zero_division=0))
    logits = rng.normal(size=(80, 3))
    logits[:, 2] -= 10                                 # class 2 is never predicted
    labels = rng.integers(0, 3, size=80)
    for cls, ref in ((M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                     (M.F1Score, skm.f1_score)):
        expected = ref(labels, logits.argmax(1), average="macro", zero_division=0)
        assert streamed(cls(), logits, labels) == approx(expected)
