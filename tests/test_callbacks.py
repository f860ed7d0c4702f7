"""Callbacks and stopping rules: each rule stops at an epoch known in advance."""
import csv
import inspect
import io
import re
import sys

import numpy as np
import pytest

import mlplab
from mlplab import callbacks as C
from mlplab.layers import Dense, Input


# ------------------------------------------------------------------ a model with known losses
# One linear unit without bias, w0 = 0, x = 1, d = 1, mse, full-batch SGD(lr):
#   w_{e+1} = w_e - lr * 2 (w_e - 1)  =>  w_e - 1 = -(1 - 2 lr)^e
# The loss logged for epoch e is measured before its update: E_e = (1 - 2 lr)^(2 e), and the
# weight change over epoch e is |w_{e+1} - w_e| = 2 lr (1 - 2 lr)^e.
LR = 0.25  # E_e = 0.25^e, |delta w_e| = 0.5^(e + 1)


def scalar_model():
    model = mlplab.Sequential([Input((1,)), Dense(1, use_bias=False,
                                                  kernel_initializer="zeros")],
                              dtype="float64")
    model.compile(mlplab.SGD(LR), "mse")
    return model, np.ones((1, 1)), np.ones((1, 1))


def first_epoch(predicate):
    return next(e for e in range(100) if predicate(e))


def test_known_losses_hold():
    model, x, y = scalar_model()
    h = model.fit(x, y, epochs=6, verbose=0)
    np.testing.assert_allclose(h.history["loss"], [0.25 ** e for e in range(6)], rtol=1e-12)


def test_max_epochs_rule():
    model, x, y = scalar_model()
    h = model.fit(x, y, epochs=7, verbose=0)
    assert (h.stop_reason, h.stopped_epoch, len(h.epoch)) == ("max_epochs", 6, 7)


def test_loss_threshold_stops_at_known_epoch():
    model, x, y = scalar_model()
    expected = first_epoch(lambda e: 0.25 ** e < 0.01)  # 4
    h = model.fit(x, y, epochs=50, verbose=0, callbacks=[C.LossThreshold(0.01)])
    assert (h.stop_reason, h.stopped_epoch) == ("loss_threshold", expected)
    assert h.history["loss"][-1] < 0.01 <= h.history["loss"][-2]


def test_min_weight_change_stops_at_known_epoch():
    model, x, y = scalar_model()
    expected = first_epoch(lambda e: 0.5 ** (e + 1) < 0.05)  # 4
    h = model.fit(x, y, epochs=50, verbose=0, callbacks=[C.MinWeightChange(0.05)])
    assert (h.stop_reason, h.stopped_epoch) == ("min_weight_change", expected)
    np.testing.assert_allclose(h.history["max_weight_change"],
                               [0.5 ** (e + 1) for e in range(expected + 1)], rtol=1e-12)


def test_rules_combine_first_one_wins():
    model, x, y = scalar_model()
    by_loss = first_epoch(lambda e: 0.25 ** e < 1e-4)        # 7
    by_change = first_epoch(lambda e: 0.5 ** (e + 1) < 0.1)  # 3
    h = model.fit(x, y, epochs=50, verbose=0,
                  callbacks=[C.LossThreshold(1e-4), C.MinWeightChange(0.1)])
    assert (h.stop_reason, h.stopped_epoch) == ("min_weight_change", min(by_loss, by_change))
    model, x, y = scalar_model()
    h = model.fit(x, y, epochs=5, verbose=0, callbacks=[C.LossThreshold(1e-4)])
    assert (h.stop_reason, h.stopped_epoch) == ("max_epochs", 4)


def test_time_limit_stops_at_known_batch_with_fake_clock():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(40, 1))
    model = mlplab.Sequential([Input((2,)), Dense(1)], seed=0)
    model.compile("sgd", "mse")
    ticks = iter(range(1000))
    limit = C.TimeLimit(10.0)
    limit._clock = lambda: float(next(ticks))  # one "second" per call; t0 = 0
    batches = []
    h = model.fit(x, y, epochs=50, batch_size=10, verbose=0,   # 4 batches per epoch
                  callbacks=[limit, C.LambdaCallback(on_batch_end=lambda b, logs:
                                                     batches.append(b))])
    # the clock reads 10 at the 10th batch: epoch 2 (0-based), its 2nd batch
    assert (h.stop_reason, h.stopped_epoch) == ("time_limit", 2)
    assert len(batches) == 10


