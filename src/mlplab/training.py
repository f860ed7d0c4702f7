"""The trainer: Keras's workflow (compile, fit, evaluate, predict) over a stack of layers.

``Trainer`` is a mixin (Keras's ``trainers/trainer.py``): ``Sequential`` (``mlplab.models``) is
the stack of layers and inherits it. One training step is the lectures' backpropagation in
matrix form, :meth:`Trainer.reference_step`:

    forward        Y_l = f(Y_{l-1} W_l + b_l), l = 1..L                 (the stack's forward)
    output delta   delta_L = slope (Y_L - D) / N  where the loss and f_L fuse (softmax + CE,
                   sigmoid + BCE: f'(Xi_L) cancels), else dE/dY_L from the loss
    backward       delta_l = f'(Xi_l) * (delta_{l+1} W_{l+1}^T)          (the stack's backward)
    update         w <- the optimizer's rule, per weight array

An accelerator (``mlplab.fast``, installed by ``mlplab/__init__.py`` with
:func:`set_accelerator`) may replace the forward and backward part of a step, planned once per
batch size, and the optimizer's per-array update; this module never imports it.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import math
import threading
import warnings

import numpy as np

from . import config_check
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from ._validation import all_finite, as_array, check_bool, check_choice, check_finite, \
    check_fits_dtype, check_fraction, check_metrics, check_positive_int, check_same_length, \
    check_verbose, check_x
from .callbacks import Callback, CallbackList, History, ProgbarLogger, format_logs
from .exceptions import ArgumentError, ArgumentTypeError, ConcurrentUseError, \
    DivergenceError
from .preprocessing import FULL_BATCH, BatchIterator, class_labels, train_test_split
from .preprocessing.batches import gather_rows

SPLIT_MODES = ("stratified", "random", "last")

#: The accelerator: an object with ``plan(model, n)`` (a step for batches of n, or None),
#: ``forward(model, x, checked)`` (Y_L, or None) and ``threads_for(model, n)`` (a context for
#: the trainer's own passes); None runs the reference path everywhere.
_accelerator = None


def _threads_for(model, n):
    """The accelerator's BLAS threads for a forward pass on n samples (the user's without one)."""
    return contextlib.nullcontext() if _accelerator is None else \
        _accelerator.threads_for(model, n)


def set_accelerator(accelerator) -> None:
    """Install the fast path (``mlplab.fast``), or None for the reference path alone."""
    global _accelerator
    _accelerator = accelerator


#: fit stops as diverged when an epoch's mean loss exceeds this many times the mean loss of
#: the first 256 samples with the weights fit starts from (still finite, e.g. SGD at
#: learning rate 1e6 on MNIST: 2.3 -> 3e6).
DIVERGENCE_FACTOR = 1e4
#: predict's and evaluate's batch when none is given: memory bounded by it, not by x.
DEFAULT_PREDICT_BATCH = 1024


def _exclusive(where: str):
    """Run the method holding the model's training lock; refuse, at once, a second
    training call on the same model from another thread (or from a callback)."""
    def decorate(method):
        @functools.wraps(method)
        def locked(self, *args, **kwargs):
            if not self._train_lock.acquire(blocking=False):
                raise ConcurrentUseError(
                    f"{where}: this model is being trained by another call (fit or "
                    f"train_on_batch, in another thread or from a callback); two training calls "
                    f"on one model would mix their updates. Wait for it to return, or train a "
                    f"copy (copy.deepcopy(model)). predict and evaluate are safe meanwhile.")
            try:
                return method(self, *args, **kwargs)
            finally:
                self._train_lock.release()
        return locked
    return decorate


class Trainer:
    """compile / fit / evaluate / predict / train_on_batch / compute_gradients.

    The class using it provides the stack: ``layers``, ``build``, ``built``, ``input_shape``,
    ``dtype``, ``compute_output_shape``, ``forward``, ``backward``, ``trainable_params``,
    ``trainable_grads``, ``regularization_penalty``, ``set_weights`` and the generators
    ``_shuffle_rng`` and ``_split_rng``.
    """

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.metrics: list = []
        self.compiled = False
        self.check_config = False
        self.stop_training = False
        self.stop_reason: str | None = None
        self.history: History | None = None
        self._metric_ids: list = []
        self._steps: dict = {}  # the accelerator's step by batch size (None: the reference)
        self._train_lock = threading.Lock()  # held by fit and train_on_batch

    # ------------------------------------------------------------------ compiling
    def compile(self, optimizer="sgd", loss=None, metrics=None, check_config=True) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Parameters
        ----------
        optimizer : str or Optimizer, default="sgd"
        loss : str, Loss or function
            E.g. ``"mse"``, ``"sse"``, ``"categorical_crossentropy"``, or a Python function
            ``fn(y_true, y_pred)`` of ``mlplab.autodiff`` Tensors.
        metrics : list of str or Metric, optional
            E.g. ``["accuracy"]``.
        check_config : bool, default=True
            Warn (``mlplab.ConfigWarning``) about likely mistakes, here and in ``fit``:
            see ``mlplab.config_check``.
        """
        where = "compile()"
        if loss is None:
            raise ArgumentError("compile(): loss is required, e.g. loss='mse' or "
                                "loss='categorical_crossentropy'.")
        # Everything is resolved and checked into locals first: a refused compile keeps the
        # optimizer (and its state), the loss, the metrics and the compiled flag as they were.
        optimizer = _optimizers.get(optimizer)
        loss = _losses.get(loss)
        metric_ids = [] if metrics is None else list(metrics if isinstance(metrics, (list, tuple))
                                                     else [metrics])
        resolved = self._metrics_for(metric_ids, loss, where)
        self.optimizer, self.loss, self._metric_ids = optimizer, loss, metric_ids
        self.metrics = resolved
        self._steps = {}
        self.compiled = True
        self.check_config = bool(check_config)
        if self.check_config:
            config_check.warn(config_check.check_model(self))

    def _resolve_metrics(self) -> None:
        """Resolve the compiled metrics again for the current output (after ``pop``)."""
        self.metrics = self._metrics_for(self._metric_ids, self.loss, None)

    def _metrics_for(self, metric_ids, loss, where, n_out=None) -> list:
        """The Metric objects for ``metric_ids``, checked against the loss and (when known)
        the output width; changes nothing."""
        if n_out is None and self.built:
            n_out = self.output_shape[-1]
        act = getattr(getattr(self.layers[-1], "activation", None), "name", None) \
            if self.layers else None
        for m in metric_ids:  # resolve names now so a typo fails at compile
            if isinstance(m, str) and m.lower() not in ("accuracy", "acc"):
                _metrics.REGISTRY.lookup(m)
        resolved = [_metrics.get(m, loss=loss, n_outputs=n_out, output_activation=act)
                    for m in metric_ids]
        if where is not None:
            check_metrics(resolved, loss, n_out, where)
        return resolved

    def get_compile_config(self) -> dict | None:
        """The compile arguments as configs (Keras's name), or None before ``compile``."""
        if not self.compiled:
            return None
        return {"optimizer": self.optimizer.get_config(), "loss": self.loss.get_config(),
                "metrics": [m if isinstance(m, str) else m.get_config()
                            for m in self._metric_ids]}

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"{what} called before compile(). Call "
                               f"model.compile(optimizer=..., loss=...) first.")

    # ------------------------------------------------------------------ one step
    def _fuses(self) -> bool:
        """True when the loss and the output activation give delta_L = slope (Y - D) / N."""
        last = self.layers[-1]
        act = getattr(last, "activation", None)
        return act is not None and self.loss.fuses_with(act) and \
            hasattr(last, "backward_from_delta")

    def per_sample_loss(self, Y, D) -> np.ndarray:
        """e_p for outputs Y of the last forward pass; from the logits Xi_L where the pair
        fuses (exact at extreme logits, where Y rounds to 0 or 1)."""
        if self._fuses():
            last = self.layers[-1]
            return self.loss.per_sample_from_logits(last.xi, D, last.activation)
        return self.loss.per_sample(Y, D)

    def reference_step(self, X, D):
        """One step of backpropagation (without the update); returns (e_p, Y_L)."""
        Y = self.forward(X, training=True)               # Y_l = f(Y_{l-1} W_l + b_l)
        if self._fuses():                                # f'(Xi_L) cancels in the pair:
            last = self.layers[-1]                       # delta_L = slope (Y - D) / N
            dY = last.backward_from_delta(self.loss.fused_delta(Y, D, last.activation))
            self.backward(dY, below=last)
        else:
            self.backward(self.loss.gradient(Y, D))      # from dE/dY_L
        return self.per_sample_loss(Y, D), Y             # delta_l = f'(Xi_l) (delta_{l+1} W^T)

    def _train_batch(self, X, D, source=None, rows=None):
        """One training step: the accelerator's plan for this batch size, or the reference
        step; then the optimizer's update. Returns (per-sample losses, outputs). With rows,
        X is a buffer still to be filled with ``source[rows]``: by a plan that gathers them
        itself (``plan.gathers``), else here.

        Layers with ``trainable = False`` keep their weights: the step runs as usual and
        their arrays are written back from a copy taken before it."""
        frozen = [p for layer in self.layers if not layer.trainable for p in layer.params]
        kept = [p.copy() for p in frozen]
        plan = self._steps.get(len(X), False)
        if plan is False or (plan is not None and not plan.current(self)):
            plan = self._steps[len(X)] = _accelerator and _accelerator.plan(self, len(X))
        if rows is not None and plan is not None and plan.gathers:
            e, Y = plan(X, D, source, rows)
        else:
            if rows is not None:
                gather_rows(source, rows, X)
            e, Y = self.reference_step(X, D) if plan is None else plan(X, D)
        self.optimizer.apply(self.trainable_params, self.trainable_grads,
                             update_step=plan and plan.update_step)
        for layer in self.layers:
            layer.apply_constraints()
        for p, k in zip(frozen, kept):
            p[...] = k
        return e, Y

    def _batch_loss(self, e) -> float:
        return float(e.sum(dtype=np.float64)) * self.loss.scale(len(e)) + \
            self.regularization_penalty()

    def loss_value(self, x, y) -> float:
        """E for (x, y) with the current weights (dropout as in training), the penalty
        included: the function whose gradient ``compute_gradients`` returns."""
        where = "loss_value()"
        self._require_compiled(where)
        self._require_built(where)
        X, D = self._prepare(x, y, where)
        return self._batch_loss(self.per_sample_loss(self.forward(X, training=True), D))

    def compute_gradients(self, x, y):
        """(loss, grads) for one batch without updating: grads in ``get_weights()`` order."""
        where = "compute_gradients()"
        self._require_compiled(where)
        X, D = self._prepare(x, y, where)
        if not self.built:
            self.build(X.shape[1:])
        e, _ = self.reference_step(X, D)
        return self._batch_loss(e), [g.copy() for g in self.trainable_grads]

    @_exclusive("train_on_batch()")
    def train_on_batch(self, x, y) -> float:
        """One update on one batch; returns the batch loss before the update.

        A step that gives a non-finite loss, outputs or weights is undone (weights and
        optimizer state as before the call) and raises DivergenceError."""
        where = "train_on_batch()"
        self._require_compiled(where)
        X, D = self._prepare(x, y, where)
        self.check_trainable(where)
        if not self.built:
            self.build(X.shape[1:])
        undo = self._undo_point()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            e, Y = self._train_batch(X, D)
            loss = self._batch_loss(e)
        if math.isfinite(loss) and _all_finite([Y]) and _all_finite(self.trainable_params):
            return loss
        self._undo(undo)
        raise DivergenceError(
            f"{where}: the step gave a loss of {loss} (outputs or weights not finite); the "
            f"weights and the optimizer's state were restored to those before the call. "
            f"{self._divergence_fix()}")

    def _snapshot(self, name: str) -> tuple:
        """(name, copies of the weights, the optimizer's state): what ``_restore`` puts back."""
        opt = self.optimizer
        return name, self.get_weights(), opt.get_state() if opt.built else opt.iterations

    def _restore(self, snapshot) -> None:
        _, weights, state = snapshot
        _copy_into(self.trainable_params, weights)
        if isinstance(state, dict):
            self.optimizer.set_state(state)
        else:  # not built then: the slots made since are dropped
            self.optimizer.iterations, self.optimizer.built = state, False

    def _undo_point(self) -> tuple:
        """The weights and the optimizer's slots copied into buffers kept from call to call
        (train_on_batch allocates nothing for it), and the optimizer's numbers."""
        opt = self.optimizer
        arrays = self.trainable_params + [a for v in opt.slots().values() for a in v] \
            if opt.built else self.trainable_params
        buffers = getattr(self, "_undo_buffers", [])
        if [(b.shape, b.dtype) for b in buffers] != [(a.shape, a.dtype) for a in arrays]:
            buffers = self._undo_buffers = [np.empty_like(a) for a in arrays]
        for b, a in zip(buffers, arrays):
            np.copyto(b, a)
        numbers = {k: v for k, v in vars(opt).items() if type(v) in (bool, int, float)}
        return arrays, buffers, numbers

    def _undo(self, point) -> None:
        arrays, buffers, numbers = point
        _copy_into(arrays, buffers)
        vars(self.optimizer).update(numbers)  # iterations, built (slots made since dropped)

    def _divergence_fix(self) -> str:
        return (f"Try a smaller learning_rate (now {self.optimizer.current_learning_rate:g}), "
                f"scale the inputs (e.g. StandardScaler, or x / 255 for pixels) or clip the "
                f"gradients (e.g. SGD(clipnorm=1.0)).")

    # ------------------------------------------------------------------ validation of data
    def _prepare(self, x, y, where: str):
        """Validate and convert (x, y) without changing the model; returns arrays."""
        x_arr = as_array(x, "x", where)
        input_shape = self.input_shape if self.input_shape is not None else (
            tuple(x_arr.shape[1:]) if x_arr.ndim >= 2 else None)
        X = check_x(x_arr, where, input_shape, self.dtype)
        if y is None:
            raise ArgumentError(f"{where}: y is required (the targets for x).")
        D = as_array(y, "y", where)
        check_same_length(X, D, where)
        check_finite(D, "y", where)  # only float arrays can hold NaN or infinity
        out_shape = self.compute_output_shape(X.shape[1:])
        D = self.loss.check_targets(D, out_shape[-1], where)
        if not self.loss.sparse_targets:
            check_fits_dtype(D, "y", where, self.dtype)
            D = np.asarray(D, dtype=self.dtype)
        return X, D

    def check_trainable(self, where: str) -> None:
        """Raise if a layer's activation has no usable derivative (step, sign)."""
        for layer in self.layers:
            act = getattr(layer, "activation", None)
            if act is not None and not act.differentiable:
                raise ArgumentError(
                    f"{where}: layer '{layer.name}' uses the '{act.name}' activation, whose "
                    f"derivative is zero almost everywhere, so gradient training would never "
                    f"change the weights. Use 'sigmoid' (for step) or 'tanh' (for sign) to "
                    f"train, or the classic rules in mlplab.neurons (Perceptron, Adaline)."
                )

    # ------------------------------------------------------------------ fit
    @_exclusive("fit()")
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto",
            callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle: bool = True, class_weight=None, sample_weight=None,
            initial_epoch: int = 0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq: int = 1, *,
            validation_split_mode: str = "stratified") -> History:
        """Train for ``epochs`` passes over (x, y); returns a History.

        Keras's signature and argument order (``fit(x, y, 32, 10)`` is batch_size=32,
        epochs=10); ``validation_split_mode`` is mlplab's own, keyword-only.

        Parameters
        ----------
        x : array (n_samples, ...)
        y : array
            Targets (n_samples, n_outputs); integer labels (n_samples,) for
            sparse_categorical_crossentropy.
        batch_size : int or "full", default=None (32)
            1 is online learning (an update after every sample), k is mini-batch, and
            ``"full"`` (``mlplab.FULL_BATCH``) is batch learning: one update per epoch.
        epochs : int, default=1
        verbose : {"auto", 0, 1, 2}, default="auto" (1)
            0 silent, 1 a progress bar per epoch (one line per epoch when the output is not a
            terminal), 2 one line per epoch.
        callbacks : list of Callback, optional
        validation_split : float in [0, 1), default=0.0
            Fraction of (x, y) held out for validation, drawn before training.
        validation_data : (x_val, y_val), optional
        shuffle : bool, default=True
            Present the samples in a new random order each epoch.
        class_weight, sample_weight : not supported (None); a value raises ValueError.
        initial_epoch : int, default=0
        steps_per_epoch : int, optional
            Batches per epoch (at most one pass over x); None: one full pass.
        validation_steps : int, optional
            Validation batches (of ``validation_batch_size``) per evaluation; None: all.
        validation_batch_size : int, optional
        validation_freq : int, default=1
            Validate after every ``validation_freq``-th epoch.
        validation_split_mode : {"stratified", "random", "last"}, default="stratified"
            "stratified" draws a shuffled split that keeps the class proportions when y holds
            class labels (falls back to "random" for regression targets); "last" takes the last
            rows, as Keras does (useless on data sorted by class).
        """
        where = "fit()"
        self._require_compiled(where)
        _refuse_weighting(where, class_weight=class_weight, sample_weight=sample_weight)
        epochs = check_positive_int(epochs, "epochs", where)
        check_positive_int(initial_epoch, "initial_epoch", where, allow_zero=True)
        if not (batch_size is None or isinstance(batch_size, str) and batch_size == FULL_BATCH):
            check_positive_int(batch_size, "batch_size", where + " (or 'full')")
        for name, value in (("steps_per_epoch", steps_per_epoch),
                            ("validation_steps", validation_steps),
                            ("validation_batch_size", validation_batch_size)):
            if value is not None:
                check_positive_int(value, name, where)
        check_positive_int(validation_freq, "validation_freq", where)
        check_fraction(validation_split, "validation_split", where)
        check_choice(validation_split_mode, "validation_split_mode", where, SPLIT_MODES)
        check_bool(shuffle, "shuffle", where)
        verbose = check_verbose(verbose, where, auto=1)
        X, D = self._prepare(x, y, where)
        self.check_trainable(where)
        if self.check_config:
            config_check.warn(config_check.check_data(self, X, D))
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ArgumentError(f"{where}: validation_data must be a tuple (x_val, y_val).")
            val = self._prepare(validation_data[0], validation_data[1], where + " validation_data")
        elif validation_split:
            X, D, val = self._split(X, D, validation_split, validation_split_mode, where)
        if val is not None and validation_steps is not None:
            rows = validation_steps * (validation_batch_size or 32)
            val = (val[0][:rows], val[1][:rows])
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ArgumentTypeError(f"{where}: callbacks must be Callback instances; received "
                                        f"{cb!r}.")
        n = len(X)
        # Shuffled batches are gathered into one reused buffer: no copy of x per epoch.
        batches = BatchIterator(X, D, batch_size=batch_size or 32, shuffle=shuffle,
                                seed=self._shuffle_rng)
        bs, steps = batches.batch_size, len(batches)
        if steps_per_epoch is not None:
            if steps_per_epoch > steps:
                raise ArgumentError(f"{where}: steps_per_epoch={steps_per_epoch} exceeds the "
                                    f"{steps} batches of {bs} that one pass over the {n} samples "
                                    f"gives; pass at most {steps}, or None for one full pass.")
            steps = steps_per_epoch
        metrics = self._metrics_for(self._metric_ids, self.loss, where,
                                    self.compute_output_shape(X.shape[1:])[-1])
        # -- all checks passed: from here on the model changes
        if not self.built or self.input_shape != tuple(X.shape[1:]):
            self.build(X.shape[1:])
        self.metrics = metrics
        self._steps = {}  # planned again: the accelerator may have been switched since
        self.history = History()
        progress = [ProgbarLogger(verbose)] if verbose else []  # silent: no batch hook to pay
        cb_list = CallbackList(callbacks + [self.history] + progress, self,
                               {"epochs": epochs, "steps": steps, "verbose": verbose,
                                "batch_size": bs, "samples": n})
        self.stop_training, self.stop_reason = False, None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._first_loss = float(np.mean(self._test_batch(
                X[:256], D[:256], self._fuses(), self.layers[-1])[1], dtype=np.float64))
        cb_list.on_train_begin({})
        initial_epoch = self._restore_training_state(batches, initial_epoch)
        first_loss = self._first_loss  # the divergence reference (a resumed run's own)
        logs = {}
        # Weights to fall back on if training diverges: the run's first and the two latest
        # epochs' first (one copy per epoch: nothing per step).
        snapshots = [self._snapshot("those at the start of the run")]
        metrics = [copy.deepcopy(m) for m in self.metrics]  # this run's (see _evaluate_arrays)
        for epoch in range(initial_epoch, epochs):
            cb_list.on_epoch_begin(epoch, {})
            if epoch > initial_epoch:  # keep the run's first and the previous epoch's first
                snapshots = snapshots[:1] + snapshots[1:][-1:] + [
                    self._snapshot(f"those at the start of epoch {epoch + 1}")]
            for m in metrics:
                m.reset()
            loss_sum = 0.0
            seen = 0
            batch_hooks = cb_list.wants_batch_logs
            # A non-finite loss ends the epoch below; NumPy's warnings about it would only
            # repeat that (set once per epoch: the context costs ~1 us, an online step ~50 us).
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for step, (xb, db, rows) in enumerate(batches._unfilled()):
                    if step == steps:
                        break
                    if batch_hooks:
                        cb_list.on_train_batch_begin(step, {})
                    e, Y = self._train_batch(xb, db, X, rows)
                    loss_sum += float(np.add.reduce(e, dtype=np.float64))
                    seen += len(xb)
                    if not math.isfinite(loss_sum):
                        break
                    for m in metrics:
                        m.update(Y, db)
                    if batch_hooks:
                        cb_list.on_train_batch_end(step, self._logs(loss_sum, seen, metrics))
                    if self.stop_training:
                        break
                logs = self._logs(loss_sum, seen, metrics)
                diverged = self._diverged(loss_sum / max(seen, 1), first_loss)
            _copy_state(metrics, self.metrics)
            if diverged:
                restored = self._restore_finite(snapshots, X)
                self.stop_training, self.stop_reason = True, diverged
                warnings.warn(
                    f"fit(): training diverged at epoch {epoch + 1} (loss {logs['loss']:.6g}"
                    f"{'' if diverged == 'nan' else f', {first_loss:.6g} with the first weights'}"
                    f"); training stopped and the weights were restored to {restored}. "
                    f"{self._divergence_fix()}", RuntimeWarning, stacklevel=3)
            elif val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*val, validation_batch_size, cb_list)
                for key, value in val_logs.items():
                    logs["val_" + key] = value
            cb_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                self.stop_reason = self.stop_reason or "callback"
                break
        cb_list.on_train_end(dict(logs))
        return self.history

    # ------------------------------------------------------------------ resuming
    def _training_state(self) -> dict:
        """The fit loop's state besides the weights, the optimizer and the generators: the
        order the shuffled batches are drawn from (each epoch reshuffles it in place), the
        stop flags and the divergence reference (the first loss). ``BackupAndRestore`` saves it after every epoch."""
        return {"order": self._fit_order.copy(), "stop_training": bool(self.stop_training),
                "stop_reason": self.stop_reason, "first_loss": self._first_loss}

    def _restore_training_state(self, batches, initial_epoch: int) -> int:
        """The epoch fit starts from: ``initial_epoch``, or the one a callback restored in
        on_train_begin (``BackupAndRestore`` sets ``_restored_fit``), whose loop state is
        set here."""
        self._fit_order = batches.order
        state = self.__dict__.pop("_restored_fit", None)
        if state is None:
            return initial_epoch
        batches.order[...] = state["order"]
        self.stop_training, self.stop_reason = state["stop_training"], state["stop_reason"]
        self._first_loss = state.get("first_loss", self._first_loss)
        return state["epoch"]

    def _set_history(self, saved: dict) -> None:
        """``self.history``: a History holding a model file's record of the last fit."""
        self.history = History()
        for key in ("history", "epoch", "stop_reason", "stopped_epoch"):
            setattr(self.history, key, saved.get(key))

    def _logs(self, loss_sum: float, seen: int, metrics) -> dict:
        logs = {"loss": loss_sum * self.loss.scale(seen) + self.regularization_penalty()}
        for m in metrics:
            logs[m.name] = m.result()
        return logs

    def _diverged(self, mean_loss: float, first_loss) -> str | None:
        """"nan" for a non-finite loss or weights, "diverged" for an epoch's mean
        per-sample loss above DIVERGENCE_FACTOR times ``first_loss``, else None."""
        if not math.isfinite(mean_loss) or not _all_finite(self.trainable_params):
            return "nan"
        if mean_loss > DIVERGENCE_FACTOR * max(first_loss, 1e-3):
            return "diverged"
        return None

    def _restore_finite(self, snapshots, X) -> str:
        """Restore the latest snapshot (weights and optimizer state) whose predictions on the
        training inputs are all finite (the run's first if none is); returns which, in words."""
        for snapshot in reversed(snapshots):
            self._restore(snapshot)
            if self._predictions_finite(X):
                return snapshot[0]
        return snapshots[0][0] + " (whose predictions are not all finite either)"

    def _predictions_finite(self, X) -> bool:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return all(_all_finite([self.forward(X[i:i + DEFAULT_PREDICT_BATCH])])
                       for i in range(0, len(X), DEFAULT_PREDICT_BATCH))

    def _split(self, X, D, fraction, mode, where):
        """(X_train, D_train, (X_val, D_val)): the rows keep their order in each part."""
        n = len(X)
        n_val = int(round(n * fraction))
        if n_val < 1 or n_val >= n:
            raise ArgumentError(f"{where}: validation_split={fraction} of {n} samples leaves "
                                f"{n_val} for validation and {n - n_val} for training; both must "
                                f"be at least 1.")
        val = np.zeros(n, dtype=bool)
        if mode == "last":
            val[n - n_val:] = True
        else:
            labels = class_labels(D) if mode == "stratified" else None
            if labels is not None:  # stratify only where every class can appear on both sides
                _, counts = np.unique(labels, return_counts=True)
                if counts.min() < 2 or min(n_val, n - n_val) < len(counts):
                    labels = None
            _, val_idx = train_test_split(np.arange(n), test_size=n_val, stratify=labels,
                                          seed=self._split_rng)
            val[val_idx] = True
        return X[~val], D[~val], (X[val], D[val])

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_arrays(self, X, D, batch_size=None, cb_list=None) -> dict:
        """Loss and metrics on (X, D), in batches; ``cb_list`` gets the on_test_* hooks.

        The metrics accumulate in this call's own copies (so evaluations in several threads
        do not mix), copied back to ``self.metrics`` at the end, as Keras leaves them."""
        total, count = 0.0, 0
        metrics = [copy.deepcopy(m) for m in self.metrics]
        for m in metrics:
            m.reset()
        if batch_size is None:  # 32 (Keras's) only for callbacks that watch test batches
            watched = cb_list is not None and cb_list.overrides("on_test_batch_begin",
                                                                 "on_test_batch_end")
            batch_size = 32 if watched else DEFAULT_PREDICT_BATCH
        if cb_list is not None:
            cb_list.on_test_begin({})
        fused, last = self._fuses(), self.layers[-1]
        for step, start in enumerate(range(0, len(X), batch_size)):
            xb, db = X[start:start + batch_size], D[start:start + batch_size]
            if cb_list is not None:
                cb_list.on_test_batch_begin(step, {})
            Y, e = self._test_batch(xb, db, fused, last)
            total += float(e.sum(dtype=np.float64))
            count += len(e)
            for m in metrics:
                m.update(Y, db)
            if cb_list is not None:
                cb_list.on_test_batch_end(step, self._logs(total, count, metrics))
        logs = self._logs(total, count, metrics)
        _copy_state(metrics, self.metrics)
        if cb_list is not None:
            cb_list.on_test_end(dict(logs))
        return logs

    def _test_batch(self, xb, db, fused, last):
        """(Y_L, e_p) on one batch without dropout; where the pair fuses, e_p comes from the
        logits, as in training. Its products take the accelerator's threads for the batch."""
        with _threads_for(self, len(xb)):
            if fused:
                xi = last.logits(self.forward(xb, training=False, below=last))
                return last.activation(xi), \
                    self.loss.per_sample_from_logits(xi, db, last.activation)
            Y = self.forward(xb, training=False)
            return Y, self.loss.per_sample(Y, db)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict: bool = False):
        """Loss (and metrics) on (x, y): a float without metrics, else [loss, *metrics]
        (a dict with ``return_dict=True``). Keras's signature.

        ``batch_size=None`` evaluates in chunks of 1024 (32 when callbacks are given, for
        their batch hooks): the values do not depend on it. ``verbose="auto"`` is silent
        (1 prints the logs in one line); ``steps`` limits the evaluation to that many batches.
        """
        where = "evaluate()"
        self._require_compiled(where)
        self._require_built(where)
        _refuse_weighting(where, sample_weight=sample_weight)
        verbose = check_verbose(verbose, where, auto=0)
        for name, value in (("batch_size", batch_size), ("steps", steps)):
            if value is not None:
                check_positive_int(value, name, where)
        X, D = self._prepare(x, y, where)
        cb_list = self._callback_list(callbacks, where, verbose)
        if batch_size is None and cb_list is None:
            batch_size = 1024
        if steps is not None:
            rows = steps * (batch_size or 32)
            X, D = X[:rows], D[:rows]
        logs = self._evaluate_arrays(X, D, batch_size, cb_list)
        if verbose:
            print(format_logs(logs))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def _callback_list(self, callbacks, where, verbose):
        """A CallbackList for evaluate/predict, or None without callbacks."""
        if not callbacks:
            return None
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ArgumentTypeError(f"{where}: callbacks must be Callback instances; received "
                                        f"{cb!r}.")
        return CallbackList(callbacks, self, {"verbose": verbose})

    def predict(self, x, batch_size=None, verbose="auto", steps=None,
                callbacks=None) -> np.ndarray:
        """The network's outputs Y_L for x (no dropout). Keras's signature; ``verbose`` is
        accepted and silent, ``steps`` limits the prediction to that many batches. An
        unbuilt model is built on x's sample shape, as in Keras."""
        if _accelerator is not None and type(x) is np.ndarray and batch_size is None and \
                steps is None and callbacks is None and isinstance(verbose, str) and \
                verbose == "auto" and self.built:
            # A few samples: the accelerator's one compiled call checks x's values itself;
            # what it declines (another dtype, NaN, an unknown layer) takes the checked path.
            Y = _accelerator.forward(self, x, checked=False)
            if Y is not None:
                return Y
        where = "predict()"
        check_verbose(verbose, where, auto=0)
        for name, value in (("batch_size", batch_size), ("steps", steps)):
            if value is not None:
                check_positive_int(value, name, where)
        if not self.built and self.layers:
            self.build(check_x(x, where, None, self.dtype, convert=False).shape[1:])
        self._require_built(where)
        cb_list = self._callback_list(callbacks, where, 0)
        # Converted batch by batch: memory bounded by the batch, beyond x and the outputs.
        X = check_x(x, where, self.input_shape, self.dtype, convert=False)
        if steps is not None:
            X = X[:steps * (batch_size or 32)]
        bs = batch_size or (32 if cb_list is not None else DEFAULT_PREDICT_BATCH)
        if cb_list is not None:
            cb_list.on_predict_begin({})
        out = None
        for step, start in enumerate(range(0, len(X), bs)):
            if cb_list is not None:
                cb_list.on_predict_batch_begin(step, {})
            Y = self._predict_batch(np.asarray(X[start:start + bs], dtype=self.dtype))
            if out is None:
                out = Y if len(Y) == len(X) else np.empty((len(X),) + Y.shape[1:], Y.dtype)
            if out is not Y:
                out[start:start + len(Y)] = Y
            if cb_list is not None:
                cb_list.on_predict_batch_end(step, {"outputs": Y})
        if cb_list is not None:
            cb_list.on_predict_end({})
        return out

    def _predict_batch(self, X):
        Y = None if _accelerator is None else _accelerator.forward(self, X, checked=True)
        return self.forward(X, training=False) if Y is None else Y

    def __call__(self, x):
        return self.predict(x)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_steps"] = {}  # they hold this model's arrays by address: a copy makes its own
        state.pop("_train_lock", None)  # a copy is trained on its own
        state.pop("_undo_buffers", None)  # scratch of train_on_batch
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._train_lock = threading.Lock()


def _all_finite(arrays) -> bool:
    """True when every value of every array is finite."""
    return all(all_finite(np.asarray(a)) for a in arrays)


def _copy_state(sources, targets) -> None:
    """Leave each metric object with the state of its per-call copy (as Keras leaves them)."""
    for source, target in zip(sources, targets):
        target.__dict__.update(vars(source))


def _copy_into(params, values) -> None:
    for p, v in zip(params, values):
        p[...] = v


def _refuse_weighting(where, **weights) -> None:
    """Keras's per-sample and per-class loss weights are not implemented: say so."""
    for name, value in weights.items():
        if value is not None:
            raise ArgumentError(
                f"{where}: {name} is not supported by mlplab (received {type(value).__name__}); "
                f"pass {name}=None. To weight classes, resample the training set (e.g. repeat "
                f"the rows of the rarer class).")
