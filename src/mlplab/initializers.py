"""Weight initializers with Keras's names; each draws from the model's seeded Generator.

``fan_in`` and ``fan_out`` of a Dense kernel of shape (inputs, units) are inputs and units.
"""
from __future__ import annotations

import math

import numpy as np

from ._registry import Registry
from ._validation import check_choice, check_real

REGISTRY = Registry("initializer")


class Initializer:
    """Base class: ``__call__(shape, rng, dtype) -> ndarray``."""

    name = "initializer"

    def __call__(self, shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, **{k: v for k, v in vars(self).items()}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def get(identifier) -> Initializer:
    return REGISTRY.get(identifier, base=Initializer)


def _fans(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


@REGISTRY.register("zeros", "zero")
class Zeros(Initializer):
    name = "zeros"

    def __call__(self, shape, rng, dtype=np.float32):
        return np.zeros(shape, dtype=dtype)


@REGISTRY.register("ones", "one")
class Ones(Initializer):
    name = "ones"

    def __call__(self, shape, rng, dtype=np.float32):
        return np.ones(shape, dtype=dtype)


@REGISTRY.register("constant")
class Constant(Initializer):
    name = "constant"

    def __init__(self, value: float = 0.0):
        self.value = check_real(value, "value", f"Constant(value={value!r})")

    def __call__(self, shape, rng, dtype=np.float32):
        return np.full(shape, self.value, dtype=dtype)


@REGISTRY.register("random_uniform", "uniform")
class RandomUniform(Initializer):
    """U(minval, maxval); Keras defaults -0.05, 0.05."""

    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        where = f"RandomUniform(minval={minval!r}, maxval={maxval!r})"
        self.minval = check_real(minval, "minval", where)
        self.maxval = check_real(maxval, "maxval", where, low=self.minval)

    def __call__(self, shape, rng, dtype=np.float32):
        return rng.uniform(self.minval, self.maxval, size=shape).astype(dtype)


@REGISTRY.register("random_normal", "normal")
class RandomNormal(Initializer):
    """N(mean, stddev^2); Keras defaults 0, 0.05."""

    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        where = f"{type(self).__name__}(mean={mean!r}, stddev={stddev!r})"
        self.mean = check_real(mean, "mean", where)
        self.stddev = check_real(stddev, "stddev", where, low=0.0)

    def __call__(self, shape, rng, dtype=np.float32):
        return rng.normal(self.mean, self.stddev, size=shape).astype(dtype)


def _truncated_normal(rng, shape, mean, stddev):
    """Normal draws re-drawn until within two standard deviations of the mean."""
    out = rng.standard_normal(size=shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(out) > 2.0
    return mean + stddev * out


@REGISTRY.register("truncated_normal")
class TruncatedNormal(Initializer):
    """N(mean, stddev^2) truncated to mean +- 2 stddev; Keras defaults 0, 0.05."""

    name = "truncated_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        where = f"{type(self).__name__}(mean={mean!r}, stddev={stddev!r})"
        self.mean = check_real(mean, "mean", where)
        self.stddev = check_real(stddev, "stddev", where, low=0.0)

    def __call__(self, shape, rng, dtype=np.float32):
        return _truncated_normal(rng, shape, self.mean, self.stddev).astype(dtype)


@REGISTRY.register("variance_scaling")
class VarianceScaling(Initializer):
    """Var(w) = scale / n with n = fan_in, fan_out or their mean (``mode``).

    ``distribution`` is "uniform" (limit sqrt(3 scale / n)) or "truncated_normal"
    (stddev sqrt(scale / n) / 0.8796, Keras's correction for the truncation) or
    "untruncated_normal".
    """

    name = "variance_scaling"

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        where = f"VarianceScaling(scale={scale!r}, mode={mode!r}, distribution={distribution!r})"
        self.scale = check_real(scale, "scale", where, low=0.0, low_open=True)
        self.mode = check_choice(mode, "mode", where, ("fan_in", "fan_out", "fan_avg"))
        self.distribution = check_choice(distribution, "distribution", where,
                                         ("truncated_normal", "untruncated_normal", "uniform"))

    def __call__(self, shape, rng, dtype=np.float32):
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, size=shape).astype(dtype)
        if self.distribution == "truncated_normal":
            std = math.sqrt(variance) / 0.87962566103423978
            return _truncated_normal(rng, shape, 0.0, std).astype(dtype)
        return rng.normal(0.0, math.sqrt(variance), size=shape).astype(dtype)


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling with fixed (scale, mode, distribution); its config is its name."""

    _args: tuple

    def __init__(self):
        super().__init__(*self._args)

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"{self.name}()"


def _variance_scaling(cls_name, name, scale, mode, distribution, doc):
    # The class is named as the module attribute that holds it, so that pickle (which finds a
    # class by module and __qualname__) can find it again.
    cls = type(cls_name, (_FixedVarianceScaling,), {
        "name": name, "__doc__": doc, "_args": (scale, mode, distribution),
        "__module__": __name__, "__qualname__": cls_name})
    return REGISTRY.register(name)(cls)


GlorotUniform = _variance_scaling("GlorotUniform", "glorot_uniform", 1.0, "fan_avg", "uniform",
                                  "U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Xavier).")
GlorotNormal = _variance_scaling("GlorotNormal", "glorot_normal", 1.0, "fan_avg",
                                 "truncated_normal",
                                 "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).")
HeUniform = _variance_scaling("HeUniform", "he_uniform", 2.0, "fan_in", "uniform",
                              "U(-l, l), l = sqrt(6 / fan_in); for ReLU layers.")
HeNormal = _variance_scaling("HeNormal", "he_normal", 2.0, "fan_in", "truncated_normal",
                             "Truncated normal, stddev sqrt(2 / fan_in); for ReLU layers.")
LecunUniform = _variance_scaling("LecunUniform", "lecun_uniform", 1.0, "fan_in", "uniform",
                                 "U(-l, l), l = sqrt(3 / fan_in).")
LecunNormal = _variance_scaling("LecunNormal", "lecun_normal", 1.0, "fan_in",
                                "truncated_normal", "Truncated normal, stddev sqrt(1 / fan_in).")


@REGISTRY.register("orthogonal")
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal draw."""

    name = "orthogonal"

    def __init__(self, gain: float = 1.0):
        self.gain = check_real(gain, "gain", f"Orthogonal(gain={gain!r})")

    def __call__(self, shape, rng, dtype=np.float32):
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = rng.standard_normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(dtype)