def test_time_limit_real_clock():
    rng = np.random.default_rng(0)
    model = mlplab.Sequential([Input((2,)), Dense(1)], seed=0)
    model.compile("sgd", "mse")
    h = model.fit(rng.normal(size=(8, 2)), rng.normal(size=(8, 1)), epochs=10 ** 6,
                  verbose=0, callbacks=[C.TimeLimit(0.2)])
    assert h.stop_reason == "time_limit" and h.stopped_epoch < 10 ** 6 - 1


def test_val_loss_rule_stops_at_known_epoch_and_restores_that_epochs_weights():
    """Validation point x = 1, d = 0.8. The validation loss is measured after each epoch's
    update, at w_{e+1} = 1 - 0.5^(e+1): (0.2 - 0.5^(e+1))^2 = 0.09, 0.0025, 0.005625, ... is
    lowest at epoch 1 (w = 0.75) and rises after it; patience 2 runs out at epoch 3. All these
    numbers are exact in binary, so the restored weight must be exactly 0.75."""
    model, x, y = scalar_model()
    x_val, y_val = np.ones((1, 1)), np.full((1, 1), 0.8)
    val_losses = [(0.2 - 0.5 ** (e + 1)) ** 2 for e in range(50)]
    best = int(np.argmin(val_losses))                                          # 1
    expected = first_epoch(lambda e: e > best and e - best >= 2)               # 3
    stop = C.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=50, verbose=0, validation_data=(x_val, y_val), callbacks=[stop])
    assert (h.stop_reason, h.stopped_epoch, stop.best_epoch) == ("early_stopping", expected,
                                                                 best)
    np.testing.assert_allclose(h.history["val_loss"], val_losses[:expected + 1], rtol=1e-12)
    assert model.get_weights()[0][0, 0] == 1 - 0.5 ** (best + 1) == 0.75


def test_every_rule_together_the_first_to_fire_is_recorded():
    """All five rules at once, with thresholds chosen so each in turn fires first."""
    def run(epochs, e_min, delta_min, patience, seconds):
        model, x, y = scalar_model()
        limit = C.TimeLimit(seconds)
        ticks = iter(range(10 ** 6))
        limit._clock = lambda: float(next(ticks))  # one "second" per batch (t0 = 0)
        h = model.fit(x, y, epochs=epochs, verbose=0,
                      validation_data=(np.ones((1, 1)), np.full((1, 1), 0.8)),
                      callbacks=[C.LossThreshold(e_min), C.MinWeightChange(delta_min),
                                 C.EarlyStopping(patience=patience), limit])
        return h.stop_reason, h.stopped_epoch
    # E_e = 0.25^e, |dw_e| = 0.5^(e+1), val loss best at epoch 1, one batch per epoch
    assert run(3, 1e-9, 1e-9, 40, 1e9) == ("max_epochs", 2)
    assert run(50, 0.25 ** 4 * 1.01, 1e-9, 40, 1e9) == ("loss_threshold", 4)
    assert run(50, 1e-9, 0.5 ** 6 * 1.01, 40, 1e9) == ("min_weight_change", 5)
    assert run(50, 1e-9, 1e-9, 5, 1e9) == ("early_stopping", 6)
    assert run(50, 1e-9, 1e-9, 40, 8) == ("time_limit", 7)


# ------------------------------------------------------------------ early stopping
class Script(C.Callback):
    """Puts a scripted value into the epoch logs (placed before the callback under test) and
    records the weights at every epoch end."""

    def __init__(self, values, key="score"):
        super().__init__()
        self.values, self.key, self.weights = values, key, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 3))
    y = (x[:, :1] > 0).astype(float)
    model = mlplab.Sequential([Input((3,)), Dense(4, activation="tanh"),
                               Dense(1, activation="sigmoid")], seed=seed)
    model.compile(mlplab.SGD(0.5), "binary_crossentropy")
    return model, x, y


def test_early_stopping_epoch_and_restored_weights():
    values = [5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0, 4.1]
    model, x, y = small_problem()
    script = Script(values)
    stop = C.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=10, verbose=0, callbacks=[script, stop])
    # best at epoch 2; epochs 3 and 4 do not improve: patience 2 runs out at epoch 4
    assert (h.stop_reason, h.stopped_epoch, stop.best_epoch) == ("early_stopping", 4, 2)
    for w, best in zip(model.get_weights(), script.weights[2]):
        np.testing.assert_array_equal(w, best)
    assert not np.array_equal(script.weights[4][0], script.weights[2][0])


