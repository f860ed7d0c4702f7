"""fit semantics (batches, shuffling, validation) and the lecture demos learning."""
import numpy as np
import pytest

import mlplab
from mlplab import Sequential
from mlplab.callbacks import Callback
from mlplab.layers import Dense, Input


class RecordBatches(Callback):
    def __init__(self):
        super().__init__()
        self.first_rows = []

    def on_train_batch_end(self, batch, logs=None):
        self.first_rows.append(self.model.layers[0].Y_prev.copy())


def identity_model(n_features=1, seed=0):
    model = Sequential([Input((n_features,)), Dense(1)], seed=seed, dtype="float64")
    model.compile(mlplab.SGD(1e-3), "mse")
    return model


@pytest.mark.parametrize("batch_size,updates", [(1, 10), (3, 4), (10, 1), ("full", 1),
                                                (32, 1)])
def test_batch_size_sets_the_number_of_updates(batch_size, updates):
    model = identity_model()
    x = np.arange(10.0).reshape(-1, 1)
    model.fit(x, x, epochs=2, batch_size=batch_size, verbose=0)
    assert model.optimizer.iterations == 2 * updates
    assert model.history.params["steps"] == updates


def test_shuffle_presents_every_sample_once_in_a_new_order_each_epoch():
    model = identity_model()
    rec = RecordBatches()
    x = np.arange(12.0).reshape(-1, 1)
    model.fit(x, x, epochs=3, batch_size=1, verbose=0, callbacks=[rec])
    orders = [np.concatenate(rec.first_rows[i * 12:(i + 1) * 12]).ravel() for i in range(3)]
    for order in orders:
        assert sorted(order) == list(range(12))
    assert len({tuple(o) for o in orders}) == 3
    rec = RecordBatches()
    identity_model().fit(x, x, epochs=2, batch_size=5, shuffle=False, verbose=0, callbacks=[rec])
    assert [len(b) for b in rec.first_rows] == [5, 5, 2, 5, 5, 2]
    np.testing.assert_array_equal(np.concatenate(rec.first_rows[:3]).ravel(), np.arange(12))


