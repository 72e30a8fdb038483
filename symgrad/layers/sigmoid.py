"""Sigmoid: y = 1/(1 + exp(−x)); the note's four-node graph gives ∂y/∂x = y(1 − y)."""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.spec import Layer


class Sigmoid:
    """Keeps its output: backward needs only y."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        # exp(-log(1 + exp(-x))) == 1/(1 + exp(-x)), without overflow for x << 0.
        self.out = np.exp(-np.logaddexp(0, -as_float(x)))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self.out) * self.out


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=1 / (1 + sp.exp(-x)), inputs=(x,), output="y", express_in="output")


LAYER = Layer(
    name="sigmoid", numpy_class=Sigmoid, symbolic=symbolic, shape_kind="elementwise", inputs=("x",)
)
