"""Step sizes for finite differences, chosen per element and per dtype.

For central differences the truncation error grows like h² and the rounding error like
ε/h; their sum is smallest near h = ε^(1/3), scaled by the size of x so that x + h
differs from x in enough bits (a blind h = 1e-4 is far too large for float64 and
too small for nothing).
"""

import numpy as np


def central_step(x: np.ndarray) -> np.ndarray:
    """h = ε^(1/3)·max(1, |x|) in x's own floating dtype."""
    eps = np.finfo(x.dtype).eps
    return (eps ** (1 / 3) * np.maximum(1.0, np.abs(x))).astype(x.dtype)


def describe_central_step(dtype: np.dtype) -> str:
    eps = np.finfo(dtype).eps
    return f"central differences, h = ε^(1/3)·max(1, |x|) ≈ {eps ** (1 / 3):.1e}·max(1, |x|)"
