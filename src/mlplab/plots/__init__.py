"""Pictures of learning: activations, weights, the network, confusion matrices, training
curves, per-layer statistics and decision boundaries (also as they move during training).

matplotlib is optional (``pip install mlplab[plot]``); it is imported when one of these
functions runs, never by ``import mlplab``. Every function draws on ``ax`` when given (those
that draw one picture), else on a new figure, and returns the matplotlib objects (the Axes,
or (fig, axes) for small multiples), so several calls can share one figure and users can
restyle what is drawn:

>>> fig, (left, right) = pyplot().subplots(1, 2)            # doctest: +SKIP
>>> plot_decision_boundary(model, x, y, ax=left)            # doctest: +SKIP
>>> plot_history(history, ax=right)                         # doctest: +SKIP
>>> save_figure(fig, "out/run.png")                         # doctest: +SKIP

Without a display matplotlib draws with its Agg backend, so saving works on a server too.
"""
from ._base import available, pyplot, save_figure
from .activations import plot_activation
from .boundaries import (animate_boundary_evolution, plot_boundary_evolution,
                         plot_decision_boundary, training_frames)
from .confusion import plot_confusion_matrix
from .network import network_graph, plot_network
from .training import plot_history, plot_layer_stats
from .weights import plot_hinton, plot_weights

__all__ = ["available", "plot_decision_boundary", "training_frames", "plot_boundary_evolution",
           "animate_boundary_evolution", "plot_history", "plot_layer_stats", "plot_activation",
           "plot_weights", "plot_hinton", "plot_network", "network_graph",
           "plot_confusion_matrix", "save_figure", "pyplot"]
