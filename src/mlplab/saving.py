"""Saving and loading a model in one file: configuration, weights and optimizer state.

The file is a NumPy ``.npz`` archive holding a JSON string (the model's ``get_config()``, the
compile settings, the optimizer's scalar state and the random generators' states) and plain
arrays (weights, optimizer slots). Nothing is pickled and loading uses
``allow_pickle=False``, so opening a file runs no code. Files are written to a temporary file
in the same folder and moved into place with ``os.replace``: a crash mid-write leaves the
previous file intact, never a half-written one.

    model.save("model.npz")
    model = mlplab.load_model("model.npz")     # compiled, optimizer state included
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .callbacks import History

FORMAT = "mlplab-model"
VERSION = 1


def _write_atomic(path, arrays: dict) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _read(path) -> tuple[dict, dict]:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model(): no file at '{path}'. Save one with "
                                f"model.save('{path}').")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError) as exc:
        raise ValueError(f"load_model(): '{path}' is not an mlplab model file ({exc}).") \
            from None
    if "config" not in arrays:
        raise ValueError(f"load_model(): '{path}' is not an mlplab model file (no config).")
    config = json.loads(str(arrays.pop("config")))
    if config.get("format") != FORMAT:
        raise ValueError(f"load_model(): '{path}' is not an mlplab model file.")
    return config, arrays


def _json_ready(value, what: str):
    try:
        json.dumps(value)
    except TypeError as exc:
        raise TypeError(f"save(): the {what} cannot be saved ({exc}): a model file holds "
                        f"names and numbers, never Python code (no pickle). Use built-in names "
                        f"or objects with a get_config() (e.g. a schedule from mlplab.schedules "
                        f"rather than a lambda); for a model with Lambda layers or a loss "
                        f"written as a function, keep its weights with save_weights() and "
                        f"rebuild it in code.") from None
    return value


def _compile_config(model):
    config = model.get_compile_config()
    return None if config is None else {
        "optimizer": _json_ready(config["optimizer"], "optimizer configuration"),
        "loss": _json_ready(config["loss"], "loss"),
        "metrics": _json_ready(config["metrics"], "metrics")}


def _history_config(history):
    """The last fit's History as JSON: logs per epoch, epochs run, why it stopped."""
    if history is None or not getattr(history, "history", None):
        return None
    return {"history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "epoch": [int(e) for e in history.epoch], "stop_reason": history.stop_reason,
            "stopped_epoch": history.stopped_epoch}


def save_model(model, path) -> None:
    """Write ``model`` (configuration, weights, compile settings, optimizer state) to ``path``.

    The path is used as given (no extension is added); ``.npz`` is a good choice.
    """
    arrays: dict[str, np.ndarray] = {}
    config = {"format": FORMAT, "version": VERSION,
              "model": _json_ready(model.get_config(), "model configuration"),
              "built": bool(model.built), "compile": _compile_config(model),
              "rng": model.get_rng_state(), "optimizer_state": None,
              "history": _history_config(getattr(model, "history", None))}
    if model.built:
        for i, w in enumerate(model.get_weights()):
            arrays[f"weight_{i}"] = w
    opt = getattr(model, "optimizer", None)
    if opt is not None and opt.built:
        state = opt.get_state()
        scalars, slots = {}, {}
        for key, value in state.items():
            if isinstance(value, list):
                slots[key] = len(value)
                for i, a in enumerate(value):
                    arrays[f"opt_{key}_{i}"] = a
            else:
                scalars[key] = value
        config["optimizer_state"] = {"scalars": scalars, "slots": slots}
    arrays["config"] = np.array(json.dumps(config))
    _write_atomic(path, arrays)


def load(cls, path, compile: bool = True):
    """The model of class ``cls`` (``Sequential``) saved at ``path``: built, with its weights,
    and (if it was compiled and ``compile`` is True) compiled with its optimizer's state.
    ``mlplab.load_model(path)`` calls it."""
    config, arrays = _read(path)
    model = cls.from_config(config["model"])
    if config["built"]:
        if not model.built:
            model.build(tuple(config["model"]["input_shape"]))
        n = sum(1 for k in arrays if k.startswith("weight_"))
        model.set_weights([arrays[f"weight_{i}"] for i in range(n)])
    comp = config.get("compile")
    if compile and comp is not None:
        model.compile(optimizer=comp["optimizer"], loss=comp["loss"], metrics=comp["metrics"],
                      check_config=False)
        saved = config.get("optimizer_state")
        if saved is not None:
            state = dict(saved["scalars"])
            for key, n in saved["slots"].items():
                state[key] = [arrays[f"opt_{key}_{i}"] for i in range(n)]
            model.optimizer.set_state(state, model.trainable_params)
    model.set_rng_state(config.get("rng", {}))
    if config.get("history"):
        model.history = History()
        for key, value in config["history"].items():
            setattr(model.history, key, value)
    return model


def save_weights(model, path) -> None:
    """Write only the weights [W1, b1, ...] to ``path`` (atomically)."""
    arrays = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    arrays["config"] = np.array(json.dumps({"format": FORMAT, "version": VERSION,
                                            "weights_only": True}))
    _write_atomic(path, arrays)


def load_weights(model, path) -> None:
    """Set ``model``'s weights from a file written by ``save_weights`` or ``save_model``."""
    _, arrays = _read(path)
    n = sum(1 for k in arrays if k.startswith("weight_"))
    model.set_weights([arrays[f"weight_{i}"] for i in range(n)])
