"""Callbacks: code that runs at the hooks of the training loop (Keras's names).

``fit`` calls, in order: on_train_begin, then per epoch on_epoch_begin, per batch
on_train_batch_begin / on_train_batch_end (aliases on_batch_begin / on_batch_end), then
on_epoch_end with the epoch's logs, and on_train_end. A callback stops training by setting
``self.model.stop_training = True`` (and may say why in ``self.model.stop_reason``).
"""
from __future__ import annotations

import sys
import time

import numpy as np


class Callback:
    """Base class; every hook does nothing."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

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

    # Keras's older names for the training-batch hooks.
    def on_batch_begin(self, batch, logs=None):
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)


def _overrides(cb: Callback, hook: str) -> bool:
    return getattr(type(cb), hook, None) is not getattr(Callback, hook, None)


class CallbackList:
    """Calls a hook on every callback in order. Batch hooks go only to callbacks that define
    them, so a training step pays nothing for callbacks that only watch epochs."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self._batch_begin = [cb for cb in self.callbacks
                             if _overrides(cb, "on_train_batch_begin")
                             or _overrides(cb, "on_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks
                           if _overrides(cb, "on_train_batch_end") or _overrides(cb, "on_batch_end")]

    @property
    def wants_batch_logs(self) -> bool:
        return bool(self._batch_begin or self._batch_end)

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

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self.bar = None
        if self.use_bar:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                            unit="batch", file=self._out(), leave=True, dynamic_ncols=True,
                            mininterval=0.1)
            self._last_step = 0

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is None:
            return
        self.bar.update(batch + 1 - self._last_step)
        self._last_step = batch + 1
        if logs and (batch % 16 == 0 or batch + 1 == self.steps):
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.t0
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in (logs or {}).items()}, refresh=False)
            self.bar.close()
            return
        if self.verbose in (1, 2):
            print(f"Epoch {epoch + 1}/{self.epochs} - {elapsed:.1f}s - {format_logs(logs or {})}",
                  file=self._out(), flush=True)


def _finite(value) -> bool:
    return value is None or bool(np.isfinite(value))
