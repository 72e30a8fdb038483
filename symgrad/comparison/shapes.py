"""``--shape`` text to the arrays a layer is checked on."""

from __future__ import annotations

from symgrad.errors import SymgradError
from symgrad.inputs import check_budget
from symgrad.layers.spec import Layer


def array_shapes(
    layer: Layer, shape: tuple[int, ...] | None, batch: int = 2
) -> dict[str, tuple[int, ...]]:
    """The shape of every array ``layer`` takes, from ``--shape`` as that layer reads it."""
    shape = shape or layer.default_shape
    if batch <= 0:
        raise SymgradError(f"impossible batch size {batch}: it must be positive")
    if layer.shape_kind == "elementwise":
        shapes = {name: shape for name in layer.inputs}
    elif len(shape) != 2:
        meaning = "IN,OUT (the weight's shape)" if layer.shape_kind == "affine" else "N,C"
        raise SymgradError(
            f"{layer.name} takes a 2-dimensional --shape {meaning}, got {','.join(map(str, shape))}"
        )
    elif layer.shape_kind == "affine":
        d_in, d_out = shape
        shapes = {"X": (batch, d_in), "W": (d_in, d_out), "b": (d_out,)}
    else:
        shapes = {"x": shape, "t": shape}
    check_budget(shapes)
    return shapes
