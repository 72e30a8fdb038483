"""Functions a user may call in an expression that SymPy has no single node for.

The catalog's activations (``sigmoid(u)``, ``relu(u)``, ``leaky_relu(u, α)``, ``elu``,
``softplus``, ``gelu``): a user who writes ``sigmoid(x)`` asks for one node, not the
note's four. Each function's value and derivative come from its catalog layer's SymPy
forward (the derivative is derived by SymPy, in the form the catalog prints it), and its
NumPy evaluation, which ``lambdify`` uses, is the catalog layer's own NumPy class. Nothing
here restates a formula.

The branch functions ``max``, ``min`` and ``abs``: one node each, defined by their pieces,
so that their derivative reads like ReLU's (1 where x > y, 0 otherwise) and the points
where the pieces meet, their kinks, can be found (:func:`branch_points`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps
from sympy.core.logic import fuzzy_and

from symgrad.layers import get_layer


@cache
def catalog_forward(
    layer: str, *parameters: float
) -> tuple[sp.Symbol, sp.Symbol, sp.Expr, sp.Expr]:
    """``(x, y, forward in x, ∂y/∂x)`` of a one-input catalog layer, built with
    ``parameters`` (leaky ReLU's α) where given, else the catalog's own.

    The derivative is the catalog's final form (y(1 − y) for sigmoid): SymPy derives it,
    and it is computed once per process because the rewrite in y takes a moment.
    """
    entry = get_layer(layer)
    form = entry.symbolic(*parameters) if parameters else entry.form
    (x,) = form.inputs
    return x, form.output_symbol, form.forward, form.final_derivative(x)


def _numpy_forward(layer: str):
    """The catalog NumPy class's forward, as the plain function ``lambdify`` calls."""

    def forward(x: np.ndarray | float, *parameters: float) -> np.ndarray | float:
        out = get_layer(layer).numpy_class(*map(float, parameters)).forward(x)
        # A scalar in, a scalar out: mpmath (and plain-float callers) reject 0-d arrays.
        return out.item() if np.ndim(out) == 0 else out

    return forward


class CatalogFunction(sp.Function):
    """A function whose meaning is the forward of the catalog layer ``layer``: of one
    argument, followed by the layer's numeric parameters where it has some (α)."""

    layer = ""
    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr, *parameters: sp.Expr) -> sp.Expr | None:
        # A number in, the forward's exact value out (sigmoid(0) = 1/2); a symbol stays.
        if arg.is_Number:
            x, _, forward, _ = catalog_forward(cls.layer, *map(float, parameters))
            return forward.xreplace({x: arg})
        return None

    def _catalog(self) -> tuple[sp.Symbol, sp.Symbol, sp.Expr, sp.Expr]:
        return catalog_forward(self.layer, *map(float, self.args[1:]))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        """d f(u)/du from the catalog, with the catalog's output y standing for f(u) itself;
        a parameter (α) is a number, never differentiated."""
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        x, y, _, derivative = self._catalog()
        return derivative.xreplace({x: self.args[0], y: self})

    def pieces(self) -> sp.Expr:
        """The forward at this function's argument (a Piecewise for ReLU and its kin)."""
        x, _, forward, _ = self._catalog()
        return forward.xreplace({x: self.args[0]})

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real

    def _eval_is_finite(self) -> bool | None:
        # An infinite number never stays unevaluated (eval takes it), so a finite argument
        # is the only case left to answer.
        return self.args[0].is_finite

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.pieces().evalf(prec_to_dps(prec))


class sigmoid(CatalogFunction):  # lower case: it prints as the user writes it
    """The catalog's sigmoid as one node: 1/(1 + exp(−u))."""

    layer = "sigmoid"
    _imp_ = staticmethod(_numpy_forward("sigmoid"))  # what lambdify calls


class relu(CatalogFunction):
    """The catalog's ReLU as one node: u where u > 0, else 0."""

    layer = "relu"
    _imp_ = staticmethod(_numpy_forward("relu"))


class leaky_relu(CatalogFunction):
    """The catalog's leaky ReLU as one node, ``leaky_relu(u, α)``: u where u > 0, else α·u."""

    layer = "leaky-relu"
    nargs = 2
    _imp_ = staticmethod(_numpy_forward("leaky-relu"))


class elu(CatalogFunction):
    """The catalog's ELU as one node: u where u > 0, else exp(u) − 1."""

    layer = "elu"
    _imp_ = staticmethod(_numpy_forward("elu"))


