"""Divergence: fit stops with a clear message and restores the latest weights whose
predictions are finite; train_on_batch undoes a diverging step; every scheduled learning
rate is checked before the step that uses it.
"""
import math
import warnings

import numpy as np
import pytest

import mlplab
from mlplab import callbacks, optimizers, schedules, training
from mlplab.layers import Dense, Input


def mnist_like(n=1000, seed=0):
    """784 pixels in [0, 1], 10 classes (a digit-like shape: each class brightens a band)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.random((n, 784), dtype=np.float32) * 0.5
    for k in range(10):
        x[y == k, k * 78:(k + 1) * 78] += 0.5
    return x, y


def classifier(lr, seed=0, **compile_kw):
    model = mlplab.Sequential([Input((784,)), Dense(32, activation="relu"),
                               Dense(10, activation="softmax")], seed=seed)
    model.compile(mlplab.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  check_config=False, **compile_kw)
    return model


def same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a, b))


def test_sgd_at_learning_rate_1e6_stops_at_the_first_epoch_and_restores_the_start():
    x, y = mnist_like()
    model = classifier(1e6)
    start = model.get_weights()
    with pytest.warns(RuntimeWarning, match=r"fit\(\): training diverged at epoch 1 \(loss "
                                            r".*; training stopped and the weights were "
                                            r"restored to those at the start of the run\. "
                                            r"Try a smaller learning_rate \(now 1e\+06\)"):
        hist = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert len(hist.history["loss"]) == 1 and model.stop_reason in ("nan", "diverged")
    assert same(model.get_weights(), start)
    assert np.isfinite(model.predict(x)).all()


def test_a_reasonable_rate_trains_without_a_divergence_warning():
    x, y = mnist_like()
    model = classifier(0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert len(hist.history["loss"]) == 3 and model.stop_reason is None
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_a_finite_loss_growing_past_the_factor_counts_as_divergence():
    """Regression with scaled targets at too high a rate: finite but exploding losses."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = x @ rng.normal(size=(5, 1))
    model = mlplab.Sequential([Input((5,)), Dense(1)], seed=0, dtype="float64")
    model.compile(mlplab.SGD(1.2), "mse", check_config=False)  # |1 - lr * lambda_max| > 1
    first = float(np.mean((model.predict(x) - y) ** 2))  # the loss with the first weights
    with pytest.warns(RuntimeWarning, match="training diverged at epoch"):
        hist = model.fit(x, y, epochs=200, batch_size=200, verbose=0)
    losses = hist.history["loss"]
    assert model.stop_reason == "diverged" and all(math.isfinite(v) for v in losses)
    assert losses[-1] > training.DIVERGENCE_FACTOR * first >= max(losses[:-1])
    assert 3 < len(losses) < 200
    assert np.isfinite(model.predict(x)).all()


class Blow(callbacks.Callback):
    """At the end of epoch ``at``, scales the weights so the predictions overflow float32
    (finite weights, infinite outputs): what a fit that diverged gradually leaves."""

    def __init__(self, at):
        super().__init__()
        self.at, self.before, self.steps = at, {}, {}

    def on_epoch_begin(self, epoch, logs=None):
        self.before[epoch] = self.model.get_weights()
        self.steps[epoch] = self.model.optimizer.iterations

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            self.model.set_weights([w * np.float32(1e30) for w in self.model.get_weights()])
            with np.errstate(over="ignore", invalid="ignore"):
                assert not np.isfinite(self.model.forward(self.model.x_seen[:50])).all()


def test_weights_whose_predictions_are_infinite_are_never_the_ones_restored():
    """The epoch's own start gives infinite outputs: the guard goes back further."""
    x, y = mnist_like(300)
    model = classifier(0.05)
    blow = Blow(at=1)
    model.x_seen = x
    with pytest.warns(RuntimeWarning, match="restored to those at the start of epoch 2"):
        model.fit(x, y, epochs=6, batch_size=50, verbose=0, callbacks=[blow])
    assert model.stop_reason == "nan"
    assert same(model.get_weights(), blow.before[1])  # epoch 3's start was the blown one
    assert model.optimizer.iterations == blow.steps[1] == 6  # the optimizer's state too
    assert np.isfinite(model.predict(x)).all()


def test_fit_after_a_blown_first_epoch_restores_the_run_start():
    x, y = mnist_like(300)
    model = classifier(0.05)
    start = model.get_weights()
    with pytest.warns(RuntimeWarning, match="restored to those at the start of the run"):
        model.x_seen = x
        model.fit(x, y, epochs=4, batch_size=50, verbose=0, callbacks=[Blow(at=0)])
    assert same(model.get_weights(), start)


def test_train_on_batch_undoes_a_diverging_step():
    x, y = mnist_like(64)
    model = classifier(0.1)
    model.compile(optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy",
                  check_config=False)
    model.train_on_batch(x, y)
    before, state = model.get_weights(), model.optimizer.get_state()
    model.optimizer.learning_rate = 1e300  # the next update overflows float32
    with pytest.raises(mlplab.DivergenceError, match=r"train_on_batch\(\): the step gave .*"
                                                     r"restored to those before the call\. "
                                                     r"Try a smaller learning_rate"):
        model.train_on_batch(x, y)
    assert same(model.get_weights(), before)
    after = model.optimizer.get_state()
    assert after["iterations"] == state["iterations"] == 1
    assert same(after["velocity"], state["velocity"])
    assert isinstance(mlplab.DivergenceError("x"), FloatingPointError)
    model.optimizer.learning_rate = 0.1
    assert math.isfinite(model.train_on_batch(x, y))  # and training goes on


def test_train_on_batch_refuses_weights_that_give_infinite_outputs():
    x, y = mnist_like(16)
    model = classifier(0.1)
    model.set_weights([w * np.float32(1e30) for w in model.get_weights()])
    blown = model.get_weights()
    with pytest.raises(mlplab.DivergenceError):
        model.train_on_batch(x, y)
    assert same(model.get_weights(), blown)  # a refused call changes nothing
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", None, True])
def test_a_schedule_returning_a_bad_rate_is_refused_before_its_step(bad):
    x, y = mnist_like(64)
    model = classifier(0.1)
    model.compile(mlplab.SGD(lambda k: 0.05 if k < 3 else bad),
                  "sparse_categorical_crossentropy", check_config=False)
    with pytest.raises(mlplab.ArgumentError, match=r"learning-rate schedule .* returned "
                                                   rf"{__import__('re').escape(repr(bad))} "
                                                   r"at step 3; expected a finite number >= 0"):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert model.optimizer.iterations == 3  # steps 0, 1, 2 ran; step 3 was not applied


def test_exponential_decay_above_one_refuses_its_overflow_instead_of_inf():
    decay = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=10.0)
    assert decay(5) == pytest.approx(1e4)
    assert decay(400) == math.inf  # 10^400 does not fit a float
    with pytest.raises(mlplab.ArgumentError, match="returned inf at step 400"):
        schedules.rate_at(decay, 400)
    opt = mlplab.SGD(decay)
    opt.iterations = 400
    with pytest.raises(mlplab.ArgumentError, match="at step 400"):
        opt.current_learning_rate


def test_rate_at_accepts_numbers_numpy_scalars_and_zero():
    assert schedules.rate_at(lambda k: np.float32(0.5), 0) == 0.5
    assert schedules.rate_at(lambda k: np.array(0.25), 0) == 0.25
    assert schedules.rate_at(lambda k: 0, 0) == 0.0
    with pytest.raises(mlplab.ArgumentError):
        schedules.rate_at(lambda k: np.array([0.1, 0.2]), 0)
