"""Keras's ``keras.utils`` helpers that mlplab has: ``to_categorical``.

``import mlplab as keras`` then ``keras.utils.to_categorical(y, 10)`` works as in Keras.
"""
from .preprocessing import from_categorical, to_categorical

__all__ = ["to_categorical", "from_categorical"]
