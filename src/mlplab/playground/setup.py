"""The playground's set-up: the settings a page sends (and keeps in its URL), checked against
the limits, and turned into data, a model and an equivalent Python snippet.

The names follow the TensorFlow Playground's URL (``dataset``, ``noise``, ``percTrainData``,
``batchSize``, ``networkShape``, ``activation``, ``learningRate``, ``regularization``,
``regularizationRate``, ``problem``), its defaults too (circle, 4-2 tanh network, learning
rate 0.03, batch size 10, half the 500 points for training, tanh output on -1/+1 targets);
mlplab's extras add to them. Every run is a pure function of the set-up and the epoch count,
which is what lets :func:`snippet` reproduce it.
"""
from __future__ import annotations

import io
import math
import numbers

import numpy as np

from .. import datasets, optimizers
from .classic import estimator_code
from .errors import SetupError

# -- limits: each one refused with a message that names it
MAX_LAYERS = 8          # hidden layers
MAX_NEURONS = 16        # per hidden layer
MAX_SAMPLES = 2000      # generated points
MAX_UPLOAD_BYTES = 256 * 1024
MAX_UPLOAD_ROWS = 5000
MAX_CLASSES = 8
MAX_EPOCHS_PER_FRAME = 100

GENERATORS = {"circle": "make_circle", "xor": "make_xor", "gauss": "make_gauss",
              "spiral": "make_spiral", "reg-plane": "make_reg_plane",
              "reg-gauss": "make_reg_gauss"}
REGRESSION_SETS = ("reg-plane", "reg-gauss")
DATASETS = (*GENERATORS, "upload")
DOMAIN = (-6.0, 6.0)  # the playground's heatmap extent for its generated sets

# Feature name -> NumPy expression in x (n, 2). The expressions are fixed here, evaluated by
# :func:`features` and pasted into the snippet, so both compute the very same columns.
FEATURES = {"x1": "x[:, 0]", "x2": "x[:, 1]", "x1sq": "x[:, 0] ** 2", "x2sq": "x[:, 1] ** 2",
            "x1x2": "x[:, 0] * x[:, 1]", "sinx1": "np.sin(x[:, 0])",
            "sinx2": "np.sin(x[:, 1])"}

HIDDEN_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "leaky_relu", "elu", "softplus",
                      "swish", "gelu")
OUTPUT_ACTIVATIONS = ("auto", "tanh", "sigmoid", "softmax", "linear")
# Output activation -> the losses that make sense with it (the first is the "auto" choice).
LOSSES = {"tanh": ("mean_squared_error", "mean_absolute_error"),
          "linear": ("mean_squared_error", "mean_absolute_error"),
          "sigmoid": ("binary_crossentropy", "mean_squared_error"),
          "softmax": ("sparse_categorical_crossentropy",)}
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "adadelta", "adamw", "adamax", "nadam")
REGULARIZATIONS = ("none", "l1", "l2")
PROBLEMS = ("classification", "regression")

DEFAULTS = {
    "dataset": "circle", "noise": 0, "percTrainData": 50, "batchSize": 10, "samples": 500,
    "dataSeed": 1, "seed": 1, "features": ["x1", "x2"], "networkShape": [4, 2],
    "activation": "tanh", "layerActivations": [], "dropout": [], "learningRate": 0.03,
    "optimizer": "sgd", "regularization": "none", "regularizationRate": 0.0,
    "problem": "classification", "outputActivation": "auto", "loss": "auto",
    "maxEpochs": 0, "lossThreshold": 0.0, "patience": 0, "epochsPerFrame": 1, "model": "mlp",
}
MODELS = ("mlp", "perceptron", "adaline")  # a Sequential, or a classic neuron (classic.py)


# ------------------------------------------------------------------------------ checking
def _int(raw, key, low, high):
    value = raw.get(key, DEFAULTS[key])
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or \
            not low <= value <= high:
        raise SetupError(f"{key} must be an integer from {low} to {high}; received {value!r}.")
    return int(value)


def _float(raw, key, low, high):
    value = raw.get(key, DEFAULTS[key])
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SetupError(f"{key} must be a number from {low:g} to {high:g}; received "
                         f"{value!r}.") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise SetupError(f"{key} must be a number from {low:g} to {high:g}; received {value!r}.")
    return value


