"""Leaky ReLU: y = x where x > 0, else α·x, with α = 0.01; the gradient is 1 or α.

Unlike ReLU, a negative input still passes a little gradient back (α of it), so a unit
that is pushed negative can recover. α is a constructor argument of the NumPy class; the
catalog's SymPy forward uses the same default, α = 0.01.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer

ALPHA = 0.01  # the slope for x ≤ 0


class LeakyRelu:
    """A switch like ReLU's whose off side lets α of the gradient through (x = 0 included)."""

    def __init__(self, alpha: float = ALPHA) -> None:
        self.alpha = alpha
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        self.mask = x <= 0
        return np.where(self.mask, self.alpha * x, x).astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return np.where(self.mask, self.alpha * dout, dout).astype(np.result_type(dout), copy=False)


def symbolic(alpha: float = ALPHA):
    """The SymPy forward with slope ``alpha`` (the NumPy class's default unless given)."""
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    slope = sp.Float(alpha)
    return ScalarForm(forward=sp.Piecewise((x, x > 0), (slope * x, True)), inputs=(x,), output="y")


LAYER = Layer(
    name="leaky-relu",
    numpy_class=LeakyRelu,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    domain="away_from_zero",
    smooth=False,
)
