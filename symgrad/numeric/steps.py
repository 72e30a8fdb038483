"""Step sizes for finite differences, chosen per element, per dtype and per method.

A method whose truncation error grows like hᵖ and whose rounding error grows like ε/h
is most accurate near h ∝ ε^(1/(p+1)): ε^(1/2) for forward differences, ε^(1/3) for
central, ε^(1/5) for the five-point stencil, times a constant from the method's error
model (2, 1.44 and 1.62: Method.step_constant). The step is scaled by max(1, |x|) so
that x + h differs from x in enough bits (a blind h = 1e-4 is far too large for float64
and lost entirely against x = 1e13). It starts at twice that (START_MARGIN) and, where
the truncation measured there outweighs rounding (near a pole, like 1/x close to 0),
shrinks per element to balance the two (symgrad.numeric.differences.balance).
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.numeric.methods import Method, get_method

# Stencil steps start at twice the balance point the error model predicts for a function
# whose derivatives are of its own size, then shrink per element to the balance measured
# (differences.balance). The start has to lie at or above the balance, since steps only
# shrink; the catalog's functions mostly have smaller higher derivatives than that.
START_MARGIN = 2.0
RICHARDSON_START = 0.1  # h₀ = 0.1·max(1, |x|): a length over which f changes appreciably
RICHARDSON_SHRINK = 1.4  # Ridders' ratio between successive steps
RICHARDSON_LEVELS = 10


class StepLost(SymgradError):
    """A step so small against x that x + h == x in x's dtype."""


def scale(x: np.ndarray) -> np.ndarray:
    """max(1, |x|) in float64: the length unit the steps are measured in."""
    return np.maximum(1.0, np.abs(np.asarray(x, dtype=np.float64)))


def automatic_step(method: Method | str, x: np.ndarray) -> np.ndarray:
    """The method's automatic step for every element of x, in float64 (before rounding)."""
    method = get_method(method)
    if method.kind == "richardson":
        return RICHARDSON_START * scale(x)
    eps = float(np.finfo(x.dtype).eps)
    margin = START_MARGIN if method.kind == "stencil" else 1.0
    return margin * method.step_constant * eps**method.step_exponent * scale(x)


def representable(x: np.ndarray, h: np.ndarray | float) -> np.ndarray:
    """The step actually taken: (x + h) − x in x's dtype, so that x + h is exact.

    Rounding x + h would otherwise perturb the point by up to half an ulp of x, an error
    the division by h magnifies. Raises when the step is lost against x (x + h = x).
    """
    h = np.broadcast_to(np.asarray(h, dtype=np.float64), x.shape)
    actual = (x + h.astype(x.dtype, copy=False)) - x
    if np.any(actual == 0):
        where = np.abs(x[actual == 0]).max(initial=0.0)
        raise StepLost(
            f"step {float(h[actual == 0].max()):.1e} is lost against |x| = {where:.3g} in "
            f"{x.dtype} (x + h == x); choose a larger --step"
        )
    return actual.astype(np.float64, copy=False)


def describe_step(method: Method | str, dtype: np.dtype | str, step: float | None = None) -> str:
    """How the step was chosen, in words, for a report."""
    method = get_method(method)
    dtype = np.dtype(dtype)
    if step is not None:
        what = "h₀" if method.kind == "richardson" else "h"
        return _("{method}, {h} = {step} (given by --step)").format(
            method=method.name, h=what, step=f"{step:.3g}"
        )
    if method.kind == "richardson":
        return _(
            "{method} (Ridders), h₀ = {start}·max(1,|x|) shrunk {shrink}× per level for "
            "{levels} levels"
        ).format(
            method=method.name,
            start=RICHARDSON_START,
            shrink=RICHARDSON_SHRINK,
            levels=RICHARDSON_LEVELS,
        )
    eps = float(np.finfo(dtype).eps)
    exponent = {1 / 2: "1/2", 1 / 3: "1/3", 1 / 5: "1/5", 1.0: ""}[method.step_exponent]
    power = f"ε^({exponent})" if exponent else "ε"
    c = method.step_constant * (START_MARGIN if method.kind == "stencil" else 1.0)
    constant = "" if c == 1 else f"{c:.2g}·"
    nominal = c * eps**method.step_exponent
    text = _("{method}, h = {rule}").format(
        method=method.name, rule=f"{constant}{power}·max(1,|x|) ≈ {nominal:.1e}·max(1,|x|)"
    )
    return text if method.kind == "complex-step" else text + _(", shrunk where truncation wins")
