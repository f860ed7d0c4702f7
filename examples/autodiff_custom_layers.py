"""A custom loss and custom layers built on mlplab.autodiff, and what they cost.

1. Huber loss written as a Python function of Tensors: compile(loss=huber).
2. A learned elementwise scale, a CustomLayer with build() and forward() only.
3. Time per epoch of Dense(tanh) vs the same layer written as a CustomLayer.

Run: python examples/autodiff_custom_layers.py
"""
import time

import numpy as np

from mlplab import CustomLayer, Sequential, autodiff as ad
from mlplab.datasets import load_iris
from mlplab.layers import Dense, Input
from mlplab.optimizers import Adam
from mlplab.preprocessing import to_categorical


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss: 1/2 r^2 for |r| <= delta, else delta (|r| - delta / 2)."""
    r = ad.abs(y_pred - y_true)
    return ad.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).mean(axis=-1)


class Scale(CustomLayer):
    """Y = X * s, one learned factor per feature."""

    def build(self, input_shape):
        self.s = self.add_weight(input_shape, initializer="ones", name="scale")

    def forward(self, x):
        return x * self.s


class TanhDense(CustomLayer):
    """Dense(units, activation="tanh") written as its forward pass only."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.W = self.add_weight((input_shape[0], self.units), name="kernel")
        self.b = self.add_weight((self.units,), initializer="zeros", name="bias")

    def forward(self, x):
        return ad.tanh(x @ self.W + self.b)


def iris():
    x, y = load_iris()
    idx = np.random.default_rng(0).permutation(len(x))
    return x, to_categorical(y, 3), idx[:120], idx[120:]


def demo_huber():
    x, Y, train, test = iris()
    x = (x - x[train].mean(0)) / x[train].std(0)
    model = Sequential([Input((4,)), Dense(8, activation="tanh"),
                        Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.01), loss=huber, metrics=["accuracy"])
    model.fit(x[train], Y[train], epochs=150, batch_size=16, verbose=0)
    print(f"Huber loss function:  train accuracy {model.evaluate(x[train], Y[train])[1]:.3f}, "
          f"test accuracy {model.evaluate(x[test], Y[test])[1]:.3f} (30 held-out flowers)")


def demo_scale():
    x, Y, train, test = iris()
    x = x / 10.0
    model = Sequential([Input((4,)), Scale(), Dense(8, activation="tanh"),
                        Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[train], Y[train], epochs=150, batch_size=16, verbose=0)
    print(f"Learned scale layer:  train accuracy {model.evaluate(x[train], Y[train])[1]:.3f}, "
          f"test accuracy {model.evaluate(x[test], Y[test])[1]:.3f}; "
          f"scale = {np.round(model.layers[0].s.data, 2)}")


def make_model(hidden, n_in, n_out, loss="mse"):
    model = Sequential([Input((n_in,)), hidden, Dense(n_out)], seed=0)
    model.compile(optimizer="sgd", loss=loss)
    return model


def seconds_per_epoch(models, n, n_in, n_out, batch_size, epochs, rounds=5):
    """Best time per epoch of each model. The models take turns, round after round, so a
    change in the machine's load (a shared machine) affects all of them alike."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, n_in)).astype(np.float32)
    y = rng.normal(size=(n, n_out)).astype(np.float32)
    best = [np.inf] * len(models)
    for model in models:
        model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)  # warm-up
    for _ in range(rounds):
        for i, model in enumerate(models):
            start = time.perf_counter()
            model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
            best[i] = min(best[i], (time.perf_counter() - start) / epochs)
    return best


def mse_fn(y_true, y_pred):
    return ((y_pred - y_true) ** 2).mean(axis=-1)


def timing():
    print("\nTime per epoch (best of 5, the three models taking turns), float32:")
    for label, (n, n_in, units, n_out, bs, epochs) in {
            "small (120 x 4 -> 16 -> 3, batch 16)": (120, 4, 16, 3, 16, 50),
            "larger (2000 x 64 -> 128 -> 10, batch 64)": (2000, 64, 128, 10, 64, 5)}.items():
        models = [make_model(Dense(units, activation="tanh"), n_in, n_out),
                  make_model(TanhDense(units), n_in, n_out),
                  make_model(Dense(units, activation="tanh"), n_in, n_out, loss=mse_fn)]
        dense, custom, fn_loss = seconds_per_epoch(models, n, n_in, n_out, bs, epochs)
        print(f"  {label}: Dense {dense * 1e3:.2f} ms, CustomLayer {custom * 1e3:.2f} ms "
              f"({custom / dense:.1f}x), Dense + loss function {fn_loss * 1e3:.2f} ms "
              f"({fn_loss / dense:.1f}x)")


if __name__ == "__main__":
    demo_huber()
    demo_scale()
    timing()
