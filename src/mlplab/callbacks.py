"""Callbacks: code that runs at the hooks of the training loop (Keras's names).

``fit`` calls, in order: on_train_begin, then per epoch on_epoch_begin, per batch
on_train_batch_begin / on_train_batch_end (aliases on_batch_begin / on_batch_end), then
on_epoch_end with the epoch's logs, and on_train_end. A callback stops training by setting
``self.model.stop_training = True`` (and may say why in ``self.model.stop_reason``).

A callback's ``state_attributes`` name what it carries from one epoch to the next (EarlyStopping's
``wait`` and ``best``...): ``BackupAndRestore`` saves them with the model after every epoch and
restores them when an interrupted fit starts again.
"""
from __future__ import annotations

import copy
import csv
import inspect
import math
import os
import sys
import time
import warnings

import numpy as np

from .exceptions import ArgumentError, ArgumentTypeError, ModelFileError


class Callback:
    """Base class; every hook does nothing.

    ``state_attributes`` (mlplab's own addition) lists the attributes that hold the callback's
    state between epochs; ``get_state()`` / ``set_state()`` read and write them, and
    ``BackupAndRestore`` keeps them in its backup. Their values must be numbers, strings,
    None, NumPy arrays, or lists and dicts of these.
    """

    state_attributes: tuple = ()

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def get_state(self) -> dict:
        """Copies of the ``state_attributes``."""
        return {name: copy.deepcopy(getattr(self, name, None)) for name in self.state_attributes}

    def set_state(self, state: dict) -> None:
        for name in self.state_attributes:
            if name in state:
                setattr(self, name, state[name])

    def set_model(self, model):
        self.model = model

    def set_params(self, params: dict):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras's older names for the training-batch hooks.
    def on_batch_begin(self, batch, logs=None):
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)


def _overrides(cb: Callback, hook: str) -> bool:
    """True when ``cb`` defines ``hook`` itself (in its class, or per instance as
    LambdaCallback does)."""
    return hook in vars(cb) or getattr(type(cb), hook, None) is not getattr(Callback, hook, None)


class CallbackList:
    """Calls a hook on every callback in order. Batch hooks go only to callbacks that define
    them, so a training step pays nothing for callbacks that only watch epochs."""

    def __init__(self, callbacks, model, params):
        callbacks = list(callbacks)
        # Backups run last: their on_epoch_end sees the History and every stop decision of
        # the epoch, their on_train_begin restores what the others have just reset.
        self.callbacks = [cb for cb in callbacks if not isinstance(cb, BackupAndRestore)] + \
            [cb for cb in callbacks if isinstance(cb, BackupAndRestore)]
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
            if isinstance(cb, BackupAndRestore):
                cb.peers = [other for other in self.callbacks
                            if not isinstance(other, (BackupAndRestore, ProgbarLogger))]
        self._batch_begin = [cb for cb in self.callbacks
                             if _overrides(cb, "on_train_batch_begin")
                             or _overrides(cb, "on_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks
                           if _overrides(cb, "on_train_batch_end")
                           or _overrides(cb, "on_batch_end")]

    @property
    def wants_batch_logs(self) -> bool:
        return bool(self._batch_begin or self._batch_end)

    def overrides(self, *hooks) -> bool:
        """True when some callback defines one of ``hooks`` itself."""
        return any(_overrides(cb, hook) for cb in self.callbacks for hook in hooks)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)

        return call

    def on_train_batch_begin(self, batch, logs=None):
        for cb in self._batch_begin:
            cb.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for cb in self._batch_end:
            cb.on_batch_end(batch, logs)


class History(Callback):
    """Records the logs of every epoch: ``history.history["loss"]``, ``["val_loss"]``, ...

    Also records why training stopped: ``stop_reason`` (e.g. ``"max_epochs"``,
    ``"early_stopping"``) and ``stopped_epoch`` (0-based index of the last epoch run).
    """

    state_attributes = ("history", "epoch")

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None
        self.stopped_epoch: int | None = None

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}
        self.stop_reason, self.stopped_epoch = None, None

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def on_train_end(self, logs=None):
        self.stopped_epoch = self.epoch[-1] if self.epoch else None
        self.stop_reason = getattr(self.model, "stop_reason", None) or "max_epochs"

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}"
                      for k, v in logs.items())


