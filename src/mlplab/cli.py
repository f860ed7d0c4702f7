"""The ``mlplab`` command: train and evaluate networks from the shell.

    mlplab train                      # MNIST 784-512-10, sigmoid hidden, softmax, SGD
    mlplab train --epochs 5 --hidden 128 --activation relu --optimizer adam --learning-rate 1e-3
    mlplab datasets                   # the data sets mlplab can load
    mlplab playground                 # the interactive page (pip install "mlplab[playground]")
    mlplab plot log.csv -o curves.png # curves of a CSVLogger file or a saved model; --network
    mlplab tutorial [NAME]            # the lecture notebooks; copy one here as NAME.ipynb
"""
from __future__ import annotations

import argparse
import os
import sys
import time



def _train(args) -> int:
    from . import datasets, optimizers
    from .layers import Dense, Input
    from .models import Sequential

    try:
        (x_train, y_train), (x_test, y_test) = datasets.load_mnist(
            args.data, flatten=True, normalize=True, download_if_missing=not args.offline)
    except (FileNotFoundError, ValueError) as exc:
        print(f"mlplab train: {exc}", file=sys.stderr)
        return 2
    if args.samples:
        x_train, y_train = x_train[:args.samples], y_train[:args.samples]
    layers = [Input((784,))]
    for width in args.hidden:
        layers.append(Dense(width, activation=args.activation))
    layers.append(Dense(10, activation="softmax"))
    model = Sequential(layers, seed=args.seed)
    optimizer = optimizers.get(args.optimizer)
    optimizer = type(optimizer)(learning_rate=args.learning_rate)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    arch = "-".join(str(n) for n in [784, *args.hidden, 10])
    print(f"Training {arch} ({args.activation} hidden, softmax output) on {len(x_train):,} "
          f"MNIST images: {args.optimizer} learning_rate={args.learning_rate}, "
          f"batch_size={args.batch_size}, {args.epochs} epochs, seed={args.seed}")
    t0 = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
              validation_data=(x_test, y_test) if args.validate else None,
              verbose=args.verbose)
    elapsed = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test)
    if args.save:
        model.save(args.save)
        print(f"Model saved to {args.save}")
    print(f"Test accuracy: {acc:.2%} (test loss {loss:.4f}) after {args.epochs} epochs "
          f"in {elapsed:.1f} s")
    return 0


def _datasets(args) -> int:
    from tabulate import tabulate

    from .datasets import registry

    rows = registry.list_datasets()
    print(tabulate([[r["name"], r["kind"], r["size"], r["description"]] for r in rows],
                   headers=["name", "kind", "size", "description"]))
    return 0


def _tutorial(args) -> int:
    from . import tutorials

    try:
        return tutorials.main(args.name, args.dest, force=args.force)
    except FileExistsError as exc:
        print(f"mlplab tutorial: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlplab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train and evaluate an MLP on MNIST",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--data", default=os.environ.get("MLPLAB_DATA"),
                       help="folder with the MNIST IDX files (default: $MLPLAB_DATA, then the "
                            "cache ~/.cache/mlplab/mnist, downloading if online)")
    train.add_argument("--hidden", type=int, nargs="+", default=[512],
                       help="hidden layer widths")
    train.add_argument("--activation", default="sigmoid", help="hidden activation")
    train.add_argument("--optimizer", default="sgd")
    train.add_argument("--learning-rate", type=float, default=0.5)
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--samples", type=int, default=0,
                       help="train on the first N images only (0: all 60,000)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--validate", action="store_true",
                       help="report test-set loss and accuracy after every epoch")
    train.add_argument("--save", help="write the trained model to this file")
    train.add_argument("--offline", action="store_true", help="never try to download")
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    train.set_defaults(func=_train)

    ds = sub.add_parser("datasets", help="list the data sets mlplab can load")
    ds.set_defaults(func=_datasets)

    from . import playground  # light: the web server is imported only when it runs

    pg = sub.add_parser("playground", help="start the interactive playground page")
    playground.add_arguments(pg)
    pg.set_defaults(func=playground.main)
    from .plots.command import add_parser as add_plot_parser
    add_plot_parser(sub)

    tut = sub.add_parser("tutorial", help="list the lecture notebooks, or copy one here")
    tut.add_argument("name", nargs="?", help="tutorial name or unique prefix (lecture_004)")
    tut.add_argument("--dest", default=".", help="folder to write NAME.ipynb into")
    tut.add_argument("--force", action="store_true", help="replace an existing copy")
    tut.set_defaults(func=_tutorial)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ValueError as exc:
        print(f"mlplab {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

