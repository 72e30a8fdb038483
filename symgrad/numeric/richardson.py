"""Richardson extrapolation in Ridders' form, for every element at once.

Central differences D(h) = f' + c₁h² + c₂h⁴ + …: from D at h, h/q, h/q², … a Neville
tableau cancels h², then h⁴, and so on. Each entry differs from its neighbours (the
lower order, and the same order one step earlier) by about its own error, which gives
an error estimate for free. Per element the entry with the smallest estimate is kept,
and an element stops improving (its later levels are ignored) once the diagonal moves
by more than twice the best estimate, the sign that rounding has taken over (Numerical
Recipes, ``dfridr``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SAFE = 2.0  # stop when the diagonal moves by more than SAFE × the best error estimate


@dataclass(frozen=True)
class Extrapolation:
    """Ridders' result per element: the value, its error estimate and the step it came from."""

    value: np.ndarray
    error: np.ndarray
    step: np.ndarray  # the smallest step in the tableau entry that was kept
    # How much the kept entry amplifies a rounding error of its differences:
    # Π (F + 1)/(F − 1) over the extrapolations that made it, F = shrink², shrink⁴, …
    amplification: np.ndarray


def ridders(
    difference: Callable[[int], tuple[np.ndarray, np.ndarray]], levels: int, shrink: float
) -> Extrapolation:
    """Extrapolate ``difference(level) -> (D(h_level), h_level)`` to h → 0.

    ``difference(k)`` returns central differences at the k-th step (h₀/shrinkᵏ, per
    element) and the steps actually used.
    """
    first, h = difference(0)
    previous = [first]
    best = first.copy()
    error = np.full(first.shape, np.inf)
    step = h.copy()
    amplification = np.ones(first.shape)
    active = np.ones(first.shape, dtype=bool)
    ratio = shrink**2
    for level in range(1, levels):
        value, h = difference(level)
        row = [value]
        factor, gain = ratio, 1.0
        for j in range(1, level + 1):
            row.append((row[j - 1] * factor - previous[j - 1]) / (factor - 1))
            gain *= (factor + 1) / (factor - 1)
            factor *= ratio
            if j == level:
                continue  # the diagonal has no same-order neighbour to check it against
            # Besides the two lower-order neighbours (Ridders), the same order at the
            # previous step: without it, an h^(2j) coefficient that happens to vanish at
            # x makes two entries agree by accident and the estimate far too small.
            estimate = np.maximum(
                np.maximum(np.abs(row[j] - row[j - 1]), np.abs(row[j] - previous[j - 1])),
                np.abs(row[j] - previous[j]),
            )
            better = active & (estimate <= error)
            best = np.where(better, row[j], best)
            error = np.where(better, estimate, error)
            step = np.where(better, h, step)
            amplification = np.where(better, gain, amplification)
        # Rounding has taken over where the diagonal jumps by more than the best estimate.
        active &= np.abs(row[level] - previous[level - 1]) < SAFE * error
        previous = row
    return Extrapolation(value=best, error=error, step=step, amplification=amplification)