class softplus(CatalogFunction):
    """The catalog's softplus as one node: log(1 + exp(u)), whose derivative is sigmoid(u)."""

    layer = "softplus"
    _imp_ = staticmethod(_numpy_forward("softplus"))


class gelu(CatalogFunction):
    """The catalog's GELU (the erf form) as one node: u/2·(1 + erf(u/√2))."""

    layer = "gelu"
    _imp_ = staticmethod(_numpy_forward("gelu"))


class BranchFunction(sp.Function):
    """A function given by pieces (:meth:`pieces`, over its arguments), drawn as one node.

    Its derivative is SymPy's derivative of the pieces, so ∂max(a, b)/∂a reads "1 where
    a > b, 0 otherwise"; where arguments tie, the pieces' own order decides which side's
    derivative is taken, as ReLU takes 0 at 0.
    """

    word = ""  # how the user writes it, and how it prints

    @classmethod
    def branches(cls, *args: sp.Expr) -> sp.Piecewise:
        raise NotImplementedError

    @classmethod
    def eval(cls, *args: sp.Expr) -> sp.Expr | None:
        if all(arg.is_Number for arg in args):
            return cls.branches(*args)
        return None

    def pieces(self) -> sp.Piecewise:
        return self.branches(*self.args)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        # Through stand-ins: max(x, x) must be differentiated by position, not by symbol.
        stand_ins = [sp.Dummy(real=True) for _ in self.args]
        derivative = sp.diff(self.branches(*stand_ins), stand_ins[argindex - 1])
        return derivative.xreplace(dict(zip(stand_ins, self.args, strict=True)))

    def _eval_is_extended_real(self) -> bool | None:
        return fuzzy_and(arg.is_extended_real for arg in self.args)

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.pieces().evalf(prec_to_dps(prec))

    def _sympystr(self, printer) -> str:
        return f"{self.word}({', '.join(printer._print(arg) for arg in self.args)})"

    def _latex(self, printer) -> str:
        arguments = ", ".join(printer._print(arg) for arg in self.args)
        return rf"\operatorname{{{self.word}}}\left({arguments}\right)"


class Extremum(BranchFunction):
    """max or min of two: a where ``wins(a, b)``, else b (so b at a tie)."""

    nargs = 2
    wins: Callable[[sp.Expr, sp.Expr], sp.Basic]

    @classmethod
    def branches(cls, a: sp.Expr, b: sp.Expr) -> sp.Piecewise:
        return sp.Piecewise((a, cls.wins(a, b)), (b, True))


class Maximum(Extremum):
    """max(a, b): a where a > b, else b."""

    word = "max"
    wins = staticmethod(sp.StrictGreaterThan)
    _imp_ = staticmethod(np.maximum)


class Minimum(Extremum):
    """min(a, b): a where a < b, else b."""

    word = "min"
    wins = staticmethod(sp.StrictLessThan)
    _imp_ = staticmethod(np.minimum)


class Absolute(BranchFunction):
    """abs(u): u where u > 0, −u where u < 0, 0 at 0 (so its derivative there is 0, the
    middle of the one-sided −1 and 1)."""

    word = "abs"
    nargs = 1
    _imp_ = staticmethod(np.abs)

    @classmethod
    def branches(cls, u: sp.Expr) -> sp.Piecewise:
        return sp.Piecewise((u, u > 0), (-u, u < 0), (0, True))


def branch_points(expr: sp.Expr) -> tuple[sp.Expr, ...]:
    """Where ``expr``'s pieces meet, as equations (x = 0 for relu(x), x = y for max(x, y)):
    there a piecewise function has a kink (or a jump) and no derivative."""
    found = []
    for piecewise in expr.atoms(sp.Piecewise, CatalogFunction, BranchFunction):
        pieces = piecewise if isinstance(piecewise, sp.Piecewise) else piecewise.pieces()
        for inner in pieces.atoms(sp.Piecewise):
            for _, condition in inner.args:
                if isinstance(condition, sp.core.relational.Relational):
                    found.append(sp.Eq(condition.lhs, condition.rhs))
    return tuple(dict.fromkeys(found))


__all__ = [
    "Absolute",
    "BranchFunction",
    "CatalogFunction",
    "Extremum",
    "Maximum",
    "Minimum",
    "branch_points",
    "catalog_forward",
    "elu",
    "gelu",
    "leaky_relu",
    "relu",
    "sigmoid",
    "softplus",
]
