"""Layers defined by their forward computation alone; the backward pass comes from the graph.

``Lambda(fn)`` wraps a stateless function of a Tensor; ``CustomLayer`` is subclassed with a
``build(input_shape)`` that creates weights through ``add_weight`` and a ``forward(x)``
written with Tensor operations (``mlplab.autodiff``). While training, ``forward`` records
the computation graph and ``backward(dY)`` runs reverse-mode differentiation on it for
dE/dX and dE/d(weights); at prediction time no graph is recorded.

They work everywhere a Dense does (``Sequential.fit``, ``get_weights``/``set_weights``,
``summary``, ``count_params``), but are slower: each operation is a Python-level graph node.
Measured on a small example in docs/autodiff.md.
"""
from __future__ import annotations

import copy
import inspect

import numpy as np

from ..exceptions import ArgumentError, ArgumentTypeError
from .. import constraints, initializers, regularizers
from ..autodiff.tensor import Tensor, no_grad
from .base import Layer


def _check_output(out, where: str) -> Tensor:
    if not isinstance(out, Tensor):
        raise ArgumentTypeError(
            f"{where} must return a Tensor built with mlplab.autodiff operations (x * 2, "
            f"autodiff.exp(x), ...); received {type(out).__name__}. NumPy functions such as "
            f"np.exp cannot be differentiated: use their mlplab.autodiff counterparts.")
    return out


def _infer_shape(run, input_shape, dtype, where: str) -> tuple:
    """Output shape of one sample, by running the layer on a dummy batch of two ones."""
    dummy = np.ones((2,) + tuple(input_shape), dtype=dtype)
    with no_grad(), np.errstate(all="ignore"):
        out = _check_output(run(Tensor(dummy)), where)
    if out.ndim == 0 or out.shape[0] != 2:
        raise ArgumentError(f"{where} must keep the batch axis first: a batch of 2 samples gave "
                            f"output shape {out.shape}.")
    return tuple(out.shape[1:])


class _GraphBackward:
    """Mixin: forward records the graph while training; backward differentiates it."""

    _weights: list

    def _graph_forward(self, X, training):
        raise NotImplementedError

    def forward(self, X, training=False):
        if not training:  # nothing stored: a training pass's graph stays for its backward
            with no_grad():
                out = _check_output(self._graph_forward(Tensor(X), False), self._where)
            return out.data.astype(self.dtype, copy=False)
        for w in self._weights:
            w.grad = None
        x = Tensor(X, requires_grad=self.need_input_grad, kind="input", name="x")
        out = _check_output(self._graph_forward(x, True), self._where)
        self._x, self._out = x, out
        return out.data.astype(self.dtype, copy=False)

    def backward(self, dY):
        x, out = self._x, self._out
        if out is None:
            raise RuntimeError(f"{self._where}: backward() needs forward(X, training=True) "
                               f"first.")
        if out.requires_grad:
            out.backward(np.asarray(dY, dtype=out.dtype))
        for w, g in zip(self._weights, self.grads):
            if w.grad is None:
                g[...] = 0
            else:
                g[...] = w.grad
        self._add_regularizer_gradients()
        if not self.need_input_grad:
            return None
        return np.zeros_like(x.data) if x.grad is None else x.grad

    def _add_regularizer_gradients(self):
        pass


