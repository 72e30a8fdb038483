"""GELU, tanh approximation: y = x/2·(1 + tanh(√(2/π)(x + 0.044715x³))).

With u = √(2/π)(x + 0.044715x³) and t = tanh(u),
∂y/∂x = (1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 3·0.044715x²).

This is not the same function as ``gelu``, the exact x·Φ(x) = x/2·(1 + erf(x/√2)): the two
differ by up to 4.73·10⁻⁴ (at x ≈ ±2.699, where this approximation is the larger;
measured at 50 digits). A backward written for one does not pass a check of the other's
forward, so a layer must use one form in both, which numpy-ml's GELU did not (its gradient
took one form, its forward the other).
"""

import math

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer

CUBIC = 0.044715  # the approximation's coefficient of x³
SCALE = math.sqrt(2.0 / math.pi)


class GeluTanh:
    """Keeps its input and the tanh: backward needs both."""

    def __init__(self) -> None:
        self.x: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = as_float(x)
        self.t = np.tanh(SCALE * (self.x + CUBIC * self.x**3))
        return 0.5 * self.x * (1.0 + self.t)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        du = SCALE * (1.0 + 3.0 * CUBIC * self.x**2)
        return dout * (0.5 * (1.0 + self.t) + 0.5 * self.x * (1.0 - self.t**2) * du)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    u = sp.sqrt(2 / sp.pi) * (x + sp.Float(CUBIC) * x**3)
    return ScalarForm(forward=x / 2 * (1 + sp.tanh(u)), inputs=(x,), output="y")


LAYER = Layer(
    name="gelu-tanh",
    numpy_class=GeluTanh,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    complex_safe=True,
)
