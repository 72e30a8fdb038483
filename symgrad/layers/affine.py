"""Affine (batched): Y = X·W + b, with dX = dY·Wᵀ, dW = Xᵀ·dY, db = Σₙ dY.

Mind the shapes: X is N×IN, W is IN×OUT, b has OUT entries added to every row, and each
gradient has the shape of what it is the gradient of.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import AFFINE
from symgrad.layers.spec import Layer


class Affine:
    """Keeps X for dW; the bias gradient sums the batch because b was added to every row.
    An input of images (N×C×H×W) is read as N rows of C·H·W features, and dX is given
    back in its shape."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x: np.ndarray | None = None
        self.x_shape: tuple[int, ...] | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)  # images (after a pooling) become rows
        return self.x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)


def symbolic():
    import sympy as sp

    from symgrad.symbolic.matrix import MatrixForm

    def forward(n, d_in, d_out):
        X = sp.MatrixSymbol("X", n, d_in)
        W = sp.MatrixSymbol("W", d_in, d_out)
        b = sp.MatrixSymbol("b", d_out, 1)  # a column; added to every row as 1·bᵀ
        return (X, W, b), X * W + sp.OneMatrix(n, 1) * b.T

    return MatrixForm(build=forward, output="Y")


LAYER = Layer(
    name="affine",
    numpy_class=Affine,
    symbolic=symbolic,
    kind=AFFINE,
    inputs=("X",),
    params=("W", "b"),
    complex_safe=True,
)
