"""What every SymPy description of a layer offers, whatever its kind.

``ScalarForm`` (elementwise), ``MatrixForm`` (affine), ``RowForm`` (row-wise: softmax)
and ``RowLossForm`` (a loss over rows) are the four there are; a new kind's form only has
to have these members to be derived, printed and evaluated everywhere a catalog layer is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from symgrad.reports import Derivation
    from symgrad.symbolic.precision import GradientFunction, Shapes


class SymbolicForm(Protocol):
    """A layer's SymPy side: its derivation, and its gradient evaluated on arrays."""

    output: str

    def derive(self, name: str) -> Derivation:
        """The note's derivation of the layer called ``name``."""
        ...

    def gradient_function(self, shapes: Shapes, digits: int | None = None) -> GradientFunction:
        """SymPy's gradient for arrays of ``shapes``: ``f(arrays, dout) → {"d<name>": …}``,
        in float64, or at ``digits`` digits through mpmath."""
        ...


__all__ = ["SymbolicForm"]
