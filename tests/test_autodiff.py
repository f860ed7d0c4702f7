"""mlplab.autodiff primitives: gradients vs central finite differences and torch.autograd.

Every case computes out = f(inputs) and the vector-Jacobian product dL/d(input) for
L = sum(out * G) with a fixed random G, so non-scalar outputs are checked in every element.
References: central differences in float64 (eps 1e-6; relative error below 1e-6) and
torch.autograd (torch==2.13.0, float64; within 1e-10).
"""
import re
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from mlplab import activations, autodiff as ad
from mlplab.autodiff import Tensor, functional as F, grad, no_grad

FD_TOL = 1e-6
TORCH_TOL = 1e-10


def rel_err(a, b, floor=1e-12):
    """max_i |a_i - b_i| / max(|a_i|, |b_i|, floor): relative error element by element."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)))


def norm_rel_err(a, b):
    """|a - b|_inf / max(|a|_inf, |b|_inf): the usual gradient-check measure."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


def inputs(spec, rng):
    """Arrays from a spec: a shape (normal values) or ("pos", shape) (uniform in [0.5, 2])."""
    out = []
    for s in spec:
        if isinstance(s, tuple) and s and s[0] == "pos":
            out.append(rng.uniform(0.5, 2.0, size=s[1]))
        elif isinstance(s, np.ndarray):
            out.append(s.astype(np.float64))
        else:
            out.append(rng.normal(size=s))
    return out


def autodiff_vjp(fn, arrays, G):
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward(G)
    return out.data, [np.zeros_like(a) if t.grad is None else t.grad
                      for a, t in zip(arrays, ts)]


def torch_vjp(tfn, arrays, G):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = tfn(*ts)
    out.backward(torch.tensor(G, dtype=torch.float64))
    return out.detach().numpy(), [np.zeros_like(a) if t.grad is None else t.grad.numpy()
                                  for a, t in zip(arrays, ts)]


def numeric_vjp(fn, arrays, G, eps=1e-6):
    def L(arrs):
        with no_grad():
            return float(np.sum(fn(*[Tensor(a) for a in arrs]).data * G))

    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for j in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i][j] += eps
            minus[i][j] -= eps
            g[j] = (L(plus) - L(minus)) / (2 * eps)
        grads.append(g)
    return grads


