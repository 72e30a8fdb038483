"""Layers that reduce each window of an image to one number by a function of its
elements (max pooling): SymPy works on one window of KH·KW explicit symbols.

y = max(x₁, …, x_K) on a window, and SymPy's ∂y/∂x₁ = Heaviside(x₁ − max(x₂, …, x_K)):
1 where x₁ is the window's largest, 0 where another is, and ½ at a tie, where max has a
kink (slopes 1 and 0 on either side). The backward sends each window's dout through
those local derivatives, and an element in several windows (a stride below the window)
collects the share of every window it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symgrad.i18n import N_, Message
from symgrad.reports import ChainRule, Derivation, GraphNode
from symgrad.symbolic.precision import Arithmetic, GradientFunction, Shapes

SHOWN_WINDOW = (2, 2)  # the window a derivation is written on


def window_symbols(pool_h: int, pool_w: int) -> list[sp.Symbol]:
    """x₁ … x_K for one window, row by row."""
    return [sp.Symbol(f"x{k + 1}", real=True) for k in range(pool_h * pool_w)]


@dataclass(frozen=True)
class WindowForm:
    """y[n,c,i,j] = function(the window of x at (i, j)), the same for every window.

    Attributes:
        function: a window's output from its elements (``sp.Max``).
        name: the node's name (``max``).
        defaults: the settings the NumPy class defaults to (pool_h, pool_w, stride).
    """

    function: Callable[..., sp.Expr]
    name: str
    defaults: dict[str, int]
    output: str = "y"
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def derive(self, name: str) -> Derivation:
        """One window's node and its local derivatives, as SymPy derives them."""
        xs = window_symbols(*SHOWN_WINDOW)
        y = self.function(*xs)
        derivative = sp.diff(y, xs[0])
        node = GraphNode(
            op=self.name,
            output=self.output,
            inputs=tuple(map(str, xs)),
            expression=y,
            local_derivatives={f"∂{self.output}/∂{xs[0]}": derivative},
        )
        return Derivation(
            layer=name,
            output=self.output,
            forward=y,
            inputs=(str(xs[0]),),
            nodes=(node,),
            chains=(
                ChainRule(
                    wrt=str(xs[0]),
                    paths=((self.output,),),
                    factors=((derivative,),),
                    product=derivative,
                ),
            ),
            derivatives={str(xs[0]): derivative},
            notes=(
                Message(N_("derived on a 2×2 window x₁ … x₄; every element of a window is alike")),
                Message(
                    N_(
                        "Heaviside(u) is 1 for u > 0, 0 for u < 0 and ½ at 0: at a tie for the "
                        "largest, max has a kink (its slopes are 1 and 0), and any share "
                        "between them is a valid subgradient"
                    )
                ),
                Message(
                    N_(
                        "the backward: dx[n, c, h, w] = Σ over the windows (i, j) that hold "
                        "x[n, c, h, w] of dy[n, c, i, j]·∂y/∂x there"
                    )
                ),
            ),
        )

    def gradient_function(
        self, shapes: Shapes, digits: int | None = None, settings: Mapping[str, int] | None = None
    ) -> GradientFunction:
        """SymPy's backward for an input of ``shapes["x"]`` with these settings (the
        defaults unless given), in float64 or at ``digits`` digits."""
        given = {**self.defaults, **(settings or {})}
        key = (tuple(sorted(shapes.items())), digits, tuple(sorted(given.items())))
        if key not in self._cache:
            pool_h, pool_w, stride = given["pool_h"], given["pool_w"], given["stride"]
            xs = window_symbols(pool_h, pool_w)
            y = self.function(*xs)
            arithmetic = Arithmetic(digits)
            locals_ = [
                arithmetic.elementwise(arithmetic.compile(xs, sp.diff(y, x)), len(xs)) for x in xs
            ]

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                with arithmetic.context():
                    x = arithmetic.array(arrays["x"])
                    n, c, h, w = x.shape
                    out_h, out_w = (h - pool_h) // stride + 1, (w - pool_w) // stride + 1
                    dy = arithmetic.array(dout).reshape(n, c, out_h, out_w)
                    offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]
                    window = [_strided(x, p, q, stride, out_h, out_w) for p, q in offsets]
                    dx = np.zeros_like(x) if digits is None else np.full(x.shape, 0, object)
                    for (p, q), local in zip(offsets, locals_, strict=True):
                        _strided(dx, p, q, stride, out_h, out_w)[...] += dy * local(*window)
                    return {"dx": dx}

            self._cache[key] = gradients
        return self._cache[key]


def _strided(x: np.ndarray, p: int, q: int, stride: int, out_h: int, out_w: int) -> np.ndarray:
    """The view of x holding element (p, q) of every window: x[:, :, i·s + p, j·s + q]."""
    return x[:, :, p : p + stride * out_h : stride, q : q + stride * out_w : stride]


__all__ = ["WindowForm", "window_symbols"]
