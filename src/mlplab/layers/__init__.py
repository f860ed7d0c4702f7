"""Layers: Dense (fully connected), Activation, Flatten, Dropout, and Input."""
from ..exceptions import ArgumentError
from .base import Input, InputLayer, Layer
from .core import Activation, Dropout, Flatten
from .custom import CustomLayer, Lambda
from .dense import Dense

REGISTRY = {cls.__name__: cls for cls in (Dense, Activation, Flatten, Dropout, Lambda)}


def deserialize(config: dict) -> Layer:
    """A layer from ``{"class_name": ..., "config": {...}}``."""
    name = config["class_name"]
    if name not in REGISTRY:
        raise ArgumentError(f"Unknown layer class '{name}'. Known: {', '.join(sorted(REGISTRY))}.")
    return REGISTRY[name].from_config(config["config"])


def serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


__all__ = ["Input", "InputLayer", "Layer", "Dense", "Activation", "Flatten", "Dropout",
           "Lambda", "CustomLayer",
           "REGISTRY", "serialize", "deserialize"]
