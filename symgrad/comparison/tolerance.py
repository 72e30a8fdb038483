"""How close is close enough: a bound for every element, from the method's error model.

Every element is held to its own bound; no element's bound widens another's, so one
element whose numeric value is poor (a stencil near a kink, a large truncation estimate)
cannot hide an error elsewhere in the tensor.

- backward vs symbolic: two exact formulas, the backward evaluated in the layer's dtype
  and SymPy's in float64: 64·ε, room for 64 roundings in the dtype, times the element's
  scale, the larger of its largest |value| and the size of what it is computed from
  (:func:`element_scale`): a backward written in the output, like sigmoid's y(1 − y),
  rounds on the scale of y, which in a tail (y ≈ 1, y(1 − y) ≈ 2e-9) dwarfs the
  derivative itself; a sum of upstream gradients of both signs (db) rounds on the scale
  of its terms.
- against numeric: the method's own error model at that element: the estimated
  truncation (measured from the same method at twice the step, or Richardson's estimate),
  with a margin of 2 for the terms after the leading one, plus the modelled rounding
  R·4ε·|f|/h; plus the backward's (or symbolic's) own allowance. At a kink the numeric
  pairs measure how far a value lies outside the one-sided interval (symgrad.numeric.kinks),
  and the one-sided values carry rounding only.

The same model evaluated with float64's ε and float64's automatic steps tells how much
looser a float32 check is, and :func:`looseness` says why in one line.
"""

from __future__ import annotations

import numpy as np

from symgrad.i18n import _
from symgrad.numeric.differences import NumericGradient
from symgrad.numeric.methods import Method

EXACT_FACTOR = 64
TRUNCATION_MARGIN = 2
FLOAT64_EPS = float(np.finfo(np.float64).eps)


def exact_tolerance(dtype: np.dtype | str, scale: float | np.ndarray) -> float | np.ndarray:
    """An exact formula's allowance: 64·ε of the dtype, relative to ``scale``."""
    return EXACT_FACTOR * float(np.finfo(dtype).eps) * scale


def numeric_bound(numeric: NumericGradient) -> np.ndarray:
    """The numeric value's error bound per element: 2 × truncation + rounding."""
    return TRUNCATION_MARGIN * numeric.truncation + numeric.rounding


def element_scale(numeric: NumericGradient, *values: np.ndarray | None) -> np.ndarray:
    """Per element: the largest |value| among ``values`` and the size of what the value
    is computed from (the output's size per unit length, or the terms a backward sums)."""
    scale = np.array(numeric.output_scale, dtype=np.float64, copy=True)
    for value in values:
        if value is not None:
            np.maximum(scale, np.abs(value), out=scale)
    return scale


def backward_precision(numeric: NumericGradient, backward: np.ndarray) -> np.dtype:
    """The precision a backward's values carry: the check's dtype, or the narrower float
    the backward returns (the sequel's time layers build their dx in float32)."""
    returned = np.asarray(backward).dtype
    if (
        np.issubdtype(returned, np.floating)
        and np.finfo(returned).eps > np.finfo(numeric.dtype).eps
    ):
        return returned
    return numeric.dtype


def element_bounds(
    numeric: NumericGradient,
    scale: np.ndarray,
    kink: np.ndarray,
    symbolic: bool = True,
    backward_dtype: np.dtype | None = None,
) -> dict[str, np.ndarray]:
    """The bound of every element for each pair, keyed as in :data:`symgrad.reports.PAIRS`
    (without ``symbolic_vs_numeric`` when there is no ``symbolic`` column); the backward's
    own allowance is for ``backward_dtype`` (default: the check's).

    Where ``kink`` is set the numeric side is the one-sided interval, whose values carry
    rounding but no truncation estimate (a central difference across a kink has a huge
    one, which must not make the interval check pass).
    """
    model = numeric_bound(numeric)
    if kink.any():
        model = np.where(kink, numeric.rounding, model)
    own = exact_tolerance(backward_dtype or numeric.dtype, scale)
    bounds = {"backward_vs_symbolic": own, "backward_vs_numeric": own + model}
    if symbolic:
        bounds["symbolic_vs_numeric"] = exact_tolerance(np.float64, scale) + model
    return bounds


def float64_equivalent(
    numeric: NumericGradient, scale: np.ndarray, index: tuple[int, ...], fixed_step: bool
) -> float:
    """The backward-vs-numeric bound element ``index`` would have in float64.

    With automatic steps h ∝ ε^(1/(p+1)) both terms of a stencil's model scale like
    ε^(p/(p+1)); with a fixed step only the rounding term shrinks, by the ratio of the ε's.
    Richardson adapts its step and complex-step has no truncation: both scale like ε.
    """
    ratio = FLOAT64_EPS / float(np.finfo(numeric.dtype).eps)
    truncation = TRUNCATION_MARGIN * float(numeric.truncation[index])
    rounding = float(numeric.rounding[index])
    method = numeric.method
    if method.kind != "stencil":
        model = (truncation + rounding) * ratio
    elif fixed_step:
        model = truncation + rounding * ratio
    else:
        model = (truncation + rounding) * ratio ** (method.order / (method.order + 1))
    return float(exact_tolerance(np.float64, scale[index])) + model


def growth(method: Method) -> str:
    """How the method's best attainable error grows with ε, in words."""
    if method.kind != "stencil":
        return "ε"
    return f"ε^({method.order}/{method.order + 1})"


def looseness(dtype: np.dtype | str, method: Method, low: float, high: float) -> str:
    """One line: how much looser than float64 these tolerances are, and why."""
    dtype = np.dtype(dtype)
    ratio = float(np.finfo(dtype).eps) / FLOAT64_EPS
    if high < 1.5 * low:
        factor = f"{low:.2g}×"
    else:
        factor = _("{low}× to {high}×").format(low=f"{low:.2g}", high=f"{high:.2g}")
    return _(
        "{dtype}: tolerances against numeric are {factor} looser than the same check in "
        "float64, because ε is {ratio}× larger and {method}'s error at its step grows like "
        "{growth}"
    ).format(
        dtype=dtype.name,
        factor=factor,
        ratio=f"{ratio:.2g}",
        method=method.name,
        growth=growth(method),
    )
