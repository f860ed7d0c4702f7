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
