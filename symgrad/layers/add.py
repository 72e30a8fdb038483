"""Add node: z = x + y. Backward passes the upstream gradient through unchanged."""

import numpy as np

from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class AddLayer:
    """The note's add node; it needs nothing from the forward pass to go backward."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return dout * 1, dout * 1


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x, y = sp.symbols("x y", real=True)
    return ScalarForm(forward=x + y, inputs=(x, y), output="z")


LAYER = Layer(
    name="add",
    numpy_class=AddLayer,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x", "y"),
    complex_safe=True,
)
