"""Multiply node: z = x·y. Backward swaps the inputs, so forward must keep them."""

import numpy as np

from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class MulLayer:
    """The note's multiply node ("the swap": ∂z/∂x = y, ∂z/∂y = x)."""

    def __init__(self) -> None:
        self.x: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.x, self.y = x, y
        return x * y

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return dout * self.y, dout * self.x


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x, y = sp.symbols("x y", real=True)
    return ScalarForm(forward=x * y, inputs=(x, y), output="z")


LAYER = Layer(
    name="mul",
    numpy_class=MulLayer,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x", "y"),
    complex_safe=True,
)
