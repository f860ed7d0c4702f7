"""`mlplab plot`: curves from a CSVLogger file and from a saved model's history (which the
model file now keeps), the network of a saved model, and its errors."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import mlplab  # noqa: E402
from mlplab.callbacks import CSVLogger, EarlyStopping  # noqa: E402
from mlplab.cli import main  # noqa: E402
from mlplab.layers import Dense, Input  # noqa: E402
from mlplab.plots import command  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def trained(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)), rng.integers(0, 2, size=(40, 1)).astype(float)
    model = mlplab.Sequential([Input((2,)), Dense(3, activation="tanh"),
                               Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=4, verbose=0, validation_data=(x, y),
                        callbacks=[CSVLogger(tmp_path / "log.csv"),
                                   EarlyStopping(patience=10)])
    model.save(tmp_path / "model.npz")
    return model, history


def test_a_saved_model_keeps_its_history(tmp_path, trained):
    model, history = trained
    loaded = mlplab.load_model(tmp_path / "model.npz")
    assert loaded.history.history == history.history  # floats survive JSON exactly
    assert loaded.history.epoch == [0, 1, 2, 3] and loaded.history.stop_reason == "max_epochs"
    fresh = mlplab.Sequential([Input((2,)), Dense(1)], seed=0)
    fresh.save(tmp_path / "fresh.npz")
    assert mlplab.load_model(tmp_path / "fresh.npz").history is None


def test_csv_log_is_read_back_as_the_history(tmp_path, trained):
    _, history = trained
    logs = command.read_csv_log(tmp_path / "log.csv")
    assert list(logs) == list(history.history)
    np.testing.assert_allclose(logs["val_loss"], history.history["val_loss"])


@pytest.mark.parametrize("source, extra", [("log.csv", []), ("model.npz", []),
                                           ("model.npz", ["--keys", "accuracy", "--logy"]),
                                           ("model.npz", ["--network"])])
def test_plot_writes_a_png(tmp_path, trained, capsys, source, extra):
    out = tmp_path / "out" / "picture.png"
    assert main(["plot", str(tmp_path / source), "-o", str(out), *extra]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 5_000


def test_plot_draws_what_the_file_holds(tmp_path, trained, monkeypatch):
    model, history = trained
    drawn = {}
    monkeypatch.setattr("mlplab.plots.save_figure",
                        lambda fig, path, dpi: drawn.setdefault("ax", fig.axes[0]))
    command.plot_source(tmp_path / "log.csv", tmp_path / "x.png")
    lines = drawn.pop("ax").get_lines()
    np.testing.assert_allclose(lines[1].get_ydata(), history.history["val_loss"])
    command.plot_source(str(tmp_path / "model.npz"), tmp_path / "x.png", network=True)
    links = drawn.pop("ax").collections[0]
    assert len(links.get_segments()) == 2 * 3 + 3 * 1


def test_plot_errors(tmp_path, trained, capsys):
    assert main(["plot", str(tmp_path / "none.csv")]) == 2
    assert "no file at" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "log.csv"), "--network"]) == 2
    assert "--network needs a saved model" in capsys.readouterr().err
    mlplab.Sequential([Input((2,)), Dense(1)], seed=0).save(tmp_path / "fresh.npz")
    assert main(["plot", str(tmp_path / "fresh.npz")]) == 2
    assert "holds no training history" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "model.npz"), "--keys", "acc"]) == 2
    assert "the history has no 'acc'" in capsys.readouterr().err
