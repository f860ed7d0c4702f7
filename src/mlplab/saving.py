"""Saving and loading a model in one file: configuration, weights and optimizer state.

The file is a NumPy ``.npz`` archive (a zip of ``.npy`` members, stored uncompressed) holding a
JSON string (the model's ``get_config()``, the compile settings, the optimizer's scalar state,
the random generators' states, the History and, in a backup, the training loop's state) and
plain arrays (weights, optimizer slots).

Writing is atomic: a temporary file in the same folder (``.NAME.tmp-mlplab-PID-XXXX``), fsync,
``os.replace``, fsync of the folder. A crash mid-write leaves the previous file intact and at
most that temporary file, which the next save or load of NAME removes. The file's mode follows
the umask, and a symbolic link is followed (its target is written; the link stays).

Reading never unpickles and never trusts the file: every member's header is checked (plain
numeric dtypes only, declared size = stored size <= the file's size) before its array is made,
the JSON is checked for its structure, and every weight shape the configuration implies is
checked against the stored arrays before any layer is built. Whatever is wrong with a file
raises :class:`mlplab.ModelFileError` naming the file and the problem.

    model.save("model.npz")
    model = mlplab.load_model("model.npz")     # compiled, optimizer state included
"""
from __future__ import annotations

import ast
import json
import math
import os
import re
import tempfile
import zipfile
import zlib

import numpy as np

from .exceptions import ModelFileError

FORMAT = "mlplab-model"
VERSION = 1

MAX_CONFIG_CHARS = 16 * 2 ** 20   #: the JSON string's limit (a real one is a few kB)
MAX_DEPTH = 32                    #: nesting of the JSON (a real config nests 6 deep)
MAX_MEMBERS = 10_000
_DTYPES = ("<f4", "<f8", "<i8", "<u4", "<u8", "|b1")  # what mlplab writes (and little-endian)
_MEMBER = re.compile(r"^(config|weight_\d+|opt_[A-Za-z_]+_\d+|train_\d+)\.npy$")


