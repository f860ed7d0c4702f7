"""The fully connected layer: the lectures' matrix form of one layer of an MLP."""
from __future__ import annotations

import numpy as np

from ..exceptions import ArgumentError
from .. import activations, constraints, initializers, regularizers
from .._validation import check_positive_int
from .base import Layer


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

    After a training step the layer keeps ``Y_prev``, ``xi``, ``Y`` and ``delta`` for inspection,
    and ``dW`` and ``db`` after a backward pass (the fast path's plain-SGD step folds
    W <- W - alpha Y_prev^T delta into one matrix product and leaves ``dW`` unformed, as
    ``Y_prev.T @ delta`` gives it; ``model.compute_gradients`` always returns the gradient).

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
        units = check_positive_int(units, "units", f"Dense(units={units!r})")
        resolved = (activations.get(activation), initializers.get(kernel_initializer),
                    initializers.get(bias_initializer), regularizers.get(kernel_regularizer),
                    regularizers.get(bias_regularizer), constraints.get(kernel_constraint),
                    constraints.get(bias_constraint))  # all checked before Layer counts a name
        super().__init__(**kwargs)
        self.units = units
        (self.activation, self.kernel_initializer, self.bias_initializer,
         self.kernel_regularizer, self.bias_regularizer, self.kernel_constraint,
         self.bias_constraint) = resolved
        self.use_bias = bool(use_bias)
        self.delta = None

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ArgumentError(
                f"Dense layer '{self.name}' expects flat input samples (features,); received "
                f"sample shape {tuple(input_shape)}. Put a Flatten() layer before it."
            )
        return (self.units,)

    def build(self, input_shape, rng, dtype):
        super().build(input_shape, rng, dtype)
        self.W = self.kernel_initializer((input_shape[0], self.units), rng, self.dtype)
        self.dW = np.zeros_like(self.W)
        self.params, self.grads, self.param_names = [self.W], [self.dW], ["kernel"]
        self.b = self.db = None
        if self.use_bias:
            self.b = self.bias_initializer((self.units,), rng, self.dtype)
            self.db = np.zeros_like(self.b)
            self.params.append(self.b)
            self.grads.append(self.db)
            self.param_names.append("bias")

    def logits(self, X):
        """Xi = X W + b."""
        xi = X @ self.W
        if self.b is not None:
            xi += self.b
        return xi

    def forward(self, X, training=False):
        xi = self.logits(X)                              # Xi = Y_prev W + b
        Y = self.activation(xi)                          # Y = f(Xi)
        if training:
            self.Y_prev, self.xi, self.Y = X, xi, Y
        return Y

    def backward(self, dY):
        """Given dE/dY_l, store dE/dW_l and dE/db_l and return dE/dY_{l-1}."""
        delta = self.activation.backward(self.xi, self.Y, dY)   # delta = f'(Xi) * dE/dY
        return self.backward_from_delta(delta)

    def backward_from_delta(self, delta):
        """Given delta_l = dE/dXi_l (the fused output layer starts here)."""
        self.delta = delta
        self.dW[...] = self.Y_prev.T @ delta             # dE/dW = Y_prev^T delta
        if self.kernel_regularizer is not None:
            self.dW += self.kernel_regularizer.gradient(self.W)
        if self.b is not None:
            self.db[...] = delta.sum(axis=0)             # dE/db = column sums of delta
            if self.bias_regularizer is not None:
                self.db += self.bias_regularizer.gradient(self.b)
        if self.need_input_grad:                         # (the first layer's dE/dX is unused)
            return delta @ self.W.T                      # dE/dY_{l-1} = delta W^T
        return None

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
