"""Numbers as the note prints them on a graph: 220, 2.2, −0.25, 0.731059."""

from collections.abc import Mapping

SIGNIFICANT = 6  # digits: enough to check by hand, short enough for an edge label


def number(value: float) -> str:
    """``value`` with at most six significant digits, no trailing zeros, and a real minus."""
    if value == 0:  # no "−0" after a multiplication by −1
        return "0"
    return f"{value:.{SIGNIFICANT}g}".replace("-", "−")


def point_text(at: Mapping[str, float]) -> str:
    """Where inputs were filled: ``x = 1, y = 2``; one value shared: ``x = y = 0.5``."""
    values = set(at.values())
    if len(values) == 1 and len(at) > 1:
        return " = ".join([*at, number(values.pop())])
    return ", ".join(f"{name} = {number(value)}" for name, value in at.items())
