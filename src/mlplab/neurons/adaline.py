"""Adaline (Widrow and Hoff, 1960): a linear unit trained by the LMS / delta rule, as a
classifier (the sign of its output) and as a regressor."""
from __future__ import annotations

import numpy as np

from .. import activations
from ._base import _check_xy, _seed_renamed, _ClassifierMixin, _RegressorMixin
from ._delta_rule import _GD_ATTRS, _GD_DOC, _DeltaRule


class _Adaline(_DeltaRule):
    """What Adaline and AdalineRegressor share: the hyperparameters and the normalized rule."""

    @_seed_renamed
    def __init__(self, learning_rate: float = 0.01, max_epochs: int = 100, batch_size=1,
                 normalized: bool = False, tol=1e-6, decay: float = 0.0, shuffle: bool = False,
                 random_state=None, init: str = "zeros"):
        self._store(locals())

    @property
    def _normalized(self) -> bool:
        return bool(self.normalized)


_PARAMS_DOC = ("""Parameters
    ----------""" + _GD_DOC.format(lr=0.01, epochs=100, bs=1, tol=1e-6, shuffle=False)
               + """    normalized : bool, default=False
        Use the normalized rule (online only).
""" + _GD_ATTRS)


class Adaline(_ClassifierMixin, _Adaline):
    __doc__ = """Adaline (Widrow and Hoff, 1960): a linear unit trained by the LMS / delta rule,
    classifying by the sign of its linear output.

        y = x w,   w <- w + alpha * x * (t - y)                (t = -1 or +1)
        normalized:  w <- w + beta * (t - y) * x / |x|^2     (0 < beta < 2)

    with x_0 = 1. It minimizes E = 1/2 sum (t - y)^2, so its weights approach the least-squares
    fit of the bipolar targets (see :class:`AdalineRegressor` for real-valued targets). The
    class is the sign of y; several classes get one unit per class on bipolar one-hot targets
    (as in lecture 003) and the largest y wins.

    """ + _PARAMS_DOC

    def fit(self, x, y) -> "Adaline":
        where = self._where("fit")
        self._check_hyperparameters(where)
        x, y = _check_xy(x, y, where, labels=True)
        D, state = self._encode(y, -1.0, where)
        self._train(x, D, activations.get("linear"), "sse", where)
        self.__dict__.update(state)
        self._single_output_ = D.shape[1] == 1
        return self

    def decision_function(self, x) -> np.ndarray:
        """The linear output y = x w + w_0."""
        return self.net_input(x, "decision_function")

    def predict(self, x) -> np.ndarray:
        """Class labels: the sign of the linear output, or the unit with the largest output."""
        xi = self._xi(x, "predict")
        return self._decode(xi, 0.0, inclusive=True)



class AdalineRegressor(_RegressorMixin, _Adaline):
    __doc__ = """Adaline as a regressor: the LMS / delta rule on real-valued targets.

        y = x w,   w <- w + alpha * x * (t - y)
        normalized:  w <- w + beta * (t - y) * x / |x|^2     (0 < beta < 2)

    This is stochastic gradient descent for linear regression; with a small or decaying
    alpha (or batch_size=None) the weights approach the least-squares solution. The
    normalized rule with a small beta settles on the least-squares fit of the rows scaled by
    1 / |x| (each sample weighted by 1 / |x|^2), the same as least squares when the data fit
    exactly. Several target columns train one unit each.

    """ + _PARAMS_DOC

    def fit(self, x, y) -> "AdalineRegressor":
        where = self._where("fit")
        self._check_hyperparameters(where)
        x, y = _check_xy(x, y, where)
        self._train(x, self._targets(y), activations.get("linear"), "sse", where)
        return self
