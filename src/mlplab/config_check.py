"""A plain-words check of a model's configuration, run by ``compile`` and ``fit``.

It warns (``ConfigWarning``, never an error) about the mistakes learners make most often:

- targets coded -1/+1 with a sigmoid output (its range is 0..1);
- targets coded 0/1 with a tanh output (its range is -1..1; use sigmoid);
- any targets outside the output activation's range (negative targets for relu or softmax);
- softmax with binary cross-entropy, or softmax on a single unit (always outputs 1);
- binary cross-entropy on an output that is not a probability (linear, relu, tanh, ...);
- categorical cross-entropy on outputs other than softmax (sigmoid, linear, relu, tanh),
  or on a single unit (its loss is always 0);
- the hinge loss (-1/+1 targets, margins around +-1) on a sigmoid, softmax or relu output;
- class labels given to a regression loss (mse, mae, sse on integer labels 0..K-1);
- unscaled inputs (features spanning orders of magnitude) into sigmoid/tanh units;
- a learning rate far outside the usual range for the optimizer.

Silence it per model with ``compile(..., check_config=False)``, or everywhere with
``warnings.filterwarnings("ignore", category=mlplab.ConfigWarning)``.
"""
from __future__ import annotations

import warnings

import numpy as np


class ConfigWarning(UserWarning):
    """A likely mistake in the model's configuration or data (training still runs)."""


#: Learning rates outside [low, high] draw a warning: rates that commonly train (the high
#: ends are 10x to 100x the Keras defaults; adaptive methods rarely need more than 0.1).
USUAL_LEARNING_RATES = {
    "sgd": (1e-5, 2.0),
    "adagrad": (1e-5, 1.0),
    "rmsprop": (1e-6, 0.1),
    "adadelta": (1e-5, 10.0),
    "adam": (1e-6, 0.1),
    "adamw": (1e-6, 0.1),
    "adamax": (1e-6, 0.2),
    "nadam": (1e-6, 0.1),
}
REGRESSION_LOSSES = ("mean_squared_error", "mean_absolute_error", "sse")
CATEGORICAL_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")
#: The range (low, high) of each output activation: targets outside it cannot be reached.
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0),
                 "softsign": (-1.0, 1.0), "relu": (0.0, np.inf), "softplus": (0.0, np.inf),
                 "exponential": (0.0, np.inf), "elu": (-1.0, np.inf)}
#: What an output activation's values are, in words.
_RANGE_WORDS = {"linear": "any real number", "relu": "values >= 0, unbounded",
                "tanh": "values in (-1, 1)", "softsign": "values in (-1, 1)",
                "elu": "values > -1, unbounded", "softplus": "values > 0, unbounded",
                "exponential": "values > 0, unbounded", "leaky_relu": "any real number",
                "gelu": "any real number > -0.17", "swish": "any real number > -0.28",
                "silu": "any real number > -0.28"}
SQUASHING = ("sigmoid", "tanh")
#: A feature whose values exceed this magnitude saturates sigmoid/tanh units at the start.
SATURATING_INPUT = 20.0
#: Ratio of the largest to the smallest feature range that counts as unscaled.
SPAN_RATIO = 1000.0
#: Rows, spread over the data set, whose ranges the scaling check reads (on MNIST 2,000 rows give
#: the verdict of 20,000, which cost 20 ms a fit in float64).
SCALE_SAMPLE = 2000


def _activation_name(layer):
    act = getattr(layer, "activation", None)
    return getattr(act, "name", None)


def _output_layer(model):
    for layer in reversed(model.layers):
        if getattr(layer, "activation", None) is not None:
            return layer
    return None


def check_model(model) -> list[str]:
    """Messages about the model and its compile settings alone (no data)."""
    messages = []
    out = _output_layer(model)
    out_act = _activation_name(out) if out is not None else None
    loss_name = getattr(model.loss, "name", None)
    units = getattr(out, "units", None)
    if out_act == "softmax" and loss_name == "binary_crossentropy":
        messages.append(
            "The output layer uses softmax with loss='binary_crossentropy'. Softmax couples the "
            "outputs (they sum to 1); for one-of-K classes use "
            "loss='categorical_crossentropy', for independent yes/no outputs use "
            "activation='sigmoid'.")
    if out_act == "softmax" and units == 1:
        messages.append(
            "The output layer is softmax on a single unit: its output is always 1, so the "
            "network cannot learn. For two classes use Dense(1, activation='sigmoid') with "
            "loss='binary_crossentropy', or Dense(2, activation='softmax').")
    messages += _loss_output_mismatches(out_act, loss_name, units)
    opt = model.optimizer
    name = getattr(opt, "name", None)
    if name in USUAL_LEARNING_RATES and not callable(opt.learning_rate):
        low, high = USUAL_LEARNING_RATES[name]
        lr = opt.learning_rate
        if not low <= lr <= high:
            side = "large" if lr > high else "small"
            effect = "training will likely diverge or oscillate" if lr > high else \
                "training will barely move"
            messages.append(
                f"learning_rate={lr:g} is very {side} for {type(opt).__name__} (usual range "
                f"{low:g} to {high:g}): {effect}. Keras's default for it is "
                f"{type(opt)().learning_rate:g}.")
    return messages


