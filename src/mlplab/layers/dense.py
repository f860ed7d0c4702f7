"""The fully connected layer: the lectures' matrix form of one layer of an MLP."""
from __future__ import annotations

import numpy as np

from .. import _kernels, activations, constraints, initializers, regularizers
from .._validation import check_positive_int
from .base import Layer


def _sgd_step(param, grad, alpha):
    """param <- param - alpha grad: one compiled pass where available, else NumPy's two."""
    if not _kernels.sgd_step(param, grad, alpha):
        param -= grad * alpha


class Dense(Layer):
    """Fully connected layer: Xi = Y_prev W + b, Y = f(Xi).

    Forward, for a batch of N samples in rows:
        Xi_l = Y_{l-1} W_l + b_l          (N, units) = (N, inputs) (inputs, units) + (units,)
        Y_l  = f(Xi_l)
    Backward, given dE/dY_l from the layer above (or from the loss):
        delta_l   = f'(Xi_l) * dE/dY_l     elementwise (softmax: its Jacobian-vector product)
        dE/dW_l   = Y_{l-1}^T delta_l
        dE/db_l   = column sums of delta_l
        dE/dY_{l-1} = delta_l W_l^T        which the layer below turns into its delta:
                                           delta_{l-1} = f'(Xi_{l-1}) * (delta_l W_l^T)

    After a backward pass the layer keeps ``delta``, ``dW`` and ``db`` for inspection.

    Parameters
    ----------
    units : int
        Number of neurons (output width).
    activation : str, Activation or None, default=None
        f; None is linear.
    use_bias : bool, default=True
    kernel_initializer : default="glorot_uniform" (as in Keras)
    bias_initializer : default="zeros"
    kernel_regularizer, bias_regularizer : L1, L2, L1L2 or None
        Penalty added to the loss and its gradient to dE/dW.
    kernel_constraint, bias_constraint : e.g. MaxNorm(3), applied after each update.
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units", f"Dense(units={units!r})")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.delta = None

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense layer '{self.name}' expects flat input samples (features,); received "
                f"sample shape {tuple(input_shape)}. Put a Flatten() layer before it."
            )
        return (self.units,)

    def build(self, input_shape, rng, dtype):
        super().build(input_shape, rng, dtype)
        n_in = input_shape[0]
        self.W = self.kernel_initializer((n_in, self.units), rng, self.dtype)
        self.params, self.param_names = [self.W], ["kernel"]
        self._dW, self._dW_pending = np.zeros_like(self.W), False
        self.grads = [self._dW]
        if self.use_bias:
            self.b = self.bias_initializer((self.units,), rng, self.dtype)
            self.db = np.zeros_like(self.b)
            self.params.append(self.b)
            self.param_names.append("bias")
            self.grads.append(self.db)
        else:
            self.b = None
        self._work = {}

    @property
    def dW(self):
        """dE/dW = Y_prev^T delta of the last backward pass."""
        if self._dW_pending:  # the fused SGD step did not store it: form it now
            np.matmul(self.Y_prev.T, self.delta, out=self._dW)
            self._dW_pending = False
        return self._dW

    @dW.setter
    def dW(self, value):
        if value is not self._dW:
            self._dW[...] = value
        self._dW_pending = False

    @property
    def grads(self):
        self.dW  # noqa: B018 (forms a pending dE/dW)
        return self._grads

    @grads.setter
    def grads(self, value):
        self._grads = value

    def _buffer(self, name, n, width):
        """A work array (n, width) kept from step to step: training allocates nothing.

        Arrays of the training step (Xi, Y, delta, dE/dY_{l-1}) live here; they are
        overwritten by the next step, so ``predict`` never returns one.
        """
        buf = self._work.get(name)
        if buf is None or len(buf) < n:
            buf = self._work[name] = np.empty((n, width), dtype=self.dtype)
        return buf if len(buf) == n else buf[:n]

    def forward(self, X, training=False):
        if not training or X.dtype != self.dtype:
            xi = X @ self.W
            if self.b is not None:
                xi += self.b
            Y = self.activation(xi)
        else:  # the same, written into the layer's work arrays
            xi = np.matmul(X, self.W, out=self._buffer("xi", len(X), self.units))
            if self.b is not None:
                xi += self.b                              # Xi = Y_prev W + b
            Y = self.activation.forward_into(xi, self._buffer("Y", len(X), self.units))
        if training:
            self.Y_prev, self.xi, self.Y = X, xi, Y
        return Y

    def backward(self, dY, sgd_rate=None):
        """Given dE/dY_l, store dE/dW_l and dE/db_l and return dE/dY_{l-1}."""
        if dY.dtype == self.dtype == self.xi.dtype:      # delta = f'(Xi) * dE/dY, in place
            delta = self.activation.backward_into(self.xi, self.Y, dY,
                                                  self._buffer("delta", len(dY), self.units))
        else:
            delta = self.activation.backward(self.xi, self.Y, dY)
        return self.backward_from_delta(delta, sgd_rate)

    def backward_from_delta(self, delta, sgd_rate=None):
        """Given delta_l = dE/dXi_l (the fused output layer starts here).

        With ``sgd_rate`` alpha (plain SGD, chosen by ``Sequential``) the layer also takes the
        step, W <- W - alpha Y_prev^T delta and b <- b - alpha dE/db, the first as one BLAS
        product C <- C + alpha' A^T B that does not store dE/dW (``dW`` forms it when read).
        """
        self.delta, self._dW_pending = delta, False
        if sgd_rate is not None:
            dX = self._input_grad(delta)                 # with W before the step
            alpha = self.dtype.type(sgd_rate)
            if _kernels.gemm_update(self.W, self.Y_prev, delta, -alpha):
                self._dW_pending = True                  # W <- W - alpha Y_prev^T delta
            else:
                np.matmul(self.Y_prev.T, delta, out=self._dW)
                _sgd_step(self.W, self._dW, alpha)       # W <- W - alpha Y_prev^T delta
            if self.b is not None:
                np.add.reduce(delta, axis=0, out=self.db)
                _sgd_step(self.b, self.db, alpha)        # b <- b - alpha sum(delta)
            return dX
        if len(delta) == 1:   # one sample: an outer product, cheaper as a broadcast product
            np.multiply(self.Y_prev.T, delta, out=self._dW)
        else:
            np.matmul(self.Y_prev.T, delta, out=self._dW)    # dE/dW = Y_prev^T delta
        if self.kernel_regularizer is not None:
            self._dW += self.kernel_regularizer.gradient(self.W)
        if self.b is not None:
            np.add.reduce(delta, axis=0, out=self.db)    # dE/db = sum of delta's rows
            if self.bias_regularizer is not None:
                self.db += self.bias_regularizer.gradient(self.b)
        return self._input_grad(delta)

    def _input_grad(self, delta):
        if not self.need_input_grad:                     # first layer: nobody needs dE/dX
            return None
        if delta.dtype != self.dtype:
            return delta @ self.W.T
        dX = self._buffer("dX", len(delta), self.W.shape[0])
        return np.matmul(delta, self.W.T, out=dX)        # dE/dY_{l-1} = delta W^T

    def regularization_penalty(self):
        total = 0.0
        if self.kernel_regularizer is not None:
            total += self.kernel_regularizer.penalty(self.W)
        if self.bias_regularizer is not None and self.b is not None:
            total += self.bias_regularizer.penalty(self.b)
        return total

    def apply_constraints(self):
        if self.kernel_constraint is not None:
            self.W[...] = self.kernel_constraint(self.W)
        if self.bias_constraint is not None and self.b is not None:
            self.b[...] = self.bias_constraint(self.b)

    def get_config(self):
        def cfg(obj):
            return None if obj is None else obj.get_config()

        return {**super().get_config(), "units": self.units,
                "activation": self.activation.get_config(), "use_bias": self.use_bias,
                "kernel_initializer": cfg(self.kernel_initializer),
                "bias_initializer": cfg(self.bias_initializer),
                "kernel_regularizer": cfg(self.kernel_regularizer),
                "bias_regularizer": cfg(self.bias_regularizer),
                "kernel_constraint": cfg(self.kernel_constraint),
                "bias_constraint": cfg(self.bias_constraint)}
