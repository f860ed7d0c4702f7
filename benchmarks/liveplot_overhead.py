"""What LivePlot costs outside a notebook: fit's time per batch with and without it.

    PYTHONPATH=src python benchmarks/liveplot_overhead.py

Online learning (batch_size=1) on a 2-8-1 network, so a batch is as cheap as it gets and any
per-batch cost would show. Runs alternate (A B A B ...); the minimum of each side (the run
least disturbed by other load) and the medians are compared. Then the only cost LivePlot can
add, its epoch hook, is timed directly and spread over an epoch's batches (it has no batch
hook, so fit never calls it per batch).
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


def main(repeats=9):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    y = (x[:, :1] * x[:, 1:] > 0).astype(float)
    plain, live = [], []
    for _ in range(repeats):
        plain.append(seconds_per_batch([], x, y))
        live.append(seconds_per_batch([mlplab.LivePlot(boundary=(x, y))], x, y))
    for name, pick in (("min", min), ("median", statistics.median)):
        a, b = pick(plain), pick(live)
        print(f"{name:>6}: per batch {a * 1e6:.2f} us without LivePlot, {b * 1e6:.2f} us with "
              f"(ratio {b / a:.3f})")
    print(f"runs spread (max - min) / min without LivePlot: "
          f"{(max(plain) - min(plain)) / min(plain):.0%}")
    cb = mlplab.LivePlot()
    cb.on_train_begin()
    n = 100_000
    t0 = time.perf_counter()
    for epoch in range(n):
        cb.on_epoch_end(epoch, {"loss": 0.5})
    hook = (time.perf_counter() - t0) / n
    print(f"epoch hook outside a notebook: {hook * 1e9:.0f} ns per epoch = "
          f"{hook / len(x) * 1e9:.3f} ns per batch at {len(x)} batches per epoch")


if __name__ == "__main__":
    main()
