"""``--shape`` text to the arrays a layer is checked on."""

from __future__ import annotations

import math

from symgrad.errors import SymgradError
from symgrad.layers.spec import Layer

MAX_ELEMENTS = 4_000_000  # per array: 32 MB in float64, several copies live at once
MAX_RANK = 4


def parse_shape(text: str) -> tuple[int, ...]:
    """``"2,3"`` → ``(2, 3)``; anything else is a :class:`SymgradError` naming the problem."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")] if text.strip() else []
    if not parts or any(not p for p in parts):
        raise SymgradError(f"malformed shape '{text}': expected positive integers like 2,3")
    dims = []
    for part in parts:
        if not part.lstrip("+-").isdigit():
            raise SymgradError(f"malformed shape '{text}': '{part}' is not an integer")
        value = int(part)
        if value <= 0:
            raise SymgradError(f"impossible shape '{text}': sizes must be positive, got {value}")
        dims.append(value)
    if len(dims) > MAX_RANK:
        raise SymgradError(f"shape '{text}' has {len(dims)} dimensions; at most {MAX_RANK}")
    return tuple(dims)


def array_shapes(
    layer: Layer, shape: tuple[int, ...] | None, batch: int = 2
) -> dict[str, tuple[int, ...]]:
    """The shape of every array ``layer`` takes, from ``--shape`` as its kind reads it,
    within the memory budget."""
    shape = shape or layer.default_shape
    if batch <= 0:
        raise SymgradError(f"impossible batch size {batch}: it must be positive")
    shapes = layer.kind.array_shapes(layer, shape, batch)
    for name, dims in shapes.items():
        if math.prod(dims) > MAX_ELEMENTS:
            raise SymgradError(
                f"shape {','.join(map(str, dims))} for {name} has {math.prod(dims):,} elements; "
                f"the limit is {MAX_ELEMENTS:,}"
            )
    return shapes
