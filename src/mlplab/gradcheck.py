"""Gradient checking: backpropagation against central finite differences, in float64.

For each weight w the numeric derivative is (E(w + eps) - E(w - eps)) / (2 eps), and the
relative error of the backprop value g against it is |g - n| / max(|g| + |n|, tiny).
"""
from __future__ import annotations

import numpy as np


def numeric_gradients(loss_fn, params: list[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences of ``loss_fn()`` with respect to every entry of every array."""
    grads = []
    for p in params:
        g = np.zeros_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss_fn()
            flat[i] = old - eps
            down = loss_fn()
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def relative_error(a: np.ndarray, b: np.ndarray, tiny: float = 1e-30) -> float:
    """max_i |a_i - b_i| / max_i max(|a_i|, |b_i|): the largest difference relative to the
    array's largest entry.

    Scaling by the array's largest entry rather than entry by entry keeps round-off in
    tiny entries (a vanishing gradient of 1e-12 next to ones of 1e-2) from reading as a
    large error, while a wrong derivative still shows at the scale of the gradient.
    """
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    return float(np.max(np.abs(a - b), initial=0.0)) / max(scale, tiny)


def gradcheck(model, x, y, eps: float = 1e-6) -> dict[str, float]:
    """Relative error between backprop and finite differences, per weight array.

    The model is copied to float64 (the original is not changed); dropout is off on both
    sides so the loss is a deterministic function of the weights. The model must be compiled.

    Returns
    -------
    dict mapping ``"<layer>/<kernel|bias>"`` to ``relative_error(backprop, numeric)`` of
    that array. Values below about 1e-6 mean the gradients are right.

    >>> import mlplab, numpy as np
    >>> m = mlplab.Sequential([mlplab.layers.Input((3,)), mlplab.layers.Dense(2, "tanh")], seed=0)
    >>> m.compile("sgd", "mse")
    >>> max(mlplab.gradcheck(m, np.ones((4, 3)), np.zeros((4, 2))).values()) < 1e-6
    True
    """
    if not model.compiled:
        raise RuntimeError("gradcheck() called before compile(). Call "
                           "model.compile(optimizer=..., loss=...) first.")
    twin = model.clone(dtype="float64")
    twin.check_trainable("gradcheck()")
    dropouts = [layer for layer in twin.layers if hasattr(layer, "rate")]
    rates = [layer.rate for layer in dropouts]
    for layer in dropouts:
        layer.rate = 0.0
    try:
        _, analytic = twin.compute_gradients(x, y)   # also validates, and builds the twin

        def loss_fn():
            return twin.loss_value(x, y)

        numeric = numeric_gradients(loss_fn, twin.trainable_params, eps)
    finally:
        for layer, rate in zip(dropouts, rates):
            layer.rate = rate
    names = [f"{layer.name}/{pname}" for layer in twin.layers for pname in layer.param_names]
    return {name: relative_error(a, n) for name, a, n in zip(names, analytic, numeric)}
