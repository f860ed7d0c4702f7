"""Learning-rate schedules: formulas at chosen steps, torch's schedulers, per-epoch decay."""
import math

import numpy as np
import pytest
import torch

import mlplab
from mlplab import callbacks as C
from mlplab import schedules as S
from mlplab.layers import Dense, Input

STEPS = [0, 1, 2, 7, 10, 99, 100, 101, 1000]


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_formula(staircase):
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=staircase)
    for k in STEPS:
        p = k // 10 if staircase else k / 10
        assert s(k) == pytest.approx(0.1 * 0.5 ** p, rel=1e-14)


def test_inverse_time_decay_formula_and_lecture_form():
    s = S.InverseTimeDecay(0.2, decay_steps=5, decay_rate=0.3)
    for k in STEPS:
        assert s(k) == pytest.approx(0.2 / (1 + 0.3 * k / 5), rel=1e-14)
    c1, c2 = 3.0, 12.0
    lecture = S.InverseTimeDecay.from_lecture(c1, c2)
    for k in STEPS:
        assert lecture(k) == pytest.approx(c1 / (k + c2), rel=1e-14)
    stairs = S.InverseTimeDecay(0.2, 5, 0.3, staircase=True)
    assert stairs(9) == pytest.approx(0.2 / 1.3) and stairs(10) == pytest.approx(0.2 / 1.6)


def test_piecewise_constant_boundaries_as_keras():
    s = S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [s(k) for k in (0, 10, 11, 20, 21, 500)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


@pytest.mark.parametrize("alpha", [0.0, 0.1])
def test_cosine_decay_formula(alpha):
    s = S.CosineDecay(0.4, decay_steps=50, alpha=alpha)
    for k in STEPS:
        kk = min(k, 50)
        expected = 0.4 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * kk / 50)) + alpha)
        assert s(k) == pytest.approx(expected, rel=1e-14, abs=1e-16)


def test_cosine_decay_warmup():
    s = S.CosineDecay(0.0001, decay_steps=10, warmup_target=0.1, warmup_steps=5)
    assert s(0) == pytest.approx(0.0001)
    assert s(5) == pytest.approx(0.1) and s(15) == pytest.approx(0.0, abs=1e-15)
    assert s(2) == pytest.approx(0.0001 + (0.1 - 0.0001) * 2 / 5)


def _torch_lrs(make_scheduler, steps):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_match_torch_schedulers():
    n = 60
    ours = S.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.95)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.95), n)
    np.testing.assert_allclose([ours(k) for k in range(n)], ref, rtol=1e-12)
    ours = S.CosineDecay(0.1, decay_steps=40, alpha=0.01 / 0.1)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=40,
                                                                          eta_min=0.01), 41)
    np.testing.assert_allclose([ours(k) for k in range(41)], ref, rtol=1e-10)
    ours = S.PiecewiseConstantDecay([9, 19], [0.1, 0.05, 0.025])
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [10, 20], 0.5), 30)
    np.testing.assert_allclose([ours(k) for k in range(30)], ref, rtol=1e-12)


def test_optimizer_evaluates_schedule_per_update():
    """SGD with a schedule: each update uses alpha_k at k = updates made so far."""
    s = S.InverseTimeDecay.from_lecture(1.0, 4.0)
    opt = mlplab.SGD(s)
    w = np.zeros(1)
    for k in range(6):
        opt.apply([w], [np.ones(1)])
    assert w[0] == pytest.approx(-sum(1.0 / (k + 4.0) for k in range(6)), rel=1e-14)


def _linear_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    return X, y


