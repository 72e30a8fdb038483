"""The Python API the CLI is a thin shell over. Computing returns reports; it never prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from symgrad.comparison.engine import compare
from symgrad.comparison.shapes import array_shapes, parse_shape
from symgrad.layers import get_layer

if TYPE_CHECKING:
    from symgrad.reports import Derivation


def derive(name: str, shape: str | tuple[int, ...] | None = None, batch: int = 2) -> Derivation:
    """Derive a catalog layer's derivatives with SymPy, node by node, as the note teaches.

    Args:
        name: catalog name, case- and separator-insensitive (``SoftmaxWithLoss`` works).
        shape: for ``affine`` only, the weight's shape ``IN,OUT``: the derivation then shows
            concrete shapes (with ``batch`` rows of X) instead of N×IN, IN×OUT.
        batch: rows of X when ``shape`` is given.

    Returns:
        A :class:`~symgrad.reports.Derivation`: the forward expression, the graph's nodes
        with their local derivatives, the chain rule per input, and the final derivatives
        (in the output y, and the label t, where the note writes them that way).
    """
    from symgrad.symbolic.cache import remember

    layer = get_layer(name)
    if shape is not None and layer.shape_kind == "affine":
        dims = parse_shape(shape) if isinstance(shape, str) else tuple(shape)
        sizes = (batch, *array_shapes(layer, dims, batch)["W"])
        return remember(
            ("derive", layer.name, repr(sizes)), lambda: layer.form.derive(layer.name, sizes)
        )
    return remember(("derive", layer.name), lambda: layer.form.derive(layer.name))


__all__ = ["compare", "derive"]
