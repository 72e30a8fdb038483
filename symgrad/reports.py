"""Report objects: what computing returns and every renderer draws.

Nothing here computes or prints. Derivations hold SymPy expressions (renderers choose the
notation); comparisons hold NumPy arrays and the measured differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

PAIRS = ("backward_vs_symbolic", "backward_vs_numeric", "symbolic_vs_numeric")


@dataclass(frozen=True)
class GraphNode:
    """One primitive operation of a computational graph.

    ``expression`` gives ``output`` in terms of ``inputs`` (node-local symbols);
    ``local_derivatives`` maps each input to ∂output/∂input in the form the note teaches
    (for matrix nodes: the backward rule, in terms of the upstream gradient ``d<output>``).
    """

    op: str
    output: str
    inputs: tuple[str, ...]
    expression: Any
    local_derivatives: dict[str, Any]
    shapes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChainRule:
    """∂output/∂wrt as the product of local derivatives along each path of the graph."""

    wrt: str
    paths: tuple[tuple[str, ...], ...]  # node outputs from the graph output down to ``wrt``
    factors: tuple[tuple[Any, ...], ...]  # one local derivative per edge of each path
    product: Any  # the sum over paths of the factors' products, multiplied out
    summed_over: tuple[str, ...] = ()  # per path: the index range it stands for ("k ≠ i"), or ""


@dataclass(frozen=True)
class Derivation:
    """A layer's (or an expression's) derivation, the way the note teaches it."""

    layer: str
    output: str
    forward: Any
    inputs: tuple[str, ...]
    nodes: tuple[GraphNode, ...]
    chains: tuple[ChainRule, ...]
    derivatives: dict[str, Any]  # final form: in the output y (and label t) where the note does
    matrix: bool = False
    shapes: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    extra_derivatives: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GradientCheck:
    """Backward vs symbolic vs numeric for one gradient (``dX``, ``dW``, …)."""

    name: str
    shape: tuple[int, ...]
    backward: np.ndarray
    symbolic: np.ndarray | None  # None: no SymPy forward known (symgrad.checking)
    numeric: np.ndarray
    errors: dict[str, float]  # max absolute difference per pair, keyed as in PAIRS
    tolerance: dict[str, float]  # the same keys
    relative_error: float  # worst pair's max |difference| over max |value|
    model: ToleranceModel | None = None  # where the numeric tolerance comes from
    kinks: Kinks | None = None  # one-sided derivatives, where they disagree
    precision: Precision | None = None  # distance from the 50-digit value, when asked

    @property
    def ok(self) -> bool:
        # Without a symbolic column only backward_vs_numeric is measured.
        return all(
            self.errors[pair] <= self.tolerance[pair] for pair in PAIRS if pair in self.errors
        )


@dataclass(frozen=True)
class ToleranceModel:
    """The numeric method's error bound behind a gradient's tolerance, in its terms."""

    method: str
    step_min: float  # the smallest and largest step taken over the elements
    step_max: float
    truncation: float  # max estimated truncation error (before its margin)
    truncation_margin: float
    rounding: float  # max modelled rounding error of the numeric value
    exact: float  # the backward's own allowance, 64ε·max|value|
    float64_tolerance: float | None = None  # the backward-vs-numeric tolerance in float64


@dataclass(frozen=True)
class Kinks:
    """Where a gradient's left and right one-sided differences disagree (not differentiable).

    There the numeric pairs measure how far backward (or symbolic) lies outside the
    interval between the one-sided values, 0 for a valid subgradient.
    """

    mask: np.ndarray  # bool, the gradient's shape
    left: np.ndarray  # one-sided derivatives of ⟨dout, f⟩, every element
    right: np.ndarray
    inputs: np.ndarray  # the input's values, to say where
    subgradient: bool  # the backward lies between left and right at every kink
    step: float = 0.0  # the one-sided step: a kink is located to within it

    @property
    def count(self) -> int:
        return int(self.mask.sum())


@dataclass(frozen=True)
class Precision:
    """A gradient against SymPy's value evaluated at many digits (the truth)."""

    digits: int
    dtype: str  # the ulps are the backward's dtype's
    backward_ulps: float  # max over elements of |backward − truth| / ulp(truth)
    worst_index: tuple[int, ...]
    symbolic_ulps: float  # the same for SymPy's float64 (lambdify) column, in float64 ulps
    relative: float  # max |backward − truth| / max |truth|