def test_per_epoch_decay_reproduces_lr_times_decay_power_epoch():
    """LearningRateScheduler(lr * decay**epoch) with full-batch SGD, against gradient descent
    written out by hand for linear least squares."""
    X, y = _linear_problem()
    lr0, decay, epochs = 0.2, 0.8, 6
    model = mlplab.Sequential([Input((3,)), Dense(1, kernel_initializer="zeros")],
                              dtype="float64")
    model.compile(mlplab.SGD(lr0), "mse")
    h = model.fit(X, y, epochs=epochs, batch_size="full", shuffle=False, verbose=0,
                  callbacks=[C.LearningRateScheduler(lambda epoch: lr0 * decay ** epoch)])
    np.testing.assert_allclose(h.history["learning_rate"],
                               [lr0 * decay ** e for e in range(epochs)], rtol=1e-14)
    w, b = np.zeros((3, 1)), np.zeros(1)
    for e in range(epochs):
        r = X @ w + b - y                       # dE/dw of mean (y - d)^2 is 2/N X^T r
        gw, gb = 2 * X.T @ r / len(X), 2 * r.mean(0)
        w, b = w - lr0 * decay ** e * gw, b - lr0 * decay ** e * gb
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum"])
def test_schedule_steps_per_update_inside_fit(optimizer):
    """fit with 4 mini-batches per epoch and the lectures' alpha_k = c1 / (k + c2): update k
    (counted over all epochs) uses alpha_k, against mini-batch gradient descent by hand. Plain
    SGD takes its fused path (the step inside the gradient's product), momentum the general
    one; both must read the schedule at every update."""
    X, y = _linear_problem()
    c1, c2, mu = 0.5, 3.0, 0.5 if optimizer == "sgd_momentum" else 0.0
    model = mlplab.Sequential([Input((3,)), Dense(1, kernel_initializer="zeros")],
                              dtype="float64")
    model.compile(mlplab.SGD(S.InverseTimeDecay.from_lecture(c1, c2), momentum=mu), "mse")
    model.fit(X, y, epochs=3, batch_size=5, shuffle=False, verbose=0)
    w, b, vw, vb, k = np.zeros((3, 1)), np.zeros(1), np.zeros((3, 1)), np.zeros(1), 0
    for _ in range(3):
        for i in range(0, 20, 5):
            xb, yb = X[i:i + 5], y[i:i + 5]
            r = xb @ w + b - yb
            gw, gb = 2 * xb.T @ r / 5, 2 * r.mean(0)
            lr = c1 / (k + c2)
            vw, vb = mu * vw - lr * gw, mu * vb - lr * gb
            w, b, k = w + vw, b + vb, k + 1
    assert model.optimizer.iterations == k == 12
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-12)


def test_scheduler_two_argument_form():
    X, y = _linear_problem()
    model = mlplab.Sequential([Input((3,)), Dense(1)], dtype="float64", seed=0)
    model.compile(mlplab.SGD(0.1), "mse")
    h = model.fit(X, y, epochs=4, verbose=0,
                  callbacks=[C.LearningRateScheduler(lambda epoch, lr: lr if epoch < 2
                                                     else lr * 0.5)])
    np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.1, 0.05, 0.025])


def test_schedule_config_round_trip_through_optimizer():
    opt = mlplab.Adam(S.CosineDecay(0.01, 100, alpha=0.1))
    twin = mlplab.optimizers.get(opt.get_config())
    assert isinstance(twin.learning_rate, S.CosineDecay)
    assert [twin.learning_rate(k) for k in (0, 50, 200)] == \
        [opt.learning_rate(k) for k in (0, 50, 200)]


@pytest.mark.parametrize("call, match", [
    (lambda: S.ExponentialDecay(0.1, 0, 0.5), r"decay_steps must be a positive finite number"),
    (lambda: S.ExponentialDecay(-0.1, 10, 0.5), r"initial_learning_rate must be a positive"),
    (lambda: S.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), r"values must have one more entry "
                                                           r"than boundaries"),
    (lambda: S.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3]), r"strictly increasing"),
    (lambda: S.CosineDecay(0.1, 10, alpha=2), r"alpha must be a number in \[0, 1\]"),
    (lambda: S.get("cosine"), r"Unknown learning-rate schedule 'cosine'"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
