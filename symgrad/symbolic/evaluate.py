"""SymPy expressions evaluated with NumPy by walking the expression tree.

``sympy.lambdify`` does the same by printing Python source, but its first call imports
SymPy's code printers: 0.15 s, as long as the rest of a ``compare`` run. The derivatives
symgrad evaluates are built from a handful of operations, so a direct walk is enough;
anything it does not know goes to ``lambdify``, which stays the reference.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp
from sympy.functions.elementary.piecewise import ExprCondPair

from symgrad.layers.arrays import erf, erfc

FUNCTIONS: dict[type, Callable[..., Any]] = {
    sp.exp: np.exp,
    sp.log: np.log,
    sp.tanh: np.tanh,
    sp.sin: np.sin,
    sp.cos: np.cos,
    sp.cosh: np.cosh,
    sp.sinh: np.sinh,
    sp.Abs: np.abs,
    sp.erf: erf,
    sp.erfc: erfc,
    # A max pooling's derivative, Heaviside(x₁ − Max(x₂, …)): lambdify rewrites it into
    # nested conditionals that NumPy arrays cannot take beyond a few arguments.
    sp.Heaviside: lambda u, at_zero=0.5: np.heaviside(u, at_zero),
    sp.Max: lambda *values: functools.reduce(np.maximum, values),
}
RELATIONS: dict[type, Callable[..., Any]] = {
    sp.StrictGreaterThan: np.greater,
    sp.GreaterThan: np.greater_equal,
    sp.StrictLessThan: np.less,
    sp.LessThan: np.less_equal,
}


class Unsupported(Exception):
    """An operation the tree walk does not know."""


def _walk(expr: Any, values: dict[Any, Any]) -> Any:
    """The value of ``expr``; ``values`` holds the arguments and, as a memo, every
    subexpression met so far (the common subexpressions of a gradient are computed once)."""
    if expr in values:
        return values[expr]
    values[expr] = result = _node(expr, values)
    return result


def _node(expr: Any, values: dict[Any, Any]) -> Any:
    if expr is sp.true:
        return True
    if expr.is_Number or expr.is_NumberSymbol:
        return float(expr)
    args = expr.args
    if isinstance(expr, sp.MatMul):
        factors = [_walk(a, values) for a in args]
        return functools.reduce(lambda a, b: a @ b if np.ndim(a) and np.ndim(b) else a * b, factors)
    if isinstance(expr, sp.Add | sp.MatAdd):
        return functools.reduce(operator.add, (_walk(a, values) for a in args))
    if isinstance(expr, sp.Mul):
        return functools.reduce(operator.mul, (_walk(a, values) for a in args))
    if isinstance(expr, sp.Pow):
        base, exponent = (_walk(a, values) for a in args)
        return np.power(np.asarray(base, dtype=float), exponent)
    if isinstance(expr, sp.Transpose):
        return _walk(args[0], values).T
    if isinstance(expr, sp.OneMatrix):
        return np.ones(tuple(int(d) for d in expr.shape))
    if isinstance(expr, sp.Piecewise):
        conditions = [_walk(condition, values) for _, condition in args]
        choices = [_walk(value, values) for value, _ in args]
        shape = np.broadcast_shapes(*(np.shape(item) for item in (*conditions, *choices)))
        return np.select(
            [np.broadcast_to(c, shape) for c in conditions],
            [np.broadcast_to(v, shape) for v in choices],
        )
    if type(expr) in RELATIONS:
        return RELATIONS[type(expr)](*(_walk(a, values) for a in args))
    if type(expr) in FUNCTIONS:
        return FUNCTIONS[type(expr)](*(_walk(a, values) for a in args))
    raise Unsupported(type(expr).__name__)


def _flatten(items: Any) -> list[Any]:
    if isinstance(items, list | tuple):
        return [leaf for item in items for leaf in _flatten(item)]
    return [items]


def numpy_function(args: Sequence[Any], expr: Any) -> Callable[..., Any]:
    """``f(*arrays)`` evaluating ``expr`` (or a list of them) with ``args`` bound to the
    arrays; ``args`` may nest (a list of class symbols), as the arrays then do."""
    symbols = _flatten(args)
    outputs = expr if isinstance(expr, list) else [expr]
    try:  # prove the walk knows every node before trusting it
        for output in outputs:
            _check(output, set(symbols))
    except Unsupported:
        return sp.lambdify(args, expr, "numpy")

    def evaluate(*arrays: Any) -> Any:
        values = dict(zip(symbols, _flatten(list(arrays)), strict=True))
        results = [_walk(output, values) for output in outputs]
        return results if isinstance(expr, list) else results[0]

    return evaluate


def _check(expr: Any, known: set) -> None:
    if expr in known or expr is sp.true or expr.is_Number or expr.is_NumberSymbol:
        return
    supported = (
        sp.Add,
        sp.MatAdd,
        sp.Mul,
        sp.MatMul,
        sp.Pow,
        sp.Transpose,
        sp.OneMatrix,
        sp.Piecewise,
        ExprCondPair,
        *RELATIONS,
        *FUNCTIONS,
    )
    if not isinstance(expr, supported):
        raise Unsupported(type(expr).__name__)
    for arg in expr.args:
        _check(arg, known)
