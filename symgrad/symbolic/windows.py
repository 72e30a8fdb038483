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
from symgrad.reports import ChainRule, Derivation, GraphNode, SecondDerivation
from symgrad.symbolic.precision import (
    Arithmetic,
    GradientFunction,
    HessianVectorFunction,
    Shapes,
)

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

    def derive_second(self, name: str) -> SecondDerivation:
        """One window's second derivatives as SymPy derives them (Dirac deltas where
        the Heaviside steps of the first derivative jump): 0 wherever no two elements
        tie for the largest, and the ties as where no second derivative exists."""
        xs = window_symbols(*SHOWN_WINDOW)
        y = self.function(*xs)
        second = {(str(xs[0]), str(x)): sp.diff(y, xs[0], x) for x in xs[:2]}
        return SecondDerivation(
            layer=name,
            output=self.output,
            forward=y,
            inputs=(str(xs[0]),),
            first={str(xs[0]): sp.diff(y, xs[0])},
            through_output=None,
            second=second,
            in_inputs=second,
            kinks=(sp.Eq(xs[0], self.function(*xs[1:])),),
            notes=(
                Message(N_("derived on a 2×2 window x₁ … x₄; every element of a window is alike")),
                Message(
                    N_(
                        "DiracDelta(u) is 0 wherever u ≠ 0: away from a tie for the largest "
                        "every second derivative is 0 (max is linear there), and so is H·v "
                        "(what compare --order 2 checks)"
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
            xs = window_symbols(given["pool_h"], given["pool_w"])
            y = self.function(*xs)
            arithmetic = Arithmetic(digits)
            locals_ = [
                arithmetic.elementwise(arithmetic.compile(xs, sp.diff(y, x)), len(xs)) for x in xs
            ]

            def gradients(arrays: dict[str, np.ndarray], dout: np.ndarray) -> dict[str, np.ndarray]:
                with arithmetic.context():
                    x = arithmetic.array(arrays["x"])
                    views = Windows(x, given)
                    dy = arithmetic.array(dout).reshape(views.out_shape)
                    window = views.of(x)
                    parts = [dy * local(*window) for local in locals_]
                    return {"dx": views.spread(parts, digits is not None)}

            self._cache[key] = gradients
        return self._cache[key]

    def hvp_function(
        self, shapes: Shapes, settings: Mapping[str, int] | None = None
    ) -> HessianVectorFunction:
        """SymPy's H·v of ⟨dy, y⟩ in float64: per window, dy·Σ_q ∂²y/∂x_p∂x_q·v_q added
        back at each element p. The local second derivatives are SymPy's, with each Dirac
        delta taken at its value off a tie, 0 (at a tie max has a kink: no second
        derivative, and the check reports a kink there)."""
        given = {**self.defaults, **(settings or {})}
        key = ("hvp", tuple(sorted(shapes.items())), tuple(sorted(given.items())))
        if key not in self._cache:
            xs = window_symbols(given["pool_h"], given["pool_w"])
            y = self.function(*xs)
            arithmetic = Arithmetic(None)
            seconds = [
                [arithmetic.compile(xs, _off_ties(sp.diff(y, a, b))) for b in xs] for a in xs
            ]

            def hvp(arrays, dout, directions):
                x = np.asarray(arrays["x"], dtype=np.float64)
                views = Windows(x, given)
                dy = np.asarray(dout, dtype=np.float64).reshape(views.out_shape)
                window = views.of(x)
                along = views.of(np.asarray(directions["x"], dtype=np.float64))
                parts = [
                    dy * sum(f(*window) * v for f, v in zip(row, along, strict=True))
                    for row in seconds
                ]
                return {"x": views.spread(parts, False)}

            self._cache[key] = hvp
        return self._cache[key]


class Windows:
    """The windows of an N×C×H×W array for a pooling's settings: each element's view
    across every window (x[:, :, i·s + p, j·s + q] for the element (p, q)), and the way
    back, adding a per-window value to the element it belongs to."""

    def __init__(self, x: np.ndarray, settings: Mapping[str, int]) -> None:
        pool_h, pool_w, self.stride = settings["pool_h"], settings["pool_w"], settings["stride"]
        n, c, h, w = x.shape
        self.shape = x.shape
        self.out_shape = (n, c, (h - pool_h) // self.stride + 1, (w - pool_w) // self.stride + 1)
        self.offsets = [(p, q) for p in range(pool_h) for q in range(pool_w)]

    def of(self, array: np.ndarray) -> list[np.ndarray]:
        """Each window element's view of ``array``, row by row."""
        return [_strided(array, p, q, self.stride, *self.out_shape[2:]) for p, q in self.offsets]

    def spread(self, parts: list[np.ndarray], exact: bool) -> np.ndarray:
        """Σ of each element's per-window part, added where the element was read from
        (an element in several windows collects a share of each); object zeros for mpmath."""
        total = np.full(self.shape, 0, object) if exact else np.zeros(self.shape)
        for view, part in zip(self.of(total), parts, strict=True):
            view[...] += part
        return total


def _off_ties(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every Dirac delta at its value wherever its argument is not 0."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))


def _strided(x: np.ndarray, p: int, q: int, stride: int, out_h: int, out_w: int) -> np.ndarray:
    """The view of x holding element (p, q) of every window: x[:, :, i·s + p, j·s + q]."""
    return x[:, :, p : p + stride * out_h : stride, q : q + stride * out_w : stride]


__all__ = ["WindowForm", "window_symbols"]
