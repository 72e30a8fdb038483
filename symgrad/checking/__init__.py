"""Checking a user's own layers and networks, as they are written (symgrad check, net).

:func:`check_layer` checks one object with the note's interface; :func:`check_network`
a chain of them ending in a loss. Both return reports whose ``.ok`` and ``.problems``
say what is wrong in words.
"""

from symgrad.checking.layer import check_layer
from symgrad.checking.network import check_network

__all__ = ["check_layer", "check_network"]
