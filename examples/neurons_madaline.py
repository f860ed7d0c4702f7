"""Madaline I (Widrow and Hoff, 1962): Adalines feeding a fixed OR / AND unit, trained by MRI.

XOR, which no single perceptron or Adaline can learn, with two Adalines and an OR unit; then a
triangle (inside = +1) with three Adalines and an AND unit. MRI adapts, when the output is
wrong, only the Adaline(s) whose net input is closest to zero (minimal disturbance).

    python examples/neurons_madaline.py [out.png]

The picture (each Adaline's line and the Madaline's decision regions) goes to
out/neurons_madaline.png.
"""
import sys
from pathlib import Path

import numpy as np

from mlplab import plots
from mlplab.datasets import load_xor
from mlplab.neurons import Madaline

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "neurons_madaline.png"


def triangle(rng, n=200):
    x = rng.uniform(-1, 1, size=(3 * n, 2))
    g = x @ np.array([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]]).T - 0.5
    keep = np.abs(g).min(axis=1) > 0.05
    x, g = x[keep][:n], g[keep][:n]
    return x, np.where(np.all(g < 0, axis=1), 1, -1)


def main(out=DEFAULT_OUT, seed: int = 0):
    x_xor, y_xor = load_xor(bipolar=True)
    y_xor = y_xor.ravel()  # 1-D labels, as scikit-learn estimators take them
    xor = Madaline(n_adalines=2, logic="or", random_state=seed).fit(x_xor, y_xor)
    print(f"XOR, 2 Adalines + OR: converged={xor.converged_} after {xor.n_epochs_} epochs, "
          f"accuracy {xor.score(x_xor, y_xor):.0%}")
    for row, s, out_ in zip(x_xor.astype(int).tolist(), xor.transform(x_xor).astype(int).tolist(),
                            xor.predict(x_xor).ravel().astype(int).tolist()):
        print(f"  x = {row}: Adaline signs {s} -> OR -> {out_}")
    x_tri, y_tri = triangle(np.random.default_rng(seed))
    tri = Madaline(n_adalines=3, logic="and", random_state=seed).fit(x_tri, y_tri)
    print(f"triangle, 3 Adalines + AND: converged={tri.converged_} after {tri.n_epochs_} "
          f"epochs, accuracy {tri.score(x_tri, y_tri):.0%}, errors per epoch {tri.errors_}")
    plot(out, [(xor, x_xor, y_xor, "XOR: 2 Adalines + OR"),
               (tri, x_tri, y_tri, "Triangle: 3 Adalines + AND")])
    return xor, tri


def plot(out, panels):
    if not plots.available(f"the plot {out}"):
        return
    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8))
    for ax, (model, x, y, title) in zip(axes, panels):
        lim = 1.4 if len(x) == 4 else 1.1
        plots.plot_decision_boundary(model, x, y, ax=ax, bounds=(-lim, lim, -lim, lim),
                                     cmap="RdBu", title=f"{title}\n(blue region: Madaline "
                                                        f"outputs +1)")
        g = np.linspace(-lim, lim, 300)
        for j, (w0, w1, w2) in enumerate(model.W_.T):
            ax.plot(g, -(w0 + w1 * g) / w2, "--", lw=1.5, label=f"Adaline {j + 1}: $x w = 0$")
        ax.legend(fontsize=7, loc="upper center" if len(x) == 4 else "lower left")
    print(f"plot written to {plots.save_figure(fig, out)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
