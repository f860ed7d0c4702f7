"""Pictures of learning: decision boundaries of 2-D classifiers, training curves, and saving.

matplotlib is optional (``pip install mlplab[plot]``); it is imported when one of these
functions runs, never by ``import mlplab``. Every function draws on ``ax`` when given, else on
a new figure, and returns the axes, so several calls can share one figure:

>>> fig, (left, right) = pyplot().subplots(1, 2)            # doctest: +SKIP
>>> plot_decision_boundary(model, x, y, ax=left)            # doctest: +SKIP
>>> plot_history(history, ax=right)                         # doctest: +SKIP
>>> save_figure(fig, "out/run.png")                         # doctest: +SKIP

Without a display matplotlib draws with its Agg backend, so saving works on a server too.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_decision_boundary", "plot_history", "save_figure", "pyplot", "available"]

_MARKERS = ("o", "x", "s", "^", "v", "D", "P", "*")


def available(what: str = "the plot") -> bool:
    """True when matplotlib can be imported; else False, after printing that ``what`` is
    skipped and how to get matplotlib (for scripts whose plot is an extra)."""
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        pass
    print(f"({what} skipped: matplotlib is not installed; pip install \"mlplab[plot]\")")
    return False


def pyplot():
    """``matplotlib.pyplot``, imported on first use, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("mlplab.plots needs matplotlib, which is not installed. Install the "
                          "plot extra: pip install mlplab[plot] (or pip install matplotlib)."
                          ) from None
    return plt


def _axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=figsize)
    return ax


# ---------------------------------------------------------------------------- decision boundary
def _score_function(model_or_predict_fn):
    """(f, threshold): f maps (n, 2) inputs to scores; the threshold of a 1-D score is the
    boundary (0 for a net input, None: inferred from the values)."""
    m = model_or_predict_fn
    if hasattr(m, "decision_function"):  # Perceptron, Adaline: the net input xi, boundary 0
        return m.decision_function, 0.0
    if hasattr(m, "predict_proba"):  # SingleLayerNetwork: the unit outputs
        return m.predict_proba, None
    if hasattr(m, "predict"):  # Sequential: Y_L; Madaline, regressors: labels or values
        return m.predict, None
    if callable(m):
        return m, None
    raise TypeError(f"plot_decision_boundary(): expected a model with decision_function, "
                    f"predict_proba or predict, or a function of x; received "
                    f"{type(m).__name__}.")


def _infer_threshold(Z: np.ndarray) -> float:
    """The boundary of a 1-D score: between two labels, 0.5 for values in [0, 1], else 0."""
    values = np.unique(Z)
    if len(values) <= 2:
        return float(values.min() + values.max()) / 2.0
    if values.min() >= 0.0 and values.max() <= 1.0:
        return 0.5
    return 0.0


def _class_colors(k: int, cmap):
    """Two classes: the ends of ``cmap`` (as the shading); more: distinct colours (tab10)."""
    plt = pyplot()
    if k <= 2:
        return plt.get_cmap(cmap)([0.1, 0.9])
    return plt.get_cmap("tab10")(np.arange(k) % 10)


def _label_text(value) -> str:
    """1.0 -> "1", "setosa" -> "setosa"."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _class_index(y, where: str):
    """(classes, index per sample) from labels, a label column, or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.arange(y.shape[1]), np.argmax(y, axis=1)
    if y.ndim not in (1, 2):
        raise ValueError(f"{where}: y must be labels (n_samples,) or one-hot rows "
                         f"(n_samples, n_classes); received shape {y.shape}.")
    return np.unique(y.reshape(len(y)), return_inverse=True)


