"""Optimizers against torch.optim: same network, data, weights and (mapped) hyperparameters,
100 steps, parameters compared after every step in float64."""
import inspect
import math

import numpy as np
import pytest
import torch

import mlplab
from mlplab import fast, optimizers
from mlplab.layers import Dense, Input

torch.set_default_dtype(torch.float64)
STEPS = 100
TOL = 1e-9


SMALL = (4, 5, 3, 16)   # inputs, hidden units, classes, batch


def _data(sizes=SMALL):
    n_in, _, n_out, n = sizes
    rng = np.random.default_rng(42)
    X = rng.normal(size=(n, n_in))
    D = np.eye(n_out)[rng.integers(0, n_out, size=n)]
    return X, D


def _models(optimizer, sizes=SMALL):
    """The same tanh/softmax network (4-5-3 by default) in mlplab and torch, with identical
    weights."""
    n_in, hidden, n_out, _ = sizes
    model = mlplab.Sequential([Input((n_in,)), Dense(hidden, activation="tanh"),
                               Dense(n_out, activation="softmax")], seed=1, dtype="float64")
    # non-zero biases so the bias path is exercised too
    W1, b1, W2, b2 = model.get_weights()
    rng = np.random.default_rng(7)
    model.set_weights([W1, rng.normal(size=hidden) * 0.1, W2, rng.normal(size=n_out) * 0.1])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    net = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, n_out))
    with torch.no_grad():
        for layer, (W, b) in zip((net[0], net[2]), _pairs(model.get_weights())):
            layer.weight.copy_(torch.from_numpy(W.T.copy()))
            layer.bias.copy_(torch.from_numpy(b.copy()))
    return model, net


def _pairs(weights):
    return list(zip(weights[::2], weights[1::2]))


def _torch_weights(net):
    out = []
    for layer in (net[0], net[2]):
        out += [layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy()]
    return out


def _rel_err(ours, ref):
    return max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(ours, ref))


def run_trajectory(our_opt, make_torch_opt, clip=None, steps=STEPS, sizes=SMALL):
    """Max relative parameter difference over ``steps`` updates on one fixed batch."""
    X, D = _data(sizes)
    model, net = _models(our_opt, sizes)
    topt = make_torch_opt(net.parameters())
    Xt, labels = torch.from_numpy(X), torch.from_numpy(D.argmax(1))
    worst = 0.0
    for _ in range(steps):
        model.train_on_batch(X, D)
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(Xt), labels)
        loss.backward()
        if clip is not None:
            clip(list(net.parameters()))
        topt.step()
        worst = max(worst, _rel_err(model.get_weights(), _torch_weights(net)))
    # the weights really moved: the comparison is not between two untouched copies
    start = _models("sgd", sizes)[0].get_weights()
    assert _rel_err(model.get_weights(), start) > 1e-3
    return worst


