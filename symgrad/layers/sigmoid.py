"""Sigmoid: y = 1/(1 + exp(−x)); the note's four-node graph gives ∂y/∂x = y(1 − y)."""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ELEMENTWISE
from symgrad.layers.spec import Layer


class Sigmoid:
    """Keeps its output: backward needs only y."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        # 1/(1 + e^(−x)) overflows e^(−x) for x << 0, so there use the equal e^x/(1 + e^x).
        # Either way e = e^(−|x|) ≤ 1. The branch is chosen by the real part, so a complex
        # input (the complex-step method) stays on one analytic branch; unlike logaddexp,
        # which the note's overflow-safe form would need, exp and / accept complex numbers.
        negative = np.real(x) < 0
        e = np.exp(np.where(negative, x, -x))
        self.out = np.where(negative, e / (1 + e), 1 / (1 + e))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1.0 - self.out) * self.out


def symbolic():
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x = sp.Symbol("x", real=True)
    return ScalarForm(forward=1 / (1 + sp.exp(-x)), inputs=(x,), output="y", express_in="output")


LAYER = Layer(
    name="sigmoid",
    numpy_class=Sigmoid,
    symbolic=symbolic,
    kind=ELEMENTWISE,
    inputs=("x",),
    complex_safe=True,
)
