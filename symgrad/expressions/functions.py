"""The catalog's activations as single SymPy functions: ``sigmoid(u)`` and ``relu(u)``.

A user who writes ``sigmoid(x)`` asks for one node, not the note's four. Each function's
value and derivative come from its catalog layer's SymPy forward (the derivative is derived
by SymPy, in the form the catalog prints it), and its NumPy evaluation, which ``lambdify``
uses, is the catalog layer's own NumPy class. Nothing here restates a formula.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps

from symgrad.layers import get_layer


@cache
def catalog_forward(layer: str) -> tuple[sp.Symbol, sp.Symbol, sp.Expr, sp.Expr]:
    """``(x, y, forward in x, ∂y/∂x)`` of a one-input catalog layer.

    The derivative is the catalog's final form (y(1 − y) for sigmoid): SymPy derives it,
    and it is computed once per process because the rewrite in y takes a moment.
    """
    form = get_layer(layer).form
    (x,) = form.inputs
    return x, form.output_symbol, form.forward, form.final_derivative(x)


def _numpy_forward(layer: str):
    """The catalog NumPy class's forward, as the plain function ``lambdify`` calls."""

    def forward(x: np.ndarray | float) -> np.ndarray | float:
        out = get_layer(layer).numpy_class().forward(x)
        # A scalar in, a scalar out: mpmath (and plain-float callers) reject 0-d arrays.
        return out.item() if np.ndim(out) == 0 else out

    return forward


class CatalogFunction(sp.Function):
    """A one-argument function whose meaning is the forward of the catalog layer ``layer``."""

    layer = ""
    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        # A number in, the forward's exact value out (sigmoid(0) = 1/2); a symbol stays.
        if arg.is_Number:
            x, _, forward, _ = catalog_forward(cls.layer)
            return forward.xreplace({x: arg})
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        """d f(u)/du from the catalog, with the catalog's output y standing for f(u) itself."""
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        x, y, _, derivative = catalog_forward(self.layer)
        return derivative.xreplace({x: self.args[0], y: self})

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _eval_is_finite(self) -> bool | None:
        # An infinite number never stays unevaluated (eval takes it), so a finite argument
        # is the only case left to answer.
        return self.args[0].is_finite

    def _eval_evalf(self, prec: int) -> sp.Expr:
        x, _, forward, _ = catalog_forward(self.layer)
        return forward.xreplace({x: self.args[0]}).evalf(prec_to_dps(prec))


class sigmoid(CatalogFunction):  # lower case: it prints as the user writes it
    """The catalog's sigmoid as one node: 1/(1 + exp(−u))."""

    layer = "sigmoid"
    _imp_ = staticmethod(_numpy_forward("sigmoid"))  # what lambdify calls


class relu(CatalogFunction):
    """The catalog's ReLU as one node: u where u > 0, else 0."""

    layer = "relu"
    _imp_ = staticmethod(_numpy_forward("relu"))


__all__ = ["CatalogFunction", "catalog_forward", "relu", "sigmoid"]
