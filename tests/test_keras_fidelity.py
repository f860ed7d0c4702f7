"""Keras's signatures and semantics where Keras has the feature: each silent difference the
front-door issue found, asserted against Keras 3's documented behaviour (keras/src/trainers/
trainer.py, models/sequential.py, layers/layer.py, losses, utils/summary_utils.py), and the
bipolar (-1/+1) coding as a first-class case."""
import inspect
import warnings

import numpy as np
import pytest

import mlplab
from mlplab import ConfigWarning, losses, metrics
from mlplab.layers import Dense, Input


def small_model(out_units=1, out_act="sigmoid", hidden=4, seed=0):
    return mlplab.Sequential([Input((2,)), Dense(hidden, activation="tanh"),
                              Dense(out_units, activation=out_act)], seed=seed)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    return x, (x[:, :1] + x[:, 1:] > 0).astype("float32")


# ---------------------------------------------------------------------- fit / evaluate / predict
KERAS_FIT = ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split",
             "validation_data", "shuffle", "class_weight", "sample_weight", "initial_epoch",
             "steps_per_epoch", "validation_steps", "validation_batch_size", "validation_freq"]


def test_fit_has_keras_positional_order_and_defaults():
    params = inspect.signature(mlplab.Sequential.fit).parameters
    positional = [n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD][1:]
    assert positional == KERAS_FIT
    assert params["batch_size"].default is None and params["epochs"].default == 1
    assert params["verbose"].default == "auto" and params["shuffle"].default is True
    assert params["validation_split_mode"].kind is inspect.Parameter.KEYWORD_ONLY


def test_fit_third_positional_argument_is_batch_size():
    """fit(x, y, 32, 10): 32 per batch, 10 epochs (mlplab ran 32 epochs of batches of 10)."""
    x, y = data()
    model = small_model()
    model.compile("sgd", "binary_crossentropy")
    history = model.fit(x, y, 32, 10, 0)
    assert len(history.history["loss"]) == 10
    assert model.optimizer.iterations == 10 * 2            # 64 samples / 32 per batch


def test_evaluate_and_predict_keras_signatures():
    ev = list(inspect.signature(mlplab.Sequential.evaluate).parameters)[1:]
    assert ev == ["x", "y", "batch_size", "verbose", "sample_weight", "steps", "callbacks",
                  "return_dict"]
    pr = list(inspect.signature(mlplab.Sequential.predict).parameters)[1:]
    assert pr == ["x", "batch_size", "verbose", "steps", "callbacks"]


def test_unsupported_weighting_is_refused_and_changes_nothing():
    x, y = data()
    model = small_model()
    model.compile("sgd", "binary_crossentropy")
    before = model.get_weights()
    for kwargs in ({"class_weight": {0: 1.0, 1: 2.0}}, {"sample_weight": np.ones(len(x))}):
        with pytest.raises(ValueError, match="not supported"):
            model.fit(x, y, verbose=0, **kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_steps_per_epoch_limits_the_batches():
    x, y = data()
    model = small_model()
    model.compile("sgd", "binary_crossentropy")
    model.fit(x, y, batch_size=8, epochs=3, steps_per_epoch=2, verbose=0)
    assert model.optimizer.iterations == 6
    with pytest.raises(ValueError, match="steps_per_epoch=9 exceeds the 8 batches"):
        model.fit(x, y, batch_size=8, steps_per_epoch=9, verbose=0)


# ---------------------------------------------------------------------- losses: (y_true, y_pred)
def test_loss_objects_take_y_true_first():
    """Keras: BinaryCrossentropy()(y_true, y_pred). mlplab took (y_pred, y_true): 5.51
    instead of 0.53 on this batch, silently."""
    y_true = np.array([[0.0], [1.0], [1.0], [0.0]])
    y_pred = np.array([[0.1], [0.8], [0.6], [0.3]])
    expected = -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))
    assert losses.BinaryCrossentropy()(y_true, y_pred) == pytest.approx(expected, rel=1e-6)
    assert losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]) == pytest.approx(0.5)
    # Keras's documented example: BinaryCrossentropy()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    assert losses.get("binary_crossentropy")([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]) == \
        pytest.approx(0.815, abs=1e-3)


def test_metric_objects_take_y_true_first():
    m = metrics.BinaryAccuracy()
    assert m([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]) == pytest.approx(0.75)
    m.update_state([[1], [0]], [[0.9], [0.2]])
    assert m.result() == 1.0


# ---------------------------------------------------------------------- trainable
def test_frozen_layer_keeps_its_weights():
    """layer.trainable = False: fit leaves the layer unchanged (mlplab trained it anyway)."""
    for optimizer in ("sgd", "adam", mlplab.SGD(0.1, momentum=0.9)):
        x, y = data()
        model = small_model()
        model.layers[0].trainable = False
        model.compile(optimizer, "binary_crossentropy")
        frozen = [p.copy() for p in model.layers[0].params]
        top = [p.copy() for p in model.layers[1].params]
        model.fit(x, y, batch_size=8, epochs=3, verbose=0)
        assert all(np.array_equal(a, b) for a, b in zip(frozen, model.layers[0].params))
        assert not np.array_equal(top[0], model.layers[1].W)
        assert model.trainable_weights == model.layers[1].params
        assert len(model.non_trainable_weights) == 2


