"""Report objects: what computing returns and every renderer draws.

Nothing here computes or prints. Derivations hold SymPy expressions (renderers choose the
notation); comparisons hold NumPy arrays and the measured differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from symgrad.i18n import Message

if TYPE_CHECKING:
    import numpy as np

PAIRS = ("backward_vs_symbolic", "backward_vs_numeric", "symbolic_vs_numeric")


class Printed:
    """A report that prints as its command does: ``rich.print(report)`` draws its tables,
    ``str(report)`` is the same as plain text at 80 columns (symgrad.render.text), and a
    Jupyter notebook shows it as HTML (symgrad.render.notebook)."""

    def _repr_html_(self) -> str:
        from symgrad.render.notebook import html

        return html(self)

    def __rich__(self) -> Any:
        from symgrad.render.text import renderable

        return renderable(self)

    def __str__(self) -> str:
        from symgrad.render.text import plain

        return plain(self)


@dataclass(frozen=True)
class Edge:
    """One edge into a node whose input fills several positions (x·x has two from x).

    ``stand_in`` names the position in the node's ``operation`` (a of a·b), ``rule`` is
    the local derivative there (∂(a·b)/∂a = b) and ``local`` its value at the node's
    inputs (x); the input's whole local derivative is the sum over its edges.
    """

    stand_in: str
    input: str
    rule: Any
    local: Any


@dataclass(frozen=True)
class GraphNode:
    """One primitive operation of a computational graph.

    ``expression`` gives ``output`` in terms of ``inputs`` (node-local symbols, one per
    edge: x·x has x twice); ``local_derivatives`` maps each distinct input to
    ∂output/∂input in the form the note teaches (for matrix nodes: the backward rule, in
    terms of the upstream gradient ``d<output>``). Where an input fills several positions,
    ``operation`` is the node's operation on stand-ins (a·b) and ``edges`` gives each
    position's local derivative.
    """

    op: str
    output: str
    inputs: tuple[str, ...]
    expression: Any
    local_derivatives: dict[str, Any]
    shapes: dict[str, str] = field(default_factory=dict)
    edges: tuple[Edge, ...] = ()
    operation: Any = None


@dataclass(frozen=True)
class BackwardStep:
    """One edge of the backward walk: ``node`` passes what reached it times ``local`` (its
    local derivative with respect to ``receiver``: the input, or the stand-in of the
    position it fills) down to ``input``."""

    node: str
    input: str
    receiver: str
    local: Any


@dataclass(frozen=True)
class ChainRule:
    """∂output/∂wrt as the product of local derivatives along each path of the graph."""

    wrt: str
    paths: tuple[tuple[str, ...], ...]  # node outputs from the graph output down to ``wrt``
    factors: tuple[tuple[Any, ...], ...]  # one local derivative per edge of each path
    product: Any  # the sum over every path of the factors' products
    summed_over: tuple[str, ...] = ()  # per path: the index range it stands for ("k ≠ i"), or ""
    # How many paths lead from the output to ``wrt``: more than ``paths`` lists when the
    # listing would be too long (``product`` always sums them all).
    path_count: int | None = None
    # What is differentiated, where not the derivation's output: a row-wise layer's
    # backward is the chain rule of the loss L through its outputs.
    of: str = ""
    # Per path, per edge: what its local derivative is taken with respect to, where not the
    # next name on the path (the stand-in a of a·b, for x·x); empty: always the next name.
    receivers: tuple[tuple[str, ...], ...] = ()

    @property
    def total(self) -> bool:
        """Whether the output takes ``wrt`` directly and through other nodes too (x·exp(x)):
        then the whole derivative must be written apart from that edge's local one, as
        dz/dx = ∂z/∂x + ∂z/∂t·∂t/∂x, never with one symbol for both."""
        return len(self.paths) > 1 and any(
            len(path) == 1 and self.receiver(k, 0) == self.wrt for k, path in enumerate(self.paths)
        )

    def receiver(self, path: int, hop: int) -> str:
        """What the ``hop``-th local derivative of path ``path`` is taken with respect to:
        the next name on the path, or the stand-in of the position it fills (a of a·b)."""
        if self.receivers:
            return self.receivers[path][hop]
        names = (*self.paths[path], self.wrt)
        return names[hop + 1]

    @property
    def unlisted(self) -> int:
        """The paths not listed in ``paths`` (0 when every one is)."""
        return 0 if self.path_count is None else self.path_count - len(self.paths)


@dataclass(frozen=True)
class Qualified:
    """A derivative that holds under a condition the main one does not have: the batch
    mean's (y − t)/N beside the per-sample y − t."""

    wrt: str
    value: Any
    condition: Message


