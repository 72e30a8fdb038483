"""GELU, exact: y = x·Φ(x) = x/2·(1 + erf(x/√2)), Φ the standard normal distribution.

∂y/∂x = Φ(x) + x·φ(x), with φ(x) = e^(−x²/2)/√(2π) the normal density.

This is not the same function as ``gelu-tanh``, the tanh approximation
x/2·(1 + tanh(√(2/π)(x + 0.044715x³))): the two differ by up to 4.73·10⁻⁴ (at x ≈ ±2.699,
where the approximation is the larger; measured at 50 digits). A backward written for
one does not pass a check of the other's forward, so a layer must use one form in both,
which numpy-ml's GELU did not (its gradient took one form, its forward the other).
"""

import math

import numpy as np

from symgrad.layers.arrays import as_float, erf
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class Gelu:
    """Keeps its input and Φ of it: backward needs both."""

    def __init__(self) -> None:
        self.x: np.ndarray | None = None
        self.cdf: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = as_float(x)
        self.cdf = 0.5 * (1.0 + erf(self.x / math.sqrt(2.0)))
        return self.x * self.cdf

    def backward(self, dout: np.ndarray) -> np.ndarray:
        density = np.exp(-0.5 * self.x**2) / math.sqrt(2.0 * math.pi)
        return dout * (self.cdf + self.x * density)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=x / 2 * (1 + sp.erf(x / sp.sqrt(2))), inputs=(x,), output="y")


LAYER = Layer(
    name="gelu",
    numpy_class=Gelu,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
)
