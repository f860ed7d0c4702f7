"""Weight penalties added to the loss: L1 (lasso), L2 (weight decay) and both.

Each gives its ``penalty(W)`` (added to the reported loss) and ``gradient(W)`` (added to dE/dW).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .exceptions import ArgumentError
from ._registry import Registry

REGISTRY = Registry("regularizer")


class Regularizer:
    name = "regularizer"

    def penalty(self, W: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, W: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, **vars(self)}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _check_factor(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value < 0:
        raise ArgumentError(f"{where}: {name} must be a non-negative finite number (a negative "
                            f"penalty rewards large weights); received {value!r}.")
    return float(value)


def get(identifier):
    if identifier is None:
        return None
    return REGISTRY.get(identifier, base=Regularizer)


@REGISTRY.register("l1l2")
class L1L2(Regularizer):
    """penalty = l1 sum |w| + l2 sum w^2; gradient = l1 sign(w) + 2 l2 w (Keras's convention)."""

    name = "l1l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        where = f"{type(self).__name__}(l1={l1!r}, l2={l2!r})" if type(self) is L1L2 else \
            f"{type(self).__name__}({l1 if type(self) is L1 else l2!r})"
        self.l1, self.l2 = _check_factor(l1, "l1", where), _check_factor(l2, "l2", where)

    def penalty(self, W):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(W).sum(dtype=np.float64))
        if self.l2:
            total += self.l2 * float(np.square(W).sum(dtype=np.float64))
        return total

    def gradient(self, W):
        g = np.zeros_like(W)
        if self.l1:
            g += W.dtype.type(self.l1) * np.sign(W)
        if self.l2:
            g += W.dtype.type(2.0 * self.l2) * W
        return g


@REGISTRY.register("l1")
class L1(L1L2):
    """penalty = l1 sum |w| (default l1=0.01, as Keras)."""

    name = "l1"

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"name": self.name, "l1": self.l1}


@REGISTRY.register("l2")
class L2(L1L2):
    """penalty = l2 sum w^2 (default l2=0.01, as Keras); gradient 2 l2 w."""

    name = "l2"

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"name": self.name, "l2": self.l2}
