"""mlplab against PyTorch over a grid of MLP settings a user writes, and Keras's MNIST MLP.

    python benchmarks/mnist_grid.py                 # 24 cells + Keras's MLP, 3 repetitions
    python benchmarks/mnist_grid.py --quick         # 9 cells, 1 repetition, smaller subsets
    python benchmarks/mnist_grid.py --cells 0,5,keras --reps 5

The grid is 784-256-10 on MNIST, one epoch per measurement, over hidden activation
(sigmoid, tanh, relu) x output and loss (softmax + cross-entropy, sigmoid + binary
cross-entropy, linear + MSE) x optimizer (SGD lr 0.1, SGD momentum 0.9 lr 0.05, Adam lr 1e-3)
x dtype (float32, float64) x batch size (1, 32, 256): a fixed list of 24 cells (``CELLS``) in
which every value of every axis appears and every pair of hidden activation and output
appears (two Latin squares and a third partial one). Batch-1 cells train on the first 2,000
images, the others on 20,000. "keras" is Keras's MNIST MLP example: 784-512-512-10 ReLU,
Dropout 0.2 after each hidden layer, RMSprop lr 1e-3, batch 128, categorical cross-entropy on
one-hot labels (20,000 images).

Both sides start from the same weights (mlplab's Glorot-uniform draw, copied into torch) and
draw the same shuffled batches (``BatchIterator`` with the model's generator). Each side first
trains on four batches (first touches, plans), then one timed epoch. Every measurement is a
fresh Python process, alternating mlplab and PyTorch (A B A B ...); each repetition's ratio is
printed, and the median of the ratios per cell. Threads: both sides get ``--threads`` (default
the CPU count; OPENBLAS_NUM_THREADS for mlplab's BLAS, ``torch.set_num_threads`` for torch).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import _spawn  # the worker call shared by the benchmarks (next to this file)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.environ.get("MLPLAB_DATA") or os.path.join(HERE, "..", "..", "shared",
                                                             "data", "mnist")
HIDDEN = ("sigmoid", "tanh", "relu")
OUTPUTS = ("softmax+ce", "sigmoid+bce", "linear+mse")
OPTIMIZERS = ("sgd", "momentum", "adam")
DTYPES = ("float32", "float64")
BATCHES = (1, 32, 256)
TARGET = 0.70


def _cells():
    """24 cells: (hidden, output, optimizer, dtype, batch) indices by three Latin squares."""
    cells = []
    for square in range(3):
        for h in range(3):
            for o in range(3):
                if square == 2 and o == 2 - h:
                    continue                      # the third square: 6 of its 9 cells
                p = (h + (square + 1) * o + square) % 3
                b = (2 * h + o + square) % 3
                d = (h + o + square) % 2
                cells.append((HIDDEN[h], OUTPUTS[o], OPTIMIZERS[p], DTYPES[d], BATCHES[b]))
    return cells


CELLS = _cells()
QUICK = [CELLS[i] for i in (0, 4, 8, 9, 13, 17, 19, 21, 23)]
for _axis, _values in enumerate((HIDDEN, OUTPUTS, OPTIMIZERS, DTYPES, BATCHES)):
    assert {c[_axis] for c in CELLS} == set(_values)
    assert {c[_axis] for c in QUICK} == set(_values)
assert len({(c[0], c[1]) for c in CELLS}) == 9


def _samples(batch, quick):
    return (500 if quick else 2000) if batch == 1 else (5000 if quick else 20000)


# ---------------------------------------------------------------------------- workers
def _load(data, samples, dtype):
    import mlplab

    (x, y), _ = mlplab.datasets.load_mnist(data, flatten=True, normalize=True)
    x, y = x[:samples].astype(dtype), y[:samples].astype("int64")
    return x, y


def _mlplab_model(spec):
    import mlplab
    from mlplab.layers import Dense, Dropout, Input

    if spec["cell"] == "keras":
        layers = [Input((784,)), Dense(512, activation="relu"), Dropout(0.2),
                  Dense(512, activation="relu"), Dropout(0.2), Dense(10, activation="softmax")]
        model = mlplab.Sequential(layers, seed=spec["seed"], dtype="float32")
        model.compile(mlplab.optimizers.RMSprop(1e-3), "categorical_crossentropy")
        return model
    hidden, output, opt, dtype, _ = spec["cell"]
    act = output.split("+")[0]
    model = mlplab.Sequential([Input((784,)), Dense(256, activation=hidden),
                               Dense(10, activation=act)], seed=spec["seed"], dtype=dtype)
    loss = {"softmax+ce": "sparse_categorical_crossentropy",
            "sigmoid+bce": "binary_crossentropy", "linear+mse": "mse"}[output]
    optimizer = {"sgd": lambda: mlplab.SGD(0.1),
                 "momentum": lambda: mlplab.SGD(0.05, momentum=0.9),
                 "adam": lambda: mlplab.optimizers.Adam(1e-3)}[opt]()
    model.compile(optimizer, loss)
    return model


def _setting(spec):
    """(dtype, batch, samples, sparse labels) of a cell."""
    if spec["cell"] == "keras":
        return "float32", 128, 5000 if spec["quick"] else 20000, False
    _, output, _, dtype, batch = spec["cell"]
    return dtype, batch, _samples(batch, spec["quick"]), output == "softmax+ce"


def _targets(y, sparse, dtype):
    import numpy as np

    return y if sparse else np.eye(10, dtype=dtype)[y]


def worker_mlplab(spec):
    dtype, batch, samples, sparse = _setting(spec)
    x, y = _load(spec["data"], samples, dtype)
    D = _targets(y, sparse, dtype)
    model = _mlplab_model(spec)
    model.fit(x[:4 * batch], D[:4 * batch], epochs=1, batch_size=batch, shuffle=False,
              verbose=0)
    t0 = time.perf_counter()
    hist = model.fit(x, D, epochs=1, batch_size=batch, shuffle=True, verbose=0)
    return {"time": time.perf_counter() - t0, "loss": hist.history["loss"][-1],
            "step": type(model._steps.get(batch)).__name__}


def worker_torch(spec):
    import numpy as np
    import torch

    from mlplab.preprocessing import BatchIterator

    torch.set_num_threads(spec["threads"])
    dtype, batch, samples, sparse = _setting(spec)
    x, y = _load(spec["data"], samples, dtype)
    D = _targets(y, sparse, dtype)
    ref = _mlplab_model(spec)       # the same initial weights and the same shuffling stream
    weights = ref.get_weights()
    tdtype = torch.float32 if dtype == "float32" else torch.float64
    mods, k = [], 0
    for layer in ref.layers:
        if type(layer).__name__ == "Dropout":
            mods.append(torch.nn.Dropout(layer.rate))
            continue
        lin = torch.nn.Linear(*layer.W.shape).to(tdtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(weights[k].T.copy()))
            lin.bias.copy_(torch.from_numpy(weights[k + 1]))
        k += 2
        mods.append(lin)
        if layer is not ref.layers[-1]:  # the output's activation is in the torch loss
            mods.append({"Sigmoid": torch.nn.Sigmoid, "Tanh": torch.nn.Tanh,
                         "ReLU": torch.nn.ReLU}[type(layer.activation).__name__]())
    net = torch.nn.Sequential(*mods)
    if spec["cell"] == "keras":
        opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()                 # on one-hot probabilities
    else:
        _, output, name, _, _ = spec["cell"]
        params = net.parameters()
        opt = {"sgd": lambda: torch.optim.SGD(params, lr=0.1),
               "momentum": lambda: torch.optim.SGD(params, lr=0.05, momentum=0.9),
               "adam": lambda: torch.optim.Adam(params, lr=1e-3, eps=1e-7)}[name]()
        loss_fn = {"softmax+ce": torch.nn.CrossEntropyLoss,
                   "sigmoid+bce": torch.nn.BCEWithLogitsLoss,     # the sigmoid on the logits
                   "linear+mse": torch.nn.MSELoss}[output]()

    def epoch(xs, ds, shuffle):
        total = 0.0
        for xb, db in BatchIterator(xs, ds, batch_size=batch, shuffle=shuffle,
                                    seed=ref._shuffle_rng):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(torch.from_numpy(xb)), torch.from_numpy(db))
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        return total / len(xs)

    net.train()
    epoch(x[:4 * batch], D[:4 * batch], False)
    t0 = time.perf_counter()
    loss = epoch(x, D, True)
    return {"time": time.perf_counter() - t0, "loss": loss, "threads": torch.get_num_threads(),
            "dtype": str(np.dtype(dtype))}


# ---------------------------------------------------------------------------- driver
def spawn(spec):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(spec["threads"]))
    return _spawn.spawn(os.path.abspath(__file__), spec, env)


def _name(cell):
    if cell == "keras":
        return "keras mnist_mlp 512-512 relu dropout rmsprop b128"
    h, o, p, d, b = cell
    return f"{h:7s} {o:11s} {p:8s} {d} b{b:<3d}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with the MNIST IDX files")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3, quick 1)")
    parser.add_argument("--quick", action="store_true",
                        help="9 cells covering every value, smaller subsets, 1 repetition")
    parser.add_argument("--cells", default=None,
                        help="comma-separated cell numbers and/or 'keras' (default: all)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        if spec["cell"] != "keras":
            spec["cell"] = tuple(spec["cell"])
        fn = worker_mlplab if spec["impl"] == "mlplab" else worker_torch
        print("RESULT " + json.dumps(fn(spec)))
        return 0
    reps = args.reps or (1 if args.quick else 3)
    if args.cells:
        cells = [c if c == "keras" else CELLS[int(c)] for c in args.cells.split(",")]
    else:
        cells = (QUICK if args.quick else CELLS) + ["keras"]
    print(f"mnist_grid: {len(cells)} cells, {reps} repetitions, {args.threads} threads, "
          f"quick={args.quick}; mlplab time / PyTorch time per repetition, then the median")
    results, worst = [], 0.0
    for i, cell in enumerate(cells):
        runs = {"mlplab": [], "torch": []}
        for rep in range(reps):
            for impl in runs:  # A B, A B, ...
                spec = {"impl": impl, "cell": cell, "data": args.data, "seed": rep,
                        "quick": args.quick, "threads": args.threads}
                runs[impl].append(spawn(spec))
        ratios = [a["time"] / b["time"] for a, b in zip(runs["mlplab"], runs["torch"])]
        median = statistics.median(ratios)
        worst = max(worst, median)
        flag = "ok " if median <= TARGET else "OVER"
        mine, theirs = (" ".join(f"{r['time']:.3f}" for r in runs[k]) for k in runs)
        each = " ".join(f"{r:.2f}" for r in ratios)
        print(f"{i:2d} {_name(cell)}  mlplab {mine} s  torch {theirs} s  ratios {each}  "
              f"median {median:.2f} {flag} [{runs['mlplab'][0]['step']}]", flush=True)
        results.append({"cell": cell, "runs": runs, "ratios": ratios, "median": median})
    over = sum(r["median"] > TARGET for r in results)
    print(f"worst median ratio {worst:.2f}; {over} of {len(results)} cells above {TARGET}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
