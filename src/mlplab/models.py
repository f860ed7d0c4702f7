"""Sequential: a linear stack of layers, trained with Keras's workflow.

The stack (this module) holds the layers, their weights and the random generators, and runs
the forward pass Y_l = f(Y_{l-1} W_l + b_l) and the backward pass
delta_l = f'(Xi_l) * (delta_{l+1} W_{l+1}^T) through them; compile, fit, evaluate and
predict come from the trainer (``mlplab.training.Trainer``), the model file from
``mlplab.saving``.
"""
from __future__ import annotations

import copy
import difflib
import numbers
from typing import NamedTuple

import numpy as np

from .exceptions import ArgumentError, ArgumentTypeError
from . import saving
from ._validation import as_array, check_finite, check_fits_dtype, check_sequence, \
    check_shape
from .layers import Input, Layer
from .layers import deserialize as _deserialize_layer
from .layers import serialize as _serialize_layer
from .preprocessing import FULL_BATCH  # noqa: F401 (fit(batch_size="full"), re-exported)
from .summary import summary_text
from .training import Trainer


class TensorSpec(NamedTuple):
    """The shape (None: any batch size), dtype and name of a model's input or output."""
    shape: tuple
    dtype: str
    name: str

class Sequential(Trainer):
    """A linear stack of layers.

    Parameters
    ----------
    layers : list of Layer, optional
        May start with ``Input(shape)`` to fix the input shape and build the model at once.
    seed : int, optional
        Fixes weight initialization, shuffling, dropout masks and the validation split: the same
        seed gives the same weights, bit for bit, on the same machine.
    dtype : {"float32", "float64"}, default="float32"
        float64 is for gradient checking and teaching.

    Examples
    --------
    >>> from mlplab import Sequential
    >>> from mlplab.layers import Input, Dense
    >>> model = Sequential([Input((2,)), Dense(10, activation="sigmoid"),
    ...                     Dense(1, activation="sigmoid")], seed=0)
    >>> model.count_params()
    41
    """

    def __init__(self, layers=None, seed: int | None = None, dtype="float32",
                 name: str = "sequential"):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ArgumentError(f"Sequential(dtype={dtype!r}): dtype must be 'float32' or "
                                f"'float64'.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ArgumentError(f"Sequential(seed={seed!r}): seed must be a non-negative integer "
                                f"or None.")
        super().__init__()
        self.seed = seed
        self.name = name
        self.layers: list[Layer] = []
        self.input_shape: tuple | None = None
        self.built = False
        seeds = np.random.SeedSequence(seed).spawn(3)
        self._init_rng, self._shuffle_rng, self._split_rng = (np.random.default_rng(s)
                                                              for s in seeds)
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ building
    def add(self, layer) -> None:
        """Append a layer (or an ``Input`` to declare the input shape)."""
        if isinstance(layer, Input):
            if self.layers:
                raise ArgumentError("Sequential.add(Input(...)): an Input must come first.")
            self.input_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise ArgumentTypeError(
                f"Sequential.add(): expected a Layer such as Dense(...); received "
                f"{layer!r} of type {type(layer).__name__}.")
        if not self.layers and self.input_shape is None and layer.declared_input_shape:
            self.input_shape = layer.declared_input_shape
        self.layers.append(layer)
        self.built = False
        if self.input_shape is not None:
            self.build(self.input_shape)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def build(self, input_shape) -> None:
        """Create every layer's weights for samples of shape ``input_shape``."""
        if not self.layers:
            raise ArgumentError("The model has no layers; add some with model.add(Dense(...)).")
        shape = check_shape(input_shape, "input_shape", "build()")
        self.compute_output_shape(shape)  # raises on an impossible stack before any change
        self.input_shape = shape
        first_trainable = True
        for layer in self.layers:
            if not layer.built or layer.input_shape != shape:
                layer.build(shape, self._init_rng, self.dtype)
            layer.need_input_grad = not first_trainable
            if layer.params:
                first_trainable = False
            shape = layer.output_shape
        self.output_shape = shape
        self.built = True
        self._steps = {}

    @property
    def trainable_params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params]

    @property
    def trainable_grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    def count_params(self) -> int:
        self._require_built("count_params()")
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of [W1, b1, W2, b2, ...], each W of shape (inputs, units)."""
        self._require_built("get_weights()")
        return [p.copy() for p in self.trainable_params]

    def set_weights(self, weights) -> None:
        """Set every weight from a list shaped as ``get_weights()`` returns."""
        self._require_built("set_weights()")
        params = self.trainable_params
        weights = check_sequence(weights, "weights", "set_weights()")
        if len(weights) != len(params):
            raise ArgumentError(f"set_weights(): expected a list of {len(params)} arrays "
                                f"[W1, b1, ...]; received {len(weights)}.")
        new = []
        for i, (p, w) in enumerate(zip(params, weights)):
            w = as_array(w, f"weights[{i}]", "set_weights()")
            if w.shape != p.shape:
                raise ArgumentError(f"set_weights(): weights[{i}] must have shape {p.shape}; "
                                    f"received {w.shape}.")
            check_finite(w.astype(np.float64), f"weights[{i}]", "set_weights()")
            check_fits_dtype(w, f"weights[{i}]", "set_weights()", p.dtype)
            new.append(w)
        for p, w in zip(params, new):
            p[...] = w

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        """Print Keras's table: layer (type), output shape, parameter count (a Trainable
        column with ``show_trainable=True``), then the total, trainable and non-trainable
        parameter counts with their size in memory. ``layer_range``: (first, last) names."""
        self._require_built("summary()")
        layers = self.layers
        if layer_range is not None:
            first, last = (self.layers.index(self.get_layer(n)) for n in layer_range)
            layers = layers[first:last + 1]
        (print_fn or print)(summary_text(self, layers, show_trainable))

    # ------------------------------------------------------------------ Keras's attributes
    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer (Keras's ``Sequential.pop``)."""
        if not self.layers:
            raise ArgumentTypeError("Sequential.pop(): there are no layers in the model.")
        layer = self.layers.pop()
        self._steps = {}
        if not self.layers:
            self.built = False
        elif rebuild and self.input_shape is not None:
            self.build(self.input_shape)
        if self.compiled and self.layers and self.built:
            self._resolve_metrics()
        return layer

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` (Keras's ``get_layer``)."""
        if name is not None and index is not None:
            raise ArgumentError(f"get_layer(): provide only a layer name or a layer index; "
                                f"received index={index}, name={name!r}.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ArgumentError(f"get_layer(index={index}): the model has only "
                                    f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is None:
            raise ArgumentError("get_layer(): provide either a layer name or a layer index.")
        names = [layer.name for layer in self.layers]
        if name in names:
            return self.layers[names.index(name)]
        close = difflib.get_close_matches(name, names, n=1)
        raise ArgumentError(f"get_layer(name={name!r}): no such layer. Existing layers are: "
                            f"{names}." + (f" Did you mean {close[0]!r}?" if close else ""))

    @property
    def trainable(self) -> bool:
        """False when every layer is frozen; setting it sets every layer's ``trainable``."""
        return any(layer.trainable for layer in self.layers) or not self.layers

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self.layers:
            layer.trainable = bool(value)

    @property
    def weights(self) -> list[np.ndarray]:
        """Every weight array (the live arrays, in ``get_weights()`` order)."""
        self._require_built("weights")
        return [p for layer in self.layers for p in layer.params]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        self._require_built("trainable_weights")
        return [p for layer in self.layers for p in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        self._require_built("non_trainable_weights")
        return [p for layer in self.layers for p in layer.non_trainable_weights]

    @property
    def inputs(self) -> list[TensorSpec]:
        """[the input's shape and dtype] (Keras gives symbolic tensors; here descriptions)."""
        self._require_built("inputs")
        return [TensorSpec((None,) + tuple(self.input_shape), self.dtype.name, "input")]

    @property
    def outputs(self) -> list[TensorSpec]:
        self._require_built("outputs")
        return [TensorSpec((None,) + tuple(self.output_shape), self.dtype.name,
                           self.layers[-1].name)]

    input = property(lambda self: self.inputs[0])
    output = property(lambda self: self.outputs[0])

    # ------------------------------------------------------------------ forward / backward
    def forward(self, X, training=False, below=None):
        """Y_L = the layers applied in turn to X (only those before layer ``below``, if given)."""
        for layer in self.layers:
            if layer is below:
                break
            X = layer.forward(X, training=training)
        return X

    def backward(self, dY, below=None):
        """Backpropagate dE/dY_L through the layers in reverse (only those below layer
        ``below``, given its dE/dY_{l-1}); each layer stores its gradients."""
        layers = self.layers if below is None else self.layers[:self.layers.index(below)]
        for layer in reversed(layers):
            if dY is None:  # the first trainable layer computes no dE/dX
                break
            dY = layer.backward(dY)

    def regularization_penalty(self) -> float:
        return sum(layer.regularization_penalty() for layer in self.layers)

    def get_rng_state(self) -> dict:
        """The states of the model's generators (initialization, shuffling, validation split)
        and of its layers' (dropout), to restore with ``set_rng_state``."""
        states = {name: getattr(self, "_" + name).bit_generator.state
                  for name in ("init_rng", "shuffle_rng", "split_rng")}
        for i, layer in enumerate(self.layers):
            if isinstance(getattr(layer, "rng", None), np.random.Generator):
                states[f"layer_{i}"] = layer.rng.bit_generator.state
        return states

    def set_rng_state(self, states: dict) -> None:
        for key, state in states.items():
            if key.startswith("layer_"):
                layer = self.layers[int(key[6:])]
                if isinstance(getattr(layer, "rng", None), np.random.Generator):
                    layer.rng.bit_generator.state = state
            elif key.lstrip("_") in ("init_rng", "shuffle_rng", "split_rng"):
                getattr(self, "_" + key.lstrip("_")).bit_generator.state = state

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ArgumentError(f"{what}: the model is not built yet. Start it with Input(shape), "
                                f"call model.build(input_shape), or fit it first.")

    # ------------------------------------------------------------------ configuration
    def get_config(self) -> dict:
        return {"name": self.name, "seed": self.seed, "dtype": self.dtype.name,
                "input_shape": list(self.input_shape) if self.input_shape else None,
                "layers": [_serialize_layer(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict) -> "Sequential":
        model = cls(seed=config.get("seed"), dtype=config.get("dtype", "float32"),
                    name=config.get("name", "sequential"))
        if config.get("input_shape"):
            model.add(Input(tuple(config["input_shape"])))
        for layer_config in config["layers"]:
            model.add(_deserialize_layer(layer_config))
        return model

    def save(self, filepath) -> None:
        """Write configuration, weights, compile settings and optimizer state to one file
        (atomically); ``mlplab.load_model(filepath)`` reads it back. See ``mlplab.saving``."""
        saving.save_model(self, filepath)

    def save_weights(self, filepath) -> None:
        self._require_built("save_weights()")
        saving.save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        saving.load_weights(self, filepath)

    def clone(self, dtype=None) -> "Sequential":
        """A deep copy of the model (layers, weights, optimizer state), optionally cast to
        another dtype (``clone("float64")`` for gradient checks)."""
        twin = copy.deepcopy(self)
        if dtype is not None and np.dtype(dtype) != self.dtype:
            twin.dtype = np.dtype(dtype)
            if twin.built:
                for layer in twin.layers:
                    layer.built = False
                twin.build(twin.input_shape)
                twin.set_weights(self.get_weights())
        return twin

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={len(self.layers)}>"


def load_model(path, compile: bool = True) -> Sequential:
    """The model saved at ``path``: built, with its weights, and (if it was compiled and
    ``compile`` is True) compiled with its optimizer's state, ready to continue training."""
    return saving.load(Sequential, path, compile)
