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
    symbolic: np.ndarray
    numeric: np.ndarray
    errors: dict[str, float]  # max absolute difference per pair, keyed as in PAIRS
    tolerance: dict[str, float]  # the same keys
    relative_error: float  # worst pair's max |difference| over max |value|

    @property
    def ok(self) -> bool:
        return all(self.errors[pair] <= self.tolerance[pair] for pair in PAIRS)


@dataclass(frozen=True)
class Comparison:
    """The three-way check of one layer on one set of seeded inputs."""

    layer: str
    shapes: dict[str, tuple[int, ...]]
    dtype: str
    seed: int
    step: str  # how the numeric step was chosen, in words
    gradients: tuple[GradientCheck, ...]

    @property
    def ok(self) -> bool:
        return all(gradient.ok for gradient in self.gradients)
