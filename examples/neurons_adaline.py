"""Adaline and the LMS / delta rule (Widrow and Hoff, 1960; lecture 001): w <- w + alpha x (t - y).

A noisy linear problem t = 0.7 + 1.5 x_1 - 2 x_2 + 0.5 x_3 + noise, learned online (sample by
sample), with a decaying rate, in batch, and with the normalized rule
w <- w + beta (t - y) x / |x|^2; each result is compared with the least-squares solution of
numpy.linalg.lstsq. Then Adaline as a classifier (the sign of y) on two Iris classes.

    python examples/neurons_adaline.py [out.png]

The picture (error per epoch, weights per epoch) goes to out/neurons_adaline.png.
"""
import sys
from pathlib import Path

import numpy as np

from mlplab import plots
from mlplab.datasets import load_iris
from mlplab.neurons import Adaline, AdalineRegressor, LinearNetwork

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "neurons_adaline.png"


def main(out=DEFAULT_OUT, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 3))
    t = 0.7 + x @ np.array([1.5, -2.0, 0.5]) + rng.normal(scale=0.1, size=200)
    X = np.hstack([np.ones((200, 1)), x])
    w_lstsq = np.linalg.lstsq(X, t, rcond=None)[0]
    print(f"least squares (numpy.linalg.lstsq): w = {np.round(w_lstsq, 4)}")

    runs = {
        "online, alpha=0.01": AdalineRegressor(learning_rate=0.01, tol=None, max_epochs=60),
        "online, alpha=0.01/(1+0.1 e)": AdalineRegressor(learning_rate=0.01, decay=0.1,
                                                         tol=None, max_epochs=60),
        "batch, alpha=0.002": AdalineRegressor(learning_rate=0.002, batch_size=None,
                                               tol=None, max_epochs=60),
        "normalized, beta=0.1": AdalineRegressor(normalized=True, learning_rate=0.1,
                                                 tol=None, max_epochs=60),
    }
    distances = {}
    for name, model in runs.items():
        model.fit(x, t)
        w = np.r_[model.intercept_, model.coef_]
        distances[name] = np.linalg.norm(w - w_lstsq) / np.linalg.norm(w_lstsq)
        print(f"{name:<30} after {model.n_epochs_} epochs: w = {np.round(w, 4)}, "
              f"|w - w_lstsq| / |w_lstsq| = {distances[name]:.1e}, R^2 = {model.score(x, t):.4f}")
    closed = LinearNetwork().fit(x, t)
    print(f"{'LinearNetwork (closed form)':<30} w = {np.round(closed.W_[:, 0], 4)}")
    print("With a constant alpha, online LMS stays near, not on, the minimum (by an amount "
          "that grows with alpha);\na decaying alpha or batch steps settle on it. "
          "The normalized rule "
          "weights each sample by 1/|x|^2,\nso it settles near, not on, ordinary least squares.")

    xi, yi = load_iris()
    keep = yi < 2  # setosa (-1) vs versicolor (+1)
    xs = (xi[keep] - xi[keep].mean(axis=0)) / xi[keep].std(axis=0)
    clf = Adaline(learning_rate=0.005, max_epochs=200).fit(xs, yi[keep])
    print(f"\nAdaline classifier, setosa vs versicolor: {clf.n_epochs_} epochs, accuracy "
          f"{clf.score(xs, yi[keep]):.0%}")
    plot(out, runs, w_lstsq, E_min=0.5 * np.sum((t - X @ w_lstsq) ** 2))
    return distances


def plot(out, runs, w_lstsq, E_min):
    if not plots.available(f"the plot {out}"):
        return
    plt = plots.pyplot()
    fig, (ax_e, ax_w) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, model in runs.items():
        line, = ax_e.plot(np.arange(1, model.n_epochs_ + 1),
                          np.maximum(model.history_ - E_min, 1e-14),
                          label=name)
        ax_w.plot(model.weights_history_[:, 2, 0], color=line.get_color(), label=name)
    ax_e.set(yscale="log", xlabel="epoch", ylabel="E - E_min  (E = 1/2 sum (t - y)^2)",
             title="Error above the least-squares minimum, per epoch",
             ylim=(1e-14, None))
    ax_e.legend(fontsize=8)
    ax_w.axhline(w_lstsq[2], color="black", ls="--", lw=1, label="lstsq solution")
    ax_w.set(xlabel="epoch", ylabel="$w_2$ (true value -2)", title="Weight $w_2$ after each epoch",
             ylim=(w_lstsq[2] - 0.3, 0.1))
    inset = ax_w.inset_axes([0.45, 0.58, 0.5, 0.34])
    for name, model in runs.items():
        inset.plot(model.weights_history_[:, 2, 0])
    inset.axhline(w_lstsq[2], color="black", ls="--", lw=1)
    inset.set(xlim=(10, 60), ylim=(w_lstsq[2] - 0.01, w_lstsq[2] + 0.01), title="zoom",
              xlabel="epoch")
    inset.title.set_fontsize(8)
    ax_w.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 0.16))
    print(f"plot written to {plots.save_figure(fig, out)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