T = torch.optim
CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), lambda p: T.SGD(p, lr=0.1)),
    "sgd_momentum": (lambda: optimizers.SGD(0.05, momentum=0.9),
                     lambda p: T.SGD(p, lr=0.05, momentum=0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                     lambda p: T.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    # Keras puts eps inside the root: identical for eps = 0
    "adagrad": (lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.1, epsilon=0.0),
                lambda p: T.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
    # With eps = 0 and rho = 0.9 this trajectory is numerically unstable after ~40 steps
    # (g / sqrt(v) with v near 0: rounding differences of 1e-16 grow 10x per step in both
    # libraries), so the comparison uses rho = 0.99, torch's default alpha.
    "rmsprop": (lambda: optimizers.RMSprop(0.01, rho=0.99, epsilon=0.0),
                lambda p: T.RMSprop(p, lr=0.01, alpha=0.99, eps=0.0)),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, epsilon=0.0),
        lambda p: T.RMSprop(p, lr=0.01, alpha=0.8, momentum=0.5, centered=True, eps=0.0)),
    "rmsprop_momentum": (lambda: optimizers.RMSprop(0.005, rho=0.99, momentum=0.9, epsilon=0.0),
                         lambda p: T.RMSprop(p, lr=0.005, alpha=0.99, momentum=0.9, eps=0.0)),
    # same eps placement; torch's default lr is 1.0
    "adadelta": (lambda: optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6),
                 lambda p: T.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6)),
    # Keras's epsilon is "epsilon hat": identical for eps = 0
    "adam": (lambda: optimizers.Adam(0.01, epsilon=0.0),
             lambda p: T.Adam(p, lr=0.01, eps=0.0)),
    "adam_betas": (lambda: optimizers.Adam(0.02, beta_1=0.8, beta_2=0.99, epsilon=0.0),
                   lambda p: T.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=0.0)),
    "amsgrad": (lambda: optimizers.Adam(0.01, epsilon=0.0, amsgrad=True),
                lambda p: T.Adam(p, lr=0.01, eps=0.0, amsgrad=True)),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=0.0),
              lambda p: T.AdamW(p, lr=0.01, weight_decay=0.1, eps=0.0)),
    "adamw_amsgrad": (lambda: optimizers.AdamW(0.01, weight_decay=0.01, epsilon=0.0,
                                               amsgrad=True),
                      lambda p: T.AdamW(p, lr=0.01, weight_decay=0.01, eps=0.0, amsgrad=True)),
    # torch puts eps inside the max: identical for eps = 0
    "adamax": (lambda: optimizers.Adamax(0.01, epsilon=0.0),
               lambda p: T.Adamax(p, lr=0.01, eps=0.0)),
    # same eps placement; torch's momentum schedule is 0.96^(0.004 t), Keras's 0.96^t
    "nadam_torch_schedule": (lambda: optimizers.Nadam(0.01, epsilon=1e-8, momentum_decay=4e-3),
                             lambda p: T.NAdam(p, lr=0.01, eps=1e-8)),
    "nadam_keras_schedule": (lambda: optimizers.Nadam(0.01, epsilon=1e-7),
                             lambda p: T.NAdam(p, lr=0.01, eps=1e-7, momentum_decay=1.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_trajectory_matches_torch(case):
    ours, theirs = CASES[case]
    assert run_trajectory(ours(), theirs) < TOL


# Large enough that the fast paths of mlplab.fast run: the compiled Adam kernel and plain
# SGD folded into the gradient's BLAS product (batch 1: the compiled rank-1 update). The same
# trajectories as torch, with the accelerators on and off.
LARGE = (128, 256, 10, 32)
FAST_CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), lambda p: T.SGD(p, lr=0.1), LARGE, "gemm_update"),
    "sgd_one_sample": (lambda: optimizers.SGD(0.1), lambda p: T.SGD(p, lr=0.1),
                       LARGE[:3] + (1,), "gemm_update"),
    "adam": (lambda: optimizers.Adam(0.01, epsilon=0.0), lambda p: T.Adam(p, lr=0.01, eps=0.0),
             LARGE, "adam_step"),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=0.0),
              lambda p: T.AdamW(p, lr=0.01, weight_decay=0.1, eps=0.0), LARGE, "adam_step"),
}


@pytest.mark.parametrize("accelerated", [True, False], ids=["accelerated", "pure_numpy"])
@pytest.mark.parametrize("case", sorted(FAST_CASES))
def test_fast_paths_follow_torch(case, accelerated, monkeypatch):
    ours, theirs, sizes, hook = FAST_CASES[case]
    taken = []
    module = {"gemm_update": fast.blas, "adam_step": fast.kernels}[hook]
    original = getattr(module, hook)

    def spy(*args):
        done = original(*args)
        taken.append(done)
        return done

    monkeypatch.setattr(module, hook, spy)
    old = fast.use(accelerated)
    try:
        err = run_trajectory(ours(), theirs, steps=30, sizes=sizes)
        backend = fast.backend()
    finally:
        fast.use(old)
    assert err < TOL
    if not accelerated:
        assert not any(taken)  # pure NumPy really ran
    elif not any(taken):  # tests/test_performance_paths.py checks when each path must run
        pytest.skip(f"fast.{hook} has no accelerator here (backend: {backend})")


def test_global_clipnorm_matches_clip_grad_norm():
    clip = lambda ps: torch.nn.utils.clip_grad_norm_(ps, 0.05)  # noqa: E731
    err = run_trajectory(optimizers.SGD(0.1, momentum=0.9, global_clipnorm=0.05),
                         lambda p: T.SGD(p, lr=0.1, momentum=0.9), clip=clip)
    assert err < TOL