@dataclass(frozen=True)
class Derivation(Printed):
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
    notes: tuple[str | Message, ...] = ()
    extra_derivatives: tuple[Qualified, ...] = ()
    # The backward walk, for a layer whose graph sums over the batch (batch
    # normalisation): (gradient, its rule in the upstream gradients) per quantity, in the
    # order each is complete. ``derivatives`` are then gradients (dx, dγ), not partials.
    walk: tuple[tuple[str, Any], ...] = ()
    # The backward walk, edge by edge from the output (scalar derivations): what the
    # chain rule shows where its paths are too many to list.
    edge_walk: tuple[BackwardStep, ...] = ()


@dataclass(frozen=True)
class SecondDerivation(Printed):
    """A layer's (or an expression's) second derivatives, derived by SymPy.

    Attributes:
        first: each input's first derivative, in the form ``derive`` shows it.
        through_output: for one input whose first derivative is a function g of the
            output y (sigmoid's y(1 − y)), the pair (g, dg/dy): then the second
            derivative is dg/dy · ∂y/∂x, the chain rule once more, as the note would
            write it. None otherwise.
        second: the Hessian's entries (a, b) for a ≤ b in the inputs' order, ∂²out/∂a∂b,
            in the output where the first derivative is (proved equal to ``in_inputs``).
        in_inputs: the same entries as SymPy derives them, in the inputs.
        kinks: where the second derivative does not exist: the equations where a
            piecewise forward's pieces meet (x = 0 for ReLU).
        hvp: for a loss over rows, one row's Hessian-vector product (H·v)ᵢ in the outputs
            and v (softmax-with-loss: yᵢ(vᵢ − Σₖyₖvₖ)).
        products: for a matrix layer, the Hessian-vector product of ⟨dY, Y⟩ per input at
            matrix level, along directions named v<input> (affine: (H·v)_X = dY·v_Wᵀ).
        shapes: every matrix's shape, as text, for a matrix layer.
        notes: how it was derived, in words.
    """

    layer: str
    output: str
    forward: Any
    inputs: tuple[str, ...]
    first: dict[str, Any]
    through_output: tuple[Any, Any] | None
    second: dict[tuple[str, str], Any]
    in_inputs: dict[tuple[str, str], Any]
    kinks: tuple[Any, ...] = ()
    hvp: Any = None
    products: dict[str, Any] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @classmethod
    def of_products(
        cls,
        layer: str,
        output: str,
        forward: Any,
        first: dict[str, Any],
        products: dict[str, Any],
        shapes: dict[str, str],
        notes: tuple[Any, ...],
    ) -> SecondDerivation:
        """A layer whose second-order term is shown as each input's part of H·v, the
        inputs in the order of ``products`` (a matrix or indexed layer, batch norm)."""
        return cls(
            layer=layer,
            output=output,
            forward=forward,
            inputs=tuple(products),
            first=first,
            through_output=None,
            second={},
            in_inputs={},
            products=products,
            shapes=shapes,
            notes=notes,
        )


@dataclass(frozen=True)
class WorstElement:
    """The element of a gradient that comes closest to (or goes furthest past) its bound.

    ``first`` and ``second`` are the pair's two values there (backward and numeric for
    ``backward_vs_numeric``); at a kink ``second`` is the nearer end of the one-sided
    interval and ``difference`` the distance outside it.
    """

    index: tuple[int, ...]
    first: float
    second: float
    difference: float
    bound: float
    ratio: float  # difference / bound; above 1 the element disagrees (NaN counts as ∞)

    @property
    def ok(self) -> bool:
        return self.ratio <= 1


@dataclass(frozen=True)
class GradientCheck:
    """Backward vs symbolic vs numeric for one gradient (``dX``, ``dW``, …), element by
    element: every element is held to its own bound, and the gradient agrees when every
    element does.

    Attributes:
        errors: per pair (keyed as in PAIRS), the difference at the pair's worst element
            (the largest difference / bound); ``tolerance`` holds that element's bound, so
            ``errors[p] <= tolerance[p]`` exactly when every element agrees.
        worst: per pair, that element: its index, both values, difference and bound.
        max_difference: per pair, the largest difference over all elements.
        bound: the backward-vs-numeric bound of every element.
        disagreeing: where any pair's difference exceeds its bound.
        unreliable: where the numeric value's own error bound is too wide to tell a
            right backward from a wrong one (a stencil reaching across a kink or pole);
            such an element neither fails nor vouches for the others, and is reported.
    """

    name: str
    shape: tuple[int, ...]
    backward: np.ndarray
    symbolic: np.ndarray | None  # None: no SymPy forward known (symgrad.checking)
    numeric: np.ndarray
    errors: dict[str, float]
    tolerance: dict[str, float]
    relative_error: float  # the largest difference over the largest |value| (normwise)
    model: ToleranceModel | None = None  # the error model at the worst element
    kinks: Kinks | None = None  # one-sided derivatives, where they disagree
    precision: Precision | None = None  # distance from the 50-digit value, when asked
    worst: dict[str, WorstElement] = field(default_factory=dict)
    max_difference: dict[str, float] = field(default_factory=dict)
    bound: np.ndarray | None = None
    disagreeing: np.ndarray | None = None
    unreliable: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        # Without a symbolic column only backward_vs_numeric is measured.
        if self.worst:
            return all(worst.ok for worst in self.worst.values())
        return all(
            self.errors[pair] <= self.tolerance[pair] for pair in PAIRS if pair in self.errors
        )

    @property
    def wrong(self) -> int:
        """How many elements disagree."""
        return 0 if self.disagreeing is None else int(self.disagreeing.sum())

    @property
    def unreliable_count(self) -> int:
        return 0 if self.unreliable is None else int(self.unreliable.sum())


