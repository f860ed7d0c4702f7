"""Replacements of the trainer's reference step, planned once per model and batch size.

A step object is called as ``step(X, D) -> (per-sample losses, Y_L)``; it leaves every layer
holding what the reference step leaves (Y_prev, Xi, Y, delta, and dE/dW, dE/db where the update
needs them), and its ``update_step`` (or None) is handed to ``optimizer.apply``. Two kinds:

- ``CompiledStep``: the whole forward and backward pass of a float32 or float64 Dense stack
  (softmax + cross-entropy, sigmoid + binary cross-entropy, or MSE/SSE after a linear,
  sigmoid, tanh or ReLU output) in one C call (``_ckernels.train_step``), plain SGD's update
  included;
- ``LayerStep``: the reference step's formulas for any stack, with Dense layers (exact class,
  no penalty) computing in work arrays kept from step to step, with the table's kernels.

The compiled step skips the zeros of a sparse input batch (MNIST's pixels are 81% zeros):
when at most ``table.MAX_INPUT_DENSITY`` of X is nonzero, the first layer's X W and X^T delta
run over the nonzeros only (``table.nonzero_limit``), summed in the order ``_ckernels.c``
documents; a dense batch takes the BLAS products. ``zero_skipping_steps`` counts the steps
that did.

Every step runs its products on the BLAS threads ``threads`` chooses for its largest one (the
zero-skipping products on ``threads.workers()``, from a size on).
Both fold plain SGD's W <- W - alpha Y_prev^T delta into one matrix product where
``table.folds_update`` says it pays; dE/dW is then not formed (``Dense`` documents it).
"""
from __future__ import annotations

import weakref

import numpy as np

from ..activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from ..layers import Dense, Dropout, Flatten
from ..losses import BinaryCrossentropy, CategoricalCrossentropy, MeanSquaredError, \
    SparseCategoricalCrossentropy, SumSquaredError
from . import blas, elementwise, kernels, table, threads
from ..optimizers import SGD, Adam, RMSprop
from ..preprocessing.batches import gather_rows
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

    gathers = False  # it takes (X, D) gathered; CompiledStep also takes (buffer, D, source, rows)

    def __init__(self, model, n):
        self.n, self.layers = n, list(model.layers)
        self.optimizer, self.loss = model.optimizer, model.loss
        self.params = model.trainable_params
        self.flops = threads.dense_flops(self.layers, n)  # its largest product

    def __call__(self, X, D, *gather):
        """The step on (X, D) with the BLAS threads its products get (``threads``); gather:
        (source, rows) for a step that ``gathers`` X itself."""
        with threads.chosen(self.flops):
            return self.run(X, D, *gather)

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
                with threads.chosen(2 * param.size * len(layer.delta)):
                    if not blas.gemm_update(param, layer.Y_prev, layer.delta,
                                            param.dtype.type(-lr)):  # W <- W - alpha Y^T delta
                        np.matmul(layer.Y_prev.T, layer.delta, out=layer.dW)
                        own(index, param, layer.dW, lr)
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
            e = elementwise.per_sample(loss, Y, D)
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


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_SQUARED = (MeanSquaredError, SumSquaredError)


def _output_mode(model, last):
    """The compiled step's output mode for the model's loss and output activation, or None:
    OUT_SPARSE (softmax + integer labels), OUT_FUSED (softmax + categorical cross-entropy,
    sigmoid + binary cross-entropy), OUT_GRADIENT (MSE or SSE after any hidden kernel's
    activation)."""
    c, act, loss = kernels.load(), type(last.activation), type(model.loss)
    if loss is SparseCategoricalCrossentropy and act is Softmax:
        return c.OUT_SPARSE
    if (loss is CategoricalCrossentropy and act is Softmax) or \
            (loss is BinaryCrossentropy and act is Sigmoid):
        return c.OUT_FUSED
    if loss in _SQUARED and act in (Linear, Sigmoid, Tanh, ReLU):
        return c.OUT_GRADIENT
    return None


def _stack(layers):
    """(Dense layers, the Dropout layer after each or None) of Dense layers each followed by at
    most one Dropout layer (not the last, not after a linear layer), or None."""
    dense, drops = [], []
    for layer in layers:
        if type(layer) is Dense:
            dense.append(layer)
            drops.append(None)
        elif type(layer) is Dropout and dense and drops[-1] is None and 0 < layer.rate and \
                type(dense[-1].activation) is not Linear:
            drops[-1] = layer
        else:
            return None
    return None if not dense or drops[-1] is not None else (dense, drops)


