"""Replacements of the trainer's reference step, planned once per model and batch size.

A step object is called as ``step(X, D) -> (per-sample losses, Y_L)``; it leaves every layer
holding what the reference step leaves (Y_prev, Xi, Y, delta, and dE/dW, dE/db where the update
needs them), and its ``update_step`` (or None) is handed to ``optimizer.apply``. Two kinds:

- ``CompiledStep``: the whole forward and backward pass of a float32 Dense softmax classifier
  in one C call (``_ckernels.train_step``), plain SGD's update included;
- ``LayerStep``: the reference step's formulas for any stack, with Dense layers (exact class,
  no penalty) computing in work arrays kept from step to step, with the table's kernels.

Every step runs its products on the BLAS threads ``threads`` chooses for its largest one.
Both fold plain SGD's W <- W - alpha Y_prev^T delta into one matrix product where
``table.folds_update`` says it pays; dE/dW is then not formed (``Dense`` documents it).
"""
from __future__ import annotations

import weakref

import numpy as np

from ..activations import Linear, Softmax
from ..layers import Dense, Flatten
from ..losses import CategoricalCrossentropy, SparseCategoricalCrossentropy
from . import blas, elementwise, kernels, table, threads
from .optimizers import plain_sgd, update_step_for

_work = weakref.WeakKeyDictionary()  # {layer: {name: work array}}


def work_array(layer, name: str, n: int, width: int):
    """The layer's work array ``name`` of shape (n, width), kept from step to step (training
    allocates nothing). The next step overwrites it, so ``predict`` never returns one."""
    arrays = _work.setdefault(layer, {})
    buf = arrays.get(name)
    if buf is None or len(buf) < n or buf.shape[1] != width or buf.dtype != layer.dtype:
        buf = arrays[name] = np.empty((n, width), dtype=layer.dtype)
    return buf if len(buf) == n else buf[:n]


def work_arrays(layer) -> dict:
    """{name: array} of the work arrays the fast step keeps for ``layer``."""
    return dict(_work.get(layer, {}))


def _fast_dense(layer) -> bool:
    return type(layer) is Dense and layer.kernel_regularizer is None and \
        layer.bias_regularizer is None


def _fused(model) -> bool:
    act = getattr(model.layers[-1], "activation", None)
    return act is not None and model.loss.fuses_with(act) and \
        hasattr(model.layers[-1], "backward_from_delta")


class _Plan:
    """What every step checks before it runs: the same layers, weights, optimizer and loss."""

    def __init__(self, model, n):
        self.n, self.layers = n, list(model.layers)
        self.optimizer, self.loss = model.optimizer, model.loss
        self.params = model.trainable_params
        self.flops = threads.dense_flops(self.layers, n)  # its largest product

    def __call__(self, X, D):
        """The step on (X, D) with the BLAS threads its products get (``threads``)."""
        previous = threads.enter(self.flops)
        try:
            return self.run(X, D)
        finally:
            threads.leave(previous)

    def current(self, model) -> bool:
        params = model.trainable_params
        return kernels.enabled() and model.optimizer is self.optimizer and \
            model.loss is self.loss and model.layers == self.layers and \
            len(params) == len(self.params) and all(p is q for p, q in zip(params, self.params))


class LayerStep(_Plan):
    """The reference step with work arrays, kernels and the folded SGD update."""

    def __init__(self, model, n):
        super().__init__(model, n)
        self.fast = [_fast_dense(layer) for layer in self.layers]
        self.fused = _fused(model)
        sgd = plain_sgd(model.optimizer) and blas.gemm_available()
        self.fold = [fast and sgd and table.folds_update(n, layer.W)
                     for layer, fast in zip(self.layers, self.fast)]
        folded = [layer if fold and p is layer.W else None
                  for layer, fold in zip(self.layers, self.fold) for p in layer.params]
        own = update_step_for(model.optimizer)
        if any(folded):
            def update_step(index, param, grad, lr):
                layer = folded[index]
                if layer is None:
                    own(index, param, grad, lr)
                    return
                previous = threads.enter(2 * param.size * len(layer.delta))
                try:
                    if not blas.gemm_update(param, layer.Y_prev, layer.delta,
                                            param.dtype.type(-lr)):  # W <- W - alpha Y^T delta
                        np.matmul(layer.Y_prev.T, layer.delta, out=layer.dW)
                        own(index, param, layer.dW, lr)
                finally:
                    threads.leave(previous)
            self.update_step = update_step
        else:
            self.update_step = own

    @classmethod
    def for_model(cls, model, n):
        return cls(model, n) if any(_fast_dense(layer) for layer in model.layers) else None

    def run(self, X, D):
        n = len(X)
        Y = X
        for layer, fast in zip(self.layers, self.fast):
            if not fast:
                Y = layer.forward(Y, training=True)
                continue
            xi = np.matmul(Y, layer.W, out=work_array(layer, "xi", n, layer.units))
            if layer.b is not None:
                xi += layer.b                                          # Xi = Y_prev W + b
            layer.Y_prev, layer.xi = Y, xi
            Y = layer.Y = elementwise.forward_into(layer.activation, xi,
                                                   work_array(layer, "Y", n, layer.units))
        last, loss = self.layers[-1], self.loss
        below = len(self.layers)
        if self.fused:                                   # delta_L = slope (Y - D) / N
            act = last.activation
            if self.fast[-1]:
                delta = elementwise.fused_delta(loss, Y, D, act,
                                                work_array(last, "delta", n, last.units))
                dY = self._backward_from_delta(last, delta, self.fold[-1])
            else:
                dY = last.backward_from_delta(loss.fused_delta(Y, D, act))
            below -= 1
            e = elementwise.per_sample_from_logits(loss, last.xi, D, act)
        else:
            dY = loss.gradient(Y, D)
            e = loss.per_sample(Y, D)
        for i in range(below - 1, -1, -1):               # delta_l = f'(Xi_l) (delta_{l+1} W^T)
            if dY is None:
                break
            layer = self.layers[i]
            if not self.fast[i]:
                dY = layer.backward(dY)
                continue
            delta = elementwise.backward_into(layer.activation, layer.xi, layer.Y, dY,
                                              work_array(layer, "delta", n, layer.units))
            dY = self._backward_from_delta(layer, delta, self.fold[i])
        return e, Y

    @staticmethod
    def _backward_from_delta(layer, delta, fold):
        """``Dense.backward_from_delta`` into work arrays (a layer without penalties); where
        the update is folded, dE/dW is left to it."""
        layer.delta = delta
        if not fold and len(delta) == 1:  # one sample: an outer product (-0 stays -0, as in C)
            np.multiply(layer.Y_prev.T, delta, out=layer.dW)
        elif not fold:
            np.matmul(layer.Y_prev.T, delta, out=layer.dW)               # dE/dW = Y_prev^T delta
        if layer.b is not None:
            np.add.reduce(delta, axis=0, out=layer.db)                   # dE/db = sum of rows
        if not layer.need_input_grad:
            return None
        return np.matmul(delta, layer.W.T,                               # dE/dY_{l-1} = delta W^T
                         out=work_array(layer, "dX", len(delta), layer.W.shape[0]))


