"""Layer: the unit of a Sequential model.

A layer is created with its configuration (``__init__``), gets its weights when the model
knows the input shape (``build``), maps its input to its output (``forward``) and maps
dE/d(output) back to dE/d(input) while storing dE/d(weights) (``backward``).
"""
from __future__ import annotations

import numpy as np

from .._validation import check_optional_name, check_positive_int, check_shape


class Layer:
    """Base class. Subclasses set ``params`` / ``grads`` (lists of arrays) in ``build``.

    Attributes
    ----------
    params, grads : list of ndarray
        The trainable weights and, after a backward pass, dE/d(each weight), in the same order.
    param_names : list of str
        Names of the weights (``"kernel"``, ``"bias"``).
    need_input_grad : bool
        False for the first trainable layer: nothing before it needs dE/dX, so it is not computed.
    """

    _counter: dict[str, int] = {}

    def __init__(self, name: str | None = None, input_shape=None, input_dim=None,
                 trainable: bool = True):
        where = f"{type(self).__name__}()"
        check_optional_name(name, "name", where)
        if input_dim is not None:
            input_shape = (check_positive_int(input_dim, "input_dim", where),)
        if input_shape is not None:
            input_shape = check_shape(input_shape, "input_shape", where)
        base = type(self).__name__.lower()
        if name is None:
            n = Layer._counter.get(base, 0)
            Layer._counter[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
        self.name = name
        self.declared_input_shape = tuple(input_shape) if input_shape is not None else None
        self.built = False
        self.params: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []
        self.param_names: list[str] = []
        self.need_input_grad = True
        #: False freezes the layer: ``fit`` leaves its weights unchanged (Keras's attribute).
        self.trainable = bool(trainable)
        self.input_shape: tuple | None = None
        self.output_shape: tuple | None = None

    # -- shapes and weights ------------------------------------------------------------------
    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one output sample, from the shape of one input sample."""
        return tuple(input_shape)

    def build(self, input_shape: tuple, rng: np.random.Generator, dtype) -> None:
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.dtype = np.dtype(dtype)
        self.built = True

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params))

    @property
    def weights(self) -> list[np.ndarray]:
        """The layer's weight arrays (the live arrays, not copies); [] before it is built."""
        return list(self.params)

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        return list(self.params) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        return [] if self.trainable else list(self.params)

    def __call__(self, x):
        """The layer on a batch x, built on x's sample shape at the first call (Keras's
        ``layer(x)``; the weights are drawn from a fresh, unseeded generator)."""
        X = np.asarray(x)
        if not self.built:
            dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float32
            self.build(X.shape[1:], np.random.default_rng(), dtype)
        return self.forward(X.astype(self.dtype, copy=False), training=False)

    # -- computation -------------------------------------------------------------------------
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dY: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def regularization_penalty(self) -> float:
        """The weight penalty this layer adds to the loss (0 without regularizers)."""
        return 0.0

    def apply_constraints(self) -> None:
        """Called after each optimizer step."""

    # -- configuration -----------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name}
        if not self.trainable:
            config["trainable"] = False
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class Input:
    """Declares the shape of one input sample: ``Input(shape=(784,))``.

    As in Keras, it is not a layer with weights; placed first in a Sequential it fixes the
    input shape, so the model is built (and ``summary()`` works) before ``fit``.
    """

    def __init__(self, shape, name: str | None = None):
        self.shape = check_shape(shape, "shape", f"Input(shape={shape!r})")
        check_optional_name(name, "name", "Input()")
        self.name = name or "input"

    def __repr__(self):
        return f"Input(shape={self.shape})"


InputLayer = Input
