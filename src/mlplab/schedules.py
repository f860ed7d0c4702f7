"""Learning-rate schedules: alpha as a function of the update count k = 0, 1, 2, ...

A schedule goes wherever a learning rate does (``SGD(learning_rate=ExponentialDecay(...))``);
the optimizer evaluates it once per update, at the number of updates made so far. Names,
arguments and formulas are Keras's. For decay per *epoch* instead, use the
``LearningRateScheduler`` or ``ReduceLROnPlateau`` callbacks.
"""
from __future__ import annotations

import math
import numbers

from .exceptions import ArgumentError, ArgumentTypeError
from ._registry import Registry
from ._validation import check_positive_float, check_real

REGISTRY = Registry("learning-rate schedule")


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate``; ``get_config()`` for saving."""

    name = "schedule"

    def __call__(self, step) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, **vars(self)}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


def rate_at(schedule, step: int) -> float:
    """``schedule(step)``, checked: a finite number >= 0, else ArgumentError naming the step
    and the value (the optimizer calls it before each update, so a bad rate changes nothing).
    0 is allowed (a warm-up may start there); a negative rate would climb the loss."""
    value = schedule(step)
    number = None
    if not isinstance(value, bool) and getattr(value, "ndim", 0) == 0 and \
            (isinstance(value, numbers.Real) or hasattr(value, "__float__")):
        number = float(value)  # a Python or NumPy number, or a 0-d array
    if number is None or not math.isfinite(number) or number < 0:
        raise ArgumentError(
            f"learning-rate schedule {schedule!r} returned {value!r} at step {step}; expected "
            f"a finite number >= 0. Fix the schedule (a negative rate climbs the loss, an "
            f"infinite one overflows the weights).")
    return number


def get(identifier) -> LearningRateSchedule:
    """A schedule from a name, class, instance or config dict."""
    return REGISTRY.get(identifier, base=LearningRateSchedule)


def _check_fraction_open(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value:
        raise ArgumentError(f"{where}: {name} must be a positive number; received {value!r}.")
    return float(value)


@REGISTRY.register("exponential_decay", "exponentialdecay")
class ExponentialDecay(LearningRateSchedule):
    """alpha_k = initial_learning_rate * decay_rate^(k / decay_steps).

    With ``staircase=True`` the exponent is floor(k / decay_steps): the rate drops in steps.

    Parameters
    ----------
    initial_learning_rate : float > 0
    decay_steps : int > 0
    decay_rate : float > 0 (below 1 to decay)
    staircase : bool, default=False
    """

    name = "exponential_decay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        where = f"ExponentialDecay(initial_learning_rate={initial_learning_rate!r}, " \
                f"decay_steps={decay_steps!r}, decay_rate={decay_rate!r})"
        self.initial_learning_rate = check_positive_float(initial_learning_rate,
                                                          "initial_learning_rate", where)
        self.decay_steps = check_positive_float(decay_steps, "decay_steps", where)
        self.decay_rate = _check_fraction_open(decay_rate, "decay_rate", where)
        self.staircase = bool(staircase)

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        try:
            return self.initial_learning_rate * self.decay_rate ** p
        except OverflowError:  # r^p beyond the largest float (r > 1): the optimizer's
            return math.inf    # schedules.rate_at refuses it, naming the step


@REGISTRY.register("inverse_time_decay", "inversetimedecay")
class InverseTimeDecay(LearningRateSchedule):
    """alpha_k = initial_learning_rate / (1 + decay_rate * k / decay_steps).

    The lectures' alpha_k = c1 / (k + c2) is ``InverseTimeDecay(c1 / c2, decay_steps=c2,
    decay_rate=1)``; see ``InverseTimeDecay.from_lecture(c1, c2)``.

    Parameters
    ----------
    initial_learning_rate : float > 0
    decay_steps : float > 0
    decay_rate : float >= 0
    staircase : bool, default=False
        Use floor(k / decay_steps).
    """

    name = "inverse_time_decay"

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        where = f"InverseTimeDecay(initial_learning_rate={initial_learning_rate!r}, " \
                f"decay_steps={decay_steps!r}, decay_rate={decay_rate!r})"
        self.initial_learning_rate = check_positive_float(initial_learning_rate,
                                                          "initial_learning_rate", where)
        self.decay_steps = check_positive_float(decay_steps, "decay_steps", where)
        if isinstance(decay_rate, bool) or not isinstance(decay_rate, numbers.Real) \
                or decay_rate < 0:
            raise ArgumentError(f"{where}: decay_rate must be a non-negative number; received "
                                f"{decay_rate!r}.")
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)

    @classmethod
    def from_lecture(cls, c1, c2) -> "InverseTimeDecay":
        """alpha_k = c1 / (k + c2), k = 0, 1, ... (c1, c2 > 0)."""
        c1 = check_positive_float(c1, "c1", f"InverseTimeDecay.from_lecture(c1={c1!r})")
        c2 = check_positive_float(c2, "c2", f"InverseTimeDecay.from_lecture(c2={c2!r})")
        return cls(c1 / c2, decay_steps=c2, decay_rate=1.0)

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


@REGISTRY.register("piecewise_constant_decay", "piecewiseconstantdecay")
class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] for k <= boundaries[0], values[i] for boundaries[i-1] < k <= boundaries[i],
    values[-1] after the last boundary (Keras's convention at the boundaries).

    Parameters
    ----------
    boundaries : increasing list of n step counts
    values : list of n + 1 positive learning rates
    """

    name = "piecewise_constant_decay"

    def __init__(self, boundaries, values):
        where = f"PiecewiseConstantDecay(boundaries={boundaries!r}, values={values!r})"
        for name, seq in (("boundaries", boundaries), ("values", values)):
            if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__len__"):
                raise ArgumentTypeError(f"{where}: {name} must be a list of numbers; received "
                                        f"{seq!r}.")
        boundaries = [check_real(b, "boundaries[i]", where) for b in boundaries]
        values = list(values)
        if len(values) != len(boundaries) + 1:
            raise ArgumentError(f"{where}: values must have one more entry than boundaries "
                                f"(one rate per interval); received {len(boundaries)} boundaries "
                                f"and {len(values)} values.")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ArgumentError(f"{where}: boundaries must be strictly increasing.")
        self.boundaries = [float(b) for b in boundaries]
        self.values = [check_positive_float(v, "values[i]", where) for v in values]

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