T = torch
# (id, autodiff function, torch function, input spec)
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (3, 4)]),
    ("add_broadcast_row", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)]),
    ("add_broadcast_outer", lambda a, b: a + b, lambda a, b: a + b, [(3, 1), (1, 4)]),
    ("add_scalar_tensor", lambda a, b: a + b, lambda a, b: a + b, [(), (2, 3)]),
    ("add_python_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, [(3,)]),
    ("sub_broadcast", lambda a, b: a - b, lambda a, b: a - b, [(2, 3), (3,)]),
    ("rsub_python", lambda a: 1.0 - a, lambda a: 1.0 - a, [(3,)]),
    ("mul_broadcast", lambda a, b: a * b, lambda a, b: a * b, [(2, 1, 3), (4, 1)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), ("pos", (3, 4))]),
    ("div_broadcast", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), ("pos", (3, 1))]),
    ("rdiv_python", lambda a: 2.0 / a, lambda a: 2.0 / a, [("pos", (4,))]),
    ("neg", lambda a: -a, lambda a: -a, [(3, 2)]),
    ("pow_int", lambda a: a ** 3, lambda a: a ** 3, [(3, 2)]),
    ("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, [("pos", (5,))]),
    ("pow_negative", lambda a: a ** -2, lambda a: a ** -2, [("pos", (5,))]),
    ("pow_zero", lambda a: a ** 0, lambda a: a ** 0, [(4,)]),
    ("pow_tensor", lambda a, b: a ** b, lambda a, b: a ** b, [("pos", (3, 2)), (3, 2)]),
    ("pow_tensor_broadcast", lambda a, b: a ** b, lambda a, b: a ** b, [("pos", (3, 2)), (2,)]),
    ("rpow_python", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(4,)]),
    ("matmul_2d", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 2)]),
    ("matmul_vec_mat", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 2)]),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)]),
    ("matmul_vec_vec", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4,)]),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
    ("matmul_batched_broadcast", lambda a, b: a @ b, lambda a, b: a @ b,
     [(2, 1, 3, 4), (3, 4, 2)]),
    ("exp", ad.exp, T.exp, [(3, 2)]),
    ("log", ad.log, T.log, [("pos", (3, 2))]),
    ("log1p", ad.log1p, T.log1p, [("pos", (3, 2))]),
    ("expm1", ad.expm1, T.expm1, [(3, 2)]),
    ("sqrt", ad.sqrt, T.sqrt, [("pos", (3, 2))]),
    ("abs", ad.abs, T.abs, [np.array([-2.0, -0.5, 0.3, 1.7])]),
    ("tanh", ad.tanh, T.tanh, [(3, 2)]),
    ("erf", ad.erf, T.erf, [(3, 2)]),
    ("sign", ad.sign, T.sign, [np.array([-2.0, -0.5, 0.3, 1.7])]),
    ("maximum", ad.maximum, T.maximum, [(3, 4), (3, 4)]),
    ("maximum_broadcast", ad.maximum, T.maximum, [(3, 4), (4,)]),
    ("minimum_broadcast", ad.minimum, T.minimum, [(3, 1), (1, 4)]),
    ("where", lambda a, b: ad.where(a > b, a * 2, b), lambda a, b: T.where(a > b, a * 2, b),
     [(3, 4), (3, 4)]),
    ("where_broadcast", lambda a, b: ad.where(a > 0, a, b), lambda a, b: T.where(a > 0, a, b),
     [(3, 4), (4,)]),
    ("sum_all", lambda a: a.sum(), lambda a: a.sum(), [(3, 4)]),
    ("sum_axis0", lambda a: a.sum(axis=0), lambda a: a.sum(dim=0), [(3, 4)]),
    ("sum_axis_neg_keepdims", lambda a: a.sum(axis=-1, keepdims=True),
     lambda a: a.sum(dim=-1, keepdim=True), [(2, 3, 4)]),
    ("sum_axes_tuple", lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(dim=(0, 2)), [(2, 3, 4)]),
    ("mean_all", lambda a: a.mean(), lambda a: a.mean(), [(3, 4)]),
    ("mean_axis1_keepdims", lambda a: a.mean(axis=1, keepdims=True),
     lambda a: a.mean(dim=1, keepdim=True), [(3, 4)]),
    ("max_all", lambda a: a.max(), lambda a: a.amax(), [(3, 4)]),
    ("max_axis1", lambda a: a.max(axis=1), lambda a: a.amax(dim=1), [(3, 4)]),
    ("max_axis0_keepdims", lambda a: a.max(axis=0, keepdims=True),
     lambda a: a.amax(dim=0, keepdim=True), [(3, 4)]),
    ("min_axis_neg", lambda a: a.min(axis=-1), lambda a: a.amin(dim=-1), [(2, 3, 4)]),
    ("logsumexp_all", lambda a: ad.logsumexp(a), lambda a: T.logsumexp(a, dim=(0, 1)),
     [(3, 4)]),
    ("logsumexp_axis1", lambda a: ad.logsumexp(a, axis=1), lambda a: T.logsumexp(a, dim=1),
     [(3, 4)]),
    ("logsumexp_keepdims", lambda a: ad.logsumexp(a, axis=-1, keepdims=True),
     lambda a: T.logsumexp(a, dim=-1, keepdim=True), [(3, 4)]),
    ("reshape", lambda a: a.reshape(4, 3) * np.arange(12.0).reshape(4, 3),
     lambda a: a.reshape(4, 3) * T.arange(12.0, dtype=T.float64).reshape(4, 3), [(3, 4)]),
    ("transpose_T", lambda a, b: a.T @ b, lambda a, b: a.T @ b, [(3, 4), (3, 2)]),
    ("transpose_axes", lambda a: a.transpose(2, 0, 1), lambda a: a.permute(2, 0, 1),
     [(2, 3, 4)]),
    ("transpose_negative_axes", lambda a: a.transpose(-1, 0, 1), lambda a: a.permute(-1, 0, 1),
     [(2, 3, 4)]),
    ("getitem_slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 4)]),
    ("getitem_ellipsis_negative", lambda a: a[..., -1], lambda a: a[..., -1], [(2, 3, 4)]),
    ("getitem_int_repeated", lambda a: a[[0, 2, 0, 0]], lambda a: a[[0, 2, 0, 0]], [(3, 4)]),
    ("getitem_mixed", lambda a: a[:, [3, 1, 1]], lambda a: a[:, [3, 1, 1]], [(3, 4)]),
    ("getitem_bool", lambda a: a[np.array([True, False, True])],
     lambda a: a[T.tensor([True, False, True])], [(3, 4)]),
    ("getitem_scalar", lambda a: a[1, 2], lambda a: a[1, 2], [(3, 4)]),
    ("concatenate_axis0", lambda a, b: ad.concatenate([a, b, a]),
     lambda a, b: T.cat([a, b, a]), [(2, 3), (1, 3)]),
    ("concatenate_axis1", lambda a, b: ad.concatenate([a, b], axis=1),
     lambda a, b: T.cat([a, b], dim=1), [(2, 3), (2, 2)]),
    ("stack", lambda a, b: ad.stack([a, b], axis=1), lambda a, b: T.stack([a, b], dim=1),
     [(2, 3), (2, 3)]),
    # nodes used more than once: both contributions must arrive
    ("reuse_square_plus", lambda a: a * a + a, lambda a: a * a + a, [(3,)]),
    ("reuse_diamond", lambda a, b: (a * b) * (a + b) - a / b,
     lambda a, b: (a * b) * (a + b) - a / b, [(2, 3), ("pos", (3,))]),
    ("reuse_shared_intermediate",
     lambda a: (lambda u: u * ad.exp(u) + ad.tanh(u).sum())(a @ a.T),
     lambda a: (lambda u: u * T.exp(u) + T.tanh(u).sum())(a @ a.T), [(2, 3)]),
    ("mlp_forward", lambda x, W, b: ad.tanh(x @ W + b).sum(axis=1),
     lambda x, W, b: T.tanh(x @ W + b).sum(dim=1), [(4, 3), (3, 2), (2,)]),
]


