"""mlplab: perceptrons, Adaline and multilayer perceptrons trained by explicit backpropagation.

The MLP side follows Keras (``Sequential``, ``Dense``, ``compile``, ``fit``); the classic
neurons (``Perceptron``, ``Adaline``, ...) follow scikit-learn's estimators.
"""
from . import _validation, activations, autodiff, callbacks, config_check, constraints, datasets, \
    exceptions, fast, initializers, layers, live, losses, metrics, neurons, optimizers, plots, \
    preprocessing, recorder, regularizers, saving, schedules, training, utils
from .autodiff import functional as _functional  # noqa: F401 (mlplab.autodiff.functional)
from .config_check import ConfigWarning
from .exceptions import (ArgumentError, ArgumentTypeError, ConcurrentUseError, DataFileError,
                         DivergenceError, MlplabError, ModelFileError)
from .fast.threads import get_num_threads, set_num_threads
from .gradcheck import gradcheck
from .layers import Activation, CustomLayer, Dense, Dropout, Flatten, Input, InputLayer, Lambda
from .live import LivePlot
from .models import FULL_BATCH, Sequential, load_model
from .neurons import (Adaline, AdalineRegressor, ConvergenceWarning, LinearNetwork, Madaline,
                      McCullochPitts, McCullochPittsNetwork, NotFittedError, Perceptron,
                      SingleLayerNetwork, truth_table)
from .optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop
from .recorder import LayerHistory, LayerRecorder, WeightSnapshots

training.set_accelerator(fast)  # the trainer asks mlplab.fast for its steps (None: NumPy only)
neurons._base.set_accelerator(fast.classic)  # and the classic neurons for their epochs
_validation.set_accelerator(fast.all_finite)  # and the data checks for one pass

__version__ = "0.1.0"

__all__ = [
    # multilayer perceptrons
    "Sequential", "Input", "InputLayer", "Dense", "Activation", "Flatten", "Dropout", "Lambda",
    "CustomLayer", "FULL_BATCH", "gradcheck", "load_model", "ConfigWarning",
    # seeing learning
    "LayerRecorder", "LayerHistory", "WeightSnapshots", "LivePlot",
    # optimizers
    "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam",
    # the classic neurons
    "McCullochPitts", "McCullochPittsNetwork", "truth_table", "Perceptron", "Adaline",
    "AdalineRegressor", "Madaline", "LinearNetwork", "SingleLayerNetwork",
    "ConvergenceWarning", "NotFittedError",
    # errors
    "MlplabError", "ArgumentError", "ArgumentTypeError", "ModelFileError", "DataFileError",
    "DivergenceError", "ConcurrentUseError",
    # speed
    "set_num_threads", "get_num_threads",
    # modules
    "activations", "autodiff", "callbacks", "config_check", "constraints", "datasets",
    "exceptions", "fast", "initializers", "layers", "live", "losses", "metrics", "neurons",
    "optimizers", "plots", "preprocessing", "recorder", "regularizers", "saving", "schedules",
    "training", "utils",
]
