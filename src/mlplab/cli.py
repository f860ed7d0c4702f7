"""The ``mlplab`` command: train, evaluate, predict with and inspect networks from the shell.

    mlplab train --data ../shared/data/mnist     # MNIST 784-512-10, sigmoid hidden, softmax
    mlplab train --dataset iris --hidden 8 --epochs 200 --batch-size full
    mlplab train --csv table.csv --target class --save model.npz
    mlplab evaluate model.npz --csv table.csv     # loss and metrics of a saved model
    mlplab predict model.npz --csv new.csv --output predictions.csv
    mlplab summary model.npz
    mlplab datasets                               # the data sets mlplab can load
    mlplab playground                             # the interactive page ([playground])
    mlplab plot log.csv -o curves.png             # curves of a CSVLogger file or a model
    mlplab tutorial [NAME]                        # the lecture notebooks; copy one as NAME.ipynb

Each subcommand is one ``register(name, help, arguments, run)`` block at the end of this file.
"""
from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from . import playground as _playground
from .plots import command as _plot_command

COMMANDS: dict = {}  # name -> (help, arguments(parser), run(args) -> exit code)


def register(name: str, help: str, arguments, run) -> None:
    """Add a subcommand: ``arguments(parser)`` declares its options, ``run(args)`` does it."""
    COMMANDS[name] = (help, arguments, run)


class CommandError(Exception):
    """A problem with the command line or its files: printed as one line, exit code 2."""


# ---------------------------------------------------------------------- argument parsing
class _Parser(argparse.ArgumentParser):
    """argparse with a "Did you mean ...?" for misspelled options, commands and choices."""

    known_options: list = []

    def error(self, message):
        guess = None
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if unknown:
            word = unknown.group(1).split("=")[0]
            guess = difflib.get_close_matches(word, self._options(), n=1)
        elif choice:
            options = re.findall(r"'([^']*)'", choice.group(2))
            guess = difflib.get_close_matches(choice.group(1), options, n=1)
        if guess:
            message += f". Did you mean {guess[0]}?"
        super().error(message)

    def _options(self):
        names = [s for a in self._actions for s in a.option_strings]
        return names + list(_Parser.known_options)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in the help, but not "(default: None)"."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or \
                action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _batch_size(text: str):
    if text == "full":
        return "full"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'full', got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'full', got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="mlplab", description=__doc__.splitlines()[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog="\n".join(__doc__.splitlines()[1:9]))
    parser.add_argument("--version", action="version", version=f"mlplab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    options = []
    for name, (help, arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=help, formatter_class=_Formatter)
        arguments(p)
        p.set_defaults(func=run)
        options += [s for a in p._actions for s in a.option_strings]
    _Parser.known_options = sorted(set(options))
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    limiter = _limit_threads(getattr(args, "threads", None), argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CommandError, ValueError, OSError) as exc:
        print(f"mlplab {args.command}: {exc}", file=sys.stderr)
        return 2
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def _limit_threads(threads, argv):
    """--threads N: mlplab's products on exactly N BLAS threads (``mlplab.set_num_threads``),
    NumPy's own on at most N via threadpoolctl when installed; else the environment variables
    OPENBLAS/OMP/MKL_NUM_THREADS, which take effect only before NumPy loads (so the command
    runs itself again with them set). Returns what ``restore_original_limits()`` undoes."""
    if not threads:
        return None
    from .fast import threads as blas_threads

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if not all(os.environ.get(n) == str(threads) for n in names):
            env = {**os.environ, **{n: str(threads) for n in names}}
            os.execve(sys.executable, [sys.executable, "-m", "mlplab", *argv], env)
        threadpool_limits = None
    return _ThreadLimit(threads, blas_threads,
                        threadpool_limits and threadpool_limits(limits=threads))


class _ThreadLimit:
    """--threads N in force: ``restore_original_limits()`` puts back mlplab's choice and
    NumPy's BLAS limits as they were."""

    def __init__(self, threads, blas_threads, limiter):
        self._module, self._previous = blas_threads, blas_threads.get_num_threads()
        self._limiter = limiter
        blas_threads.set_num_threads(threads)

    def restore_original_limits(self):
        self._module.set_num_threads(self._previous)
        if self._limiter is not None:
            self._limiter.restore_original_limits()


def _thread_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (BLAS threads), got "
                                         f"{text!r}")
    return value