def test_frozen_softmax_classifier_on_the_compiled_path():
    """The one-call compiled step (softmax + cross-entropy, plain SGD) honours it too, and
    the layers that do train get exactly the step they get when the layer below is frozen
    by hand (a snapshot restored after each step)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 5)).astype("float32")
    y = rng.integers(0, 3, size=96)

    def model():
        m = mlplab.Sequential([Input((5,)), Dense(8, activation="relu"),
                               Dense(3, activation="softmax")], seed=3)
        m.compile(mlplab.SGD(0.3), "sparse_categorical_crossentropy")
        return m

    frozen = model()
    frozen.layers[0].trainable = False
    frozen.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    by_hand = model()
    keep = [p.copy() for p in by_hand.layers[0].params]
    for _ in range(2):
        for i in range(0, 96, 16):
            by_hand.train_on_batch(x[i:i + 16], y[i:i + 16])
            for p, k in zip(by_hand.layers[0].params, keep):
                p[...] = k
    for a, b in zip(frozen.get_weights(), by_hand.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_trainable_survives_save_and_load(tmp_path):
    model = small_model()
    model.layers[0].trainable = False
    model.compile("sgd", "binary_crossentropy")
    model.save(tmp_path / "m.npz")
    again = mlplab.load_model(tmp_path / "m.npz")
    assert [layer.trainable for layer in again.layers] == [False, True]


# ---------------------------------------------------------------------- model attributes
def test_pop_get_layer_inputs_outputs_weights():
    model = mlplab.Sequential([Input((4,)), Dense(3, name="hidden"), Dense(2, name="out")])
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="Did you mean 'hidden'"):
        model.get_layer("hiden")
    assert model.inputs[0].shape == (None, 4) and model.outputs[0].shape == (None, 2)
    assert [w.shape for w in model.weights] == [(4, 3), (3,), (3, 2), (2,)]
    popped = model.pop()
    assert popped.name == "out" and model.outputs[0].shape == (None, 3)
    model.pop()
    with pytest.raises(TypeError, match="no layers"):
        model.pop()


def test_to_categorical_and_mnist_load_data_forms(mnist_dir, monkeypatch):
    assert mlplab.utils.to_categorical([0, 2], 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    monkeypatch.setenv("MLPLAB_DATA", str(mnist_dir))
    (x_train, y_train), (x_test, y_test) = mlplab.datasets.mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8


def test_summary_splits_trainable_and_non_trainable():
    model = mlplab.Sequential([Input((2,)), Dense(10, activation="sigmoid"),
                               Dense(1, activation="sigmoid")])
    model.layers[0].trainable = False
    lines = []
    model.summary(print_fn=lines.append, show_trainable=True)
    text = "\n".join(lines)
    assert "Total params: 41 (164.00 B)" in text               # Keras 3's line, float32
    assert "Trainable params: 11 (44.00 B)" in text
    assert "Non-trainable params: 30 (120.00 B)" in text
    assert "Trainable" in text.splitlines()[1]                  # the column header


# ---------------------------------------------------------------------- bipolar coding
def test_accuracy_of_tanh_outputs_with_bipolar_targets_thresholds_at_zero():
    """-1/+1 targets, tanh output: an output of 0.3 for +1 is right (mlplab compared both
    with 0.5 and reported 0.75 where 1.0 is right)."""
    model = small_model(out_act="tanh")
    model.compile("sgd", "mse", metrics=["accuracy"])
    Y = np.array([[0.3], [-0.2], [0.9], [-0.7]])
    D = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    acc = model.metrics[0]
    acc.update(Y, D)
    assert acc.result() == 1.0
    assert metrics.get("accuracy", n_outputs=1, output_activation="sigmoid").threshold == 0.5


def test_bipolar_training_reports_the_true_accuracy():
    x, y01 = data(200)
    y = 2 * y01 - 1
    model = small_model(out_act="tanh", hidden=8)
    model.compile(mlplab.SGD(0.1), "mse", metrics=["accuracy"])
    model.fit(x, y, batch_size=8, epochs=30, verbose=0)
    logs = model.evaluate(x, y, return_dict=True)
    expected = np.mean(np.sign(model.predict(x)) == y)
    assert logs["accuracy"] == pytest.approx(expected) and expected > 0.9


def config_messages(model, x=None, y=None, **compile_kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.compile(**compile_kwargs)
        if x is not None:
            model.fit(x, y, epochs=1, verbose=0)
    return [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]


@pytest.mark.parametrize("out_act", ["linear", "relu", "tanh"])
def test_config_check_binary_crossentropy_on_a_non_probability_output(out_act):
    msgs = config_messages(small_model(out_act=out_act), loss="binary_crossentropy")
    assert any("needs probabilities in (0, 1)" in m and out_act in m for m in msgs), msgs


@pytest.mark.parametrize("out_act", ["sigmoid", "linear", "relu", "tanh"])
def test_config_check_categorical_crossentropy_without_softmax(out_act):
    msgs = config_messages(small_model(3, out_act), loss="categorical_crossentropy")
    assert any("Use Dense(n_classes, activation='softmax')" in m for m in msgs), msgs


def test_config_check_more_mismatches(rng):
    assert any("always 0" in m for m in config_messages(
        small_model(1, "softmax"), loss="sparse_categorical_crossentropy"))
    assert any("never negative" in m for m in config_messages(
        small_model(1, "sigmoid"), loss="hinge"))
    x = rng.normal(size=(40, 2))
    assert any("can never be reached" in m and "'relu'" in m for m in config_messages(
        small_model(1, "relu"), x, x[:, :1] - 5, loss="mse"))


@pytest.mark.parametrize("out_act, loss", [("sigmoid", "binary_crossentropy"),
                                           ("tanh", "mse"), ("linear", "mse"),
                                           ("tanh", "hinge")])
def test_config_check_silent_on_the_lectures_pairs(out_act, loss, rng):
    x = rng.normal(size=(40, 2))
    y = (x[:, :1] > 0).astype(float)
    if out_act == "tanh":
        y = 2 * y - 1
    assert config_messages(small_model(1, out_act), x, y, loss=loss) == []