def _compiled_dense(model):
    """(the model's Dense layers, the Dropout layer after each or None, output mode) if the
    compiled step serves the model, else None: float32 or float64, Dense layers (after any
    Flatten layers, each followed by at most one Dropout) with the table's activations
    (softmax only at the output), an output and loss ``_output_mode`` knows, no penalties or
    constraints."""
    if np.dtype(model.dtype) not in _FLOATS:
        return None
    lead = 0
    while lead < len(model.layers) and type(model.layers[lead]) is Flatten:
        lead += 1  # a reshape of C-ordered samples: the same memory, nothing to compute
    stack = _stack(model.layers[lead:])
    if stack is None or len(stack[0]) > table.MAX_LAYERS:
        return None
    layers, drops = stack
    for i, layer in enumerate(layers):
        if not _fast_dense(layer) or layer.kernel_constraint is not None or \
                layer.bias_constraint is not None or layer.need_input_grad != (i > 0) or \
                min(layer.W.shape) < 2:  # NumPy's matmul takes other BLAS paths there
            return None
        if table.code(layer.activation) is None or \
                (type(layer.activation) is Softmax and i < len(layers) - 1):
            return None
    mode = _output_mode(model, layers[-1])
    return None if mode is None else (layers, drops, mode)


def _applied(index, param, grad, lr):
    """The compiled step took the optimizer's step itself: ``apply`` only counts it."""


def _optimizer_code(model):
    """The compiled step's code for the model's optimizer where the call can take its update
    (exact classes, no clipping, every layer trainable), else OPT_NONE (the optimizer steps
    afterwards, through ``update_step_for``)."""
    c, opt = kernels.load(), model.optimizer
    if opt.clipnorm is not None or opt.clipvalue is not None or \
            opt.global_clipnorm is not None or not all(l.trainable for l in model.layers):
        return c.OPT_NONE
    if type(opt) is SGD:
        return c.OPT_SGD if not opt.momentum else c.OPT_NESTEROV if opt.nesterov else \
            c.OPT_MOMENTUM
    if type(opt) is Adam and not opt.amsgrad:
        return c.OPT_ADAM
    if type(opt) is RMSprop and not opt.centered:
        return c.OPT_RMSPROP
    return c.OPT_NONE


def _slots(model, code):
    """{id(param): (slot 1, slot 2 or None)} of the optimizer's state for the compiled update."""
    c, opt, params = kernels.load(), model.optimizer, model.trainable_params
    if code in (c.OPT_NONE, c.OPT_SGD):
        return {}
    if not opt.built:
        opt.build(params)                   # what its first apply() would do
    if code == c.OPT_ADAM:
        pairs = zip(opt.momentums, opt.velocities)
    elif code == c.OPT_RMSPROP:
        pairs = zip(opt.velocities, opt.momentums or [None] * len(params))
    else:
        pairs = ((v, None) for v in opt.velocities)
    return {id(p): pair for p, pair in zip(params, pairs)}


def _coefficient_reader(model, code):
    """A function () -> the train_step's update argument for this step (see update_f32 in
    _ckernels.c), computed as the optimizer's apply() would at its next update."""
    c, opt = kernels.load(), model.optimizer
    t = model.layers[-1].W.dtype.type
    if code == c.OPT_NONE:
        return lambda: None
    if code == c.OPT_SGD:
        return lambda: opt.current_learning_rate
    if code in (c.OPT_MOMENTUM, c.OPT_NESTEROV):
        return lambda: (float(t(opt.current_learning_rate)), float(t(opt.momentum)))
    if code == c.OPT_RMSPROP:
        return lambda: (float(t(1.0 - opt.rho)), float(t(opt.rho)), float(t(opt.epsilon)),
                        float(t(opt.current_learning_rate)), float(t(opt.momentum)))

    def adam():
        lr = opt.current_learning_rate
        opt.iterations += 1                 # alpha_t at the update's own count, as in apply()
        try:
            alpha = opt.alpha_t(lr)
        finally:
            opt.iterations -= 1
        return (float(t(1.0 - opt.beta_1)), float(t(1.0 - opt.beta_2)), float(t(opt.epsilon)),
                float(t(alpha)))
    return adam


def _coefficients(model, last, n, mode):
    """(c1, c2) of the output delta ((Y - D) c1) c2, rounded to the model's dtype as the
    loss's own formulas round them."""
    t, loss, k = last.W.dtype.type, model.loss, last.units
    if mode == kernels.load().OUT_GRADIENT:      # the loss's gradient: per sample, then 1/N
        return float(t(2.0 / k)) if type(loss) is MeanSquaredError else 1.0, \
            float(t(loss.scale(n)))
    c1 = float(t(getattr(last.activation, "slope", 1.0) * loss.scale(n)))
    return c1, float(t(1.0 / k)) if type(loss) is BinaryCrossentropy else 1.0


