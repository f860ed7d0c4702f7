"""Single-layer networks (lecture 003): least squares, gradient descent, sigmoid/tanh layers.

1. A linear network (multivariate linear regression) solved in closed form,
   W = (X^T X)^{-1} X^T D (by lstsq), and by gradient descent W <- W + alpha X^T (D - Y).
2. The four-animal table of the lecture with bipolar one-hot targets, learned by a layer of
   tanh, sigmoid or softmax units with SSE or cross-entropy.
3. Iris: setosa vs the rest (linearly separable), and all three classes; the accuracy after
   every epoch is replayed from the recorded weights to compare SSE with cross-entropy.

    python examples/neurons_single_layer.py [out.png]

The picture goes to out/neurons_single_layer.png.
"""
import sys
from pathlib import Path

import numpy as np

from mlplab import plots
from mlplab.datasets import load_iris
from mlplab.neurons import LinearNetwork, SingleLayerNetwork

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "out" / "neurons_single_layer.png"

# Size: -1 small, 0 medium, 1 large; fur: -1 none, 0 short, 1 long; talks: -1 no, 1 yes.
ANIMALS = np.array([[-1, 0, -1], [1, 1, -1], [-1, -1, 1], [0, 0, -1]], dtype=float)
NAMES = ["cat", "dog", "parrot", "carp"]
TARGETS = np.array([[1, -1, -1, -1], [-1, 1, -1, -1], [-1, -1, 1, -1], [1, -1, -1, -1]],
                   dtype=float)  # bipolar one-hot; no carp in the lecture's table


def main(out=DEFAULT_OUT, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(100, 3))
    D = x @ rng.normal(size=(3, 2)) + [0.5, -1.0] + rng.normal(scale=0.1, size=(100, 2))
    closed = LinearNetwork().fit(x, D)
    gd = LinearNetwork(solver="gd", learning_rate=0.005).fit(x, D)
    ref = np.linalg.lstsq(np.c_[np.ones(100), x], D, rcond=None)[0]
    print("1. linear network, 3 inputs -> 2 outputs")
    print(f"   closed form vs numpy.linalg.lstsq: max |difference| = "
          f"{np.abs(closed.W_ - ref).max():.1e}")
    print(f"   gradient descent: {gd.n_epochs_} epochs, relative distance to lstsq "
          f"{np.linalg.norm(gd.W_ - ref) / np.linalg.norm(ref):.1e}, R^2 = {gd.score(x, D):.4f}")

    print("\n2. four-animal table (lecture 003), bipolar one-hot targets")
    for activation, loss in [("tanh", "sse"), ("tanh", "cross_entropy"),
                             ("sigmoid", "cross_entropy"), ("softmax", "cross_entropy")]:
        m = SingleLayerNetwork(activation=activation, loss=loss, learning_rate=0.5,
                               max_epochs=2000).fit(ANIMALS, TARGETS)
        winners = [NAMES[k] for k in np.argmax(m.predict_proba(ANIMALS), axis=1)]
        print(f"   {activation:>7} + {loss:<13} {m.n_epochs_:>4} epochs, accuracy "
              f"{m.score(ANIMALS, TARGETS):.0%}: {winners}")

    print("\n3. Iris (standardized)")
    xi, yi = load_iris()
    xs = (xi - xi.mean(axis=0)) / xi.std(axis=0)
    setosa = SingleLayerNetwork(learning_rate=0.01, max_epochs=500).fit(xs, (yi == 0) * 1)
    print(f"   setosa vs rest, one sigmoid unit: {setosa.n_epochs_} epochs, accuracy "
          f"{setosa.score(xs, (yi == 0) * 1):.0%}")
    curves = {}
    for activation, loss in [("sigmoid", "sse"), ("sigmoid", "cross_entropy"),
                             ("softmax", "cross_entropy")]:
        m = SingleLayerNetwork(activation=activation, loss=loss, learning_rate=0.01,
                               max_epochs=300, tol=None).fit(xs, yi)
        Xb = np.c_[np.ones(len(xs)), xs]
        curves[f"{activation} + {loss}"] = [np.mean(np.argmax(Xb @ W, axis=1) == yi)
                                            for W in m.weights_history_[1:]]
        print(f"   3 classes, {activation} + {loss}: accuracy {m.score(xs, yi):.1%} "
              f"after {m.n_epochs_} epochs")
    plot(out, curves)
    return curves


def plot(out, curves):
    if not plots.available(f"the plot {out}"):
        return
    ax = plots.plot_history(curves, keys=list(curves))
    ax.set(xlabel="epoch (batch gradient descent, alpha = 0.01)", ylabel="training accuracy",
           title="Iris, one layer of 3 units: accuracy after each epoch", ylim=(0.5, 1.0))
    print(f"plot written to {plots.save_figure(ax.figure, out)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
