"""Checking a user's own layers and networks, as they are written (symgrad check, net).

:func:`check_layer` checks one object with the note's interface; :func:`check_network`
a chain of them ending in a loss. Both return reports whose ``.ok`` and ``.problems``
say what is wrong in words.
"""

from typing import Any

# Imported on first use: the CLI imports symgrad.checking.containment for its defaults,
# and `symgrad derive` should not pay for the whole checking machinery with it.
_LAZY = {"check_layer": "symgrad.checking.layer", "check_network": "symgrad.checking.network"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'symgrad.checking' has no attribute {name!r}")


__all__ = ["check_layer", "check_network"]
