"""Average pooling: y[n,c,i,j] = Σ_{p,q} x[n,c, i·s+p, j·s+q] / (KH·KW).

Every element of a window counts the same, 1/(KH·KW): the backward spreads each dout
evenly over its window, and an element in several windows collects a share of each.
(That even spread is exactly the mistake in a max pooling, which must send dout to the
window's largest element alone.)
"""

import numpy as np

from symgrad.i18n import N_
from symgrad.layers.arrays import as_float
from symgrad.layers.images import from_windows, windows
from symgrad.layers.kinds import POOLING
from symgrad.layers.spec import Layer


class AvgPooling:
    """Keeps only the input's shape: the backward needs no values."""

    def __init__(self, pool_h: int = 2, pool_w: int = 2, stride: int = 2) -> None:
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.x_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        self.x_shape = x.shape
        col = windows(x, self.pool_h, self.pool_w, self.stride)  # (N, OH, OW, C, window)
        return col.mean(axis=-1).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        window = self.pool_h * self.pool_w
        flat = dout.transpose(0, 2, 3, 1)[..., None]  # as the windows lie: (N, OH, OW, C)
        dcol = np.repeat(flat / window, window, axis=-1)
        return from_windows(dcol, self.x_shape, self.pool_h, self.pool_w, self.stride)


def symbolic():
    from symgrad.symbolic.indexed import IndexedForm

    return IndexedForm(build=indexed, defaults={"pool_h": 2, "pool_w": 2, "stride": 2})


def indexed(pool_h: int | None, pool_w: int | None, stride: int | None):
    """The forward as :class:`~symgrad.symbolic.indexed.Indexed`: the window and the
    stride as numbers, or as the symbols KH, KW and s."""
    import sympy as sp

    from symgrad.symbolic.indexed import Array, Indexed, integers

    n, c, h, w, p, q, i, j = integers("n c h w p q i j")
    N, C, H, W, OH, OW = integers("N C H W OH OW")

    def given(value, name):
        return sp.Symbol(name, integer=True, positive=True) if value is None else sp.Integer(value)

    kh, kw, s = given(pool_h, "KH"), given(pool_w, "KW"), given(stride, "s")
    x = Array("x", (n, c, h, w), (N, C, H, W))
    mean = x.base[n, c, i * s + p, j * s + q] / (kh * kw)
    return Indexed(
        inputs=(x,),
        output=Array("y", (n, c, i, j), (N, C, OH, OW)),
        terms=(("mean", mean, ((p, 0, kh - 1), (q, 0, kw - 1))),),
        sizes={OH: sp.floor((H - kh) / s) + 1, OW: sp.floor((W - kw) / s) + 1},
        notes=(N_("a window of KH×KW elements, KH = pool_h, KW = pool_w, s = stride"),),
        settings={"pool_h": kh, "pool_w": kw, "stride": s},
    )


LAYER = Layer(
    name="avgpool",
    numpy_class=AvgPooling,
    symbolic=symbolic,
    kind=POOLING,
    inputs=("x",),
    settings=("pool_h", "pool_w", "stride"),
    default_shape=(2, 2, 4, 4, 2),
    complex_safe=True,
    aliases=("average-pooling", "avg-pool"),
)
