"""Softmax on its own: yᵢ = exp(xᵢ)/Σₖ exp(xₖ) along each row, ∂yᵢ/∂xⱼ = yᵢ(δᵢⱼ − yⱼ).

Each output row depends on every entry of its own input row, so the backward is a
Jacobian–vector product per row: dx = y ⊙ (dout − Σ dout ⊙ y). Before a loss of its own
(cross-entropy) it is what softmax-with-loss fuses into y − t.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ROW_WISE
from symgrad.layers.softmax_with_loss import log_softmax
from symgrad.layers.spec import Layer


class Softmax:
    """Keeps its output: backward needs only y."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.exp(log_softmax(as_float(x)))  # the row maximum subtracted: no overflow
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self.out * (dout - (dout * self.out).sum(axis=-1, keepdims=True))


def symbolic():
    import sympy as sp

    from symgrad.symbolic.rows import INDEX_I, INDEX_K, ROW, C, RowForm

    def function(x):
        total = sum(sp.exp(xk) for xk in x)
        return [sp.exp(xk) / total for xk in x]

    return RowForm(
        function=function,
        formula=sp.exp(ROW[INDEX_I]) / sp.Sum(sp.exp(ROW[INDEX_K]), (INDEX_K, 1, C)),
        name="softmax",
        inverse=sp.log,  # x_k = log y_k + log Σ exp(x): the shift cancels
        constraint=lambda y: sum(y) - 1,
    )


LAYER = Layer(
    name="softmax",
    numpy_class=Softmax,
    symbolic=symbolic,
    kind=ROW_WISE,
    inputs=("x",),
    complex_safe=True,
)
