"""Sequential: a stack of layers with Keras's workflow (compile, fit, evaluate, predict).

Training one batch is the lectures' backpropagation, written out in ``train_on_batch``:
forward through the layers, dE/dY_L from the loss (or the fused output delta Y - D), backward
through the layers in reverse, then one optimizer step per weight array.
"""
from __future__ import annotations

import copy
import math
import numbers

import warnings
from typing import NamedTuple

import numpy as np

from . import _compiled_step, _kernels, activations
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from ._validation import as_array, check_finite, check_fits_dtype, check_fraction, \
    check_positive_int, check_same_length, check_x
from .callbacks import Callback, CallbackList, History, ProgbarLogger
from .layers import Dense, Input, Layer
from .layers import deserialize as _deserialize_layer
from .preprocessing import BatchIterator
from .layers import serialize as _serialize_layer

from .preprocessing import FULL_BATCH  # fit(batch_size="full"): one update per epoch
SPLIT_MODES = ("stratified", "random", "last")


class Sequential:
    """A linear stack of layers.

    Parameters
    ----------
    layers : list of Layer, optional
        May start with ``Input(shape)`` to fix the input shape and build the model at once.
    seed : int, optional
        Fixes weight initialization, shuffling, dropout masks and the validation split: the same
        seed gives the same weights, bit for bit, on the same machine.
    dtype : {"float32", "float64"}, default="float32"
        float64 is for gradient checking and teaching.

    Examples
    --------
    >>> from mlplab import Sequential
    >>> from mlplab.layers import Input, Dense
    >>> model = Sequential([Input((2,)), Dense(10, activation="sigmoid"),
    ...                     Dense(1, activation="sigmoid")], seed=0)
    >>> model.count_params()
    41
    """

    def __init__(self, layers=None, seed: int | None = None, dtype="float32",
                 name: str = "sequential"):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"Sequential(dtype={dtype!r}): dtype must be 'float32' or "
                             f"'float64'.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ValueError(f"Sequential(seed={seed!r}): seed must be a non-negative integer "
                             f"or None.")
        self.seed = seed
        self.name = name
        self.layers: list[Layer] = []
        self.input_shape: tuple | None = None
        self.built = False
        self.optimizer = None
        self.loss = None
        self.metrics: list = []
        self.compiled = False
        self.stop_training = False
        self.stop_reason: str | None = None
        self.history: History | None = None
        self._steps: dict = {}  # compiled training steps by batch size (_compiled_step)
        seeds = np.random.SeedSequence(seed).spawn(3)
        self._init_rng, self._shuffle_rng, self._split_rng = (np.random.default_rng(s)
                                                              for s in seeds)
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ building
    def add(self, layer) -> None:
        """Append a layer (or an ``Input`` to declare the input shape)."""
        if isinstance(layer, Input):
            if self.layers:
                raise ValueError("Sequential.add(Input(...)): an Input must come first.")
            self.input_shape = layer.shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add(): expected a Layer such as Dense(...); received "
                            f"{layer!r} of type {type(layer).__name__}.")
        if not self.layers and self.input_shape is None and layer.declared_input_shape:
            self.input_shape = layer.declared_input_shape
        self.layers.append(layer)
        self.built = False
        if self.input_shape is not None:
            self.build(self.input_shape)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def build(self, input_shape) -> None:
        """Create every layer's weights for samples of shape ``input_shape``."""
        if not self.layers:
            raise ValueError("The model has no layers; add some with model.add(Dense(...)).")
        shape = tuple(int(s) for s in input_shape)
        self.compute_output_shape(shape)  # raises on an impossible stack before any change
        self.input_shape = shape
        first_trainable = True
        for layer in self.layers:
            if not layer.built or layer.input_shape != shape:
                layer.build(shape, self._init_rng, self.dtype)
            layer.need_input_grad = not first_trainable
            if layer.params:
                first_trainable = False
            shape = layer.output_shape
        self.output_shape = shape
        self.built = True
        self._steps = {}

    @property
    def trainable_params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params]

    @property
    def trainable_grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer (Keras's ``Sequential.pop``)."""
        if not self.layers:
            raise TypeError("Sequential.pop(): there are no layers in the model.")
        layer = self.layers.pop()
        self._steps = {}
        if not self.layers:
            self.built = False
        elif rebuild and self.input_shape is not None:
            self.build(self.input_shape)
        if self.compiled and self.layers and self.built:
            self._resolve_metrics()
        return layer

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` (Keras's ``get_layer``)."""
        if name is not None and index is not None:
            raise ValueError(f"get_layer(): provide only a layer name or a layer index; "
                             f"received index={index}, name={name!r}.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer(index={index}): the model has only "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            import difflib

            names = [layer.name for layer in self.layers]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"get_layer(name={name!r}): no such layer. Existing layers are: "
                             f"{names}.{hint}")
        raise ValueError("get_layer(): provide either a layer name or a layer index.")

    @property
    def trainable(self) -> bool:
        """False when every layer is frozen; setting it sets every layer's ``trainable``."""
        return any(layer.trainable for layer in self.layers) or not self.layers

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self.layers:
            layer.trainable = bool(value)

    @property
    def weights(self) -> list[np.ndarray]:
        """Every weight array (the live arrays, in ``get_weights()`` order)."""
        self._require_built("weights")
        return [p for layer in self.layers for p in layer.params]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        self._require_built("trainable_weights")
        return [p for layer in self.layers for p in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        self._require_built("non_trainable_weights")
        return [p for layer in self.layers for p in layer.non_trainable_weights]

    @property
    def inputs(self) -> list[TensorSpec]:
        """[the input's shape and dtype] (Keras gives symbolic tensors; here descriptions)."""
        self._require_built("inputs")
        return [TensorSpec((None,) + tuple(self.input_shape), self.dtype.name, "input")]

    @property
    def outputs(self) -> list[TensorSpec]:
        self._require_built("outputs")
        return [TensorSpec((None,) + tuple(self.output_shape), self.dtype.name,
                           self.layers[-1].name)]

    @property
    def input(self) -> TensorSpec:
        return self.inputs[0]

    @property
    def output(self) -> TensorSpec:
        return self.outputs[0]

    def count_params(self) -> int:
        self._require_built("count_params()")
        return sum(layer.count_params() for layer in self.layers)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of [W1, b1, W2, b2, ...], each W of shape (inputs, units)."""
        self._require_built("get_weights()")
        return [p.copy() for p in self.trainable_params]

    def set_weights(self, weights) -> None:
        """Set every weight from a list shaped as ``get_weights()`` returns."""
        self._require_built("set_weights()")
        params = self.trainable_params
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f"set_weights(): expected a list of {len(params)} arrays "
                             f"[W1, b1, ...]; received {len(weights)}.")
        new = []
        for i, (p, w) in enumerate(zip(params, weights)):
            w = as_array(w, f"weights[{i}]", "set_weights()")
            if w.shape != p.shape:
                raise ValueError(f"set_weights(): weights[{i}] must have shape {p.shape}; "
                                 f"received {w.shape}.")
            check_finite(w.astype(np.float64), f"weights[{i}]", "set_weights()")
            check_fits_dtype(w, f"weights[{i}]", "set_weights()", p.dtype)
            new.append(w)
        for p, w in zip(params, new):
            p[...] = w

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        """Print Keras's table: layer (type), output shape, parameter count (and with
        ``show_trainable=True`` a Trainable column), then the total, trainable and
        non-trainable parameter counts with their size in memory."""
        from tabulate import tabulate

        self._require_built("summary()")
        layers = self.layers
        if layer_range is not None:
            names = [layer.name for layer in layers]
            first, last = (names.index(self.get_layer(n).name) for n in layer_range)
            layers = layers[first:last + 1]
        headers = ["Layer (type)", "Output Shape", "Param #"] + \
            (["Trainable"] if show_trainable else [])
        rows = [[f"{layer.name} ({type(layer).__name__})", str((None,) + layer.output_shape),
                 f"{layer.count_params():,}"] + (["Y" if layer.trainable else "N"]
                                                  if show_trainable else [])
                for layer in layers]
        table = tabulate(rows, headers=headers, tablefmt="simple")
        sizes = {}
        for key, arrays in (("total", self.weights), ("trainable", self.trainable_weights),
                            ("non", self.non_trainable_weights)):
            sizes[key] = (sum(a.size for a in arrays), sum(a.nbytes for a in arrays))
        lines = [f'Model: "{self.name}"', table]
        for label, key in (("Total", "total"), ("Trainable", "trainable"),
                           ("Non-trainable", "non")):
            count, nbytes = sizes[key]
            lines.append(f"{label} params: {count:,} ({_readable_size(nbytes)})")
        (print_fn or print)("\n".join(lines))

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(f"{what}: the model is not built yet. Start it with Input(shape), "
                             f"call model.build(input_shape), or fit it first.")

    # ------------------------------------------------------------------ compiling
    def compile(self, optimizer="sgd", loss=None, metrics=None, check_config=True) -> None:
        """Choose the optimizer, the loss and the metrics to report.

        Parameters
        ----------
        optimizer : str or Optimizer, default="sgd"
        loss : str or Loss
            E.g. ``"mse"``, ``"sse"``, ``"categorical_crossentropy"``.
        metrics : list of str or Metric, optional
            E.g. ``["accuracy"]``.
        check_config : bool, default=True
            Warn (``mlplab.ConfigWarning``) about likely mistakes, here and in ``fit``:
            see ``mlplab.config_check``.
        """
        if loss is None:
            raise ValueError("compile(): loss is required, e.g. loss='mse' or "
                             "loss='categorical_crossentropy'.")
        optimizer = _optimizers.get(optimizer)
        loss = _losses.get(loss)
        metric_ids = [] if metrics is None else list(metrics if isinstance(metrics, (list, tuple))
                                                     else [metrics])
        for m in metric_ids:  # resolve names now so a typo fails at compile
            if isinstance(m, str) and m.lower() not in ("accuracy", "acc"):
                _metrics.REGISTRY.lookup(m)
        self.optimizer, self.loss, self._metric_ids = optimizer, loss, metric_ids
        self._steps = {}
        self.compiled = True
        self._resolve_metrics()
        self.check_config = bool(check_config)
        if self.check_config:
            from . import config_check

            config_check.warn(config_check.check_model(self))

    def _resolve_metrics(self) -> None:
        n_out = self.output_shape[-1] if self.built else None
        act = getattr(self._output_activation, "name", None) if self.layers else None
        self.metrics = [_metrics.get(m, loss=self.loss, n_outputs=n_out, output_activation=act)
                        for m in self._metric_ids]

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"{what} called before compile(). Call "
                               f"model.compile(optimizer=..., loss=...) first.")

    # ------------------------------------------------------------------ forward / backward
    def _forward(self, X, training=False):
        for layer in self.layers:
            X = layer.forward(X, training=training)
        return X

    @property
    def _output_activation(self):
        return getattr(self.layers[-1], "activation", None)

    def _fused(self) -> bool:
        act = self._output_activation
        return act is not None and self.loss.fuses_with(act) and hasattr(self.layers[-1], "xi")

    def _per_sample_loss(self, Y, D, xi=None):
        act = self._output_activation
        if xi is not None and act is not None and self.loss.fuses_with(act):
            return self.loss.per_sample_from_logits(xi, D, act)
        return self.loss.per_sample(Y, D)

    def _backward(self, Y, D, sgd_rate=None) -> None:
        """Backpropagation: delta_L at the output, then delta_l = f'(Xi_l) * (delta_{l+1} W^T).

        ``sgd_rate``: plain SGD's step is done inside each Dense's backward (see
        ``_fused_sgd_rate``)."""
        act = self._output_activation
        last = self.layers[-1]
        fused = () if sgd_rate is None else (sgd_rate,)
        if act is not None and self.loss.fuses_with(act) and hasattr(last, "backward_from_delta"):
            dY = last.backward_from_delta(self.loss.fused_delta(Y, D, act), *fused)
            rest = self.layers[-2::-1]
        else:
            dY = self.loss.gradient(Y, D)
            rest = self.layers[::-1]
        for layer in rest:
            if dY is None:
                break
            dY = layer.backward(dY, *fused) if layer.params else layer.backward(dY)

    def _fused_sgd_rate(self):
        """alpha when the step is plain SGD (w <- w - alpha g, no momentum, clipping or weight
        penalty) on Dense layers only: then each layer applies it in the same matrix product
        that computes its gradient (``Dense.backward_from_delta``), and the separate pass of
        ``optimizer.apply`` over every weight is saved. Else None."""
        opt = self.optimizer
        if type(opt) is not _optimizers.SGD or opt.momentum or opt.clipnorm is not None or \
                opt.clipvalue is not None or opt.global_clipnorm is not None or \
                not _kernels.gemm_available():
            return None
        for layer in self.layers:
            if layer.params and (type(layer) is not Dense or layer.kernel_regularizer is not None
                                 or layer.bias_regularizer is not None):
                return None
        return opt.current_learning_rate

    def regularization_penalty(self) -> float:
        return sum(layer.regularization_penalty() for layer in self.layers)

    def compute_gradients(self, x, y):
        """(loss, grads) for one batch without updating: grads in ``get_weights()`` order."""
        where = "compute_gradients()"
        self._require_compiled(where)
        X, D = self._prepare(x, y, where)
        if not self.built:
            self.build(X.shape[1:])
        Y = self._forward(X, training=True)
        e = self._per_sample_loss(Y, D, getattr(self.layers[-1], "xi", None))
        self._backward(Y, D)
        loss = float(e.sum(dtype=np.float64)) * self.loss._scale(len(e))
        return loss + self.regularization_penalty(), [g.copy() for g in self.trainable_grads]

    def _compiled_step(self, n: int):
        """The compiled step for batches of n (``_compiled_step.CompiledStep``), or None."""
        step = self._steps.get(n, False)
        if step is False or (step is not None and not step.current(self)):
            step = self._steps[n] = _compiled_step.CompiledStep.for_model(self, n)
        return step

    def _train_batch(self, X, D):
        """One step of backpropagation; returns (per-sample losses, outputs).

        Layers with ``trainable = False`` keep their weights: the step runs as usual and
        their arrays are written back from a copy taken before it."""
        frozen = [p.copy() for layer in self.layers if not layer.trainable for p in layer.params]
        if frozen:
            out = self._train_step(X, D)
            for p, kept in zip((p for layer in self.layers if not layer.trainable
                                for p in layer.params), frozen):
                p[...] = kept
            return out
        return self._train_step(X, D)

    def _train_step(self, X, D):
        rate = self._fused_sgd_rate()
        step = self._compiled_step(len(X))
        e = None if step is None else step(X, D, rate)  # the two lines below, in one C call
        if e is None:
            Y = self._forward(X, training=True)
            self._backward(Y, D, sgd_rate=rate)  # with a rate the layers take SGD's step
        else:
            Y = self.layers[-1].Y
        if rate is None:
            self.optimizer.apply(self.trainable_params, self.trainable_grads)
        else:
            self.optimizer.iterations += 1
        if e is None:  # (a compiled model has no constraints)
            for layer in self.layers:
                layer.apply_constraints()
            e = self._per_sample_loss(Y, D, getattr(self.layers[-1], "xi", None))
        return e, Y

    # ------------------------------------------------------------------ validation of data
    def _prepare(self, x, y, where: str):
        """Validate and convert (x, y) without changing the model; returns arrays."""
        x_arr = as_array(x, "x", where)
        input_shape = self.input_shape if self.input_shape is not None else (
            tuple(x_arr.shape[1:]) if x_arr.ndim >= 2 else None)
        X = check_x(x_arr, where, input_shape, self.dtype)
        if y is None:
            raise ValueError(f"{where}: y is required (the targets for x).")
        D = as_array(y, "y", where)
        check_same_length(X, D, where)
        check_finite(D.astype(np.float64, copy=False), "y", where)
        out_shape = self.compute_output_shape(X.shape[1:])
        D = self.loss.check_targets(D, out_shape[-1], where)
        if not self.loss.sparse_targets:
            check_fits_dtype(D, "y", where, self.dtype)
            D = np.asarray(D, dtype=self.dtype)
        return X, D

    def _check_trainable(self, where: str) -> None:
        for layer in self.layers:
            act = getattr(layer, "activation", None)
            if act is not None and not act.differentiable:
                raise ValueError(
                    f"{where}: layer '{layer.name}' uses the '{act.name}' activation, whose "
                    f"derivative is zero almost everywhere, so gradient training would never "
                    f"change the weights. Use 'sigmoid' (for step) or 'tanh' (for sign) to "
                    f"train, or the classic rules in mlplab.neurons (Perceptron, Adaline)."
                )

    # ------------------------------------------------------------------ fit
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
        if not (batch_size == FULL_BATCH or batch_size is None):
            check_positive_int(batch_size, "batch_size", where + " (or 'full')")
        for name, value in (("steps_per_epoch", steps_per_epoch),
                            ("validation_steps", validation_steps),
                            ("validation_batch_size", validation_batch_size)):
            if value is not None:
                check_positive_int(value, name, where)
        check_positive_int(validation_freq, "validation_freq", where)
        check_fraction(validation_split, "validation_split", where)
        if validation_split_mode not in SPLIT_MODES:
            raise ValueError(f"{where}: validation_split_mode must be one of {SPLIT_MODES}; "
                             f"received {validation_split_mode!r}.")
        verbose = _check_verbose(verbose, where, auto=1)
        X, D = self._prepare(x, y, where)
        self._check_trainable(where)
        if getattr(self, "check_config", False):
            from . import config_check

            config_check.warn(config_check.check_data(self, X, D))
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError(f"{where}: validation_data must be a tuple (x_val, y_val).")
            val = self._prepare(validation_data[0], validation_data[1], where + " validation_data")
        elif validation_split:
            X, D, val = self._split(X, D, validation_split, validation_split_mode, where)
        if val is not None and validation_steps is not None:
            rows = validation_steps * (validation_batch_size or 32)
            val = (val[0][:rows], val[1][:rows])
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"{where}: callbacks must be Callback instances; received "
                                f"{cb!r}.")
        n = len(X)
        # Shuffled batches are gathered into one reused buffer: no copy of x per epoch.
        batches = BatchIterator(X, D, batch_size=batch_size or 32, shuffle=shuffle,
                                seed=self._shuffle_rng)
        bs, steps = batches.batch_size, len(batches)
        if steps_per_epoch is not None:
            if steps_per_epoch > steps:
                raise ValueError(f"{where}: steps_per_epoch={steps_per_epoch} exceeds the "
                                 f"{steps} batches of {bs} that one pass over the {n} samples "
                                 f"gives; pass at most {steps}, or None for one full pass.")
            steps = steps_per_epoch
        # -- all checks passed: from here on the model changes
        if not self.built or self.input_shape != tuple(X.shape[1:]):
            self.build(X.shape[1:])
        self._resolve_metrics()
        self._steps = {}  # planned again: the accelerators may have been switched since
        self.history = History()
        progress = [ProgbarLogger(verbose)] if verbose else []  # silent: no batch hook to pay
        cb_list = CallbackList(callbacks + [self.history] + progress, self,
                               {"epochs": epochs, "steps": steps, "verbose": verbose,
                                "batch_size": bs, "samples": n})
        self.stop_training, self.stop_reason = False, None
        cb_list.on_train_begin({})
        logs = {}
        for epoch in range(initial_epoch, epochs):
            cb_list.on_epoch_begin(epoch, {})
            start_weights = [p.copy() for p in self.trainable_params]  # restored on NaN
            for m in self.metrics:
                m.reset()
            loss_sum = 0.0
            seen = 0
            batch_hooks = cb_list.wants_batch_logs
            # A non-finite loss ends the epoch below; NumPy's warnings about it would only
            # repeat that (set once per epoch: the context costs ~1 us, an online step ~50 us).
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for step, (xb, db) in enumerate(batches):
                    if step == steps:
                        break
                    if batch_hooks:
                        cb_list.on_train_batch_begin(step, {})
                    e, Y = self._train_batch(xb, db)
                    loss_sum += float(np.add.reduce(e, dtype=np.float64))
                    seen += len(xb)
                    if not math.isfinite(loss_sum):
                        break
                    for m in self.metrics:
                        m.update(Y, db)
                    if batch_hooks:
                        cb_list.on_train_batch_end(step, self._logs(loss_sum, seen))
                    if self.stop_training:
                        break
            logs = self._logs(loss_sum, seen)
            if not np.isfinite(logs["loss"]):
                self.set_weights(start_weights)
                self.stop_training, self.stop_reason = True, "nan"
                warnings.warn(
                    f"Loss became {logs['loss']} at epoch {epoch + 1}; training stopped and the "
                    f"weights were restored to those at the start of that epoch. Try a smaller "
                    f"learning_rate (now {self.optimizer.current_learning_rate:g}) or scale the "
                    f"inputs.", RuntimeWarning, stacklevel=2)
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

    def _logs(self, loss_sum: float, seen: int) -> dict:
        loss = loss_sum * self.loss._scale(seen) + self.regularization_penalty()
        logs = {"loss": loss}
        for m in self.metrics:
            logs[m.name] = m.result()
        return logs

    def _split(self, X, D, fraction, mode, where):
        n = len(X)
        n_val = int(round(n * fraction))
        if n_val < 1 or n_val >= n:
            raise ValueError(f"{where}: validation_split={fraction} of {n} samples leaves "
                             f"{n_val} for validation and {n - n_val} for training; both must "
                             f"be at least 1.")
        if mode == "last":
            val_idx = np.arange(n - n_val, n)
        else:
            labels = _class_labels(D) if mode == "stratified" else None
            val_idx = _draw_split(n, n_val, labels, self._split_rng)
        mask = np.zeros(n, dtype=bool)
        mask[val_idx] = True
        return X[~mask], D[~mask], (X[mask], D[mask])

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_arrays(self, X, D, batch_size=None, cb_list=None) -> dict:
        """Loss and metrics on (X, D), in batches; ``cb_list`` gets the on_test_* hooks."""
        total, count = 0.0, 0
        for m in self.metrics:
            m.reset()
        if batch_size is None:  # 32 (Keras's) only for callbacks that watch test batches
            watched = cb_list is not None and cb_list.overrides("on_test_batch_begin",
                                                                 "on_test_batch_end")
            batch_size = 32 if watched else max(len(X), 1)
        bs = batch_size
        if cb_list is not None:
            cb_list.on_test_begin({})
        for step, start in enumerate(range(0, len(X), bs)):
            xb, db = X[start:start + bs], D[start:start + bs]
            if cb_list is not None:
                cb_list.on_test_batch_begin(step, {})
            Y, xi = self._predict_with_logits(xb)
            e = self._per_sample_loss(Y, db, xi)
            total += float(e.sum(dtype=np.float64))
            count += len(e)
            for m in self.metrics:
                m.update(Y, db)
            if cb_list is not None:
                cb_list.on_test_batch_end(step, self._test_logs(total, count))
        logs = self._test_logs(total, count)
        if cb_list is not None:
            cb_list.on_test_end(dict(logs))
        return logs

    def _test_logs(self, total, count) -> dict:
        logs = {"loss": total * self.loss._scale(count) + self.regularization_penalty()}
        for m in self.metrics:
            logs[m.name] = m.result()
        return logs

    def _predict_with_logits(self, X):
        for layer in self.layers[:-1]:
            X = layer.forward(X, training=False)
        last = self.layers[-1]
        act = getattr(last, "activation", None)
        if isinstance(last, Dense) and self.loss.fuses_with(act):
            xi = X @ last.W
            if last.b is not None:
                xi += last.b
            return act(xi), xi
        return last.forward(X, training=False), None

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
        verbose = _check_verbose(verbose, where, auto=0)
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
            from .callbacks import format_logs

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
                raise TypeError(f"{where}: callbacks must be Callback instances; received "
                                f"{cb!r}.")
        return CallbackList(callbacks, self, {"verbose": verbose})

    def predict(self, x, batch_size=None, verbose="auto", steps=None,
                callbacks=None) -> np.ndarray:
        """The network's outputs Y_L for x (no dropout). Keras's signature; ``verbose`` is
        accepted and silent, ``steps`` limits the prediction to that many batches. An
        unbuilt model is built on x's sample shape, as in Keras."""
        where = "predict()"
        _check_verbose(verbose, where, auto=0)
        for name, value in (("batch_size", batch_size), ("steps", steps)):
            if value is not None:
                check_positive_int(value, name, where)
        if not self.built and self.layers:
            self.build(check_x(x, where, None, self.dtype).shape[1:])
        self._require_built(where)
        cb_list = self._callback_list(callbacks, where, 0)
        if cb_list is None and steps is None:
            # A few samples: one compiled call, which checks x's values itself; anything it
            # declines (a list, another dtype, NaN, an unknown layer) takes the checked path.
            Y = self._predict_compiled(x) if type(x) is np.ndarray else None
            if Y is not None:
                return Y
        X = check_x(x, where, self.input_shape, self.dtype)
        if steps is not None:
            X = X[:steps * (batch_size or 32)]
        if cb_list is None:
            if X is not x and (Y := self._predict_compiled(np.ascontiguousarray(X))) is not None:
                return Y
            if batch_size is None or batch_size >= len(X):
                return self._forward(X, training=False)
            return np.concatenate([self._forward(X[i:i + batch_size], training=False)
                                   for i in range(0, len(X), batch_size)])
        bs = batch_size or 32
        cb_list.on_predict_begin({})
        outputs = []
        for step, start in enumerate(range(0, len(X), bs)):
            cb_list.on_predict_batch_begin(step, {})
            outputs.append(self._forward(X[start:start + bs], training=False))
            cb_list.on_predict_batch_end(step, {"outputs": outputs[-1]})
        cb_list.on_predict_end({})
        return np.concatenate(outputs) if outputs else self._forward(X, training=False)

    def _predict_compiled(self, x):
        """Y_L for a few samples in one compiled call (``_kernels.forward``), or None when the
        model or x does not suit it: a stack of Dense layers whose activations the kernel
        knows, and x a C-ordered array of the model's dtype and input shape. A call of
        ``predict`` on one sample is dominated by per-operation overhead; this makes it one."""
        if x.ndim != 2 or not 0 < len(x) <= _kernels.SMALL_BATCH or x.dtype != self.dtype or \
                x.shape[1:] != self.input_shape or not x.flags.c_contiguous or \
                not 0 < len(self.layers) <= _kernels.MAX_LAYERS:
            return None
        specs, widest = [], 0
        for layer in self.layers:
            code = type(layer) is Dense and activations.kernel_code(layer.activation)
            if not code:
                return None
            specs.append((layer.W, layer.b, *code))
            widest = max(widest, layer.units)
        n = len(x)
        out = np.empty((n, self.layers[-1].units), dtype=self.dtype)
        done = _kernels.forward(x, tuple(specs), out, np.empty(2 * n * widest, self.dtype))
        return out if done else None  # not done: NaN or infinity in x, for check_x to report

    def __call__(self, x):
        return self.predict(x)

    def train_on_batch(self, x, y) -> float:
        """One update on one batch; returns the batch loss before the update."""
        where = "train_on_batch()"
        self._require_compiled(where)
        X, D = self._prepare(x, y, where)
        self._check_trainable(where)
        if not self.built:
            self.build(X.shape[1:])
        e, _ = self._train_batch(X, D)
        return float(e.sum(dtype=np.float64)) * self.loss._scale(len(e)) + \
            self.regularization_penalty()

    # ------------------------------------------------------------------ configuration
    def get_config(self) -> dict:
        return {"name": self.name, "seed": self.seed, "dtype": self.dtype.name,
                "input_shape": list(self.input_shape) if self.input_shape else None,
                "layers": [_serialize_layer(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict) -> "Sequential":
        model = cls(seed=config.get("seed"), dtype=config.get("dtype", "float32"),
                    name=config.get("name", "sequential"))
        if config.get("input_shape"):
            model.add(Input(tuple(config["input_shape"])))
        for layer_config in config["layers"]:
            model.add(_deserialize_layer(layer_config))
        return model

    def save(self, filepath) -> None:
        """Write configuration, weights, compile settings and optimizer state to one file
        (atomically); ``mlplab.load_model(filepath)`` reads it back. See ``mlplab.saving``."""
        from . import saving

        saving.save_model(self, filepath)

    def save_weights(self, filepath) -> None:
        from . import saving

        saving.save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        from . import saving

        saving.load_weights(self, filepath)

    def clone(self, dtype=None) -> "Sequential":
        """A deep copy of the model (layers, weights, optimizer state), optionally cast to
        another dtype (``clone("float64")`` for gradient checks)."""
        twin = copy.deepcopy(self)
        if dtype is not None and np.dtype(dtype) != self.dtype:
            twin.dtype = np.dtype(dtype)
            if twin.built:
                for layer in twin.layers:
                    layer.built = False
                twin.build(twin.input_shape)
                twin.set_weights(self.get_weights())
        return twin

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_steps"] = {}  # they hold this model's arrays by address: a copy makes its own
        return state

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={len(self.layers)}>"


class TensorSpec(NamedTuple):
    """The shape (None: any batch size), dtype and name of a model's input or output."""
    shape: tuple
    dtype: str
    name: str


def _readable_size(nbytes: int) -> str:
    """Keras's summary form: 164.00 B, 198.79 KB, 1.55 MB."""
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _refuse_weighting(where, **weights) -> None:
    """Keras's per-sample and per-class loss weights are not implemented: say so."""
    for name, value in weights.items():
        if value is not None:
            raise ValueError(
                f"{where}: {name} is not supported by mlplab (received {type(value).__name__}); "
                f"pass {name}=None. To weight classes, resample the training set (e.g. repeat "
                f"the rows of the rarer class).")


def _check_verbose(verbose, where, auto):
    """Keras's verbose: "auto" (here ``auto``), 0, 1 or 2."""
    if verbose == "auto":
        return auto
    if verbose not in (0, 1, 2):  # (False and True count as 0 and 1, as before)
        raise ValueError(f"{where}: verbose must be 'auto', 0, 1 or 2; received {verbose!r}.")
    return int(verbose)


def _class_labels(D: np.ndarray):
    """Class labels if D looks like classification targets, else None."""
    if D.ndim == 1 or D.shape[1] == 1:
        flat = D.reshape(-1)
        if np.all(flat == np.round(flat)) and len(np.unique(flat)) <= max(2, len(flat) // 2):
            return flat
        return None
    if np.isin(D, (0, 1)).all() and np.all(D.sum(axis=1) == 1):
        return D.argmax(axis=1)
    return None


def _draw_split(n, n_val, labels, rng):
    """Indices of a shuffled validation set of n_val rows, per class in proportion."""
    if labels is None:
        return rng.permutation(n)[:n_val]
    classes, counts = np.unique(labels, return_counts=True)
    # Largest-remainder allocation of n_val across classes.
    exact = counts * n_val / n
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take))[: n_val - take.sum()]:
        take[i] += 1
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:t] for c, t in zip(classes, take)]
    return np.concatenate(chosen)


