"""PyTorch interchange: ``to_torch(model)`` gives an equivalent ``torch.nn.Sequential``;
``from_torch(module)`` reads one back (Linear layers and the supported activations).

    Dense(units, f)   <->  nn.Linear(inputs, units) [+ the module of f]
                           (torch keeps the kernel transposed: weight = W^T, bias = b)
    Activation(f)     <->  the module of f
    Flatten()         <->  nn.Flatten()
    Dropout(rate)     <->  nn.Dropout(rate) (the identity in eval mode)

Activations: linear (no module, or nn.Identity), sigmoid and tanh (nn.Sigmoid / nn.Tanh, or
``SlopedSigmoid`` / ``SlopedTanh`` for a slope lambda != 1), relu, leaky_relu
(nn.LeakyReLU(negative_slope=alpha)), elu (nn.ELU(alpha)), softplus (nn.Softplus(beta=1,
threshold=40): torch returns x itself above the threshold, off by e^-x, below 1e-12 relative
past 40 but not past its default 20), gelu (nn.GELU(approximate="none" or "tanh")), swish
(nn.SiLU), softmax (nn.Softmax(dim=-1)), exponential, step and sign (``Exponential``,
``Step``, ``Sign`` below). The module is in eval mode, in the model's dtype. Requires
``pip install mlplab[torch]``; torch is imported here only.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import activations as _act
from .layers import Activation, Dense, Dropout, Flatten, Input
from .models import Sequential

__all__ = ["to_torch", "from_torch", "SlopedSigmoid", "SlopedTanh", "Step", "Sign",
           "Exponential"]


class SlopedSigmoid(nn.Module):
    """1 / (1 + e^(-slope x)), mlplab's Sigmoid(slope)."""

    def __init__(self, slope: float = 1.0):
        super().__init__()
        self.slope = float(slope)

    def forward(self, x):
        return torch.sigmoid(x * self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class SlopedTanh(SlopedSigmoid):
    """tanh(slope x), mlplab's Tanh(slope)."""

    def forward(self, x):
        return torch.tanh(x * self.slope)


class Step(nn.Module):
    """1 for x > 0, else 0 (mlplab's step)."""

    def forward(self, x):
        return (x > 0).to(x.dtype)


class Sign(nn.Module):
    """+1 for x >= 0, else -1 (mlplab's sign; torch.sign gives 0 at 0)."""

    def forward(self, x):
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


class Exponential(nn.Module):
    """e^x (mlplab's exponential)."""

    def forward(self, x):
        return torch.exp(x)


_SOFTPLUS_THRESHOLD = 40.0


def _module(act, where: str):
    """The torch module of an mlplab activation (None for linear)."""
    name = act.name
    registered = _act.REGISTRY.lookup(name) if name in _act.REGISTRY else None
    if type(act) is not registered:
        raise TypeError(f"to_torch(): {where} uses the activation {act!r}, which is not one "
                        f"of mlplab's own classes; it has no torch form.")
    slope = getattr(act, "slope", 1.0)
    table = {
        "linear": lambda: None,
        "step": Step, "sign": Sign, "exponential": Exponential,
        "sigmoid": lambda: nn.Sigmoid() if slope == 1.0 else SlopedSigmoid(slope),
        "tanh": lambda: nn.Tanh() if slope == 1.0 else SlopedTanh(slope),
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(negative_slope=act.alpha),
        "elu": lambda: nn.ELU(alpha=act.alpha),
        "softplus": lambda: nn.Softplus(beta=1.0, threshold=_SOFTPLUS_THRESHOLD),
        "gelu": lambda: nn.GELU(approximate="tanh" if act.approximate else "none"),
        "swish": nn.SiLU,
        "softmax": lambda: nn.Softmax(dim=-1),
    }
    if name not in table:
        raise TypeError(f"to_torch(): {where} uses the activation {name!r}, which has no torch "
                        f"form here; supported: {', '.join(table)}.")
    return table[name]()


def _torch_dtype(dtype):
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32


def to_torch(model) -> nn.Sequential:
    """An ``nn.Sequential`` computing ``model.predict``, with copies of its weights, in eval
    mode and the model's dtype."""
    if not getattr(model, "built", False):
        raise ValueError("to_torch(): the model is not built yet. Start it with Input(shape), "
                         "call model.build(input_shape), or fit it first.")
    modules, dtype = [], _torch_dtype(model.dtype)
    for layer in model.layers:
        where = f"layer '{layer.name}' ({type(layer).__name__})"
        if type(layer) is Dense:
            linear = nn.Linear(layer.W.shape[0], layer.units, bias=layer.use_bias, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T)))
                if layer.use_bias:
                    linear.bias.copy_(torch.from_numpy(layer.b))
            modules.append(linear)
            act = _module(layer.activation, where)
        elif type(layer) is Activation:
            act = _module(layer.activation, where) or nn.Identity()
        elif type(layer) is Flatten:
            act = nn.Flatten()
        elif type(layer) is Dropout:
            act = nn.Dropout(layer.rate)
        else:
            raise TypeError(f"to_torch(): {where} cannot be converted: only Dense, Activation, "
                            f"Flatten and Dropout have a torch form (Lambda and custom layers "
                            f"run mlplab autodiff code).")
        if act is not None:
            modules.append(act)
    return nn.Sequential(*modules).eval()