def test_restore_best_weights_also_when_epochs_run_out():
    values = [5.0, 2.0, 3.0, 4.0, 4.5]
    model, x, y = small_problem()
    script = Script(values)
    h = model.fit(x, y, epochs=5, verbose=0, callbacks=[
        script, C.EarlyStopping(monitor="score", patience=10, restore_best_weights=True)])
    assert h.stop_reason == "max_epochs"
    for w, best in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(w, best)


def test_early_stopping_min_delta_mode_max_and_start_from_epoch():
    # mode max (from the name "val_acc"-like key), min_delta 0.1: 0.55 is no improvement on 0.5
    values = [0.1, 0.5, 0.55, 0.58, 0.59, 0.9]
    model, x, y = small_problem()
    h = model.fit(x, y, epochs=6, verbose=0, callbacks=[
        Script(values, "val_acc"), C.EarlyStopping("val_acc", min_delta=0.1, patience=2)])
    assert (h.stop_reason, h.stopped_epoch) == ("early_stopping", 3)
    # nothing monitored before start_from_epoch=3: the bad early values do not count
    values = [1.0, 9.0, 9.0, 5.0, 4.0, 3.0, 6.0, 6.0]
    model, x, y = small_problem()
    h = model.fit(x, y, epochs=8, verbose=0, callbacks=[
        Script(values), C.EarlyStopping("score", patience=1, start_from_epoch=3)])
    assert (h.stop_reason, h.stopped_epoch) == ("early_stopping", 6)


def test_early_stopping_baseline():
    # Keras's rule: improvements that do not beat the baseline 1.0 do not reset the count of
    # epochs waited, so the first non-improving epoch (2) already exhausts patience 3.
    values = [3.0, 2.5, 2.6, 0.5, 0.4]
    model, x, y = small_problem()
    h = model.fit(x, y, epochs=5, verbose=0, callbacks=[
        Script(values), C.EarlyStopping("score", patience=3, baseline=1.0)])
    assert (h.stop_reason, h.stopped_epoch) == ("early_stopping", 2)
    model, x, y = small_problem()
    h = model.fit(x, y, epochs=5, verbose=0, callbacks=[
        Script(values), C.EarlyStopping("score", patience=3)])
    assert (h.stop_reason, h.stopped_epoch) == ("max_epochs", 4)


def test_early_stopping_on_real_val_loss():
    model, x, y = small_problem()
    h = model.fit(x, y, epochs=300, verbose=0, validation_data=(x[:8], y[:8]),
                  callbacks=[C.EarlyStopping(patience=0, min_delta=1e-3)])
    losses = h.history["val_loss"]
    e = h.stopped_epoch
    assert h.stop_reason == "early_stopping"
    assert not losses[e] < min(losses[:e]) - 1e-3
    assert all(losses[i] < min(losses[:i]) - 1e-3 for i in range(1, e))


def test_early_stopping_missing_monitor_warns_with_available_keys():
    model, x, y = small_problem()
    with pytest.warns(UserWarning, match=r"'val_loss' is not in the logs; available: loss\. "
                                         r"Pass validation_data"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[C.EarlyStopping()])


def test_terminate_on_nan():
    model, x, y = small_problem()
    cb = C.TerminateOnNaN()
    cb.set_model(model)
    model.stop_training, model.stop_reason = False, None
    cb.on_train_batch_end(0, {"loss": 0.5})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": float("nan")})
    assert model.stop_training and model.stop_reason == "nan"


# ------------------------------------------------------------------ learning-rate callbacks
def test_reduce_lr_on_plateau_known_epochs():
    values = [1.0, 0.9, 0.9, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8]
    model, x, y = small_problem()
    model.compile(mlplab.SGD(0.1), "binary_crossentropy")
    h = model.fit(x, y, epochs=9, verbose=0, callbacks=[
        Script(values), C.ReduceLROnPlateau("score", factor=0.5, patience=2, min_delta=0.01)])
    # epochs 2, 3 do not improve on 0.9 -> halve after epoch 3; 4 no, 5 improves (0.8);
    # 6, 7 do not -> halve after epoch 7. Logged: the rate used during that epoch.
    np.testing.assert_allclose(h.history["learning_rate"],
                               [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025])