def _choice(raw, key, options):
    value = raw.get(key, DEFAULTS[key])
    if value not in options:
        raise SetupError(f"{key} must be one of {', '.join(options)}; received {value!r}.")
    return value


def _list(raw, key):
    value = raw.get(key, DEFAULTS[key])
    if isinstance(value, str):
        value = [v for v in value.split(",") if v != ""] if value.strip() else []
    if not isinstance(value, (list, tuple)):
        raise SetupError(f"{key} must be a list; received {value!r}.")
    return list(value)


def check_setup(raw: dict) -> dict:
    """The complete, checked set-up from ``raw`` (missing keys take the defaults).

    Raises :class:`SetupError` naming the first bad key, its range and the received value.
    """
    if not isinstance(raw, dict):
        raise SetupError(f"the set-up must be an object; received {raw!r}.")
    unknown = sorted(set(raw) - set(DEFAULTS) - {"showTestData", "discretize"})
    if unknown:
        raise SetupError(f"unknown set-up keys {unknown}; known: {', '.join(DEFAULTS)}.")
    s = {"dataset": _choice(raw, "dataset", DATASETS),
         "noise": _int(raw, "noise", 0, 50),
         "percTrainData": _int(raw, "percTrainData", 10, 90),
         "batchSize": _int(raw, "batchSize", 1, 1000),
         "samples": _int(raw, "samples", 10, MAX_SAMPLES),
         "dataSeed": _int(raw, "dataSeed", 0, 2 ** 31 - 1),
         "seed": _int(raw, "seed", 0, 2 ** 31 - 1),
         "activation": _choice(raw, "activation", HIDDEN_ACTIVATIONS),
         "learningRate": _float(raw, "learningRate", 1e-6, 10.0),
         "optimizer": _choice(raw, "optimizer", OPTIMIZERS),
         "regularization": _choice(raw, "regularization", REGULARIZATIONS),
         "regularizationRate": _float(raw, "regularizationRate", 0.0, 10.0),
         "problem": _choice(raw, "problem", PROBLEMS),
         "outputActivation": _choice(raw, "outputActivation", OUTPUT_ACTIVATIONS),
         "maxEpochs": _int(raw, "maxEpochs", 0, 10 ** 6),
         "lossThreshold": _float(raw, "lossThreshold", 0.0, 1e6),
         "patience": _int(raw, "patience", 0, 10 ** 4),
         "epochsPerFrame": _int(raw, "epochsPerFrame", 1, MAX_EPOCHS_PER_FRAME),
         "model": _choice(raw, "model", MODELS)}
    if s["dataset"] in REGRESSION_SETS:
        s["problem"] = "regression"
    elif s["dataset"] != "upload":
        s["problem"] = "classification"
    features = _list(raw, "features")
    bad = [f for f in features if f not in FEATURES]
    if bad or not features or len(set(features)) != len(features):
        raise SetupError(f"features must be one or more distinct names of {', '.join(FEATURES)};"
                         f" received {features!r}.")
    s["features"] = [f for f in FEATURES if f in features]  # the table's order
    shape = _list(raw, "networkShape")
    try:
        shape = [int(n) for n in shape]
    except (TypeError, ValueError):
        raise SetupError(f"networkShape must list the hidden layers' widths; received "
                         f"{shape!r}.") from None
    if len(shape) > MAX_LAYERS or any(not 1 <= n <= MAX_NEURONS for n in shape):
        raise SetupError(f"networkShape: the network may have at most {MAX_LAYERS} hidden layers"
                         f" of 1 to {MAX_NEURONS} neurons each; received "
                         f"{','.join(map(str, shape))}. Remove layers or neurons.")
    s["networkShape"] = shape
    acts = _list(raw, "layerActivations")[:len(shape)]
    acts += [""] * (len(shape) - len(acts))
    bad = [a for a in acts if a not in ("", *HIDDEN_ACTIVATIONS)]
    if bad:
        raise SetupError(f"layerActivations must be empty (the global activation) or one of "
                         f"{', '.join(HIDDEN_ACTIVATIONS)}; received {bad[0]!r}.")
    s["layerActivations"] = acts
    rates = _list(raw, "dropout")[:len(shape)]
    rates += [0.0] * (len(shape) - len(rates))
    try:
        rates = [float(r) for r in rates]
    except (TypeError, ValueError):
        raise SetupError(f"dropout must list rates in [0, 0.9]; received {rates!r}.") from None
    if any(not 0 <= r <= 0.9 for r in rates):
        raise SetupError(f"dropout rates must lie in [0, 0.9]; received {rates!r}.")
    s["dropout"] = rates
    s["loss"] = raw.get("loss", "auto")
    return s


