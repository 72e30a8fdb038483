"""Convolution: y[n,f,i,j] = Σ_{c,p,q} W[f,c,p,q]·x[n,c,i·s+p−pad, j·s+q−pad] + b[f].

x is N×C×H×W, W is F×C×KH×KW (F filters), b has F entries and y is N×F×OH×OW with
OH = ⌊(H + 2·pad − KH)/s⌋ + 1. The NumPy class does what the book does: im2col lays
every window out as a row, so the forward is one matrix product, and the backward is
affine's (dW = colᵀ·dout, db = Σ dout) with col2im adding each window's dx back where it
was read from. SymPy derives dW, db and dx from the indexed sum; dx comes out as the
transposed convolution, dy read through W at the window offsets that reach x[n,c,h,w].
"""

import numpy as np

from symgrad.i18n import N_
from symgrad.layers.arrays import as_float
from symgrad.layers.images import col2im, im2col, output_size
from symgrad.layers.kinds import CONVOLUTION
from symgrad.layers.spec import Layer


class Convolution:
    """Keeps the unrolled windows (col) for dW and the input's shape for col2im."""

    def __init__(self, W: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> None:
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x_shape: tuple[int, ...] | None = None
        self.col: np.ndarray | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        filters, _channels, kh, kw = self.W.shape
        n, _c, h, w = x.shape
        out_h = output_size(h, kh, self.stride, self.pad)
        out_w = output_size(w, kw, self.stride, self.pad)
        self.x_shape = x.shape
        self.col = im2col(x, kh, kw, self.stride, self.pad)
        out = self.col @ self.W.reshape(filters, -1).T + self.b
        return out.reshape(n, out_h, out_w, filters).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        filters, _channels, kh, kw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, filters)  # one row per window
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).T.reshape(self.W.shape)
        dcol = dout @ self.W.reshape(filters, -1)
        return col2im(dcol, self.x_shape, kh, kw, self.stride, self.pad)


def symbolic():
    from symgrad.symbolic.indexed import IndexedForm

    return IndexedForm(build=indexed, defaults={"stride": 1, "pad": 0})


def indexed(stride: int | None, pad: int | None):
    """The forward as :class:`~symgrad.symbolic.indexed.Indexed`, with the stride and
    the padding as numbers, or as the symbols s and pad."""
    import sympy as sp

    from symgrad.symbolic.indexed import Array, Indexed, integers

    n, c, h, w, f, p, q, i, j = integers("n c h w f p q i j")
    N, C, H, W, F, KH, KW, OH, OW = integers("N C H W F KH KW OH OW")
    s = sp.Symbol("s", integer=True, positive=True) if stride is None else sp.Integer(stride)
    padding = sp.Symbol("pad", integer=True, nonnegative=True) if pad is None else sp.Integer(pad)
    x = Array("x", (n, c, h, w), (N, C, H, W))
    weights = Array("W", (f, c, p, q), (F, C, KH, KW))
    bias = Array("b", (f,), (F,))
    product = weights.base[f, c, p, q] * x.base[n, c, i * s + p - padding, j * s + q - padding]
    return Indexed(
        inputs=(x, weights, bias),
        output=Array("y", (n, f, i, j), (N, F, OH, OW)),
        terms=(
            ("conv", product, ((c, 0, C - 1), (p, 0, KH - 1), (q, 0, KW - 1))),
            ("+", bias.base[f], ()),
        ),
        sizes={
            OH: sp.floor((H + 2 * padding - KH) / s) + 1,
            OW: sp.floor((W + 2 * padding - KW) / s) + 1,
        },
        notes=(
            N_(
                "every array is 0 outside its index ranges: x's is the zero padding, and W's "
                "keeps to dx only the windows (i, j) that cover (h, w)"
            ),
        ),
        settings={"stride": s, "pad": padding},
    )


LAYER = Layer(
    name="conv",
    numpy_class=Convolution,
    symbolic=symbolic,
    kind=CONVOLUTION,
    inputs=("x",),
    params=("W", "b"),
    settings=("stride", "pad"),
    default_shape=(2, 2, 5, 5, 3, 3),
    complex_safe=True,
    aliases=("convolution",),
)
