"""The property suite's machinery: hostile argument values, a deep snapshot of an object's
state, and the one check every generated call goes through.

``attempt(group, call, state)`` runs ``call()`` and classifies the outcome:

- accepted: it returned;
- rejected clearly: it raised one of mlplab's own types (``MlplabError`` subclasses, or
  ``NotFittedError`` where scikit-learn raises it);
- internal: it raised anything else (a bare TypeError from NumPy, a KeyError, ...);
- state change: it was rejected, yet ``state`` (weights, optimizer state, compiled flag,
  config, fitted attributes, random generators) differs from its snapshot before the call.

In strict mode (the pytest run) an internal error or a state change fails at once, so
hypothesis shrinks it to a minimal example; the report (``tests/property/report.py``) counts
them instead.
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import os
import warnings
from collections import Counter, defaultdict

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import mlplab
from mlplab.exceptions import MlplabError, NotFittedError

#: Examples per property test: modest in CI (reproducible: derandomized, no database).
EXAMPLES = int(os.environ.get("MLPLAB_PROPERTY_EXAMPLES", "30"))
STRICT = os.environ.get("MLPLAB_PROPERTY_STRICT", "1") == "1"


def property_settings(scale: float = 1.0):
    return settings(max_examples=max(1, int(EXAMPLES * scale)), deadline=None,
                    derandomize=True, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))


class Tally:
    """Outcomes per API group."""

    def __init__(self):
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.internal: dict[str, Counter] = defaultdict(Counter)
        self.examples: dict[str, list] = defaultdict(list)
        self.labels: dict[str, Counter] = defaultdict(Counter)

    def add(self, group, outcome, detail=None):
        self.counts[group][outcome] += 1
        if outcome in ("internal", "state change", "crash"):
            self.internal[group][detail[0]] += 1
            self.labels[group][detail[1]] += 1
            if len(self.examples[group]) < 5:
                self.examples[group].append(detail)


TALLY = Tally()


class Failure(AssertionError):
    """An internal exception type or a state change after a rejected call."""


def attempt(group: str, call, state=None, label: str = "", also: tuple = ()):
    """Run ``call()``; classify and record the outcome (see the module docstring).

    ``also``: built-in types that count as a clear refusal here (FileNotFoundError for a
    missing file). Returns ``(accepted, result_or_exception)``."""
    before = snapshot(state) if state is not None else None
    with warnings.catch_warnings(), np.errstate(all="ignore"), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            result = call()
        except (MlplabError, NotFittedError) + tuple(also) as exc:
            if state is not None:
                diff = difference(before, snapshot(state))
                if diff is not None:
                    TALLY.add(group, "state change", (type(exc).__name__, label, diff, str(exc)))
                    if STRICT:
                        raise Failure(f"{group} {label}: rejected with {type(exc).__name__} "
                                      f"({exc}) but changed the state at {diff}") from exc
                    return False, exc
            if not str(exc):
                TALLY.add(group, "internal", ("empty message " + type(exc).__name__, label,
                                              "", ""))
                if STRICT:
                    raise Failure(f"{group} {label}: {type(exc).__name__} without a message")
                return False, exc
            TALLY.add(group, "rejected")
            if len(TALLY.examples[group + " rejected"]) < 8:
                TALLY.examples[group + " rejected"].append((label, str(exc)[:150]))
            return False, exc
        except (KeyboardInterrupt, SystemExit):
            raise
        except Failure:
            raise
        except BaseException as exc:  # noqa: BLE001 - classifying every other type is the point
            TALLY.add(group, "internal", (type(exc).__name__, label, "", str(exc)[:200]))
            if STRICT:
                raise Failure(f"{group} {label}: internal {type(exc).__name__}: {exc}") from exc
            return False, exc
    TALLY.add(group, "accepted")
    return True, result


# ---------------------------------------------------------------------- state snapshots
#: Caches that a call may rebuild without changing what the object computes.
CACHE_KEYS = frozenset({"_steps", "_plan_cache", "_lock"})


def snapshot(obj):
    """A deep copy of ``obj``'s state (its ``__dict__`` and everything it reaches)."""
    return copy.deepcopy(obj)