# Every mlplab activation as an operation (autodiff.functional), with torch's version of the same
# function. Inputs are random normals: no element sits within the finite-difference step of a
# kink (relu, leaky_relu, elu, step and sign at 0), so central differences apply everywhere.
def _torch_step(x):
    return (x > 0).to(x.dtype) + 0 * x  # + 0 x: a graph whose gradient is 0


ACTIVATION_CASES = {
    "linear": (F.linear, lambda x: x),
    "step": (F.step, _torch_step),
    "sign": (F.sign, lambda x: 1 - 2 * _torch_step(-x)),
    "sigmoid": (F.sigmoid, T.sigmoid),
    "sigmoid_slope": (lambda x: F.sigmoid(x, slope=2.5), lambda x: T.sigmoid(2.5 * x)),
    "tanh": (F.tanh, T.tanh),
    "tanh_slope": (lambda x: F.tanh(x, slope=0.5), lambda x: T.tanh(0.5 * x)),
    "relu": (F.relu, T.relu),
    "leaky_relu": (F.leaky_relu, lambda x: T.nn.functional.leaky_relu(x, 0.2)),
    "elu": (lambda x: F.elu(x, alpha=0.7), lambda x: T.nn.functional.elu(x, alpha=0.7)),
    "softplus": (F.softplus, T.nn.functional.softplus),
    "swish": (F.swish, T.nn.functional.silu),
    "gelu": (F.gelu, T.nn.functional.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate=True),
                  lambda x: T.nn.functional.gelu(x, approximate="tanh")),
    "exponential": (F.exponential, T.exp),
    "softmax": (F.softmax, lambda x: T.softmax(x, dim=-1)),
    "softmax_axis0": (lambda x: F.softmax(x, axis=0), lambda x: T.softmax(x, dim=0)),
}


def test_activation_cases_cover_every_mlplab_activation():
    canonical = {activations.get(n).name for n in activations.REGISTRY.names()}
    assert canonical <= set(ACTIVATION_CASES), f"add {canonical - set(ACTIVATION_CASES)}"
    assert set(F.ACTIVATIONS) <= set(ACTIVATION_CASES)


CASES += [(f"activation_{name}", fn, tfn, [(4, 5)])
          for name, (fn, tfn) in ACTIVATION_CASES.items()]
CASES += [  # an activation inside a larger graph, its input used twice
    ("activation_sigmoid_reused", lambda a: F.sigmoid(a) * a + F.softmax(a * a),
     lambda a: T.sigmoid(a) * a + T.softmax(a * a, dim=-1), [(3, 4)]),
]


