"""LayerRecorder: its numbers equal a forward and backward pass written out by hand in NumPy,
recording does not change training, and the vanishing-gradient demo of lecture 004."""
import numpy as np
import pytest

import mlplab
from mlplab.layers import Dense, Dropout, Input
from mlplab.recorder import STATS, LayerRecorder


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def small_model():
    model = mlplab.Sequential([Input((3,)), Dense(4, activation="tanh"),
                               Dense(5, activation="relu"), Dense(2, activation="sigmoid")],
                              seed=1, dtype="float64")
    model.compile(mlplab.SGD(learning_rate=0.5), "mse")
    return model


def by_hand(weights, x, d, eps):
    """Per layer (act_mean, act_std, saturated, dead, |delta|, |dE/dW|, |W|) for the model
    above, E = mean_p mean_k (y_pk - d_pk)^2."""
    W1, b1, W2, b2, W3, b3 = weights
    xi1 = x @ W1 + b1
    y1 = np.tanh(xi1)
    xi2 = y1 @ W2 + b2
    y2 = np.maximum(xi2, 0.0)
    xi3 = y2 @ W3 + b3
    y3 = sigmoid(xi3)
    n, k = d.shape
    delta3 = 2.0 * (y3 - d) / (n * k) * y3 * (1 - y3)
    delta2 = (delta3 @ W3.T) * (xi2 > 0)
    delta1 = (delta2 @ W2.T) * (1 - y1 ** 2)
    rows = []
    for y_, xi_, delta, prev, W, sat, dead in [
            (y1, xi1, delta1, x, W1, np.mean(np.abs(y1) > 1 - 2 * eps), np.nan),
            (y2, xi2, delta2, y1, W2, np.nan, np.mean((xi2 <= 0).all(axis=0))),
            (y3, xi3, delta3, y2, W3, np.mean((y3 < eps) | (y3 > 1 - eps)), np.nan)]:
        rows.append([y_.mean(), y_.std(), sat, dead, np.linalg.norm(delta),
                     np.linalg.norm(prev.T @ delta), np.linalg.norm(W)])
    return np.array(rows)


def test_recorded_numbers_equal_a_pass_by_hand():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)) * 2.0
    d = (rng.uniform(size=(40, 2)) > 0.5).astype(float)
    model = small_model()
    rec = LayerRecorder(x[:16], d[:16], saturation_eps=0.1)
    snapshots = []

    class Snap(mlplab.callbacks.Callback):
        def on_train_begin(self, logs=None):
            snapshots.append(model.get_weights())

        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(model.get_weights())

    model.fit(x, d, epochs=3, batch_size=8, verbose=0, callbacks=[Snap(), rec])
    h = rec.history
    assert h.layers == [layer.name for layer in model.layers]
    assert h.epoch == [0, 1, 2, 3] and h.step == [0, 5, 10, 15]
    for r, weights in enumerate(snapshots):
        expected = by_hand(weights, x[:16], d[:16], 0.1)
        for j, stat in enumerate(STATS[:7]):
            np.testing.assert_allclose(h[stat][r], expected[:, j], rtol=1e-10, atol=1e-14,
                                       err_msg=f"{stat} at record {r}")
    ratio = h["update_ratio"]
    assert np.isnan(ratio[0]).all()
    for r in range(1, 4):
        for j in range(3):
            W, W0 = snapshots[r][2 * j], snapshots[r - 1][2 * j]
            assert ratio[r, j] == pytest.approx(np.linalg.norm(W - W0) / np.linalg.norm(W0),
                                                rel=1e-12)
    assert (ratio[1:] > 0).all()  # the weights did move


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])  # sgd: the fused/compiled step
def test_recording_leaves_training_unchanged_and_every_batches(optimizer):
    rng = np.random.default_rng(2)
    x, d = rng.normal(size=(32, 3)), (rng.uniform(size=(32, 2)) > 0.5).astype(float)

    def run(callbacks):
        model = mlplab.Sequential([Input((3,)), Dense(6, activation="relu"), Dropout(0.3, seed=3),
                                   Dense(2, activation="sigmoid")], seed=4)
        model.compile(optimizer, "binary_crossentropy")
        model.fit(x, d, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
        return model.get_weights()

    rec = LayerRecorder(x[:10], d[:10], every_batches=3)
    for a, b in zip(run([]), run([rec])):
        np.testing.assert_array_equal(a, b)
    assert rec.history.step == [0, 3, 6]  # 8 batches in all
    assert rec.history["grad_norm"].shape == (3, 2)


def test_to_csv_round_trips(tmp_path):
    import csv

    rng = np.random.default_rng(0)
    x, d = rng.normal(size=(20, 3)), (rng.uniform(size=(20, 2)) > 0.5).astype(float)
    model = small_model()
    rec = LayerRecorder(x, d)
    model.fit(x, d, epochs=2, verbose=0, callbacks=[rec])
    rec.to_csv(tmp_path / "layers.csv")
    with open(tmp_path / "layers.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and rows[2]["epoch"] == "2"
    name = model.layers[1].name
    assert float(rows[1][f"{name}/grad_norm"]) == rec.history["grad_norm"][1, 1]
    assert rec.to_csv() == (tmp_path / "layers.csv").read_text()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="every_batches must be a positive int"):
        LayerRecorder(np.zeros((2, 3)), np.zeros((2, 1)), every_batches=0)
    with pytest.raises(ValueError, match="probe x has 2 samples but y has 3"):
        LayerRecorder(np.zeros((2, 3)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"saturation_eps must be in \(0, 0.5\)"):
        LayerRecorder(np.zeros((2, 3)), np.zeros((2, 1)), saturation_eps=0.5)


def vanishing_ratio(activation):
    """Lecture 004: |dE/dW_1| / |dE/dW_6| of a 6-layer network, at initialisation."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 10))
    y = (x[:, :1] * x[:, 1:2] > 0).astype(float)
    model = mlplab.Sequential([Input((10,))] + [Dense(32, activation=activation)
                                                for _ in range(5)]
                              + [Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy")
    rec = LayerRecorder(x, y)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[rec])
    g = rec.history["grad_norm"]
    return g[0, 0] / g[0, -1]


def test_vanishing_gradient_demo():
    assert vanishing_ratio("sigmoid") < 0.01   # 5.3e-4 (docs/plots.md)
    assert vanishing_ratio("relu") > 0.1       # 1.12
