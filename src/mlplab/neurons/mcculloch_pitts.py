"""McCulloch-Pitts (1943): binary threshold neurons with fixed integer weights, no learning."""
from __future__ import annotations

import itertools
import numbers

import numpy as np

from ..exceptions import ArgumentError, ArgumentTypeError
from .._validation import as_array, check_positive_int


def _check_binary_inputs(x, n_inputs: int, where: str) -> np.ndarray:
    arr = as_array(x, "x", where)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != n_inputs:
        raise ArgumentError(f"{where}: x must have shape (n_samples, {n_inputs}) (or ({n_inputs},) "
                            f"for one sample); received shape {np.shape(x)}.")
    if not np.isin(arr, (0, 1)).all():
        bad = arr[~np.isin(arr, (0, 1))].flat[0].item()
        raise ArgumentError(f"{where}: McCulloch-Pitts inputs must be binary (0 or 1); received "
                            f"{bad!r}. For -1/+1 data use (x + 1) / 2.")
    return arr.astype(np.int64)


class McCullochPitts:
    """A McCulloch-Pitts neuron: binary inputs, fixed integer weights and threshold theta.

    Absolute inhibition (the 1943 model, the default)::

        y = 1  if  sum_{i excitatory} w_i x_i >= theta  and  x_j = 0 for every inhibitory j
        y = 0  otherwise

    A positive weight marks an excitatory connection (a weight of 2 counts the input twice),
    a negative one an inhibitory connection, whose single active input vetoes firing.
    ``inhibition="weighted"`` is the later variant in which the negative weights are simply
    added: y = 1 if sum_i w_i x_i >= theta.

    Parameters
    ----------
    weights : sequence of int
        One integer per input: > 0 excitatory, < 0 inhibitory, 0 not connected.
    threshold : int
        theta, the number of active excitatory inputs needed to fire (may be 0).
    inhibition : {"absolute", "weighted"}, default="absolute"

    >>> McCullochPitts([1, 1], threshold=2).predict([[0, 0], [0, 1], [1, 0], [1, 1]])
    array([0, 0, 0, 1])
    """

    def __init__(self, weights, threshold: int, inhibition: str = "absolute"):
        where = "McCullochPitts()"
        w = as_array(weights, "weights", where)
        if w.ndim != 1 or w.size == 0:
            raise ArgumentError(f"{where}: weights must be a non-empty 1-D sequence of integers; "
                                f"received shape {w.shape}.")
        if np.any(w != np.round(w)):
            raise ArgumentError(f"{where}: weights must be integers (+k excitatory, -k inhibitory);"
                                f" received {w.tolist()}.")
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
                or threshold != int(threshold):
            raise ArgumentError(f"{where}: threshold must be an integer; received {threshold!r}.")
        if inhibition not in ("absolute", "weighted"):
            raise ArgumentError(f"{where}: inhibition must be 'absolute' or 'weighted'; received "
                                f"{inhibition!r}.")
        self.weights = w.astype(np.int64)
        self.threshold = int(threshold)
        self.inhibition = inhibition

    @property
    def n_inputs(self) -> int:
        return len(self.weights)

    def predict(self, x) -> np.ndarray:
        """Outputs (n_samples,) of 0/1 for binary inputs x (n_samples, n_inputs)."""
        x = _check_binary_inputs(x, self.n_inputs, "McCullochPitts.predict()")
        w = self.weights
        if self.inhibition == "weighted":
            return (x @ w >= self.threshold).astype(np.int64)
        excitation = x @ np.where(w > 0, w, 0)
        inhibited = (x[:, w < 0] == 1).any(axis=1)
        return ((excitation >= self.threshold) & ~inhibited).astype(np.int64)

    __call__ = predict

    def truth_table(self):
        """(x, y): all 2^n binary inputs in counting order and the neuron's outputs."""
        return truth_table(self.predict, self.n_inputs)

    def __repr__(self) -> str:
        return (f"McCullochPitts(weights={self.weights.tolist()}, threshold={self.threshold}, "
                f"inhibition={self.inhibition!r})")

    # Ready-made gates (lecture 001): AND fires at theta = n, OR at theta = 1, NOT is one
    # inhibitory input with theta = 0 (fires unless inhibited).
    @classmethod
    def and_gate(cls, n_inputs: int = 2) -> "McCullochPitts":
        n = check_positive_int(n_inputs, "n_inputs", "McCullochPitts.and_gate()")
        return cls([1] * n, threshold=n)

    @classmethod
    def or_gate(cls, n_inputs: int = 2) -> "McCullochPitts":
        n = check_positive_int(n_inputs, "n_inputs", "McCullochPitts.or_gate()")
        return cls([1] * n, threshold=1)

    @classmethod
    def not_gate(cls) -> "McCullochPitts":
        return cls([-1], threshold=0)


