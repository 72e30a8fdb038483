"""Log-softmax: yᵢ = xᵢ − log Σₖ exp(xₖ) along each row, ∂yᵢ/∂xⱼ = δᵢⱼ − exp(yⱼ).

exp(y) is the softmax, so the backward per row is dx = dout − exp(y)·Σ dout. Computed
directly, it never takes log of 0 as log(softmax(x)) would for a very negative score.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ROW_WISE
from symgrad.layers.softmax_with_loss import log_softmax
from symgrad.layers.spec import Layer


class LogSoftmax:
    """Keeps its output: backward needs only exp(y), the softmax."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = log_softmax(as_float(x))
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout - np.exp(self.out) * dout.sum(axis=-1, keepdims=True)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.rows import INDEX_I, INDEX_K, ROW, C, RowForm

    def function(x):
        log_total = sp.log(sum(sp.exp(xk) for xk in x))
        return [xk - log_total for xk in x]

    return RowForm(
        function=function,
        formula=ROW[INDEX_I] - sp.log(sp.Sum(sp.exp(ROW[INDEX_K]), (INDEX_K, 1, C))),
        name="log-softmax",
        inverse=lambda y: y,  # x_k = y_k + log Σ exp(x): the shift cancels
        constraint=lambda y: sum(sp.exp(yk) for yk in y) - 1,
    )


LAYER = Layer(
    name="log-softmax",
    numpy_class=LogSoftmax,
    symbolic=symbolic,
    kind=ROW_WISE,
    inputs=("x",),
    complex_safe=True,
)
