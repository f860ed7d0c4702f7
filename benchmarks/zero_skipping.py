"""Where skipping the input's zeros pays: the compiled step with and without it, by density.

    python benchmarks/zero_skipping.py                    # float32, batches 32 and 256
    python benchmarks/zero_skipping.py --dtype float64 --batches 32

A 784-256-10 sigmoid/softmax model (plain SGD, the MNIST input layer) takes compiled steps on
a batch of MNIST images whose nonzero pixels are thinned or filled in to a given share (the
images' own share is 19%), once with the first layer skipping zeros and once with BLAS's
dense products (``table.MAX_INPUT_DENSITY`` set to 1 and to 0; the best of three blocks of
repetitions, alternating, one process, one BLAS thread). It prints dense / skipping time:
above 1 skipping pays. ``mlplab.fast.table.MAX_INPUT_DENSITY`` is set from this table.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import mlplab  # noqa: E402
from mlplab.fast import table  # noqa: E402

DEFAULT_DATA = os.environ.get("MLPLAB_DATA") or os.path.join(HERE, "..", "..", "shared",
                                                             "data", "mnist")


def batch_of_density(x, n, density, rng):
    """n images with a share `density` of nonzero entries: their own pixels, thinned at
    random, or topped up with random values in the zero pixels."""
    X = x[:n].copy()
    nz = X != 0
    share = nz.mean()
    if density < share:
        X[nz & (rng.random(X.shape) > density / share)] = 0
    else:
        fill = ~nz & (rng.random(X.shape) < (density - share) / (1 - share))
        X[fill] = rng.random(np.count_nonzero(fill)).astype(X.dtype)
    return np.ascontiguousarray(X)


def step_time(model, X, y, reps):
    step = model._steps[len(X)]
    blocks = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            step(X, y)
        blocks.append((time.perf_counter() - t0) / reps)
    return min(blocks), step.zero_skipping_steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--batches", default="32,256")
    parser.add_argument("--densities", default="0.05,0.1,0.19,0.3,0.4,0.5")
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    mlplab.set_num_threads(1)
    (x, y), _ = mlplab.datasets.load_mnist(args.data, flatten=True, normalize=True)
    x, rng = x[:1024].astype(args.dtype), np.random.default_rng(0)
    print(f"# compiled step, 784-256-10 sigmoid SGD, {args.dtype}, 1 BLAS thread; "
          f"dense / skipping time (above 1: skipping pays); "
          f"MAX_INPUT_DENSITY = {table.MAX_INPUT_DENSITY}")
    print("batch  density  dense ms  skipping ms  dense/skipping")
    for n in map(int, args.batches.split(",")):
        labels = y[:n].astype(np.int64)
        models = {}
        for skip in (True, False):  # a plan per setting: the limit is read when it is made
            table_limit, table.MAX_INPUT_DENSITY = table.MAX_INPUT_DENSITY, 1.0 if skip else 0.0
            try:
                model = mlplab.Sequential([mlplab.layers.Input((784,)),
                                           mlplab.layers.Dense(256, activation="sigmoid"),
                                           mlplab.layers.Dense(10, activation="softmax")],
                                          seed=0, dtype=args.dtype)
                model.compile(mlplab.SGD(0.01), "sparse_categorical_crossentropy")
                model.fit(x[:n], labels, batch_size=n, epochs=1, verbose=0)
            finally:
                table.MAX_INPUT_DENSITY = table_limit
            models[skip] = model
        reps = max(3, 6000 // n)
        for density in map(float, args.densities.split(",")):
            X = batch_of_density(x, n, density, rng)
            dense, _ = step_time(models[False], X, labels, reps)
            before = models[True]._steps[n].zero_skipping_steps
            skipping, after = step_time(models[True], X, labels, reps)
            assert after - before == 3 * reps, "the skipping plan took the dense products"
            print(f"{n:5d}  {np.count_nonzero(X) / X.size:7.2f}  {dense * 1e3:8.3f}  "
                  f"{skipping * 1e3:11.3f}  {dense / skipping:14.2f}")


if __name__ == "__main__":
    main()
