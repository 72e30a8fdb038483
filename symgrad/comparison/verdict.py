"""The verdict on one gradient: every element against its own bound.

A gradient agrees when every element does. What is reported for each pair is its worst
element by |difference| / bound, with both values, so that the table's two numbers are
the ones that decided the verdict (symgrad.comparison.tolerance says how a bound is made).
"""

from __future__ import annotations

import numpy as np

from symgrad.comparison.tolerance import (
    TRUNCATION_MARGIN,
    backward_precision,
    element_bounds,
    element_scale,
    exact_tolerance,
    float64_equivalent,
    numeric_bound,
)
from symgrad.numeric.differences import NumericGradient
from symgrad.numeric.kinks import OneSided
from symgrad.reports import PAIRS, GradientCheck, Kinks, Precision, ToleranceModel, WorstElement

# A numeric value whose error bound exceeds this share of the element's scale cannot
# tell a right backward from a wrong one there: it is reported, never taken as agreement.
UNRELIABLE = 0.05


def ratios(difference: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """|difference| / bound per element; NaN, and anything over a zero bound, is ∞."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(difference / bound, dtype=np.float64)
    unbounded = ~(np.asarray(bound) > 0)  # 0, negative or NaN
    if unbounded.any():
        difference = np.broadcast_to(difference, ratio.shape)
        ratio[unbounded] = np.where(difference[unbounded] == 0, 0.0, np.inf)
    # A NaN difference over a positive bound, or ∞/∞: infinitely far.
    np.copyto(ratio, np.inf, where=np.isnan(ratio))
    return ratio


def _magnitude(values: np.ndarray) -> float:
    """max |value| (0 for none, NaN if any is NaN), in two reductions without a copy."""
    high, low = float(np.max(values, initial=0.0)), float(np.min(values, initial=0.0))
    return float("nan") if high != high or low != low else max(high, -low)


def _largest_gap(difference: np.ndarray) -> float:
    """The largest difference, a NaN counted as ∞ and ∞ as the largest float (as
    ``np.nan_to_num(difference, nan=np.inf)`` has them)."""
    largest = _magnitude(difference)
    if largest != largest:
        return float("inf")
    return float(np.finfo(np.float64).max) if largest == float("inf") else largest


def _worst(
    ratio: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    difference: np.ndarray,
    bound: np.ndarray,
) -> WorstElement:
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    gap = float(difference[index])
    return WorstElement(
        index=index,
        first=float(first[index]),
        second=float(second[index]),
        difference=gap if gap == gap else float("inf"),  # NaN: infinitely far
        bound=float(bound[index]),
        ratio=float(ratio[index]),
    )


def _kinks(sides: OneSided, inputs: np.ndarray, backward: np.ndarray, bound: np.ndarray) -> Kinks:
    outside = sides.outside(backward)[sides.kink]
    return Kinks(
        mask=sides.kink,
        left=sides.left,
        right=sides.right,
        inputs=np.asarray(inputs, dtype=np.float64),
        subgradient=bool(np.all(outside <= bound[sides.kink])),
        step=float(np.max(sides.step[sides.kink], initial=0.0)),
    )


def _precision(
    backward: np.ndarray, symbolic: np.ndarray, truth: np.ndarray, dtype: str
) -> Precision:
    from symgrad.symbolic.precision import TRUTH_DIGITS, to_float, ulps

    backward_ulps = ulps(backward, truth, dtype)
    exact = to_float(truth)
    largest = float(np.max(np.abs(exact), initial=0.0))
    worst = np.unravel_index(int(np.argmax(backward_ulps)), backward_ulps.shape)
    return Precision(
        digits=TRUTH_DIGITS,
        dtype=dtype,
        backward_ulps=float(np.max(backward_ulps, initial=0.0)),
        worst_index=tuple(int(i) for i in worst),
        symbolic_ulps=float(np.max(ulps(symbolic, truth, np.float64), initial=0.0)),
        relative=float(np.max(np.abs(backward - exact), initial=0.0)) / largest if largest else 0.0,
    )


def check_gradient(
    name: str,
    backward: np.ndarray,
    symbolic: np.ndarray | None,
    numeric: NumericGradient,
    sides: OneSided,
    inputs: np.ndarray,
    fixed_step: bool = False,
    truth: np.ndarray | None = None,
) -> GradientCheck:
    """Each element of ``backward`` (and ``symbolic``, when known) against its own bound.

    At kinks (``sides.kink``) the pairs with numeric measure how far backward or symbolic
    lie outside the interval of the one-sided derivatives, instead of their distance from
    the central average, which is no derivative at all. Without a symbolic column only
    backward vs numeric is measured.
    """
    rounds_in = backward_precision(numeric, backward)
    values = {
        "backward": np.asarray(backward, dtype=np.float64),
        "symbolic": None if symbolic is None else np.asarray(symbolic, dtype=np.float64),
        "numeric": numeric.values,
    }
    scale = element_scale(numeric, *values.values())
    bounds = element_bounds(numeric, scale, sides.kink, values["symbolic"] is not None, rounds_in)
    pairs = [p for p in PAIRS if values["symbolic"] is not None or "symbolic" not in p]
    worst, largest_gap, disagreeing = {}, {}, np.zeros(numeric.values.shape, dtype=bool)
    for pair in pairs:
        first, _, second = pair.split("_")
        a, b = values[first], values[second]
        difference = np.abs(a - b)
        if second == "numeric" and sides.kink.any():
            nearest = np.clip(
                a, np.minimum(sides.left, sides.right), np.maximum(sides.left, sides.right)
            )
            b = np.where(sides.kink, nearest, b)
            difference = np.where(sides.kink, sides.outside(a), difference)
        ratio = ratios(difference, bounds[pair])
        disagreeing |= ratio > 1
        worst[pair] = _worst(ratio, a, b, difference, bounds[pair])
        largest_gap[pair] = _largest_gap(difference)
    # Where the numeric value's own bound is too wide (NaN or ∞ included) and nothing
    # already disagrees or is a kink.
    unreliable = ~(numeric_bound(numeric) <= UNRELIABLE * scale)
    if unreliable.any():
        unreliable &= ~sides.kink & ~disagreeing
    at = worst["backward_vs_numeric"].index
    model = ToleranceModel(
        method=numeric.method.name,
        step_min=float(np.min(numeric.step, initial=np.inf)),
        step_max=float(np.max(numeric.step, initial=0.0)),
        truncation=0.0 if sides.kink[at] else float(numeric.truncation[at]),
        truncation_margin=TRUNCATION_MARGIN,
        rounding=float(numeric.rounding[at]),
        exact=float(exact_tolerance(rounds_in, scale[at])),
        float64_tolerance=(
            float64_equivalent(numeric, scale, at, fixed_step)
            if numeric.dtype != np.float64
            else None
        ),
        index=at,
    )
    kinks = None
    if sides.kink.any():
        kinks = _kinks(sides, inputs, values["backward"], bounds["backward_vs_numeric"])
    precision = None
    if truth is not None and values["symbolic"] is not None:
        precision = _precision(values["backward"], values["symbolic"], truth, numeric.dtype.name)
    largest = max(_magnitude(v) for v in values.values() if v is not None)
    return GradientCheck(
        name=name,
        shape=values["backward"].shape,
        backward=values["backward"],
        symbolic=values["symbolic"],
        numeric=values["numeric"],
        errors={pair: w.difference for pair, w in worst.items()},
        tolerance={pair: w.bound for pair, w in worst.items()},
        relative_error=max(largest_gap.values()) / largest if largest else 0.0,
        model=model,
        kinks=kinks,
        precision=precision,
        worst=worst,
        max_difference=largest_gap,
        bound=bounds["backward_vs_numeric"],
        disagreeing=disagreeing,
        unreliable=unreliable if unreliable.any() else None,
    )
