"""Export a ``Sequential`` to ONNX, built with the ``onnx`` package's helper API.

The graph computes ``model.predict``: input ``"input"`` of shape (batch, *input_shape),
output ``"output"``, in the model's dtype (float32 or float64). Layers::

    Dense         MatMul(x, W) (+ Add b), then the activation
    Activation    the activation alone
    Flatten       Flatten(axis=1)
    Dropout       nothing (the identity, as at prediction time)

Each activation is the formula of ``mlplab.activations``, with its parameters (slope, alpha,
approximate): an ONNX operator where onnxruntime runs it in float32 and float64 (Sigmoid,
Tanh, Relu, Exp, Softmax), else the same formula in elementwise operators (LeakyRelu, Elu
and Softplus have float32 kernels only in onnxruntime's CPU provider). The exact GELU needs
``Erf``, which that provider has for float32 only: its float64 graph is valid ONNX but
onnxruntime cannot run it. Lambda and custom layers (Python code) cannot be exported.
Requires ``pip install mlplab[onnx]``; ``onnx`` is imported here only.
"""
from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import activations as _act
from .layers import Activation, Dense, Dropout, Flatten

__all__ = ["to_onnx", "DEFAULT_OPSET", "INPUT_NAME", "OUTPUT_NAME"]

#: The ONNX opset of the exported graph (every operator used exists since opset 13).
DEFAULT_OPSET = 17
INPUT_NAME, OUTPUT_NAME = "input", "output"
_ELEM_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE}


class _Graph:
    """Nodes and constants under fresh names, in one dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.nodes, self.initializers = [], []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value, hint: str = "c") -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(
            np.asarray(value, dtype=self.dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def _scaled(g: _Graph, x: str, factor: float) -> str:
    return x if factor == 1.0 else g.op("Mul", x, g.const(factor, "slope"))


def _positive_or(g: _Graph, x: str, negative: str) -> str:
    """x where x > 0, else ``negative`` (mlplab's np.where(xi > 0, xi, ...))."""
    return g.op("Where", g.op("Greater", x, g.const(0.0, "zero")), x, negative)


def _gelu(g: _Graph, x: str, act) -> str:
    half_x = g.op("Mul", x, g.const(0.5, "half"))
    if act.approximate:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Add", x, g.op("Mul", cube, g.const(0.044715)))
        t = g.op("Tanh", g.op("Mul", inner, g.const(math.sqrt(2.0 / math.pi))))
    else:  # x 0.5 (1 + erf(x / sqrt 2))
        t = g.op("Erf", g.op("Div", x, g.const(math.sqrt(2.0))))
    return g.op("Mul", half_x, g.op("Add", t, g.const(1.0, "one")))


# name -> (graph, x, activation) -> output name; the formulas of mlplab.activations
_ACTIVATIONS = {
    "linear": lambda g, x, a: x,
    "step": lambda g, x, a: g.op("Cast", g.op("Greater", x, g.const(0.0, "zero")),
                                 to=_ELEM_TYPE[g.dtype]),
    "sign": lambda g, x, a: g.op("Where", g.op("GreaterOrEqual", x, g.const(0.0, "zero")),
                                 g.const(1.0, "one"), g.const(-1.0, "minus_one")),
    "sigmoid": lambda g, x, a: g.op("Sigmoid", _scaled(g, x, a.slope)),
    "tanh": lambda g, x, a: g.op("Tanh", _scaled(g, x, a.slope)),
    "relu": lambda g, x, a: g.op("Relu", x),
    "leaky_relu": lambda g, x, a: _positive_or(g, x, g.op("Mul", x, g.const(a.alpha, "alpha"))),
    # alpha (e^min(x, 0) - 1) for x <= 0
    "elu": lambda g, x, a: _positive_or(g, x, g.op("Mul", g.const(a.alpha, "alpha"), g.op(
        "Sub", g.op("Exp", g.op("Min", x, g.const(0.0, "zero"))), g.const(1.0, "one")))),
    # logaddexp(0, x) = max(x, 0) + log(1 + e^-|x|)
    "softplus": lambda g, x, a: g.op("Add", g.op("Relu", x), g.op("Log", g.op(
        "Add", g.const(1.0, "one"), g.op("Exp", g.op("Neg", g.op("Abs", x)))))),
    "swish": lambda g, x, a: g.op("Mul", x, g.op("Sigmoid", x)),
    "gelu": _gelu,
    "exponential": lambda g, x, a: g.op("Exp", x),
    "softmax": lambda g, x, a: g.op("Softmax", x, axis=-1),
}
#: The activations the export knows, by mlplab name.
SUPPORTED_ACTIVATIONS = tuple(_ACTIVATIONS)


def _activation(g: _Graph, x: str, act, where: str) -> str:
    registered = _act.REGISTRY.lookup(act.name) if act.name in _act.REGISTRY else None
    if act.name not in _ACTIVATIONS or type(act) is not registered:
        raise TypeError(f"to_onnx(): {where} uses the activation {act!r}, which has no ONNX "
                        f"form; supported: {', '.join(SUPPORTED_ACTIVATIONS)} (mlplab's own "
                        f"classes, not subclasses).")
    return _ACTIVATIONS[act.name](g, x, act)


def _layer(g: _Graph, x: str, layer) -> str:
    where = f"layer '{layer.name}' ({type(layer).__name__})"
    if type(layer) is Dense:
        x = g.op("MatMul", x, g.const(layer.W, layer.name + "_kernel"))
        if layer.use_bias:
            x = g.op("Add", x, g.const(layer.b, layer.name + "_bias"))
        return _activation(g, x, layer.activation, where)
    if type(layer) is Activation:
        return _activation(g, x, layer.activation, where)
    if type(layer) is Flatten:
        return g.op("Flatten", x, axis=1)
    if type(layer) is Dropout:
        return x
    raise TypeError(f"to_onnx(): {where} cannot be exported: only Dense, Activation, Flatten "
                    f"and Dropout have an ONNX form (Lambda and custom layers run Python "
                    f"code).")


def to_onnx(model, path=None, opset: int = DEFAULT_OPSET) -> "onnx.ModelProto":
    """The ONNX graph of ``model.predict``; also written to ``path`` if given.

    Parameters
    ----------
    model : Sequential, built (it knows its input shape)
    path : str or PathLike, optional
    opset : int, default=DEFAULT_OPSET (17); at least 13

    Returns
    -------
    onnx.ModelProto with input ``"input"`` (batch, *input_shape) and output ``"output"``
    (batch, *output_shape), in the model's dtype. Checked by ``onnx.checker``.
    """
    if not getattr(model, "built", False):
        raise ValueError("to_onnx(): the model is not built yet. Start it with Input(shape), "
                         "call model.build(input_shape), or fit it first.")
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < 13:
        raise ValueError(f"to_onnx(): opset must be an integer >= 13 (Softmax over the last "
                         f"axis); received {opset!r}.")
    g = _Graph(model.dtype)
    x = INPUT_NAME
    for layer in model.layers:
        x = _layer(g, x, layer)
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME]))
    elem = _ELEM_TYPE[g.dtype]
    graph = helper.make_graph(
        g.nodes, model.name,
        [helper.make_tensor_value_info(INPUT_NAME, elem, ["batch", *model.input_shape])],
        [helper.make_tensor_value_info(OUTPUT_NAME, elem, ["batch", *model.output_shape])],
        initializer=g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="mlplab")
    proto.ir_version = min(proto.ir_version, 8 if opset <= 18 else 10)
    onnx.checker.check_model(proto)
    if path is not None:
        onnx.save(proto, str(path))
    return proto
