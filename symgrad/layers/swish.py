"""Swish, also called SiLU: y = x·sigmoid(x) = x/(1 + e⁻ˣ).

With s = sigmoid(x), ∂y/∂x = s + x·s(1 − s) = y + s(1 − y): backward needs the output and
the sigmoid, which forward keeps.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.sigmoid import Sigmoid
from symgrad.layers.spec import Layer


class Swish:
    """Keeps its output and its input's sigmoid."""

    def __init__(self) -> None:
        self.sigmoid = Sigmoid()
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        self.out = x * self.sigmoid.forward(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        s = self.sigmoid.out
        return dout * (self.out + s * (1.0 - self.out))


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=x / (1 + sp.exp(-x)), inputs=(x,), output="y")


LAYER = Layer(
    name="swish",
    aliases=("silu",),
    numpy_class=Swish,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    complex_safe=True,
)
