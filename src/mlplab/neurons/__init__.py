"""The classic neurons: McCulloch-Pitts, Rosenblatt's perceptron, Adaline and single-layer networks.

Notation of the lectures: an input row ``x`` gets a constant first component x_0 = 1, so the
bias is the weight w_0 on it (``W[0]``); the net input (potential) is xi = x W, the output
y = f(xi), the target t (or d). Rules, in order of increasing complexity:

=====================  ==================================================================
McCulloch-Pitts        y = 1 if sum of excitatory inputs >= theta and no inhibitory input
                       is active, else 0 (no learning)
Perceptron             w <- w + alpha x (t - y),  y = U(x w) (0/1) or sgn(x w) (-1/+1)
Adaline (LMS, delta)   w <- w + alpha x (t - y),  y = x w (linear output)
normalized LMS         w <- w + beta x (t - y) / |x|^2
Madaline (MRI)         Adalines -> fixed OR / AND / majority unit; adapt the Adaline(s) with
                       the smallest |xi| (minimal disturbance)
linear network         W = (X^T X)^{-1} X^T D  (least squares), or gradient descent
single layer           W <- W + alpha X^T [f'(Xi) o (D - Y)]  (SSE),
                       W <- W + alpha X^T (D - Y)             (cross-entropy, sigmoid/softmax)
=====================  ==================================================================

The trainable models follow scikit-learn's estimator conventions: ``__init__`` stores the
hyperparameters, ``fit(x, y)`` validates, learns and returns ``self``, learned state ends in
``_`` (``coef_``, ``intercept_``, ``history_``, ``n_epochs_``, ``converged_``), ``predict`` and
``score`` (accuracy for classifiers, R^2 for regressors), ``get_params`` / ``set_params``.
Randomness comes from a ``random_state`` (a ``np.random.Generator`` is made from it), never
from NumPy's global state.

One module per model: ``mcculloch_pitts``, ``perceptron``, ``adaline`` (Adaline,
AdalineRegressor), ``madaline``, ``single_layer`` (LinearNetwork, SingleLayerNetwork); the
delta-rule training loop they share is in ``_delta_rule``, the estimator machinery in ``_base``.
"""
from ._base import ConvergenceWarning, NotFittedError
from .adaline import Adaline, AdalineRegressor
from .madaline import Madaline
from .mcculloch_pitts import McCullochPitts, McCullochPittsNetwork, truth_table
from .perceptron import Perceptron
from .single_layer import LinearNetwork, SingleLayerNetwork

__all__ = ["ConvergenceWarning", "NotFittedError", "McCullochPitts", "McCullochPittsNetwork",
           "truth_table", "Perceptron", "Adaline", "AdalineRegressor", "Madaline",
           "LinearNetwork", "SingleLayerNetwork"]

# doctest.testmod(mlplab.neurons) skips objects defined in other modules; list them here.
__test__ = {name: globals()[name] for name in __all__}
