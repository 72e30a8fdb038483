"""Cross-entropy on its own: L = −Σₖ tₖ log yₖ per row, averaged over the N rows.

It takes probabilities y (a softmax's output, say), not scores, so y must be positive:
∂L/∂y = −t/(N·y). The book's ``cross_entropy_error`` adds 1e-7 inside the log to dodge
log 0; that shifts the gradient to −t/(N·(y + 1e-7)), so here y is taken as it is.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ROW_LOSS
from symgrad.layers.softmax_with_loss import one_hot
from symgrad.layers.spec import Layer


class CrossEntropy:
    """Mean cross-entropy of probabilities y against labels t (one-hot or class indices)."""

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        y = as_float(y)
        self._unbatched = y.ndim == 1
        self.t = np.atleast_2d(one_hot(t, y.shape, y.real.dtype))
        self.y = np.atleast_2d(y)  # one sample is a batch of one, not of C
        self.loss = (-(self.t * np.log(self.y)).sum() / self.y.shape[0]).item()
        return self.loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        dy = -dout * self.t / (self.y.shape[0] * self.y)
        return dy[0] if self._unbatched else dy


def symbolic():
    import sympy as sp

    from symgrad.symbolic.losses import RowLossForm

    def loss(y, t):
        return -sum(tk * sp.log(yk) for yk, tk in zip(y, t, strict=True))

    return RowLossForm(loss=loss, loss_name="cross-entropy", input="y")


LAYER = Layer(
    name="cross-entropy",
    numpy_class=CrossEntropy,
    symbolic=symbolic,
    kind=ROW_LOSS,
    inputs=("y",),
    labels=("t",),
    domain="probability",
    complex_safe=True,
)