@pytest.mark.parametrize("name, fn, tfn, spec", CASES, ids=[c[0] for c in CASES])
def test_op_gradient_vs_finite_differences_and_torch(name, fn, tfn, spec):
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # str hash() varies per run
    arrays = inputs(spec, rng)
    with no_grad():
        out_shape = fn(*[Tensor(a) for a in arrays]).shape
    G = rng.normal(size=out_shape)
    value, grads = autodiff_vjp(fn, arrays, G)
    t_value, t_grads = torch_vjp(tfn, arrays, G)
    assert value.shape == t_value.shape
    assert rel_err(value, t_value) < TORCH_TOL
    for g, tg, a in zip(grads, t_grads, arrays):
        assert g.shape == a.shape
        assert rel_err(g, tg) < TORCH_TOL, f"{name}: autodiff vs torch"
    for g, ng in zip(grads, numeric_vjp(fn, arrays, G)):
        assert norm_rel_err(g, ng) < FD_TOL, f"{name}: autodiff vs finite differences"


TIE_CASES = [
    ("maximum_ties", ad.maximum, T.maximum),
    ("minimum_ties", ad.minimum, T.minimum),
    ("max_ties", lambda a, b: (a + b * 0).max(axis=1), lambda a, b: (a + b * 0).amax(dim=1)),
    ("abs_at_zero", lambda a, b: ad.abs(a - b), lambda a, b: T.abs(a - b)),
]


@pytest.mark.parametrize("name, fn, tfn", TIE_CASES, ids=[c[0] for c in TIE_CASES])
def test_kinks_follow_torch(name, fn, tfn):
    """At ties and kinks (no finite-difference derivative) the conventions are PyTorch's."""
    a = np.array([[1.0, 2.0, 2.0], [0.5, 0.5, 0.5]])
    b = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, -1.0]])
    G = np.arange(1.0, 1.0 + (a.shape[0] if name == "max_ties" else a.size)).reshape(
        (2,) if name == "max_ties" else a.shape)
    _, grads = autodiff_vjp(fn, [a, b], G)
    _, t_grads = torch_vjp(tfn, [a, b], G)
    for g, tg in zip(grads, t_grads):
        np.testing.assert_array_equal(g, tg)


def test_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1001.0, -1002.0]])
    t = Tensor(x, requires_grad=True)
    out = ad.logsumexp(t, axis=1)
    out.backward(np.ones(2))
    tt = torch.tensor(x, requires_grad=True)
    tout = torch.logsumexp(tt, dim=1)
    tout.backward(torch.ones(2, dtype=torch.float64))
    assert np.isfinite(out.data).all() and np.isfinite(t.grad).all()
    assert rel_err(out.data, tout.detach().numpy()) < TORCH_TOL
    assert rel_err(t.grad, tt.grad.numpy()) < TORCH_TOL


def test_ndarray_on_the_left_gives_a_tensor():
    W = Tensor(np.ones((3, 2)), requires_grad=True)
    x = np.arange(6.0).reshape(2, 3)
    out = x @ W
    assert isinstance(out, Tensor)
    out.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(W.grad, x.T @ np.ones((2, 2)))
    assert isinstance(np.ones(2) - Tensor(np.ones(2)), Tensor)
    assert isinstance(np.ones(2) * Tensor(np.ones(2)), Tensor)
    with pytest.raises(TypeError):
        np.exp(Tensor(np.ones(2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(4, 3)).astype(dtype), requires_grad=True)
    W = Tensor(rng.normal(size=(3, 2)).astype(dtype), requires_grad=True)
    L = ((ad.tanh(x @ W + 1.0) * 2.0 - 0.5) ** 2).mean() / 3.0
    assert L.dtype == dtype
    L.backward()
    assert x.grad.dtype == dtype and W.grad.dtype == dtype
    # float32 gradients agree with the float64 ones to float32 precision
    x64 = Tensor(x.data.astype(np.float64), requires_grad=True)
    W64 = Tensor(W.data.astype(np.float64), requires_grad=True)
    (((ad.tanh(x64 @ W64 + 1.0) * 2.0 - 0.5) ** 2).mean() / 3.0).backward()
    tol = 1e-5 if dtype == np.float32 else 1e-14
    assert norm_rel_err(W.grad, W64.grad) < tol


def test_scalar_python_and_array_inputs():
    w = Tensor(3.0, requires_grad=True)
    L = w * w + w
    L.backward()
    assert L.shape == () and float(w.grad) == 7.0  # d/dw (w^2 + w) = 2w + 1


def test_leaves_accumulate_and_compute_nodes_reset():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (w * 3.0).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])  # two passes of dy/dw = 3
    w.zero_grad()
    y.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def test_grad_transform():
    f = lambda x, y: (x ** 2 * y).sum()  # noqa: E731
    x, y = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    np.testing.assert_allclose(grad(f)(x, y), 2 * x * y, rtol=1e-15)
    gx, gy = grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gy, x ** 2, rtol=1e-15)
    np.testing.assert_allclose(grad(f, argnums=1)(x, y), x ** 2, rtol=1e-15)
    # a function that ignores its argument has gradient 0
    np.testing.assert_array_equal(grad(lambda x: Tensor(1.0) + 0.0)(x), np.zeros(3))


