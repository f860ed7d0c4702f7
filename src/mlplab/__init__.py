"""mlplab: perceptrons, Adaline and multilayer perceptrons trained by explicit backpropagation."""
from . import activations, autodiff, callbacks, constraints, datasets, initializers, layers, \
    losses, metrics, optimizers, preprocessing, regularizers
from .gradcheck import gradcheck
from .layers import Activation, CustomLayer, Dense, Dropout, Flatten, Input, InputLayer, Lambda
from .models import FULL_BATCH, Sequential
from .optimizers import SGD

__version__ = "0.1.0"

__all__ = ["Sequential", "Dense", "Activation", "Flatten", "Dropout", "Input", "InputLayer",
           "Lambda", "CustomLayer", "autodiff",
           "SGD", "gradcheck", "FULL_BATCH", "activations", "callbacks", "constraints",
           "datasets", "initializers", "layers", "losses", "metrics", "optimizers",
           "preprocessing", "regularizers"]

# Training toolkit: optimizers by class, schedules, saving, the configuration check.
from . import config_check, saving, schedules  # noqa: E402
from .config_check import ConfigWarning  # noqa: E402
from .optimizers import Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop  # noqa: E402
from .saving import load_model  # noqa: E402

__all__ += ["Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "Nadam", "RMSprop", "ConfigWarning",
            "load_model", "config_check", "saving", "schedules"]

# The classic neurons: McCulloch-Pitts, perceptron, Adaline, Madaline, single-layer networks.
from . import neurons  # noqa: E402
from .neurons import (  # noqa: E402
    Adaline, AdalineRegressor, ConvergenceWarning, LinearNetwork, Madaline, McCullochPitts,
    McCullochPittsNetwork, NotFittedError, Perceptron, SingleLayerNetwork, truth_table)

__all__ += ["neurons", *neurons.__all__]