class ProgbarLogger(Callback):
    """The progress display of ``fit``.

    verbose=1: a bar per epoch (tqdm) with ETA, loss and metrics, redrawn in place when the
    output is a terminal; otherwise (logs, CI, a pipe) one line per epoch instead.
    verbose=2: one line per epoch. verbose=0: silent.
    """

    def __init__(self, verbose: int = 1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def on_train_begin(self, logs=None):
        out = self._out()
        self.use_bar = self.verbose == 1 and hasattr(out, "isatty") and out.isatty()
        self.epochs = self.params.get("epochs", 0)
        self.steps = self.params.get("steps", 0)

    #: Fixed parts kept short so that at 80 columns the bar keeps >= 10 characters with the
    #: loss and a metric beside it; no rate ("batch/s"), which says little here.
    BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]" \
        "{postfix}"
    SHORT_NAMES = {"accuracy": "acc", "loss": "loss"}

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self.bar = None
        if self.use_bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                            file=self._out(), leave=False, dynamic_ncols=True,
                            mininterval=0.1, bar_format=self.BAR_FORMAT)
            self._last_step = 0

    def _postfix(self, logs):
        return ", ".join(f"{self.SHORT_NAMES.get(k, k)}={v:.4f}" for k, v in logs.items()
                         if isinstance(v, float))

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is None:
            return
        self.bar.update(batch + 1 - self._last_step)
        self._last_step = batch + 1
        if logs and (batch % 16 == 0 or batch + 1 == self.steps):
            self.bar.set_postfix_str(self._postfix(logs), refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.t0
        if self.bar is not None:  # the bar goes; the epoch's full line stays (any width)
            self.bar.refresh()    # its final state, drawn at least once however fast
            self.bar.close()
        if self.verbose in (1, 2):
            print(f"Epoch {epoch + 1}/{self.epochs} - {elapsed:.1f}s - {format_logs(logs or {})}",
                  file=self._out(), flush=True)


def _stop(model, reason: str) -> None:
    """Ask ``fit`` to stop after this batch/epoch; the first rule to fire names the reason."""
    model.stop_training = True
    model.stop_reason = getattr(model, "stop_reason", None) or reason


def _auto_mode(monitor: str) -> str:
    higher = ("acc", "auc", "precision", "recall", "f1")
    return "max" if any(key in monitor for key in higher) else "min"


def _check_mode(mode, where):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{where}: mode must be 'auto', 'min' or 'max'; received {mode!r}.")


def _monitor_value(logs, monitor, owner):
    """The monitored value from the epoch logs, or None with a warning listing what exists."""
    logs = logs or {}
    if monitor not in logs:
        hint = " Pass validation_data or validation_split to fit() to get val_* values." \
            if monitor.startswith("val_") else ""
        warnings.warn(f"{owner}: the monitored quantity '{monitor}' is not in the logs; "
                      f"available: {', '.join(logs) or 'none'}.{hint}", UserWarning,
                      stacklevel=3)
        return None
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when the monitored quantity has stopped improving (Keras's rule and arguments).

    After each epoch from ``start_from_epoch`` on: an improvement is a value better than the
    best so far by more than ``min_delta``; after ``patience`` epochs without one, training
    stops (``stop_reason="early_stopping"``). With ``baseline``, the count of epochs without
    improvement is only reset by values that also beat the baseline.

    ``restore_best_weights=True`` sets the model to the weights of the best epoch when
    training ends, whether this callback stopped it or the epochs ran out (Keras restores
    only in the first case).

    Parameters
    ----------
    monitor : str, default="val_loss"
    min_delta : float >= 0, default=0.0
    patience : int >= 0, default=0
    verbose : int, default=0
    mode : {"auto", "min", "max"}, default="auto"
        "auto" maximizes accuracy-like quantities (acc, auc, precision, recall, f1), else
        minimizes.
    baseline : float, optional
    restore_best_weights : bool, default=False
    start_from_epoch : int >= 0, default=0
        Epochs to wait before monitoring (a warm-up).

    Attributes
    ----------
    best, best_epoch, stopped_epoch (0-based; 0 if it never stopped training), wait.
    """

    state_attributes = ("wait", "stopped_epoch", "best_epoch", "best", "best_weights")

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        where = f"EarlyStopping(monitor={monitor!r})"
        _check_mode(mode, where)
        if min_delta < 0:
            raise ValueError(f"{where}: min_delta must be >= 0; received {min_delta!r}.")
        if int(patience) != patience or patience < 0:
            raise ValueError(f"{where}: patience must be a non-negative integer; received "
                             f"{patience!r}.")
        self.monitor, self.min_delta, self.patience = monitor, float(min_delta), int(patience)
        self.verbose, self.baseline = verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.mode = _auto_mode(monitor) if mode == "auto" else mode

    def _better(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        current = _monitor_value(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            _stop(self.model, "early_stopping")
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping ({self.monitor} best "
                      f"{self.best:.4g} at epoch {self.best_epoch + 1}).")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            if self.verbose:
                print(f"Restored the weights of epoch {self.best_epoch + 1} "
                      f"({self.monitor}={self.best:.4g}).")


class TerminateOnNaN(Callback):
    """Stop as soon as a batch loss is NaN or infinite (``stop_reason="nan"``)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training.")
            _stop(self.model, "nan")


class TimeLimit(Callback):
    """Stop when training has run ``seconds`` of wall-clock time (``stop_reason="time_limit"``).

    Checked after every batch: the epoch in progress ends early and its logs cover the
    batches run.
    """

    _clock = staticmethod(time.perf_counter)  # replaceable in tests

    def __init__(self, seconds: float):
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"TimeLimit(seconds={seconds!r}): seconds must be positive.")
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        self.t0 = self._clock()

    def on_train_batch_end(self, batch, logs=None):
        if self._clock() - self.t0 >= self.seconds:
            _stop(self.model, "time_limit")


class LossThreshold(Callback):
    """Stop once the monitored loss falls below ``threshold`` (the lectures' E < E_min).

    Parameters
    ----------
    threshold : float
        E_min.
    monitor : str, default="loss"
        The training loss of the epoch; "val_loss" also works.
    """

    def __init__(self, threshold: float, monitor: str = "loss"):
        super().__init__()
        self.threshold, self.monitor = float(threshold), monitor

    def on_epoch_end(self, epoch, logs=None):
        current = _monitor_value(logs, self.monitor, "LossThreshold")
        if current is not None and current < self.threshold:
            _stop(self.model, "loss_threshold")


class MinWeightChange(Callback):
    """Stop when no weight moved by ``min_delta`` or more over an epoch (|delta w| < delta_min).

    delta w is the change of each weight between the start and the end of the epoch; the rule
    compares max |delta w| over all weights. The value is logged as ``max_weight_change``.
    """

    def __init__(self, min_delta: float):
        super().__init__()
        if not min_delta > 0:
            raise ValueError(f"MinWeightChange(min_delta={min_delta!r}): min_delta must be "
                             f"positive.")
        self.min_delta = float(min_delta)

    def on_epoch_begin(self, epoch, logs=None):
        self.before = self.model.get_weights()

    def on_epoch_end(self, epoch, logs=None):
        change = max(float(np.max(np.abs(w - b), initial=0.0))
                     for w, b in zip(self.model.trainable_params, self.before))
        if logs is not None:
            logs["max_weight_change"] = change
        if change < self.min_delta:
            _stop(self.model, "min_weight_change")


# ---------------------------------------------------------------------- learning rate
def _set_learning_rate(model, value, owner):
    opt = model.optimizer
    if callable(opt.learning_rate):
        raise TypeError(f"{owner}: the optimizer's learning_rate is a schedule "
                        f"({opt.learning_rate!r}); use either a per-update schedule or this "
                        f"callback, not both. Compile with a number, e.g. SGD(0.1).")
    if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{owner}: the learning rate must be a positive finite number; the "
                         f"schedule returned {value!r}.")
    opt.learning_rate = float(value)