# ---------------------------------------------------------------------- paths
def _check_folder(path, option) -> Path:
    p = Path(path)
    if p.is_file():
        hint = " For a CSV table use --csv FILE --target COLUMN." if option == "--data" else ""
        raise CommandError(f"{option} {path}: is a file; expected the folder of the MNIST "
                           f"IDX files.{hint}")
    if not p.is_dir():
        raise CommandError(f"{option} {path}: no such folder (relative paths start in "
                           f"{Path.cwd()}).")
    return p


def _check_file(path, option) -> Path:
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"{option} {path}: no such file (relative paths start in "
                           f"{Path.cwd()}).")
    return p


def _check_writable(path, option) -> Path:
    """The file can be written: its folder exists and is writable, it is not a folder."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise CommandError(f"{option} {path}: is a folder; give a file name, e.g. "
                           f"{p / 'model.npz'}.")
    if not folder.is_dir():
        raise CommandError(f"{option} {path}: the folder {folder} does not exist; create it "
                           f"first (mkdir -p {folder}) or choose another path.")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"{option} {path}: the folder {folder} is not writable.")
    return p


# ---------------------------------------------------------------------- train
def _train_arguments(p) -> None:
    from .datasets import registry

    from . import activations, losses, optimizers

    data = p.add_argument_group("data (one of --dataset or --csv)")
    data.add_argument("--dataset", default="mnist", choices=list(registry.DATASETS),
                      metavar="NAME", help="a registered data set (see `mlplab datasets`): "
                      + ", ".join(registry.DATASETS))
    data.add_argument("--data", default=os.environ.get("MLPLAB_DATA"), metavar="FOLDER",
                      help="folder with the MNIST IDX files (default: $MLPLAB_DATA, else the "
                           "cache ~/.cache/mlplab/mnist, downloading if online)")
    data.add_argument("--csv", metavar="FILE", help="train on a CSV table with a header row "
                      "(numeric columns standardized, text columns one-hot encoded)")
    data.add_argument("--target", metavar="COLUMN", help="the CSV's target column")
    data.add_argument("--samples", type=int, default=0, metavar="N",
                      help="train on the first N training samples only (0: all)")
    data.add_argument("--validation-split", type=_fraction, default=0.0, metavar="FRACTION",
                      help="fraction of the training data held out for val_* metrics")
    data.add_argument("--test-split", type=_fraction, default=0.2, metavar="FRACTION",
                      help="fraction held out as the test set, for data without one (all but "
                           "MNIST); sets under 20 rows are tested on the training rows")
    data.add_argument("--offline", action="store_true", help="never try to download")
    net = p.add_argument_group("network")
    net.add_argument("--hidden", type=int, nargs="*", default=[512], metavar="UNITS",
                     help="hidden layer widths (none: a single-layer network)")
    act_names = sorted(activations.REGISTRY.names())
    act_shown = ", ".join(sorted({activations.get(n).name for n in act_names}))
    net.add_argument("--activation", default="sigmoid", choices=act_names, metavar="NAME",
                     help="hidden activation: " + act_shown)
    net.add_argument("--output-activation", choices=act_names, metavar="NAME",
                     help="output activation (default: softmax for classes, linear for "
                          "regression)")
    loss_names = sorted(losses.REGISTRY.names())
    net.add_argument("--loss", choices=loss_names, metavar="NAME",
                     help="loss (default: sparse_categorical_crossentropy for class labels, "
                          "categorical_crossentropy for one-hot rows, binary_crossentropy for "
                          "one 0/1 column, mse for -1/+1 rows and regression): "
                          + ", ".join(sorted({losses.get(n).name for n in loss_names})))
    train = p.add_argument_group("training")
    train.add_argument("--optimizer", default="sgd", choices=sorted(optimizers.REGISTRY.names()),
                       help="the optimizer, with Keras's defaults but the learning rate")
    train.add_argument("--learning-rate", type=float, default=0.5, help="alpha")
    train.add_argument("--batch-size", type=_batch_size, default=32, metavar="N|full",
                       help="1: online, N: mini-batch, full: one update per epoch")
    train.add_argument("--epochs", type=int, default=10, help="passes over the training set")
    train.add_argument("--seed", type=int, default=0,
                       help="fixes the initial weights, the shuffling and the splits")
    train.add_argument("--threads", type=_thread_count, metavar="N",
                       help="BLAS threads for every product (mlplab.set_num_threads; default: "
                            "one below 2**28 flops, the BLAS setting above)")
    train.add_argument("--validate", action="store_true",
                       help="also report the test set's loss and metrics after every epoch "
                            "(as test_loss, test_accuracy)")
    train.add_argument("--save", metavar="FILE", help="write the trained model to this file "
                       "(checked before training; Ctrl-C saves the last finished epoch)")
    train.add_argument("--resume", action="store_true",
                       help="back up the whole training state after every epoch (in "
                            "--backup-dir) and, when the same command runs again after an "
                            "interruption (Ctrl-C, kill, crash), continue from it: the result "
                            "is the same, bit for bit, as an uninterrupted run's. The backup "
                            "is deleted when training completes")
    train.add_argument("--backup-dir", metavar="FOLDER",
                       help="the folder of --resume's backup (default: FILE.backup beside "
                            "--save FILE, else mlplab-backup in the current folder)")
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                       help="0 silent, 1 a progress bar per epoch, 2 one line per epoch")


def _load_training_data(args):
    """(x_train, y_train), (x_test, y_test), a description, and how the inputs were coded:
    a CSV's TableCoding, a registered set's Standardization, or None (MNIST, tiny sets)."""
    from . import cli_data
    from .preprocessing import train_test_split

    coding = None
    if args.csv:
        _check_file(args.csv, "--csv")
        x, y, coding = cli_data.read_csv(args.csv, args.target)
        train, test, what = (x, y), None, f"{args.csv} (target {args.target!r})"
    else:
        if args.target:
            raise CommandError("--target names a column of --csv FILE; it needs --csv.")
        if args.dataset in ("mnist", "fashion-mnist") and args.data is not None:
            _check_folder(args.data, "--data")
        try:
            train, test = cli_data.load_registered(args.dataset, args.data, args.offline)
        except FileNotFoundError as exc:  # the loader's advice, said for the command line
            raise CommandError(str(exc).replace("load_mnist(path=FOLDER)", "--data FOLDER")
                               .replace("load_fashion_mnist(path=FOLDER)", "--data FOLDER"))
        what = args.dataset
    if test is None:
        x, y = train
        classes = y if coding is None or coding.classes is not None else None
        if len(x) < 20 or not args.test_split:
            test = train
            what += ", tested on its training rows" if len(x) < 20 else ", no test split"
        else:
            stratify = classes if classes is not None and classes.ndim == 1 and \
                np.issubdtype(classes.dtype, np.integer) else None
            x_train, x_test, y_train, y_test = train_test_split(
                x, y, test_size=args.test_split, stratify=stratify, seed=args.seed)
            train, test = (x_train, y_train), (x_test, y_test)
            if coding is None and args.dataset not in ("mnist", "fashion-mnist"):
                coding = cli_data.Standardization.fit(train[0])  # on the training rows only
                train = (coding.apply(train[0]), train[1])
                test = (coding.apply(test[0]), test[1])
    if args.samples:
        train = (train[0][:args.samples], train[1][:args.samples])
    return train, test, what, coding


def _output_and_loss(args, y):
    """(units, output activation, loss) for targets y, unless given on the command line."""
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        units, act, loss = int(y.max()) + 1, "softmax", "sparse_categorical_crossentropy"
    elif y.ndim == 2 and y.shape[1] > 1 and np.isin(y, (0, 1)).all():
        units, act, loss = y.shape[1], "softmax", "categorical_crossentropy"
    elif y.ndim == 2 and y.shape[1] == 1 and np.isin(y, (0, 1)).all():
        units, act, loss = 1, "sigmoid", "binary_crossentropy"
    elif y.ndim == 2 and np.isin(y, (-1, 1)).all():  # bipolar (one-hot) targets: the lectures'
        units, act, loss = y.shape[1], "tanh", "mse"  # tanh units with squared error
    else:
        units, act, loss = (1 if y.ndim == 1 else y.shape[1]), "linear", "mse"
    return units, args.output_activation or act, args.loss or loss


class _LastEpoch:
    """Keeps a copy of the weights after every finished epoch (for Ctrl-C with --save)."""

    def __init__(self):
        from .callbacks import Callback

        outer = self

        class Keep(Callback):
            def on_epoch_end(self, epoch, logs=None):
                outer.weights, outer.epoch = self.model.get_weights(), epoch + 1

        self.weights, self.epoch, self.callback = None, 0, Keep()


def _test_metrics_callback(model_test):
    """--validate: the test set's loss and metrics in each epoch's logs, named test_*."""
    from .callbacks import Callback

    x_test, y_test = model_test

    class TestMetrics(Callback):
        def on_epoch_end(self, epoch, logs=None):
            for key, value in self.model.evaluate(x_test, y_test, return_dict=True).items():
                logs["test_" + key] = value

    return TestMetrics()


def _train(args) -> int:
    from . import optimizers
    from .layers import Dense, Input
    from .models import Sequential

    if args.save:
        _check_writable(args.save, "--save")
    if args.backup_dir and not args.resume:
        raise CommandError("--backup-dir is the folder of --resume's backup; add --resume.")
    backup_dir = args.backup_dir or (args.save + ".backup" if args.save else "mlplab-backup")
    if args.resume:  # the folder is made at the first backup: its parent must be writable
        _check_writable(os.path.join(backup_dir, "latest.npz") if os.path.isdir(backup_dir)
                        else backup_dir, "--backup-dir")
    train, test, what, coding = _load_training_data(args)
    (x_train, y_train), (x_test, y_test) = train, test
    units, out_act, loss = _output_and_loss(args, y_train)
    layers = [Input(x_train.shape[1:])]
    layers += [Dense(width, activation=args.activation) for width in args.hidden]
    layers.append(Dense(units, activation=out_act))
    model = Sequential(layers, seed=args.seed)
    optimizer = type(optimizers.get(args.optimizer))(learning_rate=args.learning_rate)
    is_classes = loss in ("sparse_categorical_crossentropy", "categorical_crossentropy",
                          "binary_crossentropy", "hinge") or \
        (y_train.ndim == 2 and np.isin(y_train, (-1, 1)).all())
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"] if is_classes else [])
    model.summary()
    arch = "-".join(str(n) for n in [x_train.shape[1], *args.hidden, units])
    hidden = f"{args.activation} hidden, " if args.hidden else ""
    print(f"Training {arch} ({hidden}{out_act} output, {loss}) on {len(x_train):,} samples "
          f"of {what}: {args.optimizer} learning_rate={args.learning_rate}, "
          f"batch_size={args.batch_size}, {args.epochs} epochs, seed={args.seed}")
    keep = _LastEpoch()
    callbacks = [keep.callback]
    if args.validate:
        callbacks.append(_test_metrics_callback((x_test, y_test)))
    if args.resume:
        from .callbacks import BackupAndRestore

        if os.path.exists(os.path.join(backup_dir, "latest.npz")):
            print(f"Resuming from the backup in {backup_dir}")
        callbacks.append(BackupAndRestore(backup_dir))
    t0 = time.perf_counter()
    try:
        model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                  verbose=args.verbose, callbacks=callbacks,
                  validation_split=args.validation_split)
    except KeyboardInterrupt:
        if args.save and keep.weights is not None:
            model.set_weights(keep.weights)
            _save(model, args.save, coding)
            print(f"\ninterrupted: the model after epoch {keep.epoch} saved to {args.save}",
                  file=sys.stderr)
        elif args.save:
            print("\ninterrupted before the first epoch finished: nothing saved",
                  file=sys.stderr)
        if args.resume:
            print(f"the backup in {backup_dir} is kept: run the same command again to "
                  f"continue", file=sys.stderr)
        return 130
    elapsed = time.perf_counter() - t0
    logs = model.evaluate(x_test, y_test, return_dict=True)
    if args.save:
        _save(model, args.save, coding)
        print(f"Model saved to {args.save}")
    if "accuracy" in logs:
        print(f"Test accuracy: {logs['accuracy']:.2%} (test loss {logs['loss']:.4f}) after "
              f"{args.epochs} epochs in {elapsed:.1f} s")
    else:
        print(f"Test loss: {logs['loss']:.4f} after {args.epochs} epochs in {elapsed:.1f} s")
    return 0


def _save(model, path, coding) -> None:
    from . import cli_data

    model.save(path)
    if isinstance(coding, cli_data.TableCoding):
        coding.save(cli_data.coding_path(path))
    elif coding is not None:
        coding.save(cli_data.inputs_path(path))


# ---------------------------------------------------------------------- saved models
def _model_arguments(p) -> None:
    p.add_argument("model", metavar="MODEL", help="a model file written by --save / "
                   "model.save()")


def _load(path):
    from .models import load_model

    _check_file(path, "MODEL")
    return load_model(path)


def _coding(model_path):
    from . import cli_data

    path = cli_data.coding_path(model_path)
    return cli_data.TableCoding.load(path) if path.is_file() else None


def _read_rows(args, need_targets: bool):
    """x (and y) for a saved model from --csv (coded as at training) or --dataset."""
    from . import cli_data

    if args.csv:
        _check_file(args.csv, "--csv")
        coding = _coding(args.model)
        if coding is None:  # a model not trained on a CSV: every column is a number
            from .datasets import load_csv

            table = load_csv(args.csv)
            target = getattr(args, "target", None)
            y = table.pop(target) if target in table else None
            x = np.column_stack([table[c] for c in table]).astype(np.float32)
            return x, y, None
        x, y, coding = cli_data.read_csv(args.csv, None, coding)
        if need_targets and y is None:
            raise CommandError(f"--csv {args.csv}: has no target column {coding.target!r}.")
        return x, y, coding
    if args.data is not None:
        _check_folder(args.data, "--data")
    train, test = cli_data.load_registered(args.dataset, args.data, True)
    x, y = test if test is not None else train  # a set without a test part: all its rows
    scaled = cli_data.inputs_path(args.model)
    if scaled.is_file():  # standardized as in training
        x = cli_data.Standardization.load(scaled).apply(x)
    return x, y, None


def _evaluate_arguments(p) -> None:
    from .datasets import registry

    _model_arguments(p)
    p.add_argument("--csv", metavar="FILE", help="rows to evaluate on (with the target column)")
    p.add_argument("--target", metavar="COLUMN", help="target column (models not trained "
                   "on a CSV)")
    p.add_argument("--dataset", default="mnist", choices=list(registry.DATASETS),
                   metavar="NAME", help="a registered data set (its test part)")
    p.add_argument("--data", default=os.environ.get("MLPLAB_DATA"), metavar="FOLDER",
                   help="folder with the MNIST IDX files (default: $MLPLAB_DATA)")


def _evaluate(args) -> int:
    from .callbacks import format_logs

    model = _load(args.model)
    x, y, _ = _read_rows(args, need_targets=True)
    if y is None:
        raise CommandError("no targets: give --csv FILE with the target column.")
    if not model.compiled:
        raise CommandError(f"{args.model}: was saved without compile settings (no loss).")
    print(format_logs(model.evaluate(x, y, return_dict=True)))
    return 0


def _predict_arguments(p) -> None:
    _model_arguments(p)
    p.add_argument("--csv", metavar="FILE", required=True, help="rows to predict (a target "
                   "column, if present, is ignored)")
    p.add_argument("--output", metavar="FILE", default="-", help="CSV to write ('-': stdout)")


def _predict(args) -> int:
    import csv

    if args.output != "-":
        _check_writable(args.output, "--output")
    model = _load(args.model)
    x, _, coding = _read_rows(args, need_targets=False)
    Y = model.predict(x)
    classes = coding.classes if coding is not None else None
    out = sys.stdout if args.output == "-" else open(args.output, "w", newline="")
    try:
        writer = csv.writer(out)
        if Y.shape[1] > 1:
            names = classes or list(range(Y.shape[1]))
            writer.writerow(["prediction"] + [f"p_{c}" for c in names])
            for row in Y:
                writer.writerow([names[int(row.argmax())]] + [f"{v:.6g}" for v in row])
        else:
            writer.writerow(["prediction"])
            for v in Y[:, 0]:
                writer.writerow([f"{v:.6g}"])
    finally:
        if out is not sys.stdout:
            out.close()
            print(f"{len(Y)} predictions written to {args.output}", file=sys.stderr)
    return 0


def _summary(args) -> int:
    _load(args.model).summary()
    return 0


def _datasets(args) -> int:
    from tabulate import tabulate

    from .datasets import registry

    rows = registry.list_datasets()
    print(tabulate([[r["name"], r["kind"], r["size"], r["description"]] for r in rows],
                   headers=["name", "kind", "size", "description"]))
    return 0


def _tutorial_arguments(p) -> None:
    p.add_argument("name", nargs="?", help="tutorial name or unique prefix (lecture_004)")
    p.add_argument("--dest", default=".", help="folder to write NAME.ipynb into")
    p.add_argument("--force", action="store_true", help="replace an existing copy")


def _tutorial(args) -> int:
    from . import tutorials

    try:
        return tutorials.main(args.name, args.dest, force=args.force)
    except FileExistsError as exc:
        print(f"mlplab tutorial: {exc}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------------- the subcommands
register("train", "train an MLP on a registered data set or a CSV and test it",
         _train_arguments, _train)
register("evaluate", "loss and metrics of a saved model on a data set or a CSV",
         _evaluate_arguments, _evaluate)
register("predict", "a saved model's predictions for the rows of a CSV, as CSV",
         _predict_arguments, _predict)
register("summary", "a saved model's layers and parameter counts", _model_arguments, _summary)
register("datasets", "list the data sets mlplab can load", lambda p: None, _datasets)
register("playground", "start the interactive playground page", _playground.add_arguments,
         _playground.main)
register("plot", "draw training curves or a model's network to a PNG",
         _plot_command.add_arguments, _plot_command.main)
register("tutorial", "list the lecture notebooks, or copy one here", _tutorial_arguments,
         _tutorial)


if __name__ == "__main__":
    sys.exit(main())
