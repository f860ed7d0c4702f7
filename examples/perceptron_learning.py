"""Rosenblatt's perceptron learning (lecture 001/002): w <- w + alpha x (t - y).

Trains on AND and OR (0/1 and -1/+1 codings), on a random linearly separable set of 200 points
in 5 dimensions, and on XOR, printing epochs and updates; then replays the recorded weights of
a 2-D run to draw the decision line w_0 + w_1 x_1 + w_2 x_2 = 0 after every update.

    python examples/perceptron_learning.py [out.png]

The picture goes to out/perceptron_learning.png unless a path is given.
"""
import sys
import warnings
from pathlib import Path

import numpy as np

from mlplab import plots
from mlplab.datasets import load_logic_gate, load_xor
from mlplab.neurons import ConvergenceWarning, Perceptron

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "perceptron_learning.png"


def separable_points(rng, n, dim, margin=0.1):
    w, b = rng.normal(size=dim), rng.uniform(-0.3, 0.3)
    x = rng.uniform(-1, 1, size=(4 * n, dim))
    keep = np.abs(x @ w + b) / np.linalg.norm(w) > margin
    x = x[keep][:n]
    return x, (x @ w + b > 0).astype(int)


def report(name, p, x, y):
    state = "converged" if p.converged_ else "did NOT converge"
    print(f"{name:<28} {state} after {p.n_epochs_:>3} epochs, {p.n_updates_:>4} updates, "
          f"accuracy {p.score(x, y):.0%}")


def main(out=DEFAULT_OUT, seed: int = 0):
    for gate in ("and", "or"):
        for coding in ("binary", "bipolar"):
            x, y = load_logic_gate(gate, bipolar=coding == "bipolar")
            y = y.ravel()  # 1-D labels, as scikit-learn estimators take them
            p = Perceptron(coding=coding).fit(x, y)
            report(f"{gate.upper()} ({coding})", p, x, y)
            print(f"{'':<28} w = {p.coef_}, w_0 = {p.intercept_:g}")
    rng = np.random.default_rng(seed)
    x5, y5 = separable_points(rng, 200, 5)
    p5 = Perceptron(max_epochs=1000).fit(x5, y5)
    report("200 points in 5-D", p5, x5, y5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        x_xor, y_xor = load_xor()
        y_xor = y_xor.ravel()
        p_xor = Perceptron(max_epochs=100).fit(x_xor, y_xor)
    report("XOR", p_xor, x_xor, y_xor)

    x2, y2 = separable_points(rng, 60, 2, margin=0.03)
    p2 = Perceptron(learning_rate=0.1).fit(x2, y2)
    report("60 points in 2-D (plotted)", p2, x2, y2)
    plot(out, p2, x2, y2, p5, p_xor)
    return {"5-D": p5, "2-D": p2, "XOR": p_xor}


def plot(out, p2, x2, y2, p5, p_xor):
    if not plots.available(f"the plot {out}"):
        return
    plt = plots.pyplot()
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(11, 4.8))
    ax.scatter(*x2[y2 == 1].T, marker="o", c="tab:blue", label="class 1", zorder=3)
    ax.scatter(*x2[y2 == 0].T, marker="x", c="tab:red", label="class 0", zorder=3)
    xs = np.array([-1.2, 1.2])
    W = p2.weights_history_[1:, :, 0]  # after each update: [w_0, w_1, w_2]
    cmap = plt.get_cmap("viridis_r")
    for k, (w0, w1, w2) in enumerate(W):
        if abs(w2) > 1e-12:
            last = k == len(W) - 1
            ax.plot(xs, -(w0 + w1 * xs) / w2, color="black" if last else cmap(k / len(W)),
                    lw=2.5 if last else 1, alpha=1 if last else 0.6,
                    label="final line" if last else None)
    ax.set(xlim=(-1.2, 1.2), ylim=(-1.2, 1.2), xlabel="$x_1$", ylabel="$x_2$",
           title=f"Decision line after each of the {len(W)} updates\n"
                 f"(yellow: early, dark blue: late, {p2.n_epochs_} epochs)")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(1, len(W)))
    fig.colorbar(sm, ax=ax, label="update number")
    ax.legend(loc="lower left", fontsize=8)
    epochs = lambda p: np.arange(1, p.n_epochs_ + 1)  # noqa: E731
    ax_err.plot(epochs(p2), p2.errors_, "o-", label="2-D set (converged)")
    ax_err.plot(epochs(p5), p5.errors_, ".-", label="200 points, 5-D (converged)")
    ax_err.plot(epochs(p_xor), p_xor.errors_, "-", label="XOR (never converges)")
    ax_err.set(xlabel="epoch", ylabel="misclassified samples in the epoch",
               xlim=(0, 1.5 * max(p2.n_epochs_, p5.n_epochs_) + 1),
               title=f"Errors per epoch (XOR: still {p_xor.errors_[-1]} of 4 wrong "
                     f"at epoch {p_xor.n_epochs_})")
    ax_err.legend()
    print(f"plot written to {plots.save_figure(fig, out)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
