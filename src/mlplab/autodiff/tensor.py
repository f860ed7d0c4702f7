"""Tensor: a NumPy array that remembers how it was computed, and reverse-mode backward().

Lecture 001 writes a computation as a sequence of atomic assignments, a computation graph with
three kinds of nodes: inputs (data), parameters (what we learn) and compute nodes (one per
operation). A Tensor is one node. Each operation (``autodiff.ops``) makes a compute node that
keeps its parents and a function ``vjp(g)`` giving, for an upstream gradient g = dL/d(node),
the contribution g * d(node)/d(parent) for each parent. ``backward()`` visits the nodes in
reverse topological order and *adds* each contribution into the parent's ``.grad``, so a node
used twice receives both (the multivariate chain rule).

    >>> from mlplab.autodiff import Tensor
    >>> w = Tensor(3.0, requires_grad=True)
    >>> L = w * w + w          # w is used three times
    >>> L.backward()
    >>> float(w.grad)          # dL/dw = 2 w + 1
    7.0
"""
from __future__ import annotations

import contextlib
import numbers
import threading

import numpy as np

KINDS = ("input", "parameter", "compute")

class _GradMode(threading.local):
    """Whether operations record the graph, per thread (a predict in one thread must not
    switch off the graph a training step records in another)."""

    def __init__(self):
        self.enabled = True


_GRAD_MODE = _GradMode()


@contextlib.contextmanager
def no_grad():
    """Within this block operations compute values only: no graph is recorded (prediction)."""
    previous = _GRAD_MODE.enabled
    _GRAD_MODE.enabled = False
    try:
        yield
    finally:
        _GRAD_MODE.enabled = previous


def is_grad_enabled() -> bool:
    return _GRAD_MODE.enabled


def _as_data(value, dtype=None) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or np.issubdtype(arr.dtype, np.bool_)):
        raise TypeError(f"Tensor(data): data must be numeric; received {type(value).__name__} "
                        f"of dtype {arr.dtype}.")
    if not np.issubdtype(arr.dtype, np.floating):  # ints and bools become float64
        arr = arr.astype(np.float64)
    return arr


