"""Dropout (inverted, training mode): y = x·m/(1 − p), with the mask m a constant input.

Each element is kept (m = 1) with probability 1 − p, else dropped (m = 0); dividing the
kept ones by 1 − p keeps the expected output equal to x, so nothing is rescaled at test
time. The mask is data, not a function of x: the gradient is dy·m/(1 − p) with the very
mask the forward drew, which is why the forward keeps it. A backward that draws a new
mask sends the gradient to elements the forward dropped, and drops ones it kept.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import MASKED
from symgrad.layers.spec import Layer, mask_values

DROP_RATIO = 0.5  # p: the probability that an element is dropped


class Dropout:
    """Draws its mask in forward (unless one is given) and keeps it for backward."""

    inverted = True  # divide the kept elements by 1 − p in training

    def __init__(
        self, dropout_ratio: float = DROP_RATIO, rng: np.random.Generator | None = None
    ) -> None:
        self.dropout_ratio = dropout_ratio
        self.rng = rng if rng is not None else np.random.default_rng()
        self.scale: np.ndarray | None = None  # m/(1 − p): the mask, as forward applied it

    def forward(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        x = as_float(x)
        if mask is None:  # training: a new mask every forward
            mask = self.rng.random(x.shape) >= self.dropout_ratio
        kept = 1 - self.dropout_ratio if self.inverted else 1
        self.scale = (np.asarray(mask) / kept).astype(x.dtype)
        return x * self.scale

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.scale  # the forward's mask, never a new one


def symbolic(inverted: bool = True):
    import sympy as sp

    from symgrad.symbolic.scalar import ScalarForm

    x, mask = sp.symbols("x mask", real=True)
    p = sp.Symbol("p", nonnegative=True)
    forward = x * mask / (1 - p) if inverted else x * mask
    return ScalarForm(
        forward=forward, inputs=(x,), output="y", constants=(mask,), settings={p: DROP_RATIO}
    )


LAYER = Layer(
    name="dropout",
    numpy_class=Dropout,
    symbolic=symbolic,
    kind=MASKED,
    inputs=("x",),
    labels=("mask",),
    label_values=mask_values(DROP_RATIO),
    complex_safe=True,
)
