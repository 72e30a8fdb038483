"""``--shape`` text to the arrays a layer is checked on."""

from __future__ import annotations

from symgrad.errors import SymgradError
from symgrad.i18n import _
from symgrad.inputs import check_budget
from symgrad.layers.spec import Layer


def array_shapes(
    layer: Layer, shape: tuple[int, ...] | None, batch: int = 2
) -> dict[str, tuple[int, ...]]:
    """The shape of every array ``layer`` takes, from ``--shape`` as its kind reads it,
    within the memory budget."""
    shape = shape or layer.default_shape
    if batch <= 0:
        raise SymgradError(
            _("impossible batch size {batch}: it must be positive").format(batch=batch)
        )
    shapes = layer.kind.array_shapes(layer, shape, batch)
    check_budget(shapes)
    return shapes
