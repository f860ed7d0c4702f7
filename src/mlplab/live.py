"""Live training plots in Jupyter: a callback that redraws the loss curves (and, for 2-D
inputs, the decision boundary) while ``fit`` runs, in the spirit of livelossplot.

Inside a notebook kernel the picture is one output that is replaced after every
``every_epochs`` epochs (``IPython.display`` with a ``display_id``); anywhere else (a script,
a terminal, a test run) the callback does nothing at all: it prints nothing, imports neither
IPython nor matplotlib, and has no batch hook, so ``fit`` does not call it per batch.
"""
from __future__ import annotations

import io
import sys

import numpy as np

from .callbacks import Callback


def in_notebook() -> bool:
    """True inside a running IPython kernel (Jupyter, nbclient). IPython is looked up in
    ``sys.modules`` only: a program that has not imported it is not in a notebook."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


class LivePlot(Callback):
    """Redraw the training curves during ``fit`` inside a notebook; do nothing elsewhere.

    Parameters
    ----------
    keys : sequence of str, optional
        The curves (``plot_history``'s keys); default loss and val_loss.
    boundary : (x, y), optional
        2-D inputs and labels: also draw the model's decision boundary over them.
    every_epochs : int, default=1
        Redraw after every k epochs (and at the end).
    figsize : (width, height), optional
    dpi : int, default=80

    Attributes
    ----------
    active : bool, whether the last fit ran in a notebook
    updates : int, the pictures shown during the last fit (first display and updates)
    """

    def __init__(self, keys=None, boundary=None, every_epochs: int = 1, figsize=None,
                 dpi: int = 80):
        super().__init__()
        if not isinstance(every_epochs, (int, np.integer)) or every_epochs < 1:
            raise ValueError(f"LivePlot: every_epochs must be a positive int; received "
                             f"{every_epochs!r}.")
        if boundary is not None:
            if not isinstance(boundary, (tuple, list)) or len(boundary) != 2:
                raise ValueError("LivePlot: boundary must be a pair (x, y) of 2-D inputs and "
                                 "their labels.")
            bx = np.asarray(boundary[0])
            if bx.ndim != 2 or bx.shape[1] != 2:
                raise ValueError(f"LivePlot: the boundary is drawn over 2-D inputs; x must "
                                 f"have shape (n_samples, 2), received {bx.shape}.")
        self.keys, self.boundary, self.every_epochs = keys, boundary, int(every_epochs)
        self.figsize, self.dpi = figsize, dpi
        self.active, self.updates = False, 0

    def on_train_begin(self, logs=None):
        self.active, self.updates = in_notebook(), 0
        self._logs: dict[str, list] = {}
        self._handle, self._drawn = None, True

    def on_epoch_end(self, epoch, logs=None):
        if not self.active:
            return
        for key, value in (logs or {}).items():
            self._logs.setdefault(key, []).append(value)
        self._drawn = (epoch + 1) % self.every_epochs == 0
        if self._drawn:
            self._show()

    def on_train_end(self, logs=None):
        if self.active and not self._drawn and self._logs:
            self._show()

    def render(self) -> bytes:
        """The current picture as PNG bytes."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from .plots import plot_decision_boundary, plot_history

        panels = 2 if self.boundary is not None else 1
        fig = Figure(figsize=self.figsize or (5.0 * panels, 3.6))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, panels, squeeze=False)[0]
        plot_history(self._logs, keys=self.keys, ax=axes[0],
                     stop_reason=getattr(self.model, "stop_reason", None))
        if self.boundary is not None:
            plot_decision_boundary(self.model, self.boundary[0], self.boundary[1], ax=axes[1],
                                   resolution=80, title=f"epoch {len(self._logs['loss'])}")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        return buf.getvalue()

    def _show(self) -> None:
        from IPython.display import Image, display

        image = Image(data=self.render(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
        self.updates += 1