def test_grad_matches_torch_on_a_composite_function():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5,))

    def f(x):
        return ad.logsumexp(x * x) - ad.sqrt((x * x).sum())

    tx = torch.tensor(x, requires_grad=True)
    (torch.logsumexp(tx * tx, dim=0) - torch.sqrt((tx * tx).sum())).backward()
    assert rel_err(grad(f)(x), tx.grad.numpy()) < TORCH_TOL


def test_grad_errors():
    with pytest.raises(ValueError, match=r"grad\(f\): f must return a scalar Tensor.*shape \(3,\)"):
        grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(ValueError, match=r"grad\(f\): f must return a scalar Tensor.*float"):
        grad(lambda x: 1.0)(np.ones(3))
    with pytest.raises(ValueError, match=r"argnums must index the 1 positional"):
        grad(lambda x: x.sum(), argnums=2)(np.ones(3))


def test_tensor_errors():
    with pytest.raises(ValueError, match=r"Tensor\(kind='weight'\): kind must be one of"):
        Tensor(1.0, kind="weight")
    with pytest.raises(TypeError, match=r"Tensor\(data\): data must be numeric; received str"):
        Tensor("abc")
    with pytest.raises(RuntimeError, match=r"backward\(\): this tensor does not depend"):
        (Tensor(np.ones(2)) * 2).sum().backward()
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"grad must be given for a non-scalar.*shape \(3,\)"):
        (w * 2).backward()
    with pytest.raises(ValueError, match=r"grad must have shape \(3,\); received \(2,\)"):
        (w * 2).backward(np.ones(2))
    with pytest.raises(ValueError, match=r"concatenate\(\): tensors must be a non-empty"):
        ad.concatenate([])


def test_no_grad_records_nothing():
    w = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = (w * 2).sum()
    assert not y.requires_grad and y._parents == ()
    assert (w * 2).requires_grad


# -- deep graphs: backward must not recurse ----------------------------------------------------
def test_thousand_node_graph_runs_backward_beyond_the_recursion_limit():
    limit = sys.getrecursionlimit()
    x = Tensor(0.5, requires_grad=True)
    y = x
    n = max(1000, limit + 500)  # more sequential nodes than Python allows nested calls
    for _ in range(n):
        y = y * 1.001
    y.backward()
    order = ad.topological_order(y)
    assert sum(node.kind == "compute" for node in order) == n and len(order) > 2 * n
    # y = x 1.001^n, so dy/dx = 1.001^n
    assert abs(float(x.grad) - 1.001 ** n) < 1e-9 * 1.001 ** n


def test_ten_thousand_deep_chain_runs_backward_and_displays():
    """20,000 nodes in sequence, 10,000 of them constants that share the name "1.0001": backward
    and the display are linear in the number of nodes (the labels were once quadratic in the
    number of same-named nodes, about two minutes here; now about two seconds). No time limit
    is asserted: speed belongs to benchmarks."""
    n = 10_000
    x = Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.backward()
    assert abs(float(x.grad) - 1.0001 ** n) < 1e-9 * 1.0001 ** n
    rows = ad.graph.nodes(y)
    text, dot = ad.to_text(y), ad.to_dot(y)
    assert len(rows) == 2 * n + 1 and len({r["name"] for r in rows}) == 2 * n + 1
    assert len(text.splitlines()) == 2 * n + 2 and dot.count("->") == 2 * n
    assert {"1.0001", "1.0001#2", f"1.0001#{n}"} <= {r["name"] for r in rows}