class CompiledStep(_Plan):
    """The compiled step of ``model`` for batches of ``n`` samples (see the module's doc)."""

    def __init__(self, model, dense, drops, mode, n: int):
        super().__init__(model, n)
        c = kernels.load()
        self.mode, self.sparse = mode, mode == c.OUT_SPARSE
        self.gradient = mode == c.OUT_GRADIENT
        self.loss_code = 0 if self.sparse else table.loss_code(model.loss)  # e in the call
        self.flatten = dense[0] is not model.layers[0]
        self.dtype = dense[0].W.dtype
        self.e = np.empty(n, dtype=self.dtype)
        opt_code = _optimizer_code(model)
        self.update_step = update_step_for(model.optimizer) if opt_code == c.OPT_NONE else \
            _applied
        self.coefficients = _coefficient_reader(model, opt_code)
        slots = _slots(model, opt_code)
        dX = [work_array(layer, "dX", n, layer.W.shape[0]) if i else None  # none for the first
              for i, layer in enumerate(dense)]
        entries, self.work, self.drops = [], [], []
        for i, (layer, drop) in enumerate(zip(dense, drops)):
            u = layer.units
            code, slope = table.code(layer.activation)
            xi = work_array(layer, "xi", n, u)
            linear = type(layer.activation) is Linear
            hidden = linear and i < len(dense) - 1
            Y = xi if linear else work_array(layer, "Y", n, u)          # linear: Y is Xi,
            delta = dX[i + 1] if hidden else work_array(layer, "delta", n, u)  # delta next dX
            mask = Yd = None
            if drop is not None:  # its mask, drawn before each call as Dropout.forward draws it
                mask, Yd = work_array(drop, "mask", n, u), work_array(drop, "Y", n, u)
                self.drops.append((drop, work_array(drop, "random", n, u),
                                   np.empty((n, u), dtype=bool), mask,
                                   1.0 - drop.rate, self.dtype.type(1.0 / (1.0 - drop.rate))))
            W1, W2 = slots.get(id(layer.W), (None, None))
            b1, b2 = slots.get(id(layer.b), (None, None))
            fold = opt_code == c.OPT_SGD and table.folds_update(n, layer.W)
            entries.append((layer.W, layer.b, layer.dW, layer.db, xi, Y, delta, dX[i], code,
                            slope, fold, mask, Yd, W1, W2, b1, b2))
            self.work.append((layer, xi, Y, delta, Yd))
        self.last = dense[-1]
        self.plan = c.make_step(tuple(entries), n, *blas.blas_addresses(self.dtype),
                                *_coefficients(model, dense[-1], n, mode), mode,
                                self.loss_code, opt_code, table.nonzero_limit(n, dense[0].W))
        self.zero_skipping_steps = 0  # steps whose first layer skipped the input's zeros
        self.train_step = c.train_step

    @classmethod
    def for_model(cls, model, n: int):
        """The step for batches of n samples, or None where another step must run."""
        k = kernels.load()
        found = None if k is None or blas.blas_addresses(model.dtype) is None else \
            _compiled_dense(model)
        if found is None:
            return None
        dense, drops, mode = found
        if type(dense[-1].activation) is Softmax and n * dense[-1].units > kernels.MAX_ROWS_SIZE:
            return None  # above it the layer step takes NumPy's softmax, which rounds otherwise
        try:
            return cls(model, dense, drops, mode, n)
        except TypeError:  # a weight array of another dtype or layout (set by hand)
            return None

    gathers = True  # X = source[rows] filled in the call (the scan reads the rows once)

    def __call__(self, X, D, *gather):
        self.workers = threads.workers()  # before the BLAS count is set
        return super().__call__(X, D, *gather)

    def run(self, X, D, source=None, rows=None):
        """Run the step on (X, D), the optimizer's update included where the plan takes it;
        returns (e, Y_L). With rows, X is a buffer the call fills with ``source[rows]``."""
        if rows is not None and not (
                X.flags.c_contiguous and X.flags.writeable and X.dtype == self.dtype and
                source.flags.c_contiguous and source.dtype == self.dtype and
                rows.dtype == np.int64 and rows.flags.c_contiguous):
            gather_rows(source, rows, X)
            rows = None
        if not X.flags.c_contiguous:
            X = np.ascontiguousarray(X)
        if self.sparse:
            if D.dtype != np.int64 or not D.flags.c_contiguous:
                D = np.ascontiguousarray(D, dtype=np.int64)
        elif D.dtype != self.dtype or not D.flags.c_contiguous:
            D = np.ascontiguousarray(D, dtype=self.dtype)
        for drop, random, keep, mask, p, scale in self.drops:  # Dropout.forward's draw
            drop.rng.random(dtype=self.dtype, out=random)
            np.multiply(np.less(random, p, out=keep), scale, out=mask)
            drop.mask = mask
        self.zero_skipping_steps += self.train_step(
            self.plan, X, D, self.e if self.sparse or self.loss_code else None,
            self.coefficients(), self.workers, None if rows is None else source, rows)
        prev = X.reshape(len(X), -1) if self.flatten else X   # what Flatten gives Dense
        for layer, xi, Y, delta, Yd in self.work:
            layer.Y_prev, layer.xi, layer.Y, layer.delta = prev, xi, Y, delta
            prev = Y if Yd is None else Yd
        last = self.last
        if self.sparse or self.loss_code:
            return self.e, last.Y
        if self.gradient:
            return self.loss.per_sample(last.Y, D), last.Y
        return self.loss.per_sample_from_logits(last.xi, D, last.activation), last.Y


def plan(model, n: int):
    """The fast step for ``model`` on batches of ``n`` samples, or None (the reference step)."""
    if not kernels.enabled() or not model.layers:
        return None
    return CompiledStep.for_model(model, n) or LayerStep.for_model(model, n)