class Lambda(_GraphBackward, Layer):
    """A layer from a function of one Tensor: ``Lambda(lambda x: x * autodiff.tanh(x))``.

    Parameters
    ----------
    function : callable
        Maps the batch (a Tensor of shape (N, ...)) to the output batch with Tensor operations.
        It has no weights.
    output_shape : tuple, optional
        Shape of one output sample. By default it is found by calling ``function`` on a dummy
        batch of ones when the model is built.

    ``get_config`` holds the function object itself, so the config is not JSON-serializable.
    """

    def __init__(self, function, output_shape=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ArgumentTypeError(f"Lambda(function={function!r}): function must be callable (a "
                                    f"function of one Tensor); received {type(function).__name__}.")
        self.function = function
        self._declared_output_shape = (None if output_shape is None
                                       else tuple(int(s) for s in output_shape))
        self._weights = []
        self._x = self._out = None

    @property
    def _where(self):
        return f"Lambda layer '{self.name}': its function"

    def _graph_forward(self, x, training):
        return self.function(x)

    def compute_output_shape(self, input_shape):
        if self._declared_output_shape is not None:
            return self._declared_output_shape
        return _infer_shape(self.function, input_shape, np.float64, self._where)

    def get_config(self):
        return {**super().get_config(), "function": self.function,
                "output_shape": (None if self._declared_output_shape is None
                                 else list(self._declared_output_shape))}


class CustomLayer(_GraphBackward, Layer):
    """Base class for a layer written as its forward pass only (Keras's subclassing style).

    Define ``build(self, input_shape)``, creating weights with :meth:`add_weight`, and
    ``forward(self, x)`` (optionally ``forward(self, x, training)``) with Tensor operations;
    the gradients come from ``mlplab.autodiff``. A layer without weights needs only
    ``forward``. Give ``compute_output_shape`` if you like; otherwise it is found by running
    ``forward`` on a dummy batch. Override ``get_config`` to return your constructor arguments.
    (Avoid an attribute named ``activation``: Sequential reads the last layer's ``activation``
    to fuse it with a cross-entropy loss, which assumes a Dense.)

        >>> from mlplab.layers import CustomLayer
        >>> class Scale(CustomLayer):
        ...     '''Y = X * s, one learned factor s per feature.'''
        ...     def build(self, input_shape):
        ...         self.s = self.add_weight(input_shape, initializer="ones", name="scale")
        ...     def forward(self, x):
        ...         return x * self.s
    """

    _user_build = None
    _user_forward = None
    _forward_takes_training = False

    def __init_subclass__(cls, **kwargs):
        # The model calls build(input_shape, rng, dtype) and forward(X, training) with arrays;
        # the subclass writes build(input_shape) and forward(x) with Tensors. Keep the user's
        # methods aside and put the graph-running ones in their place.
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls._user_build = cls.__dict__["build"]
            cls.build = CustomLayer._build
        if "forward" in cls.__dict__:
            cls._user_forward = cls.__dict__["forward"]
            cls._forward_takes_training = "training" in inspect.signature(
                cls._user_forward).parameters
            cls.forward = _GraphBackward.forward

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._weights: list[Tensor] = []
        self._regularizers: list = []
        self._constraints: list = []
        self._rng = None
        self._x = self._out = None

    @property
    def _where(self):
        return f"{type(self).__name__} layer '{self.name}': forward()"

    # -- weights -------------------------------------------------------------------------------
    def add_weight(self, shape, initializer="glorot_uniform", name=None, regularizer=None,
                   constraint=None) -> Tensor:
        """Create a trainable weight (call it in ``build``); returns it as a parameter Tensor.

        Parameters
        ----------
        shape : int or tuple of int
        initializer : str or Initializer, default="glorot_uniform"
        name : str, optional
            Defaults to ``weight_<i>``.
        regularizer, constraint : optional, as for Dense's kernel.
        """
        if self._rng is None:
            raise RuntimeError(f"{type(self).__name__}.add_weight(): call it inside build(), "
                               f"where the model provides the random generator and dtype.")
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
        data = initializers.get(initializer)(shape, self._rng, self.dtype)
        name = name or f"weight_{len(self.params)}"
        w = Tensor(np.asarray(data, dtype=self.dtype), requires_grad=True, kind="parameter",
                   name=f"{self.name}/{name}")
        self.params.append(w.data)  # the same array: optimizer steps and set_weights reach w
        self.grads.append(np.zeros_like(w.data))
        self.param_names.append(name)
        self._weights.append(w)
        self._regularizers.append(regularizers.get(regularizer))
        self._constraints.append(constraints.get(constraint))
        return w

    def _build(self, input_shape, rng=None, dtype=None):
        if rng is None:  # the user's build called super().build(input_shape): nothing to do
            return
        self.input_shape = tuple(input_shape)
        self.dtype = np.dtype(dtype)
        self.params, self.grads, self.param_names = [], [], []
        self._weights, self._regularizers, self._constraints = [], [], []
        self._rng = rng
        try:
            if self._user_build is not None:
                self._user_build(self.input_shape)
        finally:
            self._rng = None
        self.built = True
        self.output_shape = self._own_output_shape(self.input_shape)

    build = _build

    def _own_output_shape(self, input_shape):
        if type(self).compute_output_shape is not CustomLayer.compute_output_shape:
            return tuple(self.compute_output_shape(input_shape))
        return _infer_shape(lambda x: self._graph_forward(x, False), input_shape, self.dtype,
                            self._where)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.built and self.input_shape == input_shape:
            return self.output_shape
        twin = copy.deepcopy(self)  # a scratch build, so this layer's weights stay untouched
        twin._build(input_shape, np.random.default_rng(0), np.float64)
        return twin.output_shape

    def _graph_forward(self, x, training):
        if self._user_forward is None:
            raise NotImplementedError(f"{type(self).__name__}: define forward(self, x) with "
                                      f"Tensor operations.")
        if self._forward_takes_training:
            return self._user_forward(x, training=training)
        return self._user_forward(x)

    # -- penalties and constraints, as Dense ---------------------------------------------------
    def regularization_penalty(self):
        return sum(r.penalty(w.data) for w, r in zip(self._weights, self._regularizers)
                   if r is not None)

    def _add_regularizer_gradients(self):
        for w, g, r in zip(self._weights, self.grads, self._regularizers):
            if r is not None:
                g += r.gradient(w.data)

    def apply_constraints(self):
        for w, c in zip(self._weights, self._constraints):
            if c is not None:
                w.data[...] = c(w.data)