# ---------------------------------------------------------------------------------- writing
def _tmp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}.tmp-mlplab-"


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting (briefly) and restoring it
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(path) -> list[str]:
    """Remove the temporary files that interrupted saves of ``path`` left (those whose writing
    process is gone: a kill or a crash; a failed save removes its own); returns their names.
    Errors (a read-only folder) are ignored."""
    path = os.path.realpath(os.fspath(path))
    folder, prefix = os.path.dirname(path), _tmp_prefix(path)
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(prefix):
            continue
        pid = name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or _pid_alive(int(pid))):
            continue  # being written now (by another thread or process)
        try:
            os.remove(os.path.join(folder, name))
            removed.append(name)
        except OSError:
            pass
    return removed


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path, write, what: str = "save()") -> str:
    """Write a file through ``write(binary_file)`` atomically; returns the path written (a
    symbolic link's target). Nothing changes at ``path`` unless the whole file was written."""
    given = os.fspath(path)
    path = os.path.realpath(given)
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{what}: '{given}' is a folder; give a file name, e.g. "
                                f"'{os.path.join(given, 'model.npz')}'.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{what}: cannot write '{given}': the folder '{folder}' does "
                                f"not exist. Create it first (os.makedirs).")
    remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{_tmp_prefix(path)}{os.getpid()}-")
    except OSError as exc:  # EACCES, EROFS (a read-only file system), ENOSPC...
        error = PermissionError if isinstance(exc, PermissionError) else OSError
        raise error(exc.errno, f"{what}: cannot write '{given}': the folder '{folder}' is not "
                               f"writable ({exc.strerror}); nothing was changed. Choose a "
                               f"writable folder.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, PermissionError):
            raise OSError(exc.errno, f"{what}: writing '{given}' failed ({exc.strerror or exc}); "
                                     f"the previous file is unchanged.") from exc
        raise
    _fsync_folder(folder)
    return path


def _write_atomic(path, arrays: dict) -> None:
    write_atomic(path, lambda f: np.savez(f, **arrays))


# ---------------------------------------------------------------------------------- reading
class _Bad(Exception):
    """What is wrong with a file (turned into ModelFileError with the file's name)."""


def _npy_header(raw: bytes):
    """(shape, fortran_order, dtype string, offset of the data) of one .npy member."""
    if raw[:6] != b"\x93NUMPY" or len(raw) < 10:
        raise _Bad("a member is not a .npy array")
    major = raw[6]
    if major == 1:
        hlen, start = int.from_bytes(raw[8:10], "little"), 10
    elif major in (2, 3):
        if len(raw) < 12:
            raise _Bad("a member's header is truncated")
        hlen, start = int.from_bytes(raw[8:12], "little"), 12
    else:
        raise _Bad(f"a member has .npy format version {major}")
    if hlen > 65536 or start + hlen > len(raw):
        raise _Bad("a member's header is truncated")
    try:
        header = ast.literal_eval(raw[start:start + hlen].decode("latin1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise _Bad("a member's header is not readable") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise _Bad("a member's header is not a .npy header")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(shape, tuple) or len(shape) > 8 or not all(
            type(s) is int and 0 <= s < 2 ** 40 for s in shape) or type(fortran) is not bool:
        raise _Bad(f"a member declares the shape {shape!r}")
    if not isinstance(descr, str):
        raise _Bad("a member holds a structured or Python-object dtype (refused: a model "
                   "file holds plain numbers; nothing is unpickled)")
    return shape, fortran, descr, start + hlen


def _array(name: str, raw: bytes) -> np.ndarray:
    shape, fortran, descr, offset = _npy_header(raw)
    if descr == "|O" or descr.startswith("|V"):
        raise _Bad(f"member '{name}' holds Python objects (dtype {descr}); a model file holds "
                   f"plain numbers and mlplab never unpickles")
    if name == "config.npy":
        if not re.fullmatch(r"<U\d{1,9}", descr) or shape != ():
            raise _Bad(f"its config has dtype {descr} and shape {shape}, not a JSON string")
        chars = int(descr[2:])
        if chars > MAX_CONFIG_CHARS:
            raise _Bad(f"its config declares {chars:,} characters (more than "
                       f"{MAX_CONFIG_CHARS:,})")
        itemsize = 4 * chars
    else:
        if descr not in _DTYPES:
            raise _Bad(f"member '{name}' has dtype {descr!r}; expected one of {_DTYPES}")
        itemsize = np.dtype(descr).itemsize
    nbytes = math.prod(shape) * itemsize
    if nbytes != len(raw) - offset:
        raise _Bad(f"member '{name}' declares shape {shape} ({nbytes:,} bytes) but stores "
                   f"{len(raw) - offset:,} bytes: the file is truncated or corrupted")
    data = np.frombuffer(raw, dtype=np.dtype(descr), count=math.prod(shape), offset=offset)
    return data.reshape(shape, order="F" if fortran else "C").copy()


def _members(path: str) -> dict:
    """The archive's arrays by name, every size checked before it is read."""
    size = os.path.getsize(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise _Bad(f"it has {len(infos):,} members")
            if "config.npy" not in zf.namelist():
                raise _Bad("it is not an mlplab model file (no config)")
            total = 0
            for info in infos:
                if not _MEMBER.match(info.filename):
                    raise _Bad(f"it has an unexpected member '{info.filename}'")
                if info.compress_type != zipfile.ZIP_STORED:
                    raise _Bad(f"member '{info.filename}' is compressed (mlplab writes stored "
                               f"members only)")
                total += info.file_size
                if info.file_size != info.compress_size or total > size:
                    raise _Bad(f"its members declare {total:,} bytes, more than the file's "
                               f"{size:,}: it is truncated or corrupted")
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise _Bad("it holds a member twice")
            return {n[:-4]: _array(n, zf.read(n)) for n in names}
    except zipfile.BadZipFile as exc:
        raise _Bad(f"it is not a valid .npz (zip) archive: truncated, corrupted or another "
                   f"kind of file ({exc})") from None
    except (EOFError, OSError, ValueError, OverflowError, MemoryError, KeyError,
            NotImplementedError, RuntimeError, zlib.error) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise _Bad(f"its archive cannot be read ({type(exc).__name__}: {exc})") from None


def _depth(text: str) -> int:
    """The deepest nesting of brackets in a JSON text (outside strings)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _parse_config(arrays: dict) -> dict:
    if "config" not in arrays:
        raise _Bad("it has no config (not an mlplab model file)")
    text = str(arrays.pop("config"))
    if _depth(text) > MAX_DEPTH:
        raise _Bad(f"its config nests deeper than {MAX_DEPTH} levels")
    try:
        config = json.loads(text, parse_constant=lambda c: float(c))
    except (ValueError, RecursionError) as exc:
        raise _Bad(f"its config is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _Bad("its config is not an mlplab model's (not an mlplab model file)")
    version = config.get("version")
    if type(version) is not int or version < 1:
        raise _Bad(f"its format version is {version!r}")
    if version > VERSION:
        raise _Bad(f"it was written by a newer mlplab (format version {version}; this mlplab "
                   f"reads up to {VERSION}). Upgrade mlplab to read it")
    return config


def _read(path, what: str = "load_model()") -> tuple[dict, dict]:
    """(config, arrays) of a model file, checked; ModelFileError for anything wrong."""
    given = os.fspath(path)
    path = os.path.realpath(given)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: no file at '{given}'. Save one with "
                                f"model.save('{given}').")
    if os.path.isdir(path):
        raise ModelFileError(f"{what}: '{given}' is a folder, not a model file.")
    remove_stale_temporaries(path)
    try:
        arrays = _members(path)
        return _parse_config(arrays), arrays
    except _Bad as exc:
        raise ModelFileError(f"{what}: '{given}' cannot be loaded: {exc}.") from None


# ---------------------------------------------------------------------------------- checking
def _is_int(v, low=0, high=2 ** 40) -> bool:
    return type(v) is int and low <= v <= high


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise _Bad(message)


def _weight_shapes(model: dict) -> list[tuple] | None:
    """The weight shapes a model config implies, from its input shape (None: no input
    shape); checked before anything is built (building allocates the weights)."""
    _need(isinstance(model, dict), "its model config is not an object")
    _need(model.get("dtype", "float32") in ("float32", "float64"),
          f"its model dtype is {model.get('dtype')!r}")
    seed = model.get("seed")
    _need(seed is None or _is_int(seed, 0, 2 ** 128), f"its model seed is {seed!r}")
    layers = model.get("layers")
    _need(isinstance(layers, list) and len(layers) <= 10_000, "its layer list is not a list")
    for layer in layers:
        _need(isinstance(layer, dict) and isinstance(layer.get("class_name"), str)
              and isinstance(layer.get("config"), dict), f"a layer entry is {layer!r:.80}")
    shape = model.get("input_shape")
    if shape is None:
        return None
    _need(isinstance(shape, list) and 1 <= len(shape) <= 8 and all(_is_int(s, 1) for s in shape),
          f"its input shape is {shape!r:.80}")
    shape, shapes = tuple(shape), []
    for layer in layers:
        name, cfg = layer["class_name"], layer["config"]
        _need(name in ("Dense", "Flatten", "Dropout", "Activation"),
              f"it has a layer of class {name!r:.40} (known: Dense, Flatten, Dropout, "
              f"Activation)")
        if name == "Dense":
            units = cfg.get("units")
            _need(_is_int(units, 1), f"a Dense layer has units={units!r:.40}")
            _need(len(shape) == 1, f"a Dense layer gets samples of shape {shape}")
            shapes.append((shape[0], units))
            if cfg.get("use_bias", True):
                shapes.append((units,))
            shape = (units,)
        elif name == "Flatten":
            shape = (math.prod(shape),)
    return shapes


def _check_against_arrays(config: dict, arrays: dict) -> None:
    """Every structure and shape the config declares, against the stored arrays."""
    _need(isinstance(config.get("built", False), bool), "its 'built' flag is not a boolean")
    weights = sorted((k for k in arrays if k.startswith("weight_")), key=lambda k: int(k[7:]))
    _need(weights == [f"weight_{i}" for i in range(len(weights))],
          "its weight arrays are not numbered 0..n-1")
    if config.get("weights_only"):
        return
    shapes = _weight_shapes(config.get("model"))
    dtype = config["model"].get("dtype", "float32")
    if config.get("built"):
        _need(shapes is not None, "it is marked built but its model has no input shape")
        stored = [arrays[k].shape for k in weights]
        _need(stored == shapes, f"its configuration implies weights of shapes {shapes} but it "
                                f"stores {stored}: the file does not belong together")
        for k in weights:
            _need(arrays[k].dtype == np.dtype(dtype),
                  f"array {k} has dtype {arrays[k].dtype}, the model {dtype}")
    else:
        _need(not weights, "it stores weights but is marked not built")
    for key in ("compile", "optimizer_state", "history", "training"):
        _need(config.get(key) is None or isinstance(config[key], dict),
              f"its '{key}' entry is not an object")
    _need(isinstance(config.get("rng", {}), dict), "its 'rng' entry is not an object")
    saved = config.get("optimizer_state")
    if saved is not None:
        scalars, slots = saved.get("scalars"), saved.get("slots")
        _need(isinstance(scalars, dict) and isinstance(slots, dict),
              "its optimizer state is not {scalars, slots}")
        for key, n in slots.items():
            _need(_is_int(n) and n == len(weights), f"optimizer slot '{key}' has {n!r} arrays; "
                                                    f"the model {len(weights)}")
            for i in range(n):
                a = arrays.get(f"opt_{key}_{i}")
                _need(a is not None and a.shape == arrays[f"weight_{i}"].shape,
                      f"optimizer slot '{key}' array {i} is missing or has the wrong shape")
        for key, value in scalars.items():
            _need(isinstance(value, (int, float)) and not isinstance(value, bool),
                  f"optimizer scalar '{key}' is {value!r:.40}")
    history = config.get("history")
    if history is not None:
        logs = history.get("history")
        _need(isinstance(logs, dict) and all(isinstance(v, list) and all(
            isinstance(x, (int, float)) for x in v) for v in logs.values())
              and isinstance(history.get("epoch"), list)
              and all(_is_int(e) for e in history["epoch"]), "its History is malformed")


def _build(cls, config, arrays, compile):
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
            model.optimizer.set_state(optimizer_state(saved, arrays), model.trainable_params)
    model.set_rng_state(config.get("rng", {}))
    if config.get("history"):
        model._set_history(config["history"])
    return model


def optimizer_state(saved: dict, arrays: dict) -> dict:
    state = dict(saved["scalars"])
    for key, n in saved["slots"].items():
        state[key] = [arrays[f"opt_{key}_{i}"] for i in range(n)]
    return state


def checked(path, what: str, use):
    """``use()`` (which applies a checked file to a model), its errors as ModelFileError."""
    try:
        return use()
    except ModelFileError:
        raise
    except _Bad as exc:
        raise ModelFileError(f"{what}: '{os.fspath(path)}' cannot be loaded: {exc}.") from None
    except Exception as exc:  # the config passed the checks but a constructor refused it
        raise ModelFileError(f"{what}: '{os.fspath(path)}' cannot be loaded: its configuration "
                             f"is refused ({type(exc).__name__}: {exc}).") from None


# ---------------------------------------------------------------------------------- the API
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


def pack(value, arrays: dict):
    """``value`` as JSON, each ndarray in it moved to ``arrays`` as ``train_i`` and replaced by
    ``{"__array__": i}``."""
    if isinstance(value, np.ndarray):
        i = sum(1 for k in arrays if k.startswith("train_"))
        arrays[f"train_{i}"] = value
        return {"__array__": i}
    if isinstance(value, dict):
        return {str(k): pack(v, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [pack(v, arrays) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value


def unpack(value, arrays: dict):
    """The inverse of :func:`pack`."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            key = f"train_{value['__array__']}"
            _need(key in arrays, f"its training state refers to a missing array {key}")
            return arrays[key]
        return {k: unpack(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [unpack(v, arrays) for v in value]
    return value


def save_model(model, path, training=None) -> None:
    """Write ``model`` (configuration, weights, compile settings, optimizer state, History) to
    ``path`` atomically; ``training`` is a backup's loop state (BackupAndRestore).

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
                scalars[key] = value.item() if isinstance(value, np.generic) else value
        config["optimizer_state"] = {"scalars": scalars, "slots": slots}
    if training is not None:
        config["training"] = _json_ready(pack(training, arrays), "training state")
    arrays["config"] = np.array(json.dumps(config))
    _write_atomic(path, arrays)


def read_checked(path, what: str = "load_model()") -> tuple[dict, dict]:
    """(config, arrays) of a model file whose structure and shapes have been checked."""
    config, arrays = _read(path, what)
    checked(path, what, lambda: _check_against_arrays(config, arrays))
    return config, arrays


def load(cls, path, compile: bool = True):
    """The model of class ``cls`` (``Sequential``) saved at ``path``: built, with its weights,
    and (if it was compiled and ``compile`` is True) compiled with its optimizer's state.
    ``mlplab.load_model(path)`` calls it; a bad file raises ModelFileError."""
    config, arrays = read_checked(path, "load_model()")
    if config.get("weights_only"):
        raise ModelFileError(f"load_model(): '{os.fspath(path)}' holds weights only (written "
                             f"by save_weights()); build the model in code and call "
                             f"model.load_weights('{os.fspath(path)}').")
    return checked(path, "load_model()", lambda: _build(cls, config, arrays, compile))


def save_weights(model, path) -> None:
    """Write only the weights [W1, b1, ...] to ``path`` (atomically)."""
    arrays = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    arrays["config"] = np.array(json.dumps({"format": FORMAT, "version": VERSION,
                                            "weights_only": True}))
    _write_atomic(path, arrays)


def load_weights(model, path) -> None:
    """Set ``model``'s weights from a file written by ``save_weights`` or ``save_model``."""
    _, arrays = read_checked(path, "load_weights()")
    n = sum(1 for k in arrays if k.startswith("weight_"))
    weights = [arrays[f"weight_{i}"] for i in range(n)]
    mine = [p.shape for p in model.trainable_params]
    if [w.shape for w in weights] != mine:
        raise ModelFileError(f"load_weights(): '{os.fspath(path)}' holds weights of shapes "
                             f"{[w.shape for w in weights]}; this model's are {mine}.")
    checked(path, "load_weights()", lambda: model.set_weights(weights))
