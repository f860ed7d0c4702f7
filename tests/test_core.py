"""Model building, shapes, parameter counts, weights, summary, reproducibility, dtype."""
import io
import contextlib

import numpy as np
import pytest

import mlplab
from mlplab import Sequential
from mlplab.layers import Activation, Dense, Dropout, Flatten, Input


@pytest.mark.parametrize("sizes,expected", [((2, 10, 1), 41), ((784, 512, 10), 407_050),
                                            ((4, 4, 3), 35)])
def test_count_params_of_the_lecture_networks(sizes, expected):
    layers = [Input((sizes[0],))] + [Dense(n, activation="sigmoid") for n in sizes[1:]]
    model = Sequential(layers)
    by_formula = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert model.count_params() == expected == by_formula


def test_weights_have_keras_shapes_and_round_trip():
    model = Sequential([Input((3,)), Dense(5, activation="relu"), Dense(2)], seed=0)
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 5), (5,), (5, 2), (2,)]
    new = [np.full(s, i, dtype=np.float32) for i, s in enumerate(shapes)]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    x = np.ones((1, 3), dtype=np.float32)
    # relu(1*0 + 1) = 1 on 5 units, then 5 * 2 + 3 = 13
    np.testing.assert_allclose(model.predict(x), [[13.0, 13.0]])


def test_set_weights_rejects_wrong_shapes_and_leaves_model():
    model = Sequential([Input((3,)), Dense(2)], seed=0)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"weights\[0\] must have shape \(3, 2\); received \(2, 3\)"):
        model.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match="expected a list of 2 arrays"):
        model.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match="NaN"):
        model.set_weights([np.full((3, 2), np.nan), np.zeros(2)])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_summary_prints_layers_shapes_and_totals():
    model = Sequential([Input((2,)), Dense(10, activation="sigmoid"),
                        Dense(1, activation="sigmoid")], name="xor")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 10)" in text and "(None, 1)" in text
    assert "30" in text and "11" in text and "Total params: 41" in text


def test_shape_inference_with_flatten_and_dense_input_dim():
    model = Sequential([Input((28, 28)), Flatten(), Dense(16, activation="relu"), Dropout(0.2),
                        Dense(10), Activation("softmax")])
    assert model.output_shape == (10,)
    assert model.count_params() == 784 * 16 + 16 + 16 * 10 + 10
    keras_style = Sequential([Dense(10, activation="sigmoid", input_dim=2), Dense(1)])
    assert keras_style.count_params() == 41
    lazy = Sequential([Dense(3), Dense(1)])
    assert not lazy.built
    lazy.compile("sgd", "mse")
    lazy.fit(np.ones((4, 7)), np.ones((4, 1)), verbose=0)
    assert lazy.count_params() == 7 * 3 + 3 + 4


def test_dense_without_flatten_gives_clear_error():
    with pytest.raises(ValueError, match="Put a Flatten"):
        Sequential([Input((28, 28)), Dense(10)])


def test_same_seed_same_weights_bit_for_bit_and_same_training():
    def run(seed):
        x, y = mlplab.datasets.load_xor()
        model = Sequential([Input((2,)), Dense(8, activation="tanh"),
                            Dense(1, activation="sigmoid")], seed=seed)
        init = model.get_weights()
        model.compile(mlplab.SGD(0.5), "binary_crossentropy")
        model.fit(x, y, epochs=20, batch_size=2, verbose=0)
        return init, model.get_weights()

    (i1, w1), (i2, w2), (i3, _) = run(7), run(7), run(8)
    for a, b in zip(i1 + w1, i2 + w2):
        assert a.tobytes() == b.tobytes()
    assert not np.array_equal(i1[0], i3[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_end_to_end(dtype):
    model = Sequential([Input((4,)), Dense(6, activation="sigmoid"),
                        Dense(3, activation="softmax")], seed=0, dtype=dtype)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(20, 4))  # float64 input
    model.fit(x, np.arange(20) % 3, epochs=2, batch_size=8, verbose=0)
    assert all(w.dtype == np.dtype(dtype) for w in model.get_weights())
    assert model.predict(x).dtype == np.dtype(dtype)
    assert model.layers[0].delta.dtype == np.dtype(dtype)


def test_layers_expose_delta_and_gradients_after_a_step():
    model = Sequential([Input((2,)), Dense(3, activation="sigmoid"), Dense(1)], seed=0,
                       dtype="float64")
    model.compile(mlplab.SGD(0.1), "sse")
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    d = np.array([[1.0], [0.0]])
    W1, b1, W2, b2 = model.get_weights()
    model.train_on_batch(x, d)
    # The lecture formulas, written out by hand.
    h = 1 / (1 + np.exp(-(x @ W1 + b1)))
    y = h @ W2 + b2
    delta2 = y - d                               # linear output, E = 1/2 sum (y - d)^2
    delta1 = h * (1 - h) * (delta2 @ W2.T)
    hidden, out = model.layers
    np.testing.assert_allclose(out.delta, delta2, rtol=1e-12)
    np.testing.assert_allclose(hidden.delta, delta1, rtol=1e-12)
    np.testing.assert_allclose(out.dW, h.T @ delta2, rtol=1e-12)
    np.testing.assert_allclose(hidden.dW, x.T @ delta1, rtol=1e-12)
    np.testing.assert_allclose(hidden.db, delta1.sum(0), rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[0], W1 - 0.1 * x.T @ delta1, rtol=1e-12)


def test_config_round_trip_rebuilds_the_same_model():
    model = Sequential([Input((3,)), Dense(4, activation={"name": "tanh", "slope": 2.0},
                                            kernel_initializer="he_normal"),
                        Dropout(0.1), Dense(2, activation="softmax")], seed=3)
    twin = Sequential.from_config(model.get_config())
    assert twin.get_config() == model.get_config()
    assert [w.shape for w in twin.get_weights()] == [w.shape for w in model.get_weights()]
    # Same seed and config, so the same initial weights.
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_registries_resolve_names_objects_and_list_known_names():
    assert isinstance(mlplab.activations.get("sigmoid"), mlplab.activations.Sigmoid)
    obj = mlplab.activations.Tanh(slope=2)
    assert mlplab.activations.get(obj) is obj
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmoidd'.*Available:.*relu.*"
                                         r"Did you mean 'sigmoid'\?"):
        mlplab.activations.get("sigmoidd")
    with pytest.raises(ValueError, match=r"Unknown loss 'msee'.*Available:.*hinge"):
        mlplab.losses.get("msee")
    with pytest.raises(ValueError, match=r"Unknown optimizer 'sgdd'"):
        mlplab.optimizers.get("sgdd")


def test_verbose_output_falls_back_to_one_line_per_epoch_without_terminal():
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    x, y = mlplab.datasets.load_logic_gate("and")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.fit(x, y, epochs=3, verbose=1)
    lines = buf.getvalue().strip().splitlines()
    assert len(lines) == 3 and all(l.startswith(f"Epoch {i + 1}/3") for i, l in enumerate(lines))
    assert "loss:" in lines[0] and "accuracy:" in lines[0] and "\r" not in buf.getvalue()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.fit(x, y, epochs=2, verbose=0)
    assert buf.getvalue() == ""
