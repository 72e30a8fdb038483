"""symgrad: see and trust a derivative.

Every layer is described twice, as a SymPy expression and as a NumPy layer, and checked
three ways: NumPy backward, SymPy's derivative, and numerical differences.

>>> import symgrad
>>> symgrad.derive("sigmoid").derivatives["x"]
y*(1 - y)
>>> symgrad.compare("affine", shape="2,3").ok
True

The API is imported lazily so that ``import symgrad`` (and ``symgrad --help``) stays fast.
"""

from typing import Any

__version__ = "0.1.0"

_API = {
    "derive": "symgrad.api",
    "compare": "symgrad.api",
    "check_layer": "symgrad.api",
    "check_network": "symgrad.api",
    "CATALOG": "symgrad.layers",
    "get_layer": "symgrad.layers",
    "SymgradError": "symgrad.errors",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'symgrad' has no attribute {name!r}")


__all__ = [
    "CATALOG",
    "SymgradError",
    "check_layer",
    "check_network",
    "compare",
    "derive",
    "get_layer",
]