@REGISTRY.register("cosine_decay", "cosinedecay")
class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov and Hutter 2017), with an optional linear warmup:

        k' = min(k, decay_steps)
        alpha_k = initial_learning_rate * ((1 - alpha) * 0.5 (1 + cos(pi k' / decay_steps)) + alpha)

    With ``warmup_target`` and ``warmup_steps`` the rate first rises linearly from
    initial_learning_rate to warmup_target over warmup_steps updates, then decays from
    warmup_target as above (k counted from the end of the warmup).

    Parameters
    ----------
    initial_learning_rate : float > 0
    decay_steps : int > 0
    alpha : float in [0, 1], default=0.0
        Final rate as a fraction of the starting one.
    warmup_target : float, optional
    warmup_steps : int, default=0
    """

    name = "cosine_decay"

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None,
                 warmup_steps=0):
        where = f"CosineDecay(initial_learning_rate={initial_learning_rate!r}, " \
                f"decay_steps={decay_steps!r}, alpha={alpha!r})"
        self.initial_learning_rate = check_positive_float(initial_learning_rate,
                                                          "initial_learning_rate", where)
        self.decay_steps = check_positive_float(decay_steps, "decay_steps", where)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 <= alpha <= 1:
            raise ArgumentError(f"{where}: alpha must be a number in [0, 1]; received {alpha!r}.")
        self.alpha = float(alpha)
        self.warmup_target = None if warmup_target is None else check_positive_float(
            warmup_target, "warmup_target", where)
        self.warmup_steps = float(warmup_steps)

    def __call__(self, step):
        start = self.initial_learning_rate
        if self.warmup_target is not None:
            if step < self.warmup_steps:
                return start + (self.warmup_target - start) * step / self.warmup_steps
            start, step = self.warmup_target, step - self.warmup_steps
        k = min(step, self.decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * k / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)