def difference(a, b, path="state", seen=None) -> str | None:
    """The path of the first difference between two snapshots, or None when equal."""
    seen = set() if seen is None else seen
    if id(a) in seen:
        return None
    if type(a) is not type(b):
        return f"{path}: type {type(a).__name__} -> {type(b).__name__}"
    if isinstance(a, np.ndarray):
        same = a.shape == b.shape and a.dtype == b.dtype and (
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype != object
            else all(difference(x, y) is None for x, y in zip(a.ravel(), b.ravel())))
        return None if same else f"{path}: array {a.shape} {a.dtype} -> {b.shape} {b.dtype}"
    if isinstance(a, np.random.Generator):
        return difference(a.bit_generator.state, b.bit_generator.state, path + ".rng", seen)
    if isinstance(a, float) or isinstance(a, np.floating):
        return None if (a == b or (math.isnan(a) and math.isnan(b))) else f"{path}: {a} -> {b}"
    if isinstance(a, (str, bytes, int, bool, type(None), np.generic, type)) or callable(a) \
            and not hasattr(a, "__dict__"):
        return None if a is b or a == b else f"{path}: {a!r} -> {b!r}"
    seen.add(id(a))
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {sorted(map(str, a))} -> {sorted(map(str, b))}"
        for key in a:
            if key in CACHE_KEYS:
                continue
            diff = difference(a[key], b[key], f"{path}[{key!r}]", seen)
            if diff:
                return diff
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} -> {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = difference(x, y, f"{path}[{i}]", seen)
            if diff:
                return diff
        return None
    if hasattr(a, "__dict__"):
        return difference(vars(a), vars(b), f"{path}.{type(a).__name__}", seen)
    return None


# ---------------------------------------------------------------------- hostile values
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
weird_floats = st.sampled_from([0.0, -0.0, -1.0, 1e-320, 1e30, -1e30, 1e300, float("nan"),
                                float("inf"), -float("inf"), 0.5, 2.5])
weird_ints = st.sampled_from([0, -1, 1, 2, 3, 10**20, -(10**20), True, False, np.int64(2),
                              np.uint8(3)])
scalars = st.one_of(st.none(), st.booleans(), weird_ints, weird_floats,
                    st.integers(-3, 5), st.text(max_size=4),
                    st.sampled_from(["", "784", "auto", "full", "nan", "mse", "sgd", "relu",
                                     "accuracy", "1e-3", b"x", 1j, object()]))


def _arrays(draw_shape, dtypes):
    return st.tuples(draw_shape, dtypes).flatmap(
        lambda sd: st.builds(lambda data: _make(sd[0], sd[1], data),
                             st.lists(st.one_of(finite, weird_floats), min_size=1,
                                      max_size=4)))


def _make(shape, dtype, values):
    n = int(np.prod(shape))
    flat = np.resize(np.array(values, dtype=np.float64), n) if n else np.zeros(0)
    with np.errstate(all="ignore"):
        if dtype == "object":
            return np.array(list(flat) + [None] * 0, dtype=object).reshape(shape)
        if dtype == "str":
            return flat.astype(str).reshape(shape)
        if dtype == "complex":
            return (flat + 1j).reshape(shape)
        return flat.astype(dtype).reshape(shape)


shapes = st.one_of(st.sampled_from([(), (0,), (0, 3), (3, 0), (1,), (4,), (4, 1), (4, 3), (5, 3),
                                    (4, 2), (6, 3), (4, 3, 1), (2, 2, 2), (1, 3), (4, 10)]))
dtypes = st.sampled_from(["float64", "float32", "float16", "int64", "uint8", "bool", "object",
                          "str", "complex"])
arrays = _arrays(shapes, dtypes)
anything = st.one_of(scalars, arrays, st.lists(st.one_of(weird_ints, weird_floats), max_size=3),
                     st.tuples(st.integers(-1, 4), st.integers(-1, 4)),
                     st.dictionaries(st.sampled_from(["name", "x", "units"]), scalars,
                                     max_size=2))


def valid_or(valid, hostile=anything, weight=3):
    """``valid`` values ``weight`` times as often as hostile ones."""
    return st.one_of(*[valid] * weight, hostile)


@st.composite
def one_hostile(draw, valid: dict, hostile=anything):
    """Keyword arguments: valid values, with none, one or (sometimes) two replaced by hostile
    ones, so that both outcomes are well represented."""
    kwargs = {key: draw(strategy) for key, strategy in valid.items()}
    keys = [None] + list(valid)
    for key in {draw(st.sampled_from(keys)), draw(st.sampled_from(keys + [None] * len(keys)))}:
        if key is not None:
            kwargs[key] = draw(hostile)
    return kwargs


def small_model(n_in=3, n_out=2, activation="softmax", loss="categorical_crossentropy",
                metrics=("accuracy",), optimizer="adam", train=True, seed=0):
    """A built, compiled model whose optimizer already has state (one step taken)."""
    model = mlplab.Sequential([mlplab.Input((n_in,)), mlplab.Dense(4, activation="tanh"),
                               mlplab.Dense(n_out, activation=activation)], seed=seed)
    model.compile(optimizer, loss, list(metrics))
    if train:
        x, y = training_data(n_in, n_out, loss)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.train_on_batch(x, y)
    return model


def training_data(n_in=3, n_out=2, loss="categorical_crossentropy", n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in))
    labels = np.arange(n) % n_out
    if "sparse" in loss:
        return x, labels
    if n_out == 1:
        return x, labels.reshape(-1, 1).astype(float)
    return x, np.eye(n_out)[labels]
