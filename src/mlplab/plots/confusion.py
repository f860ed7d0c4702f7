"""A confusion matrix drawn as a table of shaded counts (or rates)."""
from __future__ import annotations

import numpy as np

from ._base import _axes

NORMALIZE = (None, "true", "pred", "all")


def plot_confusion_matrix(y_true, y_pred, ax=None, *, normalize: str | None = None,
                          display_labels=None, cmap="Blues", values_format=None,
                          title: str | None = None, figsize=(4.5, 4)):
    """Draw C[i, j], the samples of true class i predicted as class j (rows: truth), as in
    ``sklearn.metrics.ConfusionMatrixDisplay``.

    ``normalize`` as in scikit-learn: None (counts), "true" (each row sums to 1: recall on the
    diagonal), "pred" (each column sums to 1: precision) or "all". y_true and y_pred are
    labels, one-hot rows or probabilities (see ``mlplab.metrics.confusion_matrix``).

    Returns the Axes; ``ax.images[0].get_array()`` is the matrix drawn.
    """
    from ..metrics import confusion_matrix

    where = "plot_confusion_matrix()"
    if normalize not in NORMALIZE:
        raise ValueError(f"{where}: normalize must be one of {NORMALIZE}; received "
                         f"{normalize!r}.")
    C = confusion_matrix(y_true, y_pred).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            C = C / C.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            C = C / C.sum(axis=0, keepdims=True)
        elif normalize == "all":
            C = C / C.sum()
    C = np.nan_to_num(C)
    k = len(C)
    labels = list(display_labels) if display_labels is not None else list(range(k))
    if len(labels) != k:
        raise ValueError(f"{where}: display_labels has {len(labels)} names for {k} classes.")
    ax = _axes(ax, figsize)
    im = ax.imshow(C, cmap=cmap, vmin=0.0, interpolation="nearest")
    fmt = values_format or (".2f" if normalize else ".0f")
    middle = (C.max() + C.min()) / 2.0
    for (i, j), v in np.ndenumerate(C):
        ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=9,
                color="white" if v > middle else "black")
    ax.figure.colorbar(im, ax=ax)
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set(xlabel="predicted label", ylabel="true label")
    if title is not None:
        ax.set_title(title)
    return ax