def resolve_output(s: dict, n_classes: int) -> tuple[str, str, int]:
    """(output activation, loss, output units) for the set-up and the data's class count."""
    out = s["outputActivation"]
    if s["problem"] == "regression":
        out = "linear" if out == "auto" else out
        if out in ("softmax", "sigmoid"):
            raise SetupError(f"outputActivation {out} is for classification; choose linear or "
                             f"tanh for regression.")
    elif out == "auto":
        out = "softmax" if n_classes > 2 else "tanh"  # tanh on -1/+1: the playground's choice
    elif n_classes > 2 and out != "softmax":
        raise SetupError(f"the data has {n_classes} classes; outputActivation must be softmax "
                         f"(received {out}).")
    allowed = LOSSES[out]
    loss = allowed[0] if s["loss"] == "auto" else s["loss"]
    if loss not in allowed:
        raise SetupError(f"loss {loss!r} does not fit the {out} output; choose one of "
                         f"{', '.join(allowed)} (or auto).")
    units = n_classes if out == "softmax" else 1
    return out, loss, units


# ------------------------------------------------------------------------------ data
def parse_upload(text: str) -> dict:
    """An uploaded CSV (header row; two numeric feature columns, then the label or target)
    as ``{"x": (n, 2), "y": (n,), "classes": [...] or None, "csv": normalized text}``."""
    if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
        raise SetupError(f"the uploaded file has {len(text.encode('utf-8')):,} bytes; the "
                         f"playground accepts at most {MAX_UPLOAD_BYTES:,}. Upload fewer rows.")
    try:
        table = datasets.load_csv(io.StringIO(text))
    except ValueError as exc:
        raise SetupError(f"the uploaded CSV could not be read: {exc}") from None
    names = list(table)
    if len(names) != 3:
        raise SetupError(f"the uploaded CSV must have 3 columns (x1, x2, then the label or "
                         f"target); it has {len(names)}: {names}.")
    x1, x2, target = (table[n] for n in names)
    n = len(x1)
    if n > MAX_UPLOAD_ROWS or n < 4:
        raise SetupError(f"the uploaded CSV must have 4 to {MAX_UPLOAD_ROWS:,} rows; it has "
                         f"{n:,}.")
    if x1.dtype.kind != "f" or x2.dtype.kind != "f" or \
            not (np.isfinite(x1).all() and np.isfinite(x2).all()):
        raise SetupError(f"the uploaded CSV's columns {names[0]} and {names[1]} must hold "
                         f"numbers in every row.")
    x = np.column_stack([x1, x2])
    numeric = target.dtype.kind == "f"
    if numeric and not np.isfinite(target).all():
        raise SetupError(f"the uploaded CSV's column {names[2]} has empty or non-finite cells.")
    classes = None
    if not numeric or (np.all(target == np.round(target)) and len(np.unique(target)) <= 10):
        classes = sorted(set(target.tolist()), key=str)
        if not 2 <= len(classes) <= MAX_CLASSES:
            raise SetupError(f"the label column {names[2]} has {len(classes)} classes; the "
                             f"playground takes 2 to {MAX_CLASSES}.")
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[c] for c in target.tolist()], dtype=np.int64)
        classes = [str(int(c)) if numeric else str(c) for c in classes]
    else:
        y = target.astype(np.float64)
    lines = ["x1,x2,y"] + [f"{a!r},{b!r},{t!r}" for a, b, t in zip(x[:, 0].tolist(),
                                                                   x[:, 1].tolist(), y.tolist())]
    return {"x": x, "y": y, "classes": classes, "csv": "\n".join(lines) + "\n",
            "columns": names}


