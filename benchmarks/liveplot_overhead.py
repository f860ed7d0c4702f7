"""What LivePlot costs outside a notebook: fit's time per batch with and without it.

    PYTHONPATH=src python benchmarks/liveplot_overhead.py

Online learning (batch_size=1) on a 2-8-1 network, so a batch is as cheap as it gets and any
per-batch cost would show. Runs alternate (A B A B ...) and the medians are compared.
"""
import statistics
import time

import numpy as np

import mlplab
from mlplab.layers import Dense, Input


def seconds_per_batch(callbacks, x, y, epochs=3):
    model = mlplab.Sequential([Input((2,)), Dense(8, activation="tanh"),
                               Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy")
    t0 = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=1, verbose=0, callbacks=callbacks)
    return (time.perf_counter() - t0) / (epochs * len(x))


def main(repeats=7):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    y = (x[:, :1] * x[:, 1:] > 0).astype(float)
    plain, live = [], []
    for _ in range(repeats):
        plain.append(seconds_per_batch([], x, y))
        live.append(seconds_per_batch([mlplab.LivePlot(boundary=(x, y))], x, y))
    a, b = statistics.median(plain), statistics.median(live)
    spread = (max(plain) - min(plain)) / a
    print(f"per batch without LivePlot: {a * 1e6:.2f} us (runs spread {spread:.1%})")
    print(f"per batch with LivePlot:    {b * 1e6:.2f} us")
    print(f"ratio with/without: {b / a:.3f} (difference {(b - a) * 1e9:+.0f} ns per batch)")


if __name__ == "__main__":
    main()
