"""The rich console every command prints through (imports neither NumPy nor SymPy)."""

from rich.console import Console


def console(stderr: bool = False, width: int | None = None) -> Console:
    """A console as wide as the terminal; in a pipe or file, as wide as ``COLUMNS`` says,
    else 80 columns (Rich's own rule when no width is forced), which every command fits.
    ``width`` forces one (the benchmarks' wide tables, read from a file)."""
    return Console(stderr=stderr, highlight=False, width=width)