def _activation_of(module):
    """The mlplab activation of a torch module, or None if it is not one."""
    if isinstance(module, nn.Identity):
        return _act.Linear()
    if isinstance(module, SlopedTanh):
        return _act.Tanh(slope=module.slope)
    if isinstance(module, SlopedSigmoid):
        return _act.Sigmoid(slope=module.slope)
    if isinstance(module, nn.Softplus):
        if module.beta != 1 or module.threshold < 20:
            raise TypeError(f"from_torch(): {module} is not mlplab's softplus ln(1 + e^x): "
                            f"beta must be 1 and threshold at least 20.")
        return _act.Softplus()
    if isinstance(module, nn.Softmax):
        if module.dim not in (-1, 1):
            raise TypeError(f"from_torch(): {module}: only the softmax over the features "
                            f"(dim=-1 or 1) is supported.")
        return _act.Softmax()
    simple = {nn.Sigmoid: _act.Sigmoid, nn.Tanh: _act.Tanh, nn.ReLU: _act.ReLU,
              nn.SiLU: _act.Swish, Step: _act.Step, Sign: _act.Sign,
              Exponential: _act.Exponential}
    for cls, make in simple.items():
        if type(module) is cls:
            return make()
    if type(module) is nn.LeakyReLU:
        return _act.LeakyReLU(alpha=module.negative_slope)
    if type(module) is nn.ELU:
        return _act.ELU(alpha=module.alpha)
    if type(module) is nn.GELU:
        return _act.GELU(approximate=module.approximate == "tanh")
    return None


def from_torch(module, input_shape=None) -> Sequential:
    """A ``Sequential`` from an ``nn.Sequential`` of Linear, Flatten, Dropout and activation
    modules (an activation right after a Linear becomes that Dense's activation).

    ``input_shape`` (one sample's shape) is needed only when the first module is not a
    Linear; the dtype is that of the Linear weights (float32 or float64)."""
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"from_torch(): expected a torch.nn.Sequential; received "
                        f"{type(module).__name__}.")
    modules = list(module)
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("from_torch(): the module has no nn.Linear layer.")
    dtype = linears[0].weight.dtype
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"from_torch(): the weights must be float32 or float64; received "
                        f"{dtype}.")
    if input_shape is None:
        if not isinstance(modules[0], nn.Linear):
            raise ValueError("from_torch(): pass input_shape=(...) (one sample's shape): the "
                             "first module is not an nn.Linear, which would give it.")
        input_shape = (modules[0].in_features,)
    specs, weights = [], []  # (layer class, kwargs), made once each Dense has its activation
    for i, m in enumerate(modules):
        if isinstance(m, nn.Linear):
            specs.append((Dense, {"units": m.out_features, "use_bias": m.bias is not None}))
            weights.append(m.weight.detach().cpu().numpy().T)
            if m.bias is not None:
                weights.append(m.bias.detach().cpu().numpy())
            continue
        if type(m) is nn.Flatten:
            if (m.start_dim, m.end_dim) != (1, -1):
                raise TypeError(f"from_torch(): module {i} {m}: only Flatten(start_dim=1, "
                                f"end_dim=-1) is supported.")
            specs.append((Flatten, {}))
            continue
        if type(m) is nn.Dropout:
            specs.append((Dropout, {"rate": m.p}))
            continue
        act = _activation_of(m)
        if act is None:
            raise TypeError(f"from_torch(): module {i} ({type(m).__name__}) is not supported; "
                            f"use nn.Linear, nn.Flatten, nn.Dropout and the activations listed "
                            f"in mlplab.torch's docstring.")
        if i and isinstance(modules[i - 1], nn.Linear):
            specs[-1][1]["activation"] = act
        elif act.name != "linear":
            specs.append((Activation, {"activation": act}))
    layers = [cls(**kwargs) for cls, kwargs in specs]
    model = Sequential([Input(tuple(input_shape))] + layers,
                       dtype="float64" if dtype == torch.float64 else "float32")
    model.set_weights(weights)
    return model
