"""Draw every picture of docs/plots.md into docs/img/ (or the folder given).

    PYTHONPATH=src python docs/make_figures.py            # from the repository root
    PYTHONPATH=src python docs/make_figures.py --out /tmp/figures

Everything is seeded, so the pictures are the same on every run. Also prints the numbers of
the vanishing-gradient demo quoted in docs/plots.md.
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import mlplab  # noqa: E402
from mlplab import datasets, plots  # noqa: E402
from mlplab.callbacks import EarlyStopping, ReduceLROnPlateau  # noqa: E402
from mlplab.layers import Dense, Input  # noqa: E402
from mlplab.neurons import Adaline, Perceptron  # noqa: E402
from mlplab.recorder import LayerRecorder, WeightSnapshots  # noqa: E402

plt = plots.pyplot()


def activations(out: Path):
    fig, axes = plt.subplots(2, 3, figsize=(11, 6))
    for ax, (name, params) in zip(axes.ravel(), [
            ("sigmoid", {}), ("sigmoid", {"slope": 3.0}), ("tanh", {}), ("relu", {}),
            ("leaky_relu", {"alpha": 0.1}), ("elu", {"alpha": 1.0})]):
        plots.plot_activation(name, ax=ax, xlim=(-4, 4), **params)
    plots.save_figure(fig, out / "activations.png")


def moons():
    return datasets.make_moons(200, noise=0.15, seed=0)


def moons_mlp(epochs=60, callbacks=()):
    x, y = moons()
    model = mlplab.Sequential([Input((2,)), Dense(8, activation="tanh"),
                               Dense(4, activation="tanh"), Dense(1, activation="sigmoid")],
                              seed=0)
    model.compile(mlplab.SGD(learning_rate=0.3, momentum=0.9), "binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=list(callbacks))
    return model, history


def weights_and_network(out: Path):
    model, _ = moons_mlp()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    plots.plot_weights(model, layer=0, ax=left, title="W_1 (2 x 8) as a heatmap")
    plots.plot_hinton(model, layer=1, ax=right, title="W_2 (8 x 4) as a Hinton diagram")
    plots.save_figure(fig, out / "weights.png")
    ax = plots.plot_network(model, title="2-8-4-1 after training on the moons "
                                         "(red w > 0, blue w < 0)")
    plots.save_figure(ax.figure, out / "network.png")


def confusion(out: Path):
    x, y = datasets.load_iris()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    model = mlplab.Sequential([Input((4,)), Dense(3, activation="softmax")], seed=0)
    model.compile(mlplab.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)  # stopped early: some mistakes
    pred = model.predict(x)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    names = list(datasets.IRIS_CLASSES)
    plots.plot_confusion_matrix(y, pred, ax=left, display_labels=names, title="counts")
    plots.plot_confusion_matrix(y, pred, ax=right, display_labels=names, normalize="true",
                                title='normalize="true" (recall on the diagonal)')
    plots.save_figure(fig, out / "confusion.png")


def history(out: Path):
    x, y = moons()
    model = mlplab.Sequential([Input((2,)), Dense(16, activation="relu"),
                               Dense(1, activation="sigmoid")], seed=0)
    model.compile(mlplab.SGD(learning_rate=0.5), "binary_crossentropy")
    hist = model.fit(x, y, epochs=300, batch_size=32, verbose=0, validation_split=0.3,
                     callbacks=[ReduceLROnPlateau(patience=5, factor=0.5, min_delta=1e-3),
                                EarlyStopping(patience=15, min_delta=1e-3)])
    ax = plots.plot_history(hist, title="moons: loss, val_loss, learning rate, stop")
    plots.save_figure(ax.figure, out / "history.png")


def boundaries(out: Path):
    x, y = datasets.make_blobs(60, centers=[[-1.0, -0.5], [1.0, 0.5]], cluster_std=0.45,
                               seed=0)
    x = x + [2.0, 2.0]  # off the origin: the bias must be learned too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mlplab.ConvergenceWarning)
        perceptron = Perceptron(learning_rate=0.1, max_epochs=20, shuffle=True, random_state=0,
                                init="random").fit(x, y)
    fig, _ = plots.plot_boundary_evolution(plots.training_frames(perceptron, n_frames=6), x, y)
    fig.suptitle("Perceptron: the line after updates")
    plots.save_figure(fig, out / "boundary_perceptron.png")
    adaline = Adaline(learning_rate=0.01, max_epochs=30, tol=None).fit(x, y)
    fig, _ = plots.plot_boundary_evolution(plots.training_frames(adaline, n_frames=6), x, y)
    fig.suptitle("Adaline: the line after epochs")
    plots.save_figure(fig, out / "boundary_adaline.png")
    snaps = WeightSnapshots()
    model, _ = moons_mlp(epochs=60, callbacks=[snaps])
    frames = plots.training_frames(model, snaps, n_frames=6)
    mx, my = moons()
    fig, _ = plots.plot_boundary_evolution(frames, mx, my)
    fig.suptitle("2-8-4-1 MLP on the moons")
    plots.save_figure(fig, out / "boundary_mlp.png")
    plots.animate_boundary_evolution(plots.training_frames(model, snaps, n_frames=13), mx, my,
                                     out / "boundary_mlp.gif", fps=3, resolution=80, dpi=60)
    plt.close("all")


def deep(activation: str):
    """Lecture 004's network: 10 inputs, five hidden layers of 32, one sigmoid output."""
    return mlplab.Sequential([Input((10,))] + [Dense(32, activation=activation, name=f"L{i}")
                                               for i in range(1, 6)]
                             + [Dense(1, activation="sigmoid", name="L6")], seed=0)


def vanishing(out: Path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 10))
    y = (x[:, :1] * x[:, 1:2] > 0).astype(float)
    for activation in ("sigmoid", "relu"):
        model = deep(activation)
        model.compile("sgd", "binary_crossentropy")
        rec = LayerRecorder(x, y)
        model.fit(x, y, epochs=10, verbose=0, callbacks=[rec])
        g = rec.history["grad_norm"]
        print(f"{activation}: |dE/dW_1| / |dE/dW_6| = {g[0, 0] / g[0, -1]:.3g} before "
              f"training, {g[-1, 0] / g[-1, -1]:.3g} after 10 epochs")
        stats = ("grad_norm", "update_ratio", "act_mean",
                 "saturated" if activation == "sigmoid" else "dead")
        fig, _ = plots.plot_layer_stats(rec, stats=stats)
        fig.suptitle(f"6-layer {activation} network, per layer (LayerRecorder)")
        plots.save_figure(fig, out / f"layer_stats_{activation}.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "img"))
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)
    for draw in (activations, weights_and_network, confusion, history, boundaries, vanishing):
        draw(out)
    print(f"figures in {out}")


if __name__ == "__main__":
    main()
