"""The difference methods symgrad offers, as data: stencil, order and error model.

Every real-valued method here approximates f'(x) by Σ wₖ·(f(x + aₖh) − f(x + bₖh))/h.
Writing each stencil as weighted *differences* of paired points (rather than a weighted
sum of points) keeps the NumPy evaluation exact where a perturbation leaves an output
untouched: the difference there is exactly 0, not the rounding left over from a sum.

The error model is the textbook one for a step h in a dtype with machine epsilon ε:

- truncation ≈ C·h^p·|f^(p+1)|: the first Taylor term the stencil does not cancel;
- rounding ≈ R·δ·|f|/h: each evaluation of f carries a relative error δ (a few ε),
  and the stencil adds them up with weights whose absolute values sum to R.

Their sum is smallest at h = (R·ε/(p·C))^(1/(p+1)) on the length scale where f's
derivatives are of f's own size, which is where the automatic steps start
(symgrad.numeric.steps). Richardson extrapolation and the complex step do not fit the
stencil form and are marked by ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["stencil", "richardson", "complex-step"]


@dataclass(frozen=True)
class Method:
    """One way of differentiating numerically.

    Attributes:
        name: the ``--method`` value.
        kind: ``stencil`` (the terms below), ``richardson`` (central differences over a
            shrinking sequence of steps, extrapolated) or ``complex-step`` (Im f(x + ih)/h).
        order: p, the truncation error's power of h.
        step_exponent: the automatic step is ε^step_exponent·max(1, |x|).
        terms: (w, a, b) triples: the derivative is Σ w·(f(x + a·h) − f(x + b·h))/h.
        truncation: C in truncation ≈ C·h^p·|f^(p+1)|.
        summary: one line for reports and ``--help``.
    """

    name: str
    kind: Kind
    order: int
    step_exponent: float
    terms: tuple[tuple[float, float, float], ...] = ()
    truncation: float = 0.0
    summary: str = ""

    @property
    def rounding(self) -> float:
        """R = Σ|wₖ| over the stencil's points: how many f-roundings the stencil adds up."""
        return sum(2 * abs(w) for w, _, _ in self.terms)

    @property
    def step_constant(self) -> float:
        """c in the automatic step c·ε^(1/(p+1))·max(1, |x|): the step that minimises
        C·hᵖ·|f| + R·ε·|f|/h, i.e. the optimum when f's derivatives are of f's own size on
        a unit length (1 for methods that are not stencils)."""
        if self.kind != "stencil":
            return 1.0
        p = self.order
        return (self.rounding / (p * self.truncation)) ** (1 / (p + 1))

    @property
    def offsets(self) -> tuple[float, ...]:
        """The multiples of h the stencil evaluates f at (0 means the unperturbed x)."""
        return tuple(dict.fromkeys(o for _, a, b in self.terms for o in (a, b)))


FORWARD = Method(
    name="forward",
    kind="stencil",
    order=1,
    step_exponent=1 / 2,
    terms=((1.0, 1.0, 0.0),),
    truncation=1 / 2,
    summary="forward differences (f(x+h) − f(x))/h, error ∝ h",
)
CENTRAL = Method(
    name="central",
    kind="stencil",
    order=2,
    step_exponent=1 / 3,
    terms=((1 / 2, 1.0, -1.0),),
    truncation=1 / 6,
    summary="central differences (f(x+h) − f(x−h))/2h, error ∝ h²",
)
FIVE_POINT = Method(
    name="five-point",
    kind="stencil",
    order=4,
    step_exponent=1 / 5,
    terms=((8 / 12, 1.0, -1.0), (-1 / 12, 2.0, -2.0)),
    truncation=1 / 30,
    summary="five-point stencil (8(f₊₁ − f₋₁) − (f₊₂ − f₋₂))/12h, error ∝ h⁴",
)
# Ridders' variant of Richardson extrapolation: central differences at h₀, h₀/1.4, …,
# combined in a Neville tableau that cancels h², h⁴, … in turn. The tableau's own
# differences are the error estimate, so no step has to be guessed well: h₀ only has
# to be a length over which f changes appreciably, hence a fixed fraction of max(1, |x|).
RICHARDSON = Method(
    name="richardson",
    kind="richardson",
    order=2,  # of the underlying central differences; extrapolation raises it per level
    step_exponent=0.0,
    terms=CENTRAL.terms,
    truncation=CENTRAL.truncation,
    summary="Richardson extrapolation (Ridders) of central differences, with an error estimate",
)
# No difference is taken, so nothing cancels: h can be tiny. h = ε·max(1, |x|) puts the
# h² truncation term ~ε² below the result while h·f'(x) stays far from underflow.
COMPLEX_STEP = Method(
    name="complex-step",
    kind="complex-step",
    order=2,
    step_exponent=1.0,
    truncation=1 / 6,
    summary="complex step Im f(x + ih)/h, no cancellation: exact to rounding",
)

METHODS: dict[str, Method] = {
    m.name: m for m in (FORWARD, CENTRAL, FIVE_POINT, RICHARDSON, COMPLEX_STEP)
}
METHOD_NAMES = tuple(METHODS)


def get_method(name: str | Method) -> Method:
    """A method by its ``--method`` name (``five_point`` and ``FivePoint`` work too).

    Raises:
        SymgradError: for an unknown name, listing the known ones.
    """
    from symgrad.inputs import parse_method

    return parse_method(name)
