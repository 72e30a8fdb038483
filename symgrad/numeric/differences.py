"""Numerical gradients ∂⟨dout, f(x)⟩/∂x by central differences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symgrad.numeric.steps import central_step


def central_gradient(
    f: Callable[[np.ndarray], np.ndarray | float],
    x: np.ndarray,
    dout: np.ndarray | float,
    elementwise: bool = False,
) -> np.ndarray:
    """The gradient of ⟨dout, f(x)⟩ with respect to x, in float64.

    ``f`` is evaluated in x's dtype; the differences of its outputs are taken before
    they are contracted with ``dout``, so outputs a perturbation does not touch add no
    rounding noise. The step actually taken, (x + h) − (x − h), is used rather than 2h.
    When ``elementwise`` (output element i depends on input element i only) every
    element is perturbed at once: one pair of forward passes instead of one per element.
    """
    dout = np.asarray(dout, dtype=np.float64)
    h = central_step(x)
    if elementwise:
        up, down = x + h, x - h
        difference = np.asarray(f(up), dtype=np.float64) - np.asarray(f(down), dtype=np.float64)
        return dout * difference / (up.astype(np.float64) - down.astype(np.float64))
    gradient = np.empty(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h[index]
        down[index] -= h[index]
        difference = np.asarray(f(up), dtype=np.float64) - np.asarray(f(down), dtype=np.float64)
        step = float(up[index]) - float(down[index])
        gradient[index] = float(np.sum(dout * difference)) / step
    return gradient