@dataclass(frozen=True)
class Comparison:
    """The three-way check of one layer on one set of seeded inputs."""

    layer: str
    shapes: dict[str, tuple[int, ...]]
    dtype: str
    seed: int
    step: str  # how the numeric step was chosen, in words
    gradients: tuple[GradientCheck, ...]
    method: str = "central"
    at: float | None = None  # the value the inputs were filled with (--at), if any
    notes: tuple[str, ...] = ()  # e.g. how much looser float32's tolerances are, and why

    @property
    def ok(self) -> bool:
        return all(gradient.ok for gradient in self.gradients)


@dataclass(frozen=True)
class BackpropNode:
    """One node of a computational graph with numbers: its forward and backward values.

    ``local_derivatives`` are SymPy expressions in node-local symbols, with the node's own
    output standing for its expression where it appears (exp: ∂y/∂x = y; 1/x: −y²), the
    way the note reads them; ``local_values`` are their values at this forward pass.
    """

    op: str
    output: str
    inputs: dict[str, float]  # each distinct input's name → its forward value
    expression: Any  # output in terms of the inputs (SymPy)
    forward: float  # the output's value
    local_derivatives: dict[str, Any]  # input → ∂output/∂input (SymPy)
    local_values: dict[str, float]  # input → the value of that local derivative
    upstream: float  # ∂L/∂output, arriving from the right
    downstream: dict[str, float]  # input → upstream · local value, sent to the left


@dataclass(frozen=True)
class Backprop:
    """A forward and a backward pass through a scalar computational graph, node by node.

    The one model that every graph renderer (text, DOT, SVG, JSON) draws.
    """

    target: str  # the worked example's or the layer's name, or the expression's text
    kind: str  # "example", "layer" or "expression"
    title: str  # the worked example's problem, in a line ("" otherwise)
    output: str
    forward: Any  # the whole expression (SymPy)
    values: dict[str, float]  # every input's value, in the graph's input order
    dout: float  # ∂L/∂output where the backward pass starts
    nodes: tuple[BackpropNode, ...]  # in forward order; the last computes the output
    value: float  # the output's value
    gradients: dict[str, float]  # ∂L/∂input = dout · ∂output/∂input, every input


@dataclass(frozen=True)
class StepCurve:
    """One method's absolute error against the exact derivative, for a range of steps."""

    method: str
    steps: tuple[float, ...]  # the steps h tried, largest first
    errors: tuple[float | None, ...]  # |numeric − exact|; None where x + h == x (h is lost)
    regions: tuple[str, ...]  # per step: "truncation", "best", "rounding", "lost" or "kink"
    best: int  # index of the smallest error
    automatic: float  # symgrad's automatic step here
    automatic_error: float  # the error at the automatic step

    @property
    def best_step(self) -> float:
        return self.steps[self.best]

    @property
    def best_error(self) -> float:
        return self.errors[self.best] or 0.0


@dataclass(frozen=True)
class StepSweep:
    """Error versus step at one point: the V-shaped curve of each difference method."""

    layer: str
    wrt: str  # the element differentiated, e.g. "x" or "X[0, 0]"
    quantity: str  # what is differentiated, e.g. "∂y/∂x" or "∂(ΣY)/∂X[0, 0]"
    at: float
    dtype: str
    exact: str  # the derivative at TRUTH_DIGITS digits, as text
    exact_value: float
    curves: tuple[StepCurve, ...]
    skipped: dict[str, str] = field(default_factory=dict)  # method → why it was not run
    notes: tuple[str, ...] = ()