def raw_data(s: dict, upload: dict | None):
    """``(x, y, n_classes)`` before the features: generated from the seed, or the upload
    shuffled by the data seed. Class labels are 0..k-1; the playground's sets have k = 2."""
    if s["dataset"] == "upload":
        if upload is None:
            raise SetupError("dataset is 'upload' but no CSV has been uploaded in this tab; "
                             "upload one (Upload CSV) or choose another data set.")
        order = np.random.default_rng(s["dataSeed"]).permutation(len(upload["x"]))
        x, y = upload["x"][order], upload["y"][order]
        if upload["classes"] is None and s["problem"] == "classification":
            raise SetupError("the uploaded target column holds real numbers; set problem "
                             "to regression.")
        if upload["classes"] is not None and s["problem"] == "regression":
            raise SetupError("the uploaded label column holds classes; set problem to "
                             "classification.")
    else:
        make = getattr(datasets, GENERATORS[s["dataset"]])
        x, y = make(n_samples=s["samples"], noise=s["noise"] / 100, seed=s["dataSeed"])
    return x, y, class_count(s, upload)


def targets(y: np.ndarray, out: str, n_classes: int) -> np.ndarray:
    """The targets the output trains on: labels for softmax, -1/+1 for tanh and linear
    classifiers (the playground's coding), 0/1 for sigmoid, the values for regression."""
    if n_classes == 0:
        return y.astype(np.float64).reshape(-1, 1)
    if out == "softmax":
        return y
    return (np.where(y > 0, 1.0, 0.0 if out == "sigmoid" else -1.0)).reshape(-1, 1)


def features(x: np.ndarray, names) -> np.ndarray:
    """The input columns: the named expressions of FEATURES evaluated on x (n, 2)."""
    return np.column_stack([eval(FEATURES[f], {"np": np}, {"x": x})  # noqa: S307 (fixed table)
                            for f in names]).astype(np.float64)


def domain(s: dict, upload: dict | None) -> list[list[float]]:
    """The heatmap's extent [[x1 min, x1 max], [x2 min, x2 max]]."""
    if s["dataset"] != "upload" or upload is None:
        return [list(DOMAIN), list(DOMAIN)]
    lo, hi = upload["x"].min(axis=0), upload["x"].max(axis=0)
    pad = np.maximum((hi - lo) * 0.05, 1e-3)
    return [[float(lo[i] - pad[i]), float(hi[i] + pad[i])] for i in range(2)]


# ------------------------------------------------------------------------------ the model
def layer_plan(s: dict, n_classes: int) -> list[tuple]:
    """The layers as ("dense", units, activation) and ("dropout", rate) tuples."""
    out, _, units = resolve_output(s, n_classes)
    plan = []
    for width, act, rate in zip(s["networkShape"], s["layerActivations"], s["dropout"]):
        plan.append(("dense", width, act or s["activation"]))
        if rate:
            plan.append(("dropout", rate))
    plan.append(("dense", units, out))
    return plan


def _regularizer_code(s: dict) -> str:
    if s["regularization"] == "none" or not s["regularizationRate"]:
        return ""
    kind = s["regularization"]
    return f", kernel_regularizer=regularizers.{kind.upper()}({kind}={s['regularizationRate']!r})"


def _optimizer_name(s: dict) -> str:
    return type(optimizers.get(s["optimizer"])).__name__


def model_code(s: dict, n_classes: int, n_inputs: int, check_config: bool = True) -> list[str]:
    """The lines that build and compile the model (shared by :func:`build_model` and the
    snippet, so the two cannot differ). The session compiles with ``check_config=False`` and
    shows :func:`config_notes` once instead of warning at every ``fit``."""
    _, loss, _ = resolve_output(s, n_classes)
    reg = _regularizer_code(s)
    layers = [f"    Input(({n_inputs},)),"]
    for item in layer_plan(s, n_classes):
        layers.append(f"    Dense({item[1]}, activation={item[2]!r}{reg})," if item[0] == "dense"
                      else f"    Dropout({item[1]!r}),")
    return ["model = mlplab.Sequential([", *layers, f"], seed={s['seed']})",
            f"model.compile(optimizer=mlplab.{_optimizer_name(s)}(learning_rate="
            f"{s['learningRate']!r}), loss={loss!r}"
            f"{'' if check_config else ', check_config=False'})"]


