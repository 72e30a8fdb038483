"""The Python API the CLI is a thin shell over. Computing returns reports; it never prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from symgrad.comparison.engine import compare
from symgrad.comparison.shapes import array_shapes, parse_shape

if TYPE_CHECKING:
    from collections.abc import Mapping

    from symgrad.reports import Backprop, Derivation


def derive(name: str, shape: str | tuple[int, ...] | None = None, batch: int = 2) -> Derivation:
    """Derive a catalog layer's derivatives with SymPy, node by node, as the note teaches.

    Args:
        name: catalog name, case- and separator-insensitive (``SoftmaxWithLoss`` works);
            or a worked example of the note (``apple``), or an expression (``(x+y)**2``,
            whose inputs are its variables, sorted by name, and whose output is z).
        shape: the layer's ``--shape``; for ``affine``, the weight's shape ``IN,OUT``: the
            derivation then shows concrete shapes (with ``batch`` rows of X) instead of
            N×IN, IN×OUT. Other layers' derivations do not depend on it.
        batch: rows of X when ``shape`` is given.

    Returns:
        A :class:`~symgrad.reports.Derivation`: the forward expression, the graph's nodes
        with their local derivatives, the chain rule per input, and the final derivatives
        (in the output y, and the label t, where the note writes them that way).
    """
    from symgrad.graph.targets import resolve
    from symgrad.symbolic.cache import remember

    target = resolve(name)
    if target.layer is None:  # an expression or a worked example: derived like a layer
        from symgrad.expressions.budget import DERIVE_SECONDS, time_limit
        from symgrad.expressions.parse import excerpt

        what = f"deriving {excerpt(target.name)}"
        with time_limit(DERIVE_SECONDS, what, "`symgrad graph` draws it without simplifying"):
            return target.form.derive(target.name)
    layer = target.layer
    sizes = None
    if shape is not None:
        dims = parse_shape(shape) if isinstance(shape, str) else tuple(shape)
        sizes = layer.kind.derivation_sizes(layer, array_shapes(layer, dims, batch))
    if sizes is not None:
        return remember(
            ("derive", layer.name, repr(sizes)), lambda: layer.form.derive(layer.name, sizes)
        )
    return remember(("derive", layer.name), lambda: layer.form.derive(layer.name))


def graph(
    target: str, at: Mapping[str, str | float] | None = None, dout: str | float = 1
) -> Backprop:
    """Run a computational graph forward and backward, with every node's values.

    Args:
        target: a worked example of the note (``apple-orange``), a scalar catalog layer
            (``sigmoid``), or an expression (``(x+y)**2``), parsed safely.
        at: input name → value; every input needs one (an example has the note's numbers).
        dout: ∂L/∂output where the backward pass starts.

    Returns:
        A :class:`~symgrad.reports.Backprop`: per node its operation, inputs, forward value,
        local derivatives and their values, the upstream gradient and what it sends down;
        and ∂L/∂input for every input.
    """
    from symgrad.graph.model import backprop
    from symgrad.graph.targets import resolve

    return backprop(resolve(target), at, dout)


__all__ = ["compare", "derive", "graph"]