def _accepts_two_arguments(fn):
    """True if ``fn(epoch, lr)`` is a valid call, False if only ``fn(epoch)``, None if the
    signature cannot be read."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(0, 0.1)
        return True
    except TypeError:
        return False


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch: lr = schedule(epoch, lr).

    ``schedule`` takes the 0-based epoch and the current rate (or the epoch alone) and
    returns the new rate; e.g. lr * decay^epoch is
    ``LearningRateScheduler(lambda epoch: 0.1 * 0.9 ** epoch)``. The rate used is logged as
    ``learning_rate``.
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler(schedule={schedule!r}): schedule must be a "
                            f"function epoch -> learning rate.")
        self.schedule, self.verbose = schedule, verbose

    def on_train_begin(self, logs=None):
        self._takes_lr = _accepts_two_arguments(self.schedule)

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.model.optimizer.current_learning_rate
        if self._takes_lr is None:  # signature unknown (some builtins): try both forms
            try:
                value = self.schedule(epoch, lr)
            except TypeError:
                value = self.schedule(epoch)
        else:  # decided from the signature: a TypeError inside the schedule stays visible
            value = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        _set_learning_rate(self.model, value, "LearningRateScheduler")
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {value}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.current_learning_rate


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when the monitored quantity stops improving.

    Keras's rule: an epoch improves if its value beats the best by more than ``min_delta``;
    after ``patience`` epochs without improvement lr <- max(lr * factor, min_lr), then
    ``cooldown`` epochs pass before counting again. The rate is logged as ``learning_rate``.

    Parameters
    ----------
    monitor : default="val_loss"
    factor : float in (0, 1), default=0.1
    patience : int, default=10
    verbose : default=0
    mode : {"auto", "min", "max"}, default="auto"
    min_delta : default=1e-4
    cooldown : int, default=0
    min_lr : default=0.0
    """

    state_attributes = ("best", "wait", "cooldown_counter")

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        where = f"ReduceLROnPlateau(factor={factor!r})"
        if not 0 < factor < 1:
            raise ValueError(f"{where}: factor must be in (0, 1) to reduce the rate; received "
                             f"{factor!r}.")
        _check_mode(mode, where)
        self.monitor, self.factor, self.patience = monitor, float(factor), int(patience)
        self.verbose, self.min_delta, self.cooldown = verbose, float(min_delta), int(cooldown)
        self.min_lr = float(min_lr)
        self.mode = _auto_mode(monitor) if mode == "auto" else mode

    def _better(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        lr = self.model.optimizer.current_learning_rate
        if logs is not None:
            logs["learning_rate"] = lr
        current = _monitor_value(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new = max(lr * self.factor, self.min_lr)
                _set_learning_rate(self.model, new, "ReduceLROnPlateau")
                self.cooldown_counter, self.wait = self.cooldown, 0
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{new:g}.")


# ---------------------------------------------------------------------- logging, saving
class CSVLogger(Callback):
    """Write one CSV row per epoch (epoch, then the logs' keys) to ``filename``.

    Parameters
    ----------
    filename : str or path
    separator : str, default=","
    append : bool, default=False
        Append to an existing file (no second header) instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer, self.keys, self.header_written = None, None, exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = list(logs)
            self.writer = csv.writer(self.file, delimiter=self.sep)
            if not self.header_written:
                self.writer.writerow(["epoch"] + self.keys)
        self.writer.writerow([epoch] + [logs.get(k, "") for k in self.keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        self.file.close()


class ModelCheckpoint(Callback):
    """Save the model (``mlplab.saving``, one file written atomically) after epochs.

    ``filepath`` may hold format fields filled from the epoch (1-based) and the logs, e.g.
    ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``.

    Parameters
    ----------
    filepath : str or path
    monitor : str, default="val_loss"
    verbose : int, default=0
    save_best_only : bool, default=False
        Save only when the monitored value improves on the best so far.
    save_weights_only : bool, default=False
        Save the weights only (``model.load_weights`` reads them).
    mode : {"auto", "min", "max"}, default="auto"
    initial_value_threshold : float, optional
        With save_best_only, the value to beat before the first save.

    The folder of ``filepath`` is checked when training begins (not after the first epoch).
    """

    state_attributes = ("best",)

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", initial_value_threshold=None):
        super().__init__()
        _check_mode(mode, f"ModelCheckpoint(mode={mode!r})")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _auto_mode(monitor) if mode == "auto" else mode
        self.initial_value_threshold = initial_value_threshold
        self.best = None if initial_value_threshold is None else float(initial_value_threshold)

    def on_train_begin(self, logs=None):
        from .saving import remove_stale_temporaries

        folder = os.path.dirname(os.path.abspath(self.filepath))
        if "{" in folder:
            return  # the folder itself depends on the epoch or the logs
        if "{" not in self.filepath:  # what an interrupted save of this file left
            remove_stale_temporaries(self.filepath)
        where = f"ModelCheckpoint(filepath={self.filepath!r})"
        if not os.path.isdir(folder):
            raise ArgumentError(f"{where}: the folder {folder!r} does not exist; create it "
                                f"first (os.makedirs) or choose another filepath.")
        if not os.access(folder, os.W_OK):
            raise ArgumentError(f"{where}: the folder {folder!r} is not writable; choose "
                                f"another filepath.")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = _monitor_value(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            better = self.best is None or (current < self.best if self.mode == "min"
                                           else current > self.best)
            if not better:
                return
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved model to {path}.")


class LambdaCallback(Callback):
    """A callback from plain functions, e.g.
    ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``.

    Accepts on_epoch_begin/on_epoch_end(epoch, logs), on_train_batch_begin/on_train_batch_end
    (and on_batch_begin/on_batch_end) (batch, logs), on_train_begin/on_train_end(logs).
    """

    HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
             "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in self.HOOKS:
                raise TypeError(f"LambdaCallback(): unknown hook '{name}'. Available: "
                                f"{', '.join(self.HOOKS)}.")
            if name in ("on_batch_begin", "on_batch_end"):
                name = name.replace("on_", "on_train_")
            setattr(self, name, self._wrap(name, fn))

    @staticmethod
    def _wrap(name, fn):
        # fit calls some hooks without logs; the functions always receive them (None then).
        if name in ("on_train_begin", "on_train_end"):
            return lambda logs=None: fn(logs)
        return lambda index, logs=None: fn(index, logs)


class BackupAndRestore(Callback):
    """Back up the whole training state after every epoch; continue from the backup when an
    interrupted ``fit`` is run again (Keras's callback, its arguments and file life cycle).

    At ``on_train_begin``, if ``backup_dir`` holds a backup, the model gets its weights, its
    optimizer state (slots, step count, learning rate), every random generator's state
    (shuffling, dropout, validation split), the order of the shuffled samples, the History,
    the other callbacks' ``state_attributes`` (EarlyStopping, ReduceLROnPlateau,
    ModelCheckpoint ...) and the epoch to continue from. So a run killed at any moment (even
    with ``kill -9``, even while a backup is being written) and started again with the same
    script ends with the same weights and History, bit for bit, as the run never interrupted.
    At each epoch end the state is written to ``backup_dir/latest.npz`` (one file, written
    atomically: see ``mlplab.saving``). When training completes, the backup is deleted
    (``delete_checkpoint``).

    Parameters
    ----------
    backup_dir : str or path
        The folder for the backup (created if needed). Use one folder per training run.
    save_freq : "epoch", default="epoch"
        Only "epoch": mlplab refuses Keras's integer (every N batches), which would restart
        the interrupted epoch with the weights of its middle and so not resume exactly.
    double_checkpoint : bool, default=False
        Keep the previous backup as ``latest.npz.bkp`` too, and fall back to it when the
        latest one cannot be read.
    delete_checkpoint : bool, default=True
        Delete the backup (and ``backup_dir`` if it is then empty) when ``fit`` completes.

    The fit must be the same as the one that wrote the backup (model, data, callbacks); a
    backup from another model or another list of callbacks raises ``ModelFileError``.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        where = f"BackupAndRestore(backup_dir={backup_dir!r})"
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ArgumentTypeError(f"{where}: backup_dir must be a folder path (str or "
                                    f"pathlib.Path); received {type(backup_dir).__name__}.")
        if save_freq != "epoch":
            raise ArgumentError(
                f"{where}: save_freq must be 'epoch'; received {save_freq!r}. mlplab backs up "
                f"at epoch ends only, so that a resumed run is bit-identical to an "
                f"uninterrupted one (Keras's save_freq=N restarts the interrupted epoch from "
                f"the weights of its middle). Use shorter epochs (steps_per_epoch) for more "
                f"frequent backups.")
        for name, value in (("double_checkpoint", double_checkpoint),
                            ("delete_checkpoint", delete_checkpoint)):
            if not isinstance(value, bool):
                raise ArgumentTypeError(f"{where}: {name} must be True or False; received "
                                        f"{value!r}.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint, self.delete_checkpoint = double_checkpoint, delete_checkpoint
        self.path = os.path.join(self.backup_dir, "latest.npz")
        self.previous_path = self.path + ".bkp"
        self.peers: list = []

    # -- restoring ---------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        from . import saving

        for path in (self.path, self.previous_path):
            saving.remove_stale_temporaries(path)
        candidates = [self.path] + ([self.previous_path] if self.double_checkpoint else [])
        candidates = [p for p in candidates if os.path.exists(p)]
        for i, path in enumerate(candidates):
            try:
                self._restore(path)
                return
            except ModelFileError:
                if i == len(candidates) - 1:
                    raise

    def _restore(self, path):
        from . import saving

        where = "BackupAndRestore"
        config, arrays = saving.read_checked(path, where)
        saving.checked(path, where, lambda: self._apply(config, arrays, path))

    def _apply(self, config, arrays, path):
        from .saving import _Bad, optimizer_state, unpack

        model = self.model
        training = config.get("training")
        if not isinstance(training, dict):
            raise _Bad("it holds no training state (a model.save() file, not a backup)")
        training = unpack(training, arrays)
        n = sum(1 for k in arrays if k.startswith("weight_"))
        weights = [arrays[f"weight_{i}"] for i in range(n)]
        if [w.shape for w in weights] != [p.shape for p in model.trainable_params]:
            raise _Bad(f"it was written by another model (weights of shapes "
                       f"{[w.shape for w in weights]}; this model's are "
                       f"{[p.shape for p in model.trainable_params]})")
        names = [type(cb).__name__ for cb in self.peers]
        saved = training["callbacks"]
        if [name for name, _ in saved] != names:
            raise _Bad(f"it was written by a fit with the callbacks "
                       f"{[name for name, _ in saved]}; this fit has {names}. Use another "
                       f"backup_dir, or delete {self.backup_dir!r} to start over")
        order, samples = np.asarray(training["order"]), self.params.get("samples")
        if order.shape != (samples,) or not np.array_equal(np.sort(order), np.arange(samples)):
            raise _Bad(f"it was written for a training set of {order.size} samples; this fit "
                       f"has {samples}")
        compiled = config.get("compile") or {}
        if compiled.get("optimizer", {}).get("name") != model.optimizer.get_config()["name"]:
            raise _Bad(f"it was written with the optimizer "
                       f"{compiled.get('optimizer', {}).get('name')!r}; this model has "
                       f"{model.optimizer.get_config()['name']!r}")
        # -- all checked: from here on the model changes
        model.set_weights(weights)
        if config.get("optimizer_state") is not None:
            model.optimizer.set_state(optimizer_state(config["optimizer_state"], arrays),
                                      model.trainable_params)
        lr = compiled["optimizer"].get("learning_rate")
        if isinstance(lr, (int, float)) and not isinstance(lr, bool) and \
                not callable(model.optimizer.learning_rate):
            model.optimizer.learning_rate = lr  # e.g. lowered by ReduceLROnPlateau
        model.set_rng_state(config.get("rng", {}))
        for cb, (_, state) in zip(self.peers, saved):
            cb.set_state(state)
        stopped = bool(training["stop_training"])
        model._restored_fit = {
            "order": order, "stop_training": stopped, "stop_reason": training["stop_reason"],
            "first_loss": float(training.get("first_loss", model._first_loss)),
            "epoch": int(self.params.get("epochs", training["epoch"])) if stopped
            else int(training["epoch"])}
        if self.params.get("verbose"):
            print(f"BackupAndRestore: continuing after epoch {training['epoch']} from {path}.")

    # -- backing up --------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        from . import saving

        os.makedirs(self.backup_dir, exist_ok=True)
        state = self.model._training_state()
        if state["stop_training"]:
            state["stop_reason"] = state["stop_reason"] or "callback"
        state["epoch"] = epoch + 1
        state["callbacks"] = [[type(cb).__name__, cb.get_state()] for cb in self.peers]
        if self.double_checkpoint and os.path.exists(self.path):
            os.replace(self.path, self.previous_path)
        saving.save_model(self.model, self.path, training=state)

    def on_train_end(self, logs=None):
        from . import saving

        if not self.delete_checkpoint:
            return
        for path in (self.path, self.previous_path):
            saving.remove_stale_temporaries(path)
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only if empty: the folder may hold the user's files
        except OSError:
            pass
