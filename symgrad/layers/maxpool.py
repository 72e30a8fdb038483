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
from symgrad.layers.images import from_windows, windows
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
        self.x_shape = x.shape
        col = windows(x, self.pool_h, self.pool_w, self.stride)  # (N, OH, OW, C, window)
        self.arg_max = np.argmax(col, axis=-1)
        out = np.take_along_axis(col, self.arg_max[..., None], axis=-1)[..., 0]
        return out.transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        flat = dout.transpose(0, 2, 3, 1)  # as the windows lie: (N, OH, OW, C)
        dcol = np.zeros((*flat.shape, self.pool_h * self.pool_w), dtype=flat.dtype)
        np.put_along_axis(dcol, self.arg_max[..., None], flat[..., None], axis=-1)
        return from_windows(dcol, self.x_shape, self.pool_h, self.pool_w, self.stride)


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
