"""mlplab: perceptrons, Adaline and multilayer perceptrons trained by explicit backpropagation.

The MLP side follows Keras (``Sequential``, ``Dense``, ``compile``, ``fit``); the classic
neurons (``Perceptron``, ``Adaline``, ...) follow scikit-learn's estimators.
"""
from . import activations, autodiff, callbacks, config_check, constraints, datasets, \
    initializers, layers, losses, metrics, neurons, optimizers, plots, preprocessing, \
    regularizers, saving, schedules, utils
from .config_check import ConfigWarning
from .gradcheck import gradcheck
from .layers import Activation, CustomLayer, Dense, Dropout, Flatten, Input, InputLayer, Lambda
from .models import FULL_BATCH, Sequential
from .neurons import (Adaline, AdalineRegressor, ConvergenceWarning, LinearNetwork, Madaline,
                      McCullochPitts, McCullochPittsNetwork, NotFittedError, Perceptron,
                      SingleLayerNetwork, truth_table)
from .optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop
from .saving import load_model

__version__ = "0.1.0"

__all__ = [
    # multilayer perceptrons
    "Sequential", "Input", "InputLayer", "Dense", "Activation", "Flatten", "Dropout", "Lambda",
    "CustomLayer", "FULL_BATCH", "gradcheck", "load_model", "ConfigWarning",
    # optimizers
    "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam",
    # the classic neurons
    "McCullochPitts", "McCullochPittsNetwork", "truth_table", "Perceptron", "Adaline",
    "AdalineRegressor", "Madaline", "LinearNetwork", "SingleLayerNetwork",
    "ConvergenceWarning", "NotFittedError",
    # modules
    "activations", "autodiff", "callbacks", "config_check", "constraints", "datasets",
    "initializers", "layers", "losses", "metrics", "neurons", "optimizers", "plots",
    "preprocessing", "regularizers", "saving", "schedules", "utils",
]
