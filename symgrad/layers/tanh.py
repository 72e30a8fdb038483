"""Tanh: y = tanh(x), with ∂y/∂x = 1 − y²."""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class Tanh:
    """Keeps its output: backward needs only y."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(as_float(x))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self.out**2)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=sp.tanh(x), inputs=(x,), output="y", express_in="output")


LAYER = Layer(
    name="tanh",
    numpy_class=Tanh,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    complex_safe=True,
)