def test_reduce_lr_min_lr_and_cooldown():
    values = [1.0] * 8
    model, x, y = small_problem()
    model.compile(mlplab.SGD(0.1), "binary_crossentropy")
    h = model.fit(x, y, epochs=8, verbose=0, callbacks=[
        Script(values), C.ReduceLROnPlateau("score", factor=0.5, patience=1, cooldown=2,
                                            min_lr=0.03)])
    # Keras's counting: reduce after epoch 1; the cooldown counter is decremented at epochs 2
    # and 3, and counting resumes once it reaches 0 (at epoch 3): reduce after epoch 3
    # (0.025 clipped to min_lr 0.03); at min_lr it stays.
    np.testing.assert_allclose(h.history["learning_rate"],
                               [0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03])


def test_learning_rate_scheduler_rejects_schedule_optimizer():
    model, x, y = small_problem()
    model.compile(mlplab.SGD(mlplab.schedules.ExponentialDecay(0.1, 10, 0.5)),
                  "binary_crossentropy")
    with pytest.raises(TypeError, match=r"learning_rate is a schedule.*not both"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[C.LearningRateScheduler(lambda e: 0.1)])


# ------------------------------------------------------------------ logging and saving
def test_csv_logger_matches_history(tmp_path):
    model, x, y = small_problem()
    model.compile(mlplab.SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
    path = tmp_path / "log.csv"
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[C.CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose([float(r[key]) for r in rows], h.history[key], rtol=1e-12)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[C.CSVLogger(path, append=True)])
    assert len(list(csv.DictReader(open(path)))) == 5


def test_model_checkpoint_save_best_only(tmp_path):
    values = [3.0, 1.0, 2.0, 0.5, 0.7]
    model, x, y = small_problem()
    script = Script(values)
    path = tmp_path / "best.npz"
    model.fit(x, y, epochs=5, verbose=0, callbacks=[
        script, C.ModelCheckpoint(path, monitor="score", save_best_only=True)])
    best = mlplab.load_model(path)
    for w, ref in zip(best.get_weights(), script.weights[3]):
        np.testing.assert_array_equal(w, ref)


def test_model_checkpoint_formats_path_every_epoch(tmp_path):
    model, x, y = small_problem()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[
        C.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}-{loss:.2f}.npz"), monitor="loss",
                          save_weights_only=True)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n[:4] for n in names] == ["m-01", "m-02", "m-03"] and len(names) == 3


def test_lambda_callback_hooks_and_counts():
    calls = {"train_begin": 0, "epoch_begin": [], "epoch_end": [], "batch_end": 0,
             "train_end": 0}
    cb = C.LambdaCallback(
        on_train_begin=lambda logs: calls.__setitem__("train_begin", calls["train_begin"] + 1),
        on_epoch_begin=lambda epoch, logs: calls["epoch_begin"].append(epoch),
        on_epoch_end=lambda epoch, logs: calls["epoch_end"].append(round(logs["loss"], 12)),
        on_batch_end=lambda batch, logs: calls.__setitem__("batch_end", calls["batch_end"] + 1),
        on_train_end=lambda logs: calls.__setitem__("train_end", calls["train_end"] + 1))
    model, x, y = small_problem()
    h = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[cb])
    assert calls["train_begin"] == calls["train_end"] == 1
    assert calls["epoch_begin"] == [0, 1, 2] and calls["batch_end"] == 3 * 4
    assert calls["epoch_end"] == [round(v, 12) for v in h.history["loss"]]
    with pytest.raises(TypeError, match=r"unknown hook 'on_epoch_ends'"):
        C.LambdaCallback(on_epoch_ends=print)


def test_epoch_only_callbacks_get_no_batch_hooks():
    lst = C.CallbackList([C.EarlyStopping(), C.LossThreshold(0.1)], None, {})
    assert not lst.wants_batch_logs
    assert C.CallbackList([C.LambdaCallback(on_batch_end=print)], None, {}).wants_batch_logs


def test_a_silent_fit_builds_no_logs_per_batch(monkeypatch):
    """verbose=0 and epoch-only callbacks: the logs are made once per epoch, not per batch."""
    model, x, y = small_problem()
    made = []
    logs = type(model)._logs
    monkeypatch.setattr(type(model), "_logs", lambda self, *a: made.append(1) or logs(self, *a))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0,
              callbacks=[C.EarlyStopping(monitor="loss")])
    assert len(made) == 3
    made.clear()
    model.fit(x, y, epochs=3, batch_size=8, verbose=0,
              callbacks=[C.LambdaCallback(on_batch_end=lambda batch, logs: None)])
    assert len(made) == 3 + 3 * 4


