"""Reciprocal node: y = 1/x, the "/" node of the note's sigmoid graph; ∂y/∂x = −y²."""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class Reciprocal:
    """Keeps its output: the derivative −1/x² is −y², so backward needs only y."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = 1 / as_float(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * -(self.out**2)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=1 / x, inputs=(x,), output="y", express_in="output")


LAYER = Layer(
    name="reciprocal",
    numpy_class=Reciprocal,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    domain="away_from_zero",
    complex_safe=True,
)
