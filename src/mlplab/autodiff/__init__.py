"""Reverse-mode automatic differentiation: backpropagation as the chain rule on a graph.

The second engine of mlplab (the first is the explicit delta rule of ``mlplab.layers``):
``Tensor`` records the graph, ``ops`` holds the primitives with their local derivatives,
``functional`` builds every activation and loss from them (``from mlplab.autodiff import
functional``: it imports ``mlplab.activations`` and ``mlplab.losses``, which import
``tensor``), ``graph`` shows the graph, and :func:`grad` turns a scalar function into its
gradient function. See docs/autodiff.md.
"""
from . import graph, ops
from .graph import to_dot, to_text
from .ops import (abs, concatenate, erf, exp, expm1, log, log1p, logsumexp, matmul, max,
                  maximum, mean, min, minimum, reshape, sign, sqrt, stack, sum, tanh,
                  transpose, where)
from .tensor import KINDS, Tensor, grad, is_grad_enabled, no_grad, topological_order

__all__ = ["Tensor", "grad", "no_grad", "is_grad_enabled", "topological_order", "KINDS",
           "functional", "graph", "ops", "to_text", "to_dot", "abs", "concatenate", "erf",
           "exp", "expm1", "log", "log1p", "logsumexp", "matmul", "max", "maximum", "mean",
           "min", "minimum", "reshape", "sign", "sqrt", "stack", "sum", "tanh", "transpose",
           "where"]
