"""Decision regions and boundaries of 2-D classifiers, and how they move during training."""
from __future__ import annotations

import numpy as np

from ._base import _axes, pyplot

_MARKERS = ("o", "x", "s", "^", "v", "D", "P", "*")


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




# ------------------------------------------------------------------------ boundary over training
def _pick(n: int, n_frames: int) -> list[int]:
    """``n_frames`` indices spread evenly over range(n), first and last included."""
    return sorted(set(np.linspace(0, n - 1, min(n_frames, n)).round().astype(int).tolist()))


def training_frames(model, snapshots=None, n_frames: int = 6):
    """The stages of a training run to draw: a list of (title, score function, threshold).

    - A fitted Perceptron, Adaline or SingleLayerNetwork: from its ``weights_history_``
      (W before training and after each update or epoch); the score is the net input
      xi = x w + w_0, the boundary xi = 0.
    - A Sequential: from a ``mlplab.recorder.WeightSnapshots`` passed to ``fit``
      (``snapshots``); the score is the model's output with those weights.

    ``n_frames`` stages are picked evenly, the first (before training) and the last included.
    """
    where = "training_frames()"
    history = getattr(model, "weights_history_", None)
    if history is not None:
        label = "update" if getattr(model, "record", "epochs") == "updates" else "epoch"
        frames = []
        for k in _pick(len(history), n_frames):
            W = np.array(history[k], dtype=np.float64)

            def score(g, W=W):
                xi = np.hstack([np.ones((len(g), 1)), g]) @ W
                return xi[:, 0] if xi.shape[1] == 1 else xi
            frames.append((f"{label} {k}", score, 0.0))
        return frames
    if hasattr(model, "layers"):
        if snapshots is None or not getattr(snapshots, "weights", None):
            raise ValueError(f"{where}: a Sequential keeps no past weights; pass "
                             f"snapshots=WeightSnapshots() to fit(callbacks=[...]) and then "
                             f"here.")
        replay = model.clone()
        frames = []
        for k in _pick(len(snapshots.weights), n_frames):
            def score(g, weights=snapshots.weights[k]):
                replay.set_weights(weights)
                return replay.predict(g)
            frames.append((f"epoch {snapshots.epochs[k]}", score, None))
        return frames
    raise TypeError(f"{where}: expected a fitted Perceptron/Adaline/SingleLayerNetwork (with "
                    f"weights_history_) or a Sequential with WeightSnapshots; received "
                    f"{type(model).__name__}.")


def plot_boundary_evolution(frames, x, y=None, *, ncols: int = 3, resolution: int = 100,
                            bounds=None, figsize=None, **kwargs):
    """Small multiples: the decision boundary at each stage of ``training_frames``.

    Returns (fig, axes), axes a 1-D array with one Axes per frame (spare panels removed).
    """
    plt = pyplot()
    if not frames:
        raise ValueError("plot_boundary_evolution(): no frames; build them with "
                         "training_frames(model, ...).")
    nrows = -(-len(frames) // ncols)
    ncols = min(ncols, len(frames))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=figsize or (3.0 * ncols, 3.0 * nrows))
    axes = axes.ravel()
    for ax in axes[len(frames):]:
        fig.delaxes(ax)
    for ax, (title, score, threshold) in zip(axes, frames):
        plot_decision_boundary(score, x, y, ax=ax, threshold=threshold, resolution=resolution,
                               bounds=bounds, title=title, **kwargs)
        if ax.get_legend() is not None and ax is not axes[0]:
            ax.get_legend().remove()
    return fig, axes[:len(frames)]


def animate_boundary_evolution(frames, x, y=None, path=None, *, fps: float = 2.0,
                               resolution: int = 100, bounds=None, figsize=(4.5, 4.5),
                               dpi: int = 80, **kwargs):
    """An animation with one frame per stage of ``training_frames``; written to ``path`` as
    an animated GIF (matplotlib's PillowWriter) when a path is given.

    Returns the ``matplotlib.animation.FuncAnimation``.
    """
    from matplotlib.animation import FuncAnimation, PillowWriter

    if not frames:
        raise ValueError("animate_boundary_evolution(): no frames; build them with "
                         "training_frames(model, ...).")
    fig, ax = pyplot().subplots(figsize=figsize)

    def draw(k):
        ax.clear()
        title, score, threshold = frames[k]
        plot_decision_boundary(score, x, y, ax=ax, threshold=threshold, resolution=resolution,
                               bounds=bounds, title=title, **kwargs)
        return []

    anim = FuncAnimation(fig, draw, frames=len(frames), interval=1000.0 / fps, blit=False)
    if path is not None:
        from pathlib import Path

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return anim