def test_clipvalue_matches_clip_grad_value():
    clip = lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.01)  # noqa: E731
    err = run_trajectory(optimizers.Adam(0.01, epsilon=0.0, clipvalue=0.01),
                         lambda p: T.Adam(p, lr=0.01, eps=0.0), clip=clip)
    assert err < TOL


def test_clipping_is_active_in_these_tests():
    X, D = _data()
    model, _ = _models("sgd")
    _, grads = model.compute_gradients(X, D)
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    assert total > 0.05 and max(float(np.abs(g).max()) for g in grads) > 0.01


def test_clipnorm_per_array_against_torch_clip_grad_norm_per_parameter():
    """``clipnorm`` is torch's ``clip_grad_norm_`` applied to each array on its own, except that
    torch divides by ||g|| + 1e-6 and Keras (and mlplab) by ||g||: the results differ by the
    factor ||g|| / (||g|| + 1e-6), which the comparison allows for exactly."""
    rng = np.random.default_rng(5)
    grads = [rng.normal(size=(4, 5)) * 3, rng.normal(size=5) * 0.01, rng.normal(size=(5, 3))]
    c = 0.5
    clipped = optimizers.SGD(clipnorm=c).clip(grads)
    for g, ours in zip(grads, clipped):
        p = torch.nn.Parameter(torch.zeros(g.shape))
        p.grad = torch.from_numpy(g.copy())
        torch.nn.utils.clip_grad_norm_([p], c)
        norm = np.linalg.norm(g)
        ref = p.grad.numpy() * ((norm + 1e-6) / norm if norm > c else 1.0)
        np.testing.assert_allclose(ours, ref, rtol=1e-13)
        assert np.linalg.norm(ours) <= c * (1 + 1e-12)
    assert np.linalg.norm(grads[0]) > c > np.linalg.norm(grads[1])  # both branches ran


def test_clipnorm_rescales_each_array_keras_rule():
    g1 = np.array([3.0, 4.0])           # norm 5: scaled to norm 1
    g2 = np.array([0.3, 0.4])           # norm 0.5: untouched
    out = optimizers.SGD(clipnorm=1.0).clip([g1, g2])
    np.testing.assert_allclose(out[0], g1 / 5.0, rtol=1e-15)
    np.testing.assert_allclose(out[1], g2, rtol=1e-15)
    assert g1[0] == 3.0  # the model's gradient arrays are not modified


