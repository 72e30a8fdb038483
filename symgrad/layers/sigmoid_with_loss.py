"""Sigmoid-with-loss: L = −Σₖ [tₖ log yₖ + (1 − tₖ) log(1 − yₖ)] with y = sigmoid(x).

Binary cross-entropy against labels t of 0 or 1, one per score: a row of C scores is C
yes/no questions. A flat x of N scores is, as in the sequel book, N samples of one
score each (N rows of one). The batch loss is the mean over the N rows, so
∂L/∂x = (y − t)/N, as for softmax-with-loss.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import ROW_LOSS
from symgrad.layers.spec import BINARY, Layer


def log_sigmoid(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log σ(x) and log(1 − σ(x)) = log σ(−x), never taking log of 0.

    With e = exp(−|x|) ≤ 1, log σ(x) = min(x, 0) − log(1 + e) and log σ(−x) =
    min(−x, 0) − log(1 + e): nothing overflows and nothing rounds to 0 before its log.
    The branch is chosen by the real part, so a complex input (the complex-step method)
    stays on one analytic branch.
    """
    negative = np.real(x) < 0
    log1p_e = np.log1p(np.exp(np.where(negative, x, -x)))
    return np.where(negative, x, 0) - log1p_e, np.where(negative, 0, -x) - log1p_e


class SigmoidWithLoss:
    """Mean binary cross-entropy of sigmoid(x) against 0/1 labels t of x's shape."""

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        x = as_float(x)
        if np.shape(t) != x.shape:
            raise ValueError(f"labels of shape {np.shape(t)} do not match the scores' {x.shape}")
        self._flat = x.ndim == 1
        t = np.asarray(t, dtype=x.real.dtype)
        x, self.t = (x[:, None], t[:, None]) if self._flat else (np.atleast_2d(x), np.atleast_2d(t))
        log_y, log_not_y = log_sigmoid(x)
        self.y = np.exp(log_y)
        # .item(): a complex loss (complex-step) keeps the imaginary part, the derivative.
        self.loss = (-(self.t * log_y + (1 - self.t) * log_not_y).sum() / x.shape[0]).item()
        return self.loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        dx = dout * (self.y - self.t) / self.y.shape[0]
        return dx[:, 0] if self._flat else dx


def symbolic():
    import sympy as sp

    from symgrad.symbolic.losses import RowLossForm

    def activation(x):
        return [1 / (1 + sp.exp(-xk)) for xk in x]

    def loss(y, t):
        pairs = zip(y, t, strict=True)
        return -sum(tk * sp.log(yk) + (1 - tk) * sp.log(1 - yk) for yk, tk in pairs)

    return RowLossForm(
        loss=loss,
        loss_name="cross-entropy",
        activation=activation,
        activation_name="sigmoid",
        inverse=lambda y: sp.log(y / (1 - y)),
        flat_is_batch=LAYER.scores_are_samples,
    )


LAYER = Layer(
    name="sigmoid-with-loss",
    numpy_class=SigmoidWithLoss,
    symbolic=symbolic,
    kind=ROW_LOSS,
    inputs=("x",),
    labels=("t",),
    label_values=BINARY,
    scores_are_samples=True,
    complex_safe=True,
)
