"""Softplus: y = log(1 + eˣ), a smooth ReLU; its derivative is the sigmoid, 1/(1 + e⁻ˣ).

SymPy derives eˣ/(1 + eˣ); the catalog shows it as the sigmoid layer's forward, which
SymPy proves it equals (symgrad.symbolic.scalar). The NumPy forward is the overflow-safe
``logaddexp(0, x)``: log(1 + eˣ) written as it stands overflows eˣ for x > 709.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.sigmoid import Sigmoid
from symgrad.layers.spec import Layer


class Softplus:
    """Keeps its input: backward is the sigmoid of it."""

    def __init__(self) -> None:
        self.x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = as_float(x)
        return np.logaddexp(0, self.x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * Sigmoid().forward(self.x)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=sp.log(1 + sp.exp(x)), inputs=(x,), output="y")


LAYER = Layer(
    name="softplus",
    numpy_class=Softplus,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
)
