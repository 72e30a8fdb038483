"""Exp node: y = exp(x); its derivative is its own output, y."""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class Exp:
    """Keeps its output, which is also its local derivative."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.exp(as_float(x))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.out


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=sp.exp(x), inputs=(x,), output="y", express_in="output")


LAYER = Layer(
    name="exp",
    numpy_class=Exp,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    complex_safe=True,
)
