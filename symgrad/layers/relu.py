"""ReLU: y = x where x > 0, else 0; the gradient passes where x > 0 and stops elsewhere.

Unlike the note's version, ``forward`` returns its output and ``backward`` never writes
into the caller's ``dout``.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class Relu:
    """A switch: on where the forward input was positive, off elsewhere (x = 0 included)."""

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        self.mask = x <= 0
        return np.where(self.mask, 0, x).astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self.mask, 0, dout).astype(np.result_type(dout), copy=False)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=sp.Piecewise((x, x > 0), (0, True)), inputs=(x,), output="y")


LAYER = Layer(
    name="relu",
    numpy_class=Relu,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    domain="away_from_zero",
    smooth=False,
)
