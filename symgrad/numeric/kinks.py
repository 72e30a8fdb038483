"""Kinks: points where the left and right one-sided derivatives disagree.

A central difference at a kink returns the average of the two slopes (0.5 for ReLU at
0), which matches no derivative because there is none. So at every element symgrad
also takes one-sided differences, at the central step h and at h/4:

- smooth there: right − left = h·f'' + O(h³), so the gap shrinks at least 4× with the
  step (64× where f'' = 0);
- a kink at x: the gap is the jump in slope, the same at both steps; a kink within h
  of x: the gap shrinks, but by less than 4×.

An element is a kink when the gap at h/4 is still more than 0.35 of the gap at h and
well above what rounding alone could produce. There the backward is checked to lie
between the two one-sided values (a valid subgradient; near a piecewise-smooth kink the
true derivative lies between them too) instead of against the central average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symgrad.numeric.differences import ROUNDING_ULPS, Combined, Function, perturbed, touched
from symgrad.numeric.steps import automatic_step, representable

SHRINK = 4  # the second step is h/SHRINK
PERSISTS = 0.35  # a smooth gap falls to 1/SHRINK or below; a kink's stays near 1
NOISE_MARGIN = 4  # the gap must exceed this many times the modelled rounding of the gap


@dataclass(frozen=True)
class OneSided:
    """Left and right one-sided derivatives per element, and where they disagree."""

    left: np.ndarray
    right: np.ndarray
    kink: np.ndarray  # bool, x's shape
    step: np.ndarray
    # How far each one-sided value may lie from the one-sided derivative: its own
    # truncation (a first-order difference's error ∝ its step, measured between the two
    # steps) and rounding. 0 where not measured.
    allowance: np.ndarray | float = 0.0

    def outside(self, values: np.ndarray) -> np.ndarray:
        """How far ``values`` lie outside [min(left, right), max(left, right)], widened by
        the one-sided values' own error; 0 inside."""
        low, high = np.minimum(self.left, self.right), np.maximum(self.left, self.right)
        return np.maximum(np.maximum(low - values, values - high) - self.allowance, 0.0)


def no_kinks(x: np.ndarray) -> OneSided:
    """One-sided derivatives that flag no kink, for a function taken to be smooth."""
    zeros = np.zeros(np.shape(x))
    return OneSided(left=zeros, right=zeros, kink=np.zeros(np.shape(x), dtype=bool), step=zeros)


def one_sided(
    f: Function, x: np.ndarray, dout: np.ndarray | float, elementwise: bool = False
) -> OneSided:
    """Left and right differences of ⟨dout, f⟩ at the central step and at a quarter of it."""
    x = np.asarray(x)
    eps = float(np.finfo(x.dtype).eps)
    h = representable(x, automatic_step("central", x))
    q = representable(x, h / SHRINK)

    def combine(outputs: list[np.ndarray]) -> Combined:
        base, up, down, up_q, down_q = outputs
        # Only outputs the displacement moved carry rounding (as in a stencil): an output
        # it left alone differences to exactly 0.
        return [
            (up - base, None),  # the gap at h is measured; its rounding is not needed
            (base - down, None),
            (up_q - base, touched([base, up_q])),
            (base - down_q, touched([base, down_q])),
        ]

    (right, _), (left, _), (right_q, m_right_q), (left_q, m_left_q) = perturbed(
        f, x, dout, [None, h, -h, q, -q], combine, elementwise
    )
    gap = np.abs(right - left) / h
    gap_q = np.abs(right_q - left_q) / q
    # Each one-sided difference carries two roundings of size δ·|f|; the gap, four.
    noise_q = 2 * ROUNDING_ULPS * eps * (m_right_q + m_left_q) / q
    kink = (gap_q > NOISE_MARGIN * noise_q) & (gap_q >= PERSISTS * gap)
    # The interval is taken at the smaller step; each end is a first-order difference,
    # D(s) = f′± + c·s + …, so its error at q is (D(h) − D(q))·q/(h − q), with a margin
    # of 2, plus its rounding. (SELU's backward, exact at its jump, lay outside the
    # bare interval by SELU's curvature times the step.)
    left_q, right_q, left, right = left_q / q, right_q / q, left / h, right / h
    truncation = np.maximum(np.abs(left - left_q), np.abs(right - right_q)) / (SHRINK - 1)
    allowance = 2 * truncation + noise_q
    return OneSided(left=left_q, right=right_q, kink=kink, step=h, allowance=allowance)