def build_model(s: dict, n_classes: int, n_inputs: int):
    """The compiled Sequential the session trains, built by running :func:`model_code`."""
    import mlplab
    from mlplab import regularizers
    from mlplab.layers import Dense, Dropout, Input

    scope = {"mlplab": mlplab, "regularizers": regularizers, "Dense": Dense,
             "Dropout": Dropout, "Input": Input}
    exec("\n".join(model_code(s, n_classes, n_inputs, check_config=False)),  # noqa: S102
         scope)  # (the code is generated above from checked values only)
    return scope["model"]


def config_notes(model, X, D) -> list[str]:
    """mlplab's configuration warnings for this model and data (shown on the page)."""
    from .. import config_check

    return config_check.check_model(model) + config_check.check_data(model, X, D)


# ------------------------------------------------------------------------------ the snippet
def snippet(s: dict, epochs: int, upload: dict | None = None) -> str:
    """A Python script that reproduces the session's run: same data, same seed, ``epochs``
    epochs of ``fit(..., epochs=1)`` as the page ran them, then prints both losses."""
    n_classes = class_count(s, upload)
    out, _, _ = resolve_output(s, n_classes)
    mlp = s["model"] == "mlp"
    layers = ["Dense", *(["Dropout"] if any(s["dropout"]) else []), "Input"]
    lines = ['"""mlplab playground run, exported from the page: run it with python."""',
             *(["import io", ""] if s["dataset"] == "upload" else []),
             "import numpy as np", "", "import mlplab",
             *(["from mlplab import regularizers"] if mlp and _regularizer_code(s) else []),
             *([f"from mlplab.layers import {', '.join(layers)}"] if mlp else []), ""]
    if s["dataset"] == "upload":
        lines += [f"CSV = {upload['csv']!r}", "table = mlplab.datasets.load_csv(io.StringIO(CSV))",
                  "x = np.column_stack([table['x1'], table['x2']])",
                  "y = table['y'].astype(np.int64)" if n_classes else "y = table['y']",
                  f"order = np.random.default_rng({s['dataSeed']}).permutation(len(x))",
                  "x, y = x[order], y[order]"]
    else:
        lines.append(f"x, y = mlplab.datasets.{GENERATORS[s['dataset']]}(n_samples="
                     f"{s['samples']}, noise={s['noise'] / 100!r}, seed={s['dataSeed']})")
    cols = ", ".join(FEATURES[f] for f in s["features"])
    lines.append(f"x = np.column_stack([{cols}]).astype(np.float64)  # "
                 f"features: {', '.join(s['features'])}")
    if n_classes == 0:
        lines.append("y = y.astype(np.float64).reshape(-1, 1)")
    elif out != "softmax" and s["model"] == "mlp":
        low = "0.0" if out == "sigmoid" else "-1.0"
        lines.append(f"y = np.where(y > 0, 1.0, {low}).reshape(-1, 1)  # the {out} output's "
                     f"targets")
    lines += [f"n_train = {n_train(s, upload)}",
              "x_train, y_train, x_test, y_test = x[:n_train], y[:n_train], x[n_train:], "
              "y[n_train:]", ""]
    if s["model"] != "mlp":
        return "\n".join(lines + estimator_code(s, epochs))
    lines += model_code(s, n_classes, len(s["features"]))
    lines += ["", f"for epoch in range({epochs}):  # one epoch per frame, as on the page",
              f"    model.fit(x_train, y_train, epochs=1, batch_size={s['batchSize']}, "
              f"verbose=0)",
              f"print(f'Epoch {epochs}')",
              "print(f'Training loss {model.evaluate(x_train, y_train):.6f}')",
              "print(f'Test loss {model.evaluate(x_test, y_test):.6f}')", ""]
    return "\n".join(lines)


def class_count(s: dict, upload: dict | None) -> int:
    """The data's number of classes: 2 for the playground's classification sets, the label
    column's for an upload, 0 for regression targets."""
    if s["dataset"] == "upload":
        return len(upload["classes"]) if upload and upload["classes"] else 0
    return 0 if s["dataset"] in REGRESSION_SETS else 2


def n_train(s: dict, upload: dict | None) -> int:
    """The number of training points: the first percTrainData % of the (shuffled) data."""
    n = len(upload["x"]) if s["dataset"] == "upload" and upload else s["samples"]
    return max(1, min(n - 1, round(n * s["percTrainData"] / 100)))