@dataclass(frozen=True)
class ToleranceModel:
    """The numeric method's error bound at a gradient's worst element, in its terms."""

    method: str
    step_min: float  # the smallest and largest step taken over the elements
    step_max: float
    truncation: float  # estimated truncation error at the worst element (before its margin)
    truncation_margin: float
    rounding: float  # modelled rounding error of the numeric value there
    exact: float  # the backward's own allowance there, 64ε·its scale
    float64_tolerance: float | None = None  # that element's backward-vs-numeric bound in float64
    index: tuple[int, ...] = ()  # the element


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
class Comparison(Printed):
    """The three-way check of one layer on one set of seeded inputs."""

    layer: str
    shapes: dict[str, tuple[int, ...]]
    dtype: str
    seed: int
    step: str  # how the numeric step was chosen, in words
    gradients: tuple[GradientCheck, ...]
    method: str = "central"
    at: dict[str, float] | None = None  # input → the value it was filled with (--at)
    notes: tuple[str, ...] = ()  # e.g. how much looser float32's tolerances are, and why
    problems: tuple[str, ...] = ()  # what the layer's behaviour got wrong, in words
    # gradient → why its disagreement with numeric is accepted: it is the exact derivative
    # of the formula the forward smooths slightly (a warning says so; --strict refuses)
    waived: dict[str, str] = field(default_factory=dict)
    # 2: the second derivative: "bwd" is SymPy's H·v, "num" the numeric derivative of the
    # NumPy backward along x (symgrad.comparison.second)
    order: int = 1
    # The inputs and the upstream dout where they have the output's shape, shown beside
    # each element's gradient (relu's dx is dout where x > 0, else 0).
    given: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and all(
            gradient.ok or gradient.name in self.waived for gradient in self.gradients
        )


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
    # Where an input fills several positions (x·x): the operation on stand-ins (a·b) and
    # one edge per position, each with its own local derivative and what it sends down.
    operation: Any = None
    edges: tuple[BackpropEdge, ...] = ()
    # Where the node's pieces meet at this forward pass (relu, max, abs, where: x = 0 or
    # x = y, in the node's inputs): a kink, where the local derivative shown is the one
    # the pieces take there, not a derivative.
    kinks: tuple[Any, ...] = ()


@dataclass(frozen=True)
class BackpropEdge:
    """One position of a node whose input fills several (a of a·b, filled by x)."""

    stand_in: str
    input: str
    rule: Any  # ∂output/∂stand_in on the stand-ins (b)
    local: float  # its value at this forward pass
    sent: float  # upstream · local, which is added into ∂L/∂input


@dataclass(frozen=True)
class Backprop(Printed):
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
    notes: tuple[str, ...] = ()  # e.g. how many digits hold where precision ran out
    # input → what each edge out of it sent back, in the backward walk's order, for the
    # inputs that feed more than one edge (x·x: 3 and 3, whose sum is ∂L/∂x = 6)
    contributions: dict[str, tuple[float, ...]] = field(default_factory=dict)


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
class StepSweep(Printed):
    """Error versus step at one point: the V-shaped curve of each difference method."""

    layer: str
    wrt: str  # the element differentiated, e.g. "x" or "X[0, 0]"
    quantity: str  # what is differentiated, e.g. "∂y/∂x" or "∂(ΣY)/∂X[0, 0]"
    at: dict[str, float]  # input → the value it is filled with
    dtype: str
    exact: str  # the derivative at TRUTH_DIGITS digits, as text
    exact_value: float
    curves: tuple[StepCurve, ...]
    skipped: dict[str, str] = field(default_factory=dict)  # method → why it was not run
    notes: tuple[str, ...] = ()
