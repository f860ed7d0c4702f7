"""mlplab's warning and error classes, named as scikit-learn's (``sklearn.exceptions``).

scikit-learn is optional, so these classes do not subclass its ones. Instead, the objects
mlplab raises or warns with are made by :func:`sklearn_compatible`: once ``sklearn.exceptions``
has been imported (by the user's ``except sklearn.exceptions.NotFittedError``, a
``warnings.filterwarnings(..., category=sklearn.exceptions.ConvergenceWarning)``, or any use
of scikit-learn), they are instances of a subclass of both, so both ``except
mlplab.NotFittedError`` and ``except sklearn.exceptions.NotFittedError`` catch them. Checking
``sys.modules`` costs nothing and never imports scikit-learn: a program that does not use
scikit-learn cannot name its classes, so it cannot miss them.
"""
from __future__ import annotations

import sys


class NotFittedError(ValueError, AttributeError):
    """A learned attribute or ``predict`` was used before ``fit`` (as scikit-learn's)."""


class MlplabError(Exception):
    """Base of the errors mlplab raises itself; each also subclasses the built-in type that
    callers already catch (ValueError, TypeError, ...)."""


class ArgumentError(MlplabError, ValueError):
    """An argument has a value mlplab refuses: the message names the argument, the expected
    and the received value, and how to fix it. Nothing was changed by the refused call."""


class ArgumentTypeError(MlplabError, TypeError):
    """An argument has a type mlplab refuses (message as :class:`ArgumentError`)."""


class ModelFileError(MlplabError, ValueError):
    """A model or checkpoint file is corrupted, truncated, mismatched or from a future format
    version. Nothing in such a file is executed or unpickled."""


class DataFileError(MlplabError, ValueError):
    """A data file (e.g. an MNIST gzip) is missing, corrupted or truncated."""


class DivergenceError(MlplabError, FloatingPointError):
    """Training produced a non-finite loss or non-finite weights."""


class ConcurrentUseError(MlplabError, RuntimeError):
    """A model was used from another thread in a way that cannot be made safe (e.g. ``fit``
    while another thread trains the same model)."""


class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit before its stopping condition was met."""


class DataConversionWarning(UserWarning):
    """The input was converted, e.g. a column vector y to 1-D (as scikit-learn's)."""


_CLASSES = {cls.__name__: cls for cls in (NotFittedError, ConvergenceWarning,
                                          DataConversionWarning)}
_BOTH: dict[str, type] = {}
_PREFIX = "_WithSklearn"


def _both(name: str, sklearn_exceptions) -> type:
    """The subclass of mlplab's ``name`` and scikit-learn's, made once."""
    cls = _BOTH.get(name)
    if cls is None:
        ours = _CLASSES[name]
        cls = _BOTH[name] = type(name, (ours, getattr(sklearn_exceptions, name)), {
            "__module__": __name__, "__qualname__": _PREFIX + name, "__doc__": ours.__doc__})
    return cls


def sklearn_compatible(cls: type) -> type:
    """``cls``, or its subclass that is also scikit-learn's class of that name when
    ``sklearn.exceptions`` is imported already (never importing it)."""
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    return cls if sklearn_exceptions is None else _both(cls.__name__, sklearn_exceptions)


def __getattr__(name: str):
    # pickle finds a class by module and __qualname__: the combined classes are made on demand.
    if name.startswith(_PREFIX) and name[len(_PREFIX):] in _CLASSES:
        import sklearn.exceptions

        return _both(name[len(_PREFIX):], sklearn.exceptions)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
