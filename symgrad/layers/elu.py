"""ELU: y = x where x > 0, else α(eˣ − 1), with α = 1; ∂y/∂x = 1 where x > 0, else y + α.

For x ≤ 0 the derivative αeˣ is the output plus α, so backward needs only the output and
which side of 0 each element was on. With α = 1 the first derivative is continuous at 0
but the second jumps there (0 on the right, 1 on the left), so the catalog keeps test
inputs away from 0 as it does for ReLU.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer

ALPHA = 1.0  # the value y approaches as x → −∞ is −α


class Elu:
    """Keeps its output and the positive side's mask: backward needs y + α off it."""

    def __init__(self, alpha: float = ALPHA) -> None:
        self.alpha = alpha
        self.mask: np.ndarray | None = None
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        self.mask = x > 0
        # expm1 keeps eˣ − 1 accurate near 0; the minimum keeps the unused branch from
        # overflowing for a large positive x.
        negative = self.alpha * np.expm1(np.minimum(x, 0))
        self.out = np.where(self.mask, x, negative).astype(x.dtype, copy=False)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * np.where(self.mask, 1, self.out + self.alpha)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    alpha = sp.nsimplify(ALPHA)  # 1, not 1.0: α(eˣ − 1) prints as eˣ − 1
    return ScalarForm(
        forward=sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)),
        inputs=(x,),
        output="y",
        express_in="output",
    )


LAYER = Layer(
    name="elu",
    numpy_class=Elu,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    domain="away_from_zero",
    smooth=False,
)
