"""Optimizers: how a gradient becomes a weight update. Sorted by increasing complexity.

All share one small interface: ``apply(params, grads)`` updates each parameter array in place
(after optional gradient clipping) and counts the step; a subclass writes only
``update_step(index, param, grad, lr)`` for one array, and ``build`` for its state (slots).
``learning_rate`` is a number or a schedule (any callable step -> rate, see
``mlplab.schedules``), evaluated once per update at the step count before it (0, 1, 2, ...).

Notation in the docstrings: w a weight array, g = dE/dw its gradient, alpha the learning rate,
t = 1, 2, ... the update count; all operations are elementwise. Names and defaults are
Keras's; where ``torch.optim`` writes the same method differently the docstring says how to
map the hyperparameters (the tests check every optimizer against ``torch.optim`` that way).

Updates run in place on preallocated slot arrays, with coefficients cast to the parameter's
dtype, so a float32 model stays float32 and a step allocates (almost) nothing.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .exceptions import ArgumentError, ArgumentTypeError
from ._registry import Registry
from ._validation import check_positive_float

REGISTRY = Registry("optimizer")


def _check_coefficient(value, name, where, low=0.0, high=1.0, include_low=True):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and \
        (low <= value if include_low else low < value) and value < high
    if not ok:
        left = "[" if include_low else "("
        raise ArgumentError(f"{where}: {name} must be a number in {left}{low:g}, {high:g}); "
                         f"received {value!r}.")
    return float(value)


def _check_non_negative(value, name, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 \
            or not math.isfinite(value):
        raise ArgumentError(f"{where}: {name} must be a non-negative finite number; received "
                            f"{value!r}.")
    return float(value)


class Optimizer:
    """Base class.

    Parameters
    ----------
    learning_rate : float or schedule
        alpha, the step size. Must be positive. A schedule (``mlplab.schedules``, or any
        callable step -> rate) is evaluated at every update.
    clipnorm : float, optional
        Rescale each gradient array g to norm at most ``clipnorm``:
        g <- g * clipnorm / max(||g||, clipnorm) (Keras's per-array rule).
    global_clipnorm : float, optional
        Rescale all gradients together so their joint norm is at most this:
        g <- g * min(1, c / (||(g_1, ..., g_n)|| + 1e-6)), exactly
        ``torch.nn.utils.clip_grad_norm_(params, c)``.
    clipvalue : float, optional
        Clip every gradient component to [-clipvalue, clipvalue]
        (``torch.nn.utils.clip_grad_value_``).

    Clipping order: value, then per-array norm, then global norm.
    """

    name = "optimizer"

    def __init__(self, learning_rate=0.01, clipnorm=None, clipvalue=None, global_clipnorm=None):
        where = f"{type(self).__name__}(learning_rate={learning_rate!r})"
        if isinstance(learning_rate, dict):
            from . import schedules

            learning_rate = schedules.get(learning_rate)
        if isinstance(learning_rate, numbers.Number):
            learning_rate = check_positive_float(learning_rate, "learning_rate", where)
        elif not callable(learning_rate):
            raise ArgumentTypeError(
                f"{where}: learning_rate must be a positive number or a schedule "
                f"such as mlplab.schedules.ExponentialDecay(0.1, 1000, 0.9).")
        self.learning_rate = learning_rate
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                           ("global_clipnorm", global_clipnorm)):
            if value is not None:
                check_positive_float(value, arg, f"{type(self).__name__}({arg}={value!r})")
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.built = False

    # -- state -------------------------------------------------------------------------------
    def build(self, params: list[np.ndarray]) -> None:
        """Create the per-parameter state (moments...). Called before the first update."""
        self.built = True

    def _zeros(self, params, fill=0.0) -> list[np.ndarray]:
        return [np.full_like(p, fill) for p in params]

    def slots(self) -> dict[str, list[np.ndarray]]:
        """The optimizer's state arrays by name, one list entry per parameter."""
        return {}

    def get_state(self) -> dict:
        """Step count and copies of the slot arrays: what saving stores."""
        return {"iterations": self.iterations,
                **{k: [a.copy() for a in v] for k, v in self.slots().items()}}

    def set_state(self, state: dict, params: list[np.ndarray] | None = None) -> None:
        """Restore ``get_state()``'s output. Builds the slots first from ``params`` if needed."""
        if not self.built and params is not None:
            self.build(params)
        self.iterations = int(state["iterations"])
        for key, arrays in self.slots().items():
            saved = state[key]
            if len(saved) != len(arrays):
                raise ArgumentError(f"{type(self).__name__}.set_state(): slot '{key}' holds "
                                    f"{len(saved)} arrays; this optimizer has {len(arrays)}.")
            for mine, value in zip(arrays, saved):
                if np.shape(value) != mine.shape:
                    raise ArgumentError(f"{type(self).__name__}.set_state(): slot '{key}' array "
                                        f"has shape {np.shape(value)}; expected {mine.shape}.")
                mine[...] = value

    # -- update ------------------------------------------------------------------------------
    @property
    def current_learning_rate(self) -> float:
        lr = self.learning_rate
        if callable(lr):
            from .schedules import rate_at
            return rate_at(lr, self.iterations)
        return lr

    def clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """Clipped copies of ``grads`` (the model's gradient arrays stay untouched)."""
        if self.clipvalue is not None:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [g * g.dtype.type(self.clipnorm / max(float(np.linalg.norm(g)), self.clipnorm))
                     for g in grads]
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            scale = min(1.0, self.global_clipnorm / (total + 1e-6))
            grads = [g * g.dtype.type(scale) for g in grads]
        return grads

    def apply(self, params: list[np.ndarray], grads: list[np.ndarray], update_step=None) -> None:
        """One update of every parameter array, in place.

        ``update_step``, if given, replaces ``self.update_step`` with a function of the same
        arguments and effect (the fast path's compiled updates, ``mlplab.fast.optimizers``)."""
        if not self.built:
            self.build(params)
        if self.clipvalue is not None or self.clipnorm is not None or \
                self.global_clipnorm is not None:
            grads = self.clip(grads)
        lr = self.current_learning_rate
        self.iterations += 1
        self._begin_step()
        update_step = update_step or self.update_step
        for i, (p, g) in enumerate(zip(params, grads)):
            update_step(i, p, g, lr)

    def _begin_step(self) -> None:
        """Per-update (not per-array) bookkeeping; ``self.iterations`` is already t."""

    def update_step(self, index: int, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        lr = self.learning_rate
        config = {"name": self.name,
                  "learning_rate": lr.get_config() if hasattr(lr, "get_config") else lr}
        for key in ("clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def get(identifier) -> Optimizer:
    """An Optimizer from a name (Keras defaults), class, instance or config dict."""
    return REGISTRY.get(identifier, base=Optimizer)


@REGISTRY.register("sgd")
class SGD(Optimizer):
    """Gradient descent, with optional momentum and Nesterov momentum (Keras's form).

    Plain (momentum=0), the lectures' rule:   w <- w - alpha g
    Momentum mu:                              v <- mu v - alpha g;  w <- w + v
    Nesterov:                                 v <- mu v - alpha g;  w <- w + mu v - alpha g

    torch.optim.SGD keeps b <- mu b + g and w <- w - alpha b (Nesterov: w <- w - alpha
    (g + mu b)); with a constant alpha, v = -alpha b, so the trajectories coincide for the
    same (lr, momentum, nesterov). They differ only while alpha changes.

    Parameters
    ----------
    learning_rate : float or schedule, default=0.01
    momentum : float in [0, 1), default=0.0
    nesterov : bool, default=False
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = f"SGD(momentum={momentum!r})"
        self.momentum = _check_coefficient(momentum, "momentum", where)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0.0:
            raise ArgumentError("SGD(nesterov=True, momentum=0.0): Nesterov momentum needs a "
                                "momentum > 0, e.g. SGD(momentum=0.9, nesterov=True).")

    def build(self, params):
        self.velocities = self._zeros(params) if self.momentum else []
        self._tmp = self._zeros(params)
        super().build(params)

    def slots(self):
        return {"velocity": self.velocities} if self.momentum else {}

    def update_step(self, index, param, grad, lr):
        t = param.dtype.type
        step = self._tmp[index]
        np.multiply(grad, t(lr), out=step)           # alpha g
        if not self.momentum:
            param -= step                            # w -= alpha g
            return
        v = self.velocities[index]
        v *= t(self.momentum)
        v -= step                                    # v = mu v - alpha g
        if self.nesterov:
            param -= step
            np.multiply(v, t(self.momentum), out=step)
            param += step                            # w += mu v - alpha g
        else:
            param += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


@REGISTRY.register("adagrad")
class Adagrad(Optimizer):
    """AdaGrad: a per-weight step that shrinks with the sum of squared gradients (Keras's form).

        G <- G + g^2                      (G starts at initial_accumulator_value)
        w <- w - alpha g / sqrt(G + eps)

    torch.optim.Adagrad puts eps outside the root, w <- w - alpha g / (sqrt(G) + eps), and
    starts G at 0 by default: the two agree exactly for ``epsilon=0`` (torch ``eps=0``) and
    the same ``initial_accumulator_value``.

    Parameters
    ----------
    learning_rate : default=0.001
    initial_accumulator_value : float >= 0, default=0.1
    epsilon : float >= 0, default=1e-7
    """

    name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = f"Adagrad(initial_accumulator_value={initial_accumulator_value!r}, " \
                f"epsilon={epsilon!r})"
        self.initial_accumulator_value = _check_non_negative(
            initial_accumulator_value, "initial_accumulator_value", where)
        self.epsilon = _check_non_negative(epsilon, "epsilon", where)

    def build(self, params):
        self.accumulators = self._zeros(params, self.initial_accumulator_value)
        self._tmp = self._zeros(params)
        super().build(params)

    def slots(self):
        return {"accumulator": self.accumulators}

    def update_step(self, index, param, grad, lr):
        t = param.dtype.type
        G, tmp = self.accumulators[index], self._tmp[index]
        np.square(grad, out=tmp)
        G += tmp                                      # G += g^2
        np.add(G, t(self.epsilon), out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)
        tmp *= t(lr)
        param -= tmp                                  # w -= alpha g / sqrt(G + eps)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


@REGISTRY.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop: divide the step by a running root mean square of the gradient (Keras's form).

        v <- rho v + (1 - rho) g^2
        centered:  m <- rho m + (1 - rho) g;  s = v - m^2,  else s = v
        step = alpha g / sqrt(s + eps)
        momentum mu > 0:  b <- mu b + step;  w <- w - b,   else  w <- w - step

    torch.optim.RMSprop (alpha = rho) divides by sqrt(s) + eps and keeps its momentum buffer
    without alpha (b_torch = b / alpha); for a constant alpha they agree exactly with
    ``epsilon=0`` (torch ``eps=0``).

    Parameters
    ----------
    learning_rate : default=0.001
    rho : float in [0, 1), default=0.9
    momentum : float in [0, 1), default=0.0
    epsilon : float >= 0, default=1e-7
    centered : bool, default=False
    """

    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = f"RMSprop(rho={rho!r}, momentum={momentum!r}, epsilon={epsilon!r})"
        self.rho = _check_coefficient(rho, "rho", where)
        self.momentum = _check_coefficient(momentum, "momentum", where)
        self.epsilon = _check_non_negative(epsilon, "epsilon", where)
        self.centered = bool(centered)

    def build(self, params):
        self.velocities = self._zeros(params)
        self.average_gradients = self._zeros(params) if self.centered else []
        self.momentums = self._zeros(params) if self.momentum else []
        self._tmp = self._zeros(params)
        super().build(params)

    def slots(self):
        slots = {"velocity": self.velocities}
        if self.centered:
            slots["average_gradient"] = self.average_gradients
        if self.momentum:
            slots["momentum"] = self.momentums
        return slots

    def update_step(self, index, param, grad, lr):
        t = param.dtype.type
        rho = t(self.rho)
        v, tmp = self.velocities[index], self._tmp[index]
        np.square(grad, out=tmp)
        tmp *= t(1.0 - self.rho)
        v *= rho
        v += tmp                                      # v = rho v + (1 - rho) g^2
        if self.centered:
            m = self.average_gradients[index]
            np.subtract(grad, m, out=tmp)
            tmp *= t(1.0 - self.rho)
            m += tmp                                  # m = rho m + (1 - rho) g
            np.square(m, out=tmp)
            np.subtract(v, tmp, out=tmp)              # s = v - m^2
            tmp += t(self.epsilon)
        else:
            np.add(v, t(self.epsilon), out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)
        tmp *= t(lr)                                  # step = alpha g / sqrt(s + eps)
        if self.momentum:
            b = self.momentums[index]
            b *= t(self.momentum)
            b += tmp
            param -= b
        else:
            param -= tmp

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


@REGISTRY.register("adadelta")
class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): steps scaled by the ratio of running RMS of updates and gradients.

        E[g^2]  <- rho E[g^2] + (1 - rho) g^2
        dw       = - sqrt(E[dw^2] + eps) / sqrt(E[g^2] + eps) * g
        E[dw^2] <- rho E[dw^2] + (1 - rho) dw^2
        w       <- w + alpha dw

    Same as torch.optim.Adadelta term for term; only the default learning rate differs
    (Keras 0.001, torch and the paper 1.0).

    Parameters
    ----------
    learning_rate : default=0.001
    rho : float in [0, 1), default=0.95
    epsilon : float > 0, default=1e-7
    """

    name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = f"Adadelta(rho={rho!r}, epsilon={epsilon!r})"
        self.rho = _check_coefficient(rho, "rho", where)
        self.epsilon = check_positive_float(epsilon, "epsilon", where)

    def build(self, params):
        self.accumulated_grads = self._zeros(params)
        self.accumulated_delta_vars = self._zeros(params)
        self._tmp = self._zeros(params)
        self._tmp2 = self._zeros(params)
        super().build(params)

    def slots(self):
        return {"accumulated_grad": self.accumulated_grads,
                "accumulated_delta_var": self.accumulated_delta_vars}

    def update_step(self, index, param, grad, lr):
        t = param.dtype.type
        rho, one_minus, eps = t(self.rho), t(1.0 - self.rho), t(self.epsilon)
        Eg, Ed = self.accumulated_grads[index], self.accumulated_delta_vars[index]
        tmp, dw = self._tmp[index], self._tmp2[index]
        np.square(grad, out=tmp)
        tmp *= one_minus
        Eg *= rho
        Eg += tmp                                     # E[g^2]
        np.add(Ed, eps, out=dw)
        np.sqrt(dw, out=dw)
        np.add(Eg, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(dw, tmp, out=dw)
        dw *= grad                                    # -dw
        np.square(dw, out=tmp)
        tmp *= one_minus
        Ed *= rho
        Ed += tmp                                     # E[dw^2]
        dw *= t(lr)
        param -= dw

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


@REGISTRY.register("adam")
class Adam(Optimizer):
    """Adam (Kingma and Ba 2015): momentum on g and an RMSprop-like scale, bias-corrected.

        m <- beta_1 m + (1 - beta_1) g
        v <- beta_2 v + (1 - beta_2) g^2          (amsgrad: v_max <- max(v_max, v), use v_max)
        alpha_t = alpha sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w <- w - alpha_t m / (sqrt(v) + eps)

    This is Keras's form: ``epsilon`` is the paper's "epsilon hat". torch.optim.Adam writes
    w <- w - alpha m_hat / (sqrt(v_hat) + eps_torch), which is the same rule with
    eps = eps_torch sqrt(1 - beta_2^t); the two agree exactly for ``epsilon=0``
    (torch ``eps=0``), and differ by under ~eps / sqrt(v) relative otherwise.

    Parameters
    ----------
    learning_rate : default=0.001
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float >= 0, default=1e-7
    amsgrad : bool, default=False
        Use the running maximum of v (Reddi et al. 2018).
    """

    name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = f"{type(self).__name__}(beta_1={beta_1!r}, beta_2={beta_2!r}, " \
                f"epsilon={epsilon!r})"
        self.beta_1 = _check_coefficient(beta_1, "beta_1", where)
        self.beta_2 = _check_coefficient(beta_2, "beta_2", where)
        self.epsilon = _check_non_negative(epsilon, "epsilon", where)
        self.amsgrad = bool(amsgrad)

    def build(self, params):
        self.momentums = self._zeros(params)
        self.velocities = self._zeros(params)
        self.velocity_hats = self._zeros(params) if self.amsgrad else []
        self._tmp = self._zeros(params)
        super().build(params)

    def slots(self):
        slots = {"momentum": self.momentums, "velocity": self.velocities}
        if self.amsgrad:
            slots["velocity_hat"] = self.velocity_hats
        return slots

    def update_step(self, index, param, grad, lr):
        t = param.dtype.type
        m, v, tmp = self.momentums[index], self.velocities[index], self._tmp[index]
        np.subtract(grad, m, out=tmp)
        tmp *= t(1.0 - self.beta_1)
        m += tmp                                      # m += (1 - beta_1)(g - m)
        np.square(grad, out=tmp)
        tmp -= v
        tmp *= t(1.0 - self.beta_2)
        v += tmp                                      # v += (1 - beta_2)(g^2 - v)
        if self.amsgrad:
            v = self.velocity_hats[index]
            np.maximum(v, self.velocities[index], out=v)
        np.sqrt(v, out=tmp)
        tmp += t(self.epsilon)
        np.divide(m, tmp, out=tmp)
        tmp *= t(self.alpha_t(lr))
        param -= tmp                                  # w -= alpha_t m / (sqrt(v) + eps)

    def alpha_t(self, lr) -> float:
        """alpha sqrt(1 - beta_2^t) / (1 - beta_1^t), the bias-corrected step size."""
        t = self.iterations
        return lr * math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


@REGISTRY.register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter 2019).

        w <- w - alpha lambda w        (lambda = weight_decay), then the Adam step above.

    Same order as torch.optim.AdamW (w <- w (1 - alpha lambda) before the Adam step); the
    epsilon mapping is Adam's. Keras's default weight_decay is 0.004 (torch's 0.01).

    Parameters
    ----------
    learning_rate : default=0.001
    weight_decay : float >= 0, default=0.004
    beta_1, beta_2, epsilon, amsgrad : as Adam.
    """

    name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, **kwargs)
        self.weight_decay = _check_non_negative(weight_decay, "weight_decay",
                                                f"AdamW(weight_decay={weight_decay!r})")

    def update_step(self, index, param, grad, lr):
        self.decay(param, lr)
        super().update_step(index, param, grad, lr)

    def decay(self, param, lr) -> None:
        """w <- w (1 - alpha lambda)."""
        if self.weight_decay:
            param *= param.dtype.type(1.0 - lr * self.weight_decay)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


@REGISTRY.register("adamax")
class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the RMS (Kingma and Ba 2015, sec. 7).

        m <- beta_1 m + (1 - beta_1) g
        u <- max(beta_2 u, |g|)
        w <- w - alpha / (1 - beta_1^t) * m / (u + eps)

    torch.optim.Adamax puts eps inside the max (u <- max(beta_2 u, |g| + eps), no eps in the
    division); the two agree exactly for ``epsilon=0`` (torch ``eps=0``).

    Parameters
    ----------
    learning_rate : default=0.001
    beta_1 : default=0.9
    beta_2 : default=0.999
    epsilon : default=1e-7
    """

    name = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = f"Adamax(beta_1={beta_1!r}, beta_2={beta_2!r}, epsilon={epsilon!r})"
        self.beta_1 = _check_coefficient(beta_1, "beta_1", where)
        self.beta_2 = _check_coefficient(beta_2, "beta_2", where)
        self.epsilon = _check_non_negative(epsilon, "epsilon", where)

    def build(self, params):
        self.momentums = self._zeros(params)
        self.norms = self._zeros(params)
        self._tmp = self._zeros(params)
        super().build(params)

    def slots(self):
        return {"momentum": self.momentums, "norm": self.norms}

    def update_step(self, index, param, grad, lr):
        t = param.dtype.type
        m, u, tmp = self.momentums[index], self.norms[index], self._tmp[index]
        np.subtract(grad, m, out=tmp)
        tmp *= t(1.0 - self.beta_1)
        m += tmp
        np.abs(grad, out=tmp)
        u *= t(self.beta_2)
        np.maximum(u, tmp, out=u)
        np.add(u, t(self.epsilon), out=tmp)
        np.divide(m, tmp, out=tmp)
        tmp *= t(lr / (1.0 - self.beta_1 ** self.iterations))
        param -= tmp

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


@REGISTRY.register("nadam")
class Nadam(Optimizer):
    """Nadam (Dozat 2016): Adam with Nesterov momentum and a warming momentum schedule.

        mu_t = beta_1 (1 - 0.5 * 0.96^(t * momentum_decay)),   P_t = mu_1 mu_2 ... mu_t
        m <- beta_1 m + (1 - beta_1) g;     v <- beta_2 v + (1 - beta_2) g^2
        m_hat = mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g / (1 - P_t)
        v_hat = v / (1 - beta_2^t)
        w <- w - alpha m_hat / (sqrt(v_hat) + eps)

    Keras uses 0.96^t (``momentum_decay=1.0``, the default here); torch.optim.NAdam uses
    0.96^(0.004 t) (its ``momentum_decay=4e-3``). Otherwise the rules are identical, eps
    placement included: ``Nadam(momentum_decay=d)`` matches ``torch.optim.NAdam(
    momentum_decay=d)`` for any d.

    Parameters
    ----------
    learning_rate : default=0.001
    beta_1 : default=0.9
    beta_2 : default=0.999
    epsilon : default=1e-7
    momentum_decay : float > 0, default=1.0 (Keras); 0.004 reproduces PyTorch.
    """

    name = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 momentum_decay=1.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        where = f"Nadam(beta_1={beta_1!r}, beta_2={beta_2!r}, epsilon={epsilon!r})"
        self.beta_1 = _check_coefficient(beta_1, "beta_1", where)
        self.beta_2 = _check_coefficient(beta_2, "beta_2", where)
        self.epsilon = _check_non_negative(epsilon, "epsilon", where)
        self.momentum_decay = check_positive_float(momentum_decay, "momentum_decay",
                                                   f"Nadam(momentum_decay={momentum_decay!r})")
        self.u_product = 1.0

    def build(self, params):
        self.momentums = self._zeros(params)
        self.velocities = self._zeros(params)
        self._tmp = self._zeros(params)
        self._tmp2 = self._zeros(params)
        super().build(params)

    def slots(self):
        return {"momentum": self.momentums, "velocity": self.velocities}

    def get_state(self):
        return {**super().get_state(), "u_product": self.u_product}

    def set_state(self, state, params=None):
        super().set_state(state, params)
        self.u_product = float(state["u_product"])

    def _mu(self, step):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (step * self.momentum_decay))

    def _begin_step(self):
        step = self.iterations
        self._mu_t, self._mu_next = self._mu(step), self._mu(step + 1)
        self.u_product *= self._mu_t
        self._bias_2 = 1.0 - self.beta_2 ** step

    def update_step(self, index, param, grad, lr):
        t = param.dtype.type
        mu_t, mu_next, P = self._mu_t, self._mu_next, self.u_product
        m, v = self.momentums[index], self.velocities[index]
        tmp, den = self._tmp[index], self._tmp2[index]
        np.subtract(grad, m, out=tmp)
        tmp *= t(1.0 - self.beta_1)
        m += tmp
        np.square(grad, out=tmp)
        tmp -= v
        tmp *= t(1.0 - self.beta_2)
        v += tmp
        np.multiply(v, t(1.0 / self._bias_2), out=den)
        np.sqrt(den, out=den)
        den += t(self.epsilon)                         # sqrt(v_hat) + eps
        # w -= alpha m_hat / den, in its two terms (as torch.optim.NAdam does)
        np.divide(m, den, out=tmp)
        tmp *= t(lr * mu_next / (1.0 - P * mu_next))
        param -= tmp
        np.divide(grad, den, out=tmp)
        tmp *= t(lr * (1.0 - mu_t) / (1.0 - P))
        param -= tmp

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "momentum_decay": self.momentum_decay}
