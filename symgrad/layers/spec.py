"""What a catalog layer is: a NumPy layer and its SymPy description, kept together.

A :class:`Layer` is plain data. The CLI, the comparison engine, the tests and the site all
iterate over the catalog built from these records, so adding a layer adds its command
support, its tests and its page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from symgrad.symbolic.forms import SymbolicForm

ShapeKind = Literal["elementwise", "affine", "classes"]
Domain = Literal["real", "away_from_zero"]

SHAPE_MEANING: dict[ShapeKind, str] = {
    "elementwise": "every input's shape",
    "affine": "IN,OUT: W's shape (X is --batch×IN)",
    "classes": "N,C: batch, classes",
}


@dataclass(frozen=True)
class Layer:
    """One catalog entry.

    Attributes:
        name: canonical kebab-case name (``softmax-with-loss``).
        numpy_class: the book-style class with ``forward`` and ``backward(dout)``.
        symbolic: builds the SymPy description; called lazily so that SymPy is only
            imported when a derivation or a symbolic value is asked for.
        shape_kind: what ``--shape`` means for this layer.
        inputs: forward arguments that are differentiated, in ``forward``'s order.
        params: constructor arrays whose gradients ``backward`` stores as ``d<name>``.
        labels: forward arguments that are data, not differentiated (after ``inputs``).
        domain: where random inputs are drawn; ``away_from_zero`` keeps clear of a kink
            or a pole at 0.
        default_shape: used when ``--shape`` is not given.
        smooth: differentiable everywhere in its domain (no kink, as ReLU has at 0).
        complex_safe: the forward is analytic and its NumPy code carries a complex input
            through (no comparisons, no casts to float, no real-only functions such as
            ``logaddexp``), so the complex-step method may differentiate it.
    """

    name: str
    numpy_class: type
    symbolic: Callable[[], SymbolicForm]
    shape_kind: ShapeKind
    inputs: tuple[str, ...]
    params: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    domain: Domain = "real"
    default_shape: tuple[int, ...] = (2, 3)
    smooth: bool = True
    complex_safe: bool = False  # opt-in: a layer must be written for it

    @cached_property
    def form(self) -> SymbolicForm:
        """The SymPy description, built once (this is where SymPy gets imported)."""
        return self.symbolic()

    @property
    def shape_meaning(self) -> str:
        return SHAPE_MEANING[self.shape_kind]

    @property
    def complex_step_refusal(self) -> str | None:
        """Why complex-step cannot differentiate this layer, or None if it can."""
        if self.complex_safe:
            return None
        if not self.smooth:
            return (
                f"complex-step cannot differentiate {self.name}: its forward is not analytic "
                "(it branches on a comparison and has a kink); use central, five-point or "
                "richardson"
            )
        return (
            f"complex-step cannot differentiate {self.name}: its NumPy forward is not written "
            "to carry complex input; use central, five-point or richardson"
        )

    @property
    def elementwise(self) -> bool:
        """Each output element depends only on the same element of each input."""
        return self.shape_kind == "elementwise"


def sample(domain: Domain, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw a float64 test input; ``away_from_zero`` gives |x| >= 0.25, clear of a kink."""
    values = rng.standard_normal(shape)
    if domain == "away_from_zero":
        values = (0.25 + abs(values)) * rng.choice((-1.0, 1.0), size=shape)
    return values


def random_labels(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """One-hot labels with a random class per row: rows of ``N,C``, or a single ``C``."""
    classes = shape[-1]
    labels = np.eye(classes)[rng.integers(0, classes, size=shape[0] if len(shape) == 2 else 1)]
    return labels if len(shape) == 2 else labels[0]


def seeded_rng(seed: int) -> np.random.Generator:
    """The random generator every check draws its inputs and dout from."""
    from symgrad.inputs import parse_seed

    return np.random.default_rng(parse_seed(seed))
