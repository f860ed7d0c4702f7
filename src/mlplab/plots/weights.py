"""A weight matrix as a heatmap (colour by value) or a Hinton diagram (square area by |w|)."""
from __future__ import annotations

import numpy as np

from ._base import _axes


def _matrix(source, layer, where: str) -> np.ndarray:
    """W of layer ``layer`` (index among the weighted layers, or a name) of a model, or an
    array as given."""
    if hasattr(source, "layers"):
        weighted = [lay for lay in source.layers if getattr(lay, "W", None) is not None]
        if not weighted:
            raise ValueError(f"{where}: the model has no weighted layer; build it first.")
        if isinstance(layer, str):
            named = [lay for lay in weighted if lay.name == layer]
            if not named:
                raise ValueError(f"{where}: no weighted layer named {layer!r}; the model has "
                                 f"{', '.join(lay.name for lay in weighted)}.")
            return np.asarray(named[0].W, dtype=np.float64)
        layer = 0 if layer is None else layer
        if not -len(weighted) <= layer < len(weighted):
            raise ValueError(f"{where}: layer must be in [0, {len(weighted)}) (the weighted "
                             f"layers); received {layer!r}.")
        return np.asarray(weighted[layer].W, dtype=np.float64)
    W = np.asarray(source, dtype=np.float64)
    if W.ndim == 1:
        W = W[:, None]
    if W.ndim != 2:
        raise ValueError(f"{where}: expected a model or a 2-D weight matrix; received an "
                         f"array of shape {W.shape}.")
    return W


def plot_weights(source, layer=None, ax=None, *, cmap="RdBu_r", colorbar: bool = True,
                 title: str | None = None, figsize=(5, 4)):
    """Heatmap of W (rows: inputs i, columns: units j), colour scale symmetric about 0
    (red positive, blue negative with the default cmap).

    ``source``: a Sequential (``layer``: index among its Dense layers, default 0, or a name)
    or an array. Returns the Axes; the image is ``ax.images[0]`` (its data is W).
    """
    W = _matrix(source, layer, "plot_weights()")
    ax = _axes(ax, figsize)
    m = float(np.abs(W).max()) or 1.0
    im = ax.imshow(W, cmap=cmap, vmin=-m, vmax=m, aspect="auto", interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="w")
    _integer_ticks(ax)
    ax.set(xlabel="unit j", ylabel="input i")
    if title is not None:
        ax.set_title(title)
    return ax


def _integer_ticks(ax):
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def plot_hinton(source, layer=None, ax=None, *, max_weight: float | None = None,
                title: str | None = None, figsize=(5, 4)):
    """Hinton diagram of W: one square per weight, its area proportional to |w| / max|w|,
    white for positive and black for negative weights, on grey.

    Returns the Axes; the squares are its patches (``ax.patches``), in row-major order of W.
    """
    from matplotlib.patches import Rectangle

    W = _matrix(source, layer, "plot_hinton()")
    ax = _axes(ax, figsize)
    top = max_weight if max_weight is not None else (float(np.abs(W).max()) or 1.0)
    ax.set_facecolor("0.5")
    for (i, j), w in np.ndenumerate(W):
        side = np.sqrt(min(abs(w) / top, 1.0))
        ax.add_patch(Rectangle((j - side / 2, i - side / 2), side, side,
                               facecolor="white" if w > 0 else "black", edgecolor="none"))
    ax.set(xlim=(-0.5, W.shape[1] - 0.5), ylim=(W.shape[0] - 0.5, -0.5), aspect="equal",
           xlabel="unit j", ylabel="input i")
    _integer_ticks(ax)
    if title is not None:
        ax.set_title(title)
    return ax
