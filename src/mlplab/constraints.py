"""Constraints applied to a weight after each optimizer step."""
from __future__ import annotations

import numpy as np

from ._registry import Registry

REGISTRY = Registry("constraint")


class Constraint:
    name = "constraint"

    def __call__(self, W: np.ndarray) -> np.ndarray:
        return W

    def get_config(self) -> dict:
        return {"name": self.name, **vars(self)}


def get(identifier):
    if identifier is None:
        return None
    return REGISTRY.get(identifier, base=Constraint)


@REGISTRY.register("max_norm", "maxnorm")
class MaxNorm(Constraint):
    """Rescale each unit's incoming weight vector (a column of W, ``axis=0``) to norm <= max_value."""

    name = "max_norm"

    def __init__(self, max_value: float = 2.0, axis: int = 0):
        self.max_value, self.axis = float(max_value), int(axis)

    def __call__(self, W):
        norms = np.sqrt(np.sum(W * W, axis=self.axis, keepdims=True))
        desired = np.clip(norms, 0.0, self.max_value)
        return W * (desired / (norms + 1e-7)).astype(W.dtype)


@REGISTRY.register("non_neg", "nonneg")
class NonNeg(Constraint):
    """w <- max(w, 0)."""

    name = "non_neg"

    def __call__(self, W):
        return np.maximum(W, 0.0).astype(W.dtype, copy=False)
