"""Layers without weights: Activation, Flatten, Dropout."""
from __future__ import annotations

import math

import numpy as np

from .. import activations
from .._validation import check_fraction, check_positive_int
from .base import Layer


class Activation(Layer):
    """Applies an activation function on its own: Y = f(X); backward delta = f'(X) * dE/dY."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, X, training=False):
        Y = self.activation(X)
        if training:
            self.X, self.Y = X, Y
        return Y

    def backward(self, dY):
        return self.activation.backward(self.X, self.Y, dY)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation.get_config()}


class Flatten(Layer):
    """Reshapes each sample to one dimension: (N, 28, 28) -> (N, 784)."""

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, X, training=False):
        return X.reshape(len(X), -1)

    def backward(self, dY):
        return dY.reshape((len(dY),) + self.input_shape)


class Dropout(Layer):
    """Inverted dropout: while training, Y = X * m / (1 - rate) with m ~ Bernoulli(1 - rate).

    The expected activation is unchanged, so nothing needs rescaling at prediction time, where
    the layer is the identity. Masks come from the model's seeded generator.

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of the inputs set to zero.
    """

    def __init__(self, rate, seed=None, **kwargs):
        rate = check_fraction(rate, "rate", f"Dropout(rate={rate!r})")
        if seed is not None:
            check_positive_int(seed, "seed", f"Dropout(seed={seed!r})", allow_zero=True)
        super().__init__(**kwargs)
        self.rate, self.seed = rate, seed

    def build(self, input_shape, rng, dtype):
        super().build(input_shape, rng, dtype)
        self.rng = np.random.default_rng(self.seed) if self.seed is not None else \
            np.random.default_rng(rng.integers(2 ** 63))

    def forward(self, X, training=False):
        if not training:  # the identity; the mask of a training pass stays for its backward
            return X
        if self.rate == 0.0:
            self.mask = None
            return X
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(X.shape, dtype=X.dtype) < keep) * X.dtype.type(1.0 / keep)
        return X * self.mask

    def backward(self, dY):
        return dY if self.mask is None else dY * self.mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