def _loss_output_mismatches(out_act, loss_name, units) -> list[str]:
    """The output activation and the loss do not belong together (the lectures' pairs:
    sigmoid + binary cross-entropy, softmax + categorical cross-entropy, tanh or linear +
    squared error or hinge)."""
    words = _RANGE_WORDS.get(out_act, f"the values of '{out_act}'")
    if loss_name == "binary_crossentropy" and out_act not in ("sigmoid", "softmax", None):
        return [f"loss='binary_crossentropy' needs probabilities in (0, 1), but the output "
                f"activation '{out_act}' gives {words}: outside (0, 1) the loss is clipped "
                f"and its gradient is 0. Use Dense(..., activation='sigmoid') for 0/1 "
                f"targets; for -1/+1 targets keep tanh with loss='mse' (or 'sse', 'hinge')."]
    if loss_name in CATEGORICAL_LOSSES and units == 1:
        return [f"loss='{loss_name}' on a single output unit is always 0 (one class has "
                f"probability 1), so nothing is learned. For two classes use "
                f"Dense(1, activation='sigmoid') with loss='binary_crossentropy', or "
                f"Dense(2, activation='softmax')."]
    if loss_name in CATEGORICAL_LOSSES and out_act not in ("softmax", None):
        if out_act == "sigmoid":
            why = ("sigmoid outputs are independent and do not sum to 1, so the loss "
                   "divides them by their sum and the outputs of the wrong classes get "
                   "almost no gradient")
        else:
            why = (f"the output activation '{out_act}' gives {words}, not probabilities "
                   f"(mlplab has no from_logits)")
        return [f"loss='{loss_name}' expects a probability distribution over the classes, "
                f"but {why}. Use Dense(n_classes, activation='softmax')."]
    if loss_name == "hinge" and out_act in ("sigmoid", "softmax", "relu"):
        return [f"loss='hinge' compares the outputs with -1/+1 targets (margin 1 on either "
                f"side of 0), but '{out_act}' outputs are never negative. Use "
                f"activation='tanh' or 'linear' for the hinge loss."]
    return []


def _values_of(D):
    flat = np.asarray(D).reshape(-1)
    if flat.size > 100_000:
        flat = flat[:100_000]
    return flat


def check_data(model, X, D) -> list[str]:
    """Messages about the data (x, y) given to ``fit`` for this model."""
    messages = []
    out = _output_layer(model)
    out_act = _activation_name(out) if out is not None else None
    loss = model.loss
    loss_name = getattr(loss, "name", None)
    if D is not None and not getattr(loss, "sparse_targets", False):
        values = np.unique(_values_of(D))
        if out_act == "sigmoid" and values.size == 2 and values[0] == -1 and values[1] == 1:
            messages.append(
                "The targets are coded -1/+1 but the output activation is sigmoid, whose "
                "outputs lie in (0, 1): the -1 targets can never be reached. Recode the "
                "targets as 0/1 with (y + 1) / 2, or use activation='tanh'.")
        if out_act == "tanh" and values.size == 2 and values[0] == 0 and values[1] == 1:
            messages.append(
                "The targets are coded 0/1 but the output activation is tanh, whose outputs "
                "lie in (-1, 1): 0 is its midpoint, not a class. Use activation='sigmoid' for "
                "0/1 targets, or recode them as -1/+1 with 2 * y - 1.")
        D2 = np.asarray(D)
        if D2.ndim == 2 and D2.shape[1] > 1 and len(D2) > 1 and \
                np.all(D2[:200] == D2[:200, :1]):
            messages.append(
                f"Every row of y holds one value repeated over the {D2.shape[1]} outputs: a "
                f"single target column was broadcast to all of them (Keras's rule for "
                f"'{loss_name}'). If y holds class labels, use "
                f"loss='sparse_categorical_crossentropy' with a softmax output.")
        low, high = OUTPUT_RANGES.get(out_act, (-np.inf, np.inf))
        bipolar_sigmoid = out_act == "sigmoid" and values.size == 2 and values[0] == -1
        if values.size and (values[0] < low or values[-1] > high) and not bipolar_sigmoid:
            messages.append(
                f"The targets range from {values[0]:g} to {values[-1]:g} but the output "
                f"activation '{out_act}' gives values in ({low:g}, {high:g}): the targets "
                f"outside it can never be reached. Choose an output activation whose range "
                f"covers the targets ('linear' for any real number, 'tanh' for -1/+1) or "
                f"rescale the targets.")
        if loss_name in REGRESSION_LOSSES and getattr(out, "units", None) == 1 \
                and out_act not in SQUASHING and 3 <= values.size <= 50 \
                and np.all(values == np.round(values)) and values[0] >= 0 \
                and values.size == int(values[-1]) + 1 and len(D) >= 2 * values.size:
            messages.append(
                f"The targets look like class labels 0..{int(values[-1])} but the loss is "
                f"'{loss_name}', a regression loss: it treats class 2 as 'between' 1 and 3. "
                f"For classification use Dense({values.size}, activation='softmax') with "
                f"loss='sparse_categorical_crossentropy'.")
    first = next((layer for layer in model.layers if getattr(layer, "W", None) is not None),
                 None)
    if first is not None and _activation_name(first) in SQUASHING and X is not None:
        Xf = np.asarray(X).reshape(len(X), -1)
        sample = Xf[::max(1, len(Xf) // SCALE_SAMPLE)]  # rows spread over the data set
        low, high = sample.min(axis=0), sample.max(axis=0)
        span = high - low
        biggest = float(np.max(np.maximum(np.abs(low), np.abs(high))))
        varying = span[span > 0]
        ratio = float(varying.max() / varying.min()) if varying.size else 1.0
        if biggest > SATURATING_INPUT or ratio > SPAN_RATIO:
            messages.append(
                f"The inputs are not scaled (values up to {biggest:.3g}; feature ranges differ "
                f"by a factor of {ratio:.3g}) and feed '{_activation_name(first)}' units, "
                f"which saturate for large inputs, so their gradients vanish. Standardize "
                f"each feature (subtract the mean, divide by the standard deviation) or scale "
                f"it to [0, 1] first.")
    return messages


def warn(messages, stacklevel: int = 3) -> None:
    for message in messages:
        warnings.warn(message, ConfigWarning, stacklevel=stacklevel)
