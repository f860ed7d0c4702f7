"""The pictures of issue 14, checked by what they draw (under Agg): the data behind each line,
image and patch, node and link counts, colours by sign, axis ranges."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import mlplab  # noqa: E402
from mlplab import plots  # noqa: E402
from mlplab.activations import LeakyReLU, Sigmoid  # noqa: E402
from mlplab.callbacks import EarlyStopping, ReduceLROnPlateau  # noqa: E402
from mlplab.layers import Dense, Dropout, Input  # noqa: E402
from mlplab.neurons import Adaline, Perceptron  # noqa: E402
from mlplab.recorder import LayerRecorder, WeightSnapshots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def mlp(seed=0):
    model = mlplab.Sequential([Input((3,)), Dense(4, activation="tanh"), Dropout(0.1),
                               Dense(2, activation="relu"), Dense(1, activation="sigmoid")],
                              seed=seed)
    model.compile("sgd", "binary_crossentropy")
    return model


# ----------------------------------------------------------------------------- activations
def test_activation_and_derivative_curves():
    ax = plots.plot_activation("sigmoid", slope=2.0, xlim=(-4, 4), num=81)
    f, df = ax.get_lines()[:2]
    assert (f.get_label(), df.get_label()) == ("f(xi)", "f'(xi)")
    xi = f.get_xdata()
    assert xi[0] == -4 and xi[-1] == 4 and len(xi) == 81 and ax.get_xlim() == (-4, 4)
    s = 1 / (1 + np.exp(-2 * xi))
    np.testing.assert_allclose(f.get_ydata(), s, rtol=1e-12)
    np.testing.assert_allclose(df.get_ydata(), 2 * s * (1 - s), rtol=1e-10)  # peak slope/4
    ax = plots.plot_activation(LeakyReLU(alpha=0.1), num=10, xlim=(-1, 1))
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.1] * 5 + [1.0] * 5)
    assert ax.get_title() == "LeakyReLU(alpha=0.1)"
    ax = plots.plot_activation("relu", derivative=False)
    assert [line.get_label() for line in ax.get_lines()][:1] == ["f(xi)"]
    assert "f'(xi)" not in [line.get_label() for line in ax.get_lines()]


def test_activation_errors():
    with pytest.raises(ValueError, match="softmax is not an elementwise"):
        plots.plot_activation("softmax")
    with pytest.raises(TypeError, match="parameters \\(slope\\) go with an activation name"):
        plots.plot_activation(Sigmoid(), slope=2)


# --------------------------------------------------------------------------------- weights
def test_weight_heatmap_shows_w_on_a_symmetric_scale():
    W = np.array([[1.0, -2.0, 0.5], [0.0, 0.25, -1.0]])
    ax = plots.plot_weights(W)
    im = ax.images[0]
    np.testing.assert_array_equal(im.get_array(), W)
    assert im.get_clim() == (-2.0, 2.0)
    model = mlp()
    ax = plots.plot_weights(model, layer=1)
    np.testing.assert_allclose(ax.images[0].get_array(), model.layers[2].W)  # Dropout skipped
    ax = plots.plot_weights(model, layer=model.layers[0].name)
    assert ax.images[0].get_array().shape == (3, 4)
    with pytest.raises(ValueError, match=r"layer must be in \[0, 3\)"):
        plots.plot_weights(model, layer=5)


def test_hinton_squares_by_size_and_sign():
    W = np.array([[1.0, -0.25], [0.0, -1.0], [0.5, 0.04]])
    ax = plots.plot_hinton(W)
    squares = ax.patches
    assert len(squares) == 6
    for sq, w in zip(squares, W.ravel()):
        assert sq.get_width() * sq.get_height() == pytest.approx(abs(w))  # area |w| / max|w|
        assert sq.get_facecolor() == to_rgba("white" if w > 0 else "black")
    assert ax.get_xlim() == (-0.5, 1.5) and ax.get_ylim() == (2.5, -0.5)  # row 0 on top


# --------------------------------------------------------------------------------- network
def test_network_nodes_links_colours_and_widths():
    model = mlp()
    ax = plots.plot_network(model, max_width=5.0)
    links, nodes = ax.collections[0], ax.collections[1]
    weights = np.concatenate([layer.W.ravel() for layer in model.layers if hasattr(layer, "W")])
    assert len(links.get_segments()) == 3 * 4 + 4 * 2 + 2 * 1 == len(weights)
    assert len(nodes.get_offsets()) == 3 + 4 + 2 + 1
    colours = links.get_colors()
    for c, w in zip(colours, weights):
        assert tuple(c) == to_rgba("tab:red" if w > 0 else "tab:blue")
    np.testing.assert_allclose(links.get_linewidths(), 5.0 * np.abs(weights) /
                               np.abs(weights).max())
    first = links.get_segments()[0]  # input 0 -> unit 0 of the first Dense layer
    assert first[0][0] == 0 and first[1][0] == 1
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "input\n(3)" and labels[-1].endswith("(1)")


def test_network_caps_wide_columns_and_needs_a_built_model():
    model = mlplab.Sequential([Input((40,)), Dense(3)], seed=0)
    ax = plots.plot_network(model, max_units=10)
    assert len(ax.collections[0].get_segments()) == 10 * 3
    assert "+30" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="not built"):
        plots.plot_network(mlplab.Sequential([Dense(3)]))


# ------------------------------------------------------------------------------- confusion
def test_confusion_matrix_counts_and_normalized():
    y_true = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
    y_pred = [0, 0, 1, 1, 1, 2, 2, 0, 2, 2]
    ax = plots.plot_confusion_matrix(y_true, y_pred, display_labels=["a", "b", "c"])
    C = np.array([[2, 1, 0], [0, 2, 0], [1, 0, 4]])
    np.testing.assert_array_equal(ax.images[0].get_array(), C)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in C.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    ax = plots.plot_confusion_matrix(y_true, y_pred, normalize="true")
    np.testing.assert_allclose(ax.images[0].get_array(), C / C.sum(axis=1, keepdims=True))
    assert ax.texts[0].get_text() == "0.67"
    ax = plots.plot_confusion_matrix(y_true, y_pred, normalize="pred")
    np.testing.assert_allclose(ax.images[0].get_array().sum(axis=0), 1.0)
    with pytest.raises(ValueError, match="normalize must be one of"):
        plots.plot_confusion_matrix(y_true, y_pred, normalize="rows")


# ----------------------------------------------------------------------- training curves
def test_history_with_validation_learning_rate_and_stop_reason():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 3)), rng.integers(0, 2, size=(64, 1)).astype(float)
    model = mlp()
    history = model.fit(x, y, epochs=40, verbose=0, validation_data=(x[:16], y[:16]),
                        callbacks=[ReduceLROnPlateau(patience=0, factor=0.5, min_delta=1.0),
                                   EarlyStopping(patience=3, min_delta=1.0)])
    assert history.stop_reason == "early_stopping"
    ax = plots.plot_history(history)
    n = len(history.history["loss"])
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), history.history["val_loss"])
    lr = ax.lr_axis.get_lines()[0]
    np.testing.assert_allclose(lr.get_ydata(), history.history["learning_rate"])
    assert ax.lr_axis.get_yscale() == "log" and lr.get_ydata()[-1] < lr.get_ydata()[0]
    assert ax.stop_marker.get_segments()[0][0][0] == n
    assert any(t.get_text() == "stopped: early_stopping" for t in ax.texts)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["loss", "val_loss", "learning_rate"]
    ax = plots.plot_history(history.history)  # a dict: no stop reason unless given
    assert ax.stop_marker is None
    ax = plots.plot_history(history.history, stop_reason="time_limit", learning_rate=False)
    assert ax.lr_axis is None and ax.texts[0].get_text() == "stopped: time_limit"


def test_layer_stats_panels_hold_the_recorded_arrays():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)), rng.integers(0, 2, size=(32, 1)).astype(float)
    model = mlp()
    rec = LayerRecorder(x, y)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[rec])
    fig, axes = plots.plot_layer_stats(rec, stats=("grad_norm", "dead", "saturated"))
    assert [ax.get_title() for ax in axes] == ["grad_norm", "dead", "saturated"]
    assert len(axes[0].get_lines()) == 3 and axes[0].get_yscale() == "log"
    for j, line in enumerate(axes[0].get_lines()):
        np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])
        np.testing.assert_array_equal(line.get_ydata(), rec.history["grad_norm"][:, j])
    assert [t.get_text() for t in axes[-1].get_legend().get_texts()] == rec.history.layers
    fig, axes = plots.plot_layer_stats(rec.history, stats="act_mean", x="step")
    assert axes[0].get_lines()[0].get_xdata().tolist() == rec.history.step
    with pytest.raises(ValueError, match="unknown statistic"):
        plots.plot_layer_stats(rec, stats=("norm",))


# ---------------------------------------------------------------- boundaries over training
def two_clouds(rng, n=40):
    x = np.r_[rng.normal(size=(n, 2)) * 0.4 + [1, 1], rng.normal(size=(n, 2)) * 0.4 - [1, 1]]
    return x, np.r_[np.ones(n), np.zeros(n)].astype(int)


@pytest.mark.parametrize("make", [lambda: Perceptron(), lambda: Adaline(max_epochs=20)])
def test_frames_of_a_neuron_replay_its_weights_history(rng, make):
    x, y = two_clouds(rng)
    model = make().fit(x, y)
    frames = plots.training_frames(model, n_frames=4)
    hist = model.weights_history_
    assert len(frames) == min(4, len(hist))
    title, score, threshold = frames[-1]
    np.testing.assert_allclose(score(x), model.decision_function(x))  # the final weights
    assert threshold == 0.0
    _, first, _ = frames[0]
    np.testing.assert_allclose(first(x), np.c_[np.ones(len(x)), x] @ hist[0][:, 0])
    fig, axes = plots.plot_boundary_evolution(frames, x, y, ncols=2)
    assert len(axes) == len(frames) == len(fig.axes)
    assert [ax.get_title() for ax in axes] == [f[0] for f in frames]


def test_frames_of_an_mlp_and_the_gif(rng, tmp_path):
    from PIL import Image

    x, y = two_clouds(rng)
    model = mlplab.Sequential([Input((2,)), Dense(4, activation="tanh"),
                               Dense(1, activation="sigmoid")], seed=0)
    model.compile(mlplab.SGD(learning_rate=0.5), "binary_crossentropy")
    snaps = WeightSnapshots()
    model.fit(x, y, epochs=5, verbose=0, callbacks=[snaps])
    assert snaps.epochs == [0, 1, 2, 3, 4, 5]
    frames = plots.training_frames(model, snaps, n_frames=3)
    assert [f[0] for f in frames] == ["epoch 0", "epoch 2", "epoch 5"]
    np.testing.assert_allclose(frames[-1][1](x), model.predict(x))
    model_weights = model.get_weights()
    frames[0][1](x)  # replaying uses a clone: the model keeps its weights
    for a, b in zip(model_weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    path = tmp_path / "boundary.gif"
    plots.animate_boundary_evolution(frames, x, y, path, resolution=30, dpi=40)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3
    with pytest.raises(ValueError, match="pass snapshots=WeightSnapshots"):
        plots.training_frames(model)


@pytest.mark.parametrize("name", [n for n in mlplab.activations.REGISTRY.names()
                                  if n != "softmax"])
def test_every_registered_activation_draws_its_own_derivative(name):
    """The dashed curve is f' of the solid one: it matches central differences of the plotted
    f away from the kinks (step, sign and relu-like functions at 0)."""
    ax = plots.plot_activation(name, xlim=(-3, 3), num=601)
    f, df = ax.get_lines()[:2]
    xi, y, dy = f.get_xdata(), f.get_ydata(), df.get_ydata()
    numeric = (y[2:] - y[:-2]) / (xi[2:] - xi[:-2])
    smooth = np.abs(xi[1:-1]) > 0.05
    np.testing.assert_allclose(dy[1:-1][smooth], numeric[smooth], atol=2e-3)