def test_progress_display_verbose_levels(capsys):
    model, x, y = small_problem()
    model.fit(x, y, epochs=3, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Epoch 1/3") and "loss: " in lines[0]
    model.fit(x, y, epochs=3, verbose=0)
    assert capsys.readouterr().out == ""


def test_progress_bar_on_a_terminal(monkeypatch):
    """verbose=1 on a terminal: a tqdm bar per epoch, redrawn in place, with the elapsed time
    and ETA ([elapsed<remaining]), the batch count, the loss, the metrics and, at the epoch's
    end, the validation values."""
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    model, x, y = small_problem()
    model.compile(mlplab.SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=1, validation_data=(x[:8], y[:8]))
    text = out.getvalue()
    assert "\r" in text                                     # the bar is redrawn in place
    drawn = [part for part in re.split(r"[\r\n]", text) if part.startswith("Epoch 1/2 ")]
    bar = next(part for part in drawn if "4/4 [" in part)   # epoch 1's bar, at its last batch
    assert bar.startswith("Epoch 1/2 100%|")
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d\]", bar)       # elapsed<ETA
    assert "loss=" in bar and "acc=" in bar
    lines = [line.split("\r")[-1] for line in text.split("\n")]
    final = [line for line in lines if re.match(r"Epoch \d/2 - \d+\.\ds - loss: ", line)]
    assert len(final) == 2                                  # one full line per epoch stays
    for key in ("loss: ", "accuracy: ", "val_loss: ", "val_accuracy: "):
        assert key in final[0], key


def test_keras_defaults_of_callbacks():
    """Constructor arguments and defaults as Keras 3's (keras/src/callbacks/*.py); mlplab
    leaves out only ModelCheckpoint's save_freq (it saves per epoch, Keras's default)."""
    def defaults(cls):
        return {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    empty = inspect.Parameter.empty
    assert defaults(C.EarlyStopping) == {
        "monitor": "val_loss", "min_delta": 0, "patience": 0, "verbose": 0, "mode": "auto",
        "baseline": None, "restore_best_weights": False, "start_from_epoch": 0}
    assert defaults(C.ReduceLROnPlateau) == {
        "monitor": "val_loss", "factor": 0.1, "patience": 10, "verbose": 0, "mode": "auto",
        "min_delta": 1e-4, "cooldown": 0, "min_lr": 0.0}
    assert defaults(C.ModelCheckpoint) == {
        "filepath": empty, "monitor": "val_loss", "verbose": 0, "save_best_only": False,
        "save_weights_only": False, "mode": "auto", "initial_value_threshold": None}
    assert defaults(C.CSVLogger) == {"filename": empty, "separator": ",", "append": False}
    assert defaults(C.LearningRateScheduler) == {"schedule": empty, "verbose": 0}
    assert defaults(C.TerminateOnNaN) == {}


@pytest.mark.parametrize("call, match", [
    (lambda: C.EarlyStopping(mode="best"), r"mode must be 'auto', 'min' or 'max'; received "
                                            r"'best'"),
    (lambda: C.EarlyStopping(patience=-1), r"patience must be a non-negative integer"),
    (lambda: C.ReduceLROnPlateau(factor=2.0), r"factor must be in \(0, 1\)"),
    (lambda: C.TimeLimit(0), r"seconds must be positive"),
    (lambda: C.MinWeightChange(0), r"min_delta must be positive"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_learning_rate_scheduler_keeps_the_schedules_own_type_error():
    """A bug inside a two-argument schedule shows as itself, not as a retry with one
    argument; one-argument schedules, callables and defaults-taking functions all work."""
    def buggy(epoch, lr):
        return lr * "0.5"  # TypeError inside the schedule

    model, x, y = small_problem()
    with pytest.raises(TypeError, match=r"can't multiply sequence|unsupported operand"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[C.LearningRateScheduler(buggy)])

    class Halving:
        def __call__(self, epoch, lr):
            return lr / 2

    for schedule, expected in ((lambda epoch: 0.1 / (epoch + 1), [0.1, 0.05, 0.1 / 3]),
                               (Halving(), [0.25, 0.125, 0.0625]),
                               (lambda epoch, lr=None, *_: 0.2, [0.2, 0.2, 0.2])):
        model, x, y = small_problem()
        h = model.fit(x, y, epochs=3, verbose=0, callbacks=[C.LearningRateScheduler(schedule)])
        np.testing.assert_allclose(h.history["learning_rate"], expected, rtol=1e-14)
