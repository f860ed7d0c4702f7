"""Fast replacements of ``update_step`` for the optimizers the kernels know, by exact class.

``Optimizer.apply(params, grads, update_step=hook)`` calls the hook instead of its own
``update_step``; the hook has the same effect (bit for bit, tested), in one compiled pass per
array, and falls back to the optimizer's own step where the kernel declines. This is Keras's
pattern for its torch backend's Adam: the formula stays in ``mlplab.optimizers``, the speed
here, and a subclass (which may change the formula) keeps its own step.
"""
from __future__ import annotations

from ..optimizers import SGD, Adam, AdamW, RMSprop
from . import kernels


def plain_sgd(opt) -> bool:
    """True for w <- w - alpha g alone: no momentum, no clipping (so g can stay unformed)."""
    return type(opt) is SGD and not opt.momentum and opt.clipnorm is None and \
        opt.clipvalue is None and opt.global_clipnorm is None


def update_step_for(opt):
    """The fast ``update_step(index, param, grad, lr)`` for ``opt``, or None (its own)."""
    if type(opt) is SGD and not opt.momentum:
        def sgd_step(index, param, grad, lr):
            if not kernels.sgd_step(param, grad, param.dtype.type(lr)):
                opt.update_step(index, param, grad, lr)
        return sgd_step
    if type(opt) is SGD:
        def momentum_step(index, param, grad, lr):
            t = param.dtype.type
            if not kernels.sgd_momentum_step(param, grad, opt.velocities[index], t(lr),
                                             t(opt.momentum), opt.nesterov):
                opt.update_step(index, param, grad, lr)
        return momentum_step
    if type(opt) is RMSprop and not opt.centered:
        def rmsprop_step(index, param, grad, lr):
            t = param.dtype.type
            b = opt.momentums[index] if opt.momentum else None
            if not kernels.rmsprop_step(param, grad, opt.velocities[index], b,
                                        t(1.0 - opt.rho), t(opt.rho), t(opt.epsilon), t(lr),
                                        t(opt.momentum)):
                opt.update_step(index, param, grad, lr)
        return rmsprop_step
    if type(opt) in (Adam, AdamW) and not opt.amsgrad:
        def adam_step(index, param, grad, lr):
            t = param.dtype.type
            if type(opt) is AdamW:
                opt.decay(param, lr)                   # w <- w - alpha lambda w first
            if not kernels.adam_step(param, grad, opt.momentums[index], opt.velocities[index],
                                     t(1.0 - opt.beta_1), t(1.0 - opt.beta_2), t(opt.epsilon),
                                     t(opt.alpha_t(lr))):
                Adam.update_step(opt, index, param, grad, lr)
        return adam_step
    return None