def test_hundred_layer_chain_matches_torch():
    rng = np.random.default_rng(4)
    depth, width = 100, 4
    x0 = rng.normal(size=(3, width))
    Ws = [rng.normal(scale=0.6, size=(width, width)) for _ in range(depth)]
    bs = [rng.normal(scale=0.1, size=width) for _ in range(depth)]
    W_t = [Tensor(W, requires_grad=True) for W in Ws]
    b_t = [Tensor(b, requires_grad=True) for b in bs]
    x = Tensor(x0, requires_grad=True)
    h = x
    for W, b in zip(W_t, b_t):
        h = ad.tanh(h @ W + b) + h  # residual, so the gradient survives 100 layers
    L = (h * h).mean()
    L.backward()

    tW = [torch.tensor(W, requires_grad=True) for W in Ws]
    tb = [torch.tensor(b, requires_grad=True) for b in bs]
    tx = torch.tensor(x0, requires_grad=True)
    th = tx
    for W, b in zip(tW, tb):
        th = torch.tanh(th @ W + b) + th
    (th * th).mean().backward()
    assert rel_err(L.data, (th * th).mean().detach().numpy()) < TORCH_TOL
    assert norm_rel_err(x.grad, tx.grad.numpy()) < TORCH_TOL
    assert norm_rel_err(W_t[0].grad, tW[0].grad.numpy()) < TORCH_TOL
    assert norm_rel_err(W_t[-1].grad, tW[-1].grad.numpy()) < TORCH_TOL


# -- the graph display -------------------------------------------------------------------------
def lecture_graph(x=2.0, y=3.0, w0=0.5, w1=1.0):
    """The lecture's linear regression: u = w1 x, y_hat = w0 + u, z = y_hat - y, L = z^2."""
    x, y = Tensor(x, name="x"), Tensor(y, name="y")
    w0 = Tensor(w0, requires_grad=True, name="w0")
    w1 = Tensor(w1, requires_grad=True, name="w1")
    u = (w1 * x).named("u")
    y_hat = (w0 + u).named("y_hat")
    z = (y_hat - y).named("z")
    L = (z ** 2).named("L")
    L.backward()
    return L


def test_lecture_graph_text_lists_the_three_kinds_with_values_and_gradients():
    L = lecture_graph()
    rows = {n["name"]: n for n in ad.graph.nodes(L)}
    assert {k: rows[k]["kind"] for k in rows} == {
        "x": "input", "y": "input", "w0": "parameter", "w1": "parameter",
        "u": "compute", "y_hat": "compute", "z": "compute", "L": "compute"}
    # z = 0.5 + 1 * 2 - 3 = -0.5; dL/dz = 2z = -1; dL/dw0 = -1; dL/dw1 = 2 z x = -2
    assert float(rows["z"]["value"]) == -0.5 and float(rows["L"]["value"]) == 0.25
    assert float(rows["w0"]["grad"]) == -1.0 and float(rows["w1"]["grad"]) == -2.0
    assert rows["x"]["grad"] is None
    text = ad.to_text(L)
    lines = text.splitlines()
    assert lines[0].split() == ["kind", "node", "definition", "value", "grad"]
    assert any(line.split() == ["compute", "y_hat", "=", "w0", "+", "u", "2.5", "-1"]
               for line in lines)
    assert any(line.split() == ["parameter", "w1", "1", "-2"] for line in lines)
    names = [line.split()[1] for line in lines[1:]]
    assert names.index("u") > names.index("w1") and names.index("L") == len(names) - 1


def test_lecture_graph_dot():
    dot = ad.to_dot(lecture_graph())
    assert dot.startswith("digraph G {") and dot.rstrip().endswith("}")
    edges = {tuple(p.strip().strip('"') for p in line.rstrip(";").split("->"))
             for line in dot.splitlines() if "->" in line}
    assert edges == {("w1", "u"), ("x", "u"), ("w0", "y_hat"), ("u", "y_hat"),
                     ("y_hat", "z"), ("y", "z"), ("z", "L")}
    assert '"w0" [label="w0\\nvalue 0.5\\ngrad -1", shape=box' in dot
    assert '"L" [label="L = **2\\nvalue 0.25\\ngrad 1", shape=ellipse' in dot


