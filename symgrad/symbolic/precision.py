"""Evaluating SymPy's gradients in float64 (lambdify + NumPy) or at many digits (mpmath).

float64 is fast and what the comparison's symbolic column shows; at 50 digits the value
is the truth to far below float64's resolution, so the NumPy backward's distance from it
can be counted in ulps: "the formula is wrong" (millions of ulps) is then told apart
from "the formula is right but loses precision" (a few hundred, in a cancellation).
Inputs are converted exactly: every float64 is a dyadic rational mpmath holds exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

TRUTH_DIGITS = 50

Shapes = dict[str, tuple[int, ...]]
# What every SymPy form's ``gradient_function(shapes, digits)`` returns: the arrays by
# name and the upstream gradient dout → SymPy's gradient of each input as ``"d<name>"``.
GradientFunction = Callable[[dict[str, np.ndarray], np.ndarray], dict[str, np.ndarray]]
# (arrays, dout, directions v by input name) -> H·v by input name, in float64
HessianVectorFunction = Callable[
    [dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]], dict[str, np.ndarray]
]


@dataclass(frozen=True)
class Arithmetic:
    """Where a lambdified gradient is evaluated: float64 (``digits=None``) or mpmath."""

    digits: int | None = None

    @property
    def modules(self) -> str:
        """lambdify's module for elementary functions (exp, log, …)."""
        return "numpy" if self.digits is None else "mpmath"

    def compile(self, args: Any, expr: Any) -> Callable[..., Any]:
        """``expr`` as a function of ``args``: a NumPy tree walk in float64, else mpmath."""
        if self.digits is None:
            from symgrad.symbolic.evaluate import numpy_function

            return numpy_function(args, expr)
        import sympy as sp

        return sp.lambdify(args, expr, self.modules)

    def array(self, values: Any) -> np.ndarray:
        """float64 values, or an object array of exact mpf copies of them."""
        values = np.asarray(values, dtype=np.float64)
        if self.digits is None:
            return values
        import mpmath

        return np.asarray(np.frompyfunc(lambda v: mpmath.mpf(float(v)), 1, 1)(values), object)

    def elementwise(self, function: Callable[..., Any], arity: int) -> Callable[..., Any]:
        """A scalar mpmath function applied element by element (NumPy functions already are)."""
        if self.digits is None:
            return function
        vectorized = np.frompyfunc(function, arity, 1)
        return lambda *args: np.asarray(vectorized(*args), dtype=object)

    @contextlib.contextmanager
    def context(self) -> Iterator[None]:
        """mpmath's working precision set to ``digits`` for the evaluation."""
        if self.digits is None:
            yield
            return
        import mpmath

        with mpmath.workdps(self.digits):
            yield


def to_float(values: np.ndarray) -> np.ndarray:
    """Round (an object array of) mpf values to the nearest float64."""
    return np.asarray(np.frompyfunc(float, 1, 1)(values), dtype=np.float64)


def ulps(values: np.ndarray, truth: np.ndarray, dtype: np.dtype | str) -> np.ndarray:
    """|values − truth| in units of the last place of ``dtype`` at the true value.

    The difference is taken at full precision before it is rounded, so a value one ulp
    off reads 1.0, not 0 or 2.
    """
    import mpmath

    dtype = np.dtype(dtype)
    rounded = to_float(truth).astype(dtype)
    spacing = np.spacing(np.abs(rounded)).astype(np.float64)
    with mpmath.workdps(TRUTH_DIGITS):
        difference = np.abs(np.asarray(values, dtype=np.float64).astype(object) - truth)
        return to_float(difference) / spacing
