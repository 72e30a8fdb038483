"""Max pooling: y[n,c,i,j] = max over the window x[n,c, i·s+p, j·s+q], 0 ≤ p < KH, 0 ≤ q < KW.

The gradient goes to the window's largest element only: ∂y/∂x is 1 there and 0 at the
rest of the window, so the backward routes each dout to the argmax the forward kept,
and an element in several windows collects the dout of each window it wins. Where two
elements of a window tie for the largest, max has no derivative (a kink: the slope is 1
one side and 0 the other); routing dout to either one is a valid subgradient, and
symgrad's check reports the tie as a kink, not as an error.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.images import col2im, im2col, output_size
from symgrad.layers.kinds import POOLING
from symgrad.layers.spec import Layer


class MaxPooling:
    """Keeps, per window, which element was the largest (the first, at a tie)."""

    def __init__(self, pool_h: int = 2, pool_w: int = 2, stride: int = 2) -> None:
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.x_shape: tuple[int, ...] | None = None
        self.arg_max: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        n, c, h, w = x.shape
        out_h = output_size(h, self.pool_h, self.stride, 0)
        out_w = output_size(w, self.pool_w, self.stride, 0)
        # One row per window and channel: im2col's rows hold the channels side by side.
        col = im2col(x, self.pool_h, self.pool_w, self.stride).reshape(
            -1, self.pool_h * self.pool_w
        )
        self.x_shape = x.shape
        self.arg_max = np.argmax(col, axis=1)
        out = col[np.arange(col.shape[0]), self.arg_max]
        return out.reshape(n, out_h, out_w, c).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        window = self.pool_h * self.pool_w
        flat = dout.transpose(0, 2, 3, 1).ravel()  # the rows' order: (n, i, j), then c
        dcol = np.zeros((flat.size, window), dtype=flat.dtype)
        dcol[np.arange(flat.size), self.arg_max] = flat
        dcol = dcol.reshape(-1, self.x_shape[1] * window)
        return col2im(dcol, self.x_shape, self.pool_h, self.pool_w, self.stride)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.windows import WindowForm

    return WindowForm(function=sp.Max, name="max", defaults={"pool_h": 2, "pool_w": 2, "stride": 2})


LAYER = Layer(
    name="maxpool",
    numpy_class=MaxPooling,
    symbolic=symbolic,
    kind=POOLING,
    inputs=("x",),
    settings=("pool_h", "pool_w", "stride"),
    domain="distinct",
    default_shape=(2, 2, 4, 4, 2),
    smooth=False,
    aliases=("max-pooling", "pooling"),
)
