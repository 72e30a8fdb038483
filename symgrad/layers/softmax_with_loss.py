"""Softmax-with-loss: L = −Σₖ tₖ log yₖ with y = softmax(x); ∂L/∂x = y − t per sample.

The batch loss is the mean over N samples, so the batch gradient is (y − t)/N. Unlike
the note's version this layer takes one-hot or integer labels, never takes log of 0,
and uses the upstream ``dout`` instead of assuming it is 1.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ROW_LOSS
from symgrad.layers.spec import Layer


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log of softmax, computed directly: it never takes log of 0, and subtracting
    the row maximum keeps exp from overflowing."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def one_hot(t: np.ndarray, shape: tuple[int, ...], dtype: np.dtype = np.float64) -> np.ndarray:
    """Labels as one-hot rows matching scores of ``shape``: class indices are expanded,
    one-hot (or soft) labels of the scores' own shape are returned as floats of ``dtype``
    (the scores' own, so a float32 layer's gradient stays float32)."""
    t = np.asarray(t)
    if t.shape == shape:
        return t.astype(dtype)
    if np.issubdtype(t.dtype, np.integer) and t.shape == shape[:-1]:
        return np.eye(shape[-1], dtype=dtype)[t]
    raise ValueError(
        f"labels of shape {t.shape} fit neither one-hot {shape} nor indices {shape[:-1]}"
    )


class SoftmaxWithLoss:
    """Mean cross-entropy of softmax(x) against labels t (one-hot or class indices)."""

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        x = as_float(x)
        self._unbatched = x.ndim == 1
        self.t = np.atleast_2d(one_hot(t, x.shape, x.real.dtype))
        x = np.atleast_2d(x)  # one sample is a batch of one, not of C
        log_y = log_softmax(x)
        self.y = np.exp(log_y)
        # .item(), not float(): a Python number either way, but a complex loss (the
        # complex-step method) keeps its imaginary part, which carries the derivative.
        self.loss = (-(self.t * log_y).sum() / x.shape[0]).item()
        return self.loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        dx = dout * (self.y - self.t) / self.y.shape[0]
        return dx[0] if self._unbatched else dx


def symbolic():
    import sympy as sp

    from symgrad.symbolic.losses import RowLossForm

    def activation(x):
        total = sum(sp.exp(xk) for xk in x)
        return [sp.exp(xk) / total for xk in x]

    def loss(y, t):
        return -sum(tk * sp.log(yk) for yk, tk in zip(y, t, strict=True))

    return RowLossForm(
        loss=loss,
        loss_name="cross-entropy",
        activation=activation,
        activation_name="softmax",
        inverse=sp.log,  # x_k = log y_k + log Σ exp(x): the shift cancels in softmax
        probabilities=True,
    )


LAYER = Layer(
    name="softmax-with-loss",
    numpy_class=SoftmaxWithLoss,
    symbolic=symbolic,
    kind=ROW_LOSS,
    inputs=("x",),
    labels=("t",),
    complex_safe=True,
)