def test_online_learning_is_the_delta_rule_sample_by_sample():
    """batch_size=1, no shuffle: w <- w - alpha * x (y - d) after each sample (sse loss)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2))
    d = rng.normal(size=(5, 1))
    model = Sequential([Input((2,)), Dense(1)], seed=0, dtype="float64")
    model.compile(mlplab.SGD(0.1), "sse")
    W, b = model.get_weights()
    for xp, dp in zip(x, d):
        y = xp @ W + b
        W = W - 0.1 * np.outer(xp, y - dp)
        b = b - 0.1 * (y - dp)
    model.fit(x, d, epochs=1, batch_size=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], W, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-12)


def test_history_records_loss_metrics_and_validation():
    x, y = mlplab.datasets.load_iris()
    x = (x - x.mean(0)) / x.std(0)
    model = Sequential([Input((4,)), Dense(8, activation="tanh"), Dense(3, activation="softmax")],
                       seed=0)
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=4, validation_split=0.2, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 for v in hist.history.values())
    assert hist.epoch == [0, 1, 2, 3] and hist.stop_reason == "max_epochs"
    # The reported training loss is the mean over the epoch's batches (Keras semantics).
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(x, y)
    assert 0 <= acc <= 1 and loss > 0
    assert model.evaluate(x, y, return_dict=True).keys() == {"loss", "accuracy"}


def test_validation_split_is_stratified_and_shuffled_by_default():
    x, y = mlplab.datasets.load_iris()  # sorted by class: the last 20% is all 'virginica'
    model = Sequential([Input((4,)), Dense(3, activation="softmax")], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    X, D, (Xv, Dv) = model._split(x, y, 0.2, "stratified", "fit()")
    assert len(Dv) == 30 and len(D) == 120
    assert np.bincount(Dv).tolist() == [10, 10, 10]
    assert sorted(map(tuple, np.vstack([X, Xv]))) == sorted(map(tuple, x))
    _, _, (_, Dl) = model._split(x, y, 0.2, "last", "fit()")
    assert np.bincount(Dl, minlength=3).tolist() == [0, 0, 30]  # Keras's behaviour
    onehot = mlplab.preprocessing.to_categorical(y, 3)
    _, _, (_, Dv1) = model._split(x, onehot, 0.2, "stratified", "fit()")
    assert Dv1.sum(0).tolist() == [10, 10, 10]
    with pytest.raises(ValueError, match="validation_split_mode must be one of"):
        model.fit(x, y, validation_split=0.2, validation_split_mode="first", verbose=0)


def test_xor_2_10_1_reaches_100_percent():
    x, y = mlplab.datasets.load_xor()
    model = Sequential([Input((2,)), Dense(10, activation="sigmoid"),
                        Dense(1, activation="sigmoid")], seed=1)
    model.compile(mlplab.SGD(1.0), "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=2000, batch_size=4, verbose=0)
    assert hist.history["accuracy"][-1] == 1.0
    np.testing.assert_array_equal(model.predict(x) > 0.5, y > 0.5)


def test_xor_bipolar_with_tanh_and_sse():
    x, y = mlplab.datasets.load_xor(bipolar=True)
    model = Sequential([Input((2,)), Dense(10, activation="tanh"), Dense(1, activation="tanh")],
                       seed=2)
    model.compile(mlplab.SGD(0.05), "sse")
    model.fit(x, y, epochs=500, batch_size=1, verbose=0)
    np.testing.assert_array_equal(np.sign(model.predict(x)), y)


def stratified_split(y, test_fraction, rng):
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:round(test_fraction *
                                                                             np.sum(y == c))]
                           for c in np.unique(y)])
    mask = np.zeros(len(y), bool)
    mask[test] = True
    return ~mask, mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iris_one_hidden_layer_reaches_95_percent_on_stratified_70_30(seed):
    x, y = mlplab.datasets.load_iris()
    train, test = stratified_split(y, 0.3, np.random.default_rng(seed))
    mean, std = x[train].mean(0), x[train].std(0)
    x = (x - mean) / std
    model = Sequential([Input((4,)), Dense(8, activation="tanh"),
                        Dense(3, activation="softmax")], seed=seed)
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[train], y[train], epochs=200, batch_size=8, verbose=0)
    _, acc = model.evaluate(x[test], y[test])
    assert test.sum() == 45
    assert acc >= 0.95


def test_regression_fits_a_line_to_the_least_squares_solution():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(100, 3))
    d = x @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + rng.normal(0, 0.05, size=(100, 1))
    model = Sequential([Input((3,)), Dense(1)], seed=0, dtype="float64")
    model.compile(mlplab.SGD(0.2), "mse")
    model.fit(x, d, epochs=300, batch_size="full", verbose=0)
    A = np.hstack([x, np.ones((100, 1))])
    coef, *_ = np.linalg.lstsq(A, d, rcond=None)
    W, b = model.get_weights()
    np.testing.assert_allclose(np.vstack([W, b]), coef, atol=1e-4)


def test_nan_loss_stops_training_with_a_warning():
    model = Sequential([Input((1,)), Dense(1)], seed=0)
    model.compile(mlplab.SGD(10.0), "mse", check_config=False)  # divergence is the point
    x = np.linspace(0, 5, 20).reshape(-1, 1)
    model.fit(x, 3 * x, epochs=1, batch_size=20, verbose=0)  # one finite epoch
    good = model.get_weights()
    with pytest.warns(RuntimeWarning, match="training diverged at epoch .* Try a smaller learning_rate"):
        hist = model.fit(x, 3 * x, epochs=500, batch_size=1, verbose=0)
    assert hist.stop_reason == "nan" and len(hist.epoch) < 500
    assert all(np.isfinite(w).all() for w in model.get_weights())  # restored, not NaN
    assert np.isfinite(good[0]).all()
