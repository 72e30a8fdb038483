"""How close is close enough: tolerances from the numeric method's error model.

Tolerances are normwise: one number per gradient, compared with the largest difference
over its elements (tiny elements near zero do not blow up a relative error).

- backward vs symbolic: two exact formulas, the backward evaluated in the layer's dtype
  and SymPy's in float64: 64·ε, room for 64 roundings in the dtype, times the larger of
  the largest |value| and the output's size per unit length (|dout·f|/max(1, |x|)): a
  backward written in the output, like sigmoid's y(1 − y), rounds on the scale of y,
  which in a tail (y ≈ 1, y(1 − y) ≈ 2e-9) dwarfs the derivative itself.
- against numeric: the method's own error model, element by element: the estimated
  truncation (measured from the same method at twice the step, or Richardson's estimate),
  with a margin of 2 for the terms after the leading one, plus the modelled rounding
  R·4ε·|f|/h. Kinks are left out: there the numeric value is checked differently
  (symgrad.numeric.kinks). The backward's (or symbolic's) own rounding is added.

The same model evaluated with float64's ε and float64's automatic steps tells how much
looser a float32 check is, and :func:`looseness` says why in one line.
"""

from __future__ import annotations

import numpy as np

from symgrad.numeric.differences import NumericGradient
from symgrad.numeric.methods import Method

EXACT_FACTOR = 64
TRUNCATION_MARGIN = 2
FLOAT64_EPS = float(np.finfo(np.float64).eps)


def exact_tolerance(dtype: np.dtype | str, largest: float) -> float:
    """backward vs symbolic: 64·ε of the dtype, relative to the largest value."""
    return EXACT_FACTOR * float(np.finfo(dtype).eps) * largest


def numeric_tolerance(numeric: NumericGradient, smooth: np.ndarray | None = None) -> float:
    """The method's error bound, normwise: 2·max truncation + max rounding."""
    mask = np.ones(numeric.values.shape, dtype=bool) if smooth is None else smooth
    truncation = float(np.max(numeric.truncation[mask], initial=0.0))
    rounding = float(np.max(numeric.rounding[mask], initial=0.0))
    return TRUNCATION_MARGIN * truncation + rounding


def exact_scale(numeric: NumericGradient, largest: float) -> float:
    """What the exact formulas' roundings are relative to: the largest |value|, or the
    output's size per unit length where that is larger."""
    return max(largest, float(np.max(numeric.output_scale, initial=0.0)))


def pair_tolerances(
    numeric: NumericGradient, largest: float, smooth: np.ndarray | None = None
) -> dict[str, float]:
    """Tolerance for each pair of the three-way comparison, keyed as in reports.PAIRS."""
    model = numeric_tolerance(numeric, smooth)
    size = exact_scale(numeric, largest)
    return {
        "backward_vs_symbolic": exact_tolerance(numeric.dtype, size),
        "backward_vs_numeric": exact_tolerance(numeric.dtype, size) + model,
        "symbolic_vs_numeric": exact_tolerance(np.float64, size) + model,
    }


def float64_equivalent(
    numeric: NumericGradient, largest: float, smooth: np.ndarray | None, fixed_step: bool
) -> float:
    """The backward-vs-numeric tolerance the same check would have in float64.

    With automatic steps h ∝ ε^(1/(p+1)) both terms of a stencil's model scale like
    ε^(p/(p+1)); with a fixed step only the rounding term shrinks, by the ratio of the ε's.
    Richardson adapts its step and complex-step has no truncation: both scale like ε.
    """
    mask = np.ones(numeric.values.shape, dtype=bool) if smooth is None else smooth
    ratio = FLOAT64_EPS / float(np.finfo(numeric.dtype).eps)
    truncation = TRUNCATION_MARGIN * float(np.max(numeric.truncation[mask], initial=0.0))
    rounding = float(np.max(numeric.rounding[mask], initial=0.0))
    method = numeric.method
    if method.kind != "stencil":
        model = (truncation + rounding) * ratio
    elif fixed_step:
        model = truncation + rounding * ratio
    else:
        model = (truncation + rounding) * ratio ** (method.order / (method.order + 1))
    return exact_tolerance(np.float64, exact_scale(numeric, largest)) + model


def growth(method: Method) -> str:
    """How the method's best attainable error grows with ε, in words."""
    if method.kind != "stencil":
        return "ε"
    return f"ε^({method.order}/{method.order + 1})"


def looseness(dtype: np.dtype | str, method: Method, low: float, high: float) -> str:
    """One line: how much looser than float64 these tolerances are, and why."""
    dtype = np.dtype(dtype)
    ratio = float(np.finfo(dtype).eps) / FLOAT64_EPS
    factor = f"{low:.2g}×" if high < 1.5 * low else f"{low:.2g}× to {high:.2g}×"
    return (
        f"{dtype.name}: tolerances against numeric are {factor} looser than the same check "
        f"in float64, because ε is {ratio:.2g}× larger and {method.name}'s error at its step "
        f"grows like {growth(method)}"
    )
