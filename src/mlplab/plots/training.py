"""Training curves (with the learning rate and the reason training stopped), and the
per-layer statistics of a LayerRecorder."""
from __future__ import annotations

import numpy as np

from ._base import _axes


def plot_history(history, keys=None, ax=None, *, title: str | None = None, logy: bool = False,
                 learning_rate: bool = True, stop_reason: str | None = None,
                 figsize=(6.5, 4.2)):
    """Draw training curves: one line per key against the epoch (1, 2, ...).

    Parameters
    ----------
    history : History or dict
        What ``fit`` returns (``history.history``), or a dict of name -> values per epoch.
    keys : sequence of str, optional
        The curves to draw, e.g. ``("loss", "val_loss")`` or ``("accuracy",
        "val_accuracy")``. Default: "loss" and "val_loss", those recorded.
    ax : matplotlib Axes, optional
    title : str, optional
    logy : bool, default=False
        A logarithmic y axis.
    learning_rate : bool, default=True
        When the history records ``learning_rate`` (LearningRateScheduler, ReduceLROnPlateau),
        draw it dashed on a second, logarithmic y axis at the right (``ax.lr_axis``).
    stop_reason : str, optional
        Mark the last epoch with a dotted vertical line (``ax.stop_marker``) labelled with this
        reason; default the History's ``stop_reason`` (e.g. "early_stopping"), none for a
        dict.

    Raises
    ------
    ValueError
        A key that the history does not hold; the message lists those it does.

    Returns
    -------
    The matplotlib Axes.
    """
    where = "plot_history()"
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"{where}: history must be a History (what fit returns) or a dict of "
                        f"name -> values per epoch; received {type(history).__name__}.")
    if not logs:
        raise ValueError(f"{where}: the history is empty; fit() records one value per epoch.")
    if keys is None:
        keys = [k for k in ("loss", "val_loss") if k in logs] or \
            [k for k in logs if k != "learning_rate"][:1] or list(logs)[:1]
    elif isinstance(keys, str):
        keys = [keys]
    missing = [k for k in keys if k not in logs]
    if missing:
        hint = " (val_ keys need validation_data or validation_split in fit())" \
            if any(k.startswith("val_") for k in missing) else ""
        raise ValueError(f"{where}: the history has no {', '.join(map(repr, missing))}{hint}; "
                         f"it records: {', '.join(map(repr, logs))}.")
    ax = _axes(ax, figsize)
    for key in keys:
        values = np.asarray(logs[key], dtype=np.float64)
        ax.plot(np.arange(1, len(values) + 1), values, label=key)
    ax.set(xlabel="epoch", ylabel=keys[0] if len(keys) == 1 else "value")
    if logy:
        ax.set_yscale("log")
    if title is not None:
        ax.set_title(title)
    handles = ax.get_lines()[:]
    ax.lr_axis = ax.stop_marker = None
    if learning_rate and "learning_rate" in logs and "learning_rate" not in keys:
        rates = np.asarray(logs["learning_rate"], dtype=np.float64)
        ax.lr_axis = ax.twinx()
        handles += ax.lr_axis.plot(np.arange(1, len(rates) + 1), rates, "--", color="0.4",
                                   label="learning_rate")
        ax.lr_axis.set(ylabel="learning rate", yscale="log")
    if stop_reason is None:
        stop_reason = getattr(history, "stop_reason", None)
    if stop_reason is not None:
        last = max(len(logs[k]) for k in keys)
        ax.stop_marker = ax.vlines(last, 0, 1, transform=ax.get_xaxis_transform(), colors="k",
                                   linestyles=":", linewidths=1)
        ax.annotate(f"stopped: {stop_reason}", (last, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(-4, -4), textcoords="offset points", ha="right", va="top",
                    fontsize=8)
    ax.legend(handles=handles, labels=[h.get_label() for h in handles])
    return ax


def plot_layer_stats(layer_history, stats=("grad_norm", "update_ratio", "act_mean", "saturated"),
                     *, x: str = "epoch", logy=("grad_norm", "delta_norm", "update_ratio",
                                                 "weight_norm"), figsize=None):
    """Small multiples of a LayerRecorder's statistics: one panel per statistic, one line per
    layer, against the epoch (or the ``step``, batches trained) of each record.

    ``layer_history``: a LayerRecorder or its ``history`` (LayerHistory). Statistics in
    ``logy`` get a logarithmic y axis. Panels of a statistic that is NaN for every layer
    (``dead`` in a network without ReLU) say so instead of drawing nothing.

    Returns (fig, axes), axes a 1-D array in the order of ``stats``.
    """
    from matplotlib.ticker import MaxNLocator

    from ..recorder import STATS
    from ._base import pyplot

    where = "plot_layer_stats()"
    h = getattr(layer_history, "history", None)
    h = layer_history if h is None or isinstance(h, dict) else h
    if not hasattr(h, "layers") or not hasattr(h, "epoch"):
        raise TypeError(f"{where}: expected a LayerRecorder or its LayerHistory; received "
                        f"{type(layer_history).__name__}.")
    if isinstance(stats, str):
        stats = [stats]
    unknown = [s for s in stats if s not in STATS]
    if unknown:
        raise ValueError(f"{where}: unknown statistic(s) {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(STATS)}.")
    if x not in ("epoch", "step"):
        raise ValueError(f"{where}: x must be 'epoch' or 'step'; received {x!r}.")
    if len(h) == 0:
        raise ValueError(f"{where}: nothing was recorded yet; pass the recorder to fit().")
    fig, axes = pyplot().subplots(1, len(stats), squeeze=False,
                                  figsize=figsize or (3.2 * len(stats), 3.0))
    axes = axes[0]
    t = np.asarray(getattr(h, x))
    for ax, stat in zip(axes, stats):
        values = h[stat]
        for j, name in enumerate(h.layers):
            ax.plot(t, values[:, j], marker=".", label=name)
        if np.isnan(values).all():
            ax.text(0.5, 0.5, "not applicable\nto these layers", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
        elif stat in logy:
            ax.set_yscale("log")
        ax.set(title=stat, xlabel=x)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig, axes


