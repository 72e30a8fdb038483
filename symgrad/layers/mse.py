"""Mean squared error: L = ½·Σₖ (yₖ − tₖ)² per row, averaged over the N rows.

The book's ``mean_squared_error`` sums over everything without dividing; here, as for the
other losses, the batch loss is the mean over rows, so ∂L/∂y = (y − t)/N.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ROW_LOSS
from symgrad.layers.spec import TARGETS, Layer


class MeanSquaredError:
    """Half the squared distance of y from the targets t (of y's shape), mean over rows."""

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        y = as_float(y)
        if np.shape(t) != y.shape:
            raise ValueError(f"targets of shape {np.shape(t)} do not match y's {y.shape}")
        self._unbatched = y.ndim == 1
        self.y = np.atleast_2d(y)  # one sample is a batch of one
        self.t = np.atleast_2d(np.asarray(t, dtype=y.real.dtype))
        self.loss = (0.5 * ((self.y - self.t) ** 2).sum() / self.y.shape[0]).item()
        return self.loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        dy = dout * (self.y - self.t) / self.y.shape[0]
        return dy[0] if self._unbatched else dy


def symbolic():
    from symgrad.symbolic.losses import RowLossForm

    def loss(y, t):
        return sum((yk - tk) ** 2 for yk, tk in zip(y, t, strict=True)) / 2

    return RowLossForm(loss=loss, loss_name="squared error", input="y")


LAYER = Layer(
    name="mse",
    numpy_class=MeanSquaredError,
    symbolic=symbolic,
    kind=ROW_LOSS,
    inputs=("y",),
    labels=("t",),
    label_values=TARGETS,
    complex_safe=True,
)