def test_adam_epsilon_placement_one_step_formula():
    """One Adam step with eps > 0 from the Keras formula written out by hand."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-3
    w, g = np.array([1.0, -2.0]), np.array([0.5, 1e-4])
    m, v = (1 - b1) * g, (1 - b2) * g * g
    expected = w - lr * math.sqrt(1 - b2) / (1 - b1) * m / (np.sqrt(v) + eps)
    opt = optimizers.Adam(lr, b1, b2, eps)
    opt.apply([w], [g])
    np.testing.assert_allclose(w, expected, rtol=1e-14)


def test_adagrad_epsilon_inside_root_one_step():
    lr, eps, acc0 = 0.1, 1e-2, 0.1
    w, g = np.array([1.0, -2.0]), np.array([0.5, 1e-3])
    expected = w - lr * g / np.sqrt(acc0 + g * g + eps)
    optimizers.Adagrad(lr, acc0, eps).apply([w], [g])
    np.testing.assert_allclose(w, expected, rtol=1e-14)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw",
                                  "adamax", "nadam"])
def test_float32_stays_float32_and_slots_are_reused(name):
    opt = optimizers.get(name)
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 2)).astype(np.float32), np.zeros(2, np.float32)]
    grads = [rng.normal(size=(3, 2)).astype(np.float32), np.ones(2, np.float32)]
    opt.apply(params, grads)
    ids = {k: [id(a) for a in v] for k, v in opt.slots().items()}
    opt.apply(params, grads)
    assert all(p.dtype == np.float32 for p in params)
    assert all(a.dtype == np.float32 for v in opt.slots().values() for a in v)
    assert ids == {k: [id(a) for a in v] for k, v in opt.slots().items()}
    assert opt.iterations == 2


# Keras 3's constructor arguments and defaults, in Keras's order (keras/src/optimizers/*.py).
KERAS_DEFAULTS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
             "amsgrad": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
              "epsilon": 1e-7, "amsgrad": False},
    "adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}
# mlplab's additions after Keras's arguments (Keras has no such argument).
EXTRA_ARGUMENTS = {"nadam": {"momentum_decay": 1.0}}


@pytest.mark.parametrize("name", sorted(KERAS_DEFAULTS))
def test_keras_defaults_by_string(name):
    config = optimizers.get(name).get_config()
    for key, value in KERAS_DEFAULTS[name].items():
        assert config[key] == value, key
    # the constructor takes exactly Keras's arguments, in Keras's order, with its defaults
    # (positional calls written for Keras mean the same here)
    params = inspect.signature(type(optimizers.get(name))).parameters
    defaults = {k: p.default for k, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD}
    assert defaults == {**KERAS_DEFAULTS[name], **EXTRA_ARGUMENTS.get(name, {})}
    base = inspect.signature(optimizers.Optimizer).parameters
    assert {k: base[k].default for k in ("clipnorm", "clipvalue", "global_clipnorm")} == \
        dict.fromkeys(("clipnorm", "clipvalue", "global_clipnorm"))


@pytest.mark.parametrize("name", sorted(KERAS_DEFAULTS))
def test_config_round_trip(name):
    opt = optimizers.get(name)
    twin = optimizers.get(opt.get_config())
    assert type(twin) is type(opt) and twin.get_config() == opt.get_config()


STATE_CASES = {"sgd": {"name": "sgd", "momentum": 0.9},
               "rmsprop": {"name": "rmsprop", "centered": True, "momentum": 0.5},
               "adagrad": {"name": "adagrad"}, "adadelta": {"name": "adadelta"},
               "adam": {"name": "adam"}, "amsgrad": {"name": "adam", "amsgrad": True},
               "adamw": {"name": "adamw", "amsgrad": True}, "adamax": {"name": "adamax"},
               "nadam": {"name": "nadam"}}


@pytest.mark.parametrize("case", sorted(STATE_CASES))
def test_state_round_trip_continues_identically(case):
    """Five steps, save the state, restore it into a fresh optimizer, five more: the same
    weights, bit for bit, as ten steps without interruption (every slot and counter saved)."""
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(4, 3))
    grads = [rng.normal(size=(4, 3)) for _ in range(10)]
    a = optimizers.get(dict(STATE_CASES[case]))
    wa = w0.copy()
    for g in grads:
        a.apply([wa], [g])
    b = optimizers.get(dict(STATE_CASES[case]))
    wb = w0.copy()
    for g in grads[:5]:
        b.apply([wb], [g])
    state = b.get_state()
    c = optimizers.get(b.get_config())
    c.set_state(state, [wb])
    for g in grads[5:]:
        c.apply([wb], [g])
    np.testing.assert_array_equal(wa, wb)
    assert c.iterations == 10


def test_optimizer_by_string_in_compile():
    model = mlplab.Sequential([Input((2,)), Dense(1)])
    model.compile(optimizer="Adam", loss="mse")
    assert isinstance(model.optimizer, optimizers.Adam)


@pytest.mark.parametrize("call, match", [
    (lambda: optimizers.SGD(momentum=1.5), r"momentum must be a number in \[0, 1\); "
                                           r"received 1.5"),
    (lambda: optimizers.SGD(nesterov=True), r"Nesterov momentum needs a momentum > 0"),
    (lambda: optimizers.Adam(beta_1=-0.1), r"beta_1 must be a number in \[0, 1\)"),
    (lambda: optimizers.Adam(learning_rate=0), r"learning_rate must be a positive finite "
                                               r"number; received 0"),
    (lambda: optimizers.RMSprop(epsilon=-1), r"epsilon must be a non-negative finite number"),
    (lambda: optimizers.SGD(clipnorm=-1.0), r"clipnorm must be a positive finite number"),
    (lambda: optimizers.get("adamm"), r"Unknown optimizer 'adamm'.*Did you mean 'adam"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_learning_rate_type_error():
    with pytest.raises(TypeError, match=r"learning_rate must be a positive number or a "
                                        r"schedule"):
        optimizers.Adam(learning_rate="fast")


def test_set_state_rejects_wrong_shapes():
    opt = optimizers.Adam()
    opt.apply([np.zeros(3)], [np.ones(3)])
    state = opt.get_state()
    other = optimizers.Adam()
    with pytest.raises(ValueError, match=r"slot 'momentum' array has shape \(3,\); "
                                         r"expected \(4,\)"):
        other.set_state(state, [np.zeros(4)])
