"""Batch normalisation (training mode): each column of the batch normalised to mean 0 and
variance 1, then scaled by γ and shifted by β.

Every output of a column depends on every input of that column, through its mean and
its variance, so the backward has three terms:
dx = (γ/(N·σ))·(N·dy − Σdy − x̂·Σ(dy·x̂)); a backward that leaves out Σdy (the path through
the mean) is the classic slip. dγ = Σ dy·x̂ and dβ = Σ dy sum over the batch, as an
affine layer's db does.
"""

import numpy as np

from symgrad.layers.arrays import as_float
from symgrad.layers.kinds import COLUMN_WISE
from symgrad.layers.spec import Layer

EPSILON = 1e-6  # added to the variance before its square root; the book's 10e-7


class BatchNormalization:
    """Training mode only: normalises with the batch's own mean and variance."""

    def __init__(self, gamma: np.ndarray, beta: np.ndarray, epsilon: float = EPSILON) -> None:
        self.gamma = gamma
        self.beta = beta
        self.epsilon = epsilon
        self.xn: np.ndarray | None = None  # x̂, the normalised input
        self.std: np.ndarray | None = None  # σ = √(var + ε), per column
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        # Sums over the batch divided by N, not .mean(): a check runs forward hundreds of
        # times, and mean's Python wrapper was a third of each call at 100×50.
        batch = x.shape[0]
        centred = x - np.add.reduce(x, axis=0) / batch
        self.std = np.sqrt(np.add.reduce(centred * centred, axis=0) / batch + self.epsilon)
        self.xn = centred / self.std
        return self.gamma * self.xn + self.beta

    def backward(self, dout: np.ndarray) -> np.ndarray:
        batch = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = (dout * self.xn).sum(axis=0)
        # The three paths to x: directly, through the mean, through the variance.
        return (self.gamma / (batch * self.std)) * (
            batch * dout - self.dbeta - self.xn * self.dgamma
        )


def symbolic():
    import sympy as sp

    from symgrad.symbolic.columns import INDEX as n
    from symgrad.symbolic.columns import ColumnForm, ColumnNode, N, over_batch

    x, centred, square, normalised, scaled, y = (
        # xbar and xhat print as x̄ and x̂ (and read back from JSON, as x̄ could not)
        sp.IndexedBase(name, real=True)
        for name in ("x", "xbar", "q", "xhat", "z", "y")
    )
    mean = sp.Symbol("μ", real=True)
    variance = sp.Symbol("var", nonnegative=True)
    shifted, sigma, r = sp.symbols("u σ r", positive=True)  # ε > 0 keeps them so
    gamma, beta = sp.symbols("γ β", real=True)
    epsilon = sp.Symbol("ε", positive=True)
    nodes = (
        ColumnNode("mean", mean, over_batch(x[n]) / N),
        ColumnNode("centre", centred, x[n] - mean),
        ColumnNode("square", square, centred[n] ** 2),
        ColumnNode("variance", variance, over_batch(square[n]) / N),
        ColumnNode("+ε", shifted, variance + epsilon),
        ColumnNode("√", sigma, sp.sqrt(shifted)),
        ColumnNode("/", r, 1 / sigma),
        ColumnNode("normalise", normalised, centred[n] * r),
        ColumnNode("×γ", scaled, gamma * normalised[n]),
        ColumnNode("+β", y, scaled[n] + beta),
    )
    return ColumnForm(
        nodes=nodes,
        input=x,
        params={"gamma": gamma, "beta": beta},
        settings={epsilon: EPSILON},
        # The closed form is written in σ and x̂: r = 1/σ, u = σ², x̄ₙ = σ·x̂ₙ.
        rewrite={r: 1 / sigma, shifted: sigma**2, centred[n]: sigma * normalised[n]},
        vanishing=(centred, normalised),
    )


LAYER = Layer(
    name="batchnorm",
    numpy_class=BatchNormalization,
    symbolic=symbolic,
    kind=COLUMN_WISE,
    inputs=("x",),
    params=("gamma", "beta"),
    default_shape=(4, 3),
    aliases=("batch-normalization", "batch-norm"),
)
