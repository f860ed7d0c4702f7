"""The network as a graph: units as nodes in columns, links coloured by the sign of the
weight and as thick as its size (the playground's picture, static)."""
from __future__ import annotations

import numpy as np

from ._base import _axes

POSITIVE, NEGATIVE = "tab:red", "tab:blue"


def network_graph(model, max_units: int = 24):
    """The drawing's data: (layer sizes drawn, node positions per column, links).

    Links are (column l, unit i, unit j, w) for W_l[i, j] between column l and l + 1; columns
    with more than ``max_units`` units keep their first ``max_units``.
    """
    where = "plot_network()"
    if not getattr(model, "built", False):
        raise ValueError(f"{where}: the model is not built; give it an Input or call "
                         f"model.build(input_shape) first.")
    dense = [layer for layer in model.layers if getattr(layer, "W", None) is not None]
    if not dense:
        raise ValueError(f"{where}: the model has no Dense layer to draw.")
    sizes = [dense[0].W.shape[0]] + [layer.W.shape[1] for layer in dense]
    shown = [min(s, max_units) for s in sizes]
    links = []
    for col, layer in enumerate(dense):
        W = np.asarray(layer.W, dtype=np.float64)[:shown[col], :shown[col + 1]]
        for (i, j), w in np.ndenumerate(W):
            links.append((col, i, j, float(w)))
    return sizes, shown, links


def plot_network(model, ax=None, *, max_units: int = 24, max_width: float = 4.0,
                 node_size: float = 120, title: str | None = None, figsize=(6, 4)):
    """Draw any Sequential's Dense layers as a graph.

    Column 0 holds the inputs, column l the units of the l-th Dense layer (Activation,
    Dropout and Flatten layers have no weights and no column). The link i -> j of W_l is red
    for w > 0 and blue for w < 0, with line width max_width * |w| / max|w| over all links.
    Biases are not drawn. Columns wider than ``max_units`` show their first units and a
    "+N" note.

    Returns the Axes; ``ax.collections[0]`` is the LineCollection of links (one segment per
    weight, in the order of W_1, W_2, ... row-major), ``ax.collections[1]`` the nodes.
    """
    from matplotlib.collections import LineCollection

    sizes, shown, links = network_graph(model, max_units)
    ax = _axes(ax, figsize)
    height = max(shown)

    def pos(col, i):
        return col, (shown[col] - 1) / 2.0 - i + (height - 1) / 2.0

    top = max((abs(w) for *_, w in links), default=1.0) or 1.0
    segments = [(pos(c, i), pos(c + 1, j)) for c, i, j, _ in links]
    colors = [POSITIVE if w > 0 else NEGATIVE for *_, w in links]
    widths = [max_width * abs(w) / top for *_, w in links]
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=widths, zorder=1))
    xy = np.array([pos(c, i) for c in range(len(shown)) for i in range(shown[c])])
    ax.scatter(xy[:, 0], xy[:, 1], s=node_size, color="white", edgecolors="k", zorder=2)
    for c, (n, k) in enumerate(zip(sizes, shown)):
        if n > k:
            ax.annotate(f"+{n - k}", pos(c, k - 1), xytext=(0, -12), textcoords="offset points",
                        ha="center", va="top", fontsize=8)
    names = ["input"] + [layer.name for layer in model.layers
                         if getattr(layer, "W", None) is not None]
    ax.set_xticks(range(len(shown)), [f"{name}\n({n})" for name, n in zip(names, sizes)],
                  fontsize=8)
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0)
    ax.set(xlim=(-0.5, len(shown) - 0.5), ylim=(-1, height))
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    if title is not None:
        ax.set_title(title)
    return ax