def plot_decision_boundary(model_or_predict_fn, x, y=None, ax=None, *, bounds=None,
                           resolution: int = 200, threshold=None, cmap="RdBu_r",
                           title: str | None = None, figsize=(5, 5)):
    """Draw a classifier's decision regions and boundary over 2-D inputs, and the samples.

    The model is scored on a ``resolution`` x ``resolution`` grid covering ``x``:

    - ``decision_function`` (Perceptron, Adaline): the net input xi = x w + w_0, boundary
      xi = 0;
    - else ``predict_proba`` (SingleLayerNetwork) or ``predict`` (Sequential: Y_L; Madaline:
      labels), or the function itself.

    One score per point is shaded and the boundary drawn where it equals ``threshold``
    (default: 0 for a net input, halfway between two labels, 0.5 for values in [0, 1], else
    0). Several scores per point (one unit per class: softmax, one-vs-rest) give the regions
    of argmax, with boundaries where the winner changes.

    Parameters
    ----------
    model_or_predict_fn : model or callable
        A Sequential, a ``mlplab.neurons`` estimator, or ``f(x) -> scores`` for x (n, 2).
    x : array (n_samples, 2)
    y : labels (n_samples,) or one-hot rows, optional
        Colours and markers of the samples, one per class (0/1, -1/+1 or any labels).
    ax : matplotlib Axes, optional
        Draw here; default a new figure of ``figsize``.
    bounds : (x1_min, x1_max, x2_min, x2_max), optional
        The grid; default the range of x widened by 10 % on each side.
    resolution : int, default=200
        Grid points per axis.
    threshold : float, optional
        The boundary level of a one-column score.
    cmap : str, default="RdBu_r"
    title : str, optional

    Returns
    -------
    The matplotlib Axes.
    """
    where = "plot_decision_boundary()"
    f, default_threshold = _score_function(model_or_predict_fn)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{where}: x must have shape (n_samples, 2) (two input features); "
                         f"received shape {x.shape}.")
    if bounds is None:
        lo, hi = x.min(axis=0), x.max(axis=0)
        pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
        bounds = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    g1, g2 = np.meshgrid(np.linspace(bounds[0], bounds[1], resolution),
                         np.linspace(bounds[2], bounds[3], resolution))
    Z = np.asarray(f(np.c_[g1.ravel(), g2.ravel()]))
    if Z.ndim == 2 and Z.shape[1] == 1:
        Z = Z[:, 0]
    ax = _axes(ax, figsize)
    if Z.ndim == 2:  # one score per class: the regions of the winner
        k = Z.shape[1]
        winner = np.argmax(Z, axis=1).reshape(g1.shape)
        from matplotlib.colors import ListedColormap
        ax.contourf(g1, g2, winner, levels=np.arange(k + 1) - 0.5, alpha=0.35,
                    cmap=ListedColormap(_class_colors(k, cmap)))
        ax.contour(g1, g2, winner, levels=np.arange(k - 1) + 0.5, colors="k", linewidths=1.5)
    else:
        if Z.dtype.kind not in "biuf":  # string labels: their index
            Z = np.unique(Z, return_inverse=True)[1]
        Z = Z.astype(np.float64).reshape(g1.shape)
        level = threshold if threshold is not None else \
            default_threshold if default_threshold is not None else _infer_threshold(Z)
        two_valued = len(np.unique(Z)) <= 2  # labels: two flat regions, else shades
        ax.contourf(g1, g2, Z, cmap=cmap, alpha=0.6, levels=np.unique(
            [Z.min() - 1, level, Z.max() + 1]) if two_valued else 20)
        if Z.min() < level < Z.max():
            ax.contour(g1, g2, Z, levels=[level], colors="k", linewidths=1.5)
    if y is not None:
        classes, index = _class_index(y, where)
        if len(index) != len(x):
            raise ValueError(f"{where}: x has {len(x)} samples but y has {len(index)}.")
        colors = _class_colors(len(classes), cmap)
        for c, label in enumerate(classes):
            pick = index == c
            marker = _MARKERS[c % len(_MARKERS)]
            ax.scatter(x[pick, 0], x[pick, 1], color=colors[c], marker=marker, zorder=3,
                       edgecolors="k" if marker not in "x+" else None, s=25,
                       label=_label_text(label))
        ax.legend(fontsize=8)
    ax.set(xlim=bounds[:2], ylim=bounds[2:], xlabel="$x_1$", ylabel="$x_2$")
    if title is not None:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------------------------------- history
def plot_history(history, keys=None, ax=None, *, title: str | None = None, logy: bool = False,
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
        keys = [k for k in ("loss", "val_loss") if k in logs] or list(logs)[:1]
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
    ax.legend()
    return ax


# -------------------------------------------------------------------------------------- saving
def save_figure(fig, path, *, dpi: int = 110, tight: bool = True, close: bool = True) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix), creating the folder.

    ``tight`` applies ``fig.tight_layout()`` first; ``close`` releases the figure from pyplot
    afterwards (figures are otherwise kept until closed). Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    if close:
        pyplot().close(fig)
    return path