class McCullochPittsNetwork:
    """Layers of McCulloch-Pitts neurons; each layer reads the previous layer's outputs.

    Parameters
    ----------
    layers : sequence of sequences of McCullochPitts
        ``layers[0]`` reads the network input, the last layer gives the output.

    >>> McCullochPittsNetwork.xor().predict([[0, 0], [0, 1], [1, 0], [1, 1]])
    array([0, 1, 1, 0])
    """

    def __init__(self, layers):
        if isinstance(layers, McCullochPitts) or not isinstance(layers, (list, tuple)) \
                or any(not isinstance(layer, (list, tuple)) for layer in layers):
            raise ArgumentTypeError(
                f"McCullochPittsNetwork(): layers must be a list of layers, each a "
                f"list of McCullochPitts neurons, e.g. [[n1, n2], [n_out]]; "
                f"received {layers!r}.")
        layers = [list(layer) for layer in layers]
        if not layers or any(not layer for layer in layers):
            raise ArgumentError("McCullochPittsNetwork(): layers must be a non-empty list of "
                                "non-empty lists of McCullochPitts neurons.")
        for k, layer in enumerate(layers):
            for neuron in layer:
                if not isinstance(neuron, McCullochPitts):
                    raise ArgumentTypeError(
                        f"McCullochPittsNetwork(): layer {k} holds "
                        f"{type(neuron).__name__}; expected McCullochPitts neurons.")
            if k > 0 and any(n.n_inputs != len(layers[k - 1]) for n in layer):
                raise ArgumentError(
                    f"McCullochPittsNetwork(): every neuron of layer {k} must have "
                    f"{len(layers[k - 1])} inputs (one per neuron of layer {k - 1}).")
        self.layers = layers

    @property
    def n_inputs(self) -> int:
        return self.layers[0][0].n_inputs

    def predict(self, x) -> np.ndarray:
        """Network output: (n_samples,) for one output neuron, else (n_samples, n_out)."""
        z = _check_binary_inputs(x, self.n_inputs, "McCullochPittsNetwork.predict()")
        for layer in self.layers:
            z = np.stack([neuron.predict(z) for neuron in layer], axis=1)
        return z[:, 0] if z.shape[1] == 1 else z

    __call__ = predict

    def truth_table(self):
        return truth_table(self.predict, self.n_inputs)

    @classmethod
    def xor(cls) -> "McCullochPittsNetwork":
        """x1 XOR x2 = (x1 AND NOT x2) OR (NOT x1 AND x2), with absolute inhibition."""
        hidden = [McCullochPitts([1, -1], threshold=1), McCullochPitts([-1, 1], threshold=1)]
        return cls([hidden, [McCullochPitts.or_gate(2)]])


def truth_table(fn, n_inputs: int):
    """All 2^n binary input rows (counting order, x_1 most significant) and ``fn`` on them.

    Returns ``(x, y)`` with x (2^n, n) int64 and y = fn(x).
    """
    n = check_positive_int(n_inputs, "n_inputs", "truth_table()")
    x = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int64)
    return x, np.asarray(fn(x))
