"""Compare the optimizers on the same MNIST network: a markdown table for docs/optimizers.md.

Every optimizer trains the same 784-128-10 network (relu, softmax, categorical
cross-entropy, same initial weights, same shuffling) on a subset of MNIST for a few epochs;
the table lists the training loss per epoch and the test accuracy. (No timings: on a shared
machine they vary more than the optimizers differ; an update costs about the same for all.)

    python benchmarks/compare_optimizers.py --data ../shared/data/mnist
    python benchmarks/compare_optimizers.py --data ../shared/data/mnist --train 10000 --epochs 5
"""
from __future__ import annotations

import argparse

import mlplab
from mlplab import optimizers
from mlplab.layers import Dense, Input
from mlplab.preprocessing import to_categorical

#: name -> optimizer; Keras defaults except where a default rate barely moves in a few epochs.
CANDIDATES = {
    "SGD(0.1)": lambda: optimizers.SGD(0.1),
    "SGD(0.1, momentum=0.9)": lambda: optimizers.SGD(0.1, momentum=0.9),
    "SGD(0.1, momentum=0.9, nesterov)": lambda: optimizers.SGD(0.1, momentum=0.9,
                                                               nesterov=True),
    "Adagrad(0.01)": lambda: optimizers.Adagrad(0.01),
    "RMSprop()": lambda: optimizers.RMSprop(),
    "RMSprop(centered)": lambda: optimizers.RMSprop(centered=True),
    "Adadelta(1.0)": lambda: optimizers.Adadelta(1.0),
    "Adam()": lambda: optimizers.Adam(),
    "Adam(amsgrad)": lambda: optimizers.Adam(amsgrad=True),
    "AdamW()": lambda: optimizers.AdamW(),
    "Adamax()": lambda: optimizers.Adamax(),
    "Nadam()": lambda: optimizers.Nadam(),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--train", type=int, default=10000, help="training samples")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = mlplab.datasets.load_mnist(
        args.data, flatten=True, normalize=True)
    x, d = x_train[:args.train], to_categorical(y_train[:args.train], 10)
    dt = to_categorical(y_test, 10)

    header = ["optimizer"] + [f"loss ep {e + 1}" for e in range(args.epochs)] + \
        ["test acc"]
    rows = []
    for name, make in CANDIDATES.items():
        model = mlplab.Sequential([Input((784,)), Dense(args.hidden, activation="relu"),
                                   Dense(10, activation="softmax")], seed=args.seed)
        model.compile(make(), "categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, d, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        acc = model.evaluate(x_test, dt, return_dict=True)["accuracy"]
        rows.append([name] + [f"{v:.4f}" for v in h.history["loss"]] +
                    [f"{acc:.4f}"])
        print(f"  {name}: done", flush=True)
    print(f"\n784-{args.hidden}-10 (relu, softmax), {args.train} MNIST training images, "
          f"batch {args.batch_size}, {args.epochs} epochs, seed {args.seed}; "
          f"test accuracy on the 10,000 test images.\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return rows


if __name__ == "__main__":
    main()
