"""Numbers as the note prints them on a graph: 220, 2.2, −0.25, 0.731059."""

SIGNIFICANT = 6  # digits: enough to check by hand, short enough for an edge label


def number(value: float) -> str:
    """``value`` with at most six significant digits, no trailing zeros, and a real minus."""
    if value == 0:  # no "−0" after a multiplication by −1
        return "0"
    return f"{value:.{SIGNIFICANT}g}".replace("-", "−")
