"""mlplab.plots: files are written, boundaries lie where the model decides, clear errors."""
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

import mlplab  # noqa: E402
from mlplab import plots  # noqa: E402
from mlplab.layers import Dense, Input  # noqa: E402
from mlplab.neurons import Adaline, Madaline, Perceptron, SingleLayerNetwork  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def separable(rng, n=60):
    """Two clouds left and right of the line x_1 = 0.3 x_2 + 0.2, with a margin of 0.3."""
    x = rng.uniform(-1, 1, size=(4 * n, 2))
    s = x[:, 0] - 0.3 * x[:, 1] - 0.2
    keep = np.abs(s) > 0.3
    return x[keep][:n], (s[keep][:n] > 0).astype(int)


def boundary_segments(ax):
    """The vertices of the boundary lines drawn on ax (the unfilled contours)."""
    sets = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert sets, "no boundary was drawn"
    return np.concatenate([seg for cs in sets for level in cs.allsegs for seg in level])


def assert_separates(ax, x, y):
    """A straight boundary: a line fitted to its vertices has each class on one side."""
    v = boundary_segments(ax)
    centre = v.mean(axis=0)
    normal = np.linalg.svd(v - centre)[2][-1]  # the direction the vertices do not spread in
    assert np.abs((v - centre) @ normal).max() < 0.02  # the vertices lie on a line
    side = (x - centre) @ normal
    assert (np.all(side[y == 1] > 0) and np.all(side[y == 0] < 0)) or \
        (np.all(side[y == 1] < 0) and np.all(side[y == 0] > 0))


def test_boundary_of_a_function_is_where_it_changes_sign():
    x = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    y = np.array([0, 0, 1, 1])
    ax = plots.plot_decision_boundary(lambda g: g[:, 0], x, y, threshold=0.0)
    v = boundary_segments(ax)
    assert np.abs(v[:, 0]).max() < 0.02  # the line x_1 = 0
    assert v[:, 1].min() < -1.0 and v[:, 1].max() > 1.0  # across the whole picture
    assert_separates(ax, x, y)


@pytest.mark.parametrize("make", [
    lambda: Perceptron(),  # decision_function, boundary xi = 0
    lambda: Adaline(learning_rate=0.01, max_epochs=300, tol=None),  # the sign of y
    lambda: SingleLayerNetwork(learning_rate=0.5, max_epochs=500, tol=None),  # proba, 0.5
])
def test_boundary_of_a_neurons_estimator_separates_a_separable_set(rng, make):
    x, y = separable(rng)
    model = make().fit(x, y)
    assert model.score(x, y) == 1.0
    ax = plots.plot_decision_boundary(model, x, y)
    assert_separates(ax, x, y)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1"]


def test_boundary_of_a_sequential_at_probability_one_half(rng):
    x, y = separable(rng)
    model = mlplab.Sequential([Input((2,)), Dense(1, activation="sigmoid")], seed=0)
    model.set_weights([np.array([[10.0], [-3.0]]), np.array([-2.0])])  # 10 (x1 - 0.3 x2 - 0.2)
    ax = plots.plot_decision_boundary(model, x, y)
    assert_separates(ax, x, y)


def test_labels_several_classes_and_one_hot(rng):
    x = rng.normal(size=(90, 2)) * 0.3 + np.repeat([[-1, 0], [1, 0], [0, 1.5]], 30, axis=0)
    y = np.repeat([0, 1, 2], 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mlplab.ConvergenceWarning)
        p = Perceptron(max_epochs=20).fit(x, y)
    ax = plots.plot_decision_boundary(p, x, np.eye(3)[y], title="three classes")
    assert ax.get_title() == "three classes" and len(ax.get_legend().get_texts()) == 3
    xor_x, xor_y = mlplab.datasets.load_xor(bipolar=True)
    mada = Madaline(random_state=0).fit(xor_x, xor_y.ravel())  # predict gives the labels -1/+1
    plots.plot_decision_boundary(mada, xor_x, xor_y, bounds=(-1.5, 1.5, -1.5, 1.5))


def test_decision_boundary_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples, 2\).*received shape "
                                         r"\(4, 3\)"):
        plots.plot_decision_boundary(lambda g: g[:, 0], np.zeros((4, 3)))
    with pytest.raises(TypeError, match="expected a model with decision_function"):
        plots.plot_decision_boundary("model", np.zeros((4, 2)))
    with pytest.raises(ValueError, match="x has 4 samples but y has 3"):
        plots.plot_decision_boundary(lambda g: g[:, 0], np.eye(4, 2), [0, 1, 0])


def small_fit(validation: bool):
    x, y = mlplab.datasets.load_xor()
    model = mlplab.Sequential([Input((2,)), Dense(4, activation="tanh"),
                               Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    extra = {"validation_data": (x, y)} if validation else {}
    return model.fit(x, y, epochs=5, verbose=0, **extra)


def test_plot_history_draws_the_recorded_curves():
    ax = plots.plot_history(small_fit(validation=True))
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    assert ax.get_lines()[0].get_xdata().tolist() == [1, 2, 3, 4, 5]
    history = small_fit(validation=False)
    ax = plots.plot_history(history.history, keys="accuracy", logy=True, title="XOR")
    assert [line.get_label() for line in ax.get_lines()] == ["accuracy"]
    assert ax.get_yscale() == "log" and ax.get_title() == "XOR"
    ax = plots.plot_history({"a": [3, 2, 1], "b": [1, 1]}, keys=["a", "b"])
    assert len(ax.get_lines()) == 2


def test_plot_history_names_a_missing_key_and_the_recorded_ones():
    history = small_fit(validation=False)
    with pytest.raises(ValueError, match=r"plot_history\(\): the history has no 'val_loss' "
                                         r"\(val_ keys need validation_data or "
                                         r"validation_split in fit\(\)\); it records: 'loss', "
                                         r"'accuracy'\."):
        plots.plot_history(history, keys=("loss", "val_loss"))
    with pytest.raises(ValueError, match=r"no 'acc'; it records: 'loss'\."):
        plots.plot_history({"loss": [1.0]}, keys=["acc"])
    with pytest.raises(ValueError, match="the history is empty"):
        plots.plot_history({})
    with pytest.raises(TypeError, match="must be a History"):
        plots.plot_history([1.0, 0.5])


def test_save_figure_creates_the_folder_and_writes_the_file(tmp_path):
    fig, (left, right) = plt.subplots(1, 2)
    plots.plot_decision_boundary(lambda g: g[:, 0] * g[:, 1], np.eye(3, 2), [0, 1, 0],
                                 ax=left)
    plots.plot_history({"loss": [1.0, 0.5, 0.25]}, ax=right)
    path = plots.save_figure(fig, tmp_path / "a" / "b" / "run.png")
    assert path == tmp_path / "a" / "b" / "run.png"
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5_000
    assert not plt.fignum_exists(fig.number)  # closed
    fig = plt.figure()
    plots.save_figure(fig, tmp_path / "kept.pdf", close=False)
    assert (tmp_path / "kept.pdf").read_bytes()[:4] == b"%PDF" and plt.fignum_exists(fig.number)


def test_matplotlib_is_imported_lazily_with_a_clear_message(monkeypatch):
    import subprocess
    code = "import sys, mlplab, mlplab.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install mlplab\[plot\]"):
        plots.plot_history({"loss": [1.0]})
