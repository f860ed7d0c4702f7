"""Optimizers: how a gradient becomes a weight update. Sorted by increasing complexity.

All share one small interface: ``apply(params, grads)`` updates each parameter array in place
(after optional gradient clipping) and counts the step; a subclass writes only
``update_step(index, param, grad, lr)`` for one array, and ``build`` for its state (slots).
``learning_rate`` is a number or a schedule (any callable step -> rate, see
``mlplab.schedules``), evaluated at each update.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._registry import Registry
from ._validation import check_positive_float

REGISTRY = Registry("optimizer")


class Optimizer:
    """Base class.

    Parameters
    ----------
    learning_rate : float or schedule
        alpha, the step size. Must be positive.
    clipnorm : float, optional
        Rescale each gradient array g to norm at most ``clipnorm`` (Keras's per-variable rule).
    global_clipnorm : float, optional
        Rescale all gradients together so their joint norm is at most this
        (``torch.nn.utils.clip_grad_norm_``).
    clipvalue : float, optional
        Clip every gradient component to [-clipvalue, clipvalue].
    """

    name = "optimizer"

    def __init__(self, learning_rate=0.01, clipnorm=None, clipvalue=None, global_clipnorm=None):
        where = f"{type(self).__name__}(learning_rate={learning_rate!r})"
        if isinstance(learning_rate, numbers.Number):
            learning_rate = check_positive_float(learning_rate, "learning_rate", where)
        elif not callable(learning_rate):
            raise TypeError(f"{where}: learning_rate must be a positive number or a schedule.")
        self.learning_rate = learning_rate
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                           ("global_clipnorm", global_clipnorm)):
            if value is not None:
                check_positive_float(value, arg, f"{type(self).__name__}({arg}={value!r})")
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.built = False

    # -- state -------------------------------------------------------------------------------
    def build(self, params: list[np.ndarray]) -> None:
        """Create the per-parameter state (moments...). Called before the first update."""
        self.built = True

    def slots(self) -> dict[str, list[np.ndarray]]:
        """The optimizer's state arrays by name, one list entry per parameter."""
        return {}

    def get_state(self) -> dict:
        return {"iterations": self.iterations,
                **{k: [a.copy() for a in v] for k, v in self.slots().items()}}

    def set_state(self, state: dict) -> None:
        self.iterations = int(state["iterations"])
        for key, arrays in self.slots().items():
            for mine, saved in zip(arrays, state[key]):
                mine[...] = saved

    # -- update ------------------------------------------------------------------------------
    @property
    def current_learning_rate(self) -> float:
        lr = self.learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    def clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipvalue is not None:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [g * min(1.0, self.clipnorm / (float(np.linalg.norm(g)) + 1e-12))
                     for g in grads]
        if self.global_clipnorm is not None:
            total = float(np.sqrt(sum(float(np.sum(g * g, dtype=np.float64)) for g in grads)))
            scale = min(1.0, self.global_clipnorm / (total + 1e-6))
            grads = [g * g.dtype.type(scale) for g in grads]
        return grads

    def apply(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """One update of every parameter array, in place."""
        if not self.built:
            self.build(params)
        if self.clipvalue is not None or self.clipnorm is not None or \
                self.global_clipnorm is not None:
            grads = self.clip(grads)
        lr = self.current_learning_rate
        self.iterations += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            self.update_step(i, p, g, lr)

    def update_step(self, index: int, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        lr = self.learning_rate
        config = {"name": self.name,
                  "learning_rate": lr.get_config() if hasattr(lr, "get_config") else lr}
        for key in ("clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate!r})"


def get(identifier) -> Optimizer:
    """An Optimizer from a name (Keras defaults), class, instance or config dict."""
    return REGISTRY.get(identifier, base=Optimizer)


@REGISTRY.register("sgd")
class SGD(Optimizer):
    """Gradient descent: w <- w - alpha dE/dw (the lectures' delta rule in matrix form).

    Parameters
    ----------
    learning_rate : float, default=0.01 (Keras's default)
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate, **kwargs)

    def update_step(self, index, param, grad, lr):
        param -= param.dtype.type(lr) * grad