class Tensor:
    """A node of a computation graph: ``data`` (ndarray), ``grad`` (dL/d data, after backward).

    Parameters
    ----------
    data : array_like
        Floating arrays keep their dtype (float32 or float64); Python numbers, integers and
        booleans become float64.
    requires_grad : bool, default=False
        Whether ``backward()`` computes dL/d(this tensor).
    kind : {"input", "parameter", "compute"}, optional
        The lecture's node kind, for the graph display. Defaults to "parameter" when
        ``requires_grad`` else "input"; operations make "compute" nodes.
    name : str, optional
        Label in the graph display.

    Operators: ``+ - * / **``, unary ``-``, ``@``, ``abs()``, indexing; comparisons return plain
    boolean arrays (they have no gradient). An ndarray on the left works too (``x @ W`` with x an
    ndarray): Tensor sets ``__array_ufunc__ = None``, so NumPy hands the operation to Tensor.
    """

    __array_priority__ = 1000.0
    __array_ufunc__ = None  # ndarray op Tensor -> Tensor.__rop__; np.exp(Tensor) is a TypeError

    def __init__(self, data, requires_grad: bool = False, kind: str | None = None,
                 name: str | None = None, dtype=None):
        self.data = _as_data(data.data if isinstance(data, Tensor) else data, dtype)
        self.requires_grad = bool(requires_grad)
        kind = kind or ("parameter" if requires_grad else "input")
        if kind not in KINDS:
            raise ValueError(f"Tensor(kind={kind!r}): kind must be one of {KINDS}.")
        self.kind = kind
        self.name = name
        self.grad: np.ndarray | None = None
        self.op = None          # name of the operation that made this node
        self._parents: tuple = ()
        self._vjp = None        # g -> tuple of contributions, one per parent

    # -- construction of compute nodes (used by ops) -----------------------------------------
    @classmethod
    def _make(cls, data, parents, vjp, op: str) -> "Tensor":
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        out.name = None
        out.kind = "compute"
        out.op = op
        if _GRAD_MODE.enabled:
            out.requires_grad = any(p.requires_grad for p in parents)
            out._parents = tuple(parents)
            out._vjp = vjp if out.requires_grad else None
        else:
            out.requires_grad, out._parents, out._vjp = False, (), None
        return out

    # -- array-like properties ---------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)

    def __len__(self):
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same values as a new input node: gradients do not flow through it."""
        return Tensor(self.data)

    def named(self, name: str) -> "Tensor":
        """Set the display name and return self: ``u = (w1 * x).named("u")``."""
        self.name = name
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self):
        label = f", name={self.name!r}" if self.name else ""
        op = f", op={self.op!r}" if self.op else ""
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4)}{label}{op}{grad})"

    # -- reverse mode --------------------------------------------------------------------------
    def backward(self, grad=None) -> None:
        """Accumulate dL/d(node) into ``.grad`` of every node this tensor depends on.

        Parameters
        ----------
        grad : array_like, optional
            dL/d(self). Omit it for a scalar L (it is then 1); give it, shaped as ``self``, for a
            vector-Jacobian product (a layer's backward is one, with grad = dE/dY).

        Leaves (inputs and parameters) accumulate over calls, as in PyTorch: zero them between
        steps. Compute nodes start from zero in each call and keep their gradient for display.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not depend on any tensor with requires_grad=True; "
                "create the parameters with Tensor(..., requires_grad=True).")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward(): grad must be given for a non-scalar tensor; received none for "
                    f"shape {self.shape}. Pass grad=dL/dself, or reduce with .sum() first.")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad,
                              dtype=self.data.dtype)
            if grad.shape != self.data.shape:
                raise ValueError(f"backward(): grad must have shape {self.shape}; received "
                                 f"{grad.shape}.")
        order = topological_order(self)
        for node in order:
            if node._vjp is not None:  # compute nodes: this pass's gradient only
                node.grad = None
        self.grad = grad if self.grad is None or self._vjp is not None else self.grad + grad
        for node in reversed(order):
            if node._vjp is None or node.grad is None:
                continue
            for parent, g in zip(node._parents, node._vjp(node.grad)):
                if g is None or not parent.requires_grad:
                    continue
                g = np.asarray(g, dtype=parent.data.dtype)
                parent.grad = g if parent.grad is None else parent.grad + g

    # -- operators (the maths is in ops.py) ----------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, other):
        return _ops.power(self, other)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # Comparisons give boolean masks (for where); they are not differentiable.
    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)

    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    __hash__ = object.__hash__

    # -- methods ------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis, keepdims)

    def reshape(self, *shape):
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        return _ops.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    @property
    def T(self):
        return _ops.transpose(self)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def tanh(self):
        return _ops.tanh(self)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor (an input node). A Python or NumPy scalar takes ``like``'s dtype,
    so float32 graphs stay float32."""
    if isinstance(value, Tensor):
        return value
    if like is not None and (isinstance(value, numbers.Number) or np.ndim(value) == 0):
        return Tensor(np.asarray(value, dtype=like.data.dtype), name=_scalar_name(value))
    return Tensor(value)


def _scalar_name(value):
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return None


def topological_order(root: Tensor) -> list:
    """Nodes that ``root`` depends on (and root last), every node after its parents.

    Iterative depth-first search with an explicit stack, so graphs deeper than Python's
    recursion limit (about 1,000 frames) work.
    """
    order, expanded = [], set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        for parent in reversed(node._parents):  # first operand is listed first
            if id(parent) not in expanded:
                stack.append((parent, False))
    return order


def grad(f, argnums=0):
    """The gradient function of a scalar function ``f`` of arrays.

    ``grad(f)(x, y, ...)`` calls ``f`` with Tensors in place of the arrays named by
    ``argnums`` and returns dF/d(that argument) as an ndarray shaped like it (a tuple when
    ``argnums`` is a tuple). Other arguments are passed unchanged.

        >>> import numpy as np
        >>> from mlplab.autodiff import grad
        >>> grad(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))    # 3 x^2
        array([ 3., 12.])
    """
    multiple = isinstance(argnums, (tuple, list))
    indices = tuple(argnums) if multiple else (argnums,)

    def gradient(*args, **kwargs):
        for i in indices:
            if not isinstance(i, int) or not -len(args) <= i < len(args):
                raise ValueError(f"grad(f, argnums={argnums!r}): argnums must index the "
                                 f"{len(args)} positional arguments given.")
        args = list(args)
        leaves = []
        for i in indices:
            t = Tensor(_data(args[i]), requires_grad=True, kind="input", name=f"arg{i}")
            args[i] = t
            leaves.append(t)
        with _enable_grad():
            out = f(*args, **kwargs)
        if not isinstance(out, Tensor) or out.data.size != 1:
            got = (f"shape {out.shape}" if isinstance(out, Tensor)
                   else f"{type(out).__name__}")
            raise ValueError(f"grad(f): f must return a scalar Tensor (one element); received "
                             f"{got}. Reduce it with .sum() or .mean().")
        if out.requires_grad:
            out.backward()
        grads = tuple(np.zeros_like(t.data) if t.grad is None else t.grad for t in leaves)
        return grads if multiple else grads[0]

    gradient.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    gradient.__doc__ = f"Gradient of {getattr(f, '__name__', 'f')} w.r.t. argument(s) {argnums}."
    return gradient


@contextlib.contextmanager
def _enable_grad():
    previous = _GRAD_MODE.enabled
    _GRAD_MODE.enabled = True
    try:
        yield
    finally:
        _GRAD_MODE.enabled = previous


#: The primitives behind Tensor's operators: ``mlplab.autodiff.ops``, which builds on this
#: module and installs itself here when it is imported (``mlplab.autodiff`` imports both), so
#: this module imports nothing of ops.
_ops = None