def _compiled_dense(model):
    """The model's Dense layers if the compiled step serves the model, else None: float32,
    Dense layers (after any Flatten layers) with the table's activations, softmax output with
    the (sparse) categorical cross-entropy, no penalties or constraints."""
    if model.dtype != np.float32 or \
            type(model.loss) not in (SparseCategoricalCrossentropy, CategoricalCrossentropy):
        return None
    lead = 0
    while lead < len(model.layers) and type(model.layers[lead]) is Flatten:
        lead += 1  # a reshape of C-ordered samples: the same memory, nothing to compute
    layers = model.layers[lead:]
    if not 0 < len(layers) <= table.MAX_LAYERS:
        return None
    for i, layer in enumerate(layers):
        if not _fast_dense(layer) or layer.kernel_constraint is not None or \
                layer.bias_constraint is not None or layer.need_input_grad != (i > 0) or \
                min(layer.W.shape) < 2:  # NumPy's matmul takes other BLAS paths there
            return None
        if table.code(layer.activation) is None or \
                (type(layer.activation) is Softmax) != (i == len(layers) - 1):
            return None
    return layers


def _applied(index, param, grad, lr):
    """The compiled step took plain SGD's step itself: ``apply`` only counts it."""


class CompiledStep(_Plan):
    """The compiled step of ``model`` for batches of ``n`` samples (see the module's doc)."""

    def __init__(self, model, dense, n: int):
        super().__init__(model, n)
        self.sparse = type(model.loss) is SparseCategoricalCrossentropy
        self.flatten = dense[0] is not model.layers[0]
        self.e = np.empty(n, dtype=np.float32)
        self.sgd = plain_sgd(model.optimizer)
        self.update_step = _applied if self.sgd else update_step_for(model.optimizer)
        dX = [work_array(layer, "dX", n, layer.W.shape[0]) if i else None  # none for the first
              for i, layer in enumerate(dense)]
        entries, self.work = [], []
        for i, layer in enumerate(dense):
            u = layer.units
            code, slope = table.code(layer.activation)
            xi = work_array(layer, "xi", n, u)
            plain = type(layer.activation) is Linear and i < len(dense) - 1
            Y = xi if plain else work_array(layer, "Y", n, u)          # linear: Y is Xi,
            delta = dX[i + 1] if plain else work_array(layer, "delta", n, u)  # delta the next dX
            entries.append((layer.W, layer.b, layer.dW, layer.db, xi, Y, delta, dX[i], code,
                            slope, table.folds_update(n, layer.W)))
            self.work.append((layer, xi, Y, delta))
        self.plan = kernels.load().make_step(tuple(entries), n, *blas.blas_addresses(),
                                             float(np.float32(model.loss.scale(n))),
                                             self.sparse)

    @classmethod
    def for_model(cls, model, n: int):
        """The step for batches of n samples, or None where another step must run."""
        k = kernels.load()
        dense = None if k is None or blas.blas_addresses() is None else _compiled_dense(model)
        if dense is None or n * dense[-1].units > kernels.MAX_ROWS_SIZE:
            return None  # above it the layer step takes NumPy's softmax, which rounds otherwise
        try:
            return cls(model, dense, n)
        except TypeError:  # a weight array of another dtype or layout (set by hand)
            return None

    def run(self, X, D):
        """Run the step on (X, D), plain SGD's update included; returns (e, Y_L)."""
        X = np.ascontiguousarray(X)
        D = np.ascontiguousarray(D, dtype=np.int64 if self.sparse else np.float32)
        rate = self.optimizer.current_learning_rate if self.sgd else None
        kernels.load().train_step(self.plan, X, D, self.e if self.sparse else None, rate)
        prev = X.reshape(len(X), -1) if self.flatten else X   # what Flatten gives Dense
        for layer, xi, Y, delta in self.work:
            layer.Y_prev, layer.xi, layer.Y, layer.delta = prev, xi, Y, delta
            prev = Y
        last = self.work[-1][0]
        if self.sparse:
            return self.e, last.Y
        return self.loss.per_sample_from_logits(last.xi, D, last.activation), last.Y


def plan(model, n: int):
    """The fast step for ``model`` on batches of ``n`` samples, or None (the reference step)."""
    if not kernels.enabled() or not model.layers:
        return None
    return CompiledStep.for_model(model, n) or LayerStep.for_model(model, n)
