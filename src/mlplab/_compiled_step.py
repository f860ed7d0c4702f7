"""One training step of a float32 dense softmax classifier in one compiled call.

The Python path of a step (``Sequential._train_batch``: ``Dense.forward``, the loss's fused
delta, ``Dense.backward_from_delta``) makes some 25 calls into NumPy and the kernels per batch:
~40-80 us of interpreter time, as much as the arithmetic of a batch of 32 on a 784-512-10
network. ``_ckernels.train_step`` makes the same BLAS products and elementwise loops in the
same order in one call (its comment in ``_ckernels.c`` states the math), into the layers' own
work arrays: afterwards every layer holds Y_prev, Xi, Y, delta (and dW, or a pending dW, as
after plain SGD's fused step) as the Python path leaves them, and the weights are bit for bit
the same (tested). The optimizers other than plain SGD then step as usual.

It serves what MNIST-style classifiers use: Dense layers (after any Flatten layers), linear,
sigmoid, tanh or ReLU hidden layers, a softmax output with ``sparse_categorical_crossentropy``
or ``categorical_crossentropy`` (whose per-sample loss the loss itself computes from Xi),
float32, no regularizers or constraints, and batches whose output has at most
``_kernels.MAX_ROWS_SIZE`` entries (where the Python path uses the same row kernels). Every
other model or batch, and ``MLPLAB_PURE_NUMPY=1``, runs the Python path.
"""
from __future__ import annotations

import numpy as np

from . import _kernels, activations
from .layers.core import Flatten
from .layers.dense import Dense
from .losses import CategoricalCrossentropy, SparseCategoricalCrossentropy

_LINEAR, _SOFTMAX = 0, 4  # codes of activations.kernel_code (hidden: linear to relu, 0-3)


def _ckernels():
    kernels = _kernels._load()
    if kernels is None or not hasattr(kernels, "train_step") or _kernels.blas_addresses() is None:
        return None
    return kernels


def _dense_layers(model):
    """The model's Dense layers if the compiled step serves the model, else None."""
    if model.dtype != np.float32 or \
            type(model.loss) not in (SparseCategoricalCrossentropy, CategoricalCrossentropy):
        return None
    lead = 0
    while lead < len(model.layers) and type(model.layers[lead]) is Flatten:
        lead += 1  # a reshape of C-ordered samples: the same memory, nothing to compute
    layers = model.layers[lead:]
    for i, layer in enumerate(layers):
        if type(layer) is not Dense or layer.kernel_regularizer is not None or \
                layer.bias_regularizer is not None or layer.kernel_constraint is not None or \
                layer.bias_constraint is not None or layer.need_input_grad != (i > 0) or \
                min(layer.W.shape) < 2:  # NumPy's matmul takes other BLAS paths there
            return None
        code = activations.kernel_code(layer.activation)
        if code is None or (code[0] == _SOFTMAX) != (i == len(layers) - 1):
            return None
    return layers or None


class CompiledStep:
    """The compiled step of ``model`` for batches of ``n`` samples (see the module's doc)."""

    def __init__(self, model, dense, n: int, kernels):
        self.kernels = kernels
        self.optimizer, self.loss = model.optimizer, model.loss
        self.sparse = type(model.loss) is SparseCategoricalCrossentropy
        self.layers, self.flatten = list(model.layers), dense[0] is not model.layers[0]
        self.params = [p for layer in dense for p in layer.params]
        self.e = np.empty(n, dtype=np.float32)
        dX = [layer._buffer("dX", n, layer.W.shape[0]) if i else None  # none for the first
              for i, layer in enumerate(dense)]
        entries, self.work = [], []
        for i, layer in enumerate(dense):
            u = layer.units
            code, slope = activations.kernel_code(layer.activation)
            xi = layer._buffer("xi", n, u)
            linear = code == _LINEAR and i < len(dense) - 1  # Y is Xi, delta the next dX
            Y = xi if linear else layer._buffer("Y", n, u)
            delta = dX[i + 1] if linear else layer._buffer("delta", n, u)
            entries.append((layer.W, layer.b, layer._dW, getattr(layer, "db", None), xi, Y,
                            delta, dX[i], code, float(slope)))
            self.work.append((layer, xi, Y, delta))
        self.plan = kernels.make_step(tuple(entries), n,
                                      *_kernels.blas_addresses(),
                                      float(np.float32(model.loss._scale(n))),
                                      _kernels.MIN_GEMM_SIZE, self.sparse)
        # plain SGD leaves dW pending where it folds the step into the product (as Dense does)
        self.pending = [n == 1 or layer.W.size >= _kernels.MIN_GEMM_SIZE for layer in dense]

    @classmethod
    def for_model(cls, model, n: int):
        """The step for batches of n samples, or None where the Python path must run."""
        kernels = _ckernels()
        dense = None if kernels is None else _dense_layers(model)
        if dense is None or n * dense[-1].units > _kernels.MAX_ROWS_SIZE:
            return None  # above it the Python path takes NumPy's softmax, which rounds otherwise
        try:
            return cls(model, dense, n, kernels)
        except TypeError:  # a weight array of another dtype or layout (set by hand)
            return None

    def current(self, model) -> bool:
        """Still the model's layers, weights, optimizer and loss, with the kernels on."""
        if model.optimizer is not self.optimizer or model.loss is not self.loss or \
                model.layers != self.layers or _kernels._load() is None:
            return False
        params = [p for layer in self.layers for p in layer.params]
        return all(p is q for p, q in zip(params, self.params)) and len(params) == len(self.params)

    def __call__(self, X, D, sgd_rate):
        """Run the step on (X, D); with ``sgd_rate`` also take plain SGD's step. Returns the
        per-sample losses, or None (nothing changed) when X or D does not fit the plan."""
        if self.sparse:
            D = D if D.dtype == np.int64 else D.astype(np.int64)
        try:
            self.kernels.train_step(self.plan, X, D, self.e if self.sparse else None, sgd_rate)
        except TypeError:  # another dtype or layout of X or D: the Python path's turn
            return None
        prev = X.reshape(len(X), -1) if self.flatten else X   # what Flatten gives Dense
        for (layer, xi, Y, delta), pending in zip(self.work, self.pending):
            layer.Y_prev, layer.xi, layer.Y, layer.delta = prev, xi, Y, delta
            layer._dW_pending = sgd_rate is not None and pending
            prev = Y
        if self.sparse:
            return self.e
        last = self.work[-1][0]
        return self.loss.per_sample_from_logits(last.xi, D, last.activation)  # as the Python path
