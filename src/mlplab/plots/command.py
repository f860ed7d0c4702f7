"""``mlplab plot``: training curves from a CSVLogger file or a saved model's history, or the
network of a saved model, to an image file.

    mlplab plot log.csv -o curves.png                  # CSVLogger(filename="log.csv")
    mlplab plot model.npz -o curves.png --keys accuracy val_accuracy
    mlplab plot model.npz --network -o network.png
"""
from __future__ import annotations

import csv
import math
import os
import sys


def read_csv_log(path) -> dict[str, list[float]]:
    """A CSVLogger file as name -> values per epoch (the epoch column dropped; empty cells
    NaN)."""
    with open(os.fspath(path), newline="") as f:
        rows = list(csv.reader(f))
    if not rows or not rows[0]:
        raise ValueError(f"'{path}' is empty; CSVLogger writes a header and one row per epoch.")
    header, body = rows[0], rows[1:]
    if not body:
        raise ValueError(f"'{path}' has a header but no epoch rows.")
    logs: dict[str, list[float]] = {}
    for j, name in enumerate(header):
        if name == "epoch":
            continue
        try:
            logs[name] = [float(r[j]) if j < len(r) and r[j] != "" else math.nan for r in body]
        except ValueError:
            raise ValueError(f"'{path}': column {name!r} holds a value that is not a number; "
                             f"is this a CSVLogger file?") from None
    return logs


def plot_source(source, output, *, network: bool = False, keys=None, logy: bool = False,
                dpi: int = 110):
    """Draw ``source`` (a .csv log or a saved model) to ``output``; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    from . import plot_history, plot_network, save_figure

    if not os.path.exists(source):
        raise FileNotFoundError(f"no file at '{source}'.")
    if str(source).lower().endswith(".csv"):
        if network:
            raise ValueError(f"--network needs a saved model (model.save(...)); '{source}' is a "
                             f"CSV log, which holds curves only.")
        ax = plot_history(read_csv_log(source), keys=keys, logy=logy, title=str(source))
    else:
        from ..models import load_model

        model = load_model(source, compile=False)
        if network:
            ax = plot_network(model, title=str(source))
        else:
            history = getattr(model, "history", None)
            if history is None:
                raise ValueError(f"'{source}' holds no training history (it was saved before "
                                 f"any fit, or by an older mlplab); draw its network with "
                                 f"--network, or log curves with CSVLogger.")
            ax = plot_history(history, keys=keys, logy=logy, title=str(source))
    return save_figure(ax.figure, output, dpi=dpi)


def _run(args) -> int:
    try:
        path = plot_source(args.source, args.output, network=args.network, keys=args.keys,
                           logy=args.logy, dpi=args.dpi)
    except (ImportError, FileNotFoundError, ValueError) as exc:
        print(f"mlplab plot: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def add_arguments(p) -> None:
    """The ``plot`` subcommand's options."""
    p.add_argument("source", help="a CSVLogger file (.csv) or a saved model (model.save)")
    p.add_argument("-o", "--output", default="plot.png",
                   help="the image to write, format from the suffix (default: plot.png)")
    p.add_argument("--network", action="store_true",
                   help="draw the saved model's network instead of its curves")
    p.add_argument("--keys", nargs="+", help="the curves to draw (default loss, val_loss)")
    p.add_argument("--logy", action="store_true", help="logarithmic y axis")
    p.add_argument("--dpi", type=int, default=110, help="resolution (default: 110)")


main = _run
