"""Name registries: one small mechanism behind activations, losses, optimizers, metrics...

Each concept module keeps a ``Registry`` and exposes ``get(name_or_object)`` the Keras way:
a string is looked up (case-insensitive, with aliases), an instance is returned as it is,
a registered class is instantiated.
"""
from __future__ import annotations

import difflib

from .exceptions import ArgumentError, ArgumentTypeError


class Registry:
    """Maps names (and aliases) to classes or factories of one kind of object."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, object] = {}

    def register(self, *names: str):
        """Class decorator: ``@REGISTRY.register("mse", "mean_squared_error")``."""

        def decorate(obj):
            for name in names:
                self._entries[name.lower()] = obj
            return obj

        return decorate

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def lookup(self, name: str):
        """The registered class for ``name``; ValueError naming the known ones otherwise."""
        key = name.lower()
        if key not in self._entries:
            close = difflib.get_close_matches(key, self._entries, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ArgumentError(
                f"Unknown {self.kind} '{name}'. Available: {', '.join(self.names())}.{hint}"
            )
        return self._entries[key]

    def get(self, identifier, base: type | None = None, **kwargs):
        """Resolve ``identifier`` (name, class, instance or config dict) to an instance."""
        if isinstance(identifier, str):
            return self.lookup(identifier)(**kwargs)
        if isinstance(identifier, dict) and isinstance(identifier.get("name"), str):
            config = dict(identifier)
            cls = self.lookup(config.pop("name"))
            try:
                return cls(**config)
            except ArgumentTypeError:
                raise
            except TypeError as exc:  # an unknown or missing key of the config
                raise ArgumentTypeError(f"The {self.kind} config {identifier!r} does not fit "
                                        f"{getattr(cls, '__name__', cls)}: {exc}.") from None
        if isinstance(identifier, type) and (base is None or issubclass(identifier, base)):
            return identifier(**kwargs)
        if base is None or isinstance(identifier, base):
            return identifier
        raise ArgumentTypeError(
            f"Expected a {self.kind} name or object; received {identifier!r} "
            f"of type {type(identifier).__name__}. Available names: {', '.join(self.names())}."
        )