# -- float32: every case keeps the dtype and agrees with float64 to float32 precision ----------
F32_TOL = 2e-5  # |g32 - g64|_inf / |g64|_inf; float32 carries about 6e-8 per operation


@pytest.mark.parametrize("name, fn, tfn, spec", CASES, ids=[c[0] for c in CASES])
def test_op_gradient_in_float32(name, fn, tfn, spec):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = inputs(spec, rng)
    with no_grad():
        G = rng.normal(size=fn(*[Tensor(a) for a in arrays]).shape)
    value64, grads64 = autodiff_vjp(fn, arrays, G)
    arrays32 = [a.astype(np.float32) for a in arrays]
    ts = [Tensor(a, requires_grad=True) for a in arrays32]
    out = fn(*ts)
    # a float64 constant array in the expression promotes the result, as in NumPy
    assert out.dtype == (np.float64 if name == "reshape" else np.float32), out.dtype
    out.backward(G.astype(out.dtype))
    assert norm_rel_err(out.data, value64) < F32_TOL
    for t, g64 in zip(ts, grads64):
        g32 = np.zeros_like(t.data) if t.grad is None else t.grad
        assert g32.dtype == np.float32, f"{name}: gradient dtype {g32.dtype}"
        assert norm_rel_err(g32, g64) < F32_TOL, f"{name}: float32 vs float64 gradient"


# -- docs/autodiff.md: its examples run and print what the page shows --------------------------
DOCS = Path(__file__).resolve().parents[1] / "docs" / "autodiff.md"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "autodiff_graph.py"


def fenced_blocks(text):
    """(language, body) of every ``` block of a Markdown page."""
    return re.findall(r"(?ms)^```(\w*)\n(.*?)^```", text)


def test_docs_lecture_graph_prints_what_the_page_shows(capsys, monkeypatch, tmp_path):
    blocks = fenced_blocks(DOCS.read_text())
    i = next(k for k, (lang, body) in enumerate(blocks)
             if lang == "python" and "L = (z ** 2)" in body and "print(to_text(L))" in body)
    code, shown_text = blocks[i][1], blocks[i + 1][1]
    shown_dot = next(body for lang, body in blocks if lang == "dot")
    namespace = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    assert capsys.readouterr().out == shown_text
    assert ad.to_dot(namespace["L"]) + "\n" == shown_dot
    # the numbers by hand: z = w0 + w1 x - y = -0.5, L = 0.25, dL/dw0 = 2z, dL/dw1 = 2z x
    assert float(namespace["L"].data) == 0.25
    assert float(namespace["w0"].grad) == -1.0 and float(namespace["w1"].grad) == -2.0
    # and the example script prints the same table and graph (and writes the DOT it is given)
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), str(tmp_path / "graph.dot")])
    exec(compile(EXAMPLE.read_text(), str(EXAMPLE), "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert out.startswith(shown_text + "\n" + shown_dot)
    assert "grad(loss)([0.5, 1.0]) = [-3.         -4.33333333]" in out
    assert (tmp_path / "graph.dot").read_text() == shown_dot


def test_docs_doctests_pass():
    import doctest

    blocks = [body for lang, body in fenced_blocks(DOCS.read_text()) if ">>>" in body]
    assert len(blocks) >= 2
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for k, body in enumerate(blocks):
        runner.run(parser.get_doctest(body, {}, f"autodiff.md block {k}", str(DOCS), 0))
    assert runner.failures == 0 and runner.tries >= 8


def test_dot_escapes_quotes_and_backslashes_in_names():
    a = Tensor(1.0, requires_grad=True, name='say "hi"\\')
    out = (a * 2).named("out")
    out.backward()
    dot = ad.to_dot(out)
    assert '  "say \\"hi\\"\\\\" [label="say \\"hi\\"\\\\\\nvalue 1\\ngrad 2", shape=box' in dot
    assert '  "say \\"hi\\"\\\\" -> "out";' in dot
    # every line but the braces is one statement: quotes balance once escapes are removed
    for line in dot.splitlines()[2:-1]:
        assert line.replace("\\\\", "").replace('\\"', "").count('"') % 2 == 0, line
