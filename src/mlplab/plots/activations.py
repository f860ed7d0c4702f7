"""An activation function with its derivative: the lectures' figures of f and f'."""
from __future__ import annotations

import numpy as np

from ._base import _axes


def plot_activation(activation, ax=None, *, xlim=(-5.0, 5.0), num: int = 401,
                    derivative: bool = True, title: str | None = None, figsize=(5, 3.5),
                    **params):
    """Draw f(xi) (solid) and f'(xi) (dashed) of an activation over ``xlim``.

    ``activation``: a registered name (``"sigmoid"``, ``"leaky_relu"``, ...), a class, an
    instance or a config dict; ``params`` are its parameters (``slope=2`` for sigmoid/tanh,
    ``alpha=0.1`` for leaky_relu/elu), e.g. ``plot_activation("sigmoid", slope=2)``.
    The derivative is the activation's own ``derivative(xi, f(xi))``, the one backpropagation
    uses. Softmax is not elementwise and is refused.

    Returns the Axes; its lines are labelled ``f(xi)`` and ``f'(xi)``.
    """
    from .. import activations

    where = "plot_activation()"
    if params:
        if not isinstance(activation, str):
            raise TypeError(f"{where}: parameters ({', '.join(params)}) go with an activation "
                            f"name; received {activation!r}. Pass an instance instead, e.g. "
                            f"mlplab.activations.Sigmoid(slope=2).")
        activation = {"name": activation, **params}
    act = activations.get(activation)
    if act.name == "softmax":
        raise ValueError(f"{where}: softmax is not an elementwise function of xi (each output "
                         f"depends on the whole row), so it has no curve f(xi); choose an "
                         f"elementwise activation such as 'sigmoid'.")
    xi = np.linspace(xlim[0], xlim[1], num)
    Y = act(xi)
    ax = _axes(ax, figsize)
    ax.plot(xi, Y, label="f(xi)", linewidth=2)
    if derivative:
        ax.plot(xi, act.derivative(xi, Y) * np.ones_like(xi), "--", label="f'(xi)")
    ax.axhline(0, color="0.7", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.7", linewidth=0.8, zorder=0)
    ax.set(xlim=xlim, xlabel="xi")
    ax.set_title(title if title is not None else repr(act))
    ax.legend(fontsize=8)
    return ax
