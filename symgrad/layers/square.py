"""Square node: z = t², the outer function of the note's chain-rule example z = (x + y)²."""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class Square:
    """Keeps its input: the local derivative 2t needs it."""

    def __init__(self) -> None:
        self.t: np.ndarray | None = None

    def forward(self, t: np.ndarray) -> np.ndarray:
        self.t = as_float(t)
        return self.t**2

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * 2 * self.t


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    t = sp.Symbol("t", real=True)
    return ScalarForm(forward=t**2, inputs=(t,), output="z")


LAYER = Layer(
    name="square",
    numpy_class=Square,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("t",),
    complex_safe=True,
)
